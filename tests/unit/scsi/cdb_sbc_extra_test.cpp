// CDB bytes of the extra SBC-3 / SPC-2 builders of cdb_sbc.cpp (READ/WRITE(6) and (12),
// VERIFY(12), WRITE AND VERIFY, PRE-FETCH, GET LBA STATUS, RESERVE / RELEASE).
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

TEST(CdbSbcExtra, ReadWrite6) {
  auto r = read6(0x12345, 8, 512);
  ASSERT_TRUE(r);
  expect_cdb(*r, {0x08, 0x01, 0x23, 0x45, 8, 0});
  EXPECT_EQ(r->direction, DataDirection::from_device);
  EXPECT_EQ(r->data_in_length, 4096u);
  auto w = write6(0x1fffff, 256, 512);  // 256 blocks travel as 0
  ASSERT_TRUE(w);
  expect_cdb(*w, {0x0a, 0x1f, 0xff, 0xff, 0, 0});
  EXPECT_EQ(w->data_out_length, 256u * 512u);
  expect_invalid(read6(0x200000, 1, 512));
  expect_invalid(read6(0, 0, 512));
  expect_invalid(read6(0, 257, 512));
  expect_invalid(write6(0, 1, 0));
}

TEST(CdbSbcExtra, ReadWriteVerify12) {
  auto r = read12(0x01020304, 0x00010000, 512, {.fua = true, .dpo = true, .group_number = 3});
  ASSERT_TRUE(r);
  expect_cdb(*r, {0xa8, 0x18, 1, 2, 3, 4, 0, 1, 0, 0, 3, 0});
  EXPECT_EQ(r->data_in_length, 0x10000u * 512u);
  auto w = write12(7, 2, 4096, {.protect = 1});
  ASSERT_TRUE(w);
  expect_cdb(*w, {0xaa, 0x20, 0, 0, 0, 7, 0, 0, 0, 2, 0, 0});
  EXPECT_EQ(w->data_out_length, 8192u);
  auto v = verify12(9, 4, 512, {.bytchk = ByteCheck::compare, .dpo = true});
  ASSERT_TRUE(v);
  expect_cdb(*v, {0xaf, 0x12, 0, 0, 0, 9, 0, 0, 0, 4, 0, 0});
  EXPECT_EQ(v->data_out_length, 2048u);
  auto v1 = verify12(9, 4, 512, {.bytchk = ByteCheck::compare_one_block});
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->data_out_length, 512u);
  auto v0 = verify12(9, 4, 512);
  ASSERT_TRUE(v0);
  EXPECT_EQ(v0->direction, DataDirection::none);
  expect_invalid(read12(0x100000000ull, 1, 512));
  expect_invalid(write12(0, 0x01000000, 512));  // byte count overflows
  expect_invalid(verify12(0, 1, 512, {.bytchk = static_cast<ByteCheck>(2)}));
}

TEST(CdbSbcExtra, WriteAndVerify) {
  auto a = write_and_verify10(0x10, 2, 512, {.bytchk = true, .dpo = true, .group_number = 1});
  ASSERT_TRUE(a);
  expect_cdb(*a, {0x2e, 0x12, 0, 0, 0, 0x10, 1, 0, 2, 0});
  EXPECT_EQ(a->data_out_length, 1024u);
  auto b = write_and_verify12(0x10, 2, 512);
  ASSERT_TRUE(b);
  expect_cdb(*b, {0xae, 0, 0, 0, 0, 0x10, 0, 0, 0, 2, 0, 0});
  auto c = write_and_verify16(0x1122334455667788ull, 1, 4096, {.protect = 7});
  ASSERT_TRUE(c);
  expect_cdb(*c, {0x8e, 0xe0, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0, 0, 0, 1, 0, 0});
  expect_invalid(write_and_verify10(0, 0x10000, 512));
  expect_invalid(write_and_verify12(0x100000000ull, 1, 512));
  expect_invalid(write_and_verify16(0, 1, 512, {.protect = 8}));
}

TEST(CdbSbcExtra, PreFetch) {
  auto a = prefetch10(0x0a0b0c0d, 0x0102, true, 5);
  ASSERT_TRUE(a);
  expect_cdb(*a, {0x34, 0x02, 0x0a, 0x0b, 0x0c, 0x0d, 5, 0x01, 0x02, 0});
  EXPECT_EQ(a->direction, DataDirection::none);
  auto b = prefetch16(1, 0x01000000);
  ASSERT_TRUE(b);
  expect_cdb(*b, {0x90, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0});
  expect_invalid(prefetch10(0x100000000ull, 1));
  expect_invalid(prefetch10(0, 0x10000));
  expect_invalid(prefetch16(0, 1, false, 32));
}

TEST(CdbSbcExtra, GetLbaStatus) {
  const CommandSpec s = get_lba_status(0x0102030405060708ull, 24);
  expect_cdb(s, {0x9e, 0x12, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 24, 0, 0});
  EXPECT_EQ(s.direction, DataDirection::from_device);
  EXPECT_EQ(s.data_in_length, 24u);
}

TEST(CdbSbcExtra, ReserveRelease) {
  expect_cdb(reserve6(), {0x16, 0, 0, 0, 0, 0});
  expect_cdb(release6(), {0x17, 0, 0, 0, 0, 0});
  expect_cdb(reserve10(), {0x56, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  expect_cdb(release10(), {0x57, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(reserve6().direction, DataDirection::none);
  EXPECT_EQ(opcode_name(opcode::kReserve6, PeripheralDeviceType::direct_access), "RESERVE(6)");
  EXPECT_EQ(opcode_name(opcode::kRead12, PeripheralDeviceType::direct_access), "READ(12)");
  EXPECT_EQ(opcode_name(opcode::kPreFetch16, PeripheralDeviceType::direct_access), "PRE-FETCH(16)");
}

}  // namespace
}  // namespace uiscsi::scsi
