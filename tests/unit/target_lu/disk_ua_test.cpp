// DiskLu unit attentions: per nexus, which commands report and clear them, REQUEST SENSE,
// resets, capacity changes, and their order with other checks.
#include "lu_test_util.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::target::test {
namespace {

using scsi::SenseKey;

const Nexus kC{3, "iqn.2024-01.dev.uiscsi:init-c", 0x23d000000003ull};

TEST(DiskLuUa, NewNexusGetsPowerOnReset) {
  Harness h;
  h.lu->nexus_added(kC);
  // INQUIRY and REPORT LUNS neither report nor clear the condition.
  EXPECT_GOOD(h.run(kC, scsi::inquiry()));
  EXPECT_GOOD(h.run(kC, *scsi::report_luns()));
  expect_unit_attention(h.run(kC, scsi::test_unit_ready()), 0x29, 0x00);
  EXPECT_GOOD(h.run(kC, scsi::test_unit_ready()));
  // Only that nexus.
  EXPECT_GOOD(h.run(h.a, scsi::test_unit_ready()));
}

TEST(DiskLuUa, ReportedByAnyOtherCommandOnce) {
  Harness h;
  h.lu->nexus_added(kC);
  expect_unit_attention(h.run(kC, scsi::read10(0, 1, 512)), 0x29, 0x00);
  EXPECT_GOOD(h.run(kC, scsi::read10(0, 1, 512)));
  h.lu->logical_unit_reset();
  // Even an unknown opcode reports it first (SAM-5 5.14).
  expect_unit_attention(h.run(kC, raw({0xff, 0, 0, 0, 0, 0})), 0x29, 0x03);
  expect_sense(h.run(kC, raw({0xff, 0, 0, 0, 0, 0})), SenseKey::illegal_request, 0x20, 0x00);
}

TEST(DiskLuUa, RequestSenseReturnsAndClearsIt) {
  Harness h;
  h.lu->nexus_added(kC);
  const auto r = h.run(kC, scsi::request_sense(252));
  EXPECT_GOOD(r);
  auto s = scsi::parse_sense(r.data_in);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->sense_key, SenseKey::unit_attention);
  EXPECT_EQ(s->asc, 0x29);
  EXPECT_EQ(s->ascq, 0x00);
  EXPECT_EQ(s->response_code, 0x70);
  EXPECT_GOOD(h.run(kC, scsi::test_unit_ready()));
  // DESC = 1 gives descriptor format.
  h.lu->logical_unit_reset();
  const auto d = h.run(kC, scsi::request_sense(252, true));
  auto ds = scsi::parse_sense(d.data_in);
  ASSERT_TRUE(ds);
  EXPECT_EQ(ds->response_code, 0x72);
  EXPECT_EQ(ds->asc, 0x29);
  EXPECT_EQ(ds->ascq, 0x03);
  auto none = scsi::parse_sense(h.run(kC, scsi::request_sense(252)).data_in);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->sense_key, SenseKey::no_sense);
}

TEST(DiskLuUa, ResetsUseTheirOwnCodes) {
  Harness h;
  h.lu->logical_unit_reset();  // SAM-5 6.3.3: BUS DEVICE RESET FUNCTION OCCURRED
  expect_unit_attention(h.run(h.a, scsi::test_unit_ready()), 0x29, 0x03);
  expect_unit_attention(h.run(h.b, scsi::test_unit_ready()), 0x29, 0x03);
  h.lu->target_reset(false);  // hard reset: SCSI BUS RESET OCCURRED
  expect_unit_attention(h.run(h.a, scsi::test_unit_ready()), 0x29, 0x02);
  h.lu->target_reset(true);  // power on: POWER ON OCCURRED
  expect_unit_attention(h.run(h.a, scsi::test_unit_ready()), 0x29, 0x01);
  EXPECT_GOOD(h.run(h.a, scsi::test_unit_ready()));
  // The newest reset replaces an unreported older one.
  expect_unit_attention(h.run(h.b, scsi::test_unit_ready()), 0x29, 0x01);
  EXPECT_GOOD(h.run(h.b, scsi::test_unit_ready()));
}

TEST(DiskLuUa, ResetAttentionsComeFirstOthersQueueOnce) {
  Harness h;
  // Two MODE SELECT changes from a: b gets MODE PARAMETERS CHANGED once.
  auto set_dsense = [&](std::uint8_t v) {
    auto cur =
        scsi::parse_mode_sense6(h.run(*scsi::mode_sense6(0x0a, 0, 255, {.dbd = true})).data_in,
                                scsi::PeripheralDeviceType::direct_access);
    ASSERT_TRUE(cur);
    scsi::ModeParameters m;
    m.pages.push_back(*cur->find_page(0x0a));
    m.pages[0].parameters[0] = std::byte{v};
    auto list = *scsi::build_mode_parameters6(m, scsi::PeripheralDeviceType::direct_access,
                                              scsi::ModeDataUse::select);
    EXPECT_GOOD(h.run(scsi::mode_select6(static_cast<std::uint8_t>(list.size())), list));
  };
  set_dsense(0x04);
  set_dsense(0x00);
  h.lu->logical_unit_reset();
  expect_unit_attention(h.run(h.b, scsi::test_unit_ready()), 0x29, 0x03);
  expect_unit_attention(h.run(h.b, scsi::test_unit_ready()), 0x2a, 0x01);
  EXPECT_GOOD(h.run(h.b, scsi::test_unit_ready()));
}

TEST(DiskLuUa, CapacityChange) {
  Harness h(100, 512);
  h.write(99, filled(512, 9));
  ASSERT_TRUE(h.lu->resize(200));
  expect_unit_attention(h.run(h.a, scsi::read_capacity10()), 0x2a, 0x09);
  expect_unit_attention(h.run(h.b, scsi::test_unit_ready()), 0x2a, 0x09);
  auto cap = scsi::parse_read_capacity10(h.run(h.a, scsi::read_capacity10()).data_in);
  ASSERT_TRUE(cap);
  EXPECT_EQ(cap->last_lba, 199u);
  EXPECT_EQ(h.read(99, 1), filled(512, 9));
  EXPECT_EQ(h.read(150, 1), filled(512, 0));
  ASSERT_TRUE(h.lu->resize(50));
  h.clear_attentions(h.a);
  expect_lba_out_of_range(h.run(scsi::read10(60, 1, 512)));
  ASSERT_TRUE(h.lu->resize(120));
  h.clear_attentions(h.a);
  EXPECT_EQ(h.read(99, 1), filled(512, 0));  // shrinking dropped the old data
  EXPECT_FALSE(h.lu->resize(0));
}

TEST(DiskLuUa, SenseFormatFollowsDSense) {
  Harness h;
  auto cur = scsi::parse_mode_sense6(h.run(*scsi::mode_sense6(0x0a, 0, 255, {.dbd = true})).data_in,
                                     scsi::PeripheralDeviceType::direct_access);
  ASSERT_TRUE(cur);
  scsi::ModeParameters m;
  m.pages.push_back(*cur->find_page(0x0a));
  m.pages[0].parameters[0] = std::byte{0x04};
  auto list = *scsi::build_mode_parameters6(m, scsi::PeripheralDeviceType::direct_access,
                                            scsi::ModeDataUse::select);
  EXPECT_GOOD(h.run(scsi::mode_select6(static_cast<std::uint8_t>(list.size())), list));
  const auto ua = h.run(h.b, scsi::test_unit_ready());
  expect_unit_attention(ua, 0x2a, 0x01);
  EXPECT_EQ(std::to_integer<int>(ua.sense.at(0)) & 0x7f, 0x72);
}

TEST(DiskLuUa, UnannouncedAndRemovedNexuses) {
  Harness h;
  // A nexus the engine never announced works, without an attention.
  const Nexus stray{99, "iqn.2024-01.dev.uiscsi:stray", 7};
  EXPECT_GOOD(h.run(stray, scsi::test_unit_ready()));
  // Removing a nexus drops its attentions; coming back starts with a power on attention only.
  h.lu->logical_unit_reset();
  h.lu->nexus_removed(kC);
  h.lu->nexus_removed(h.b);
  h.lu->nexus_added(h.b);
  expect_unit_attention(h.run(h.b, scsi::test_unit_ready()), 0x29, 0x00);
  EXPECT_GOOD(h.run(h.b, scsi::test_unit_ready()));
}

TEST(DiskLuUa, AttentionBeforeReservationConflict) {
  Harness h;
  EXPECT_GOOD(h.run(h.a, scsi::reserve6()));
  h.lu->nexus_added(kC);
  expect_unit_attention(h.run(kC, scsi::read10(0, 1, 512)), 0x29, 0x00);
  EXPECT_EQ(h.run(kC, scsi::read10(0, 1, 512)).status, kReservationConflict);
}

}  // namespace
}  // namespace uiscsi::target::test
