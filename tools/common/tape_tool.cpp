#include "common/tape_tool.hpp"

#include <cstdio>

#include "common/probe.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/sense.hpp"

namespace uiscsi::tools {

namespace {

constexpr std::uint8_t kAscMediumNotPresent = 0x3a;
constexpr std::uint8_t kTapeDeviceType = 0x01;

// The first sequential-access LUN of the target, for a URL without a LUN.
std::optional<Lun> first_tape_lun(Session& session) {
  auto luns = report_luns(session);
  if (!luns) return std::nullopt;
  for (const Lun& lun : *luns) {
    const LunInfo info = probe_lun(session, lun);
    if (info.present && info.device_type == kTapeDeviceType) return lun;
  }
  return std::nullopt;
}

int print_error(const std::string& what, const std::string& why, int code) {
  std::fprintf(stderr, "%s: %s: %s\n", tool_name(), what.c_str(), why.c_str());
  return code;
}

}  // namespace

int exit_code_for_tape(std::error_code ec) {
  if (ec.category() != tape::tape_category()) return exit_code_for(ec);
  switch (static_cast<tape::tape_errc>(ec.value())) {
    case tape::tape_errc::invalid_block_size:
      return kExitUsage;
    case tape::tape_errc::deferred_error:
    case tape::tape_errc::unit_attention:
    case tape::tape_errc::not_ready:
    case tape::tape_errc::no_medium:
    case tape::tape_errc::not_ready_timeout:
    case tape::tape_errc::write_protected:
    case tape::tape_errc::medium_error:
    case tape::tape_errc::hardware_error:
    case tape::tape_errc::illegal_request:
    case tape::tape_errc::aborted_command:
    case tape::tape_errc::other_sense:
    case tape::tape_errc::no_sense_data:
    case tape::tape_errc::busy:
    case tape::tape_errc::reservation_conflict:
    case tape::tape_errc::unexpected_status:
      return kExitScsi;
    default:
      return kExitFailure;
  }
}

int tape_fail(std::string_view what, const tape::Drive& drive, std::error_code ec) {
  std::string why = ec.message();
  if (const auto& last = drive.last_error(); last && last->code == ec) {
    why = last->message();
    constexpr std::string_view kPrefix = "tape: ";
    if (why.rfind(kPrefix, 0) == 0) why.erase(0, kPrefix.size());
  }
  return print_error(std::string(what), why, exit_code_for_tape(ec));
}

TapeConnection::~TapeConnection() {
  drive_.reset();  // flushes buffered writes while the session is still there
  if (session_ && session_->logged_in()) (void)session_->logout(std::chrono::seconds(5));
}

bool TapeConnection::connected() const {
  return session_ && session_->logged_in();
}

Result<Completion> TapeConnection::run(const Command& command) {
  return run_through_unit_attention(*session_, lun_, command);
}

int TapeConnection::open(std::string_view url_text, const ConnectionFlags& flags,
                         tape::DriveOptions options, bool medium_optional) {
  IscsiUrl url;
  SessionOptions session_options;
  if (auto r = flags.resolve(url_text, url, session_options); !r) {
    if (r.error() == errc::authentication_failed)
      return usage_error("a CHAP user needs a secret (ISCSI_CHAP_PASSWORD or --chap-file)");
    if (url_text.empty() && flags.portal.empty())
      return usage_error("no tape given: pass an iscsi:// URL or --portal, --target and --lun");
    return fail("bad URL", r.error());
  }
  if (url.target.empty()) return usage_error("the URL needs a target: iscsi://host/iqn[/lun]");
  std::optional<Lun> lun;
  if (url.lun) {
    auto number = Lun::from_number(*url.lun);
    if (!number) return usage_error("LUN number too large");
    lun = *number;
  }
  name_ = url.to_string();
  auto s = Session::dial(url, session_options);
  if (!s) return fail("cannot log in to " + name_, s.error());
  session_.emplace(std::move(*s));

  if (!lun) {
    lun = first_tape_lun(*session_);
    if (!lun) return print_error(name_, "the target has no tape drive LUN", kExitNotFound);
    name_ += "/" + std::to_string(lun->to_number().value_or(0));
  }
  lun_ = *lun;
  lun_info_ = probe_lun(*session_, *lun);
  const LunInfo& info = lun_info_;
  if (!info.present) return print_error(name_, "no such LUN", kExitNotFound);
  if (info.type_name.empty() && !info.error.empty())
    return print_error(name_, info.error, kExitNotFound);
  if (info.device_type != kTapeDeviceType)
    return print_error(name_, "not a tape drive (the LUN is a " + info.type_name + ")",
                       exit_code_for_tape(tape::tape_errc::not_a_tape));

  // No medium is final: say so at once instead of waiting for the drive to become ready.
  if (auto tur = run_through_unit_attention(*session_, *lun, Command(scsi::test_unit_ready()));
      tur && !tur->ok()) {
    if (auto sense = tur->sense(); sense && sense->sense_key == scsi::SenseKey::not_ready &&
                                   sense->asc == kAscMediumNotPresent) {
      if (medium_optional) return kExitOk;
      return print_error(name_, "no medium in the drive (load a cartridge first)", kExitScsi);
    }
  }

  auto d = tape::Drive::open(*session_, *lun, options);
  if (!d)
    return print_error(name_, "cannot open the tape drive: " + d.error().message(),
                       exit_code_for_tape(d.error()));
  drive_.emplace(std::move(*d));
  return kExitOk;
}

std::optional<bool> parse_on_off(std::string_view text) {
  if (text == "on" || text == "1" || text == "yes" || text == "true") return true;
  if (text == "off" || text == "0" || text == "no" || text == "false") return false;
  return std::nullopt;
}

}  // namespace uiscsi::tools
