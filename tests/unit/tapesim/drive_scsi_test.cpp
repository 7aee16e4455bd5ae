// The SCSI entry point: readiness and unit attentions, load / unload / prevent, INQUIRY and VPD,
// REQUEST SENSE, READ BLOCK LIMITS, REPORT DENSITY SUPPORT, LOG SENSE / LOG SELECT, REPORT
// SUPPORTED OPERATION CODES, CDB checks and error injection.
#include <gtest/gtest.h>

#include <random>

#include "tapesim/drive.hpp"
#include "tapesim/errors.hpp"
#include "tapesim_test_util.hpp"
#include "uiscsi/scsi/data.hpp"

namespace uiscsi::tapesim {
namespace {

using test::cdb;
using test::expect_field;
using test::expect_good;
using test::expect_sense;
using test::Harness;
using test::pattern;

Medium blank() {
  return std::move(*Medium::create(test::small_medium()));
}

TEST(DriveScsi, PowerOnAttentionThenNotReadyThenLoad) {
  DriveConfig c;
  c.ready_delay = 2;
  Drive d = Harness::make(c);
  const auto tur = scsi::test_unit_ready();
  // A new nexus hears about the power on first, then that there is no cartridge.
  expect_sense(d.execute(tur.cdb.bytes(), {}, 7), scsi::SenseKey::unit_attention, 0x29, 0x00);
  expect_sense(d.execute(tur.cdb.bytes(), {}, 7), scsi::SenseKey::not_ready, 0x3a, 0x00);
  Response rs = d.execute(scsi::request_sense().cdb.bytes(), {}, 7);
  expect_good(rs);
  auto s = scsi::parse_sense(rs.data_in);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->sense_key, scsi::SenseKey::not_ready);
  EXPECT_EQ(s->asc, 0x3a);
  // Insert: 28/00, then NOT READY 04/01 for ready_delay commands, then GOOD.
  ASSERT_TRUE(d.insert(blank()));
  EXPECT_FALSE(d.ready());
  expect_sense(d.execute(tur.cdb.bytes(), {}, 7), scsi::SenseKey::unit_attention, 0x28, 0x00);
  expect_sense(d.execute(tur.cdb.bytes(), {}, 7), scsi::SenseKey::not_ready, 0x04, 0x01);
  expect_sense(d.execute(tur.cdb.bytes(), {}, 7), scsi::SenseKey::not_ready, 0x04, 0x01);
  expect_good(d.execute(tur.cdb.bytes(), {}, 7));
  EXPECT_TRUE(d.ready());
  EXPECT_EQ(d.insert(blank()).error(), tapesim_errc::medium_present);
}

TEST(DriveScsi, InquiryAndRequestSenseDoNotConsumeAttentions) {
  Drive d = Harness::make({});
  Response r = d.execute(scsi::inquiry().cdb.bytes(), {}, 3);
  expect_good(r);
  r = d.execute(scsi::request_sense(252, false).cdb.bytes(), {}, 3);
  expect_good(r);
  auto s = scsi::parse_sense(r.data_in);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->sense_key, scsi::SenseKey::unit_attention);
  EXPECT_EQ(s->asc, 0x29);
  // Reported once: the next command sees the real state.
  expect_sense(d.execute(scsi::test_unit_ready().cdb.bytes(), {}, 3), scsi::SenseKey::not_ready,
               0x3a, 0);
  // Descriptor format on request.
  r = d.execute(scsi::request_sense(252, true).cdb.bytes(), {}, 3);
  ASSERT_FALSE(r.data_in.empty());
  EXPECT_EQ(r.data_in[0], std::byte{0x72});
  // An unknown opcode still reports a pending unit attention first.
  expect_sense(d.execute(cdb({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}), {}, 4),
               scsi::SenseKey::unit_attention, 0x29, 0);
  auto bad = expect_sense(d.execute(cdb({0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0}), {}, 4),
                          scsi::SenseKey::illegal_request, 0x20, 0x00);
  expect_field(bad, true, 0, 7);
}

TEST(DriveScsi, UnloadLoadAndEject) {
  Harness h;
  const std::uint64_t other = 2;
  h.drive.execute(scsi::test_unit_ready().cdb.bytes(), {}, other);  // 29/00 for the other
  expect_good(h.run(scsi::write6_tape(10, 0), pattern(10, 1)));
  // Unload with HOLD: cartridge stays, NOT READY 04/02; without: ejected, 3A/00.
  expect_good(h.run(scsi::load_unload(false, {.hold = true})));
  expect_sense(h.run(scsi::test_unit_ready()), scsi::SenseKey::not_ready, 0x04, 0x02);
  expect_sense(h.run(scsi::read6_tape(10, 0)), scsi::SenseKey::not_ready, 0x04, 0x02);
  expect_good(h.run(scsi::load_unload(false)));
  expect_sense(h.run(scsi::test_unit_ready()), scsi::SenseKey::not_ready, 0x3a, 0x00);
  EXPECT_FALSE(h.drive.position());
  // LOAD takes it back: the issuer is ready at BOP, the other nexus hears 28/00.
  expect_good(h.run(scsi::load_unload(true)));
  expect_good(h.run(scsi::test_unit_ready()));
  EXPECT_TRUE(h.drive.position()->bop);
  expect_sense(h.drive.execute(scsi::test_unit_ready().cdb.bytes(), {}, other),
               scsi::SenseKey::unit_attention, 0x28, 0x00);
  expect_good(h.drive.execute(scsi::test_unit_ready().cdb.bytes(), {}, other));
  Response r = h.run(scsi::read6_tape(10, 0));
  expect_good(r);
  // LOAD of a loaded cartridge rewinds it.
  expect_good(h.run(scsi::load_unload(true)));
  EXPECT_EQ(h.drive.position()->object, 0u);
  // Eject, and the drive is empty.
  auto m = h.drive.eject();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->object_count(0), 1u);
  expect_sense(h.run(scsi::load_unload(true)), scsi::SenseKey::not_ready, 0x3a, 0x00);
  EXPECT_EQ(h.drive.eject().error(), tapesim_errc::no_medium);
}

TEST(DriveScsi, PreventBlocksUnloadAndEject) {
  Harness h;
  expect_good(h.run(scsi::prevent_allow_medium_removal(true)));
  expect_sense(h.run(scsi::load_unload(false)), scsi::SenseKey::illegal_request, 0x53, 0x02);
  EXPECT_EQ(h.drive.eject().error(), tapesim_errc::removal_prevented);
  // Another nexus allowing does not lift this nexus' prevention.
  h.drive.execute(scsi::test_unit_ready().cdb.bytes(), {}, 9);  // its 29/00
  expect_good(h.drive.execute(scsi::prevent_allow_medium_removal(false).cdb.bytes(), {}, 9));
  EXPECT_EQ(h.drive.eject().error(), tapesim_errc::removal_prevented);
  expect_good(h.run(scsi::prevent_allow_medium_removal(false)));
  expect_good(h.run(scsi::load_unload(false)));
  // A reset clears it too.
  expect_good(h.run(scsi::load_unload(true)));
  expect_good(h.run(scsi::prevent_allow_medium_removal(true)));
  h.drive.logical_unit_reset();
  expect_sense(h.run(scsi::test_unit_ready()), scsi::SenseKey::unit_attention, 0x29, 0x03);
  EXPECT_TRUE(h.drive.eject());
  // PREVENT 10b is not defined for tapes.
  auto s =
      expect_sense(h.run(cdb({0x1e, 0, 0, 0, 0x02, 0})), scsi::SenseKey::illegal_request, 0x24, 0);
  expect_field(s, true, 4, 1);
}

TEST(DriveScsi, ForgottenNexusLosesItsPrevention) {
  Harness h;
  expect_good(h.run(scsi::prevent_allow_medium_removal(true)));
  h.drive.forget_nexus(h.nexus);
  EXPECT_TRUE(h.drive.eject());
}

TEST(DriveScsi, PowerOnResetsModeAndAnnouncesItself) {
  Harness h;
  ASSERT_TRUE(h.drive.set_block_size(1024).good());
  ASSERT_TRUE(h.drive.set_compression(true).good());
  expect_good(h.run(scsi::write6_tape(10, 0), pattern(10, 1)));
  h.drive.power_on();
  expect_sense(h.run(scsi::test_unit_ready()), scsi::SenseKey::unit_attention, 0x29, 0x00);
  EXPECT_EQ(h.drive.block_size(), 0u);
  EXPECT_FALSE(h.drive.compression().dce);
  EXPECT_EQ(h.drive.position()->object, 0u);
}

TEST(DriveScsi, InquiryStandardAndVpd) {
  DriveConfig c;
  c.vendor = "ACME";
  c.product = "VTAPE-9";
  c.revision = "1.2";
  c.serial = "SN12345";
  Harness h(test::small_medium(), c);
  Response r = h.run(scsi::inquiry());
  expect_good(r);
  auto inq = scsi::parse_inquiry(r.data_in);
  ASSERT_TRUE(inq);
  EXPECT_EQ(inq->device_type, scsi::PeripheralDeviceType::sequential_access);
  EXPECT_TRUE(inq->rmb);
  EXPECT_EQ(inq->version, 0x06);
  EXPECT_EQ(inq->vendor, "ACME");
  EXPECT_EQ(inq->product, "VTAPE-9");
  EXPECT_EQ(inq->revision, "1.2");
  EXPECT_EQ(inq->version_descriptors, (std::vector<std::uint16_t>{0x00a0, 0x0460, 0x0400}));
  EXPECT_EQ(h.run(scsi::inquiry(5)).data_in.size(), 5u);

  r = h.run(scsi::inquiry_vpd(0x00));
  auto pages = scsi::parse_vpd_supported_pages(r.data_in);
  ASSERT_TRUE(pages);
  EXPECT_EQ(*pages, (std::vector<std::uint8_t>{0x00, 0x80, 0x83, 0xb0}));
  r = h.run(scsi::inquiry_vpd(0x80));
  EXPECT_EQ(scsi::parse_vpd_unit_serial(r.data_in).value_or(""), "SN12345");
  r = h.run(scsi::inquiry_vpd(0x83));
  auto ids = scsi::parse_vpd_device_identification(r.data_in);
  ASSERT_TRUE(ids);
  ASSERT_EQ(ids->size(), 2u);
  EXPECT_EQ((*ids)[0].type, scsi::DesignatorType::naa);
  EXPECT_EQ((*ids)[0].value.size(), 8u);
  EXPECT_EQ(std::to_integer<int>((*ids)[0].value[0]) >> 4, 3);
  EXPECT_EQ((*ids)[1].type, scsi::DesignatorType::t10_vendor_id);
  r = h.run(scsi::inquiry_vpd(0xb0));
  expect_good(r);
  ASSERT_EQ(r.data_in.size(), 6u);
  EXPECT_EQ(r.data_in[0], std::byte{0x01});
  EXPECT_EQ(r.data_in[1], std::byte{0xb0});
  EXPECT_EQ(r.data_in[3], std::byte{0x02});

  auto s = expect_sense(h.run(scsi::inquiry_vpd(0xb1)), scsi::SenseKey::illegal_request, 0x24, 0);
  expect_field(s, true, 2, 7);
  s = expect_sense(h.run(cdb({0x12, 0, 0x80, 0, 255, 0})), scsi::SenseKey::illegal_request, 0x24,
                   0);
  expect_field(s, true, 2, 7);
  s = expect_sense(h.run(cdb({0x12, 0x02, 0, 0, 255, 0})), scsi::SenseKey::illegal_request, 0x24,
                   0);
  expect_field(s, true, 1, 1);
}

TEST(DriveScsi, ConfigurationIsChecked) {
  DriveConfig c;
  c.min_block_length = 10;
  c.max_block_length = 5;
  EXPECT_FALSE(Drive::create(c));
  c = {};
  c.block_size = 3;
  c.granularity = 2;
  EXPECT_FALSE(Drive::create(c));
  c = {};
  c.densities.clear();
  EXPECT_FALSE(Drive::create(c));
  c = {};
  c.naa = std::vector<std::byte>(5);
  EXPECT_FALSE(Drive::create(c));
  c = {};
  c.vendor = "TOO LONG VENDOR";
  EXPECT_FALSE(Drive::create(c));
  c = {};
  c.naa = std::vector<std::byte>(16, std::byte{0x61});
  Harness h(test::small_medium(), c);
  Response r = h.run(scsi::inquiry_vpd(0x83));
  auto ids = scsi::parse_vpd_device_identification(r.data_in);
  ASSERT_TRUE(ids);
  EXPECT_EQ((*ids)[0].value, c.naa);
}

TEST(DriveScsi, ReadBlockLimits) {
  DriveConfig c;
  c.min_block_length = 4;
  c.max_block_length = 0x100000;
  c.granularity = 2;
  Harness h(test::small_medium(), c);
  Response r = h.run(scsi::read_block_limits());
  expect_good(r);
  auto l = scsi::parse_read_block_limits(r.data_in);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->max_block_length, 0x100000u);
  EXPECT_EQ(l->min_block_length, 4u);
  EXPECT_EQ(l->granularity, 2u);
  expect_sense(h.run(cdb({0x05, 0x01, 0, 0, 0, 0})), scsi::SenseKey::illegal_request, 0x24, 0);
  // Granularity applies to fixed block lengths.
  EXPECT_FALSE(h.drive.set_block_size(6).good());
  EXPECT_TRUE(h.drive.set_block_size(8).good());
}

TEST(DriveScsi, ReservedBitsAndShortCdbs) {
  Harness h;
  auto s =
      expect_sense(h.run(cdb({0x08, 0x20, 0, 0, 1, 0})), scsi::SenseKey::illegal_request, 0x24, 0);
  expect_field(s, true, 1, 5);
  s = expect_sense(h.run(cdb({0x01, 0, 0, 0x10, 0, 0})), scsi::SenseKey::illegal_request, 0x24, 0);
  expect_field(s, true, 3, 4);
  s = expect_sense(h.run(cdb({0x2b, 0, 0, 0})), scsi::SenseKey::illegal_request, 0x24, 0);
  expect_field(s, true, 0);
  expect_sense(h.run(std::span<const std::byte>()), scsi::SenseKey::illegal_request, 0x20, 0);
  // A 16-byte buffer (as iSCSI carries every short CDB) is cut to the command's length.
  auto padded =
      cdb({0x00, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff});
  expect_good(h.run(padded));
}

TEST(DriveScsi, ReportSupportedOperationCodes) {
  Harness h;
  Response r = h.run(cdb({0xa3, 0x0c, 0x00, 0, 0, 0, 0, 0, 0x10, 0, 0, 0}));
  expect_good(r);
  auto all = scsi::parse_supported_opcodes(r.data_in);
  ASSERT_TRUE(all);
  std::vector<std::uint8_t> ops;
  for (const auto& c : all->commands)
    ops.push_back(c.opcode);
  for (std::uint8_t op : {0x00, 0x01, 0x03, 0x05, 0x08, 0x0a, 0x10, 0x11, 0x12, 0x15, 0x19, 0x1a,
                          0x1b, 0x1e, 0x2b, 0x34, 0x44, 0x4c, 0x4d, 0x55, 0x5a, 0x91, 0x92, 0xa3}) {
    EXPECT_NE(std::find(ops.begin(), ops.end(), op), ops.end()) << int(op);
  }
  for (const auto& c : all->commands)
    EXPECT_FALSE(c.timeouts.has_value());
  r = h.run(cdb({0xa3, 0x0c, 0x80, 0, 0, 0, 0, 0, 0x10, 0, 0, 0}));
  all = scsi::parse_supported_opcodes(r.data_in);
  ASSERT_TRUE(all);
  for (const auto& c : all->commands)
    EXPECT_TRUE(c.timeouts.has_value());

  r = h.run(cdb({0xa3, 0x0c, 0x01, 0x08, 0, 0, 0, 0, 1, 0, 0, 0}));
  auto one = scsi::parse_supported_opcode_one(r.data_in);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->support, scsi::opcode_support::kStandard);
  EXPECT_EQ(one->cdb_usage, (std::vector<std::uint8_t>{0x08, 0x03, 0xff, 0xff, 0xff, 0x00}));
  r = h.run(cdb({0xa3, 0x0c, 0x02, 0x34, 0, 0x06, 0, 0, 1, 0, 0, 0}));
  one = scsi::parse_supported_opcode_one(r.data_in);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->support, scsi::opcode_support::kStandard);
  EXPECT_EQ(one->cdb_usage.size(), 10u);
  EXPECT_EQ(one->cdb_usage[1], 0x06);
  expect_sense(h.run(cdb({0xa3, 0x0c, 0x01, 0x34, 0, 0, 0, 0, 1, 0, 0, 0})),
               scsi::SenseKey::illegal_request, 0x24, 0);
  r = h.run(cdb({0xa3, 0x0c, 0x01, 0x28, 0, 0, 0, 0, 1, 0, 0, 0}));
  one = scsi::parse_supported_opcode_one(r.data_in);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->support, scsi::opcode_support::kNotSupported);
  // Every listed command's usage data flags what the gate accepts: a CDB of exactly those bits
  // passes the reserved-bit check (it may fail later for other reasons, never with a pointer
  // at a reserved bit).
  r = h.run(cdb({0xa3, 0x0c, 0x00, 0, 0, 0, 0, 0, 0x10, 0, 0, 0}));
  all = scsi::parse_supported_opcodes(r.data_in);
  for (const auto& c : all->commands) {
    Response u = h.run(cdb({0xa3, 0x0c, c.servactv ? 0x02 : 0x01, c.opcode,
                            static_cast<int>(c.service_action >> 8),
                            static_cast<int>(c.service_action & 0xff), 0, 0, 1, 0, 0, 0}));
    auto usage = scsi::parse_supported_opcode_one(u.data_in);
    ASSERT_TRUE(usage);
    ASSERT_EQ(usage->cdb_usage.size(), c.cdb_length);
    EXPECT_EQ(usage->cdb_usage[0], c.opcode);
  }
}

TEST(DriveScsi, ReportDensitySupport) {
  Harness h;
  Response r = h.run(scsi::report_density_support(false));
  expect_good(r);
  auto d = scsi::parse_report_density_support(r.data_in);
  ASSERT_TRUE(d);
  ASSERT_EQ(d->descriptors.size(), 2u);
  EXPECT_EQ(d->descriptors[0].primary_density_code, 0x5e);
  EXPECT_EQ(d->descriptors[1].primary_density_code, 0x60);
  EXPECT_TRUE(d->descriptors[1].deflt);
  EXPECT_TRUE(d->descriptors[0].wrtok);
  EXPECT_EQ(d->descriptors[1].density_name, "LTO-9");
  EXPECT_EQ(d->descriptors[1].capacity, 18000000u);
  // MEDIA: a blank cartridge may take any writable density; a written one has its own.
  r = h.run(scsi::report_density_support(true));
  d = scsi::parse_report_density_support(r.data_in);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->descriptors.size(), 2u);
  expect_good(h.run(scsi::write6_tape(10, 0), pattern(10, 1)));
  r = h.run(scsi::report_density_support(true));
  d = scsi::parse_report_density_support(r.data_in);
  ASSERT_TRUE(d);
  ASSERT_EQ(d->descriptors.size(), 1u);
  EXPECT_EQ(d->descriptors[0].primary_density_code, 0x60);
  // MEDIUM TYPE is not supported; MEDIA needs a cartridge.
  expect_sense(h.run(cdb({0x44, 0x02, 0, 0, 0, 0, 0, 0x20, 0, 0})), scsi::SenseKey::illegal_request,
               0x24, 0);
  ASSERT_TRUE(h.drive.eject());
  expect_sense(h.run(scsi::report_density_support(true)), scsi::SenseKey::not_ready, 0x3a, 0);
  expect_good(h.run(scsi::report_density_support(false)));
}

TEST(DriveScsi, DensityTables) {
  const auto lto8 = lto_densities(8);
  ASSERT_EQ(lto8.size(), 3u);  // LTO-7, LTO-7 Type M, LTO-8
  EXPECT_EQ(lto8[0].primary_density_code, 0x5c);
  EXPECT_EQ(lto8[1].primary_density_code, 0x5d);
  EXPECT_EQ(lto8[2].primary_density_code, 0x5e);
  const auto lto7 = lto_densities(7);
  ASSERT_EQ(lto7.size(), 3u);  // reads LTO-5, writes LTO-6 and LTO-7
  EXPECT_FALSE(lto7[0].wrtok);
  EXPECT_TRUE(lto7[1].wrtok);
  const auto dds = dds_densities(4);
  ASSERT_EQ(dds.size(), 3u);
  EXPECT_EQ(dds[2].primary_density_code, 0x26);
  EXPECT_EQ(density_name(0x58), "LTO-5");
  EXPECT_EQ(density_name(0x01), "unknown");
  EXPECT_EQ(density_capacity(0x26), 20000000000u);
  DriveConfig c;
  c.densities = dds_densities(4);
  Harness h(test::small_medium(), c);
  expect_good(h.run(scsi::write6_tape(10, 0), pattern(10, 1)));
  EXPECT_EQ(h.drive.medium()->density_code(), 0x26);
}

std::uint64_t log_value(Harness& h, std::uint8_t page, std::uint16_t code) {
  Response r = h.run(scsi::log_sense(page));
  EXPECT_EQ(r.status, scsi::Status::good);
  auto p = scsi::parse_log_page(r.data_in);
  EXPECT_TRUE(p);
  if (!p) return ~0ull;
  const scsi::LogParameter* x = p->find(code);
  EXPECT_NE(x, nullptr);
  return x != nullptr ? x->as_integer() : ~0ull;
}

TEST(DriveScsi, LogPages) {
  Harness h;
  Response r = h.run(scsi::log_sense(0x00));
  expect_good(r);
  ASSERT_EQ(r.data_in.size(), 9u);
  EXPECT_EQ(r.data_in[4], std::byte{0x00});
  EXPECT_EQ(r.data_in[8], std::byte{0x2e});
  ASSERT_TRUE(h.drive.set_compression(true).good());
  expect_good(h.run(scsi::write6_tape(10000, 0), test::text(10000)));
  expect_good(h.run(scsi::rewind()));
  expect_good(h.run(scsi::read6_tape(10000, 0)));
  EXPECT_EQ(log_value(h, 0x0c, 0x0000), 10000u);
  const std::uint64_t stored = log_value(h, 0x0c, 0x0001);
  EXPECT_LT(stored, 2000u);
  EXPECT_EQ(stored, h.drive.medium()->used_bytes(0));
  EXPECT_EQ(log_value(h, 0x0c, 0x0002), stored);
  EXPECT_EQ(log_value(h, 0x0c, 0x0003), 10000u);
  EXPECT_EQ(log_value(h, 0x02, 0x0005), 10000u);
  EXPECT_EQ(log_value(h, 0x03, 0x0005), 10000u);
  // Parameter pointer.
  r = h.run(scsi::log_sense(0x0c, 0, 4096, {.parameter_pointer = 3}));
  auto p = scsi::parse_log_page(r.data_in);
  ASSERT_TRUE(p);
  ASSERT_EQ(p->parameters.size(), 2u);
  EXPECT_EQ(p->parameters[0].code, 3u);
  expect_sense(h.run(scsi::log_sense(0x0c, 0, 4096, {.parameter_pointer = 0x200})),
               scsi::SenseKey::illegal_request, 0x24, 0);
  // Default values are zero.
  r = h.run(
      scsi::log_sense(0x0c, 0, 4096, {.page_control = scsi::LogPageControl::default_cumulative}));
  p = scsi::parse_log_page(r.data_in);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->find(0)->as_integer(), 0u);
  // LOG SELECT with PCR resets.
  expect_good(h.run(cdb({0x4c, 0x02, 0x40, 0, 0, 0, 0, 0, 0, 0})));
  EXPECT_EQ(log_value(h, 0x0c, 0x0000), 0u);
  Response sel = h.run(cdb({0x4c, 0x00, 0x40, 0, 0, 0, 0, 0, 8, 0}), pattern(8, 1));
  expect_sense(sel, scsi::SenseKey::illegal_request, 0x24, 0);
  EXPECT_EQ(sel.data_out_length, 8u);
  // Unknown pages, subpages, SP.
  auto s = expect_sense(h.run(scsi::log_sense(0x17)), scsi::SenseKey::illegal_request, 0x24, 0);
  expect_field(s, true, 2, 5);
  expect_sense(h.run(scsi::log_sense(0x0c, 1)), scsi::SenseKey::illegal_request, 0x24, 0);
  expect_sense(h.run(scsi::log_sense(0x0c, 0, 4096, {.sp = true})), scsi::SenseKey::illegal_request,
               0x24, 0);
}

TEST(DriveScsi, TapeAlertFlagsAreClearedWhenRead) {
  MediumOptions o = test::small_medium();
  o.write_protected = true;
  Harness h(o);
  expect_sense(h.run(scsi::write6_tape(10, 0), pattern(10, 1)), scsi::SenseKey::data_protect, 0x27,
               0);
  h.drive.raise_tape_alert(20);
  Response r = h.run(scsi::log_sense(0x2e));
  auto p = scsi::parse_log_page(r.data_in);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->parameters.size(), 64u);
  auto flags = scsi::tape_alert_flags(*p);
  ASSERT_TRUE(flags);
  EXPECT_EQ(*flags, (std::vector<std::uint8_t>{9, 20}));
  r = h.run(scsi::log_sense(0x2e));
  p = scsi::parse_log_page(r.data_in);
  flags = scsi::tape_alert_flags(*p);
  ASSERT_TRUE(flags);
  EXPECT_TRUE(flags->empty());
}

TEST(DriveScsi, InjectedErrorsAreOneShot) {
  Harness h;
  h.drive.inject(0x08, scsi::make_sense(scsi::SenseKey::medium_error, 0x11, 0x00));
  expect_good(h.run(scsi::write6_tape(10, 0), pattern(10, 1)));  // other opcodes unaffected
  expect_good(h.run(scsi::rewind()));
  expect_sense(h.run(scsi::read6_tape(10, 0)), scsi::SenseKey::medium_error, 0x11, 0);
  EXPECT_EQ(h.drive.position()->object, 0u);  // the command did not run
  expect_good(h.run(scsi::read6_tape(10, 0)));
}

TEST(DriveScsi, WriteReportsTheDataOutItWanted) {
  Harness h;
  Response r = h.run(scsi::write6_tape(100, 0), pattern(150, 1));
  expect_good(r);
  EXPECT_EQ(r.data_out_length, 100u);
  EXPECT_EQ(h.drive.medium()->object(0, 0).length, 100u);
  r = h.run(scsi::write6_tape(100, 0), pattern(50, 1));
  auto s = expect_sense(r, scsi::SenseKey::illegal_request, 0x24, 0);
  expect_field(s, true, 2, 7);
  EXPECT_EQ(h.drive.medium()->object_count(0), 1u);
}

TEST(DriveScsi, RandomCdbsNeverCrash) {
  // Untrusted CDBs and Data-Out from an initiator: any bytes give GOOD or CHECK CONDITION with
  // well-formed sense, and the drive stays consistent.
  static constexpr std::uint8_t kOps[] = {0x00, 0x01, 0x03, 0x05, 0x08, 0x0a, 0x10, 0x11,
                                          0x12, 0x15, 0x19, 0x1a, 0x1b, 0x1e, 0x2b, 0x34,
                                          0x44, 0x4c, 0x4d, 0x55, 0x5a, 0x91, 0x92, 0xa3};
  std::mt19937 rng(42);
  MediumOptions o = test::small_medium(1 << 16, 4096);
  o.partitions = {1 << 14, 1 << 15};
  o.max_objects = 20000;  // marks take no space: WRITE FILEMARKS of 2^24 - 1 is bounded by this
  Harness h(o);
  for (int i = 0; i < 30000; ++i) {
    std::vector<std::byte> c(std::uniform_int_distribution<std::size_t>(1, 16)(rng));
    for (auto& b : c)
      b = static_cast<std::byte>(rng());
    c[0] = std::byte{kOps[rng() % sizeof kOps]};
    if (rng() % 2 == 0 && c.size() > 2) c[1] &= std::byte{0x03};  // mostly plausible flags
    if (rng() % 2 == 0 && c.size() > 4) {                         // and modest lengths
      c[2] = std::byte{0};
      c[3] &= std::byte{0x0f};
    }
    std::vector<std::byte> out(std::uniform_int_distribution<std::size_t>(0, 600)(rng));
    for (auto& b : out)
      b = static_cast<std::byte>(rng());
    const Response r = h.run(c, out);
    if (r.status == scsi::Status::good) {
      EXPECT_TRUE(r.sense.empty());
    } else {
      ASSERT_EQ(r.status, scsi::Status::check_condition);
      auto s = scsi::parse_sense(r.sense);
      ASSERT_TRUE(s);
      EXPECT_EQ(s->response_code, 0x70);
    }
    if (!h.drive.medium_present()) {
      auto m = Medium::create(o);
      ASSERT_TRUE(m);
      ASSERT_TRUE(h.drive.insert(std::move(*m)));
    }
    if (i % 1000 == 0) h.drive.logical_unit_reset();
  }
  // Still a working drive.
  h.drive.power_on();
  h.clear_attentions();
  expect_good(h.run(scsi::load_unload(true)));
  ASSERT_TRUE(h.drive.set_block_size(0).good());
  h.drive.set_software_write_protect(false);
  ASSERT_TRUE(h.drive.medium()->set_write_protected(false));
  expect_good(h.run(scsi::write6_tape(10, 0), pattern(10, 1)));
  expect_good(h.run(scsi::rewind()));
  Response r = h.run(scsi::read6_tape(10, 0));
  expect_good(r);
  EXPECT_EQ(r.data_in, pattern(10, 1));
}

}  // namespace
}  // namespace uiscsi::tapesim
