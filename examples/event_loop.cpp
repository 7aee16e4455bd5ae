// Driving a session from your own event loop (poll, epoll, libuv, an application's main loop).
//   example_event_loop iscsi://127.0.0.1:3260/iqn.2026-11.dev.uiscsi:target/0
//
// A Session has its own I/O thread and no file descriptor to hand to a foreign loop. What it
// does have is completion callbacks, which run on that I/O thread and must not block. So:
// the callback only moves the result into a queue and writes to an eventfd; the loop polls the
// eventfd next to its other descriptors (here a timerfd ticking every 50 ms) and handles every
// completion on the loop's own thread, where it may do anything, including submitting the next
// command (submit() may be called from any thread). Nothing here waits without a timeout.
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <mutex>
#include <utility>
#include <vector>

#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/session.hpp"

namespace {

// Results handed from the session's I/O thread to the loop.
class CompletionQueue {
 public:
  CompletionQueue() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}
  ~CompletionQueue() {
    if (fd_ >= 0) close(fd_);
  }
  CompletionQueue(const CompletionQueue&) = delete;
  CompletionQueue& operator=(const CompletionQueue&) = delete;
  [[nodiscard]] int fd() const { return fd_; }

  // On the I/O thread: O(1), never blocks (the eventfd is non-blocking; its counter cannot
  // overflow at these counts).
  void push(std::size_t slot, uiscsi::Result<uiscsi::Completion> r) {
    {
      std::lock_guard lock(m_);
      items_.push_back({slot, std::move(r)});
    }
    const std::uint64_t one = 1;
    (void)!write(fd_, &one, sizeof one);
  }
  // On the loop thread, when poll() says fd() is readable: everything queued so far.
  std::deque<std::pair<std::size_t, uiscsi::Result<uiscsi::Completion>>> drain() {
    std::uint64_t count = 0;
    (void)!read(fd_, &count, sizeof count);
    std::lock_guard lock(m_);
    return std::exchange(items_, {});
  }

 private:
  int fd_;
  std::mutex m_;
  std::deque<std::pair<std::size_t, uiscsi::Result<uiscsi::Completion>>> items_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  constexpr std::size_t kInFlight = 8;   // commands kept in flight
  constexpr std::uint64_t kReads = 256;  // 256 reads of 4 KiB: the first 1 MiB
  constexpr std::uint32_t kBlocks = 8;   // 8 x 512-byte blocks per read
  // Declared before the session, so they outlive it: destroying the session waits for the
  // commands in flight, whose callbacks use the queue and whose data lands in the buffers.
  CompletionQueue queue;
  std::vector<std::vector<std::byte>> buffers(kInFlight, std::vector<std::byte>(kBlocks * 512));
  if (queue.fd() < 0) return 1;

  auto s = uiscsi::Session::dial(argv[1]);
  if (!s) {
    std::fprintf(stderr, "login: %s\n", s.error().message().c_str());
    return 1;
  }
  (void)s->run(uiscsi::Lun(), uiscsi::Command(uiscsi::scsi::test_unit_ready()));  // eat the UA

  const int timer = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (timer < 0) return 1;
  const itimerspec tick{{0, 50'000'000}, {0, 50'000'000}};
  timerfd_settime(timer, 0, &tick, nullptr);

  std::uint64_t next = 0, completed = 0, good = 0, ticks = 0, wakeups = 0;
  // Submits read number `next` into buffer `slot`; called from the loop thread only.
  auto submit = [&](std::size_t slot) {
    auto spec = uiscsi::scsi::read16(next * kBlocks, kBlocks, 512);
    ++next;
    s->submit(
        uiscsi::Lun(), uiscsi::Command(*spec).read_into(buffers[slot]),
        [&queue, slot](uiscsi::Result<uiscsi::Completion> r) { queue.push(slot, std::move(r)); });
  };
  for (std::size_t slot = 0; slot < kInFlight && next < kReads; ++slot)
    submit(slot);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (completed < kReads) {
    if (std::chrono::steady_clock::now() > deadline) {
      std::fprintf(stderr, "timed out with %llu of %llu done\n",
                   static_cast<unsigned long long>(completed),
                   static_cast<unsigned long long>(kReads));
      return 1;
    }
    pollfd fds[2] = {{queue.fd(), POLLIN, 0}, {timer, POLLIN, 0}};
    if (poll(fds, 2, 1000) < 0) return 1;
    ++wakeups;
    if (fds[1].revents & POLLIN) {  // the loop's other work: here, counting timer ticks
      std::uint64_t expirations = 0;
      (void)!read(timer, &expirations, sizeof expirations);
      ticks += expirations;
    }
    if (fds[0].revents & POLLIN) {
      for (auto& [slot, r] : queue.drain()) {  // on the loop thread: free to do anything
        ++completed;
        if (r && r->ok()) ++good;
        if (next < kReads) submit(slot);  // reuse the buffer for the next read
      }
    }
  }
  close(timer);
  std::printf(
      "%llu of %llu reads good, handled on the loop thread (%llu wakeups, %llu timer ticks)\n",
      static_cast<unsigned long long>(good), static_cast<unsigned long long>(kReads),
      static_cast<unsigned long long>(wakeups), static_cast<unsigned long long>(ticks));
  return good == kReads ? 0 : 1;
}
