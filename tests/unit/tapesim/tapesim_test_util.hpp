// Helpers for the tape simulator tests: a drive with a small cartridge, CDBs through the SCSI
// entry point, and checks on status and sense.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tapesim/drive.hpp"
#include "tapesim/medium.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/command.hpp"
#include "uiscsi/scsi/sense.hpp"

namespace uiscsi::tapesim::test {

using scsi::SenseKey;

// Bytes whose value depends on position and seed, to catch misplaced data.
inline std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
  std::vector<std::byte> out(n);
  std::uint32_t x = seed * 2654435761u + 12345u;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    out[i] = static_cast<std::byte>(x >> 16);
  }
  return out;
}

// Highly compressible bytes.
inline std::vector<std::byte> text(std::size_t n) {
  static const char kText[] = "the quick brown fox jumps over the lazy dog. ";
  std::vector<std::byte> out(n);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<std::byte>(kText[i % (sizeof kText - 1)]);
  return out;
}

// A CDB from small integers.
inline std::vector<std::byte> cdb(std::initializer_list<int> bytes) {
  std::vector<std::byte> b;
  for (int x : bytes)
    b.push_back(static_cast<std::byte>(x));
  return b;
}

inline MediumOptions small_medium(std::uint64_t capacity = 1 << 20,
                                  std::uint64_t early_warning = 64 << 10) {
  MediumOptions o;
  o.capacity = capacity;
  o.early_warning = early_warning;
  return o;
}

// A unique path in a temporary directory, removed (with its .compact sibling) on destruction.
// /dev/shm when there is one: the image code fsyncs, and tmpfs makes that free.
struct TempPath {
  std::string path;
  explicit TempPath(const std::string& name) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::error_code ec;
    const std::filesystem::path dir = std::filesystem::is_directory("/dev/shm", ec)
                                          ? std::filesystem::path("/dev/shm")
                                          : std::filesystem::temp_directory_path();
    path = (dir / ("tapesim-" + std::to_string(::getpid()) + "-" + info->test_suite_name() + "-" +
                   info->name() + "-" + name))
               .string();
    std::filesystem::remove(path);
  }
  ~TempPath() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    std::filesystem::remove(path + ".compact", ec);
  }
};

struct Harness {
  Drive drive;
  std::uint64_t nexus = 1;

  explicit Harness(MediumOptions medium = small_medium(), DriveConfig config = {})
      : drive(make(std::move(config))) {
    auto m = Medium::create(medium);
    EXPECT_TRUE(m) << m.error().message();
    EXPECT_TRUE(drive.insert(std::move(*m)));
    clear_attentions();
  }

  static Drive make(DriveConfig config) {
    auto d = Drive::create(std::move(config));
    EXPECT_TRUE(d) << d.error().message();
    return std::move(*d);
  }

  Response run(std::span<const std::byte> c, std::span<const std::byte> out = {}) {
    return drive.execute(c, out, nexus);
  }
  Response run(const scsi::CommandSpec& spec, std::span<const std::byte> out = {}) {
    return drive.execute(spec.cdb.bytes(), out, nexus);
  }
  Response run(const Result<scsi::CommandSpec>& spec, std::span<const std::byte> out = {}) {
    EXPECT_TRUE(spec);
    return run(*spec, out);
  }

  // Consumes the unit attentions pending for this nexus.
  void clear_attentions() {
    for (int i = 0; i < 20; ++i) {
      const Response r = run(scsi::test_unit_ready());
      if (r.status == scsi::Status::good) return;
      auto s = scsi::parse_sense(r.sense);
      if (!s || s->sense_key != SenseKey::unit_attention) return;
    }
  }
};

inline scsi::SenseData sense_of(const Response& r) {
  EXPECT_EQ(r.status, scsi::Status::check_condition);
  auto s = scsi::parse_sense(r.sense);
  EXPECT_TRUE(s);
  return s ? *s : scsi::SenseData{};
}

inline void expect_good(const Response& r) {
  EXPECT_EQ(r.status, scsi::Status::good);
  if (r.status != scsi::Status::good) {
    if (auto s = scsi::parse_sense(r.sense)) ADD_FAILURE() << scsi::describe(*s);
  }
}

// CHECK CONDITION with this key, ASC and ASCQ; returns the sense for further checks.
inline scsi::SenseData expect_sense(const Response& r, SenseKey key, std::uint8_t asc,
                                    std::uint8_t ascq) {
  const scsi::SenseData s = sense_of(r);
  EXPECT_EQ(s.sense_key, key) << scsi::describe(s);
  EXPECT_EQ(s.asc, asc) << scsi::describe(s);
  EXPECT_EQ(s.ascq, ascq) << scsi::describe(s);
  EXPECT_EQ(s.response_code, 0x70);
  return s;
}

inline scsi::SenseData expect_sense(const Outcome& o, SenseKey key, std::uint8_t asc,
                                    std::uint8_t ascq) {
  EXPECT_TRUE(o.sense.has_value());
  if (!o.sense) return {};
  EXPECT_EQ(o.sense->sense_key, key) << scsi::describe(*o.sense);
  EXPECT_EQ(o.sense->asc, asc) << scsi::describe(*o.sense);
  EXPECT_EQ(o.sense->ascq, ascq) << scsi::describe(*o.sense);
  return *o.sense;
}

inline void expect_good(const Outcome& o) {
  EXPECT_TRUE(o.good()) << (o.sense ? scsi::describe(*o.sense) : std::string());
}

// The field pointer of an ILLEGAL REQUEST: (in CDB, byte, bit or -1).
inline void expect_field(const scsi::SenseData& s, bool in_cdb, std::uint16_t byte, int bit = -1) {
  EXPECT_TRUE(s.sense_key_specific.valid);
  EXPECT_EQ(s.sense_key_specific.command_data(), in_cdb);
  EXPECT_EQ(s.sense_key_specific.field_pointer(), byte);
  if (bit >= 0) {
    EXPECT_TRUE(s.sense_key_specific.bit_pointer_valid());
    EXPECT_EQ(s.sense_key_specific.bit_pointer(), bit);
  }
}

}  // namespace uiscsi::tapesim::test
