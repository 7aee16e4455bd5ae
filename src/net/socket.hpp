// TCP sockets for the I/O layer: endpoint parsing, connecting with a deadline, listening, and a
// move-only Socket that owns its file descriptor. The only code that touches the OS network
// API; everything returns Result with std::system_category errors (or errc::timed_out).
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uiscsi/result.hpp"

namespace uiscsi::net {

using Clock = std::chrono::steady_clock;

inline constexpr std::uint16_t kIscsiPort = 3260;

// host and port. The host is a name, an IPv4 literal or an IPv6 literal (kept without brackets).
struct Endpoint {
  std::string host;
  std::uint16_t port = kIscsiPort;
  // "host:port", with brackets around IPv6 literals.
  [[nodiscard]] std::string to_string() const;
  bool operator==(const Endpoint&) const = default;
};

// Parses "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 literal ("::1"). Port 0 is
// accepted (a listener then picks a free port).
// Errors: errc::invalid_argument.
Result<Endpoint> parse_endpoint(std::string_view text, std::uint16_t default_port = kIscsiPort);

class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() { close(); }

  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  void close();
  // Disables further sends and receives (wakes a thread blocked on the socket).
  void shutdown();

  // Non-blocking I/O. Return the byte count; 0 from read means EOF; errc would_block-like
  // conditions come back as std::errc::resource_unavailable_try_again.
  Result<std::size_t> read(std::span<std::byte> buf);
  Result<std::size_t> writev(std::span<const std::span<const std::byte>> bufs);

  // The peer's and our own address, "host:port".
  [[nodiscard]] std::string peer_name() const;
  [[nodiscard]] std::string local_name() const;

 private:
  int fd_ = -1;
};

// Resolves `ep` and connects to the first address that answers, before `deadline`.
// The socket comes back non-blocking with TCP_NODELAY set. Errors: the last connect error
// (e.g. connection refused), errc::timed_out, or a name resolution failure
// (std::errc::host_unreachable with the resolver's message lost; see resolve_error_text()).
Result<Socket> connect(const Endpoint& ep, Clock::time_point deadline);

// A listening socket on `ep` ("0.0.0.0", "::" or a specific address; port 0 picks one).
Result<Socket> listen(const Endpoint& ep, int backlog = 64);
// The port a listening socket is bound to.
Result<std::uint16_t> local_port(const Socket& s);
// Accepts one connection (non-blocking listener): the new socket is non-blocking, TCP_NODELAY.
Result<Socket> accept(const Socket& listener);

// Sets socket buffer sizes (best effort). Note that on Linux a fixed size switches off TCP's
// buffer autotuning; leave the defaults unless there is a reason.
void set_buffer_sizes(const Socket& s, int bytes);

}  // namespace uiscsi::net
