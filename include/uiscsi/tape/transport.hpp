// Transport: how the tape driver sends one command to its logical unit. The driver is written
// against this small interface, not against Session, so the same driver code runs over an iSCSI
// session (session_transport) or, in tests, straight against a simulated drive.
//
// Contract:
//   * run() sends one command and waits for it; start() sends one and returns at once, and the
//     transport later stores the outcome in the caller's PendingExchange (complete()).
//   * Commands are executed by the device in the order they were passed to run()/start()
//     (start() sends them with the ORDERED task attribute, SAM-5 8.6). The driver relies on
//     that for its read-ahead and write-behind pipelines.
//   * `data_in` is where Data-In goes (its size is the allocation / transfer length the CDB
//     asks for); `data_out` is the Data-Out. Both must stay valid until the command completes.
//   * The Result is an error only when the command's outcome is unknown or it did not run
//     (connection lost, timed out); SCSI status and sense data are in the Exchange.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

#include "uiscsi/export.hpp"
#include "uiscsi/lun.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/scsi/command.hpp"

namespace uiscsi {
class Session;
}

namespace uiscsi::tape {

// What came back from one command.
struct UISCSI_API Exchange {
  scsi::Status status = scsi::Status::good;
  std::vector<std::byte> sense;  // bare sense bytes (CHECK CONDITION only)
  std::size_t data_in = 0;       // bytes placed at the start of the Data-In buffer
};

// Where the outcome of a command sent with Transport::start() goes: a completion slot the
// caller owns, so that a command needs no promise, future or other shared state. The caller
// keeps it alive, at the same address, from start() until wait() has returned; then it may
// read the outcome and, after reset(), pass it to another start(). ready() only tells whether
// wait() would block. It is neither copyable nor movable.
//
// The transport calls complete() exactly once per start(), from any thread (e.g. a session's
// I/O thread, or within start() itself). complete() does not block beyond a short lock; wait()
// takes that lock too, so once wait() has returned, complete() no longer touches the slot and
// the caller may reuse or destroy it. A waiter sleeps without spinning or yielding, and
// complete() signals only when someone waits.
class UISCSI_API PendingExchange {
 public:
  PendingExchange() = default;
  PendingExchange(const PendingExchange&) = delete;
  PendingExchange& operator=(const PendingExchange&) = delete;

  // True once the outcome is in (wait() would not block). Never blocks.
  [[nodiscard]] bool ready() const noexcept { return done_.load(std::memory_order_acquire); }

  // Blocks until the outcome is in and returns it; it stays there until reset().
  Result<Exchange>& wait() {
    std::unique_lock lock(mutex_);
    if (!done_.load(std::memory_order_relaxed)) {
      waiting_ = true;
      woken_.wait(lock, [this] { return done_.load(std::memory_order_relaxed); });
      waiting_ = false;
    }
    return outcome_;
  }

  // Forgets the outcome so that the slot can be reused. Precondition: wait() has returned
  // since the last start(), or the slot was never passed to start().
  void reset() {
    outcome_ = Exchange{};
    done_.store(false, std::memory_order_relaxed);
  }

  // For transports: stores the outcome and wakes the waiter, if any. Exactly once per start().
  void complete(Result<Exchange> outcome) {
    std::lock_guard lock(mutex_);
    outcome_ = std::move(outcome);
    done_.store(true, std::memory_order_release);
    if (waiting_) woken_.notify_one();
  }

 private:
  std::mutex mutex_;
  std::condition_variable woken_;
  std::atomic<bool> done_{false};  // the outcome is in (written under mutex_)
  bool waiting_ = false;           // under mutex_: wait() is blocked
  Result<Exchange> outcome_;
};

class UISCSI_API Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<Exchange> run(const scsi::CommandSpec& spec, std::span<std::byte> data_in,
                               std::span<const std::byte> data_out) = 0;
  // Sends the command (ORDERED) and returns at once; its outcome goes to `done` (see
  // PendingExchange), which must not be in use by another command.
  virtual void start(const scsi::CommandSpec& spec, std::span<std::byte> data_in,
                     std::span<const std::byte> data_out, PendingExchange& done) = 0;
};

// A Transport over `session` to `lun`. The session must outlive the transport. Every command
// gets `timeout` (0: the session's default) and RetryPolicy::never: a tape command that may
// have run must not be sent again after a reconnection, or a record would be skipped or
// written twice.
UISCSI_API std::unique_ptr<Transport> session_transport(Session& session, Lun lun,
                                                        std::chrono::milliseconds timeout = {});

}  // namespace uiscsi::tape
