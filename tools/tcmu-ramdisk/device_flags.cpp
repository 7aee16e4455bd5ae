// Shared flags and serve loop of the TCMU tools (device_flags.hpp).
#include "device_flags.hpp"

#include <cstdint>
#include <cstdio>

#include "common/toolkit.hpp"
#include "uiscsi/tcmu/abi.hpp"
#include "uiscsi/tcmu/errors.hpp"
#include "uiscsi/tcmu/serve.hpp"

namespace uiscsi::tools {
namespace {

const char* tmr_name(tcmu::abi::TmrType t) {
  switch (t) {
    case tcmu::abi::TmrType::abort_task:
      return "ABORT TASK";
    case tcmu::abi::TmrType::abort_task_set:
      return "ABORT TASK SET";
    case tcmu::abi::TmrType::clear_aca:
      return "CLEAR ACA";
    case tcmu::abi::TmrType::clear_task_set:
      return "CLEAR TASK SET";
    case tcmu::abi::TmrType::lun_reset:
      return "LUN RESET";
    case tcmu::abi::TmrType::target_warm_reset:
      return "TARGET WARM RESET";
    case tcmu::abi::TmrType::target_cold_reset:
      return "TARGET COLD RESET";
    case tcmu::abi::TmrType::lun_reset_pr_out:
      return "LUN RESET (PR OUT)";
    default:
      return "unknown";
  }
}

// Logs task management functions and skipped entries on stderr, then hands them to the LU.
class LoggingHandler final : public tcmu::Handler {
 public:
  explicit LoggingHandler(tcmu::LuHandler& inner) : inner_(inner) {}
  tcmu::Reply execute(const tcmu::Request& request) override { return inner_.execute(request); }
  void task_management(const tcmu::TaskManagement& tmr) override {
    std::fprintf(stderr, "%s: TMR %s (%zu aborted commands)\n", tool_name(), tmr_name(tmr.type),
                 tmr.cmd_ids.size());
    inner_.task_management(tmr);
  }
  void bad_entry(const tcmu::BadEntry& entry) override {
    std::fprintf(stderr, "%s: skipped ring entry at %u: %s\n", tool_name(),
                 static_cast<unsigned>(entry.offset), entry.error.message().c_str());
    inner_.bad_entry(entry);
  }

 private:
  tcmu::LuHandler& inner_;
};

}  // namespace

void TcmuFlags::add_to(CLI::App& app, const std::string& default_name,
                       const std::string& default_size) {
  device.name = default_name;
  device.tmr_notification = true;  // LuHandler resets the LU on LUN RESET
  size_text = default_size;
  app.add_option("--name", device.name, "Backstore name (core/user_HBA/NAME)")
      ->capture_default_str();
  app.add_option("--hba", device.hba, "TCMU HBA number (core/user_N)")->capture_default_str();
  app.add_option("--size", size_text, "Backstore size reported to LIO (dev_size), e.g. 1G")
      ->capture_default_str();
  app.add_option("--block-size", device.block_size, "hw_block_size")->capture_default_str();
  app.add_option("--configfs-root", device.configfs_root, "LIO's configfs directory")
      ->capture_default_str();
  app.add_option("--uio-root", device.uio_root, "The uio class directory")->capture_default_str();
  app.add_option("--dev-root", device.dev_root, "Where uioN device nodes live")
      ->capture_default_str();
  app.add_flag("--tmr-notification,!--no-tmr-notification", device.tmr_notification,
               "Ask the kernel for task management entries (attrib/tmr_notification; default on)");
  app.add_option("--run-for", run_for_s, "Stop after this many seconds (0: until SIGTERM)")
      ->capture_default_str();
}

bool TcmuFlags::resolve() {
  auto size = parse_size(size_text);
  if (!size || *size == 0) {
    usage_error("--size: not a size: " + size_text);
    return false;
  }
  device.size = *size;
  return true;
}

int serve_device(const TcmuFlags& flags, tcmu::LuHandler& handler) {
  auto device = tcmu::Device::create(flags.device);
  if (!device) return fail("cannot create the TCMU device", device.error());
  std::printf("ready %s %s\n", (*device)->backstore().path().c_str(),
              (*device)->uio().dev_path.c_str());
  std::fflush(stdout);
  const std::uint16_t caps = (*device)->loop().ring().capabilities();
  std::fprintf(stderr, "%s: %s mapped, %llu bytes, capabilities 0x%x:%s%s%s\n", tool_name(),
               (*device)->uio().name.c_str(),
               static_cast<unsigned long long>((*device)->uio().map_size), caps,
               (caps & tcmu::abi::kCapOutOfOrder) != 0 ? " OOOC" : "",
               (caps & tcmu::abi::kCapReadLen) != 0 ? " READ_LEN" : "",
               (caps & tcmu::abi::kCapTmr) != 0 ? " TMR" : "");
  std::optional<std::chrono::steady_clock::time_point> deadline;
  if (flags.run_for_s > 0)
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(flags.run_for_s);
  LoggingHandler logging(handler);
  auto r = tcmu::serve(**device, logging, deadline);
  const auto& st = (*device)->loop().stats();
  std::fprintf(stderr, "%s: %llu commands, %llu bad, %llu TMRs, %llu skipped entries\n",
               tool_name(), static_cast<unsigned long long>(st.commands),
               static_cast<unsigned long long>(st.bad_commands),
               static_cast<unsigned long long>(st.tmrs),
               static_cast<unsigned long long>(st.bad_entries));
  auto closed = (*device)->close();
  if (!r && r.error() != tcmu::tcmu_errc::timed_out) return fail("TCMU device failed", r.error());
  if (!closed) return fail("cannot remove the backstore", closed.error());
  return kExitOk;
}

}  // namespace uiscsi::tools
