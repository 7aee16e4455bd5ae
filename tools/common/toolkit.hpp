// Shared pieces of the uiscsi command-line tools: connection options (URL or flags, CHAP from
// the environment or a file), documented exit codes, one-line error reporting, dd-style sizes
// and the progress line.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "uiscsi/result.hpp"
#include "uiscsi/session.hpp"

namespace CLI {
class App;
}

namespace uiscsi::tools {

// Exit codes shared by every tool (doc/tools.md lists them).
enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,        // I/O failure during the work, or a short transfer
  kExitUsage = 2,          // bad arguments or URL
  kExitConnect = 3,        // portal unreachable, connection refused or timed out
  kExitAuth = 4,           // authentication or authorization failed
  kExitNotFound = 5,       // no such target or LUN
  kExitProtocol = 6,       // the peer broke the iSCSI protocol
  kExitScsi = 7,           // the device answered with an error status (sense shown)
  kExitInterrupted = 130,  // SIGINT
};

// The name printed before error lines (set by ConnectionFlags::add_to too).
void set_tool_name(const char* name);
const char* tool_name();

// Maps any error from the library to an exit code.
int exit_code_for(std::error_code ec);

// Prints "<tool>: <what>: <message>" to stderr and returns the exit code for `ec`.
int fail(std::string_view what, std::error_code ec);
int usage_error(std::string_view message);
// Parses the command line; on --help/--version prints and returns kExitOk, on a mistake prints
// one line and returns kExitUsage; returns -1 when the tool should go on.
int parse_command_line(CLI::App& app, int argc, char** argv);

// " (detail)" for the last failed login, or empty.
std::string login_detail_suffix();

// Connection flags: a URL, or --portal/--target/--lun; CHAP from --chap-user plus the
// environment (ISCSI_CHAP_USER, ISCSI_CHAP_PASSWORD, ISCSI_CHAP_TARGET_USER,
// ISCSI_CHAP_TARGET_PASSWORD) or --chap-file (lines "user=...", "password=...",
// "target_user=...", "target_password="). Passwords are never taken from argv except inside a
// URL, which the tools then wipe from argv so `ps` does not show it.
struct ConnectionFlags {
  std::string portal;
  std::string target;
  std::optional<std::uint64_t> lun;
  std::string chap_user;
  std::string chap_file;
  std::string initiator_name;
  std::string header_digest;  // none, crc32c, prefer
  std::string data_digest;
  unsigned timeout_s = 15;
  bool verbose = false;

  void add_to(CLI::App& app, bool with_lun = true);
  // Builds options and the URL (from `url_text` when given, else from the flags).
  Result<void> resolve(std::string_view url_text, IscsiUrl& url, SessionOptions& options) const;
};

// Overwrites the password part of any iscsi:// URL in argv (in place), so process listings
// no longer show it.
void scrub_argv(int argc, char** argv);

// "64K", "1M", "512", "2G", "4KiB" -> bytes; dd's c/w/b suffixes as well. Errors: invalid_argument.
Result<std::uint64_t> parse_size(std::string_view text);
// "1.5 GiB"-style text.
std::string human_bytes(std::uint64_t n);

// Records copied, counted as dd counts them: whole and partial records in and out.
struct RecordCounts {
  std::uint64_t full_in = 0, partial_in = 0, full_out = 0, partial_out = 0, bytes = 0;
};
// dd's closing lines on stderr: "F+P records in", "F+P records out" and, with `transfer`,
// "N bytes (X MB, Y MiB) copied, T s, R MB/s" (decimal units first, as GNU dd prints them).
void print_dd_summary(const RecordCounts& counts, double seconds, bool transfer);

// A progress line on stderr, redrawn at most 4 times a second when stderr is a terminal.
class Progress {
 public:
  Progress(bool enabled, std::optional<std::uint64_t> total_bytes);
  void update(std::uint64_t bytes, std::uint64_t records);
  void finish();
  [[nodiscard]] double elapsed_seconds() const;

 private:
  bool enabled_;
  std::optional<std::uint64_t> total_;
  std::chrono::steady_clock::time_point start_, last_;
  bool drawn_ = false;
};

// Installs SIGINT/SIGTERM handlers that set a flag (see interrupted()).
void install_interrupt_handler();
bool interrupted();

}  // namespace uiscsi::tools
