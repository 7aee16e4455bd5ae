// tape::Drive against an in-process tapesim drive: open, variable and fixed records, filemarks,
// EOD, incorrect length, early warning and volume overflow, deferred errors and unit attention.
#include <gtest/gtest.h>

#include "test_util.hpp"
#include "uiscsi/scsi/command.hpp"

namespace uiscsi::tape::test {
namespace {

using scsi::opcode::kWrite6;

TEST(TapeDriveOpen, ConsumesUnitAttentionReadsLimitsModeAndPosition) {
  auto sim = make_sim();
  auto d = open_sim(sim);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->info().inquiry.device_type, scsi::PeripheralDeviceType::sequential_access);
  EXPECT_EQ(d->info().limits.max_block_length, sim->drive.config().max_block_length);
  EXPECT_EQ(d->medium().block_size, 0u);
  EXPECT_EQ(sim->commands[scsi::opcode::kTestUnitReady], 2);  // 29/00, then GOOD
  auto p = d->position();
  ASSERT_TRUE(p) << why(*d);
  EXPECT_TRUE(p->bop);
  EXPECT_EQ(p->block, 0u);
  EXPECT_EQ(p->file, 0u);
}

TEST(TapeDriveOpen, PollsNotReadyWithinBounds) {
  tapesim::DriveConfig slow;
  slow.ready_delay = 3;
  auto sim = make_sim(16ull << 20, 1ull << 20, slow);
  (void)sim->drive.eject();
  tapesim::MediumOptions mo;
  (void)sim->drive.insert(*tapesim::Medium::create(mo));  // 28/00 then 3 x NOT READY 04/01
  DriveOptions few;
  few.ready_attempts = 3;
  auto refused = open_sim(sim, few);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error(), tape_errc::not_ready_timeout);
  auto d = open_sim(sim);  // the remaining NOT READY answers, then GOOD
  ASSERT_TRUE(d) << d.error().message();
}

// An empty drive: NOT READY 3A/00 is final, so open() says no_medium at once instead of
// polling until its bounds run out.
TEST(TapeDriveOpen, NoMediumFailsAtOnce) {
  auto sim = make_sim();
  ASSERT_TRUE(sim->drive.eject());
  DriveOptions o;
  o.ready_attempts = 5;
  auto d = open_sim(sim, o);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error(), tape_errc::no_medium);
  EXPECT_LE(sim->commands[scsi::opcode::kTestUnitReady], 2);  // a unit attention, then 3A/00
}

TEST(TapeDriveOpen, RefusesOtherDeviceTypes) {
  auto sim = make_sim();
  std::vector<std::byte> disk(36);
  disk[0] = std::byte{0x00};  // direct access
  disk[4] = std::byte{31};
  sim->scripted[scsi::opcode::kInquiry].push_back({Exchange{}, disk});
  auto d = open_sim(sim);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error(), tape_errc::not_a_tape);
}

TEST(TapeDriveIo, VariableRecordsFilemarksAndEndOfData) {
  auto sim = make_sim();
  auto d = open_sim(sim);
  ASSERT_TRUE(d);
  const std::vector<std::size_t> sizes = {1, 512, 1000, 65536, 300000};
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    auto w = d->write(pattern(sizes[i], static_cast<unsigned>(i)));
    ASSERT_TRUE(w) << why(*d);
    EXPECT_FALSE(w->early_warning);
    EXPECT_EQ(block_of(*d), i + 1);
  }
  ASSERT_TRUE(d->write_filemarks(1));
  ASSERT_TRUE(d->write(pattern(77, 99)));
  ASSERT_TRUE(d->write_filemarks(2));
  auto end = d->position();
  ASSERT_TRUE(end);
  EXPECT_EQ(end->block, 9u);
  EXPECT_EQ(end->file, 3u);

  ASSERT_TRUE(d->rewind());
  std::vector<std::byte> buf(400000);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    auto r = d->read(buf);
    ASSERT_TRUE(r) << why(*d);
    EXPECT_EQ(r->status, ReadStatus::short_record);
    EXPECT_EQ(r->bytes, sizes[i]);
    EXPECT_EQ(r->residue, static_cast<std::int64_t>(buf.size() - sizes[i]));
    EXPECT_EQ(std::vector<std::byte>(buf.begin(), buf.begin() + r->bytes),
              pattern(sizes[i], static_cast<unsigned>(i)));
    EXPECT_EQ(block_of(*d), i + 1);
  }
  auto fm = d->read(buf);
  ASSERT_TRUE(fm);
  EXPECT_EQ(fm->status, ReadStatus::filemark);
  auto p = d->position();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->block, 6u);
  EXPECT_EQ(p->file, 1u);
  auto r = d->read(std::span(buf).first(77));
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, ReadStatus::data);
  EXPECT_EQ(r->bytes, 77u);
  EXPECT_EQ(d->read(buf)->status, ReadStatus::filemark);
  EXPECT_EQ(d->read(buf)->status, ReadStatus::filemark);
  auto eod = d->read(buf);
  ASSERT_TRUE(eod);
  EXPECT_EQ(eod->status, ReadStatus::end_of_data);
  EXPECT_EQ(block_of(*d), 9u);
}

TEST(TapeDriveIo, SiliAndLongRecords) {
  auto sim = make_sim();
  DriveOptions o;
  o.sili = true;
  auto d = open_sim(sim, o);
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->write(pattern(1000, 1)));
  ASSERT_TRUE(d->write(pattern(1000, 2)));
  ASSERT_TRUE(d->rewind());
  std::vector<std::byte> big(4096);
  auto r = d->read(big);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, ReadStatus::data);  // SILI: no ILI for a short record
  EXPECT_EQ(r->bytes, 1000u);
  std::vector<std::byte> small(100);
  auto l = d->read(small);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->status, ReadStatus::long_record);  // SILI never hides an overlength record
  EXPECT_EQ(l->residue, -900);
  EXPECT_EQ(l->bytes, 100u);
  const auto second = pattern(1000, 2);
  EXPECT_EQ(small, std::vector<std::byte>(second.begin(), second.begin() + 100));
  EXPECT_EQ(block_of(*d), 2u);  // the long record was passed
}

TEST(TapeDriveIo, FixedModeBlocksShortLastBlockAndWrongLength) {
  auto sim = make_sim();
  auto d = open_sim(sim);
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->write(pattern(100, 9)));  // a 100-byte record in variable mode
  ASSERT_TRUE(d->set_block_size(512)) << why(*d);
  EXPECT_EQ(d->medium().block_size, 512u);
  EXPECT_EQ(sim->drive.block_size(), 512u);
  const int writes = sim->commands[kWrite6];
  auto partial = d->write(pattern(700, 1));
  ASSERT_FALSE(partial);
  EXPECT_EQ(partial.error(), tape_errc::invalid_block_size);
  EXPECT_EQ(sim->commands[kWrite6], writes);  // refused before any CDB
  auto padded = pattern(1024, 1);             // the caller pads the short last block
  ASSERT_TRUE(d->write(padded));
  ASSERT_TRUE(d->write_filemarks(1));
  EXPECT_EQ(block_of(*d), 4u);

  ASSERT_TRUE(d->rewind());
  std::vector<std::byte> buf(2048);
  auto wrong = d->read(buf);
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, ReadStatus::wrong_block_length);
  EXPECT_EQ(wrong->bytes, 0u);
  EXPECT_EQ(wrong->residue, 4);
  EXPECT_EQ(block_of(*d), 1u);
  auto fm = d->read(buf);  // 2 blocks, then the filemark
  ASSERT_TRUE(fm);
  EXPECT_EQ(fm->status, ReadStatus::filemark);
  EXPECT_EQ(fm->bytes, 1024u);
  EXPECT_EQ(fm->residue, 2);
  EXPECT_EQ(std::vector<std::byte>(buf.begin(), buf.begin() + 1024), padded);
  EXPECT_EQ(block_of(*d), 4u);
  EXPECT_EQ(d->read(std::span(buf).first(100)).error(), tape_errc::invalid_block_size);
}

TEST(TapeDriveIo, EarlyWarningThenVolumeOverflow) {
  auto sim = make_sim(256 << 10, 64 << 10);
  auto d = open_sim(sim);
  ASSERT_TRUE(d);
  const auto rec = pattern(16 << 10, 3);
  int written = 0;
  int first_warning = -1;
  for (;;) {
    auto w = d->write(rec);
    if (!w) break;
    ++written;
    if (w->early_warning && first_warning < 0) first_warning = written;
    ASSERT_LT(written, 100);
  }
  ASSERT_GT(first_warning, 0) << "no early warning before the hard end";
  EXPECT_LT(first_warning, written);
  ASSERT_TRUE(d->last_error());
  const TapeError& e = *d->last_error();
  EXPECT_EQ(e.code, tape_errc::volume_overflow) << e.message();
  EXPECT_EQ(e.record, static_cast<std::uint64_t>(written));
  EXPECT_EQ(e.residue, 16 << 10);
  EXPECT_EQ(e.block, static_cast<std::uint64_t>(written));
  EXPECT_EQ(block_of(*d), static_cast<std::uint64_t>(written));  // the failed record is not on tape
}

TEST(TapeDriveIo, DeferredErrorAndUnitAttentionAreDistinct) {
  auto sim = make_sim();
  auto d = open_sim(sim);
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->write(pattern(100, 1)));
  scsi::SenseData deferred = scsi::make_sense(scsi::SenseKey::medium_error, 0x0c, 0x00);
  deferred.response_code = 0x71;
  sim->drive.inject(kWrite6, deferred);
  auto w = d->write(pattern(100, 2));
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error(), tape_errc::deferred_error);
  ASSERT_TRUE(d->last_error()->sense);
  EXPECT_TRUE(d->last_error()->sense->deferred());
  EXPECT_EQ(d->last_error()->block, 1u);
  EXPECT_EQ(d->last_error()->record, 1u);
  EXPECT_EQ(block_of(*d), 1u);

  ASSERT_TRUE(d->rewind());
  sim->drive.logical_unit_reset();  // 29/03 for every nexus
  std::vector<std::byte> buf(100);
  auto r = d->read(buf);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), tape_errc::unit_attention);
  EXPECT_EQ(d->last_error()->sense->asc, 0x29);
  EXPECT_EQ(d->last_error()->block, 0u);
  auto again = d->read(buf);
  ASSERT_TRUE(again) << why(*d);
  EXPECT_EQ(again->status, ReadStatus::data);
  EXPECT_EQ(block_of(*d), 1u);
}

}  // namespace
}  // namespace uiscsi::tape::test
