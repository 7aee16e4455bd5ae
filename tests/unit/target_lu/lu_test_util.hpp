// Helpers for the DiskLu unit tests: a LU over a RAM store with two I_T nexuses, and
// checks on status, sense and data.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <vector>

#include "core/bytes.hpp"
#include "target/block_store.hpp"
#include "target/disk_lu.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/sense.hpp"

namespace uiscsi::target::test {

inline constexpr std::uint8_t kGood = 0x00;
inline constexpr std::uint8_t kCheckCondition = 0x02;
inline constexpr std::uint8_t kReservationConflict = 0x18;

// A CDB from small integers (for forms the builders do not make).
inline scsi::CommandSpec raw(std::initializer_list<int> bytes, std::uint32_t data_in = 0,
                             std::uint32_t data_out = 0) {
  std::vector<std::byte> b;
  for (int x : bytes)
    b.push_back(static_cast<std::byte>(x));
  scsi::CommandSpec s;
  s.cdb = *scsi::Cdb::from_bytes(b);
  s.data_in_length = data_in;
  s.data_out_length = data_out;
  return s;
}

inline std::vector<std::byte> filled(std::size_t n, int value) {
  return std::vector<std::byte>(n, static_cast<std::byte>(value));
}

// Pattern whose bytes depend on their position, to catch misplaced blocks.
inline std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
  std::vector<std::byte> out(n);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<std::byte>((i * 131 + seed * 7 + (i >> 9)) & 0xff);
  return out;
}

struct Harness {
  std::unique_ptr<DiskLu> lu;
  Nexus a{1, "iqn.2024-01.dev.uiscsi:init-a", 0x23d000000001ull};
  Nexus b{2, "iqn.2024-01.dev.uiscsi:init-b", 0x23d000000002ull};
  std::uint32_t block_size;

  // A LU of `blocks` blocks; both nexuses are added and their power-on attention consumed.
  explicit Harness(std::uint64_t blocks = 1024, std::uint32_t bs = 512, DiskLuConfig config = {},
                   std::unique_ptr<BlockStore> store = nullptr)
      : block_size(bs) {
    if (!store) {
      auto made = make_ram_store(bs, blocks);
      EXPECT_TRUE(made);
      store = std::move(*made);
    }
    auto created = DiskLu::create(std::move(config), std::move(store));
    EXPECT_TRUE(created) << created.error().message();
    lu = std::move(*created);
    lu->nexus_added(a);
    lu->nexus_added(b);
    clear_attentions(a);
    clear_attentions(b);
  }

  ScsiResult run(const Nexus& n, const scsi::CommandSpec& spec,
                 std::span<const std::byte> data_out = {}) {
    ScsiCommand c;
    c.nexus = n;
    c.cdb = spec.cdb.bytes();
    c.data_out = data_out;
    c.expected_data_in = spec.data_in_length;
    return lu->execute(c);
  }
  ScsiResult run(const scsi::CommandSpec& spec, std::span<const std::byte> data_out = {}) {
    return run(a, spec, data_out);
  }
  ScsiResult run(const Result<scsi::CommandSpec>& spec, std::span<const std::byte> data_out = {}) {
    EXPECT_TRUE(spec);
    return run(a, *spec, data_out);
  }
  ScsiResult run(const Nexus& n, const Result<scsi::CommandSpec>& spec,
                 std::span<const std::byte> data_out = {}) {
    EXPECT_TRUE(spec);
    return run(n, *spec, data_out);
  }

  // TEST UNIT READY until GOOD (at most 20 times).
  void clear_attentions(const Nexus& n) {
    for (int i = 0; i < 20; ++i) {
      if (run(n, scsi::test_unit_ready()).status == kGood) return;
    }
    ADD_FAILURE() << "unit attentions do not clear";
  }

  void write(std::uint64_t lba, std::span<const std::byte> data) {
    auto r = run(
        scsi::write16(lba, static_cast<std::uint32_t>(data.size() / block_size), block_size), data);
    ASSERT_EQ(r.status, kGood);
  }
  std::vector<std::byte> read(std::uint64_t lba, std::uint32_t blocks) {
    auto r = run(scsi::read16(lba, blocks, block_size));
    EXPECT_EQ(r.status, kGood);
    return r.data_in;
  }
};

inline scsi::SenseData sense_of(const ScsiResult& r) {
  auto s = scsi::parse_sense(r.sense);
  EXPECT_TRUE(s) << "sense does not parse";
  return s ? *s : scsi::SenseData{};
}

#define EXPECT_GOOD(result)                                                                     \
  do {                                                                                          \
    const auto& r_ = (result);                                                                  \
    EXPECT_EQ(r_.status, ::uiscsi::target::test::kGood)                                         \
        << (r_.sense.empty() ? std::string("no sense")                                          \
                             : ::uiscsi::scsi::describe(::uiscsi::target::test::sense_of(r_))); \
  } while (0)

inline void expect_sense(const ScsiResult& r, scsi::SenseKey key, std::uint8_t asc,
                         std::uint8_t ascq) {
  ASSERT_EQ(r.status, kCheckCondition);
  const scsi::SenseData s = sense_of(r);
  EXPECT_EQ(s.sense_key, key) << scsi::describe(s);
  EXPECT_EQ(s.asc, asc) << scsi::describe(s);
  EXPECT_EQ(s.ascq, ascq) << scsi::describe(s);
}

// ILLEGAL REQUEST, INVALID FIELD IN CDB pointing at `byte` (and `bit`, or none with -1).
inline void expect_invalid_cdb(const ScsiResult& r, std::uint16_t byte, int bit) {
  expect_sense(r, scsi::SenseKey::illegal_request, 0x24, 0x00);
  const scsi::SenseData s = sense_of(r);
  ASSERT_TRUE(s.sense_key_specific.valid);
  EXPECT_TRUE(s.sense_key_specific.command_data());
  EXPECT_EQ(s.sense_key_specific.field_pointer(), byte);
  if (bit < 0) {
    EXPECT_FALSE(s.sense_key_specific.bit_pointer_valid());
  } else {
    EXPECT_TRUE(s.sense_key_specific.bit_pointer_valid());
    EXPECT_EQ(s.sense_key_specific.bit_pointer(), bit);
  }
}

// ILLEGAL REQUEST, INVALID FIELD IN PARAMETER LIST pointing at `byte`.
inline void expect_invalid_param(const ScsiResult& r, std::uint16_t byte) {
  expect_sense(r, scsi::SenseKey::illegal_request, 0x26, 0x00);
  const scsi::SenseData s = sense_of(r);
  ASSERT_TRUE(s.sense_key_specific.valid);
  EXPECT_FALSE(s.sense_key_specific.command_data());
  EXPECT_EQ(s.sense_key_specific.field_pointer(), byte);
}

inline void expect_lba_out_of_range(const ScsiResult& r) {
  expect_sense(r, scsi::SenseKey::illegal_request, 0x21, 0x00);
}

inline void expect_unit_attention(const ScsiResult& r, std::uint8_t asc, std::uint8_t ascq) {
  expect_sense(r, scsi::SenseKey::unit_attention, asc, ascq);
}

}  // namespace uiscsi::target::test
