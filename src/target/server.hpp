// TargetServer: a userspace iSCSI target. It listens on its portals, runs one TargetConnection
// engine per TCP connection on a single event-loop thread, executes SCSI commands on its LUNs
// (inline for RAM and null LUNs, on worker threads for file LUNs), and keeps the session
// registry (TSIH, reinstatement) and the I_T nexuses the LUNs see. A session may have several
// connections (MaxConnections > 1), which share one core::TargetSession on the loop thread; at
// ErrorRecoveryLevel 2 a session outlives its last connection while its tasks wait for
// reassignment (Time2Wait + Time2Retain).
//
// start() binds every portal before it returns, so a caller can connect at once; port 0 picks a
// free port (see endpoints()). stop() closes every connection and joins the threads; the
// destructor calls it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "target/config.hpp"
#include "uiscsi/hooks.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi::target {

struct ServerStats {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_open = 0;
  std::uint64_t sessions_open = 0;
  std::uint64_t logins_failed = 0;
  std::uint64_t commands = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t bytes_out = 0;
};

class TargetServer {
 public:
  // Creates the LUNs, binds the portals and starts the event loop.
  // Errors: a portal that cannot be bound (e.g. std::errc::address_in_use), a LUN that cannot be
  // created (file errors), errc::invalid_argument for an inconsistent configuration.
  static Result<std::unique_ptr<TargetServer>> start(ServerConfig config,
                                                     std::shared_ptr<Logger> logger = {});
  virtual ~TargetServer() = default;

  // The bound portals, with the real port when 0 was asked for.
  [[nodiscard]] virtual std::vector<net::Endpoint> endpoints() const = 0;
  [[nodiscard]] virtual ServerStats stats() const = 0;
  // One line per open session: TSIH, initiator, target, connections, tasks waiting for
  // reassignment (ERL 2), commands, bytes.
  [[nodiscard]] virtual std::string session_report() const = 0;
  // Closes every connection and stops the threads. Idempotent.
  virtual void stop() = 0;
};

}  // namespace uiscsi::target
