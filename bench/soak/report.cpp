// The soak's report (report.hpp).
#include "report.hpp"

#include <fmt/format.h>

#include <charconv>
#include <vector>

namespace uiscsi::bench {

namespace {

double seconds(std::chrono::nanoseconds d) {
  return std::chrono::duration<double>(d).count();
}

double mib(std::uint64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

// The report as (section, rows of label/value); both formats print this.
using Rows = std::vector<std::pair<std::string, std::string>>;

std::vector<std::pair<std::string, Rows>> sections(const SoakReport& r) {
  const auto& s = r.stats;
  const auto& c = r.config;
  std::vector<std::pair<std::string, Rows>> out;
  out.push_back({"Run",
                 {{"target", r.target},
                  {"region", fmt::format("{} blocks of {} B ({:.0f} MiB)", c.region_blocks,
                                         c.block_size, mib(c.region_blocks * c.block_size))},
                  {"seed", std::to_string(c.seed)},
                  {"queue depth", std::to_string(c.queue_depth)},
                  {"ERL / digests", fmt::format("{} / {}", r.erl, r.digests ? "CRC32C" : "none")},
                  {"negotiated", r.negotiated},
                  {"command timeout", fmt::format("{} ms", c.command_timeout.count())},
                  {"faults", r.fault_plan},
                  {"fill (whole region written first)",
                   fmt::format("{:.1f} s, {} writes", seconds(s.fill_elapsed), s.fill_writes)},
                  {"mixed phase", fmt::format("{:.1f} s", seconds(s.elapsed))}}});
  const double t = std::max(seconds(s.elapsed), 1e-9);
  out.push_back({"Operations (mixed phase)",
                 {{"reads (verified)", std::to_string(s.reads)},
                  {"writes", std::to_string(s.writes)},
                  {"read-backs of unknown-outcome writes", std::to_string(s.resolve_reads)},
                  {"TEST UNIT READY / READ CAPACITY(16) / INQUIRY",
                   fmt::format("{} / {} / {}", s.test_unit_ready, s.read_capacity, s.inquiry)},
                  {"bytes read / written (fill included)",
                   fmt::format("{:.1f} MiB / {:.1f} MiB", mib(s.bytes_read), mib(s.bytes_written))},
                  {"rate", fmt::format("{:.0f} ops/s",
                                       static_cast<double>(s.reads + s.writes + s.test_unit_ready +
                                                           s.read_capacity + s.inquiry) /
                                           t)}}});
  out.push_back({"Faults injected",
                 {{"cut (connection closed both ways)", std::to_string(r.faults.cut)},
                  {"stall (relay paused)", std::to_string(r.faults.stall)},
                  {"flip (one byte changed)", std::to_string(r.faults.flip)},
                  {"total", std::to_string(r.faults.total())},
                  {"connections through the proxy", std::to_string(r.proxy_connections)}}});
  out.push_back({"Recoveries (RecoveryStats)",
                 {{"reinstatements (ERL 0)", std::to_string(s.recovery.reinstatements)},
                  {"digest errors", std::to_string(s.recovery.digest_errors)},
                  {"Data/R2T SNACKs / status SNACKs",
                   fmt::format("{} / {}", s.recovery.data_r2t_snacks, s.recovery.status_snacks)},
                  {"command retries (ERL 1)", std::to_string(s.recovery.command_retries)},
                  {"probes", std::to_string(s.recovery.probes)},
                  {"new sessions after recovery gave up", std::to_string(s.redials)}}});
  Rows failures{{"commands that failed (all kinds)", std::to_string(s.failed_commands)},
                {"writes with an unknown outcome (\"may have executed\")",
                 std::to_string(s.unknown_outcome_writes)},
                {"... read back: executed / not executed / partly",
                 fmt::format("{} / {} / {}", s.resolved.executed, s.resolved.not_executed,
                             s.resolved.partial)},
                {"UNIT ATTENTION (not executed)", std::to_string(s.unit_attentions)}};
  for (const auto& [what, n] : s.failures)
    failures.push_back({what, std::to_string(n)});
  out.push_back({"Failed commands (reported honestly by the library; not mismatches)", failures});
  Rows verdict{{"mismatches (wrong bytes; must be 0)", std::to_string(s.mismatches)},
               {"hung commands (must be 0)", std::to_string(s.hung)}};
  for (const auto& d : s.mismatch_details)
    verdict.push_back({"mismatch", d});
  if (!s.fatal.empty()) verdict.push_back({"stopped early", s.fatal});
  verdict.push_back({"result", soak_passed(r) ? "PASS" : "FAIL"});
  out.push_back({"Verdict", verdict});
  return out;
}

}  // namespace

bool soak_passed(const SoakReport& r) {
  return r.stats.mismatches == 0 && r.stats.hung == 0 && r.stats.fatal.empty();
}

std::string format_text(const SoakReport& r) {
  std::string out;
  for (const auto& [title, rows] : sections(r)) {
    out += title + "\n";
    for (const auto& [k, v] : rows)
      out += fmt::format("  {:<58} {}\n", k, v);
  }
  return out;
}

std::string format_markdown(const SoakReport& r) {
  std::string out = "# uiscsi-soak report\n\n```\n" + r.command_line + "\n```\n";
  for (const auto& [title, rows] : sections(r)) {
    out += "\n## " + title + "\n\n| what | value |\n|---|---|\n";
    for (const auto& [k, v] : rows)
      out += "| " + k + " | " + v + " |\n";
  }
  return out;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || p == text.data()) return std::nullopt;
  const std::string_view unit(p, static_cast<std::size_t>(text.data() + text.size() - p));
  std::uint64_t ms_per = 0;
  if (unit == "ms")
    ms_per = 1;
  else if (unit.empty() || unit == "s")
    ms_per = 1000;
  else if (unit == "m" || unit == "min")
    ms_per = 60'000;
  else if (unit == "h")
    ms_per = 3'600'000;
  else
    return std::nullopt;
  if (n > (1ull << 40) / ms_per) return std::nullopt;
  return std::chrono::milliseconds(n * ms_per);
}

}  // namespace uiscsi::bench
