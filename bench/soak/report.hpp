// The soak's report: plain text for the terminal, markdown for --report FILE.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "fault_proxy.hpp"
#include "soak_run.hpp"

namespace uiscsi::bench {

struct SoakReport {
  std::string command_line;
  std::string target;  // what was soaked, e.g. "in-process uiscsi-target, 64 MiB RAM disk"
  SoakConfig config;
  std::string fault_plan;  // e.g. "mean 2 s between faults, cut/stall/flip"
  std::uint32_t erl = 0;
  bool digests = false;
  std::string negotiated;  // what login agreed on: digests, ERL, burst sizes
  SoakStats stats;
  FaultCounts faults;
  std::uint64_t proxy_connections = 0;
};

// True when the run passes: no mismatch, no hung command, no early stop.
bool soak_passed(const SoakReport& r);

std::string format_text(const SoakReport& r);
std::string format_markdown(const SoakReport& r);

// "10m", "30s", "500ms", "1h", "90" (seconds). nullopt when malformed.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace uiscsi::bench
