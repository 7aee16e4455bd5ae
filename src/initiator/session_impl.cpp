#include "initiator/session_impl.hpp"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>

#include "initiator/access.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::detail {

namespace {

std::vector<std::string> digest_offer(DigestPolicy p) {
  switch (p) {
    case DigestPolicy::none:
      return {"None"};
    case DigestPolicy::prefer:
      return {"CRC32C", "None"};
    case DigestPolicy::require:
      return {"CRC32C"};
  }
  return {"None"};
}

}  // namespace

core::SessionConfig make_core_config(const SessionOptions& o, std::string target,
                                     core::SessionType type) {
  core::SessionConfig c;
  c.initiator_name = o.initiator_name.empty() ? default_initiator_name() : o.initiator_name;
  c.initiator_alias = o.initiator_alias;
  c.target_name = std::move(target);
  c.session_type = type;
  if (o.chap) {
    core::ChapCredentials cred;
    cred.username = o.chap->user;
    cred.secret = o.chap->secret;
    cred.mutual = !o.chap->target_user.empty();
    cred.peer_username = o.chap->target_user;
    cred.peer_secret = o.chap->target_secret;
    c.chap = std::move(cred);
    c.chap_preference.clear();
    for (int a : o.chap->algorithms)
      if (auto alg = core::chap_algorithm_from_number(static_cast<std::uint64_t>(a)))
        c.chap_preference.push_back(*alg);
    if (c.chap_preference.empty()) c.chap_preference = core::default_chap_preference();
  }
  auto& n = c.negotiation;
  n.header_digest = digest_offer(o.header_digest);
  n.data_digest = digest_offer(o.data_digest);
  n.max_recv_data_segment_length = o.max_recv_data_segment_length;
  n.max_burst_length = o.max_burst_length;
  n.first_burst_length = std::min(o.first_burst_length, o.max_burst_length);
  n.initial_r2t = o.initial_r2t;
  n.immediate_data = o.immediate_data;
  n.max_outstanding_r2t = o.max_outstanding_r2t;
  n.error_recovery_level = o.error_recovery_level;
  c.login_timeout = o.login_timeout;
  c.keepalive_interval = o.keepalive_interval;
  c.keepalive_timeout = o.keepalive_timeout;
  c.trace_pdus = static_cast<bool>(o.hooks.on_pdu);
  c.recovery = o.recovery;
  c.max_recovery_attempts = o.max_recovery_attempts;
  c.recovery_backoff = o.recovery_backoff;
  c.max_command_replays = o.max_command_replays;
  c.recovery_probe_interval = o.recovery_probe_interval;
  n.default_time2wait = o.default_time2wait;
  n.default_time2retain = o.default_time2retain;
  n.max_connections = std::max<std::uint32_t>(1, o.connections);
  return c;
}

SessionImpl::SessionImpl(SessionOptions options, std::string target_name, core::SessionType type)
    : options_(std::move(options)), target_name_(std::move(target_name)), type_(type) {}

SessionImpl::~SessionImpl() {
  shutdown(std::chrono::milliseconds(0));
}

void SessionImpl::log(LogLevel level, const std::string& message) const {
  if (options_.hooks.logger) options_.hooks.logger->log(level, message);
}

void SessionImpl::set_state(SessionState s, std::error_code ec) {
  if (options_.hooks.on_state) options_.hooks.on_state(s, ec);
}

Result<void> SessionImpl::start(const net::Endpoint& endpoint) {
  endpoint_ = endpoint;
  portals_ = {endpoint};
  for (const std::string& text : options_.portals) {
    auto p = net::parse_endpoint(text);
    if (!p) {
      log(LogLevel::error, "portal '" + text + "' is not host[:port]");
      return errc::invalid_argument;
    }
    portals_.push_back(*p);
  }
  set_state(SessionState::connecting);
  auto sock = net::connect(endpoint, net::Clock::now() + options_.connect_timeout);
  if (!sock) {
    set_state(SessionState::failed, sock.error());
    return sock.error();
  }
  // No SO_SNDBUF/SO_RCVBUF: a fixed size would switch off TCP autotuning.
  engine_ = std::make_unique<core::InitiatorSession>(
      make_core_config(options_, target_name_, type_), random_);
  isid_ = engine_->isid();
  auto future = login_result_.get_future();
  set_state(SessionState::logging_in);
  auto first = std::make_shared<net::Socket>(std::move(*sock));
  loop_.post([this, first] {
    const core::ConnectionId cid = engine_->open_connection(now());
    attach_socket(cid, std::move(*first), endpoint_);
    after_engine();
  });
  io_ = std::thread([this] { io_main(); });
  // The engine enforces the login timeout; the extra second covers a stuck connect of TCP.
  if (future.wait_for(options_.login_timeout + std::chrono::seconds(1)) !=
      std::future_status::ready) {
    shutdown(std::chrono::milliseconds(0));
    return errc::timed_out;
  }
  const std::error_code ec = future.get();
  if (ec) {
    shutdown(std::chrono::milliseconds(0));
    return ec;
  }
  // MC/S: the further connections, up to what the target allows (section 13.2).
  if (type_ == core::SessionType::normal) {
    const std::uint32_t want = std::min(options_.connections, negotiated().max_connections);
    for (std::uint32_t i = 1; i < want; ++i)
      if (!add_connection(i)) {
        log(LogLevel::warning, "could not add connection " + std::to_string(i + 1) + " of " +
                                   std::to_string(want) + " (portal " +
                                   portals_[i % portals_.size()].to_string() + ")");
        break;
      }
  }
  return ok();
}

bool SessionImpl::add_connection(std::uint32_t index) {
  const net::Endpoint portal = portals_[index % portals_.size()];
  auto sock = net::connect(portal, net::Clock::now() + options_.connect_timeout);
  if (!sock) return false;
  auto waiter = std::make_shared<std::promise<bool>>();
  auto result = waiter->get_future();
  auto s = std::make_shared<net::Socket>(std::move(*sock));
  {
    std::lock_guard lock(post_mutex_);
    if (stopped_) return false;
    loop_.post([this, s, waiter, portal] {
      if (!engine_->logged_in()) {
        waiter->set_value(false);
        return;
      }
      add_waiter_ = waiter;
      const core::ConnectionId cid = engine_->open_connection(now());
      add_cid_ = cid;
      added_cids_.push_back(cid);
      attach_socket(cid, std::move(*s), portal);
      after_engine();
    });
  }
  if (result.wait_for(options_.login_timeout + std::chrono::seconds(1)) !=
      std::future_status::ready)
    return false;
  return result.get();
}

void SessionImpl::io_main() {
  loop_.run(
      [this] {
        auto d = engine_->next_deadline();
        if (reconnect_at_ && (!d || *reconnect_at_ < *d)) d = reconnect_at_;
        return d;
      },
      [this](core::TimePoint t) {
        if (reconnect_at_ && t >= *reconnect_at_) {
          reconnect_at_.reset();
          start_reconnect();
        }
        engine_->on_timer(t);
        after_engine();
      });
}

// Error recovery: connect on a helper thread (connect may block until its timeout), then
// hand the socket to the I/O thread, which starts the login.
void SessionImpl::start_reconnect() {
  if (reconnect_thread_.joinable()) reconnect_thread_.join();
  if (engine_->recovering()) set_state(SessionState::recovering);  // not for an MC/S replacement
  // Session reinstatement dials the session's portal; an MC/S replacement the failed one's.
  const net::Endpoint portal =
      engine_->recovering() ? endpoint_ : replacement_portal_.value_or(endpoint_);
  reconnect_thread_ = std::thread([this, portal] {
    auto sock = net::connect(portal, net::Clock::now() + options_.connect_timeout);
    std::error_code failure = sock ? std::error_code{} : sock.error();
    std::lock_guard lock(post_mutex_);
    if (stopped_) return;
    // EventLoop::post takes a copyable std::function, so the move-only socket rides in a
    // shared_ptr.
    auto s = std::make_shared<net::Socket>(sock ? std::move(*sock) : net::Socket());
    loop_.post([this, s, failure, portal] {
      if (failure) {
        log(LogLevel::warning,
            "reconnect to " + portal.to_string() + " failed: " + failure.message());
        if (engine_->recovering()) {
          engine_->reconnect_failed(failure, now());
        } else {  // an MC/S replacement
          ++replacement_failures_;
          schedule_replacement();
        }
      } else {
        // A reconnection for error recovery, or (MC/S, the session still up) a replacement
        // for a failed connection: the engine knows which login it needs.
        const bool replacement = !engine_->recovering();
        const core::ConnectionId cid = engine_->open_connection(now());
        if (replacement) {
          added_cids_.push_back(cid);
          replacing_cid_ = cid;
        }
        attach_socket(cid, std::move(*s), portal);
      }
      after_engine();
    });
  });
}

void SessionImpl::schedule_replacement(std::optional<std::chrono::seconds> time2wait) {
  if (stopped_ || reconnect_at_ || replacing_cid_ || !engine_->logged_in()) return;
  const std::uint32_t want = std::min(options_.connections, negotiated().max_connections);
  if (live_cids_.size() >= want) return;
  if (replacement_failures_ >= options_.max_recovery_attempts) {
    log(LogLevel::warning, "no replacement connection after " +
                               std::to_string(replacement_failures_) +
                               " attempts; the session goes on with " +
                               std::to_string(live_cids_.size()) + " of " + std::to_string(want));
    return;
  }
  const int doublings = std::min(replacement_failures_, 10);
  reconnect_at_ = now() +
                  time2wait.value_or(std::chrono::seconds(engine_->params().default_time2wait)) +
                  options_.recovery_backoff * ((1 << doublings) - 1);
}

void SessionImpl::attach_socket(core::ConnectionId cid, net::Socket socket,
                                const net::Endpoint& portal) {
  close_link(cid);  // an old socket of a reused CID (ERL 2 connection reinstatement)
  Link& l = links_[cid];
  l.socket = std::move(socket);
  l.portal = portal;
  l.write_armed = false;
  auto added = loop_.add(l.socket.fd(), EPOLLIN | EPOLLRDHUP,
                         [this, cid](std::uint32_t ev) { on_socket(cid, ev); });
  if (!added) engine_->connection_lost(cid, added.error(), now());
}

void SessionImpl::close_link(core::ConnectionId cid) {
  auto it = links_.find(cid);
  if (it == links_.end()) return;
  if (it->second.socket.valid()) {
    loop_.remove(it->second.socket.fd());
    it->second.socket.close();
  }
  links_.erase(it);
}

void SessionImpl::shutdown(std::chrono::milliseconds logout_timeout) {
  if (shutting_down_.exchange(true)) return;
  if (io_.joinable()) {
    if (logged_in_ && logout_timeout.count() > 0 && !loop_.in_loop_thread()) {
      std::promise<void> done;
      auto f = done.get_future();
      loop_.post([&] {
        engine_->logout(now(), now() + logout_timeout);
        logout_done_[0] = [&](Result<void>) { done.set_value(); };
        after_engine();
      });
      f.wait_for(logout_timeout + std::chrono::seconds(2));
    }
    {
      std::lock_guard lock(post_mutex_);
      stopped_ = true;
      loop_.post([this] { close_socket(); });  // anything still pending ends now
      loop_.stop();
    }
    if (io_.get_id() != std::this_thread::get_id())
      io_.join();
    else
      io_.detach();
  }
  stopped_ = true;
  if (reconnect_thread_.joinable()) reconnect_thread_.join();
  // Callbacks of commands that never completed get an error, on this thread.
  for (auto& [id, p] : pending_)
    if (p.done) p.done(Unexpected(errc::session_closed));
  pending_.clear();
}

void SessionImpl::close_socket() {
  if (links_.empty()) return;
  std::vector<core::ConnectionId> cids;
  for (auto& [cid, l] : links_)
    cids.push_back(cid);
  if (engine_) {
    engine_->abandon(errc::session_closed, now());
    // Deliver the failures the engine produced.
    while (auto e = engine_->poll_event())
      dispatch(*e);
  }
  for (auto cid : cids)
    close_link(cid);
  logged_in_ = false;
}

void SessionImpl::on_socket(core::ConnectionId cid, std::uint32_t events) {
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    for (int i = 0; i < 64; ++i) {
      auto it = links_.find(cid);
      if (it == links_.end() || !it->second.socket.valid()) break;
      auto buf = engine_->receive_buffer(cid);
      if (buf.empty()) break;
      auto r = it->second.socket.read(buf);
      if (!r) {
        if (r.error() == std::errc::resource_unavailable_try_again ||
            r.error() == std::errc::operation_would_block)
          break;
        engine_->connection_lost(cid, r.error(), now());
        break;
      }
      if (*r == 0) {
        engine_->connection_lost(cid, errc::connection_closed, now());
        break;
      }
      engine_->commit_received(cid, *r, now());
      if (*r < buf.size()) break;  // drained the socket for now
    }
  }
  after_engine();
}

void SessionImpl::flush() {
  for (auto& [cid, l] : links_) {
    while (l.socket.valid() && engine_->wants_write(cid)) {
      std::array<std::span<const std::byte>, 64> iov;
      const std::size_t n = engine_->gather(cid, iov);
      if (n == 0) break;
      std::size_t total = 0;
      for (std::size_t i = 0; i < n; ++i)
        total += iov[i].size();
      auto w = l.socket.writev(std::span(iov.data(), n));
      if (!w) {
        if (w.error() == std::errc::resource_unavailable_try_again ||
            w.error() == std::errc::operation_would_block)
          break;
        // The engine reports the loss with ConnectionClosed; the socket goes in dispatch().
        engine_->connection_lost(cid, w.error(), now());
        break;
      }
      engine_->consume(cid, *w);
      if (*w < total) break;  // socket buffer full
    }
    if (!l.socket.valid()) continue;
    const bool want = engine_->wants_write(cid);
    if (want != l.write_armed) {
      l.write_armed = want;
      loop_.modify(l.socket.fd(), EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u));
    }
  }
}

void SessionImpl::after_engine() {
  for (int round = 0; round < 4; ++round) {
    flush();
    bool any = false;
    while (auto e = engine_->poll_event()) {
      any = true;
      dispatch(*e);
    }
    if (!any) break;
  }
  flush();
  // Publish error recovery counters for recovery_stats() when they moved (rarely).
  const core::Erl1Counters& c = engine_->erl1_counters();
  const std::uint64_t total = c.digest_errors + c.data_r2t_snacks + c.status_snacks + c.data_acks +
                              c.command_retries + c.probes + c.connection_recoveries +
                              c.tasks_reassigned;
  if (total != erl1_total_) {
    erl1_total_ = total;
    std::lock_guard lock(info_mutex_);
    erl1_counters_ = c;
  }
}

void SessionImpl::publish_connections() {
  std::vector<std::uint16_t> cids;
  for (auto& [cid, l] : links_)
    if (engine_->connection_live(cid)) cids.push_back(cid);
  std::lock_guard lock(info_mutex_);
  live_cids_ = std::move(cids);
}

std::vector<std::uint16_t> SessionImpl::connection_ids() const {
  std::lock_guard lock(info_mutex_);
  return live_cids_;
}

void SessionImpl::close_connection(std::uint16_t cid, std::chrono::milliseconds timeout,
                                   std::function<void(Result<void>)> done) {
  std::unique_lock lock(post_mutex_);
  if (stopped_) {
    lock.unlock();
    done(Unexpected(errc::session_closed));
    return;
  }
  loop_.post([this, cid, timeout, done = std::move(done)]() mutable {
    if (!engine_->connection_live(cid)) {
      done(Unexpected(errc::not_logged_in));
      return;
    }
    if (logout_done_.count(0)) {
      done(Unexpected(errc::busy));
      return;
    }
    logout_done_[0] = std::move(done);
    engine_->logout(now(), now() + std::chrono::duration_cast<core::Duration>(timeout),
                    core::LogoutReason::close_connection, cid);
    after_engine();
  });
}

RecoveryStats SessionImpl::recovery_stats() const {
  RecoveryStats s;
  s.reinstatements = recoveries_;
  std::lock_guard lock(info_mutex_);
  s.digest_errors = erl1_counters_.digest_errors;
  s.data_r2t_snacks = erl1_counters_.data_r2t_snacks;
  s.status_snacks = erl1_counters_.status_snacks;
  s.data_acks = erl1_counters_.data_acks;
  s.command_retries = erl1_counters_.command_retries;
  s.probes = erl1_counters_.probes;
  s.connection_recoveries = erl1_counters_.connection_recoveries;
  s.reassigned_tasks = erl1_counters_.tasks_reassigned;
  return s;
}

void SessionImpl::dispatch(core::Event& event) {
  std::visit(
      [&](auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, core::TaskDone>) {
          auto m = engine_to_id_.find(e.id.value);
          if (m == engine_to_id_.end()) return;
          const std::uint64_t id = m->second;
          engine_to_id_.erase(m);
          id_to_engine_.erase(id);
          auto it = pending_.find(id);
          if (it == pending_.end()) return;
          Pending p = std::move(it->second);
          pending_.erase(it);
          CommandMetrics metrics;
          metrics.opcode = p.opcode;
          metrics.lun = p.lun;
          metrics.bytes_out = p.bytes_out;
          metrics.error = e.error;
          if (e.error) {
            // A command lost with its connection after it went out may have run.
            if (e.error == errc::connection_closed && e.may_have_executed)
              metrics.error = make_error_code(errc::command_interrupted);
            if (options_.hooks.on_command) options_.hooks.on_command(metrics);
            if (p.done) p.done(Unexpected(metrics.error));
            return;
          }
          Completion& c = p.completion;
          SessionAccess::fill(c, e.result);
          metrics.bytes_in = e.result.data_in_bytes;
          metrics.latency = e.result.latency;
          metrics.status = e.result.status;
          if (options_.hooks.on_command) options_.hooks.on_command(metrics);
          if (p.done) p.done(std::move(c));
        } else if constexpr (std::is_same_v<T, core::TmfDone>) {
          auto it = tmf_done_.find(e.id.value);
          if (it == tmf_done_.end()) return;
          auto fn = std::move(it->second);
          tmf_done_.erase(it);
          if (e.error) {
            fn(Unexpected(e.error));
          } else {
            fn(e.response);
          }
        } else if constexpr (std::is_same_v<T, core::TextDone>) {
          auto it = text_done_.find(e.id.value);
          if (it == text_done_.end()) return;
          auto fn = std::move(it->second);
          text_done_.erase(it);
          if (e.error) {
            fn(Unexpected(e.error));
          } else {
            fn(std::move(e.keys));
          }
        } else if constexpr (std::is_same_v<T, core::LoginDone>) {
          if (login_reported_) {
            publish_connections();
            const auto added = std::find(added_cids_.begin(), added_cids_.end(), e.cid);
            const bool was_added = added != added_cids_.end();
            if (was_added) added_cids_.erase(added);
            if (add_cid_ == e.cid && add_waiter_) {
              add_waiter_->set_value(!e.error);
              add_waiter_.reset();
              add_cid_.reset();
            }
            if (replacing_cid_ == e.cid) {
              replacing_cid_.reset();
              replacement_failures_ = e.error ? replacement_failures_ + 1 : 0;
              schedule_replacement();  // another, if this one failed or more are missing
            }
            // A login made by error recovery, or of a further connection (MC/S).
            if (e.error) {
              log(LogLevel::warning,
                  std::string(was_added ? "connection login failed: " : "recovery login failed: ") +
                      e.error.message() +
                      (e.failure_detail.empty() ? "" : " (" + e.failure_detail + ")"));
              return;
            }
            logged_in_ = true;
            if (was_added) {
              log(LogLevel::info, "connection " + std::to_string(e.cid) + " logged in");
              return;
            }
            if (e.connection_recovery) {
              log(LogLevel::info, "connection " + std::to_string(e.cid) +
                                      " logged in again; its tasks are reassigned (ERL 2)");
              set_state(SessionState::logged_in);
              return;
            }
            ++recoveries_;
            {
              std::lock_guard lock(info_mutex_);
              tsih_ = engine_->tsih();
            }
            logged_in_ = true;
            log(LogLevel::info, "session reinstated, tsih " + std::to_string(engine_->tsih()));
            set_state(SessionState::logged_in);
            return;
          }
          login_reported_ = true;
          login_chap_ = e.chap_algorithm;
          if (e.error) {
            redirect_address_ = e.redirect_address;
            login_detail_ = e.failure_detail;
            if (!e.failure_detail.empty())
              log(LogLevel::warning, "login failed: " + e.failure_detail);
            set_state(SessionState::failed, e.error);
            login_result_.set_value(e.error);
            return;
          }
          {
            std::lock_guard lock(info_mutex_);
            const auto& p = engine_->params();
            negotiated_.header_digest = p.header_digest;
            negotiated_.data_digest = p.data_digest;
            negotiated_.max_connections = p.max_connections;
            negotiated_.initial_r2t = p.initial_r2t;
            negotiated_.immediate_data = p.immediate_data;
            negotiated_.initiator_max_recv_data_segment_length =
                p.initiator_max_recv_data_segment_length;
            negotiated_.target_max_recv_data_segment_length = p.target_max_recv_data_segment_length;
            negotiated_.max_burst_length = p.max_burst_length;
            negotiated_.first_burst_length = p.first_burst_length;
            negotiated_.default_time2wait = p.default_time2wait;
            negotiated_.default_time2retain = p.default_time2retain;
            negotiated_.max_outstanding_r2t = p.max_outstanding_r2t;
            negotiated_.data_pdu_in_order = p.data_pdu_in_order;
            negotiated_.data_sequence_in_order = p.data_sequence_in_order;
            negotiated_.error_recovery_level = p.error_recovery_level;
            target_alias_ = engine_->target_alias();
            tsih_ = engine_->tsih();
          }
          logged_in_ = true;
          publish_connections();
          set_state(SessionState::logged_in);
          login_result_.set_value({});
        } else if constexpr (std::is_same_v<T, core::ConnectionClosed>) {
          // live_cids_ is written on this thread only.
          const bool was_live =
              std::find(live_cids_.begin(), live_cids_.end(), e.cid) != live_cids_.end();
          const bool replacement_failed = replacing_cid_ == e.cid && !was_live;
          if (replacement_failed) {
            replacing_cid_.reset();
            ++replacement_failures_;
          }
          if (auto link = links_.find(e.cid); link != links_.end() && was_live)
            replacement_portal_ = link->second.portal;
          close_link(e.cid);
          publish_connections();
          if (add_cid_ == e.cid && add_waiter_) {
            add_waiter_->set_value(false);
            add_waiter_.reset();
            add_cid_.reset();
          }
          if (engine_->logged_in()) {
            // MC/S: the session goes on over its other connections. A failed one is replaced
            // (its tasks were reassigned at ERL 2), and so is a replacement that failed, and one
            // logged out at the target's request (Async event 1; a logout of our caller's has
            // no time2wait). A target that ended it said how long to wait first.
            log(LogLevel::warning, "connection " + std::to_string(e.cid) + " closed" +
                                       (e.reason ? ": " + e.reason.message() : ""));
            const bool failed = was_live && e.reason && e.reason != errc::session_closed;
            const bool logged_out_for_target =
                was_live && e.reason == errc::session_closed && e.time2wait;
            if (failed || replacement_failed || logged_out_for_target)
              schedule_replacement(e.time2wait ? std::optional(std::chrono::seconds(*e.time2wait))
                                               : std::nullopt);
            return;
          }
          logged_in_ = false;
          if (engine_->recovering()) {
            log(LogLevel::warning, "connection lost (" + e.reason.message() + "); recovering");
            set_state(SessionState::recovering, e.reason);
          } else if (e.reason) {
            log(LogLevel::warning, "connection closed: " + e.reason.message());
            set_state(SessionState::failed, e.reason);
          } else {
            set_state(SessionState::logged_out);
          }
          if (!login_reported_) {
            login_reported_ = true;
            login_result_.set_value(e.reason ? e.reason : make_error_code(errc::connection_closed));
          }
        } else if constexpr (std::is_same_v<T, core::AsyncEventReceived>) {
          log(LogLevel::info,
              "async event " + std::to_string(static_cast<int>(e.message.async_event)));
          if (options_.hooks.on_async)
            options_.hooks.on_async(static_cast<std::uint8_t>(e.message.async_event), e.sense);
        } else if constexpr (std::is_same_v<T, core::LogoutDone>) {
          auto fn = std::move(logout_done_[0]);
          logout_done_.erase(0);
          if (fn) {
            if (e.error) {
              fn(Unexpected(e.error));
            } else {
              fn(ok());
            }
          }
        } else if constexpr (std::is_same_v<T, core::RecoveryNeeded>) {
          reconnect_at_ = now() + e.delay;
        } else if constexpr (std::is_same_v<T, core::RecoveryFailed>) {
          logged_in_ = false;
          log(LogLevel::error, "recovery gave up: " + e.reason.message());
          set_state(SessionState::failed, e.reason);
        } else if constexpr (std::is_same_v<T, core::ResetAttentionAbsorbed>) {
          log(LogLevel::info, "LUN " + e.lun.to_string() +
                                  " reported the new I_T nexus (unit attention); command resent");
        } else if constexpr (std::is_same_v<T, core::PduTrace>) {
          if (options_.hooks.on_pdu)
            options_.hooks.on_pdu(e.outbound ? PduDirection::outbound : PduDirection::inbound,
                                  e.bytes);
        }
      },
      event);
}

std::uint64_t SessionImpl::submit(Lun lun, Command command, Done done) {
  const std::uint64_t id = next_id_++;
  std::unique_lock lock(post_mutex_);
  if (stopped_) {
    lock.unlock();
    if (done) done(Unexpected(errc::session_closed));
    return id;
  }
  loop_.post([this, id, lun, command = std::move(command), done = std::move(done)]() mutable {
    Pending p;
    p.done = std::move(done);
    p.opcode = command.spec().cdb.opcode();
    p.lun = lun;
    core::ScsiRequest r;
    r.lun = lun;
    r.cdb = core::CdbBytes::from(command.spec().cdb.bytes());
    r.attr = static_cast<core::TaskAttribute>(command.task_attribute());
    r.retry = static_cast<core::RetryPolicy>(command.retry_policy());
    SessionAccess::prepare(command, p.completion, p.owned_write, r);
    p.bytes_out = static_cast<std::uint32_t>(r.data_out.size());
    const auto timeout = command.timeout_value()
                             ? *command.timeout_value()
                             : std::chrono::nanoseconds(options_.command_timeout);
    if (timeout.count() > 0)
      r.deadline = now() + std::chrono::duration_cast<core::Duration>(timeout);
    pending_.emplace(id, std::move(p));
    const core::TaskId tid = engine_->submit(r, now());
    engine_to_id_[tid.value] = id;
    id_to_engine_[id] = tid;
    schedule_after_engine();
  });
  return id;
}

// Submissions arrive in bursts (a caller with many commands in flight, or completion callbacks
// that submit the next command): the engine runs once after the burst, so the commands leave in
// one writev rather than one system call each.
void SessionImpl::schedule_after_engine() {
  if (after_engine_scheduled_) return;
  after_engine_scheduled_ = true;
  loop_.post([this] {
    after_engine_scheduled_ = false;
    after_engine();
  });
}

void SessionImpl::cancel(std::uint64_t id) {
  std::lock_guard lock(post_mutex_);
  if (stopped_) return;
  loop_.post([this, id] {
    auto it = id_to_engine_.find(id);
    if (it == id_to_engine_.end()) return;
    engine_->cancel(it->second, now());
    after_engine();
  });
}

void SessionImpl::tmf(core::TmfFunction f, Lun lun, std::optional<std::uint64_t> task,
                      std::function<void(Result<core::TmfResponse>)> done) {
  std::unique_lock lock(post_mutex_);
  if (stopped_) {
    lock.unlock();
    done(Unexpected(errc::session_closed));
    return;
  }
  loop_.post([this, f, lun, task, done = std::move(done)]() mutable {
    std::optional<core::TaskId> ref;
    if (task) {
      auto it = id_to_engine_.find(*task);
      if (it == id_to_engine_.end()) {
        done(core::TmfResponse::task_does_not_exist);
        return;
      }
      ref = it->second;
    }
    const core::TaskId tid = engine_->submit_tmf(f, lun, ref, now());
    tmf_done_[tid.value] = std::move(done);
    after_engine();
  });
}

void SessionImpl::text(core::KeyValueList keys,
                       std::function<void(Result<core::KeyValueList>)> done) {
  std::unique_lock lock(post_mutex_);
  if (stopped_) {
    lock.unlock();
    done(Unexpected(errc::session_closed));
    return;
  }
  loop_.post([this, keys = std::move(keys), done = std::move(done)]() mutable {
    const core::TaskId tid = engine_->submit_text(std::move(keys), now());
    text_done_[tid.value] = std::move(done);
    after_engine();
  });
}

void SessionImpl::logout(std::chrono::milliseconds timeout,
                         std::function<void(Result<void>)> done) {
  std::unique_lock lock(post_mutex_);
  if (stopped_) {
    lock.unlock();
    done(Unexpected(errc::session_closed));
    return;
  }
  loop_.post([this, timeout, done = std::move(done)]() mutable {
    if (!logged_in_) {
      done(Unexpected(errc::not_logged_in));
      return;
    }
    logout_done_[0] = std::move(done);
    engine_->logout(now(), now() + std::chrono::duration_cast<core::Duration>(timeout));
    after_engine();
  });
}

std::string SessionImpl::portal() const {
  return endpoint_.to_string();
}

NegotiatedParameters SessionImpl::negotiated() const {
  std::lock_guard lock(info_mutex_);
  return negotiated_;
}

std::string SessionImpl::target_alias() const {
  std::lock_guard lock(info_mutex_);
  return target_alias_;
}

std::uint16_t SessionImpl::tsih() const {
  std::lock_guard lock(info_mutex_);
  return tsih_;
}

}  // namespace uiscsi::detail
