// Parsers for SPC-4 / SBC-3 data, fed with samples shaped like what Linux LIO and tgtd return.
#include "uiscsi/scsi/data.hpp"

#include <gtest/gtest.h>

#include "scsi_test_util.hpp"
#include "uiscsi/scsi/errors.hpp"

namespace uiscsi::scsi {
namespace {

using test::append;
using test::ascii;
using test::bytes;
using test::for_each_prefix;
using test::hex;

// Standard INQUIRY of a LIO iblock LUN: SPC-4, HiSup, response format 2, TPGS implicit + 3PC,
// CmdQue, "LIO-ORG " / "IBLOCK" / "4.0", 36 bytes.
std::vector<std::byte> lio_inquiry() {
  auto d = hex("00 00 06 12 1f 18 00 02");
  append(d, ascii("LIO-ORG", 8));
  append(d, ascii("IBLOCK", 16));
  append(d, ascii("4.0", 4));
  return d;
}

TEST(Inquiry, LioDisk) {
  auto r = parse_inquiry(lio_inquiry());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->peripheral_qualifier, 0);
  EXPECT_EQ(r->device_type, PeripheralDeviceType::direct_access);
  EXPECT_FALSE(r->rmb);
  EXPECT_EQ(r->version, 6);
  EXPECT_TRUE(r->hisup);
  EXPECT_FALSE(r->normaca);
  EXPECT_EQ(r->response_data_format, 2);
  EXPECT_EQ(r->additional_length, 31);
  EXPECT_EQ(r->tpgs, 1);
  EXPECT_TRUE(r->third_party_copy);
  EXPECT_FALSE(r->protect);
  EXPECT_TRUE(r->cmdque);
  EXPECT_EQ(r->vendor, "LIO-ORG");
  EXPECT_EQ(r->product, "IBLOCK");
  EXPECT_EQ(r->revision, "4.0");
  EXPECT_TRUE(r->version_descriptors.empty());
}

TEST(Inquiry, TgtdTapeWithVersionDescriptors) {
  // tgtd's SSC LUN: type 01h, RMB, SPC-3, 66 + 8 bytes with version descriptors SAM-3 (0060h),
  // SPC-3 (0300h), SSC-3 (0400h... here 0x0400 is SSC-2) and iSCSI (0960h).
  auto d = hex("01 80 05 02 45 00 00 02");
  append(d, ascii("IET", 8));
  append(d, ascii("VIRTUAL-TAPE", 16));
  append(d, ascii("0001", 4));
  d.resize(58);
  append(d, hex("00 60 03 00 04 00 09 60 00 00 00 00 00 00 00 00"));
  ASSERT_EQ(d.size(), 74u);
  auto r = parse_inquiry(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->device_type, PeripheralDeviceType::sequential_access);
  EXPECT_TRUE(r->rmb);
  EXPECT_EQ(r->vendor, "IET");
  EXPECT_EQ(r->product, "VIRTUAL-TAPE");
  EXPECT_EQ(r->revision, "0001");
  EXPECT_EQ(r->version_descriptors, (std::vector<std::uint16_t>{0x0060, 0x0300, 0x0400, 0x0960}));
}

TEST(Inquiry, ShortResponsesParseWhatIsPresent) {
  const auto full = lio_inquiry();
  for_each_prefix(full, [&](std::span<const std::byte> p) {
    auto r = parse_inquiry(p);
    if (p.size() < 5) {
      ASSERT_FALSE(r);
      EXPECT_EQ(r.error(), scsi_errc::truncated_data);
      return;
    }
    ASSERT_TRUE(r);
    EXPECT_EQ(r->device_type, PeripheralDeviceType::direct_access);
    if (p.size() >= 16) {
      EXPECT_EQ(r->vendor, "LIO-ORG");
    }
    if (p.size() >= 8) {
      EXPECT_TRUE(r->cmdque);
    }
    EXPECT_TRUE(std::string("IBLOCK").starts_with(r->product));
  });
  // ADDITIONAL LENGTH caps the parse even when more bytes are present.
  auto capped = full;
  capped[4] = std::byte{3};  // through byte 7 only
  auto r = parse_inquiry(capped);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->cmdque);
  EXPECT_EQ(r->vendor, "");
}

TEST(Vpd, GenericHeader) {
  auto p = parse_vpd_page(hex("00 80 00 04 41 42 43 44"));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->page_code, 0x80);
  EXPECT_EQ(p->page_length, 4);
  EXPECT_EQ(p->payload.size(), 4u);
  EXPECT_FALSE(p->truncated());
  auto t = parse_vpd_page(hex("01 b0 00 3c 00 01"));
  ASSERT_TRUE(t);
  EXPECT_EQ(t->device_type, PeripheralDeviceType::sequential_access);
  EXPECT_TRUE(t->truncated());
  EXPECT_FALSE(parse_vpd_page(hex("00 80 00")));
}

TEST(Vpd, SupportedPages) {
  const auto d = hex("00 00 00 07 00 80 83 86 b0 b1 b2");
  auto r = parse_vpd_supported_pages(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (std::vector<std::uint8_t>{0x00, 0x80, 0x83, 0x86, 0xb0, 0xb1, 0xb2}));
  EXPECT_EQ(parse_vpd_supported_pages(hex("00 80 00 00")).error(), scsi_errc::malformed_data);
  for_each_prefix(d, [](std::span<const std::byte> p) {
    auto x = parse_vpd_supported_pages(p);
    if (p.size() < 4) {
      EXPECT_FALSE(x);
    } else {
      ASSERT_TRUE(x);
      EXPECT_EQ(x->size(), p.size() - 4);
    }
  });
}

TEST(Vpd, UnitSerial) {
  auto d = hex("00 80 00 24");
  append(d, ascii("d3f4e5a6-1b2c-4d5e-8f90-a1b2c3d4e5f6", 36));
  auto r = parse_vpd_unit_serial(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "d3f4e5a6-1b2c-4d5e-8f90-a1b2c3d4e5f6");
  auto padded = hex("01 80 00 0a 20 20 58 59 5a 30 31 32 00 00");
  EXPECT_EQ(*parse_vpd_unit_serial(padded), "XYZ012");
}

// Device identification as LIO builds it: NAA 6 (IEEE registered extended, LIO's OUI 001405),
// T10 vendor ID "LIO-ORG" + unit serial, relative target port, target port group, and the
// target port's SCSI name string.
std::vector<std::byte> lio_vpd83() {
  std::vector<std::byte> body;
  append(body, hex("01 03 00 10 60 01 40 5a bc de f0 12 34 56 78 9a bc de f0 12"));
  append(body, hex("02 01 00 2c"));
  append(body, ascii("LIO-ORG d3f4e5a6-1b2c-4d5e-8f90-a1b2c3d4e5f6", 44));
  append(body, hex("51 94 00 04 00 00 00 01"));
  append(body, hex("51 95 00 04 00 00 00 00"));
  const std::string name = "iqn.2003-01.org.linux-iscsi.x:sn.1,t,0x0001";
  // NUL-terminated and padded to a multiple of 4 (SPC-4 SCSI name string rules).
  const std::size_t padded = (name.size() + 1 + 3) / 4 * 4;
  auto name_bytes = ascii(name, padded);
  for (std::size_t i = name.size(); i < padded; ++i)
    name_bytes[i] = std::byte{0};
  append(body, bytes({0x53, 0x98, 0x00, static_cast<int>(padded)}));
  append(body, name_bytes);
  auto d = hex("00 83");
  d.push_back(static_cast<std::byte>(body.size() >> 8));
  d.push_back(static_cast<std::byte>(body.size() & 0xff));
  append(d, body);
  return d;
}

TEST(Vpd, DeviceIdentificationLio) {
  auto r = parse_vpd_device_identification(lio_vpd83());
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 5u);
  const Designator& naa = (*r)[0];
  EXPECT_EQ(naa.code_set, CodeSet::binary);
  EXPECT_EQ(naa.association, Association::logical_unit);
  EXPECT_EQ(naa.type, DesignatorType::naa);
  EXPECT_EQ(naa.value.size(), 16u);
  const Designator& t10 = (*r)[1];
  EXPECT_EQ(t10.code_set, CodeSet::ascii);
  EXPECT_EQ(t10.type, DesignatorType::t10_vendor_id);
  const Designator& rtp = (*r)[2];
  EXPECT_EQ(rtp.protocol_identifier, 5);  // iSCSI
  EXPECT_TRUE(rtp.piv);
  EXPECT_EQ(rtp.association, Association::target_port);
  EXPECT_EQ(rtp.type, DesignatorType::relative_target_port);
  EXPECT_EQ((*r)[3].type, DesignatorType::target_port_group);
  EXPECT_EQ((*r)[4].type, DesignatorType::scsi_name_string);
  EXPECT_EQ((*r)[4].code_set, CodeSet::utf8);

  const Designator* best = pick_lu_designator(*r);
  ASSERT_NE(best, nullptr);
  EXPECT_EQ(best, &naa);
  EXPECT_EQ(designator_string(*best), "naa.6001405abcdef0123456789abcdef012");
  EXPECT_EQ(designator_string(t10), "t10.LIO-ORG d3f4e5a6-1b2c-4d5e-8f90-a1b2c3d4e5f6");
  EXPECT_EQ(designator_string((*r)[4]), "iqn.2003-01.org.linux-iscsi.x:sn.1,t,0x0001");
}

TEST(Vpd, PickDesignatorPreferences) {
  std::vector<Designator> ds(3);
  ds[0].type = DesignatorType::t10_vendor_id;
  ds[0].value = ascii("VENDOR", 8);
  ds[1].type = DesignatorType::eui64;
  ds[1].value = hex("00 11 22 33 44 55 66 77");
  ds[2].type = DesignatorType::naa;
  ds[2].association = Association::target_port;  // not a LU designator
  ds[2].value = hex("50 01 40 50 00 00 00 01");
  EXPECT_EQ(pick_lu_designator(ds), &ds[1]);
  EXPECT_EQ(designator_string(ds[1]), "eui.0011223344556677");
  ds[2].association = Association::logical_unit;
  EXPECT_EQ(pick_lu_designator(ds), &ds[2]);
  EXPECT_EQ(pick_lu_designator({}), nullptr);
}

TEST(Vpd, DeviceIdentificationTruncatedAndMalformed) {
  const auto full = lio_vpd83();
  for_each_prefix(full, [&](std::span<const std::byte> p) {
    auto r = parse_vpd_device_identification(p);
    if (p.size() < 4) {
      ASSERT_FALSE(r);
      return;
    }
    // Cut by the allocation length: only whole descriptors, each equal to the full parse's.
    ASSERT_TRUE(r);
    const auto all = *parse_vpd_device_identification(full);
    ASSERT_LE(r->size(), all.size());
    for (std::size_t i = 0; i < r->size(); ++i) {
      EXPECT_EQ((*r)[i], all[i]);
    }
  });
  // A descriptor claiming more than the page holds, with the page complete: malformed.
  auto bad = hex("00 83 00 08 01 03 00 10 60 01 40 5a");
  EXPECT_EQ(parse_vpd_device_identification(bad).error(), scsi_errc::malformed_data);
  // Wrong page code.
  EXPECT_EQ(parse_vpd_device_identification(hex("00 80 00 00")).error(), scsi_errc::malformed_data);
}

std::vector<std::byte> lio_block_limits() {
  // LIO: WSNZ=1, max COMPARE AND WRITE 1, OTLG 1, max transfer 0x2000 (4 MiB at 512),
  // optimal 0x2000, max unmap LBA count 0x2000, max unmap descriptors 1, optimal unmap
  // granularity 8, UGAVALID with alignment 0, max WRITE SAME 0xffffffff.
  return hex(
      "00 b0 00 3c 01 01 00 01 00 00 20 00 00 00 20 00 00 00 00 00"
      "00 00 20 00 00 00 00 01 00 00 00 08 80 00 00 00 00 00 00 00 ff ff ff ff"
      "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
}

TEST(Vpd, BlockLimits) {
  const auto d = lio_block_limits();
  ASSERT_EQ(d.size(), 64u);
  auto r = parse_vpd_block_limits(d);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->wsnz);
  EXPECT_EQ(r->max_compare_and_write_length, 1);
  EXPECT_EQ(r->optimal_transfer_length_granularity, 1);
  EXPECT_EQ(r->max_transfer_length, 0x2000u);
  EXPECT_EQ(r->optimal_transfer_length, 0x2000u);
  EXPECT_EQ(r->max_prefetch_length, 0u);
  EXPECT_EQ(r->max_unmap_lba_count, 0x2000u);
  EXPECT_EQ(r->max_unmap_block_descriptor_count, 1u);
  EXPECT_EQ(r->optimal_unmap_granularity, 8u);
  EXPECT_TRUE(r->ugavalid);
  EXPECT_EQ(r->unmap_granularity_alignment, 0u);
  EXPECT_EQ(r->max_write_same_length, 0xffffffffu);

  // An SPC-3-era device with page length 0Ch: the missing fields read as 0.
  auto old = hex("00 b0 00 0c 00 00 00 00 00 00 01 00 00 00 00 80");
  auto o = parse_vpd_block_limits(old);
  ASSERT_TRUE(o);
  EXPECT_EQ(o->max_transfer_length, 0x100u);
  EXPECT_EQ(o->optimal_transfer_length, 0x80u);
  EXPECT_EQ(o->max_unmap_lba_count, 0u);

  for_each_prefix(d, [&](std::span<const std::byte> p) {
    auto x = parse_vpd_block_limits(p);
    if (p.size() < 4) {
      EXPECT_FALSE(x);
      return;
    }
    ASSERT_TRUE(x);
    if (p.size() >= 12) {
      EXPECT_EQ(x->max_transfer_length, 0x2000u);
    }
    if (p.size() < 12) {
      EXPECT_EQ(x->max_transfer_length, 0u);
    }
  });
}

TEST(Vpd, BlockCharacteristics) {
  auto d = hex("00 b1 00 3c 00 01 00 03 00");
  d.resize(64);
  auto r = parse_vpd_block_characteristics(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->medium_rotation_rate, 1);  // non-rotating
  EXPECT_EQ(r->nominal_form_factor, 3);   // 2.5 inch
  auto hdd = hex("00 b1 00 3c 1c 20 00 52 03");
  auto h = parse_vpd_block_characteristics(hdd);  // truncated page is fine
  ASSERT_TRUE(h);
  EXPECT_EQ(h->medium_rotation_rate, 7200);
  EXPECT_EQ(h->wacereq, 1);
  EXPECT_EQ(h->nominal_form_factor, 2);
  EXPECT_TRUE(h->fuab);
  EXPECT_TRUE(h->vbuls);
  for_each_prefix(hdd, [](std::span<const std::byte> p) {
    EXPECT_EQ(static_cast<bool>(parse_vpd_block_characteristics(p)), p.size() >= 4);
  });
}

TEST(Vpd, LogicalBlockProvisioning) {
  // LIO with emulate_tpu=1, emulate_tpws=1: LBPU, LBPWS, LBPWS10 (kernel sets it with TPWS),
  // thin provisioned.
  const auto d = hex("00 b2 00 04 00 e0 02 00");
  auto r = parse_vpd_logical_block_provisioning(d);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->lbpu);
  EXPECT_TRUE(r->lbpws);
  EXPECT_TRUE(r->lbpws10);
  EXPECT_FALSE(r->lbprz);
  EXPECT_FALSE(r->dp);
  EXPECT_EQ(r->provisioning_type, ProvisioningType::thin);
  auto z = parse_vpd_logical_block_provisioning(hex("00 b2 00 04 05 06 09 32"));
  ASSERT_TRUE(z);
  EXPECT_EQ(z->threshold_exponent, 5);
  EXPECT_TRUE(z->lbprz);
  EXPECT_TRUE(z->anc_sup);
  EXPECT_EQ(z->minimum_percentage, 1);
  EXPECT_EQ(z->provisioning_type, ProvisioningType::resource);
  EXPECT_EQ(z->threshold_percentage, 0x32);
  for_each_prefix(d, [](std::span<const std::byte> p) {
    EXPECT_EQ(parse_vpd_logical_block_provisioning(p).error(), scsi_errc::truncated_data);
  });
}

TEST(ReadCapacity, TenByte) {
  const auto d = hex("00 3f ff ff 00 00 02 00");  // 4 Mi blocks of 512
  auto r = parse_read_capacity10(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->last_lba, 0x3fffffu);
  EXPECT_EQ(r->block_length, 512u);
  EXPECT_EQ(r->block_count(), 0x400000u);
  EXPECT_FALSE(r->needs_read_capacity16());
  EXPECT_TRUE(parse_read_capacity10(hex("ff ff ff ff 00 00 02 00"))->needs_read_capacity16());
  for_each_prefix(d, [](std::span<const std::byte> p) {
    EXPECT_EQ(parse_read_capacity10(p).error(), scsi_errc::truncated_data);
  });
}

TEST(ReadCapacity, SixteenByte) {
  // 8 TiB thin LUN, 4096-byte physical blocks over 512-byte logical (LBPPBE 3), LBPME+LBPRZ,
  // protection type 1 enabled, lowest aligned LBA 7.
  auto d = hex("00 00 00 03 ff ff ff ff 00 00 02 00 01 03 c0 07");
  d.resize(32);
  auto r = parse_read_capacity16(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->last_lba, 0x3ffffffffull);
  EXPECT_EQ(r->block_length, 512u);
  EXPECT_EQ(r->block_count(), 0x400000000ull);
  EXPECT_TRUE(r->prot_en);
  EXPECT_EQ(r->p_type, 0);
  EXPECT_EQ(r->lbppbe, 3);
  EXPECT_TRUE(r->lbpme);
  EXPECT_TRUE(r->lbprz);
  EXPECT_EQ(r->lowest_aligned_lba, 7);
  for_each_prefix(d, [](std::span<const std::byte> p) {
    auto x = parse_read_capacity16(p);
    if (p.size() < 12) {
      EXPECT_EQ(x.error(), scsi_errc::truncated_data);
    } else {
      ASSERT_TRUE(x);
      EXPECT_EQ(x->last_lba, 0x3ffffffffull);
      EXPECT_EQ(x->lbpme, p.size() >= 16);
    }
  });
}

TEST(ReportLuns, ListOfLuns) {
  const auto d =
      hex("00 00 00 18 00 00 00 00"
          "00 00 00 00 00 00 00 00"
          "00 01 00 00 00 00 00 00"
          "41 00 00 00 00 00 00 00");
  auto r = parse_report_luns(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->lun_list_length, 24u);
  ASSERT_EQ(r->luns.size(), 3u);
  EXPECT_EQ(*r->luns[0].to_number(), 0u);
  EXPECT_EQ(*r->luns[1].to_number(), 1u);
  EXPECT_EQ(*r->luns[2].to_number(), 256u);
  EXPECT_FALSE(r->truncated());
  for_each_prefix(d, [](std::span<const std::byte> p) {
    auto x = parse_report_luns(p);
    if (p.size() < 8) {
      EXPECT_EQ(x.error(), scsi_errc::truncated_data);
      return;
    }
    ASSERT_TRUE(x);
    EXPECT_EQ(x->luns.size(), (p.size() - 8) / 8);
    EXPECT_TRUE(x->truncated());
  });
  EXPECT_EQ(parse_report_luns(hex("00 00 00 0c 00 00 00 00")).error(), scsi_errc::malformed_data);
  auto empty = parse_report_luns(hex("00 00 00 00 00 00 00 00"));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->luns.empty());
}

// MODE SENSE(6) from a LIO disk, all pages: header, short LBA block descriptor (0x00400000
// blocks of 512), then pages 01h, 08h (WCE), 0Ah, 1Ch.
std::vector<std::byte> lio_mode_sense6() {
  std::vector<std::byte> body;
  append(body, hex("00 40 00 00 00 00 02 00"));
  append(body, hex("81 0a 80 00 00 00 00 00 00 00 00 00"));  // PS=1, AWRE
  append(body, hex("08 12 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"));
  append(body, hex("0a 0a 02 00 00 00 00 00 ff ff 00 1e"));
  append(body, hex("1c 0a 00 00 00 00 00 00 00 00 00 00"));
  auto d = bytes({static_cast<int>(body.size() + 3), 0x00, 0x10, 0x08});  // DPOFUA
  append(d, body);
  return d;
}

TEST(ModeSense, LioDiskAllPages) {
  const auto d = lio_mode_sense6();
  auto r = parse_mode_sense6(d, PeripheralDeviceType::direct_access);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->header.mode_data_length, d.size() - 1);
  EXPECT_EQ(r->header.device_specific, 0x10);
  EXPECT_FALSE(r->header.write_protected());
  ASSERT_EQ(r->block_descriptors.size(), 1u);
  EXPECT_EQ(r->block_descriptors[0].number_of_blocks, 0x400000u);
  EXPECT_EQ(r->block_descriptors[0].density_code, 0);
  EXPECT_EQ(r->block_descriptors[0].block_length, 512u);
  ASSERT_EQ(r->pages.size(), 4u);
  EXPECT_EQ(r->pages[0].page_code, 0x01);
  EXPECT_TRUE(r->pages[0].ps);
  EXPECT_EQ(r->pages[0].parameters.size(), 10u);
  const ModePage* caching = r->find_page(0x08);
  ASSERT_NE(caching, nullptr);
  EXPECT_EQ(caching->parameters.size(), 0x12u);
  EXPECT_EQ(std::to_integer<int>(caching->parameters[0]) & 0x04, 0x04);  // WCE
  EXPECT_EQ(r->find_page(0x0a)->parameters.size(), 10u);
  EXPECT_EQ(r->find_page(0x3f), nullptr);
  EXPECT_EQ(r->find_page(0x08, 1), nullptr);
}

TEST(ModeSense, TruncatedByAllocationLength) {
  const auto d = lio_mode_sense6();
  const auto full = *parse_mode_sense6(d, PeripheralDeviceType::direct_access);
  for_each_prefix(d, [&](std::span<const std::byte> p) {
    auto r = parse_mode_sense6(p, PeripheralDeviceType::direct_access);
    if (p.size() < 4) {
      EXPECT_EQ(r.error(), scsi_errc::truncated_data);
      return;
    }
    ASSERT_TRUE(r);
    EXPECT_EQ(r->header, full.header);
    ASSERT_LE(r->pages.size(), full.pages.size());
    for (std::size_t i = 0; i < r->pages.size(); ++i) {
      EXPECT_EQ(r->pages[i], full.pages[i]);
    }
    EXPECT_EQ(r->block_descriptors.size(), p.size() >= 12 ? 1u : 0u);
  });
}

TEST(ModeSense, Malformed) {
  // Block descriptor length not a multiple of 8.
  EXPECT_EQ(parse_mode_sense6(hex("0b 00 00 07 00 00 00 00 00 00 02 00"),
                              PeripheralDeviceType::direct_access)
                .error(),
            scsi_errc::malformed_data);
  // A page overruns MODE DATA LENGTH although all data is present.
  EXPECT_EQ(parse_mode_sense6(hex("07 00 00 00 08 12 00 00"), PeripheralDeviceType::direct_access)
                .error(),
            scsi_errc::malformed_data);
  // MODE DATA LENGTH smaller than the header itself.
  EXPECT_EQ(parse_mode_sense10(hex("00 00 00 00 00 00 00 00"), PeripheralDeviceType::direct_access)
                .error(),
            scsi_errc::malformed_data);
}

TEST(ModeSense, TenByteLongLbaAndSubpages) {
  // MODE SENSE(10) with LONGLBA: one 16-byte descriptor, then subpage 0Ah/01h (SPF).
  std::vector<std::byte> body;
  append(body, hex("00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"));
  body[0] = std::byte{0x01};  // 2^56 blocks
  body[15] = std::byte{0x00};
  body[14] = std::byte{0x10};  // 4096
  append(body, hex("4a 01 00 04 01 02 03 04"));
  auto d = hex("00 00 00 00 01 00 00 10");
  append(d, body);
  d[1] = static_cast<std::byte>(d.size() - 2);
  auto r = parse_mode_sense10(d, PeripheralDeviceType::direct_access);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->header.long_lba);
  ASSERT_EQ(r->block_descriptors.size(), 1u);
  EXPECT_EQ(r->block_descriptors[0].number_of_blocks, 1ull << 56);
  EXPECT_EQ(r->block_descriptors[0].block_length, 4096u);
  ASSERT_EQ(r->pages.size(), 1u);
  EXPECT_TRUE(r->pages[0].spf);
  EXPECT_EQ(r->pages[0].subpage, 1);
  EXPECT_EQ(r->pages[0].header_length(), 4u);
  EXPECT_NE(r->find_page(0x0a, 1), nullptr);
  for_each_prefix(d, [](std::span<const std::byte> p) {
    auto x = parse_mode_sense10(p, PeripheralDeviceType::direct_access);
    EXPECT_EQ(static_cast<bool>(x), p.size() >= 8);
  });
}

TEST(PersistentReserveIn, ReadKeys) {
  const auto d =
      hex("00 00 00 05 00 00 00 10"
          "00 00 00 00 00 00 ab cd"
          "11 22 33 44 55 66 77 88");
  auto r = parse_pr_read_keys(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->generation, 5u);
  EXPECT_EQ(r->keys, (std::vector<std::uint64_t>{0xabcd, 0x1122334455667788ull}));
  for_each_prefix(d, [](std::span<const std::byte> p) {
    auto x = parse_pr_read_keys(p);
    if (p.size() < 8) {
      EXPECT_FALSE(x);
    } else {
      ASSERT_TRUE(x);
      EXPECT_EQ(x->keys.size(), (p.size() - 8) / 8);
      EXPECT_TRUE(x->truncated());
    }
  });
  EXPECT_EQ(parse_pr_read_keys(hex("00 00 00 05 00 00 00 04")).error(), scsi_errc::malformed_data);
}

TEST(PersistentReserveIn, ReadReservation) {
  const auto d =
      hex("00 00 00 07 00 00 00 10"
          "00 00 00 00 00 00 ab cd 00 00 00 00 00 05 00 00");
  auto r = parse_pr_read_reservation(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->generation, 7u);
  EXPECT_TRUE(r->reserved);
  EXPECT_EQ(r->key, 0xabcdu);
  EXPECT_EQ(r->scope, 0);
  EXPECT_EQ(r->type, PrType::write_exclusive_registrants_only);
  auto none = parse_pr_read_reservation(hex("00 00 00 07 00 00 00 00"));
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->reserved);
  for_each_prefix(d, [](std::span<const std::byte> p) {
    EXPECT_EQ(parse_pr_read_reservation(p).error(), scsi_errc::truncated_data);
  });
  EXPECT_EQ(parse_pr_read_reservation(hex("00 00 00 07 00 00 00 08")).error(),
            scsi_errc::malformed_data);
}

TEST(SupportedOpcodes, AllCommandsWithAndWithoutTimeouts) {
  const auto d =
      hex("00 00 00 1c"
          "28 00 00 00 00 00 00 0a"                // READ(10)
          "9e 00 00 10 00 03 00 10"                // SAI(16)/10h, SERVACTV + CTDP
          "00 0a 00 00 00 00 00 1e 00 00 00 3c");  // timeouts 30 s / 60 s
  auto r = parse_supported_opcodes(d);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->commands.size(), 2u);
  EXPECT_EQ(r->commands[0].opcode, 0x28);
  EXPECT_FALSE(r->commands[0].servactv);
  EXPECT_EQ(r->commands[0].cdb_length, 10);
  EXPECT_FALSE(r->commands[0].timeouts);
  EXPECT_EQ(r->commands[1].opcode, 0x9e);
  EXPECT_EQ(r->commands[1].service_action, 0x10);
  EXPECT_TRUE(r->commands[1].servactv);
  ASSERT_TRUE(r->commands[1].timeouts);
  EXPECT_EQ(r->commands[1].timeouts->nominal, 30u);
  EXPECT_EQ(r->commands[1].timeouts->recommended, 60u);
  for_each_prefix(d, [](std::span<const std::byte> p) {
    auto x = parse_supported_opcodes(p);
    if (p.size() < 4) {
      EXPECT_FALSE(x);
      return;
    }
    ASSERT_TRUE(x);
    EXPECT_EQ(x->commands.size(), p.size() >= 32 ? 2u : p.size() >= 12 ? 1u : 0u);
  });
  EXPECT_EQ(parse_supported_opcodes(hex("00 00 00 04 28 00 00 00")).error(),
            scsi_errc::malformed_data);
}

}  // namespace
}  // namespace uiscsi::scsi
