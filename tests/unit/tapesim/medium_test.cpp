// Medium in memory: objects, running counts, capacity, partitions, compression, truncation.
#include "tapesim/medium.hpp"

#include <gtest/gtest.h>

#include "tapesim/errors.hpp"
#include "tapesim_test_util.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::tapesim {
namespace {

using test::pattern;
using test::text;

Medium blank(MediumOptions o = test::small_medium()) {
  auto m = Medium::create(o);
  EXPECT_TRUE(m) << m.error().message();
  return std::move(*m);
}

TEST(Medium, RejectsBadGeometry) {
  MediumOptions o;
  o.capacity = 0;
  EXPECT_EQ(Medium::create(o).error(), tapesim_errc::invalid_geometry);
  o = test::small_medium(1000);
  o.partitions = {600, 500};
  EXPECT_EQ(Medium::create(o).error(), tapesim_errc::invalid_geometry);
  o.partitions = {600, 0};
  EXPECT_EQ(Medium::create(o).error(), tapesim_errc::invalid_geometry);
  o.partitions.assign(65, 10);
  EXPECT_EQ(Medium::create(o).error(), tapesim_errc::invalid_geometry);
  o = test::small_medium();
  o.barcode = "BAD\x01";
  EXPECT_EQ(Medium::create(o).error(), tapesim_errc::invalid_geometry);
  o.barcode = std::string(33, 'A');
  EXPECT_EQ(Medium::create(o).error(), tapesim_errc::invalid_geometry);
}

TEST(Medium, AppendsAndReadsObjectsWithRunningCounts) {
  Medium m = blank();
  const auto a = pattern(100, 1);
  const auto b = pattern(300, 2);
  ASSERT_TRUE(m.write_record(0, 0, a, false));
  ASSERT_TRUE(m.write_mark(0, 1, ObjectKind::filemark));
  ASSERT_TRUE(m.write_record(0, 2, b, false));
  ASSERT_TRUE(m.write_mark(0, 3, ObjectKind::setmark));
  ASSERT_TRUE(m.write_mark(0, 4, ObjectKind::filemark));
  EXPECT_EQ(m.object_count(0), 5u);
  EXPECT_EQ(m.object(0, 0), (ObjectInfo{ObjectKind::record, false, 100, 100}));
  EXPECT_EQ(m.object(0, 1).kind, ObjectKind::filemark);
  EXPECT_EQ(m.bytes_before(0, 0), 0u);
  EXPECT_EQ(m.bytes_before(0, 3), 400u);
  EXPECT_EQ(m.used_bytes(0), 400u);
  EXPECT_EQ(m.filemarks_before(0, 2), 1u);
  EXPECT_EQ(m.filemarks_before(0, 5), 2u);
  EXPECT_EQ(m.setmarks_before(0, 4), 1u);
  EXPECT_EQ(m.after_filemark(0, 1), 2u);
  EXPECT_EQ(m.after_filemark(0, 2), 5u);
  EXPECT_EQ(m.after_filemark(0, 3), std::nullopt);
  std::vector<std::byte> out(300);
  ASSERT_TRUE(m.read(0, 2, out));
  EXPECT_EQ(out, b);
  EXPECT_EQ(m.read(0, 1, out).error(), errc::invalid_argument);               // a mark
  EXPECT_EQ(m.read(0, 0, out).error(), errc::invalid_argument);               // wrong length
  EXPECT_EQ(m.write_record(0, 6, a, false).error(), errc::invalid_argument);  // past EOD
  EXPECT_EQ(m.write_record(0, 0, {}, false).error(), errc::invalid_argument);
}

TEST(Medium, WritingInTheMiddleTruncates) {
  Medium m = blank();
  for (unsigned i = 0; i < 5; ++i)
    ASSERT_TRUE(m.write_record(0, i, pattern(10 + i, i), false));
  ASSERT_TRUE(m.write_record(0, 2, pattern(7, 9), false));
  EXPECT_EQ(m.object_count(0), 3u);
  EXPECT_EQ(m.used_bytes(0), 10u + 11u + 7u);
  ASSERT_TRUE(m.truncate(0, 1));
  EXPECT_EQ(m.object_count(0), 1u);
  EXPECT_EQ(m.used_bytes(0), 10u);
}

TEST(Medium, MarksTakeTheirSizeAndTheHardEndHolds) {
  MediumOptions o = test::small_medium(1000, 100);
  o.mark_size = 50;
  Medium m = blank(o);
  ASSERT_TRUE(m.write_record(0, 0, pattern(900, 1), false));
  ASSERT_TRUE(m.write_mark(0, 1, ObjectKind::filemark));
  EXPECT_EQ(m.used_bytes(0), 950u);
  EXPECT_TRUE(m.in_early_warning(0, 950));
  EXPECT_FALSE(m.in_early_warning(0, 900));
  EXPECT_EQ(m.write_record(0, 2, pattern(51, 2), false).error(), tapesim_errc::volume_overflow);
  ASSERT_TRUE(m.write_record(0, 2, pattern(50, 2), false));
  EXPECT_EQ(m.write_mark(0, 3, ObjectKind::filemark).error(), tapesim_errc::volume_overflow);
  EXPECT_EQ(m.object_count(0), 3u);
}

TEST(Medium, CompressionStoresFewerBytesAndReadsBack) {
  Medium m = blank();
  const auto t = text(10000);
  auto info = m.write_record(0, 0, t, true);
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->compressed);
  EXPECT_LT(info->stored, 1000u);
  EXPECT_EQ(info->length, 10000u);
  EXPECT_EQ(m.used_bytes(0), info->stored);
  // Random data does not shrink: stored raw even when compression is asked for.
  auto raw = m.write_record(0, 1, pattern(5000, 3), true);
  ASSERT_TRUE(raw);
  EXPECT_FALSE(raw->compressed);
  EXPECT_EQ(raw->stored, 5000u);
  std::vector<std::byte> out(10000);
  ASSERT_TRUE(m.read(0, 0, out));
  EXPECT_EQ(out, t);
}

TEST(Medium, PartitionsAreIndependent) {
  MediumOptions o = test::small_medium(10000, 100);
  o.partitions = {4000, 6000};
  Medium m = blank(o);
  EXPECT_EQ(m.partition_count(), 2u);
  EXPECT_EQ(m.partition_size(1), 6000u);
  EXPECT_EQ(m.early_warning_zone(0), 100u);
  ASSERT_TRUE(m.write_record(1, 0, pattern(5000, 1), false));
  EXPECT_EQ(m.object_count(0), 0u);
  EXPECT_EQ(m.write_record(0, 0, pattern(4001, 1), false).error(), tapesim_errc::volume_overflow);
  ASSERT_TRUE(m.format(std::vector<std::uint64_t>{10000}));
  EXPECT_EQ(m.partition_count(), 1u);
  EXPECT_EQ(m.object_count(0), 0u);
  EXPECT_EQ(m.format(std::vector<std::uint64_t>{5000, 5001}).error(),
            tapesim_errc::invalid_geometry);
}

TEST(Medium, EarlyWarningZoneIsAtMostHalfAPartition) {
  MediumOptions o = test::small_medium(1000, 800);
  Medium m = blank(o);
  EXPECT_EQ(m.early_warning_zone(0), 500u);
  o.early_warning = 0;
  Medium none = blank(o);
  EXPECT_FALSE(none.in_early_warning(0, 1000));
}

TEST(Medium, WriteProtectBlocksChanges) {
  MediumOptions o = test::small_medium();
  o.write_protected = true;
  Medium m = blank(o);
  EXPECT_EQ(m.write_record(0, 0, pattern(10, 1), false).error(), tapesim_errc::write_protected);
  EXPECT_EQ(m.write_mark(0, 0, ObjectKind::filemark).error(), tapesim_errc::write_protected);
  EXPECT_EQ(m.truncate(0, 0).error(), tapesim_errc::write_protected);
  EXPECT_EQ(m.format(std::vector<std::uint64_t>{100}).error(), tapesim_errc::write_protected);
  ASSERT_TRUE(m.set_write_protected(false));
  EXPECT_TRUE(m.write_record(0, 0, pattern(10, 1), false));
}

TEST(Medium, MaxObjectsIsTheEndOfTheMedium) {
  MediumOptions o = test::small_medium();
  o.max_objects = 3;
  o.partitions = {1000, 1000};
  Medium m = blank(o);
  ASSERT_TRUE(m.write_mark(0, 0, ObjectKind::filemark));
  ASSERT_TRUE(m.write_mark(1, 0, ObjectKind::filemark));
  ASSERT_TRUE(m.write_record(0, 1, pattern(5, 1), false));
  EXPECT_EQ(m.write_mark(1, 1, ObjectKind::filemark).error(), tapesim_errc::volume_overflow);
  ASSERT_TRUE(m.write_mark(0, 1, ObjectKind::setmark));  // replaces the record
}

TEST(Medium, MoveKeepsContents) {
  Medium m = blank();
  ASSERT_TRUE(m.write_record(0, 0, pattern(10, 1), false));
  Medium n = std::move(m);
  EXPECT_EQ(n.object_count(0), 1u);
  Medium o = blank();
  o = std::move(n);
  EXPECT_EQ(o.object_count(0), 1u);
}

}  // namespace
}  // namespace uiscsi::tapesim
