// tape::Drive mode pages (read-modify-write), densities and TapeAlert against tapesim.
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "uiscsi/scsi/command.hpp"

namespace uiscsi::tape::test {
namespace {

TEST(TapeDriveMode, CompressionKeepsBlockSizeAndSetsDdeAtByte3Bit7) {
  auto sim = make_sim();
  auto d = open_sim(sim);
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->set_block_size(1024)) << why(*d);
  const std::uint8_t buffered = d->medium().buffered_mode;
  ASSERT_TRUE(d->set_compression(true)) << why(*d);
  EXPECT_TRUE(sim->drive.compression().dce);
  EXPECT_TRUE(sim->drive.compression().dde);
  EXPECT_EQ(sim->drive.block_size(), 1024u);  // the original driver reset it to variable here
  EXPECT_EQ(d->medium().block_size, 1024u);
  EXPECT_EQ(d->medium().buffered_mode, buffered);
  auto page = d->compression();
  ASSERT_TRUE(page);
  EXPECT_TRUE(page->dce);
  EXPECT_TRUE(page->dde);

  // DDE off alone: the simulator decodes byte 3 bit 7 of the page (SSC-3 8.3.2).
  ASSERT_TRUE(d->set_compression(false, false));
  EXPECT_FALSE(sim->drive.compression().dce);
  EXPECT_FALSE(sim->drive.compression().dde);
  ASSERT_TRUE(d->set_compression(false, true));
  EXPECT_TRUE(sim->drive.compression().dde);
  EXPECT_EQ(sim->drive.block_size(), 1024u);

  // Compressed records read back.
  ASSERT_TRUE(d->set_block_size(0));
  ASSERT_TRUE(d->set_compression(true));
  std::vector<std::byte> zeros(50000);
  ASSERT_TRUE(d->write(zeros));
  ASSERT_TRUE(d->rewind());
  std::vector<std::byte> buf(50000, std::byte{1});
  auto r = d->read(buf);
  ASSERT_TRUE(r) << why(*d);
  EXPECT_EQ(r->status, ReadStatus::data);
  EXPECT_EQ(buf, zeros);
}

TEST(TapeDriveMode, BlockSizeOutsideLimitsIsRefusedBeforeModeSelect) {
  tapesim::DriveConfig c;
  c.min_block_length = 4;
  c.max_block_length = 1 << 16;
  c.granularity = 2;
  auto sim = make_sim(16ull << 20, 1ull << 20, c);
  auto d = open_sim(sim);
  ASSERT_TRUE(d);
  for (std::uint32_t bad : {2u, 6u, (1u << 16) + 4}) {
    auto r = d->set_block_size(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error(), tape_errc::invalid_block_size);
  }
  EXPECT_EQ(sim->commands[scsi::opcode::kModeSelect6], 0);
  ASSERT_TRUE(d->set_block_size(8));
  EXPECT_EQ(sim->drive.block_size(), 8u);
  // An open with a block size selects it.
  DriveOptions o;
  o.block_size = 0;
  auto again = open_sim(sim, o);
  ASSERT_TRUE(again);
  EXPECT_EQ(sim->drive.block_size(), 0u);
}

TEST(TapeDriveMode, DensitiesAndTapeAlerts) {
  auto sim = make_sim();
  auto d = open_sim(sim);
  ASSERT_TRUE(d);
  auto ds = d->densities();
  ASSERT_TRUE(ds) << why(*d);
  ASSERT_FALSE(ds->empty());
  for (const auto& desc : *ds)
    EXPECT_NE(density_name(desc.primary_density_code), "unknown") << desc.density_name;
  sim->drive.raise_tape_alert(20);
  sim->drive.raise_tape_alert(3);
  auto alerts = d->tape_alerts();
  ASSERT_TRUE(alerts) << why(*d);
  EXPECT_EQ(*alerts, (std::vector<std::uint8_t>{3, 20}));
}

}  // namespace
}  // namespace uiscsi::tape::test
