// Sense data (SPC-4 4.5): decoding, naming and building.
//
// parse_sense() takes the bare sense bytes. (In iSCSI the SCSI Response data segment starts
// with a 2-byte SenseLength; removing it is the initiator's job.) It reads both the fixed
// format (response codes 70h/71h, SPC-4 4.5.3) and the descriptor format (72h/73h, SPC-4
// 4.5.2) into one SenseData, so callers test `sense.filemark` or `sense.information` without
// caring which format the device chose.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uiscsi/export.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi::scsi {

// SENSE KEY (SPC-4 4.5.6).
enum class SenseKey : std::uint8_t {
  no_sense = 0x0,
  recovered_error = 0x1,
  not_ready = 0x2,
  medium_error = 0x3,
  hardware_error = 0x4,
  illegal_request = 0x5,
  unit_attention = 0x6,
  data_protect = 0x7,
  blank_check = 0x8,
  vendor_specific = 0x9,
  copy_aborted = 0xa,
  aborted_command = 0xb,
  equal = 0xc,  // obsolete (SEARCH DATA); reserved in SPC-4
  volume_overflow = 0xd,
  miscompare = 0xe,
  completed = 0xf,
};

// "NO SENSE", "MEDIUM ERROR", ... as SPC-4 spells them.
UISCSI_API std::string_view sense_key_name(SenseKey key) noexcept;

// The 3-byte SENSE KEY SPECIFIC field (SPC-4 4.5.2.4). Which accessor applies depends on the
// sense key; valid is the SKSV bit.
struct UISCSI_API SenseKeySpecific {
  bool valid = false;                   // SKSV
  std::array<std::uint8_t, 3> bytes{};  // as on the wire (byte 0 bit 7 is SKSV)

  // ILLEGAL REQUEST: field pointer (SPC-4 4.5.2.4).
  [[nodiscard]] bool command_data() const { return (bytes[0] & 0x40) != 0; }       // C/D: in CDB
  [[nodiscard]] bool bit_pointer_valid() const { return (bytes[0] & 0x08) != 0; }  // BPV
  [[nodiscard]] std::uint8_t bit_pointer() const { return bytes[0] & 0x07; }
  [[nodiscard]] std::uint16_t field_pointer() const { return be16(); }
  // RECOVERED / MEDIUM / HARDWARE ERROR: actual retry count.
  [[nodiscard]] std::uint16_t retry_count() const { return be16(); }
  // NOT READY / NO SENSE: progress indication, fraction of 65536.
  [[nodiscard]] std::uint16_t progress() const { return be16(); }
  // COPY ABORTED: segment pointer; SD bit.
  [[nodiscard]] bool segment_descriptor() const { return (bytes[0] & 0x20) != 0; }
  // UNIT ATTENTION: unit attention condition queue overflow.
  [[nodiscard]] bool overflow() const { return (bytes[0] & 0x01) != 0; }

  // Field pointer helper for builders (ILLEGAL REQUEST).
  static SenseKeySpecific field(bool in_cdb, std::uint16_t byte,
                                int bit = -1 /* -1: no bit pointer */);
  // Progress helper for builders (NOT READY, e.g. a rewind in progress).
  static SenseKeySpecific progress_indication(std::uint16_t fraction);

  bool operator==(const SenseKeySpecific&) const = default;

 private:
  [[nodiscard]] std::uint16_t be16() const {
    return static_cast<std::uint16_t>((bytes[1] << 8) | bytes[2]);
  }
};

// One descriptor of descriptor-format sense, kept raw (type and the whole descriptor bytes,
// header included). The standard ones are also decoded into SenseData's fields.
struct UISCSI_API SenseDescriptor {
  std::uint8_t type = 0;
  std::vector<std::byte> bytes{};
  bool operator==(const SenseDescriptor&) const = default;
};

// Sense descriptor types decoded by parse_sense (SPC-4 4.5.2, SSC-3, SBC-3).
namespace sense_descriptor {
inline constexpr std::uint8_t kInformation = 0x00;
inline constexpr std::uint8_t kCommandSpecific = 0x01;
inline constexpr std::uint8_t kSenseKeySpecific = 0x02;
inline constexpr std::uint8_t kFieldReplaceableUnit = 0x03;
inline constexpr std::uint8_t kStreamCommands = 0x04;  // SSC-3: FILEMARK, EOM, ILI
inline constexpr std::uint8_t kBlockCommands = 0x05;   // SBC-3: ILI
}  // namespace sense_descriptor

struct UISCSI_API SenseData {
  std::uint8_t response_code = 0x70;  // 70h/71h fixed, 72h/73h descriptor
  SenseKey sense_key = SenseKey::no_sense;
  std::uint8_t asc = 0;
  std::uint8_t ascq = 0;

  // INFORMATION (fixed: VALID bit + 4 bytes; descriptor: information descriptor with VALID).
  // For READ/WRITE on tape it is the residue, which may be negative: see information_signed().
  bool information_valid = false;
  std::uint64_t information = 0;
  // COMMAND-SPECIFIC INFORMATION (fixed: 4 bytes; descriptor: 8 bytes).
  bool command_specific_valid = false;
  std::uint64_t command_specific_information = 0;
  SenseKeySpecific sense_key_specific{};
  std::uint8_t field_replaceable_unit = 0;

  // Stream and block command bits (fixed: byte 2; descriptor: descriptors 04h / 05h).
  bool filemark = false;
  bool eom = false;
  bool ili = false;
  bool sdat_ovfl = false;  // sense data was cut short by the device

  std::vector<SenseDescriptor> descriptors{};  // descriptor format only, in order

  [[nodiscard]] bool descriptor_format() const { return (response_code & 0x7e) == 0x72; }
  [[nodiscard]] bool deferred() const { return (response_code & 0x01) != 0; }
  [[nodiscard]] bool current() const { return !deferred(); }
  // INFORMATION as a signed value: the fixed format's 4-byte field sign-extended from 32 bits,
  // the descriptor format's 8-byte field as is. Tape residues (requested - actual) are negative
  // when a record was longer than requested.
  [[nodiscard]] std::int64_t information_signed() const;

  bool operator==(const SenseData&) const = default;
};

// A SenseData with key, ASC and ASCQ set (current, fixed format) for builders and tests.
UISCSI_API SenseData make_sense(SenseKey key, std::uint8_t asc, std::uint8_t ascq);

// Decodes sense bytes. Tolerant of short but meaningful sense: fixed format needs 3 bytes
// (through the sense key), descriptor format 2; ASC/ASCQ and later fields are read when present
// within both the span and 8 + ADDITIONAL SENSE LENGTH. A descriptor cut short is dropped.
// Errors: truncated_data (too short), malformed_data (response code not 70h-73h),
// unsupported_format (7Fh vendor-specific format).
UISCSI_API Result<SenseData> parse_sense(std::span<const std::byte> sense);

// Name of an ASC/ASCQ pair from the T10 assignments (SPC-4 annex D), lower case with acronyms
// kept: 29/00 "power on, reset, or bus device reset occurred". Ranges whose ASCQ is a number
// (40/80..FF "diagnostic failure on component", 4D/NN tagged overlapped commands, 70/NN
// decompression exception) return the fixed part; describe() appends the number. Pairs without
// an assignment get a generic name: "vendor specific additional sense code" (ASC >= 80h),
// "vendor specific additional sense code qualifier" (ASCQ >= 80h), otherwise "unknown
// additional sense code". Never empty.
UISCSI_API std::string_view asc_ascq_name(std::uint8_t asc, std::uint8_t ascq) noexcept;

// One line, e.g. "MEDIUM ERROR: unrecovered read error (asc 0x11, ascq 0x00), info 1234".
// Adds "deferred" first for deferred errors, and the stream bits, a signed info when they are
// set, and the field pointer of ILLEGAL REQUEST.
UISCSI_API std::string describe(const SenseData& sense);

// Fixed-format sense, 18 bytes. Uses response code 70h, or 71h when `sense` is deferred,
// whatever format `sense.response_code` names.
// INFORMATION is written when information_valid and it fits 32 bits as unsigned or as a
// sign-extended negative value; otherwise VALID is left 0 (SPC-4 4.5.3).
UISCSI_API std::vector<std::byte> build_fixed_sense(const SenseData& sense);
// Descriptor-format sense: 8-byte header, then the information (if valid), command-specific
// (if valid), sense key specific (if valid), FRU (if non-zero) and stream commands (if any of
// FM/EOM/ILI) descriptors, then `sense.descriptors` of other types verbatim.
UISCSI_API std::vector<std::byte> build_descriptor_sense(const SenseData& sense);

}  // namespace uiscsi::scsi
