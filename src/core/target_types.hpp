// Types of the target engine: configuration, the directory it consults during login, fault
// injection, and the events it produces.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "core/chap.hpp"
#include "core/initiator_types.hpp"
#include "core/negotiation.hpp"
#include "core/pdu.hpp"
#include "uiscsi/lun.hpp"

namespace uiscsi::core {

class TargetSession;

// What the engine asks about targets while logging an initiator in. Implemented by the target
// layer over its configuration; the calls are quick lookups, never I/O.
class TargetDirectory {
 public:
  virtual ~TargetDirectory() = default;

  struct TargetInfo {
    std::string alias;
    std::uint16_t portal_group_tag = 1;
    bool chap_required = false;  // refuse AuthMethod=None
    bool mutual_chap_available = false;
  };
  // The target called `name`, if we serve it.
  [[nodiscard]] virtual std::optional<TargetInfo> find_target(std::string_view name) const = 0;
  // Whether `initiator` may log in to `target` (ACL).
  [[nodiscard]] virtual bool allowed(std::string_view target, std::string_view initiator) const = 0;
  // The CHAP secret of `user` for `target`, if known (empty target: discovery).
  [[nodiscard]] virtual std::optional<Secret> chap_secret(std::string_view target,
                                                          std::string_view user) const = 0;
  // Our own name and secret for mutual CHAP on `target`.
  [[nodiscard]] virtual std::optional<ChapCredentials> mutual_credentials(
      std::string_view target) const = 0;
  // Whether `target` has a logical unit `lun` (for task management answers).
  [[nodiscard]] virtual bool lun_exists(std::string_view target, const Lun& lun) const = 0;
  // Whether discovery sessions need CHAP.
  [[nodiscard]] virtual bool discovery_chap_required() const = 0;
  // The SendTargets answer for an initiator: "TargetName" and "TargetAddress" keys.
  // `which` is "All", a target name, or empty (the session's own target).
  [[nodiscard]] virtual KeyValueList send_targets(std::string_view initiator,
                                                  std::string_view which,
                                                  std::string_view session_target) const = 0;
  // A redirect for `target` ("host:port,tag"), or empty to accept the login here.
  [[nodiscard]] virtual std::string redirect(std::string_view target) const = 0;

  // The final login step: returns the TSIH of the session this connection joins. `tsih` 0 asks
  // for a new session (and reinstates an older one with the same initiator and ISID); a
  // non-zero `tsih` adds a connection to that session, or gets 0 back when it does not exist.
  virtual std::uint16_t attach_session(std::string_view initiator, std::uint64_t isid,
                                       std::uint16_t tsih, std::string_view target) = 0;

  // The state shared by the connections of session `tsih` (multiple connections per session,
  // ERL 2; see core/target_session.hpp), or null when there is none yet or this directory does
  // not share sessions: the connection then gets a session of its own, and a second connection
  // with the same TSIH is a session apart. A directory that shares sessions returns the same
  // object for every connection of the session, from its first login on.
  virtual std::shared_ptr<TargetSession> session_state(std::uint16_t tsih) {
    (void)tsih;
    return nullptr;
  }
};

// Faults the engine injects on purpose, for testing initiators (uiscsi-target --fault ...).
// Counters are per connection; 0 means off.
struct FaultPlan {
  std::uint64_t drop_after_pdus = 0;   // close the connection after receiving this many PDUs
  std::uint64_t drop_after_bytes = 0;  // ... or this many bytes
  std::uint64_t corrupt_header_digest_pdu = 0;  // corrupt the header digest of the Nth PDU we send
  std::uint64_t corrupt_data_digest_pdu = 0;    // ... or its data digest
  std::uint64_t reject_pdu = 0;                 // answer the Nth received PDU with a Reject
  bool hold_window_closed = false;              // MaxCmdSN = ExpCmdSN - 1 in everything we send
  bool data_in_out_of_order = false;            // send each command's Data-In PDUs last-first
  bool set_a_bit = false;                       // A bit on the final Data-In (ERL >= 1)
  // Lost PDUs, as if the peer had dropped them for a header digest error: the Nth PDU we send in
  // full feature phase, and every Nth one. Retransmissions count as PDUs sent too.
  std::uint64_t lose_pdu = 0;
  std::uint64_t lose_every = 0;
  std::uint64_t async_logout_after_commands = 0;  // async event 1 after N commands
  std::uint64_t async_drop_after_commands = 0;    // async event 2 after N commands
  std::uint16_t async_time2wait = 2;              // Parameter2 of the async events
  std::uint16_t async_logout_within = 5;          // Parameter3 of the logout request
  // Applied by the server, not the engine: only the first this-many connections get the
  // faults above (0: every connection), so a test can break a session once and watch it heal.
  std::uint64_t faulty_connections = 0;
};

struct TargetConfig {
  NegotiationSettings negotiation;  // our offers and limits
  std::uint32_t cmd_window = 128;   // MaxCmdSN - ExpCmdSN + 1
  // Bounds on the write buffers the initiator makes us hold (each is its Expected Data Transfer
  // Length, allocated when the command arrives). A command asking for more than
  // max_command_write_bytes ends at once with CHECK CONDITION, ILLEGAL REQUEST, INVALID FIELD IN
  // COMMAND INFORMATION UNIT (0E/03); one that would take the connection's buffers past
  // max_connection_write_bytes ends with TASK SET FULL (SAM-5 5.3.1). Neither allocates.
  std::uint32_t max_command_write_bytes = 64u << 20;
  std::uint64_t max_connection_write_bytes = 256u << 20;
  // Error recovery level >= 1 (RFC 7143 section 7): what the connection keeps to resend Data-In,
  // R2Ts and status PDUs on a SNACK, until ExpStatSN or a DataACK acknowledges it. Beyond this
  // bound the oldest task answers are dropped (a later SNACK for them gets a Reject).
  std::uint64_t max_retained_bytes = 32u << 20;
  std::chrono::milliseconds login_timeout{30000};
  std::chrono::milliseconds nop_in_interval{0};  // ping an idle initiator; 0: off
  // How long a NOP-In ping waits for its answer, and a closing connection for the peer to read
  // its last PDUs (a Logout Response, a refusal, an async drop).
  std::chrono::milliseconds nop_in_timeout{10000};
  std::vector<ChapAlgorithm> chap_preference = default_chap_preference();
  ReservedPolicy reserved_policy = ReservedPolicy::reject;
  FaultPlan faults;
};

// ---- events out ----

// Run this SCSI command on the LU; answer with TargetConnection::complete().
struct ExecuteCommand {
  std::uint32_t task = 0;  // the engine's handle for complete()
  Lun lun;
  std::span<const std::byte> cdb;       // valid until complete()
  std::span<const std::byte> data_out;  // valid until complete()
  std::uint32_t expected_data_in = 0;
  TaskAttribute attribute = TaskAttribute::simple;
};

// A task management function the LU layer must carry out (the engine has already dropped the
// affected tasks' results). Answer with TargetConnection::tmf_done().
struct TaskManagement {
  std::uint32_t request = 0;
  TmfFunction function = TmfFunction::abort_task;
  Lun lun;
};

// Login finished; the LU layer registers the nexus (unit attentions, reservations).
struct SessionUp {
  std::string initiator_name;
  std::string target_name;  // empty for discovery
  std::uint64_t isid = 0;
  std::uint16_t tsih = 0;
  bool discovery = false;
};

// What the LU layer answers for a command (see target/logical_unit.hpp).
struct CommandOutcome {
  std::uint8_t status = 0;
  std::vector<std::byte> sense;    // without the SenseLength prefix
  std::vector<std::byte> data_in;  // may exceed the initiator's buffer: the excess is overflow
  // Data-Out bytes the CDB called for, when the LU knows it: a difference from the Expected
  // Data Transfer Length is reported as an overflow or underflow residual (RFC 7143 11.4.5.1).
  std::optional<std::uint64_t> data_out_length;
};

struct TargetConnectionClosed {
  std::error_code reason;  // empty after a clean logout
};

using TargetEvent =
    std::variant<ExecuteCommand, TaskManagement, SessionUp, TargetConnectionClosed, PduTrace>;

}  // namespace uiscsi::core
