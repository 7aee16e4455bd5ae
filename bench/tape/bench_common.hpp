// Pieces shared by the two tape throughput programs (tape_bench: our driver; libiscsi_tape_bench:
// libiscsi with hand-built READ(6)/WRITE(6) CDBs): option parsing, the record pattern, memory
// readings from /proc, and the result lines both print.
//
// Result lines (one per measured pass, tab-separated, on stdout, prefixed "result\t"):
//   result  client  target  op  record  setting  round  mib_s  records  client_rss_kib
//           client_peak_growth_kib  target_rss_kib  target_peak_kib  errors  client_cpu
//           target_cpu  other_cpu
// CPU figures are % of one CPU over the pass: this process (user + system), the target process
// (--target-pid) and everything else on the machine (from /proc/stat), so a pass disturbed by
// unrelated load can be spotted.
// `setting` names the pipeline: "ra0"/"ra8" (driver read-ahead), "wb0"/"wb8M" (driver
// write-behind bytes), "qd1"/"qd4" (libiscsi commands in flight). Memory figures are -1 when
// unknown. bench/tape_compare.sh collects these lines; a human table follows them.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

namespace tape_bench {

// "64K" -> 65536; K, M, G suffixes (powers of 1024). Throws std::invalid_argument.
inline std::uint64_t parse_size(const std::string& text) {
  if (text.empty()) throw std::invalid_argument("empty size");
  std::size_t used = 0;
  const std::uint64_t n = std::stoull(text, &used);
  const std::string suffix = text.substr(used);
  if (suffix.empty()) return n;
  if (suffix == "K" || suffix == "k") return n << 10;
  if (suffix == "M" || suffix == "m") return n << 20;
  if (suffix == "G" || suffix == "g") return n << 30;
  throw std::invalid_argument("bad size suffix in " + text);
}

inline std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// 65536 -> "64K", 1048576 -> "1M".
inline std::string size_name(std::uint64_t bytes) {
  if (bytes != 0 && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + "M";
  if (bytes != 0 && bytes % (1u << 10) == 0) return std::to_string(bytes >> 10) + "K";
  return std::to_string(bytes);
}

// "--name value" options after one positional argument (the URL). Unknown names are errors.
class Options {
 public:
  Options(int argc, char** argv, const std::map<std::string, std::string>& defaults)
      : values_(defaults) {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg.rfind("--", 0) == 0) {
        const std::string name = arg.substr(2);
        if (values_.find(name) == values_.end())
          throw std::invalid_argument("unknown option " + arg);
        if (i + 1 >= argc) throw std::invalid_argument("missing value for " + arg);
        values_[name] = argv[++i];
      } else if (positional_.empty()) {
        positional_ = arg;
      } else {
        throw std::invalid_argument("unexpected argument " + arg);
      }
    }
  }
  [[nodiscard]] const std::string& url() const { return positional_; }
  [[nodiscard]] const std::string& text(const std::string& name) const { return values_.at(name); }
  [[nodiscard]] std::uint64_t size(const std::string& name) const {
    return parse_size(values_.at(name));
  }
  [[nodiscard]] std::vector<std::uint64_t> sizes(const std::string& name) const {
    std::vector<std::uint64_t> out;
    for (const auto& s : split_list(values_.at(name)))
      out.push_back(parse_size(s));
    return out;
  }

 private:
  std::map<std::string, std::string> values_;
  std::string positional_;
};

// The payload of record `index`: a fixed pseudo-random (incompressible) body of `size` bytes,
// generated once, with the record index in its first 8 bytes (little endian), so a reader can
// check every record arrived, in order, with one comparison.
class RecordPattern {
 public:
  explicit RecordPattern(std::size_t size) : body_(size) {
    std::uint64_t x = 0x9e3779b97f4a7c15ull;
    for (std::size_t i = 0; i < size; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      body_[i] = static_cast<std::byte>(x >> 56);
    }
  }
  // Stamps record `index` into `out` (out.size() == size()): the body was copied there once.
  static void stamp(std::byte* out, std::uint64_t index) { std::memcpy(out, &index, 8); }
  [[nodiscard]] const std::vector<std::byte>& body() const { return body_; }
  // Whether `data` (a whole record) is record `index`: its stamp and last 8 bytes.
  [[nodiscard]] bool matches(const std::byte* data, std::size_t size, std::uint64_t index) const {
    if (size != body_.size()) return false;
    std::uint64_t got = 0;
    std::memcpy(&got, data, 8);
    return got == index && std::memcmp(data + size - 8, body_.data() + size - 8, 8) == 0;
  }

 private:
  std::vector<std::byte> body_;
};

// A "VmXxx:  1234 kB" field of /proc/PID/status (PID "self" for this process), or -1.
inline long proc_status_kib(const std::string& pid, const char* field) {
  std::ifstream in("/proc/" + pid + "/status");
  const std::string prefix = std::string(field) + ":";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) return std::stol(line.substr(prefix.size()));
  }
  return -1;
}

// Resets the peak RSS (VmHWM) of `pid` to its current RSS (Linux 4.0+, needs the right to
// ptrace it); false when that is not allowed.
inline bool reset_peak_rss(const std::string& pid) {
  std::ofstream out("/proc/" + pid + "/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

// CPU seconds (user + system) of this process.
inline double own_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// CPU seconds (utime + stime) of process `pid` from /proc/PID/stat, or 0.
inline double process_cpu_seconds(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string line;
  if (pid.empty() || !std::getline(in, line)) return 0;
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string f;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i)
    if (i == 14 || i == 15) ticks += std::stod(f);
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Busy CPU seconds of the whole machine (user, nice, system, irq, softirq, steal).
inline double machine_busy_seconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double v[8] = {};
  in >> cpu >> v[0] >> v[1] >> v[2] >> v[3] >> v[4] >> v[5] >> v[6] >> v[7];
  return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// Memory and CPU of this process and (optionally) the target process around one measured pass.
class MemoryWatch {
 public:
  explicit MemoryWatch(std::string target_pid) : target_pid_(std::move(target_pid)) {}
  // Call just before the pass.
  void start() {
    client_reset_ = reset_peak_rss("self");
    client_start_ = proc_status_kib("self", "VmRSS");
    if (!target_pid_.empty()) target_reset_ = reset_peak_rss(target_pid_);
    cpu_client_ = own_cpu_seconds();
    cpu_target_ = process_cpu_seconds(target_pid_);
    cpu_machine_ = machine_busy_seconds();
    wall_ = Clock::now();
  }
  // Call just after the pass.
  void stop() {
    const double wall = std::chrono::duration<double>(Clock::now() - wall_).count();
    const double client = own_cpu_seconds() - cpu_client_;
    const double target = process_cpu_seconds(target_pid_) - cpu_target_;
    const double machine = machine_busy_seconds() - cpu_machine_;
    client_cpu_ = 100 * client / wall;
    target_cpu_ = target_pid_.empty() ? -1 : 100 * target / wall;
    other_cpu_ = std::max(0.0, 100 * (machine - client - target) / wall);
    client_rss_ = proc_status_kib("self", "VmRSS");
    const long hwm = client_reset_ ? proc_status_kib("self", "VmHWM") : -1;
    client_growth_ = hwm >= 0 && client_start_ >= 0 ? hwm - client_start_ : -1;
    if (!target_pid_.empty()) {
      target_rss_ = proc_status_kib(target_pid_, "VmRSS");
      target_peak_ = target_reset_ ? proc_status_kib(target_pid_, "VmHWM") : -1;
    }
  }
  [[nodiscard]] long client_rss() const { return client_rss_; }
  // Peak RSS during the pass minus RSS at its start (-1 when the peak could not be reset).
  [[nodiscard]] long client_peak_growth() const { return client_growth_; }
  [[nodiscard]] long target_rss() const { return target_rss_; }
  [[nodiscard]] long target_peak() const { return target_peak_; }
  // % of one CPU during the pass: this process, the target (-1: no --target-pid), the rest.
  [[nodiscard]] double client_cpu() const { return client_cpu_; }
  [[nodiscard]] double target_cpu() const { return target_cpu_; }
  [[nodiscard]] double other_cpu() const { return other_cpu_; }

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point wall_;
  double cpu_client_ = 0;
  double cpu_target_ = 0;
  double cpu_machine_ = 0;
  double client_cpu_ = -1;
  double target_cpu_ = -1;
  double other_cpu_ = -1;
  std::string target_pid_;
  bool client_reset_ = false;
  bool target_reset_ = false;
  long client_start_ = -1;
  long client_rss_ = -1;
  long client_growth_ = -1;
  long target_rss_ = -1;
  long target_peak_ = -1;
};

// One measured pass.
struct PassResult {
  std::string op;  // "write" or "read"
  std::uint64_t record = 0;
  std::string setting;  // "ra8", "wb0", "qd4"...
  int round = 0;        // 0: warm-up (not printed)
  double mib_s = 0;
  std::uint64_t records = 0;
  long client_rss_kib = -1;
  long client_peak_growth_kib = -1;
  long target_rss_kib = -1;
  long target_peak_kib = -1;
  // Records missing, out of order or with wrong contents, and failed commands.
  std::uint64_t errors = 0;
  double client_cpu = -1;  // % of one CPU during the pass (MemoryWatch)
  double target_cpu = -1;
  double other_cpu = -1;

  // Takes the memory and CPU figures of a finished watch.
  void take(const MemoryWatch& w) {
    client_rss_kib = w.client_rss();
    client_peak_growth_kib = w.client_peak_growth();
    target_rss_kib = w.target_rss();
    target_peak_kib = w.target_peak();
    client_cpu = w.client_cpu();
    target_cpu = w.target_cpu();
    other_cpu = w.other_cpu();
  }
};

inline void print_result_line(const std::string& client, const std::string& target,
                              const PassResult& r) {
  std::printf(
      "result\t%s\t%s\t%s\t%s\t%s\t%d\t%.1f\t%llu\t%ld\t%ld\t%ld\t%ld\t%llu\t%.0f\t%.0f\t%.0f\n",
      client.c_str(), target.c_str(), r.op.c_str(), size_name(r.record).c_str(), r.setting.c_str(),
      r.round, r.mib_s, static_cast<unsigned long long>(r.records), r.client_rss_kib,
      r.client_peak_growth_kib, r.target_rss_kib, r.target_peak_kib,
      static_cast<unsigned long long>(r.errors), r.client_cpu, r.target_cpu, r.other_cpu);
  std::fflush(stdout);
}

// The human table: per (op, record, setting), the median MiB/s over the rounds, the range, the
// largest client peak growth and target RSS seen.
inline void print_summary(const std::vector<PassResult>& results) {
  struct Key {
    std::string op;
    std::uint64_t record;
    std::string setting;
    bool operator<(const Key& o) const {
      return std::tie(op, record, setting) < std::tie(o.op, o.record, o.setting);
    }
  };
  std::map<Key, std::vector<const PassResult*>> by_point;
  for (const auto& r : results)
    if (r.round > 0) by_point[{r.op, r.record, r.setting}].push_back(&r);
  std::printf("\n%-6s %-7s %-8s %10s %19s %16s %13s %7s\n", "op", "record", "setting", "MiB/s med",
              "min-max", "client peak +KiB", "target RSS KiB", "errors");
  for (const auto& [key, runs] : by_point) {
    std::vector<double> rates;
    long growth = -1;
    long target = -1;
    std::uint64_t errors = 0;
    for (const auto* r : runs) {
      rates.push_back(r->mib_s);
      growth = std::max(growth, r->client_peak_growth_kib);
      target = std::max(target, r->target_rss_kib);
      errors += r->errors;
    }
    std::sort(rates.begin(), rates.end());
    const std::size_t n = rates.size();
    const double median = n % 2 == 1 ? rates[n / 2] : (rates[n / 2 - 1] + rates[n / 2]) / 2;
    char range[64];
    std::snprintf(range, sizeof range, "%.0f-%.0f", rates.front(), rates.back());
    std::printf("%-6s %-7s %-8s %10.1f %19s %16ld %13ld %7llu\n", key.op.c_str(),
                size_name(key.record).c_str(), key.setting.c_str(), median, range, growth, target,
                static_cast<unsigned long long>(errors));
  }
}

// The end of a program's run: a heading and the medians table; the exit status (0 when every
// pass moved every record intact, 1 otherwise).
inline int finish_run(const std::string& client, const std::string& target, std::uint64_t total,
                      int rounds, const std::vector<PassResult>& results, std::uint64_t errors) {
  std::printf("\n# %s -> %s, %llu MiB per pass, %d rounds (medians)\n", client.c_str(),
              target.c_str(), static_cast<unsigned long long>(total >> 20), rounds);
  print_summary(results);
  return errors == 0 ? 0 : 1;
}

// A bench program's main(): options with `defaults` (the usage line lists them), exit 2 with
// the usage when the URL is missing or an option is bad, else what `run` returns.
inline int bench_main(int argc, char** argv, const char* program,
                      const std::map<std::string, std::string>& defaults,
                      int (*run)(const Options&)) {
  try {
    const Options opts(argc, argv, defaults);
    if (opts.url().empty()) {
      std::string usage = std::string("usage: ") + program + " iscsi://host:port/iqn/lun";
      for (const auto& [name, value] : defaults)
        usage += " [--" + name + " " + (value.empty() ? "VALUE" : value) + "]";
      std::fprintf(stderr, "%s\n", usage.c_str());
      return 2;
    }
    return run(opts);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 2;
  }
}

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace tape_bench
