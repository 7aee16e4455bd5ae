// PERSISTENT RESERVE IN data, iSCSI TransportIDs, GET LBA STATUS data and the REPORT SUPPORTED
// OPERATION CODES forms of data_pr.cpp: layouts, round trips, truncation.
#include <gtest/gtest.h>

#include "scsi_test_util.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"
#include "uiscsi/scsi/errors.hpp"

namespace uiscsi::scsi {
namespace {

using test::for_each_prefix;
using test::hex;
using test::ints;

TEST(DataPr, ReportCapabilitiesRoundTrip) {
  PrCapabilities c;
  c.crh = true;
  c.atp_c = true;
  c.ptpl_c = true;
  c.tmv = true;
  c.allow_commands = 1;
  c.ptpl_a = true;
  c.type_mask = pr_type_mask::kWriteExclusive | pr_type_mask::kExclusiveAccessAllRegistrants;
  const auto d = build_pr_report_capabilities(c);
  EXPECT_EQ(ints(d), ints(hex("00 08 15 91 02 01 00 00")));
  auto back = parse_pr_report_capabilities(d);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, c);
  EXPECT_EQ(parse_pr_report_capabilities(std::span(d).first(7)).error(), scsi_errc::truncated_data);
  EXPECT_EQ(parse_pr_report_capabilities(hex("00 04 00 00 00 00 00 00")).error(),
            scsi_errc::malformed_data);
}

TEST(DataPr, ReadKeysAndReservationBuildersMatchParsers) {
  const std::uint64_t keys[] = {0x1122334455667788ull, 7};
  const auto k = build_pr_read_keys(9, keys);
  ASSERT_EQ(k.size(), 24u);
  auto pk = parse_pr_read_keys(k);
  ASSERT_TRUE(pk);
  EXPECT_EQ(pk->generation, 9u);
  EXPECT_EQ(pk->keys, (std::vector<std::uint64_t>{keys[0], keys[1]}));

  PrReservation none;
  none.generation = 3;
  EXPECT_EQ(build_pr_read_reservation(none).size(), 8u);
  PrReservation r;
  r.generation = 4;
  r.reserved = true;
  r.key = 0xabcdef;
  r.type = PrType::exclusive_access_registrants_only;
  const auto rd = build_pr_read_reservation(r);
  ASSERT_EQ(rd.size(), 24u);
  EXPECT_EQ(std::to_integer<int>(rd[21]), 0x06);
  auto pr = parse_pr_read_reservation(rd);
  ASSERT_TRUE(pr);
  EXPECT_TRUE(pr->reserved);
  EXPECT_EQ(pr->key, r.key);
  EXPECT_EQ(pr->type, r.type);
  EXPECT_EQ(pr->generation, 4u);
}

TEST(DataPr, IscsiTransportId) {
  const auto plain = make_iscsi_transport_id("iqn.x");
  ASSERT_EQ(plain.size(), 24u);  // padded up to the 24-byte minimum
  EXPECT_EQ(ints(std::span(plain).first(10)), ints(hex("05 00 00 14 69 71 6e 2e 78 00")));
  const auto port = make_iscsi_transport_id("iqn.2001-04.com.example:host", 0x23d000000001ull);
  EXPECT_EQ(std::to_integer<int>(port[0]), 0x45);
  EXPECT_EQ(port.size() % 4, 0u);
  const std::string text(reinterpret_cast<const char*>(port.data() + 4));
  EXPECT_EQ(text, "iqn.2001-04.com.example:host,i,0x23d000000001");
  EXPECT_EQ(port.size() - 4, std::size_t{std::to_integer<unsigned>(port[3])});
}

TEST(DataPr, ReadFullStatusRoundTripAndTruncation) {
  std::vector<PrFullStatusDescriptor> in(2);
  in[0].key = 0x1111;
  in[0].reservation_holder = true;
  in[0].type = PrType::write_exclusive;
  in[0].relative_target_port = 1;
  in[0].transport_id = make_iscsi_transport_id("iqn.a", 1);
  in[1].key = 0x2222;
  in[1].all_tg_pt = true;
  in[1].relative_target_port = 1;
  in[1].transport_id = make_iscsi_transport_id("iqn.b", 2);
  auto d = build_pr_read_full_status(5, in);
  ASSERT_TRUE(d);
  auto back = parse_pr_read_full_status(*d);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->generation, 5u);
  EXPECT_EQ(back->descriptors, in);
  for_each_prefix(*d, [&](std::span<const std::byte> p) {
    auto r = parse_pr_read_full_status(p);
    if (p.size() < 8) {
      EXPECT_EQ(r.error(), scsi_errc::truncated_data);
    } else {
      ASSERT_TRUE(r);
      EXPECT_LT(r->descriptors.size(), 2u);
    }
  });
  // A TransportID length that overruns ADDITIONAL LENGTH is malformed.
  auto bad = *d;
  bad[8 + 23] = std::byte{0xff};
  EXPECT_EQ(parse_pr_read_full_status(bad).error(), scsi_errc::malformed_data);
  std::vector<PrFullStatusDescriptor> short_tid(1);
  short_tid[0].transport_id.resize(8);
  EXPECT_FALSE(build_pr_read_full_status(0, short_tid));
}

TEST(DataPr, GetLbaStatusRoundTrip) {
  const std::vector<LbaStatusDescriptor> in = {{0, 16, ProvisioningStatus::mapped},
                                               {16, 0xffffffffu, ProvisioningStatus::deallocated}};
  const auto d = build_get_lba_status(in);
  ASSERT_EQ(d.size(), 40u);
  EXPECT_EQ(ints(std::span(d).first(8)), ints(hex("00 00 00 24 00 00 00 00")));
  auto back = parse_get_lba_status(d);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->parameter_data_length, 36u);
  EXPECT_EQ(back->descriptors, in);
  auto cut = parse_get_lba_status(std::span(d).first(30));
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->descriptors.size(), 1u);
  EXPECT_EQ(parse_get_lba_status(std::span(d).first(7)).error(), scsi_errc::truncated_data);
}

TEST(DataPr, SupportedOpcodesAllFormRoundTrip) {
  std::vector<SupportedOpcode> in(2);
  in[0].opcode = 0x28;
  in[0].cdb_length = 10;
  in[1].opcode = 0x9e;
  in[1].service_action = 0x10;
  in[1].servactv = true;
  in[1].cdb_length = 16;
  in[1].timeouts = CommandTimeouts{1, 30};
  const auto d = build_supported_opcodes(in);
  ASSERT_EQ(d.size(), 4u + 8 + 20);
  auto back = parse_supported_opcodes(d);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->commands, in);
}

TEST(DataPr, SupportedOpcodeOneRoundTrip) {
  SupportedOpcodeOne one;
  one.support = opcode_support::kStandard;
  one.cdb_usage = {0x28, 0x18, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x04};
  const auto d = build_supported_opcode_one(one);
  EXPECT_EQ(ints(std::span(d).first(6)), ints(hex("00 03 00 0a 28 18")));
  auto back = parse_supported_opcode_one(d);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, one);
  one.timeouts = CommandTimeouts{2, 60};
  const auto t = build_supported_opcode_one(one);
  EXPECT_EQ(std::to_integer<int>(t[1]), 0x83);
  auto tb = parse_supported_opcode_one(t);
  ASSERT_TRUE(tb);
  EXPECT_EQ(*tb, one);
  EXPECT_EQ(parse_supported_opcode_one(std::span(t).first(t.size() - 1)).error(),
            scsi_errc::truncated_data);
  EXPECT_EQ(parse_supported_opcode_one(std::span(t).first(5)).error(), scsi_errc::truncated_data);
}

}  // namespace
}  // namespace uiscsi::scsi
