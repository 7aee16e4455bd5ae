#include "net/event_loop.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

namespace uiscsi::net {

EventLoop::EventLoop() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
}

EventLoop::~EventLoop() {
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

Result<void> EventLoop::add(int fd, std::uint32_t events, Handler handler) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0)
    return std::error_code(errno, std::system_category());
  handlers_[fd] = std::move(handler);
  return ok();
}

void EventLoop::modify(int fd, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
}

void EventLoop::remove(int fd) {
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  handlers_.erase(fd);
}

// The eventfd is written only when the loop might be asleep without knowing of the work: not
// from the loop thread itself (run() looks at posted_ before it waits), and not when posted_
// already held work (whoever queued that has woken the loop, or it is the loop thread).
bool EventLoop::post(std::function<void()> fn) {
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    if (stop_) return false;
    wake = posted_.empty() && !in_loop_thread();
    posted_.push_back(std::move(fn));
  }
  if (wake) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
  }
  return true;
}

void EventLoop::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::drain_posted() {
  std::vector<std::function<void()>> work;
  {
    std::lock_guard lock(mutex_);
    work.swap(posted_);
  }
  for (auto& fn : work)
    fn();
}

void EventLoop::run(std::function<std::optional<Clock::time_point>()> next_deadline,
                    std::function<void(Clock::time_point)> on_timer) {
  loop_thread_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  epoll_event events[32];
  while (!stop_) {
    int timeout_ms = -1;
    bool work_waiting = false;
    {
      std::lock_guard lock(mutex_);
      work_waiting = !posted_.empty();
    }
    if (work_waiting) {
      timeout_ms = 0;  // work posted from this thread (no wake-up was written for it)
    } else if (next_deadline) {
      if (auto d = next_deadline()) {
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(*d - Clock::now()).count();
        timeout_ms = left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
      }
    }
    const int n = ::epoll_wait(epoll_fd_, events, 32, timeout_ms);
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        std::uint64_t v;
        [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
        continue;
      }
      auto it = handlers_.find(fd);
      if (it != handlers_.end()) {
        Handler h = it->second;  // a copy: the handler may remove itself
        h(events[i].events);
      }
    }
    drain_posted();
    if (on_timer && next_deadline) {
      if (auto d = next_deadline(); d && Clock::now() >= *d) on_timer(Clock::now());
    }
  }
  drain_posted();
}

}  // namespace uiscsi::net
