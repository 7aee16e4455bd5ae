// SessionImpl: drives one core::InitiatorSession over its TCP connections (one, or several with
// MC/S) on its own I/O thread.
// Internal header; the public face is include/uiscsi/session.hpp.
#pragma once

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "core/initiator_session.hpp"
#include "net/event_loop.hpp"
#include "net/socket.hpp"
#include "uiscsi/session.hpp"

namespace uiscsi::detail {

core::SessionConfig make_core_config(const SessionOptions& o, std::string target,
                                     core::SessionType type);

class SessionImpl {
 public:
  SessionImpl(SessionOptions options, std::string target_name, core::SessionType type);
  ~SessionImpl();

  // Connects to `endpoint`, starts the I/O thread and logs in. On a redirect, returns the login
  // redirect error and sets redirect_address().
  Result<void> start(const net::Endpoint& endpoint);
  // Logs out (bounded) and stops the I/O thread. Idempotent.
  void shutdown(std::chrono::milliseconds logout_timeout);

  using Done = std::function<void(Result<Completion>)>;
  std::uint64_t submit(Lun lun, Command command, Done done);
  void cancel(std::uint64_t id);
  // Task management; `done` runs on the I/O thread.
  void tmf(core::TmfFunction f, Lun lun, std::optional<std::uint64_t> task,
           std::function<void(Result<core::TmfResponse>)> done);
  void text(core::KeyValueList keys, std::function<void(Result<core::KeyValueList>)> done);
  void logout(std::chrono::milliseconds timeout, std::function<void(Result<void>)> done);
  // MC/S: logs out one connection (reason 1).
  void close_connection(std::uint16_t cid, std::chrono::milliseconds timeout,
                        std::function<void(Result<void>)> done);
  [[nodiscard]] std::vector<std::uint16_t> connection_ids() const;

  [[nodiscard]] bool in_io_thread() const { return loop_.in_loop_thread(); }
  [[nodiscard]] bool logged_in() const { return logged_in_; }
  [[nodiscard]] const std::string& redirect_address() const { return redirect_address_; }
  [[nodiscard]] std::optional<core::ChapAlgorithm> login_chap_algorithm() const {
    return login_chap_;
  }
  [[nodiscard]] const std::string& login_detail() const { return login_detail_; }
  [[nodiscard]] const std::string& target_name() const { return target_name_; }
  [[nodiscard]] std::string portal() const;
  [[nodiscard]] NegotiatedParameters negotiated() const;
  [[nodiscard]] std::string target_alias() const;
  [[nodiscard]] std::uint64_t isid() const { return isid_; }
  [[nodiscard]] std::uint16_t tsih() const;
  [[nodiscard]] std::uint64_t recoveries() const { return recoveries_; }
  [[nodiscard]] RecoveryStats recovery_stats() const;

 private:
  struct Pending {
    Done done;
    Completion completion;  // carries the read buffer until the command ends
    std::vector<std::byte> owned_write;
    std::uint8_t opcode = 0;
    Lun lun;
    std::uint32_t bytes_out = 0;
  };

  // One TCP connection of the session.
  struct Link {
    net::Socket socket;
    net::Endpoint portal;  // where it was dialled (a replacement dials the same)
    bool write_armed = false;
  };

  void io_main();
  void start_reconnect();
  // MC/S, I/O thread: when the logged-in session has fewer connections than it asked for and
  // no replacement is under way, dials one after DefaultTime2Wait, plus the recovery backoff
  // (doubling) after failed attempts; gives up after max_recovery_attempts in a row.
  // `time2wait` replaces DefaultTime2Wait (the target's own, see core::ConnectionClosed).
  void schedule_replacement(std::optional<std::chrono::seconds> time2wait = {});
  // Connects further connection number `index` (MC/S; the leading one is 0) to its portal and
  // waits for its login; false if it failed.
  bool add_connection(std::uint32_t index);
  void attach_socket(core::ConnectionId cid, net::Socket socket, const net::Endpoint& portal);
  void close_link(core::ConnectionId cid);
  void on_socket(core::ConnectionId cid, std::uint32_t events);
  void publish_connections();
  void after_engine();
  void schedule_after_engine();  // after_engine() once the posted work queued so far has run
  void flush();
  void dispatch(core::Event& e);
  void close_socket();
  void set_state(SessionState s, std::error_code ec = {});
  void log(LogLevel level, const std::string& message) const;
  core::TimePoint now() const { return core::Clock::now(); }

  SessionOptions options_;
  std::string target_name_;
  core::SessionType type_;
  core::OpenSslRandom random_;
  std::unique_ptr<core::InitiatorSession> engine_;  // I/O thread only, after start()
  net::EventLoop loop_;
  std::map<core::ConnectionId, Link> links_;  // I/O thread only
  net::Endpoint endpoint_;
  // MC/S: the session's portal, then SessionOptions::portals (set by start()).
  std::vector<net::Endpoint> portals_;
  // Where the next MC/S replacement connection dials (I/O thread): the failed one's portal.
  std::optional<net::Endpoint> replacement_portal_;
  // MC/S (I/O thread): the replacement connection logging in, and failed replacement attempts
  // in a row (a connect or login that failed).
  std::optional<core::ConnectionId> replacing_cid_;
  int replacement_failures_ = 0;
  std::thread io_;
  bool after_engine_scheduled_ = false;  // I/O thread: schedule_after_engine() is pending
  std::atomic<bool> logged_in_{false};
  std::atomic<bool> stopped_{false};  // no more work is accepted
  std::atomic<bool> shutting_down_{false};
  std::mutex post_mutex_;  // orders posts against shutdown
  std::uint64_t isid_ = 0;

  // Error recovery: when to dial again, and the thread doing the (blocking) connect.
  std::optional<core::TimePoint> reconnect_at_;
  std::thread reconnect_thread_;
  std::atomic<std::uint64_t> recoveries_{0};
  // Logins of connections added to a live session (MC/S), not recoveries; and the caller
  // waiting for one (add_connection()).
  std::vector<core::ConnectionId> added_cids_;
  std::shared_ptr<std::promise<bool>> add_waiter_;
  std::optional<core::ConnectionId> add_cid_;

  std::promise<std::error_code> login_result_;
  bool login_reported_ = false;
  std::string redirect_address_;
  std::string login_detail_;
  std::optional<core::ChapAlgorithm> login_chap_;

  mutable std::mutex info_mutex_;
  NegotiatedParameters negotiated_;
  core::Erl1Counters erl1_counters_;  // a copy of the engine's, refreshed when they change
  std::uint64_t erl1_total_ = 0;      // I/O thread: the sum last published
  std::string target_alias_;
  std::uint16_t tsih_ = 0;
  std::vector<std::uint16_t> live_cids_;

  // I/O thread only.
  std::atomic<std::uint64_t> next_id_{1};
  std::unordered_map<std::uint64_t, Pending> pending_;             // by public id
  std::unordered_map<std::uint64_t, std::uint64_t> engine_to_id_;  // engine TaskId -> public id
  std::unordered_map<std::uint64_t, core::TaskId> id_to_engine_;
  std::unordered_map<std::uint64_t, std::function<void(Result<core::TmfResponse>)>> tmf_done_;
  std::unordered_map<std::uint64_t, std::function<void(Result<core::KeyValueList>)>> text_done_;
  std::unordered_map<std::uint64_t, std::function<void(Result<void>)>> logout_done_;
};

}  // namespace uiscsi::detail
