// SPACE, LOCATE, REWIND and READ POSITION (SSC-3) in both directions, with marks, partitions and
// the beginning and end of data.
#include <gtest/gtest.h>

#include "tapesim/drive.hpp"
#include "tapesim_test_util.hpp"
#include "uiscsi/scsi/data.hpp"

namespace uiscsi::tapesim {
namespace {

using scsi::SpaceCode;
using test::expect_field;
using test::expect_good;
using test::expect_sense;
using test::Harness;
using test::pattern;

// Objects: 0 R, 1 R, 2 FM, 3 R, 4 R, 5 R, 6 FM, 7 FM, 8 R; EOD at 9.
struct Layout : ::testing::Test {
  Harness h;
  void SetUp() override {
    auto rec = [&](unsigned i) { expect_good(h.run(scsi::write6_tape(10, 0), pattern(10, i))); };
    rec(0);
    rec(1);
    expect_good(h.run(scsi::write_filemarks6(1)));
    rec(3);
    rec(4);
    rec(5);
    expect_good(h.run(scsi::write_filemarks6(2)));
    rec(8);
  }
  std::uint64_t at() { return h.drive.position()->object; }
  void go(std::uint64_t i) { expect_good(h.run(scsi::locate10(i))); }
  Response space(SpaceCode code, std::int32_t n) { return h.run(scsi::space6(code, n)); }
};

TEST_F(Layout, BlocksForwardStopAfterFilemark) {
  go(0);
  expect_good(space(SpaceCode::blocks, 1));
  EXPECT_EQ(at(), 1u);
  go(0);
  auto s = expect_sense(space(SpaceCode::blocks, 5), scsi::SenseKey::no_sense, 0x00, 0x01);
  EXPECT_TRUE(s.filemark);
  EXPECT_TRUE(s.information_valid);
  EXPECT_EQ(s.information_signed(), 3);  // 5 requested, 2 spaced
  EXPECT_EQ(at(), 3u);                   // EOM side of the filemark
  expect_good(space(SpaceCode::blocks, 3));
  EXPECT_EQ(at(), 6u);
}

TEST_F(Layout, BlocksReverseStopBeforeFilemark) {
  go(6);
  auto s = expect_sense(space(SpaceCode::blocks, -5), scsi::SenseKey::no_sense, 0x00, 0x01);
  EXPECT_TRUE(s.filemark);
  EXPECT_EQ(s.information_signed(), 2);  // magnitude of the count not spaced
  EXPECT_EQ(at(), 2u);                   // BOP side of the filemark
  go(5);
  expect_good(space(SpaceCode::blocks, -2));
  EXPECT_EQ(at(), 3u);
}

TEST_F(Layout, BlocksReverseClampAtBeginningOfPartition) {
  go(2);
  auto s = expect_sense(space(SpaceCode::blocks, -5), scsi::SenseKey::no_sense, 0x00, 0x04);
  EXPECT_TRUE(s.eom);
  EXPECT_FALSE(s.filemark);
  EXPECT_EQ(s.information_signed(), 3);
  EXPECT_EQ(at(), 0u);
  s = expect_sense(space(SpaceCode::filemarks, -1), scsi::SenseKey::no_sense, 0x00, 0x04);
  EXPECT_EQ(s.information_signed(), 1);
  EXPECT_EQ(at(), 0u);
}

TEST_F(Layout, BlocksForwardIntoEndOfData) {
  go(8);
  auto s = expect_sense(space(SpaceCode::blocks, 5), scsi::SenseKey::blank_check, 0x00, 0x05);
  EXPECT_EQ(s.information_signed(), 4);
  EXPECT_EQ(at(), 9u);
}

TEST_F(Layout, FilemarksBothDirections) {
  const std::pair<std::int32_t, std::uint64_t> forward[] = {{1, 3}, {2, 7}, {3, 8}};
  for (auto [n, end] : forward) {
    go(0);
    expect_good(space(SpaceCode::filemarks, n));
    EXPECT_EQ(at(), end) << n;
  }
  go(0);
  auto s = expect_sense(space(SpaceCode::filemarks, 4), scsi::SenseKey::blank_check, 0x00, 0x05);
  EXPECT_EQ(s.information_signed(), 1);
  EXPECT_EQ(at(), 9u);
  const std::pair<std::int32_t, std::uint64_t> reverse[] = {{-1, 7}, {-2, 6}, {-3, 2}};
  for (auto [n, end] : reverse) {
    go(9);
    expect_good(space(SpaceCode::filemarks, n));
    EXPECT_EQ(at(), end) << n;
  }
  go(9);
  s = expect_sense(space(SpaceCode::filemarks, -4), scsi::SenseKey::no_sense, 0x00, 0x04);
  EXPECT_EQ(s.information_signed(), 1);
  EXPECT_EQ(at(), 0u);
  // Reverse one filemark and forward one: back where we were (the classic "previous file").
  go(5);
  expect_good(space(SpaceCode::filemarks, -1));
  expect_good(space(SpaceCode::filemarks, 1));
  EXPECT_EQ(at(), 3u);
}

TEST_F(Layout, SequentialFilemarks) {
  go(0);
  expect_good(space(SpaceCode::sequential_filemarks, 2));
  EXPECT_EQ(at(), 8u);
  go(9);
  expect_good(space(SpaceCode::sequential_filemarks, -2));
  EXPECT_EQ(at(), 6u);
  go(0);
  auto s = expect_sense(space(SpaceCode::sequential_filemarks, 3), scsi::SenseKey::blank_check,
                        0x00, 0x05);
  EXPECT_FALSE(s.information_valid);
  EXPECT_EQ(at(), 9u);
  go(9);
  s = expect_sense(space(SpaceCode::sequential_filemarks, -3), scsi::SenseKey::no_sense, 0x00,
                   0x04);
  EXPECT_EQ(at(), 0u);
}

TEST_F(Layout, EndOfDataAndZeroCounts) {
  go(4);
  for (auto code : {SpaceCode::blocks, SpaceCode::filemarks, SpaceCode::sequential_filemarks}) {
    expect_good(space(code, 0));
    EXPECT_EQ(at(), 4u);
  }
  expect_good(space(SpaceCode::end_of_data, 0));
  EXPECT_EQ(at(), 9u);
  EXPECT_TRUE(h.drive.position()->eod);
}

TEST_F(Layout, Space16LargeAndNegativeCounts) {
  go(4);
  auto s = expect_sense(h.run(scsi::space16(SpaceCode::blocks, -(std::int64_t{1} << 40))),
                        scsi::SenseKey::no_sense, 0x00, 0x01);
  EXPECT_EQ(at(), 2u);
  // The residue does not fit the 4-byte fixed-format INFORMATION: VALID is 0.
  EXPECT_FALSE(s.information_valid);
  expect_good(h.run(scsi::space16(SpaceCode::filemarks, 2)));  // the marks at 2 and 6
  EXPECT_EQ(at(), 7u);
  auto c = scsi::space16(SpaceCode::blocks, 1);
  c.cdb.mutable_bytes()[13] = std::byte{1};  // PARAMETER LENGTH
  s = expect_sense(h.run(c), scsi::SenseKey::illegal_request, 0x24, 0x00);
  expect_field(s, true, 12, 7);
  s = expect_sense(h.run(test::cdb({0x11, 0x06, 0, 0, 1, 0})), scsi::SenseKey::illegal_request,
                   0x24, 0x00);  // CODE 6
  expect_field(s, true, 1, 3);
}

TEST_F(Layout, LocateAndReadPositionAgree) {
  const std::uint64_t files[] = {0, 0, 0, 1, 1, 1, 1, 2, 3, 3};
  for (std::uint64_t i = 0; i <= 9; ++i) {
    go(i);
    Response r = h.run(scsi::read_position(scsi::ReadPositionForm::short_form));
    expect_good(r);
    auto p = scsi::parse_read_position(r.data_in, scsi::ReadPositionForm::short_form);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->first_block, i);
    EXPECT_EQ(p->last_block, i);
    EXPECT_EQ(p->bop, i == 0);
    EXPECT_FALSE(p->eop);
    EXPECT_EQ(p->partition, 0u);
    r = h.run(scsi::read_position(scsi::ReadPositionForm::long_form));
    auto l = scsi::parse_read_position(r.data_in, scsi::ReadPositionForm::long_form);
    ASSERT_TRUE(l);
    EXPECT_EQ(l->first_block, i);
    EXPECT_EQ(l->file_number, files[i]) << i;
    EXPECT_EQ(l->set_number, 0u);
    r = h.run(scsi::read_position(scsi::ReadPositionForm::extended_form));
    auto e = scsi::parse_read_position(r.data_in, scsi::ReadPositionForm::extended_form);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->first_block, i);
    EXPECT_EQ(e->bop, i == 0);
    // LOCATE(16) by object lands on the same spot.
    expect_good(h.run(scsi::rewind()));
    expect_good(h.run(scsi::locate16(i)));
    EXPECT_EQ(at(), i);
  }
}

TEST_F(Layout, LocatePastEndOfDataAndByFile) {
  auto s = expect_sense(h.run(scsi::locate10(12)), scsi::SenseKey::blank_check, 0x00, 0x05);
  EXPECT_EQ(at(), 9u);
  const std::pair<std::uint64_t, std::uint64_t> files[] = {{0, 0}, {1, 3}, {2, 7}, {3, 8}};
  for (auto [file, object] : files) {
    expect_good(h.run(scsi::locate16(file, scsi::LocateDestination::logical_file)));
    EXPECT_EQ(at(), object) << file;
  }
  expect_sense(h.run(scsi::locate16(4, scsi::LocateDestination::logical_file)),
               scsi::SenseKey::blank_check, 0x00, 0x05);
  EXPECT_EQ(at(), 9u);
  go(2);
  expect_good(h.run(scsi::locate16(0, scsi::LocateDestination::end_of_data)));
  EXPECT_EQ(at(), 9u);
  // DEST_TYPE 2 is reserved; BAM must be 0.
  auto c = scsi::locate16(0);
  c.cdb.mutable_bytes()[1] = std::byte{0x10};
  s = expect_sense(h.run(c), scsi::SenseKey::illegal_request, 0x24, 0x00);
  expect_field(s, true, 1, 5);
  c = scsi::locate16(0);
  c.cdb.mutable_bytes()[2] = std::byte{0x01};
  s = expect_sense(h.run(c), scsi::SenseKey::illegal_request, 0x24, 0x00);
  expect_field(s, true, 2, 0);
}

TEST_F(Layout, ReadPositionFormsAndFields) {
  // Service action 02h does not exist.
  auto s = expect_sense(h.run(test::cdb({0x34, 0x02, 0, 0, 0, 0, 0, 0, 0, 0})),
                        scsi::SenseKey::illegal_request, 0x24, 0x00);
  expect_field(s, true, 1);
  // The extended form honours ALLOCATION LENGTH.
  Response r = h.run(test::cdb({0x34, 0x08, 0, 0, 0, 0, 0, 0, 10, 0}));
  expect_good(r);
  EXPECT_EQ(r.data_in.size(), 10u);
  r = h.run(scsi::read_position(scsi::ReadPositionForm::short_vendor));
  expect_good(r);
  EXPECT_EQ(r.data_in.size(), 20u);
}

TEST_F(Layout, RewindGoesToBeginningOfPartition) {
  go(7);
  expect_good(h.run(scsi::rewind(true)));
  EXPECT_EQ(at(), 0u);
  EXPECT_TRUE(h.drive.position()->bop);
}

TEST(DrivePosition, SetmarksAreTransparentUnlessReported) {
  Harness h;
  // 0 R, 1 SM, 2 R, 3 FM, 4 R
  expect_good(h.run(scsi::write6_tape(10, 0), pattern(10, 0)));
  expect_good(h.run(scsi::write_filemarks6(1, false, true)));
  expect_good(h.run(scsi::write6_tape(10, 0), pattern(10, 2)));
  expect_good(h.run(scsi::write_filemarks6(1)));
  expect_good(h.run(scsi::write6_tape(10, 0), pattern(10, 4)));
  EXPECT_EQ(h.drive.position()->set, 1u);
  EXPECT_EQ(h.drive.position()->file, 1u);

  expect_good(h.run(scsi::rewind()));
  expect_good(h.run(scsi::space6(SpaceCode::blocks, 2)));
  EXPECT_EQ(h.drive.position()->object, 3u);
  expect_good(h.run(scsi::locate10(1)));
  Response r = h.run(scsi::read6_tape(10, 0));  // the setmark is passed silently
  expect_good(r);
  EXPECT_EQ(r.data_in, pattern(10, 2));

  h.drive.set_report_setmarks(true);
  expect_good(h.run(scsi::rewind()));
  auto s =
      expect_sense(h.run(scsi::space6(SpaceCode::blocks, 2)), scsi::SenseKey::no_sense, 0x00, 0x03);
  EXPECT_TRUE(s.filemark);
  EXPECT_EQ(s.information_signed(), 1);
  EXPECT_EQ(h.drive.position()->object, 2u);
  s = expect_sense(h.run(scsi::space6(SpaceCode::filemarks, -1)), scsi::SenseKey::no_sense, 0x00,
                   0x03);
  EXPECT_EQ(h.drive.position()->object, 1u);
  s = expect_sense(h.run(scsi::read6_tape(10, 0)), scsi::SenseKey::no_sense, 0x00, 0x03);
  EXPECT_EQ(h.drive.position()->object, 2u);

  expect_good(h.run(scsi::rewind()));
  expect_good(h.run(scsi::space6(SpaceCode::setmarks, 1)));
  EXPECT_EQ(h.drive.position()->object, 2u);
  expect_good(h.run(scsi::space6(SpaceCode::setmarks, -1)));
  EXPECT_EQ(h.drive.position()->object, 1u);
  expect_good(h.run(scsi::rewind()));
  expect_good(h.run(scsi::space6(SpaceCode::sequential_setmarks, 1)));
  EXPECT_EQ(h.drive.position()->object, 2u);
}

TEST(DrivePosition, PartitionsAndChangePartition) {
  MediumOptions o = test::small_medium(1 << 20, 1024);
  o.partitions = {1 << 18, 1 << 19};
  Harness h(o);
  expect_good(h.run(scsi::write6_tape(10, 0), pattern(10, 1)));
  expect_good(h.run(scsi::locate10(0, {.change_partition = true, .partition = 1})));
  auto p = h.drive.position();
  EXPECT_EQ(p->partition, 1u);
  EXPECT_TRUE(p->bop);
  expect_good(h.run(scsi::write6_tape(20, 0), pattern(20, 2)));
  expect_good(h.run(scsi::write6_tape(20, 0), pattern(20, 3)));
  expect_good(h.run(scsi::rewind()));
  EXPECT_EQ(h.drive.position()->partition, 1u);  // REWIND stays in the partition
  Response r = h.run(scsi::read_position(scsi::ReadPositionForm::long_form));
  auto l = scsi::parse_read_position(r.data_in, scsi::ReadPositionForm::long_form);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->partition, 1u);
  r = h.run(scsi::read6_tape(20, 0));
  EXPECT_EQ(r.data_in, pattern(20, 2));
  expect_good(h.run(scsi::locate16(1, scsi::LocateDestination::logical_object,
                                   {.change_partition = true, .partition = 0})));
  EXPECT_EQ(h.drive.position()->partition, 0u);
  EXPECT_EQ(h.drive.position()->object, 1u);
  auto s = expect_sense(h.run(scsi::locate10(0, {.change_partition = true, .partition = 2})),
                        scsi::SenseKey::illegal_request, 0x24, 0x00);
  expect_field(s, true, 8, 7);
  s = expect_sense(h.run(scsi::locate16(0, scsi::LocateDestination::logical_object,
                                        {.change_partition = true, .partition = 9})),
                   scsi::SenseKey::illegal_request, 0x24, 0x00);
  expect_field(s, true, 3, 7);
  // Without CP the PARTITION field is ignored.
  expect_good(h.run(scsi::locate10(0, {.change_partition = false, .partition = 7})));
  EXPECT_EQ(h.drive.position()->partition, 0u);
  // The typed API.
  expect_good(h.drive.locate(2, scsi::LocateDestination::logical_object, 1));
  EXPECT_EQ(h.drive.position()->object, 2u);
  EXPECT_TRUE(h.drive.position()->eod);
}

TEST(DrivePosition, EarlyWarningShowsInReadPosition) {
  Harness h(test::small_medium(10000, 2000));
  expect_good(h.run(scsi::write6_tape(8000, 0), pattern(8000, 1)));
  Response r = h.run(scsi::read_position());
  auto p = scsi::parse_read_position(r.data_in, scsi::ReadPositionForm::short_form);
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->eop);
  expect_sense(h.run(scsi::write6_tape(10, 0), pattern(10, 1)), scsi::SenseKey::no_sense, 0, 0x02);
  r = h.run(scsi::read_position());
  p = scsi::parse_read_position(r.data_in, scsi::ReadPositionForm::short_form);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->eop);
  EXPECT_EQ(p->first_block, 2u);
}

}  // namespace
}  // namespace uiscsi::tapesim
