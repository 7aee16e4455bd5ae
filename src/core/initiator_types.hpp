// Types shared by the initiator session engine and its users: requests in, events out.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "core/chap.hpp"
#include "core/negotiation.hpp"
#include "core/pdu.hpp"
#include "core/text.hpp"
#include "uiscsi/lun.hpp"

namespace uiscsi::core {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

// Engine-assigned handle of a submitted task; unlike an ITT it is never reused.
struct TaskId {
  std::uint64_t value = 0;
  bool operator==(const TaskId&) const = default;
};

using ConnectionId = std::uint16_t;  // our CID

// Longest CDB we carry: 16 bytes in the BHS plus an extended CDB AHS.
inline constexpr std::size_t kMaxCdbLength = 260;

struct CdbBytes {
  std::array<std::byte, kMaxCdbLength> bytes{};
  std::size_t size = 0;
  [[nodiscard]] std::span<const std::byte> view() const { return {bytes.data(), size}; }
  static CdbBytes from(std::span<const std::byte> cdb);  // truncated to kMaxCdbLength
};

// A SCSI command. The caller owns both buffers and keeps them alive until the task's
// TaskDone event. data_in receives read data at its buffer offsets (its size is the expected
// read length); data_out is read at the offsets the target asks for (its size is the write
// length). Both set: a bidirectional command.
// Whether a command that was in flight when the connection failed may be sent again after
// the session is reinstated (error recovery level 0, RFC 7143 section 7.1.1).
enum class RetryPolicy : std::uint8_t {
  automatic,  // only commands that are safe to repeat: see retry_is_safe()
  always,
  never,
};

struct ScsiRequest {
  Lun lun;
  CdbBytes cdb;
  TaskAttribute attr = TaskAttribute::simple;
  std::span<std::byte> data_in;
  std::span<const std::byte> data_out;
  std::optional<TimePoint> deadline;  // fail with errc::timed_out (and abort) when passed
  RetryPolicy retry = RetryPolicy::automatic;
};

// RetryPolicy::automatic: repeats only commands whose operation code means the same, harmless
// thing whatever the device: reading and describing commands, and the direct-access reads and
// writes that only exist with 10-, 12- and 16-byte CDBs (repeating a block write writes the same
// blocks again). Never the 6-byte READ/WRITE, SPACE, WRITE FILEMARKS, ERASE, LOAD/UNLOAD,
// REWIND or LOCATE, which on a tape move the medium; never COMPARE AND WRITE, reservations or
// MODE SELECT.
bool retry_is_safe(std::span<const std::byte> cdb);

// What the target said about a SCSI command. Status and sense are data, not errors.
struct CommandResult {
  std::uint8_t status = 0;          // SAM status (0 GOOD, 2 CHECK CONDITION, ...)
  std::vector<std::byte> sense;     // sense data without the 2-byte SenseLength prefix
  std::uint32_t data_in_bytes = 0;  // bytes of read data placed in data_in
  std::uint32_t residual_count = 0;
  bool underflow = false;
  bool overflow = false;
  std::uint32_t bidi_read_residual_count = 0;
  bool bidi_read_underflow = false;
  bool bidi_read_overflow = false;
  Duration latency{};
};

// What error recovery level 1 has done on a session (InitiatorSession::erl1_counters()).
struct Erl1Counters {
  std::uint64_t digest_errors = 0;    // PDUs received with a header or data digest error
  std::uint64_t data_r2t_snacks = 0;  // Data/R2T SNACKs sent
  std::uint64_t status_snacks = 0;
  std::uint64_t data_acks = 0;
  std::uint64_t rdata_snacks = 0;
  std::uint64_t command_retries = 0;  // command PDUs sent again with the same CmdSN
  std::uint64_t probes = 0;           // NOP-Out pings sent to look for lost PDUs
  // Error recovery level 2 (RFC 7143 section 7.2): connections logged in again (or replaced)
  // after a failure, and tasks moved to them with TASK REASSIGN.
  std::uint64_t connection_recoveries = 0;
  std::uint64_t tasks_reassigned = 0;
};

// A task finished. An error means the command's outcome is unknown or it did not run:
// errc::timed_out / errc::cancelled (aborted by us), errc::task_aborted (a TMF ended it),
// errc::connection_closed (the connection failed), errc::rejected (the target sent a Reject),
// errc::target_failure (iSCSI Response "target failure"), errc::session_closed, or a
// protocol_errc (the target broke the protocol for this task). `may_have_executed` tells whether
// the target could have run the command (it had been sent).
struct TaskDone {
  TaskId id;
  std::error_code error;
  bool may_have_executed = false;
  CommandResult result;  // valid when !error
};

struct TmfDone {
  TaskId id;
  std::error_code error;
  TmfResponse response = TmfResponse::function_complete;
};

struct TextDone {
  TaskId id;
  std::error_code error;
  KeyValueList keys;  // the whole answer, joined across PDUs
};

struct LoginDone {
  ConnectionId cid = 0;
  std::error_code error;         // empty on success
  std::string redirect_address;  // status class 1
  bool redirect_permanent = false;
  std::string failure_detail;
  std::optional<ChapAlgorithm> chap_algorithm;  // what the target chose, when CHAP ran
  // A connection of the live session logged in after a failure (ERL 2): not a new session.
  bool connection_recovery = false;
};

// The I/O layer must close this connection's socket.
struct ConnectionClosed {
  ConnectionId cid = 0;
  std::error_code reason;  // empty after a clean logout
  // The target ended it and said how long to wait, in seconds, before a new connection may be
  // tried (RFC 7143 section 11.9.1): Parameter2 of the Async event 2 or 3 that dropped it, or
  // the Logout Response's Time2Wait of a logout it asked for (event 1). Empty otherwise.
  std::optional<std::uint16_t> time2wait;
};

struct AsyncEventReceived {
  AsyncMessage message;
  std::vector<std::byte> sense;  // SCSI async event sense data (event 0)
};

struct LogoutDone {
  TaskId id;
  std::error_code error;
  LogoutResponseCode response = LogoutResponseCode::closed_successfully;
  std::uint16_t time2wait = 0;
  std::uint16_t time2retain = 0;
};

// A copy of a PDU as sent or received, for hooks and pcap (only when tracing is on).
struct PduTrace {
  ConnectionId cid = 0;
  bool outbound = false;
  std::vector<std::byte> bytes;  // BHS + AHS + data segment (no digests, no padding)
};

// The session lost its last connection and is recovering (error recovery level 0): the I/O
// layer should open a new connection after `delay` and call open_connection() again. Commands
// waiting or safe to retry are kept; the others ended with TaskDone.
struct RecoveryNeeded {
  std::error_code reason;
  Duration delay{};
  int attempt = 1;  // 1 for the first reconnection
};

// Recovery gave up (attempts exhausted or a login refused for good); the session is closed.
struct RecoveryFailed {
  std::error_code reason;
};

// After a reinstatement, a command got the target's UNIT ATTENTION for the new I_T nexus
// (ASC 29h) and was sent again; `sense` is what the target returned.
struct ResetAttentionAbsorbed {
  TaskId id;
  Lun lun;
  std::vector<std::byte> sense;
};

using Event =
    std::variant<TaskDone, TmfDone, TextDone, LoginDone, ConnectionClosed, AsyncEventReceived,
                 LogoutDone, PduTrace, RecoveryNeeded, RecoveryFailed, ResetAttentionAbsorbed>;

struct SessionConfig {
  std::string initiator_name = "iqn.2026-11.dev.uiscsi:initiator";
  std::string initiator_alias;
  std::string target_name;
  SessionType session_type = SessionType::normal;
  std::optional<ChapCredentials> chap;
  std::vector<ChapAlgorithm> chap_preference = default_chap_preference();
  NegotiationSettings negotiation;
  std::uint64_t isid = 0;  // 0: a random one (type 10b) is drawn
  std::uint16_t tsih = 0;  // 0: new session
  Duration login_timeout = std::chrono::seconds(15);
  // NOP-Out ping after this long with nothing received; 0 turns keepalive off.
  Duration keepalive_interval = std::chrono::seconds(30);
  Duration keepalive_timeout = std::chrono::seconds(10);
  // Send an ExpStatSN confirmation (NOP-Out, ITT 0xffffffff) when this many StatSNs are
  // unacknowledged and nothing else is going out.
  std::uint32_t exp_stat_sn_ack_threshold = 64;
  // How reserved bits in received PDUs are treated.
  ReservedPolicy reserved_policy = ReservedPolicy::reject;
  // Queue a PduTrace event for every PDU.
  bool trace_pdus = false;
  // Error recovery level 0: reinstate the session when its last connection fails (same ISID,
  // TSIH 0), after DefaultTime2Wait, with exponential backoff between attempts.
  bool recovery = true;
  int max_recovery_attempts = 6;
  Duration recovery_backoff = std::chrono::milliseconds(250);
  Duration max_recovery_backoff = std::chrono::seconds(8);
  // A command repeated this many times fails (errc::command_interrupted) at the next loss
  // instead, so one that brings the connection down each time cannot loop for ever.
  int max_command_replays = 3;
  // Error recovery level 1 (when negotiated): with commands outstanding and nothing received
  // for this long, a NOP-Out ping probes for lost PDUs (its answer carries StatSN and
  // ExpCmdSN). A command PDU is sent again at most max_command_retries times and a Status
  // SNACK at most max_status_snacks times for one gap; then the connection is given up.
  Duration recovery_probe_interval = std::chrono::seconds(1);
  int max_command_retries = 3;
  int max_status_snacks = 8;
};

}  // namespace uiscsi::core
