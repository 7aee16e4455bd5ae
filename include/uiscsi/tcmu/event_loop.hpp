// EventLoop: runs a TCMU Ring against a Handler, woken by the uio device (epoll), stopped by
// cancel() (an eventfd) or a deadline.
//
// One pass: read the interrupt count from the notify fd (4 bytes), Ring::poll(), hand each
// Request to the handler (or answer it with error_reply() when its entry is unusable), queue
// the answers, Ring::flush(), and write 4 bytes to the notify fd when entries were retired, which
// makes the kernel collect the completions (uio irqcontrol -> tcmu_irqcontrol). Passes repeat
// while poll() finds new entries. Commands run one at a time on the loop's thread, in ring order.
//
// Thread safety: run()/run_once() on one thread; cancel() from any thread or a signal handler.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "uiscsi/result.hpp"
#include "uiscsi/tcmu/ring.hpp"

namespace uiscsi::tcmu {

// What a TCMU device does with commands (a disk, a tape drive...).
class Handler {
 public:
  virtual ~Handler() = default;
  // Executes one command: reads Data-Out with request.gather(), places Data-In with
  // request.scatter() and returns the status, sense and the Data-In length.
  virtual Reply execute(const Request& request) = 0;
  // A task management function (CAP_TMR). Commands already answered need nothing more.
  virtual void task_management(const TaskManagement& tmr) { (void)tmr; }
  // An entry that was stepped over (unknown opcode, too short); for logging.
  virtual void bad_entry(const BadEntry& entry) { (void)entry; }
};

struct LoopStats {
  std::uint64_t wakeups = 0;
  std::uint64_t commands = 0;
  std::uint64_t bad_commands = 0;  // answered with error_reply()
  std::uint64_t tmrs = 0;
  std::uint64_t bad_entries = 0;
};

class EventLoop {
 public:
  // `notify_fd` (not owned, must outlive the loop) is the uio device, or in tests one end of a
  // socket pair: readable when the kernel queued entries. It should be non-blocking.
  // OS errors from epoll_create1 / eventfd.
  static Result<std::unique_ptr<EventLoop>> create(int notify_fd, Ring ring);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Serves until cancel() (returns success), the deadline (tcmu_errc::timed_out), a corrupt ring
  // (tcmu_errc::ring_corrupt) or an OS error. Entries already queued are served first.
  Result<void> run(Handler& handler,
                   std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);
  // Serves what is queued, then waits at most `wait` for an interrupt and serves that. Returns
  // the number of commands answered. tcmu_errc::cancelled after cancel().
  Result<std::size_t> run_once(Handler& handler, std::chrono::milliseconds wait);
  // Stops run() / run_once() soon. Async-signal-safe (one write to an eventfd); sticky.
  void cancel() noexcept;

  [[nodiscard]] const LoopStats& stats() const { return stats_; }
  [[nodiscard]] Ring& ring() { return ring_; }

 private:
  EventLoop(int notify_fd, int epoll_fd, int cancel_fd, Ring ring);
  Result<std::size_t> serve(Handler& handler);
  Result<bool> wait(std::chrono::milliseconds timeout);  // true: notify fd readable

  int notify_fd_;
  int epoll_fd_;
  int cancel_fd_;
  Ring ring_;
  LoopStats stats_;
};

}  // namespace uiscsi::tcmu
