// Data builders: byte layouts and builder -> parser round trips.
#include "uiscsi/scsi/data_build.hpp"

#include <gtest/gtest.h>

#include "scsi_test_util.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/errors.hpp"

namespace uiscsi::scsi {
namespace {

using test::ascii;
using test::for_each_prefix;
using test::hex;

TEST(BuildInquiry, LayoutAndRoundTrip) {
  InquiryData in;
  in.device_type = PeripheralDeviceType::sequential_access;
  in.rmb = true;
  in.version = 6;
  in.hisup = true;
  in.response_data_format = 2;
  in.tpgs = 1;
  in.cmdque = true;
  in.vendor = "UISCSI";
  in.product = "Virtual Tape";
  in.revision = "0.1";
  auto d = build_inquiry(in);
  ASSERT_TRUE(d);
  ASSERT_EQ(d->size(), 36u);
  EXPECT_EQ(test::ints(std::span(*d).first(8)),
            (std::vector<int>{0x01, 0x80, 0x06, 0x12, 31, 0x10, 0x00, 0x02}));
  EXPECT_EQ(test::ints(std::span(*d).subspan(8, 8)), test::ints(ascii("UISCSI", 8)));
  auto back = parse_inquiry(*d);
  ASSERT_TRUE(back);
  in.additional_length = 31;
  EXPECT_EQ(back->vendor, in.vendor);
  EXPECT_EQ(back->product, in.product);
  EXPECT_EQ(back->revision, in.revision);
  EXPECT_EQ(back->device_type, in.device_type);
  EXPECT_EQ(back->rmb, in.rmb);
  EXPECT_EQ(back->hisup, in.hisup);
  EXPECT_EQ(back->tpgs, in.tpgs);
  EXPECT_EQ(back->cmdque, in.cmdque);
  EXPECT_EQ(back->additional_length, 31);

  in.version_descriptors = {0x00c0, 0x0460, 0x0960};
  auto v = build_inquiry(in);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->size(), 74u);
  EXPECT_EQ(parse_inquiry(*v)->version_descriptors, in.version_descriptors);
  in.version_descriptors.resize(9);
  EXPECT_EQ(build_inquiry(in).error(), errc::invalid_argument);
}

TEST(BuildVpd, SupportedPagesSerialAndIdentification) {
  const std::uint8_t pages[] = {0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2};
  const auto sp = build_vpd_supported_pages(PeripheralDeviceType::direct_access, pages);
  EXPECT_EQ(test::ints(sp), test::ints(hex("00 00 00 06 00 80 83 b0 b1 b2")));
  EXPECT_EQ(*parse_vpd_supported_pages(sp),
            std::vector<std::uint8_t>(std::begin(pages), std::end(pages)));

  auto sn = build_vpd_unit_serial(PeripheralDeviceType::sequential_access, "TAPE0001");
  ASSERT_TRUE(sn);
  EXPECT_EQ(std::to_integer<int>((*sn)[0]), 0x01);
  EXPECT_EQ(*parse_vpd_unit_serial(*sn), "TAPE0001");
  EXPECT_EQ(
      build_vpd_unit_serial(PeripheralDeviceType::direct_access, std::string(256, 'x')).error(),
      errc::invalid_argument);

  std::array<std::byte, 16> naa{};
  naa[0] = std::byte{0x60};
  naa[15] = std::byte{0x42};
  std::vector<Designator> ids{make_naa_designator(naa)};
  Designator t10;
  t10.code_set = CodeSet::ascii;
  t10.type = DesignatorType::t10_vendor_id;
  t10.value = ascii("UISCSI  disk", 12);
  ids.push_back(t10);
  Designator port;
  port.protocol_identifier = 5;
  port.piv = true;
  port.association = Association::target_port;
  port.type = DesignatorType::relative_target_port;
  port.value = hex("00 00 00 01");
  ids.push_back(port);
  auto di = build_vpd_device_identification(PeripheralDeviceType::direct_access, ids);
  ASSERT_TRUE(di);
  EXPECT_EQ(test::ints(std::span(*di).subspan(40, 8)), test::ints(hex("51 94 00 04 00 00 00 01")));
  auto back = parse_vpd_device_identification(*di);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, ids);
  EXPECT_EQ(designator_string(*pick_lu_designator(*back)), "naa.60000000000000000000000000000042");
  Designator huge;
  huge.value.resize(256);
  EXPECT_FALSE(build_vpd_device_identification(PeripheralDeviceType::direct_access, {&huge, 1}));
}

TEST(BuildVpd, LogicalUnitDesignators) {
  // FNV-1a 64 of "" is cbf29ce484222325: NAA 3h takes its low 60 bits.
  EXPECT_EQ(test::ints(locally_assigned_naa("", "", "")),
            test::ints(hex("3b f2 9c e4 84 22 23 25")));
  const auto naa = locally_assigned_naa("UISCSI", "RAMDISK", "0001");
  ASSERT_EQ(naa.size(), 8u);
  EXPECT_EQ(std::to_integer<int>(naa[0]) >> 4, 3);
  EXPECT_EQ(naa, locally_assigned_naa("UISCSI", "RAMDISK", "0001"));
  EXPECT_NE(naa, locally_assigned_naa("UISCSI", "RAMDISK", "0002"));
  const auto ids = logical_unit_designators(naa, "UISCSI", "A-PRODUCT-NAME-LONGER", "SN1");
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0].type, DesignatorType::naa);
  EXPECT_EQ(ids[0].code_set, CodeSet::binary);
  EXPECT_EQ(ids[0].value, naa);
  EXPECT_EQ(ids[1].type, DesignatorType::t10_vendor_id);
  EXPECT_EQ(ids[1].code_set, CodeSet::ascii);
  // Vendor padded to 8, product cut to 16, serial as is.
  EXPECT_EQ(ids[1].value, ascii("UISCSI  A-PRODUCT-NAME-LSN1", 27));
  auto di = build_vpd_device_identification(PeripheralDeviceType::medium_changer, ids);
  ASSERT_TRUE(di);
  EXPECT_EQ(*parse_vpd_device_identification(*di), ids);
}

TEST(BuildVpd, BlockPagesRoundTrip) {
  BlockLimitsVpd bl{.wsnz = true,
                    .max_compare_and_write_length = 1,
                    .optimal_transfer_length_granularity = 8,
                    .max_transfer_length = 0x4000,
                    .optimal_transfer_length = 0x800,
                    .max_prefetch_length = 0,
                    .max_unmap_lba_count = 0x10000,
                    .max_unmap_block_descriptor_count = 16,
                    .optimal_unmap_granularity = 8,
                    .ugavalid = true,
                    .unmap_granularity_alignment = 0x12345678 & 0x7fffffff,
                    .max_write_same_length = 0x123456789ull};
  const auto bld = build_vpd_block_limits(PeripheralDeviceType::direct_access, bl);
  EXPECT_EQ(bld.size(), 64u);
  EXPECT_EQ(*parse_vpd_block_limits(bld), bl);

  BlockCharacteristicsVpd bc{.medium_rotation_rate = 1,
                             .product_type = 0,
                             .wabereq = 1,
                             .wacereq = 2,
                             .nominal_form_factor = 3,
                             .fuab = true,
                             .vbuls = false};
  const auto bcd = build_vpd_block_characteristics(PeripheralDeviceType::direct_access, bc);
  EXPECT_EQ(bcd.size(), 64u);
  EXPECT_EQ(*parse_vpd_block_characteristics(bcd), bc);

  LogicalBlockProvisioningVpd lbp{.threshold_exponent = 0,
                                  .lbpu = true,
                                  .lbpws = true,
                                  .lbpws10 = false,
                                  .lbprz = true,
                                  .anc_sup = false,
                                  .dp = false,
                                  .minimum_percentage = 0,
                                  .provisioning_type = ProvisioningType::thin,
                                  .threshold_percentage = 0};
  const auto lbd = build_vpd_logical_block_provisioning(PeripheralDeviceType::direct_access, lbp);
  EXPECT_EQ(test::ints(lbd), test::ints(hex("00 b2 00 04 00 c4 02 00")));
  EXPECT_EQ(*parse_vpd_logical_block_provisioning(lbd), lbp);
}

TEST(BuildCapacity, TenAndSixteen) {
  CapacityData c;
  c.last_lba = 0x1ffffffffull;  // past 32 bits
  c.block_length = 4096;
  c.lbppbe = 0;
  c.lbpme = true;
  c.lowest_aligned_lba = 0x1234 & 0x3fff;
  c.p_type = 1;
  c.prot_en = true;
  c.p_i_exponent = 2;
  const auto d10 = build_read_capacity10(c);
  EXPECT_EQ(test::ints(d10), test::ints(hex("ff ff ff ff 00 00 10 00")));
  EXPECT_TRUE(parse_read_capacity10(d10)->needs_read_capacity16());
  const auto d16 = build_read_capacity16(c);
  EXPECT_EQ(test::ints(std::span(d16).first(16)),
            test::ints(hex("00 00 00 01 ff ff ff ff 00 00 10 00 03 20 92 34")));
  EXPECT_EQ(*parse_read_capacity16(d16), c);
  CapacityData small{.last_lba = 2047, .block_length = 512};
  EXPECT_EQ(*parse_read_capacity10(build_read_capacity10(small)), small);
}

TEST(BuildReportLuns, RoundTrip) {
  const std::vector<Lun> luns{*Lun::from_number(0), *Lun::from_number(1), *Lun::from_number(300)};
  const auto d = build_report_luns(luns);
  EXPECT_EQ(d.size(), 32u);
  EXPECT_EQ(test::ints(std::span(d).first(8)), test::ints(hex("00 00 00 18 00 00 00 00")));
  EXPECT_EQ(parse_report_luns(d)->luns, luns);
  EXPECT_EQ(parse_report_luns(build_report_luns({}))->luns.size(), 0u);
}

ModeParameters tape_mode() {
  ModeParameters m;
  m.header.device_specific = 0x10;
  m.block_descriptors.push_back({.density_code = 0x46, .number_of_blocks = 0, .block_length = 0});
  m.pages.push_back(build_data_compression_page({.dce = true,
                                                 .dcc = true,
                                                 .dde = true,
                                                 .red = 0,
                                                 .compression_algorithm = 1,
                                                 .decompression_algorithm = 1}));
  m.pages[0].ps = true;
  DeviceConfigurationPage dcp;
  dcp.rew = true;
  dcp.sew = true;
  dcp.select_data_compression_algorithm = 1;
  m.pages.push_back(build_device_configuration_page(dcp));
  return m;
}

TEST(BuildModeParameters, SenseRoundTripSixAndTen) {
  const ModeParameters m = tape_mode();
  auto six = build_mode_parameters6(m, PeripheralDeviceType::sequential_access, ModeDataUse::sense);
  ASSERT_TRUE(six);
  EXPECT_EQ(six->size(), 4u + 8 + 16 + 16);
  EXPECT_EQ(std::to_integer<int>((*six)[0]), static_cast<int>(six->size() - 1));
  auto p6 = parse_mode_sense6(*six, PeripheralDeviceType::sequential_access);
  ASSERT_TRUE(p6);
  EXPECT_EQ(p6->block_descriptors, m.block_descriptors);
  EXPECT_EQ(p6->pages, m.pages);
  EXPECT_EQ(p6->header.device_specific, 0x10);
  EXPECT_EQ(*parse_data_compression_page(p6->pages[0]),
            (DataCompressionPage{.dce = true,
                                 .dcc = true,
                                 .dde = true,
                                 .red = 0,
                                 .compression_algorithm = 1,
                                 .decompression_algorithm = 1}));
  EXPECT_TRUE(parse_device_configuration_page(p6->pages[1])->rew);

  auto ten =
      build_mode_parameters10(m, PeripheralDeviceType::sequential_access, ModeDataUse::sense);
  ASSERT_TRUE(ten);
  auto p10 = parse_mode_sense10(*ten, PeripheralDeviceType::sequential_access);
  ASSERT_TRUE(p10);
  EXPECT_EQ(p10->pages, m.pages);
  EXPECT_EQ(p10->header.mode_data_length, ten->size() - 2);
}

TEST(BuildModeParameters, SelectClearsLengthAndPs) {
  const ModeParameters m = tape_mode();
  auto sel =
      build_mode_parameters6(m, PeripheralDeviceType::sequential_access, ModeDataUse::select);
  ASSERT_TRUE(sel);
  EXPECT_EQ(std::to_integer<int>((*sel)[0]), 0);
  EXPECT_EQ(std::to_integer<int>((*sel)[12]), 0x0f);  // PS cleared
}

TEST(BuildModeParameters, DiskDescriptorsAndLimits) {
  ModeParameters m;
  m.block_descriptors.push_back(
      {.density_code = 0, .number_of_blocks = 0x12345678, .block_length = 512});
  auto six = build_mode_parameters6(m, PeripheralDeviceType::direct_access, ModeDataUse::sense);
  ASSERT_TRUE(six);
  EXPECT_EQ(test::ints(*six), test::ints(hex("0b 00 00 08 12 34 56 78 00 00 02 00")));
  EXPECT_EQ(parse_mode_sense6(*six, PeripheralDeviceType::direct_access)->block_descriptors,
            m.block_descriptors);

  m.header.long_lba = true;
  m.block_descriptors[0].number_of_blocks = 0x123456789aull;
  EXPECT_EQ(
      build_mode_parameters6(m, PeripheralDeviceType::direct_access, ModeDataUse::sense).error(),
      errc::invalid_argument);
  auto ten = build_mode_parameters10(m, PeripheralDeviceType::direct_access, ModeDataUse::sense);
  ASSERT_TRUE(ten);
  EXPECT_EQ(parse_mode_sense10(*ten, PeripheralDeviceType::direct_access)->block_descriptors,
            m.block_descriptors);

  ModeParameters big;
  ModePage p;
  p.page_code = 0x08;
  p.parameters.resize(254);
  big.pages.push_back(p);
  EXPECT_EQ(
      build_mode_parameters6(big, PeripheralDeviceType::direct_access, ModeDataUse::sense).error(),
      errc::invalid_argument);
  EXPECT_TRUE(
      build_mode_parameters10(big, PeripheralDeviceType::direct_access, ModeDataUse::sense));
  p.parameters.resize(256);  // too long for a page_0 PAGE LENGTH
  big.pages[0] = p;
  EXPECT_FALSE(
      build_mode_parameters10(big, PeripheralDeviceType::direct_access, ModeDataUse::sense));
  p.subpage = 1;  // sub_page format has a 16-bit PAGE LENGTH
  big.pages[0] = p;
  auto sub = build_mode_parameters10(big, PeripheralDeviceType::direct_access, ModeDataUse::sense);
  ASSERT_TRUE(sub);
  auto back = parse_mode_sense10(*sub, PeripheralDeviceType::direct_access);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->pages.size(), 1u);
  EXPECT_TRUE(back->pages[0].spf);
  EXPECT_EQ(back->pages[0].parameters.size(), 256u);
}

TEST(BuildLogPage, TapeAlertRoundTrip) {
  LogPage page;
  page.page_code = kTapeAlertLogPage;
  for (std::uint16_t code = 1; code <= 64; ++code) {
    const bool set = code == 20 || code == 4;
    page.parameters.push_back(
        {.code = code, .control = 0x03, .value = {set ? std::byte{1} : std::byte{0}}});
  }
  auto d = build_log_page(page);
  ASSERT_TRUE(d);
  EXPECT_EQ(test::ints(std::span(*d).first(9)), test::ints(hex("2e 00 01 40 00 01 03 01 00")));
  auto back = parse_log_page(*d);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->parameters, page.parameters);
  EXPECT_EQ(*tape_alert_flags(*back), (std::vector<std::uint8_t>{4, 20}));
  page.parameters[0].value.resize(256);
  EXPECT_FALSE(build_log_page(page));
}

TEST(BuildTapeData, BlockLimitsPositionDensity) {
  const BlockLimits bl{.granularity = 0, .max_block_length = 0x100000, .min_block_length = 1};
  EXPECT_EQ(test::ints(build_read_block_limits(bl)), test::ints(hex("00 10 00 00 00 01")));
  EXPECT_EQ(*parse_read_block_limits(build_read_block_limits(bl)), bl);

  TapePosition pos;
  pos.bop = false;
  pos.bpew = true;
  pos.partition = 1;
  pos.first_block = 77;
  pos.last_block = 75;
  pos.blocks_in_buffer = 2;
  pos.bytes_in_buffer = 1024;
  const auto s = build_read_position(pos, ReadPositionForm::short_form);
  EXPECT_EQ(s.size(), 20u);
  EXPECT_EQ(*parse_read_position(s, ReadPositionForm::short_form), pos);
  const auto e = build_read_position(pos, ReadPositionForm::extended_form);
  EXPECT_EQ(e.size(), 32u);
  EXPECT_EQ(*parse_read_position(e, ReadPositionForm::extended_form), pos);

  TapePosition lp;
  lp.bop = true;
  lp.partition = 0;
  lp.first_block = 0;
  lp.last_block = 0;
  lp.file_number = 0;
  const auto l = build_read_position(lp, ReadPositionForm::long_form);
  EXPECT_EQ(l.size(), 32u);
  EXPECT_EQ(*parse_read_position(l, ReadPositionForm::long_form), lp);

  const DensityDescriptor dd{.primary_density_code = 0x5a,
                             .secondary_density_code = 0x5a,
                             .wrtok = true,
                             .dup = false,
                             .deflt = true,
                             .bits_per_mm = 15142,
                             .media_width = 127,
                             .tracks = 2176,
                             .capacity = 2500000,
                             .assigning_organization = "LTO-CVE",
                             .density_name = "U-616",
                             .description = "Ultrium 6/16T"};
  auto d = build_report_density_support({&dd, 1});
  ASSERT_TRUE(d);
  EXPECT_EQ(d->size(), 56u);
  auto back = parse_report_density_support(*d);
  ASSERT_TRUE(back);
  ASSERT_EQ(back->descriptors.size(), 1u);
  EXPECT_EQ(back->descriptors[0], dd);
}

}  // namespace
}  // namespace uiscsi::scsi
