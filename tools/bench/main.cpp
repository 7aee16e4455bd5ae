// uiscsi-bench: measure an iSCSI disk LUN with a grid of workloads, block sizes and queue depths.
//
//   uiscsi-bench iscsi://127.0.0.1:3260/iqn.x:disk/0
//   uiscsi-bench --rw read,randread --bs 4K,1M --qd 1,32 --time 3 iscsi://127.0.0.1/iqn.x:disk/0
//   uiscsi-bench --rw randwrite --allow-write --json iscsi://127.0.0.1/iqn.x:disk/0
//
// Each point of the grid (workload x block size x queue depth) runs for --warmup seconds (not
// counted) and then for --time seconds, over a region of --size bytes from --offset (default:
// the whole LUN or 1 GiB, whichever is smaller). Exactly QD commands stay in flight: each
// completion callback (on the session's I/O thread) records the command's latency and submits
// the next command into the same slot, so there is no thread per command and no allocation in
// the tool after start-up (one buffer of QD x the largest block size, allocated once).
//
// Reported per point: IOPS, MiB/s, latency percentiles (p50/p95/p99/max, measured in the tool
// from submit() to the callback; the JSON also carries the library's Completion::latency()),
// the tool's CPU use (user+system time of the whole process, in % of one core, which includes
// the library's I/O thread), and errors.
//
// Write workloads overwrite the region and need --allow-write. A UNIT ATTENTION is absorbed by
// the probe before the run (the usual "power on" after login) and, during the run, by
// resubmitting the command (counted as "ua" in the JSON). Ctrl-C stops the running point at
// once; the points finished so far and the partial one are printed, and the exit code is 130.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/probe.hpp"
#include "common/toolkit.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"

using namespace uiscsi;
using namespace uiscsi::tools;

namespace {

using Clock = std::chrono::steady_clock;

enum class Workload { read, write, randread, randwrite };

const char* workload_name(Workload w) {
  switch (w) {
    case Workload::read:
      return "read";
    case Workload::write:
      return "write";
    case Workload::randread:
      return "randread";
    case Workload::randwrite:
      return "randwrite";
  }
  return "?";
}

bool is_write(Workload w) {
  return w == Workload::write || w == Workload::randwrite;
}
bool is_random(Workload w) {
  return w == Workload::randread || w == Workload::randwrite;
}

std::optional<Workload> parse_workload(const std::string& s) {
  if (s == "read" || s == "seqread") return Workload::read;
  if (s == "write" || s == "seqwrite") return Workload::write;
  if (s == "randread") return Workload::randread;
  if (s == "randwrite") return Workload::randwrite;
  return std::nullopt;
}

// Block sizes as "4K" / "1M" / "1536".
std::string size_text(std::uint64_t n) {
  if (n >= (1u << 20) && n % (1u << 20) == 0) return std::to_string(n >> 20) + "M";
  if (n >= 1024 && n % 1024 == 0) return std::to_string(n >> 10) + "K";
  return std::to_string(n);
}

// Log-linear latency histogram in nanoseconds: exact below 128 ns, then 64 buckets per power
// of two (at most 1/64 relative error). Fixed size, no allocation when recording.
class Histogram {
 public:
  static constexpr std::size_t kBuckets = 128 + 57 * 64;

  void add(std::uint64_t v) {
    ++counts_[index(v)];
    ++count_;
    sum_ += v;
    max_ = std::max(max_, v);
    min_ = std::min(min_, v);
  }
  void clear() { *this = Histogram(); }

  [[nodiscard]] std::uint64_t count() const { return count_; }
  [[nodiscard]] std::uint64_t max() const { return count_ ? max_ : 0; }
  [[nodiscard]] std::uint64_t min() const { return count_ ? min_ : 0; }
  [[nodiscard]] double mean() const {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
  }
  // The value at quantile q (0..1): the middle of the bucket holding that rank, clamped to the
  // observed range.
  [[nodiscard]] std::uint64_t quantile(double q) const {
    if (count_ == 0) return 0;
    const auto rank =
        static_cast<std::uint64_t>(std::max(1.0, std::ceil(q * static_cast<double>(count_))));
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::clamp(middle(i), min(), max());
    }
    return max();
  }

 private:
  static std::size_t index(std::uint64_t v) {
    if (v < 128) return static_cast<std::size_t>(v);
    const int msb = 63 - std::countl_zero(v);  // >= 7
    const int shift = msb - 6;                 // 1..57
    const std::uint64_t top = v >> shift;      // 64..127
    return 128 + static_cast<std::size_t>(shift - 1) * 64 + static_cast<std::size_t>(top - 64);
  }
  static std::uint64_t middle(std::size_t i) {
    if (i < 128) return i;
    const std::size_t k = i - 128;
    const unsigned shift = static_cast<unsigned>(k / 64 + 1);
    const std::uint64_t top = k % 64 + 64;
    return (top << shift) + (std::uint64_t{1} << (shift - 1));
  }

  std::array<std::uint64_t, kBuckets> counts_{};
  std::uint64_t count_ = 0, sum_ = 0, max_ = 0, min_ = ~std::uint64_t{0};
};

struct PointSpec {
  Workload workload;
  std::uint64_t bs;
  unsigned qd;
};

struct PointResult {
  PointSpec spec;
  double seconds = 0;  // measured window
  std::uint64_t ios = 0, bytes = 0, errors = 0, ua = 0;
  double cpu_seconds = 0;
  Histogram latency;      // submit() to callback, in the tool
  Histogram lib_latency;  // Completion::latency()
  std::string first_error;
  bool partial = false;   // stopped early (Ctrl-C or a failure)
  bool measured = false;  // reached the measured window at all
};

// splitmix64: a small, fast generator for random offsets (I/O thread only).
class Random {
 public:
  explicit Random(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) (Lemire's multiply-shift; the bias is negligible for our n).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

 private:
  std::uint64_t state_;
};

double cpu_seconds_now() {
  rusage ru{};
  ::getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

struct Options {
  std::vector<Workload> workloads;
  std::vector<std::uint64_t> block_sizes;
  std::vector<unsigned> queue_depths;
  double time_s = 5;
  double warmup_s = 0.5;
  std::uint64_t region_offset = 0;  // bytes
  std::uint64_t region_size = 0;    // bytes
  std::uint64_t max_errors = 100;
  std::uint64_t seed = 1;
};

// Runs one point at a time on one session. The main thread starts a point, sleeps through the
// warm-up and the measured window and then waits for the slots to drain; everything else runs
// in completion callbacks on the session's I/O thread.
class Runner {
 public:
  Runner(Session& session, Lun lun, std::uint32_t block_size, const Options& options)
      : session_(session), lun_(lun), block_size_(block_size), options_(options) {
    std::uint64_t max_bs = 0;
    unsigned max_qd = 0;
    for (auto bs : options.block_sizes)
      max_bs = std::max(max_bs, bs);
    for (auto qd : options.queue_depths)
      max_qd = std::max(max_qd, qd);
    stride_ = (max_bs + 4095) / 4096 * 4096;
    const std::size_t bytes = stride_ * max_qd;
    buffer_.reset(static_cast<std::byte*>(std::aligned_alloc(4096, bytes)));
    // Touch every page now (and give writes a non-trivial pattern).
    Random fill(0x5eed);
    for (std::size_t i = 0; i + 8 <= bytes; i += 8) {
      const std::uint64_t v = fill.next();
      std::memcpy(buffer_.get() + i, &v, 8);
    }
    slots_.resize(max_qd);
  }

  // Runs one point; returns its result. `stop` is polled (Ctrl-C).
  PointResult run(const PointSpec& spec) {
    result_ = PointResult{};
    result_.spec = spec;
    spec_ = spec;
    positions_ = options_.region_size / spec.bs;
    cursor_ = 0;
    random_ = Random(options_.seed ^ (spec.bs * 0x100000001b3ull) ^ spec.qd);
    fatal_ = false;
    phase_.store(Phase::warmup, std::memory_order_release);

    // Offsets of the first QD commands are taken here, before any callback can run; from then
    // on only callbacks touch the cursor and the generator.
    inflight_.store(spec.qd);
    for (unsigned i = 0; i < spec.qd; ++i)
      slots_[i].offset = next_offset();
    for (unsigned i = 0; i < spec.qd; ++i)
      submit(i);

    bool stopped_early = false;
    auto sleep_until = [&](Clock::time_point end) {
      while (Clock::now() < end) {
        if (interrupted() || fatal_.load(std::memory_order_acquire)) return false;
        std::this_thread::sleep_for(
            std::min<Clock::duration>(end - Clock::now(), std::chrono::milliseconds(20)));
      }
      return true;
    };
    const auto start = Clock::now();
    const auto warm_end = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(options_.warmup_s));
    Clock::time_point t0{}, t1{};
    double cpu0 = 0;
    if (sleep_until(warm_end)) {
      t0 = Clock::now();
      cpu0 = cpu_seconds_now();
      phase_.store(Phase::measure, std::memory_order_release);
      result_.measured = true;
      const auto end = t0 + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(options_.time_s));
      if (!sleep_until(end)) stopped_early = true;
    } else {
      stopped_early = true;
    }
    t1 = Clock::now();
    const double cpu1 = cpu_seconds_now();
    phase_.store(Phase::stop, std::memory_order_release);
    {
      std::unique_lock lock(drain_mutex_);
      drained_.wait(lock, [&] { return inflight_.load() == 0; });
    }
    // The callbacks are done with result_ (the drain above orders their writes before us).
    if (result_.measured) {
      result_.seconds = std::chrono::duration<double>(t1 - t0).count();
      result_.cpu_seconds = cpu1 - cpu0;
    }
    result_.partial = stopped_early;
    return result_;
  }

  [[nodiscard]] std::error_code fatal_error() const { return fatal_error_; }

 private:
  enum class Phase { warmup, measure, stop };
  struct Slot {
    std::uint64_t offset = 0;  // bytes from the start of the LUN
    Clock::time_point submitted;
    unsigned ua_retries = 0;
  };

  std::uint64_t next_offset() {
    std::uint64_t index;
    if (is_random(spec_.workload)) {
      index = random_.below(positions_);
    } else {
      index = cursor_;
      if (++cursor_ == positions_) cursor_ = 0;
    }
    return options_.region_offset + index * spec_.bs;
  }

  void submit(unsigned i) {
    Slot& slot = slots_[i];
    const std::uint64_t lba = slot.offset / block_size_;
    const auto blocks = static_cast<std::uint32_t>(spec_.bs / block_size_);
    std::byte* data = buffer_.get() + static_cast<std::size_t>(i) * stride_;
    const std::size_t len = static_cast<std::size_t>(spec_.bs);
    Result<scsi::CommandSpec> cdb = is_write(spec_.workload)
                                        ? scsi::write16(lba, blocks, block_size_)
                                        : scsi::read16(lba, blocks, block_size_);
    if (!cdb) {  // cannot happen after the checks in main(); end the slot
      fail(cdb.error());
      finish_slot();
      return;
    }
    Command command(*cdb);
    if (is_write(spec_.workload))
      command.write_from(std::span<const std::byte>(data, len));
    else
      command.read_into(std::span<std::byte>(data, len));
    slot.submitted = Clock::now();
    session_.submit(lun_, std::move(command),
                    [this, i](Result<Completion> r) { on_done(i, std::move(r)); });
  }

  void on_done(unsigned i, Result<Completion> r) {
    const auto now = Clock::now();
    Slot& slot = slots_[i];
    const bool measuring = phase_.load(std::memory_order_acquire) == Phase::measure;
    if (!r) {
      // The command's fate is unknown (connection lost, timed out): end the run.
      ++result_.errors;
      if (result_.first_error.empty()) result_.first_error = r.error().message();
      fail(r.error());
      finish_slot();
      return;
    }
    if (!r->ok()) {
      auto sense = r->sense();
      if (sense && sense->sense_key == scsi::SenseKey::unit_attention && slot.ua_retries < 3) {
        ++slot.ua_retries;
        ++result_.ua;
        submit(i);  // the same command again
        return;
      }
      ++result_.errors;
      if (result_.first_error.empty()) result_.first_error = r->describe();
      if (result_.errors >= options_.max_errors) {
        fail(r->error());
        finish_slot();
        return;
      }
    } else if (measuring) {
      const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - slot.submitted);
      result_.latency.add(static_cast<std::uint64_t>(ns.count()));
      result_.lib_latency.add(static_cast<std::uint64_t>(std::max<std::int64_t>(
          0, std::chrono::duration_cast<std::chrono::nanoseconds>(r->latency()).count())));
      ++result_.ios;
      result_.bytes += spec_.bs;
    }
    slot.ua_retries = 0;
    if (phase_.load(std::memory_order_acquire) == Phase::stop) {
      finish_slot();
      return;
    }
    slot.offset = next_offset();
    submit(i);
  }

  void fail(std::error_code ec) {
    if (!fatal_.exchange(true)) fatal_error_ = ec;
    phase_.store(Phase::stop, std::memory_order_release);
  }

  void finish_slot() {
    if (inflight_.fetch_sub(1) == 1) {
      std::lock_guard lock(drain_mutex_);
      drained_.notify_all();
    }
  }

  Session& session_;
  Lun lun_;
  std::uint32_t block_size_;
  const Options& options_;
  struct FreeDeleter {
    void operator()(std::byte* p) const { std::free(p); }
  };
  std::unique_ptr<std::byte[], FreeDeleter> buffer_;
  std::size_t stride_ = 0;
  std::vector<Slot> slots_;

  // Per point. Callbacks run on the I/O thread only; the main thread touches these before
  // the first submit() and after the drain.
  PointSpec spec_{};
  PointResult result_;
  std::uint64_t positions_ = 1, cursor_ = 0;
  Random random_{1};
  std::error_code fatal_error_;

  std::atomic<Phase> phase_{Phase::stop};
  std::atomic<bool> fatal_{false};
  std::atomic<unsigned> inflight_{0};
  std::mutex drain_mutex_;
  std::condition_variable drained_;
};

double iops(const PointResult& r) {
  return r.seconds > 0 ? static_cast<double>(r.ios) / r.seconds : 0;
}
double mib_s(const PointResult& r) {
  return r.seconds > 0 ? static_cast<double>(r.bytes) / r.seconds / (1 << 20) : 0;
}
double us(std::uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}
double cpu_percent(const PointResult& r) {
  return r.seconds > 0 ? 100.0 * r.cpu_seconds / r.seconds : 0;
}

void print_table_header() {
  std::printf("%-9s %5s %4s %10s %9s %9s %9s %9s %9s %6s %6s\n", "workload", "bs", "qd", "IOPS",
              "MiB/s", "p50 us", "p95 us", "p99 us", "max us", "cpu%", "errors");
  std::fflush(stdout);
}

void print_table_row(const PointResult& r) {
  std::printf("%-9s %5s %4u %10.0f %9.1f %9.1f %9.1f %9.1f %9.1f %6.0f %6llu%s\n",
              workload_name(r.spec.workload), size_text(r.spec.bs).c_str(), r.spec.qd, iops(r),
              mib_s(r), us(r.latency.quantile(0.50)), us(r.latency.quantile(0.95)),
              us(r.latency.quantile(0.99)), us(r.latency.max()), cpu_percent(r),
              static_cast<unsigned long long>(r.errors), r.partial ? "  (partial)" : "");
  if (!r.first_error.empty()) std::printf("          first error: %s\n", r.first_error.c_str());
  std::fflush(stdout);
}

std::string json_latency(const Histogram& h) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"mean\": %.2f, \"min\": %.2f, \"p50\": %.2f, \"p95\": %.2f, \"p99\": %.2f, "
                "\"p999\": %.2f, \"max\": %.2f}",
                h.mean() / 1000.0, us(h.min()), us(h.quantile(0.50)), us(h.quantile(0.95)),
                us(h.quantile(0.99)), us(h.quantile(0.999)), us(h.max()));
  return buf;
}

void print_json(const std::string& url, std::uint32_t block_size, std::uint64_t lun_bytes,
                const Options& o, const std::vector<PointResult>& results, bool was_interrupted,
                const std::string& error) {
  std::printf("{\n  \"tool\": \"uiscsi-bench\",\n  \"url\": %s,\n", json_string(url).c_str());
  std::printf("  \"block_size\": %u,\n  \"lun_bytes\": %llu,\n", block_size,
              static_cast<unsigned long long>(lun_bytes));
  std::printf("  \"region_offset\": %llu,\n  \"region_bytes\": %llu,\n",
              static_cast<unsigned long long>(o.region_offset),
              static_cast<unsigned long long>(o.region_size));
  std::printf("  \"time_s\": %g,\n  \"warmup_s\": %g,\n", o.time_s, o.warmup_s);
  std::printf("  \"interrupted\": %s,\n  \"error\": %s,\n  \"points\": [",
              was_interrupted ? "true" : "false",
              error.empty() ? "null" : json_string(error).c_str());
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    std::printf(
        "%s\n    {\"rw\": \"%s\", \"bs\": %llu, \"qd\": %u, \"seconds\": %.4f, "
        "\"ios\": %llu, \"bytes\": %llu, \"iops\": %.1f, \"mib_s\": %.2f,\n"
        "     \"lat_us\": %s,\n     \"lib_lat_us\": %s,\n"
        "     \"cpu_percent\": %.1f, \"cpu_us_per_io\": %.2f, \"errors\": %llu, "
        "\"ua\": %llu, \"first_error\": %s, \"partial\": %s}",
        i ? "," : "", workload_name(r.spec.workload), static_cast<unsigned long long>(r.spec.bs),
        r.spec.qd, r.seconds, static_cast<unsigned long long>(r.ios),
        static_cast<unsigned long long>(r.bytes), iops(r), mib_s(r),
        json_latency(r.latency).c_str(), json_latency(r.lib_latency).c_str(), cpu_percent(r),
        r.ios ? r.cpu_seconds * 1e6 / static_cast<double>(r.ios) : 0.0,
        static_cast<unsigned long long>(r.errors), static_cast<unsigned long long>(r.ua),
        r.first_error.empty() ? "null" : json_string(r.first_error).c_str(),
        r.partial ? "true" : "false");
  }
  std::printf("\n  ]\n}\n");
  std::fflush(stdout);
}

// "4K,64K" -> sizes; false on a bad element.
bool parse_size_list(const std::vector<std::string>& items, std::vector<std::uint64_t>& out) {
  for (const auto& s : items) {
    auto v = parse_size(s);
    if (!v || *v == 0) return false;
    out.push_back(*v);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Measure an iSCSI disk LUN: IOPS, throughput and latency over a grid of workloads",
               "uiscsi-bench"};
  std::string url_text;
  std::vector<std::string> rw_list{"read", "randread"};
  std::vector<std::string> bs_list{"4K", "64K", "256K", "1M"};
  std::vector<unsigned> qd_list{1, 4, 16, 32};
  std::string size_text_opt, offset_text;
  bool allow_write = false, json = false, quiet = false;
  unsigned cmd_timeout_s = 30;
  Options o;
  ConnectionFlags flags;

  app.add_option("url", url_text, "iscsi://host[:port]/target-iqn/lun");
  app.add_option("--rw", rw_list, "Workloads: read, write, randread, randwrite (comma list)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--bs", bs_list, "Block sizes (comma list; K/M suffixes)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--qd", qd_list, "Queue depths: commands kept in flight (comma list)")
      ->delimiter(',')
      ->capture_default_str()
      ->check(CLI::Range(1u, 1024u));
  unsigned connections = 1;
  app.add_option("--connections", connections,
                 "TCP connections per session (MC/S; the target's MaxConnections must allow them)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 16u));
  std::vector<std::string> portals;
  app.add_option("--extra-portal", portals,
                 "Further portal (host:port) of the target's portal group for the MC/S "
                 "connections; repeat for more (they take turns after the URL's portal)");
  app.add_option("--time", o.time_s, "Measured seconds per point")
      ->capture_default_str()
      ->check(CLI::Range(0.01, 86400.0));
  app.add_option("--warmup", o.warmup_s, "Warm-up seconds before each point (not counted)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--size", size_text_opt,
                 "Bytes of the LUN to use (default: the whole LUN or 1 GiB, whichever is smaller)");
  app.add_option("--offset", offset_text, "Start of the region, in bytes (default 0)");
  app.add_flag("--allow-write", allow_write,
               "Allow the write workloads: they overwrite the region's data");
  app.add_option("--max-errors", o.max_errors, "Stop after this many failed commands in a point")
      ->capture_default_str()
      ->check(CLI::Range(std::uint64_t{1}, ~std::uint64_t{0}));
  app.add_option("--seed", o.seed, "Seed for the random offsets")->capture_default_str();
  app.add_option("--cmd-timeout", cmd_timeout_s,
                 "Seconds before a command is abandoned (and aborted); 0: never")
      ->capture_default_str();
  app.add_flag("--json", json, "Print the results as JSON (the table is not printed)");
  app.add_flag("-q,--quiet", quiet, "No header or progress lines on stderr");
  flags.add_to(app, true);
  app.footer(
      "Examples:\n"
      "  uiscsi-bench iscsi://127.0.0.1:3260/iqn.x:disk/0\n"
      "  uiscsi-bench --rw randread --bs 4K --qd 1,16 --time 3 iscsi://127.0.0.1/iqn.x:disk/0\n"
      "  uiscsi-bench --rw write,randwrite --allow-write --json iscsi://127.0.0.1/iqn.x:disk/1\n"
      "Latency is measured in the tool from submit to completion. cpu% is this process (tool\n"
      "and library I/O thread) in % of one core.\n"
      "Exit codes: 0 ok, 1 I/O failure, 2 usage, 3 cannot connect, 4 authentication failed,\n"
      "  5 no such target or LUN, 6 protocol error, 7 SCSI error, 130 interrupted.");
  scrub_argv(argc, argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }

  for (const auto& w : rw_list) {
    auto p = parse_workload(w);
    if (!p) return usage_error("unknown workload '" + w + "' (read, write, randread, randwrite)");
    if (std::find(o.workloads.begin(), o.workloads.end(), *p) == o.workloads.end())
      o.workloads.push_back(*p);
  }
  if (o.workloads.empty()) return usage_error("--rw needs at least one workload");
  if (!parse_size_list(bs_list, o.block_sizes) || o.block_sizes.empty())
    return usage_error("invalid --bs list");
  for (auto bs : o.block_sizes)
    if (bs > (64u << 20)) return usage_error("block size " + size_text(bs) + " is over 64M");
  o.queue_depths = qd_list;
  if (o.queue_depths.empty()) return usage_error("--qd needs at least one depth");
  const bool any_write = std::any_of(o.workloads.begin(), o.workloads.end(), is_write);
  if (any_write && !allow_write)
    return usage_error("write workloads destroy the LUN's data; add --allow-write");
  std::optional<std::uint64_t> size_opt;
  if (!size_text_opt.empty()) {
    auto v = parse_size(size_text_opt);
    if (!v || *v == 0) return usage_error("invalid --size '" + size_text_opt + "'");
    size_opt = *v;
  }
  if (!offset_text.empty()) {
    auto v = parse_size(offset_text);
    if (!v) return usage_error("invalid --offset '" + offset_text + "'");
    o.region_offset = *v;
  }

  IscsiUrl url;
  SessionOptions options;
  if (auto r = flags.resolve(url_text, url, options); !r) {
    if (r.error() == errc::authentication_failed)
      return usage_error("a CHAP user needs a secret (ISCSI_CHAP_PASSWORD or --chap-file)");
    return fail("bad URL", r.error());
  }
  if (url.target.empty()) return usage_error("the URL needs a target: iscsi://host/iqn/lun");
  auto lun = Lun::from_number(url.lun.value_or(0));
  if (!lun) return usage_error("LUN number too large");
  options.command_timeout = std::chrono::seconds(cmd_timeout_s);
  options.connections = connections;
  for (const std::string& p : portals)
    if (!parse_iscsi_url("iscsi://" + p))
      return usage_error("--extra-portal '" + p + "' is not host[:port]");
  options.portals = portals;
  const std::string name = url.to_string();

  install_interrupt_handler();
  auto session = Session::dial(url, options);
  if (!session) return fail("cannot log in to " + name, session.error());
  if (session->connections().size() < connections && !quiet)
    std::fprintf(stderr, "uiscsi-bench: %zu of %u connections (target MaxConnections=%u)\n",
                 session->connections().size(), connections, session->negotiated().max_connections);
  const LunInfo info = probe_lun(*session, *lun);
  if (!info.error.empty() && info.type_name.empty()) {
    std::fprintf(stderr, "uiscsi-bench: %s: %s\n", name.c_str(), info.error.c_str());
    return kExitNotFound;
  }
  if (info.device_type != 0 || !info.blocks || info.block_size == 0) {
    std::fprintf(stderr, "uiscsi-bench: %s: not a disk (device type %s)%s%s\n", name.c_str(),
                 info.type_name.c_str(), info.error.empty() ? "" : ": ", info.error.c_str());
    return kExitFailure;
  }
  const std::uint32_t block_size = info.block_size;
  const std::uint64_t lun_bytes = *info.blocks * block_size;

  // The region and the block sizes must fit the LUN's geometry.
  for (auto bs : o.block_sizes)
    if (bs % block_size)
      return usage_error("block size " + size_text(bs) + " is not a multiple of the LUN's " +
                         std::to_string(block_size) + "-byte blocks");
  if (o.region_offset % block_size)
    return usage_error("--offset must be a multiple of the LUN's block size (" +
                       std::to_string(block_size) + ")");
  if (o.region_offset >= lun_bytes) return usage_error("--offset is beyond the end of the LUN");
  o.region_size = size_opt ? *size_opt : std::min<std::uint64_t>(lun_bytes, 1ull << 30);
  if (o.region_offset + o.region_size > lun_bytes) {
    if (size_opt) return usage_error("--offset + --size is beyond the end of the LUN");
    o.region_size = lun_bytes - o.region_offset;
  }
  for (auto bs : o.block_sizes)
    if (bs > o.region_size)
      return usage_error("block size " + size_text(bs) + " is larger than the region (" +
                         human_bytes(o.region_size) + ")");

  if (!quiet) {
    const auto neg = session->negotiated();
    std::fprintf(
        stderr,
        "uiscsi-bench: %s: %s %s, %llu blocks of %u bytes (%s); region %s at %llu; "
        "MaxRecvDataSegmentLength %u/%u, MaxBurstLength %u, FirstBurstLength %u, "
        "InitialR2T %s, ImmediateData %s\n",
        name.c_str(), info.vendor.c_str(), info.product.c_str(),
        static_cast<unsigned long long>(*info.blocks), block_size, human_bytes(lun_bytes).c_str(),
        human_bytes(o.region_size).c_str(), static_cast<unsigned long long>(o.region_offset),
        neg.initiator_max_recv_data_segment_length, neg.target_max_recv_data_segment_length,
        neg.max_burst_length, neg.first_burst_length, neg.initial_r2t ? "Yes" : "No",
        neg.immediate_data ? "Yes" : "No");
  }

  std::vector<PointSpec> grid;
  for (auto w : o.workloads)
    for (auto bs : o.block_sizes)
      for (auto qd : o.queue_depths)
        grid.push_back({w, bs, qd});

  Runner runner(*session, *lun, block_size, o);
  std::vector<PointResult> results;
  int rc = kExitOk;
  std::string error_text;
  if (!json) print_table_header();
  for (const auto& p : grid) {
    if (!quiet && json)
      std::fprintf(stderr, "uiscsi-bench: %s bs=%s qd=%u\n", workload_name(p.workload),
                   size_text(p.bs).c_str(), p.qd);
    PointResult r = runner.run(p);
    if (r.measured) {
      results.push_back(r);
      if (!json) print_table_row(r);
    }
    if (runner.fatal_error()) {
      const auto ec = runner.fatal_error();
      rc = exit_code_for(ec);
      if (rc == kExitOk) rc = kExitFailure;
      error_text = std::string(workload_name(p.workload)) + " bs=" + size_text(p.bs) +
                   " qd=" + std::to_string(p.qd) + ": " +
                   (r.first_error.empty() ? ec.message() : r.first_error);
      break;
    }
    if (interrupted()) {
      rc = kExitInterrupted;
      error_text = "interrupted";
      break;
    }
    if (r.errors && rc == kExitOk) {
      rc = kExitScsi;
      error_text = std::string(workload_name(p.workload)) + " bs=" + size_text(p.bs) +
                   " qd=" + std::to_string(p.qd) + ": " + std::to_string(r.errors) +
                   " commands failed, first: " + r.first_error;
    }
  }
  if (json) print_json(name, block_size, lun_bytes, o, results, rc == kExitInterrupted, error_text);
  if (rc != kExitOk) std::fprintf(stderr, "uiscsi-bench: %s\n", error_text.c_str());
  (void)session->logout(std::chrono::seconds(5));
  return rc;
}
