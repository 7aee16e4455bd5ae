// Observability: per-command metrics, session state changes, a copy of every PDU, and a logger.
// Every hook runs on the session's I/O thread: keep it short and never call back into a
// synchronous Session method from it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <system_error>

#include "uiscsi/export.hpp"
#include "uiscsi/lun.hpp"

namespace uiscsi {

enum class SessionState { connecting, logging_in, logged_in, recovering, logged_out, failed };
UISCSI_API std::string_view session_state_name(SessionState s);

struct UISCSI_API CommandMetrics {
  std::uint8_t opcode = 0;  // CDB byte 0
  Lun lun;
  std::uint32_t bytes_in = 0;   // read data received
  std::uint32_t bytes_out = 0;  // write data requested
  std::chrono::nanoseconds latency{};
  std::uint8_t status = 0;  // SCSI status when the command completed
  std::error_code error;    // transport-level failure, if any
};

enum class PduDirection { outbound, inbound };

enum class LogLevel { debug, info, warning, error };

// Receives log lines. Messages never contain secrets.
class UISCSI_API Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogLevel level, std::string_view message) = 0;
};

// A Logger that writes "uiscsi: <level>: message" lines to stderr at or above `min_level`.
UISCSI_API std::shared_ptr<Logger> make_stderr_logger(LogLevel min_level = LogLevel::info);

struct UISCSI_API Hooks {
  std::function<void(const CommandMetrics&)> on_command;
  std::function<void(SessionState, std::error_code)> on_state;
  // The PDU as on the wire without digests and padding: BHS, AHS, data segment.
  std::function<void(PduDirection, std::span<const std::byte>)> on_pdu;
  // SCSI and iSCSI asynchronous events: AsyncEvent code, parameters, sense data.
  std::function<void(std::uint8_t event, std::span<const std::byte> sense)> on_async;
  std::shared_ptr<Logger> logger;
};

}  // namespace uiscsi
