// uiscsi-soak: mixed, verified I/O for a chosen time while a fault proxy breaks the connection at
// random; reports operations, faults injected, recoveries and mismatches (which must be 0).
//
//   uiscsi-soak --time 10m                       in-process uiscsi-target, 64 MiB RAM disk
//   uiscsi-soak --time 1m --erl 1 --digests --fault-rate 1s --report soak.md
//   uiscsi-soak --time 30s iscsi://127.0.0.1:3260/iqn.2026-11.test:disk/1   (a target of yours;
//                                                 its region is overwritten)
//
// The session always dials through a FaultProxy on loopback (fault_proxy.hpp), so the faults
// hit any target. Exit codes: 0 pass; 1 a mismatch, a hung command or an early stop; 2 bad
// usage or set-up failure (target, proxy, login); 3 fewer faults or recoveries than
// --min-faults / --min-recoveries asked for (used by the CLI test to prove faults struck).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "fault_proxy.hpp"
#include "report.hpp"
#include "soak_run.hpp"
#include "target/server.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/session.hpp"

using namespace uiscsi;
using namespace uiscsi::bench;

namespace {

constexpr const char* kEmbeddedTarget = "iqn.2026-11.dev.uiscsi:soak";

int fail(const std::string& what) {
  std::fprintf(stderr, "uiscsi-soak: %s\n", what.c_str());
  return 2;
}

// The embedded target: one RAM disk LUN on a free loopback port, DefaultTime2Wait 0 so
// reinstatements are immediate.
Result<std::unique_ptr<target::TargetServer>> start_embedded(std::uint64_t bytes,
                                                             std::uint32_t erl) {
  target::ServerConfig c;
  c.portals = {{"127.0.0.1", 0}};
  target::TargetEntry t;
  t.name = kEmbeddedTarget;
  target::LunConfig l;
  l.size_bytes = bytes;
  t.luns.push_back(l);
  c.targets.push_back(t);
  c.engine.negotiation.default_time2wait = 0;
  c.engine.negotiation.error_recovery_level = erl;
  // Offer digests too, so --digests can be honoured (the default offers None only).
  c.engine.negotiation.header_digest = {"CRC32C", "None"};
  c.engine.negotiation.data_digest = {"CRC32C", "None"};
  return target::TargetServer::start(c);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Soak an iSCSI disk LUN: verified mixed I/O under random connection faults"};
  std::string url_text, time_text = "60s", fault_rate_text = "2s", timeout_text = "30s";
  std::string report_path, lun_size_text = "64", region_text;
  std::uint64_t seed = 1, min_faults = 0, min_recoveries = 0;
  unsigned qd = 16;
  std::uint32_t erl = 0;
  bool digests = false;
  app.add_option("url", url_text,
                 "iscsi:// URL of a disk LUN (IPv4 portal); default: an in-process uiscsi-target");
  app.add_option("--time", time_text, "how long the mixed phase runs (10m, 30s, 500ms)")
      ->capture_default_str();
  app.add_option("--seed", seed, "seed of the workload and the fault schedule")
      ->capture_default_str();
  app.add_option("--qd", qd, "commands in flight")
      ->check(CLI::Range(1u, 128u))
      ->capture_default_str();
  app.add_option("--erl", erl, "ErrorRecoveryLevel to offer (0 or 1)")
      ->check(CLI::Range(0u, 1u))
      ->capture_default_str();
  app.add_flag("--digests", digests, "require CRC32C header and data digests; enables byte flips");
  app.add_option("--fault-rate", fault_rate_text, "mean time between faults; 0 turns faults off")
      ->capture_default_str();
  app.add_option("--command-timeout", timeout_text, "deadline of every command")
      ->capture_default_str();
  app.add_option("--lun-size", lun_size_text, "embedded target: RAM disk size in MiB")
      ->capture_default_str();
  app.add_option("--region", region_text, "MiB of the LUN to exercise (default: min(LUN, 64))");
  app.add_option("--report", report_path, "also write the report as markdown to this file");
  app.add_option("--min-faults", min_faults, "exit 3 unless at least this many faults struck");
  app.add_option("--min-recoveries", min_recoveries,
                 "exit 3 unless the session reinstated itself at least this often");
  CLI11_PARSE(app, argc, argv);

  const auto duration = parse_duration(time_text);
  const auto fault_rate = parse_duration(fault_rate_text);
  const auto command_timeout = parse_duration(timeout_text);
  if (!duration || !fault_rate || !command_timeout || command_timeout->count() == 0)
    return fail("--time, --fault-rate and --command-timeout take durations such as 30s or 10m");
  const auto lun_mib = std::strtoull(lun_size_text.c_str(), nullptr, 10);
  if (url_text.empty() && (lun_mib == 0 || lun_mib > 4096))
    return fail("--lun-size must be 1..4096 MiB");
  if (!region_text.empty() && std::strtoull(region_text.c_str(), nullptr, 10) == 0)
    return fail("--region must be a number of MiB above 0");

  std::unique_ptr<target::TargetServer> embedded;
  IscsiUrl url;
  std::string target_text;
  if (url_text.empty()) {
    auto t = start_embedded(lun_mib << 20, erl);
    if (!t) return fail("cannot start the in-process target: " + t.error().message());
    embedded = std::move(*t);
    url.host = "127.0.0.1";
    url.port = embedded->endpoints()[0].port;
    url.target = kEmbeddedTarget;
    url.lun = 0;
    target_text = fmt::format("in-process uiscsi-target, {} MiB RAM disk", lun_mib);
  } else {
    auto u = parse_iscsi_url(url_text);
    if (!u || u->target.empty()) return fail("not an iscsi:// URL with a target: " + url_text);
    url = *u;
    target_text = url.to_string();
  }

  FaultProxyOptions po;
  po.upstream_host = url.host;
  po.upstream_port = url.port;
  po.mean_interval = *fault_rate;
  po.seed = seed ^ 0x5eedfa17ull;
  po.flips = digests;
  auto proxy = FaultProxy::start(po);
  if (!proxy) return fail("cannot start the fault proxy: " + proxy.error().message());
  IscsiUrl via = url;
  via.host = "127.0.0.1";
  via.port = (*proxy)->port();

  auto failed = std::make_shared<std::atomic<bool>>(false);
  SessionOptions so;
  so.error_recovery_level = erl;
  so.header_digest = so.data_digest = digests ? DigestPolicy::require : DigestPolicy::none;
  so.default_time2wait = 0;
  so.recovery_backoff = std::chrono::milliseconds(50);
  so.max_recovery_attempts = 8;
  so.login_timeout = std::chrono::seconds(5);
  so.connect_timeout = std::chrono::seconds(5);
  so.hooks.on_state = [failed](SessionState s, std::error_code) {
    if (s == SessionState::failed) failed->store(true);
  };
  auto dial = [&]() -> Result<Session> {
    failed->store(false);
    return Session::dial(via, so);
  };
  auto session = dial();
  if (!session) return fail("login through the fault proxy failed: " + session.error().message());
  // Byte flips are only detectable with both digests in force. DigestPolicy::require does not
  // (yet) fail a login whose digest offer the target answered with Reject, so check here.
  if (digests && !(session->negotiated().header_digest && session->negotiated().data_digest))
    return fail("--digests: the target did not agree to CRC32C header and data digests");

  SoakConfig cfg;
  cfg.duration = *duration;
  cfg.seed = seed;
  cfg.queue_depth = qd;
  cfg.lun = Lun::from_number(url.lun.value_or(0)).value_or(Lun());
  cfg.command_timeout = *command_timeout;
  // The capacity (and the first command's POWER ON attention) before the faults start.
  for (int i = 0; i < 3; ++i) {
    auto cap = session->run(cfg.lun, Command(scsi::read_capacity16()).timeout(*command_timeout));
    if (!cap) return fail("READ CAPACITY(16) failed: " + cap.error().message());
    if (!cap->ok()) continue;
    auto c = scsi::parse_read_capacity16(cap->data());
    if (!c || c->block_length == 0) return fail("READ CAPACITY(16) data does not parse");
    cfg.block_size = c->block_length;
    const std::uint64_t region_mib =
        region_text.empty() ? 64 : std::strtoull(region_text.c_str(), nullptr, 10);
    cfg.region_blocks =
        std::min<std::uint64_t>(c->last_lba + 1, (region_mib << 20) / c->block_length);
    cfg.max_transfer_blocks = std::max<std::uint32_t>(1, (1u << 20) / c->block_length);
    break;
  }
  if (cfg.region_blocks == 0) return fail("READ CAPACITY(16) did not succeed");

  SoakReport report;
  report.command_line = "uiscsi-soak";
  for (int i = 1; i < argc; ++i)
    report.command_line += std::string(" ") + argv[i];
  report.target = target_text;
  report.erl = erl;
  const auto n = session->negotiated();
  report.negotiated = fmt::format(
      "HeaderDigest {}, DataDigest {}, ErrorRecoveryLevel {}, MaxBurstLength {}, "
      "FirstBurstLength {}, ImmediateData {}, InitialR2T {}",
      n.header_digest ? "CRC32C" : "None", n.data_digest ? "CRC32C" : "None",
      n.error_recovery_level, n.max_burst_length, n.first_burst_length,
      n.immediate_data ? "Yes" : "No", n.initial_r2t ? "Yes" : "No");
  report.digests = digests;
  report.fault_plan = fault_rate->count() == 0
                          ? "none"
                          : fmt::format("mean {} ms between faults: cut, stall{}",
                                        fault_rate->count(), digests ? ", flip" : "");

  (*proxy)->set_random_faults(fault_rate->count() > 0);
  report.stats = run_soak(*session, dial, *failed, cfg, [&](const SoakStats& s) {
    std::fprintf(stderr, "[%5.0f s] reads %llu writes %llu faults %llu mismatches %llu\n",
                 std::chrono::duration<double>(s.elapsed).count(),
                 static_cast<unsigned long long>(s.reads),
                 static_cast<unsigned long long>(s.writes),
                 static_cast<unsigned long long>((*proxy)->counts().total()),
                 static_cast<unsigned long long>(s.mismatches));
  });
  (*proxy)->set_random_faults(false);
  report.config = cfg;
  report.faults = (*proxy)->counts();
  report.proxy_connections = (*proxy)->connections_accepted();

  const std::string text = format_text(report);
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
  if (!report_path.empty()) {
    std::ofstream f(report_path);
    f << format_markdown(report);
    if (!f) std::fprintf(stderr, "uiscsi-soak: cannot write %s\n", report_path.c_str());
  }
  // A hung command still references buffers and the session: leave without destructors.
  if (report.stats.hung > 0) std::_Exit(1);
  if (!soak_passed(report)) return 1;
  if (report.faults.total() < min_faults || report.stats.recovery.reinstatements < min_recoveries) {
    std::fprintf(stderr, "uiscsi-soak: %llu faults and %llu reinstatements, fewer than asked\n",
                 static_cast<unsigned long long>(report.faults.total()),
                 static_cast<unsigned long long>(report.stats.recovery.reinstatements));
    return 3;
  }
  return 0;
}
