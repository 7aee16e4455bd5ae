// Relay: a loopback TCP relay for tests that need to see, or break, the TCP connections an
// initiator makes (which connection went where, how each one ended).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace uiscsi::testing {

// A loopback TCP relay to `upstream_port`: every connection accepted on port() is relayed to the
// target byte for byte. For each connection it records whether the initiator's side ended with
// a FIN (read() returned 0) or a reset. One thread, poll() with a 50 ms tick; stops in the
// destructor.
class Relay {
 public:
  struct Link {
    int client = -1;
    int server = -1;
    bool client_fin = false;  // the initiator closed its side cleanly
    bool client_reset = false;
    bool server_fin = false;
  };

  explicit Relay(std::uint16_t upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_fd_, 8) != 0)
      return;
    socklen_t n = sizeof a;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &n);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~Relay() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (auto& l : links_) {
      if (l.client >= 0) ::close(l.client);
      if (l.server >= 0) ::close(l.server);
    }
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  // The next `n` connections are closed as soon as they are accepted (the path is down), and
  // counted in refused() rather than kept as links.
  void refuse_next(int n) {
    std::lock_guard lock(mutex_);
    refuse_ = n;
  }
  [[nodiscard]] int refused() const {
    std::lock_guard lock(mutex_);
    return refused_;
  }
  // Ends link `k` abruptly: both its sockets are shut down, as when a network path fails.
  void cut(std::size_t k) {
    std::lock_guard lock(mutex_);
    if (k >= links_.size()) return;
    for (int fd : {links_[k].client, links_[k].server})
      if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }
  [[nodiscard]] std::vector<Link> links() const {
    std::lock_guard lock(mutex_);
    return links_;
  }

 private:
  void run() {
    std::vector<char> buf(65536);
    while (!stop_) {
      std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}};
      {
        std::lock_guard lock(mutex_);
        for (const auto& l : links_) {
          fds.push_back({l.client, static_cast<short>(l.client >= 0 ? POLLIN : 0), 0});
          fds.push_back({l.server, static_cast<short>(l.server >= 0 ? POLLIN : 0), 0});
        }
      }
      if (::poll(fds.data(), fds.size(), 50) <= 0) continue;
      std::lock_guard lock(mutex_);
      // fds[1 + 2k] and fds[2 + 2k] are link k's two sides; a closed side (fd -1) is skipped.
      for (std::size_t k = 0; k < (fds.size() - 1) / 2; ++k) {
        Link& l = links_[k];
        if (fds[1 + 2 * k].revents != 0 && l.client >= 0) pump(l, true, buf);
        if (fds[2 + 2 * k].revents != 0 && l.server >= 0) pump(l, false, buf);
      }
      if (fds[0].revents & POLLIN) accept_one();
    }
  }
  void accept_one() {
    const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    if (refuse_ > 0) {
      --refuse_;
      ++refused_;
      ::close(c);
      return;
    }
    const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(upstream_port_);
    if (s < 0 || ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(c);
      if (s >= 0) ::close(s);
      return;
    }
    links_.push_back({c, s});
  }
  // Moves what `from` has to the other side; an end of stream is passed on as a half close.
  void pump(Link& l, bool from_client, std::vector<char>& buf) {
    int& from = from_client ? l.client : l.server;
    int& to = from_client ? l.server : l.client;
    const ssize_t n = ::read(from, buf.data(), buf.size());
    if (n > 0) {
      if (to >= 0) {
        for (ssize_t done = 0; done < n;) {
          const ssize_t w =
              ::send(to, buf.data() + done, static_cast<std::size_t>(n - done), MSG_NOSIGNAL);
          if (w <= 0) break;
          done += w;
        }
      }
      return;
    }
    if (n < 0 && errno == EINTR) return;
    if (from_client) {
      (n == 0 ? l.client_fin : l.client_reset) = true;
    } else {
      l.server_fin = true;
    }
    ::close(from);
    from = -1;
    if (to >= 0) ::shutdown(to, SHUT_WR);
  }

  std::uint16_t upstream_port_;
  int listen_fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<Link> links_;
  int refuse_ = 0;
  int refused_ = 0;
  std::thread thread_;
};

}  // namespace uiscsi::testing
