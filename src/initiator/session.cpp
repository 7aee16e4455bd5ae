// Session: the public face over SessionImpl; dial with redirects, sync helpers, discovery.
#include "uiscsi/session.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/text.hpp"
#include "initiator/session_impl.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi {

namespace {

// TargetAddress values are "host[:port][,portal-group-tag]" (RFC 7143 section 13.8).
Result<std::pair<net::Endpoint, std::uint16_t>> parse_target_address(std::string_view v) {
  std::uint16_t tag = 1;
  // The tag follows the last comma (IPv6 literals are bracketed, so commas are not ambiguous).
  if (const auto comma = v.rfind(','); comma != std::string_view::npos) {
    const auto t = v.substr(comma + 1);
    unsigned n = 0;
    for (char c : t) {
      if (c < '0' || c > '9') return errc::invalid_argument;
      n = n * 10 + static_cast<unsigned>(c - '0');
      if (n > 65535) return errc::invalid_argument;
    }
    if (t.empty()) return errc::invalid_argument;
    tag = static_cast<std::uint16_t>(n);
    v = v.substr(0, comma);
  }
  auto ep = net::parse_endpoint(v);
  if (!ep) return ep.error();
  return std::make_pair(*ep, tag);
}

void apply_url(const IscsiUrl& url, SessionOptions& o) {
  if (!url.user.empty()) {
    ChapOptions chap = o.chap.value_or(ChapOptions{});
    chap.user = url.user;
    if (!url.password.empty()) chap.secret = url.password;
    if (!url.target_user.empty()) chap.target_user = url.target_user;
    if (!url.target_password.empty()) chap.target_secret = url.target_password;
    o.chap = std::move(chap);
  }
  auto policy = [](const std::string& v, DigestPolicy current) {
    if (v.empty()) return current;
    if (v == "none") return DigestPolicy::none;
    if (v == "crc32c") return DigestPolicy::require;
    return DigestPolicy::prefer;  // crc32c-none / none-crc32c
  };
  o.header_digest = policy(url.header_digest, o.header_digest);
  o.data_digest = policy(url.data_digest, o.data_digest);
}

// Connects, following login redirects up to options.max_redirects hops.
//
// One compatibility retry: tgtd reads CHAP_A=7 as SHA-1 where the IANA registry RFC 7143 uses
// (PPP authentication algorithms) says SHA-256, so it picks 7 from our list and then fails the
// exchange with a non-authentication error. When a target picked 7 and the login failed with
// anything but "authentication failure", we log in once more without offering 7.
Result<std::shared_ptr<detail::SessionImpl>> connect_session(net::Endpoint ep,
                                                             SessionOptions options,
                                                             const std::string& target,
                                                             core::SessionType type) {
  bool retried_chap = false;
  for (int hop = 0;; ++hop) {
    auto impl = std::make_shared<detail::SessionImpl>(options, target, type);
    auto r = impl->start(ep);
    if (r) return impl;
    const bool picked_sha256 = impl->login_chap_algorithm() == core::ChapAlgorithm::sha256;
    if (!retried_chap && options.chap && picked_sha256 && r.error() != make_login_error(2, 1) &&
        r.error() != errc::authentication_failed) {
      auto& algs = options.chap->algorithms;
      algs.erase(std::remove(algs.begin(), algs.end(), 7), algs.end());
      if (!algs.empty()) {
        retried_chap = true;
        if (options.hooks.logger)
          options.hooks.logger->log(
              LogLevel::warning, "target failed CHAP with SHA-256 (CHAP_A=7); retrying without it");
        continue;
      }
    }
    if (login_status_class(r.error()) != 1 || impl->redirect_address().empty()) return r.error();
    if (hop >= options.max_redirects) return r.error();
    auto next = parse_target_address(impl->redirect_address());
    if (!next) return make_error_code(protocol_errc::negotiation_failed);
    if (options.hooks.logger)
      options.hooks.logger->log(LogLevel::info, "redirected to " + next->first.to_string());
    ep = next->first;
  }
}

}  // namespace

std::string default_initiator_name() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0 || host[0] == '\0')
    std::snprintf(host, sizeof host, "localhost");
  std::string name = "iqn.2026-11.dev.uiscsi:";
  for (char* p = host; *p; ++p) {
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(*p)));
    name += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-') ? c : '-';
  }
  return name;
}

std::string_view session_state_name(SessionState s) {
  switch (s) {
    case SessionState::connecting:
      return "connecting";
    case SessionState::logging_in:
      return "logging in";
    case SessionState::logged_in:
      return "logged in";
    case SessionState::recovering:
      return "recovering";
    case SessionState::logged_out:
      return "logged out";
    case SessionState::failed:
      return "failed";
  }
  return "unknown";
}

std::string_view tmf_response_name(TmfResponse r) {
  return core::tmf_response_name(static_cast<core::TmfResponse>(r));
}

namespace {
class StderrLogger final : public Logger {
 public:
  explicit StderrLogger(LogLevel min) : min_(min) {}
  void log(LogLevel level, std::string_view message) override {
    if (level < min_) return;
    static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
    std::fprintf(stderr, "uiscsi: %s: %.*s\n", kNames[static_cast<int>(level)],
                 static_cast<int>(message.size()), message.data());
  }

 private:
  LogLevel min_;
};
}  // namespace

std::shared_ptr<Logger> make_stderr_logger(LogLevel min_level) {
  return std::make_shared<StderrLogger>(min_level);
}

// ---------------------------------------------------------------------------------------------

Session::Session(std::shared_ptr<detail::SessionImpl> impl) : impl_(std::move(impl)) {}
Session::Session(Session&&) noexcept = default;
Session& Session::operator=(Session&& o) noexcept {
  if (this != &o) {
    if (impl_) impl_->shutdown(std::chrono::seconds(5));
    impl_ = std::move(o.impl_);
  }
  return *this;
}
Session::~Session() {
  if (impl_) impl_->shutdown(std::chrono::seconds(5));
}

Result<Session> Session::dial(std::string_view url, SessionOptions options) {
  auto u = parse_iscsi_url(url);
  if (!u) return u.error();
  return dial(*u, std::move(options));
}

Result<Session> Session::dial(const IscsiUrl& url, SessionOptions options) {
  if (url.target.empty()) return errc::invalid_url;
  apply_url(url, options);
  auto impl = connect_session(net::Endpoint{url.host, url.port}, options, url.target,
                              core::SessionType::normal);
  if (!impl) return impl.error();
  return Session(std::move(*impl));
}

TaskHandle Session::submit(Lun lun, Command command, std::function<void(Result<Completion>)> done) {
  TaskHandle h;
  h.impl_ = impl_;
  h.id_ = impl_->submit(lun, std::move(command), std::move(done));
  return h;
}

std::future<Result<Completion>> Session::submit(Lun lun, Command command) {
  auto promise = std::make_shared<std::promise<Result<Completion>>>();
  auto f = promise->get_future();
  impl_->submit(lun, std::move(command),
                [promise](Result<Completion> r) { promise->set_value(std::move(r)); });
  return f;
}

Result<Completion> Session::run(Lun lun, Command command) {
  if (impl_->in_io_thread()) return errc::invalid_argument;  // would wait on itself
  auto f = submit(lun, std::move(command));
  return f.get();
}

void TaskHandle::cancel() const {
  if (auto impl = impl_.lock()) impl->cancel(id_);
}

Result<TmfResponse> Session::tmf(std::uint8_t function, Lun lun,
                                 std::optional<std::uint64_t> task) {
  if (impl_->in_io_thread()) return errc::invalid_argument;
  auto promise = std::make_shared<std::promise<Result<TmfResponse>>>();
  auto f = promise->get_future();
  impl_->tmf(static_cast<core::TmfFunction>(function), lun, task,
             [promise](Result<core::TmfResponse> r) {
               if (!r) {
                 promise->set_value(Unexpected(r.error()));
               } else {
                 promise->set_value(static_cast<TmfResponse>(*r));
               }
             });
  return f.get();
}

Result<TmfResponse> Session::abort_task(const TaskHandle& task) {
  return tmf(static_cast<std::uint8_t>(core::TmfFunction::abort_task), Lun(), task.id());
}
Result<TmfResponse> Session::abort_task_set(Lun lun) {
  return tmf(static_cast<std::uint8_t>(core::TmfFunction::abort_task_set), lun, std::nullopt);
}
Result<TmfResponse> Session::clear_task_set(Lun lun) {
  return tmf(static_cast<std::uint8_t>(core::TmfFunction::clear_task_set), lun, std::nullopt);
}
Result<TmfResponse> Session::clear_aca(Lun lun) {
  return tmf(static_cast<std::uint8_t>(core::TmfFunction::clear_aca), lun, std::nullopt);
}
Result<TmfResponse> Session::lun_reset(Lun lun) {
  return tmf(static_cast<std::uint8_t>(core::TmfFunction::logical_unit_reset), lun, std::nullopt);
}
Result<TmfResponse> Session::target_warm_reset() {
  return tmf(static_cast<std::uint8_t>(core::TmfFunction::target_warm_reset), Lun(), std::nullopt);
}
Result<TmfResponse> Session::target_cold_reset() {
  return tmf(static_cast<std::uint8_t>(core::TmfFunction::target_cold_reset), Lun(), std::nullopt);
}

Result<void> Session::logout(std::chrono::milliseconds timeout) {
  if (impl_->in_io_thread()) return errc::invalid_argument;
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto f = promise->get_future();
  impl_->logout(timeout, [promise](Result<void> r) { promise->set_value(r); });
  auto r = f.get();
  impl_->shutdown(std::chrono::milliseconds(0));
  return r;
}

Result<void> Session::close_connection(std::uint16_t cid, std::chrono::milliseconds timeout) {
  if (impl_->in_io_thread()) return errc::invalid_argument;
  auto promise = std::make_shared<std::promise<Result<void>>>();
  auto f = promise->get_future();
  impl_->close_connection(cid, timeout, [promise](Result<void> r) { promise->set_value(r); });
  return f.get();
}

std::vector<std::uint16_t> Session::connections() const {
  return impl_->connection_ids();
}

bool Session::logged_in() const {
  return impl_ && impl_->logged_in();
}
NegotiatedParameters Session::negotiated() const {
  return impl_->negotiated();
}
const std::string& Session::target_name() const {
  return impl_->target_name();
}
std::string Session::target_alias() const {
  return impl_->target_alias();
}
std::string Session::portal() const {
  return impl_->portal();
}
std::uint64_t Session::isid() const {
  return impl_->isid();
}
std::uint16_t Session::tsih() const {
  return impl_->tsih();
}
std::uint64_t Session::recoveries() const {
  return impl_->recoveries();
}
RecoveryStats Session::recovery_stats() const {
  return impl_->recovery_stats();
}

// ---------------------------------------------------------------------------------------------

Result<std::vector<DiscoveredTarget>> discover(std::string_view portal, SessionOptions options,
                                               std::string_view which) {
  net::Endpoint ep;
  if (portal.starts_with("iscsi://") || portal.starts_with("ISCSI://")) {
    auto url = parse_iscsi_url(portal);
    if (!url) return url.error();
    apply_url(*url, options);
    ep = {url->host, url->port};
  } else {
    auto e = net::parse_endpoint(portal);
    if (!e) return errc::invalid_url;
    ep = *e;
  }
  auto impl = connect_session(ep, options, {}, core::SessionType::discovery);
  if (!impl) return impl.error();
  auto promise = std::make_shared<std::promise<Result<core::KeyValueList>>>();
  auto f = promise->get_future();
  (*impl)->text({{"SendTargets", std::string(which.empty() ? "All" : which)}},
                [promise](Result<core::KeyValueList> r) { promise->set_value(std::move(r)); });
  auto keys = f.get();
  (*impl)->shutdown(std::chrono::seconds(5));
  if (!keys) return keys.error();

  std::vector<DiscoveredTarget> out;
  for (const auto& kv : *keys) {
    if (kv.key == "TargetName") {
      out.push_back({kv.value, {}});
    } else if (kv.key == "TargetAddress" && !out.empty()) {
      auto addr = parse_target_address(kv.value);
      if (!addr) continue;
      out.back().portals.push_back({addr->first.to_string(), addr->second});
    }
  }
  // A target listed without an address is reachable where we asked (RFC 7143 section 13.3).
  for (auto& t : out)
    if (t.portals.empty()) t.portals.push_back({ep.to_string(), 1});
  return out;
}

}  // namespace uiscsi

namespace uiscsi {

Result<std::optional<ChapOptions>> chap_from_environment() {
  auto env = [](const char* name) -> std::string {
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  const std::string user = env("ISCSI_CHAP_USER");
  if (user.empty()) return std::optional<ChapOptions>{};
  ChapOptions c;
  c.user = user;
  c.secret = Secret(env("ISCSI_CHAP_PASSWORD"));
  c.target_user = env("ISCSI_CHAP_TARGET_USER");
  c.target_secret = Secret(env("ISCSI_CHAP_TARGET_PASSWORD"));
  if (c.secret.empty() || (!c.target_user.empty() && c.target_secret.empty()))
    return errc::invalid_argument;
  return std::optional<ChapOptions>(std::move(c));
}

Result<ChapOptions> chap_from_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) return std::error_code(errno, std::system_category());
  ChapOptions c;
  char line[4096];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    std::string_view l(line);
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r'))
      l.remove_suffix(1);
    const auto eq = l.find('=');
    if (l.empty() || l.front() == '#' || eq == std::string_view::npos) continue;
    const std::string_view key = l.substr(0, eq), value = l.substr(eq + 1);
    if (key == "user")
      c.user = std::string(value);
    else if (key == "password")
      c.secret = Secret(value);
    else if (key == "target_user")
      c.target_user = std::string(value);
    else if (key == "target_password")
      c.target_secret = Secret(value);
  }
  std::memset(line, 0, sizeof line);
  std::fclose(f);
  if (c.user.empty() || c.secret.empty() || (!c.target_user.empty() && c.target_secret.empty()))
    return errc::invalid_argument;
  return c;
}

}  // namespace uiscsi
