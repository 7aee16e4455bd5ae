// uiscsi-tape-dd: copy a file or stdin to a tape drive over iSCSI, or a tape file to a file or
// stdout, with dd's operands and mt-st's notions of files and records.
//
//   uiscsi-tape-dd if=backup.tar of=iscsi://host/iqn.x:tape/1 bs=256K
//   uiscsi-tape-dd if=iscsi://host/iqn.x:tape/1 of=backup.tar bs=256K --skip-files 2
//   tar cf - dir | uiscsi-tape-dd of=iscsi://host/iqn.x:tape/1 bs=10K --append
//
// Writing ends with a filemark (two with --eot). Reading stops at a filemark, at end of data or
// after count= records. Positioning (--skip-*, --seek-*, --append) uses SPACE, never reads.
// By default the tape is rewound when the tool ends, like /dev/st0; --no-rewind leaves it
// where it is, like /dev/nst0.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "common/tape_tool.hpp"
#include "common/toolkit.hpp"
#include "tape-dd/copy.hpp"

using namespace uiscsi;
using namespace uiscsi::tools;
using namespace uiscsi::tools::tape_dd;

namespace {

constexpr std::size_t kDefaultRecordBytes = 64 * 1024;
constexpr std::size_t kMaxTransferBytes = 0xffffff;  // READ(6)/WRITE(6) transfer length

bool is_url(const std::string& s) {
  return s.rfind("iscsi://", 0) == 0 || s.rfind("ISCSI://", 0) == 0;
}

struct Request {
  std::string in = "-", out = "-";
  std::optional<std::uint64_t> record_bytes, count;
  std::string status = "progress";
  std::uint64_t skip_files = 0, skip_records = 0, seek_files = 0, seek_records = 0;
  bool fixed = false, append = false, eot = false, rewind_first = false, no_rewind = false;
  std::optional<std::uint32_t> block_size;
  std::string compress;
  unsigned read_ahead = 4;
  std::string write_behind = "8M";
};

// dd's key=value operands. Returns kExitOk or the usage error's exit code.
int parse_operands(const std::vector<std::string>& operands, Request& req) {
  for (const auto& operand : operands) {
    const auto eq = operand.find('=');
    if (eq == std::string::npos) return usage_error("unrecognised operand '" + operand + "'");
    const std::string key = operand.substr(0, eq), value = operand.substr(eq + 1);
    auto number = [&](auto& out) -> bool {
      auto v = parse_size(value);
      if (!v) return false;
      out = *v;
      return true;
    };
    bool ok = true;
    if (key == "if") {
      req.in = value;
    } else if (key == "of") {
      req.out = value;
    } else if (key == "bs" || key == "ibs" || key == "obs") {
      ok = number(req.record_bytes);
    } else if (key == "count") {
      ok = number(req.count);
    } else if (key == "skip") {
      ok = number(req.skip_records);
    } else if (key == "seek") {
      ok = number(req.seek_records);
    } else if (key == "status") {
      ok = value == "progress" || value == "noxfer" || value == "none";
      req.status = value;
    } else {
      return usage_error("unrecognised operand '" + operand + "'");
    }
    if (!ok) return usage_error("invalid value in '" + operand + "'");
  }
  return kExitOk;
}

// Moves the tape to where the copy starts, with SPACE only. Returns an exit code.
int position_tape(tape::Drive& drive, const std::string& name, const Request& req, bool writing) {
  if (req.rewind_first) {
    if (auto r = drive.rewind(); !r) return tape_fail("rewind " + name, drive, r.error());
  }
  if (req.append) {
    if (auto r = drive.space(tape::SpaceUnit::end_of_data, 0); !r)
      return tape_fail("space to end of data on " + name, drive, r.error());
  }
  auto space = [&](tape::SpaceUnit unit, std::uint64_t count, const char* what) -> int {
    if (count == 0) return kExitOk;
    auto r = drive.space(unit, static_cast<std::int64_t>(count));
    if (r) return kExitOk;
    if (r.error() == tape::tape_errc::end_of_data || r.error() == tape::tape_errc::filemark) {
      const auto& last = drive.last_error();
      const std::int64_t missing = last && last->residue ? *last->residue : 0;
      std::fprintf(stderr, "%s: %s %llu: only %lld before %s\n", tool_name(), what,
                   static_cast<unsigned long long>(count),
                   static_cast<long long>(count) - static_cast<long long>(missing),
                   r.error() == tape::tape_errc::filemark ? "a filemark" : "the end of data");
      return kExitFailure;
    }
    return tape_fail(std::string(what) + " on " + name, drive, r.error());
  };
  const std::uint64_t files = writing ? req.seek_files : req.skip_files;
  const std::uint64_t records = writing ? req.seek_records : req.skip_records;
  if (int rc = space(tape::SpaceUnit::filemarks, files, writing ? "seek-files" : "skip-files"))
    return rc;
  return space(tape::SpaceUnit::blocks, records, writing ? "seek-records" : "skip-records");
}

// Everything between opening the drive and the final rewind: checks that need the drive,
// positioning, and the copy with its summary. Returns an exit code.
int run_copy(tape::Drive& drive, const std::string& name, const Request& req, bool reading) {
  CopyPlan plan;
  plan.block_size = drive.medium().block_size;
  if (req.fixed && plan.block_size == 0)
    return usage_error("--fixed: the drive is in variable-block mode; give --block-size N");
  plan.record_bytes =
      req.record_bytes.value_or(plan.block_size ? plan.block_size : kDefaultRecordBytes);
  if (plan.block_size != 0 && plan.record_bytes % plan.block_size != 0)
    return usage_error("bs=" + std::to_string(plan.record_bytes) +
                       " is not a multiple of the block size " + std::to_string(plan.block_size));
  const auto& limits = drive.info().limits;
  if (plan.block_size == 0 && limits.max_block_length != 0 &&
      plan.record_bytes > limits.max_block_length)
    return usage_error("bs=" + std::to_string(plan.record_bytes) +
                       " is larger than the drive's largest record (" +
                       std::to_string(limits.max_block_length) + " bytes)");
  plan.count = req.count;
  plan.filemarks_at_end = req.eot ? 2 : 1;
  plan.quiet = req.status == "none";
  plan.show_rate = req.status != "noxfer";

  if (!reading && drive.medium().write_protected)
    return tape_fail("write to " + name, drive, tape::tape_errc::write_protected);
  if (!req.compress.empty()) {
    const bool on = *parse_on_off(req.compress);
    if (auto r = drive.set_compression(on); !r)
      return tape_fail("set compression on " + name, drive, r.error());
  }
  if (int rc = position_tape(drive, name, req, !reading); rc != kExitOk) return rc;

  const std::string& local_name = reading ? req.out : req.in;
  int fd = -1;
  bool owns_fd = false;
  std::optional<std::uint64_t> input_bytes;
  if (reading) {
    owns_fd = req.out != "-";
    fd = owns_fd ? ::open(req.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)
                 : STDOUT_FILENO;
    if (fd < 0) return fail("cannot open " + req.out, {errno, std::system_category()});
  } else {
    owns_fd = req.in != "-";
    fd = owns_fd ? ::open(req.in.c_str(), O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
    if (fd < 0) return fail("cannot open " + req.in, {errno, std::system_category()});
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
      input_bytes = static_cast<std::uint64_t>(st.st_size);
  }

  CopyStats stats;
  Progress clock(false, std::nullopt);
  int rc = reading ? read_from_tape(drive, name, fd, req.out, plan, stats)
                   : write_to_tape(drive, name, fd, req.in, input_bytes, plan, stats);
  const double seconds = clock.elapsed_seconds();
  if (owns_fd && ::close(fd) != 0 && rc == kExitOk)
    rc = fail("close " + local_name, {errno, std::system_category()});
  print_summary(stats, seconds, plan);
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Copy between a tape drive on iSCSI and a file or stdio, like dd on /dev/st0",
               "uiscsi-tape-dd"};
  Request req;
  std::vector<std::string> operands;
  ConnectionFlags flags;
  app.add_option("operands", operands, "if=SRC of=DST bs=N count=N skip=N seek=N status=...");
  std::string record_size_text;
  app.add_option("--bs", record_size_text,
                 "Record size, like bs= (default 64K; fixed: block size)");
  app.add_option("--count", req.count, "Copy at most N records");
  app.add_flag("--fixed", req.fixed, "Fixed-block mode with the drive's current block size");
  app.add_option("--block-size", req.block_size, "Fixed-block mode with N-byte blocks");
  app.add_option("--skip-files", req.skip_files, "Reading: space over N filemarks first");
  app.add_option("--skip-records", req.skip_records,
                 "Reading: space over N records (fixed mode: blocks) first");
  app.add_option("--seek-files", req.seek_files, "Writing: space over N filemarks first");
  app.add_option("--seek-records", req.seek_records,
                 "Writing: space over N records (fixed mode: blocks) first");
  app.add_flag("--append", req.append, "Writing: space to end of data first");
  app.add_flag("--eot,--double-filemark", req.eot, "Writing: end with two filemarks");
  app.add_option("--compress", req.compress, "Drive compression on or off")
      ->check(CLI::IsMember({"on", "off", "1", "0"}));
  app.add_option("--read-ahead", req.read_ahead, "READs kept in flight (0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0u, 64u));
  app.add_option("--write-behind", req.write_behind, "Bytes of writes buffered (0: off)")
      ->capture_default_str();
  app.add_flag("--rewind", req.rewind_first, "Rewind before starting");
  app.add_flag("--no-rewind", req.no_rewind, "Leave the tape where the copy ended (like nst)");
  flags.add_to(app);
  app.footer(
      "Operands: if= and of= (default stdin and stdout; exactly one is an iscsi:// URL),\n"
      "  bs= (record size), count= (records), skip=/seek= (as --skip-records/--seek-records),\n"
      "  status=progress|noxfer|none.\n"
      "The tape is rewound at the end unless --no-rewind.\n"
      "Examples:\n"
      "  uiscsi-tape-dd if=backup.tar of=iscsi://127.0.0.1/iqn.x:tape/1 bs=256K\n"
      "  uiscsi-tape-dd if=more.tar of=iscsi://127.0.0.1/iqn.x:tape/1 bs=256K --append\n"
      "  uiscsi-tape-dd if=iscsi://127.0.0.1/iqn.x:tape/1 of=more.tar bs=256K --skip-files 1\n"
      "  uiscsi-tape-dd if=data of=iscsi://127.0.0.1/iqn.x:tape/1 --block-size 512 bs=32K\n"
      "Exit codes: 0 ok, 1 I/O failure (volume overflow, record longer than bs), 2 usage,\n"
      "  3 cannot connect, 4 authentication failed, 5 no such target or LUN, 6 protocol error,\n"
      "  7 the drive reported an error (no medium, write protected...), 130 interrupted.");
  if (int rc = tools::parse_command_line(app, argc, argv); rc >= 0) return rc;
  scrub_argv(argc, argv);  // the options hold copies now; hide any URL password from ps
  if (!record_size_text.empty()) {
    auto size = parse_size(record_size_text);
    if (!size) return usage_error("invalid --bs '" + record_size_text + "'");
    req.record_bytes = *size;
  }
  if (int rc = parse_operands(operands, req); rc != kExitOk) return rc;

  const bool reading = is_url(req.in);
  if (reading == is_url(req.out))
    return usage_error(reading ? "only one of if= and of= can be a tape"
                               : "one of if= or of= must be the tape's iscsi:// URL");
  if (reading && (req.seek_files || req.seek_records || req.append || req.eot))
    return usage_error("--seek-*, --append and --eot are for writing to the tape");
  if (!reading && (req.skip_files || req.skip_records))
    return usage_error("--skip-files and --skip-records are for reading from the tape");
  if (req.append && (req.seek_files || req.seek_records || req.rewind_first))
    return usage_error("--append goes to the end of data: no --seek-* or --rewind with it");
  if (req.fixed && req.block_size) return usage_error("give --fixed or --block-size, not both");
  if (req.block_size && *req.block_size == 0)
    return usage_error("--block-size must be more than 0 (variable mode is the default)");
  if (req.record_bytes && (*req.record_bytes == 0 || *req.record_bytes > kMaxTransferBytes))
    return usage_error("bs must be between 1 and " + std::to_string(kMaxTransferBytes));
  auto write_behind = parse_size(req.write_behind);
  if (!write_behind) return usage_error("invalid --write-behind '" + req.write_behind + "'");

  tape::DriveOptions options;
  options.block_size =
      req.fixed ? std::nullopt : std::optional<std::uint32_t>(req.block_size.value_or(0));
  options.sili = true;
  options.read_ahead = req.read_ahead;
  options.write_behind_bytes = static_cast<std::size_t>(*write_behind);

  install_interrupt_handler();
  TapeConnection tape_link;
  const std::string& url = reading ? req.in : req.out;
  if (int rc = tape_link.open(url, flags, options); rc != kExitOk) return rc;
  // Like closing /dev/st0: the tape is rewound whatever happened, unless --no-rewind.
  int rc = run_copy(tape_link.drive(), tape_link.name(), req, reading);
  if (!req.no_rewind && tape_link.connected()) {
    tape::Drive& drive = tape_link.drive();
    auto r = drive.rewind();
    if (!r && rc == kExitOk) rc = tape_fail("rewind " + tape_link.name(), drive, r.error());
  }
  return rc;
}
