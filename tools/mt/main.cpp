// uiscsi-mt: control a tape drive on iSCSI like mt-st controls /dev/nst0.
//
//   uiscsi-mt -f iscsi://host/iqn.x:tape/1 status
//   TAPE=iscsi://host/iqn.x:tape/1 uiscsi-mt fsf 2
//   uiscsi-mt -f iscsi://host/iqn.x:tape/1 --json tell
//
// Commands: status, rewind, fsf/bsf/fsr/bsr N, eod (seod), weof N (eof), seek N, tell, erase,
// load, eject (offline, unload, rewoffl), lock, unlock, setblk N, compression on|off (1|0),
// densities. The tape is never rewound unless asked (no-rewind device semantics).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/tape_tool.hpp"
#include "common/toolkit.hpp"
#include "mt/report.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/sense.hpp"

using namespace uiscsi;
using namespace uiscsi::tools;

namespace {

constexpr std::uint64_t kMaxSpaceCount = (1ull << 47);  // well inside SPACE(16)'s 64-bit count

enum class Argument { none, count, number, on_off };

struct CommandSpec {
  Argument argument;
  const char* help;
};

// Canonical names; aliases map onto them below.
const std::map<std::string, CommandSpec, std::less<>>& commands() {
  static const std::map<std::string, CommandSpec, std::less<>> table{
      {"status", {Argument::none, "drive and tape status"}},
      {"rewind", {Argument::none, "rewind to the beginning of the tape"}},
      {"fsf", {Argument::count, "forward over N filemarks (to the start of the next file)"}},
      {"bsf", {Argument::count, "backward over N filemarks (stops before the filemark)"}},
      {"fsr", {Argument::count, "forward over N records"}},
      {"bsr", {Argument::count, "backward over N records"}},
      {"eod", {Argument::none, "to the end of recorded data (for appending)"}},
      {"weof", {Argument::count, "write N filemarks"}},
      {"seek", {Argument::number, "locate to block N (LOCATE)"}},
      {"tell", {Argument::none, "print the block number (READ POSITION)"}},
      {"erase", {Argument::none, "erase the tape from here to its end (long erase)"}},
      {"load", {Argument::none, "load the tape"}},
      {"eject", {Argument::none, "rewind and unload the tape"}},
      {"lock", {Argument::none, "prevent medium removal"}},
      {"unlock", {Argument::none, "allow medium removal"}},
      {"setblk", {Argument::number, "set the block size (0: variable)"}},
      {"compression", {Argument::on_off, "turn compression on or off"}},
      {"densities", {Argument::none, "list the densities the drive supports"}},
  };
  return table;
}

std::string canonical(const std::string& name) {
  static const std::map<std::string, std::string, std::less<>> aliases{
      {"seod", "eod"},     {"eof", "weof"},      {"offline", "eject"},
      {"unload", "eject"}, {"rewoffl", "eject"}, {"datcompression", "compression"},
  };
  const auto it = aliases.find(name);
  return it == aliases.end() ? name : it->second;
}

std::string command_list() {
  std::string text;
  for (const auto& [name, spec] : commands())
    text +=
        "  " + name + std::string(name.size() < 12 ? 12 - name.size() : 1, ' ') + spec.help + "\n";
  return text;
}

// A drive command that prints nothing on success.
int run_quiet(tape::Drive& drive, const std::string& what, const Result<void>& r) {
  return r ? kExitOk : tape_fail(what, drive, r.error());
}

int run_write(tape::Drive& drive, const std::string& what, const Result<tape::WriteStatus>& r) {
  if (!r) return tape_fail(what, drive, r.error());
  if (r->early_warning)
    std::fprintf(stderr, "%s: warning: end of medium early warning: the tape is nearly full\n",
                 tool_name());
  return kExitOk;
}

// SPACE with a count; stopping early says where, as mt-st's "Input/output error" does not.
int run_space(tape::Drive& drive, const std::string& what, tape::SpaceUnit unit,
              std::int64_t count) {
  auto r = drive.space(unit, count);
  if (r) return kExitOk;
  const auto& last = drive.last_error();
  const bool stopped = r.error() == tape::tape_errc::filemark ||
                       r.error() == tape::tape_errc::end_of_data ||
                       r.error() == tape::tape_errc::beginning_of_partition;
  if (stopped && last && last->residue) {
    const char* where = r.error() == tape::tape_errc::filemark      ? "a filemark"
                        : r.error() == tape::tape_errc::end_of_data ? "the end of data"
                                                                    : "the beginning of the tape";
    const long long asked = count < 0 ? -count : count;
    const long long missing = *last->residue < 0 ? -*last->residue : *last->residue;
    std::fprintf(stderr, "%s: %s: stopped at %s after %lld of %lld\n", tool_name(), what.c_str(),
                 where, asked - missing, asked);
    return kExitFailure;
  }
  return tape_fail(what, drive, r.error());
}

// LOAD UNLOAD (load) straight to the LUN: the Drive cannot be opened while nothing is loaded.
int load_unloaded_medium(TapeConnection& tape_link) {
  const std::string what = "load " + tape_link.name();
  auto done = tape_link.run(Command(scsi::load_unload(true)));
  if (!done) return fail(what, done.error());
  if (done->ok()) return kExitOk;
  if (auto sense = done->sense(); sense && sense->sense_key == scsi::SenseKey::not_ready) {
    std::fprintf(stderr, "%s: %s: no medium in the drive\n", tool_name(), what.c_str());
    return kExitScsi;
  }
  std::fprintf(stderr, "%s: %s: %s\n", tool_name(), what.c_str(), done->describe().c_str());
  return kExitScsi;
}

int dispatch(tape::Drive& drive, const std::string& name, const std::string& command,
             std::uint64_t number, std::optional<bool> on_off, bool json) {
  const std::string what = command + " " + name;
  const auto count = static_cast<std::int64_t>(number);
  using tape::SpaceUnit;
  if (command == "status") return mt::print_status(drive, name, json);
  if (command == "tell") return mt::print_tell(drive, name, json);
  if (command == "densities") return mt::print_densities(drive, name, json);
  if (command == "rewind") return run_quiet(drive, what, drive.rewind());
  if (command == "fsf") return run_space(drive, what, SpaceUnit::filemarks, count);
  if (command == "bsf") return run_space(drive, what, SpaceUnit::filemarks, -count);
  if (command == "fsr") return run_space(drive, what, SpaceUnit::blocks, count);
  if (command == "bsr") return run_space(drive, what, SpaceUnit::blocks, -count);
  if (command == "eod") return run_space(drive, what, SpaceUnit::end_of_data, 0);
  if (command == "weof")
    return run_write(drive, what, drive.write_filemarks(static_cast<std::uint32_t>(number)));
  if (command == "seek") return run_quiet(drive, what, drive.locate(number));
  if (command == "erase") return run_quiet(drive, what, drive.erase(true));
  if (command == "load") return run_quiet(drive, what, drive.load());
  if (command == "eject") return run_quiet(drive, what, drive.unload());
  if (command == "lock") return run_quiet(drive, what, drive.lock());
  if (command == "unlock") return run_quiet(drive, what, drive.unlock());
  if (command == "setblk")
    return run_quiet(drive, what, drive.set_block_size(static_cast<std::uint32_t>(number)));
  if (command == "compression") return run_quiet(drive, what, drive.set_compression(*on_off));
  return usage_error("unknown command '" + command + "'");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Control a tape drive on iSCSI, like mt-st", "uiscsi-mt"};
  std::string url_text;
  std::vector<std::string> words;
  bool json = false;
  ConnectionFlags flags;
  app.add_option("-f,--file", url_text, "The tape: iscsi://host/iqn/lun (default: $TAPE)");
  app.add_option("command", words, "COMMAND [COUNT]");
  app.add_flag("--json", json, "JSON output for status, tell and densities");
  flags.add_to(app);
  app.footer(
      "Commands:\n" + command_list() +
      "  aliases: seod=eod, eof=weof, offline/unload/rewoffl=eject, datcompression=compression;\n"
      "  COUNT defaults to 1.\n"
      "Environment: TAPE is the URL when -f is not given; CHAP secrets as in doc/tools.md.\n"
      "Examples:\n"
      "  uiscsi-mt -f iscsi://127.0.0.1/iqn.x:tape/1 status\n"
      "  export TAPE=iscsi://127.0.0.1/iqn.x:tape/1; uiscsi-mt fsf 2; uiscsi-mt tell\n"
      "  uiscsi-mt -f iscsi://127.0.0.1/iqn.x:tape/1 setblk 0\n"
      "Exit codes: 0 ok, 1 failure (stopped at a filemark...), 2 usage, 3 cannot connect,\n"
      "  4 authentication failed, 5 no such target or LUN, 6 protocol error,\n"
      "  7 the drive reported an error (no medium, write protected...).");
  if (int rc = tools::parse_command_line(app, argc, argv); rc >= 0) return rc;
  scrub_argv(argc, argv);  // the options hold copies now; hide any URL password from ps

  if (words.empty()) return usage_error("no command given (status, rewind, fsf N, ...)");
  if (words.size() > 2) return usage_error("too many arguments after '" + words[0] + "'");
  const std::string command = canonical(words[0]);
  const auto spec = commands().find(command);
  if (spec == commands().end()) return usage_error("unknown command '" + words[0] + "'");
  std::uint64_t number = 1;
  std::optional<bool> on_off;
  const std::optional<std::string> argument =
      words.size() == 2 ? std::optional(words[1]) : std::nullopt;
  switch (spec->second.argument) {
    case Argument::none:
      if (argument) return usage_error(command + " takes no argument");
      break;
    case Argument::count:
    case Argument::number: {
      if (!argument && spec->second.argument == Argument::number)
        return usage_error(command + " needs a number");
      if (argument) {
        char* end = nullptr;
        number = std::strtoull(argument->c_str(), &end, 10);
        if (argument->empty() || *end != '\0' || (*argument)[0] == '-' || number > kMaxSpaceCount)
          return usage_error("invalid number '" + *argument + "' for " + command);
      }
      break;
    }
    case Argument::on_off:
      if (!argument) return usage_error(command + " needs on or off");
      on_off = parse_on_off(*argument);
      if (!on_off)
        return usage_error("compression takes on or off (or 1, 0), not '" + *argument + "'");
      break;
  }
  if (command == "setblk" && number > 0xffffff)
    return usage_error("setblk: a block size is at most 16777215 bytes");
  if (command == "weof" && number > 0xffffff)
    return usage_error("weof: at most 16777215 filemarks");

  if (url_text.empty() && flags.portal.empty()) {
    if (const char* env = std::getenv("TAPE"); env != nullptr && *env != '\0') url_text = env;
  }
  if (url_text.empty() && flags.portal.empty())
    return usage_error("no tape given: use -f iscsi://host/iqn/lun or set TAPE");

  install_interrupt_handler();
  TapeConnection tape_link;
  tape::DriveOptions options;  // the drive's mode as it is; no read-ahead or write-behind
  // status and load also work without a loaded medium (mt-st shows DR_OPEN; load loads it).
  const bool medium_optional = command == "status" || command == "load";
  if (int rc = tape_link.open(url_text, flags, options, medium_optional); rc != kExitOk) return rc;
  if (!tape_link.has_medium()) {
    if (command == "status")
      return mt::print_empty_status(tape_link.lun_info(), tape_link.name(), json);
    return load_unloaded_medium(tape_link);
  }
  return dispatch(tape_link.drive(), tape_link.name(), command, number, on_off, json);
}
