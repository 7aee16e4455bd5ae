// Logical unit numbers in SAM-5 8-byte format (SAM-5 section 4.7), as carried in iSCSI PDUs
// (RFC 7143 section 11.2.1.6) and returned by REPORT LUNS.
//
// A Lun keeps the 8 wire bytes exactly as the target reported them, so a LUN read from REPORT
// LUNS is sent back unchanged whatever its addressing method. from_number() builds the usual
// single-level encoding for a number; to_number() reads back any single-level method.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "uiscsi/export.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi {

class UISCSI_API Lun {
 public:
  // SAM-5 single-level addressing methods (ADDRESS METHOD field, byte 0 bits 7-6, plus the
  // extended methods of table 11).
  enum class Method {
    peripheral,          // 00b: bus 0, LUN 0..255
    flat,                // 01b: LUN 0..16383
    logical_unit,        // 10b: target/bus/LUN form
    extended_flat,       // 11b, length 01b, EAM 2h: LUN up to 2^24 - 1
    long_extended_flat,  // 11b, length 10b, EAM 2h: LUN up to 2^40 - 1
    well_known,          // 11b, length 00b, EAM 1h: well-known logical unit (W-LUN)
    not_specified,       // FFh FFh: logical unit not specified
    extended_other,      // any other extended addressing form
  };

  // LUN 0 in peripheral form (all zero bytes).
  constexpr Lun() = default;

  // Wraps 8 wire bytes as they are.
  static Lun from_wire(std::span<const std::byte, 8> bytes);
  static Lun from_u64(std::uint64_t be_value);

  // The usual encoding of `n`: peripheral below 256, flat below 16384, extended flat below
  // 2^24, long extended flat below 2^40. Larger numbers are an error, never a crash.
  static Result<Lun> from_number(std::uint64_t n);

  // The first-level LUN number for any single-level method listed above, or
  // errc::unsupported for multi-level or unknown forms.
  [[nodiscard]] Result<std::uint64_t> to_number() const;
  [[nodiscard]] Method method() const;

  [[nodiscard]] const std::array<std::byte, 8>& wire() const { return bytes_; }
  [[nodiscard]] std::uint64_t as_u64() const;  // the 8 bytes as a big-endian integer
  // Decimal number when it has one, else the 16 hex digits.
  [[nodiscard]] std::string to_string() const;

  bool operator==(const Lun&) const = default;

 private:
  std::array<std::byte, 8> bytes_{};
};

}  // namespace uiscsi
