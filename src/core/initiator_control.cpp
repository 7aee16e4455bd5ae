// InitiatorSession: task management, text requests, logout, NOP, async messages, Reject.
#include <algorithm>

#include "core/bytes.hpp"
#include "core/initiator_session_internal.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {

// ---------------------------------------------------------------------------------------------
// Task management (RFC 7143 sections 11.5 and 11.6).

TaskId InitiatorSession::submit_tmf(TmfFunction function, Lun lun, std::optional<TaskId> referenced,
                                    TimePoint now) {
  now_ = now;
  Task* t = allocate_task(now);
  if (t == nullptr) {
    emit(TmfDone{TaskId{0xffff000000000000ull | ++overflow_serial_}, errc::busy,
                 TmfResponse::function_rejected});
    return TaskId{0xffff000000000000ull | overflow_serial_};
  }
  t->kind = Task::Kind::tmf;
  t->function = function;
  t->referenced = referenced;
  t->request.lun = lun;
  t->immediate = true;
  const TaskId id = t->id;
  Connection* c = pick_connection();
  if (c == nullptr) {
    fail_task(*t, errc::not_logged_in, false);
    return id;
  }

  TaskMgmtRequest h;
  h.immediate = true;
  h.function = function;
  h.itt = t->itt;
  h.cmd_sn = cmd_sn_;
  h.exp_stat_sn = c->exp_stat_sn;
  const bool target_wide =
      function == TmfFunction::target_warm_reset || function == TmfFunction::target_cold_reset;
  if (!target_wide) h.lun = lun;

  if (function == TmfFunction::abort_task || function == TmfFunction::task_reassign) {
    Task* ref = referenced ? find_task(*referenced) : nullptr;
    if (ref == nullptr || ref->phase == Task::Phase::zombie) {
      // Already finished: nothing for the target to do.
      emit(TmfDone{id, {}, TmfResponse::task_does_not_exist});
      free_task(t);
      return id;
    }
    if (ref->phase == Task::Phase::waiting) {
      // Never sent: drop it here, no CmdSN was spent on it.
      fail_task(*ref, errc::task_aborted, false);
      emit(TmfDone{id, {}, TmfResponse::function_complete});
      free_task(t);
      return id;
    }
    h.lun = ref->request.lun;
    h.referenced_task_tag = ref->itt;
    h.ref_cmd_sn = ref->cmd_sn;
    if (function == TmfFunction::task_reassign) h.exp_data_sn = SerialNumber(ref->data_sns.next());
  }
  t->phase = Task::Phase::sent;
  t->cid = c->cid;
  t->cmd_sn = cmd_sn_;
  push_pdu(*c, make_out_pdu(Header{h}, {}, c->digests), true);
  return id;
}

void InitiatorSession::handle_tmf_response(const TaskMgmtResponse& h) {
  Task* t = find_task(h.itt);
  if (t == nullptr || t->kind != Task::Kind::tmf) return;
  const TmfFunction function = t->function;
  const Lun lun = t->request.lun;
  const SerialNumber tmf_cmd_sn = t->cmd_sn;
  const std::optional<TaskId> referenced = t->referenced;
  const bool report = t->report;
  if (t->report) emit(TmfDone{t->id, {}, h.response});
  free_task(t);
  // Our own TASK REASSIGN after a connection recovery (initiator_erl2.cpp).
  if (function == TmfFunction::task_reassign && !report) {
    reassign_answered(referenced, h.response);
    return;
  }

  // An ABORT TASK we sent for a cancelled command: whatever the answer, its zombie is done.
  if (function == TmfFunction::abort_task && referenced) {
    Task* ref = find_task(*referenced);
    if (ref != nullptr && ref->phase == Task::Phase::zombie) {
      free_task(ref);
      return;
    }
  }
  if (h.response != TmfResponse::function_complete) return;

  // The tasks the function ended get no response of their own (RFC 7143 section 4.2.3); only
  // tasks sent before the TMF (lower CmdSN) are affected.
  auto end_task = [&](Task& x) {
    if (x.phase == Task::Phase::zombie) {
      free_task(&x);
      return;
    }
    if (Connection* c = find_connection(x.cid)) c->tx.take_ownership(x.itt.value);
    fail_task(x, errc::task_aborted, true);
  };
  if (function == TmfFunction::abort_task) {
    if (Task* ref = referenced ? find_task(*referenced) : nullptr) end_task(*ref);
    return;
  }
  const bool target_wide =
      function == TmfFunction::target_warm_reset || function == TmfFunction::target_cold_reset;
  const bool lun_wide = function == TmfFunction::abort_task_set ||
                        function == TmfFunction::clear_task_set ||
                        function == TmfFunction::logical_unit_reset;
  if (!target_wide && !lun_wide) return;
  for (auto& slot : slots_) {
    Task& x = *slot;
    if (!x.in_use || x.kind != Task::Kind::scsi || x.phase == Task::Phase::waiting) continue;
    if (!serial_lt(x.cmd_sn, tmf_cmd_sn)) continue;
    if (lun_wide && !(x.request.lun == lun)) continue;
    end_task(x);
  }
}

// ---------------------------------------------------------------------------------------------
// Text requests (RFC 7143 sections 11.10 and 11.11). Sent as immediate commands.

TaskId InitiatorSession::submit_text(KeyValueList keys, TimePoint now) {
  now_ = now;
  Task* t = allocate_task(now);
  if (t == nullptr) {
    emit(TextDone{TaskId{0xffff000000000000ull | ++overflow_serial_}, errc::busy, {}});
    return TaskId{0xffff000000000000ull | overflow_serial_};
  }
  t->kind = Task::Kind::text;
  t->immediate = true;
  const TaskId id = t->id;
  Connection* c = pick_connection();
  if (c == nullptr || session_closed_) {
    fail_task(*t, errc::not_logged_in, false);
    return id;
  }
  const std::vector<std::byte> text = serialize_text(keys);
  for (auto part : split_text(text, c->send_limit))
    t->text_parts.emplace_back(part.begin(), part.end());
  t->phase = Task::Phase::sent;
  t->cid = c->cid;
  t->cmd_sn = cmd_sn_;
  send_text_request(*t, *c, Ttt::reserved(), false);
  return id;
}

void InitiatorSession::send_text_request(Task& t, Connection& c, Ttt ttt, bool continuation,
                                         Lun lun) {
  TextRequest h;
  h.immediate = true;
  h.itt = t.itt;
  h.ttt = ttt;
  h.lun = lun;  // section 11.11.4: with the target's TTT, its LUN is copied too
  h.cmd_sn = cmd_sn_;
  h.exp_stat_sn = c.exp_stat_sn;
  std::vector<std::byte> data;
  if (!continuation && !t.text_parts.empty()) {
    data = std::move(t.text_parts.front());
    t.text_parts.erase(t.text_parts.begin());
  }
  h.cont = !t.text_parts.empty();  // C=1 requires F=0
  h.final = !h.cont;
  Bhs bhs;
  encode_header(Header{h}, bhs);
  push_pdu(c, make_owned_pdu(bhs, std::move(data), c.digests));
}

void InitiatorSession::handle_text_response(Connection& c, const TextResponse& h,
                                            const InboundPdu& pdu) {
  note_stat_sn(c, h.stat_sn, true);
  update_window(h.exp_cmd_sn, h.max_cmd_sn);
  Task* t = find_task(h.itt);
  if (t == nullptr || t->kind != Task::Kind::text) return;
  if (h.final && h.cont) {
    fail_task(*t, protocol_errc::invalid_field, false);
    return;
  }
  if (!t->text_parts.empty()) {  // the target took one part of our request; send the next
    send_text_request(*t, c, h.ttt, false, h.lun);
    return;
  }
  // Section 11.11.1: an answer with F=0 needs a TTT to continue with; 0xffffffff there is a
  // protocol error.
  if (!h.final && h.ttt.is_reserved()) {
    fail_task(*t, protocol_errc::invalid_field, false);
    return;
  }
  // The answer is whole only at F=1; F=0 with C=0 just ends this PDU at a key boundary.
  if (auto r = t->text_in.append(pdu.data, h.cont || !h.final); !r) {
    fail_task(*t, r.error(), false);
    return;
  }
  if (!h.final) {
    // More to come (F=0): ask for it with an empty request carrying the target's TTT.
    send_text_request(*t, c, h.ttt, true, h.lun);
    return;
  }
  auto keys = parse_text(t->text_in.take(), {64 * 1024, false});
  if (!keys) {
    fail_task(*t, keys.error(), false);
    return;
  }
  // MaxRecvDataSegmentLength is declarative and may be declared in full feature phase (RFC 7143
  // section 13.12, "Use: ALL"): the target's value bounds the data segments we send on this
  // connection from now on (Data-Out, immediate data, text). A value outside 512..2^24-1 is a
  // protocol error: the request fails and the old limit stays.
  for (const auto& kv : *keys) {
    if (kv.key != "MaxRecvDataSegmentLength") continue;
    const auto v = parse_numeric(kv.value);
    if (!v || *v < 512 || *v > 16777215) {
      fail_task(*t, protocol_errc::invalid_field, false);
      return;
    }
    c.send_limit = static_cast<std::uint32_t>(*v);
  }
  emit(TextDone{t->id, {}, std::move(*keys)});
  free_task(t);
}

// ---------------------------------------------------------------------------------------------
// Logout (RFC 7143 sections 11.14 and 11.15).

TaskId InitiatorSession::logout(TimePoint now, std::optional<TimePoint> deadline,
                                LogoutReason reason, ConnectionId cid) {
  now_ = now;
  Task* t = allocate_task(now);
  if (t == nullptr) {
    emit(LogoutDone{TaskId{0xffff000000000000ull | ++overflow_serial_}, errc::busy});
    return TaskId{0xffff000000000000ull | overflow_serial_};
  }
  t->kind = Task::Kind::logout;
  t->immediate = true;
  t->logout_reason = reason;
  t->logout_cid = cid;
  const TaskId id = t->id;
  // One logout at a time: a second one would take the place of the first, which then never ends.
  if (logout_requested_ || logout_task_ || session_closed_ || pick_connection() == nullptr) {
    fail_task(*t, logout_requested_ || logout_task_ ? errc::busy : errc::not_logged_in, false);
    return id;
  }
  if (reason == LogoutReason::close_session) logout_requested_ = true;
  logout_task_ = id;
  logout_deadline_ = deadline;
  maybe_send_logout(now);
  return id;
}

// The Logout Request waits until the session's SCSI tasks are done or the deadline passes;
// then it goes out as an immediate request.
void InitiatorSession::maybe_send_logout(TimePoint now) {
  if (!logout_task_) return;
  Task* t = find_task(*logout_task_);
  if (t == nullptr) {
    logout_task_.reset();
    return;
  }
  if (t->phase != Task::Phase::waiting) return;
  const bool busy = std::any_of(slots_.begin(), slots_.end(), [&](const auto& s) {
    return s->in_use && s->kind == Task::Kind::scsi && s->phase != Task::Phase::zombie &&
           (t->logout_reason == LogoutReason::close_session || s->cid == t->logout_cid);
  });
  if (busy && !(logout_deadline_ && now >= *logout_deadline_)) return;
  Connection* c = t->logout_reason == LogoutReason::close_session ? pick_connection()
                                                                  : find_connection(t->logout_cid);
  if (c == nullptr || c->state != Connection::State::full_feature) {
    fail_task(*t, errc::not_logged_in, false);
    logout_task_.reset();
    return;
  }
  LogoutRequest h;
  h.immediate = true;
  h.reason = t->logout_reason;
  h.itt = t->itt;
  h.cid = t->logout_reason == LogoutReason::close_session ? c->cid : t->logout_cid;
  h.cmd_sn = cmd_sn_;
  h.exp_stat_sn = c->exp_stat_sn;
  t->phase = Task::Phase::sent;
  t->cid = c->cid;
  t->cmd_sn = cmd_sn_;
  if (t->logout_reason == LogoutReason::close_connection) c->closing = true;  // no new work
  logout_deadline_.reset();  // it only bounded the wait for the session's commands
  push_pdu(*c, make_out_pdu(Header{h}, {}, c->digests));
}

void InitiatorSession::handle_logout_response(Connection& c, const LogoutResponse& h) {
  note_stat_sn(c, h.stat_sn, true);
  update_window(h.exp_cmd_sn, h.max_cmd_sn);
  Task* t = find_task(h.itt);
  if (t == nullptr || t->kind != Task::Kind::logout) return;
  if (!t->report) {  // our own "remove the connection for recovery" (initiator_erl2.cpp)
    const ConnectionId failed = t->logout_cid;
    free_task(t);
    recovery_logout_answered(c, failed, h);
    return;
  }
  const LogoutReason reason = t->logout_reason;
  const ConnectionId closing = reason == LogoutReason::close_session ? c.cid : t->logout_cid;
  const bool target_asked = target_logout_ == t->id;
  target_logout_.reset();
  emit(LogoutDone{t->id, {}, h.response, h.time2wait, h.time2retain});
  free_task(t);
  logout_task_.reset();
  logout_deadline_.reset();
  if (h.response != LogoutResponseCode::closed_successfully) {
    logout_requested_ = false;
    if (Connection* x = find_connection(closing)) x->closing = false;  // it carries on
    return;
  }
  if (reason == LogoutReason::close_session && target_asked && config_.recovery &&
      config_.session_type == SessionType::normal) {
    // The target asked for the logout (Async event 1, section 11.9.1), not our caller: the
    // connection closes (TCP FIN) and, with recovery on, the session is logged in again at the
    // same portal after the response's Time2Wait (section 11.15), like a reinstatement; commands
    // queued meanwhile go out in the new session. The session is gone at the target, so this
    // is a new login (TSIH 0), never an ERL 2 connection reinstatement (`closing`).
    logout_requested_ = false;
    drop_time2wait_ = h.time2wait;
    for (auto& x : connections_) {
      x->closing = true;
      fail_connection(*x, errc::session_closed);
    }
    return;
  }
  if (reason == LogoutReason::close_session) {
    session_closed_ = true;
    // Whatever is still open ends with the session.
    // Zombies were already reported to their callers when they were aborted.
    for (auto& slot : slots_) {
      Task* x = slot.get();
      if (!x->in_use) continue;
      if (x->kind != Task::Kind::nop_ping && x->phase != Task::Phase::zombie)
        fail_task(*x, errc::session_closed, x->phase == Task::Phase::sent);
      else
        free_task(x);
    }
    waiting_.clear();
    for (auto& other : connections_)
      finish_connection(*other, {});
    return;
  }
  if (Connection* target = find_connection(closing)) {
    target->closing = true;  // logged out: not a failure to recover from
    // One connection of several, logged out at the target's request: its replacement (the I/O
    // layer's, MC/S) waits for the response's Time2Wait.
    fail_connection(
        *target, errc::session_closed,
        target_asked ? std::optional(TargetWait{h.time2wait, h.time2retain}) : std::nullopt);
  }
}

// ---------------------------------------------------------------------------------------------
// NOP (RFC 7143 sections 11.18 and 11.19).

void InitiatorSession::send_nop_ping(Connection& c, TimePoint now) {
  Task* t = allocate_task(now);
  if (t == nullptr) return;
  t->kind = Task::Kind::nop_ping;
  t->phase = Task::Phase::sent;
  t->cid = c.cid;
  t->immediate = true;
  NopOut h;
  h.immediate = true;
  h.itt = t->itt;
  h.ttt = Ttt::reserved();
  h.cmd_sn = cmd_sn_;
  h.exp_stat_sn = c.exp_stat_sn;
  c.ping = t->id;
  c.ping_deadline = now + config_.keepalive_timeout;
  push_pdu(c, make_out_pdu(Header{h}, {}, c.digests), true);
}

// An unsolicited NOP-Out with ITT 0xffffffff acknowledges StatSNs without asking for a reply.
void InitiatorSession::send_exp_stat_sn_ack(Connection& c) {
  NopOut h;
  h.immediate = true;
  h.itt = Itt::reserved();
  h.ttt = Ttt::reserved();
  h.cmd_sn = cmd_sn_;
  h.exp_stat_sn = c.exp_stat_sn;
  push_pdu(c, make_out_pdu(Header{h}, {}, c.digests));
}

void InitiatorSession::handle_nop_in(Connection& c, const NopIn& h, const InboundPdu& pdu,
                                     TimePoint now) {
  // StatSN advances only for a NOP-In that answers one of our pings (section 11.19.3); the
  // target's own NOP-In carries the next StatSN, which shows a lost status at ERL >= 1.
  note_stat_sn(c, h.stat_sn, !h.itt.is_reserved());
  if (erl1() && h.itt.is_reserved()) note_stat_sn_gap(c, h.stat_sn, false);
  update_window(h.exp_cmd_sn, h.max_cmd_sn);
  if (c.state == Connection::State::closed) return;
  if (!h.ttt.is_reserved()) {
    // The target pings us: answer at once, echoing TTT, LUN and the ping data.
    NopOut r;
    r.immediate = true;
    r.lun = h.lun;
    r.itt = Itt::reserved();
    r.ttt = h.ttt;
    r.cmd_sn = cmd_sn_;
    r.exp_stat_sn = c.exp_stat_sn;
    Bhs bhs;
    encode_header(Header{r}, bhs);
    const auto echo = pdu.data.first(std::min<std::size_t>(pdu.data.size(), c.send_limit));
    push_pdu(c, make_owned_pdu(bhs, std::vector<std::byte>(echo.begin(), echo.end()), c.digests),
             true);
  }
  if (!h.itt.is_reserved()) {
    Task* t = find_task(h.itt);
    if (t != nullptr && t->kind == Task::Kind::nop_ping) {
      const bool probe = c.ping == t->id && c.probing;
      if (c.ping == t->id) c.ping.reset();
      free_task(t);
      if (probe) probe_answered(c, now);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Async messages (RFC 7143 section 11.9).

void InitiatorSession::handle_async(Connection& c, const AsyncMessage& h, const InboundPdu& pdu,
                                    TimePoint now) {
  note_stat_sn(c, h.stat_sn, true);
  update_window(h.exp_cmd_sn, h.max_cmd_sn);
  AsyncEventReceived ev;
  ev.message = h;
  if (h.async_event == AsyncEvent::scsi_async_event && pdu.data.size() >= 2) {
    const std::size_t n = std::min<std::size_t>(load_be16(pdu.data.data()), pdu.data.size() - 2);
    ev.sense.assign(pdu.data.begin() + 2, pdu.data.begin() + 2 + static_cast<std::ptrdiff_t>(n));
  }
  emit(std::move(ev));
  switch (h.async_event) {
    case AsyncEvent::logout_request: {
      // Log out within Parameter3 seconds; tasks in flight may finish until then.
      if (logout_requested_ || logout_task_) break;
      const auto within = std::chrono::seconds(h.parameter3 ? h.parameter3 : 1);
      const bool only_connection =
          std::count_if(connections_.begin(), connections_.end(),
                        [](auto& x) { return x->state == Connection::State::full_feature; }) <= 1;
      target_logout_ = logout(
          now, now + within,
          only_connection ? LogoutReason::close_session : LogoutReason::close_connection, c.cid);
      break;
    }
    case AsyncEvent::connection_drop:
    case AsyncEvent::session_drop:
      // The target is dropping us; report it now rather than wait for the socket to close.
      // Parameter2 is the Time2Wait before reconnecting (RFC 7143 section 11.9.1).
      drop_time2wait_ = h.parameter2;
      for (auto& x : connections_)
        if (x.get() == &c || h.async_event == AsyncEvent::session_drop)
          fail_connection(*x, errc::connection_closed, TargetWait{h.parameter2, h.parameter3});
      break;
    case AsyncEvent::negotiation_request:
      own_negotiation_retried_ = false;
      renegotiate(now);
      break;
    case AsyncEvent::task_termination:
      // All tasks for this LU are being terminated by the target.
      for (auto& slot : slots_) {
        Task* x = slot.get();
        if (x->in_use && x->kind == Task::Kind::scsi && x->phase == Task::Phase::sent &&
            x->request.lun == h.lun) {
          c.tx.take_ownership(x->itt.value);
          fail_task(*x, errc::task_aborted, true);
        }
      }
      break;
    default:
      break;
  }
}

// Renegotiation asked for by the target (Async event 4, section 11.9.1), within Parameter3
// seconds: declare our receive limit again (the only operational key we may change in full
// feature phase, section 13.12). No caller waits for its TextDone.
void InitiatorSession::renegotiate(TimePoint now) {
  own_negotiation_ = submit_text(
      {{"MaxRecvDataSegmentLength", std::to_string(params_.receive_limit(Role::initiator))}}, now);
}

// ---------------------------------------------------------------------------------------------
// Reject (RFC 7143 section 11.17): its data segment is the header of the rejected PDU, whose
// ITT tells which task it concerns; the Reject's own ITT is 0xffffffff.

void InitiatorSession::handle_reject(Connection& c, const Reject& h, const InboundPdu& pdu) {
  note_stat_sn(c, h.stat_sn, true);  // StatSN advances after a Reject (section 11.17)
  if (c.state == Connection::State::closed) return;
  update_window(h.exp_cmd_sn, h.max_cmd_sn);
  if (pdu.data.size() < kBhsSize) return;
  const Itt itt(load_be32(pdu.data.data() + 16));
  Task* t = find_task(itt);
  if (t == nullptr) return;
  if (t->phase == Task::Phase::zombie) {
    free_task(t);
    return;
  }
  const auto rejected_op = static_cast<Opcode>(load_u8(pdu.data.data()) & 0x3fu);
  if (erl1() && t->kind == Task::Kind::scsi) {
    // Section 7.8: a command whose immediate data failed its digest was discarded: it goes
    // again, same ITT and CmdSN. Damaged Data-Out is asked for again by a recovery R2T. A
    // SNACK the target cannot serve is asked again by the probe (or the connection goes).
    if (h.reason == RejectReason::data_digest_error && rejected_op == Opcode::scsi_command) {
      retry_command(*t, c, now_);
      return;
    }
    if (h.reason == RejectReason::data_digest_error && rejected_op == Opcode::scsi_data_out) return;
    if (rejected_op == Opcode::snack_request) return;
  }
  // A rejected SCSI Command never ran; a rejected Data-Out belongs to a command that did.
  const bool ran = t->kind == Task::Kind::scsi && rejected_op != Opcode::scsi_command;
  if (ran) {
    abort_in_flight(*t, errc::rejected, now_);
  } else {
    c.tx.take_ownership(t->itt.value);
    const bool own = t->kind == Task::Kind::text && own_negotiation_ == t->id;
    fail_task(*t, errc::rejected, false);
    // A rejected Text Request ends that exchange only (section 11.17.1); the connection stays.
    // A caller's request ends with errc::rejected, the caller decides whether to ask again
    // (the library cannot know whether a request of its caller's is worth repeating); our own
    // renegotiation is tried once more as a fresh exchange (new ITT, TTT 0xffffffff).
    if (own) {
      own_negotiation_.reset();
      if (!own_negotiation_retried_ && !session_closed_ && !logout_requested_) {
        own_negotiation_retried_ = true;
        renegotiate(now_);
      }
    }
  }
}

}  // namespace uiscsi::core
