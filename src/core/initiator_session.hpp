// InitiatorSession: the sans-I/O initiator engine for one iSCSI session (RFC 7143).
//
// Inputs: open_connection()/feed()/commit_received()/connection_lost() for the byte streams,
// submit()/submit_tmf()/submit_text()/logout()/cancel() for work, on_timer(now) for time.
// Outputs: gather()/consume() for bytes to write, poll_event() for completions and state
// changes, next_deadline() for when to call on_timer() next.
//
// What it keeps (design.md section 2): ITT allocation (never reused while live), the task table,
// the CmdSN/ExpCmdSN/MaxCmdSN window (RFC 1982 arithmetic; no CmdSN is ever skipped: a CmdSN is
// taken only when the command is handed to the connection, so a cancel before that costs none),
// StatSN acknowledgement, Data-In placement straight into the caller's buffer, Data-Out from the
// caller's buffer at the R2T's offset (all four InitialR2T/ImmediateData combinations,
// MaxOutstandingR2T > 1), NOP keepalive, async messages, Reject matching, TMF, text requests and
// logout.
//
// Caller buffers (ScsiRequest::data_in/data_out) must stay valid until the task's TaskDone.
// After TaskDone the engine never touches them again, even when the target keeps sending data
// for an aborted task.
//
// Time is passed in; nothing here reads a clock, blocks, or starts a thread. Not thread-safe.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "core/framer.hpp"
#include "core/initiator_login.hpp"
#include "core/initiator_types.hpp"
#include "core/tx_queue.hpp"

namespace uiscsi::core {

class InitiatorSession {
 public:
  InitiatorSession(SessionConfig config, RandomSource& random);
  ~InitiatorSession();
  InitiatorSession(const InitiatorSession&) = delete;
  InitiatorSession& operator=(const InitiatorSession&) = delete;

  // ---- connections ----
  // Starts the login of a new connection (the leading one first). The I/O layer has already
  // connected its socket. Returns the connection's CID.
  ConnectionId open_connection(TimePoint now);
  // Bytes read from the connection's socket.
  void feed(ConnectionId cid, std::span<const std::byte> bytes, TimePoint now);
  // Zero-copy receive: read into receive_buffer(), then commit_received(n).
  std::span<std::byte> receive_buffer(ConnectionId cid);
  void commit_received(ConnectionId cid, std::size_t n, TimePoint now);
  // The socket failed or reached EOF.
  void connection_lost(ConnectionId cid, std::error_code reason, TimePoint now);
  // While recovering: the I/O layer could not open the new connection (e.g. refused).
  void reconnect_failed(std::error_code reason, TimePoint now);
  // Ends the session at once without recovery: every connection closes, every task fails with
  // `reason` (the owner is shutting down).
  void abandon(std::error_code reason, TimePoint now);
  // Bytes to write: ranges for writev(); then consume() what was written.
  std::size_t gather(ConnectionId cid, std::span<std::span<const std::byte>> out);
  void consume(ConnectionId cid, std::size_t n);
  [[nodiscard]] bool wants_write(ConnectionId cid) const;

  // ---- work ----
  TaskId submit(ScsiRequest request, TimePoint now);
  // ABORT TASK needs `referenced`; the other functions act on `lun` (or the whole target).
  TaskId submit_tmf(TmfFunction function, Lun lun, std::optional<TaskId> referenced, TimePoint now);
  // A Text Request (e.g. SendTargets=All); the answer comes back joined in TextDone.
  TaskId submit_text(KeyValueList keys, TimePoint now);
  // Logs the session out: new work is refused, tasks in flight may finish until `deadline`,
  // then the Logout Request goes out. reason close_connection logs out one connection.
  TaskId logout(TimePoint now, std::optional<TimePoint> deadline,
                LogoutReason reason = LogoutReason::close_session, ConnectionId cid = 0);
  // Cancels a task: one not yet sent is dropped; one in flight completes now with
  // errc::cancelled and is aborted at the target with ABORT TASK.
  void cancel(TaskId id, TimePoint now);

  // ---- time and output ----
  void on_timer(TimePoint now);
  [[nodiscard]] std::optional<TimePoint> next_deadline() const;
  std::optional<Event> poll_event();

  // ---- state ----
  [[nodiscard]] bool logged_in() const;
  [[nodiscard]] bool closed() const;
  // Between losing the last connection and logging in again: the session is reinstated (error
  // recovery level 0) or, at level 2, the failed connection logs in again to the same session.
  [[nodiscard]] bool recovering() const { return recovering_ || connection_recovery_; }
  // Connections in full feature phase (and not being logged out).
  [[nodiscard]] std::size_t live_connections() const;
  // Whether this connection is in full feature phase (and not being logged out).
  [[nodiscard]] bool connection_live(ConnectionId cid) const;
  // SCSI tasks that lost their connection and wait for a new one (error recovery level 2).
  [[nodiscard]] std::size_t orphans() const;
  [[nodiscard]] const Erl1Counters& erl1_counters() const { return erl1_counters_; }
  [[nodiscard]] const NegotiatedParams& params() const { return params_; }
  [[nodiscard]] std::uint16_t tsih() const { return tsih_; }
  [[nodiscard]] std::uint64_t isid() const { return isid_; }
  [[nodiscard]] SerialNumber cmd_sn() const { return cmd_sn_; }
  [[nodiscard]] SerialNumber exp_cmd_sn() const { return exp_cmd_sn_; }
  [[nodiscard]] SerialNumber max_cmd_sn() const { return max_cmd_sn_; }
  [[nodiscard]] std::size_t tasks_in_flight() const;
  [[nodiscard]] std::size_t tasks_waiting() const { return waiting_.size(); }
  [[nodiscard]] const std::string& target_alias() const { return target_alias_; }

  struct Task;
  struct Connection;

 private:
  friend class InitiatorSessionAccess;
  // Task table.
  Task* allocate_task(TimePoint now);
  Task* find_task(Itt itt);
  Task* find_task(TaskId id);
  void free_task(Task* t);
  Connection* find_connection(ConnectionId cid);
  const Connection* find_connection(ConnectionId cid) const;
  Connection* pick_connection();

  // Receiving.
  void process_input(Connection& c, TimePoint now);
  void handle_pdu(Connection& c, const InboundPdu& pdu, TimePoint now);
  void handle_login_pdu(Connection& c, const InboundPdu& pdu, TimePoint now);
  void queue_login_pdu(Connection& c, std::vector<std::byte> wire);
  void handle_data_in(Connection& c, const DataIn& h, const InboundPdu& pdu, TimePoint now);
  void handle_scsi_response(Connection& c, const ScsiResponse& h, const InboundPdu& pdu,
                            TimePoint now);
  void handle_r2t(Connection& c, const R2t& h);
  void handle_nop_in(Connection& c, const NopIn& h, const InboundPdu& pdu, TimePoint now);
  void handle_tmf_response(const TaskMgmtResponse& h);
  void handle_text_response(Connection& c, const TextResponse& h, const InboundPdu& pdu);
  void handle_logout_response(Connection& c, const LogoutResponse& h);
  void handle_async(Connection& c, const AsyncMessage& h, const InboundPdu& pdu, TimePoint now);
  void handle_reject(Connection& c, const Reject& h, const InboundPdu& pdu);
  void renegotiate(TimePoint now);
  void note_stat_sn(Connection& c, SerialNumber stat_sn, bool advances);
  void update_window(SerialNumber exp_cmd_sn, SerialNumber max_cmd_sn);

  // Sending.
  void pump_window(TimePoint now);
  void send_task(Task& t, Connection& c, TimePoint now);
  void send_scsi_command(Task& t, Connection& c);
  void send_text_request(Task& t, Connection& c, Ttt ttt, bool continuation, Lun lun = Lun());
  void send_nop_ping(Connection& c, TimePoint now);
  void send_exp_stat_sn_ack(Connection& c);
  void push_pdu(Connection& c, OutPdu pdu, bool urgent = false);
  [[nodiscard]] DigestConfig digests(const Connection& c) const;

  // Completion and failure.
  void complete_scsi(Task& t, const CommandResult& r, TimePoint now);
  void fail_task(Task& t, std::error_code ec, bool may_have_executed);
  void abort_in_flight(Task& t, std::error_code ec, TimePoint now);
  // The waits a target sets for a connection it ends (RFC 7143 section 11.9.1): Parameter2
  // and Parameter3 of the Async event 2 or 3 that drops it, or the Time2Wait and Time2Retain
  // of the Logout Response to a logout it asked for (event 1).
  struct TargetWait {
    std::uint16_t time2wait = 0;
    std::uint16_t time2retain = 0;
  };
  void fail_connection(Connection& c, std::error_code ec,
                       std::optional<TargetWait> wait = std::nullopt);
  void finish_connection(Connection& c, std::error_code ec,
                         std::optional<TargetWait> wait = std::nullopt);
  void maybe_send_logout(TimePoint now);
  [[nodiscard]] bool recovery_possible() const;
  void requeue_for_retry(std::vector<Task*> tasks);
  void recovery_attempt_failed(std::error_code reason);
  void give_up_recovery(std::error_code reason);
  void login_attempt_failed(std::error_code why);
  void end_waiting_logout(std::error_code why);
  void fail_waiting(std::error_code reason);
  bool absorb_reset_attention(Task& t, const CommandResult& r, TimePoint now);

  // Error recovery level 1 (initiator_erl1.cpp).
  enum class DataSnFate { fresh, duplicate, invalid };
  [[nodiscard]] bool erl1() const { return params_.error_recovery_level >= 1; }
  void send_snack(Connection& c, SnackType type, Itt itt, Lun lun, Ttt ttt, std::uint32_t beg_run,
                  std::uint32_t run_length);
  bool recover_from_input_error(Connection& c, std::error_code ec, TimePoint now);
  DataSnFate accept_data_sn(Connection& c, Task& t, std::uint32_t data_sn);
  bool hold_status(Connection& c, Task& t, const CommandResult& r, std::uint32_t data_sns_sent,
                   SerialNumber stat_sn);
  void unpin_stat_sn(Task& t);
  void update_exp_stat_sn(Connection& c);
  void send_probe(Connection& c, TimePoint now);
  void release_held_status(Task& t, TimePoint now);
  void note_stat_sn_gap(Connection& c, SerialNumber stat_sn, bool advances);
  void retry_command(Task& t, Connection& c, TimePoint now);
  void send_data_ack(Connection& c, const DataIn& h, const Task& t);
  void probe_answered(Connection& c, TimePoint now);
  [[nodiscard]] bool needs_probe(const Connection& c) const;
  // Error recovery level 2 (initiator_erl2.cpp).
  [[nodiscard]] bool erl2() const { return params_.error_recovery_level >= 2; }
  bool orphan_connection_tasks(Connection& c, std::error_code ec, bool was_full_feature,
                               std::optional<TargetWait> wait);
  void resume_orphans(Connection& c, ConnectionId from, SerialNumber target_exp_cmd_sn);
  void after_connection_recovery(Connection& c, SerialNumber target_exp_cmd_sn);
  void send_due_recovery_logouts();
  void retry_orphan(Task& t, Connection& c);
  void send_task_reassign(Task& t, Connection& c);
  void send_recovery_logout(Connection& on, ConnectionId failed);
  void recovery_logout_answered(Connection& c, ConnectionId failed, const LogoutResponse& h);
  void reassign_answered(std::optional<TaskId> referenced, TmfResponse response);
  void orphan_refused(Task& t, TmfResponse response);
  void fall_back_to_reinstatement(std::error_code why);
  void fail_orphans(std::error_code ec);
  void emit(Event e);
  void trace(const Connection& c, bool outbound, const Bhs& bhs, std::span<const std::byte> ahs,
             std::span<const std::byte> data);

  class Expander;
  class Placement;

  SessionConfig config_;
  RandomSource& random_;
  std::uint64_t isid_;
  std::uint16_t tsih_;
  NegotiatedParams params_;
  std::string target_alias_;

  SerialNumber cmd_sn_{1};  // the next CmdSN to assign
  SerialNumber exp_cmd_sn_{1};
  SerialNumber max_cmd_sn_{1};

  std::vector<std::unique_ptr<Task>> slots_;
  std::vector<std::uint32_t> free_slots_;
  std::uint64_t next_task_serial_ = 1;
  std::uint64_t overflow_serial_ = 0;  // ids for submissions refused for lack of task slots
  std::size_t live_tasks_ = 0;
  std::deque<TaskId> waiting_;  // non-immediate tasks waiting for the command window

  std::vector<std::unique_ptr<Connection>> connections_;
  ConnectionId next_cid_ = 0;
  std::unique_ptr<Expander> expander_;

  bool logout_requested_ = false;
  std::optional<TaskId> logout_task_;
  std::optional<TimePoint> logout_deadline_;
  bool session_closed_ = false;
  bool ever_logged_in_ = false;
  bool recovering_ = false;
  int recovery_attempt_ = 0;
  // Error recovery level 2: the last connection failed; it logs in again with the same CID
  // and TSIH, then its tasks are reassigned. force_reinstatement_: a refused reassignment sent
  // the session back to level 0 recovery.
  bool connection_recovery_ = false;
  ConnectionId recovering_cid_ = 0;
  TimePoint orphans_expire_at_{};  // when the target lets the orphans go (section 7.3)
  // MC/S: reason 2 logouts of failed CIDs that wait for the Time2Wait of the Async event that
  // dropped them (section 11.9.1) before their tasks are reassigned.
  std::vector<std::pair<ConnectionId, TimePoint>> delayed_recovery_logouts_;
  bool force_reinstatement_ = false;
  std::size_t next_pick_ = 0;                    // round robin over the connections (MC/S)
  std::optional<std::uint16_t> drop_time2wait_;  // Parameter2 of an async connection drop
  // Our own renegotiation, asked for by Async event 4: its Text task, and whether it already
  // went again after a Reject (it is tried once more, then left to the target).
  std::optional<TaskId> own_negotiation_;
  bool own_negotiation_retried_ = false;
  std::optional<TaskId> target_logout_;  // the Logout the target asked for (Async event 1)
  // After a reinstatement: LUs that have completed a command since (their reset unit
  // attention is no longer expected).
  bool reset_attention_pending_ = false;
  std::vector<Lun> settled_luns_;

  Erl1Counters erl1_counters_;
  std::deque<Event> events_;
  TimePoint now_{};  // the time of the current entry point
};

}  // namespace uiscsi::core
