#include "tape-dd/copy.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <span>
#include <vector>

#include "common/tape_tool.hpp"
#include "common/toolkit.hpp"

namespace uiscsi::tools::tape_dd {

namespace {

std::error_code last_errno() {
  return {errno, std::system_category()};
}

// Reads up to n bytes, looping over short reads (pipes); -1 with errno on failure.
ssize_t read_full(int fd, std::byte* buffer, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, buffer + got, n - got);
    if (r < 0) {
      if (errno == EINTR) {
        if (interrupted()) return -1;
        continue;
      }
      return -1;
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

bool write_full(int fd, const std::byte* data, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t w = ::write(fd, data + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(w);
  }
  return true;
}

void note(const CopyPlan& plan, const std::string& text) {
  if (!plan.quiet) std::fprintf(stderr, "%s: %s\n", tool_name(), text.c_str());
}

int interrupted_error() {
  std::fprintf(stderr, "%s: interrupted\n", tool_name());
  return kExitInterrupted;
}

std::optional<std::uint64_t> progress_total(std::optional<std::uint64_t> input_bytes,
                                            const CopyPlan& plan) {
  std::optional<std::uint64_t> total = input_bytes;
  if (plan.count) {
    const std::uint64_t by_count = *plan.count * plan.record_bytes;
    total = total ? std::min(*total, by_count) : by_count;
  }
  return total;
}

// With write-behind, a failed WRITE is reported later; last_error()->record names it. Every
// record before it was written, and only the last record of the input can be partial.
void uncount_unwritten_records(const tape::Drive& drive, const CopyPlan& plan, CopyStats& stats) {
  const auto& last = drive.last_error();
  if (!last || !last->record) return;
  const std::uint64_t written = *last->record;
  if (written >= stats.full_out + stats.partial_out) return;
  stats.full_out = written;
  stats.partial_out = 0;
  stats.bytes = written * plan.record_bytes;
}

}  // namespace

int write_to_tape(tape::Drive& drive, const std::string& tape_name, int in_fd,
                  const std::string& in_name, std::optional<std::uint64_t> input_bytes,
                  const CopyPlan& plan, CopyStats& stats) {
  std::vector<std::byte> buffer(plan.record_bytes);
  Progress progress(!plan.quiet, progress_total(input_bytes, plan));
  bool warned = false;
  auto warn_early = [&](const tape::WriteStatus& status) {
    if (!status.early_warning || warned) return;
    warned = true;
    std::fprintf(stderr,
                 "%s: warning: end of medium early warning within the first %llu records: the "
                 "tape is nearly full\n",
                 tool_name(), static_cast<unsigned long long>(stats.full_out + stats.partial_out));
  };
  const std::string what = "write to " + tape_name;
  int rc = kExitOk;
  for (std::uint64_t records = 0; !plan.count || records < *plan.count; ++records) {
    if (interrupted()) {
      rc = kExitInterrupted;
      break;
    }
    const ssize_t got = read_full(in_fd, buffer.data(), buffer.size());
    if (got < 0) {
      if (interrupted()) {
        rc = kExitInterrupted;
        break;
      }
      progress.finish();
      return fail("read " + in_name, last_errno());
    }
    if (got == 0) break;
    std::size_t length = static_cast<std::size_t>(got);
    (length == plan.record_bytes ? stats.full_in : stats.partial_in)++;
    if (plan.block_size != 0 && length % plan.block_size != 0) {
      const std::size_t padded = (length / plan.block_size + 1) * plan.block_size;
      std::memset(buffer.data() + length, 0, padded - length);
      note(plan, "last record padded with zeros from " + std::to_string(length) + " to " +
                     std::to_string(padded) + " bytes (fixed " + std::to_string(plan.block_size) +
                     "-byte blocks)");
      length = padded;
    }
    auto written = drive.write(std::span<const std::byte>(buffer).first(length));
    if (!written) {
      progress.finish();
      const int code = tape_fail(what, drive, written.error());
      uncount_unwritten_records(drive, plan, stats);
      return code;
    }
    warn_early(*written);
    (length == plan.record_bytes ? stats.full_out : stats.partial_out)++;
    stats.bytes += length;
    progress.update(stats.bytes, stats.full_out + stats.partial_out);
    if (static_cast<std::size_t>(got) < plan.record_bytes) break;  // the input's end
  }
  progress.finish();
  // The file ends with its filemark(s), also when interrupted, so the tape stays readable.
  auto flushed = drive.flush();
  if (!flushed) {
    const int code = tape_fail(what, drive, flushed.error());
    uncount_unwritten_records(drive, plan, stats);
    return code;
  }
  warn_early(*flushed);
  auto marks = drive.write_filemarks(plan.filemarks_at_end);
  if (!marks) return tape_fail("write filemark to " + tape_name, drive, marks.error());
  warn_early(*marks);
  if (rc == kExitInterrupted) return interrupted_error();
  return rc;
}

int read_from_tape(tape::Drive& drive, const std::string& tape_name, int out_fd,
                   const std::string& out_name, const CopyPlan& plan, CopyStats& stats) {
  std::vector<std::byte> buffer(plan.record_bytes);
  Progress progress(!plan.quiet, progress_total(std::nullopt, plan));
  const std::string what = "read from " + tape_name;
  auto records = [&] { return std::to_string(stats.full_in + stats.partial_in) + " records"; };
  auto deliver = [&](std::size_t bytes) -> bool {
    if (bytes == 0) return true;
    (bytes == plan.record_bytes ? stats.full_in : stats.partial_in)++;
    if (!write_full(out_fd, buffer.data(), bytes)) return false;
    (bytes == plan.record_bytes ? stats.full_out : stats.partial_out)++;
    stats.bytes += bytes;
    progress.update(stats.bytes, stats.full_out + stats.partial_out);
    return true;
  };
  while (!plan.count || stats.full_in + stats.partial_in < *plan.count) {
    if (interrupted()) {
      progress.finish();
      return interrupted_error();
    }
    auto record = drive.read(buffer);
    if (!record) {
      progress.finish();
      return tape_fail(what, drive, record.error());
    }
    const std::size_t fitting = std::min(record->bytes, buffer.size());
    switch (record->status) {
      case tape::ReadStatus::data:
      case tape::ReadStatus::short_record:
        if (!deliver(fitting)) break;
        continue;
      case tape::ReadStatus::filemark:
      case tape::ReadStatus::setmark:
        if (!deliver(fitting)) break;
        progress.finish();
        note(plan, "end of file (" +
                       std::string(record->status == tape::ReadStatus::filemark ? "filemark"
                                                                                : "setmark") +
                       ") after " + records());
        return kExitOk;
      case tape::ReadStatus::end_of_data:
        if (!deliver(fitting)) break;
        progress.finish();
        note(plan, "end of data (blank check) after " + records());
        return kExitOk;
      case tape::ReadStatus::long_record: {
        progress.finish();
        const auto length = static_cast<long long>(plan.record_bytes) - record->residue;
        std::fprintf(stderr,
                     "%s: %s: record %llu is %lld bytes, longer than bs=%zu (ILI): use bs=%lld "
                     "or more\n",
                     tool_name(), what.c_str(),
                     static_cast<unsigned long long>(stats.full_in + stats.partial_in + 1), length,
                     plan.record_bytes, length);
        return kExitFailure;
      }
      case tape::ReadStatus::wrong_block_length:
        progress.finish();
        std::fprintf(stderr,
                     "%s: %s: a record of another length than the %u-byte block size (ILI): "
                     "read it in variable mode (without --fixed and --block-size)\n",
                     tool_name(), what.c_str(), plan.block_size);
        return kExitFailure;
    }
    // A write to the output failed.
    progress.finish();
    return fail("write " + out_name, last_errno());
  }
  progress.finish();
  return kExitOk;
}

void print_summary(const CopyStats& stats, double seconds, const CopyPlan& plan) {
  if (plan.quiet) return;
  print_dd_summary(stats, seconds, plan.show_rate);
}

}  // namespace uiscsi::tools::tape_dd
