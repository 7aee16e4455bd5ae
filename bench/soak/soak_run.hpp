// The soak workload: mixed I/O on one disk LUN for a set time, every read verified byte for
// byte against a shadow model of the LUN.
//
// The model stays exact because no two commands with overlapping LBA ranges are ever in flight
// together. A write that completes GOOD updates the model. A write whose outcome is unknown
// (errc::command_interrupted "may have been executed", errc::timed_out, a lost session, or a
// CHECK CONDITION other than UNIT ATTENTION) keeps its range locked and is resolved by reading
// the range back: each block must hold either its old or its new contents (SBC-3 gives no
// atomicity across blocks, so a mix per block is legal); anything else is a mismatch. A UNIT
// ATTENTION means the command was not executed (SAM-5 5.14), so the model is unchanged.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "uiscsi/lun.hpp"
#include "uiscsi/session.hpp"

namespace uiscsi::bench {

struct SoakConfig {
  std::chrono::nanoseconds duration{std::chrono::seconds(10)};
  std::uint64_t seed = 1;
  unsigned queue_depth = 16;
  Lun lun;
  std::uint32_t block_size = 512;
  std::uint64_t region_blocks = 0;           // LBAs 0 .. region_blocks-1 are exercised
  std::uint32_t max_transfer_blocks = 2048;  // 1 MiB of 512-byte blocks
  std::chrono::milliseconds command_timeout{30000};
  // Share of writes sent with RetryPolicy::never, so "may have executed" failures happen.
  double never_retry_share = 0.1;
  // A command still in flight this long after its own timeout counts as hung (fatal).
  std::chrono::milliseconds hang_grace{30000};
};

// Unknown-outcome writes, by what the read-back found.
struct ResolvedWrites {
  std::uint64_t executed = 0;      // every block new
  std::uint64_t not_executed = 0;  // every block old
  std::uint64_t partial = 0;       // some blocks old, some new
};

struct SoakStats {
  std::chrono::nanoseconds fill_elapsed{};  // writing the whole region first
  std::chrono::nanoseconds elapsed{};       // the mixed phase, until the last completion
  std::uint64_t fill_writes = 0;
  std::uint64_t reads = 0, writes = 0, test_unit_ready = 0, read_capacity = 0, inquiry = 0;
  std::uint64_t resolve_reads = 0;  // read-backs of unknown-outcome writes
  std::uint64_t bytes_read = 0, bytes_written = 0;
  std::uint64_t unit_attentions = 0;  // commands answered UNIT ATTENTION (not executed)
  // Commands that ended with an error or a non-GOOD status, by kind and message.
  std::map<std::string, std::uint64_t> failures;
  std::uint64_t failed_commands = 0;
  std::uint64_t unknown_outcome_writes = 0;  // "may have executed" and the like
  ResolvedWrites resolved;
  std::uint64_t mismatches = 0;               // blocks with wrong bytes (must be 0)
  std::vector<std::string> mismatch_details;  // the first few
  std::uint64_t hung = 0;                     // commands past their deadline (must be 0)
  std::uint64_t redials = 0;                  // new sessions after one was lost for good
  RecoveryStats recovery;                     // summed over every session
  std::string fatal;                          // why the run stopped early, if it did
};

// Runs the workload on `session` (redialled with `dial` when recovery has given up on it, which
// the caller signals by setting `session_failed` from SessionOptions::hooks.on_state; `dial`
// clears it). The first
// phase writes the whole region with seeded data, so every later read is checked. Returns
// when `duration` has passed (counted from after the fill) and every command has completed.
// `progress` is called about every 10 s with the stats so far (may be empty).
SoakStats run_soak(Session& session, const std::function<Result<Session>()>& dial,
                   const std::atomic<bool>& session_failed, const SoakConfig& config,
                   const std::function<void(const SoakStats&)>& progress = {});

}  // namespace uiscsi::bench
