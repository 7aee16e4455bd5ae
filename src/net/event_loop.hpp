// EventLoop: one thread's epoll loop with cross-thread wake-up (eventfd) and one timer.
//
// The loop thread calls run(); other threads hand it work with post(), which wakes it. Each
// iteration: wait for readiness, posted work or the deadline from the `next_deadline` function,
// then call the ready handlers, the posted functions (in order), and `on_timer` when due.
// Handlers run on the loop thread and must not block.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "uiscsi/result.hpp"

namespace uiscsi::net {

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;
  using Handler = std::function<void(std::uint32_t events)>;

  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Loop thread only (or before run()).
  Result<void> add(int fd, std::uint32_t events, Handler handler);
  void modify(int fd, std::uint32_t events);
  void remove(int fd);

  // Any thread. Returns false (and drops `fn`) once stop() was called.
  bool post(std::function<void()> fn);
  void stop();
  [[nodiscard]] bool in_loop_thread() const {
    return std::this_thread::get_id() == loop_thread_.load(std::memory_order_relaxed);
  }

  // Runs until stop(). `next_deadline` and `on_timer` may be empty.
  void run(std::function<std::optional<Clock::time_point>()> next_deadline = {},
           std::function<void(Clock::time_point)> on_timer = {});

 private:
  void drain_posted();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  std::unordered_map<int, Handler> handlers_;
  std::mutex mutex_;
  std::vector<std::function<void()>> posted_;
  std::atomic<bool> stop_{false};
  std::atomic<std::thread::id> loop_thread_{};  // set by run(); read by post() on any thread
};

}  // namespace uiscsi::net
