// tcmu-ramdisk: a RAM disk served to the Linux kernel through TCMU. The SBC-3 command set is the
// target's DiskLu (READ/WRITE 6/10/12/16, READ CAPACITY 10/16, INQUIRY with VPD 00h 80h 83h
// B0h, MODE SENSE, SYNCHRONIZE CACHE, UNMAP...); LIO answers REPORT LUNS itself.
//
//   tcmu-ramdisk --name disk0 --size 64M
//
// Prints "ready BACKSTORE_PATH /dev/uioN"; SIGINT/SIGTERM remove the backstore. Needs root and
// target_core_user.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "common/toolkit.hpp"
#include "device_flags.hpp"
#include "target/block_store.hpp"
#include "target/disk_lu.hpp"

using namespace uiscsi;

int main(int argc, char** argv) {
  CLI::App app{"A RAM disk served to the kernel through TCMU", "tcmu-ramdisk"};
  tools::set_tool_name("tcmu-ramdisk");
  tools::TcmuFlags flags;
  flags.add_to(app, "disk0", "64M");
  flags.device.config = "ramdisk";
  target::DiskLuConfig disk;
  disk.serial = "tcmu-ramdisk";
  app.add_option("--serial", disk.serial, "Unit serial number")->capture_default_str();
  if (int rc = tools::parse_command_line(app, argc, argv); rc >= 0) return rc;
  if (!flags.resolve()) return tools::kExitUsage;
  const std::uint32_t bs = flags.device.block_size == 0 ? 512 : flags.device.block_size;
  if (flags.device.size % bs != 0)
    return tools::usage_error("--size must be a multiple of --block-size");

  auto store = target::make_ram_store(bs, flags.device.size / bs);
  if (!store) return tools::fail("cannot allocate the RAM disk", store.error());
  auto lu = target::DiskLu::create(disk, std::move(*store));
  if (!lu) return tools::fail("cannot create the disk", lu.error());
  tcmu::LuHandler handler(std::move(*lu));
  return tools::serve_device(flags, handler);
}
