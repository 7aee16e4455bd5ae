// Error codes of the SCSI layer (src/scsi).
//
// Two rules keep the codes predictable:
//   * A caller's mistake in a CDB builder (a field out of range, a length that overflows) is
//     uiscsi::errc::invalid_argument, the library-wide misuse code (include/uiscsi/errors.hpp).
//   * Bad data from the device (a parameter list, a VPD page, sense bytes) is a scsi_errc.
// SCSI status and sense are values, not errors (see sense.hpp). For callers that want to turn a
// completion into an error, make_status_error() and make_sense_error() wrap them in
// std::error_codes whose message() is one readable line.
#pragma once

#include <cstdint>
#include <system_error>

#include "uiscsi/export.hpp"

namespace uiscsi::scsi {

enum class Status : std::uint8_t;
enum class SenseKey : std::uint8_t;
struct SenseData;

// The device returned data that cannot be parsed.
enum class scsi_errc {
  truncated_data = 1,  // fewer bytes than the fixed part of the structure needs
  malformed_data,      // a field holds an impossible value (lengths disagree, wrong page code)
  unsupported_format,  // a format this library does not decode (vendor sense format, unknown form)
};

UISCSI_API const std::error_category& scsi_data_category() noexcept;
UISCSI_API std::error_code make_error_code(scsi_errc e) noexcept;

// A SCSI status other than GOOD as an error code: value() is the status byte, message() its
// name ("BUSY", "RESERVATION CONFLICT"...). Category name "scsi-status". GOOD gives an empty
// (success) code. BUSY and TASK SET FULL compare equal to std::errc::device_or_resource_busy,
// TASK ABORTED to std::errc::operation_canceled.
UISCSI_API const std::error_category& scsi_status_category() noexcept;
UISCSI_API std::error_code make_status_error(Status status) noexcept;

// CHECK CONDITION sense as an error code: value() is 0x01000000 | (key << 16) | (asc << 8) |
// ascq (never 0, so never success) and
// message() is like "MEDIUM ERROR: unrecovered read error (asc 0x11, ascq 0x00)". Category name
// "scsi-sense". The INFORMATION field and other details are not kept: use describe() for those.
UISCSI_API const std::error_category& sense_category() noexcept;
UISCSI_API std::error_code make_sense_error(SenseKey key, std::uint8_t asc,
                                            std::uint8_t ascq) noexcept;
UISCSI_API std::error_code make_sense_error(const SenseData& sense) noexcept;

}  // namespace uiscsi::scsi

template <>
struct std::is_error_code_enum<uiscsi::scsi::scsi_errc> : std::true_type {};
