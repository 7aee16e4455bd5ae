// serve(): runs a Device's event loop for a daemon, stopped by SIGINT or SIGTERM.
#pragma once

#include <chrono>
#include <optional>

#include "uiscsi/result.hpp"
#include "uiscsi/tcmu/device.hpp"

namespace uiscsi::tcmu {

// Installs SIGINT and SIGTERM handlers that cancel the device's loop (restored on return), and
// serves until a signal (success), the deadline (tcmu_errc::timed_out) or a loop error. One
// serve() at a time per process.
Result<void> serve(Device& device, Handler& handler,
                   std::optional<std::chrono::steady_clock::time_point> deadline = std::nullopt);

}  // namespace uiscsi::tcmu
