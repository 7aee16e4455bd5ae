// tape::Drive positioning against tapesim: SPACE in both directions with residues, LOCATE,
// READ POSITION (block, file, BOP), ERASE, LOAD/UNLOAD and medium removal.
//
// Layout used (logical objects): 0-2 records, 3 FM, 4-5 records, 6 FM, 7-10 records, EOD 11.
#include <gtest/gtest.h>

#include "test_util.hpp"

namespace uiscsi::tape::test {
namespace {

void write_layout(Drive& d) {
  for (unsigned i = 0; i < 3; ++i)
    ASSERT_TRUE(d.write(pattern(100 + i, i)));
  ASSERT_TRUE(d.write_filemarks(1));
  for (unsigned i = 3; i < 5; ++i)
    ASSERT_TRUE(d.write(pattern(100 + i, i)));
  ASSERT_TRUE(d.write_filemarks(1));
  for (unsigned i = 5; i < 9; ++i)
    ASSERT_TRUE(d.write(pattern(100 + i, i)));
}

void expect_at(Drive& d, std::uint64_t block, std::optional<std::uint64_t> file) {
  auto p = d.position();
  ASSERT_TRUE(p) << why(d);
  EXPECT_EQ(p->block, block);
  EXPECT_EQ(p->file, file);
  EXPECT_EQ(p->bop, block == 0);
}

class TapeDrivePosition : public ::testing::Test {
 protected:
  void SetUp() override {
    sim_ = make_sim();
    auto d = open_sim(sim_);
    ASSERT_TRUE(d);
    drive_.emplace(std::move(*d));
    write_layout(*drive_);
    expect_at(*drive_, 11, 2);
    ASSERT_TRUE(drive_->rewind());
    expect_at(*drive_, 0, 0);
  }
  std::shared_ptr<SimTransport::Shared> sim_;
  std::optional<Drive> drive_;
};

TEST_F(TapeDrivePosition, SpaceFilemarksBothDirections) {
  Drive& d = *drive_;
  ASSERT_TRUE(d.space(SpaceUnit::filemarks, 2)) << why(d);
  expect_at(d, 7, 2);
  ASSERT_TRUE(d.space(SpaceUnit::filemarks, -1)) << why(d);
  expect_at(d, 6, 1);  // SSC-3: backwards, the BOP side of the filemark
  ASSERT_TRUE(d.space(SpaceUnit::blocks, -1));
  expect_at(d, 5, 1);
  // Forward past the end of data: stops at EOD with the filemarks not spaced as residue.
  auto eod = d.space(SpaceUnit::filemarks, 3);
  ASSERT_FALSE(eod);
  EXPECT_EQ(eod.error(), tape_errc::end_of_data);
  EXPECT_EQ(d.last_error()->residue.value_or(0), 2);
  expect_at(d, 11, 2);
}

TEST_F(TapeDrivePosition, SpaceBlocksStopsAtFilemarksWithResidue) {
  Drive& d = *drive_;
  auto forward = d.space(SpaceUnit::blocks, 5);
  ASSERT_FALSE(forward);
  EXPECT_EQ(forward.error(), tape_errc::filemark);
  EXPECT_EQ(d.last_error()->residue.value_or(0), 2);  // 3 records spaced, then the filemark
  expect_at(d, 4, 1);
  auto back = d.space(SpaceUnit::blocks, -10);
  ASSERT_FALSE(back);
  EXPECT_EQ(back.error(), tape_errc::filemark);
  EXPECT_EQ(std::llabs(d.last_error()->residue.value_or(0)), 10);
  expect_at(d, 3, 0);
  ASSERT_TRUE(d.space(SpaceUnit::blocks, -3));
  expect_at(d, 0, 0);
  auto bop = d.space(SpaceUnit::blocks, -1);
  ASSERT_FALSE(bop);
  EXPECT_EQ(bop.error(), tape_errc::beginning_of_partition);
  expect_at(d, 0, 0);
  ASSERT_TRUE(d.space(SpaceUnit::end_of_data, 0));
  expect_at(d, 11, 2);
  auto past = d.space(SpaceUnit::blocks, 1);
  ASSERT_FALSE(past);
  EXPECT_EQ(past.error(), tape_errc::end_of_data);
}

TEST_F(TapeDrivePosition, LocateAndReadBack) {
  Drive& d = *drive_;
  ASSERT_TRUE(d.locate(5)) << why(d);
  expect_at(d, 5, 1);
  std::vector<std::byte> buf(200);
  auto r = d.read(buf);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bytes, 104u);
  EXPECT_EQ(std::vector<std::byte>(buf.begin(), buf.begin() + 104), pattern(104, 4));
  EXPECT_EQ(d.read(buf)->status, ReadStatus::filemark);
  expect_at(d, 7, 2);
  ASSERT_TRUE(d.locate(0));
  expect_at(d, 0, 0);
  auto beyond = d.locate(100);
  ASSERT_FALSE(beyond);
  EXPECT_EQ(beyond.error(), tape_errc::end_of_data);
}

TEST_F(TapeDrivePosition, EraseLoadUnloadLock) {
  Drive& d = *drive_;
  ASSERT_TRUE(d.locate(4));
  ASSERT_TRUE(d.erase());
  ASSERT_TRUE(d.space(SpaceUnit::end_of_data, 0));
  expect_at(d, 4, 1);
  ASSERT_TRUE(d.lock()) << why(d);
  EXPECT_FALSE(sim_->drive.eject());  // removal prevented
  ASSERT_TRUE(d.unlock()) << why(d);
  ASSERT_TRUE(d.unload()) << why(d);
  std::vector<std::byte> buf(100);
  auto r = d.read(buf);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), tape_errc::no_medium);
  ASSERT_TRUE(d.load()) << why(d);
  expect_at(d, 0, 0);
}

}  // namespace
}  // namespace uiscsi::tape::test
