#include "uiscsi/url.hpp"

#include <charconv>

#include "net/socket.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi {
namespace {

bool parse_u64(std::string_view s, std::uint64_t& v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc{} && p == s.data() + s.size();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool valid_digest(std::string_view v) {
  return v == "none" || v == "crc32c" || v == "crc32c-none" || v == "none-crc32c";
}

}  // namespace

std::string IscsiUrl::portal() const {
  return net::Endpoint{host, port}.to_string();
}

std::string IscsiUrl::to_string() const {
  std::string s = "iscsi://";
  if (!user.empty()) s += user + "@";
  s += portal();
  if (!target.empty()) {
    s += "/" + target;
    if (lun) s += "/" + std::to_string(*lun);
  }
  return s;
}

Result<IscsiUrl> parse_iscsi_url(std::string_view text) {
  constexpr std::string_view kScheme = "iscsi://";
  if (text.size() < kScheme.size() || lower(text.substr(0, kScheme.size())) != kScheme)
    return errc::invalid_url;
  text.remove_prefix(kScheme.size());
  IscsiUrl url;

  std::string_view query;
  if (const auto q = text.find('?'); q != std::string_view::npos) {
    query = text.substr(q + 1);
    text = text.substr(0, q);
  }
  // Credentials end at the last '@' before the path (a password may contain '@' but not '/').
  const auto slash = text.find('/');
  const auto authority_end = slash == std::string_view::npos ? text.size() : slash;
  std::string_view authority = text.substr(0, authority_end);
  std::string_view path = text.substr(authority_end);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view cred = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const auto pct = cred.find('%');
    url.user = std::string(cred.substr(0, pct));
    if (pct != std::string_view::npos) url.password = Secret(cred.substr(pct + 1));
    if (url.user.empty()) return errc::invalid_url;
  }
  auto ep = net::parse_endpoint(authority);
  if (!ep) return errc::invalid_url;
  url.host = ep->host;
  url.port = ep->port;

  if (!path.empty()) {
    path.remove_prefix(1);  // the '/'
    const auto next = path.find('/');
    url.target = std::string(path.substr(0, next));
    if (next != std::string_view::npos) {
      std::string_view lun = path.substr(next + 1);
      if (!lun.empty() && lun.back() == '/') lun.remove_suffix(1);
      std::uint64_t n = 0;
      if (!lun.empty()) {
        if (!parse_u64(lun, n)) return errc::invalid_url;
        url.lun = n;
      }
    }
    for (char c : url.target)
      if (c == ' ' || c == '%' || c == '@' || c == '/') return errc::invalid_url;
  }

  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (item.empty()) continue;
    const auto eq = item.find('=');
    if (eq == std::string_view::npos) return errc::invalid_url;
    const std::string key = lower(item.substr(0, eq));
    const std::string_view value = item.substr(eq + 1);
    if (key == "header_digest" || key == "data_digest") {
      const std::string v = lower(value);
      if (!valid_digest(v)) return errc::invalid_url;
      (key == "header_digest" ? url.header_digest : url.data_digest) = v;
    } else if (key == "target_user") {
      url.target_user = std::string(value);
    } else if (key == "target_password") {
      url.target_password = Secret(value);
    } else {
      return errc::invalid_url;
    }
  }
  return url;
}

}  // namespace uiscsi
