// Runs a tool's command line as a user would (through the shell) and keeps what it said: exit
// code, stdout and stderr. For the CLI tests.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "interop/support.hpp"

namespace uiscsi::testing {

struct Ran {
  int code;
  std::string out, err;
};

inline Ran tool(const std::string& cmdline) {
  static std::atomic<int> serial{0};
  const std::string err_file =
      "/tmp/uiscsi-cli-stderr-" + std::to_string(::getpid()) + "-" + std::to_string(serial++);
  Ran r;
  r.code = run(cmdline + " 2>" + err_file, &r.out);
  std::ifstream in(err_file);
  r.err.assign(std::istreambuf_iterator<char>(in), {});
  std::remove(err_file.c_str());
  return r;
}

inline int lines(const std::string& s) {
  return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace uiscsi::testing
