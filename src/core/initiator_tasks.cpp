// InitiatorSession: SCSI commands — submission, Data-Out, Data-In, R2T, responses, aborts.
#include <algorithm>
#include <cstring>

#include "core/bytes.hpp"
#include "core/initiator_session_internal.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {

CdbBytes CdbBytes::from(std::span<const std::byte> cdb) {
  CdbBytes c;
  c.size = std::min(cdb.size(), kMaxCdbLength);
  std::memcpy(c.bytes.data(), cdb.data(), c.size);
  return c;
}

bool retry_is_safe(std::span<const std::byte> cdb) {
  if (cdb.empty()) return false;
  switch (std::to_integer<std::uint8_t>(cdb[0])) {
    case 0x00:  // TEST UNIT READY
    case 0x03:  // REQUEST SENSE
    case 0x12:  // INQUIRY
    case 0x1a:  // MODE SENSE(6)
    case 0x25:  // READ CAPACITY(10)
    case 0x28:  // READ(10)
    case 0x2a:  // WRITE(10)
    case 0x2e:  // WRITE AND VERIFY(10)
    case 0x2f:  // VERIFY(10)
    case 0x35:  // SYNCHRONIZE CACHE(10)
    case 0x4d:  // LOG SENSE
    case 0x5a:  // MODE SENSE(10)
    case 0x88:  // READ(16)
    case 0x8a:  // WRITE(16)
    case 0x8e:  // WRITE AND VERIFY(16)
    case 0x8f:  // VERIFY(16)
    case 0xa0:  // REPORT LUNS
    case 0xa8:  // READ(12)
    case 0xaa:  // WRITE(12)
    case 0xae:  // WRITE AND VERIFY(12)
    case 0xaf:  // VERIFY(12)
      return true;
    case 0x9e:  // SERVICE ACTION IN(16): READ CAPACITY(16) and GET LBA STATUS only
      return cdb.size() > 1 && ((std::to_integer<std::uint8_t>(cdb[1]) & 0x1f) == 0x10 ||
                                (std::to_integer<std::uint8_t>(cdb[1]) & 0x1f) == 0x12);
    default:
      return false;  // tape motion, reservations, COMPARE AND WRITE, MODE SELECT, unknown
  }
}

TaskId InitiatorSession::submit(ScsiRequest request, TimePoint now) {
  now_ = now;
  Task* t = allocate_task(now);
  if (t == nullptr) {
    // 65535 tasks live: report it as a failed task so every submit gets exactly one event.
    TaskId id{0xffff000000000000ull | ++overflow_serial_};
    emit(TaskDone{id, errc::busy, false, {}});
    return id;
  }
  t->kind = Task::Kind::scsi;
  t->request = request;
  t->deadline = request.deadline;
  t->read_length = static_cast<std::uint32_t>(request.data_in.size());
  t->write_length = static_cast<std::uint32_t>(request.data_out.size());
  const TaskId id = t->id;
  std::error_code refuse;
  if (session_closed_ || logout_requested_) {
    refuse = errc::session_closed;
  } else if (config_.session_type == SessionType::discovery) {
    refuse = errc::unsupported;
  } else if (request.cdb.size == 0 || request.data_in.size() > 0xffffffffu ||
             request.data_out.size() > 0xffffffffu) {
    refuse = errc::invalid_argument;
  } else if (!logged_in() && !recovering() &&
             std::none_of(connections_.begin(), connections_.end(),
                          [](auto& c) { return c->state == Connection::State::login; })) {
    refuse = errc::not_logged_in;
  }
  if (refuse) {
    fail_task(*t, refuse, false);
    return id;
  }
  waiting_.push_back(id);
  pump_window(now);
  return id;
}

void InitiatorSession::send_scsi_command(Task& t, Connection& c) {
  ScsiCommand h;
  h.lun = t.request.lun;
  h.itt = t.itt;
  h.attr = t.request.attr;
  h.read = t.read_length > 0;
  h.write = t.write_length > 0;
  // For a bidirectional command EDTL is the write length; the read length goes in an AHS.
  h.expected_data_transfer_length = h.write ? t.write_length : t.read_length;
  h.cmd_sn = t.cmd_sn;
  h.exp_stat_sn = c.exp_stat_sn;
  std::vector<std::byte> ahs;
  (void)set_cdb(h, t.request.cdb.view(), ahs);  // size checked at submit
  if (t.bidirectional()) append_bidi_read_length_ahs(ahs, t.read_length);

  const UnsolicitedPlan plan =
      plan_unsolicited(t.write_length, params_.initial_r2t, params_.immediate_data,
                       params_.first_burst_length, c.send_limit);
  h.final = plan.command_final;
  Bhs bhs;
  encode_header(Header{h}, bhs);
  const auto immediate = t.request.data_out.first(plan.immediate_bytes);
  push_pdu(c, make_out_pdu(bhs, ahs, immediate, c.digests));
  t.last_sent = now_;
  t.write_requested = std::uint64_t{plan.immediate_bytes} + plan.unsolicited_dataout_bytes;
  if (plan.unsolicited_dataout_bytes > 0) {
    t.bursts.push_back({0, DataSequence(Ttt::reserved(), plan.immediate_bytes,
                                        plan.unsolicited_dataout_bytes, c.send_limit)});
    c.tx.push_sequence({t.itt.value, 0});
  }
}

void InitiatorSession::handle_r2t(Connection& c, const R2t& h) {
  Task* t = find_task(h.itt);
  if (t == nullptr || t->phase == Task::Phase::zombie) return;  // a task we already let go
  if (t->kind != Task::Kind::scsi || t->write_length == 0) {
    abort_in_flight(*t, protocol_errc::unexpected_response, now_);
    return;
  }
  // R2TSN counts R2Ts per task; bidirectional commands share it with Data-In (section 11.8.4).
  // At ERL >= 1 a lost R2T is asked for again and a retransmitted one is served late.
  SequenceTracker& sns = t->bidirectional() ? t->data_sns : t->r2t_sns;
  if (t->r2t_resync) {
    // The first R2T after a TASK REASSIGN: the target's R2TSN goes on from where it was, past
    // R2Ts that may have been lost with the old connection (RFC 7143 section 7.2.2).
    t->r2t_resync = false;
    if (serial_ge(SerialNumber(h.r2t_sn), SerialNumber(sns.next()))) sns.reset(h.r2t_sn);
  }
  const bool tolerate = erl1() && !t->bidirectional();
  const auto got = tolerate ? sns.accept(h.r2t_sn)
                   : h.r2t_sn == sns.next()
                       ? sns.accept(h.r2t_sn)
                       : SequenceTracker::Accepted{SequenceTracker::Fate::too_far, {}};
  if (got.fate == SequenceTracker::Fate::too_far) {
    abort_in_flight(*t, protocol_errc::sequence_error, now_);
    return;
  }
  if (got.fate == SequenceTracker::Fate::duplicate) return;  // already being served
  if (got.gap.length > 0)
    send_snack(c, SnackType::data_r2t, t->itt, t->request.lun, Ttt::reserved(), got.gap.begin,
               got.gap.length);
  const std::uint64_t end = std::uint64_t{h.buffer_offset} + h.desired_data_transfer_length;
  if (h.desired_data_transfer_length == 0 || end > t->write_length ||
      h.desired_data_transfer_length > params_.max_burst_length) {
    abort_in_flight(*t, protocol_errc::invalid_field, now_);
    return;
  }
  t->write_requested += h.desired_data_transfer_length;
  const std::uint32_t seq = t->next_sequence++;
  t->bursts.push_back(
      {seq, DataSequence(h.ttt, h.buffer_offset, h.desired_data_transfer_length, c.send_limit)});
  c.tx.push_sequence({t->itt.value, seq});
}

void InitiatorSession::handle_data_in(Connection& c, const DataIn& h, const InboundPdu& pdu,
                                      TimePoint now) {
  // At ERL >= 1 the status's StatSN is noted on the way out, after the status may have been
  // held: a SNACK this PDU causes must not acknowledge the status it waits on (11.16.1).
  struct NoteStatSnOnExit {
    InitiatorSession& s;
    Connection& c;
    const DataIn& h;
    bool armed;
    ~NoteStatSnOnExit() {
      if (armed && c.state != Connection::State::closed) s.note_stat_sn(c, h.stat_sn, true);
    }
  } deferred{*this, c, h, h.status_present && erl1()};
  if (h.status_present && !deferred.armed) note_stat_sn(c, h.stat_sn, true);
  update_window(h.exp_cmd_sn, h.max_cmd_sn);
  Task* t = find_task(h.itt);
  if (t == nullptr) return;  // stale: a task that already ended
  if (t->phase == Task::Phase::zombie) {
    if (h.status_present) free_task(t);
    return;
  }
  if (t->kind != Task::Kind::scsi || t->read_length == 0) {
    abort_in_flight(*t, protocol_errc::unexpected_response, now);
    return;
  }
  switch (accept_data_sn(c, *t, h.data_sn)) {
    case DataSnFate::invalid:
      abort_in_flight(*t, protocol_errc::sequence_error, now);
      return;
    case DataSnFate::duplicate:
      return;  // a retransmission of data we have
    case DataSnFate::fresh:
      break;
  }
  const auto len = static_cast<std::uint32_t>(pdu.data.size());
  if (std::uint64_t{h.buffer_offset} + len > t->read_length) {
    abort_in_flight(*t, protocol_errc::invalid_field, now);  // more data than we asked for
    return;
  }
  if (params_.data_pdu_in_order && !t->had_data_gap && h.buffer_offset != t->next_in_offset) {
    abort_in_flight(*t, protocol_errc::sequence_error, now);
    return;
  }
  if (!pdu.data_placed && len > 0)
    std::memcpy(t->request.data_in.data() + h.buffer_offset, pdu.data.data(), len);
  t->next_in_offset = h.buffer_offset + len;
  t->data_in_bytes += len;
  if (erl2()) {
    // For a TASK REASSIGN: the bytes below its ExpDataSN (initiator_erl2.cpp). It grows with
    // the PDUs received: accept_data_sn() bounds how far ahead a DataSN may jump.
    if (t->data_in_lengths.size() <= h.data_sn) t->data_in_lengths.resize(h.data_sn + 1u, 0);
    t->data_in_lengths[h.data_sn] = len;
  }
  if (h.acknowledge && erl1()) send_data_ack(c, h, *t);

  if (!h.status_present) {
    if (t->held_status) release_held_status(*t, now);
    return;
  }
  if (!h.final) {
    abort_in_flight(*t, protocol_errc::invalid_field, now);  // S requires F (section 11.7.3)
    return;
  }
  CommandResult r;
  r.status = h.status;
  r.residual_count = h.residual_count;
  r.underflow = h.underflow;
  r.overflow = h.overflow;
  if (hold_status(c, *t, r, h.data_sn + 1, h.stat_sn)) return;
  complete_scsi(*t, r, now);
}

void InitiatorSession::handle_scsi_response(Connection& c, const ScsiResponse& h,
                                            const InboundPdu& pdu, TimePoint now) {
  note_stat_sn(c, h.stat_sn, true);
  update_window(h.exp_cmd_sn, h.max_cmd_sn);
  Task* t = find_task(h.itt);
  if (t == nullptr) return;
  if (t->phase == Task::Phase::zombie) {
    free_task(t);
    return;
  }
  if (t->kind != Task::Kind::scsi) return;
  if (h.response != IscsiResponse::command_completed_at_target) {
    fail_task(*t, errc::target_failure, true);
    return;
  }
  CommandResult r;
  r.status = h.status;
  r.residual_count = h.residual_count;
  r.underflow = h.underflow;
  r.overflow = h.overflow;
  r.bidi_read_residual_count = h.bidi_read_residual_count;
  r.bidi_read_underflow = h.bidi_read_underflow;
  r.bidi_read_overflow = h.bidi_read_overflow;
  // Data segment: SenseLength (2 bytes), sense data, then response data (section 11.4.7).
  if (pdu.data.size() >= 2) {
    const std::size_t sense_length =
        std::min<std::size_t>(load_be16(pdu.data.data()), pdu.data.size() - 2);
    r.sense.assign(pdu.data.begin() + 2,
                   pdu.data.begin() + 2 + static_cast<std::ptrdiff_t>(sense_length));
  }
  // ExpDataSN: the Data-In PDUs the target sent; any still missing are asked for first.
  if (hold_status(c, *t, r, h.exp_data_sn, h.stat_sn)) return;
  complete_scsi(*t, r, now);
}

void InitiatorSession::complete_scsi(Task& t, const CommandResult& result, TimePoint now) {
  if (reset_attention_pending_ && absorb_reset_attention(t, result, now)) return;
  CommandResult r = result;
  r.data_in_bytes = t.data_in_bytes;
  r.latency = now - t.submitted;
  // Good status must come with all the data it claims: the expected length minus the residual.
  if ((r.status == 0x00 || r.status == 0x04) && t.read_length > 0 && !t.bidirectional()) {
    const std::uint64_t expect =
        r.underflow ? t.read_length - std::min(r.residual_count, t.read_length) : t.read_length;
    if (t.data_in_bytes != expect) {
      fail_task(t, protocol_errc::sequence_error, true);
      return;
    }
  }
  emit(TaskDone{t.id, {}, true, std::move(r)});
  free_task(&t);
}

namespace {

// Sense key and ASC of fixed (70h/71h) or descriptor (72h/73h) sense data (SPC-4 4.5).
std::optional<std::pair<std::uint8_t, std::uint8_t>> sense_key_and_asc(
    std::span<const std::byte> sense) {
  if (sense.empty()) return std::nullopt;
  const auto at = [&](std::size_t i) { return std::to_integer<std::uint8_t>(sense[i]); };
  const std::uint8_t code = at(0) & 0x7f;
  if ((code == 0x70 || code == 0x71) && sense.size() > 12)
    return std::pair{static_cast<std::uint8_t>(at(2) & 0x0f), at(12)};
  if ((code == 0x72 || code == 0x73) && sense.size() > 2)
    return std::pair{static_cast<std::uint8_t>(at(1) & 0x0f), at(2)};
  return std::nullopt;
}

// Commands that run despite a pending unit attention and do not clear it (SAM-5 5.14).
bool unit_attention_exempt(std::span<const std::byte> cdb) {
  if (cdb.empty()) return false;
  const auto op = std::to_integer<std::uint8_t>(cdb[0]);
  return op == 0x12 || op == 0xa0 || op == 0x03;  // INQUIRY, REPORT LUNS, REQUEST SENSE
}

}  // namespace

// A reinstated session is a new I_T nexus, so each LU reports UNIT ATTENTION, ASC 29h (power
// on, reset or I_T nexus loss; SAM-5 6.3.1) to the first command it gets. That command did not
// run and the reset was our own doing, so it goes again, once per LU, and the event reports
// it. Any other outcome on an LU (except for the exempt commands) settles it, so a later reset
// by someone else is reported as usual.
bool InitiatorSession::absorb_reset_attention(Task& t, const CommandResult& r, TimePoint now) {
  if (t.kind != Task::Kind::scsi) return false;
  if (std::find(settled_luns_.begin(), settled_luns_.end(), t.request.lun) != settled_luns_.end())
    return false;
  const auto key = r.status == 0x02 ? sense_key_and_asc(r.sense) : std::nullopt;
  const bool reset_attention = key && key->first == 0x06 && key->second == 0x29;
  if (!reset_attention && unit_attention_exempt(t.request.cdb.view())) return false;
  settled_luns_.push_back(t.request.lun);
  if (!reset_attention) return false;
  emit(ResetAttentionAbsorbed{t.id, t.request.lun, r.sense});
  requeue_for_retry({&t});
  pump_window(now);
  return true;
}

void InitiatorSession::fail_task(Task& t, std::error_code ec, bool may_have_executed) {
  switch (t.kind) {
    case Task::Kind::scsi:
      emit(TaskDone{t.id, ec, may_have_executed, {}});
      break;
    case Task::Kind::tmf:
      if (t.report) emit(TmfDone{t.id, ec, TmfResponse::function_rejected});
      break;
    case Task::Kind::text:
      emit(TextDone{t.id, ec, {}});
      break;
    case Task::Kind::logout:
      if (!t.report) break;  // our own recovery logout (initiator_erl2.cpp)
      emit(LogoutDone{t.id, ec});
      if (logout_task_ == t.id) {
        logout_task_.reset();
        logout_deadline_.reset();
        // A Reject leaves the session as it was: it takes commands, and another logout, again.
        // Any other failure means the connection is gone, and with it the session the caller
        // wanted to end (fail_connection() closes it while logout_requested_ is set).
        if (ec == errc::rejected) logout_requested_ = false;
      }
      break;
    case Task::Kind::nop_ping:
      if (Connection* c = find_connection(t.cid); c != nullptr && c->ping == t.id) c->ping.reset();
      break;
  }
  free_task(&t);
}

// The caller is released now; the task stays as a zombie that swallows whatever the target
// still sends for it, until the target confirms its end (response or TMF).
void InitiatorSession::abort_in_flight(Task& t, std::error_code ec, TimePoint now) {
  if (t.phase != Task::Phase::sent || t.kind != Task::Kind::scsi) {
    fail_task(t, ec, false);
    return;
  }
  emit(TaskDone{t.id, ec, true, {}});
  t.phase = Task::Phase::zombie;
  t.bursts.clear();
  t.request.data_in = {};
  Connection* c = find_connection(t.cid);
  if (c == nullptr || c->state != Connection::State::full_feature) {
    free_task(&t);
    return;
  }
  c->tx.take_ownership(t.itt.value);
  t.request.data_out = {};
  Task* tmf = allocate_task(now);
  if (tmf == nullptr) return;  // the zombie goes when its response or the connection does
  tmf->kind = Task::Kind::tmf;
  tmf->function = TmfFunction::abort_task;
  tmf->referenced = t.id;
  tmf->report = false;
  tmf->request.lun = t.request.lun;
  tmf->immediate = true;
  tmf->phase = Task::Phase::sent;
  tmf->cid = c->cid;
  TaskMgmtRequest h;
  h.immediate = true;
  h.function = TmfFunction::abort_task;
  h.lun = t.request.lun;
  h.itt = tmf->itt;
  h.referenced_task_tag = t.itt;
  h.cmd_sn = cmd_sn_;
  h.exp_stat_sn = c->exp_stat_sn;
  h.ref_cmd_sn = t.cmd_sn;
  tmf->cmd_sn = cmd_sn_;
  push_pdu(*c, make_out_pdu(Header{h}, {}, c->digests), true);
}

void InitiatorSession::cancel(TaskId id, TimePoint now) {
  now_ = now;
  Task* t = find_task(id);
  if (t == nullptr || t->phase == Task::Phase::zombie) return;
  if (t->phase == Task::Phase::waiting) {
    fail_task(*t, errc::cancelled, false);  // never sent: no CmdSN was used
    return;
  }
  abort_in_flight(*t, errc::cancelled, now);
}

}  // namespace uiscsi::core
