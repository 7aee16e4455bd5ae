// CDB bytes of the SSC-3 (tape) and SMC-3 (changer) builders.
#include <gtest/gtest.h>

#include "scsi_test_util.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"

namespace uiscsi::scsi {
namespace {

using test::expect_cdb;

void expect_invalid(const Result<CommandSpec>& r) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::invalid_argument);
}
void expect_no_data(const CommandSpec& s) {
  EXPECT_EQ(s.direction, DataDirection::none);
  EXPECT_EQ(s.data_in_length, 0u);
  EXPECT_EQ(s.data_out_length, 0u);
}

TEST(CdbSsc, Read6VariableMode) {
  auto r = read6_tape(0x040000, 0, true);  // one record of up to 256 KiB, SILI
  ASSERT_TRUE(r);
  expect_cdb(*r, {0x08, 0x02, 0x04, 0x00, 0x00, 0x00});
  EXPECT_EQ(r->direction, DataDirection::from_device);
  EXPECT_EQ(r->data_in_length, 0x40000u);
  auto plain = read6_tape(512, 0);
  ASSERT_TRUE(plain);
  expect_cdb(*plain, {0x08, 0x00, 0x00, 0x02, 0x00, 0x00});
}

TEST(CdbSsc, Read6FixedMode) {
  auto r = read6_tape(16, 1024);  // 16 blocks of 1 KiB
  ASSERT_TRUE(r);
  expect_cdb(*r, {0x08, 0x01, 0x00, 0x00, 0x10, 0x00});
  EXPECT_EQ(r->data_in_length, 16384u);
}

TEST(CdbSsc, Read6Limits) {
  expect_invalid(read6_tape(0x1000000, 0));   // 24-bit transfer length
  expect_invalid(read6_tape(1, 512, true));   // SILI with FIXED is illegal
  expect_invalid(read6_tape(0xffffff, 512));  // byte count overflows 32 bits
  auto max = read6_tape(0xffffff, 0);
  ASSERT_TRUE(max);
  expect_cdb(*max, {0x08, 0x00, 0xff, 0xff, 0xff, 0x00});
}

TEST(CdbSsc, Write6) {
  auto v = write6_tape(65536, 0);
  ASSERT_TRUE(v);
  expect_cdb(*v, {0x0a, 0x00, 0x01, 0x00, 0x00, 0x00});
  EXPECT_EQ(v->direction, DataDirection::to_device);
  EXPECT_EQ(v->data_out_length, 65536u);
  auto f = write6_tape(3, 512);
  ASSERT_TRUE(f);
  expect_cdb(*f, {0x0a, 0x01, 0x00, 0x00, 0x03, 0x00});
  EXPECT_EQ(f->data_out_length, 1536u);
  expect_invalid(write6_tape(0x1000000, 0));
}

TEST(CdbSsc, WriteFilemarks) {
  auto one = write_filemarks6(1);
  ASSERT_TRUE(one);
  expect_cdb(*one, {0x10, 0x00, 0x00, 0x00, 0x01, 0x00});
  expect_no_data(*one);
  auto sm = write_filemarks6(0x123456, true, true);
  ASSERT_TRUE(sm);
  expect_cdb(*sm, {0x10, 0x03, 0x12, 0x34, 0x56, 0x00});  // WSMK bit 1, IMMED bit 0
  auto flush = write_filemarks6(0);                       // zero filemarks: flush the buffer
  ASSERT_TRUE(flush);
  expect_cdb(*flush, {0x10, 0, 0, 0, 0, 0});
  expect_invalid(write_filemarks6(0x1000000));
}

TEST(CdbSsc, Space6SignedCounts) {
  auto fwd = space6(SpaceCode::filemarks, 1);
  ASSERT_TRUE(fwd);
  expect_cdb(*fwd, {0x11, 0x01, 0x00, 0x00, 0x01, 0x00});
  auto back = space6(SpaceCode::blocks, -1);
  ASSERT_TRUE(back);
  expect_cdb(*back, {0x11, 0x00, 0xff, 0xff, 0xff, 0x00});
  auto back2 = space6(SpaceCode::filemarks, -2);
  ASSERT_TRUE(back2);
  expect_cdb(*back2, {0x11, 0x01, 0xff, 0xff, 0xfe, 0x00});
  auto eod = space6(SpaceCode::end_of_data, 0);
  ASSERT_TRUE(eod);
  expect_cdb(*eod, {0x11, 0x03, 0, 0, 0, 0});
  auto seq = space6(SpaceCode::sequential_filemarks, 2);
  ASSERT_TRUE(seq);
  expect_cdb(*seq, {0x11, 0x02, 0, 0, 2, 0});
  auto sm = space6(SpaceCode::setmarks, 5);
  ASSERT_TRUE(sm);
  expect_cdb(*sm, {0x11, 0x04, 0, 0, 5, 0});
  auto min = space6(SpaceCode::blocks, -(1 << 23));
  ASSERT_TRUE(min);
  expect_cdb(*min, {0x11, 0x00, 0x80, 0x00, 0x00, 0x00});
  auto max = space6(SpaceCode::blocks, (1 << 23) - 1);
  ASSERT_TRUE(max);
  expect_cdb(*max, {0x11, 0x00, 0x7f, 0xff, 0xff, 0x00});
  expect_invalid(space6(SpaceCode::blocks, 1 << 23));
  expect_invalid(space6(SpaceCode::blocks, -(1 << 23) - 1));
}

TEST(CdbSsc, Space16) {
  expect_cdb(space16(SpaceCode::blocks, -1),
             {0x91, 0x00, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0});
  const CommandSpec s = space16(SpaceCode::filemarks, 0x0102030405060708ll);
  expect_cdb(s, {0x91, 0x01, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0});
  expect_no_data(s);
  expect_cdb(space16(SpaceCode::end_of_data, 0),
             {0x91, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST(CdbSsc, Rewind) {
  expect_cdb(rewind(), {0x01, 0x00, 0, 0, 0, 0});
  expect_cdb(rewind(true), {0x01, 0x01, 0, 0, 0, 0});
  expect_no_data(rewind());
}

TEST(CdbSsc, Locate10) {
  auto l = locate10(0x01020304);
  ASSERT_TRUE(l);
  expect_cdb(*l, {0x2b, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00});
  auto p = locate10(7, {.change_partition = true, .partition = 2, .immed = true});
  ASSERT_TRUE(p);
  expect_cdb(*p, {0x2b, 0x03, 0x00, 0, 0, 0, 7, 0x00, 0x02, 0x00});  // CP bit 1, IMMED bit 0
  expect_invalid(locate10(0x100000000ull));
}

TEST(CdbSsc, Locate16) {
  expect_cdb(locate16(0x0102030405060708ull),
             {0x92, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0});
  // DEST_TYPE 001b (file) in bits 5-3, CP, partition 1.
  expect_cdb(locate16(3, LocateDestination::logical_file,
                      {.change_partition = true, .partition = 1, .immed = true}),
             {0x92, 0x0b, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0});
  expect_cdb(locate16(0, LocateDestination::end_of_data),
             {0x92, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST(CdbSsc, ReadPosition) {
  const CommandSpec s = read_position();
  expect_cdb(s, {0x34, 0x00, 0, 0, 0, 0, 0, 0x00, 0x00, 0});
  EXPECT_EQ(s.data_in_length, 20u);
  const CommandSpec l = read_position(ReadPositionForm::long_form);
  expect_cdb(l, {0x34, 0x06, 0, 0, 0, 0, 0, 0x00, 0x00, 0});
  EXPECT_EQ(l.data_in_length, 32u);
  const CommandSpec e = read_position(ReadPositionForm::extended_form);
  expect_cdb(e, {0x34, 0x08, 0, 0, 0, 0, 0, 0x00, 0x20, 0});  // ALLOCATION LENGTH 32
  EXPECT_EQ(e.data_in_length, 32u);
  EXPECT_EQ(read_position(ReadPositionForm::short_vendor).cdb[1], 0x01);
}

TEST(CdbSsc, Erase) {
  expect_cdb(erase6(true), {0x19, 0x01, 0, 0, 0, 0});
  expect_cdb(erase6(true, true), {0x19, 0x03, 0, 0, 0, 0});
  expect_cdb(erase6(false), {0x19, 0x00, 0, 0, 0, 0});
}

TEST(CdbSsc, LoadUnload) {
  expect_cdb(load_unload(true), {0x1b, 0x00, 0, 0, 0x01, 0});
  expect_cdb(load_unload(false), {0x1b, 0x00, 0, 0, 0x00, 0});
  expect_cdb(load_unload(false, {.immed = true, .hold = true, .eot = true, .retension = true}),
             {0x1b, 0x01, 0, 0, 0x0e, 0});
  expect_cdb(load_unload(true, {.retension = true}), {0x1b, 0x00, 0, 0, 0x03, 0});
}

TEST(CdbSsc, ReadBlockLimits) {
  const CommandSpec s = read_block_limits();
  expect_cdb(s, {0x05, 0, 0, 0, 0, 0});
  EXPECT_EQ(s.direction, DataDirection::from_device);
  EXPECT_EQ(s.data_in_length, 6u);
}

TEST(CdbSsc, ReportDensitySupport) {
  const CommandSpec s = report_density_support();
  expect_cdb(s, {0x44, 0x00, 0, 0, 0, 0, 0, 0x20, 0x00, 0});
  EXPECT_EQ(s.data_in_length, 8192u);
  expect_cdb(report_density_support(true, 0x0400), {0x44, 0x01, 0, 0, 0, 0, 0, 0x04, 0x00, 0});
}

TEST(CdbSmc, ReadElementStatus) {
  auto r = read_element_status(ElementType::storage, 0x1000, 0x0020, 0x012345,
                               {.voltag = true, .curdata = true, .dvcid = true});
  ASSERT_TRUE(r);
  expect_cdb(*r, {0xb8, 0x12, 0x10, 0x00, 0x00, 0x20, 0x03, 0x01, 0x23, 0x45, 0x00, 0x00});
  EXPECT_EQ(r->data_in_length, 0x12345u);
  auto all = read_element_status(ElementType::all, 0, 0xffff);
  ASSERT_TRUE(all);
  expect_cdb(*all, {0xb8, 0x00, 0, 0, 0xff, 0xff, 0x00, 0x01, 0x00, 0x00, 0, 0});
  expect_invalid(read_element_status(ElementType::data_transfer, 0, 1, 0x1000000));
}

TEST(CdbSmc, MoveMediumAndPosition) {
  const CommandSpec m = move_medium(0x0001, 0x1000, 0x0100, true);
  expect_cdb(m, {0xa5, 0x00, 0x00, 0x01, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00});
  expect_no_data(m);
  expect_cdb(move_medium(1, 2, 3), {0xa5, 0, 0, 1, 0, 2, 0, 3, 0, 0, 0, 0});
  expect_cdb(position_to_element(0x0001, 0x0102, true),
             {0x2b, 0x00, 0x00, 0x01, 0x01, 0x02, 0x00, 0x00, 0x01, 0x00});
  expect_cdb(initialize_element_status(), {0x07, 0, 0, 0, 0, 0});
}

}  // namespace
}  // namespace uiscsi::scsi
