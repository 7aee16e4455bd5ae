// InitiatorSession: error recovery level 2, connection recovery (RFC 7143 sections 6.2, 7.2).
// Active only when ErrorRecoveryLevel=2 was negotiated and recovery is on.
//
// - A connection that fails in full feature phase leaves its SCSI tasks as orphans (their
//   data state kept); its other tasks (TMF, text, ping) fail.
// - With another connection live (MC/S), a Logout Request with reason 2 "remove the connection
//   for recovery" for the failed CID goes on it (section 11.14.1); with none, the I/O layer is
//   asked (RecoveryNeeded, after DefaultTime2Wait) for a new connection, which logs in with the
//   same ISID, TSIH and CID and so logs the failed one out implicitly (section 6.3.4).
// - Then each orphan moves to the new connection, in CmdSN order: one the target never got
//   (CmdSN >= the target's ExpCmdSN) is retried with its ITT, CmdSN and CDB (section 6.2.1);
//   every other one gets a TASK REASSIGN (function 8, section 11.5.1) with RefCmdSN = its CmdSN
//   and ExpDataSN = the first DataSN not yet received in order. The target resends the Data-In
//   from there (what was placed is not placed again) and sends new R2Ts for the write data it
//   lacks, served from the caller's buffer at the R2T's offsets.
// - A refused reassignment (response 1: the target does not have the task, e.g. Time2Retain
//   passed) retries a command the caller's RetryPolicy allows as a new command and fails the
//   others with "may have executed"; any other refusal (3, 4, 255), a refused recovery logout or
//   a login the target refuses for the session falls back to session reinstatement (ERL 0).
#include <algorithm>

#include "core/initiator_session_internal.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {

namespace {

bool may_retry(const ScsiRequest& r) {
  return r.retry == RetryPolicy::always ||
         (r.retry == RetryPolicy::automatic && retry_is_safe(r.cdb.view()));
}

}  // namespace

std::size_t InitiatorSession::orphans() const {
  return static_cast<std::size_t>(std::count_if(
      slots_.begin(), slots_.end(), [](const auto& t) { return t->in_use && t->orphaned; }));
}

// Called by fail_connection() after the connection closed. Returns true when ERL 2 took over.
bool InitiatorSession::orphan_connection_tasks(Connection& c, std::error_code ec,
                                               bool was_full_feature,
                                               std::optional<TargetWait> wait) {
  if (!was_full_feature || !erl2() || c.closing || force_reinstatement_ || !recovery_possible())
    return false;
  bool any = false;
  // By index: failing a task never allocates, but keep to the pattern of on_timer().
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Task* t = slots_[i].get();
    if (!t->in_use || t->phase == Task::Phase::waiting || t->cid != c.cid) continue;
    if (t->phase == Task::Phase::zombie) {
      free_task(t);
      continue;
    }
    if (t->kind != Task::Kind::scsi) {
      fail_task(*t, errc::connection_closed, false);
      continue;
    }
    t->orphaned = true;
    t->bursts.clear();
    t->held_status.reset();
    unpin_stat_sn(*t);
    any = true;
  }
  // Section 7.3: the target keeps them for Time2Wait + Time2Retain, the async event's if it
  // dropped the connection.
  if (any || orphans() == 0)
    orphans_expire_at_ =
        now_ + std::chrono::seconds(wait ? wait->time2wait + wait->time2retain
                                         : params_.default_time2wait + params_.default_time2retain);
  if (Connection* other = pick_connection()) {
    // MC/S: the session carries on; the failed connection's tasks move to a live one, after
    // the Time2Wait of a target that dropped it.
    if (any && wait && wait->time2wait > 0) {
      delayed_recovery_logouts_.emplace_back(c.cid, now_ + std::chrono::seconds(wait->time2wait));
    } else if (any) {
      send_recovery_logout(*other, c.cid);
    }
    return true;
  }
  connection_recovery_ = true;
  recovering_cid_ = c.cid;
  recovery_attempt_ = 0;
  recovery_attempt_failed(ec);  // RecoveryNeeded after DefaultTime2Wait
  return true;
}

// A connection logged in. If it was a connection recovery, the orphans of its CID resume on
// it, and those of other failed CIDs after a reason 2 logout of each.
void InitiatorSession::after_connection_recovery(Connection& c, SerialNumber target_exp_cmd_sn) {
  if (orphans() == 0) return;
  resume_orphans(c, c.cid, target_exp_cmd_sn);
  std::vector<ConnectionId> others;
  for (const auto& t : slots_)
    if (t->in_use && t->orphaned && std::find(others.begin(), others.end(), t->cid) == others.end())
      others.push_back(t->cid);
  for (ConnectionId cid : others) {
    const Connection* old = find_connection(cid);
    if (old == nullptr || old->state == Connection::State::closed) send_recovery_logout(c, cid);
  }
  delayed_recovery_logouts_.clear();  // all sent just now
}

// The delayed reason 2 logouts whose Time2Wait passed go out on a live connection, for CIDs
// that still have orphans (a reinstatement or a connection recovery may have taken them).
void InitiatorSession::send_due_recovery_logouts() {
  for (auto it = delayed_recovery_logouts_.begin(); it != delayed_recovery_logouts_.end();) {
    if (now_ < it->second) {
      ++it;
      continue;
    }
    const ConnectionId cid = it->first;
    it = delayed_recovery_logouts_.erase(it);
    const bool has_orphans = std::any_of(slots_.begin(), slots_.end(), [&](const auto& t) {
      return t->in_use && t->orphaned && t->cid == cid;
    });
    if (Connection* live = pick_connection(); live != nullptr && has_orphans)
      send_recovery_logout(*live, cid);
  }
}

void InitiatorSession::resume_orphans(Connection& c, ConnectionId from,
                                      SerialNumber target_exp_cmd_sn) {
  std::vector<Task*> list;
  for (auto& slot : slots_)
    if (slot->in_use && slot->orphaned && slot->cid == from) list.push_back(slot.get());
  std::sort(list.begin(), list.end(),
            [](const Task* a, const Task* b) { return serial_lt(a->cmd_sn, b->cmd_sn); });
  if (list.empty()) return;
  ++erl1_counters_.connection_recoveries;
  const bool expired = now_ >= orphans_expire_at_;
  std::vector<Task*> reassign;
  for (Task* t : list) {
    t->orphaned = false;
    t->cid = c.cid;
    if (serial_ge(t->cmd_sn, target_exp_cmd_sn)) {
      retry_orphan(*t, c);  // the target never got the command
    } else if (expired) {
      orphan_refused(*t, TmfResponse::task_does_not_exist);
    } else {
      reassign.push_back(t);
    }
  }
  // Each TMF goes ahead of the queued PDUs, and they leave in CmdSN order.
  for (Task* t : reassign)
    send_task_reassign(*t, c);
}

// Section 6.2.1: the command again with its ITT, CmdSN and CDB; it starts afresh.
void InitiatorSession::retry_orphan(Task& t, Connection& c) {
  t.bursts.clear();
  t.data_sns.reset(0);
  t.r2t_sns.reset(0);
  t.next_in_offset = t.data_in_bytes = 0;
  t.data_in_lengths.clear();
  t.had_data_gap = false;
  t.r2t_resync = false;
  t.write_requested = 0;
  t.next_sequence = 1;
  t.phase = Task::Phase::sent;
  ++erl1_counters_.command_retries;
  send_scsi_command(t, c);
}

// Section 11.5.1, function 8. Data-In from ExpDataSN on comes again; the bytes below it stay.
void InitiatorSession::send_task_reassign(Task& t, Connection& c) {
  const std::uint32_t exp_data_sn = t.bidirectional() ? 0 : t.data_sns.next();
  std::uint64_t kept = 0;
  if (t.data_in_lengths.size() > exp_data_sn) t.data_in_lengths.resize(exp_data_sn);
  for (std::uint32_t n : t.data_in_lengths)
    kept += n;
  if (t.bidirectional()) {
    kept = 0;
    t.data_in_lengths.clear();
    t.data_sns.reset(0);
  } else {
    t.data_sns.reset(exp_data_sn);
  }
  t.data_in_bytes = t.next_in_offset = static_cast<std::uint32_t>(kept);
  t.had_data_gap = false;
  t.bursts.clear();
  t.r2t_resync = true;

  Task* tmf = allocate_task(now_);
  if (tmf == nullptr) {
    orphan_refused(t, TmfResponse::function_rejected);
    return;
  }
  tmf->kind = Task::Kind::tmf;
  tmf->function = TmfFunction::task_reassign;
  tmf->referenced = t.id;
  tmf->report = false;
  tmf->request.lun = t.request.lun;
  tmf->immediate = true;
  tmf->phase = Task::Phase::sent;
  tmf->cid = c.cid;
  tmf->cmd_sn = cmd_sn_;
  TaskMgmtRequest h;
  h.immediate = true;
  h.function = TmfFunction::task_reassign;
  h.lun = t.request.lun;
  h.itt = tmf->itt;
  h.referenced_task_tag = t.itt;
  h.cmd_sn = cmd_sn_;
  h.exp_stat_sn = c.exp_stat_sn;
  h.ref_cmd_sn = t.cmd_sn;
  h.exp_data_sn = SerialNumber(exp_data_sn);
  push_pdu(c, make_out_pdu(Header{h}, {}, c.digests), true);
}

void InitiatorSession::reassign_answered(std::optional<TaskId> referenced, TmfResponse response) {
  Task* t = referenced ? find_task(*referenced) : nullptr;
  if (t == nullptr || t->kind != Task::Kind::scsi || t->phase != Task::Phase::sent) return;
  if (response == TmfResponse::function_complete) {
    ++erl1_counters_.tasks_reassigned;
    return;  // the target resumes the task on this connection
  }
  orphan_refused(*t, response);
}

void InitiatorSession::orphan_refused(Task& t, TmfResponse response) {
  t.r2t_resync = false;
  if (response == TmfResponse::task_does_not_exist) {
    // The target has no such task: a command the policy allows goes again as a new one.
    if (may_retry(t.request) && t.replays < config_.max_command_replays) {
      ++t.replays;
      requeue_for_retry({&t});
      pump_window(now_);
    } else {
      fail_task(t, errc::connection_closed, true);  // the caller sees "may have executed"
    }
    return;
  }
  fall_back_to_reinstatement(make_error_code(errc::connection_closed));
}

// Level 2 could not recover the tasks: reinstate the session as at level 0. Orphans join the
// tasks of a live connection (or are handled here when none is left), where the retry policy
// decides which go again.
void InitiatorSession::fall_back_to_reinstatement(std::error_code why) {
  connection_recovery_ = false;
  force_reinstatement_ = true;
  Connection* live = nullptr;
  for (auto& c : connections_)
    if (c->state == Connection::State::full_feature) live = c.get();
  std::vector<Task*> retry;
  for (auto& slot : slots_) {
    Task* t = slot.get();
    if (!t->in_use || !t->orphaned) continue;
    t->orphaned = false;
    if (live != nullptr) {
      t->cid = live->cid;
    } else if (may_retry(t->request) && t->replays < config_.max_command_replays &&
               recovery_possible()) {
      ++t->replays;
      retry.push_back(t);
    } else {
      fail_task(*t, errc::connection_closed, true);
    }
  }
  if (live != nullptr) {
    for (auto& c : connections_)
      if (c->state != Connection::State::closed) fail_connection(*c, why);
    return;
  }
  if (!recovery_possible()) {
    fail_waiting(errc::connection_closed);
    return;
  }
  requeue_for_retry(std::move(retry));
  recovering_ = true;
  recovery_attempt_ = 0;
  recovery_attempt_failed(why);
}

void InitiatorSession::fail_orphans(std::error_code ec) {
  for (auto& slot : slots_)
    if (slot->in_use && slot->orphaned) {
      slot->orphaned = false;
      fail_task(*slot, ec, true);
    }
}

// Section 11.14.1, reason 2, for the failed CID, on a live connection (MC/S).
void InitiatorSession::send_recovery_logout(Connection& on, ConnectionId failed) {
  Task* t = allocate_task(now_);
  if (t == nullptr) {
    fail_orphans(errc::busy);
    return;
  }
  t->kind = Task::Kind::logout;
  t->immediate = true;
  t->report = false;
  t->logout_reason = LogoutReason::remove_connection_for_recovery;
  t->logout_cid = failed;
  t->phase = Task::Phase::sent;
  t->cid = on.cid;
  t->cmd_sn = cmd_sn_;
  LogoutRequest h;
  h.immediate = true;
  h.reason = LogoutReason::remove_connection_for_recovery;
  h.itt = t->itt;
  h.cid = failed;
  h.cmd_sn = cmd_sn_;
  h.exp_stat_sn = on.exp_stat_sn;
  push_pdu(on, make_out_pdu(Header{h}, {}, on.digests), true);
}

void InitiatorSession::recovery_logout_answered(Connection& c, ConnectionId failed,
                                                const LogoutResponse& h) {
  // "CID not found": the target already let the connection go; its tasks wait all the same.
  if (h.response == LogoutResponseCode::closed_successfully ||
      h.response == LogoutResponseCode::cid_not_found) {
    resume_orphans(c, failed, h.exp_cmd_sn);
    return;
  }
  fall_back_to_reinstatement(make_error_code(errc::connection_closed));
}

}  // namespace uiscsi::core
