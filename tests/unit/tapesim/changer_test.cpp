// tapesim::Changer: element map, MOVE MEDIUM with real tapesim::Drive objects behind
// DirectDriveSlot, every MOVE MEDIUM error sense, READ ELEMENT STATUS format and truncation,
// barcodes, unit attentions, mode pages, INQUIRY and the inventory text.
#include "tapesim/changer.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tapesim/errors.hpp"
#include "tapesim_test_util.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/sense.hpp"

namespace uiscsi::tapesim::test {
namespace {

using scsi::ElementType;

constexpr std::uint64_t kNexus = 7;

Medium cartridge(const std::string& barcode) {
  MediumOptions o = small_medium();
  o.barcode = barcode;
  auto m = Medium::create(o);
  EXPECT_TRUE(m);
  return std::move(*m);
}

Drive make_drive(const std::string& serial) {
  DriveConfig c;
  c.serial = serial;
  auto d = Drive::create(c);
  EXPECT_TRUE(d);
  return std::move(*d);
}

// 4 slots (1-4), one import/export element (5), two drives (6, 7); cartridges A..C in 1..3.
struct ChangerTest : ::testing::Test {
  Drive drive0 = make_drive("DRV0");
  Drive drive1 = make_drive("DRIVE-ONE");
  std::optional<Changer> changer;

  void SetUp() override {
    ChangerConfig cfg;
    cfg.storage_slots = 4;
    cfg.import_export = 1;
    std::vector<std::unique_ptr<DriveSlot>> drives;
    drives.push_back(std::make_unique<DirectDriveSlot>(drive0));
    drives.push_back(std::make_unique<DirectDriveSlot>(drive1));
    auto c = Changer::create(cfg, std::move(drives));
    ASSERT_TRUE(c);
    changer.emplace(std::move(*c));
    ASSERT_TRUE(changer->place(1, cartridge("UIS001L8")));
    ASSERT_TRUE(changer->place(2, cartridge("UIS002L8")));
    ASSERT_TRUE(changer->place(3, cartridge("UIS003L8")));
  }

  Response run(const scsi::CommandSpec& spec, std::uint64_t nexus = kNexus) {
    return changer->execute(spec.cdb.bytes(), {}, nexus);
  }
  Response run(std::vector<std::byte> cdb, std::uint64_t nexus = kNexus) {
    return changer->execute(cdb, {}, nexus);
  }
  // Consumes the power-on unit attention of `nexus`.
  void clear_ua(std::uint64_t nexus = kNexus) {
    auto r = run(scsi::test_unit_ready(), nexus);
    ASSERT_EQ(r.status, scsi::Status::check_condition);
    expect_sense(r, SenseKey::unit_attention, 0x29, 0x00);
    EXPECT_EQ(run(scsi::test_unit_ready(), nexus).status, scsi::Status::good);
  }
  static void expect_sense(const Response& r, SenseKey key, int asc, int ascq) {
    ASSERT_EQ(r.status, scsi::Status::check_condition);
    auto s = scsi::parse_sense(r.sense);
    ASSERT_TRUE(s);
    EXPECT_EQ(s->sense_key, key);
    EXPECT_EQ(s->asc, asc);
    EXPECT_EQ(s->ascq, ascq);
  }
  scsi::ElementStatusData status(ElementType type = ElementType::all, std::uint16_t start = 0,
                                 std::uint16_t count = 0xffff, bool voltag = true,
                                 bool dvcid = false, std::uint32_t alloc = 65536) {
    scsi::ReadElementStatusOptions o;
    o.voltag = voltag;
    o.dvcid = dvcid;
    auto spec = scsi::read_element_status(type, start, count, alloc, o);
    EXPECT_TRUE(spec);
    auto r = run(*spec);
    EXPECT_EQ(r.status, scsi::Status::good);
    auto d = scsi::parse_read_element_status(r.data_in);
    EXPECT_TRUE(d);
    return d ? *d : scsi::ElementStatusData{};
  }
};

TEST_F(ChangerTest, ElementMap) {
  EXPECT_EQ(changer->transport_address(), 0);
  EXPECT_EQ(changer->first_storage(), 1);
  EXPECT_EQ(changer->first_import_export(), 5);
  EXPECT_EQ(changer->first_drive(), 6);
  EXPECT_EQ(changer->drive_count(), 2);
  const auto all = changer->elements();
  ASSERT_EQ(all.size(), 8u);
  EXPECT_EQ(all[0].type, ElementType::medium_transport);
  EXPECT_EQ(all[4].type, ElementType::storage);
  EXPECT_EQ(all[5].type, ElementType::import_export);
  EXPECT_EQ(all[7].type, ElementType::data_transfer);
  EXPECT_TRUE(all[2].full);
  EXPECT_EQ(all[2].barcode, "UIS002L8");
  EXPECT_FALSE(all[4].full);
  // Placing: no transport, no duplicate barcode, no full element, no blank barcode.
  EXPECT_FALSE(changer->place(0, cartridge("X1")));
  EXPECT_FALSE(changer->place(4, cartridge("UIS001L8")));
  EXPECT_EQ(changer->place(1, cartridge("X2")).error(), tapesim_errc::medium_present);
  EXPECT_FALSE(changer->place(4, cartridge("")));
  EXPECT_FALSE(Changer::create(ChangerConfig{.storage_slots = 0}, {}));
}

TEST_F(ChangerTest, MoveToDriveAndBack) {
  clear_ua();
  // A nexus of the empty drive: 29/00, then NOT READY 3A/00.
  expect_sense(drive0.execute(test::cdb({0, 0, 0, 0, 0, 0}), {}, 1), SenseKey::unit_attention, 0x29,
               0x00);
  expect_sense(drive0.execute(test::cdb({0, 0, 0, 0, 0, 0}), {}, 1), SenseKey::not_ready, 0x3a,
               0x00);
  ASSERT_EQ(run(scsi::move_medium(0, 2, 6)).status, scsi::Status::good);
  // The drive has the cartridge, loaded, and reports 28/00 to its nexus.
  ASSERT_TRUE(drive0.medium_present());
  EXPECT_EQ(drive0.medium()->barcode(), "UIS002L8");
  expect_sense(drive0.execute(test::cdb({0, 0, 0, 0, 0, 0}), {}, 1), SenseKey::unit_attention, 0x28,
               0x00);
  EXPECT_EQ(drive0.execute(test::cdb({0, 0, 0, 0, 0, 0}), {}, 1).status, scsi::Status::good);
  // Write a record through the drive.
  const auto data = pattern(1000, 3);
  ASSERT_TRUE(drive0.write_record(data).good());

  auto e = changer->element(6);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->full);
  EXPECT_EQ(e->barcode, "UIS002L8");
  EXPECT_EQ(e->source, std::optional<std::uint16_t>(2));
  EXPECT_FALSE(changer->element(2)->full);

  // Back to another slot while still loaded: the changer unloads it.
  ASSERT_EQ(run(scsi::move_medium(0, 6, 4)).status, scsi::Status::good);
  EXPECT_FALSE(drive0.medium_present());
  EXPECT_EQ(changer->element(4)->barcode, "UIS002L8");
  EXPECT_EQ(changer->element(4)->source, std::optional<std::uint16_t>(6));
  // Into the other drive: the data written before is there.
  ASSERT_EQ(run(scsi::move_medium(0, 4, 7)).status, scsi::Status::good);
  ASSERT_TRUE(drive1.medium_present());
  std::vector<std::byte> back(1000);
  ASSERT_TRUE(drive1.read_record(back).good());
  EXPECT_EQ(back, data);
  // After `mt offline` (unload) the move works the same.
  ASSERT_TRUE(drive1.unload().good());
  ASSERT_EQ(run(scsi::move_medium(0, 7, 2)).status, scsi::Status::good);
  EXPECT_EQ(changer->element(2)->barcode, "UIS002L8");
}

TEST_F(ChangerTest, MoveErrors) {
  clear_ua();
  // 21/01 with a field pointer on the bad address field.
  const auto invalid = [&](const scsi::CommandSpec& spec, int field) {
    auto r = run(spec);
    expect_sense(r, SenseKey::illegal_request, 0x21, 0x01);
    auto s = scsi::parse_sense(r.sense);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->sense_key_specific.valid);
    EXPECT_EQ(s->sense_key_specific.bytes[2], field);
  };
  invalid(scsi::move_medium(1, 1, 4), 2);   // 1 is a slot, not a transport
  invalid(scsi::move_medium(0, 0, 4), 4);   // the transport is no source
  invalid(scsi::move_medium(0, 99, 4), 4);  // no such element
  invalid(scsi::move_medium(0, 1, 8), 6);   // past the last drive
  invalid(scsi::position_to_element(0, 200), 4);
  expect_sense(run(scsi::move_medium(0, 1, 4, true)), SenseKey::illegal_request, 0x24, 0x00);
  // 3B/0E source empty, 3B/0D destination full (slot and drive).
  expect_sense(run(scsi::move_medium(0, 4, 5)), SenseKey::illegal_request, 0x3b, 0x0e);
  expect_sense(run(scsi::move_medium(0, 6, 4)), SenseKey::illegal_request, 0x3b, 0x0e);
  expect_sense(run(scsi::move_medium(0, 1, 2)), SenseKey::illegal_request, 0x3b, 0x0d);
  ASSERT_EQ(run(scsi::move_medium(0, 1, 6)).status, scsi::Status::good);
  expect_sense(run(scsi::move_medium(0, 3, 6)), SenseKey::illegal_request, 0x3b, 0x0d);
  // 53/03 while a nexus of the drive prevents removal; the cartridge stays in the drive.
  ASSERT_TRUE(drive0.prevent_removal(true, 1).good());
  expect_sense(run(scsi::move_medium(0, 6, 4)), SenseKey::illegal_request, 0x53, 0x03);
  EXPECT_TRUE(drive0.medium_present());
  EXPECT_TRUE(changer->element(6)->full);
  ASSERT_TRUE(drive0.prevent_removal(false, 1).good());
  EXPECT_EQ(run(scsi::move_medium(0, 6, 4)).status, scsi::Status::good);
  // A cartridge that got into a drive behind the changer's back: destination full, and the
  // source keeps its cartridge.
  ASSERT_TRUE(drive1.insert(cartridge("ROGUE1")));
  expect_sense(run(scsi::move_medium(0, 2, 7)), SenseKey::illegal_request, 0x3b, 0x0d);
  EXPECT_EQ(changer->element(2)->barcode, "UIS002L8");
  EXPECT_EQ(drive1.medium()->barcode(), "ROGUE1");
  // POSITION TO ELEMENT and INITIALIZE ELEMENT STATUS (WITH RANGE).
  EXPECT_EQ(run(scsi::position_to_element(0, 3)).status, scsi::Status::good);
  EXPECT_EQ(run(scsi::initialize_element_status()).status, scsi::Status::good);
  EXPECT_EQ(run(test::cdb({0x37, 1, 0, 2, 0, 0, 0, 2, 0, 0})).status, scsi::Status::good);
  expect_sense(run(test::cdb({0x37, 1, 0, 50, 0, 0, 0, 2, 0, 0})), SenseKey::illegal_request, 0x21,
               0x01);
}

TEST_F(ChangerTest, ReadElementStatus) {
  clear_ua();
  ASSERT_EQ(run(scsi::move_medium(0, 3, 7)).status, scsi::Status::good);
  auto d = status();
  EXPECT_EQ(d.first_address, 0);
  EXPECT_EQ(d.elements_available, 8);
  // 4 pages of 8 bytes; descriptors of 12 + 36 (volume tag) + 4 (identifier header) bytes.
  EXPECT_EQ(d.report_bytes_available, 4u * 8 + 8u * 52);
  ASSERT_EQ(d.elements.size(), 8u);
  EXPECT_EQ(d.elements[0].type, ElementType::medium_transport);
  EXPECT_FALSE(d.elements[0].full);
  EXPECT_EQ(d.elements[1].type, ElementType::storage);
  EXPECT_TRUE(d.elements[1].full);
  EXPECT_TRUE(d.elements[1].access);
  EXPECT_EQ(d.elements[1].primary_volume_tag, "UIS001L8");
  EXPECT_EQ(d.elements[1].medium_type, 1);
  EXPECT_FALSE(d.elements[1].svalid);
  EXPECT_FALSE(d.elements[3].full);  // slot 3 went to the drive
  EXPECT_EQ(d.elements[3].primary_volume_tag, "");
  EXPECT_EQ(d.elements[5].type, ElementType::import_export);
  EXPECT_TRUE(d.elements[5].inenab);
  EXPECT_TRUE(d.elements[5].exenab);
  EXPECT_EQ(d.elements[7].type, ElementType::data_transfer);
  EXPECT_EQ(d.elements[7].address, 7);
  EXPECT_TRUE(d.elements[7].full);
  EXPECT_TRUE(d.elements[7].svalid);
  EXPECT_EQ(d.elements[7].source_address, 3);
  EXPECT_EQ(d.elements[7].primary_volume_tag, "UIS003L8");

  // One type, a starting address and a count.
  auto slots = status(ElementType::storage, 2, 2, false);
  EXPECT_EQ(slots.first_address, 2);
  EXPECT_EQ(slots.elements_available, 2);
  EXPECT_EQ(slots.report_bytes_available, 8u + 2 * 16);
  ASSERT_EQ(slots.elements.size(), 2u);
  EXPECT_EQ(slots.elements[1].address, 3);
  EXPECT_EQ(slots.elements[1].primary_volume_tag, "");
  auto none = status(ElementType::import_export, 6);
  EXPECT_EQ(none.elements_available, 0);
  EXPECT_EQ(none.report_bytes_available, 0u);

  // DVCID: the drives' serial numbers, padded to one length.
  auto drives = status(ElementType::data_transfer, 0, 0xffff, false, true);
  ASSERT_EQ(drives.elements.size(), 2u);
  ASSERT_TRUE(drives.elements[0].device_identifier);
  EXPECT_EQ(drives.elements[0].device_identifier->value.size(), 9u);  // "DRIVE-ONE"
  EXPECT_EQ(std::to_integer<char>(drives.elements[1].device_identifier->value[0]), 'D');

  // Truncation: the header alone still tells the full size; counts are not cut.
  scsi::ReadElementStatusOptions o;
  o.voltag = true;
  auto r8 = run(*scsi::read_element_status(ElementType::all, 0, 0xffff, 8, o));
  ASSERT_EQ(r8.status, scsi::Status::good);
  ASSERT_EQ(r8.data_in.size(), 8u);
  auto h = scsi::parse_read_element_status(r8.data_in);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->report_bytes_available, d.report_bytes_available);
  EXPECT_EQ(h->elements_available, 8);
  auto r100 = run(*scsi::read_element_status(ElementType::all, 0, 0xffff, 100, o));
  EXPECT_EQ(r100.data_in.size(), 100u);
  auto part = scsi::parse_read_element_status(r100.data_in);
  ASSERT_TRUE(part);
  EXPECT_EQ(part->elements.size(), 1u);  // 8 + 8 + 52: only the transport fits

  // Errors: bad type code, starting address beyond the last element.
  expect_sense(run(test::cdb({0xb8, 0x15, 0, 0, 0, 9, 0, 0, 1, 0, 0, 0})),
               SenseKey::illegal_request, 0x24, 0x00);
  expect_sense(run(*scsi::read_element_status(ElementType::all, 8, 1)), SenseKey::illegal_request,
               0x21, 0x01);
}

TEST_F(ChangerTest, UnitAttentionsAndImportExport) {
  // 29/00 per nexus, INQUIRY exempt.
  EXPECT_EQ(run(scsi::inquiry(), 1).status, scsi::Status::good);
  clear_ua(1);
  clear_ua(2);
  clear_ua(kNexus);
  // The operator imports a cartridge: 28/01 for everyone; IMPEXP set.
  auto at = changer->import_medium(cartridge("CLN001"));
  ASSERT_TRUE(at);
  EXPECT_EQ(*at, 5);
  EXPECT_TRUE(changer->element(5)->imported);
  expect_sense(run(scsi::test_unit_ready(), 1), SenseKey::unit_attention, 0x28, 0x01);
  // REQUEST SENSE reports and clears it.
  auto rs = run(test::cdb({0x03, 0, 0, 0, 18, 0}), 2);
  ASSERT_EQ(rs.status, scsi::Status::good);
  auto s = scsi::parse_sense(rs.data_in);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->asc, 0x28);
  EXPECT_EQ(s->ascq, 0x01);
  EXPECT_EQ(run(scsi::test_unit_ready(), 2).status, scsi::Status::good);
  expect_sense(run(scsi::test_unit_ready()), SenseKey::unit_attention, 0x28, 0x01);
  auto d = status(ElementType::import_export);
  ASSERT_EQ(d.elements.size(), 1u);
  EXPECT_TRUE(d.elements[0].impexp);
  EXPECT_EQ(d.elements[0].primary_volume_tag, "CLN001");
  EXPECT_FALSE(changer->import_medium(cartridge("CLN002")));  // no empty I/E element
  // Moved by the transport into a slot, then back: IMPEXP clear.
  ASSERT_EQ(run(scsi::move_medium(0, 5, 4), 1).status, scsi::Status::good);
  ASSERT_EQ(run(scsi::move_medium(0, 4, 5), 1).status, scsi::Status::good);
  EXPECT_FALSE(changer->element(5)->imported);
  // PREVENT ALLOW MEDIUM REMOVAL keeps the operator out of the I/E element.
  ASSERT_EQ(run(test::cdb({0x1e, 0, 0, 0, 1, 0}), 1).status, scsi::Status::good);
  EXPECT_EQ(changer->export_medium(5).error(), tapesim_errc::removal_prevented);
  expect_sense(run(test::cdb({0x1e, 0, 0, 0, 2, 0}), 1), SenseKey::illegal_request, 0x24, 0x00);
  ASSERT_EQ(run(test::cdb({0x1e, 0, 0, 0, 0, 0}), 1).status, scsi::Status::good);
  auto out = changer->export_medium(5);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->barcode(), "CLN001");
  EXPECT_FALSE(changer->element(5)->full);
  expect_sense(run(scsi::test_unit_ready(), 2), SenseKey::unit_attention, 0x28, 0x01);
  // LUN reset: 29/03; a forgotten nexus is new again.
  changer->logical_unit_reset();
  expect_sense(run(scsi::test_unit_ready(), 1), SenseKey::unit_attention, 0x29, 0x03);
  changer->forget_nexus(2);
  expect_sense(run(scsi::test_unit_ready(), 2), SenseKey::unit_attention, 0x29, 0x00);
  // Unknown opcode and reserved bits.
  expect_sense(run(test::cdb({0x08, 0, 0, 0, 1, 0}), 1), SenseKey::illegal_request, 0x20, 0x00);
  expect_sense(run(test::cdb({0x00, 0, 0, 0, 1, 0}), 1), SenseKey::illegal_request, 0x24, 0x00);
}

TEST_F(ChangerTest, InquiryAndModePages) {
  auto inq = run(scsi::inquiry());
  ASSERT_EQ(inq.status, scsi::Status::good);
  ASSERT_GE(inq.data_in.size(), 36u);
  EXPECT_EQ(std::to_integer<int>(inq.data_in[0]), 0x08);
  auto vpd = run(scsi::inquiry_vpd(0x00, 255));
  ASSERT_EQ(vpd.status, scsi::Status::good);
  EXPECT_EQ(std::to_integer<int>(vpd.data_in[3]), 3);  // pages 00, 80, 83
  auto serial = run(scsi::inquiry_vpd(0x80, 255));
  ASSERT_EQ(serial.status, scsi::Status::good);
  EXPECT_EQ(run(scsi::inquiry_vpd(0x83, 255)).status, scsi::Status::good);
  expect_sense(run(scsi::inquiry_vpd(0xb0, 255)), SenseKey::illegal_request, 0x24, 0x00);
  // CMDDT (byte 1 bit 1, obsolete in SPC-4) is refused, as the drive refuses it.
  expect_sense(run(test::cdb({0x12, 0x02, 0, 0, 36, 0})), SenseKey::illegal_request, 0x24, 0x00);
  clear_ua();
  // MODE SENSE(6) page 1Dh: the element address assignment.
  auto ms = run(test::cdb({0x1a, 0x08, 0x1d, 0, 255, 0}));
  ASSERT_EQ(ms.status, scsi::Status::good);
  auto m = scsi::parse_mode_sense6(ms.data_in, scsi::PeripheralDeviceType::medium_changer);
  ASSERT_TRUE(m);
  const auto* p = m->find_page(0x1d);
  ASSERT_NE(p, nullptr);
  ASSERT_EQ(p->parameters.size(), 18u);
  const auto be16 = [&](std::size_t i) {
    return std::to_integer<int>(p->parameters[i]) << 8 | std::to_integer<int>(p->parameters[i + 1]);
  };
  EXPECT_EQ(be16(0), 0);  // transport
  EXPECT_EQ(be16(2), 1);
  EXPECT_EQ(be16(4), 1);  // storage
  EXPECT_EQ(be16(6), 4);
  EXPECT_EQ(be16(8), 5);  // import/export
  EXPECT_EQ(be16(10), 1);
  EXPECT_EQ(be16(12), 6);  // drives
  EXPECT_EQ(be16(14), 2);
  // MODE SENSE(10), all pages: 1Dh, 1Eh, 1Fh.
  auto all = run(test::cdb({0x5a, 0, 0x3f, 0, 0, 0, 0, 1, 0, 0}));
  ASSERT_EQ(all.status, scsi::Status::good);
  auto m10 = scsi::parse_mode_sense10(all.data_in, scsi::PeripheralDeviceType::medium_changer);
  ASSERT_TRUE(m10);
  ASSERT_EQ(m10->pages.size(), 3u);
  const auto* caps = m10->find_page(0x1f);
  ASSERT_NE(caps, nullptr);
  EXPECT_EQ(std::to_integer<int>(caps->parameters[0]), 0x0e);
  expect_sense(run(test::cdb({0x1a, 0, 0x0f, 0, 255, 0})), SenseKey::illegal_request, 0x24, 0x00);
  expect_sense(run(test::cdb({0x1a, 0, 0xdd, 0, 255, 0})), SenseKey::illegal_request, 0x39, 0x00);
}

TEST_F(ChangerTest, InventoryText) {
  ASSERT_EQ(changer->move_medium(0, 1, 6).sense, std::nullopt);
  ASSERT_TRUE(changer->import_medium(cartridge("CLN001")));
  const std::string text = changer->inventory_text();
  auto inv = Changer::parse_inventory(text);
  ASSERT_TRUE(inv) << text;
  EXPECT_TRUE(changer->same_layout(*inv));
  ASSERT_EQ(inv->placements.size(), 4u);
  EXPECT_EQ(inv->placements[0], (Placement{"UIS002L8", 2, std::nullopt, false}));
  EXPECT_EQ(inv->placements[2], (Placement{"CLN001", 5, std::nullopt, true}));
  EXPECT_EQ(inv->placements[3], (Placement{"UIS001L8", 6, 1, false}));
  EXPECT_FALSE(Changer::parse_inventory("junk\n"));
  EXPECT_FALSE(Changer::parse_inventory("uiscsi-changer-inventory 1\nlayout 4 1 2\nA 1\nA 2\n"));
  EXPECT_FALSE(Changer::parse_inventory("uiscsi-changer-inventory 1\nlayout 4 1 2\nA x\n"));
  EXPECT_FALSE(Changer::parse_inventory("uiscsi-changer-inventory 1\nA 1\n"));
  auto other = Changer::parse_inventory("uiscsi-changer-inventory 1\nlayout 9 1 2\n");
  ASSERT_TRUE(other);
  EXPECT_FALSE(changer->same_layout(*other));
}

}  // namespace
}  // namespace uiscsi::tapesim::test
