// Error codes of the uiscsi libraries, each family with its own std::error_category.
//
// Every failure reaches the caller as a std::error_code inside a Result<T>. The category tells
// which layer failed and message() gives one readable line. SCSI status and sense data are not
// errors here: a command that completes with CHECK CONDITION is a successful Result whose
// Completion carries the status and sense as data (see scsi/sense.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <system_error>

#include "uiscsi/export.hpp"

namespace uiscsi {

// General library errors: misuse, time, cancellation, the connection's life.
enum class errc {
  invalid_argument = 1,   // a parameter is out of range or malformed
  invalid_url,            // an iscsi:// URL does not parse
  timed_out,              // a deadline passed
  cancelled,              // the caller cancelled the operation
  connection_closed,      // the peer closed the TCP connection
  not_logged_in,          // the session is not (or no longer) in full feature phase
  session_closed,         // the session was closed or logged out
  buffer_too_small,       // a caller's buffer cannot hold the result
  unsupported,            // a feature was requested that the peer or build does not offer
  busy,                   // a resource limit (ITTs, queue) was reached
  authentication_failed,  // the peer's CHAP proof is wrong, or it asked for something unsafe
  task_aborted,           // a task management function ended the task at the target
  rejected,               // the target answered the PDU with a Reject
  target_failure,         // the target reported an iSCSI "target failure" response
  command_interrupted,    // the connection failed after the command was sent: it may have run
  internal,               // an invariant was broken inside uiscsi (a bug)
};

// The peer broke RFC 7143 on the wire: malformed PDUs, text keys or negotiation.
enum class protocol_errc {
  truncated = 1,           // fewer bytes than the structure needs
  unknown_opcode,          // opcode not defined by RFC 7143
  unexpected_opcode,       // opcode defined, but not one this role may receive now
  reserved_field_nonzero,  // a reserved bit or field is not zero (RFC 7143 section 11.2)
  invalid_field,           // a defined field holds a reserved or impossible value
  data_segment_too_long,   // DataSegmentLength exceeds our MaxRecvDataSegmentLength
  ahs_too_long,            // TotalAHSLength inconsistent or over our bound
  header_digest_mismatch,  // CRC32C over the header does not match
  data_digest_mismatch,    // CRC32C over the data segment does not match
  text_malformed,          // text data is not key=value NUL-separated
  text_key_too_long,       // key name over 63 bytes (RFC 7143 section 6.1)
  text_value_too_long,     // value over its limit (255 bytes unless the key allows more)
  text_too_long,           // total text over our bound for one negotiation sequence
  text_duplicate_key,      // the same key twice in one negotiation sequence
  negotiation_failed,      // the peer's answer to a key is illegal (range, type, Reject)
  sequence_error,          // a serial number (CmdSN, StatSN, DataSN, R2TSN) is out of order
  unexpected_response,     // a response that matches no outstanding request
};

// Login failed with a Status-Class other than 0 (RFC 7143 section 11.13.5). The code's value is
// (status_class << 8) | status_detail, so both survive in the error_code.
enum class login_errc : int {};

UISCSI_API std::error_code make_login_error(std::uint8_t status_class, std::uint8_t status_detail);
// Status-Class and Status-Detail of a login_category() error code.
UISCSI_API std::uint8_t login_status_class(std::error_code ec);
UISCSI_API std::uint8_t login_status_detail(std::error_code ec);

UISCSI_API const std::error_category& uiscsi_category() noexcept;
UISCSI_API const std::error_category& protocol_category() noexcept;
UISCSI_API const std::error_category& login_category() noexcept;

UISCSI_API std::error_code make_error_code(errc e) noexcept;
UISCSI_API std::error_code make_error_code(protocol_errc e) noexcept;

}  // namespace uiscsi

template <>
struct std::is_error_code_enum<uiscsi::errc> : std::true_type {};
template <>
struct std::is_error_code_enum<uiscsi::protocol_errc> : std::true_type {};
