// tapesim-tcmu: a tapesim tape drive exposed to the Linux kernel through TCMU, so LIO can export
// it (iSCSI, tcm_loop...). The command set is tapesim's (src/tapesim/drive.hpp), the same the
// uiscsi-target tape LUN serves.
//
//   tapesim-tcmu --name tape0 --capacity 256M [--image tape0.img]
//
// Prints "ready BACKSTORE_PATH /dev/uioN" when the backstore is enabled; link BACKSTORE_PATH into
// a fabric's LUN to export it. SIGINT/SIGTERM stop it and remove the backstore (unlink the
// fabric LUN first). Needs root and target_core_user.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "../tcmu-ramdisk/device_flags.hpp"
#include "common/toolkit.hpp"
#include "target/tape_lu.hpp"

using namespace uiscsi;

int main(int argc, char** argv) {
  CLI::App app{"A tapesim tape drive served to the kernel through TCMU", "tapesim-tcmu"};
  tools::set_tool_name("tapesim-tcmu");
  tools::TcmuFlags flags;
  flags.add_to(app, "tape0", "1G");
  flags.device.config = "tape";
  target::TapeLuConfig tape;
  tape.serial = "tapesim-tcmu";
  std::string capacity = "256M";
  app.add_option("--capacity", capacity, "Cartridge capacity (new cartridges)")
      ->capture_default_str();
  app.add_option("--image", tape.image, "Cartridge image file (opened, or created blank)");
  app.add_option("--lto", tape.lto_generation, "LTO generation of the densities (5..9)")
      ->capture_default_str();
  app.add_flag("--read-only", tape.read_only, "Write-protect the cartridge");
  app.add_option("--serial", tape.serial, "Unit serial number")->capture_default_str();
  if (int rc = tools::parse_command_line(app, argc, argv); rc >= 0) return rc;
  if (!flags.resolve()) return tools::kExitUsage;
  auto cap = tools::parse_size(capacity);
  if (!cap || *cap == 0) return tools::usage_error("--capacity: not a size: " + capacity);
  tape.capacity_bytes = *cap;

  auto lu = target::TapeLu::create(tape);
  if (!lu) return tools::fail("cannot create the tape drive", lu.error());
  tcmu::LuHandler handler(std::move(*lu));
  return tools::serve_device(flags, handler);
}
