// uiscsi-changer: drive an iSCSI media changer (SMC-3 tape library) the way mtx does.
//
//   uiscsi-changer -f iscsi://127.0.0.1/iqn.x:library/1 status
//   uiscsi-changer -f URL load 3 0          slot 3 into drive 0
//   CHANGER=URL uiscsi-changer unload       drive 0 back where its cartridge came from
//
// Numbering as mtx: storage slots from 1, import/export elements after them (S+1..), drives
// from 0. Exit codes: tools/common/toolkit.hpp and doc/tools.md; the manual is
// doc/uiscsi-changer.md.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/probe.hpp"
#include "common/toolkit.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/tape/changer.hpp"

using namespace uiscsi;
using namespace uiscsi::tools;
using tape::Changer;
using tape::ChangerStatus;
using tape::Element;

namespace {

// The slot number mtx shows for an element address (storage 1..S, import/export S+1..), or 0.
unsigned slot_number(const ChangerStatus& st, std::uint16_t address) {
  for (const auto& e : st.slots)
    if (e.address == address) return static_cast<unsigned>(e.index + 1);
  for (const auto& e : st.import_export)
    if (e.address == address) return static_cast<unsigned>(st.slots.size() + e.index + 1);
  return 0;
}

void print_status(const ChangerStatus& st, const std::string& url) {
  std::printf("  Storage Changer %s:%zu Drives, %zu Slots ( %zu Import/Export )\n", url.c_str(),
              st.drives.size(), st.slots.size() + st.import_export.size(), st.import_export.size());
  for (const auto& d : st.drives) {
    std::printf("Data Transfer Element %zu:%s", d.index, d.full ? "Full" : "Empty");
    if (d.full) {
      const unsigned from = d.source ? slot_number(st, *d.source) : 0;
      if (from != 0)
        std::printf(" (Storage Element %u Loaded)", from);
      else
        std::printf(" (Unknown Storage Element Loaded)");
      if (!d.barcode.empty()) std::printf(":VolumeTag = %s", d.barcode.c_str());
    }
    std::printf("\n");
  }
  const auto slot_line = [&](const Element& e, unsigned number, bool impexp) {
    std::printf("      Storage Element %u%s:%s", number, impexp ? " IMPORT/EXPORT" : "",
                e.full ? "Full " : "Empty");
    if (e.full && !e.barcode.empty()) std::printf(":VolumeTag=%s", e.barcode.c_str());
    std::printf("\n");
  };
  for (const auto& e : st.slots)
    slot_line(e, static_cast<unsigned>(e.index + 1), false);
  for (const auto& e : st.import_export)
    slot_line(e, static_cast<unsigned>(st.slots.size() + e.index + 1), true);
}

void print_json(const ChangerStatus& st) {
  const auto element = [&](const Element& e, const char* key, unsigned number) {
    std::printf("{\"%s\":%u,\"address\":%u,\"full\":%s", key, number, e.address,
                e.full ? "true" : "false");
    if (e.full && !e.barcode.empty())
      std::printf(",\"barcode\":%s", json_string(e.barcode).c_str());
    if (e.source) {
      std::printf(",\"source_address\":%u", *e.source);
      if (unsigned s = slot_number(st, *e.source); s != 0) std::printf(",\"source_slot\":%u", s);
    }
    if (e.except) std::printf(",\"except\":true,\"asc\":%u,\"ascq\":%u", e.asc, e.ascq);
    std::printf("}");
  };
  const auto list = [&](const char* name, const std::vector<Element>& v, const char* key,
                        unsigned first) {
    std::printf("\"%s\":[", name);
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) std::printf(",");
      element(v[i], key, first + static_cast<unsigned>(v[i].index));
    }
    std::printf("]");
  };
  std::printf("{\"barcodes\":%s,", st.barcodes ? "true" : "false");
  list("drives", st.drives, "drive", 0);
  std::printf(",");
  list("slots", st.slots, "slot", 1);
  std::printf(",");
  list("import_export", st.import_export, "slot", static_cast<unsigned>(st.slots.size() + 1));
  std::printf(",");
  list("transports", st.transports, "transport", 0);
  std::printf("}\n");
}

// One error line for a failed changer operation; the exit code from what failed.
int changer_failure(const std::string& what, const Changer& c, std::error_code ec) {
  const auto& e = c.last_error();
  if (!e || e->code.category() != tape::tape_category()) return fail(what, ec);
  std::string why = e->code.message();
  if (e->sense) why += " (" + scsi::describe(*e->sense) + ")";
  std::fprintf(stderr, "uiscsi-changer: %s: %s\n", what.c_str(), why.c_str());
  // The changer's conditions are exit 7 even when the driver saw them in READ ELEMENT STATUS
  // before moving (unload of an empty drive), so a user sees one code per condition.
  using tape::tape_errc;
  const bool condition =
      e->code == tape_errc::source_empty || e->code == tape_errc::destination_full ||
      e->code == tape_errc::invalid_element || e->code == tape_errc::removal_prevented;
  return e->sense || condition ? kExitScsi : kExitFailure;
}

// A number from 1-based (mtx slots) or 0-based (drives) text; nullopt when not a number.
std::optional<unsigned> number(const std::string& s) {
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  return static_cast<unsigned>(std::stoul(s));
}

struct Run {
  Changer& changer;
  const std::vector<std::string>& args;
  const std::string& url;
  bool json;

  // Element address of mtx slot `text` (storage 1..S, then import/export).
  std::optional<std::uint16_t> slot(const std::string& text, int& rc) const {
    const auto& m = changer.element_map();
    const auto n = number(text);
    const unsigned total = m.storage.count + m.import_export.count;
    if (!n || *n == 0 || *n > total) {
      rc = usage_error("no slot '" + text + "': slots are 1-" + std::to_string(total));
      return std::nullopt;
    }
    if (*n <= m.storage.count) return static_cast<std::uint16_t>(m.storage.first + *n - 1);
    return static_cast<std::uint16_t>(m.import_export.first + (*n - m.storage.count - 1));
  }
  std::optional<std::size_t> drive(const std::string& text, int& rc) const {
    const auto count = changer.element_map().data_transfer.count;
    const auto n = number(text);
    if (!n || *n >= count) {
      rc = usage_error("no drive '" + text + "': drives are 0-" + std::to_string(count - 1));
      return std::nullopt;
    }
    return *n;
  }
  std::uint16_t drive_address(std::size_t d) const {
    return static_cast<std::uint16_t>(changer.element_map().data_transfer.first + d);
  }

  int status() {
    auto st = changer.status();
    if (!st) return changer_failure("status", changer, st.error());
    json ? print_json(*st) : print_status(*st, url);
    return kExitOk;
  }
  int load() {
    int rc = kExitOk;
    const auto from = slot(args[0], rc);
    const auto d = from ? drive(args.size() > 1 ? args[1] : "0", rc) : std::nullopt;
    if (!d) return rc;
    std::printf("Loading media from Storage Element %s into drive %zu...", args[0].c_str(), *d);
    std::fflush(stdout);
    if (auto r = changer.move(*from, drive_address(*d)); !r) {
      std::printf("failed\n");
      return changer_failure("load slot " + args[0] + " into drive " + std::to_string(*d), changer,
                             r.error());
    }
    std::printf("done\n");
    return kExitOk;
  }
  // unload [SLOT] [DRIVE], as mtx.
  int unload() {
    int rc = kExitOk;
    std::optional<std::uint16_t> to;
    if (!args.empty() && !(to = slot(args[0], rc))) return rc;
    const auto d = drive(args.size() > 1 ? args[1] : "0", rc);
    if (!d) return rc;
    std::string where = to ? args[0] : "its slot";
    if (to) {
      std::printf("Unloading drive %zu into Storage Element %s...", *d, where.c_str());
      std::fflush(stdout);
      if (auto r = changer.move(drive_address(*d), *to); !r) {
        std::printf("failed\n");
        return changer_failure("unload drive " + std::to_string(*d), changer, r.error());
      }
      std::printf("done\n");
      return kExitOk;
    }
    auto r = changer.unload(*d);
    if (!r) return changer_failure("unload drive " + std::to_string(*d), changer, r.error());
    std::printf("Unloading drive %zu into Storage Element %zu...done\n", *d, *r + 1);
    return kExitOk;
  }
  int transfer() {
    int rc = kExitOk;
    const auto from = slot(args[0], rc);
    const auto to = from ? slot(args[1], rc) : std::nullopt;
    if (!to) return rc;
    if (auto r = changer.move(*from, *to); !r)
      return changer_failure("transfer " + args[0] + " to " + args[1], changer, r.error());
    return kExitOk;
  }
  int inventory() {
    if (auto r = changer.inventory(); !r) return changer_failure("inventory", changer, r.error());
    return kExitOk;
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Move cartridges in an iSCSI media changer (tape library), like mtx",
               "uiscsi-changer"};
  std::string url_text, command;
  std::vector<std::string> args;
  bool json = false;
  ConnectionFlags flags;
  app.add_option("-f,--file", url_text,
                 "The changer: iscsi://[user@]host[:port]/target/lun (default: $CHANGER)");
  app.add_flag("--json", json, "status as JSON");
  app.add_option("command", command, "status, load, unload, transfer or inventory");
  app.add_option("args", args, "slot and drive numbers (slots from 1, drives from 0)");
  flags.add_to(app, true);
  app.footer(
      "Commands (slots numbered from 1, import/export elements after the slots; drives from 0):\n"
      "  status                 every drive and slot, with barcodes (--json: as JSON)\n"
      "  load SLOT [DRIVE]      move the cartridge in SLOT into DRIVE (default 0)\n"
      "  unload [SLOT] [DRIVE]  move DRIVE's cartridge to SLOT (default: where it came from,\n"
      "                         else the first empty slot)\n"
      "  transfer SLOT SLOT     move a cartridge from one slot to another\n"
      "  inventory              make the changer re-check every element and barcode\n"
      "Examples:\n"
      "  uiscsi-changer -f iscsi://127.0.0.1/iqn.2026-11.dev.uiscsi:target/1 status\n"
      "  export CHANGER=iscsi://127.0.0.1/iqn.2026-11.dev.uiscsi:target/1\n"
      "  uiscsi-changer load 3 && uiscsi-changer unload\n"
      "Exit codes: 0 ok, 1 failure, 2 usage, 3 cannot connect, 4 authentication failed,\n"
      "  5 no such target or LUN, or not a changer, 6 protocol error, 7 the changer refused\n"
      "  (source empty, destination full...; the sense is shown).");
  if (int rc = tools::parse_command_line(app, argc, argv); rc >= 0) return rc;
  scrub_argv(argc, argv);

  const std::vector<std::string> known = {"status", "load", "unload", "transfer", "inventory"};
  if (command.empty())
    return usage_error("give a command: status, load, unload, transfer, inventory");
  if (std::find(known.begin(), known.end(), command) == known.end())
    return usage_error("unknown command '" + command +
                       "' (status, load, unload, transfer, inventory)");
  const std::size_t min_args = command == "load" ? 1 : command == "transfer" ? 2 : 0;
  const std::size_t max_args = command == "status" || command == "inventory" ? 0 : 2;
  if (args.size() < min_args || args.size() > max_args)
    return usage_error(command == "load"       ? "usage: load SLOT [DRIVE]"
                       : command == "transfer" ? "usage: transfer SLOT SLOT"
                       : command == "unload"   ? "usage: unload [SLOT] [DRIVE]"
                                               : command + " takes no arguments");
  if (json && command != "status") return usage_error("--json is for status only");

  if (url_text.empty() && flags.portal.empty()) {
    if (const char* env = std::getenv("CHANGER"); env != nullptr) url_text = env;
  }
  if (url_text.empty() && flags.portal.empty())
    return usage_error("give the changer's URL with -f or the CHANGER environment variable");
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
  auto session = Session::dial(url, options);
  if (!session) return fail("cannot log in to " + url.to_string(), session.error());

  auto changer = Changer::open(*session, *lun);
  if (!changer) {
    if (changer.error() == tape::tape_errc::not_a_changer) {
      const LunInfo info = probe_lun(*session, *lun);
      if (!info.present) {
        std::fprintf(stderr, "uiscsi-changer: %s: no such LUN\n", url.to_string().c_str());
        return kExitNotFound;
      }
      std::fprintf(stderr, "uiscsi-changer: %s: LUN %llu is not a media changer (it is a %s)\n",
                   url.to_string().c_str(), static_cast<unsigned long long>(url.lun.value_or(0)),
                   info.type_name.c_str());
      return kExitNotFound;
    }
    return fail("cannot open the changer at " + url.to_string(), changer.error());
  }
  Run run{*changer, args, url.to_string(), json};
  int rc = kExitOk;
  if (command == "status") rc = run.status();
  if (command == "load") rc = run.load();
  if (command == "unload") rc = run.unload();
  if (command == "transfer") rc = run.transfer();
  if (command == "inventory") rc = run.inventory();
  (void)session->logout(std::chrono::seconds(5));
  return rc;
}
