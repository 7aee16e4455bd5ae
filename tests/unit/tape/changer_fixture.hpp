// The fixture and helpers of the changer driver's unit tests (changer_test.cpp,
// changer_move_test.cpp): a simulated library (changer_sim.hpp) per test.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "changer_sim.hpp"
#include "uiscsi/tape.hpp"
#include "uiscsi/tape/changer.hpp"

namespace uiscsi::tape::test {

using scsi::SenseKey;
inline constexpr std::uint8_t kReadElementStatus = 0xb8;
inline constexpr std::uint8_t kMoveMedium = 0xa5;
inline constexpr std::uint8_t kModeSense6 = 0x1a;

inline std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; ++i)
    v[i] = static_cast<std::byte>((i * 31 + seed * 7) & 0xff);
  return v;
}

inline std::vector<std::byte> scsi_bytes(std::initializer_list<int> values) {
  std::vector<std::byte> v;
  for (int x : values)
    v.push_back(static_cast<std::byte>(x));
  return v;
}

inline std::uint32_t allocation_of(const std::vector<std::byte>& cdb) {
  return std::to_integer<std::uint32_t>(cdb[7]) << 16 |
         std::to_integer<std::uint32_t>(cdb[8]) << 8 | std::to_integer<std::uint32_t>(cdb[9]);
}

struct ChangerTest : ::testing::Test {
  std::shared_ptr<Library> lib{Library::create()};

  Result<Changer> open(ChangerOptions o = {}) {
    o.ready_interval = std::chrono::milliseconds(1);
    return Changer::open(std::make_unique<LibraryTransport>(lib, LibraryTransport::Unit::changer),
                         o);
  }
  Result<Drive> open_drive() {
    DriveOptions o;
    o.ready_interval = std::chrono::milliseconds(1);
    return Drive::open(std::make_unique<LibraryTransport>(lib, LibraryTransport::Unit::drive), o);
  }
  static std::string why(const Changer& c) {
    return c.last_error() ? c.last_error()->message() : "(no last_error)";
  }
  // A changer command refused with `key` asc/ascq, once.
  void script(std::uint8_t opcode, SenseKey key, std::uint8_t asc, std::uint8_t ascq) {
    Exchange e;
    e.status = scsi::Status::check_condition;
    e.sense = sense_bytes(key, asc, ascq);
    lib->scripted[opcode].push_back({e, {}});
  }
  int moves() { return lib->commands[kMoveMedium]; }
};

}  // namespace uiscsi::tape::test
