// TargetConnection: SCSI commands, Data-Out collection with R2T, execution hand-off, and the
// answer (Data-In sequences and SCSI Response).
#include <algorithm>
#include <cstring>

#include "core/bytes.hpp"
#include "core/target_connection_internal.hpp"
#include "core/target_session.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {

namespace {

// Fixed-format sense data (SPC-4 section 4.5.3), 18 bytes.
std::vector<std::byte> fixed_sense(std::uint8_t key, std::uint8_t asc, std::uint8_t ascq) {
  std::vector<std::byte> s(18);
  s[0] = std::byte{0x70};
  s[2] = static_cast<std::byte>(key & 0x0f);
  s[7] = std::byte{10};
  s[12] = std::byte{asc};
  s[13] = std::byte{ascq};
  return s;
}

// SCSI Response data segment: SenseLength, then the sense bytes (section 11.4.7).
std::vector<std::byte> sense_segment(const std::vector<std::byte>& sense) {
  if (sense.empty()) return {};
  std::vector<std::byte> out(2 + sense.size());
  store_be16(out.data(), static_cast<std::uint16_t>(sense.size()));
  std::memcpy(out.data() + 2, sense.data(), sense.size());
  return out;
}

}  // namespace

bool TargetConnection::Expander::expand(const SequenceRef& ref, OutPdu& out) {
  if (ref.owner == 0) return c_.expand_resend(ref.sequence, out);  // a retransmission (ERL >= 1)
  for (;;) {
    if (!next(ref, out)) return false;
    if (c_.outgoing(out)) return true;  // else lost on purpose (FaultPlan): on to the next one
  }
}

bool TargetConnection::Expander::next(const SequenceRef& ref, OutPdu& out) {
  auto h = c_.handles_.find(ref.owner);
  if (h == c_.handles_.end()) return false;
  Task* t = c_.find_task(Itt(h->second));
  if (t == nullptr || t->handle != ref.owner || t->aborted) return false;

  std::uint32_t offset, length, data_sn;
  bool final;
  if (!t->reversed.empty()) {
    const auto p = t->reversed.back();
    t->reversed.pop_back();
    offset = p.offset;
    length = p.length;
    data_sn = p.data_sn;
    final = p.final;
    t->data_in_sent += length;
  } else {
    if (t->data_in_sent >= t->data_in_length) return false;
    offset = t->data_in_sent;
    const std::uint32_t burst_left = c_.params_.max_burst_length - t->burst_sent;
    // Whole 4-byte words in every Data-In but a sequence's last, even when the initiator's
    // MaxRecvDataSegmentLength is not a multiple of 4 (UNH-IOL target FFP 9.3.3).
    length = std::min({c_.send_limit_ & ~3u, t->data_in_length - offset, burst_left});
    data_sn = t->next_data_sn++;
    t->data_in_sent += length;
    t->burst_sent += length;
    final = t->data_in_sent == t->data_in_length || t->burst_sent == c_.params_.max_burst_length;
    if (t->burst_sent == c_.params_.max_burst_length) t->burst_sent = 0;
  }
  const bool last = t->data_in_sent >= t->data_in_length && t->reversed.empty();
  DataIn d;
  d.final = final;
  d.lun = t->lun;
  d.itt = t->itt;
  d.ttt = Ttt::reserved();
  d.data_sn = data_sn;
  d.buffer_offset = offset;
  d.exp_cmd_sn = c_.ses_->exp_cmd_sn_;
  d.max_cmd_sn = c_.max_cmd_sn();
  d.stat_sn = c_.stat_sn_;
  if (last && t->status_in_data_in) {
    d.status_present = true;
    d.final = true;
    d.status = t->outcome.status;
    d.stat_sn = t->status_stat_sn;
    d.residual_count = t->residual;
    d.underflow = t->underflow;
    d.overflow = t->overflow;
  }
  if (last && c_.config_.faults.set_a_bit && c_.params_.error_recovery_level >= 1) {
    // Section 11.7.2: the A bit asks for a DataACK, which names this TTT and LUN.
    d.acknowledge = true;
    d.ttt = Ttt(c_.next_ttt_++);
    if (d.ttt.is_reserved()) d.ttt = Ttt(c_.next_ttt_++);
  }
  if (c_.erl1()) c_.note_data_in(t->itt, d, length);
  out = c_.make_pdu(Header{d}, std::span<const std::byte>(*t->data_in).subspan(offset, length));
  out.keep_alive = t->data_in;
  c_.stats_.data_in_bytes += length;
  if (last) c_.free_task(t->itt);  // the PDUs keep the data alive
  return true;
}

std::span<std::byte> TargetConnection::Placement::place(const Header& header,
                                                        std::uint32_t length) {
  const auto* d = std::get_if<DataOut>(&header);
  if (d == nullptr) return {};
  Task* t = c_.find_task(d->itt);
  if (t == nullptr || t->aborted || t->state != Task::State::receiving) return {};
  if (std::uint64_t{d->buffer_offset} + length > t->data_out.size()) return {};
  return std::span(t->data_out).subspan(d->buffer_offset, length);
}

TargetConnection::~TargetConnection() {
  if (ses_) ses_->leave(this);
}

void TargetConnection::install_data_path() {
  if (!placement_) {
    placement_ = std::make_unique<Placement>(*this);
    framer_.set_placement(placement_.get());
  }
  if (!expander_) {
    expander_ = std::make_unique<Expander>(*this);
    tx_.set_expander(expander_.get());
  }
}

TargetConnection::Task* TargetConnection::find_task(Itt itt) {
  auto it = tasks_.find(itt.value);
  return it == tasks_.end() ? nullptr : it->second.get();
}

void TargetConnection::free_task(Itt itt) {
  auto it = tasks_.find(itt.value);
  if (it == tasks_.end()) return;
  handles_.erase(it->second->handle);
  tasks_.erase(it);
}

void TargetConnection::handle_command(const ScsiCommand& h, const InboundPdu& pdu, TimePoint now) {
  note_exp_stat_sn(h.exp_stat_sn);
  // Section 7.2.1: a command we already have, sent again (ERL >= 1).
  if (erl1() && handle_retry(h)) return;
  if (!check_cmd_sn(pdu.bhs, h.cmd_sn, h.immediate)) return;  // silently, section 4.2.2.1
  if (session_->discovery) {
    if (!h.immediate) advance_cmd_sn(h.cmd_sn, now);
    send_reject(pdu.bhs, RejectReason::protocol_error);  // no SCSI in a discovery session
    return;
  }
  auto ahs = parse_ahs(pdu.ahs);
  if (!ahs) {
    if (!h.immediate) advance_cmd_sn(h.cmd_sn, now);
    send_reject(pdu.bhs, RejectReason::invalid_pdu_field);
    return;
  }
  // A new command with this ITT: any data still arriving for an old task of that tag is gone.
  draining_.erase(std::remove(draining_.begin(), draining_.end(), h.itt.value), draining_.end());
  auto t = std::make_unique<Task>();
  // Unique in the session: an LU completion finds the task after a reassignment.
  t->handle = ses_->next_handle_++;
  if (t->handle == 0) t->handle = ses_->next_handle_++;  // 0 marks retransmissions in the TxQueue
  t->itt = h.itt;
  t->lun = h.lun;
  t->cmd_sn = h.cmd_sn;
  t->immediate = h.immediate;
  t->attr = h.attr;
  t->cdb.assign(h.cdb.begin(), h.cdb.end());
  if (!ahs->extended_cdb.empty())
    t->cdb.insert(t->cdb.end(), ahs->extended_cdb.begin(), ahs->extended_cdb.end());
  if (h.write) {
    t->write_length = h.expected_data_transfer_length;
    if (h.read) t->read_length = ahs->bidi_read_expected_data_transfer_length.value_or(0);
  } else if (h.read) {
    t->read_length = h.expected_data_transfer_length;
  }

  const auto immediate = static_cast<std::uint32_t>(pdu.data.size());
  if (t->write_length > config_.max_command_write_bytes) {
    // The initiator's length sizes our buffer: refuse it before allocating anything.
    t->refusal = Task::Refusal{0x02, 0x05, 0x0e, 0x03};  // INVALID FIELD IN COMMAND IU
  } else if (write_bytes_held_ + t->write_length > config_.max_connection_write_bytes) {
    t->refusal = Task::Refusal{0x28, 0, 0, 0};  // TASK SET FULL
  } else {
    t->data_out.resize(t->write_length);
    write_bytes_held_ += t->write_length;
    t->held = &write_bytes_held_;

    // Unsolicited data: how much the initiator owes us before any R2T (section 4.2.5.2).
    std::uint32_t unsolicited_total = 0;
    if (t->write_length > 0) {
      if (!params_.initial_r2t) {
        unsolicited_total = std::min(params_.first_burst_length, t->write_length);
      } else if (params_.immediate_data) {
        unsolicited_total = immediate;
      }
    }
    const bool bad_immediate =
        immediate > 0 && (!params_.immediate_data || immediate > t->write_length ||
                          immediate > params_.first_burst_length);
    const bool bad_follow = !h.final && (params_.initial_r2t || t->write_length == 0);
    const bool short_unsolicited = h.final && !params_.initial_r2t && immediate < unsolicited_total;
    if (immediate > 0 && !bad_immediate)
      std::memcpy(t->data_out.data(), pdu.data.data(), immediate);
    t->received = immediate;
    t->unsolicited_received = immediate;
    t->unsolicited_expected = bad_follow || h.final ? immediate : unsolicited_total;
    t->next_r2t_offset = std::max(unsolicited_total, immediate);
    if (bad_immediate || bad_follow) {
      t->refusal = Task::Refusal{0x02, 0x0b, 0x0c, 0x0c};  // unexpected unsolicited data
    } else if (short_unsolicited) {
      t->refusal = Task::Refusal{0x02, 0x0b, 0x0c, 0x0d};  // not enough unsolicited data
    }
  }

  if (!h.immediate) {
    if (h.cmd_sn != ses_->exp_cmd_sn_) {
      // Ahead of a gap: it waits for the missing CmdSNs, which may come on any connection of
      // the session (section 4.2.2.1).
      ses_->early_.emplace(h.cmd_sn.value(), TargetSession::Early{this, std::move(t)});
      return;
    }
    ++ses_->exp_cmd_sn_;
  }
  if (Task* task = admit_command(std::move(t), now); task != nullptr) start_task(*task);
  admit_waiting(now);  // commands that were waiting behind this CmdSN go now, in order
}

// A command just admitted: it ends at once if it was refused, or asks for its data and runs.
void TargetConnection::start_task(Task& t) {
  if (t.refusal) {
    const Task::Refusal r = *t.refusal;
    if (t.write_length > 0) discard_data_of(t.itt);  // unsolicited data may follow
    CommandOutcome o;
    o.status = r.status;
    if (r.status == 0x02) o.sense = fixed_sense(r.key, r.asc, r.ascq);
    end_task(t, std::move(o));
    return;
  }
  issue_r2ts(t);
  maybe_execute(t);
}

void TargetConnection::discard_data_of(Itt itt) {
  constexpr std::size_t kRemembered = 64;
  if (std::find(draining_.begin(), draining_.end(), itt.value) != draining_.end()) return;
  if (draining_.size() == kRemembered) draining_.pop_front();
  draining_.push_back(itt.value);
}

TargetConnection::Task* TargetConnection::admit_command(std::unique_ptr<Task> t, TimePoint now) {
  (void)now;
  if (ses_->aborted_before_arrival_.erase(t->cmd_sn.value()) > 0)
    return nullptr;  // aborted before it came
  if (tasks_.count(t->itt.value) || member_with_task(t->itt) != nullptr) {  // ITTs are per session
    Bhs b;
    store_be32(b.bytes.data() + 16, t->itt.value);
    send_reject(b, RejectReason::task_in_progress);
    return nullptr;
  }
  ++stats_.commands;
  ++commands_seen_;
  const Itt itt = t->itt;
  handles_[t->handle] = itt.value;
  Task& task = *t;
  tasks_.emplace(itt.value, std::move(t));
  if (config_.faults.async_logout_after_commands == commands_seen_)
    send_async(AsyncEvent::logout_request, 0, 0, config_.faults.async_logout_within);
  if (config_.faults.async_drop_after_commands == commands_seen_) {
    const auto time2retain = static_cast<std::uint16_t>(params_.default_time2retain);
    send_async(AsyncEvent::connection_drop, session_->cid, config_.faults.async_time2wait,
               time2retain);
    // At ERL 2 the connection's tasks, this one among them, wait for TASK REASSIGN on another
    // connection for Parameter2 + Parameter3 (RFC 7143 section 11.9.1); the socket closes
    // once the event has gone out, with no further close() to orphan them then.
    orphan_tasks(now_, std::chrono::seconds(config_.faults.async_time2wait + time2retain));
    begin_closing();
    close_reason_ = make_error_code(errc::cancelled);
    return nullptr;
  }
  return &task;
}

void TargetConnection::issue_r2ts(Task& t) {
  auto room = [&] {
    return t.state == Task::State::receiving && !t.aborted &&
           t.r2ts.size() < std::max<std::uint32_t>(1, params_.max_outstanding_r2t);
  };
  auto send = [&](std::uint32_t offset, std::uint32_t length) {
    Task::R2tState r;
    r.ttt = Ttt(next_ttt_++);
    if (r.ttt.is_reserved()) r.ttt = Ttt(next_ttt_++);
    r.r2t_sn = t.next_r2t_sn++;
    r.offset = offset;
    r.length = length;
    t.r2ts.push_back(r);
    R2t pdu;
    pdu.lun = t.lun;
    pdu.itt = t.itt;
    pdu.ttt = r.ttt;
    pdu.r2t_sn = r.r2t_sn;
    pdu.buffer_offset = r.offset;
    pdu.desired_data_transfer_length = r.length;
    Header h{pdu};
    fill_sns(h, false);  // R2T carries the next StatSN without taking it
    push(make_pdu(h, {}));
  };
  // Recovery R2Ts first (RFC 7143 section 7.8): lost Data-Out, once the sequence it belonged to
  // has ended. Each takes the next R2TSN and a new TTT, and asks for part of what an earlier R2T
  // (or the unsolicited burst) covered.
  for (std::size_t i = 0; i < t.holes.size() && room();) {
    Task::Hole& hole = t.holes[i];
    const bool open = hole.origin.is_reserved()
                          ? t.unsolicited_received < t.unsolicited_expected
                          : std::any_of(t.r2ts.begin(), t.r2ts.end(), [&](const Task::R2tState& r) {
                              return r.ttt == hole.origin;
                            });
    if (open) {
      ++i;
      continue;
    }
    const std::uint32_t length = std::min(hole.length, params_.max_burst_length);
    const std::uint32_t offset = hole.offset;
    hole.offset += length;
    hole.length -= length;
    if (hole.length == 0) t.holes.erase(t.holes.begin() + static_cast<std::ptrdiff_t>(i));
    ++stats_.recovery_r2ts;
    send(offset, length);
  }
  while (room() && t.next_r2t_offset < t.write_length) {
    const std::uint32_t length =
        std::min(params_.max_burst_length, t.write_length - t.next_r2t_offset);
    const std::uint32_t offset = t.next_r2t_offset;
    t.next_r2t_offset += length;
    send(offset, length);
  }
}

void TargetConnection::maybe_execute(Task& t) {
  if (t.state != Task::State::receiving || t.aborted) return;
  if (!t.data_complete() || t.unsolicited_received < t.unsolicited_expected || !t.r2ts.empty() ||
      !t.holes.empty() || t.next_r2t_offset < t.write_length)
    return;
  t.state = Task::State::executing;
  ExecuteCommand e;
  e.task = t.handle;
  e.lun = t.lun;
  e.cdb = t.cdb;
  e.data_out = t.data_out;
  e.expected_data_in = t.read_length;
  e.attribute = t.attr;
  stats_.data_out_bytes += t.write_length;
  events_.push_back(e);
}

void TargetConnection::handle_data_out(const DataOut& h, const InboundPdu& pdu, TimePoint now) {
  (void)now;
  note_exp_stat_sn(h.exp_stat_sn);
  receive_data_out(h, pdu.bhs, pdu.data, pdu.data_placed, false);
}

// One Data-Out PDU. `damaged`: its data digest failed at ERL >= 1 (already rejected); the
// header is sound, so the PDU takes its place in its sequence and its range becomes a hole,
// asked for again with a recovery R2T (section 7.8). At ERL >= 1 a jump in DataSN and offset
// (PDUs lost to header digest errors) leaves a hole the same way.
void TargetConnection::receive_data_out(const DataOut& h, const Bhs& bhs,
                                        std::span<const std::byte> data, bool placed,
                                        bool damaged) {
  Task* t = find_task(h.itt);
  if (t == nullptr) {
    if (damaged) return;
    // Data for a task we ended early, sent before the initiator saw the status: dropped. Any
    // other unknown ITT is an invalid field (section 11.17.1).
    if (std::find(draining_.begin(), draining_.end(), h.itt.value) != draining_.end()) return;
    send_reject(bhs, RejectReason::invalid_pdu_field);
    return;
  }
  if (t->aborted || t->state != Task::State::receiving) return;  // late data for a closed task
  const auto len = damaged ? bhs.data_segment_length() : static_cast<std::uint32_t>(data.size());
  // False when the task ended (too many holes).
  auto copy_in = [&](Ttt origin) {
    if (damaged) return add_hole(*t, h.buffer_offset, len, origin);
    if (!placed && len > 0 && std::uint64_t{h.buffer_offset} + len <= t->data_out.size())
      std::memcpy(t->data_out.data() + h.buffer_offset, data.data(), len);
    t->received += len;
    return true;
  };
  if (h.ttt.is_reserved()) {
    // Unsolicited Data-Out (section 4.2.5.2).
    if (t->unsolicited_received >= t->unsolicited_expected) {
      end_task_with_sense(*t, 0x0b, 0x0c, 0x0c);  // unexpected unsolicited data
      return;
    }
    if (erl1() && h.data_sn > t->unsolicited_data_sn && h.buffer_offset > t->unsolicited_received &&
        h.buffer_offset < t->unsolicited_expected) {
      if (!add_hole(*t, t->unsolicited_received, h.buffer_offset - t->unsolicited_received,
                    Ttt::reserved()))
        return;
      t->unsolicited_received = h.buffer_offset;
      t->unsolicited_data_sn = h.data_sn;
    }
    if (h.data_sn != t->unsolicited_data_sn) {
      end_task_with_sense(*t, 0x0b, 0x4b, 0x00);  // DATA PHASE ERROR: DataSN out of order
      return;
    }
    if (h.buffer_offset != t->unsolicited_received) {
      end_task_with_sense(*t, 0x0b, 0x4b, 0x05);  // DATA OFFSET ERROR
      return;
    }
    if (t->unsolicited_received + len > t->unsolicited_expected) {
      end_task_with_sense(*t, 0x0b, 0x0c, 0x0c);  // more than the first burst
      return;
    }
    if (!copy_in(Ttt::reserved())) return;
    ++t->unsolicited_data_sn;
    t->unsolicited_received += len;
    const bool done = t->unsolicited_received == t->unsolicited_expected;
    if (h.final != done) {
      end_task_with_sense(*t, 0x0b, h.final ? 0x0c : 0x4b, h.final ? 0x0d : 0x00);
      return;
    }
    if (done && !t->holes.empty()) issue_r2ts(*t);
  } else {
    auto r = std::find_if(t->r2ts.begin(), t->r2ts.end(),
                          [&](const Task::R2tState& x) { return x.ttt == h.ttt; });
    if (r == t->r2ts.end()) {
      if (!damaged) send_reject(bhs, RejectReason::invalid_pdu_field);  // a TTT we never gave
      return;
    }
    const std::uint32_t at = r->offset + r->received;
    if (erl1() && h.data_sn > r->next_data_sn && h.buffer_offset > at &&
        h.buffer_offset < r->offset + r->length) {
      if (!add_hole(*t, at, h.buffer_offset - at, r->ttt)) return;
      r->received = h.buffer_offset - r->offset;
      r->next_data_sn = h.data_sn;
    }
    if (h.data_sn != r->next_data_sn) {
      end_task_with_sense(*t, 0x0b, 0x4b, 0x00);  // DATA PHASE ERROR: DataSN out of order
      return;
    }
    if (h.buffer_offset != r->offset + r->received) {
      end_task_with_sense(*t, 0x0b, 0x4b, 0x05);  // DATA OFFSET ERROR
      return;
    }
    if (r->received + len > r->length) {
      end_task_with_sense(*t, 0x0b, 0x4b, 0x02);  // TOO MUCH WRITE DATA
      return;
    }
    if (!copy_in(r->ttt)) return;
    ++r->next_data_sn;
    r->received += len;
    const bool done = r->received == r->length;
    if (h.final != done) {
      end_task_with_sense(*t, 0x0b, 0x4b, 0x00);  // F bit where the sequence does not end
      return;
    }
    if (done) {
      t->r2ts.erase(r);
      issue_r2ts(*t);
    }
  }
  maybe_execute(*t);
}

void TargetConnection::complete(std::uint32_t handle, CommandOutcome outcome, TimePoint now) {
  now_ = now;
  auto h = handles_.find(handle);
  if (h == handles_.end()) {
    // The task moved (ERL 2): to another connection, or to the session's orphans.
    ses_->route_complete(this, handle, std::move(outcome), now);
    return;
  }
  Task* t = find_task(Itt(h->second));
  if (t == nullptr || t->handle != handle) return;
  if (t->aborted || closed_) {
    free_task(t->itt);
    return;
  }
  t->outcome = std::move(outcome);
  send_response(*t);
}

void TargetConnection::end_task_with_sense(Task& t, std::uint8_t key, std::uint8_t asc,
                                           std::uint8_t ascq) {
  CommandOutcome o;
  o.status = 0x02;
  o.sense = fixed_sense(key, asc, ascq);
  end_task(t, std::move(o));
}

// Ends a task before it ran (a refusal or a Data-Out error at ERL 0): the status goes out now,
// and Data-Out still on its way for the task is dropped quietly.
void TargetConnection::end_task(Task& t, CommandOutcome outcome) {
  if (t.state == Task::State::receiving && !t.data_complete()) discard_data_of(t.itt);
  t.outcome = std::move(outcome);
  t.state = Task::State::responding;
  t.r2ts.clear();
  send_response(t);
}

void TargetConnection::send_response(Task& t) {
  t.state = Task::State::responding;
  const auto produced = static_cast<std::uint64_t>(t.outcome.data_in.size());
  t.data_in_length = static_cast<std::uint32_t>(std::min<std::uint64_t>(produced, t.read_length));
  if (produced > t.read_length) {
    t.overflow = true;
    t.residual =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(produced - t.read_length, 0xffffffffu));
  } else if (produced < t.read_length) {
    t.underflow = true;
    t.residual = t.read_length - static_cast<std::uint32_t>(produced);
  }
  if (t.read_length == 0 && produced == 0 && t.outcome.data_out_length) {
    // A write whose CDB asks for more (overflow) or less (underflow) than the Expected Data
    // Transfer Length the initiator sent (RFC 7143 section 11.4.5.1).
    const std::uint64_t wanted = *t.outcome.data_out_length;
    if (wanted > t.write_length) {
      t.overflow = true;
      t.residual =
          static_cast<std::uint32_t>(std::min<std::uint64_t>(wanted - t.write_length, 0xffffffffu));
    } else if (wanted < t.write_length) {
      t.underflow = true;
      t.residual = t.write_length - static_cast<std::uint32_t>(wanted);
    }
  }
  const bool good = t.outcome.status == 0x00 && t.outcome.sense.empty();
  auto sense = sense_segment(t.outcome.sense);
  if (t.data_in_length > 0) {
    t.data_in = std::make_shared<std::vector<std::byte>>(std::move(t.outcome.data_in));
    t.status_in_data_in = good;
    if (t.status_in_data_in) {
      t.status_stat_sn = stat_sn_;  // taken now so StatSNs leave in queue order
      ++stat_sn_;
    }
    if (config_.faults.data_in_out_of_order) {
      // Plan every PDU, then send them last-first.
      std::uint32_t off = 0, burst = 0, sn = 0;
      while (off < t.data_in_length) {
        const std::uint32_t len =
            std::min({send_limit_, t.data_in_length - off, params_.max_burst_length - burst});
        burst += len;
        const bool fin = off + len == t.data_in_length || burst == params_.max_burst_length;
        if (burst == params_.max_burst_length) burst = 0;
        t.reversed.push_back({off, len, sn++, fin});
        off += len;
      }
      t.data_in_sent = 0;
    }
  }
  // ERL >= 1: the answer is kept until ExpStatSN acknowledges it (RFC 7143 section 7.1.5). In a
  // SCSI Response the status takes the next StatSN (fill_sns below).
  if (erl1()) retain_answer(t, t.status_in_data_in ? t.status_stat_sn : stat_sn_, sense);
  if (t.data_in_length > 0) tx_.push_sequence({t.handle, 0});
  if (t.data_in_length == 0 || !t.status_in_data_in) {
    ScsiResponse r;
    r.itt = t.itt;
    r.status = t.outcome.status;
    r.residual_count = t.residual;
    r.underflow = t.underflow;
    r.overflow = t.overflow;
    // ExpDataSN: how many Data-In PDUs (and R2Ts) went out for this command (section 11.4.8).
    std::uint32_t pdus = 0, off = 0, burst = 0;
    while (off < t.data_in_length) {
      const std::uint32_t len =
          std::min({send_limit_, t.data_in_length - off, params_.max_burst_length - burst});
      burst = (burst + len) % params_.max_burst_length;
      off += len;
      ++pdus;
    }
    r.exp_data_sn = pdus + t.next_r2t_sn;
    Header h{r};
    fill_sns(h, true);
    push(make_owned(h, std::move(sense)));
  }
  if (t.data_in_length == 0) free_task(t.itt);
}

void TargetConnection::abort_task(Task& t) {
  t.aborted = true;
  ++stats_.aborted_tasks;
  if (t.state != Task::State::executing) free_task(t.itt);  // the LU no longer holds its buffers
}

}  // namespace uiscsi::core
