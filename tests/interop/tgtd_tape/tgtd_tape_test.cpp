// uiscsi::tape::Drive against tgtd's SSC tape emulation (Debian's tgt 1.0.85), a second,
// independent implementation besides our own target's tape LUN (tests/interop/tape_driver),
// and tgtd's SMC media changer emulation driven with raw READ ELEMENT STATUS / MOVE MEDIUM.
// The whole suite is skipped when tgt (tgtd, tgtadm, tgtimg) is not installed.
//
// What tgtd lacks or gets wrong (../shared/reference/peers.md, and seen here), and what is
// therefore checked differently or not at all against it:
//   * READ POSITION is GOOD but all zero (block 0, file 0, BOP clear at every position).
//     Position::block is asserted to be tgtd's constant 0; where the tape really is after
//     SPACE is checked by reading the next object and comparing it byte for byte.
//   * LOCATE(10/16) is not implemented: locate() is asserted to fail with ILLEGAL REQUEST 20/00.
//     With read-ahead the driver therefore undoes prefetched READs with SPACE back instead
//     (asserted in ReadAheadChangesNothingVisible).
//   * ERASE, LOG SENSE (TapeAlert), REPORT DENSITY SUPPORT are not implemented: not used.
//   * A READ meeting a shorter record sends min(record, requested - record) bytes of Data-In
//     (ShortReadDataInTruncatedByTgtd); records are read with buffers > 2x the record (kBig).
//     A READ meeting a longer record sends no data.
//   * SPACE over blocks does not stop at a filemark (counts it as a block); SPACE back over
//     filemarks goes one object too far; SPACE back into BOP returns GOOD. Asserted as tgtd
//     does it, with the SSC-3 result named next to each.
//   * At end of data READ gives BLANK CHECK 00/00 (SSC-3: 00/05); still end_of_data.
//   * Task attributes are ignored, so write-behind (pipelined ORDERED WRITEs) reorders
//     records: skipped (WriteBehind).
//   * Changer: READ ELEMENT STATUS for all element types is malformed and every reply is
//     8 bytes short; elements are read one type at a time and the reply padded.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "interop/support.hpp"
#include "interop/tgtd_suite.hpp"
#include "interop/tgtd_tape/tgtd_library.hpp"
#include "support/pattern.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/sense.hpp"
#include "uiscsi/session.hpp"
#include "uiscsi/tape.hpp"

namespace uiscsi::tape {
namespace {

using uiscsi::testing::pattern;
using uiscsi::testing::run;

const Lun kLun1 = *Lun::from_number(1);
const Lun kLun2 = *Lun::from_number(2);

// Element addresses of the changer target (tid 9): drive 1, picker 2, slots 10 and 11.
constexpr std::uint16_t kDriveElement = 1;
constexpr std::uint16_t kPicker = 2;
constexpr std::uint16_t kSlot0 = 10;
constexpr std::uint16_t kSlot1 = 11;

class TgtdTape : public uiscsi::testing::TgtdSuite<TgtdTape> {
 protected:
  static inline bool changer_up = false;

  static std::string adm() {
    // tgtd-ctl.sh derives the control socket index from the port the same way.
    return "tgtadm -C " + std::to_string(port % 30000 + 1000) + " --lld iscsi ";
  }

  // The library target (tgtd_library.hpp): LUN 1 an empty drive, LUN 2 the changer.
  static bool make_changer() {
    uiscsi::testing::TgtdLibrary library;
    library.port = port;
    library.dir = dir;
    library.tid = 9;
    library.iqn = "iqn.2026-11.test:library";
    library.slots = 2;
    return library.build();
  }

  static void SetUpTestSuite() {
    if (!have_tgt(true) || !start("tgtd-tape")) return;
    up = add("tape", 1, "iqn.2026-11.test:tape1", 64) &&
         add("tape", 2, "iqn.2026-11.test:tape2", 64);
    changer_up = up && make_changer();
  }
  void SetUp() override {
    if (!have_tgt(true))
      GTEST_SKIP() << "tgt (tgtd, tgtadm, tgtimg) not installed (scripts/setup.sh installs it)";
    ASSERT_TRUE(up) << "tgtd did not start; log in " << dir;
  }

  std::optional<Session> dial(const std::string& target) const {
    SessionOptions o;
    o.connect_timeout = std::chrono::seconds(5);
    o.login_timeout = std::chrono::seconds(5);
    auto s = Session::dial(
        "iscsi://127.0.0.1:" + std::to_string(port) + "/iqn.2026-11.test:" + target + "/1", o);
    EXPECT_TRUE(s) << s.error().message();
    if (!s) return std::nullopt;
    return std::move(*s);
  }
};

// Variable mode: tgtd starts in it (block descriptor length 0), select it anyway.
Result<Drive> open(Session& s, Lun lun = kLun1, DriveOptions o = {}) {
  o.ready_interval = std::chrono::milliseconds(10);
  o.ready_timeout = std::chrono::milliseconds(10000);
  o.block_size = 0;
  o.command_timeout = std::chrono::milliseconds(10000);
  return Drive::open(s, lun, o);
}

std::string why(const Drive& d) {
  return d.last_error() ? d.last_error()->message() : std::string("(no last_error)");
}

// tgtd's READ POSITION is all zero: whatever the position, block 0 and file 0, BOP clear.
void expect_tgtd_position(Drive& d) {
  auto p = d.position();
  ASSERT_TRUE(p) << why(d);
  EXPECT_EQ(p->block, 0u) << "tgtd now reports READ POSITION: extend this test to check it";
  EXPECT_EQ(p->partition, 0u);
}

// Three files of records of mixed sizes (as in tape_driver_test.cpp), record n of the tape
// holding pattern(size, n). Objects: file 0 = 0..3, FM 4; file 1 = 5..6, FM 7; file 2 = 8..12,
// FM 13; EOD 14.
const std::vector<std::vector<std::size_t>> kFiles = {
    {1, 512, 65536, 300000}, {1000, 4096}, {262144, 7, 99999, 131072, 3}};

// tgtd bug (1.0.85): on a READ that meets a shorter record (ILI, INFORMATION = requested -
// record > 0) it sends min(record, requested - record) bytes of Data-In instead of the record.
// Reads that must return whole records therefore ask for more than twice the record
// (kBig >= 2 * 300000); ShortReadDataInTruncatedByTgtd shows the bug itself.
constexpr std::size_t kBig = 1 << 20;

// Record seeds by object number (filemarks have none).
std::optional<unsigned> seed_of(std::uint64_t object, std::size_t* size = nullptr) {
  std::uint64_t o = 0;
  unsigned seed = 0;
  for (const auto& f : kFiles) {
    for (std::size_t sz : f) {
      if (o++ == object) {
        if (size) *size = sz;
        return seed;
      }
      ++seed;
    }
    if (o++ == object) return std::nullopt;
  }
  return std::nullopt;
}

void write_files(Drive& d) {
  unsigned seed = 0;
  for (const auto& f : kFiles) {
    for (std::size_t size : f) {
      auto w = d.write(pattern(size, seed++));
      ASSERT_TRUE(w) << why(d);
      EXPECT_FALSE(w->early_warning);
    }
    auto fm = d.write_filemarks(1);
    ASSERT_TRUE(fm) << why(d);
    EXPECT_FALSE(fm->early_warning);
  }
  ASSERT_TRUE(d.flush()) << why(d);
}

// Reads the next object and checks it is `object` of the layout above, byte for byte.
void expect_next_is(Drive& d, std::uint64_t object) {
  std::vector<std::byte> buf(kBig);
  auto r = d.read(buf);
  ASSERT_TRUE(r) << why(d);
  std::size_t size = 0;
  const auto seed = seed_of(object, &size);
  if (!seed) {
    EXPECT_EQ(r->status, ReadStatus::filemark) << "object " << object << " is a filemark";
    EXPECT_EQ(r->bytes, 0u);
    return;
  }
  ASSERT_EQ(r->status, ReadStatus::short_record) << "object " << object;
  ASSERT_EQ(r->bytes, size) << "object " << object;
  EXPECT_EQ(r->residue, static_cast<std::int64_t>(kBig - size));
  EXPECT_TRUE(std::equal(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(size),
                         pattern(size, *seed).begin()))
      << "object " << object << " data differ";
}

TEST_F(TgtdTape, OpenReportsTapeAndBlockLimits) {
  auto s = dial("tape1");
  ASSERT_TRUE(s);
  // open() itself must get past tgtd's POWER ON unit attention (29/00).
  auto d = open(*s);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->info().inquiry.device_type, scsi::PeripheralDeviceType::sequential_access);
  // tgtd (usr/ssc.c): variable mode, granularity 9, records of 4 bytes to 1 MiB.
  EXPECT_EQ(d->info().limits.granularity, 9);
  EXPECT_EQ(d->info().limits.min_block_length, 4u);
  EXPECT_EQ(d->info().limits.max_block_length, 1048576u);
  EXPECT_EQ(d->medium().block_size, 0u);
  EXPECT_FALSE(d->medium().write_protected);
  ASSERT_TRUE(d->rewind()) << why(*d);
  expect_tgtd_position(*d);
}

TEST_F(TgtdTape, WriteFilesReadBackSpace) {
  auto s = dial("tape1");
  ASSERT_TRUE(s);
  auto d = open(*s);
  ASSERT_TRUE(d) << d.error().message();
  ASSERT_TRUE(d->rewind()) << why(*d);
  write_files(*d);
  expect_tgtd_position(*d);
  ASSERT_TRUE(d->rewind()) << why(*d);

  // Every record, filemark and the end of data, in order.
  for (std::uint64_t object = 0; object < 14; ++object)
    expect_next_is(*d, object);
  std::vector<std::byte> buf(kBig);
  auto eod = d->read(buf);
  ASSERT_TRUE(eod) << why(*d);
  EXPECT_EQ(eod->status, ReadStatus::end_of_data);  // tgtd: BLANK CHECK 00/00, EOM set
  EXPECT_EQ(eod->bytes, 0u);
  auto still = d->read(buf);  // end of data does not move the position
  ASSERT_TRUE(still) << why(*d);
  EXPECT_EQ(still->status, ReadStatus::end_of_data);
  expect_tgtd_position(*d);

  // A record longer than the buffer: long_record, residue requested - record < 0. SSC-3 wants
  // the first 1000 bytes transferred; tgtd 1.0.85 sends none (same Data-In bug as above), so
  // only what did arrive is compared.
  ASSERT_TRUE(d->rewind());
  ASSERT_TRUE(d->space(SpaceUnit::blocks, 2)) << why(*d);
  std::vector<std::byte> small(1000);
  auto lng = d->read(small);
  ASSERT_TRUE(lng) << why(*d);
  EXPECT_EQ(lng->status, ReadStatus::long_record);
  EXPECT_EQ(lng->residue, 1000 - 65536);
  ASSERT_LE(lng->bytes, small.size());
  EXPECT_TRUE(std::equal(small.begin(), small.begin() + static_cast<std::ptrdiff_t>(lng->bytes),
                         pattern(65536, 2).begin()));
  expect_next_is(*d, 3);  // the long record was passed

  // SPACE, each checked by what the next read returns (READ POSITION cannot tell).
  ASSERT_TRUE(d->rewind());
  ASSERT_TRUE(d->space(SpaceUnit::filemarks, 2)) << why(*d);  // after FM 7
  expect_next_is(*d, 8);
  ASSERT_TRUE(d->space(SpaceUnit::blocks, 2)) << why(*d);  // 9 -> 11
  expect_next_is(*d, 11);
  ASSERT_TRUE(d->space(SpaceUnit::blocks, -3)) << why(*d);  // 12 -> 9
  expect_next_is(*d, 9);
  ASSERT_TRUE(d->space(SpaceUnit::end_of_data, 0)) << why(*d);
  auto at_eod = d->read(buf);
  ASSERT_TRUE(at_eod) << why(*d);
  EXPECT_EQ(at_eod->status, ReadStatus::end_of_data);
  ASSERT_TRUE(d->space(SpaceUnit::blocks, -1)) << why(*d);  // EOD -> FM 13
  expect_next_is(*d, 13);
  ASSERT_TRUE(d->rewind());
  ASSERT_TRUE(d->space(SpaceUnit::filemarks, 1)) << why(*d);
  expect_next_is(*d, 5);
  expect_tgtd_position(*d);

  // Backwards over filemarks. SSC-3 7.9: from object 8, SPACE -1 filemark ends on the BOP side
  // of FM 7, so the next read returns that filemark. tgtd bug (space_filemark_reverse): it
  // steps back one object more and ends before record 6. Asserted as tgtd does it, so that a
  // fixed tgtd shows up here.
  ASSERT_TRUE(d->rewind());
  ASSERT_TRUE(d->space(SpaceUnit::filemarks, 2)) << why(*d);
  ASSERT_TRUE(d->space(SpaceUnit::filemarks, -1)) << why(*d);
  expect_next_is(*d, 6);  // SSC-3: 7

  // LOCATE(10/16) is not implemented by tgtd (not in its REPORT SUPPORTED OPERATION CODES):
  // ILLEGAL REQUEST, invalid command operation code.
  auto loc = d->locate(9);
  ASSERT_FALSE(loc);
  EXPECT_EQ(loc.error(), tape_errc::illegal_request) << why(*d);
  ASSERT_TRUE(d->last_error()->sense);
  EXPECT_EQ(d->last_error()->sense->asc, 0x20);
  EXPECT_EQ(d->last_error()->sense->ascq, 0x00);
  // The failed LOCATE did not move the tape: object 7 comes next.
  expect_next_is(*d, 7);
}

TEST_F(TgtdTape, SpaceBlocksOverFilemarkAndIntoBop) {
  auto s = dial("tape1");
  ASSERT_TRUE(s);
  auto d = open(*s);
  ASSERT_TRUE(d) << d.error().message();
  ASSERT_TRUE(d->rewind());
  write_files(*d);
  ASSERT_TRUE(d->rewind());
  // SSC-3: SPACE 4 blocks from object 2 stops after FM 4 (CHECK CONDITION, FM, residue 2).
  // tgtd bug (space_blocks): a filemark counts as a block and does not stop the SPACE, so it
  // completes GOOD before object 6. Asserted as tgtd does it.
  ASSERT_TRUE(d->space(SpaceUnit::blocks, 2));
  ASSERT_TRUE(d->space(SpaceUnit::blocks, 4)) << why(*d);  // SSC-3: tape_errc::filemark
  expect_next_is(*d, 6);
  // Backwards into BOP. SSC-3: stops at BOP with CHECK CONDITION, EOM, 00/04 (the driver's
  // tape_errc::beginning_of_partition, residue 1). tgtd 1.0.85 stops at BOP but returns GOOD.
  // Asserted as tgtd does it.
  ASSERT_TRUE(d->rewind());
  ASSERT_TRUE(d->space(SpaceUnit::blocks, 1));
  ASSERT_TRUE(d->space(SpaceUnit::blocks, -3)) << why(*d);  // SSC-3: beginning_of_partition
  expect_next_is(*d, 0);
  // Forward past the end of data: BLANK CHECK / end of data.
  ASSERT_TRUE(d->space(SpaceUnit::filemarks, 2)) << why(*d);
  auto eod = d->space(SpaceUnit::filemarks, 5);
  ASSERT_FALSE(eod);
  EXPECT_EQ(eod.error(), tape_errc::end_of_data) << why(*d);
}

// tgtd's Data-In on a short record (see kBig), at the CDB level and through the driver.
TEST_F(TgtdTape, ShortReadDataInTruncatedByTgtd) {
  auto s = dial("tape2");
  ASSERT_TRUE(s);
  {
    auto d = open(*s, kLun1);
    ASSERT_TRUE(d) << d.error().message();
    ASSERT_TRUE(d->rewind());
    ASSERT_TRUE(d->write(pattern(300000, 3))) << why(*d);
    ASSERT_TRUE(d->rewind());
  }
  std::vector<std::byte> back(400000);
  auto r = s->run(kLun1, Command(*scsi::read6_tape(400000, 0)).read_into(back));
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_FALSE(r->ok());
  auto sense = r->sense();
  ASSERT_TRUE(sense);
  EXPECT_TRUE(sense->ili);
  ASSERT_TRUE(sense->information_valid);
  EXPECT_EQ(sense->information_signed(), 100000);  // requested - record: right
  // The record is 300000 bytes; tgtd 1.0.85 sends 100000 (the residue). The bytes that did
  // arrive are the record's first ones.
  EXPECT_LE(r->bytes_received(), 300000u);
  EXPECT_TRUE(
      std::equal(back.begin(), back.begin() + r->bytes_received(), pattern(300000, 3).begin()));
  if (r->bytes_received() != 300000u)
    std::printf("note: tgtd sent %u of the 300000-byte record on a 400000-byte READ(6)\n",
                r->bytes_received());
}

// tgtd cuts a short record's Data-In short (see above): Drive::read() must report only the
// bytes that arrived, never requested - INFORMATION when less came (src/tape/sense_map.cpp).
TEST_F(TgtdTape, DriverNeverReportsBytesThatDidNotArrive) {
  auto s = dial("tape2");
  ASSERT_TRUE(s);
  auto d = open(*s, kLun1);
  ASSERT_TRUE(d) << d.error().message();
  ASSERT_TRUE(d->rewind());
  ASSERT_TRUE(d->write(pattern(300000, 3))) << why(*d);
  ASSERT_TRUE(d->rewind());
  std::vector<std::byte> buf(400000);
  auto rec = d->read(buf);
  ASSERT_TRUE(rec) << why(*d);
  EXPECT_EQ(rec->status, ReadStatus::short_record);
  ASSERT_LE(rec->bytes, 300000u);
  EXPECT_TRUE(std::equal(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(rec->bytes),
                         pattern(300000, 3).begin()))
      << rec->bytes << " bytes reported, not all of them from the tape";
}

struct Step {
  ReadStatus status;
  std::size_t bytes;
  std::int64_t residue;
  std::vector<std::byte> data;
  bool operator==(const Step&) const = default;
};

std::vector<Step> read_all(Drive& d) {
  std::vector<Step> out;
  std::vector<std::byte> buf(kBig);
  for (int guard = 0; guard < 100; ++guard) {
    auto r = d.read(buf);
    EXPECT_TRUE(r) << why(d);
    if (!r) break;
    out.push_back(Step{r->status,
                       r->bytes,
                       r->residue,
                       {buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(r->bytes)}});
    if (r->status == ReadStatus::end_of_data) break;
  }
  return out;
}

TEST_F(TgtdTape, ReadAheadChangesNothingVisible) {
  auto s = dial("tape2");
  ASSERT_TRUE(s);
  {
    auto w = open(*s, kLun1);
    ASSERT_TRUE(w) << w.error().message();
    ASSERT_TRUE(w->rewind());
    write_files(*w);
  }
  auto plain = open(*s);
  ASSERT_TRUE(plain);
  ASSERT_TRUE(plain->rewind());
  const auto direct = read_all(*plain);
  ASSERT_EQ(direct.size(), 15u);  // 11 records, 3 filemarks, end of data
  for (std::uint64_t object = 0; object < 14; ++object) {
    std::size_t size = 0;
    const auto seed = seed_of(object, &size);
    EXPECT_EQ(direct[object].status, seed ? ReadStatus::short_record : ReadStatus::filemark);
    if (seed) {
      EXPECT_EQ(direct[object].data, pattern(size, *seed)) << "object " << object;
    }
  }
  EXPECT_EQ(direct.back().status, ReadStatus::end_of_data);
  for (unsigned depth : {2u, 4u}) {
    DriveOptions o;
    o.read_ahead = depth;
    auto d = open(*s, kLun1, o);
    ASSERT_TRUE(d);
    ASSERT_TRUE(d->rewind());
    EXPECT_EQ(read_all(*d), direct) << "depth " << depth;
    // After 5 reads (file 0 and its filemark) a SPACE must first undo the READs prefetched
    // beyond the caller. tgtd has no LOCATE, so the driver SPACEs back over the records and
    // filemarks they passed (how many depends on timing); the record after the SPACE is
    // object 6.
    ASSERT_TRUE(d->rewind());
    std::vector<std::byte> buf(kBig);
    for (std::uint64_t object = 0; object < 5; ++object) {
      auto r = d->read(buf);
      ASSERT_TRUE(r) << why(*d);
      EXPECT_EQ(r->status, object < 4 ? ReadStatus::short_record : ReadStatus::filemark);
    }
    ASSERT_TRUE(d->space(SpaceUnit::blocks, 1)) << "depth " << depth << ": " << why(*d);
    expect_next_is(*d, 6);
    // Stopping short of a filemark: the READs issued with the first one ran ahead over the
    // rest of file 1, its filemark and into file 2. After SPACE over one block the filemark (object
    // 7) comes next.
    ASSERT_TRUE(d->rewind());
    ASSERT_TRUE(d->space(SpaceUnit::filemarks, 1));
    expect_next_is(*d, 5);
    ASSERT_TRUE(d->space(SpaceUnit::blocks, 1)) << "depth " << depth << ": " << why(*d);
    expect_next_is(*d, 7);
    expect_next_is(*d, 8);
  }
}

// Write-behind keeps several WRITEs in flight and relies on the ORDERED task attribute to keep
// them in order. tgtd ignores task attributes: a large WRITE waits for its R2T-solicited data
// while a later small WRITE (all immediate data) runs first, so the records land on the tape
// out of order (seen: 262144,7 read back as 7,262144). Not a driver fault; not testable here.
TEST_F(TgtdTape, WriteBehind) {
  GTEST_SKIP() << "tgtd ignores the ORDERED task attribute: pipelined WRITEs are reordered";
}

// ---- tgtd's media changer ----

// READ ELEMENT STATUS with VOLTAG, one element type at a time. tgtd bug: with ELEMENT TYPE
// CODE 0 (all types) its reply is malformed (the storage page header overwrites the medium
// transport descriptor, the data transfer page is missing and an empty import/export page
// follows), so each type is asked for on its own, as SMC-3 allows. (Its BYTE COUNT OF REPORT
// AVAILABLE also counts the 8-byte header, which the parser tolerates.)
scsi::ElementStatusData element_status(Session& s) {
  scsi::ElementStatusData all;
  for (auto type : {scsi::ElementType::medium_transport, scsi::ElementType::storage,
                    scsi::ElementType::data_transfer}) {
    scsi::ReadElementStatusOptions o;
    o.voltag = true;
    auto spec = scsi::read_element_status(type, 0, 0xffff, 65536, o);
    EXPECT_TRUE(spec);
    if (!spec) return {};
    auto r = s.run(kLun2, Command(*spec));
    EXPECT_TRUE(r && r->ok()) << (r ? r->describe() : r.error().message());
    if (!r || !r->ok()) return {};
    // tgtd bug: the reply is 8 bytes shorter than its own page header announces (the last
    // descriptor loses its last 8 bytes: reserved bytes after the volume tag, or half of a
    // descriptor without tags). Pad what is missing, at most those 8 bytes, with zeros.
    std::vector<std::byte> data(r->data().begin(), r->data().end());
    if (data.size() >= 16) {
      const std::size_t announced = 16 + (std::to_integer<std::size_t>(data[13]) << 16 |
                                          std::to_integer<std::size_t>(data[14]) << 8 |
                                          std::to_integer<std::size_t>(data[15]));
      if (data.size() < announced) {
        EXPECT_LE(announced - data.size(), 8u) << "more missing than tgtd's known 8 bytes";
        data.resize(announced);
      }
    }
    auto d = scsi::parse_read_element_status(data);
    EXPECT_TRUE(d) << d.error().message();
    if (!d) return {};
    for (auto& e : d->elements) {
      EXPECT_EQ(e.type, type);
      all.elements.push_back(e);
    }
  }
  return all;
}

const scsi::ElementStatus* element(const scsi::ElementStatusData& d, std::uint16_t address) {
  for (const auto& e : d.elements)
    if (e.address == address) return &e;
  return nullptr;
}

// TEST UNIT READY on `lun` until GOOD, at most `attempts` times (unit attentions are consumed).
bool ready(Session& s, Lun lun, int attempts = 5) {
  for (int i = 0; i < attempts; ++i) {
    auto r = s.run(lun, Command(scsi::test_unit_ready()));
    if (r && r->ok()) return true;
  }
  return false;
}

TEST_F(TgtdTape, ChangerMovesCartridgeIntoDrive) {
  ASSERT_TRUE(changer_up) << "changer setup failed; log in " << dir;
  auto s = dial("library");
  ASSERT_TRUE(s);
  ASSERT_TRUE(ready(*s, kLun2));
  auto inq = s->run(kLun2, Command(scsi::inquiry()));
  ASSERT_TRUE(inq && inq->ok());
  auto id = scsi::parse_inquiry(inq->data());
  ASSERT_TRUE(id);
  EXPECT_EQ(id->device_type, scsi::PeripheralDeviceType::medium_changer);

  auto before = element_status(*s);
  const auto* slot0 = element(before, kSlot0);
  const auto* slot1 = element(before, kSlot1);
  const auto* drive = element(before, kDriveElement);
  const auto* picker = element(before, kPicker);
  ASSERT_TRUE(slot0 && slot1 && drive && picker);
  EXPECT_EQ(slot0->type, scsi::ElementType::storage);
  EXPECT_EQ(drive->type, scsi::ElementType::data_transfer);
  EXPECT_EQ(picker->type, scsi::ElementType::medium_transport);
  EXPECT_TRUE(slot0->full);
  EXPECT_EQ(slot0->primary_volume_tag, "TGT00001");
  EXPECT_TRUE(slot1->full);
  EXPECT_EQ(slot1->primary_volume_tag, "TGT00002");
  EXPECT_FALSE(drive->full);

  // The empty drive is not ready.
  auto empty = s->run(kLun1, Command(scsi::test_unit_ready()));
  ASSERT_TRUE(empty);
  for (int i = 0;
       i < 3 && empty->sense() && empty->sense()->sense_key == scsi::SenseKey::unit_attention; ++i)
    empty = s->run(kLun1, Command(scsi::test_unit_ready()));
  ASSERT_TRUE(empty);
  EXPECT_FALSE(empty->ok()) << "the drive has a medium before MOVE MEDIUM";

  auto mv = s->run(kLun2, Command(scsi::move_medium(kPicker, kSlot0, kDriveElement)));
  ASSERT_TRUE(mv) << mv.error().message();
  ASSERT_TRUE(mv->ok()) << mv->describe();
  auto loaded = element_status(*s);
  ASSERT_TRUE(element(loaded, kDriveElement) && element(loaded, kSlot0));
  EXPECT_TRUE(element(loaded, kDriveElement)->full);
  EXPECT_EQ(element(loaded, kDriveElement)->primary_volume_tag, "TGT00001");
  EXPECT_FALSE(element(loaded, kSlot0)->full);
  if (element(loaded, kDriveElement)->svalid) {
    EXPECT_EQ(element(loaded, kDriveElement)->source_address, kSlot0);
  }

  // The drive sees the cartridge: the tape driver opens it and a record round-trips.
  ASSERT_TRUE(ready(*s, kLun1)) << "drive not ready after MOVE MEDIUM";
  {
    auto d = open(*s, kLun1);
    ASSERT_TRUE(d) << d.error().message();
    ASSERT_TRUE(d->rewind()) << why(*d);
    const auto rec = pattern(12345, 77);
    ASSERT_TRUE(d->write(rec)) << why(*d);
    ASSERT_TRUE(d->write_filemarks(1)) << why(*d);
    ASSERT_TRUE(d->rewind()) << why(*d);
    std::vector<std::byte> buf(kBig);  // > 2 * record: tgtd's short-read Data-In bug
    auto r = d->read(buf);
    ASSERT_TRUE(r) << why(*d);
    ASSERT_EQ(r->bytes, rec.size());
    EXPECT_TRUE(std::equal(rec.begin(), rec.end(), buf.begin()));
  }

  // Moving into the full drive fails; moving it back empties the drive again.
  auto full = s->run(kLun2, Command(scsi::move_medium(kPicker, kSlot1, kDriveElement)));
  ASSERT_TRUE(full);
  EXPECT_FALSE(full->ok());
  auto back = s->run(kLun2, Command(scsi::move_medium(kPicker, kDriveElement, kSlot0)));
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_TRUE(back->ok()) << back->describe();
  auto after = element_status(*s);
  ASSERT_TRUE(element(after, kDriveElement) && element(after, kSlot0));
  EXPECT_FALSE(element(after, kDriveElement)->full);
  EXPECT_TRUE(element(after, kSlot0)->full);
  EXPECT_EQ(element(after, kSlot0)->primary_volume_tag, "TGT00001");
}

}  // namespace
}  // namespace uiscsi::tape
