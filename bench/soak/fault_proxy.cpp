// FaultProxy: see fault_proxy.hpp. One poll(2) loop relays every connection through a bounded
// buffer per direction (a direction is read only once its buffer has drained, so a slow reader
// slows the writer instead of growing memory).
#include "fault_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "uiscsi/errors.hpp"

namespace uiscsi::bench {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kBufferBytes = 256 * 1024;

std::error_code last_error() {
  return {errno, std::system_category()};
}

void set_nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// A non-blocking connect bounded by `timeout`; -1 on failure.
int connect_upstream(const sockaddr_in& to, std::chrono::milliseconds timeout) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    if (errno != EINPROGRESS) {
      ::close(fd);
      return -1;
    }
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1 ||
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      ::close(fd);
      return -1;
    }
  }
  set_nonblocking(fd);
  return fd;
}

// One direction of a relayed connection.
struct Pipe {
  std::vector<char> buf = std::vector<char>(kBufferBytes);
  std::size_t off = 0;
  std::size_t len = 0;
  std::uint64_t total = 0;  // bytes read from the source so far
};

struct Link {
  int client = -1;
  int upstream = -1;
  Pipe to_target;     // client -> upstream
  Pipe to_initiator;  // upstream -> client
  bool closed = false;
};

}  // namespace

const char* fault_kind_name(FaultKind k) {
  switch (k) {
    case FaultKind::cut:
      return "cut";
    case FaultKind::stall:
      return "stall";
    case FaultKind::flip:
      return "flip";
  }
  return "?";
}

struct FaultProxy::Impl {
  FaultProxyOptions opt;
  sockaddr_in upstream{};
  int listen_fd = -1;
  int wake_fd = -1;
  std::thread thread;

  // Requests from other threads.
  std::mutex mu;
  bool stop_requested = false;
  bool cut_requested = false;
  bool random_on = false;
  bool random_changed = false;
  std::optional<std::pair<std::uint64_t, Direction>> armed_request;

  std::atomic<std::uint64_t> cuts{0}, stalls{0}, flips{0}, accepted{0}, relayed{0};

  // Relay-thread state.
  std::vector<Link> links;
  std::mt19937_64 rng;
  bool random = false;
  Clock::time_point next_fault{};
  Clock::time_point stall_until{};
  bool flip_pending = false;
  Direction flip_direction = Direction::either;
  std::optional<std::pair<std::uint64_t, Direction>> armed;  // bytes left, direction

  void wake() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd, &one, sizeof one);
  }

  void schedule_next(Clock::time_point now) {
    std::exponential_distribution<double> gap(1.0 / static_cast<double>(opt.mean_interval.count()));
    next_fault = now + std::chrono::microseconds(static_cast<std::int64_t>(gap(rng) * 1000.0));
  }

  void close_link(Link& l) {
    if (l.closed) return;
    ::close(l.client);
    ::close(l.upstream);
    l.closed = true;
  }

  // Counted before the sockets close, so whoever sees the connection drop also sees the count.
  void cut_all() {
    if (std::none_of(links.begin(), links.end(), [](const Link& l) { return !l.closed; })) return;
    ++cuts;
    for (auto& l : links)
      close_link(l);
  }

  void strike_random(Clock::time_point now) {
    std::uniform_int_distribution<int> pick(0, opt.flips ? 9 : 6);
    const int k = pick(rng);
    if (k < 4) {
      cut_all();
    } else if (k < 7) {
      std::uniform_int_distribution<std::int64_t> ms(opt.min_stall.count(), opt.max_stall.count());
      stall_until = now + std::chrono::milliseconds(ms(rng));
      ++stalls;
    } else if (flip_pending) {
      cut_all();
    } else {
      flip_pending = true;  // counted when it strikes
      flip_direction = std::uniform_int_distribution<int>(0, 1)(rng) == 0 ? Direction::to_target
                                                                          : Direction::to_initiator;
    }
  }

  void accept_one() {
    const int c = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    const int u = connect_upstream(upstream, opt.connect_timeout);
    if (u < 0) {
      ::close(c);
      return;
    }
    set_nonblocking(c);
    ++accepted;
    Link l;
    l.client = c;
    l.upstream = u;
    links.push_back(std::move(l));
  }

  // Reads into an empty pipe; applies armed cuts and flips. False when the link must close.
  bool fill(Link& l, Pipe& p, int from, Direction d) {
    const auto n = ::read(from, p.buf.data(), p.buf.size());
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) return false;
    if (n < 0) return true;
    const auto got = static_cast<std::uint64_t>(n);
    if (armed && (armed->second == Direction::either || armed->second == d)) {
      if (got >= armed->first) {
        armed.reset();
        cut_all();
        return !l.closed;
      }
      armed->first -= got;
    }
    if (flip_pending && flip_direction == d && p.total + got > FaultProxy::kLoginBytes) {
      const std::uint64_t first =
          p.total >= FaultProxy::kLoginBytes ? 0 : FaultProxy::kLoginBytes - p.total;
      std::uniform_int_distribution<std::uint64_t> at(first, got - 1);
      std::uniform_int_distribution<int> mask(1, 255);
      p.buf[at(rng)] ^= static_cast<char>(mask(rng));
      flip_pending = false;
      ++flips;
    }
    p.total += got;
    p.off = 0;
    p.len = static_cast<std::size_t>(got);
    relayed += got;
    return true;
  }

  // Writes what the pipe holds. False when the link must close.
  static bool drain(Pipe& p, int to) {
    while (p.len > 0) {
      const auto n = ::send(to, p.buf.data() + p.off, p.len, MSG_NOSIGNAL);
      if (n < 0) return errno == EAGAIN || errno == EINTR;
      p.off += static_cast<std::size_t>(n);
      p.len -= static_cast<std::size_t>(n);
    }
    return true;
  }

  void take_requests(Clock::time_point now, bool& stop) {
    std::lock_guard lock(mu);
    stop = stop_requested;
    if (cut_requested) {
      cut_requested = false;
      cut_all();
    }
    if (armed_request) {
      armed = armed_request;
      armed_request.reset();
    }
    if (random_changed) {
      random_changed = false;
      random = random_on && opt.mean_interval.count() > 0;
      if (random) schedule_next(now);
    }
  }

  void run() {
    std::vector<pollfd> fds;
    for (;;) {
      auto now = Clock::now();
      bool stop = false;
      take_requests(now, stop);
      if (stop) break;
      if (random && now >= next_fault) {
        if (std::any_of(links.begin(), links.end(), [](const Link& l) { return !l.closed; }))
          strike_random(now);
        schedule_next(now);
      }
      const bool stalled = now < stall_until;
      fds.clear();
      fds.push_back({wake_fd, POLLIN, 0});
      fds.push_back({listen_fd, POLLIN, 0});
      for (auto& l : links) {
        short c = 0, u = 0;
        if (!stalled) {
          if (l.to_target.len == 0) c |= POLLIN;
          if (l.to_initiator.len == 0) u |= POLLIN;
          if (l.to_target.len > 0) u |= POLLOUT;
          if (l.to_initiator.len > 0) c |= POLLOUT;
        }
        fds.push_back({l.client, c, 0});
        fds.push_back({l.upstream, u, 0});
      }
      if (::poll(fds.data(), fds.size(), 50) < 0 && errno != EINTR) break;
      if (fds[0].revents & POLLIN) {
        std::uint64_t v;
        [[maybe_unused]] auto n = ::read(wake_fd, &v, sizeof v);
      }
      if (fds[1].revents & POLLIN) accept_one();
      const std::size_t n_links = (fds.size() - 2) / 2;
      for (std::size_t i = 0; i < n_links; ++i) {
        Link& l = links[i];
        if (l.closed) continue;
        const short rc = fds[2 + 2 * i].revents, ru = fds[3 + 2 * i].revents;
        bool alive = !((rc | ru) & (POLLERR | POLLNVAL));
        if (alive && (rc & (POLLIN | POLLHUP)))
          alive = fill(l, l.to_target, l.client, Direction::to_target);
        if (alive && !l.closed && (ru & (POLLIN | POLLHUP)))
          alive = fill(l, l.to_initiator, l.upstream, Direction::to_initiator);
        if (alive && !l.closed && !stalled) alive = drain(l.to_target, l.upstream);
        if (alive && !l.closed && !stalled) alive = drain(l.to_initiator, l.client);
        if (!alive) close_link(l);
      }
      std::erase_if(links, [](const Link& l) { return l.closed; });
    }
    for (auto& l : links)
      close_link(l);
    links.clear();
  }
};

FaultProxy::FaultProxy(std::unique_ptr<Impl> impl, std::uint16_t port)
    : impl_(std::move(impl)), port_(port) {}

Result<std::unique_ptr<FaultProxy>> FaultProxy::start(FaultProxyOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->upstream.sin_family = AF_INET;
  impl->upstream.sin_port = htons(options.upstream_port);
  if (::inet_pton(AF_INET, options.upstream_host.c_str(), &impl->upstream.sin_addr) != 1)
    return errc::invalid_argument;
  if (options.max_stall < options.min_stall) return errc::invalid_argument;
  impl->rng.seed(options.seed);
  impl->opt = std::move(options);
  impl->listen_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (impl->listen_fd < 0) return last_error();
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(impl->listen_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(impl->listen_fd, 16) != 0 ||
      ::getsockname(impl->listen_fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    auto ec = last_error();
    ::close(impl->listen_fd);
    return ec;
  }
  impl->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->wake_fd < 0) {
    auto ec = last_error();
    ::close(impl->listen_fd);
    return ec;
  }
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->run(); });
  return std::unique_ptr<FaultProxy>(new FaultProxy(std::move(impl), ntohs(a.sin_port)));
}

FaultProxy::~FaultProxy() {
  stop();
}

std::string FaultProxy::address() const {
  return "127.0.0.1:" + std::to_string(port_);
}

void FaultProxy::set_random_faults(bool on) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->random_on = on;
    impl_->random_changed = true;
  }
  impl_->wake();
}

void FaultProxy::cut_after_bytes(std::uint64_t bytes, Direction direction) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->armed_request = std::make_pair(bytes, direction);
  }
  impl_->wake();
}

void FaultProxy::cut_now() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->cut_requested = true;
  }
  impl_->wake();
}

FaultCounts FaultProxy::counts() const {
  return {impl_->cuts.load(), impl_->stalls.load(), impl_->flips.load()};
}

std::uint64_t FaultProxy::connections_accepted() const {
  return impl_->accepted.load();
}

std::uint64_t FaultProxy::bytes_relayed() const {
  return impl_->relayed.load();
}

void FaultProxy::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stop_requested = true;
  }
  impl_->wake();
  impl_->thread.join();
  ::close(impl_->listen_fd);
  ::close(impl_->wake_fd);
}

}  // namespace uiscsi::bench
