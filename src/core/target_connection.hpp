// TargetConnection: the sans-I/O target engine for one TCP connection (RFC 7143), from login
// to logout. It is the peer of InitiatorSession and uses the same codec, negotiator and CHAP.
//
// Inputs: feed()/commit_received() for bytes, complete() when the LU layer has run a command,
// tmf_done() when it has carried out a task management function, on_timer(now).
// Outputs: gather()/consume() for bytes, poll_event() for ExecuteCommand / TaskManagement /
// SessionUp / TargetConnectionClosed, next_deadline().
//
// Full feature phase:
//   - CmdSN ordering within the window [ExpCmdSN, MaxCmdSN]; commands outside it and
//     duplicates are dropped silently (section 4.2.2.1); immediate commands bypass it;
//   - writes: immediate and unsolicited data checked against FirstBurstLength, then R2Ts in
//     MaxBurstLength chunks with up to MaxOutstandingR2T outstanding; Data-Out DataSN, offset,
//     TTT and F bit are checked (a bad one ends the task with CHECK CONDITION ABORTED COMMAND,
//     an unknown TTT or ITT gets a Reject);
//   - reads: Data-In split at the initiator's MaxRecvDataSegmentLength and MaxBurstLength
//     sequences, status in the final Data-In when it is GOOD without sense;
//   - NOP ping both ways, task management, SendTargets and Text renegotiation, logout, Reject
//     for PDUs we cannot take, and the faults of TargetConfig::faults;
//   - at ErrorRecoveryLevel >= 1 (target_recovery.cpp): Data-In, R2Ts and numbered responses are
//     kept (bounded by TargetConfig::max_retained_bytes) until ExpStatSN or a DataACK releases
//     them, and resent on SNACKs of every type; a PDU whose header digest fails is skipped, a
//     Data-Out whose data digest fails is asked for again with a recovery R2T, a command whose
//     data digest fails is dropped for the initiator to retry, and a retried command that
//     already completed gets its answer again (RFC 7143 sections 7.1-7.9, 11.16).
// Sessions (target_session.hpp, target_session.cpp): the connections of one session share a
// TargetSession (the command window, CmdSN ordering across connections, task handles); a login
// with a non-zero TSIH adds a connection (up to MaxConnections), one reusing a live CID
// reinstates it; Logout reasons 0, 1 and 2 act on the session, this or another connection; at
// ErrorRecoveryLevel 2 the tasks of a failed connection wait for TASK REASSIGN (section 7.2).
//
// Time is passed in; no I/O, no threads. Not thread-safe: the I/O layer posts LU completions
// back to the connection's thread.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/framer.hpp"
#include "core/target_login.hpp"
#include "core/target_types.hpp"
#include "core/tx_queue.hpp"

namespace uiscsi::core {

// A Text exchange in progress on a target connection: the initiator's request being collected,
// or our long answer being sent part by part (RFC 7143 section 11.10.2).
struct TargetPendingText {
  TargetPendingText() = default;
  Itt itt;
  std::vector<std::vector<std::byte>> parts;  // our answer, one part per PDU
  Ttt ttt;
  TextAccumulator request{64 * 1024};
  // What the exchange negotiated so far: in force only when it ends with F=1 (section 6.2);
  // a key negotiated twice in one exchange is a protocol error.
  std::optional<NegotiatedParams> params;
  std::vector<std::string> keys;
};

struct RetainedTask;
struct ResendJob;

struct TargetStats {
  std::uint64_t pdus_in = 0, pdus_out = 0, bytes_in = 0, bytes_out = 0;
  std::uint64_t commands = 0, data_in_bytes = 0, data_out_bytes = 0;
  std::uint64_t rejects_sent = 0, digest_errors = 0, aborted_tasks = 0;
  // Error recovery level >= 1.
  std::uint64_t snacks = 0, pdus_resent = 0, recovery_r2ts = 0, command_retries = 0;
  std::uint64_t pdus_lost = 0;  // dropped on purpose (FaultPlan::lose_pdu, lose_every)
};

class TargetConnection {
 public:
  TargetConnection(const TargetConfig& config, TargetDirectory& directory, RandomSource& random,
                   TimePoint now);
  ~TargetConnection();
  TargetConnection(const TargetConnection&) = delete;
  TargetConnection& operator=(const TargetConnection&) = delete;

  void feed(std::span<const std::byte> bytes, TimePoint now);
  std::span<std::byte> receive_buffer();
  void commit_received(std::size_t n, TimePoint now);
  void connection_lost(std::error_code reason, TimePoint now);
  std::size_t gather(std::span<std::span<const std::byte>> out);
  void consume(std::size_t n);
  [[nodiscard]] bool wants_write() const;

  // The LU layer finished ExecuteCommand `task`.
  void complete(std::uint32_t task, CommandOutcome outcome, TimePoint now);
  // The LU layer carried out TaskManagement `request`.
  void tmf_done(std::uint32_t request, TimePoint now);

  void on_timer(TimePoint now);
  [[nodiscard]] std::optional<TimePoint> next_deadline() const;
  std::optional<TargetEvent> poll_event();

  // True once the connection should be closed and everything queued has been written.
  [[nodiscard]] bool finished() const;
  [[nodiscard]] bool logged_in() const;
  [[nodiscard]] const TargetLoginOutcome* session() const;
  // Why the login was refused, for the log (never a secret); empty if it was not.
  [[nodiscard]] std::string login_failure() const;
  [[nodiscard]] const TargetStats& stats() const { return stats_; }
  // Tasks the engine holds (receiving data, executing or sending their answer), including those
  // it left to its session at ERL 2 while the LU still runs them.
  [[nodiscard]] std::size_t tasks() const;
  // ERL >= 1: bytes kept for retransmission, and the numbered responses they include.
  [[nodiscard]] std::uint64_t retained_bytes() const;
  [[nodiscard]] std::size_t retained_statuses() const;
  // The session this connection belongs to (null before login).
  [[nodiscard]] const std::shared_ptr<TargetSession>& shared_session() const { return ses_; }
  // True while it holds a task the LU is running (the LU uses that task's buffers).
  [[nodiscard]] bool busy() const;

  struct Task;

 private:
  class Expander;
  class Placement;
  struct Retention;
  friend class Expander;
  friend class Placement;
  friend class TargetSession;

  // Sessions (target_session.cpp).
  void join_session(TimePoint now);
  // Consumes CmdSN `cmd_sn` of a non-command PDU (or of a command) and admits the commands
  // waiting behind it, on whatever connection they came.
  void advance_cmd_sn(SerialNumber cmd_sn, TimePoint now);
  void admit_waiting(TimePoint now);
  // ERL 2: moves this connection's tasks and unacknowledged answers to the session's orphans,
  // kept for `keep` (by default DefaultTime2Wait + DefaultTime2Retain).
  void orphan_tasks(TimePoint now, std::optional<std::chrono::seconds> keep = std::nullopt);
  // Ends every task this connection holds (ERL < 2, or a logout that closes it).
  void abort_all();
  // Another member ends this connection (logout of its CID, reinstatement, session logout).
  void close_by_session(std::error_code reason, bool keep_tasks, TimePoint now);
  void handle_reassign(const TaskMgmtRequest& h, TimePoint now,
                       const std::function<void(TmfResponse)>& answer);
  void resume_answer(std::unique_ptr<RetainedTask> answer, std::uint32_t exp_data_sn);
  TargetConnection* member_with_task(Itt itt);

  void install_data_path();
  void process_input(TimePoint now);
  void handle_pdu(const InboundPdu& pdu, TimePoint now);
  void handle_login(const InboundPdu& pdu, TimePoint now);
  void finish_login_step(TimePoint now);
  void handle_command(const ScsiCommand& h, const InboundPdu& pdu, TimePoint now);
  Task* admit_command(std::unique_ptr<Task> t, TimePoint now);
  void handle_data_out(const DataOut& h, const InboundPdu& pdu, TimePoint now);
  void receive_data_out(const DataOut& h, const Bhs& bhs, std::span<const std::byte> data,
                        bool placed, bool damaged);
  void handle_nop_out(const NopOut& h, const InboundPdu& pdu, TimePoint now);
  void handle_tmf(const TaskMgmtRequest& h, TimePoint now);
  void handle_text(const TextRequest& h, const InboundPdu& pdu);
  void end_text_exchange();
  void handle_logout(const LogoutRequest& h);
  void handle_snack(const SnackRequest& h, const Bhs& bhs);
  bool check_cmd_sn(const Bhs& bhs, SerialNumber cmd_sn, bool immediate);
  void note_exp_stat_sn(SerialNumber exp_stat_sn);

  void start_task(Task& t);
  void issue_r2ts(Task& t);
  void maybe_execute(Task& t);
  void end_task_with_sense(Task& t, std::uint8_t sense_key, std::uint8_t asc, std::uint8_t ascq);
  void end_task(Task& t, CommandOutcome outcome);
  void discard_data_of(Itt itt);
  void send_response(Task& t);
  void send_reject(const Bhs& rejected, RejectReason reason, std::uint32_t data_sn = 0);
  void send_async(AsyncEvent event, std::uint16_t p1, std::uint16_t p2, std::uint16_t p3);
  void push(OutPdu pdu, bool urgent = false);
  OutPdu make_pdu(Header h, std::span<const std::byte> data);
  OutPdu make_owned(Header h, std::vector<std::byte> data);
  void fill_sns(Header& h, bool advances_stat_sn);
  void abort_task(Task& t);
  void close(std::error_code reason);
  // Sends what is queued, then closes; gives up after nop_in_timeout if the peer does not read.
  void begin_closing();
  Task* find_task(Itt itt);
  void free_task(Itt itt);
  [[nodiscard]] SerialNumber max_cmd_sn() const;
  [[nodiscard]] DigestConfig digests() const { return digests_; }
  // Counts a PDU about to be queued and applies the send faults; false when it is to be lost.
  bool outgoing(OutPdu& pdu);

  // Error recovery level >= 1 (target_recovery.cpp).
  [[nodiscard]] bool erl1() const { return session_ && params_.error_recovery_level >= 1; }
  void snack_data_r2t(const SnackRequest& h, const Bhs& bhs);
  void snack_r2t(Task& t, const SnackRequest& h, const Bhs& bhs);
  void snack_status(const SnackRequest& h, const Bhs& bhs);
  void snack_data_ack(const SnackRequest& h, const Bhs& bhs);
  void snack_rdata(const SnackRequest& h, const Bhs& bhs);
  void recover_data_digest(const Bhs& bhs);
  bool add_hole(Task& t, std::uint32_t offset, std::uint32_t length, Ttt origin);
  bool handle_retry(const ScsiCommand& h);
  void retain_answer(const Task& t, SerialNumber stat_sn, const std::vector<std::byte>& sense);
  void retain_response(const OutPdu& pdu, SerialNumber stat_sn);
  void note_data_in(Itt itt, const DataIn& d, std::uint32_t length);
  void release_acknowledged();
  void drop_oldest_status(bool evicted);
  void forget_retained(std::uint32_t itt, bool evicted);
  void charge(std::uint64_t bytes);
  [[nodiscard]] RetainedTask* find_retained(Itt itt);
  bool start_resend(const ResendJob& job, const Bhs& rejected);
  bool expand_resend(std::uint32_t job, OutPdu& out);
  OutPdu data_in_replica(const RetainedTask& r, std::uint32_t data_sn);
  OutPdu status_response(const RetainedTask& r);

  const TargetConfig& config_;
  TargetDirectory& directory_;
  RandomSource& random_;
  Framer framer_;
  TxQueue tx_;
  std::unique_ptr<Expander> expander_;
  std::unique_ptr<Placement> placement_;
  std::optional<TargetLogin> login_;
  std::optional<TargetLoginOutcome> session_;
  TimePoint login_deadline_{};
  TimePoint last_received_{};
  std::optional<Ttt> ping_ttt_;
  TimePoint ping_deadline_{};

  NegotiatedParams params_;
  DigestConfig digests_;
  std::uint32_t send_limit_ = kLoginMaxDataSegmentLength;  // the initiator's MRDSL
  std::shared_ptr<TargetSession> ses_;                     // shared by the session's connections
  SerialNumber stat_sn_{1};
  SerialNumber exp_stat_sn_{0};  // what the initiator has acknowledged

  std::uint64_t write_bytes_held_ = 0;  // sum of the tasks' write buffers (outlives the tasks)
  std::unordered_map<std::uint32_t, std::unique_ptr<Task>> tasks_;  // by ITT
  std::unordered_map<std::uint32_t, std::uint32_t> handles_;        // engine handle -> ITT
  // ITTs of tasks we ended while their Data-Out could still be on the way (a refusal or a data
  // error): that data is dropped quietly instead of being rejected. Bounded, oldest out first.
  std::deque<std::uint32_t> draining_;
  std::uint32_t next_handle_ = 1;
  std::uint32_t next_ttt_ = 1;

  struct PendingTmf {
    Itt itt;
    TmfFunction function;
  };
  std::unordered_map<std::uint32_t, PendingTmf> pending_tmfs_;
  std::optional<TargetPendingText> text_;
  std::unique_ptr<Retention> retention_;  // ERL >= 1
  bool numbered_pending_ = false;         // fill_sns() took a StatSN for the next push()
  SerialNumber numbered_sn_;

  std::uint32_t member_id_ = 0;   // unique among the session's connections (TargetSession::join)
  bool tasks_released_ = false;   // a logout or the session ended them: nothing to orphan
  bool closing_ = false;          // close once tx_ is empty
  TimePoint closing_deadline_{};  // ... or at this time, if the peer stops reading
  bool closed_ = false;
  std::error_code close_reason_;
  std::deque<TargetEvent> events_;
  TargetStats stats_;
  std::uint64_t pdus_received_ = 0;
  std::uint64_t pdus_sent_ = 0;
  std::uint64_t bytes_received_ = 0;
  std::uint64_t commands_seen_ = 0;
  TimePoint now_{};
};

}  // namespace uiscsi::core
