// fuzz_text: login/text key=value data (RFC 7143 sections 6 and 11.10/11.12) through
// parse_text(), the value encodings of section 6.1 and the C-bit accumulator.
//
// Properties (a violation traps):
//   - parse_text() then serialize_text() then parse_text() gives an equal list (the second parse
//     gets one spare byte of limit: the input may lack the final NUL that serialize_text adds);
//   - split_text() pieces are non-empty, at most the segment size, and rejoin to the text; fed
//     to a TextAccumulator with C=1 on all but the last they come back whole;
//   - parse_numeric(): the decimal and hex spellings of the value parse to the same number;
//   - parse_binary(): format_hex() and format_base64() of the bytes parse to the same bytes;
//   - TextAccumulator with fuzzed C bits and a small bound behaves like a simple model: a piece
//     that would pass the bound is refused and leaves the state alone, C=0 completes, and the
//     next append() after completion starts a new sequence.
#include "core/text.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"

namespace {

using namespace uiscsi::core;
using Bytes = std::vector<std::byte>;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_numeric(std::string_view v) {
  const auto n = parse_numeric(v);
  if (!n) return;
  const auto decimal = parse_numeric(std::to_string(*n));
  check(decimal.has_value() && *decimal == *n);
  Bytes be(8);
  for (std::size_t i = 0; i < 8; ++i)
    be[i] = static_cast<std::byte>(*n >> (56 - 8 * i));
  const auto hex = parse_numeric(format_hex(be));
  check(hex.has_value() && *hex == *n);
}

void check_binary(std::string_view v) {
  const auto bytes = parse_binary(v);
  if (!bytes || bytes->empty()) return;
  const auto from_hex = parse_binary(format_hex(*bytes));
  check(from_hex.has_value() && *from_hex == *bytes);
  const auto from_base64 = parse_binary(format_base64(*bytes));
  check(from_base64.has_value() && *from_base64 == *bytes);
}

void check_values(const KeyValueList& kvs) {
  for (const auto& kv : kvs) {
    check_numeric(kv.value);
    check_binary(kv.value);
    (void)parse_boolean(kv.value);
    std::size_t total = 0;
    for (std::string_view item : split_list(kv.value))
      total += item.size() + 1;
    check(total == kv.value.size() + 1);  // the items and their commas cover the value
  }
}

void check_round_trip(std::span<const std::byte> input, const TextLimits& limits,
                      std::size_t segment) {
  const auto kvs = parse_text(input, limits);
  if (!kvs) return;
  const Bytes text = serialize_text(*kvs);
  TextLimits again_limits = limits;
  again_limits.max_total = limits.max_total + 1;
  const auto again = parse_text(text, again_limits);
  check(again.has_value() && *again == *kvs);
  check_values(*kvs);

  const auto pieces = split_text(text, segment);
  TextAccumulator acc(text.size());
  Bytes joined;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    check(pieces[i].size() <= std::max<std::size_t>(segment, 1));
    check(!pieces[i].empty() || text.empty());
    joined.insert(joined.end(), pieces[i].begin(), pieces[i].end());
    check(acc.append(pieces[i], i + 1 < pieces.size()).has_value());
  }
  check(joined == text);
  check(acc.complete());
  check(acc.take() == text);
}

void check_accumulator(FuzzedDataProvider& in) {
  const auto bound = in.ConsumeIntegralInRange<std::size_t>(0, 300);
  TextAccumulator acc(bound);
  Bytes model;
  bool complete = false;
  while (in.remaining_bytes() > 0) {
    const auto action = in.ConsumeIntegralInRange<int>(0, 7);
    if (action == 0) {
      check(acc.take() == model);
      model.clear();
      complete = false;
    } else if (action == 1) {
      acc.reset();
      model.clear();
      complete = false;
    } else {
      const bool cont = in.ConsumeBool();
      const Bytes piece = in.ConsumeBytes<std::byte>(in.ConsumeIntegralInRange<std::size_t>(0, 80));
      if (complete) {
        model.clear();
        complete = false;
      }
      const auto r = acc.append(piece, cont);
      if (model.size() + piece.size() > bound) {
        check(!r.has_value());
      } else {
        check(r.has_value());
        model.insert(model.end(), piece.begin(), piece.end());
        complete = !cont;
      }
    }
    check(acc.complete() == complete);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> input(reinterpret_cast<const std::byte*>(data), size);
  const std::size_t segment = size == 0 ? 1 : data[0] % 64 + 1;

  check_round_trip(input, TextLimits{}, segment);
  check_round_trip(input, TextLimits{size / 2 + 1, false}, segment);

  // The value parsers also see the raw input, key or no key.
  const std::string_view whole = as_chars(input.first(std::min<std::size_t>(size, 4096)));
  check_numeric(whole);
  check_binary(whole);

  FuzzedDataProvider in(data, size);
  check_accumulator(in);
  return 0;
}
