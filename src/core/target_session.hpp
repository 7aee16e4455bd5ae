// TargetSession: what the connections of one iSCSI session share on the target side (RFC 7143
// sections 4.2, 6.x, 7.2, 7.3). One TargetConnection engine runs per TCP connection; the
// connections of a session point at one TargetSession:
//   - the command window: ExpCmdSN and MaxCmdSN are session-wide, and non-immediate commands
//     that arrive on any connection are handed to the SCSI layer in CmdSN order (section 4.2.2.1);
//   - the members: each connection with its CID (a login reusing a live CID reinstates it,
//     section 6.3.4), and the session-wide parameters the leading login negotiated;
//   - task handles, unique in the session, so that an LU completion finds its task after the
//     task moved to another connection;
//   - ErrorRecoveryLevel 2 (section 7.2): the tasks of a failed or removed connection, kept for
//     DefaultTime2Wait + DefaultTime2Retain for a TASK REASSIGN on another connection (or the
//     reinstated one); on expiry they are aborted and freed.
// Connection allegiance: a task lives on exactly one connection (its Data-Out, Data-In, R2Ts and
// status go there), or among the orphans here.
//
// Sans-I/O and not thread-safe: every connection of a session runs on one thread. Time is passed
// in. A connection without a shared session (a TargetDirectory that returns none) gets a private
// one, which behaves exactly as one connection per session.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/target_connection.hpp"

namespace uiscsi::core {

class TargetSession {
 public:
  TargetSession();
  ~TargetSession();
  TargetSession(const TargetSession&) = delete;
  TargetSession& operator=(const TargetSession&) = delete;

  // True once the leading connection has logged in (the session parameters are set).
  [[nodiscard]] bool started() const { return started_; }
  // Session-wide parameters of the leading login (for a non-leading connection's negotiation).
  [[nodiscard]] const NegotiatedParams& params() const { return params_; }
  // The session's ExpCmdSN.
  [[nodiscard]] SerialNumber exp_cmd_sn() const { return exp_cmd_sn_; }
  // Logged-in connections that are still open (a reused CID does not count when `except_cid`).
  [[nodiscard]] std::size_t live_connections(std::optional<std::uint16_t> except_cid = {}) const;
  // Tasks kept for reassignment (ERL 2), including ones expired while the LU still runs them.
  [[nodiscard]] std::size_t orphans() const { return orphans_.size(); }
  // The earliest orphan expiry.
  [[nodiscard]] std::optional<TimePoint> next_deadline() const;
  // Aborts and frees the orphans whose Time2Wait + Time2Retain has passed.
  void on_timer(TimePoint now);
  // The session ends (reinstated, or logged out): every orphan goes.
  void terminate();

 private:
  friend class TargetConnection;
  using Task = TargetConnection::Task;

  // A command behind a CmdSN gap, for connection `conn`; a null task only holds the CmdSN of a
  // non-command PDU (or of a command dropped with its connection) so that the window moves on.
  struct Early {
    TargetConnection* conn = nullptr;
    std::unique_ptr<Task> task;
  };
  // A task whose connection failed (ERL 2).
  struct Orphan {
    std::unique_ptr<Task> task;            // still receiving its data, or running on the LU
    std::unique_ptr<RetainedTask> answer;  // or: its answer, sent at least in part
    std::uint16_t cid = 0;                 // the connection it came from
    std::uint32_t origin = 0;              // ... as TargetConnection::member_id_
    TimePoint deadline{};
    bool expired = false;  // kept only until the LU completes it
  };

  void join(TargetConnection* c);
  void leave(TargetConnection* c);
  // Frees an orphan (and its write buffer count).
  void drop_orphan(std::uint32_t itt);
  // An LU completion for a task no longer on `from`: to the member holding it now, or to its
  // orphan (kept for the reassignment, or freed if it expired).
  void route_complete(TargetConnection* from, std::uint32_t handle, CommandOutcome outcome,
                      TimePoint now);

  bool started_ = false;
  NegotiatedParams params_;
  SerialNumber exp_cmd_sn_{0};
  // The orphans' write buffers (declared before the tasks that count into it).
  std::uint64_t orphan_write_bytes_ = 0;
  std::map<std::uint32_t, Early> early_;  // by CmdSN
  // CmdSNs of commands a TMF aborted before they arrived (section 11.5.1), on any connection.
  std::unordered_set<std::uint32_t> aborted_before_arrival_;
  std::vector<TargetConnection*> members_;
  std::unordered_map<std::uint32_t, Orphan> orphans_;  // by ITT
  std::vector<std::uint16_t> failed_cids_;             // connections that left orphans
  std::uint32_t next_handle_ = 1;
  std::uint32_t next_member_ = 0;
};

}  // namespace uiscsi::core
