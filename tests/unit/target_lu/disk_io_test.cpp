// DiskLu medium access commands: READ/WRITE in every size, VERIFY, WRITE AND VERIFY, WRITE SAME,
// UNMAP, COMPARE AND WRITE, SYNCHRONIZE CACHE, PRE-FETCH, GET LBA STATUS, with their edge
// cases (transfer length 0, beyond the end of the medium, protection fields, short Data-Out).
#include <cerrno>

#include "lu_test_util.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::target::test {
namespace {

using scsi::SenseKey;

constexpr std::uint32_t kBs = 512;
constexpr std::uint64_t kBlocks = 1024;

TEST(DiskLuIo, WriteAndReadBackInEveryCdbSize) {
  Harness h(kBlocks);
  const auto a = pattern(3 * kBs, 1);
  const auto b = pattern(2 * kBs, 2);
  const auto c = pattern(4 * kBs, 3);
  const auto d = pattern(1 * kBs, 4);
  EXPECT_GOOD(h.run(*scsi::write6(10, 3, kBs), a));
  EXPECT_GOOD(h.run(scsi::write10(20, 2, kBs), b));
  EXPECT_GOOD(h.run(scsi::write12(30, 4, kBs), c));
  EXPECT_GOOD(h.run(scsi::write16(kBlocks - 1, 1, kBs), d));
  EXPECT_EQ(h.run(*scsi::read6(10, 3, kBs)).data_in, a);
  EXPECT_EQ(h.run(scsi::read10(20, 2, kBs)).data_in, b);
  EXPECT_EQ(h.run(scsi::read12(30, 4, kBs)).data_in, c);
  EXPECT_EQ(h.run(scsi::read16(kBlocks - 1, 1, kBs)).data_in, d);
  // Across forms.
  EXPECT_EQ(h.run(scsi::read16(10, 3, kBs)).data_in, a);
  EXPECT_EQ(h.run(scsi::read10(30, 4, kBs)).data_in, c);
  // Unwritten blocks read zeros.
  EXPECT_EQ(h.run(scsi::read10(500, 2, kBs)).data_in, filled(2 * kBs, 0));
}

TEST(DiskLuIo, FourKibibyteBlocks) {
  Harness h(64, 4096);
  const auto data = pattern(3 * 4096, 9);
  EXPECT_GOOD(h.run(scsi::write10(61, 3, 4096), data));
  EXPECT_EQ(h.run(scsi::read16(61, 3, 4096)).data_in, data);
  expect_lba_out_of_range(h.run(scsi::read10(62, 3, 4096)));
}

TEST(DiskLuIo, TransferLengthZero) {
  Harness h(kBlocks);
  // (10), (12), (16): no transfer, not an error (libiscsi Read10.ZeroBlocks, Write10.ZeroBlocks).
  for (auto r : {h.run(scsi::read10(0, 0, kBs)), h.run(scsi::read12(0, 0, kBs)),
                 h.run(scsi::read16(0, 0, kBs)), h.run(scsi::write10(0, 0, kBs)),
                 h.run(scsi::write12(0, 0, kBs)), h.run(scsi::write16(0, 0, kBs)),
                 h.run(scsi::verify10(0, 0, kBs)), h.run(scsi::write_and_verify10(0, 0, kBs)),
                 h.run(*scsi::prefetch10(0, 0))}) {
    EXPECT_GOOD(r);
    EXPECT_TRUE(r.data_in.empty());
  }
  // At the end of the medium zero blocks are still fine, one past it is out of range.
  EXPECT_GOOD(h.run(scsi::read10(kBlocks, 0, kBs)));
  expect_lba_out_of_range(h.run(scsi::read10(kBlocks + 1, 0, kBs)));
  expect_lba_out_of_range(h.run(scsi::read10(0x80000000, 0, kBs)));
  expect_lba_out_of_range(h.run(scsi::read10(0xffffffff, 0, kBs)));
  expect_lba_out_of_range(h.run(scsi::write16(kBlocks + 1, 0, kBs)));
  // READ(6) / WRITE(6): TRANSFER LENGTH 0 means 256 blocks (libiscsi Read6.Simple).
  const auto data = pattern(256 * kBs, 5);
  EXPECT_GOOD(h.run(raw({0x0a, 0, 0, 0, 0, 0}, 0, 256 * kBs), data));
  const auto r6 = h.run(raw({0x08, 0, 0, 0, 0, 0}, 256 * kBs));
  EXPECT_GOOD(r6);
  EXPECT_EQ(r6.data_in, data);
}

TEST(DiskLuIo, BeyondEndOfMedium) {
  Harness h(kBlocks);
  for (std::uint32_t i = 1; i <= 256; i += 17) {
    SCOPED_TRACE(i);
    expect_lba_out_of_range(h.run(scsi::read10(kBlocks + 1 - i, i, kBs)));
    expect_lba_out_of_range(h.run(scsi::read12(kBlocks + 1 - i, i, kBs)));
    expect_lba_out_of_range(h.run(scsi::read16(kBlocks + 1 - i, i, kBs)));
    expect_lba_out_of_range(h.run(scsi::write10(kBlocks + 1 - i, i, kBs), filled(i * kBs, 1)));
    expect_lba_out_of_range(h.run(scsi::read10(0x80000000, i, kBs)));
    expect_lba_out_of_range(h.run(scsi::read10(0xffffffff, i, kBs)));
    expect_lba_out_of_range(h.run(scsi::read16(~0ull, i, kBs)));  // LBA + length wraps
    expect_lba_out_of_range(h.run(scsi::read16(0x8000000000000000ull, i, kBs)));
    expect_lba_out_of_range(h.run(scsi::verify16(kBlocks + 1 - i, i, kBs)));
    expect_lba_out_of_range(h.run(*scsi::prefetch16(kBlocks + 1 - i, i)));
    if (i < 256) expect_lba_out_of_range(h.run(*scsi::read6(kBlocks + 1 - i, i, kBs)));
    if (i >= 2) expect_lba_out_of_range(h.run(scsi::read10(kBlocks - 1, i, kBs)));
  }
  expect_lba_out_of_range(h.run(*scsi::read6(0x1fffff, 1, kBs)));
  EXPECT_GOOD(h.run(scsi::read16(kBlocks - 1, 1, kBs)));
}

TEST(DiskLuIo, ProtectionFieldsAreRefused) {
  Harness h(kBlocks);
  for (std::uint8_t p = 1; p < 8; ++p) {
    SCOPED_TRACE(int(p));
    expect_invalid_cdb(h.run(scsi::read10(0, 1, kBs, {.protect = p})), 1, 7);
    expect_invalid_cdb(h.run(scsi::read12(0, 1, kBs, {.protect = p})), 1, 7);
    expect_invalid_cdb(h.run(scsi::read16(0, 1, kBs, {.protect = p})), 1, 7);
    expect_invalid_cdb(h.run(scsi::write10(0, 1, kBs, {.protect = p}), filled(kBs, 0)), 1, 7);
    expect_invalid_cdb(h.run(scsi::write16(0, 1, kBs, {.protect = p}), filled(kBs, 0)), 1, 7);
    expect_invalid_cdb(h.run(scsi::verify10(0, 1, kBs, {.protect = p})), 1, 7);
    expect_invalid_cdb(h.run(scsi::write_same10(0, 1, kBs, {.protect = p}), filled(kBs, 0)), 1, 7);
    expect_invalid_cdb(
        h.run(scsi::compare_and_write(0, 1, kBs, {.protect = p}), filled(2 * kBs, 0)), 1, 7);
  }
}

TEST(DiskLuIo, DpoAndFuaAreAccepted) {
  Harness h(kBlocks);
  const auto data = pattern(kBs, 6);
  for (bool dpo : {false, true}) {
    for (bool fua : {false, true}) {
      EXPECT_GOOD(h.run(scsi::write10(5, 1, kBs, {.fua = fua, .dpo = dpo}), data));
      EXPECT_GOOD(h.run(scsi::write12(5, 1, kBs, {.fua = fua, .dpo = dpo}), data));
      EXPECT_GOOD(h.run(scsi::write16(5, 1, kBs, {.fua = fua, .dpo = dpo}), data));
      EXPECT_EQ(h.run(scsi::read10(5, 1, kBs, {.fua = fua, .dpo = dpo})).data_in, data);
      EXPECT_EQ(h.run(scsi::read16(5, 1, kBs, {.fua = fua, .dpo = dpo})).data_in, data);
      EXPECT_GOOD(h.run(scsi::verify10(5, 1, kBs, {.dpo = dpo})));
    }
  }
}

TEST(DiskLuIo, MaximumTransferLengthIsEnforced) {
  DiskLuConfig cfg;
  cfg.max_transfer_bytes = 8 * kBs;
  Harness h(kBlocks, kBs, cfg);
  EXPECT_GOOD(h.run(scsi::read10(0, 8, kBs)));
  expect_invalid_cdb(h.run(scsi::read10(0, 9, kBs)), 7, 7);
  expect_invalid_cdb(h.run(scsi::read12(0, 9, kBs)), 6, 7);
  expect_invalid_cdb(h.run(scsi::read16(0, 9, kBs)), 10, 7);
  expect_invalid_cdb(h.run(*scsi::read6(0, 9, kBs)), 4, 7);
  expect_invalid_cdb(h.run(scsi::write16(0, 9, kBs), filled(9 * kBs, 0)), 10, 7);
  // The range check comes first.
  expect_lba_out_of_range(h.run(scsi::read16(kBlocks, 9, kBs)));
}

// iSCSI Expected Data Transfer Length differing from the CDB (libiscsi Write10Residuals): the
// whole blocks received are written, the rest of the range is left alone.
TEST(DiskLuIo, ShortDataOutWritesWhatArrived) {
  Harness h(kBlocks);
  h.write(0, filled(2 * kBs, 'a'));
  EXPECT_GOOD(h.run(scsi::write10(0, 2, kBs), filled(kBs, 'b')));
  EXPECT_EQ(h.read(0, 1), filled(kBs, 'b'));
  EXPECT_EQ(h.read(1, 1), filled(kBs, 'a'));
  EXPECT_GOOD(h.run(scsi::write10(0, 1, kBs), std::span<const std::byte>{}));
  EXPECT_GOOD(h.run(scsi::write10(0, 1, kBs), filled(200, 'c')));
  EXPECT_EQ(h.read(0, 1), filled(kBs, 'b'));
  // More data than the CDB asks for: only the CDB's blocks are written.
  auto more = filled(2 * kBs, 'd');
  EXPECT_GOOD(h.run(scsi::write10(0, 1, kBs), more));
  EXPECT_EQ(h.read(0, 1), filled(kBs, 'd'));
  EXPECT_EQ(h.read(1, 1), filled(kBs, 'a'));
}

TEST(DiskLuIo, WriteProtectedLu) {
  DiskLuConfig cfg;
  cfg.read_only = true;
  Harness h(kBlocks, kBs, cfg);
  const auto block = filled(kBs, 1);
  auto protected_ = [](const ScsiResult& r) {
    expect_sense(r, SenseKey::data_protect, 0x27, 0x00);
  };
  protected_(h.run(*scsi::write6(0, 1, kBs), block));
  protected_(h.run(scsi::write10(0, 1, kBs), block));
  protected_(h.run(scsi::write12(0, 1, kBs), block));
  protected_(h.run(scsi::write16(0, 1, kBs), block));
  protected_(h.run(scsi::write_and_verify16(0, 1, kBs), block));
  protected_(h.run(scsi::write_same10(0, 1, kBs), block));
  protected_(h.run(scsi::write_same16(0, 1, kBs), block));
  // WRITE SAME with UNMAP and no Data-Out still reports the protection (libiscsi ReadOnlySBC).
  protected_(h.run(scsi::write_same10(0, 1, kBs, {.unmap = true})));
  const std::vector<scsi::UnmapDescriptor> one{{0, 1}};
  auto list = *scsi::build_unmap_parameter_list(one);
  protected_(h.run(*scsi::unmap(static_cast<std::uint16_t>(list.size())), list));
  protected_(h.run(scsi::compare_and_write(0, 1, kBs), filled(2 * kBs, 0)));
  EXPECT_GOOD(h.run(scsi::read10(0, 1, kBs)));
  EXPECT_GOOD(h.run(scsi::verify10(0, 1, kBs)));
  EXPECT_GOOD(h.run(*scsi::synchronize_cache10()));
  expect_lba_out_of_range(h.run(scsi::write10(kBlocks, 1, kBs), block));
}

TEST(DiskLuIo, VerifyCompares) {
  Harness h(kBlocks);
  const auto data = pattern(8 * kBs, 7);
  h.write(100, data);
  // BYTCHK 0: medium verification; data sent along is ignored (libiscsi MismatchNoCmp).
  auto wrong = data;
  wrong[77] ^= std::byte{0x58};
  EXPECT_GOOD(h.run(scsi::verify10(100, 8, kBs), wrong));
  // BYTCHK 1.
  EXPECT_GOOD(h.run(scsi::verify10(100, 8, kBs, {.bytchk = scsi::ByteCheck::compare}), data));
  EXPECT_GOOD(h.run(scsi::verify12(100, 8, kBs, {.bytchk = scsi::ByteCheck::compare}), data));
  EXPECT_GOOD(h.run(scsi::verify16(100, 8, kBs, {.bytchk = scsi::ByteCheck::compare}), data));
  for (std::size_t at :
       {std::size_t{0}, std::size_t{77}, std::size_t{3 * kBs + 5}, data.size() - 1}) {
    auto bad = data;
    bad[at] ^= std::byte{'X'};
    const auto r = h.run(scsi::verify16(100, 8, kBs, {.bytchk = scsi::ByteCheck::compare}), bad);
    expect_sense(r, SenseKey::miscompare, 0x1d, 0x00);
    const auto s = sense_of(r);
    EXPECT_TRUE(s.information_valid);
    EXPECT_EQ(s.information, at);
  }
  // BYTCHK 11b: one block against every block.
  h.write(200, filled(4 * kBs, 0x5a));
  EXPECT_GOOD(h.run(scsi::verify10(200, 4, kBs, {.bytchk = scsi::ByteCheck::compare_one_block}),
                    filled(kBs, 0x5a)));
  h.write(202, filled(kBs, 0x5b));
  const auto r3 = h.run(scsi::verify10(200, 4, kBs, {.bytchk = scsi::ByteCheck::compare_one_block}),
                        filled(kBs, 0x5a));
  expect_sense(r3, SenseKey::miscompare, 0x1d, 0x00);
  EXPECT_EQ(sense_of(r3).information, 2u * kBs);
  // BYTCHK 10b is reserved.
  expect_invalid_cdb(h.run(raw({0x2f, 0x04, 0, 0, 0, 0, 0, 0, 1, 0})), 1, 2);
  expect_lba_out_of_range(
      h.run(scsi::verify10(kBlocks - 1, 2, kBs, {.bytchk = scsi::ByteCheck::compare}),
            filled(2 * kBs, 0)));
}

TEST(DiskLuIo, WriteAndVerify) {
  Harness h(kBlocks);
  const auto data = pattern(3 * kBs, 8);
  EXPECT_GOOD(h.run(scsi::write_and_verify10(7, 3, kBs), data));
  EXPECT_EQ(h.read(7, 3), data);
  EXPECT_GOOD(h.run(scsi::write_and_verify12(17, 3, kBs, {.bytchk = true}), data));
  EXPECT_GOOD(h.run(scsi::write_and_verify16(27, 3, kBs, {.dpo = true}), data));
  EXPECT_EQ(h.read(27, 3), data);
  expect_invalid_cdb(h.run(raw({0x2e, 0x04, 0, 0, 0, 0, 0, 0, 1, 0}, 0, kBs), filled(kBs, 0)), 1,
                     2);
  expect_lba_out_of_range(h.run(scsi::write_and_verify16(kBlocks, 1, kBs), filled(kBs, 0)));
}

TEST(DiskLuIo, WriteSameWritesTheBlock) {
  Harness h(kBlocks);
  for (std::uint32_t n : {1u, 2u, 255u, 256u}) {
    const auto block = filled(kBs, static_cast<int>(n));
    EXPECT_GOOD(h.run(scsi::write_same10(0, n, kBs), block));
    EXPECT_EQ(h.read(0, n), filled(n * kBs, static_cast<int>(n)));
    EXPECT_GOOD(h.run(scsi::write_same16(kBlocks - n, n, kBs), block));
    EXPECT_EQ(h.read(kBlocks - n, n), filled(n * kBs, static_cast<int>(n)));
  }
  // NUMBER OF LOGICAL BLOCKS 0: to the end of the medium (WSNZ = 0).
  const auto before = h.read(999, 1);
  EXPECT_GOOD(h.run(scsi::write_same10(1000, 0, kBs), filled(kBs, 0x77)));
  EXPECT_EQ(h.read(1000, 24), filled(24 * kBs, 0x77));
  EXPECT_EQ(h.read(999, 1), before);
  // NDOB: zeros without Data-Out.
  EXPECT_GOOD(h.run(scsi::write_same16(1000, 4, kBs, {.ndob = true})));
  EXPECT_EQ(h.read(1000, 4), filled(4 * kBs, 0));
}

TEST(DiskLuIo, WriteSameChecks) {
  DiskLuConfig cfg;
  cfg.max_write_same_blocks = 64;
  Harness h(kBlocks, kBs, cfg);
  const auto block = filled(kBs, 3);
  // Beyond the end (libiscsi WriteSame10.BeyondEol / ZeroBlocks).
  expect_lba_out_of_range(h.run(scsi::write_same10(kBlocks, 1, kBs), block));
  expect_lba_out_of_range(h.run(scsi::write_same10(kBlocks + 1, 0, kBs), block));
  expect_lba_out_of_range(h.run(scsi::write_same10(0x80000000, 0, kBs), block));
  expect_lba_out_of_range(h.run(scsi::write_same16(~0ull, 1, kBs), block));
  EXPECT_GOOD(h.run(scsi::write_same10(kBlocks - 64, 0, kBs), block));
  // Longer than MAXIMUM WRITE SAME LENGTH, also through "to the end".
  expect_invalid_cdb(h.run(scsi::write_same10(0, 65, kBs), block), 7, 7);
  expect_invalid_cdb(h.run(scsi::write_same16(0, 0, kBs), block), 10, 7);
  // ANCHOR (no ANC_SUP), alone or with UNMAP; PBDATA / LBDATA.
  expect_invalid_cdb(h.run(scsi::write_same10(0, 1, kBs, {.anchor = true}), block), 1, 4);
  expect_invalid_cdb(h.run(scsi::write_same10(0, 1, kBs, {.unmap = true, .anchor = true}), block),
                     1, 4);
  expect_invalid_cdb(h.run(raw({0x41, 0x02, 0, 0, 0, 0, 0, 0, 1, 0}, 0, kBs), block), 1, 2);
  // Data-Out must be exactly one block (libiscsi WriteSame10.InvalidDataOutSize).
  EXPECT_EQ(h.run(scsi::write_same10(0, 1, kBs, {.unmap = true}), filled(kBs / 2, 0)).status,
            kCheckCondition);
  EXPECT_EQ(h.run(scsi::write_same10(0, 1, kBs, {.unmap = true}), filled(2 * kBs, 0)).status,
            kCheckCondition);
  EXPECT_EQ(h.run(scsi::write_same16(0, 1, kBs), std::span<const std::byte>{}).status,
            kCheckCondition);
}

TEST(DiskLuIo, WriteSameUnmapDeallocates) {
  Harness h(kBlocks);
  for (std::uint32_t n : {1u, 7u, 256u}) {
    h.write(0, filled(n * kBs, 0xff));
    // UNMAP with a non-zero block still deallocates; LBPRZ makes the blocks read zeros
    // (libiscsi WriteSame10.UnmapUntilEnd sends 0xFF data).
    EXPECT_GOOD(h.run(scsi::write_same10(0, n, kBs, {.unmap = true}), filled(kBs, 0xff)));
    EXPECT_EQ(h.read(0, n), filled(n * kBs, 0));
    auto st = scsi::parse_get_lba_status(h.run(scsi::get_lba_status(0, 24)).data_in);
    ASSERT_TRUE(st);
    ASSERT_EQ(st->descriptors.size(), 1u);
    EXPECT_EQ(st->descriptors[0].status, scsi::ProvisioningStatus::deallocated);
  }
  h.write(kBlocks - 10, filled(10 * kBs, 0xee));
  EXPECT_GOOD(h.run(scsi::write_same16(kBlocks - 10, 0, kBs, {.unmap = true, .ndob = true})));
  EXPECT_EQ(h.read(kBlocks - 10, 10), filled(10 * kBs, 0));

  // Without thin provisioning WRITE SAME refuses UNMAP (libiscsi WriteSame10.UnmapVPD).
  DiskLuConfig full;
  full.thin_provisioning = false;
  Harness f(kBlocks, kBs, full);
  expect_invalid_cdb(f.run(scsi::write_same10(0, 1, kBs, {.unmap = true}), filled(kBs, 0)), 1, 3);
  expect_invalid_cdb(f.run(scsi::write_same16(0, 1, kBs, {.unmap = true}), filled(kBs, 0)), 1, 3);
}

std::vector<std::byte> unmap_list(std::initializer_list<scsi::UnmapDescriptor> d) {
  return *scsi::build_unmap_parameter_list(std::vector<scsi::UnmapDescriptor>(d));
}

TEST(DiskLuIo, UnmapDeallocatesAndReadsZeros) {
  Harness h(kBlocks);
  h.write(0, filled(256 * kBs, 'a'));
  const auto list = unmap_list({{0, 4}, {10, 2}, {10, 1}, {255, 1}});
  EXPECT_GOOD(h.run(*scsi::unmap(static_cast<std::uint16_t>(list.size())), list));
  EXPECT_EQ(h.read(0, 4), filled(4 * kBs, 0));
  EXPECT_EQ(h.read(4, 6), filled(6 * kBs, 'a'));
  EXPECT_EQ(h.read(10, 2), filled(2 * kBs, 0));
  EXPECT_EQ(h.read(255, 1), filled(kBs, 0));
  auto st = scsi::parse_get_lba_status(h.run(scsi::get_lba_status(0, 4096)).data_in);
  ASSERT_TRUE(st);
  ASSERT_EQ(st->descriptors.size(), 5u);
  EXPECT_EQ(st->descriptors[0],
            (scsi::LbaStatusDescriptor{0, 4, scsi::ProvisioningStatus::deallocated}));
  EXPECT_EQ(st->descriptors[1],
            (scsi::LbaStatusDescriptor{4, 6, scsi::ProvisioningStatus::mapped}));
  EXPECT_EQ(st->descriptors[2],
            (scsi::LbaStatusDescriptor{10, 2, scsi::ProvisioningStatus::deallocated}));
  EXPECT_EQ(st->descriptors[3],
            (scsi::LbaStatusDescriptor{12, 243, scsi::ProvisioningStatus::mapped}));
  // 255 was unmapped and 256.. never written: one deallocated extent to the end.
  EXPECT_EQ(st->descriptors[4],
            (scsi::LbaStatusDescriptor{255, kBlocks - 255, scsi::ProvisioningStatus::deallocated}));
}

TEST(DiskLuIo, UnmapEdgeCases) {
  Harness h(kBlocks);
  // PARAMETER LIST LENGTH 0, no descriptors, zero-block descriptors (libiscsi
  // Unmap.ZeroBlocks), including at the end of the LUN.
  EXPECT_GOOD(h.run(*scsi::unmap(0)));
  const auto empty = unmap_list({});
  EXPECT_GOOD(h.run(*scsi::unmap(8), empty));
  const auto zeros = unmap_list({{0, 0}, {5, 0}, {kBlocks, 0}});
  EXPECT_GOOD(h.run(*scsi::unmap(static_cast<std::uint16_t>(zeros.size())), zeros));
  // 1-7 bytes: PARAMETER LIST LENGTH ERROR.
  expect_sense(h.run(*scsi::unmap(7), filled(7, 0)), SenseKey::illegal_request, 0x1a, 0x00);
  // Out of range anywhere: nothing is unmapped.
  h.write(0, filled(4 * kBs, 'z'));
  const auto bad = unmap_list({{0, 4}, {kBlocks - 1, 2}});
  expect_lba_out_of_range(h.run(*scsi::unmap(static_cast<std::uint16_t>(bad.size())), bad));
  EXPECT_EQ(h.read(0, 4), filled(4 * kBs, 'z'));
  // An incomplete last descriptor is ignored.
  auto partial = unmap_list({{0, 1}, {1, 1}});
  partial.resize(partial.size() - 4);
  core::store_be16(partial.data(), static_cast<std::uint16_t>(partial.size() - 2));
  core::store_be16(partial.data() + 2, static_cast<std::uint16_t>(partial.size() - 8));
  EXPECT_GOOD(h.run(*scsi::unmap(static_cast<std::uint16_t>(partial.size())), partial));
  EXPECT_EQ(h.read(0, 1), filled(kBs, 0));
  EXPECT_EQ(h.read(1, 1), filled(kBs, 'z'));
  // ANCHOR needs ANC_SUP.
  expect_invalid_cdb(h.run(*scsi::unmap(24, true), unmap_list({{0, 1}})), 1, 0);
}

TEST(DiskLuIo, UnmapLimits) {
  DiskLuConfig cfg;
  cfg.max_unmap_descriptors = 2;
  cfg.max_unmap_blocks = 10;
  Harness h(kBlocks, kBs, cfg);
  const auto three = unmap_list({{0, 1}, {1, 1}, {2, 1}});
  expect_invalid_param(h.run(*scsi::unmap(static_cast<std::uint16_t>(three.size())), three), 2);
  const auto many = unmap_list({{0, 6}, {100, 5}});
  expect_invalid_param(h.run(*scsi::unmap(static_cast<std::uint16_t>(many.size())), many),
                       8 + 16 + 8);
  const auto fine = unmap_list({{0, 6}, {100, 4}});
  EXPECT_GOOD(h.run(*scsi::unmap(static_cast<std::uint16_t>(fine.size())), fine));
}

TEST(DiskLuIo, CompareAndWrite) {
  Harness h(kBlocks);
  for (std::uint8_t n : {std::uint8_t{1}, std::uint8_t{3}, std::uint8_t{255}}) {
    SCOPED_TRACE(int(n));
    const std::size_t len = std::size_t{n} * kBs;
    h.write(0, filled(len, 'A'));
    std::vector<std::byte> buf = filled(len, 'A');
    const auto next = pattern(len, n);
    buf.insert(buf.end(), next.begin(), next.end());
    EXPECT_GOOD(h.run(scsi::compare_and_write(0, n, kBs), buf));
    EXPECT_EQ(h.read(0, n), next);
    // Miscompare 27 bytes from the end of the verify data (libiscsi CompareAndWrite.Miscompare).
    auto miss = buf;
    std::copy(next.begin(), next.end(), miss.begin());
    miss[len - 27] ^= std::byte{0x01};
    const auto r = h.run(scsi::compare_and_write(0, n, kBs), miss);
    expect_sense(r, SenseKey::miscompare, 0x1d, 0x00);
    const auto s = sense_of(r);
    EXPECT_TRUE(s.information_valid);
    EXPECT_EQ(s.information, len - 27);
    EXPECT_EQ(h.read(0, n), next);  // nothing written
  }
  // NUMBER OF LOGICAL BLOCKS 0: nothing to do, whatever the Data-Out (libiscsi DpoFua).
  EXPECT_GOOD(
      h.run(scsi::compare_and_write(0, 0, kBs, {.fua = true, .dpo = true}), filled(kBs, 0)));
  expect_lba_out_of_range(h.run(scsi::compare_and_write(kBlocks - 1, 2, kBs), filled(4 * kBs, 0)));
  // Data-Out length must match (libiscsi CompareAndWrite.InvalidDataOutSize).
  EXPECT_EQ(h.run(scsi::compare_and_write(0, 1, kBs), filled(4 * kBs, 0)).status, kCheckCondition);
  EXPECT_EQ(h.run(scsi::compare_and_write(0, 3, kBs), filled(4 * kBs, 0)).status, kCheckCondition);

  DiskLuConfig cfg;
  cfg.max_compare_and_write_blocks = 1;
  Harness one(kBlocks, kBs, cfg);
  expect_invalid_cdb(one.run(scsi::compare_and_write(0, 2, kBs), filled(4 * kBs, 0)), 13, 7);
}

TEST(DiskLuIo, SynchronizeCacheAndPrefetch) {
  Harness h(kBlocks);
  EXPECT_GOOD(h.run(*scsi::synchronize_cache10()));
  EXPECT_GOOD(h.run(*scsi::synchronize_cache10(0, static_cast<std::uint32_t>(kBlocks))));
  EXPECT_GOOD(h.run(scsi::synchronize_cache16(kBlocks - 1, 1, true)));
  expect_lba_out_of_range(h.run(scsi::synchronize_cache16(kBlocks - 1, 2)));
  expect_lba_out_of_range(h.run(scsi::synchronize_cache16(kBlocks + 1, 0)));
  EXPECT_GOOD(h.run(*scsi::prefetch10(0, 10, true)));
  EXPECT_GOOD(h.run(*scsi::prefetch16(kBlocks - 1, 1)));
  expect_lba_out_of_range(h.run(*scsi::prefetch10(0x80000000, 1)));
}

TEST(DiskLuIo, GetLbaStatus) {
  Harness h(kBlocks);
  // Fresh thin LU: all deallocated; the first descriptor starts at the requested LBA.
  auto fresh = scsi::parse_get_lba_status(h.run(scsi::get_lba_status(5, 24)).data_in);
  ASSERT_TRUE(fresh);
  ASSERT_EQ(fresh->descriptors.size(), 1u);
  EXPECT_EQ(fresh->descriptors[0],
            (scsi::LbaStatusDescriptor{5, kBlocks - 5, scsi::ProvisioningStatus::deallocated}));
  // Single block unmapped between mapped ones (libiscsi GetLBAStatus.UnmapSingle).
  h.write(0, filled(257 * kBs, 'A'));
  for (std::uint64_t i = 0; i < 256; i += 37) {
    const auto list = unmap_list({{i, 1}});
    EXPECT_GOOD(h.run(*scsi::unmap(24), list));
    auto at = scsi::parse_get_lba_status(h.run(scsi::get_lba_status(i, 24)).data_in);
    ASSERT_TRUE(at);
    EXPECT_EQ(at->descriptors.at(0).status, scsi::ProvisioningStatus::deallocated);
    EXPECT_EQ(at->descriptors.at(0).blocks, 1u);
    auto next = scsi::parse_get_lba_status(h.run(scsi::get_lba_status(i + 1, 24)).data_in);
    ASSERT_TRUE(next);
    EXPECT_EQ(next->descriptors.at(0).lba, i + 1);
    EXPECT_EQ(next->descriptors.at(0).status, scsi::ProvisioningStatus::mapped);
  }
  // Every LBA up to the last one is fine (GetLBAStatus.Simple); beyond is out of range
  // (GetLBAStatus.BeyondEol, which tgtd fails).
  for (std::uint64_t lba : {std::uint64_t{0}, kBlocks - 256, kBlocks - 1}) {
    EXPECT_GOOD(h.run(scsi::get_lba_status(lba, 24)));
  }
  expect_lba_out_of_range(h.run(scsi::get_lba_status(kBlocks, 24)));
  expect_lba_out_of_range(h.run(scsi::get_lba_status(kBlocks + 1, 24)));
  expect_lba_out_of_range(h.run(scsi::get_lba_status(0x8000000000000000ull, 24)));
  expect_lba_out_of_range(h.run(scsi::get_lba_status(~0ull, 24)));
  // Allocation length: the header counts the descriptors generated for it.
  EXPECT_EQ(h.run(scsi::get_lba_status(0, 8)).data_in.size(), 8u);
  auto big = scsi::parse_get_lba_status(h.run(scsi::get_lba_status(0, 4096)).data_in);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->parameter_data_length, 4 + 16 * big->descriptors.size());

  // Without thin provisioning everything is mapped.
  DiskLuConfig full;
  full.thin_provisioning = false;
  Harness f(kBlocks, kBs, full);
  auto m = scsi::parse_get_lba_status(f.run(scsi::get_lba_status(0, 4096)).data_in);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->descriptors.size(), 1u);
  EXPECT_EQ(m->descriptors[0],
            (scsi::LbaStatusDescriptor{0, kBlocks, scsi::ProvisioningStatus::mapped}));
}

// A store whose operations fail with a chosen errno, to check the sense mapping.
class FailingStore final : public BlockStore {
 public:
  explicit FailingStore(int err) : err_(err) {}
  [[nodiscard]] std::uint32_t block_size() const override { return 512; }
  [[nodiscard]] std::uint64_t block_count() const override { return 64; }
  [[nodiscard]] bool supports_discard() const override { return true; }
  Result<void> read(std::uint64_t, std::span<std::byte>) override { return fail(); }
  Result<void> write(std::uint64_t, std::span<const std::byte>, bool) override { return fail(); }
  Result<void> flush() override { return fail(); }
  Result<void> discard(std::uint64_t, std::uint64_t) override { return fail(); }
  Result<ProvisioningExtent> provisioning(std::uint64_t, std::uint64_t) override {
    return std::error_code(err_, std::system_category());
  }
  Result<void> resize(std::uint64_t) override { return fail(); }

 private:
  Result<void> fail() const { return std::error_code(err_, std::system_category()); }
  int err_;
};

TEST(DiskLuIo, StoreErrorsBecomeSense) {
  {
    Harness h(0, 512, {}, std::make_unique<FailingStore>(EIO));
    const auto r = h.run(scsi::read10(7, 1, 512));
    expect_sense(r, SenseKey::medium_error, 0x11, 0x00);
    EXPECT_TRUE(sense_of(r).information_valid);
    EXPECT_EQ(sense_of(r).information, 7u);
    expect_sense(h.run(scsi::write10(3, 1, 512), filled(512, 0)), SenseKey::medium_error, 0x0c,
                 0x00);
    expect_sense(h.run(*scsi::synchronize_cache10()), SenseKey::medium_error, 0x0c, 0x00);
    expect_sense(h.run(scsi::compare_and_write(0, 1, 512), filled(1024, 0)), SenseKey::medium_error,
                 0x11, 0x00);
    expect_sense(h.run(scsi::get_lba_status(0, 24)), SenseKey::medium_error, 0x11, 0x00);
  }
  {
    Harness h(0, 512, {}, std::make_unique<FailingStore>(ENOSPC));
    expect_sense(h.run(scsi::write10(0, 1, 512), filled(512, 0)), SenseKey::data_protect, 0x27,
                 0x07);
  }
  {
    Harness h(0, 512, {}, std::make_unique<FailingStore>(EINVAL));
    expect_sense(h.run(scsi::write_same10(0, 1, 512, {.unmap = true}), filled(512, 0)),
                 SenseKey::hardware_error, 0x44, 0x00);
    expect_sense(h.run(scsi::read16(0, 1, 512)), SenseKey::hardware_error, 0x44, 0x00);
  }
}

}  // namespace
}  // namespace uiscsi::target::test
