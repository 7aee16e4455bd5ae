// CDB bytes of the SPC-4 and SBC-3 builders, checked against the CDB tables of the standards.
#include <gtest/gtest.h>

#include "scsi_test_util.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"

namespace uiscsi::scsi {
namespace {

using test::expect_cdb;

void expect_in(const CommandSpec& s, std::uint32_t n) {
  EXPECT_EQ(s.direction, n ? DataDirection::from_device : DataDirection::none);
  EXPECT_EQ(s.data_in_length, n);
  EXPECT_EQ(s.data_out_length, 0u);
}
void expect_out(const CommandSpec& s, std::uint32_t n) {
  EXPECT_EQ(s.direction, n ? DataDirection::to_device : DataDirection::none);
  EXPECT_EQ(s.data_out_length, n);
  EXPECT_EQ(s.data_in_length, 0u);
}
void expect_invalid(const Result<CommandSpec>& r) {
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::invalid_argument);
}

TEST(CdbSpc, TestUnitReady) {
  const CommandSpec s = test_unit_ready();
  expect_cdb(s, {0x00, 0, 0, 0, 0, 0});
  expect_in(s, 0);
}

TEST(CdbSpc, InquiryStandardAndVpd) {
  const CommandSpec s = inquiry();
  expect_cdb(s, {0x12, 0x00, 0x00, 0x00, 0xff, 0x00});
  expect_in(s, 255);
  expect_cdb(inquiry(0x1234), {0x12, 0x00, 0x00, 0x12, 0x34, 0x00});

  const CommandSpec v = inquiry_vpd(0x83, 0x200);
  expect_cdb(v, {0x12, 0x01, 0x83, 0x02, 0x00, 0x00});  // EVPD=1
  expect_in(v, 0x200);
  expect_cdb(inquiry_vpd(0x00), {0x12, 0x01, 0x00, 0x00, 0xff, 0x00});
  expect_in(inquiry(0), 0);
}

TEST(CdbSpc, ReportLuns) {
  auto s = report_luns();
  ASSERT_TRUE(s);
  expect_cdb(*s, {0xa0, 0, 0x00, 0, 0, 0, 0x00, 0x00, 0x10, 0x00, 0, 0});
  expect_in(*s, 4096);
  auto w = report_luns(0x01020304, ReportLunsSelect::well_known);
  ASSERT_TRUE(w);
  expect_cdb(*w, {0xa0, 0, 0x01, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0, 0});
  expect_invalid(report_luns(15));
  EXPECT_TRUE(report_luns(16));
}

TEST(CdbSpc, RequestSense) {
  expect_cdb(request_sense(), {0x03, 0x00, 0, 0, 252, 0});
  const CommandSpec d = request_sense(96, true);
  expect_cdb(d, {0x03, 0x01, 0, 0, 96, 0});  // DESC=1
  expect_in(d, 96);
}

TEST(CdbSpc, ModeSense6) {
  auto s = mode_sense6(0x3f);
  ASSERT_TRUE(s);
  expect_cdb(*s, {0x1a, 0x00, 0x3f, 0x00, 0xff, 0x00});
  expect_in(*s, 255);
  auto t = mode_sense6(0x0f, 0x00, 0x20, {.dbd = true, .page_control = PageControl::changeable});
  ASSERT_TRUE(t);
  expect_cdb(*t, {0x1a, 0x08, 0x4f, 0x00, 0x20, 0x00});  // DBD bit 3; PC 01b in bits 7-6
  auto u = mode_sense6(0x0a, 0xff, 0x40, {.page_control = PageControl::saved});
  ASSERT_TRUE(u);
  expect_cdb(*u, {0x1a, 0x00, 0xca, 0xff, 0x40, 0x00});
  expect_invalid(mode_sense6(0x40));
  expect_invalid(mode_sense6(0x00, 0, 255, {.llbaa = true}));
}

TEST(CdbSpc, ModeSense10) {
  auto s = mode_sense10(0x1c, 0x01, 0x1000,
                        {.dbd = true, .page_control = PageControl::defaults, .llbaa = true});
  ASSERT_TRUE(s);
  // LLBAA bit 4 + DBD bit 3; PC 10b.
  expect_cdb(*s, {0x5a, 0x18, 0x9c, 0x01, 0, 0, 0, 0x10, 0x00, 0});
  expect_in(*s, 0x1000);
  expect_invalid(mode_sense10(0x41));
}

TEST(CdbSpc, ModeSelect) {
  const CommandSpec s = mode_select6(12);
  expect_cdb(s, {0x15, 0x10, 0, 0, 12, 0});  // PF=1
  expect_out(s, 12);
  expect_cdb(mode_select6(28, false, true), {0x15, 0x01, 0, 0, 28, 0});  // SP=1
  const CommandSpec t = mode_select10(0x0123, true, true);
  expect_cdb(t, {0x55, 0x11, 0, 0, 0, 0, 0, 0x01, 0x23, 0});
  expect_out(t, 0x123);
}

TEST(CdbSpc, LogSense) {
  auto s = log_sense(0x2e);
  ASSERT_TRUE(s);
  expect_cdb(*s, {0x4d, 0x00, 0x6e, 0x00, 0, 0x00, 0x00, 0x10, 0x00, 0});  // PC=01b cumulative
  expect_in(*s, 4096);
  auto t = log_sense(
      0x0d, 0x01, 0x40,
      {.page_control = LogPageControl::threshold, .parameter_pointer = 0x0102, .sp = true});
  ASSERT_TRUE(t);
  expect_cdb(*t, {0x4d, 0x01, 0x0d, 0x01, 0, 0x01, 0x02, 0x00, 0x40, 0});
  expect_invalid(log_sense(0x40));
}

TEST(CdbSpc, PersistentReserveIn) {
  const CommandSpec s = persistent_reserve_in(PrInAction::read_keys);
  expect_cdb(s, {0x5e, 0x00, 0, 0, 0, 0, 0, 0x04, 0x00, 0});
  expect_in(s, 1024);
  expect_cdb(persistent_reserve_in(PrInAction::read_reservation, 0x18),
             {0x5e, 0x01, 0, 0, 0, 0, 0, 0x00, 0x18, 0});
  expect_cdb(persistent_reserve_in(PrInAction::report_capabilities, 8),
             {0x5e, 0x02, 0, 0, 0, 0, 0, 0x00, 0x08, 0});
  expect_cdb(persistent_reserve_in(PrInAction::read_full_status, 0xffff),
             {0x5e, 0x03, 0, 0, 0, 0, 0, 0xff, 0xff, 0});
}

TEST(CdbSpc, PersistentReserveOut) {
  const CommandSpec reg = persistent_reserve_out(PrOutAction::register_key);
  expect_cdb(reg, {0x5f, 0x00, 0x00, 0, 0, 0x00, 0x00, 0x00, 0x18, 0});
  expect_out(reg, 24);
  expect_cdb(persistent_reserve_out(PrOutAction::reserve, PrType::write_exclusive),
             {0x5f, 0x01, 0x01, 0, 0, 0, 0, 0, 0x18, 0});
  expect_cdb(persistent_reserve_out(PrOutAction::release, PrType::exclusive_access),
             {0x5f, 0x02, 0x03, 0, 0, 0, 0, 0, 0x18, 0});
  expect_cdb(persistent_reserve_out(PrOutAction::clear), {0x5f, 0x03, 0, 0, 0, 0, 0, 0, 0x18, 0});
  expect_cdb(persistent_reserve_out(PrOutAction::preempt, PrType::write_exclusive_registrants_only),
             {0x5f, 0x04, 0x05, 0, 0, 0, 0, 0, 0x18, 0});
  expect_cdb(persistent_reserve_out(PrOutAction::preempt_and_abort,
                                    PrType::exclusive_access_all_registrants),
             {0x5f, 0x05, 0x08, 0, 0, 0, 0, 0, 0x18, 0});
  expect_cdb(persistent_reserve_out(PrOutAction::register_and_ignore_existing_key),
             {0x5f, 0x06, 0x00, 0, 0, 0, 0, 0, 0x18, 0});
}

TEST(CdbSpc, PersistentReserveOutParameterList) {
  const auto p = build_pr_out_parameters({.reservation_key = 0x0102030405060708ull,
                                          .service_action_reservation_key = 0xa1a2a3a4a5a6a7a8ull,
                                          .spec_i_pt = true,
                                          .all_tg_pt = true,
                                          .aptpl = true});
  EXPECT_EQ(test::ints(p),
            (std::vector<int>{1,    2,    3,    4,    5, 6, 7, 8, 0xa1, 0xa2, 0xa3, 0xa4,
                              0xa5, 0xa6, 0xa7, 0xa8, 0, 0, 0, 0, 0x0d, 0,    0,    0}));
  const auto z = build_pr_out_parameters({.reservation_key = 1});
  EXPECT_EQ(std::to_integer<int>(z[7]), 1);
  EXPECT_EQ(std::to_integer<int>(z[20]), 0);
}

TEST(CdbSpc, PreventAllowMediumRemoval) {
  expect_cdb(prevent_allow_medium_removal(true), {0x1e, 0, 0, 0, 0x01, 0});
  expect_cdb(prevent_allow_medium_removal(false), {0x1e, 0, 0, 0, 0x00, 0});
}

TEST(CdbSpc, ReportSupportedOperationCodes) {
  auto s = report_supported_operation_codes();
  ASSERT_TRUE(s);
  expect_cdb(*s, {0xa3, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0, 0});
  expect_in(*s, 65536);
  auto one = report_supported_operation_codes(
      512, {.reporting_options = 2, .opcode = 0x9e, .service_action = 0x10, .rctd = true});
  ASSERT_TRUE(one);
  expect_cdb(*one, {0xa3, 0x0c, 0x82, 0x9e, 0x00, 0x10, 0x00, 0x00, 0x02, 0x00, 0, 0});
  expect_invalid(report_supported_operation_codes(512, {.reporting_options = 8}));
}

TEST(CdbSbc, ReadCapacity) {
  const CommandSpec c10 = read_capacity10();
  expect_cdb(c10, {0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  expect_in(c10, 8);
  const CommandSpec c16 = read_capacity16();
  expect_cdb(c16, {0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0});
  expect_in(c16, 32);
}

TEST(CdbSbc, Read10AndWrite10) {
  auto r = read10(0x01020304, 0x0506, 512);
  ASSERT_TRUE(r);
  expect_cdb(*r, {0x28, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x05, 0x06, 0x00});
  expect_in(*r, 0x0506 * 512);

  auto w =
      write10(0xfffffffe, 1, 4096, {.fua = true, .dpo = true, .group_number = 0x1f, .protect = 5});
  ASSERT_TRUE(w);
  // WRPROTECT 101b in bits 7-5, DPO bit 4, FUA bit 3.
  expect_cdb(*w, {0x2a, 0xb8, 0xff, 0xff, 0xff, 0xfe, 0x1f, 0x00, 0x01, 0x00});
  expect_out(*w, 4096);
}

TEST(CdbSbc, TenByteLimits) {
  expect_invalid(read10(0x100000000ull, 1, 512));  // LBA does not fit 32 bits
  expect_invalid(read10(0, 0x10000, 512));         // TRANSFER LENGTH does not fit 16 bits
  expect_invalid(write10(0, 1, 0));                // zero block size
  expect_invalid(read10(0, 1, 512, {.group_number = 32}));
  expect_invalid(read10(0, 1, 512, {.protect = 8}));
  EXPECT_TRUE(read10(0xffffffffull, 0xffff, 512));
}

TEST(CdbSbc, Read16AndWrite16) {
  auto r = read16(0x0102030405060708ull, 0x0a0b0c0d, 1, {.fua = true});
  ASSERT_TRUE(r);
  expect_cdb(*r, {0x88, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x00});
  expect_in(*r, 0x0a0b0c0d);
  auto w = write16(0xffffffffffffffffull, 8, 512, {.dpo = true, .group_number = 3});
  ASSERT_TRUE(w);
  expect_cdb(*w, {0x8a, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 8, 3, 0});
  expect_out(*w, 4096);
}

TEST(CdbSbc, ByteCountOverflowIsAnError) {
  // 2^23 blocks of 512 bytes = 4 GiB: one past what a 32-bit length can say.
  expect_invalid(read16(0, 1u << 23, 512));
  expect_invalid(write16(0, 0xffffffffu, 2));
  auto max = read16(0, (1u << 23) - 1, 512);
  ASSERT_TRUE(max);
  EXPECT_EQ(max->data_in_length, 0xfffffe00u);
}

TEST(CdbSbc, ZeroBlocksMeansNoData) {
  auto r = read16(10, 0, 512);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->direction, DataDirection::none);
  EXPECT_EQ(r->data_in_length, 0u);
}

TEST(CdbSbc, Verify) {
  auto v = verify10(0x10, 0x20, 512);
  ASSERT_TRUE(v);
  expect_cdb(*v, {0x2f, 0x00, 0, 0, 0, 0x10, 0x00, 0x00, 0x20, 0x00});
  expect_out(*v, 0);  // BYTCHK=0: no Data-Out
  auto c = verify16(0x10, 4, 512, {.bytchk = ByteCheck::compare, .dpo = true});
  ASSERT_TRUE(c);
  // BYTCHK 01b in bits 2-1, DPO bit 4.
  expect_cdb(*c, {0x8f, 0x12, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 4, 0, 0});
  expect_out(*c, 2048);
  auto one = verify16(0, 100, 512, {.bytchk = ByteCheck::compare_one_block});
  ASSERT_TRUE(one);
  EXPECT_EQ(one->cdb[1], 0x06);
  expect_out(*one, 512);
  expect_invalid(verify10(0, 1, 512, {.bytchk = static_cast<ByteCheck>(2)}));
  expect_invalid(verify10(0x100000000ull, 1, 512));
}

TEST(CdbSbc, WriteSame) {
  auto w10 = write_same10(0x1000, 0x80, 512, {.unmap = true, .anchor = true});
  ASSERT_TRUE(w10);
  // ANCHOR bit 4, UNMAP bit 3.
  expect_cdb(*w10, {0x41, 0x18, 0, 0, 0x10, 0x00, 0x00, 0x00, 0x80, 0x00});
  expect_out(*w10, 512);
  auto w16 = write_same16(0x1000, 0x10000, 4096, {.unmap = true, .ndob = true});
  ASSERT_TRUE(w16);
  expect_cdb(*w16, {0x93, 0x09, 0, 0, 0, 0, 0, 0, 0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0, 0});
  expect_out(*w16, 0);  // NDOB: no Data-Out buffer
  auto plain = write_same16(0, 0, 512);
  ASSERT_TRUE(plain);
  expect_out(*plain, 512);
  expect_invalid(write_same10(0, 1, 512, {.ndob = true}));
  expect_invalid(write_same10(0, 0x10000, 512));
}

TEST(CdbSbc, UnmapAndParameterList) {
  auto u = unmap(24, true, 2);
  ASSERT_TRUE(u);
  expect_cdb(*u, {0x42, 0x01, 0, 0, 0, 0, 0x02, 0x00, 0x18, 0x00});
  expect_out(*u, 24);
  expect_invalid(unmap(24, false, 32));

  const UnmapDescriptor ranges[] = {{0x0102030405060708ull, 0x0a0b0c0d}, {0x20, 8}};
  auto list = build_unmap_parameter_list(ranges);
  ASSERT_TRUE(list);
  EXPECT_EQ(test::ints(*list),
            (std::vector<int>{
                0x00, 0x26, 0x00, 0x20, 0, 0, 0, 0,                                         //
                1,    2,    3,    4,    5, 6, 7, 8,    0x0a, 0x0b, 0x0c, 0x0d, 0, 0, 0, 0,  //
                0,    0,    0,    0,    0, 0, 0, 0x20, 0,    0,    0,    8,    0, 0, 0, 0}));
  std::vector<UnmapDescriptor> too_many(4096);
  EXPECT_FALSE(build_unmap_parameter_list(too_many));
  too_many.pop_back();
  EXPECT_TRUE(build_unmap_parameter_list(too_many));
  auto empty = build_unmap_parameter_list({});
  ASSERT_TRUE(empty);
  EXPECT_EQ(test::ints(*empty), (std::vector<int>{0, 6, 0, 0, 0, 0, 0, 0}));
}

TEST(CdbSbc, CompareAndWrite) {
  auto c = compare_and_write(0x0102030405060708ull, 2, 512, {.fua = true});
  ASSERT_TRUE(c);
  expect_cdb(*c, {0x89, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0x02, 0x00, 0x00});
  expect_out(*c, 2048);  // verify + write data
  expect_invalid(compare_and_write(0, 1, 0));
  expect_invalid(compare_and_write(0, 255, 0x80000000u));
}

TEST(CdbSbc, SynchronizeCache) {
  auto s10 = synchronize_cache10();
  ASSERT_TRUE(s10);
  expect_cdb(*s10, {0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  expect_in(*s10, 0);
  auto s10b = synchronize_cache10(0x01020304, 0x0506, true);
  ASSERT_TRUE(s10b);
  expect_cdb(*s10b, {0x35, 0x02, 1, 2, 3, 4, 0, 5, 6, 0});  // IMMED bit 1
  expect_invalid(synchronize_cache10(0x100000000ull));
  expect_invalid(synchronize_cache10(0, 0x10000));
  expect_cdb(synchronize_cache16(0x0102030405060708ull, 0x0a0b0c0d, true),
             {0x91, 0x02, 1, 2, 3, 4, 5, 6, 7, 8, 0x0a, 0x0b, 0x0c, 0x0d, 0, 0});
}

TEST(CdbSbc, StartStopUnit) {
  auto start = start_stop_unit();
  ASSERT_TRUE(start);
  expect_cdb(*start, {0x1b, 0x00, 0, 0x00, 0x01, 0});
  auto eject = start_stop_unit({.start = false, .loej = true, .immed = true});
  ASSERT_TRUE(eject);
  expect_cdb(*eject, {0x1b, 0x01, 0, 0x00, 0x02, 0});
  auto standby = start_stop_unit({.start = false,
                                  .no_flush = true,
                                  .power_condition = PowerCondition::standby,
                                  .power_condition_modifier = 1});
  ASSERT_TRUE(standby);
  expect_cdb(*standby, {0x1b, 0x00, 0, 0x01, 0x34, 0});
  expect_invalid(start_stop_unit({.power_condition = static_cast<PowerCondition>(0x10)}));
  expect_invalid(start_stop_unit({.power_condition_modifier = 0x10}));
}

}  // namespace
}  // namespace uiscsi::scsi
