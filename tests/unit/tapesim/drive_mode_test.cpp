// MODE SENSE / MODE SELECT: the block descriptor, pages 0Fh / 10h / 11h, read-modify-write,
// changeable and default values, field pointers, and unit attentions for other nexuses.
#include <gtest/gtest.h>

#include "tapesim/drive.hpp"
#include "tapesim_test_util.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::tapesim {
namespace {

using scsi::ModeParameters;
using scsi::PageControl;
using test::cdb;
using test::expect_field;
using test::expect_good;
using test::expect_sense;
using test::Harness;
using test::pattern;

constexpr auto kTape = scsi::PeripheralDeviceType::sequential_access;

ModeParameters sense6(Harness& h, std::uint8_t page, PageControl pc = PageControl::current) {
  Response r = h.run(scsi::mode_sense6(page, 0, 255, {.page_control = pc}));
  EXPECT_EQ(r.status, scsi::Status::good);
  auto m = scsi::parse_mode_sense6(r.data_in, kTape);
  EXPECT_TRUE(m);
  return m ? *m : ModeParameters{};
}

// MODE SELECT(6) of `m` (header, descriptors, pages) with PF.
Response select6(Harness& h, const ModeParameters& m) {
  auto list = scsi::build_mode_parameters6(m, kTape, scsi::ModeDataUse::select);
  EXPECT_TRUE(list);
  return h.run(scsi::mode_select6(static_cast<std::uint8_t>(list->size())), *list);
}

Response select10(Harness& h, const ModeParameters& m) {
  auto list = scsi::build_mode_parameters10(m, kTape, scsi::ModeDataUse::select);
  EXPECT_TRUE(list);
  return h.run(scsi::mode_select10(static_cast<std::uint16_t>(list->size())), *list);
}

TEST(DriveMode, SenseReportsDescriptorAndPages) {
  Harness h;
  ModeParameters m = sense6(h, 0x3f);
  EXPECT_EQ(m.header.device_specific, 0x10);  // buffered mode 1, not write protected
  ASSERT_EQ(m.block_descriptors.size(), 1u);
  EXPECT_EQ(m.block_descriptors[0].density_code, 0x60);
  EXPECT_EQ(m.block_descriptors[0].block_length, 0u);
  EXPECT_EQ(m.block_descriptors[0].number_of_blocks, 0u);
  ASSERT_EQ(m.pages.size(), 3u);
  EXPECT_EQ(m.pages[0].page_code, 0x0f);
  EXPECT_EQ(m.pages[1].page_code, 0x10);
  EXPECT_EQ(m.pages[2].page_code, 0x11);
  auto dc = scsi::parse_data_compression_page(m.pages[0]);
  ASSERT_TRUE(dc);
  EXPECT_FALSE(dc->dce);
  EXPECT_TRUE(dc->dcc);
  EXPECT_TRUE(dc->dde);
  EXPECT_EQ(dc->compression_algorithm, 1u);
  // DDE is byte 3 bit 7 of the page (the original stack had it at byte 2 bit 6, which is DCC).
  EXPECT_EQ(m.pages[0].parameters[1], std::byte{0x80});
  EXPECT_EQ(m.pages[0].parameters[0], std::byte{0x40});
  auto cfg = scsi::parse_device_configuration_page(m.pages[1]);
  ASSERT_TRUE(cfg);
  EXPECT_TRUE(cfg->lois);
  EXPECT_TRUE(cfg->eeg);
  EXPECT_FALSE(cfg->swp);
  EXPECT_EQ(cfg->select_data_compression_algorithm, 0);
  auto part = scsi::parse_medium_partition_page(m.pages[2]);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->max_additional_partitions, 3);
  EXPECT_EQ(part->additional_partitions_defined, 0);
  // DBD drops the descriptor; page 0 gives only header and descriptor; MODE SENSE(10) agrees.
  Response r = h.run(scsi::mode_sense6(0x0f, 0, 255, {.dbd = true}));
  auto nodesc = scsi::parse_mode_sense6(r.data_in, kTape);
  ASSERT_TRUE(nodesc);
  EXPECT_TRUE(nodesc->block_descriptors.empty());
  EXPECT_EQ(sense6(h, 0x00).pages.size(), 0u);
  r = h.run(scsi::mode_sense10(0x10));
  auto ten = scsi::parse_mode_sense10(r.data_in, kTape);
  ASSERT_TRUE(ten);
  ASSERT_EQ(ten->pages.size(), 1u);
  EXPECT_EQ(ten->pages[0], m.pages[1]);
  // Allocation length cuts.
  EXPECT_EQ(h.run(scsi::mode_sense6(0x3f, 0, 10)).data_in.size(), 10u);
}

TEST(DriveMode, SenseFieldErrors) {
  Harness h;
  auto s =
      expect_sense(h.run(scsi::mode_sense6(0x3f, 0, 255, {.page_control = PageControl::saved})),
                   scsi::SenseKey::illegal_request, 0x39, 0x00);
  s = expect_sense(h.run(scsi::mode_sense6(0x08)), scsi::SenseKey::illegal_request, 0x24, 0);
  expect_field(s, true, 2, 5);
  s = expect_sense(h.run(scsi::mode_sense6(0x0f, 1)), scsi::SenseKey::illegal_request, 0x24, 0);
  expect_field(s, true, 3, 7);
  expect_good(h.run(scsi::mode_sense6(0x3f, 0xff)));
}

TEST(DriveMode, ChangeableAndDefaultValues) {
  DriveConfig c;
  c.compression = true;
  c.block_size = 512;
  Harness h(test::small_medium(), c);
  ModeParameters ch = sense6(h, 0x3f, PageControl::changeable);
  EXPECT_EQ(ch.header.device_specific, 0x70);
  EXPECT_EQ(ch.block_descriptors[0].density_code, 0xff);
  EXPECT_EQ(ch.block_descriptors[0].block_length, 0xffffffu);
  EXPECT_EQ(ch.pages[0].parameters[0], std::byte{0x80});  // DCE
  EXPECT_EQ(ch.pages[0].parameters[1], std::byte{0x80});  // DDE
  ASSERT_TRUE(h.drive.set_compression(false).good());
  ASSERT_TRUE(h.drive.set_block_size(0).good());
  ModeParameters def = sense6(h, 0x3f, PageControl::defaults);
  EXPECT_EQ(def.block_descriptors[0].block_length, 512u);
  auto dc = scsi::parse_data_compression_page(def.pages[0]);
  ASSERT_TRUE(dc);
  EXPECT_TRUE(dc->dce);
  ModeParameters cur = sense6(h, 0x3f);
  EXPECT_EQ(cur.block_descriptors[0].block_length, 0u);
  EXPECT_FALSE(scsi::parse_data_compression_page(cur.pages[0])->dce);
}

// The tape driver's read-modify-write: change compression, then the block size, and neither
// undoes the other.
TEST(DriveMode, SelectChangesOnlyWhatItChanges) {
  Harness h;
  ModeParameters m = sense6(h, 0x0f);
  m.block_descriptors[0].block_length = 1024;
  expect_good(select6(h, m));
  EXPECT_EQ(h.drive.block_size(), 1024u);

  m = sense6(h, 0x0f);
  auto page = scsi::with_data_compression(m.pages[0], true, false);
  ASSERT_TRUE(page);
  m.pages[0] = *page;
  m.block_descriptors.clear();  // no descriptor: the block size stays
  expect_good(select6(h, m));
  EXPECT_EQ(h.drive.block_size(), 1024u);
  EXPECT_EQ(h.drive.compression(), (Compression{true, false}));
  ModeParameters after = sense6(h, 0x0f);
  EXPECT_EQ(after.pages[0].parameters[0], std::byte{0xc0});  // DCE and DCC
  EXPECT_EQ(after.pages[0].parameters[1], std::byte{0x00});  // DDE clear

  // Only the block descriptor: compression stays.
  ModeParameters bd;
  bd.block_descriptors.push_back({0, 0, 0});
  expect_good(select6(h, bd));
  EXPECT_EQ(h.drive.block_size(), 0u);
  EXPECT_TRUE(h.drive.compression().dce);

  // Echoing everything back changes nothing (and no unit attention for others).
  h.drive.execute(scsi::test_unit_ready().cdb.bytes(), {}, 5);  // nexus 5: 29/00
  h.drive.execute(scsi::test_unit_ready().cdb.bytes(), {}, 5);
  ModeParameters all = sense6(h, 0x3f);
  expect_good(select6(h, all));
  expect_good(h.drive.execute(scsi::test_unit_ready().cdb.bytes(), {}, 5));
  EXPECT_EQ(sense6(h, 0x3f).pages, all.pages);

  // A real change tells the other nexus.
  all.block_descriptors[0].block_length = 4096;
  expect_good(select10(h, all));
  EXPECT_EQ(h.drive.block_size(), 4096u);
  expect_sense(h.drive.execute(scsi::test_unit_ready().cdb.bytes(), {}, 5),
               scsi::SenseKey::unit_attention, 0x2a, 0x01);
  expect_good(h.run(scsi::test_unit_ready()));  // not the issuer
}

TEST(DriveMode, SelectionOfCompressionThroughDeviceConfiguration) {
  Harness h;
  ModeParameters m = sense6(h, 0x10);
  m.pages[0].parameters[12] = std::byte{1};  // SELECT DATA COMPRESSION ALGORITHM
  expect_good(select6(h, m));
  EXPECT_TRUE(h.drive.compression().dce);
  // Both pages echoed, one of them changed: the change wins whatever the order.
  ModeParameters both = sense6(h, 0x3f);
  both.pages.pop_back();  // no partition page
  both.pages[1].parameters[12] = std::byte{0};
  expect_good(select6(h, both));
  EXPECT_FALSE(h.drive.compression().dce);
  m = sense6(h, 0x10);
  m.pages[0].parameters[12] = std::byte{2};
  auto s = expect_sense(select6(h, m), scsi::SenseKey::illegal_request, 0x26, 0);
  expect_field(s, false, 4 + 8 + 2 + 12, 7);
}

TEST(DriveMode, SelectRsmkAndSwp) {
  Harness h;
  ModeParameters m = sense6(h, 0x10);
  m.pages[0].parameters[6] |= std::byte{0x20};  // RSMK
  m.pages[0].parameters[8] |= std::byte{0x04};  // SWP
  expect_good(select6(h, m));
  EXPECT_TRUE(h.drive.report_setmarks());
  EXPECT_TRUE(h.drive.software_write_protect());
  EXPECT_EQ(sense6(h, 0x00).header.device_specific & 0x80, 0x80);
  expect_sense(h.run(scsi::write6_tape(10, 0), pattern(10, 1)), scsi::SenseKey::data_protect, 0x27,
               0x02);
}

TEST(DriveMode, SelectFieldErrorsChangeNothing) {
  Harness h;
  // A field that is not changeable (LOIS, byte 8 bit 6 of page 10h).
  ModeParameters m = sense6(h, 0x10);
  m.block_descriptors[0].block_length = 2048;
  m.pages[0].parameters[6] &= std::byte{0xbf};
  auto s = expect_sense(select6(h, m), scsi::SenseKey::illegal_request, 0x26, 0);
  expect_field(s, false, 4 + 8 + 2 + 6, 6);
  EXPECT_EQ(h.drive.block_size(), 0u);  // the descriptor before it was not applied
  // A block length outside the limits.
  m = sense6(h, 0x00);
  m.block_descriptors[0].block_length = (1u << 23) + 1;
  s = expect_sense(select6(h, m), scsi::SenseKey::illegal_request, 0x26, 0);
  expect_field(s, false, 4 + 5, 7);
  // A density this drive does not write; 0 and 7Fh keep the current one.
  m.block_descriptors[0] = {0x58, 0, 0};
  s = expect_sense(select6(h, m), scsi::SenseKey::illegal_request, 0x26, 0);
  expect_field(s, false, 4, 7);
  m.block_descriptors[0] = {0x7f, 0, 0};
  expect_good(select6(h, m));
  m.block_descriptors[0] = {0x5e, 0, 0};
  expect_good(select6(h, m));
  // BUFFERED MODE 3.
  m = sense6(h, 0x00);
  m.header.device_specific = 0x30;
  s = expect_sense(select6(h, m), scsi::SenseKey::illegal_request, 0x26, 0);
  expect_field(s, false, 2, 6);
  m.header.device_specific = 0x00;
  expect_good(select6(h, m));
  EXPECT_EQ(sense6(h, 0x00).header.device_specific, 0x00);
  // An unknown page, a wrong page length, a list cut short, SP, pages without PF.
  auto raw = [&](std::vector<std::byte> list, bool pf = true, bool sp = false) {
    return h.run(scsi::mode_select6(static_cast<std::uint8_t>(list.size()), pf, sp), list);
  };
  s = expect_sense(raw(cdb({0, 0, 0x10, 0, 0x08, 2, 0, 0})), scsi::SenseKey::illegal_request, 0x26,
                   0);
  expect_field(s, false, 4, 5);
  s = expect_sense(raw(cdb({0, 0, 0x10, 0, 0x0f, 2, 0, 0})), scsi::SenseKey::illegal_request, 0x26,
                   0);
  expect_field(s, false, 5, 7);
  expect_sense(raw(cdb({0, 0, 0x10, 0, 0x0f, 14, 0, 0})), scsi::SenseKey::illegal_request, 0x1a, 0);
  expect_sense(raw(cdb({0, 0, 0x10})), scsi::SenseKey::illegal_request, 0x1a, 0);
  expect_sense(raw(cdb({0, 0, 0x10, 0}), true, true), scsi::SenseKey::illegal_request, 0x24, 0);
  expect_sense(raw(cdb({0, 0, 0x10, 0, 0x0f, 2, 0, 0}), false), scsi::SenseKey::illegal_request,
               0x24, 0);
  s = expect_sense(raw(cdb({0, 0, 0x10, 4, 0, 0, 0, 0})), scsi::SenseKey::illegal_request, 0x26, 0);
  expect_field(s, false, 3, 7);  // block descriptor length 4
  // The Data-Out is shorter than PARAMETER LIST LENGTH.
  expect_sense(h.run(scsi::mode_select6(12), cdb({0, 0, 0x10, 0})), scsi::SenseKey::illegal_request,
               0x1a, 0);
  // Length 0: nothing to do.
  expect_good(h.run(scsi::mode_select6(0)));
  EXPECT_EQ(h.drive.block_size(), 0u);
  EXPECT_EQ(h.drive.compression(), (Compression{false, true}));
}

TEST(DriveMode, PartitionPageRepartitions) {
  Harness h(test::small_medium(1000000, 1000));
  expect_good(h.run(scsi::write6_tape(10, 0), pattern(10, 1)));
  // SDP: two equal partitions.
  ModeParameters m = sense6(h, 0x11);
  m.pages[0].parameters[1] = std::byte{1};
  m.pages[0].parameters[2] = std::byte{0x40};
  expect_good(select6(h, m));
  ASSERT_EQ(h.drive.medium()->partition_count(), 2u);
  EXPECT_EQ(h.drive.medium()->partition_size(1), 500000u);
  EXPECT_EQ(h.drive.medium()->object_count(0), 0u);
  auto part = scsi::parse_medium_partition_page(sense6(h, 0x11).pages[0]);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->additional_partitions_defined, 1);
  ASSERT_GE(part->partition_sizes.size(), 2u);
  const std::uint64_t unit = [&] {
    std::uint64_t u = 1;
    for (int i = 0; i < part->partition_units; ++i)
      u *= 10;
    return u;
  }();
  EXPECT_EQ(part->partition_sizes[1] * unit, 500000u);

  // IDP in kilobytes, the second partition taking the rest.
  m = sense6(h, 0x11);
  m.pages[0].parameters[1] = std::byte{1};
  m.pages[0].parameters[2] = std::byte{0x20 | 0x08};  // IDP, PSUM 01b
  m.pages[0].parameters[6] = std::byte{0};
  m.pages[0].parameters[7] = std::byte{100};
  m.pages[0].parameters[8] = std::byte{0xff};
  m.pages[0].parameters[9] = std::byte{0xff};
  expect_good(select6(h, m));
  EXPECT_EQ(h.drive.medium()->partition_size(0), 100000u);
  EXPECT_EQ(h.drive.medium()->partition_size(1), 900000u);

  // CAP in the device configuration page moves to a partition.
  ModeParameters cfg = sense6(h, 0x10);
  cfg.pages[0].parameters[0] = std::byte{0x40};
  cfg.pages[0].parameters[1] = std::byte{1};
  expect_good(select6(h, cfg));
  EXPECT_EQ(h.drive.position()->partition, 1u);
  EXPECT_EQ(sense6(h, 0x10).pages[0].parameters[1], std::byte{1});
  cfg.pages[0].parameters[1] = std::byte{2};
  expect_sense(select6(h, cfg), scsi::SenseKey::illegal_request, 0x26, 0);

  // Too many partitions, two methods at once, ADDP, sizes over the capacity.
  m = sense6(h, 0x11);
  m.pages[0].parameters[1] = std::byte{4};
  m.pages[0].parameters[2] = std::byte{0x40};
  auto s = expect_sense(select6(h, m), scsi::SenseKey::illegal_request, 0x26, 0);
  expect_field(s, false, 4 + 8 + 3, 7);
  m.pages[0].parameters[1] = std::byte{1};
  m.pages[0].parameters[2] = std::byte{0xc0};
  expect_sense(select6(h, m), scsi::SenseKey::illegal_request, 0x26, 0);
  m.pages[0].parameters[2] = std::byte{0x41};
  expect_sense(select6(h, m), scsi::SenseKey::illegal_request, 0x26, 0);
  m.pages[0].parameters[2] = std::byte{0x20 | 0x08};
  m.pages[0].parameters[6] = std::byte{0x03};
  m.pages[0].parameters[7] = std::byte{0xe8};  // 1000 KB: everything
  m.pages[0].parameters[8] = std::byte{0};
  m.pages[0].parameters[9] = std::byte{1};
  expect_sense(select6(h, m), scsi::SenseKey::illegal_request, 0x26, 0);
  EXPECT_EQ(h.drive.medium()->partition_count(), 2u);

  // FDP: the drive's own layout (two halves).
  m = sense6(h, 0x11);
  m.pages[0].parameters[2] = std::byte{0x80};
  expect_good(select6(h, m));
  EXPECT_EQ(h.drive.medium()->partition_size(0), 500000u);

  // A write-protected cartridge cannot be repartitioned.
  ASSERT_TRUE(h.drive.medium()->set_write_protected(true));
  m.pages[0].parameters[2] = std::byte{0x40};
  m.pages[0].parameters[1] = std::byte{0};
  expect_sense(select6(h, m), scsi::SenseKey::data_protect, 0x27, 0);
  EXPECT_EQ(h.drive.medium()->partition_count(), 2u);

  // The typed API.
  ASSERT_TRUE(h.drive.medium()->set_write_protected(false));
  expect_good(h.drive.partition_medium(std::vector<std::uint64_t>{100, 200, 300}));
  EXPECT_EQ(h.drive.medium()->partition_count(), 3u);
  EXPECT_FALSE(h.drive.partition_medium(std::vector<std::uint64_t>(5, 10)).good());
}

TEST(DriveMode, PartitionPageWithoutCartridge) {
  Drive d = Harness::make({});
  d.execute(scsi::test_unit_ready().cdb.bytes(), {}, 1);
  Response r = d.execute(scsi::mode_sense6(0x3f)->cdb.bytes(), {}, 1);
  expect_good(r);
  auto m = scsi::parse_mode_sense6(r.data_in, kTape);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->block_descriptors[0].density_code, 0x60);
  auto part = scsi::parse_medium_partition_page(m->pages[2]);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->additional_partitions_defined, 0);
  // Selecting a block size needs no cartridge; repartitioning does.
  scsi::ModeParameters bd;
  bd.block_descriptors.push_back({0, 0, 512});
  auto list = scsi::build_mode_parameters6(bd, kTape, scsi::ModeDataUse::select);
  expect_good(
      d.execute(scsi::mode_select6(static_cast<std::uint8_t>(list->size())).cdb.bytes(), *list, 1));
  EXPECT_EQ(d.block_size(), 512u);
  scsi::ModeParameters pm = *m;
  pm.block_descriptors.clear();
  pm.pages = {m->pages[2]};
  pm.pages[0].parameters[2] = std::byte{0x40};
  pm.pages[0].parameters[1] = std::byte{1};
  list = scsi::build_mode_parameters6(pm, kTape, scsi::ModeDataUse::select);
  expect_sense(
      d.execute(scsi::mode_select6(static_cast<std::uint8_t>(list->size())).cdb.bytes(), *list, 1),
      scsi::SenseKey::not_ready, 0x3a, 0);
}

}  // namespace
}  // namespace uiscsi::tapesim
