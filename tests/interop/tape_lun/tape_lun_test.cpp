// uiscsi-target's tape LUN (TapeLu over tapesim) driven by libuiscsi over loopback TCP: device
// type, unit attention, READ BLOCK LIMITS, variable-length records and a filemark written,
// rewound and read back, READ POSITION, and a cartridge image that survives a target restart.
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "interop/support.hpp"
#include "support/pattern.hpp"
#include "target/config_file.hpp"
#include "target/server.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/sense.hpp"
#include "uiscsi/session.hpp"

namespace uiscsi {
namespace {

constexpr const char* kTape = "iqn.2026-11.dev.uiscsi:tape";

using uiscsi::testing::pattern;

const std::vector<std::size_t> kSizes = {1, 512, 1000, 65536, 300000};

struct Running {
  std::unique_ptr<target::TargetServer> server;
  std::string url;
};

// A target with LUN 0 a RAM disk and LUN 1 a tape (in memory, or in `image`).
Running start_target(const std::string& image = {}) {
  target::ServerConfig c;
  c.portals = {{"127.0.0.1", 0}};
  target::TargetEntry t;
  t.name = kTape;
  target::LunConfig disk;
  disk.size_bytes = 8ull << 20;
  t.luns.push_back(disk);
  target::LunConfig tape;
  tape.number = 1;
  tape.kind = target::LunConfig::Kind::tape;
  tape.size_bytes = 32ull << 20;
  tape.image = image;
  t.luns.push_back(tape);
  c.targets.push_back(t);
  auto s = target::TargetServer::start(c);
  EXPECT_TRUE(s) << s.error().message();
  if (!s) return {};
  Running r;
  r.server = std::move(*s);
  r.url = "iscsi://" + r.server->endpoints()[0].to_string() + "/" + kTape + "/1";
  return r;
}

Lun tape_lun() {
  return *Lun::from_number(1);
}

SessionOptions options() {
  SessionOptions o;
  o.login_timeout = std::chrono::seconds(5);
  return o;
}

Result<Completion> run(Session& s, Command c) {
  return s.run(tape_lun(), std::move(c));
}

void clear_ua(Session& s) {
  auto first = run(s, Command(scsi::test_unit_ready()));
  ASSERT_TRUE(first) << first.error().message();
  ASSERT_FALSE(first->ok()) << "no power-on unit attention";
  auto sense = first->sense();
  ASSERT_TRUE(sense);
  EXPECT_EQ(sense->sense_key, scsi::SenseKey::unit_attention);
  EXPECT_EQ(sense->asc, 0x29);
  auto second = run(s, Command(scsi::test_unit_ready()));
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_TRUE(second->ok()) << second->describe();
}

void write_records(Session& s) {
  for (std::size_t i = 0; i < kSizes.size(); ++i) {
    const auto data = pattern(kSizes[i], static_cast<unsigned>(i));
    auto w = run(
        s, Command(*scsi::write6_tape(static_cast<std::uint32_t>(kSizes[i]), 0)).write_from(data));
    ASSERT_TRUE(w && w->ok()) << (w ? w->describe() : w.error().message());
  }
  auto fm = run(s, Command(*scsi::write_filemarks6(1)));
  ASSERT_TRUE(fm && fm->ok()) << (fm ? fm->describe() : fm.error().message());
}

std::uint64_t position(Session& s) {
  auto p = run(s, Command(scsi::read_position()));
  EXPECT_TRUE(p && p->ok()) << (p ? p->describe() : p.error().message());
  if (!p || !p->ok()) return ~0ull;
  auto pos = scsi::parse_read_position(p->data(), scsi::ReadPositionForm::short_form);
  EXPECT_TRUE(pos);
  return pos ? pos->first_block : ~0ull;
}

void read_back(Session& s) {
  auto rw = run(s, Command(scsi::rewind()));
  ASSERT_TRUE(rw && rw->ok()) << (rw ? rw->describe() : rw.error().message());
  EXPECT_EQ(position(s), 0u);
  for (std::size_t i = 0; i < kSizes.size(); ++i) {
    std::vector<std::byte> back(kSizes[i]);
    auto r = run(
        s, Command(*scsi::read6_tape(static_cast<std::uint32_t>(kSizes[i]), 0)).read_into(back));
    ASSERT_TRUE(r && r->ok()) << (r ? r->describe() : r.error().message());
    EXPECT_EQ(r->bytes_received(), kSizes[i]);
    EXPECT_TRUE(back == pattern(kSizes[i], static_cast<unsigned>(i))) << "record " << i;
    EXPECT_EQ(position(s), i + 1);
  }
  // The filemark: CHECK CONDITION, NO SENSE with FILEMARK, nothing transferred.
  std::vector<std::byte> buf(4096);
  auto fm = run(s, Command(*scsi::read6_tape(4096, 0)).read_into(buf));
  ASSERT_TRUE(fm) << fm.error().message();
  EXPECT_EQ(fm->status(), scsi::Status::check_condition);
  auto sense = fm->sense();
  ASSERT_TRUE(sense);
  EXPECT_EQ(sense->sense_key, scsi::SenseKey::no_sense);
  EXPECT_TRUE(sense->filemark);
  EXPECT_TRUE(sense->information_valid);
  EXPECT_EQ(sense->information, 4096u);  // residue: nothing was read
  // Past the filemark: the next read meets end of data (BLANK CHECK).
  EXPECT_EQ(position(s), kSizes.size() + 1);
  auto eod = run(s, Command(*scsi::read6_tape(4096, 0)).read_into(buf));
  ASSERT_TRUE(eod);
  auto eod_sense = eod->sense();
  ASSERT_TRUE(eod_sense);
  EXPECT_EQ(eod_sense->sense_key, scsi::SenseKey::blank_check);
}

TEST(TapeLun, InquiryAndBlockLimits) {
  auto t = start_target();
  ASSERT_TRUE(t.server);
  auto s = Session::dial(t.url, options());
  ASSERT_TRUE(s) << s.error().message();
  auto inq = run(*s, Command(scsi::inquiry()));
  ASSERT_TRUE(inq && inq->ok()) << (inq ? inq->describe() : inq.error().message());
  ASSERT_GE(inq->data().size(), 36u);
  EXPECT_EQ(std::to_integer<int>(inq->data()[0]) & 0x1f, 0x01);  // sequential-access
  EXPECT_NE(std::to_integer<int>(inq->data()[1]) & 0x80, 0);     // RMB: removable medium
  // LUN 0 stays a disk.
  auto disk_inq = s->run(Lun(), Command(scsi::inquiry()));
  ASSERT_TRUE(disk_inq && disk_inq->ok());
  EXPECT_EQ(std::to_integer<int>(disk_inq->data()[0]) & 0x1f, 0x00);

  clear_ua(*s);
  auto bl = run(*s, Command(scsi::read_block_limits()));
  ASSERT_TRUE(bl && bl->ok()) << (bl ? bl->describe() : bl.error().message());
  auto limits = scsi::parse_read_block_limits(bl->data());
  ASSERT_TRUE(limits);
  EXPECT_EQ(limits->min_block_length, 1u);
  EXPECT_GE(limits->max_block_length, 300000u);
  EXPECT_TRUE(s->logout());
}

TEST(TapeLun, RecordsFilemarkAndPosition) {
  auto t = start_target();
  ASSERT_TRUE(t.server);
  auto s = Session::dial(t.url, options());
  ASSERT_TRUE(s) << s.error().message();
  clear_ua(*s);
  EXPECT_EQ(position(*s), 0u);
  write_records(*s);
  EXPECT_EQ(position(*s), kSizes.size() + 1);
  read_back(*s);

  // A second session is a new I_T nexus: it gets its own power-on unit attention.
  auto s2 = Session::dial(t.url, options());
  ASSERT_TRUE(s2) << s2.error().message();
  clear_ua(*s2);
  auto tur = run(*s, Command(scsi::test_unit_ready()));
  ASSERT_TRUE(tur && tur->ok()) << (tur ? tur->describe() : tur.error().message());
}

TEST(TapeLun, LunResetReachesTheDrive) {
  auto t = start_target();
  ASSERT_TRUE(t.server);
  auto s = Session::dial(t.url, options());
  ASSERT_TRUE(s) << s.error().message();
  clear_ua(*s);
  write_records(*s);
  auto reset = s->lun_reset(tape_lun());
  ASSERT_TRUE(reset) << reset.error().message();
  EXPECT_EQ(*reset, TmfResponse::function_complete);
  // 29/03 BUS DEVICE RESET FUNCTION OCCURRED, then ready; the position is kept.
  auto ua = run(*s, Command(scsi::test_unit_ready()));
  ASSERT_TRUE(ua);
  auto sense = ua->sense();
  ASSERT_TRUE(sense);
  EXPECT_EQ(sense->sense_key, scsi::SenseKey::unit_attention);
  EXPECT_EQ(sense->asc, 0x29);
  EXPECT_EQ(sense->ascq, 0x03);
  EXPECT_EQ(position(*s), kSizes.size() + 1);
}

TEST(TapeLun, ConfigFile) {
  std::string why;
  auto c = target::parse_config_text(R"(
[[target]]
name = "iqn.2026-11.dev.uiscsi:t"
[[target.lun]]
type = "ram"
size = "8M"
[[target.lun]]
type = "tape"
size = "1G"
image = "/tmp/x.img"
lto_generation = 7
)",
                                     why);
  ASSERT_TRUE(c) << why;
  ASSERT_EQ(c->targets.size(), 1u);
  ASSERT_EQ(c->targets[0].luns.size(), 2u);
  const auto& tape = c->targets[0].luns[1];
  EXPECT_EQ(tape.number, 1u);
  EXPECT_EQ(tape.kind, target::LunConfig::Kind::tape);
  EXPECT_EQ(tape.size_bytes, 1ull << 30);
  EXPECT_EQ(tape.image, "/tmp/x.img");
  EXPECT_EQ(tape.lto_generation, 7);
  auto bad = target::parse_config_text(R"(
[[target]]
name = "iqn.2026-11.dev.uiscsi:t"
[[target.lun]]
type = "tape"
lto_generation = 4
)",
                                       why);
  EXPECT_FALSE(bad);
}

TEST(TapeLun, ImageSurvivesRestart) {
  const auto dir = testing::temp_dir("tape-lun");
  ASSERT_FALSE(dir.empty());
  const std::string image = (dir / "cartridge.img").string();
  {
    auto t = start_target(image);
    ASSERT_TRUE(t.server);
    auto s = Session::dial(t.url, options());
    ASSERT_TRUE(s) << s.error().message();
    clear_ua(*s);
    write_records(*s);
    EXPECT_TRUE(s->logout());
    t.server->stop();
  }
  ASSERT_TRUE(std::filesystem::exists(image));
  {
    auto t = start_target(image);
    ASSERT_TRUE(t.server);
    auto s = Session::dial(t.url, options());
    ASSERT_TRUE(s) << s.error().message();
    clear_ua(*s);
    read_back(*s);
    EXPECT_TRUE(s->logout());
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace uiscsi
