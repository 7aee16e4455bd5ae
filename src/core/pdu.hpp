// iSCSI PDUs: the 48-byte Basic Header Segment (BHS), typed headers for all 18 opcodes with
// RFC 7143 section 11 field names, Additional Header Segments (AHS) and PDU serialisation.
//
// A typed header holds only the opcode-specific fields. TotalAHSLength and DataSegmentLength
// belong to the framing and are set by serialize_pdu()/PduBuilder from the actual AHS and data.
// decode_header() checks structure (fixed bits, reserved fields, lengths that must be zero);
// the engines check semantics such as which TMF function codes they support.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "core/serial.hpp"
#include "core/tags.hpp"
#include "uiscsi/lun.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi::core {

inline constexpr std::size_t kBhsSize = 48;
// TotalAHSLength is one byte counting 4-byte words (RFC 7143 section 11.2.1.4).
inline constexpr std::size_t kMaxAhsBytes = 255 * 4;
// DataSegmentLength is 24 bits; MaxRecvDataSegmentLength tops out at 2^24 - 1 (section 13.12).
inline constexpr std::uint32_t kMaxDataSegmentLength = (1u << 24) - 1;
// RFC 7143 sections 6.3 and 13.12: login PDUs carry at most 8192 bytes of text.
inline constexpr std::uint32_t kLoginMaxDataSegmentLength = 8192;

// RFC 7143 section 11.2.1.2.
enum class Opcode : std::uint8_t {
  // initiator opcodes
  nop_out = 0x00,
  scsi_command = 0x01,
  task_mgmt_request = 0x02,
  login_request = 0x03,
  text_request = 0x04,
  scsi_data_out = 0x05,
  logout_request = 0x06,
  snack_request = 0x10,
  // target opcodes
  nop_in = 0x20,
  scsi_response = 0x21,
  task_mgmt_response = 0x22,
  login_response = 0x23,
  text_response = 0x24,
  scsi_data_in = 0x25,
  logout_response = 0x26,
  r2t = 0x31,
  async_message = 0x32,
  reject = 0x3f,
};

bool is_known_opcode(std::uint8_t raw);
bool is_initiator_opcode(Opcode op);  // sent by initiators, received by targets
const char* opcode_name(Opcode op);

// Which end of the connection we are; decides which opcodes may be received.
enum class Role { initiator, target };

// The raw 48 bytes plus the fields common to every opcode (RFC 7143 section 11.2.1).
struct Bhs {
  std::array<std::byte, kBhsSize> bytes{};

  [[nodiscard]] std::uint8_t raw_opcode() const {
    return std::to_integer<std::uint8_t>(bytes[0]) & 0x3fu;
  }
  [[nodiscard]] Opcode opcode() const { return static_cast<Opcode>(raw_opcode()); }
  [[nodiscard]] bool immediate() const { return (bytes[0] & std::byte{0x40}) != std::byte{0}; }
  [[nodiscard]] bool final_bit() const { return (bytes[1] & std::byte{0x80}) != std::byte{0}; }
  // In 4-byte words.
  [[nodiscard]] std::uint8_t total_ahs_length() const {
    return std::to_integer<std::uint8_t>(bytes[4]);
  }
  [[nodiscard]] std::uint32_t data_segment_length() const;
  [[nodiscard]] Itt itt() const;

  void set_total_ahs_length(std::uint8_t words) { bytes[4] = std::byte{words}; }
  void set_data_segment_length(std::uint32_t n);
};

enum class TaskAttribute : std::uint8_t {
  untagged = 0,
  simple = 1,
  ordered = 2,
  head_of_queue = 3,
  aca = 4,
};

// RFC 7143 section 11.5.1.
enum class TmfFunction : std::uint8_t {
  abort_task = 1,
  abort_task_set = 2,
  clear_aca = 3,
  clear_task_set = 4,
  logical_unit_reset = 5,
  target_warm_reset = 6,
  target_cold_reset = 7,
  task_reassign = 8,
};
const char* tmf_function_name(TmfFunction f);

// RFC 7143 section 11.6.1.
enum class TmfResponse : std::uint8_t {
  function_complete = 0,
  task_does_not_exist = 1,
  lun_does_not_exist = 2,
  task_still_allegiant = 3,
  task_reassignment_not_supported = 4,
  function_not_supported = 5,
  function_authorization_failed = 6,
  function_rejected = 255,
};
const char* tmf_response_name(TmfResponse r);

// Login stages, CSG/NSG (RFC 7143 section 11.12.3). Value 2 is reserved.
enum class LoginStage : std::uint8_t {
  security_negotiation = 0,
  operational_negotiation = 1,
  full_feature_phase = 3,
};

enum class LogoutReason : std::uint8_t {
  close_session = 0,
  close_connection = 1,
  remove_connection_for_recovery = 2,
};

// RFC 7143 section 11.15.1.
enum class LogoutResponseCode : std::uint8_t {
  closed_successfully = 0,
  cid_not_found = 1,
  recovery_not_supported = 2,
  cleanup_failed = 3,
};

// RFC 7143 section 11.16.1.
enum class SnackType : std::uint8_t {
  data_r2t = 0,
  status = 1,
  data_ack = 2,
  rdata = 3,
};

// RFC 7143 section 11.9.1.
enum class AsyncEvent : std::uint8_t {
  scsi_async_event = 0,
  logout_request = 1,
  connection_drop = 2,
  session_drop = 3,
  negotiation_request = 4,
  task_termination = 5,
  vendor_specific = 255,
};

// RFC 7143 section 11.17.1.
enum class RejectReason : std::uint8_t {
  data_digest_error = 0x02,
  snack_reject = 0x03,
  protocol_error = 0x04,
  command_not_supported = 0x05,
  immediate_command_reject = 0x06,
  task_in_progress = 0x07,
  invalid_data_ack = 0x08,
  invalid_pdu_field = 0x09,
  long_operation_reject = 0x0a,
  deprecated_negotiation_reset = 0x0b,
  waiting_for_logout = 0x0c,
};
const char* reject_reason_name(RejectReason r);

// iSCSI Response field of a SCSI Response (RFC 7143 section 11.4.3).
enum class IscsiResponse : std::uint8_t {
  command_completed_at_target = 0x00,
  target_failure = 0x01,
};

// ---------------------------------------------------------------------------------------------
// Typed headers. Field names follow RFC 7143; `final` is the F bit, `cont` the C bit.

struct NopOut {  // 11.18
  static constexpr Opcode kOpcode = Opcode::nop_out;
  bool immediate = false;
  Lun lun;
  Itt itt;
  Ttt ttt;
  SerialNumber cmd_sn;
  SerialNumber exp_stat_sn;
  bool operator==(const NopOut&) const = default;
};

struct ScsiCommand {  // 11.3
  static constexpr Opcode kOpcode = Opcode::scsi_command;
  bool immediate = false;
  bool final = true;  // F=0 only when unsolicited Data-Out PDUs follow
  bool read = false;
  bool write = false;
  TaskAttribute attr = TaskAttribute::simple;
  Lun lun;
  Itt itt;
  std::uint32_t expected_data_transfer_length = 0;
  SerialNumber cmd_sn;
  SerialNumber exp_stat_sn;
  std::array<std::byte, 16> cdb{};  // first 16 CDB bytes; the rest goes in an AHS
  bool operator==(const ScsiCommand&) const = default;
};

struct TaskMgmtRequest {  // 11.5
  static constexpr Opcode kOpcode = Opcode::task_mgmt_request;
  bool immediate = true;
  TmfFunction function = TmfFunction::abort_task;
  Lun lun;
  Itt itt;
  Itt referenced_task_tag;
  SerialNumber cmd_sn;
  SerialNumber exp_stat_sn;
  SerialNumber ref_cmd_sn;
  SerialNumber exp_data_sn;
  bool operator==(const TaskMgmtRequest&) const = default;
};

struct LoginRequest {  // 11.12
  static constexpr Opcode kOpcode = Opcode::login_request;
  bool transit = false;  // T
  bool cont = false;     // C
  LoginStage csg = LoginStage::security_negotiation;
  LoginStage nsg = LoginStage::security_negotiation;
  std::uint8_t version_max = 0;
  std::uint8_t version_min = 0;
  std::uint64_t isid = 0;  // 48 bits: T, A, B, C, D (section 11.12.5)
  std::uint16_t tsih = 0;
  Itt itt;
  std::uint16_t cid = 0;
  SerialNumber cmd_sn;
  SerialNumber exp_stat_sn;
  bool operator==(const LoginRequest&) const = default;
};

struct TextRequest {  // 11.10
  static constexpr Opcode kOpcode = Opcode::text_request;
  bool immediate = false;
  bool final = true;
  bool cont = false;
  Lun lun;
  Itt itt;
  Ttt ttt;
  SerialNumber cmd_sn;
  SerialNumber exp_stat_sn;
  bool operator==(const TextRequest&) const = default;
};

struct DataOut {  // 11.7
  static constexpr Opcode kOpcode = Opcode::scsi_data_out;
  bool final = false;
  Lun lun;
  Itt itt;
  Ttt ttt;
  SerialNumber exp_stat_sn;
  std::uint32_t data_sn = 0;
  std::uint32_t buffer_offset = 0;
  bool operator==(const DataOut&) const = default;
};

struct LogoutRequest {  // 11.14
  static constexpr Opcode kOpcode = Opcode::logout_request;
  bool immediate = false;
  LogoutReason reason = LogoutReason::close_session;
  Itt itt;
  std::uint16_t cid = 0;
  SerialNumber cmd_sn;
  SerialNumber exp_stat_sn;
  bool operator==(const LogoutRequest&) const = default;
};

struct SnackRequest {  // 11.16
  static constexpr Opcode kOpcode = Opcode::snack_request;
  SnackType type = SnackType::data_r2t;
  Lun lun;
  Itt itt;
  Ttt ttt;  // TTT for DataACK, SNACK Tag for R-Data, else 0xffffffff
  SerialNumber exp_stat_sn;
  std::uint32_t beg_run = 0;
  std::uint32_t run_length = 0;
  bool operator==(const SnackRequest&) const = default;
};

struct NopIn {  // 11.19
  static constexpr Opcode kOpcode = Opcode::nop_in;
  Lun lun;
  Itt itt;
  Ttt ttt;
  SerialNumber stat_sn;
  SerialNumber exp_cmd_sn;
  SerialNumber max_cmd_sn;
  bool operator==(const NopIn&) const = default;
};

struct ScsiResponse {  // 11.4
  static constexpr Opcode kOpcode = Opcode::scsi_response;
  bool bidi_read_overflow = false;   // o
  bool bidi_read_underflow = false;  // u
  bool overflow = false;             // O
  bool underflow = false;            // U
  IscsiResponse response = IscsiResponse::command_completed_at_target;
  std::uint8_t status = 0;  // SCSI status (SAM)
  Itt itt;
  std::uint32_t snack_tag = 0;
  SerialNumber stat_sn;
  SerialNumber exp_cmd_sn;
  SerialNumber max_cmd_sn;
  std::uint32_t exp_data_sn = 0;
  std::uint32_t bidi_read_residual_count = 0;
  std::uint32_t residual_count = 0;
  bool operator==(const ScsiResponse&) const = default;
};

struct TaskMgmtResponse {  // 11.6
  static constexpr Opcode kOpcode = Opcode::task_mgmt_response;
  TmfResponse response = TmfResponse::function_complete;
  Itt itt;
  SerialNumber stat_sn;
  SerialNumber exp_cmd_sn;
  SerialNumber max_cmd_sn;
  bool operator==(const TaskMgmtResponse&) const = default;
};

struct LoginResponse {  // 11.13
  static constexpr Opcode kOpcode = Opcode::login_response;
  bool transit = false;
  bool cont = false;
  LoginStage csg = LoginStage::security_negotiation;
  LoginStage nsg = LoginStage::security_negotiation;
  std::uint8_t version_max = 0;
  std::uint8_t version_active = 0;
  std::uint64_t isid = 0;
  std::uint16_t tsih = 0;
  Itt itt;
  SerialNumber stat_sn;
  SerialNumber exp_cmd_sn;
  SerialNumber max_cmd_sn;
  std::uint8_t status_class = 0;
  std::uint8_t status_detail = 0;
  bool operator==(const LoginResponse&) const = default;
};

struct TextResponse {  // 11.11
  static constexpr Opcode kOpcode = Opcode::text_response;
  bool final = true;
  bool cont = false;
  Lun lun;
  Itt itt;
  Ttt ttt;
  SerialNumber stat_sn;
  SerialNumber exp_cmd_sn;
  SerialNumber max_cmd_sn;
  bool operator==(const TextResponse&) const = default;
};

struct DataIn {  // 11.7
  static constexpr Opcode kOpcode = Opcode::scsi_data_in;
  bool final = false;
  bool acknowledge = false;     // A
  bool overflow = false;        // O
  bool underflow = false;       // U
  bool status_present = false;  // S
  std::uint8_t status = 0;      // valid when status_present
  Lun lun;
  Itt itt;
  Ttt ttt;
  SerialNumber stat_sn;  // valid when status_present
  SerialNumber exp_cmd_sn;
  SerialNumber max_cmd_sn;
  std::uint32_t data_sn = 0;
  std::uint32_t buffer_offset = 0;
  std::uint32_t residual_count = 0;
  bool operator==(const DataIn&) const = default;
};

struct LogoutResponse {  // 11.15
  static constexpr Opcode kOpcode = Opcode::logout_response;
  LogoutResponseCode response = LogoutResponseCode::closed_successfully;
  Itt itt;
  SerialNumber stat_sn;
  SerialNumber exp_cmd_sn;
  SerialNumber max_cmd_sn;
  std::uint16_t time2wait = 0;
  std::uint16_t time2retain = 0;
  bool operator==(const LogoutResponse&) const = default;
};

struct R2t {  // 11.8
  static constexpr Opcode kOpcode = Opcode::r2t;
  Lun lun;
  Itt itt;
  Ttt ttt;
  SerialNumber stat_sn;
  SerialNumber exp_cmd_sn;
  SerialNumber max_cmd_sn;
  std::uint32_t r2t_sn = 0;
  std::uint32_t buffer_offset = 0;
  std::uint32_t desired_data_transfer_length = 0;
  bool operator==(const R2t&) const = default;
};

struct AsyncMessage {  // 11.9
  static constexpr Opcode kOpcode = Opcode::async_message;
  Lun lun;
  SerialNumber stat_sn;
  SerialNumber exp_cmd_sn;
  SerialNumber max_cmd_sn;
  AsyncEvent async_event = AsyncEvent::scsi_async_event;
  std::uint8_t async_vcode = 0;
  std::uint16_t parameter1 = 0;
  std::uint16_t parameter2 = 0;
  std::uint16_t parameter3 = 0;
  bool operator==(const AsyncMessage&) const = default;
};

struct Reject {  // 11.17
  static constexpr Opcode kOpcode = Opcode::reject;
  RejectReason reason = RejectReason::protocol_error;
  SerialNumber stat_sn;
  SerialNumber exp_cmd_sn;
  SerialNumber max_cmd_sn;
  std::uint32_t data_sn_or_r2t_sn = 0;
  bool operator==(const Reject&) const = default;
};

using Header =
    std::variant<NopOut, ScsiCommand, TaskMgmtRequest, LoginRequest, TextRequest, DataOut,
                 LogoutRequest, SnackRequest, NopIn, ScsiResponse, TaskMgmtResponse, LoginResponse,
                 TextResponse, DataIn, LogoutResponse, R2t, AsyncMessage, Reject>;

// What to do with reserved bits and fields that are not zero. RFC 7143 section 11.2 asks
// receivers to ignore them; `reject` reports protocol_errc::reserved_field_nonzero instead,
// which is how our conformance tests and strict peers catch sloppy senders.
enum class ReservedPolicy { reject, ignore };

struct DecodeOptions {
  ReservedPolicy reserved = ReservedPolicy::reject;
};

// Writes `h` into a zeroed BHS (opcode, I bit, fields). Lengths are left at zero.
void encode_header(const Header& h, Bhs& out);
template <class T>
Bhs encode(const T& h) {
  Bhs b;
  encode_header(Header{h}, b);
  return b;
}

// Decodes any of the 18 opcodes. Errors: unknown_opcode, reserved_field_nonzero, invalid_field
// (a fixed bit is wrong, a length that must be zero is not, or a reserved stage code).
Result<Header> decode_header(const Bhs& bhs, const DecodeOptions& options = {});

// ---------------------------------------------------------------------------------------------
// Additional Header Segments (RFC 7143 section 11.2.2).

enum class AhsType : std::uint8_t {
  extended_cdb = 1,
  bidi_read_expected_data_transfer_length = 2,
};

struct ParsedAhs {
  std::span<const std::byte> extended_cdb;  // CDB bytes 16 and on, when present
  std::optional<std::uint32_t> bidi_read_expected_data_transfer_length;
};

// Parses the AHS area of a SCSI Command. Errors: truncated, invalid_field (unknown or
// repeated AHS type, wrong fixed length).
Result<ParsedAhs> parse_ahs(std::span<const std::byte> ahs);

// Appends an AHS entry, padded to 4 bytes.
void append_extended_cdb_ahs(std::vector<std::byte>& ahs, std::span<const std::byte> cdb_tail);
void append_bidi_read_length_ahs(std::vector<std::byte>& ahs, std::uint32_t length);

// Fills a SCSI Command header and its AHS for a CDB of any length (16 bytes in the BHS, the rest
// in an extended CDB AHS) and, for bidirectional commands, the read length AHS.
// Errors: invalid_argument for an empty CDB or one longer than 16 + 1016 bytes.
Result<void> set_cdb(ScsiCommand& cmd, std::span<const std::byte> cdb, std::vector<std::byte>& ahs);

// ---------------------------------------------------------------------------------------------
// Serialisation.

struct DigestConfig {
  bool header = false;
  bool data = false;
};

// Header bytes as they go on the wire: BHS with lengths set, AHS, then the header digest when
// enabled. Fits kBhsSize + kMaxAhsBytes + 4.
struct WireHeader {
  std::array<std::byte, kBhsSize + kMaxAhsBytes + 4> bytes{};
  std::size_t size = 0;
  [[nodiscard]] std::span<const std::byte> view() const { return {bytes.data(), size}; }
};

// Builds the wire header for `bhs` with `ahs` (a multiple of 4 bytes) and a data segment of
// `data_length` bytes.
WireHeader make_wire_header(Bhs bhs, std::span<const std::byte> ahs, std::uint32_t data_length,
                            const DigestConfig& digests);

// The trailer after a data segment: 0-3 zero pad bytes, then the data digest when enabled.
struct WireTrailer {
  std::array<std::byte, 8> bytes{};
  std::size_t size = 0;
  [[nodiscard]] std::span<const std::byte> view() const { return {bytes.data(), size}; }
};
WireTrailer make_wire_trailer(std::span<const std::byte> data, const DigestConfig& digests);
// The same when the data segment is in several pieces (e.g. a caller buffer slice).
WireTrailer make_wire_trailer(std::uint32_t data_crc, std::size_t data_length,
                              const DigestConfig& digests);

// The whole PDU in one buffer (for login, text, tests and tools; the data path uses
// make_wire_header/make_wire_trailer with scatter-gather I/O instead).
std::vector<std::byte> serialize_pdu(const Bhs& bhs, std::span<const std::byte> ahs,
                                     std::span<const std::byte> data, const DigestConfig& digests);
std::vector<std::byte> serialize_pdu(const Header& h, std::span<const std::byte> data,
                                     const DigestConfig& digests = {});

// One-line summary of a header for logs and test failures, e.g.
// "Data-Out itt=0x5 ttt=0x10 DataSN=2 offset=16384 F=1".
std::string describe(const Header& h);

}  // namespace uiscsi::core
