// Text keys: the key=value NUL-separated data of Login and Text PDUs (RFC 7143 sections 6 and
// 11.10/11.12), its split across PDUs with the C bit, and the value encodings.
//
// Limits (RFC 7143 section 6.1): a key name is at most 63 bytes; a value is at most 255 bytes
// unless the key allows more (CHAP_C/CHAP_R/CHAP_N... see max_value_length()); one negotiation
// sequence carries at most TextLimits::max_total bytes. Violations are protocol errors, never an
// allocation of the peer's size.
//
// Pure code; no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uiscsi/result.hpp"

namespace uiscsi::core {

struct KeyValue {
  std::string key;
  std::string value;
  bool operator==(const KeyValue&) const = default;
};
using KeyValueList = std::vector<KeyValue>;

// First value for `key`, if present.
std::optional<std::string_view> find_value(const KeyValueList& kvs, std::string_view key);

inline constexpr std::size_t kMaxKeyLength = 63;
inline constexpr std::size_t kMaxValueLength = 255;
// Binary values (CHAP challenge/response and the like) may be longer; we accept up to this many
// characters of encoded value for such keys.
inline constexpr std::size_t kMaxLongValueLength = 8192;

// Longest value (in characters, as sent) accepted for `key`.
std::size_t max_value_length(std::string_view key);

struct TextLimits {
  std::size_t max_total = 64 * 1024;  // bytes per negotiation sequence (all PDUs of one C run)
  bool reject_duplicates = true;      // the same key twice is a protocol error
};

// Parses complete text data (already joined across C-bit PDUs). Accepts a missing final NUL and
// ignores trailing NUL padding. Errors: text_malformed (no '=', empty key, bad characters),
// text_key_too_long, text_value_too_long, text_too_long, text_duplicate_key.
Result<KeyValueList> parse_text(std::span<const std::byte> data, const TextLimits& limits = {});

// Appends "key=value\0".
void append_text(std::vector<std::byte>& out, std::string_view key, std::string_view value);
std::vector<std::byte> serialize_text(const KeyValueList& kvs);

// Joins the data segments of a C-bit sequence: append() each PDU's data with its C bit; once a
// PDU with C=0 arrives, complete() is true and take() returns the whole text.
// Errors: text_too_long when the total passes the limit (nothing beyond the limit is stored).
class TextAccumulator {
 public:
  explicit TextAccumulator(std::size_t max_total = 64 * 1024) : max_total_(max_total) {}
  Result<void> append(std::span<const std::byte> data, bool cont);
  [[nodiscard]] bool complete() const { return complete_; }
  std::vector<std::byte> take();  // resets for the next sequence
  void reset();

 private:
  std::size_t max_total_;
  std::vector<std::byte> buf_;
  bool complete_ = false;
};

// Splits outgoing text into segments of at most `max_segment` bytes (a key=value pair may span
// segments, as RFC 7143 allows). Every segment but the last goes out with C=1.
std::vector<std::span<const std::byte>> split_text(std::span<const std::byte> text,
                                                   std::size_t max_segment);

// ---- value encodings (RFC 7143 section 6.1) ----

// "Yes" / "No". Errors: invalid_argument.
Result<bool> parse_boolean(std::string_view v);
inline std::string_view format_boolean(bool v) {
  return v ? "Yes" : "No";
}

// numerical-value: decimal, 0x/0X hex or 0b/0B base64, up to 64 bits. Errors: invalid_argument
// (syntax), or out_of_range as invalid_argument when it does not fit.
Result<std::uint64_t> parse_numeric(std::string_view v);

// binary-value: 0x/0X hex or 0b/0B base64 (decimal is not allowed for binary). Errors:
// invalid_argument.
Result<std::vector<std::byte>> parse_binary(std::string_view v);
std::string format_hex(std::span<const std::byte> bytes);     // "0x" + lowercase hex
std::string format_base64(std::span<const std::byte> bytes);  // "0b" + base64

// Comma-separated list values (list-of-values), empty items kept as empty views.
std::vector<std::string_view> split_list(std::string_view v);

}  // namespace uiscsi::core
