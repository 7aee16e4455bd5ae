// fuzz_pdu_decode: the first 48 bytes are a BHS for decode_header() under both reserved-field
// policies; the rest is an AHS area for parse_ahs() (RFC 7143 sections 11.2.1 and 11.2.2).
//
// Properties (a violation traps):
//   - round trip: a header that decodes, encoded again with encode_header(), decodes under
//     either policy to an equal header;
//   - a BHS accepted under ReservedPolicy::reject is also accepted under ::ignore, with the same
//     result (the strict policy only adds checks);
//   - nothing is dropped: a BHS accepted under ::reject encodes back to the same 48 bytes, apart
//     from TotalAHSLength/DataSegmentLength (bytes 4-7, framing, left zero by encode_header) and
//     the fixed 0xffffffff in bytes 16-19 of Async Message and Reject (RFC 7143 sections 11.9
//     and 11.17), which decode_header() does not check and encode_header() always writes;
//   - parse_ahs() returns spans inside its input.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>

#include "core/pdu.hpp"

namespace {

using namespace uiscsi::core;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Results land here so the optimiser keeps the work that produces them.
volatile std::size_t g_sink = 0;

void round_trip(const Header& header) {
  Bhs again;
  encode_header(header, again);
  for (ReservedPolicy policy : {ReservedPolicy::reject, ReservedPolicy::ignore}) {
    const auto decoded = decode_header(again, DecodeOptions{policy});
    check(decoded.has_value() && *decoded == header);
  }
  g_sink = g_sink + describe(header).size();
}

// Bytes of an accepted strict BHS that need not come back from encode_header(); see above.
bool exempt(Opcode op, std::size_t i) {
  if (i >= 4 && i < 8) return true;
  return (op == Opcode::async_message || op == Opcode::reject) && i >= 16 && i < 20;
}

void check_bytes_preserved(const Bhs& in, const Header& header) {
  Bhs out;
  encode_header(header, out);
  for (std::size_t i = 0; i < kBhsSize; ++i)
    check(exempt(in.opcode(), i) || out.bytes[i] == in.bytes[i]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < kBhsSize) return 0;
  Bhs bhs;
  std::memcpy(bhs.bytes.data(), data, kBhsSize);

  const auto strict = decode_header(bhs, DecodeOptions{ReservedPolicy::reject});
  const auto lenient = decode_header(bhs, DecodeOptions{ReservedPolicy::ignore});
  if (strict) {
    check(lenient.has_value() && *lenient == *strict);
    round_trip(*strict);
    check_bytes_preserved(bhs, *strict);
  }
  if (lenient) round_trip(*lenient);

  const std::span<const std::byte> ahs(reinterpret_cast<const std::byte*>(data) + kBhsSize,
                                       size - kBhsSize);
  if (const auto parsed = parse_ahs(ahs)) {
    if (!parsed->extended_cdb.empty()) {
      check(parsed->extended_cdb.data() >= ahs.data() &&
            parsed->extended_cdb.data() + parsed->extended_cdb.size() <= ahs.data() + ahs.size());
      for (std::byte b : parsed->extended_cdb)
        g_sink = g_sink + std::to_integer<std::size_t>(b);
    }
  }
  return 0;
}
