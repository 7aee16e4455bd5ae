// uiscsi::tape::Changer and uiscsi::tape::Drive together over loopback TCP against
// uiscsi-target's tape library (the configuration `uiscsi-target --tape 1G --changer 8`
// builds: LUN 0 the drive, LUN 1 a changer with 8 full slots, one import/export element and
// that drive): load a cartridge, write and read it through the drive, unload, check the element
// map, and that the drive sees the very cartridge the changer says it holds.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "interop/tape_library.hpp"
#include "support/pattern.hpp"
#include "target/server.hpp"
#include "uiscsi/session.hpp"
#include "uiscsi/tape.hpp"
#include "uiscsi/tape/changer.hpp"

namespace uiscsi::tape {
namespace {

constexpr const char* kName = "iqn.2026-11.dev.uiscsi:changer-driver";
const Lun kDriveLun = *Lun::from_number(0);
const Lun kChangerLun = *Lun::from_number(1);

using ::uiscsi::testing::pattern;

class ChangerDriver : public ::testing::Test {
 protected:
  std::unique_ptr<target::TargetServer> server;
  std::optional<Session> session;

  void SetUp() override {
    target::ServerConfig c;
    c.portals = {{"127.0.0.1", 0}};
    c.targets.push_back(testing::tape_library(kName, 8, 1ull << 30));
    auto s = target::TargetServer::start(c);
    ASSERT_TRUE(s) << s.error().message();
    server = std::move(*s);
    SessionOptions o;
    o.login_timeout = std::chrono::seconds(5);
    auto d = Session::dial(
        "iscsi://" + server->endpoints()[0].to_string() + "/" + std::string(kName), o);
    ASSERT_TRUE(d) << d.error().message();
    session.emplace(std::move(*d));
  }

  Result<Changer> open_changer(Lun lun = kChangerLun) {
    ChangerOptions o;
    o.ready_interval = std::chrono::milliseconds(10);
    o.command_timeout = std::chrono::seconds(30);
    return Changer::open(*session, lun, o);
  }
  Result<Drive> open_drive() {
    DriveOptions o;
    o.ready_interval = std::chrono::milliseconds(10);
    o.ready_timeout = std::chrono::seconds(10);
    o.block_size = 0;
    return Drive::open(*session, kDriveLun, o);
  }
};

std::string why(const Changer& c) {
  return c.last_error() ? c.last_error()->message() : "(no last_error)";
}
std::string why(const Drive& d) {
  return d.last_error() ? d.last_error()->message() : "(no last_error)";
}

TEST_F(ChangerDriver, StatusShowsEightFullSlotsAndAnEmptyDrive) {
  auto c = open_changer();
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->element_map().storage.count, 8);
  EXPECT_EQ(c->element_map().data_transfer.count, 1);
  EXPECT_EQ(c->element_map().import_export.count, 1);
  auto st = c->status();
  ASSERT_TRUE(st) << why(*c);
  EXPECT_TRUE(st->barcodes);
  ASSERT_EQ(st->slots.size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_TRUE(st->slots[i].full);
    EXPECT_EQ(st->slots[i].barcode, "UIS00" + std::to_string(i + 1) + "L9");
  }
  ASSERT_EQ(st->drives.size(), 1u);
  EXPECT_FALSE(st->drives[0].full);
  ASSERT_EQ(st->import_export.size(), 1u);
  EXPECT_FALSE(st->import_export[0].full);
}

TEST_F(ChangerDriver, LoadWriteReadUnload) {
  auto c = open_changer();
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_TRUE(c->load(2, 0)) << why(*c);
  auto st = c->status();
  ASSERT_TRUE(st) << why(*c);
  EXPECT_FALSE(st->slots[2].full);
  EXPECT_TRUE(st->drives[0].full);
  EXPECT_EQ(st->drives[0].barcode, "UIS003L9");
  EXPECT_EQ(st->drives[0].source, std::optional<std::uint16_t>(st->slots[2].address));

  const auto record = pattern(70000, 3);
  {
    auto d = open_drive();
    ASSERT_TRUE(d) << d.error().message();
    ASSERT_TRUE(d->write(record)) << why(*d);
    ASSERT_TRUE(d->write_filemarks(1)) << why(*d);
    ASSERT_TRUE(d->rewind()) << why(*d);
    std::vector<std::byte> buf(1 << 17);
    auto r = d->read(buf);
    ASSERT_TRUE(r) << why(*d);
    ASSERT_EQ(r->bytes, record.size());
    EXPECT_TRUE(std::equal(record.begin(), record.end(), buf.begin()));
  }

  auto back = c->unload(0);
  ASSERT_TRUE(back) << why(*c);
  EXPECT_EQ(*back, 2u);
  st = c->status();
  ASSERT_TRUE(st) << why(*c);
  EXPECT_FALSE(st->drives[0].full);
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_TRUE(st->slots[i].full) << i;
    EXPECT_EQ(st->slots[i].barcode, "UIS00" + std::to_string(i + 1) + "L9");
  }
}

// The drive reads what was written on the cartridge the changer reports in it: cartridge 1
// gets a record, cartridge 2 is blank, cartridge 1 again has its record.
TEST_F(ChangerDriver, TheDriveSeesTheCartridgeTheChangerLoaded) {
  auto c = open_changer();
  ASSERT_TRUE(c) << c.error().message();
  const auto record = pattern(5000, 11);
  std::vector<std::byte> buf(1 << 16);

  ASSERT_TRUE(c->load(0)) << why(*c);
  {
    auto d = open_drive();
    ASSERT_TRUE(d) << d.error().message();
    ASSERT_TRUE(d->write(record)) << why(*d);
    ASSERT_TRUE(d->write_filemarks(1)) << why(*d);
  }
  ASSERT_TRUE(c->unload(0)) << why(*c);

  ASSERT_TRUE(c->load(1)) << why(*c);
  auto st = c->status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->drives[0].barcode, "UIS002L9");
  {
    auto d = open_drive();
    ASSERT_TRUE(d) << d.error().message();
    auto r = d->read(buf);
    ASSERT_TRUE(r) << why(*d);
    EXPECT_EQ(r->status, ReadStatus::end_of_data) << "cartridge 2 is not blank";
  }
  ASSERT_TRUE(c->unload(0)) << why(*c);

  ASSERT_TRUE(c->load(0)) << why(*c);
  st = c->status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->drives[0].barcode, "UIS001L9");
  {
    auto d = open_drive();
    ASSERT_TRUE(d) << d.error().message();
    ASSERT_TRUE(d->rewind()) << why(*d);
    auto r = d->read(buf);
    ASSERT_TRUE(r) << why(*d);
    ASSERT_EQ(r->bytes, record.size());
    EXPECT_TRUE(std::equal(record.begin(), record.end(), buf.begin()));
  }
}

TEST_F(ChangerDriver, ErrorsComeBackWithTheirSense) {
  auto c = open_changer();
  ASSERT_TRUE(c) << c.error().message();
  ASSERT_TRUE(c->load(0)) << why(*c);
  auto empty = c->load(0);  // slot 1 is empty now (and the drive full)
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error(), tape_errc::source_empty);
  ASSERT_TRUE(c->last_error() && c->last_error()->sense);
  auto full = c->transfer(1, 2);
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error(), tape_errc::destination_full);
  auto bad = c->move(0x7777, c->element_map().storage.first);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), tape_errc::invalid_element);
  ASSERT_TRUE(c->inventory()) << why(*c);
  ASSERT_TRUE(c->position_to(c->element_map().storage.first)) << why(*c);
}

TEST_F(ChangerDriver, TheTapeLunIsNotAChanger) {
  auto c = open_changer(kDriveLun);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), tape_errc::not_a_changer);
}

}  // namespace
}  // namespace uiscsi::tape
