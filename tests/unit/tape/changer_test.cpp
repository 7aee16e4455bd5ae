// uiscsi::tape::Changer against the simulated library (changer_sim.hpp): open and the element
// map, status with barcodes, the retry without VOLTAG and the bounded sizing of READ ELEMENT
// STATUS. Moves and their errors: changer_move_test.cpp.
#include "changer_fixture.hpp"

namespace uiscsi::tape::test {
namespace {

TEST_F(ChangerTest, OpenReadsTheElementMapFromPage1D) {
  auto c = open();
  ASSERT_TRUE(c) << c.error().message();
  const auto& m = c->element_map();
  EXPECT_EQ(m.medium_transport, (scsi::ElementRange{0, 1}));
  EXPECT_EQ(m.storage, (scsi::ElementRange{1, 4}));
  EXPECT_EQ(m.import_export, (scsi::ElementRange{5, 1}));
  EXPECT_EQ(m.data_transfer, (scsi::ElementRange{6, 1}));
  EXPECT_EQ(lib->commands[kModeSense6], 1);
  EXPECT_EQ(lib->commands[kReadElementStatus], 0);
  EXPECT_EQ(c->inquiry().device_type, scsi::PeripheralDeviceType::medium_changer);
}

TEST_F(ChangerTest, OpenDiscoversTheMapWhenPage1DIsRefused) {
  script(kModeSense6, SenseKey::illegal_request, 0x24, 0x00);
  auto c = open();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->element_map().storage, (scsi::ElementRange{1, 4}));
  EXPECT_EQ(c->element_map().data_transfer, (scsi::ElementRange{6, 1}));
  EXPECT_EQ(c->element_map().import_export, (scsi::ElementRange{5, 1}));
  EXPECT_EQ(c->element_map().medium_transport, (scsi::ElementRange{0, 1}));
  EXPECT_GE(lib->commands[kReadElementStatus], 2);  // header, then the report
}

TEST_F(ChangerTest, OpenRefusesATapeDrive) {
  auto c = Changer::open(std::make_unique<LibraryTransport>(lib, LibraryTransport::Unit::drive));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), tape_errc::not_a_changer);
}

TEST_F(ChangerTest, OpenGivesUpOnANotReadyChangerWithinItsBounds) {
  for (int i = 0; i < 3; ++i)
    script(0x00, SenseKey::not_ready, 0x04, 0x01);
  ChangerOptions o;
  o.ready_attempts = 3;
  auto c = open(o);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), tape_errc::not_ready_timeout);
  EXPECT_EQ(lib->commands[0x00], 3);
}

TEST_F(ChangerTest, StatusReportsEveryElementWithBarcodes) {
  auto c = open();
  ASSERT_TRUE(c) << c.error().message();
  auto st = c->status();
  ASSERT_TRUE(st) << why(*c);
  EXPECT_TRUE(st->barcodes);
  ASSERT_EQ(st->transports.size(), 1u);
  ASSERT_EQ(st->slots.size(), 4u);
  ASSERT_EQ(st->import_export.size(), 1u);
  ASSERT_EQ(st->drives.size(), 1u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(st->slots[i].full) << i;
    EXPECT_EQ(st->slots[i].index, i);
    EXPECT_EQ(st->slots[i].address, i + 1);
    EXPECT_EQ(st->slots[i].barcode, "BAR00" + std::to_string(i + 1) + "L9");
  }
  EXPECT_FALSE(st->slots[3].full);
  EXPECT_TRUE(st->slots[3].barcode.empty());
  EXPECT_FALSE(st->drives[0].full);
  EXPECT_EQ(st->drives[0].address, 6);
  EXPECT_FALSE(st->import_export[0].full);
  ASSERT_NE(st->find(2), nullptr);
  EXPECT_EQ(st->find(2)->barcode, "BAR002L9");
  EXPECT_EQ(st->find(99), nullptr);

  auto all = c->elements(scsi::ElementType::all);
  ASSERT_TRUE(all) << why(*c);
  ASSERT_EQ(all->size(), 7u);
  for (std::size_t i = 0; i < all->size(); ++i)
    EXPECT_EQ((*all)[i].address, i);
}

// Each READ ELEMENT STATUS is asked first for the 8-byte header, then with exactly the length
// the header announced.
TEST_F(ChangerTest, StatusSizesTheAllocationFromTheHeader) {
  auto c = open();
  ASSERT_TRUE(c);
  lib->changer_cdbs.clear();
  auto slots = c->elements(scsi::ElementType::storage);
  ASSERT_TRUE(slots) << why(*c);
  ASSERT_EQ(lib->changer_cdbs.size(), 2u);
  EXPECT_EQ(allocation_of(lib->changer_cdbs[0]), 8u);
  // 8 header + 8 page header + 4 descriptors of 12 + 36 (volume tag) + 4 (identifier header).
  EXPECT_EQ(allocation_of(lib->changer_cdbs[1]), 8u + 8u + 4u * 52u);
  EXPECT_EQ(std::to_integer<int>(lib->changer_cdbs[1][1]) & 0x10, 0x10) << "VOLTAG";
}

// A small bound still yields every element: the driver continues after the last one it got.
TEST_F(ChangerTest, StatusContinuesAReportCutByTheBound) {
  ChangerOptions o;
  o.max_status_bytes = 100;  // room for one 52-byte descriptor per command
  auto c = open(o);
  ASSERT_TRUE(c);
  lib->changer_cdbs.clear();
  auto slots = c->elements(scsi::ElementType::storage);
  ASSERT_TRUE(slots) << why(*c);
  ASSERT_EQ(slots->size(), 4u);
  EXPECT_EQ((*slots)[2].barcode, "BAR003L9");
  EXPECT_EQ((*slots)[3].index, 3u);
  for (const auto& cdb : lib->changer_cdbs)
    EXPECT_LE(allocation_of(cdb), 100u);
  EXPECT_GE(lib->changer_cdbs.size(), 8u);
}

// A peer announcing an absurd report is asked with the 24-bit maximum, not what it claims.
TEST_F(ChangerTest, StatusNeverAllocatesPastTheBound) {
  auto c = open();
  ASSERT_TRUE(c);
  Exchange good;
  lib->scripted[kReadElementStatus].push_back(
      {good, scsi_bytes({0, 1, 0, 4, 0, 0xff, 0xff, 0xff})});
  lib->scripted[kReadElementStatus].push_back({good, scsi_bytes({0, 1, 0, 0, 0, 0, 0, 0})});
  lib->changer_cdbs.clear();
  auto slots = c->elements(scsi::ElementType::storage);
  ASSERT_TRUE(slots) << why(*c);
  EXPECT_TRUE(slots->empty());
  ASSERT_EQ(lib->changer_cdbs.size(), 2u);
  EXPECT_EQ(allocation_of(lib->changer_cdbs[1]), 0xffffffu);
}

TEST_F(ChangerTest, StatusRetriesWithoutVoltagWhenRefused) {
  int refused = 0;
  lib->reject = [&](std::span<const std::byte> cdb) -> std::vector<std::byte> {
    if (std::to_integer<int>(cdb[0]) == kReadElementStatus &&
        (std::to_integer<int>(cdb[1]) & 0x10) != 0) {
      ++refused;
      return sense_bytes(SenseKey::illegal_request, 0x24, 0x00);
    }
    return {};
  };
  auto c = open();
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->barcodes_supported());
  auto st = c->status();
  ASSERT_TRUE(st) << why(*c);
  EXPECT_EQ(refused, 1);
  EXPECT_FALSE(st->barcodes);
  EXPECT_FALSE(c->barcodes_supported());
  ASSERT_EQ(st->slots.size(), 4u);
  EXPECT_TRUE(st->slots[0].full);
  EXPECT_TRUE(st->slots[0].barcode.empty());
  ASSERT_TRUE(c->status());
  EXPECT_EQ(refused, 1) << "VOLTAG asked for again after the changer refused it";
}

// Another refusal than 24/00 is an error, not a reason to drop VOLTAG.
TEST_F(ChangerTest, StatusReportsOtherRefusals) {
  auto c = open();
  ASSERT_TRUE(c);
  script(kReadElementStatus, SenseKey::hardware_error, 0x44, 0x00);
  auto st = c->status();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(), tape_errc::hardware_error);
  EXPECT_TRUE(c->barcodes_supported());
  ASSERT_TRUE(c->last_error() && c->last_error()->sense);
  EXPECT_EQ(c->last_error()->operation, "READ ELEMENT STATUS");
}

// tgtd 1.0.85 ends its element status page 8 bytes short: the last element is kept.
TEST_F(ChangerTest, StatusKeepsTheLastElementOfAPageEightBytesShort) {
  auto c = open();
  ASSERT_TRUE(c);
  // One storage page of two 16-byte descriptors (addresses 1, 2 full), 8 bytes missing.
  auto report = scsi_bytes({0, 1, 0, 2, 0, 0, 0, 48, 2, 0, 0, 16, 0, 0, 0, 32,  //
                            0, 1, 1, 0, 0, 0, 0, 0,  0, 0, 0, 0,  0, 0, 0, 0,   //
                            0, 2, 1, 0, 0, 0, 0, 0});
  Exchange good;
  lib->scripted[kReadElementStatus].push_back(
      {good, std::vector(report.begin(), report.begin() + 8)});
  lib->scripted[kReadElementStatus].push_back({good, report});
  auto slots = c->elements(scsi::ElementType::storage);
  ASSERT_TRUE(slots) << why(*c);
  ASSERT_EQ(slots->size(), 2u);
  EXPECT_EQ((*slots)[1].address, 2);
  EXPECT_TRUE((*slots)[1].full);
}

}  // namespace
}  // namespace uiscsi::tape::test
