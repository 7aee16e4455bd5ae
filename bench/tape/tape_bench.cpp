// tape_bench: sequential tape write and read throughput through uiscsi::tape::Drive over a
// uiscsi::Session, with and without the driver's read-ahead and write-behind.
//
//   tape_bench iscsi://127.0.0.1:PORT/IQN/LUN [--records 64K,256K,1M] [--mib 1024]
//              [--read-ahead 0,8] [--write-behind 0,8M] [--rounds 3] [--warmup-mib 64]
//              [--target-pid PID] [--target NAME] [--client NAME]
//
// For every round and every record size: each write setting writes `mib` MiB of variable-length
// records from BOP, then a filemark (timed up to flush() returning); then each read setting
// rewinds and reads the records back up to the filemark, checking every record's index and tail
// (see RecordPattern). The order of the settings alternates between rounds. Round 0 is a
// warm-up of `warmup-mib` MiB per point and is not reported. The tape must hold `mib` MiB plus
// a little (a filemark, the early-warning zone).
//
// Memory: before every pass the peak RSS of this process (and of --target-pid) is reset
// (/proc/PID/clear_refs), so "client peak growth" is how far the RSS rose above its value at
// the start of that pass: a bounded pipeline keeps it near read_ahead x record (or the
// write-behind bytes) whatever the tape size.
//
// Output: result lines (bench_common.hpp) and a table of medians. Exit 0 when every pass
// moved every record intact, 1 otherwise, 2 on bad usage, 3 when the session or the drive
// cannot be opened.
#include <sys/resource.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "bench_common.hpp"
#include "uiscsi/session.hpp"
#include "uiscsi/tape.hpp"
#include "uiscsi/url.hpp"

namespace {

using tape_bench::Clock;
using tape_bench::MemoryWatch;
using tape_bench::PassResult;
using tape_bench::RecordPattern;

struct Setup {
  uiscsi::Session* session = nullptr;
  uiscsi::Lun lun;
  std::string target_pid;
};

// Opens the drive in variable mode with the given pipeline; reports why not on stderr.
std::optional<uiscsi::tape::Drive> open_drive(const Setup& s, unsigned read_ahead,
                                              std::size_t write_behind) {
  uiscsi::tape::DriveOptions o;
  o.block_size = 0;
  o.read_ahead = read_ahead;
  o.write_behind_bytes = write_behind;
  o.command_timeout = std::chrono::milliseconds(60000);
  auto d = uiscsi::tape::Drive::open(*s.session, s.lun, o);
  if (!d) {
    std::fprintf(stderr, "tape_bench: open: %s\n", d.error().message().c_str());
    return std::nullopt;
  }
  if (auto r = d->rewind(); !r) {
    std::fprintf(stderr, "tape_bench: rewind: %s\n",
                 d->last_error() ? d->last_error()->message().c_str() : "?");
    return std::nullopt;
  }
  return std::move(*d);
}

// Context switches (voluntary and involuntary) of every thread of this process so far.
long context_switches() {
  rusage u{};
  if (::getrusage(RUSAGE_SELF, &u) != 0) return 0;
  return u.ru_nvcsw + u.ru_nivcsw;
}

// One stderr line per pass (the result lines on stdout keep their format): the process's
// context switches during the pass, in all and per record.
void print_switches(const PassResult& r, long switches) {
  std::fprintf(
      stderr, "switches\t%s\t%s\t%s\t%ld\t%.2f\n", r.op.c_str(),
      tape_bench::size_name(r.record).c_str(), r.setting.c_str(), switches,
      r.records > 0 ? static_cast<double>(switches) / static_cast<double>(r.records) : 0.0);
}

std::string error_text(const uiscsi::tape::Drive& d) {
  return d.last_error() ? d.last_error()->message() : std::string("unknown error");
}

// Writes `count` records of `pattern`'s size from BOP and a filemark.
PassResult write_pass(const Setup& s, const RecordPattern& pattern, std::uint64_t count,
                      std::size_t write_behind) {
  PassResult out;
  out.op = "write";
  out.record = pattern.body().size();
  out.setting = "wb" + (write_behind == 0 ? std::string("0") : tape_bench::size_name(write_behind));
  auto drive = open_drive(s, 0, write_behind);
  if (!drive) {
    out.errors = count;
    return out;
  }
  std::vector<std::byte> record = pattern.body();
  MemoryWatch watch(s.target_pid);
  watch.start();
  const long switches = context_switches();
  const auto t0 = Clock::now();
  for (std::uint64_t i = 0; i < count; ++i) {
    RecordPattern::stamp(record.data(), i);
    if (auto w = drive->write(record); !w) {
      std::fprintf(stderr, "tape_bench: write record %llu: %s\n",
                   static_cast<unsigned long long>(i), error_text(*drive).c_str());
      out.errors = count - i;
      break;
    }
    ++out.records;
  }
  if (out.errors == 0) {
    auto fm = drive->write_filemarks(1);
    auto fl = fm ? drive->flush() : uiscsi::Result<uiscsi::tape::WriteStatus>(fm.error());
    if (!fl) {
      std::fprintf(stderr, "tape_bench: filemark/flush: %s\n", error_text(*drive).c_str());
      out.errors = 1;
    }
  }
  const double secs = tape_bench::seconds_since(t0);
  watch.stop();
  out.mib_s = static_cast<double>(out.records * out.record) / (1 << 20) / secs;
  out.take(watch);
  print_switches(out, context_switches() - switches);
  return out;
}

// Reads records from BOP up to the filemark, expecting `count` records of `pattern`.
PassResult read_pass(const Setup& s, const RecordPattern& pattern, std::uint64_t count,
                     unsigned read_ahead) {
  PassResult out;
  out.op = "read";
  out.record = pattern.body().size();
  out.setting = "ra" + std::to_string(read_ahead);
  auto drive = open_drive(s, read_ahead, 0);
  if (!drive) {
    out.errors = count;
    return out;
  }
  std::vector<std::byte> buffer(out.record);
  MemoryWatch watch(s.target_pid);
  watch.start();
  const long switches = context_switches();
  const auto t0 = Clock::now();
  std::uint64_t bytes = 0;
  for (;;) {
    auto r = drive->read(buffer);
    if (!r) {
      std::fprintf(stderr, "tape_bench: read record %llu: %s\n",
                   static_cast<unsigned long long>(out.records), error_text(*drive).c_str());
      ++out.errors;
      break;
    }
    if (r->status == uiscsi::tape::ReadStatus::filemark) break;
    if (r->status != uiscsi::tape::ReadStatus::data) {
      std::fprintf(stderr, "tape_bench: read record %llu: unexpected status %d\n",
                   static_cast<unsigned long long>(out.records), static_cast<int>(r->status));
      ++out.errors;
      break;
    }
    if (!pattern.matches(buffer.data(), r->bytes, out.records)) ++out.errors;
    bytes += r->bytes;
    ++out.records;
  }
  const double secs = tape_bench::seconds_since(t0);
  watch.stop();
  if (out.records != count) {
    std::fprintf(stderr, "tape_bench: read %llu records, expected %llu\n",
                 static_cast<unsigned long long>(out.records),
                 static_cast<unsigned long long>(count));
    ++out.errors;
  }
  out.mib_s = static_cast<double>(bytes) / (1 << 20) / secs;
  out.take(watch);
  print_switches(out, context_switches() - switches);
  return out;
}

template <typename T>
std::vector<T> in_round_order(std::vector<T> items, int round) {
  if (round % 2 == 0) std::reverse(items.begin(), items.end());
  return items;
}

int run(const tape_bench::Options& opts) {
  auto url = uiscsi::parse_iscsi_url(opts.url());
  if (!url || url->target.empty()) {
    std::fprintf(stderr, "tape_bench: need iscsi://host:port/target-iqn/lun\n");
    return 2;
  }
  auto lun = uiscsi::Lun::from_number(url->lun.value_or(0));
  const auto records = opts.sizes("records");
  const auto read_aheads = opts.sizes("read-ahead");
  const auto write_behinds = opts.sizes("write-behind");
  const std::uint64_t total = opts.size("mib") << 20;
  const std::uint64_t warmup = opts.size("warmup-mib") << 20;
  const int rounds = static_cast<int>(opts.size("rounds"));
  const std::string client = opts.text("client");
  const std::string target = opts.text("target");
  if (!lun || records.empty() || total == 0 || rounds < 1) {
    std::fprintf(stderr, "tape_bench: bad arguments\n");
    return 2;
  }

  uiscsi::SessionOptions so;
  so.initiator_name = "iqn.2026-11.dev.uiscsi.bench:tape-bench";
  auto session = uiscsi::Session::dial(*url, so);
  if (!session) {
    std::fprintf(stderr, "tape_bench: %s\n", session.error().message().c_str());
    return 3;
  }
  Setup setup{&*session, *lun, opts.text("target-pid")};
  if (!open_drive(setup, 0, 0)) return 3;  // also passes the power-on unit attention

  std::vector<PassResult> results;
  std::uint64_t errors = 0;
  auto keep = [&](PassResult r, int round) {
    r.round = round;
    errors += r.errors;
    if (round > 0) tape_bench::print_result_line(client, target, r);
    results.push_back(std::move(r));
  };
  for (int round = 0; round <= rounds; ++round) {
    const std::uint64_t bytes = round == 0 ? warmup : total;
    if (bytes == 0) continue;
    for (const std::uint64_t record : in_round_order(records, round)) {
      const RecordPattern pattern(record);
      const std::uint64_t count = std::max<std::uint64_t>(1, bytes / record);
      for (const std::uint64_t wb : in_round_order(write_behinds, round))
        keep(write_pass(setup, pattern, count, wb), round);
      for (const std::uint64_t ra : in_round_order(read_aheads, round))
        keep(read_pass(setup, pattern, count, static_cast<unsigned>(ra)), round);
    }
  }
  return tape_bench::finish_run(client, target, total, rounds, results, errors);
}

}  // namespace

int main(int argc, char** argv) {
  return tape_bench::bench_main(argc, argv, "tape_bench",
                                {{"records", "64K,256K,1M"},
                                 {"mib", "1024"},
                                 {"read-ahead", "0,8"},
                                 {"write-behind", "0,8M"},
                                 {"rounds", "3"},
                                 {"warmup-mib", "64"},
                                 {"target-pid", ""},
                                 {"client", "uiscsi"},
                                 {"target", "target"}},
                                run);
}
