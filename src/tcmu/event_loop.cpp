// EventLoop: epoll over the uio fd and a cancel eventfd (uiscsi/tcmu/event_loop.hpp).
#include "uiscsi/tcmu/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <variant>

#include "uiscsi/tcmu/errors.hpp"

namespace uiscsi::tcmu {
namespace {

std::error_code last_error() {
  return {errno, std::system_category()};
}

constexpr std::uint64_t kNotifyTag = 1;
constexpr std::uint64_t kCancelTag = 2;

}  // namespace

EventLoop::EventLoop(int notify_fd, int epoll_fd, int cancel_fd, Ring ring)
    : notify_fd_(notify_fd), epoll_fd_(epoll_fd), cancel_fd_(cancel_fd), ring_(std::move(ring)) {}

EventLoop::~EventLoop() {
  ::close(epoll_fd_);
  ::close(cancel_fd_);
}

Result<std::unique_ptr<EventLoop>> EventLoop::create(int notify_fd, Ring ring) {
  const int ep = ::epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return last_error();
  const int cancel = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (cancel < 0) {
    const auto ec = last_error();
    ::close(ep);
    return ec;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kNotifyTag;
  std::error_code ec;
  if (::epoll_ctl(ep, EPOLL_CTL_ADD, notify_fd, &ev) != 0) ec = last_error();
  ev.data.u64 = kCancelTag;
  if (!ec && ::epoll_ctl(ep, EPOLL_CTL_ADD, cancel, &ev) != 0) ec = last_error();
  if (ec) {
    ::close(ep);
    ::close(cancel);
    return ec;
  }
  return std::unique_ptr<EventLoop>(new EventLoop(notify_fd, ep, cancel, std::move(ring)));
}

void EventLoop::cancel() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(cancel_fd_, &one, sizeof one);
}

Result<bool> EventLoop::wait(std::chrono::milliseconds timeout) {
  epoll_event evs[2];
  const int ms = static_cast<int>(std::max<std::int64_t>(0, timeout.count()));
  int n = ::epoll_wait(epoll_fd_, evs, 2, ms);
  if (n < 0) {
    if (errno == EINTR) return false;
    return last_error();
  }
  bool notified = false;
  for (int i = 0; i < n; ++i) {
    if (evs[i].data.u64 == kCancelTag) return tcmu_errc::cancelled;  // left set: sticky
    notified = true;
  }
  if (notified) {
    // Clear the interrupt: uio returns the event count; a socket in tests returns its bytes.
    std::uint32_t count = 0;
    const auto r = ::read(notify_fd_, &count, sizeof count);
    if (r < 0 && errno != EAGAIN && errno != EINTR) return last_error();
    ++stats_.wakeups;
  }
  return notified;
}

Result<std::size_t> EventLoop::serve(Handler& handler) {
  std::size_t answered = 0;
  for (;;) {
    auto events = ring_.poll();
    if (!events) return events.error();
    if (events->empty()) break;
    for (auto& e : *events) {
      if (auto* req = std::get_if<Request>(&e)) {
        Reply reply;
        if (req->error) {
          reply = error_reply();
          ++stats_.bad_commands;
        } else {
          reply = handler.execute(*req);
        }
        if (auto r = ring_.complete(req->id, std::move(reply)); !r) return r.error();
        ++stats_.commands;
        ++answered;
      } else if (auto* tmr = std::get_if<TaskManagement>(&e)) {
        ++stats_.tmrs;
        handler.task_management(*tmr);
      } else {
        ++stats_.bad_entries;
        handler.bad_entry(std::get<BadEntry>(e));
      }
    }
    if (ring_.flush() > 0) {
      const std::uint32_t kick = 0;
      if (::write(notify_fd_, &kick, sizeof kick) < 0 && errno != EAGAIN) return last_error();
    }
  }
  return answered;
}

Result<std::size_t> EventLoop::run_once(Handler& handler, std::chrono::milliseconds wait_for) {
  auto first = serve(handler);
  if (!first) return first;
  auto woke = wait(wait_for);
  if (!woke) return woke.error();
  if (!*woke) return *first;
  auto second = serve(handler);
  if (!second) return second;
  return *first + *second;
}

Result<void> EventLoop::run(Handler& handler,
                            std::optional<std::chrono::steady_clock::time_point> deadline) {
  using namespace std::chrono;
  for (;;) {
    milliseconds slice = milliseconds(1000);
    if (deadline) {
      const auto left = duration_cast<milliseconds>(*deadline - steady_clock::now());
      if (left <= milliseconds(0)) return tcmu_errc::timed_out;
      slice = std::min(slice, left + milliseconds(1));
    }
    auto r = run_once(handler, slice);
    if (!r) {
      if (r.error() == tcmu_errc::cancelled) return ok();
      return r.error();
    }
  }
}

}  // namespace uiscsi::tcmu
