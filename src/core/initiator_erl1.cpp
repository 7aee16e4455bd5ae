// InitiatorSession: error recovery level 1 (RFC 7143 sections 7.1-7.9, 11.16). Active only
// when ErrorRecoveryLevel >= 1 was negotiated; at ERL 0 every loss costs the connection.
//
// - A PDU whose header digest fails is discarded (the framer trusts its length only within our
//   MaxRecvDataSegmentLength). One whose data digest fails has a sound header: a Data-In is
//   asked for again at once (Data SNACK for its DataSN), a SCSI Response by a Status SNACK.
// - Gaps in DataSN, R2TSN and StatSN are found as later PDUs arrive (SequenceTracker) and
//   asked for with Data/R2T and Status SNACKs; a status that arrives before all its data is
//   held until the data is complete. ExpStatSN stays at a StatSN gap until it fills.
// - A Data-In with the A bit is acknowledged with a DataACK SNACK.
// - Losses nothing later would reveal (the last status, the last R2T, a command PDU the target
//   discarded) are found by a probe: with commands outstanding and nothing received for
//   recovery_probe_interval, a NOP-Out ping. Its NOP-In carries StatSN (a status gap) and
//   ExpCmdSN (a command the target never got, which goes again with the same ITT, CmdSN and
//   CDB: section 7.2.1); a write still short of R2Ts gets an R2T SNACK.
#include <algorithm>

#include "core/initiator_session_internal.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {

void InitiatorSession::send_snack(Connection& c, SnackType type, Itt itt, Lun lun, Ttt ttt,
                                  std::uint32_t beg_run, std::uint32_t run_length) {
  // Section 11.16: ITT is reserved for Status SNACK and DataACK; TTT carries the A-bit Data-In's
  // TTT for DataACK, the SNACK Tag for R-Data, and is reserved otherwise.
  SnackRequest h;
  h.type = type;
  h.lun = lun;
  h.itt = itt;
  h.ttt = ttt;
  h.exp_stat_sn = c.exp_stat_sn;
  h.beg_run = beg_run;
  h.run_length = run_length;
  switch (type) {
    case SnackType::data_r2t:
      ++erl1_counters_.data_r2t_snacks;
      break;
    case SnackType::status:
      ++erl1_counters_.status_snacks;
      break;
    case SnackType::data_ack:
      ++erl1_counters_.data_acks;
      break;
    case SnackType::rdata:
      ++erl1_counters_.rdata_snacks;
      break;
  }
  push_pdu(c, make_out_pdu(Header{h}, {}, c.digests), true);
}

// A recoverable framer error in full feature phase. Returns false when the connection must go.
bool InitiatorSession::recover_from_input_error(Connection& c, std::error_code ec, TimePoint now) {
  if (!erl1() || c.state != Connection::State::full_feature || c.framer.failed()) return false;
  if (ec == protocol_errc::header_digest_mismatch) {
    ++erl1_counters_.digest_errors;
    return true;  // discarded; a later gap or the probe shows what it was
  }
  if (ec != protocol_errc::data_digest_mismatch) return false;
  ++erl1_counters_.digest_errors;
  auto header = decode_header(c.framer.failed_bhs(), {});
  if (!header) return false;
  if (const auto* d = std::get_if<DataIn>(&*header)) {
    Task* t = find_task(d->itt);
    if (t == nullptr || t->kind != Task::Kind::scsi || t->phase != Task::Phase::sent ||
        t->read_length == 0 || t->bidirectional())
      return true;                                      // nothing of ours to recover
    if (t->data_sns.received(d->data_sn)) return true;  // a damaged copy of data we have
    t->had_data_gap = true;
    t->data_sns.asked_for(d->data_sn);
    send_snack(c, SnackType::data_r2t, t->itt, t->request.lun, Ttt::reserved(), d->data_sn, 1);
    if (d->status_present) c.stat_sns.asked_for(d->stat_sn.value());
    return true;
  }
  if (const auto* r = std::get_if<ScsiResponse>(&*header)) {
    // The status is lost with its sense data: ask for that StatSN again.
    if (serial_ge(r->stat_sn, c.exp_stat_sn)) {
      c.stat_sns.asked_for(r->stat_sn.value());
      send_snack(c, SnackType::status, Itt::reserved(), Lun(), Ttt::reserved(), r->stat_sn.value(),
                 1);
    }
    return true;
  }
  // The header is sound, only the data is lost: keep the sequence numbers. A Reject's lost data
  // named the rejected PDU (a command the target did not get shows in ExpCmdSN at the next
  // probe); an async message's sense data is lost; a NOP-In answering our ping carries none.
  if (const auto* rej = std::get_if<Reject>(&*header)) {
    note_stat_sn(c, rej->stat_sn, true);
    if (c.state != Connection::State::closed) update_window(rej->exp_cmd_sn, rej->max_cmd_sn);
    return c.state != Connection::State::closed;
  }
  if (const auto* a = std::get_if<AsyncMessage>(&*header)) {
    note_stat_sn(c, a->stat_sn, true);
    if (c.state != Connection::State::closed) update_window(a->exp_cmd_sn, a->max_cmd_sn);
    return c.state != Connection::State::closed;
  }
  if (const auto* nop = std::get_if<NopIn>(&*header); nop != nullptr && nop->ttt.is_reserved()) {
    InboundPdu empty;
    empty.bhs = c.framer.failed_bhs();
    empty.header = *header;
    handle_nop_in(c, *nop, empty, now);
    return c.state != Connection::State::closed;
  }
  return false;  // text data lost, or a target ping whose data we cannot echo
}

// Where a Data-In with this DataSN stands. At ERL 0 (and for bidirectional commands, whose
// DataSN also counts R2Ts) only the next DataSN is valid.
InitiatorSession::DataSnFate InitiatorSession::accept_data_sn(Connection& c, Task& t,
                                                              std::uint32_t data_sn) {
  if (!erl1() || t.bidirectional()) {
    if (data_sn != t.data_sns.next()) return DataSnFate::invalid;
    t.data_sns.accept(data_sn);
    return DataSnFate::fresh;
  }
  const auto got = t.data_sns.accept(data_sn);
  switch (got.fate) {
    case SequenceTracker::Fate::in_order:
      return DataSnFate::fresh;
    case SequenceTracker::Fate::duplicate:
      return DataSnFate::duplicate;
    case SequenceTracker::Fate::too_far:
      return DataSnFate::invalid;
    case SequenceTracker::Fate::ahead:
      break;
  }
  t.had_data_gap = true;
  if (got.gap.length > 0)
    send_snack(c, SnackType::data_r2t, t.itt, t.request.lun, Ttt::reserved(), got.gap.begin,
               got.gap.length);
  return DataSnFate::fresh;
}

// A read's status arrived, saying `data_sns_sent` Data-In PDUs were sent: if some have not
// arrived, the missing ones are asked for and the status waits for them. Returns true if held.
bool InitiatorSession::hold_status(Connection& c, Task& t, const CommandResult& r,
                                   std::uint32_t data_sns_sent, SerialNumber stat_sn) {
  if (!erl1() || t.read_length == 0 || t.bidirectional()) return false;
  if (t.data_sns.complete_below(data_sns_sent)) return false;
  // Not acknowledged until the data is complete: the target must keep it for our SNACK.
  if (!t.held_stat_sn) {
    t.held_stat_sn = stat_sn;
    c.held_stat_sns.push_back(stat_sn.value());
    update_exp_stat_sn(c);
  }
  const auto gap = t.data_sns.reveal(data_sns_sent);
  if (gap.length > 0)
    send_snack(c, SnackType::data_r2t, t.itt, t.request.lun, Ttt::reserved(), gap.begin,
               gap.length);
  t.held_status = r;
  t.held_status_data_sns = data_sns_sent;
  return true;
}

void InitiatorSession::release_held_status(Task& t, TimePoint now) {
  if (!t.held_status || !t.data_sns.complete_below(t.held_status_data_sns)) return;
  CommandResult r = std::move(*t.held_status);
  t.held_status.reset();
  unpin_stat_sn(t);
  complete_scsi(t, r, now);
}

void InitiatorSession::unpin_stat_sn(Task& t) {
  if (!t.held_stat_sn) return;
  const std::uint32_t sn = t.held_stat_sn->value();
  t.held_stat_sn.reset();
  Connection* c = find_connection(t.cid);
  if (c == nullptr) return;
  if (auto it = std::find(c->held_stat_sns.begin(), c->held_stat_sns.end(), sn);
      it != c->held_stat_sns.end())
    c->held_stat_sns.erase(it);
  update_exp_stat_sn(*c);
}

// ExpStatSN: the next StatSN not received, or the lowest one held, whichever is lower.
void InitiatorSession::update_exp_stat_sn(Connection& c) {
  SerialNumber e(c.stat_sns.next());
  for (std::uint32_t sn : c.held_stat_sns)
    if (serial_lt(SerialNumber(sn), e)) e = SerialNumber(sn);
  c.exp_stat_sn = e;
}

void InitiatorSession::send_probe(Connection& c, TimePoint now) {
  send_nop_ping(c, now);
  if (!c.ping) return;
  c.probing = true;
  c.probe_saw_status_gap = c.stat_sns.has_gap();
  c.probe_sent = now;
  // A lost probe (or answer) is noticed sooner than a keepalive's.
  c.ping_deadline = now + 2 * config_.recovery_probe_interval;
  ++erl1_counters_.probes;
}

// Section 11.16.2: DataACK has ITT 0xffffffff, the A-bit Data-In's TTT and LUN, and BegRun the
// next DataSN expected (everything below it has arrived).
void InitiatorSession::send_data_ack(Connection& c, const DataIn& h, const Task& t) {
  send_snack(c, SnackType::data_ack, Itt::reserved(), h.lun, h.ttt, t.data_sns.next(), 0);
}

// StatSN at ERL >= 1: a status-carrying PDU (`advances`) is received in serial order; any
// other PDU's StatSN is the next one the target will use, so everything below it exists.
void InitiatorSession::note_stat_sn_gap(Connection& c, SerialNumber stat_sn, bool advances) {
  SequenceTracker::Gap gap;
  if (advances) {
    const auto got = c.stat_sns.accept(stat_sn.value());
    if (got.fate == SequenceTracker::Fate::too_far) {
      fail_connection(c, protocol_errc::sequence_error);
      return;
    }
    gap = got.gap;
    if (got.fate == SequenceTracker::Fate::in_order) c.status_snacks = 0;
  } else {
    gap = c.stat_sns.reveal(stat_sn.value());
  }
  update_exp_stat_sn(c);
  if (gap.length > 0) {
    ++c.status_snacks;
    send_snack(c, SnackType::status, Itt::reserved(), Lun(), Ttt::reserved(), gap.begin,
               gap.length);
  }
}

// Section 7.2.1: the command PDU goes again with the same ITT, CmdSN and CDB (and its
// immediate and unsolicited data), on the same connection.
void InitiatorSession::retry_command(Task& t, Connection& c, TimePoint now) {
  if (t.command_retries >= config_.max_command_retries) {
    fail_connection(c, errc::timed_out);
    return;
  }
  ++t.command_retries;
  ++erl1_counters_.command_retries;
  c.tx.take_ownership(t.itt.value);  // any of its Data-Out still queued goes with the old copy
  t.bursts.clear();
  t.next_sequence = 1;
  t.data_sns.reset(0);
  t.r2t_sns.reset(0);
  t.next_in_offset = t.data_in_bytes = 0;
  t.had_data_gap = false;
  t.held_status.reset();
  send_scsi_command(t, c);
  (void)now;
}

// A probe is due after recovery_probe_interval of silence while SCSI commands are outstanding.
bool InitiatorSession::needs_probe(const Connection& c) const {
  if (!erl1() || c.state != Connection::State::full_feature ||
      config_.recovery_probe_interval.count() <= 0)
    return false;
  return std::any_of(slots_.begin(), slots_.end(), [&](const auto& t) {
    return t->in_use && t->kind == Task::Kind::scsi && t->phase == Task::Phase::sent &&
           t->cid == c.cid;
  });
}

// The probe's NOP-In arrived (its StatSN and window were already noted).
void InitiatorSession::probe_answered(Connection& c, TimePoint now) {
  c.probing = false;
  c.probe_retries = 0;
  if (c.status_snacks > config_.max_status_snacks) {
    fail_connection(c, errc::timed_out);  // the target does not resend what we ask for
    return;
  }
  // A status gap that was open before the probe and still is: ask again. (A gap the probe's
  // own StatSN revealed was asked for as it arrived.)
  if (const auto gap = c.stat_sns.first_gap(); c.probe_saw_status_gap && gap.length > 0) {
    ++c.status_snacks;
    send_snack(c, SnackType::status, Itt::reserved(), Lun(), Ttt::reserved(), gap.begin,
               gap.length);
  }
  for (auto& slot : slots_) {
    Task* t = slot.get();
    if (!t->in_use || t->kind != Task::Kind::scsi || t->phase != Task::Phase::sent ||
        t->cid != c.cid || t->last_sent > c.probe_sent)
      continue;
    // ExpCmdSN still at this command, sent before the probe: the target never got it.
    if (!t->immediate && t->cmd_sn == exp_cmd_sn_) {
      retry_command(*t, c, now);
      if (c.state == Connection::State::closed) return;
      continue;
    }
    // A write with nothing left to send and no status: an R2T, or Data-Out, was lost. An R2T
    // SNACK from the next R2TSN on makes the target ask again for whatever it still lacks.
    if (t->write_length > 0 && !t->bidirectional() && t->bursts.empty())
      send_snack(c, SnackType::data_r2t, t->itt, t->request.lun, Ttt::reserved(), t->r2t_sns.next(),
                 0);
    // A read whose status waits for Data-In that has not come: ask again from the first missing
    // DataSN (RunLength 0: everything from there on).
    if (t->held_status) {
      const auto gap = t->data_sns.first_gap();
      send_snack(c, SnackType::data_r2t, t->itt, t->request.lun, Ttt::reserved(),
                 t->data_sns.next(), gap.length);
    }
  }
}

}  // namespace uiscsi::core
