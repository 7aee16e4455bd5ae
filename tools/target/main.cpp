// uiscsi-target: a userspace iSCSI target.
//
//   uiscsi-target --listen 127.0.0.1:3260 --ram 256M
//   uiscsi-target --tape 1G --tape-image /var/lib/uiscsi/tape0.img   (LUN 0: a tape drive)
//   uiscsi-target --tape 1G --changer 8 --changer-image /var/lib/uiscsi/lib0   (LUN 0: the
//   drive, empty; LUN 1: a media changer with 8 cartridges of 1G)
//   uiscsi-target --listen 127.0.0.1:0 --file disk.img,1G --chap alice   (secret:
//   ISCSI_TARGET_CHAP_SECRET) uiscsi-target --config targets.toml
//
// The first line on stdout is the target's IQN, the next lines "portal HOST:PORT" (useful with
// port 0). Logs go to stderr. SIGINT/SIGTERM stop it cleanly; SIGUSR1 prints the open sessions.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "allocator.hpp"
#include "common/toolkit.hpp"
#include "target/config_file.hpp"
#include "target/server.hpp"
#include "uiscsi/errors.hpp"

using namespace uiscsi;
using namespace uiscsi::target;
using uiscsi::tools::kExitFailure;
using uiscsi::tools::kExitOk;
using uiscsi::tools::kExitUsage;

namespace {

std::optional<Secret> secret_from(const std::string& env, const std::string& file,
                                  std::string& why) {
  if (!file.empty()) {
    auto s = read_secret_file(file);
    if (!s) {
      why = "cannot read " + file + ": " + s.error().message();
      return std::nullopt;
    }
    return *s;
  }
  const char* v = std::getenv(env.c_str());
  if (v == nullptr || *v == '\0') {
    why = "set " + env + " or give a secret file";
    return std::nullopt;
  }
  return Secret(v);
}

int fail(const std::string& msg) {
  std::fprintf(stderr, "uiscsi-target: %s\n", msg.c_str());
  return kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Userspace iSCSI target serving RAM, file and null disks, tape drives and media changers",
      "uiscsi-target"};
  tools::set_tool_name("uiscsi-target");
  tools::tune_allocator_for_large_transfers();
  std::vector<std::string> listen, files, rams, nulls, tapes, tape_images, allow, faults;
  std::string config_path, target_name = default_target_name(), alias = "uiscsi";
  std::string chap_user, chap_secret_file, mutual_user, mutual_secret_file, log_level = "info";
  std::string digest = "prefer", changer_image;
  unsigned changer_slots = 0;
  std::uint32_t block_size = 512, max_recv = 262144, max_burst = 1048576, first_burst = 262144;
  std::uint32_t max_r2t = 8, erl = 0, window = 128, max_connections = 1;
  unsigned nop_ms = 0, delay_ms = 0;
  std::string initial_r2t = "no", immediate = "yes", rate_limit;
  bool direct_io = false, read_only = false;

  app.add_option("--listen", listen,
                 "Portal address:port (repeatable; default 127.0.0.1:3260; port 0 picks one)");
  app.add_option("--config", config_path,
                 "TOML configuration file (several targets, LUNs, CHAP accounts)");
  app.add_option("--target-name", target_name, "Target IQN")->capture_default_str();
  app.add_option("--alias", alias, "TargetAlias")->capture_default_str();
  app.add_option("--ram", rams, "Add a RAM disk LUN of this size (e.g. 256M)");
  app.add_option("--file", files,
                 "Add a file-backed LUN: PATH[,SIZE] (created or extended to SIZE)");
  app.add_option("--null", nulls, "Add a null LUN of this size (reads zeros, discards writes)");
  app.add_option("--tape", tapes,
                 "Add a tape drive LUN with a cartridge of this capacity (e.g. 1G), after the "
                 "disks");
  app.add_option("--tape-image", tape_images,
                 "Keep the cartridge of the matching --tape in this image file (opened if it "
                 "exists, else created); a --tape-image alone adds a 64M tape");
  app.add_option("--changer", changer_slots,
                 "Add a media changer LUN (after the tapes) with N slots, each holding a "
                 "cartridge (barcodes UIS001L9...) of the first --tape's capacity (default 1G), "
                 "and one drive: the first --tape LUN, which then starts empty (one is added "
                 "when there is no --tape)")
      ->check(CLI::Range(1, 4096));
  app.add_option("--changer-image", changer_image,
                 "Keep the changer's cartridges as image files named by barcode in this "
                 "directory, with the map of which cartridge is where (restored at start)");
  app.add_option("--block-size", block_size, "Logical block size of disk LUNs")
      ->check(CLI::IsMember({512, 4096}));
  app.add_flag("--direct-io", direct_io, "Open file LUNs with O_DIRECT");
  app.add_flag("--read-only", read_only, "Write-protect every LUN");
  app.add_option("--allow", allow, "Only this initiator IQN may log in (repeatable)");
  app.add_option(
      "--chap", chap_user,
      "Require CHAP with this user; secret from ISCSI_TARGET_CHAP_SECRET or --chap-secret-file");
  app.add_option("--chap-secret-file", chap_secret_file, "File holding the CHAP secret");
  app.add_option(
      "--mutual-chap", mutual_user,
      "Our name for mutual CHAP; secret from ISCSI_TARGET_MUTUAL_SECRET or --mutual-secret-file");
  app.add_option("--mutual-secret-file", mutual_secret_file, "File holding our mutual CHAP secret");
  app.add_option("--digest", digest, "Header and data digests we accept: none, prefer or crc32c")
      ->check(CLI::IsMember({"none", "prefer", "crc32c"}))
      ->capture_default_str();
  app.add_option("--max-recv-data-segment-length", max_recv, "Our MaxRecvDataSegmentLength")
      ->capture_default_str();
  app.add_option("--max-burst-length", max_burst, "MaxBurstLength offer")->capture_default_str();
  app.add_option("--first-burst-length", first_burst, "FirstBurstLength offer")
      ->capture_default_str();
  app.add_option("--initial-r2t", initial_r2t, "InitialR2T offer (yes/no)")
      ->check(CLI::IsMember({"yes", "no"}));
  app.add_option("--immediate-data", immediate, "ImmediateData offer (yes/no)")
      ->check(CLI::IsMember({"yes", "no"}));
  app.add_option("--max-outstanding-r2t", max_r2t, "MaxOutstandingR2T offer")
      ->capture_default_str();
  app.add_option("--error-recovery-level", erl, "ErrorRecoveryLevel offer")
      ->check(CLI::Range(0, 2));
  app.add_option("--max-connections", max_connections, "MaxConnections offer")
      ->check(CLI::Range(1, 65535));
  app.add_option("--cmd-window", window,
                 "Commands the initiator may have queued (MaxCmdSN - ExpCmdSN + 1)")
      ->capture_default_str();
  app.add_option("--nop-interval", nop_ms, "Ping an idle initiator every MS milliseconds (0: off)");
  app.add_option("--response-delay", delay_ms, "Fault: hold every SCSI answer MS milliseconds");
  app.add_option("--rate-limit", rate_limit,
                 "Fault: a slow device, e.g. 20M (bytes per second of read data)");
  app.add_option("--fault", faults,
                 "Fault injection (repeatable): drop-after-pdus=N, drop-after-bytes=N, "
                 "corrupt-header-digest=N, corrupt-data-digest=N, lose-pdu=N, lose-every=N, "
                 "reject-pdu=N, hold-window, "
                 "data-in-out-of-order, a-bit, async-logout-after=N, async-drop-after=N, "
                 "faulty-connections=N (only the first N connections)");
  app.add_option("--log-level", log_level, "debug, info, warning or error")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}))
      ->capture_default_str();
  app.footer(
      "Examples:\n"
      "  uiscsi-target --listen 127.0.0.1:3260 --ram 256M\n"
      "  ISCSI_TARGET_CHAP_SECRET=... uiscsi-target --ram 1G --chap alice\n"
      "  uiscsi-target --tape 1G --changer 8 --changer-image /var/lib/uiscsi/lib0\n"
      "  uiscsi-target --config /etc/uiscsi/targets.toml\n"
      "Exit codes: 0 stopped cleanly, 1 could not start, 2 usage error.");
  if (int rc = tools::parse_command_line(app, argc, argv); rc >= 0) return rc;

  ServerConfig config;
  if (!config_path.empty()) {
    std::string why;
    auto c = load_config_file(config_path, why);
    if (!c) return fail(why.empty() ? c.error().message() : why);
    config = std::move(*c);
  } else {
    TargetEntry t;
    t.name = target_name;
    t.alias = alias;
    t.allowed_initiators = allow;
    std::uint64_t next_lun = 0;
    auto add = [&](LunConfig::Kind kind, std::uint64_t size, std::string path) {
      LunConfig l;
      l.number = next_lun++;
      l.kind = kind;
      l.size_bytes = size;
      l.path = std::move(path);
      l.block_size = block_size;
      l.direct_io = direct_io;
      l.read_only = read_only;
      t.luns.push_back(std::move(l));
    };
    for (const auto& r : rams) {
      auto size = parse_byte_size(r);
      if (!size || *size == 0) return tools::usage_error("bad --ram size '" + r + "'");
      add(LunConfig::Kind::ram, *size, {});
    }
    for (const auto& f : files) {
      const auto comma = f.rfind(',');
      std::uint64_t size = 0;
      std::string path = f;
      if (comma != std::string::npos) {
        auto s = parse_byte_size(f.substr(comma + 1));
        if (!s) return tools::usage_error("bad --file size in '" + f + "'");
        size = *s;
        path = f.substr(0, comma);
      }
      add(LunConfig::Kind::file, size, path);
    }
    for (const auto& n : nulls) {
      auto size = parse_byte_size(n);
      if (!size || *size == 0) return tools::usage_error("bad --null size '" + n + "'");
      add(LunConfig::Kind::null, *size, {});
    }
    // Tapes after the disks: the i-th --tape-image goes with the i-th --tape.
    if (tape_images.size() > tapes.size()) tapes.resize(tape_images.size(), "64M");
    for (std::size_t i = 0; i < tapes.size(); ++i) {
      auto size = parse_byte_size(tapes[i]);
      if (!size || *size == 0) return tools::usage_error("bad --tape size '" + tapes[i] + "'");
      add(LunConfig::Kind::tape, *size, {});
      if (i < tape_images.size()) t.luns.back().image = tape_images[i];
    }
    if (!changer_image.empty() && changer_slots == 0)
      return tools::usage_error("--changer-image needs --changer");
    if (changer_slots > 0) {
      // The changer's drive is the first tape LUN (empty: its cartridges are in the slots).
      std::uint64_t capacity = 1ull << 30;
      auto drive = std::find_if(t.luns.begin(), t.luns.end(),
                                [](const LunConfig& l) { return l.kind == LunConfig::Kind::tape; });
      if (drive == t.luns.end()) {
        add(LunConfig::Kind::tape, capacity, {});
        drive = t.luns.end() - 1;
      } else {
        if (!drive->image.empty())
          return tools::usage_error(
              "the changer's drive (the first --tape) has no --tape-image; use --changer-image");
        capacity = drive->size_bytes;
      }
      const std::uint64_t drive_lun = drive->number;
      add(LunConfig::Kind::changer, capacity, {});
      t.luns.back().slots = changer_slots;
      t.luns.back().image = changer_image;
      t.luns.back().drives = {drive_lun};
    }
    if (t.luns.empty()) add(LunConfig::Kind::ram, 64ull << 20, {});
    if (!chap_user.empty()) {
      std::string why;
      auto s = secret_from("ISCSI_TARGET_CHAP_SECRET", chap_secret_file, why);
      if (!s) return tools::usage_error("--chap needs a secret: " + why);
      t.chap_users[chap_user] = *s;
      t.chap_required = true;
    }
    if (!mutual_user.empty()) {
      std::string why;
      auto s = secret_from("ISCSI_TARGET_MUTUAL_SECRET", mutual_secret_file, why);
      if (!s) return tools::usage_error("--mutual-chap needs a secret: " + why);
      t.mutual = core::ChapCredentials{mutual_user, *s, false, {}, {}};
    }
    config.targets.push_back(std::move(t));
    auto& n = config.engine.negotiation;
    n.max_recv_data_segment_length = max_recv;
    n.max_burst_length = max_burst;
    n.first_burst_length = first_burst;
    n.initial_r2t = initial_r2t == "yes";
    n.immediate_data = immediate == "yes";
    n.max_outstanding_r2t = max_r2t;
    n.error_recovery_level = erl;
    n.max_connections = max_connections;
    const std::vector<std::string> d = digest == "none" ? std::vector<std::string>{"None"}
                                       : digest == "crc32c"
                                           ? std::vector<std::string>{"CRC32C"}
                                           : std::vector<std::string>{"CRC32C", "None"};
    n.header_digest = d;
    n.data_digest = d;
    config.engine.cmd_window = std::max(1u, window);
    config.engine.nop_in_interval = std::chrono::milliseconds(nop_ms);
    config.response_delay = std::chrono::milliseconds(delay_ms);
    if (!rate_limit.empty()) {
      auto r = parse_byte_size(rate_limit);
      if (!r) return tools::usage_error("bad --rate-limit '" + rate_limit + "'");
      config.rate_limit_bytes_per_second = *r;
    }
  }
  if (!listen.empty()) {
    config.portals.clear();
    for (const auto& l : listen) {
      auto ep = net::parse_endpoint(l);
      if (!ep) return tools::usage_error("bad --listen address '" + l + "'");
      config.portals.push_back(*ep);
    }
  }
  for (const auto& f : faults)
    if (!apply_fault(config.engine.faults, f))
      return tools::usage_error("unknown --fault '" + f + "'");

  // Signals are taken synchronously by this thread; the server threads never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  const LogLevel level = log_level == "debug"     ? LogLevel::debug
                         : log_level == "warning" ? LogLevel::warning
                         : log_level == "error"   ? LogLevel::error
                                                  : LogLevel::info;
  auto server = TargetServer::start(config, make_stderr_logger(level));
  if (!server) {
    std::string what = server.error().message();
    if (server.error() == std::errc::address_in_use) what = "a portal address is already in use";
    return fail("cannot start: " + what);
  }
  std::printf("%s\n", config.targets.front().name.c_str());
  for (const auto& ep : (*server)->endpoints())
    std::printf("portal %s\n", ep.to_string().c_str());
  std::fflush(stdout);

  for (;;) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGUSR1) {
      const auto st = (*server)->stats();
      std::fprintf(stderr,
                   "uiscsi-target: connections open %llu (accepted %llu), sessions %llu, commands "
                   "%llu, in %llu B, out %llu B\n%s",
                   static_cast<unsigned long long>(st.connections_open),
                   static_cast<unsigned long long>(st.connections_accepted),
                   static_cast<unsigned long long>(st.sessions_open),
                   static_cast<unsigned long long>(st.commands),
                   static_cast<unsigned long long>(st.bytes_in),
                   static_cast<unsigned long long>(st.bytes_out),
                   (*server)->session_report().c_str());
      continue;
    }
    break;
  }
  std::fprintf(stderr, "uiscsi-target: stopping\n");
  (*server)->stop();
  return kExitOk;
}
