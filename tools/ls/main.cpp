// uiscsi-ls: discover targets at a portal and list their LUNs.
//
//   uiscsi-ls iscsi://127.0.0.1:3260           every target the portal reports, with LUNs
//   uiscsi-ls iscsi://host/iqn.x:disk          one target
//   uiscsi-ls --json --portal 127.0.0.1:3260   machine-readable
//
// Exit codes: see tools/common/toolkit.hpp (0 all listed; 3 unreachable; 4 authentication;
// 5 no such target; 6 protocol error; 2 usage).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "common/probe.hpp"
#include "common/toolkit.hpp"
#include "uiscsi/errors.hpp"

using namespace uiscsi;
using namespace uiscsi::tools;

namespace {

struct TargetReport {
  std::string name;
  std::vector<Portal> portals;
  std::vector<LunInfo> luns;
  std::string error;
  int exit = kExitOk;
};

std::string capacity_text(const LunInfo& l) {
  if (!l.blocks) return l.type_name == "disk" ? "?" : "-";
  const std::uint64_t bytes = *l.blocks * l.block_size;
  return human_bytes(bytes) + " (" + std::to_string(*l.blocks) + " x " +
         std::to_string(l.block_size) + ")";
}

void print_table(const std::vector<TargetReport>& reports, bool targets_only) {
  std::printf("%-44s %-22s %4s %-8s %-8s %-16s %-5s %s\n", "TARGET", "PORTAL", "LUN", "TYPE",
              "VENDOR", "PRODUCT", "REV", "CAPACITY");
  for (const auto& t : reports) {
    const std::string portal =
        t.portals.empty() ? "-"
                          : t.portals[0].address + "," + std::to_string(t.portals[0].group_tag);
    if (!t.error.empty()) {
      std::printf("%-44s %-22s  error: %s\n", t.name.c_str(), portal.c_str(), t.error.c_str());
      continue;
    }
    if (targets_only || t.luns.empty()) {
      std::printf("%-44s %-22s\n", t.name.c_str(), portal.c_str());
      continue;
    }
    for (const auto& l : t.luns) {
      std::printf("%-44s %-22s %4llu %-8s %-8s %-16s %-5s %s%s%s\n", t.name.c_str(), portal.c_str(),
                  static_cast<unsigned long long>(l.lun), l.type_name.c_str(), l.vendor.c_str(),
                  l.product.c_str(), l.revision.c_str(), capacity_text(l).c_str(),
                  l.error.empty() ? "" : "  ", l.error.c_str());
    }
    for (std::size_t i = 1; i < t.portals.size(); ++i)
      std::printf("%-44s %s,%u\n", "", t.portals[i].address.c_str(), t.portals[i].group_tag);
  }
}

void print_json(const std::vector<TargetReport>& reports) {
  std::printf("{\"targets\":[");
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const auto& t = reports[i];
    std::printf("%s{\"name\":%s,\"portals\":[", i ? "," : "", json_string(t.name).c_str());
    for (std::size_t k = 0; k < t.portals.size(); ++k)
      std::printf("%s{\"address\":%s,\"group_tag\":%u}", k ? "," : "",
                  json_string(t.portals[k].address).c_str(), t.portals[k].group_tag);
    std::printf("],\"luns\":[");
    for (std::size_t k = 0; k < t.luns.size(); ++k) {
      const auto& l = t.luns[k];
      std::printf(
          "%s{\"lun\":%llu,\"type\":%s,\"device_type\":%u,\"vendor\":%s,\"product\":%s,"
          "\"revision\":%s",
          k ? "," : "", static_cast<unsigned long long>(l.lun), json_string(l.type_name).c_str(),
          l.device_type, json_string(l.vendor).c_str(), json_string(l.product).c_str(),
          json_string(l.revision).c_str());
      if (l.blocks)
        std::printf(",\"blocks\":%llu,\"block_size\":%u,\"bytes\":%llu",
                    static_cast<unsigned long long>(*l.blocks), l.block_size,
                    static_cast<unsigned long long>(*l.blocks * l.block_size));
      if (!l.error.empty()) std::printf(",\"error\":%s", json_string(l.error).c_str());
      std::printf("}");
    }
    std::printf("]");
    if (!t.error.empty()) std::printf(",\"error\":%s", json_string(t.error).c_str());
    std::printf("}");
  }
  std::printf("]}\n");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"List iSCSI targets and LUNs at a portal", "uiscsi-ls"};
  std::string url_text;
  bool json = false, targets_only = false;
  ConnectionFlags flags;
  app.add_option("url", url_text, "iscsi://[user@]host[:port][/target] (or use --portal)");
  app.add_flag("--json", json, "JSON output");
  app.add_flag("--targets-only", targets_only, "Do not log in to list LUNs");
  flags.add_to(app, false);
  app.footer(
      "Examples:\n"
      "  uiscsi-ls iscsi://127.0.0.1:3260\n"
      "  ISCSI_CHAP_USER=u ISCSI_CHAP_PASSWORD=... uiscsi-ls --json iscsi://host/iqn.x:disk\n"
      "Exit codes: 0 ok, 1 failure, 2 usage, 3 cannot connect, 4 authentication failed,\n"
      "  5 no such target, 6 protocol error.");
  if (int rc = tools::parse_command_line(app, argc, argv); rc >= 0) return rc;
  scrub_argv(argc, argv);  // the options hold copies now; hide any URL password from ps

  IscsiUrl url;
  SessionOptions options;
  if (auto r = flags.resolve(url_text, url, options); !r) {
    if (r.error() == errc::authentication_failed)
      return usage_error("a CHAP user needs a secret (ISCSI_CHAP_PASSWORD or --chap-file)");
    return url_text.empty() && flags.portal.empty() ? usage_error("give a URL or --portal")
                                                    : fail("bad URL", r.error());
  }

  std::vector<TargetReport> reports;
  if (!url.target.empty()) {
    reports.push_back({url.target, {{url.portal(), 1}}, {}, {}, kExitOk});
  } else {
    auto found = discover(url.portal(), options);
    if (!found) return fail("discovery at " + url.portal(), found.error());
    for (auto& t : *found)
      reports.push_back({t.name, t.portals, {}, {}, kExitOk});
  }

  int exit = kExitOk;
  if (!targets_only) {
    for (auto& t : reports) {
      IscsiUrl target_url = url;
      target_url.target = t.name;
      // Log in where discovery pointed, if it named a portal.
      if (!t.portals.empty()) {
        if (auto u = parse_iscsi_url("iscsi://" + t.portals[0].address)) {
          target_url.host = u->host;
          target_url.port = u->port;
        }
      }
      auto s = Session::dial(target_url, options);
      if (!s) {
        t.error = "login: " + s.error().message() + login_detail_suffix();
        t.exit = exit_code_for(s.error());
        if (exit == kExitOk) exit = t.exit;
        continue;
      }
      auto luns = report_luns(*s);
      if (!luns) {
        t.error = "REPORT LUNS: " + luns.error().message();
        if (exit == kExitOk) exit = exit_code_for(luns.error());
        continue;
      }
      for (const Lun& l : *luns)
        t.luns.push_back(probe_lun(*s, l));
      (void)s->logout(std::chrono::seconds(5));
    }
  }
  if (json) {
    print_json(reports);
  } else {
    print_table(reports, targets_only);
  }
  for (const auto& t : reports)
    if (!t.error.empty())
      std::fprintf(stderr, "uiscsi-ls: %s: %s\n", t.name.c_str(), t.error.c_str());
  return exit;
}
