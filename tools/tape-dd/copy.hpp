// The two directions of uiscsi-tape-dd: a file or stdin to tape, tape to a file or stdout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/toolkit.hpp"
#include "uiscsi/tape/drive.hpp"

namespace uiscsi::tools::tape_dd {

struct CopyPlan {
  std::size_t record_bytes = 0;        // bs: one tape record (variable) or bs / block_size blocks
  std::uint32_t block_size = 0;        // fixed mode: the drive's block size; 0: variable mode
  std::optional<std::uint64_t> count;  // records to copy
  std::uint32_t filemarks_at_end = 1;  // written after the data (2 with --eot)
  bool quiet = false;                  // status=none: nothing but errors
  bool show_rate = true;               // status=noxfer turns the rate line off
};

// dd's record counts: full records and partial ones (shorter than bs).
using CopyStats = RecordCounts;

// Writes `in_fd` to the tape as records, then the filemark(s). Returns an exit code; failures
// print one line. `input_bytes` (when known) feeds the progress line's ETA.
int write_to_tape(tape::Drive& drive, const std::string& tape_name, int in_fd,
                  const std::string& in_name, std::optional<std::uint64_t> input_bytes,
                  const CopyPlan& plan, CopyStats& stats);

// Reads records from the tape into `out_fd` until a filemark, end of data or `count`.
int read_from_tape(tape::Drive& drive, const std::string& tape_name, int out_fd,
                   const std::string& out_name, const CopyPlan& plan, CopyStats& stats);

// "N+M records in", "N+M records out", "X bytes (..) copied, T s, R MB/s" on stderr.
void print_summary(const CopyStats& stats, double seconds, const CopyPlan& plan);

}  // namespace uiscsi::tools::tape_dd
