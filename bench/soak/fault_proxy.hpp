// FaultProxy: a loopback TCP relay that an initiator dials instead of its target, and that breaks
// the relayed connections on purpose, from outside either protocol engine, so the same faults
// hit any peer (uiscsi-target, tgtd, ...).
//
//   auto p = FaultProxy::start({.upstream_port = 3260, .mean_interval = 2s, .seed = 7});
//   Session::dial("iscsi://" + (*p)->address() + "/iqn.x:disk/0");
//
// Faults, each counted when it actually strikes:
//   cut    closes both sockets of every relayed connection (the initiator sees the connection
//          drop, the target sees it close: RFC 7143 section 6.3.5 reinstatement follows at ERL 0);
//   stall  stops relaying in both directions for a while (the bytes wait, none is lost);
//   flip   XORs one byte of the relayed stream with a non-zero mask. Only detectable when
//          header and data digests are on, so it is only scheduled when `flips` is set; and only
//          past the first kLoginBytes of a connection's direction, because digests cover full
//          feature phase only (RFC 7143 sections 12.1 and 13.1: login PDUs carry none).
// Random faults follow a seeded exponential schedule (mean `mean_interval`); tests may also
// arm a fault at an exact byte count (cut_after_bytes) to strike mid-transfer.
//
// Threads: one relay thread (poll(2)); every public method may be called from any thread. Every
// blocking step has a bound: upstream connects time out after connect_timeout, poll waits at
// most 50 ms. This is test equipment and touches sockets directly, like tests/interop/support.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "uiscsi/result.hpp"

namespace uiscsi::bench {

enum class FaultKind { cut, stall, flip };
const char* fault_kind_name(FaultKind k);

struct FaultCounts {
  std::uint64_t cut = 0;
  std::uint64_t stall = 0;
  std::uint64_t flip = 0;
  [[nodiscard]] std::uint64_t total() const { return cut + stall + flip; }
};

// Which way bytes travel through the proxy.
enum class Direction { to_target, to_initiator, either };

struct FaultProxyOptions {
  std::string upstream_host = "127.0.0.1";  // IPv4 literal
  std::uint16_t upstream_port = 3260;
  std::chrono::milliseconds mean_interval{0};  // random faults; 0: only armed faults
  std::uint64_t seed = 1;
  bool flips = false;  // schedule byte flips too (needs digests to be detectable)
  std::chrono::milliseconds min_stall{50};
  std::chrono::milliseconds max_stall{1500};
  std::chrono::milliseconds connect_timeout{3000};
};

class FaultProxy {
 public:
  // Binds 127.0.0.1 on a free port and starts the relay thread. Errors: the system error of
  // socket/bind/listen, errc::invalid_argument for a bad upstream address.
  static Result<std::unique_ptr<FaultProxy>> start(FaultProxyOptions options);
  ~FaultProxy();  // stop()
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string address() const;  // "127.0.0.1:PORT"

  // Random faults on or off (the schedule restarts when turned on).
  void set_random_faults(bool on);
  // Cuts every relayed connection once `bytes` more bytes have been relayed in `direction`.
  void cut_after_bytes(std::uint64_t bytes, Direction direction = Direction::either);
  // Cuts every relayed connection now.
  void cut_now();

  [[nodiscard]] FaultCounts counts() const;
  [[nodiscard]] std::uint64_t connections_accepted() const;
  [[nodiscard]] std::uint64_t bytes_relayed() const;
  // Closes the listener and every connection and joins the thread. Idempotent.
  void stop();

  static constexpr std::uint64_t kLoginBytes = 16384;

 private:
  struct Impl;
  explicit FaultProxy(std::unique_ptr<Impl> impl, std::uint16_t port);
  std::unique_ptr<Impl> impl_;
  std::uint16_t port_ = 0;
};

}  // namespace uiscsi::bench
