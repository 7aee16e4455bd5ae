// Helpers shared by the tape driver's unit tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include "sim_transport.hpp"
#include "support/pattern.hpp"
#include "uiscsi/tape.hpp"

namespace uiscsi::tape::test {

using ::uiscsi::testing::pattern;

inline Result<Drive> open_sim(const std::shared_ptr<SimTransport::Shared>& sim,
                              DriveOptions o = {}) {
  o.ready_interval = std::chrono::milliseconds(1);
  return Drive::open(std::make_unique<SimTransport>(sim), o);
}

inline std::string why(const Drive& d) {
  return d.last_error() ? d.last_error()->message() : std::string("(no last_error)");
}

// The drive's logical object number, via the driver's own position().
inline std::uint64_t block_of(Drive& d) {
  auto p = d.position();
  EXPECT_TRUE(p) << why(d);
  return p ? p->block : ~0ull;
}

}  // namespace uiscsi::tape::test
