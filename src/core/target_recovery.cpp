// TargetConnection: error recovery level 1 (RFC 7143 sections 7.1-7.9, 11.16). Active only when
// ErrorRecoveryLevel >= 1 was negotiated.
//
// Retention: every answer is kept from the moment it is queued: a task's Data-In (the shared
// buffer plus each PDU's DataSN, offset, length and F/S/A bits) and its status, and every other
// numbered response as sent. ExpStatSN releases a status and its task's data; a DataACK
// releases a read's data earlier. The total is bounded by TargetConfig::max_retained_bytes:
// beyond it the oldest answers go, and a SNACK for them gets a Reject.
//
// SNACKs (section 11.16): Data/R2T, Status, DataACK and R-Data. What a SNACK asks for is resent
// lazily, through a bounded number of jobs the TxQueue expands as the socket takes them.
// Anything that cannot be satisfied gets a Reject: "Protocol Error" for what was never sent or
// was already acknowledged (section 11.16, with the next DataSN/R2TSN in the Reject, 11.17.3),
// "SNACK Reject" for what we no longer hold (or cannot resend just now, or at ERL 0),
// "Invalid DataACK" for a DataACK naming no A-bit Data-In, "Invalid PDU field" for an unknown
// ITT or a malformed R-Data SNACK (section 11.17.1, note 2).
#include <algorithm>

#include "core/bytes.hpp"
#include "core/target_connection_internal.hpp"
#include "core/target_session.hpp"

namespace uiscsi::core {

namespace {

constexpr std::size_t kMaxResendJobs = 32;
constexpr std::size_t kMaxHoles = 64;
constexpr std::size_t kRemembered = 64;  // evicted ITTs, released A-bit TTTs
// What the bookkeeping of one retained answer costs beyond its data.
constexpr std::uint64_t kTaskOverhead = sizeof(RetainedTask) + 64;
constexpr std::uint64_t kStatusOverhead = sizeof(RetainedStatus) + 16;

void remember(std::deque<std::uint32_t>& list, std::uint32_t value) {
  if (list.size() == kRemembered) list.pop_front();
  list.push_back(value);
}
bool remembered(const std::deque<std::uint32_t>& list, std::uint32_t value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Retention.

RetainedTask* TargetConnection::find_retained(Itt itt) {
  auto it = retention_->tasks.find(itt.value);
  return it == retention_->tasks.end() || it->second.released ? nullptr : &it->second;
}

void TargetConnection::forget_retained(std::uint32_t itt, bool evicted) {
  Retention& ret = *retention_;
  auto it = ret.tasks.find(itt);
  if (it == ret.tasks.end()) return;
  for (Ttt ttt : it->second.ack_ttts) {
    ret.ack_ttts.erase(ttt.value);
    remember(ret.old_ttts, ttt.value);
  }
  ret.bytes -= it->second.bytes;
  ret.tasks.erase(it);
  if (evicted) remember(ret.evicted, itt);
}

void TargetConnection::charge(std::uint64_t bytes) {
  Retention& ret = *retention_;
  ret.bytes += bytes;
  while (ret.bytes > config_.max_retained_bytes && !ret.statuses.empty())
    drop_oldest_status(true);
}

namespace {

void insert_status(std::deque<RetainedStatus>& list, RetainedStatus s) {
  // StatSNs are taken in order, so this is nearly always an append.
  auto pos = list.end();
  while (pos != list.begin() && serial_lt(s.stat_sn, std::prev(pos)->stat_sn))
    --pos;
  list.insert(pos, std::move(s));
}

}  // namespace

void TargetConnection::retain_answer(const Task& t, SerialNumber stat_sn,
                                     const std::vector<std::byte>& sense) {
  Retention& ret = *retention_;
  // The initiator reused the tag before acknowledging the old answer: that one goes.
  forget_retained(t.itt.value, false);
  RetainedTask r;
  r.itt = t.itt;
  r.lun = t.lun;
  r.cmd_sn = t.cmd_sn;
  r.data = t.data_in_length > 0 ? t.data_in : nullptr;
  r.data_length = t.data_in_length;
  r.r2ts = t.next_r2t_sn;
  r.stat_sn = stat_sn;
  r.status = t.outcome.status;
  r.underflow = t.underflow;
  r.overflow = t.overflow;
  r.residual = t.residual;
  r.sense_segment = sense;
  r.status_in_data_in = t.status_in_data_in;
  r.bytes = kTaskOverhead + sense.size() + (r.data ? r.data->size() : 0);
  const std::uint64_t bytes = r.bytes + kStatusOverhead;
  ret.tasks.emplace(t.itt.value, std::move(r));
  RetainedStatus s;
  s.stat_sn = stat_sn;
  s.task = true;
  s.itt = t.itt;
  s.bytes = kStatusOverhead;
  insert_status(ret.statuses, std::move(s));
  charge(bytes);
}

void TargetConnection::retain_response(const OutPdu& pdu, SerialNumber stat_sn) {
  RetainedStatus s;
  s.stat_sn = stat_sn;
  s.bhs = pdu.bhs();
  s.data.assign(pdu.data.begin(), pdu.data.end());
  s.bytes = kStatusOverhead + s.data.size();
  const std::uint64_t bytes = s.bytes;
  insert_status(retention_->statuses, std::move(s));
  charge(bytes);
}

// A Data-In PDU of `itt` went out (first transmission).
void TargetConnection::note_data_in(Itt itt, const DataIn& d, std::uint32_t length) {
  RetainedTask* r = find_retained(itt);
  if (r == nullptr) return;  // dropped by the bound, or already acknowledged
  std::uint64_t grown = 0;
  if (d.data_sn >= r->data_ins.size()) {
    grown = (std::uint64_t{d.data_sn} + 1 - r->data_ins.size()) * sizeof(SentDataIn);
    r->data_ins.resize(std::size_t{d.data_sn} + 1);
  }
  SentDataIn& s = r->data_ins[d.data_sn];
  s.offset = d.buffer_offset;
  s.length = length;
  s.flags = SentDataIn::kSent;
  if (d.final) s.flags |= SentDataIn::kFinal;
  if (d.status_present) s.flags |= SentDataIn::kStatus;
  if (d.acknowledge) {
    s.flags |= SentDataIn::kAck;
    s.ttt = d.ttt;
    r->ack_ttts.push_back(d.ttt);
    retention_->ack_ttts[d.ttt.value] = itt.value;
  }
  r->bytes += grown;
  charge(grown);  // may drop this very answer: `r` is not used after this
}

void TargetConnection::drop_oldest_status(bool evicted) {
  Retention& ret = *retention_;
  const RetainedStatus& s = ret.statuses.front();
  ret.bytes -= s.bytes;
  if (s.task) {
    auto it = ret.tasks.find(s.itt.value);
    if (it != ret.tasks.end() && it->second.stat_sn == s.stat_sn) {
      if (it->second.pins > 0) {
        it->second.released = true;  // goes when its resend jobs end
        if (evicted) remember(ret.evicted, s.itt.value);
      } else {
        forget_retained(s.itt.value, evicted);
      }
    }
  }
  ret.statuses.pop_front();
}

// ExpStatSN moved: the numbered responses below it, and their tasks' data, are released.
void TargetConnection::release_acknowledged() {
  Retention& ret = *retention_;
  while (!ret.statuses.empty() && serial_lt(ret.statuses.front().stat_sn, exp_stat_sn_))
    drop_oldest_status(false);
}

// ---------------------------------------------------------------------------------------------
// Retransmission.

bool TargetConnection::start_resend(const ResendJob& job, const Bhs& rejected) {
  Retention& ret = *retention_;
  if (ret.jobs.size() >= kMaxResendJobs) {
    // Too much asked at once: "SNACK Reject" (section 11.17.1), which may be sent again later.
    if (rejected.opcode() == Opcode::snack_request)
      send_reject(rejected, RejectReason::snack_reject);
    return false;
  }
  std::uint32_t id = ret.next_job++;
  if (id == 0) id = ret.next_job++;
  ResendJob& j = ret.jobs[id] = job;
  if (j.kind == ResendJob::Kind::data_in) {
    if (RetainedTask* r = find_retained(j.itt)) {
      j.stat_sn = r->stat_sn;
      ++r->pins;
    }
  }
  tx_.push_sequence({0, id});
  return true;
}

// Section 11.16: a replica of the Data-In PDU as first sent; only ExpCmdSN and MaxCmdSN are
// current.
OutPdu TargetConnection::data_in_replica(const RetainedTask& r, std::uint32_t data_sn) {
  const SentDataIn& s = r.data_ins[data_sn];
  DataIn d;
  d.final = s.has(SentDataIn::kFinal);
  d.acknowledge = s.has(SentDataIn::kAck);
  d.lun = r.lun;
  d.itt = r.itt;
  d.ttt = d.acknowledge ? s.ttt : Ttt::reserved();
  d.data_sn = data_sn;
  d.buffer_offset = s.offset;
  d.exp_cmd_sn = ses_->exp_cmd_sn_;
  d.max_cmd_sn = max_cmd_sn();
  d.stat_sn = stat_sn_;
  if (s.has(SentDataIn::kStatus)) {
    d.status_present = true;
    d.status = r.status;
    d.stat_sn = r.stat_sn;
    d.residual_count = r.residual;
    d.underflow = r.underflow;
    d.overflow = r.overflow;
  }
  OutPdu out = make_pdu(Header{d}, std::span<const std::byte>(*r.data).subspan(s.offset, s.length));
  out.keep_alive = r.data;
  return out;
}

// The task's status as a SCSI Response: its StatSN, the latest SNACK Tag (section 11.16.3) and
// the current ExpDataSN.
OutPdu TargetConnection::status_response(const RetainedTask& r) {
  ScsiResponse p;
  p.itt = r.itt;
  p.status = r.status;
  p.residual_count = r.residual;
  p.underflow = r.underflow;
  p.overflow = r.overflow;
  p.snack_tag = r.snack_tag;
  p.stat_sn = r.stat_sn;
  p.exp_cmd_sn = ses_->exp_cmd_sn_;
  p.max_cmd_sn = max_cmd_sn();
  p.exp_data_sn = static_cast<std::uint32_t>(r.data_ins.size()) + r.r2ts;
  return make_owned(Header{p}, r.sense_segment);
}

bool TargetConnection::expand_resend(std::uint32_t id, OutPdu& out) {
  Retention& ret = *retention_;
  auto it = ret.jobs.find(id);
  if (it == ret.jobs.end()) return false;
  ResendJob& j = it->second;
  for (;;) {
    OutPdu pdu;
    if (j.kind == ResendJob::Kind::data_in) {
      auto t = ret.tasks.find(j.itt.value);
      if (t == ret.tasks.end() || t->second.stat_sn != j.stat_sn) break;
      RetainedTask* r = &t->second;
      j.next = std::max(j.next, r->acked);  // a DataACK may have come meanwhile
      if (j.next < j.end && r->data != nullptr && j.next < r->data_ins.size()) {
        pdu = data_in_replica(*r, j.next++);
      } else if (j.then_response) {
        j.then_response = false;
        pdu = status_response(*r);
      } else {
        break;
      }
    } else {
      if (j.next == j.end) break;
      const SerialNumber sn(j.next++);
      auto e = std::lower_bound(
          ret.statuses.begin(), ret.statuses.end(), sn,
          [](const RetainedStatus& s, SerialNumber v) { return serial_lt(s.stat_sn, v); });
      if (e == ret.statuses.end() || e->stat_sn != sn) continue;  // acknowledged meanwhile
      if (e->task) {
        RetainedTask* r = find_retained(e->itt);
        if (r == nullptr || r->stat_sn != sn) continue;
        // The status went in a Data-In: that PDU again while its data is held, else a SCSI
        // Response with the same StatSN.
        std::optional<std::uint32_t> with_status;
        if (r->status_in_data_in && r->data != nullptr)
          for (std::size_t i = r->data_ins.size(); i-- > r->acked;)
            if (r->data_ins[i].has(SentDataIn::kStatus)) {
              with_status = static_cast<std::uint32_t>(i);
              break;
            }
        pdu = with_status ? data_in_replica(*r, *with_status) : status_response(*r);
      } else {
        Bhs b = e->bhs;  // as sent, with the current ExpCmdSN and MaxCmdSN
        store_be32(b.bytes.data() + 28, ses_->exp_cmd_sn_.value());
        store_be32(b.bytes.data() + 32, max_cmd_sn().value());
        pdu = make_owned_pdu(b, e->data, digests_);
      }
    }
    ++stats_.pdus_resent;
    if (outgoing(pdu)) {
      out = std::move(pdu);
      return true;
    }
  }
  if (j.kind == ResendJob::Kind::data_in) {
    auto t = ret.tasks.find(j.itt.value);
    if (t != ret.tasks.end() && t->second.stat_sn == j.stat_sn && t->second.pins > 0 &&
        --t->second.pins == 0 && t->second.released)
      forget_retained(j.itt.value, false);
  }
  ret.jobs.erase(it);
  return false;
}

// ---------------------------------------------------------------------------------------------
// SNACK (section 11.16).

void TargetConnection::handle_snack(const SnackRequest& h, const Bhs& bhs) {
  ++stats_.snacks;
  if (!erl1()) {
    // Retransmission needs error recovery level 1 (sections 7.1.5, 11.16): at level 0 every
    // SNACK is refused.
    note_exp_stat_sn(h.exp_stat_sn);
    send_reject(bhs, RejectReason::snack_reject);
    return;
  }
  // A Data SNACK must come before the status of its task is acknowledged (section 11.16.1), but
  // an initiator may send it with an ExpStatSN that already covers that status (and a DataACK
  // with one covering the status that came with the data): the SNACK is handled first, and the
  // answer it resends stays until that is done. A Status SNACK's ExpStatSN counts first.
  switch (h.type) {
    case SnackType::data_r2t:
      snack_data_r2t(h, bhs);
      break;
    case SnackType::data_ack:
      snack_data_ack(h, bhs);
      break;
    case SnackType::rdata:
      snack_rdata(h, bhs);
      break;
    case SnackType::status:
      note_exp_stat_sn(h.exp_stat_sn);
      snack_status(h, bhs);
      return;
    default:
      send_reject(bhs, RejectReason::invalid_pdu_field);  // a reserved SNACK type
      break;
  }
  note_exp_stat_sn(h.exp_stat_sn);
}

// A run [beg_run, beg_run + run_length) within `sent` numbers, RunLength 0 meaning "to the
// last one sent" (section 11.16.7). Empty when the run asks for something never sent.
namespace {
struct Run {
  std::uint64_t begin = 0, end = 0;
  bool valid = false;
};
Run run_of(const SnackRequest& h, std::uint32_t first_unacked, std::uint32_t sent) {
  Run r;
  r.begin = (h.beg_run == 0 && h.run_length == 0) ? first_unacked : h.beg_run;
  r.end = h.run_length == 0 ? sent : std::uint64_t{h.beg_run} + h.run_length;
  r.valid = r.begin < r.end && r.end <= sent;
  return r;
}
}  // namespace

// Data/R2T SNACK: Data-In of a read, or R2Ts of a write still receiving its data.
void TargetConnection::snack_data_r2t(const SnackRequest& h, const Bhs& bhs) {
  Task* t = find_task(h.itt);
  if (t != nullptr && t->state == Task::State::receiving && t->write_length > 0) {
    snack_r2t(*t, h, bhs);
    return;
  }
  RetainedTask* r = find_retained(h.itt);
  if (r == nullptr) {
    if (t != nullptr) {  // nothing of its answer has gone out yet
      send_reject(bhs, RejectReason::protocol_error, 0);
    } else if (remembered(retention_->evicted, h.itt.value)) {
      send_reject(bhs, RejectReason::snack_reject);  // no longer held
    } else {
      send_reject(bhs, RejectReason::invalid_pdu_field);  // unknown ITT (11.17.1, note 2)
    }
    return;
  }
  const auto sent = static_cast<std::uint32_t>(r->data_ins.size());
  if (sent == 0) {  // no Data-In; any R2Ts of the task were all answered
    send_reject(bhs, RejectReason::protocol_error, r->r2ts);
    return;
  }
  const Run run = run_of(h, r->acked, sent);
  bool ok = run.valid && run.begin >= r->acked && r->data != nullptr;
  for (std::uint64_t i = run.begin; ok && i < run.end; ++i)
    ok = r->data_ins[i].has(SentDataIn::kSent);
  if (!ok) {
    // Never sent or already acknowledged (section 11.16); the Reject names the next DataSN
    // we would send (section 11.17.3).
    send_reject(bhs, RejectReason::protocol_error, sent);
    return;
  }
  ResendJob job;
  job.kind = ResendJob::Kind::data_in;
  job.itt = h.itt;
  job.next = static_cast<std::uint32_t>(run.begin);
  job.end = static_cast<std::uint32_t>(run.end);
  start_resend(job, bhs);
}

// R2T SNACK: the outstanding R2Ts in the run go again, identical but for StatSN, ExpCmdSN and
// MaxCmdSN (section 11.16).
void TargetConnection::snack_r2t(Task& t, const SnackRequest& h, const Bhs& bhs) {
  const std::uint32_t sent = t.next_r2t_sn;
  if (h.beg_run == sent && h.run_length == 0) {
    // "Everything from the next R2TSN on": the initiator has had every R2T and sent all it was
    // asked for, so what is still missing of the open sequences (their last Data-Out PDUs,
    // which nothing later would reveal) was lost on the way. It is asked for again with
    // recovery R2Ts, as after a sequence reception timeout (sections 7.1.4.1, 7.9), instead of
    // the Reject a run of R2Ts never sent would get.
    bool any = false;
    if (t.unsolicited_received < t.unsolicited_expected) {
      if (!add_hole(t, t.unsolicited_received, t.unsolicited_expected - t.unsolicited_received,
                    Ttt::reserved()))
        return;
      t.unsolicited_received = t.unsolicited_expected;
      any = true;
    }
    const auto open = std::move(t.r2ts);
    t.r2ts.clear();
    for (const auto& r : open) {
      any = true;
      if (!add_hole(t, r.offset + r.received, r.length - r.received, r.ttt)) return;
    }
    if (!any) {
      send_reject(bhs, RejectReason::protocol_error, sent);
      return;
    }
    issue_r2ts(t);
    return;
  }
  const Run run = run_of(h, 0, sent);
  if (!run.valid) {
    send_reject(bhs, RejectReason::protocol_error, sent);
    return;
  }
  bool any = false;
  for (auto& r : t.r2ts) {
    if (r.r2t_sn < run.begin || r.r2t_sn >= run.end) continue;
    any = true;
    if (r.received > 0) {
      // The initiator answers it again from its start: forget what arrived for it.
      std::uint32_t good = r.received;
      std::erase_if(t.holes, [&](const Task::Hole& x) {
        if (x.origin != r.ttt) return false;
        good -= x.length;
        return true;
      });
      t.received -= good;
      r.received = 0;
      r.next_data_sn = 0;
    }
    R2t p;
    p.lun = t.lun;
    p.itt = t.itt;
    p.ttt = r.ttt;
    p.r2t_sn = r.r2t_sn;
    p.buffer_offset = r.offset;
    p.desired_data_transfer_length = r.length;
    Header out{p};
    fill_sns(out, false);
    ++stats_.pdus_resent;
    push(make_pdu(out, {}));
  }
  // Every R2T of the run already had all its data: acknowledged, in effect.
  if (!any) send_reject(bhs, RejectReason::protocol_error, sent);
}

// Status SNACK: the numbered responses with StatSN in the run (BegRun 0 and RunLength 0: all
// that are not acknowledged).
void TargetConnection::snack_status(const SnackRequest& h, const Bhs& bhs) {
  Retention& ret = *retention_;
  const SerialNumber begin =
      (h.beg_run == 0 && h.run_length == 0) ? exp_stat_sn_ : SerialNumber(h.beg_run);
  const std::int32_t ahead = serial_distance(begin, stat_sn_);  // StatSNs sent from `begin`
  if (serial_lt(begin, exp_stat_sn_) || ahead < 0 ||
      (h.run_length != 0 && h.run_length > static_cast<std::uint32_t>(ahead))) {
    send_reject(bhs, RejectReason::protocol_error);  // acknowledged, or never sent
    return;
  }
  const std::uint32_t count = h.run_length != 0 ? h.run_length : static_cast<std::uint32_t>(ahead);
  if (count == 0) return;  // nothing unacknowledged
  const SerialNumber end = begin + count;
  const auto held = std::count_if(ret.statuses.begin(), ret.statuses.end(), [&](const auto& s) {
    return serial_le(begin, s.stat_sn) && serial_lt(s.stat_sn, end);
  });
  if (static_cast<std::uint64_t>(held) != count) {
    send_reject(bhs, RejectReason::snack_reject);  // dropped by the bound (or a login answer)
    return;
  }
  ResendJob job;
  job.kind = ResendJob::Kind::status;
  job.next = begin.value();
  job.end = end.value();
  start_resend(job, bhs);
}

// DataACK (section 11.16.2): TTT and LUN name the A-bit Data-In; BegRun is the next DataSN the
// initiator expects, everything below it has arrived and need not be kept.
void TargetConnection::snack_data_ack(const SnackRequest& h, const Bhs& bhs) {
  Retention& ret = *retention_;
  auto owner = ret.ack_ttts.find(h.ttt.value);
  if (owner == ret.ack_ttts.end()) {
    // An answer already released by ExpStatSN is fine; anything else names no A-bit Data-In.
    if (!remembered(ret.old_ttts, h.ttt.value)) send_reject(bhs, RejectReason::invalid_data_ack);
    return;
  }
  RetainedTask* r = find_retained(Itt(owner->second));
  if (r == nullptr) return;  // released, its last resend still going out
  const auto sent = static_cast<std::uint32_t>(r->data_ins.size());
  bool ok = r->lun == h.lun && h.beg_run <= sent;
  for (std::uint32_t i = r->acked; ok && i < h.beg_run; ++i)
    ok = r->data_ins[i].has(SentDataIn::kSent);
  if (!ok) {
    send_reject(bhs, RejectReason::invalid_data_ack);
    return;
  }
  if (h.beg_run <= r->acked) return;  // nothing new
  r->acked = h.beg_run;
  // All of it acknowledged, and all of it sent: the data buffer goes.
  if (r->acked == sent && r->data != nullptr && find_task(r->itt) == nullptr) {
    const std::uint64_t size = r->data->size();
    r->data.reset();
    r->bytes -= size;
    ret.bytes -= size;
  }
}

// R-Data SNACK (section 11.16.3): all unacknowledged Data-In again, cut at the current
// MaxRecvDataSegmentLength, DataSN from the last DataACK's BegRun (or 0), then a SCSI Response
// carrying the SNACK Tag as the task's last response, with the status's original StatSN.
void TargetConnection::snack_rdata(const SnackRequest& h, const Bhs& bhs) {
  // Section 11.16.5-7: the SNACK Tag is neither 0 nor 0xffffffff, BegRun and RunLength are 0.
  if (h.ttt.value == 0 || h.ttt.is_reserved() || h.beg_run != 0 || h.run_length != 0) {
    send_reject(bhs, RejectReason::invalid_pdu_field);
    return;
  }
  Task* t = find_task(h.itt);
  RetainedTask* r = find_retained(h.itt);
  if (r == nullptr) {
    if (t != nullptr) {
      send_reject(bhs, RejectReason::protocol_error, 0);  // no answer yet
    } else if (remembered(retention_->evicted, h.itt.value)) {
      send_reject(bhs, RejectReason::snack_reject);
    } else {
      send_reject(bhs, RejectReason::invalid_pdu_field);
    }
    return;
  }
  if (t != nullptr) {  // its first transmission is still going out: ask again later
    send_reject(bhs, RejectReason::snack_reject);
    return;
  }
  if (retention_->jobs.size() >= kMaxResendJobs) {
    send_reject(bhs, RejectReason::snack_reject);
    return;
  }
  Retention& ret = *retention_;
  const std::uint64_t before = r->data_ins.size() * sizeof(SentDataIn);
  if (r->data != nullptr && r->acked < r->data_ins.size()) {
    std::uint32_t offset = r->data_ins[r->acked].offset;
    r->data_ins.resize(r->acked);
    std::uint32_t burst = 0;
    while (offset < r->data_length) {
      const std::uint32_t length =
          std::min({send_limit_, r->data_length - offset, params_.max_burst_length - burst});
      burst += length;
      SentDataIn s;
      s.offset = offset;
      s.length = length;
      s.flags = SentDataIn::kSent;
      if (offset + length == r->data_length || burst == params_.max_burst_length) {
        s.flags |= SentDataIn::kFinal;
        burst = 0;
      }
      r->data_ins.push_back(s);
      offset += length;
    }
  }
  const std::uint64_t after = r->data_ins.size() * sizeof(SentDataIn);
  r->status_in_data_in = false;
  r->snack_tag = h.ttt.value;
  ResendJob job;
  job.kind = ResendJob::Kind::data_in;
  job.itt = h.itt;
  job.next = r->acked;
  job.end = static_cast<std::uint32_t>(r->data_ins.size());
  job.then_response = true;
  r->bytes = r->bytes - before + after;
  ret.bytes -= before;
  start_resend(job, bhs);
  charge(after);
}

// ---------------------------------------------------------------------------------------------
// Digest errors and command retry.

// A PDU whose data digest failed (already answered with a Reject, reason 0x02). Its header is
// sound (section 7.8).
void TargetConnection::recover_data_digest(const Bhs& bhs) {
  auto header = decode_header(bhs, framer_.config().decode);
  if (!header) return;
  if (const auto* d = std::get_if<DataOut>(&*header)) {
    note_exp_stat_sn(d->exp_stat_sn);
    receive_data_out(*d, bhs, {}, false, true);
    return;
  }
  if (const auto* c = std::get_if<ScsiCommand>(&*header)) {
    // The command is discarded: the initiator sends it again with the same ITT, CmdSN and CDB
    // (section 7.2.1). Unsolicited Data-Out that follows it meanwhile is dropped quietly.
    note_exp_stat_sn(c->exp_stat_sn);
    if (!c->final && find_task(c->itt) == nullptr) discard_data_of(c->itt);
  }
}

// A stretch of a write's data that did not arrive intact; false if the task had to end.
bool TargetConnection::add_hole(Task& t, std::uint32_t offset, std::uint32_t length, Ttt origin) {
  if (length == 0) return true;
  if (!t.holes.empty()) {
    Task::Hole& last = t.holes.back();
    if (last.origin == origin && last.offset + last.length == offset) {
      last.length += length;
      return true;
    }
  }
  if (t.holes.size() >= kMaxHoles) {
    end_task_with_sense(t, 0x0b, 0x47, 0x05);  // ABORTED COMMAND: PROTOCOL SERVICE CRC ERROR
    return false;
  }
  t.holes.push_back({offset, length, origin});
  return true;
}

// Section 7.2.1: a command whose ITT and CmdSN match one we have is a retry. While the task runs
// the duplicate is ignored (section 4.2.2.1); once it has its status (not yet acknowledged),
// the answer goes again: the unacknowledged Data-In, then the status.
bool TargetConnection::handle_retry(const ScsiCommand& h) {
  if (Task* t = find_task(h.itt); t != nullptr && t->cmd_sn == h.cmd_sn) {
    ++stats_.command_retries;
    return true;
  }
  if (auto e = ses_->early_.find(h.cmd_sn.value());
      e != ses_->early_.end() && e->second.task && e->second.task->itt == h.itt)
    return true;  // already waiting behind a CmdSN gap
  RetainedTask* r = find_retained(h.itt);
  if (r == nullptr || r->cmd_sn != h.cmd_sn) return false;
  ++stats_.command_retries;
  ResendJob job;
  job.kind = ResendJob::Kind::data_in;
  job.itt = h.itt;
  job.next = r->acked;
  job.end = r->data != nullptr ? static_cast<std::uint32_t>(r->data_ins.size()) : r->acked;
  const bool status_with_data = r->status_in_data_in && job.end > job.next &&
                                r->data_ins[job.end - 1].has(SentDataIn::kStatus);
  job.then_response = !status_with_data;
  start_resend(job, encode(h));
  return true;
}

}  // namespace uiscsi::core
