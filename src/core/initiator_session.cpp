// InitiatorSession: connections, receive dispatch, command window, timers and events.
// Task-level handling (SCSI commands, data, responses) is in initiator_tasks.cpp; task
// management, text, logout, NOP and async messages in initiator_control.cpp.
#include <algorithm>
#include <cstring>

#include "core/bytes.hpp"
#include "core/initiator_session_internal.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {

// Supplies Data-Out PDUs for queued sequences, on demand.
class InitiatorSession::Expander final : public TxQueue::Expander {
 public:
  explicit Expander(InitiatorSession& s) : s_(s) {}
  bool expand(const SequenceRef& ref, OutPdu& out) override {
    Task* t = s_.find_task(Itt(ref.owner));
    if (t == nullptr || t->phase != Task::Phase::sent) return false;
    Connection* c = s_.find_connection(t->cid);
    if (c == nullptr) return false;
    auto it = std::find_if(t->bursts.begin(), t->bursts.end(),
                           [&](const Task::Burst& b) { return b.sequence == ref.sequence; });
    if (it == t->bursts.end()) return false;
    const auto seg = it->data.next();
    if (!seg) {
      t->bursts.erase(it);
      return false;
    }
    DataOut h;
    h.final = seg->final;
    h.lun = t->request.lun;
    h.itt = t->itt;
    h.ttt = it->data.ttt();
    h.exp_stat_sn = c->exp_stat_sn;
    h.data_sn = seg->data_sn;
    h.buffer_offset = seg->buffer_offset;
    const auto data = t->request.data_out.subspan(seg->buffer_offset, seg->length);
    out = make_out_pdu(Header{h}, data, s_.digests(*c));
    c->acked_stat_sn = c->exp_stat_sn;
    if (s_.config_.trace_pdus) s_.trace(*c, true, out.bhs(), {}, data);
    if (seg->final) t->bursts.erase(it);
    return true;
  }

 private:
  InitiatorSession& s_;
};

// Places Data-In segments straight into the caller's read buffer when the PDU checks out.
class InitiatorSession::Placement final : public DataPlacement {
 public:
  explicit Placement(InitiatorSession& s) : s_(s) {}
  std::span<std::byte> place(const Header& header, std::uint32_t length) override {
    const auto* d = std::get_if<DataIn>(&header);
    if (d == nullptr) return {};
    Task* t = s_.find_task(d->itt);
    if (t == nullptr || t->kind != Task::Kind::scsi || t->phase != Task::Phase::sent) return {};
    if (d->data_sn != t->data_sns.next()) return {};
    if (std::uint64_t{d->buffer_offset} + length > t->read_length) return {};
    if (s_.params_.data_pdu_in_order && d->buffer_offset != t->next_in_offset) return {};
    return t->request.data_in.subspan(d->buffer_offset, length);
  }

 private:
  InitiatorSession& s_;
};

InitiatorSession::InitiatorSession(SessionConfig config, RandomSource& random)
    : config_(std::move(config)), random_(random), tsih_(config_.tsih) {
  isid_ = config_.isid;
  if (isid_ == 0) {
    // RFC 7143 section 11.12.5: T=10b, a random 46-bit qualifier (A, B, C, D fields).
    std::array<std::byte, 6> r{};
    random_.fill(r);
    std::uint64_t v = 0;
    for (auto b : r)
      v = (v << 8) | std::to_integer<std::uint64_t>(b);
    isid_ = (v & 0x3fffffffffffull) | 0x800000000000ull;
  }
  expander_ = std::make_unique<Expander>(*this);
}

InitiatorSession::~InitiatorSession() = default;

// ---------------------------------------------------------------------------------------------
// Task table: ITT = (generation << 16) | slot with the top bit clear; login ITTs set it.

InitiatorSession::Task* InitiatorSession::allocate_task(TimePoint now) {
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    if (slots_.size() >= 0xffff) return nullptr;
    slot = static_cast<std::uint32_t>(slots_.size());
    slots_.push_back(std::make_unique<Task>());
  }
  Task& old = *slots_[slot];
  const std::uint16_t generation = static_cast<std::uint16_t>((old.generation + 1) & 0x7fff);
  old = Task{};
  Task* t = &old;
  t->in_use = true;
  t->slot = slot;
  t->generation = generation;
  t->id = TaskId{(next_task_serial_++ << 16) | slot};
  t->itt = Itt((std::uint32_t{generation} << 16) | slot);
  t->submitted = now;
  ++live_tasks_;
  return t;
}

InitiatorSession::Task* InitiatorSession::find_task(Itt itt) {
  if (itt.value & 0x80000000u) return nullptr;
  const std::uint32_t slot = itt.value & 0xffffu;
  if (slot >= slots_.size()) return nullptr;
  Task* t = slots_[slot].get();
  return t->in_use && t->itt == itt ? t : nullptr;
}

InitiatorSession::Task* InitiatorSession::find_task(TaskId id) {
  const std::uint64_t slot = id.value & 0xffffu;
  if (slot >= slots_.size()) return nullptr;
  Task* t = slots_[slot].get();
  return t->in_use && t->id == id ? t : nullptr;
}

void InitiatorSession::free_task(Task* t) {
  if (t == nullptr || !t->in_use) return;
  unpin_stat_sn(*t);
  // The caller may release its write buffer once the task has ended: Data-Out still queued for
  // it (the target answered before taking all the data) gets a copy of its bytes.
  if (t->kind == Task::Kind::scsi && !t->request.data_out.empty())
    if (Connection* c = find_connection(t->cid)) c->tx.take_ownership(t->itt.value);
  t->in_use = false;
  t->request = {};
  t->bursts.clear();
  t->text_parts.clear();
  t->text_in.reset();
  free_slots_.push_back(t->slot);
  --live_tasks_;
}

std::size_t InitiatorSession::tasks_in_flight() const {
  return live_tasks_ - waiting_.size();
}

InitiatorSession::Connection* InitiatorSession::find_connection(ConnectionId cid) {
  for (auto& c : connections_)
    if (c->cid == cid) return c.get();
  return nullptr;
}
const InitiatorSession::Connection* InitiatorSession::find_connection(ConnectionId cid) const {
  for (const auto& c : connections_)
    if (c->cid == cid) return c.get();
  return nullptr;
}

// With several connections (MC/S) new tasks go round robin; each stays on its connection
// (connection allegiance, RFC 7143 section 5.1).
InitiatorSession::Connection* InitiatorSession::pick_connection() {
  const std::size_t n = connections_.size();
  for (std::size_t i = 0; i < n; ++i) {
    Connection* c = connections_[(next_pick_ + i) % n].get();
    if (c->takes_work()) {
      next_pick_ = (next_pick_ + i + 1) % n;
      return c;
    }
  }
  return nullptr;
}

bool InitiatorSession::connection_live(ConnectionId cid) const {
  const Connection* c = find_connection(cid);
  return c != nullptr && c->takes_work();
}

std::size_t InitiatorSession::live_connections() const {
  return static_cast<std::size_t>(std::count_if(connections_.begin(), connections_.end(),
                                                [](const auto& c) { return c->takes_work(); }));
}

bool InitiatorSession::logged_in() const {
  return !session_closed_ &&
         std::any_of(connections_.begin(), connections_.end(),
                     [](const auto& c) { return c->state == Connection::State::full_feature; });
}

bool InitiatorSession::closed() const {
  return session_closed_;
}

// ---------------------------------------------------------------------------------------------
// Connections and input.

ConnectionId InitiatorSession::open_connection(TimePoint now) {
  now_ = now;
  const bool live = std::any_of(connections_.begin(), connections_.end(), [](const auto& x) {
    return x->state == Connection::State::full_feature;
  });
  auto c = std::make_unique<Connection>();
  if (connection_recovery_ && !live) {
    // ERL 2: the failed connection logs in again with its CID, which logs the old one out
    // implicitly (RFC 7143 sections 6.3.4 and 7.2); its closed record goes.
    c->cid = recovering_cid_;
    connections_.erase(std::remove_if(connections_.begin(), connections_.end(),
                                      [&](const auto& x) {
                                        return x->cid == recovering_cid_ &&
                                               x->state == Connection::State::closed;
                                      }),
                       connections_.end());
    next_pick_ = 0;
  } else {
    c->cid = next_cid_++;
  }
  c->placement = std::make_unique<Placement>(*this);
  FramerConfig fc;
  fc.role = Role::initiator;
  fc.max_recv_data_segment_length = kLoginMaxDataSegmentLength;
  fc.decode.reserved = config_.reserved_policy;
  c->framer.configure(fc);
  c->framer.set_placement(c->placement.get());
  c->tx.set_expander(expander_.get());
  c->last_received = now;
  c->login_deadline = now + config_.login_timeout;

  LoginConfig lc;
  lc.initiator_name = config_.initiator_name;
  lc.initiator_alias = config_.initiator_alias;
  lc.target_name = config_.target_name;
  lc.session_type = config_.session_type;
  lc.chap = config_.chap;
  lc.chap_preference = config_.chap_preference;
  lc.negotiation = config_.negotiation;
  lc.isid = isid_;
  lc.tsih = tsih_;
  lc.cid = c->cid;
  lc.itt = Itt(0x80000000u | c->cid);
  lc.cmd_sn = cmd_sn_;
  // A further connection (MC/S, or ERL 2 connection recovery) joins the session: same ISID,
  // its TSIH, connection-only keys (section 6.3).
  lc.leading = !live && !connection_recovery_;
  lc.start = lc.leading ? NegotiatedParams{} : params_;
  if (recovering_) lc.tsih = 0;  // session reinstatement: same ISID, TSIH 0 (section 6.3.5)
  c->login.emplace(std::move(lc), random_);
  Connection& ref = *c;
  connections_.push_back(std::move(c));
  if (ref.login->done()) {  // configuration error caught at once
    emit(LoginDone{ref.cid, ref.login->error(), {}, false, ref.login->failure_detail(), {}});
    finish_connection(ref, ref.login->error());
    return ref.cid;
  }
  while (auto pdu = ref.login->poll_transmit())
    queue_login_pdu(ref, std::move(*pdu));
  return ref.cid;
}

void InitiatorSession::feed(ConnectionId cid, std::span<const std::byte> bytes, TimePoint now) {
  now_ = now;
  Connection* c = find_connection(cid);
  if (c == nullptr || c->state == Connection::State::closed) return;
  while (!bytes.empty() && c->state != Connection::State::closed) {
    const std::size_t n = c->framer.feed(bytes);
    bytes = bytes.subspan(n);
    process_input(*c, now);
    if (n == 0 && c->framer.staged_bytes() == 0) break;
  }
}

std::span<std::byte> InitiatorSession::receive_buffer(ConnectionId cid) {
  Connection* c = find_connection(cid);
  if (c == nullptr || c->state == Connection::State::closed) return {};
  return c->framer.read_buffer();
}

void InitiatorSession::commit_received(ConnectionId cid, std::size_t n, TimePoint now) {
  now_ = now;
  Connection* c = find_connection(cid);
  if (c == nullptr || c->state == Connection::State::closed) return;
  c->framer.commit(n);
  process_input(*c, now);
}

void InitiatorSession::process_input(Connection& c, TimePoint now) {
  while (c.state != Connection::State::closed) {
    auto r = c.framer.next();
    if (!r) {
      // A malformed or damaged PDU from the target: at error recovery level 0 the connection is
      // lost; at level 1 a digest error is recovered from (initiator_erl1.cpp).
      if (recover_from_input_error(c, r.error(), now)) continue;
      fail_connection(c, r.error());
      return;
    }
    if (*r == nullptr) break;
    c.last_received = now;
    handle_pdu(c, **r, now);
  }
  maybe_send_logout(now);
  // Acknowledge statuses when many are pending and nothing else would carry ExpStatSN.
  if (c.state == Connection::State::full_feature && c.tx.empty() &&
      serial_distance(c.acked_stat_sn, c.exp_stat_sn) >=
          static_cast<std::int32_t>(config_.exp_stat_sn_ack_threshold))
    send_exp_stat_sn_ack(c);
}

void InitiatorSession::connection_lost(ConnectionId cid, std::error_code reason, TimePoint now) {
  now_ = now;
  Connection* c = find_connection(cid);
  if (c == nullptr || c->state == Connection::State::closed) return;
  if (!reason) reason = errc::connection_closed;
  if (c->state == Connection::State::login) {
    emit(LoginDone{c->cid, reason, {}, false, "connection lost during login", {}});
    finish_connection(*c, reason);
    login_attempt_failed(reason);
    return;
  }
  fail_connection(*c, reason);
}

std::size_t InitiatorSession::gather(ConnectionId cid, std::span<std::span<const std::byte>> out) {
  Connection* c = find_connection(cid);
  if (c == nullptr || c->state == Connection::State::closed) return 0;
  return c->tx.gather(out);
}

void InitiatorSession::consume(ConnectionId cid, std::size_t n) {
  if (Connection* c = find_connection(cid)) c->tx.consume(n);
}

bool InitiatorSession::wants_write(ConnectionId cid) const {
  const Connection* c = find_connection(cid);
  return c != nullptr && c->state != Connection::State::closed && !c->tx.empty();
}

// Login PDUs come serialised from InitiatorLogin (no digests during login).
void InitiatorSession::queue_login_pdu(Connection& c, std::vector<std::byte> wire) {
  if (config_.trace_pdus && wire.size() >= kBhsSize) {
    Bhs b;
    std::memcpy(b.bytes.data(), wire.data(), kBhsSize);
    trace(c, true, b, {}, std::span(wire).subspan(kBhsSize, b.data_segment_length()));
  }
  OutPdu p;
  p.owned = std::move(wire);
  p.data = p.owned;
  c.tx.push(std::move(p));
}

void InitiatorSession::handle_login_pdu(Connection& c, const InboundPdu& pdu, TimePoint now) {
  InitiatorLogin& login = *c.login;
  login.receive(pdu);
  while (auto out = login.poll_transmit())
    queue_login_pdu(c, std::move(*out));
  if (!login.done()) return;
  if (login.state() != InitiatorLogin::State::succeeded) {
    LoginDone done{c.cid, login.error(), {}, false, login.failure_detail(), login.chap_algorithm()};
    if (login.state() == InitiatorLogin::State::redirected) {
      done.error = make_login_error(1, login.redirect_permanent() ? 2 : 1);
      done.redirect_address = login.redirect_address();
      done.redirect_permanent = login.redirect_permanent();
    }
    const std::error_code why = login.error() ? login.error() : make_login_error(1, 1);
    emit(std::move(done));
    finish_connection(c, why);
    login_attempt_failed(why);
    return;
  }

  // Full feature phase: digests start with the next PDU, limits per direction.
  const LoginOutcome& o = login.outcome();
  const bool leading = !connection_recovery_ &&
                       std::none_of(connections_.begin(), connections_.end(), [&](const auto& x) {
                         return x.get() != &c && x->state == Connection::State::full_feature;
                       });
  params_ = o.params;
  tsih_ = o.tsih;
  if (!o.target_alias.empty()) target_alias_ = o.target_alias;
  c.digests = {params_.header_digest, params_.data_digest};
  c.send_limit = params_.send_limit(Role::initiator);
  FramerConfig fc = c.framer.config();
  fc.digests = c.digests;
  fc.max_recv_data_segment_length = params_.receive_limit(Role::initiator);
  // ERL >= 1: a PDU with a bad header digest is skipped, not fatal (initiator_erl1.cpp).
  fc.skip_pdu_on_header_digest_error = erl1();
  c.framer.configure(fc);
  c.exp_stat_sn = o.stat_sn + 1;
  c.acked_stat_sn = c.exp_stat_sn;
  c.stat_sns.reset(c.exp_stat_sn.value());
  c.state = Connection::State::full_feature;
  c.last_received = now;
  c.login.reset();
  if (recovering_) {
    // The reinstated session is a new I_T nexus: each LU may report it once (see
    // absorb_reset_attention).
    reset_attention_pending_ = true;
    settled_luns_.clear();
  }
  ever_logged_in_ = true;
  recovering_ = false;
  force_reinstatement_ = false;
  recovery_attempt_ = 0;
  drop_time2wait_.reset();
  const bool connection_recovery = connection_recovery_;
  connection_recovery_ = false;
  if (leading) {
    exp_cmd_sn_ = o.exp_cmd_sn;
    max_cmd_sn_ = o.max_cmd_sn;
  } else {
    update_window(o.exp_cmd_sn, o.max_cmd_sn);  // the window is session-wide
  }
  emit(LoginDone{c.cid, {}, {}, false, {}, {}, connection_recovery});
  // ERL 2: the tasks of failed connections resume here (initiator_erl2.cpp).
  after_connection_recovery(c, o.exp_cmd_sn);
  pump_window(now);
}

void InitiatorSession::handle_pdu(Connection& c, const InboundPdu& pdu, TimePoint now) {
  if (config_.trace_pdus) trace(c, false, pdu.bhs, pdu.ahs, pdu.data);
  if (c.state == Connection::State::login) {
    handle_login_pdu(c, pdu, now);
    return;
  }
  // RFC 7143 section 4.2.2.2: a StatSN far from ExpStatSN means the connection failed, and the
  // initiator must recover (our bound, 2^20 either way, is well under the RFC's 2^31 - 1).
  const std::optional<SerialNumber> stat_sn = std::visit(
      [](const auto& h) -> std::optional<SerialNumber> {
        using T = std::decay_t<decltype(h)>;
        if constexpr (std::is_same_v<T, DataIn>) {
          if (h.status_present) return h.stat_sn;
          return std::nullopt;
        } else if constexpr (requires { h.stat_sn; }) {
          return h.stat_sn;
        } else {
          return std::nullopt;
        }
      },
      pdu.header);
  constexpr std::uint32_t kStatSnReach = 1u << 20;
  if (stat_sn && stat_sn->value() - c.exp_stat_sn.value() > kStatSnReach &&
      c.exp_stat_sn.value() - stat_sn->value() > kStatSnReach) {
    fail_connection(c, protocol_errc::sequence_error);
    return;
  }
  std::visit(
      [&](const auto& h) {
        using T = std::decay_t<decltype(h)>;
        if constexpr (std::is_same_v<T, DataIn>) {
          handle_data_in(c, h, pdu, now);
        } else if constexpr (std::is_same_v<T, ScsiResponse>) {
          handle_scsi_response(c, h, pdu, now);
        } else if constexpr (std::is_same_v<T, R2t>) {
          note_stat_sn(c, h.stat_sn, false);
          update_window(h.exp_cmd_sn, h.max_cmd_sn);
          handle_r2t(c, h);
        } else if constexpr (std::is_same_v<T, NopIn>) {
          handle_nop_in(c, h, pdu, now);
        } else if constexpr (std::is_same_v<T, TaskMgmtResponse>) {
          note_stat_sn(c, h.stat_sn, true);
          update_window(h.exp_cmd_sn, h.max_cmd_sn);
          handle_tmf_response(h);
        } else if constexpr (std::is_same_v<T, TextResponse>) {
          handle_text_response(c, h, pdu);
        } else if constexpr (std::is_same_v<T, LogoutResponse>) {
          handle_logout_response(c, h);
        } else if constexpr (std::is_same_v<T, AsyncMessage>) {
          handle_async(c, h, pdu, now);
        } else if constexpr (std::is_same_v<T, Reject>) {
          handle_reject(c, h, pdu);
        } else {
          // A Login Response in full feature phase; initiator opcodes never get here.
          fail_connection(c, protocol_errc::unexpected_opcode);
        }
      },
      pdu.header);
}

// RFC 7143 section 4.2.2.2: StatSN advances by one per status-carrying PDU.
void InitiatorSession::note_stat_sn(Connection& c, SerialNumber stat_sn, bool advances) {
  if (!advances) return;
  if (erl1()) {
    note_stat_sn_gap(c, stat_sn, true);
    return;
  }
  if (serial_ge(stat_sn, c.exp_stat_sn)) c.exp_stat_sn = stat_sn + 1;
}

// RFC 7143 section 4.2.2.1: ignore a MaxCmdSN below ExpCmdSN - 1; ExpCmdSN only moves forward.
// A smaller MaxCmdSN is accepted: it can only make us send less.
void InitiatorSession::update_window(SerialNumber exp_cmd_sn, SerialNumber max_cmd_sn) {
  if (serial_lt(max_cmd_sn, exp_cmd_sn - 1)) return;
  if (serial_gt(exp_cmd_sn, exp_cmd_sn_)) exp_cmd_sn_ = exp_cmd_sn;
  if (serial_lt(max_cmd_sn, exp_cmd_sn_ - 1)) return;
  max_cmd_sn_ = max_cmd_sn;
  pump_window(now_);
}

// ---------------------------------------------------------------------------------------------
// Output.

DigestConfig InitiatorSession::digests(const Connection& c) const {
  return c.digests;
}

void InitiatorSession::push_pdu(Connection& c, OutPdu pdu, bool urgent) {
  c.acked_stat_sn = c.exp_stat_sn;
  if (config_.trace_pdus) {
    const Bhs b = pdu.bhs();
    const std::size_t ahs = std::size_t{b.total_ahs_length()} * 4;
    trace(c, true, b, {pdu.head.bytes.data() + kBhsSize, ahs}, pdu.data);
  }
  if (urgent) {
    c.tx.push_urgent(std::move(pdu));
  } else {
    c.tx.push(std::move(pdu));
  }
}

// Hands waiting non-immediate tasks to a connection while the window allows, in submission
// order. Each gets the next CmdSN only now.
void InitiatorSession::pump_window(TimePoint now) {
  while (!waiting_.empty()) {
    Task* t = find_task(waiting_.front());
    if (t == nullptr || t->phase != Task::Phase::waiting) {
      waiting_.pop_front();
      continue;
    }
    if (serial_gt(cmd_sn_, max_cmd_sn_)) return;  // window closed
    Connection* c = pick_connection();
    if (c == nullptr) return;
    waiting_.pop_front();
    t->cmd_sn = cmd_sn_;
    ++cmd_sn_;
    send_task(*t, *c, now);
  }
}

void InitiatorSession::send_task(Task& t, Connection& c, TimePoint now) {
  (void)now;
  t.phase = Task::Phase::sent;
  t.was_sent = true;
  t.cid = c.cid;
  switch (t.kind) {
    case Task::Kind::scsi:
      send_scsi_command(t, c);
      break;
    case Task::Kind::text:
      send_text_request(t, c, Ttt::reserved(), false);
      break;
    default:
      break;
  }
}

void InitiatorSession::emit(Event e) {
  events_.push_back(std::move(e));
}

std::optional<Event> InitiatorSession::poll_event() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void InitiatorSession::trace(const Connection& c, bool outbound, const Bhs& bhs,
                             std::span<const std::byte> ahs, std::span<const std::byte> data) {
  PduTrace t;
  t.cid = c.cid;
  t.outbound = outbound;
  t.bytes.reserve(kBhsSize + ahs.size() + data.size());
  t.bytes.insert(t.bytes.end(), bhs.bytes.begin(), bhs.bytes.end());
  t.bytes.insert(t.bytes.end(), ahs.begin(), ahs.end());
  t.bytes.insert(t.bytes.end(), data.begin(), data.end());
  // Lengths as they were on the wire even if the caller reads the copy later.
  emit(std::move(t));
}

// ---------------------------------------------------------------------------------------------
// Failure.

void InitiatorSession::finish_connection(Connection& c, std::error_code ec,
                                         std::optional<TargetWait> wait) {
  if (c.state == Connection::State::closed) return;
  c.state = Connection::State::closed;
  c.tx.clear();
  c.login.reset();
  c.ping.reset();
  emit(ConnectionClosed{c.cid, ec, wait ? std::optional(wait->time2wait) : std::nullopt});
}

void InitiatorSession::fail_connection(Connection& c, std::error_code ec,
                                       std::optional<TargetWait> wait) {
  if (c.state == Connection::State::closed) return;
  const bool was_full_feature = c.state == Connection::State::full_feature;
  finish_connection(c, ec, wait);
  // ERL 2: the connection's tasks wait for a new connection (initiator_erl2.cpp).
  if (orphan_connection_tasks(c, ec, was_full_feature, wait)) return;
  const bool last = pick_connection() == nullptr;
  const bool recover = last && was_full_feature && recovery_possible();
  // Tasks with allegiance to this connection: at ERL 0 nothing survives the connection, but
  // when the session will be reinstated the commands that are safe to repeat go again.
  std::vector<Task*> retry;
  for (auto& slot : slots_) {
    Task* t = slot.get();
    if (!t->in_use || t->phase == Task::Phase::waiting || t->cid != c.cid) continue;
    if (t->phase == Task::Phase::zombie) {
      free_task(t);
      continue;
    }
    const bool safe =
        t->kind == Task::Kind::scsi &&
        (t->request.retry == RetryPolicy::always ||
         (t->request.retry == RetryPolicy::automatic && retry_is_safe(t->request.cdb.view())));
    if (recover && safe && t->replays < config_.max_command_replays) {
      ++t->replays;
      retry.push_back(t);
    } else {
      fail_task(*t, errc::connection_closed, t->kind == Task::Kind::scsi);
    }
  }
  if (!last) return;
  if (recover) {
    requeue_for_retry(std::move(retry));
    recovering_ = true;
    recovery_attempt_ = 0;
    recovery_attempt_failed(ec);
    return;
  }
  // No connection left: work that never went out fails too (it did not run), and so does a
  // logout still waiting for commands to finish.
  fail_waiting(errc::connection_closed);
  end_waiting_logout(errc::connection_closed);
  if (logout_requested_) session_closed_ = true;
}

bool InitiatorSession::recovery_possible() const {
  return config_.recovery && ever_logged_in_ && !logout_requested_ && !session_closed_ &&
         config_.session_type == SessionType::normal;
}

// Interrupted commands go back to the front of the queue in their original CmdSN order; they
// get new CmdSNs in the reinstated session (RFC 7143 section 6.3.5).
void InitiatorSession::requeue_for_retry(std::vector<Task*> tasks) {
  std::sort(tasks.begin(), tasks.end(),
            [](const Task* a, const Task* b) { return serial_lt(a->cmd_sn, b->cmd_sn); });
  for (auto it = tasks.rbegin(); it != tasks.rend(); ++it) {
    Task& t = **it;
    t.phase = Task::Phase::waiting;
    t.bursts.clear();
    t.data_sns.reset(0);
    t.r2t_sns.reset(0);
    t.next_in_offset = t.data_in_bytes = 0;
    t.had_data_gap = false;
    t.held_status.reset();
    unpin_stat_sn(t);
    t.write_requested = 0;
    t.command_retries = 0;
    t.next_sequence = 1;
    waiting_.push_front(t.id);
  }
}

// Plans the next reconnection, or gives up after the last attempt.
void InitiatorSession::recovery_attempt_failed(std::error_code reason) {
  // A refusal for good (no such target, authentication) will not heal by retrying.
  if (login_status_class(reason) == 2 || reason == errc::authentication_failed) {
    give_up_recovery(reason);
    return;
  }
  ++recovery_attempt_;
  if (recovery_attempt_ > config_.max_recovery_attempts) {
    give_up_recovery(reason);
    return;
  }
  // DefaultTime2Wait (or the target's own Time2Wait from an async drop) before the first
  // attempt, then exponential backoff (RFC 7143 sections 13.15 and 11.9.1).
  Duration delay = std::chrono::seconds(
      drop_time2wait_.value_or(static_cast<std::uint16_t>(params_.default_time2wait)));
  if (recovery_attempt_ > 1) {
    Duration backoff = config_.recovery_backoff * (1 << std::min(recovery_attempt_ - 2, 10));
    delay += std::min(backoff, config_.max_recovery_backoff);
  }
  emit(RecoveryNeeded{reason, delay, recovery_attempt_});
}

// A login failed: a recovery attempt plans the next one; with no connection left and no
// recovery under way, commands queued while the login was running fail (they never ran).
void InitiatorSession::login_attempt_failed(std::error_code why) {
  if (connection_recovery_ && login_status_class(why) == 2 && why != errc::authentication_failed &&
      std::none_of(connections_.begin(), connections_.end(),
                   [](const auto& c) { return c->state != Connection::State::closed; })) {
    // The target no longer has the session (e.g. Time2Retain passed): reinstate it (ERL 0).
    fall_back_to_reinstatement(why);
    return;
  }
  if (recovering()) {
    recovery_attempt_failed(why);
    return;
  }
  const bool any_left = std::any_of(connections_.begin(), connections_.end(), [](const auto& c) {
    return c->state != Connection::State::closed;
  });
  if (!any_left) fail_waiting(why);
}

void InitiatorSession::end_waiting_logout(std::error_code why) {
  if (!logout_task_) return;
  if (Task* t = find_task(*logout_task_); t != nullptr && t->phase == Task::Phase::waiting)
    fail_task(*t, why, false);
  logout_task_.reset();
}

void InitiatorSession::give_up_recovery(std::error_code reason) {
  recovering_ = false;
  connection_recovery_ = false;
  force_reinstatement_ = false;
  fail_orphans(errc::connection_closed);
  session_closed_ = true;
  fail_waiting(errc::connection_closed);
  end_waiting_logout(errc::connection_closed);
  emit(RecoveryFailed{reason});
}

void InitiatorSession::abandon(std::error_code reason, TimePoint now) {
  now_ = now;
  session_closed_ = true;
  recovering_ = false;
  connection_recovery_ = false;
  for (auto& c : connections_)
    fail_connection(*c, reason);
  fail_orphans(reason);
  fail_waiting(reason);
  end_waiting_logout(reason);
}

// Queued work fails too; a task that had been sent before a recovery may have executed.
void InitiatorSession::fail_waiting(std::error_code reason) {
  while (!waiting_.empty()) {
    Task* t = find_task(waiting_.front());
    waiting_.pop_front();
    if (t != nullptr) fail_task(*t, reason, t->was_sent);
  }
}

void InitiatorSession::reconnect_failed(std::error_code reason, TimePoint now) {
  now_ = now;
  if (recovering())
    recovery_attempt_failed(reason ? reason : make_error_code(errc::connection_closed));
}

// ---------------------------------------------------------------------------------------------
// Time.

std::optional<TimePoint> InitiatorSession::next_deadline() const {
  std::optional<TimePoint> best;
  auto consider = [&](TimePoint t) {
    if (!best || t < *best) best = t;
  };
  for (const auto& c : connections_) {
    if (c->state == Connection::State::login) consider(c->login_deadline);
    if (c->state != Connection::State::full_feature) continue;
    if (c->ping) {
      consider(c->ping_deadline);
    } else {
      if (config_.keepalive_interval.count() > 0)
        consider(c->last_received + config_.keepalive_interval);
      if (needs_probe(*c)) consider(c->last_received + config_.recovery_probe_interval);
    }
  }
  for (const auto& slot : slots_)
    if (slot->in_use && slot->deadline && slot->phase != Task::Phase::zombie)
      consider(*slot->deadline);
  // Set only while a logout waits for the session's commands (maybe_send_logout()).
  if (logout_deadline_ && logout_task_) consider(*logout_deadline_);
  for (const auto& [cid, when] : delayed_recovery_logouts_)
    consider(when);
  return best;
}

void InitiatorSession::on_timer(TimePoint now) {
  now_ = now;
  for (auto& cp : connections_) {
    Connection& c = *cp;
    if (c.state == Connection::State::login && now >= c.login_deadline) {
      emit(LoginDone{c.cid, errc::timed_out, {}, false, "login timed out", {}});
      finish_connection(c, errc::timed_out);
      login_attempt_failed(errc::timed_out);
      continue;
    }
    if (c.state != Connection::State::full_feature) continue;
    if (c.ping && now >= c.ping_deadline) {
      // ERL >= 1: a probe or its answer may itself have been lost: probe again, a few times.
      if (c.probing && c.probe_retries < config_.max_status_snacks) {
        ++c.probe_retries;
        free_task(find_task(*c.ping));
        c.ping.reset();
        send_probe(c, now);
        continue;
      }
      // The target did not answer our ping in time: the connection is dead (section 7.1.3).
      fail_connection(c, errc::timed_out);
      continue;
    }
    if (!c.ping && needs_probe(c) && now >= c.last_received + config_.recovery_probe_interval) {
      // ERL >= 1: commands outstanding and silence: look for lost PDUs (initiator_erl1.cpp).
      send_probe(c, now);
    } else if (!c.ping && config_.keepalive_interval.count() > 0 &&
               now >= c.last_received + config_.keepalive_interval) {
      send_nop_ping(c, now);
    }
  }
  // By index: aborting a command allocates its ABORT TASK, which may grow slots_.
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    Task* t = slots_[i].get();
    if (!t->in_use || !t->deadline || now < *t->deadline) continue;
    if (t->phase == Task::Phase::zombie) continue;
    if (t->kind == Task::Kind::scsi && t->phase == Task::Phase::sent) {
      abort_in_flight(*t, errc::timed_out, now);
    } else {
      fail_task(*t, errc::timed_out, false);
    }
  }
  send_due_recovery_logouts();
  maybe_send_logout(now);
}

}  // namespace uiscsi::core
