// uiscsi-target's media changer LUN (ChangerLu over tapesim::Changer) and its tape drive LUN,
// driven by libuiscsi over loopback TCP: READ ELEMENT STATUS with barcodes, MOVE MEDIUM into
// the drive, WRITE / READ on the tape LUN, cartridges swapped and their data found again, the
// error sense of a bad move, and an image directory that keeps cartridges and the element map
// across a target restart.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "interop/support.hpp"
#include "interop/tape_library.hpp"
#include "support/pattern.hpp"
#include "target/config_file.hpp"
#include "target/server.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/sense.hpp"
#include "uiscsi/session.hpp"

namespace uiscsi {
namespace {

constexpr const char* kName = "iqn.2026-11.dev.uiscsi:library";

using ::uiscsi::testing::pattern;

struct Running {
  std::unique_ptr<target::TargetServer> server;
  std::string url;
};

// LUN 0 the tape drive, LUN 1 a changer with 4 slots of 32M cartridges (in memory or `dir`).
Running start_target(const std::string& dir = {}) {
  target::ServerConfig c;
  c.portals = {{"127.0.0.1", 0}};
  c.targets.push_back(testing::tape_library(kName, 4, 32ull << 20, dir));
  auto s = target::TargetServer::start(c);
  EXPECT_TRUE(s) << s.error().message();
  if (!s) return {};
  Running r;
  r.server = std::move(*s);
  r.url = "iscsi://" + r.server->endpoints()[0].to_string() + "/" + kName + "/1";
  return r;
}

const Lun kTape = *Lun::from_number(0);
const Lun kChanger = *Lun::from_number(1);

SessionOptions options() {
  SessionOptions o;
  o.login_timeout = std::chrono::seconds(5);
  return o;
}

// The sense of a command that must fail, or nothing.
std::optional<scsi::SenseData> sense_of(Session& s, Lun lun, Command c) {
  auto r = s.run(lun, std::move(c));
  EXPECT_TRUE(r) << r.error().message();
  if (!r || r->ok()) return std::nullopt;
  auto sense = r->sense();
  return sense ? std::optional<scsi::SenseData>(*sense) : std::nullopt;
}

void expect_ok(Session& s, Lun lun, Command c) {
  auto r = s.run(lun, std::move(c));
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->ok()) << r->describe();
}

void expect_sense(Session& s, Lun lun, Command c, scsi::SenseKey key, int asc, int ascq) {
  auto sense = sense_of(s, lun, std::move(c));
  ASSERT_TRUE(sense) << "command succeeded";
  EXPECT_EQ(sense->sense_key, key);
  EXPECT_EQ(sense->asc, asc);
  EXPECT_EQ(sense->ascq, ascq);
}

scsi::ElementStatusData element_status(Session& s) {
  scsi::ReadElementStatusOptions o;
  o.voltag = true;
  auto spec = scsi::read_element_status(scsi::ElementType::all, 0, 0xffff, 65536, o);
  auto r = s.run(kChanger, Command(*spec));
  EXPECT_TRUE(r && r->ok()) << (r ? r->describe() : r.error().message());
  if (!r || !r->ok()) return {};
  auto d = scsi::parse_read_element_status(r->data());
  EXPECT_TRUE(d);
  return d ? *d : scsi::ElementStatusData{};
}

const scsi::ElementStatus* find(const scsi::ElementStatusData& d, scsi::ElementType type,
                                std::size_t nth = 0) {
  for (const auto& e : d.elements) {
    if (e.type == type && nth-- == 0) return &e;
  }
  return nullptr;
}

void move(Session& s, std::uint16_t from, std::uint16_t to) {
  expect_ok(s, kChanger, Command(scsi::move_medium(0, from, to)));
}

void write_file(Session& s, unsigned seed) {
  for (std::size_t i = 0; i < 3; ++i) {
    const auto data = pattern(1000 + i * 4096, seed + static_cast<unsigned>(i));
    auto w = s.run(
        kTape,
        Command(*scsi::write6_tape(static_cast<std::uint32_t>(data.size()), 0)).write_from(data));
    ASSERT_TRUE(w && w->ok()) << (w ? w->describe() : w.error().message());
  }
  expect_ok(s, kTape, Command(*scsi::write_filemarks6(1)));
}

void read_file(Session& s, unsigned seed) {
  expect_ok(s, kTape, Command(scsi::rewind()));
  for (std::size_t i = 0; i < 3; ++i) {
    std::vector<std::byte> back(1000 + i * 4096);
    auto r = s.run(
        kTape,
        Command(*scsi::read6_tape(static_cast<std::uint32_t>(back.size()), 0)).read_into(back));
    ASSERT_TRUE(r && r->ok()) << (r ? r->describe() : r.error().message());
    EXPECT_TRUE(back == pattern(back.size(), seed + static_cast<unsigned>(i))) << "record " << i;
  }
}

// After a cartridge went into the drive: 28/00 once, then ready.
void expect_loaded(Session& s) {
  expect_sense(s, kTape, Command(scsi::test_unit_ready()), scsi::SenseKey::unit_attention, 0x28,
               0x00);
  expect_ok(s, kTape, Command(scsi::test_unit_ready()));
}

void clear_power_on(Session& s, Lun lun) {
  expect_sense(s, lun, Command(scsi::test_unit_ready()), scsi::SenseKey::unit_attention, 0x29,
               0x00);
}

TEST(ChangerLun, MoveWriteSwapAndReadBack) {
  auto t = start_target();
  ASSERT_TRUE(t.server);
  auto s = Session::dial(t.url, options());
  ASSERT_TRUE(s) << s.error().message();
  auto inq = s->run(kChanger, Command(scsi::inquiry()));
  ASSERT_TRUE(inq && inq->ok());
  EXPECT_EQ(std::to_integer<int>(inq->data()[0]) & 0x1f, 0x08);
  clear_power_on(*s, kChanger);
  clear_power_on(*s, kTape);
  // The drive starts empty: the cartridges are in the slots.
  expect_sense(*s, kTape, Command(scsi::test_unit_ready()), scsi::SenseKey::not_ready, 0x3a, 0);

  const auto d = element_status(*s);
  EXPECT_EQ(d.elements_available, 1 + 4 + 1 + 1);
  const auto* slot1 = find(d, scsi::ElementType::storage, 0);
  const auto* slot2 = find(d, scsi::ElementType::storage, 1);
  const auto* slot4 = find(d, scsi::ElementType::storage, 3);
  const auto* drive = find(d, scsi::ElementType::data_transfer);
  ASSERT_TRUE(slot1 && slot2 && slot4 && drive);
  EXPECT_TRUE(slot4->full);
  EXPECT_EQ(slot1->primary_volume_tag, "UIS001L9");
  EXPECT_EQ(slot2->primary_volume_tag, "UIS002L9");
  EXPECT_FALSE(drive->full);
  const std::uint16_t a1 = slot1->address, a2 = slot2->address, dt = drive->address;

  move(*s, a1, dt);
  expect_loaded(*s);
  write_file(*s, 10);
  // Back to its slot while loaded (the changer unloads it); the drive is empty again.
  move(*s, dt, a1);
  expect_sense(*s, kTape, Command(scsi::test_unit_ready()), scsi::SenseKey::not_ready, 0x3a, 0);
  // Another cartridge: blank, then its own data.
  move(*s, a2, dt);
  expect_loaded(*s);
  write_file(*s, 20);
  read_file(*s, 20);
  // `mt offline` first, then the move, as mtx users do.
  expect_ok(*s, kTape, Command(scsi::load_unload(false)));
  move(*s, dt, a2);
  move(*s, a1, dt);
  expect_loaded(*s);
  read_file(*s, 10);
  const auto after = element_status(*s);
  const auto* full_drive = find(after, scsi::ElementType::data_transfer);
  ASSERT_TRUE(full_drive);
  EXPECT_TRUE(full_drive->full);
  EXPECT_EQ(full_drive->primary_volume_tag, "UIS001L9");
  EXPECT_TRUE(full_drive->svalid);
  EXPECT_EQ(full_drive->source_address, a1);

  // Errors over the wire: empty source, full destination, bad address, prevented removal.
  expect_sense(*s, kChanger, Command(scsi::move_medium(0, a1, a2)), scsi::SenseKey::illegal_request,
               0x3b, 0x0e);
  expect_sense(*s, kChanger, Command(scsi::move_medium(0, a2, dt)), scsi::SenseKey::illegal_request,
               0x3b, 0x0d);
  expect_sense(*s, kChanger, Command(scsi::move_medium(0, a2, 999)),
               scsi::SenseKey::illegal_request, 0x21, 0x01);
  expect_ok(*s, kTape, Command(scsi::prevent_allow_medium_removal(true)));
  expect_sense(*s, kChanger, Command(scsi::move_medium(0, dt, a1)), scsi::SenseKey::illegal_request,
               0x53, 0x03);
  expect_ok(*s, kTape, Command(scsi::prevent_allow_medium_removal(false)));
  move(*s, dt, a1);
  EXPECT_TRUE(s->logout());
}

TEST(ChangerLun, ImageDirectoryKeepsCartridgesAndMap) {
  const auto dir = testing::temp_dir("changer-lun");
  ASSERT_FALSE(dir.empty());
  const std::string lib = (dir / "lib").string();
  std::uint16_t a1 = 0, a3 = 0, dt = 0;
  {
    auto t = start_target(lib);
    ASSERT_TRUE(t.server);
    auto s = Session::dial(t.url, options());
    ASSERT_TRUE(s) << s.error().message();
    clear_power_on(*s, kChanger);
    clear_power_on(*s, kTape);
    const auto d = element_status(*s);
    a1 = find(d, scsi::ElementType::storage, 0)->address;
    a3 = find(d, scsi::ElementType::storage, 2)->address;
    dt = find(d, scsi::ElementType::data_transfer)->address;
    move(*s, a1, dt);
    expect_loaded(*s);
    write_file(*s, 30);
    EXPECT_TRUE(s->logout());
    t.server->stop();
  }
  EXPECT_TRUE(std::filesystem::exists(lib + "/UIS001L9.img"));
  EXPECT_TRUE(std::filesystem::exists(lib + "/UIS004L9.img"));
  EXPECT_TRUE(std::filesystem::exists(lib + "/changer-inventory"));
  {
    // The cartridge is still in the drive, loaded at power on, with its data.
    auto t = start_target(lib);
    ASSERT_TRUE(t.server);
    auto s = Session::dial(t.url, options());
    ASSERT_TRUE(s) << s.error().message();
    clear_power_on(*s, kChanger);
    clear_power_on(*s, kTape);
    const auto d = element_status(*s);
    const auto* drive = find(d, scsi::ElementType::data_transfer);
    ASSERT_TRUE(drive);
    EXPECT_TRUE(drive->full);
    EXPECT_EQ(drive->primary_volume_tag, "UIS001L9");
    EXPECT_EQ(drive->source_address, a1);
    EXPECT_FALSE(find(d, scsi::ElementType::storage, 0)->full);
    read_file(*s, 30);
    move(*s, dt, a1);
    move(*s, a3, dt);  // UIS003L9 into the drive; UIS001L9 back in slot 1
    EXPECT_TRUE(s->logout());
    t.server->stop();
  }
  {
    auto t = start_target(lib);
    ASSERT_TRUE(t.server);
    auto s = Session::dial(t.url, options());
    ASSERT_TRUE(s) << s.error().message();
    clear_power_on(*s, kChanger);
    clear_power_on(*s, kTape);
    const auto d = element_status(*s);
    EXPECT_EQ(find(d, scsi::ElementType::data_transfer)->primary_volume_tag, "UIS003L9");
    EXPECT_EQ(find(d, scsi::ElementType::storage, 0)->primary_volume_tag, "UIS001L9");
    EXPECT_FALSE(find(d, scsi::ElementType::storage, 2)->full);
    move(*s, dt, a3);
    move(*s, a1, dt);
    expect_loaded(*s);
    read_file(*s, 30);
    EXPECT_TRUE(s->logout());
  }
  std::filesystem::remove_all(dir);
}

TEST(ChangerLun, ConfigFile) {
  std::string why;
  auto c = target::parse_config_text(R"(
[[target]]
name = "iqn.2026-11.dev.uiscsi:t"
[[target.lun]]
type = "tape"
[[target.lun]]
type = "changer"
slots = 12
image = "/tmp/lib0"
drives = [0]
lto_generation = 8
)",
                                     why);
  ASSERT_TRUE(c) << why;
  const auto& ch = c->targets[0].luns[1];
  EXPECT_EQ(ch.kind, target::LunConfig::Kind::changer);
  EXPECT_EQ(ch.slots, 12u);
  EXPECT_EQ(ch.image, "/tmp/lib0");
  EXPECT_EQ(ch.drives, std::vector<std::uint64_t>{0});
  EXPECT_EQ(ch.size_bytes, 1ull << 30);  // the default cartridge size
  EXPECT_EQ(ch.lto_generation, 8);
  EXPECT_FALSE(target::parse_config_text(R"(
[[target]]
name = "iqn.2026-11.dev.uiscsi:t"
[[target.lun]]
type = "ram"
drives = [0]
)",
                                         why));
  EXPECT_FALSE(target::parse_config_text(R"(
[[target]]
name = "iqn.2026-11.dev.uiscsi:t"
[[target.lun]]
type = "changer"
slots = 0
)",
                                         why));
}

TEST(ChangerLun, ChangerWithoutDriveIsRefused) {
  target::ServerConfig c;
  c.portals = {{"127.0.0.1", 0}};
  target::TargetEntry t;
  t.name = kName;
  target::LunConfig changer;
  changer.kind = target::LunConfig::Kind::changer;
  changer.drives = {3};  // no such tape LUN
  t.luns.push_back(changer);
  c.targets.push_back(t);
  EXPECT_FALSE(target::TargetServer::start(c));
}

}  // namespace
}  // namespace uiscsi
