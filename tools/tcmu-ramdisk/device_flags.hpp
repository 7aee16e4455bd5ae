// Command-line flags and the serve loop shared by tapesim-tcmu and tcmu-ramdisk.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "tcmu/lu_handler.hpp"
#include "uiscsi/tcmu/device.hpp"

namespace uiscsi::tools {

struct TcmuFlags {
  tcmu::DeviceConfig device;
  std::string size_text;
  unsigned run_for_s = 0;  // 0: until SIGINT/SIGTERM

  // --name, --hba, --size, --block-size, --configfs-root, --uio-root, --dev-root,
  // --[no-]tmr-notification (on by default), --run-for.
  void add_to(CLI::App& app, const std::string& default_name, const std::string& default_size);
  // Parses --size into device.size; false after printing an error.
  bool resolve();
};

// Creates the TCMU device, prints "ready BACKSTORE_PATH UIO_DEV" on stdout, serves until a
// signal or --run-for, tears the device down and returns the exit code.
int serve_device(const TcmuFlags& flags, tcmu::LuHandler& handler);

}  // namespace uiscsi::tools
