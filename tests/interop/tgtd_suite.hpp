// A GoogleTest fixture base that runs one private tgtd for a whole test suite, through
// tests/interop/tgtd-ctl.sh (the test target defines TGTD_CTL as its path): start() from
// SetUpTestSuite, stop() from TearDownTestSuite. `Suite` (the deriving fixture) gives each
// fixture its own tgtd.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "interop/support.hpp"

#ifndef TGTD_CTL
#error "TGTD_CTL must name tests/interop/tgtd-ctl.sh"
#endif

namespace uiscsi::testing {

template <class Suite>
class TgtdSuite : public ::testing::Test {
 protected:
  static inline int port = 0;
  static inline std::filesystem::path dir;
  static inline bool up = false;  // started, and every target the suite wanted was added

  // tgtd and tgtadm are installed (and tgtimg, which makes tape images, when `tape`).
  static bool have_tgt(bool tape = false) {
    return have_program("tgtd") && have_program("tgtadm") && (!tape || have_program("tgtimg"));
  }
  // `tgtd-ctl.sh WHAT PORT DIR [ARGS]`: start, stop, disk and tape.
  static std::string ctl(const std::string& what, const std::string& args = "") {
    return std::string(TGTD_CTL) + " " + what + " " + std::to_string(port) + " " + dir.string() +
           (args.empty() ? "" : " " + args);
  }
  // Starts tgtd on a free loopback port, its log in a new temporary folder named after `tag`.
  static bool start(const std::string& tag) {
    port = free_port();
    dir = temp_dir(tag);
    return run(ctl("start")) == 0;
  }
  // Adds target `tid` named `iqn` with LUN 1, a `kind` ("disk" or "tape") of `size_mb` MiB;
  // `accounts` are tgtd-ctl.sh's optional CHAP user/password pairs.
  static bool add(const std::string& kind, int tid, const std::string& iqn, int size_mb,
                  const std::string& accounts = "") {
    return run(ctl(kind, std::to_string(tid) + " " + iqn + " " + std::to_string(size_mb) +
                             (accounts.empty() ? "" : " " + accounts))) == 0;
  }
  // Sets a login parameter of target `tid` (tgtadm --op update --name NAME --value VALUE).
  static bool param(int tid, const std::string& name, const std::string& value) {
    return run(std::string(TGTD_CTL) + " param " + std::to_string(port) + " " +
               std::to_string(tid) + " " + name + " " + value) == 0;
  }
  static void stop() {
    if (port) run(ctl("stop"));
    if (!dir.empty()) std::filesystem::remove_all(dir);
    port = 0;
    dir.clear();
  }
  static void TearDownTestSuite() { stop(); }
};

}  // namespace uiscsi::testing
