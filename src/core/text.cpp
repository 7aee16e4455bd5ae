#include "core/text.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "core/bytes.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

// RFC 7143 section 6.1: key names use letters, digits, '.', '-', '+', '@', '_'.
bool valid_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '+' || c == '@' || c == '_';
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if ((s[i] | 0x20) != (prefix[i] | 0x20)) return false;
  return true;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

Result<std::vector<std::byte>> decode_hex(std::string_view digits) {
  if (digits.empty()) return errc::invalid_argument;
  std::vector<std::byte> out;
  out.reserve(digits.size() / 2 + 1);
  std::size_t i = 0;
  if (digits.size() % 2) {  // odd count: the first digit stands alone
    const int d = hex_digit(digits[0]);
    if (d < 0) return errc::invalid_argument;
    out.push_back(static_cast<std::byte>(d));
    i = 1;
  }
  for (; i < digits.size(); i += 2) {
    const int hi = hex_digit(digits[i]), lo = hex_digit(digits[i + 1]);
    if (hi < 0 || lo < 0) return errc::invalid_argument;
    out.push_back(static_cast<std::byte>((hi << 4) | lo));
  }
  return out;
}

Result<std::vector<std::byte>> decode_base64(std::string_view s) {
  if (s.empty() || s.size() % 4 != 0) return errc::invalid_argument;
  std::vector<std::byte> out;
  out.reserve(s.size() / 4 * 3);
  for (std::size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s[i + static_cast<std::size_t>(k)];
      if (c == '=') {
        // '=' only in the last group's last one or two positions.
        if (i + 4 != s.size() || k < 2) return errc::invalid_argument;
        ++pad;
        v[k] = 0;
        continue;
      }
      if (pad > 0) return errc::invalid_argument;
      v[k] = base64_digit(c);
      if (v[k] < 0) return errc::invalid_argument;
    }
    const unsigned triple = (static_cast<unsigned>(v[0]) << 18) |
                            (static_cast<unsigned>(v[1]) << 12) |
                            (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out.push_back(static_cast<std::byte>(triple >> 16));
    if (pad < 2) out.push_back(static_cast<std::byte>(triple >> 8));
    if (pad < 1) out.push_back(static_cast<std::byte>(triple));
  }
  return out;
}

}  // namespace

std::optional<std::string_view> find_value(const KeyValueList& kvs, std::string_view key) {
  for (const auto& kv : kvs)
    if (kv.key == key) return std::string_view(kv.value);
  return std::nullopt;
}

std::size_t max_value_length(std::string_view key) {
  // Binary CHAP/SRP/KRB values carry challenges, responses, keys and names (RFC 7143 section
  // 12); SendTargets answers list long addresses. Everything else keeps the 255-byte rule.
  if (key.starts_with("CHAP_") || key.starts_with("SRP_") || key.starts_with("KRB_") ||
      key.starts_with("SPKM_"))
    return kMaxLongValueLength;
  return kMaxValueLength;
}

Result<KeyValueList> parse_text(std::span<const std::byte> data, const TextLimits& limits) {
  if (data.size() > limits.max_total) return protocol_errc::text_too_long;
  std::string_view text = as_chars(data);
  // Trailing NULs (padding or an empty final pair) are not pairs.
  while (!text.empty() && text.back() == '\0')
    text.remove_suffix(1);
  KeyValueList out;
  while (!text.empty()) {
    const std::size_t end = std::min(text.find('\0'), text.size());
    const std::string_view pair = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) return protocol_errc::text_malformed;
    const std::string_view key = pair.substr(0, eq), value = pair.substr(eq + 1);
    if (key.size() > kMaxKeyLength) return protocol_errc::text_key_too_long;
    if (!std::all_of(key.begin(), key.end(), valid_key_char)) return protocol_errc::text_malformed;
    if (value.size() > max_value_length(key)) return protocol_errc::text_value_too_long;
    if (limits.reject_duplicates && find_value(out, key)) return protocol_errc::text_duplicate_key;
    out.push_back({std::string(key), std::string(value)});
  }
  return out;
}

void append_text(std::vector<std::byte>& out, std::string_view key, std::string_view value) {
  const auto k = as_bytes(key), v = as_bytes(value);
  out.insert(out.end(), k.begin(), k.end());
  out.push_back(std::byte{'='});
  out.insert(out.end(), v.begin(), v.end());
  out.push_back(std::byte{0});
}

std::vector<std::byte> serialize_text(const KeyValueList& kvs) {
  std::vector<std::byte> out;
  for (const auto& kv : kvs)
    append_text(out, kv.key, kv.value);
  return out;
}

Result<void> TextAccumulator::append(std::span<const std::byte> data, bool cont) {
  if (complete_) reset();
  if (data.size() > max_total_ - buf_.size()) return protocol_errc::text_too_long;
  buf_.insert(buf_.end(), data.begin(), data.end());
  complete_ = !cont;
  return ok();
}

std::vector<std::byte> TextAccumulator::take() {
  std::vector<std::byte> out = std::move(buf_);
  reset();
  return out;
}

void TextAccumulator::reset() {
  buf_.clear();
  complete_ = false;
}

std::vector<std::span<const std::byte>> split_text(std::span<const std::byte> text,
                                                   std::size_t max_segment) {
  std::vector<std::span<const std::byte>> out;
  if (max_segment == 0) max_segment = 1;
  do {
    const std::size_t n = std::min(max_segment, text.size());
    out.push_back(text.first(n));
    text = text.subspan(n);
  } while (!text.empty());
  return out;
}

Result<bool> parse_boolean(std::string_view v) {
  if (v == "Yes") return true;
  if (v == "No") return false;
  return errc::invalid_argument;
}

Result<std::uint64_t> parse_numeric(std::string_view v) {
  if (v.empty()) return errc::invalid_argument;
  if (starts_with_ci(v, "0x") || starts_with_ci(v, "0b")) {
    auto bytes = starts_with_ci(v, "0x") ? decode_hex(v.substr(2)) : decode_base64(v.substr(2));
    if (!bytes) return bytes.error();
    std::size_t first = 0;  // leading zero bytes do not count towards the 64-bit limit
    while (first < bytes->size() && (*bytes)[first] == std::byte{0})
      ++first;
    if (bytes->size() - first > 8) return errc::invalid_argument;
    std::uint64_t n = 0;
    for (std::size_t i = first; i < bytes->size(); ++i)
      n = (n << 8) | std::to_integer<std::uint64_t>((*bytes)[i]);
    return n;
  }
  std::uint64_t n = 0;
  const auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), n, 10);
  if (ec != std::errc{} || ptr != v.data() + v.size()) return errc::invalid_argument;
  return n;
}

Result<std::vector<std::byte>> parse_binary(std::string_view v) {
  if (starts_with_ci(v, "0x")) return decode_hex(v.substr(2));
  if (starts_with_ci(v, "0b")) return decode_base64(v.substr(2));
  return errc::invalid_argument;
}

std::string format_hex(std::span<const std::byte> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s = "0x";
  s.reserve(2 + bytes.size() * 2);
  for (std::byte b : bytes) {
    const auto v = std::to_integer<unsigned>(b);
    s += kHex[v >> 4];
    s += kHex[v & 0xf];
  }
  return s;
}

std::string format_base64(std::span<const std::byte> bytes) {
  std::string s = "0b";
  s.reserve(2 + (bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned t = std::to_integer<unsigned>(bytes[i]) << 16 |
                       std::to_integer<unsigned>(bytes[i + 1]) << 8 |
                       std::to_integer<unsigned>(bytes[i + 2]);
    for (int k = 18; k >= 0; k -= 6)
      s += kBase64[(t >> k) & 63u];
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    unsigned t = std::to_integer<unsigned>(bytes[i]) << 16;
    if (rest == 2) t |= std::to_integer<unsigned>(bytes[i + 1]) << 8;
    s += kBase64[(t >> 18) & 63u];
    s += kBase64[(t >> 12) & 63u];
    s += rest == 2 ? kBase64[(t >> 6) & 63u] : '=';
    s += '=';
  }
  return s;
}

std::vector<std::string_view> split_list(std::string_view v) {
  std::vector<std::string_view> out;
  for (;;) {
    const std::size_t comma = v.find(',');
    out.push_back(v.substr(0, comma));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace uiscsi::core
