// Shared pieces of the tape tools (uiscsi-tape-dd, uiscsi-mt): log in, check that the LUN is a
// tape drive with a medium, open a uiscsi::tape::Drive, and turn tape errors into the shared
// exit codes and one error line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "common/probe.hpp"
#include "common/toolkit.hpp"
#include "uiscsi/session.hpp"
#include "uiscsi/tape/drive.hpp"

namespace uiscsi::tools {

// Exit code for an error of the tape driver (tape_errc) or, for any other category, the shared
// mapping of exit_code_for(): stream conditions and driver-side failures are 1, a bad block
// size is 2, conditions the drive reported with sense data are 7.
int exit_code_for_tape(std::error_code ec);

// Prints "<tool>: <what>: <why>" for a failed Drive operation, with the driver's details
// (operation, position, sense) when it has them, and returns the exit code.
int tape_fail(std::string_view what, const tape::Drive& drive, std::error_code ec);

// A logged-in session and the tape drive opened on it. Not movable: the Drive refers to the
// Session.
class TapeConnection {
 public:
  TapeConnection() = default;
  TapeConnection(const TapeConnection&) = delete;
  TapeConnection& operator=(const TapeConnection&) = delete;
  ~TapeConnection();

  // Resolves `url_text` (or the flags), logs in and opens the drive. On failure prints one
  // error line (bad URL, cannot connect, authentication, no such LUN, not a tape, no medium...)
  // and returns its exit code; kExitOk when the drive is open. With `medium_optional`, a drive
  // without a loaded medium is no error: has_medium() is then false and only the LUN is known.
  int open(std::string_view url_text, const ConnectionFlags& flags, tape::DriveOptions options,
           bool medium_optional = false);

  [[nodiscard]] bool has_medium() const { return drive_.has_value(); }
  [[nodiscard]] tape::Drive& drive() { return *drive_; }
  // INQUIRY of the LUN (vendor, product), known after open() found a tape drive.
  [[nodiscard]] const LunInfo& lun_info() const { return lun_info_; }
  // Runs one command on the LUN directly (through a first unit attention), for what the Drive
  // cannot do without a loaded medium (LOAD).
  Result<Completion> run(const Command& command);
  [[nodiscard]] const std::string& name() const { return name_; }
  // The session (null before open() logged in), e.g. for its recovery counters.
  [[nodiscard]] const Session* session() const { return session_ ? &*session_ : nullptr; }
  // Whether the session is still usable (false after the connection was lost).
  [[nodiscard]] bool connected() const;

 private:
  std::string name_;
  LunInfo lun_info_;
  Lun lun_;
  std::optional<Session> session_;
  std::optional<tape::Drive> drive_;
};

// "on"/"1"/"yes" -> true, "off"/"0"/"no" -> false.
std::optional<bool> parse_on_off(std::string_view text);

}  // namespace uiscsi::tools
