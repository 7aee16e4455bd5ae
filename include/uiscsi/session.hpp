// uiscsi::Session: an iSCSI session with one target, from a C++ program. No kernel iSCSI, no
// root, no daemon.
//
//   auto s = uiscsi::Session::dial("iscsi://127.0.0.1:3260/iqn.2026-11.dev.uiscsi:disk/0");
//   if (!s) { std::cerr << s.error().message() << "\n"; return 1; }
//   auto c = s->run(uiscsi::Lun(), uiscsi::Command(uiscsi::scsi::inquiry()));
//   if (c && c->ok()) auto inq = uiscsi::scsi::parse_inquiry(c->data());
//
// Threads: each Session runs one I/O thread that owns its socket and protocol engine. All
// public methods may be called from any thread. Completion callbacks and hooks run on the I/O
// thread: they must not block, and must not call the synchronous methods (run(), logout(), task
// management calls), which return errc::invalid_argument when called from there.
//
// Errors: dial() returns system errors for TCP (e.g. std::errc::connection_refused),
// errc::timed_out, login_category() codes for a refused login (authentication failure is class
// 2 detail 1), errc::authentication_failed when the target fails mutual CHAP, protocol_errc for
// a target that breaks the protocol. Command results are Result<Completion>: an error only when
// the command's outcome is unknown or it did not run (connection lost, aborted, timed out);
// SCSI status and sense come back inside the Completion.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "uiscsi/command.hpp"
#include "uiscsi/export.hpp"
#include "uiscsi/hooks.hpp"
#include "uiscsi/lun.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/secret.hpp"
#include "uiscsi/url.hpp"

namespace uiscsi {

namespace detail {
class SessionImpl;
}

// CHAP credentials. Mutual CHAP when target_user is set.
struct UISCSI_API ChapOptions {
  std::string user;
  Secret secret;
  std::string target_user;
  Secret target_secret;
  // CHAP_A values in preference order: 8 SHA3-256, 7 SHA-256, 6 SHA-1, 5 MD5.
  std::vector<int> algorithms{8, 7, 6, 5};
};

enum class DigestPolicy {
  none,     // offer None only
  prefer,   // offer CRC32C,None
  require,  // offer CRC32C only; the login fails if the target refuses
};

struct UISCSI_API SessionOptions {
  std::string initiator_name;  // empty: iqn.2026-11.dev.uiscsi:<hostname>
  std::string initiator_alias;
  std::optional<ChapOptions> chap;
  DigestPolicy header_digest = DigestPolicy::none;
  DigestPolicy data_digest = DigestPolicy::none;

  // Offers (the target may lower them; see negotiated()).
  std::uint32_t max_recv_data_segment_length = 262144;
  std::uint32_t max_burst_length = 1048576;
  std::uint32_t first_burst_length = 262144;
  bool initial_r2t = false;  // ask for unsolicited data; InitialR2T is OR-ed with the target's
  bool immediate_data = true;
  std::uint32_t max_outstanding_r2t = 8;
  std::uint32_t error_recovery_level = 0;

  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds login_timeout{15000};
  // Applied to commands without their own timeout; 0 means none.
  std::chrono::milliseconds command_timeout{0};
  std::chrono::milliseconds keepalive_interval{30000};  // 0 turns NOP keepalive off
  std::chrono::milliseconds keepalive_timeout{10000};
  int max_redirects = 4;

  // Error recovery level 0: when the connection fails, log in again with the same ISID (the
  // target reinstates the session) after DefaultTime2Wait, with doubling backoff, and send the
  // interrupted commands again where Command::retry allows. Commands submitted meanwhile wait.
  // A logout the target asks for (Async Message, event 1) ends the same way: after the Logout
  // Response, a new login at the same portal after its Time2Wait (with recovery off, the session
  // ends logged out).
  bool recovery = true;
  int max_recovery_attempts = 6;
  std::chrono::milliseconds recovery_backoff{250};
  // How many times one command is sent again; at the next loss it fails with
  // errc::command_interrupted (a command that kills the connection each time cannot loop).
  int max_command_replays = 3;
  // Error recovery level 1 (error_recovery_level = 1, when the target agrees): lost or damaged
  // PDUs are asked for again with SNACKs instead of costing the connection. With commands
  // outstanding and nothing heard for this long, a NOP-Out ping looks for what was lost.
  std::chrono::milliseconds recovery_probe_interval{1000};
  // Offered DefaultTime2Wait (seconds before a reconnection); the larger of ours and the
  // target's applies.
  std::uint32_t default_time2wait = 2;
  // Offered DefaultTime2Retain (seconds the target keeps a failed connection's tasks for
  // reassignment at error recovery level 2); the smaller of ours and the target's applies.
  std::uint32_t default_time2retain = 20;
  // Connections per session (MC/S, RFC 7143 section 5.1): MaxConnections is offered as this,
  // and after the leading login further connections log in until the session has this many (or
  // the target's MaxConnections). Commands are spread over them; each stays on its connection.
  // At error recovery level 2 a failed connection is replaced and its tasks reassigned while
  // the others carry on; a replacement that cannot connect or log in is tried again after
  // recovery_backoff (doubling each time), up to max_recovery_attempts in a row.
  std::uint32_t connections = 1;
  // Further portals for those connections ("host", "host:port", "[v6]:port"): connection k
  // (counting from 0, the leading one) goes to portal k modulo the list of the session's own
  // portal followed by these; without them every connection goes to the session's portal. They
  // must belong to the target portal group of the session's portal (RFC 7143 section 4.1; a
  // target refuses other ones). A replacement connection dials the portal of the one it
  // replaces. One that does not parse fails dial() with errc::invalid_argument; one that
  // cannot be reached leaves the session with fewer connections (a warning is logged).
  std::vector<std::string> portals;

  Hooks hooks;
};

// What error recovery has done on a session so far (Session::recovery_stats()).
struct UISCSI_API RecoveryStats {
  std::uint64_t reinstatements = 0;   // ERL 0: the session logged in again after a lost connection
  std::uint64_t digest_errors = 0;    // ERL 1: PDUs received with a bad header or data digest
  std::uint64_t data_r2t_snacks = 0;  // ERL 1: Data-In or R2T PDUs asked for again
  std::uint64_t status_snacks = 0;    // ERL 1: statuses asked for again
  std::uint64_t data_acks = 0;        // ERL 1: DataACKs sent for A-bit Data-In
  std::uint64_t command_retries = 0;  // ERL 1: commands sent again with the same CmdSN
  std::uint64_t probes = 0;           // ERL 1: NOP-Out pings sent to look for lost PDUs
  std::uint64_t connection_recoveries = 0;  // ERL 2: failed connections whose tasks moved on
  std::uint64_t reassigned_tasks = 0;       // ERL 2: tasks moved with TASK REASSIGN
};

// The parameters in force after login (RFC 7143 section 13).
struct UISCSI_API NegotiatedParameters {
  bool header_digest = false;
  bool data_digest = false;
  std::uint32_t max_connections = 1;
  bool initial_r2t = true;
  bool immediate_data = true;
  std::uint32_t initiator_max_recv_data_segment_length = 8192;  // what the target may send us
  std::uint32_t target_max_recv_data_segment_length = 8192;     // what we may send the target
  std::uint32_t max_burst_length = 262144;
  std::uint32_t first_burst_length = 65536;
  std::uint32_t default_time2wait = 2;
  std::uint32_t default_time2retain = 20;
  std::uint32_t max_outstanding_r2t = 1;
  bool data_pdu_in_order = true;
  bool data_sequence_in_order = true;
  std::uint32_t error_recovery_level = 0;
};

// A submitted command. cancel() completes it at once with errc::cancelled and, if it was
// already sent, aborts it at the target with ABORT TASK.
class UISCSI_API TaskHandle {
 public:
  TaskHandle() = default;
  void cancel() const;
  [[nodiscard]] bool valid() const { return id_ != 0 && !impl_.expired(); }
  [[nodiscard]] std::uint64_t id() const { return id_; }

 private:
  friend class Session;
  std::weak_ptr<detail::SessionImpl> impl_;
  std::uint64_t id_ = 0;
};

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
UISCSI_API std::string_view tmf_response_name(TmfResponse r);

struct UISCSI_API Portal {
  std::string address;  // host:port, brackets around IPv6 literals
  std::uint16_t group_tag = 1;
};
struct UISCSI_API DiscoveredTarget {
  std::string name;
  std::vector<Portal> portals;
};

class UISCSI_API Session {
 public:
  // Connects, logs in and returns a session in full feature phase. The URL's target is
  // required; its LUN is ignored (pass LUNs per command); its credentials and digest query
  // keys override `options`.
  static Result<Session> dial(std::string_view url, SessionOptions options = {});
  static Result<Session> dial(const IscsiUrl& url, SessionOptions options = {});

  Session(Session&&) noexcept;
  Session& operator=(Session&&) noexcept;
  ~Session();  // logs out (bounded wait) and closes

  // ---- commands ----
  // Async with a callback (runs on the I/O thread).
  TaskHandle submit(Lun lun, Command command, std::function<void(Result<Completion>)> done);
  // Async with a future.
  std::future<Result<Completion>> submit(Lun lun, Command command);
  // Sync: submits and waits.
  Result<Completion> run(Lun lun, Command command);

  // ---- task management (sync; RFC 7143 section 11.5) ----
  Result<TmfResponse> abort_task(const TaskHandle& task);
  Result<TmfResponse> abort_task_set(Lun lun);
  Result<TmfResponse> clear_task_set(Lun lun);
  Result<TmfResponse> clear_aca(Lun lun);
  Result<TmfResponse> lun_reset(Lun lun);
  Result<TmfResponse> target_warm_reset();
  Result<TmfResponse> target_cold_reset();

  // Logs out: waits up to `timeout` for commands in flight, then logs out and closes.
  Result<void> logout(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // MC/S: logs out one connection (reason 1, RFC 7143 section 11.14.1) after its commands end
  // (up to `timeout`); the others carry on. Errors: errc::not_logged_in (no such connection),
  // errc::busy (another logout is running).
  Result<void> close_connection(std::uint16_t cid,
                                std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // The CIDs of the connections in full feature phase.
  [[nodiscard]] std::vector<std::uint16_t> connections() const;

  // ---- state ----
  [[nodiscard]] bool logged_in() const;
  // Reconnections made by error recovery so far.
  [[nodiscard]] std::uint64_t recoveries() const;
  [[nodiscard]] RecoveryStats recovery_stats() const;
  [[nodiscard]] NegotiatedParameters negotiated() const;
  [[nodiscard]] const std::string& target_name() const;
  [[nodiscard]] std::string target_alias() const;
  [[nodiscard]] std::string portal() const;  // the portal actually used (after redirects)
  [[nodiscard]] std::uint64_t isid() const;
  [[nodiscard]] std::uint16_t tsih() const;

 private:
  UISCSI_LOCAL explicit Session(std::shared_ptr<detail::SessionImpl> impl);
  UISCSI_LOCAL Result<TmfResponse> tmf(std::uint8_t function, Lun lun,
                                       std::optional<std::uint64_t> task);
  std::shared_ptr<detail::SessionImpl> impl_;
};

// SendTargets on a discovery session at `portal` ("host[:port]" or an iscsi:// URL whose
// target part is ignored): `which` is "All" or one target's name. Errors as for Session::dial.
UISCSI_API Result<std::vector<DiscoveredTarget>> discover(std::string_view portal,
                                                          SessionOptions options = {},
                                                          std::string_view which = "All");

// CHAP credentials from the environment: ISCSI_CHAP_USER, ISCSI_CHAP_PASSWORD and, for mutual
// CHAP, ISCSI_CHAP_TARGET_USER and ISCSI_CHAP_TARGET_PASSWORD. nullopt when ISCSI_CHAP_USER is
// not set. Errors: errc::invalid_argument when a user comes without its password.
UISCSI_API Result<std::optional<ChapOptions>> chap_from_environment();

// CHAP credentials from a file of "key=value" lines (user, password, target_user,
// target_password; '#' starts a comment). Errors: the system error of opening it,
// errc::invalid_argument when user or password is missing.
UISCSI_API Result<ChapOptions> chap_from_file(const std::string& path);

// The default initiator name: iqn.2026-11.dev.uiscsi:<hostname>.
UISCSI_API std::string default_initiator_name();

}  // namespace uiscsi
