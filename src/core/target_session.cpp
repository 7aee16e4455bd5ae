// TargetSession, and the parts of TargetConnection that act on the session: joining it at login
// (with connection reinstatement), the session-wide CmdSN order, and ErrorRecoveryLevel 2 (task
// orphaning on connection failure, TASK REASSIGN, Time2Retain expiry). RFC 7143 sections 4.2.2.1,
// 6.3.4, 7.1.x, 7.2, 7.3, 11.5.1, 11.6.1.
#include "core/target_session.hpp"

#include <algorithm>

#include "core/target_connection_internal.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {

TargetSession::TargetSession() = default;
TargetSession::~TargetSession() = default;

std::size_t TargetSession::live_connections(std::optional<std::uint16_t> except_cid) const {
  std::size_t n = 0;
  for (const TargetConnection* m : members_)
    if (!m->closed_ && !m->closing_ && m->session_ &&
        (!except_cid || m->session_->cid != *except_cid))
      ++n;
  return n;
}

std::optional<TimePoint> TargetSession::next_deadline() const {
  std::optional<TimePoint> d;
  for (const auto& [itt, o] : orphans_)
    if (!o.expired && (!d || o.deadline < *d)) d = o.deadline;
  return d;
}

// Section 7.3: once Time2Wait + Time2Retain has passed without a reassignment, the task is
// aborted and everything it held is freed (a task the LU still runs goes when it completes).
void TargetSession::on_timer(TimePoint now) {
  for (auto it = orphans_.begin(); it != orphans_.end();) {
    Orphan& o = it->second;
    if (o.expired || now < o.deadline) {
      ++it;
      continue;
    }
    if (o.task && o.task->state == Task::State::executing && !o.task->answered) {
      o.expired = true;
      o.task->aborted = true;
      ++it;
      continue;
    }
    it = orphans_.erase(it);
  }
  if (orphans_.empty()) failed_cids_.clear();
}

void TargetSession::terminate() {
  for (auto it = orphans_.begin(); it != orphans_.end();) {
    if (it->second.task && it->second.task->state == Task::State::executing &&
        !it->second.task->answered) {
      it->second.expired = true;
      it->second.task->aborted = true;
      ++it;
    } else {
      it = orphans_.erase(it);
    }
  }
  failed_cids_.clear();
}

void TargetSession::join(TargetConnection* c) {
  if (std::find(members_.begin(), members_.end(), c) != members_.end()) return;
  members_.push_back(c);
  c->member_id_ = ++next_member_;
}

void TargetSession::leave(TargetConnection* c) {
  members_.erase(std::remove(members_.begin(), members_.end(), c), members_.end());
  for (auto& [sn, e] : early_)
    if (e.conn == c) {
      e.conn = nullptr;
      e.task.reset();  // its CmdSN still counts when the window gets there
    }
}

void TargetSession::drop_orphan(std::uint32_t itt) {
  orphans_.erase(itt);
  if (orphans_.empty()) failed_cids_.clear();
}

// An LU completion for a task that is no longer on the connection that ran it.
void TargetSession::route_complete(TargetConnection* from, std::uint32_t handle,
                                   CommandOutcome outcome, TimePoint now) {
  for (TargetConnection* m : members_)
    if (m != from && m->handles_.count(handle)) {
      m->complete(handle, std::move(outcome), now);
      return;
    }
  for (auto& [itt, o] : orphans_) {
    if (!o.task || o.task->handle != handle || o.task->state != Task::State::executing) continue;
    if (o.expired) {
      drop_orphan(itt);
      return;
    }
    o.task->outcome = std::move(outcome);  // sent when the task is reassigned
    o.task->answered = true;
    return;
  }
}

// ---------------------------------------------------------------------------------------------
// TargetConnection: the session side.

bool TargetConnection::busy() const {
  return std::any_of(tasks_.begin(), tasks_.end(),
                     [](const auto& t) { return t.second->state == Task::State::executing; });
}

TargetConnection* TargetConnection::member_with_task(Itt itt) {
  for (TargetConnection* m : ses_->members_)
    if (!m->closed_ && m->tasks_.count(itt.value)) return m;
  return nullptr;
}

// Login succeeded: the connection joins its session. The leading connection sets the session
// parameters and the command window; a later one takes them and keeps only its connection-only
// keys (digests, MaxRecvDataSegmentLength; section 13). A member with the same CID is reinstated
// (section 6.3.4): it ends, and its tasks wait for reassignment at ERL 2 or are aborted.
void TargetConnection::join_session(TimePoint now) {
  std::shared_ptr<TargetSession> s = directory_.session_state(session_->tsih);
  if (!s) s = ses_;  // a session of our own
  if (!s->started_) {
    s->started_ = true;
    s->params_ = params_;
    s->exp_cmd_sn_ = session_->exp_cmd_sn;
  } else {
    NegotiatedParams p = s->params_;
    p.header_digest = params_.header_digest;
    p.data_digest = params_.data_digest;
    p.initiator_max_recv_data_segment_length = params_.initiator_max_recv_data_segment_length;
    p.target_max_recv_data_segment_length = params_.target_max_recv_data_segment_length;
    p.initiator_alias = params_.initiator_alias;
    params_ = p;
  }
  for (TargetConnection* m : std::vector<TargetConnection*>(s->members_))
    if (m != this && m->session_ && m->session_->cid == session_->cid && !m->closed_)
      m->close_by_session(make_error_code(errc::session_closed),
                          s->params_.error_recovery_level >= 2, now);
  if (s != ses_) {
    ses_->leave(this);
    ses_ = std::move(s);
  }
  ses_->join(this);
  auto& cids = ses_->failed_cids_;  // the CID is live again
  cids.erase(std::remove(cids.begin(), cids.end(), session_->cid), cids.end());
}

void TargetConnection::advance_cmd_sn(SerialNumber cmd_sn, TimePoint now) {
  if (cmd_sn == ses_->exp_cmd_sn_) {
    ++ses_->exp_cmd_sn_;
    admit_waiting(now);
  } else if (check_cmd_sn({}, cmd_sn, false)) {
    ses_->early_.emplace(cmd_sn.value(), TargetSession::Early{});  // counts when reached
  }
}

// Commands that waited behind the CmdSN just taken go now, in order, on their own connections.
void TargetConnection::admit_waiting(TimePoint now) {
  auto& early = ses_->early_;
  for (auto it = early.find(ses_->exp_cmd_sn_.value()); it != early.end();
       it = early.find(ses_->exp_cmd_sn_.value())) {
    TargetSession::Early next = std::move(it->second);
    early.erase(it);
    ++ses_->exp_cmd_sn_;
    if (!next.task || next.task->aborted || next.conn == nullptr || next.conn->closed_) continue;
    TargetConnection* c = next.conn;
    if (Task* task = c->admit_command(std::move(next.task), now)) c->start_task(*task);
  }
}

void TargetConnection::abort_all() {
  tasks_released_ = true;
  std::vector<std::uint32_t> itts;
  for (auto& [itt, t] : tasks_)
    itts.push_back(itt);
  for (auto itt : itts)
    if (Task* t = find_task(Itt(itt))) abort_task(*t);
  for (auto& [sn, e] : ses_->early_)
    if (e.conn == this) e.task.reset();
}

void TargetConnection::close_by_session(std::error_code reason, bool keep_tasks, TimePoint now) {
  if (closed_) return;
  now_ = now;
  if (keep_tasks) {
    orphan_tasks(now);
  } else {
    abort_all();
  }
  close(reason);
}

// Section 7.2 (ERL 2): the tasks of a connection that failed or was removed for recovery wait
// for TASK REASSIGN on another connection for DefaultTime2Wait + DefaultTime2Retain (`keep`:
// after an Async event 2, its Parameter2 + Parameter3). A task still receiving its data or
// running on the LU moves as it is; a task whose answer went out (in part, or whole but
// unacknowledged) is kept as that answer.
void TargetConnection::orphan_tasks(TimePoint now, std::optional<std::chrono::seconds> keep) {
  if (tasks_released_ || !session_ || session_->discovery || params_.error_recovery_level < 2)
    return;
  tasks_released_ = true;
  const TimePoint deadline =
      now +
      keep.value_or(std::chrono::seconds(params_.default_time2wait + params_.default_time2retain));
  auto make = [&] {
    TargetSession::Orphan o;
    o.cid = session_->cid;
    o.origin = member_id_;
    o.deadline = deadline;
    return o;
  };
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    Task& t = *it->second;
    const std::uint32_t itt = it->first;
    if (t.aborted || ses_->orphans_.count(itt)) {
      ++it;
      continue;
    }
    handles_.erase(t.handle);
    if (t.state == Task::State::responding) {  // its retained answer is taken below
      it = tasks_.erase(it);
      continue;
    }
    if (t.held != nullptr) {
      write_bytes_held_ -= t.data_out.size();
      ses_->orphan_write_bytes_ += t.data_out.size();
      t.held = &ses_->orphan_write_bytes_;
    }
    TargetSession::Orphan o = make();
    o.task = std::move(it->second);
    ses_->orphans_.emplace(itt, std::move(o));
    it = tasks_.erase(it);
  }
  Retention& ret = *retention_;
  for (auto& [itt, r] : ret.tasks) {
    if (r.released || ses_->orphans_.count(itt)) continue;
    TargetSession::Orphan o = make();
    o.answer = std::make_unique<RetainedTask>(std::move(r));
    o.answer->pins = 0;
    ses_->orphans_.emplace(itt, std::move(o));
  }
  ret.tasks.clear();
  ret.statuses.clear();
  ret.ack_ttts.clear();
  ret.jobs.clear();
  ret.bytes = 0;
  // Its commands still behind a CmdSN gap leave the window with it: were they admitted later,
  // they would run on a connection that no longer has tasks to hand over. The initiator sees
  // the ExpCmdSN below them and retries each with its CmdSN on another connection (section
  // 6.2.1).
  for (auto it = ses_->early_.begin(); it != ses_->early_.end();)
    it = it->second.conn == this ? ses_->early_.erase(it) : std::next(it);
  // A reason 2 logout for this CID is answered as done (bounded: the latest 64 CIDs).
  auto& cids = ses_->failed_cids_;
  if (std::find(cids.begin(), cids.end(), session_->cid) == cids.end()) {
    if (cids.size() == 64) cids.erase(cids.begin());
    cids.push_back(session_->cid);
  }
}

// TASK REASSIGN (sections 7.2.2, 11.5.1 function 8): ReferencedTaskTag names the task, ExpDataSN
// the next Data-In the initiator expects. The response goes first, then the task resumes here.
void TargetConnection::handle_reassign(const TaskMgmtRequest& h, TimePoint now,
                                       const std::function<void(TmfResponse)>& answer) {
  (void)now;
  if (params_.error_recovery_level < 2) {
    answer(TmfResponse::task_reassignment_not_supported);
    return;
  }
  const Itt itt = h.referenced_task_tag;
  auto it = ses_->orphans_.find(itt.value);
  if (it == ses_->orphans_.end() || it->second.expired) {
    // A task on a live connection of the session cannot be moved (section 11.6.1).
    answer(member_with_task(itt) != nullptr ? TmfResponse::task_still_allegiant
                                            : TmfResponse::task_does_not_exist);
    return;
  }
  if (find_task(itt) != nullptr) {  // the tag is in use here again
    answer(TmfResponse::function_rejected);
    return;
  }
  TargetSession::Orphan o = std::move(it->second);
  ses_->orphans_.erase(it);
  if (ses_->orphans_.empty()) ses_->failed_cids_.clear();
  answer(TmfResponse::function_complete);
  if (o.answer) {
    resume_answer(std::move(o.answer), h.exp_data_sn.value());
    return;
  }
  Task& t = *o.task;
  if (t.held != nullptr) {
    ses_->orphan_write_bytes_ -= t.data_out.size();
    write_bytes_held_ += t.data_out.size();
    t.held = &write_bytes_held_;
  }
  handles_[t.handle] = itt.value;
  tasks_[itt.value] = std::move(o.task);
  if (t.state == Task::State::receiving) {
    // Everything not yet received is asked for again with new R2Ts (R2TSN continues): the rest
    // of the unsolicited burst and of each outstanding R2T.
    if (t.unsolicited_received < t.unsolicited_expected) {
      if (!add_hole(t, t.unsolicited_received, t.unsolicited_expected - t.unsolicited_received,
                    Ttt::reserved()))
        return;
      t.unsolicited_received = t.unsolicited_expected;
    }
    const auto open = std::move(t.r2ts);
    t.r2ts.clear();
    for (const auto& r : open)
      if (!add_hole(t, r.offset + r.received, r.length - r.received, r.ttt)) return;
    issue_r2ts(t);
    maybe_execute(t);
  } else if (t.state == Task::State::executing && t.answered) {
    send_response(t);
  }
  // Still executing: its status comes when the LU completes it (route_complete).
}

// A reassigned task whose answer had gone out in part or whole: the Data-In from ExpDataSN on,
// cut anew at this connection's MaxRecvDataSegmentLength and MaxBurstLength (as for an R-Data
// SNACK, section 11.16.3), then its status in a SCSI Response with a new StatSN of this
// connection. Data below ExpDataSN counts as acknowledged.
void TargetConnection::resume_answer(std::unique_ptr<RetainedTask> answer,
                                     std::uint32_t exp_data_sn) {
  Retention& ret = *retention_;
  forget_retained(answer->itt.value, false);  // an older answer with that tag
  RetainedTask r = std::move(*answer);
  r.pins = 0;
  r.released = false;
  r.ack_ttts.clear();
  r.snack_tag = 0;
  r.status_in_data_in = false;
  r.stat_sn = stat_sn_;
  ++stat_sn_;
  const auto sent = static_cast<std::uint32_t>(r.data_ins.size());
  if (r.data != nullptr && r.data_length > 0) {
    const std::uint32_t acked = std::min(std::max(exp_data_sn, r.acked), sent);
    std::uint32_t offset = 0;
    if (acked < sent) {
      offset = r.data_ins[acked].offset;
    } else if (acked > 0) {
      offset = r.data_ins[acked - 1].offset + r.data_ins[acked - 1].length;
    }
    r.data_ins.resize(acked);
    r.acked = acked;
    std::uint32_t burst = 0;
    while (offset < r.data_length) {
      const std::uint32_t length =
          std::min({send_limit_, r.data_length - offset, params_.max_burst_length - burst});
      burst += length;
      SentDataIn s;
      s.offset = offset;
      s.length = length;
      s.flags = SentDataIn::kSent;
      if (offset + length == r.data_length || burst == params_.max_burst_length) {
        s.flags |= SentDataIn::kFinal;
        burst = 0;
      }
      r.data_ins.push_back(s);
      offset += length;
    }
  } else {
    r.acked = sent;
  }
  r.bytes = sizeof(RetainedTask) + 64 + r.sense_segment.size() + (r.data ? r.data->size() : 0) +
            r.data_ins.size() * sizeof(SentDataIn);
  const std::uint64_t bytes = r.bytes + sizeof(RetainedStatus) + 16;
  const Itt itt = r.itt;
  ResendJob job;
  job.kind = ResendJob::Kind::data_in;
  job.itt = itt;
  job.stat_sn = r.stat_sn;
  job.next = r.acked;
  job.end = static_cast<std::uint32_t>(r.data_ins.size());
  job.then_response = true;
  RetainedStatus st;
  st.stat_sn = r.stat_sn;
  st.task = true;
  st.itt = itt;
  st.bytes = sizeof(RetainedStatus) + 16;
  r.pins = 1;
  ret.tasks.emplace(itt.value, std::move(r));
  ret.statuses.push_back(std::move(st));
  ret.bytes += bytes;
  // Not bounded by the SNACK job limit: a reassigned task must resume.
  std::uint32_t id = ret.next_job++;
  if (id == 0) id = ret.next_job++;
  ret.jobs[id] = job;
  tx_.push_sequence({0, id});
  charge(0);
}

}  // namespace uiscsi::core
