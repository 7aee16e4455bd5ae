// DiskLu: TEST UNIT READY, INQUIRY and VPD pages, READ CAPACITY, REPORT LUNS, REQUEST SENSE,
// START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL, REPORT SUPPORTED OPERATION CODES, and the
// generic CDB checks (unknown opcode, service action, NACA).
#include <algorithm>

#include "lu_test_util.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/data.hpp"

namespace uiscsi::target::test {
namespace {

using scsi::SenseKey;

TEST(DiskLuBasic, TestUnitReadyIsGood) {
  Harness h;
  EXPECT_GOOD(h.run(scsi::test_unit_ready()));
  EXPECT_TRUE(h.run(scsi::test_unit_ready()).data_in.empty());
}

TEST(DiskLuBasic, UnknownOpcodeIsInvalidCommandOperationCode) {
  Harness h;
  for (int op : {0x04, 0x07, 0x3b, 0x4d, 0x8b, 0x9c, 0xff}) {
    SCOPED_TRACE(op);
    const auto r = h.run(raw({op, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    expect_sense(r, SenseKey::illegal_request, 0x20, 0x00);
    EXPECT_EQ(sense_of(r).sense_key_specific.field_pointer(), 0);
  }
  // Opcodes with service actions: an unknown service action points at the SERVICE ACTION field.
  expect_invalid_cdb(h.run(raw({0x9e, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0})), 1, 4);
  expect_invalid_cdb(h.run(raw({0xa3, 0x0a, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0})), 1, 4);
  expect_invalid_cdb(h.run(scsi::persistent_reserve_in(static_cast<scsi::PrInAction>(4))), 1, 4);
}

TEST(DiskLuBasic, NacaInControlByteIsRefused) {
  Harness h;
  expect_invalid_cdb(h.run(raw({0x00, 0, 0, 0, 0, 0x04})), 5, 2);
  expect_invalid_cdb(h.run(raw({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0x04}, 512)), 9, 2);
}

TEST(DiskLuBasic, StandardInquiry) {
  DiskLuConfig cfg;
  cfg.product = "Test Disk";
  cfg.revision = "1.2";
  Harness h(2048, 512, cfg);
  const auto r = h.run(scsi::inquiry(260));
  EXPECT_GOOD(r);
  ASSERT_EQ(r.data_in.size(), 74u);
  auto inq = scsi::parse_inquiry(r.data_in);
  ASSERT_TRUE(inq);
  EXPECT_EQ(inq->peripheral_qualifier, 0);
  EXPECT_EQ(inq->device_type, scsi::PeripheralDeviceType::direct_access);
  EXPECT_FALSE(inq->rmb);
  EXPECT_EQ(inq->version, 0x06);
  EXPECT_EQ(inq->response_data_format, 2);
  EXPECT_EQ(inq->additional_length, r.data_in.size() - 5);
  EXPECT_TRUE(inq->cmdque);
  EXPECT_EQ(inq->vendor, "UISCSI");
  EXPECT_EQ(inq->product, "Test Disk");
  EXPECT_EQ(inq->revision, "1.2");
  // SAM-5, iSCSI, SPC-4, SBC-3.
  EXPECT_EQ(inq->version_descriptors, (std::vector<std::uint16_t>{0x00a0, 0x0960, 0x0460, 0x04c0}));
  // AERC and TRMTSK clear (libiscsi Inquiry.Standard).
  EXPECT_EQ(std::to_integer<int>(r.data_in[3]) & 0xc0, 0);
}

TEST(DiskLuBasic, InquiryHonoursAllocationLength) {
  Harness h;
  const auto full = h.run(scsi::inquiry(255)).data_in;
  for (std::uint16_t len : {0, 1, 5, 36, 73, 74, 255}) {
    auto spec = scsi::inquiry(len);
    spec.data_in_length = 1024;  // a larger initiator buffer: the CDB still limits
    const auto r = h.run(spec);
    EXPECT_GOOD(r);
    ASSERT_EQ(r.data_in.size(), std::min<std::size_t>(len, full.size()));
    EXPECT_TRUE(std::equal(r.data_in.begin(), r.data_in.end(), full.begin()));
  }
}

TEST(DiskLuBasic, InquiryInvalidFields) {
  Harness h;
  // EVPD = 0 with a page code (libiscsi Inquiry.EVPD).
  expect_invalid_cdb(h.run(raw({0x12, 0x00, 0x80, 0, 255, 0})), 2, 7);
  // CMDDT (obsolete).
  expect_invalid_cdb(h.run(raw({0x12, 0x02, 0x00, 0, 255, 0})), 1, 1);
  // Unsupported VPD page.
  expect_invalid_cdb(h.run(scsi::inquiry_vpd(0x86)), 2, 7);
  expect_invalid_cdb(h.run(scsi::inquiry_vpd(0xb3)), 2, 7);
}

TEST(DiskLuBasic, SupportedVpdPagesAllReadable) {
  Harness h;
  const auto r = h.run(scsi::inquiry_vpd(0x00));
  EXPECT_GOOD(r);
  auto pages = scsi::parse_vpd_supported_pages(r.data_in);
  ASSERT_TRUE(pages);
  EXPECT_EQ(*pages, (std::vector<std::uint8_t>{0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2}));
  for (std::uint8_t p : *pages) {
    SCOPED_TRACE(static_cast<int>(p));
    const auto page = h.run(scsi::inquiry_vpd(p));
    EXPECT_GOOD(page);
    auto parsed = scsi::parse_vpd_page(page.data_in);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->page_code, p);
    EXPECT_EQ(parsed->page_length + 4u, page.data_in.size());
  }
}

TEST(DiskLuBasic, SerialAndDeviceIdentification) {
  DiskLuConfig cfg;
  cfg.serial = "SN-0042";
  Harness h(1024, 512, cfg);
  auto serial = scsi::parse_vpd_unit_serial(h.run(scsi::inquiry_vpd(0x80)).data_in);
  ASSERT_TRUE(serial);
  EXPECT_EQ(*serial, "SN-0042");

  auto ids = scsi::parse_vpd_device_identification(h.run(scsi::inquiry_vpd(0x83)).data_in);
  ASSERT_TRUE(ids);
  ASSERT_EQ(ids->size(), 3u);
  const scsi::Designator* lu = scsi::pick_lu_designator(*ids);
  ASSERT_NE(lu, nullptr);
  EXPECT_EQ(lu->type, scsi::DesignatorType::naa);
  ASSERT_EQ(lu->value.size(), 8u);
  EXPECT_EQ(std::to_integer<int>(lu->value[0]) >> 4, 3);  // NAA 3h, locally assigned
  const auto& t10 = (*ids)[1];
  EXPECT_EQ(t10.type, scsi::DesignatorType::t10_vendor_id);
  EXPECT_EQ(t10.code_set, scsi::CodeSet::ascii);
  EXPECT_EQ(scsi::designator_string(t10).substr(0, 8), "t10.UISC");
  const auto& port = (*ids)[2];
  EXPECT_EQ(port.association, scsi::Association::target_port);
  EXPECT_EQ(port.type, scsi::DesignatorType::relative_target_port);
  EXPECT_TRUE(port.piv);
  EXPECT_EQ(port.protocol_identifier, 5);

  // A configured 16-byte NAA is reported as is; the same config gives the same derived one.
  DiskLuConfig with_naa;
  for (int i = 0; i < 16; ++i)
    with_naa.naa.push_back(static_cast<std::byte>(i == 0 ? 0x60 : i));
  Harness h2(1024, 512, with_naa);
  auto ids2 = scsi::parse_vpd_device_identification(h2.run(scsi::inquiry_vpd(0x83)).data_in);
  ASSERT_TRUE(ids2);
  EXPECT_EQ((*ids2)[0].value, with_naa.naa);
  Harness h3(1024, 512, cfg);
  auto ids3 = scsi::parse_vpd_device_identification(h3.run(scsi::inquiry_vpd(0x83)).data_in);
  ASSERT_TRUE(ids3);
  EXPECT_EQ((*ids3)[0].value, lu->value);
}

TEST(DiskLuBasic, BlockLimitsAndProvisioningVpdAgree) {
  Harness h(4096, 512);
  auto bl = scsi::parse_vpd_block_limits(h.run(scsi::inquiry_vpd(0xb0)).data_in);
  ASSERT_TRUE(bl);
  EXPECT_FALSE(bl->wsnz);
  EXPECT_EQ(bl->max_compare_and_write_length, 255);
  EXPECT_EQ(bl->max_transfer_length, (8u << 20) / 512);
  EXPECT_EQ(bl->optimal_transfer_length_granularity, 1);
  EXPECT_EQ(bl->max_unmap_lba_count, 0xffffffffu);
  EXPECT_EQ(bl->max_unmap_block_descriptor_count, 256u);
  EXPECT_EQ(bl->max_write_same_length, 1u << 22);
  auto lbp = scsi::parse_vpd_logical_block_provisioning(h.run(scsi::inquiry_vpd(0xb2)).data_in);
  ASSERT_TRUE(lbp);
  EXPECT_TRUE(lbp->lbpu);
  EXPECT_TRUE(lbp->lbpws);
  EXPECT_TRUE(lbp->lbpws10);
  EXPECT_TRUE(lbp->lbprz);
  EXPECT_FALSE(lbp->anc_sup);
  EXPECT_EQ(lbp->provisioning_type, scsi::ProvisioningType::thin);
  auto bc = scsi::parse_vpd_block_characteristics(h.run(scsi::inquiry_vpd(0xb1)).data_in);
  ASSERT_TRUE(bc);
  EXPECT_EQ(bc->medium_rotation_rate, 1);

  // Without thin provisioning the unmap limits are 0 and LBPU clear (libiscsi
  // Inquiry.BlockLimits).
  DiskLuConfig full;
  full.thin_provisioning = false;
  Harness f(4096, 512, full);
  auto fbl = scsi::parse_vpd_block_limits(f.run(scsi::inquiry_vpd(0xb0)).data_in);
  ASSERT_TRUE(fbl);
  EXPECT_EQ(fbl->max_unmap_lba_count, 0u);
  EXPECT_EQ(fbl->max_unmap_block_descriptor_count, 0u);
  auto flbp = scsi::parse_vpd_logical_block_provisioning(f.run(scsi::inquiry_vpd(0xb2)).data_in);
  ASSERT_TRUE(flbp);
  EXPECT_FALSE(flbp->lbpu);
  EXPECT_FALSE(flbp->lbpws10);
  EXPECT_EQ(flbp->provisioning_type, scsi::ProvisioningType::full);
}

TEST(DiskLuBasic, ReadCapacity) {
  Harness h(1000, 4096);
  auto r10 = h.run(scsi::read_capacity10());
  EXPECT_GOOD(r10);
  auto c10 = scsi::parse_read_capacity10(r10.data_in);
  ASSERT_TRUE(c10);
  EXPECT_EQ(c10->last_lba, 999u);
  EXPECT_EQ(c10->block_length, 4096u);
  auto r16 = h.run(scsi::read_capacity16());
  EXPECT_GOOD(r16);
  auto c16 = scsi::parse_read_capacity16(r16.data_in);
  ASSERT_TRUE(c16);
  EXPECT_EQ(c16->last_lba, 999u);
  EXPECT_TRUE(c16->lbpme);
  EXPECT_TRUE(c16->lbprz);
  EXPECT_FALSE(c16->prot_en);
  // ALLOCATION LENGTH cuts the 32 bytes (libiscsi ReadCapacity16.Alloclen).
  for (std::uint32_t len : {0u, 8u, 15u, 32u, 64u}) {
    EXPECT_EQ(h.run(scsi::read_capacity16(len)).data_in.size(), std::min(len, 32u));
  }
  // PMI = 0 needs LBA 0.
  expect_invalid_cdb(h.run(raw({0x25, 0, 0, 0, 0, 1, 0, 0, 0, 0}, 8)), 2, 7);
  EXPECT_GOOD(h.run(raw({0x25, 0, 0, 0, 0, 1, 0, 0, 1, 0}, 8)));
  expect_invalid_cdb(h.run(raw({0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 32, 0, 0}, 32)), 2, 7);
}

TEST(DiskLuBasic, ReadCapacity10ClampsLargeCapacity) {
  auto store = make_null_store(512, 0x1'0000'0005ull);
  ASSERT_TRUE(store);
  Harness h(0, 512, {}, std::move(*store));
  auto c10 = scsi::parse_read_capacity10(h.run(scsi::read_capacity10()).data_in);
  ASSERT_TRUE(c10);
  EXPECT_TRUE(c10->needs_read_capacity16());
  auto c16 = scsi::parse_read_capacity16(h.run(scsi::read_capacity16()).data_in);
  ASSERT_TRUE(c16);
  EXPECT_EQ(c16->last_lba, 0x1'0000'0004ull);
}

TEST(DiskLuBasic, ReportLuns) {
  Harness h;
  auto r = h.run(*scsi::report_luns(4096));
  EXPECT_GOOD(r);
  auto luns = scsi::parse_report_luns(r.data_in);
  ASSERT_TRUE(luns);
  ASSERT_EQ(luns->luns.size(), 1u);
  EXPECT_EQ(luns->luns[0], Lun{});
  auto wk = scsi::parse_report_luns(
      h.run(*scsi::report_luns(4096, scsi::ReportLunsSelect::well_known)).data_in);
  ASSERT_TRUE(wk);
  EXPECT_TRUE(wk->luns.empty());
  expect_invalid_cdb(h.run(raw({0xa0, 0, 0x05, 0, 0, 0, 0, 0, 0x10, 0, 0, 0}, 4096)), 2, 7);
  expect_invalid_cdb(h.run(raw({0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 0, 0}, 15)), 6, 7);

  DiskLuConfig cfg;
  cfg.report_luns = [] { return std::vector<Lun>{*Lun::from_number(0), *Lun::from_number(3)}; };
  Harness h2(1024, 512, cfg);
  auto two = scsi::parse_report_luns(h2.run(*scsi::report_luns(4096)).data_in);
  ASSERT_TRUE(two);
  EXPECT_EQ(two->luns.size(), 2u);
  // Allocation length 16 returns the header and the first LUN only.
  EXPECT_EQ(h2.run(*scsi::report_luns(16)).data_in.size(), 16u);
}

TEST(DiskLuBasic, RequestSenseWithoutConditionIsNoSense) {
  Harness h;
  auto fixed = h.run(scsi::request_sense(252));
  EXPECT_GOOD(fixed);
  ASSERT_EQ(fixed.data_in.size(), 18u);
  auto s = scsi::parse_sense(fixed.data_in);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->response_code, 0x70);
  EXPECT_EQ(s->sense_key, SenseKey::no_sense);
  EXPECT_EQ(s->asc, 0);
  auto desc = h.run(scsi::request_sense(252, true));
  EXPECT_GOOD(desc);
  auto d = scsi::parse_sense(desc.data_in);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->response_code, 0x72);
  EXPECT_EQ(h.run(scsi::request_sense(4)).data_in.size(), 4u);
}

TEST(DiskLuBasic, StartStopUnit) {
  Harness h;
  EXPECT_GOOD(h.run(*scsi::start_stop_unit({.start = true})));
  EXPECT_GOOD(h.run(*scsi::start_stop_unit({.start = false})));
  EXPECT_GOOD(h.run(*scsi::start_stop_unit({.start = false, .immed = true, .no_flush = true})));
  // Not removable: LOEJ is refused (libiscsi StartStopUnit.Simple expects a failure).
  expect_invalid_cdb(h.run(*scsi::start_stop_unit({.start = false, .loej = true, .immed = true})),
                     4, 1);
  // With a power condition START and LOEJ are ignored.
  EXPECT_GOOD(
      h.run(*scsi::start_stop_unit({.loej = true, .power_condition = scsi::PowerCondition::idle})));
  expect_invalid_cdb(
      h.run(*scsi::start_stop_unit({.power_condition = static_cast<scsi::PowerCondition>(0x5)})), 4,
      7);
  EXPECT_GOOD(h.run(scsi::test_unit_ready()));
}

TEST(DiskLuBasic, PreventAllowMediumRemoval) {
  Harness h;
  EXPECT_GOOD(h.run(scsi::prevent_allow_medium_removal(true)));
  EXPECT_GOOD(h.run(scsi::prevent_allow_medium_removal(false)));
  expect_invalid_cdb(h.run(raw({0x1e, 0, 0, 0, 0x02, 0})), 4, 1);
}

TEST(DiskLuBasic, ReportSupportedOpcodesAllForm) {
  Harness h;
  auto r = h.run(*scsi::report_supported_operation_codes(65535));
  EXPECT_GOOD(r);
  auto all = scsi::parse_supported_opcodes(r.data_in);
  ASSERT_TRUE(all);
  auto has = [&](std::uint8_t op, int sa = -1) {
    return std::any_of(all->commands.begin(), all->commands.end(), [&](const auto& c) {
      return c.opcode == op && (sa < 0 || (c.servactv && c.service_action == sa));
    });
  };
  for (std::uint8_t op :
       {0x00, 0x03, 0x08, 0x0a, 0x12, 0x15, 0x16, 0x17, 0x1a, 0x1b, 0x1e, 0x25, 0x28,
        0x2a, 0x2e, 0x2f, 0x34, 0x35, 0x41, 0x42, 0x55, 0x56, 0x57, 0x5a, 0x88, 0x89,
        0x8a, 0x8e, 0x8f, 0x90, 0x91, 0x93, 0xa0, 0xa8, 0xaa, 0xae, 0xaf}) {
    EXPECT_TRUE(has(op)) << std::hex << int(op);
  }
  EXPECT_TRUE(has(0x9e, 0x10));
  EXPECT_TRUE(has(0x9e, 0x12));
  EXPECT_TRUE(has(0xa3, 0x0c));
  for (int sa = 0; sa < 4; ++sa)
    EXPECT_TRUE(has(0x5e, sa));
  for (int sa = 0; sa < 7; ++sa)
    EXPECT_TRUE(has(0x5f, sa));
  EXPECT_FALSE(has(0x4d));  // LOG SENSE is not implemented
  // SERVACTV clear means service action 0 (libiscsi ReportSupportedOpcodes.SERVACTV); no
  // timeouts without RCTD.
  for (const auto& c : all->commands) {
    if (!c.servactv) {
      EXPECT_EQ(c.service_action, 0);
    }
    EXPECT_FALSE(c.timeouts.has_value());
    EXPECT_NE(c.cdb_length, 0);
  }
  // Every listed command really executes: none answers INVALID COMMAND OPERATION CODE.
  for (const auto& c : all->commands) {
    std::vector<int> bytes(c.cdb_length, 0);
    bytes[0] = c.opcode;
    if (c.servactv) bytes[1] = c.service_action;
    scsi::CommandSpec spec;
    std::vector<std::byte> b;
    for (int x : bytes)
      b.push_back(static_cast<std::byte>(x));
    spec.cdb = *scsi::Cdb::from_bytes(b);
    const auto res = h.run(spec);
    if (res.status == kCheckCondition) {
      EXPECT_NE(sense_of(res).asc, 0x20) << std::hex << int(c.opcode);
    }
  }
  h.run(scsi::release6());  // the probe loop may have reserved the LU
}

TEST(DiskLuBasic, ReportSupportedOpcodesWithTimeouts) {
  Harness h;
  auto all = scsi::parse_supported_opcodes(
      h.run(*scsi::report_supported_operation_codes(65535, {.rctd = true})).data_in);
  ASSERT_TRUE(all);
  ASSERT_FALSE(all->commands.empty());
  for (const auto& c : all->commands) {
    ASSERT_TRUE(c.timeouts.has_value());
    EXPECT_GT(c.timeouts->recommended, 0u);
  }
}

TEST(DiskLuBasic, ReportSupportedOpcodesOneCommand) {
  Harness h;
  auto one = [&](std::uint8_t options, std::uint8_t op, std::uint16_t sa, bool rctd = false) {
    return h.run(*scsi::report_supported_operation_codes(
        65535, {.reporting_options = options, .opcode = op, .service_action = sa, .rctd = rctd}));
  };
  // READ(10): usage data starts with the opcode and shows DPO and FUA (libiscsi
  // Read10.DpoFua checks usage byte 1 & 18h against the DPOFUA mode bit).
  auto r = one(1, 0x28, 0);
  EXPECT_GOOD(r);
  auto p = scsi::parse_supported_opcode_one(r.data_in);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->support, scsi::opcode_support::kStandard);
  ASSERT_EQ(p->cdb_usage.size(), 10u);
  EXPECT_EQ(p->cdb_usage[0], 0x28);
  EXPECT_EQ(p->cdb_usage[1] & 0x18, 0x18);
  EXPECT_FALSE(p->timeouts.has_value());
  auto caw = scsi::parse_supported_opcode_one(one(1, 0x89, 0).data_in);
  ASSERT_TRUE(caw);
  EXPECT_EQ(caw->cdb_usage[1] & 0x18, 0x18);
  // Opcodes with service actions: option 1 is invalid, option 2 works (OneCommand test).
  expect_invalid_cdb(one(1, 0x9e, 0x10), 2, 2);
  auto rc16 = scsi::parse_supported_opcode_one(one(2, 0x9e, 0x10, true).data_in);
  ASSERT_TRUE(rc16);
  EXPECT_EQ(rc16->cdb_usage.size(), 16u);
  EXPECT_EQ(rc16->cdb_usage[0], 0x9e);
  EXPECT_EQ(rc16->cdb_usage[1], 0x10);
  EXPECT_TRUE(rc16->timeouts.has_value());
  expect_invalid_cdb(one(2, 0x28, 0), 2, 2);
  // Option 3 takes either.
  EXPECT_GOOD(one(3, 0x28, 0));
  EXPECT_GOOD(one(3, 0x5e, 3));
  // Unsupported commands and service actions: SUPPORT = 001b.
  auto no = scsi::parse_supported_opcode_one(one(1, 0x4d, 0).data_in);
  ASSERT_TRUE(no);
  EXPECT_EQ(no->support, scsi::opcode_support::kNotSupported);
  EXPECT_TRUE(no->cdb_usage.empty());
  auto nosa = scsi::parse_supported_opcode_one(one(2, 0x9e, 0x11).data_in);
  ASSERT_TRUE(nosa);
  EXPECT_EQ(nosa->support, scsi::opcode_support::kNotSupported);
  expect_invalid_cdb(one(4, 0x28, 0), 2, 2);
}

TEST(DiskLuBasic, ReportSupportedOpcodesFollowsThinProvisioning) {
  DiskLuConfig full;
  full.thin_provisioning = false;
  Harness h(1024, 512, full);
  auto all =
      scsi::parse_supported_opcodes(h.run(*scsi::report_supported_operation_codes(65535)).data_in);
  ASSERT_TRUE(all);
  EXPECT_TRUE(std::none_of(all->commands.begin(), all->commands.end(),
                           [](const auto& c) { return c.opcode == 0x42; }));
  auto ws =
      scsi::parse_supported_opcode_one(h.run(*scsi::report_supported_operation_codes(
                                                 65535, {.reporting_options = 1, .opcode = 0x41}))
                                           .data_in);
  ASSERT_TRUE(ws);
  EXPECT_EQ(ws->cdb_usage[1] & 0x08, 0);
  expect_sense(h.run(*scsi::unmap(24)), SenseKey::illegal_request, 0x20, 0x00);
}

TEST(DiskLuBasic, CreateRejectsBadConfig) {
  auto store = [] { return std::move(*make_ram_store(512, 16)); };
  DiskLuConfig long_vendor;
  long_vendor.vendor = "TOO LONG VENDOR";
  EXPECT_EQ(DiskLu::create(long_vendor, store()).error(), errc::invalid_argument);
  DiskLuConfig bad_serial;
  bad_serial.serial = "tab\there";
  EXPECT_EQ(DiskLu::create(bad_serial, store()).error(), errc::invalid_argument);
  DiskLuConfig bad_naa;
  bad_naa.naa.resize(12);
  EXPECT_EQ(DiskLu::create(bad_naa, store()).error(), errc::invalid_argument);
  EXPECT_EQ(DiskLu::create({}, nullptr).error(), errc::invalid_argument);
  auto ok = DiskLu::create({}, store());
  ASSERT_TRUE(ok);
  EXPECT_EQ((*ok)->device_type(), 0);
  EXPECT_FALSE((*ok)->blocking());
  EXPECT_EQ((*ok)->block_count(), 16u);
  EXPECT_EQ((*ok)->block_size(), 512u);
}

}  // namespace
}  // namespace uiscsi::target::test
