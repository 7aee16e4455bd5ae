#include "target/server.hpp"

#include <sys/epoll.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/bytes.hpp"
#include "core/target_connection.hpp"
#include "core/target_session.hpp"
#include "net/event_loop.hpp"
#include "net/socket.hpp"
#include "target/lu_factory.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/data_build.hpp"
#include "uiscsi/scsi/sense.hpp"

namespace uiscsi::target {
namespace {

using core::Clock;
using core::TimePoint;

// A fixed set of threads for LUN commands that may block.
class WorkerPool {
 public:
  explicit WorkerPool(unsigned n) {
    for (unsigned i = 0; i < std::max(1u, n); ++i)
      threads_.emplace_back([this] { run(); });
  }
  ~WorkerPool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_)
      t.join();
  }
  void submit(std::function<void()> fn) {
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::move(fn));
    }
    cv_.notify_one();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        fn = std::move(queue_.front());
        queue_.pop_front();
      }
      fn();
    }
  }
  std::vector<std::thread> threads_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
};

class Server;

// What one connection's engine asks about targets; knows the connection's own address so that
// SendTargets answers with an address the initiator can reach.
class ConnectionDirectory final : public core::TargetDirectory {
 public:
  ConnectionDirectory(Server& s, std::uint64_t conn, std::string local_host)
      : server_(s), conn_(conn), local_host_(std::move(local_host)) {}
  std::optional<TargetInfo> find_target(std::string_view name) const override;
  bool allowed(std::string_view target, std::string_view initiator) const override;
  std::optional<Secret> chap_secret(std::string_view target, std::string_view user) const override;
  std::optional<core::ChapCredentials> mutual_credentials(std::string_view target) const override;
  bool lun_exists(std::string_view target, const Lun& lun) const override;
  bool discovery_chap_required() const override;
  core::KeyValueList send_targets(std::string_view initiator, std::string_view which,
                                  std::string_view session_target) const override;
  std::string redirect(std::string_view target) const override;
  std::uint16_t attach_session(std::string_view initiator, std::uint64_t isid, std::uint16_t tsih,
                               std::string_view target) override;
  std::shared_ptr<core::TargetSession> session_state(std::uint16_t tsih) override;

 private:
  Server& server_;
  std::uint64_t conn_;
  std::string local_host_;
};

struct Connection {
  std::uint64_t id = 0;
  net::Socket socket;
  std::string peer;
  std::unique_ptr<ConnectionDirectory> directory;
  std::unique_ptr<core::TargetConnection> engine;
  std::optional<Nexus> nexus;
  std::string target;
  std::uint16_t tsih = 0;
  bool write_armed = false;
  bool closed = false;
  unsigned executing = 0;  // LU commands running on workers (they hold the engine's buffers)
  TimePoint opened{};
};

struct SessionRecord {
  std::uint16_t tsih = 0;
  std::string initiator;
  std::uint64_t isid = 0;
  std::string target;
  std::vector<std::uint64_t> connections;
  std::uint64_t nexus_id = 0;
  // Shared by the session's connection engines: the command window, and at ERL 2 the tasks of
  // failed connections. The record outlives its last connection while such tasks wait.
  std::shared_ptr<core::TargetSession> state = std::make_shared<core::TargetSession>();
  bool up = false;  // its first connection reached full feature phase (counted, nexus added)
};

// A LUN answer held back (response delay or rate limit fault).
struct Delayed {
  TimePoint when;
  std::uint64_t conn;
  std::uint32_t task;
  core::CommandOutcome outcome;
};

class Server final : public TargetServer {
 public:
  Server(ServerConfig config, std::shared_ptr<Logger> logger)
      : config_(std::move(config)),
        healthy_engine_(config_.engine),
        logger_(std::move(logger)),
        workers_(config_.worker_threads) {
    healthy_engine_.faults = {};
  }
  ~Server() override { stop(); }

  Result<void> init();
  std::vector<net::Endpoint> endpoints() const override { return bound_; }
  ServerStats stats() const override;
  std::string session_report() const override;
  void stop() override;

  // Used by ConnectionDirectory (loop thread).
  const TargetEntry* target(std::string_view name) const {
    for (const auto& t : config_.targets)
      if (t.name == name) return &t;
    return nullptr;
  }
  const ServerConfig& config() const { return config_; }
  std::shared_ptr<LogicalUnit> lu(std::string_view target, const Lun& lun) const;
  std::uint16_t attach(std::uint64_t conn, std::string_view initiator, std::uint64_t isid,
                       std::uint16_t tsih, std::string_view target);
  std::shared_ptr<core::TargetSession> session_state(std::uint16_t tsih) const {
    auto it = sessions_.find(tsih);
    return it == sessions_.end() ? nullptr : it->second.state;
  }

 private:
  void log(LogLevel level, const std::string& msg) const {
    if (logger_) logger_->log(level, msg);
  }
  void accept_on(const net::Socket& listener);
  void on_readable(Connection& c);
  // Runs `c` and then the other connections of its session, which an event on `c` may have
  // given work (CmdSN order, logout of another CID, reassignment).
  void service(Connection& c);
  void service_one(Connection& c);
  // The session's last connection closed and nothing waits for reassignment: it ends.
  void end_session(std::map<std::uint16_t, SessionRecord>::iterator it);
  void flush(Connection& c);
  void execute(Connection& c, const core::ExecuteCommand& e);
  void finish_command(std::uint64_t conn, std::uint32_t task, core::CommandOutcome outcome);
  void on_session_up(Connection& c, const core::SessionUp& up);
  void close_connection(Connection& c, std::error_code reason);
  void reap();
  std::optional<TimePoint> next_deadline() const;
  void on_timer(TimePoint now);
  Connection* find(std::uint64_t id) {
    auto it = conns_.find(id);
    return it == conns_.end() ? nullptr : it->second.get();
  }

  ServerConfig config_;
  core::TargetConfig
      healthy_engine_;  // config_.engine without faults (FaultPlan::faulty_connections)
  std::shared_ptr<Logger> logger_;
  core::OpenSslRandom random_;
  net::EventLoop loop_;
  std::vector<net::Socket> listeners_;
  std::vector<net::Endpoint> bound_;
  std::map<std::string, std::map<std::uint64_t, std::shared_ptr<LogicalUnit>>> luns_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Connection>> conns_;
  std::map<std::uint16_t, SessionRecord> sessions_;
  std::uint64_t next_conn_ = 1;
  std::uint16_t next_tsih_ = 1;
  std::uint64_t next_nexus_ = 1;
  std::deque<Delayed> delayed_;
  // Commands of a sequential() LU, in arrival (CmdSN) order. While `running`, one worker
  // drains the queue (drain()): it runs the commands one after another without a round trip
  // through the loop thread between them. The map is touched on the loop thread only; a queue's
  // fields under its mutex.
  struct LuQueue {
    std::mutex mutex;
    bool running = false;
    std::deque<std::function<void()>> waiting;
  };
  std::unordered_map<const LogicalUnit*, LuQueue> lu_queues_;
  void drain(LuQueue& queue);
  TimePoint rate_free_at_{};
  std::thread thread_;
  std::atomic<bool> stopped_{false};
  mutable std::mutex stats_mutex_;
  ServerStats stats_;
  WorkerPool workers_;
};

// ---------------------------------------------------------------------------------------------

std::optional<core::TargetDirectory::TargetInfo> ConnectionDirectory::find_target(
    std::string_view name) const {
  const TargetEntry* t = server_.target(name);
  if (t == nullptr) return std::nullopt;
  return TargetInfo{t->alias, t->portal_group_tag, t->chap_required, t->mutual.has_value()};
}

bool ConnectionDirectory::allowed(std::string_view target, std::string_view initiator) const {
  const TargetEntry* t = server_.target(target);
  if (t == nullptr) return false;
  if (t->allowed_initiators.empty()) return true;
  return std::find(t->allowed_initiators.begin(), t->allowed_initiators.end(), initiator) !=
         t->allowed_initiators.end();
}

std::optional<Secret> ConnectionDirectory::chap_secret(std::string_view target,
                                                       std::string_view user) const {
  const auto& users =
      target.empty() ? server_.config().discovery_chap_users : server_.target(target)->chap_users;
  auto it = users.find(std::string(user));
  if (it == users.end()) return std::nullopt;
  return it->second;
}

std::optional<core::ChapCredentials> ConnectionDirectory::mutual_credentials(
    std::string_view target) const {
  const TargetEntry* t = target.empty() ? nullptr : server_.target(target);
  return t ? t->mutual : std::nullopt;
}

bool ConnectionDirectory::lun_exists(std::string_view target, const Lun& lun) const {
  return server_.lu(target, lun) != nullptr;
}

bool ConnectionDirectory::discovery_chap_required() const {
  return server_.config().discovery_chap_required;
}

core::KeyValueList ConnectionDirectory::send_targets(std::string_view initiator,
                                                     std::string_view which,
                                                     std::string_view session_target) const {
  core::KeyValueList out;
  for (const auto& t : server_.config().targets) {
    if (which == "All") {
      // every target this initiator may use
    } else if (which.empty()) {
      if (t.name != session_target) continue;
    } else if (t.name != which) {
      continue;
    }
    if (!allowed(t.name, initiator)) continue;
    out.push_back({"TargetName", t.name});
    for (const auto& ep : server_.endpoints()) {
      net::Endpoint shown = ep;
      if (shown.host.empty() || shown.host == "0.0.0.0" || shown.host == "::")
        shown.host = local_host_;
      out.push_back(
          {"TargetAddress", shown.to_string() + "," + std::to_string(t.portal_group_tag)});
    }
  }
  return out;
}

std::string ConnectionDirectory::redirect(std::string_view target) const {
  const TargetEntry* t = server_.target(target);
  return t ? t->redirect : std::string();
}

std::uint16_t ConnectionDirectory::attach_session(std::string_view initiator, std::uint64_t isid,
                                                  std::uint16_t tsih, std::string_view target) {
  return server_.attach(conn_, initiator, isid, tsih, target);
}

std::shared_ptr<core::TargetSession> ConnectionDirectory::session_state(std::uint16_t tsih) {
  return server_.session_state(tsih);
}

// ---------------------------------------------------------------------------------------------

Result<void> Server::init() {
  if (config_.targets.empty()) return errc::invalid_argument;
  for (const auto& t : config_.targets) {
    if (t.name.empty()) return errc::invalid_argument;
    if (luns_.count(t.name)) return errc::invalid_argument;  // target listed twice
    auto luns = make_logical_units(t);
    if (!luns) return luns.error();
    luns_[t.name] = std::move(*luns);
  }
  for (const auto& ep : config_.portals) {
    auto s = net::listen(ep);
    if (!s) return s.error();
    auto port = net::local_port(*s);
    if (!port) return port.error();
    bound_.push_back({ep.host, *port});
    listeners_.push_back(std::move(*s));
  }
  for (auto& l : listeners_) {
    const net::Socket* listener = &l;
    auto r = loop_.add(l.fd(), EPOLLIN, [this, listener](std::uint32_t) { accept_on(*listener); });
    if (!r) return r.error();
  }
  thread_ = std::thread([this] {
    loop_.run([this] { return next_deadline(); }, [this](TimePoint now) { on_timer(now); });
  });
  return ok();
}

void Server::stop() {
  if (stopped_.exchange(true)) return;
  if (thread_.joinable()) {
    loop_.post([this] {
      for (auto& [id, c] : conns_)
        close_connection(*c, make_error_code(errc::session_closed));
    });
    loop_.stop();
    thread_.join();
  }
  listeners_.clear();
}

ServerStats Server::stats() const {
  std::lock_guard lock(stats_mutex_);
  return stats_;
}

std::string Server::session_report() const {
  std::promise<std::string> p;
  auto f = p.get_future();
  const bool posted = const_cast<net::EventLoop&>(loop_).post([&] {
    std::string out;
    for (const auto& [tsih, s] : sessions_) {
      std::uint64_t commands = 0, in = 0, outb = 0;
      for (auto id : s.connections) {
        auto it = conns_.find(id);
        if (it == conns_.end() || !it->second->engine) continue;
        const auto& st = it->second->engine->stats();
        commands += st.commands;
        in += st.bytes_in;
        outb += st.bytes_out;
      }
      out += "session tsih=" + std::to_string(tsih) + " initiator=" + s.initiator +
             " target=" + (s.target.empty() ? std::string("(discovery)") : s.target) +
             " connections=" + std::to_string(s.connections.size()) +
             " waiting_tasks=" + std::to_string(s.state->orphans()) +
             " commands=" + std::to_string(commands) + " bytes_in=" + std::to_string(in) +
             " bytes_out=" + std::to_string(outb) + "\n";
    }
    p.set_value(out);
  });
  if (!posted) return {};
  return f.get();
}

std::shared_ptr<LogicalUnit> Server::lu(std::string_view target, const Lun& lun) const {
  auto t = luns_.find(std::string(target));
  if (t == luns_.end()) return nullptr;
  auto n = lun.to_number();
  if (!n) return nullptr;
  auto it = t->second.find(*n);
  return it == t->second.end() ? nullptr : it->second;
}

std::uint16_t Server::attach(std::uint64_t conn, std::string_view initiator, std::uint64_t isid,
                             std::uint16_t tsih, std::string_view target) {
  if (tsih != 0) {
    auto it = sessions_.find(tsih);
    if (it == sessions_.end() || it->second.initiator != initiator || it->second.isid != isid ||
        it->second.target != target)
      return 0;
    it->second.connections.push_back(conn);
    return tsih;
  }
  // Session reinstatement (RFC 7143 section 6.3.5): the same initiator and ISID log in anew;
  // the old session's connections close.
  for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
    if (it->second.initiator == initiator && it->second.isid == isid &&
        it->second.target == target) {
      log(LogLevel::info, "reinstating session tsih=" + std::to_string(it->first) + " of " +
                              std::string(initiator));
      it->second.state->terminate();  // its tasks are not reassigned to the new session
      const auto old = it->second.connections;
      loop_.post([this, old] {
        for (auto id : old)
          if (Connection* c = find(id)) close_connection(*c, make_error_code(errc::session_closed));
      });
    }
  }
  std::uint16_t t;
  do {
    t = next_tsih_++;
    if (next_tsih_ == 0) next_tsih_ = 1;
  } while (t == 0 || sessions_.count(t));
  SessionRecord rec;
  rec.tsih = t;
  rec.initiator = std::string(initiator);
  rec.isid = isid;
  rec.target = std::string(target);
  rec.connections.push_back(conn);
  rec.nexus_id = next_nexus_++;
  sessions_[t] = std::move(rec);
  return t;
}

void Server::accept_on(const net::Socket& listener) {
  for (;;) {
    auto s = net::accept(listener);
    if (!s) return;
    // No SO_SNDBUF/SO_RCVBUF: a fixed size would switch off TCP autotuning.
    auto c = std::make_unique<Connection>();
    c->id = next_conn_++;
    c->peer = s->peer_name();
    std::string local = s->local_name();
    std::string local_host = local.substr(0, local.rfind(':'));
    if (local_host.size() > 2 && local_host.front() == '[')
      local_host = local_host.substr(1, local_host.size() - 2);
    c->socket = std::move(*s);
    c->opened = Clock::now();
    c->directory = std::make_unique<ConnectionDirectory>(*this, c->id, local_host);
    // The engine keeps a reference to its configuration, which outlives every connection.
    const std::uint64_t faulty = config_.engine.faults.faulty_connections;
    const core::TargetConfig& engine_config =
        faulty != 0 && c->id > faulty ? healthy_engine_ : config_.engine;
    c->engine =
        std::make_unique<core::TargetConnection>(engine_config, *c->directory, random_, c->opened);
    const std::uint64_t id = c->id;
    auto r = loop_.add(c->socket.fd(), EPOLLIN | EPOLLRDHUP, [this, id](std::uint32_t ev) {
      Connection* conn = find(id);
      if (conn == nullptr) return;
      if (ev & EPOLLOUT) flush(*conn);
      if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(*conn);
      service(*conn);
    });
    if (!r) continue;
    log(LogLevel::info, "connection from " + c->peer + " to " + local);
    {
      std::lock_guard lock(stats_mutex_);
      ++stats_.connections_accepted;
      ++stats_.connections_open;
    }
    conns_.emplace(id, std::move(c));
  }
}

void Server::on_readable(Connection& c) {
  for (int i = 0; i < 64 && !c.closed; ++i) {
    auto buf = c.engine->receive_buffer();
    if (buf.empty()) return;
    auto r = c.socket.read(buf);
    if (!r) {
      if (r.error() == std::errc::resource_unavailable_try_again) return;
      c.engine->connection_lost(r.error(), Clock::now());
      return;
    }
    if (*r == 0) {
      c.engine->connection_lost(make_error_code(errc::connection_closed), Clock::now());
      return;
    }
    {
      std::lock_guard lock(stats_mutex_);
      stats_.bytes_in += *r;
    }
    c.engine->commit_received(*r, Clock::now());
    if (*r < buf.size()) return;
  }
}

void Server::service(Connection& c) {
  service_one(c);
  if (c.tsih == 0) return;
  auto it = sessions_.find(c.tsih);
  if (it == sessions_.end()) return;
  const auto& list = it->second.connections;
  if (list.empty() || (list.size() == 1 && list[0] == c.id)) return;  // nobody else
  const auto ids = list;
  for (auto id : ids)
    if (Connection* s = find(id); s != nullptr && s != &c && !s->closed) service_one(*s);
}

// Runs the engine's events, writes what it queued, closes when it is done.
void Server::service_one(Connection& c) {
  for (int round = 0; round < 8 && !c.closed; ++round) {
    bool any = false;
    while (auto e = c.engine->poll_event()) {
      any = true;
      if (auto* x = std::get_if<core::ExecuteCommand>(&*e)) {
        execute(c, *x);
      } else if (auto* tm = std::get_if<core::TaskManagement>(&*e)) {
        for (auto& [n, lu] : luns_[c.target]) {
          const bool whole = tm->function == core::TmfFunction::target_warm_reset ||
                             tm->function == core::TmfFunction::target_cold_reset;
          if (whole) {
            lu->target_reset(tm->function == core::TmfFunction::target_cold_reset);
          } else if (auto num = tm->lun.to_number(); num && *num == n) {
            lu->logical_unit_reset();
          }
        }
        c.engine->tmf_done(tm->request, Clock::now());
      } else if (auto* up = std::get_if<core::SessionUp>(&*e)) {
        on_session_up(c, *up);
      } else if (auto* closed = std::get_if<core::TargetConnectionClosed>(&*e)) {
        close_connection(c, closed->reason);
        return;
      }
    }
    flush(c);
    if (!any) break;
  }
  if (!c.closed && c.engine->finished()) close_connection(c, {});
}

void Server::flush(Connection& c) {
  while (!c.closed && c.engine->wants_write()) {
    std::array<std::span<const std::byte>, 64> iov;
    const std::size_t n = c.engine->gather(iov);
    if (n == 0) break;
    std::size_t total = 0;
    for (std::size_t i = 0; i < n; ++i)
      total += iov[i].size();
    auto w = c.socket.writev(std::span(iov.data(), n));
    if (!w) {
      if (w.error() == std::errc::resource_unavailable_try_again) break;
      c.engine->connection_lost(w.error(), Clock::now());
      return;
    }
    c.engine->consume(*w);
    {
      std::lock_guard lock(stats_mutex_);
      stats_.bytes_out += *w;
    }
    if (*w < total) break;
  }
  if (c.closed) return;
  const bool want = c.engine->wants_write();
  if (want != c.write_armed) {
    c.write_armed = want;
    loop_.modify(c.socket.fd(), EPOLLIN | EPOLLRDHUP | (want ? EPOLLOUT : 0u));
  }
}

void Server::on_session_up(Connection& c, const core::SessionUp& up) {
  c.target = up.target_name;
  c.tsih = up.tsih;
  auto it = sessions_.find(up.tsih);
  Nexus nexus{it != sessions_.end() ? it->second.nexus_id : next_nexus_++, up.initiator_name,
              up.isid};
  c.nexus = nexus;
  log(LogLevel::info, "login: " + up.initiator_name + " -> " +
                          (up.discovery ? std::string("(discovery)") : up.target_name) +
                          " tsih=" + std::to_string(up.tsih) + " from " + c.peer);
  // A further connection of a session (MC/S) joins the nexus its first connection set up.
  if (it != sessions_.end()) {
    if (it->second.up) return;
    it->second.up = true;
  }
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.sessions_open;
  }
  if (!up.discovery)
    for (auto& [n, lu] : luns_[c.target])
      lu->nexus_added(nexus);
}

namespace {

// INQUIRY for a LUN that does not exist: peripheral qualifier 011b, device type 1Fh (SPC-4 6.6.2).
std::vector<std::byte> absent_lun_inquiry() {
  std::vector<std::byte> d(36);
  d[0] = std::byte{0x7f};
  d[2] = std::byte{0x06};
  d[3] = std::byte{0x02};
  d[4] = std::byte{31};
  return d;
}

core::CommandOutcome to_outcome(ScsiResult r) {
  return core::CommandOutcome{r.status, std::move(r.sense), std::move(r.data_in),
                              r.data_out_length};
}

}  // namespace

void Server::execute(Connection& c, const core::ExecuteCommand& e) {
  {
    std::lock_guard lock(stats_mutex_);
    ++stats_.commands;
  }
  const auto opcode = std::to_integer<std::uint8_t>(e.cdb[0]);
  // REPORT LUNS is the target's, whatever LUN it is addressed to (SPC-4 section 6.33).
  if (opcode == 0xa0) {
    std::vector<Lun> list;
    for (auto& [n, lu] : luns_[c.target])
      if (auto l = Lun::from_number(n)) list.push_back(*l);
    core::CommandOutcome o;
    o.data_in = scsi::build_report_luns(list);
    finish_command(c.id, e.task, std::move(o));
    return;
  }
  auto lu = this->lu(c.target, e.lun);
  if (!lu) {
    core::CommandOutcome o;
    if (opcode == 0x12) {
      o.data_in = absent_lun_inquiry();
    } else {
      o.status = 0x02;  // ILLEGAL REQUEST, LOGICAL UNIT NOT SUPPORTED
      o.sense =
          scsi::build_fixed_sense(scsi::make_sense(scsi::SenseKey::illegal_request, 0x25, 0x00));
    }
    finish_command(c.id, e.task, std::move(o));
    return;
  }
  ScsiCommand cmd;
  cmd.nexus = *c.nexus;
  cmd.lun = e.lun;
  cmd.cdb = e.cdb;
  cmd.data_out = e.data_out;
  cmd.expected_data_in = e.expected_data_in;
  cmd.attribute = static_cast<TaskAttribute>(e.attribute);
  if (!lu->blocking()) {
    ScsiResult r = lu->execute(cmd);
    finish_command(c.id, e.task, to_outcome(std::move(r)));
    return;
  }
  // On a worker: the engine keeps the CDB and data buffers until complete() (or the connection
  // is reaped, which waits for `executing` to drop to zero).
  ++c.executing;
  const std::uint64_t id = c.id;
  const std::uint32_t task = e.task;
  LuQueue* queue = lu->sequential() ? &lu_queues_[lu.get()] : nullptr;
  auto run = [this, lu, cmd, id, task] {
    ScsiResult r = lu->execute(cmd);
    loop_.post([this, id, task, r = std::move(r)]() mutable {
      Connection* conn = find(id);
      if (conn == nullptr) return;
      --conn->executing;
      finish_command(id, task, to_outcome(std::move(r)));
      service(*conn);  // a no-op for a closed connection, but not for its session's others
      reap();
    });
  };
  if (queue == nullptr) {
    workers_.submit(std::move(run));
    return;
  }
  bool start = false;
  {
    std::lock_guard lock(queue->mutex);
    queue->waiting.push_back(std::move(run));
    start = !queue->running;
    queue->running = true;
  }
  if (start) workers_.submit([this, queue] { drain(*queue); });
}

// On a worker: runs the queued commands of a sequential LU in order until the queue is empty.
// After kDrainBatch commands it yields its worker (resubmits itself) so that a busy tape LU
// cannot hold a worker that other LUs wait for.
void Server::drain(LuQueue& queue) {
  constexpr int kDrainBatch = 32;
  for (int done = 0; done < kDrainBatch; ++done) {
    std::function<void()> next;
    {
      std::lock_guard lock(queue.mutex);
      if (queue.waiting.empty()) {
        queue.running = false;
        return;
      }
      next = std::move(queue.waiting.front());
      queue.waiting.pop_front();
    }
    next();
  }
  workers_.submit([this, q = &queue] { drain(*q); });
}

void Server::finish_command(std::uint64_t id, std::uint32_t task, core::CommandOutcome outcome) {
  const TimePoint now = Clock::now();
  TimePoint when = now + config_.response_delay;
  if (config_.rate_limit_bytes_per_second > 0 && !outcome.data_in.empty()) {
    // A slow drive: the data takes bytes / rate to come off the medium.
    const auto cost = std::chrono::nanoseconds(outcome.data_in.size() * 1'000'000'000ull /
                                               config_.rate_limit_bytes_per_second);
    rate_free_at_ =
        std::max(rate_free_at_, now) + std::chrono::duration_cast<Clock::duration>(cost);
    when = std::max(when, rate_free_at_);
  }
  if (when > now) {
    delayed_.push_back({when, id, task, std::move(outcome)});
    std::sort(delayed_.begin(), delayed_.end(),
              [](const Delayed& a, const Delayed& b) { return a.when < b.when; });
    return;
  }
  Connection* c = find(id);
  if (c == nullptr) return;
  // Even when closed: at ERL 2 the engine hands the answer to the task's new connection (the
  // caller then services the session's connections).
  c->engine->complete(task, std::move(outcome), now);
}

void Server::close_connection(Connection& c, std::error_code reason) {
  if (c.closed) return;
  c.closed = true;
  loop_.remove(c.socket.fd());
  c.socket.close();
  if (const std::string why = c.engine->login_failure(); !why.empty())
    log(LogLevel::info, "login from " + c.peer + " refused: " + why);
  if (reason && reason != errc::session_closed)
    log(LogLevel::info, "connection " + c.peer + " closed: " + reason.message());
  else
    log(LogLevel::info, "connection " + c.peer + " closed");
  {
    std::lock_guard lock(stats_mutex_);
    --stats_.connections_open;
    if (!c.nexus) ++stats_.logins_failed;
  }
  // The session ends with its last connection, unless (ERL 2) tasks wait for reassignment on a
  // new connection: then it ends when they expire (on_timer).
  auto it = sessions_.find(c.tsih);
  if (it != sessions_.end()) {
    auto& list = it->second.connections;
    list.erase(std::remove(list.begin(), list.end(), c.id), list.end());
    if (list.empty() && it->second.state->orphans() == 0) end_session(it);
  }
  loop_.post([this] { reap(); });
}

void Server::end_session(std::map<std::uint16_t, SessionRecord>::iterator it) {
  const SessionRecord& s = it->second;
  if (s.up) {
    std::lock_guard lock(stats_mutex_);
    --stats_.sessions_open;
  }
  if (s.up && !s.target.empty()) {
    const Nexus nexus{s.nexus_id, s.initiator, s.isid};
    for (auto& [n, lu] : luns_[s.target])
      lu->nexus_removed(nexus);
  }
  sessions_.erase(it);
}

void Server::reap() {
  // Sessions that only waited for LU answers of expired ERL 2 tasks.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto next = std::next(it);
    if (it->second.connections.empty() && it->second.state->orphans() == 0) end_session(it);
    it = next;
  }
  for (auto it = conns_.begin(); it != conns_.end();) {
    // A closed engine may still hold a task the LU runs for another connection, or get an LU
    // answer held back by a fault that it hands to the task's new connection (ERL 2).
    const std::uint64_t id = it->first;
    const bool answer_pending = std::any_of(delayed_.begin(), delayed_.end(),
                                            [id](const Delayed& d) { return d.conn == id; });
    if (it->second->closed && it->second->executing == 0 && !it->second->engine->busy() &&
        !answer_pending) {
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<TimePoint> Server::next_deadline() const {
  std::optional<TimePoint> best;
  if (!delayed_.empty()) best = delayed_.front().when;
  for (const auto& [tsih, s] : sessions_)
    if (auto d = s.state->next_deadline(); d && (!best || *d < *best)) best = d;
  for (const auto& [id, c] : conns_) {
    if (c->closed) continue;
    if (auto d = c->engine->next_deadline(); d && (!best || *d < *best)) best = d;
  }
  return best;
}

void Server::on_timer(TimePoint now) {
  while (!delayed_.empty() && delayed_.front().when <= now) {
    Delayed d = std::move(delayed_.front());
    delayed_.pop_front();
    if (Connection* c = find(d.conn)) {
      c->engine->complete(d.task, std::move(d.outcome), now);
      service(*c);
    }
  }
  // ERL 2: tasks no connection reassigned in Time2Wait + Time2Retain are aborted; a session
  // without connections ends with its last such task.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto next = std::next(it);
    if (auto d = it->second.state->next_deadline(); d && *d <= now) it->second.state->on_timer(now);
    if (it->second.connections.empty() && it->second.state->orphans() == 0) end_session(it);
    it = next;
  }
  std::vector<std::uint64_t> ids;
  for (auto& [id, c] : conns_)
    ids.push_back(id);
  for (auto id : ids) {
    Connection* c = find(id);
    if (c == nullptr || c->closed) continue;
    if (auto d = c->engine->next_deadline(); d && *d <= now) {
      c->engine->on_timer(now);
      service(*c);
    }
  }
}

}  // namespace

Result<std::unique_ptr<TargetServer>> TargetServer::start(ServerConfig config,
                                                          std::shared_ptr<Logger> logger) {
  auto s = std::make_unique<Server>(std::move(config), std::move(logger));
  if (auto r = s->init(); !r) return r.error();
  return std::unique_ptr<TargetServer>(std::move(s));
}

}  // namespace uiscsi::target
