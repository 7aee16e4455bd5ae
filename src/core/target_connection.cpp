// TargetConnection: login, dispatch, the command window, NOP, task management, text, logout,
// timers and faults. SCSI commands and their data are in target_data.cpp.
#include <algorithm>
#include <cstring>

#include "core/bytes.hpp"
#include "core/crc32c.hpp"
#include "core/target_connection_internal.hpp"
#include "core/target_session.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {

TargetConnection::TargetConnection(const TargetConfig& config, TargetDirectory& directory,
                                   RandomSource& random, TimePoint now)
    : config_(config), directory_(directory), random_(random), now_(now) {
  FramerConfig fc;
  fc.role = Role::target;
  fc.max_recv_data_segment_length = kLoginMaxDataSegmentLength;
  fc.decode.reserved = config_.reserved_policy;
  framer_.configure(fc);
  login_deadline_ = now + config_.login_timeout;
  last_received_ = now;
  // A random first StatSN, so initiators cannot lean on a fixed value.
  std::array<std::byte, 4> r{};
  random_.fill(r);
  stat_sn_ = SerialNumber(load_be32(r.data()) & 0x7fffffffu);
  login_.emplace(config_, directory_, random_, stat_sn_);
  retention_ = std::make_unique<Retention>();
  ses_ = std::make_shared<TargetSession>();  // replaced by the shared one at login
}

bool TargetConnection::finished() const {
  return (closing_ && tx_.empty()) || closed_;
}
bool TargetConnection::logged_in() const {
  return session_.has_value() && !closed_;
}
const TargetLoginOutcome* TargetConnection::session() const {
  return session_ ? &*session_ : nullptr;
}
std::string TargetConnection::login_failure() const {
  return login_ && login_->state() == TargetLogin::State::failed ? login_->failure_detail()
                                                                 : std::string();
}
std::size_t TargetConnection::tasks() const {
  std::size_t n = tasks_.size();
  for (const auto& [sn, e] : ses_->early_)
    n += e.conn == this && e.task != nullptr;
  for (const auto& [itt, o] : ses_->orphans_)
    n += o.origin == member_id_ && o.task && o.task->state == Task::State::executing &&
         !o.task->answered;
  return n;
}
std::uint64_t TargetConnection::retained_bytes() const {
  return retention_->bytes;
}
std::size_t TargetConnection::retained_statuses() const {
  return retention_->statuses.size();
}

std::optional<TargetEvent> TargetConnection::poll_event() {
  if (events_.empty()) return std::nullopt;
  auto e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void TargetConnection::close(std::error_code reason) {
  if (closed_) return;
  // ERL 2: a connection that fails leaves its tasks to the session for reassignment.
  if (reason) orphan_tasks(now_);
  closed_ = true;
  close_reason_ = reason;
  tx_.clear();
  // Tasks the LU is running are freed by complete(); every other one (waiting for Data-Out,
  // sending Data-In, or queued behind a CmdSN gap) ends here with its buffers.
  // At ERL 2 a failed connection's command behind a CmdSN gap leaves the window with it: the
  // initiator retries it with the same CmdSN on its new connection (RFC 7143 section 6.2.1),
  // which must then be taken. Otherwise its CmdSN still counts when the window gets there.
  const bool retry_expected = reason && params_.error_recovery_level >= 2;
  for (auto it = ses_->early_.begin(); it != ses_->early_.end();) {
    if (it->second.conn != this) {
      ++it;
    } else if (retry_expected) {
      it = ses_->early_.erase(it);
    } else {
      it->second.task.reset();
      ++it;
    }
  }
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    Task& t = *it->second;
    t.aborted = true;
    if (t.state == Task::State::executing) {
      ++it;
      continue;
    }
    handles_.erase(t.handle);
    it = tasks_.erase(it);
  }
  events_.push_back(TargetConnectionClosed{reason});
}

void TargetConnection::begin_closing() {
  if (closing_) return;
  closing_ = true;
  closing_deadline_ = now_ + config_.nop_in_timeout;
}

// ---------------------------------------------------------------------------------------------
// Input.

void TargetConnection::feed(std::span<const std::byte> bytes, TimePoint now) {
  now_ = now;
  // While closing, input is dropped unread, as receive_buffer() does.
  while (!bytes.empty() && !closed_ && !closing_) {
    const std::size_t n = framer_.feed(bytes);
    bytes = bytes.subspan(n);
    bytes_received_ += n;
    stats_.bytes_in += n;
    process_input(now);
    if (n == 0 && framer_.staged_bytes() == 0) break;
  }
}

std::span<std::byte> TargetConnection::receive_buffer() {
  if (closed_ || closing_) return {};
  return framer_.read_buffer();
}

void TargetConnection::commit_received(std::size_t n, TimePoint now) {
  now_ = now;
  if (closed_) return;
  framer_.commit(n);
  bytes_received_ += n;
  stats_.bytes_in += n;
  process_input(now);
}

void TargetConnection::connection_lost(std::error_code reason, TimePoint now) {
  now_ = now;
  close(reason ? reason : make_error_code(errc::connection_closed));
}

void TargetConnection::process_input(TimePoint now) {
  while (!closed_ && !closing_) {
    if (config_.faults.drop_after_bytes && bytes_received_ >= config_.faults.drop_after_bytes) {
      close(errc::cancelled);  // injected: the connection drops
      return;
    }
    auto r = framer_.next();
    if (!r) {
      const std::error_code ec = r.error();
      if (framer_.failed()) {  // lengths can no longer be trusted
        close(ec);
        return;
      }
      if (!session_) {
        login_->not_a_login_request("undecodable PDU during login: " + ec.message());
        finish_login_step(now);
        return;
      }
      if (ec == protocol_errc::header_digest_mismatch) {
        // Recoverable only at ERL >= 1, where the framer skips the PDU when its length is within
        // our limit. Nothing in it can be trusted: it is discarded without an answer, and a
        // later gap, the initiator's SNACK or its command retry recovers it (section 7.8).
        ++stats_.digest_errors;
        continue;
      }
      if (ec == protocol_errc::data_digest_mismatch) {
        ++stats_.digest_errors;
        send_reject(framer_.failed_bhs(), RejectReason::data_digest_error);
        if (erl1()) {  // the header is sound: ask for the data again (section 7.8)
          recover_data_digest(framer_.failed_bhs());
          continue;
        }
        // At error recovery level 0 the command the data belonged to cannot complete.
        if (Task* t = find_task(framer_.failed_bhs().itt());
            t && t->state == Task::State::receiving)
          end_task_with_sense(*t, 0x0b, 0x47, 0x05);  // ABORTED COMMAND: CRC error
        continue;
      }
      send_reject(framer_.failed_bhs(), ec == protocol_errc::unknown_opcode
                                            ? RejectReason::command_not_supported
                                            : RejectReason::invalid_pdu_field);
      continue;
    }
    if (*r == nullptr) return;
    ++pdus_received_;
    ++stats_.pdus_in;
    last_received_ = now;
    if (config_.faults.drop_after_pdus && pdus_received_ >= config_.faults.drop_after_pdus) {
      close(errc::cancelled);
      return;
    }
    handle_pdu(**r, now);
  }
}

void TargetConnection::handle_pdu(const InboundPdu& pdu, TimePoint now) {
  if (!session_) {
    handle_login(pdu, now);
    return;
  }
  if (config_.faults.reject_pdu && pdus_received_ == config_.faults.reject_pdu) {
    send_reject(pdu.bhs, RejectReason::protocol_error);
    return;
  }
  std::visit(
      [&](const auto& h) {
        using T = std::decay_t<decltype(h)>;
        if constexpr (std::is_same_v<T, ScsiCommand>) {
          handle_command(h, pdu, now);
        } else if constexpr (std::is_same_v<T, DataOut>) {
          handle_data_out(h, pdu, now);
        } else if constexpr (std::is_same_v<T, NopOut>) {
          handle_nop_out(h, pdu, now);
        } else if constexpr (std::is_same_v<T, TaskMgmtRequest>) {
          handle_tmf(h, now);
        } else if constexpr (std::is_same_v<T, TextRequest>) {
          handle_text(h, pdu);
        } else if constexpr (std::is_same_v<T, LogoutRequest>) {
          handle_logout(h);
        } else if constexpr (std::is_same_v<T, SnackRequest>) {
          handle_snack(h, pdu.bhs);
        } else if constexpr (std::is_same_v<T, LoginRequest>) {
          // A login request in full feature phase is a protocol error (section 6.3).
          send_reject(pdu.bhs, RejectReason::protocol_error);
        } else {
          send_reject(pdu.bhs, RejectReason::protocol_error);
        }
      },
      pdu.header);
}

void TargetConnection::handle_login(const InboundPdu& pdu, TimePoint now) {
  // Anything but a Login Request before full feature phase ends the connection; once the Login
  // Phase has started, TargetLogin answers it with a Login reject first (section 6.3).
  login_->receive(pdu);
  finish_login_step(now);
}

// Queues what the login produced; closes after a refusal, enters full feature phase on success.
void TargetConnection::finish_login_step(TimePoint now) {
  while (auto out = login_->poll_transmit()) {
    OutPdu p;
    p.owned = std::move(*out);
    p.data = p.owned;
    tx_.push(std::move(p));
  }
  if (login_->state() == TargetLogin::State::failed) {
    begin_closing();  // the refusal goes out, then the connection closes
    close_reason_ = make_error_code(errc::authentication_failed);
    return;
  }
  if (login_->state() != TargetLogin::State::succeeded) return;
  session_ = login_->outcome();
  login_.reset();
  params_ = session_->params;
  join_session(now);
  session_->params = params_;
  digests_ = {params_.header_digest, params_.data_digest};
  send_limit_ = params_.send_limit(Role::target);
  FramerConfig fc = framer_.config();
  fc.digests = digests_;
  fc.max_recv_data_segment_length = params_.receive_limit(Role::target);
  // At ERL >= 1 a PDU whose header digest fails is skipped when its length is within our
  // limit, instead of ending the connection (RFC 7143 section 7.8).
  fc.skip_pdu_on_header_digest_error = params_.error_recovery_level >= 1;
  framer_.configure(fc);
  install_data_path();
  stat_sn_ = session_->next_stat_sn;
  exp_stat_sn_ = stat_sn_;  // the login's answers need no acknowledgement of their own
  last_received_ = now;
  events_.push_back(SessionUp{session_->initiator_name, session_->target_name, session_->isid,
                              session_->tsih, session_->discovery});
}

// RFC 7143 section 4.2.2.1: non-immediate commands are taken in CmdSN order from the window;
// anything outside it, or a duplicate, is ignored.
bool TargetConnection::check_cmd_sn(const Bhs& bhs, SerialNumber cmd_sn, bool immediate) {
  (void)bhs;
  if (immediate) return true;
  return serial_in_window(cmd_sn, ses_->exp_cmd_sn_, ses_->exp_cmd_sn_ + (config_.cmd_window - 1));
}

void TargetConnection::note_exp_stat_sn(SerialNumber exp_stat_sn) {
  // Only forward, and never past what we have sent.
  if (serial_gt(exp_stat_sn, exp_stat_sn_) && serial_le(exp_stat_sn, stat_sn_)) {
    exp_stat_sn_ = exp_stat_sn;
    release_acknowledged();
  }
}

SerialNumber TargetConnection::max_cmd_sn() const {
  if (config_.faults.hold_window_closed) return ses_->exp_cmd_sn_ - 1;
  return ses_->exp_cmd_sn_ + (config_.cmd_window - 1);
}

// ---------------------------------------------------------------------------------------------
// Output.

void TargetConnection::fill_sns(Header& h, bool advances) {
  std::visit(
      [&](auto& v) {
        if constexpr (requires { v.exp_cmd_sn; }) {
          v.exp_cmd_sn = ses_->exp_cmd_sn_;
          v.max_cmd_sn = max_cmd_sn();
        }
        if constexpr (requires { v.stat_sn; }) {
          v.stat_sn = stat_sn_;
          if (advances) {
            numbered_pending_ = true;  // the next push() is this numbered response
            numbered_sn_ = stat_sn_;
            ++stat_sn_;
          }
        }
      },
      h);
}

OutPdu TargetConnection::make_pdu(Header h, std::span<const std::byte> data) {
  return make_out_pdu(h, data, digests_);
}

OutPdu TargetConnection::make_owned(Header h, std::vector<std::byte> data) {
  Bhs b;
  encode_header(h, b);
  return make_owned_pdu(b, std::move(data), digests_);
}

void TargetConnection::push(OutPdu pdu, bool urgent) {
  if (numbered_pending_) {
    numbered_pending_ = false;
    // A SCSI status is kept with its task (retain_answer); every other numbered response here.
    if (erl1() && pdu.bhs().opcode() != Opcode::scsi_response) retain_response(pdu, numbered_sn_);
  }
  if (!outgoing(pdu)) return;
  if (urgent) {
    tx_.push_urgent(std::move(pdu));
  } else {
    tx_.push(std::move(pdu));
  }
}

bool TargetConnection::outgoing(OutPdu& pdu) {
  ++pdus_sent_;
  const FaultPlan& f = config_.faults;
  // Injected loss: the PDU never reaches the wire, as if the peer had discarded it.
  if ((f.lose_pdu != 0 && pdus_sent_ == f.lose_pdu) ||
      (f.lose_every != 0 && pdus_sent_ % f.lose_every == 0)) {
    ++stats_.pdus_lost;
    return false;
  }
  ++stats_.pdus_out;
  stats_.bytes_out += pdu.size();
  // Injected digest corruption: flip a bit of this PDU's header or data digest.
  if (f.corrupt_header_digest_pdu == pdus_sent_ && digests_.header &&
      pdu.head.size >= kBhsSize + kDigestSize)
    pdu.head.bytes[pdu.head.size - 1] ^= std::byte{0x01};
  if (f.corrupt_data_digest_pdu == pdus_sent_ && digests_.data && !pdu.data.empty() &&
      pdu.tail.size >= kDigestSize)
    pdu.tail.bytes[pdu.tail.size - 1] ^= std::byte{0x01};
  return true;
}

std::size_t TargetConnection::gather(std::span<std::span<const std::byte>> out) {
  if (closed_) return 0;
  return tx_.gather(out);
}

void TargetConnection::consume(std::size_t n) {
  tx_.consume(n);
}
bool TargetConnection::wants_write() const {
  return !closed_ && !tx_.empty();
}

void TargetConnection::send_reject(const Bhs& rejected, RejectReason reason,
                                   std::uint32_t data_sn) {
  ++stats_.rejects_sent;
  Reject r;
  r.reason = reason;
  r.data_sn_or_r2t_sn = data_sn;  // section 11.17.3: only for a Data/R2T SNACK's protocol error
  Header h{r};
  fill_sns(h, true);
  push(make_owned(h, std::vector<std::byte>(rejected.bytes.begin(), rejected.bytes.end())));
}

void TargetConnection::send_async(AsyncEvent event, std::uint16_t p1, std::uint16_t p2,
                                  std::uint16_t p3) {
  AsyncMessage a;
  a.async_event = event;
  a.parameter1 = p1;
  a.parameter2 = p2;
  a.parameter3 = p3;
  Header h{a};
  fill_sns(h, true);
  push(make_pdu(h, {}));
}

// ---------------------------------------------------------------------------------------------
// NOP (sections 11.18 and 11.19).

void TargetConnection::handle_nop_out(const NopOut& h, const InboundPdu& pdu, TimePoint now) {
  note_exp_stat_sn(h.exp_stat_sn);
  if (!h.immediate && !check_cmd_sn(pdu.bhs, h.cmd_sn, false)) return;
  if (!h.immediate) advance_cmd_sn(h.cmd_sn, now);
  if (!h.ttt.is_reserved()) {  // the answer to our ping
    if (ping_ttt_ && *ping_ttt_ == h.ttt) ping_ttt_.reset();
    return;
  }
  if (h.itt.is_reserved()) return;  // ExpStatSN confirmation only
  NopIn r;
  r.lun = h.lun;
  r.itt = h.itt;
  r.ttt = Ttt::reserved();
  Header out{r};
  fill_sns(out, true);
  const auto echo = pdu.data.first(std::min<std::size_t>(pdu.data.size(), send_limit_));
  push(make_owned(out, std::vector<std::byte>(echo.begin(), echo.end())), true);
  (void)now;
}

// ---------------------------------------------------------------------------------------------
// Task management (section 11.5).

void TargetConnection::handle_tmf(const TaskMgmtRequest& h, TimePoint now) {
  note_exp_stat_sn(h.exp_stat_sn);
  if (!h.immediate) {
    if (!check_cmd_sn(encode(h), h.cmd_sn, false)) return;
    advance_cmd_sn(h.cmd_sn, now);
  }
  auto answer = [&](TmfResponse response) {
    TaskMgmtResponse r;
    r.response = response;
    r.itt = h.itt;
    Header out{r};
    fill_sns(out, true);
    push(make_pdu(out, {}), true);
  };
  const bool target_wide =
      h.function == TmfFunction::target_warm_reset || h.function == TmfFunction::target_cold_reset;
  if (!target_wide && h.function != TmfFunction::clear_aca && !session_->discovery &&
      !directory_.lun_exists(session_->target_name, h.lun) &&
      h.function != TmfFunction::abort_task && h.function != TmfFunction::task_reassign) {
    answer(TmfResponse::lun_does_not_exist);
    return;
  }
  switch (h.function) {
    case TmfFunction::abort_task: {
      // The task may be on any connection of the session.
      TargetConnection* owner = member_with_task(h.referenced_task_tag);
      Task* t = owner != nullptr ? owner->find_task(h.referenced_task_tag) : nullptr;
      if (t != nullptr && t->cmd_sn == h.ref_cmd_sn) {
        owner->abort_task(*t);
        answer(TmfResponse::function_complete);
        return;
      }
      // Not here: if its CmdSN has not arrived yet, it counts as received and aborted
      // (section 11.5.1); otherwise it already finished.
      if (serial_ge(h.ref_cmd_sn, ses_->exp_cmd_sn_) &&
          serial_le(h.ref_cmd_sn, ses_->exp_cmd_sn_ + (config_.cmd_window - 1))) {
        ses_->aborted_before_arrival_.insert(h.ref_cmd_sn.value());
        answer(TmfResponse::function_complete);
      } else {
        answer(TmfResponse::task_does_not_exist);
      }
      return;
    }
    case TmfFunction::abort_task_set:
    case TmfFunction::clear_task_set:
    case TmfFunction::logical_unit_reset:
    case TmfFunction::target_warm_reset:
    case TmfFunction::target_cold_reset: {
      // Every connection of the session (the task set is the session's).
      for (TargetConnection* m : ses_->members_) {
        std::vector<std::uint32_t> itts;
        for (auto& [itt, t] : m->tasks_)
          if (target_wide || t->lun == h.lun) itts.push_back(itt);
        for (auto itt : itts)
          if (Task* t = m->find_task(Itt(itt))) m->abort_task(*t);
      }
      for (auto& [sn, e] : ses_->early_)
        if (e.task && (target_wide || e.task->lun == h.lun)) e.task->aborted = true;
      // An immediate TMF covers the commands before its CmdSN that have not arrived yet (a gap,
      // perhaps on another connection): they count as received and aborted (section 4.2.2.1).
      if (h.immediate && serial_gt(h.cmd_sn, ses_->exp_cmd_sn_) &&
          serial_distance(ses_->exp_cmd_sn_, h.cmd_sn) <=
              static_cast<std::int32_t>(config_.cmd_window))
        for (SerialNumber sn = ses_->exp_cmd_sn_; sn != h.cmd_sn; ++sn)
          if (!ses_->early_.count(sn.value())) ses_->aborted_before_arrival_.insert(sn.value());
      if (h.function == TmfFunction::abort_task_set || h.function == TmfFunction::clear_task_set) {
        answer(TmfResponse::function_complete);
        return;
      }
      // Resets reach the LU layer (unit attentions); the answer waits for tmf_done().
      const std::uint32_t request = next_handle_++;
      pending_tmfs_[request] = {h.itt, h.function};
      events_.push_back(TaskManagement{request, h.function, h.lun});
      return;
    }
    case TmfFunction::clear_aca:
      answer(TmfResponse::function_complete);  // NormACA is 0: there is never an ACA
      return;
    case TmfFunction::task_reassign:
      handle_reassign(h, now, answer);
      return;
  }
  answer(TmfResponse::function_not_supported);
}

void TargetConnection::tmf_done(std::uint32_t request, TimePoint now) {
  now_ = now;
  auto it = pending_tmfs_.find(request);
  if (it == pending_tmfs_.end() || closed_) return;
  TaskMgmtResponse r;
  r.itt = it->second.itt;
  const bool cold = it->second.function == TmfFunction::target_cold_reset;
  pending_tmfs_.erase(it);
  Header out{r};
  fill_sns(out, true);
  push(make_pdu(out, {}), true);
  if (cold) begin_closing();  // a cold reset ends every connection (section 11.5.1)
}

// ---------------------------------------------------------------------------------------------
// Text (sections 11.10 and 11.11): SendTargets, and renegotiation in full feature phase.

void TargetConnection::handle_text(const TextRequest& h, const InboundPdu& pdu) {
  note_exp_stat_sn(h.exp_stat_sn);
  if (!h.immediate) {
    if (!check_cmd_sn(pdu.bhs, h.cmd_sn, false)) return;
    advance_cmd_sn(h.cmd_sn, now_);
  }
  auto reply = [&](std::vector<std::byte> data, bool final, Ttt ttt) {
    TextResponse r;
    r.final = final;
    r.itt = h.itt;
    r.ttt = ttt;
    r.lun = h.lun;
    Header out{r};
    fill_sns(out, true);
    push(make_owned(out, std::move(data)));
  };
  // A continuation of our long answer.
  if (text_ && text_->itt == h.itt && !h.ttt.is_reserved()) {
    if (h.ttt != text_->ttt) {
      send_reject(pdu.bhs, RejectReason::invalid_pdu_field);
      return;
    }
    if (!text_->parts.empty()) {
      auto part = std::move(text_->parts.front());
      text_->parts.erase(text_->parts.begin());
      // F=1 only on the last part, and only when the request had F=1 (section 11.11.1).
      const bool done = text_->parts.empty() && h.final;
      reply(std::move(part), done, done ? Ttt::reserved() : text_->ttt);
      if (done) end_text_exchange();
      return;
    }
  }
  if (!text_ || text_->itt != h.itt) {
    text_.emplace();
    text_->itt = h.itt;
    text_->ttt = Ttt(next_ttt_++);
  }
  if (auto r = text_->request.append(pdu.data, h.cont); !r) {
    text_.reset();
    send_reject(pdu.bhs, RejectReason::protocol_error);
    return;
  }
  if (h.cont) {  // the initiator's request continues: acknowledge with an empty answer
    reply({}, false, text_->ttt);
    return;
  }
  auto keys = parse_text(text_->request.take());
  if (!keys) {
    text_.reset();
    send_reject(pdu.bhs, RejectReason::protocol_error);
    return;
  }
  KeyValueList answer;
  KeyValueList negotiate;
  for (const auto& kv : *keys) {
    if (kv.key == "SendTargets") {
      if (!session_->discovery && kv.value == "All") {
        // "All" MUST NOT be supported in a normal session (RFC 7143 Appendix C): the value is
        // refused with the reserved value Reject (section 6.2); the connection goes on.
        answer.push_back({"SendTargets", "Reject"});
        continue;
      }
      // Discovery: All, a name, or empty (the session's target); normal: a name or empty.
      auto list =
          directory_.send_targets(session_->initiator_name, kv.value, session_->target_name);
      answer.insert(answer.end(), list.begin(), list.end());
    } else {
      negotiate.push_back(kv);
    }
  }
  if (!negotiate.empty()) {
    for (const auto& kv : negotiate) {
      if (std::find(text_->keys.begin(), text_->keys.end(), kv.key) != text_->keys.end()) {
        text_.reset();
        send_reject(pdu.bhs, RejectReason::protocol_error);
        return;
      }
      text_->keys.push_back(kv.key);
    }
    Negotiator n(Role::target, session_->discovery ? SessionType::discovery : SessionType::normal,
                 config_.negotiation, true, text_->params ? *text_->params : params_,
                 NegotiationPhase::full_feature);
    auto r = n.process(negotiate);
    if (!r) {
      text_.reset();
      send_reject(pdu.bhs, RejectReason::protocol_error);
      return;
    }
    answer.insert(answer.end(), r->begin(), r->end());
    text_->params = n.params();
  }
  const auto text = serialize_text(answer);
  std::vector<std::vector<std::byte>> parts;
  for (auto p : split_text(text, send_limit_))
    parts.emplace_back(p.begin(), p.end());
  if (parts.size() == 1) {
    // Section 11.11.1: a Text Response with F=1 to a Text Request with F=0 is a protocol error;
    // the answer to F=0 has F=0 and our TTT, and the exchange goes on with the next request.
    if (!h.final) {
      reply(std::move(parts[0]), false, text_->ttt);
      return;
    }
    end_text_exchange();
    reply(std::move(parts[0]), true, Ttt::reserved());
    return;
  }
  // Long answer: C=1 on each part but the last; the initiator asks for each with our TTT.
  auto first = std::move(parts[0]);
  parts.erase(parts.begin());
  text_->parts = std::move(parts);
  TextResponse r;
  r.final = false;
  r.cont = true;
  r.itt = h.itt;
  r.ttt = text_->ttt;
  Header out{r};
  fill_sns(out, true);
  push(make_owned(out, std::move(first)));
}

// The exchange ended with F=1: what it negotiated takes effect (section 6.2).
void TargetConnection::end_text_exchange() {
  if (text_ && text_->params) {
    params_ = *text_->params;
    send_limit_ = params_.send_limit(Role::target);
  }
  text_.reset();
}

// ---------------------------------------------------------------------------------------------
// Logout (sections 11.14 and 11.15).

void TargetConnection::handle_logout(const LogoutRequest& h) {
  note_exp_stat_sn(h.exp_stat_sn);
  if (!h.immediate) {
    if (!check_cmd_sn(encode(h), h.cmd_sn, false)) return;
    advance_cmd_sn(h.cmd_sn, now_);
  }
  if (static_cast<std::uint8_t>(h.reason) > 2) {
    send_reject(encode(h), RejectReason::invalid_pdu_field);
    return;
  }
  LogoutResponse r;
  r.itt = h.itt;
  r.time2wait = static_cast<std::uint16_t>(params_.default_time2wait);
  r.time2retain = static_cast<std::uint16_t>(params_.default_time2retain);
  // The connection a reason 1 or 2 logout names by its CID (section 11.14.3).
  const bool own = h.reason == LogoutReason::close_session || h.cid == session_->cid;
  TargetConnection* other = nullptr;
  if (!own)
    for (TargetConnection* m : ses_->members_)
      if (m != this && !m->closed_ && !m->closing_ && m->session_ && m->session_->cid == h.cid)
        other = m;
  bool close_this = false;
  switch (h.reason) {
    case LogoutReason::close_session:
      // Every connection of the session ends, and with them every task (section 11.14.1).
      for (TargetConnection* m : std::vector<TargetConnection*>(ses_->members_))
        if (m != this) m->close_by_session(make_error_code(errc::session_closed), false, now_);
      ses_->terminate();
      close_this = true;
      break;
    case LogoutReason::close_connection:
      if (own) {
        close_this = true;
      } else if (other != nullptr) {
        other->close_by_session(make_error_code(errc::session_closed), false, now_);
      } else {
        r.response = LogoutResponseCode::cid_not_found;
      }
      break;
    case LogoutReason::remove_connection_for_recovery:
      // The connection's tasks wait for TASK REASSIGN (ERL 2 only, section 7.2.1).
      if (params_.error_recovery_level < 2) {
        r.response = LogoutResponseCode::recovery_not_supported;
      } else if (own) {
        orphan_tasks(now_);
        close_this = true;
      } else if (other != nullptr) {
        other->close_by_session(make_error_code(errc::session_closed), true, now_);
      } else if (std::find(ses_->failed_cids_.begin(), ses_->failed_cids_.end(), h.cid) ==
                 ses_->failed_cids_.end()) {
        r.response = LogoutResponseCode::cid_not_found;
      }
      break;
  }
  Header out{r};
  fill_sns(out, true);
  push(make_pdu(out, {}));
  if (close_this) {
    tasks_released_ = true;
    for (auto& [itt, t] : tasks_)
      t->aborted = true;
    begin_closing();
    close_reason_ = {};
  }
}

// ---------------------------------------------------------------------------------------------
// Time.

std::optional<TimePoint> TargetConnection::next_deadline() const {
  if (closed_) return std::nullopt;
  if (closing_) return closing_deadline_;
  if (!session_) return login_deadline_;
  std::optional<TimePoint> d;
  if (ping_ttt_) {
    d = ping_deadline_;
  } else if (config_.nop_in_interval.count() > 0) {
    d = last_received_ + config_.nop_in_interval;
  }
  // ERL 2: the session's orphaned tasks expire (Time2Wait + Time2Retain).
  if (auto o = ses_->next_deadline(); o && (!d || *o < *d)) d = o;
  return d;
}

void TargetConnection::on_timer(TimePoint now) {
  now_ = now;
  if (closed_) return;
  if (closing_) {
    // The peer did not read our last PDUs in time: stop waiting for it.
    if (now >= closing_deadline_) close(errc::timed_out);
    return;
  }
  if (!session_) {
    if (now >= login_deadline_) close(errc::timed_out);
    return;
  }
  ses_->on_timer(now);
  if (ping_ttt_) {
    if (now >= ping_deadline_) close(errc::timed_out);  // the initiator stopped answering
    return;
  }
  if (config_.nop_in_interval.count() > 0 && now >= last_received_ + config_.nop_in_interval) {
    NopIn ping;
    ping.itt = Itt::reserved();
    ping.ttt = Ttt(next_ttt_++);
    ping_ttt_ = ping.ttt;
    ping_deadline_ = now + config_.nop_in_timeout;
    Header h{ping};
    fill_sns(h, false);  // an unsolicited NOP-In does not advance StatSN
    push(make_pdu(h, {}), true);
  }
}

}  // namespace uiscsi::core
