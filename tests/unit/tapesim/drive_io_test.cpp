// Drive READ / WRITE / WRITE FILEMARKS / ERASE semantics (SSC-3), through execute() and the
// typed API.
#include <gtest/gtest.h>

#include "tapesim/drive.hpp"
#include "tapesim/errors.hpp"
#include "tapesim_test_util.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::tapesim {
namespace {

using test::expect_field;
using test::expect_good;
using test::expect_sense;
using test::Harness;
using test::pattern;
using test::text;

Response write_var(Harness& h, std::span<const std::byte> data) {
  return h.run(scsi::write6_tape(static_cast<std::uint32_t>(data.size()), 0), data);
}
Response read_var(Harness& h, std::uint32_t n, bool sili = false) {
  return h.run(scsi::read6_tape(n, 0, sili));
}
Response read_fixed(Harness& h, std::uint32_t blocks, std::uint32_t bs) {
  return h.run(scsi::read6_tape(blocks, bs));
}
Response write_fixed(Harness& h, std::uint32_t blocks, std::uint32_t bs,
                     std::span<const std::byte> data) {
  return h.run(scsi::write6_tape(blocks, bs), data);
}
std::uint64_t object(Harness& h) {
  return h.drive.position()->object;
}

TEST(DriveIo, VariableReadReturnsOneRecordWithSignedResidue) {
  Harness h;
  const auto a = pattern(100, 1), b = pattern(200, 2), c = pattern(300, 3);
  expect_good(write_var(h, a));
  expect_good(write_var(h, b));
  expect_good(write_var(h, c));
  expect_good(h.run(scsi::rewind()));

  Response r = read_var(h, 100);
  expect_good(r);
  EXPECT_EQ(r.data_in, a);

  // Underlength: the record and ILI with INFORMATION = requested - actual = +300.
  r = read_var(h, 500);
  auto s = expect_sense(r, scsi::SenseKey::no_sense, 0, 0);
  EXPECT_TRUE(s.ili);
  EXPECT_TRUE(s.information_valid);
  EXPECT_EQ(s.information_signed(), 300);
  EXPECT_EQ(r.data_in, b);

  // SILI suppresses the underlength case.
  r = read_var(h, 500, true);
  expect_good(r);
  EXPECT_EQ(r.data_in, c);

  // Overlength: the first 50 bytes, ILI with a negative residue, even with SILI; the position
  // is past the record.
  expect_good(h.run(scsi::rewind()));
  r = read_var(h, 50, true);
  s = expect_sense(r, scsi::SenseKey::no_sense, 0, 0);
  EXPECT_TRUE(s.ili);
  EXPECT_EQ(s.information_signed(), -50);
  EXPECT_EQ(r.data_in, std::vector<std::byte>(a.begin(), a.begin() + 50));
  EXPECT_EQ(object(h), 1u);
  r = read_var(h, 200);
  expect_good(r);
  EXPECT_EQ(r.data_in, b);
}

TEST(DriveIo, FilemarkOnReadIsReportedAndPassed) {
  Harness h;
  expect_good(write_var(h, pattern(10, 1)));
  expect_good(h.run(scsi::write_filemarks6(1)));
  expect_good(write_var(h, pattern(20, 2)));
  expect_good(h.run(scsi::rewind()));
  expect_good(read_var(h, 10));
  Response r = read_var(h, 4096);
  auto s = expect_sense(r, scsi::SenseKey::no_sense, 0x00, 0x01);
  EXPECT_TRUE(s.filemark);
  EXPECT_TRUE(s.information_valid);
  EXPECT_EQ(s.information_signed(), 4096);
  EXPECT_TRUE(r.data_in.empty());
  EXPECT_EQ(object(h), 2u);
  EXPECT_EQ(h.drive.position()->file, 1u);
  r = read_var(h, 20);
  expect_good(r);
  EXPECT_EQ(r.data_in, pattern(20, 2));
}

TEST(DriveIo, EndOfDataIsBlankCheckAndStays) {
  Harness h;
  Response r = read_var(h, 512);
  auto s = expect_sense(r, scsi::SenseKey::blank_check, 0x00, 0x05);
  EXPECT_TRUE(s.information_valid);
  EXPECT_EQ(s.information_signed(), 512);
  EXPECT_FALSE(s.eom);
  expect_good(write_var(h, pattern(10, 1)));
  expect_sense(read_var(h, 10), scsi::SenseKey::blank_check, 0x00, 0x05);
  EXPECT_EQ(object(h), 1u);
}

TEST(DriveIo, ZeroLengthTransfersDoNothing) {
  Harness h;
  expect_good(write_var(h, {}));
  expect_good(read_var(h, 0));
  EXPECT_EQ(object(h), 0u);
  EXPECT_EQ(h.drive.medium()->object_count(0), 0u);
}

TEST(DriveIo, FixedModeReadsAndWritesBlocks) {
  Harness h;
  ASSERT_TRUE(h.drive.set_block_size(512).good());
  const auto data = pattern(4 * 512, 7);
  Response w = write_fixed(h, 4, 512, data);
  expect_good(w);
  EXPECT_EQ(w.data_out_length, 2048u);
  EXPECT_EQ(h.drive.medium()->object_count(0), 4u);  // one object per block
  expect_good(h.run(scsi::rewind()));
  Response r = read_fixed(h, 3, 512);
  expect_good(r);
  EXPECT_EQ(r.data_in, std::vector<std::byte>(data.begin(), data.begin() + 1536));
  // One block left, then EOD: BLANK CHECK, INFORMATION = blocks not read.
  r = read_fixed(h, 3, 512);
  auto s = expect_sense(r, scsi::SenseKey::blank_check, 0x00, 0x05);
  EXPECT_EQ(s.information_signed(), 2);
  EXPECT_EQ(r.data_in.size(), 512u);
  // A variable-mode READ (FIXED = 0) still works in fixed mode.
  expect_good(h.run(scsi::locate10(3)));
  r = read_var(h, 512);
  expect_good(r);
  EXPECT_EQ(r.data_in.size(), 512u);
}

TEST(DriveIo, FixedModeStopsAtFilemarkWithBlockResidue) {
  Harness h;
  ASSERT_TRUE(h.drive.set_block_size(256).good());
  expect_good(write_fixed(h, 2, 256, pattern(512, 1)));
  expect_good(h.run(scsi::write_filemarks6(1)));
  expect_good(write_fixed(h, 2, 256, pattern(512, 2)));
  expect_good(h.run(scsi::rewind()));
  Response r = read_fixed(h, 4, 256);
  auto s = expect_sense(r, scsi::SenseKey::no_sense, 0x00, 0x01);
  EXPECT_TRUE(s.filemark);
  EXPECT_EQ(s.information_signed(), 2);
  EXPECT_EQ(r.data_in, pattern(512, 1));
  EXPECT_EQ(object(h), 3u);
  r = read_fixed(h, 2, 256);
  expect_good(r);
  EXPECT_EQ(r.data_in, pattern(512, 2));
}

TEST(DriveIo, FixedModeIncorrectLengthRecord) {
  Harness h;
  ASSERT_TRUE(h.drive.set_block_size(512).good());
  expect_good(write_fixed(h, 1, 512, pattern(512, 1)));
  expect_good(write_var(h, pattern(1000, 2)));  // a record of another length
  expect_good(write_fixed(h, 1, 512, pattern(512, 3)));
  expect_good(h.run(scsi::rewind()));
  Response r = read_fixed(h, 3, 512);
  auto s = expect_sense(r, scsi::SenseKey::no_sense, 0x00, 0x00);
  EXPECT_TRUE(s.ili);
  EXPECT_EQ(s.information_signed(), 2);  // requested 3, one block read before the bad one
  EXPECT_EQ(r.data_in, pattern(512, 1));
  EXPECT_EQ(object(h), 2u);  // past the incorrect-length record
  r = read_fixed(h, 1, 512);
  expect_good(r);
  EXPECT_EQ(r.data_in, pattern(512, 3));
}

TEST(DriveIo, FixedModeFieldErrors) {
  Harness h;
  // FIXED while in variable mode.
  auto s = expect_sense(h.run(test::cdb({0x08, 0x01, 0, 0, 1, 0})), scsi::SenseKey::illegal_request,
                        0x24, 0x00);
  expect_field(s, true, 1, 0);
  s = expect_sense(h.run(test::cdb({0x0a, 0x01, 0, 0, 1, 0}), pattern(512, 1)),
                   scsi::SenseKey::illegal_request, 0x24, 0x00);
  expect_field(s, true, 1, 0);
  ASSERT_TRUE(h.drive.set_block_size(512).good());
  // FIXED and SILI together.
  s = expect_sense(h.run(test::cdb({0x08, 0x03, 0, 0, 1, 0})), scsi::SenseKey::illegal_request,
                   0x24, 0x00);
  expect_field(s, true, 1, 1);
  // Data-Out shorter than TRANSFER LENGTH blocks: nothing is written.
  Response w = write_fixed(h, 3, 512, pattern(1000, 1));
  s = expect_sense(w, scsi::SenseKey::illegal_request, 0x24, 0x00);
  expect_field(s, true, 2, 7);
  EXPECT_EQ(w.data_out_length, 1536u);
  EXPECT_EQ(h.drive.medium()->object_count(0), 0u);
  // The typed API checks the same.
  expect_sense(h.drive.write(pattern(1000, 1), 2, true), scsi::SenseKey::illegal_request, 0x24, 0);
  expect_good(h.drive.write(pattern(1024, 1), 2, true));
  EXPECT_EQ(h.drive.medium()->object_count(0), 2u);
}

TEST(DriveIo, VariableLengthOutsideBlockLimits) {
  DriveConfig c;
  c.min_block_length = 4;
  c.max_block_length = 1000;
  Harness h(test::small_medium(), c);
  expect_sense(write_var(h, pattern(1001, 1)), scsi::SenseKey::illegal_request, 0x24, 0);
  expect_sense(write_var(h, pattern(3, 1)), scsi::SenseKey::illegal_request, 0x24, 0);
  expect_good(write_var(h, pattern(1000, 1)));
  EXPECT_FALSE(h.drive.set_block_size(1001).good());
  EXPECT_TRUE(h.drive.set_block_size(1000).good());
}

TEST(DriveIo, WritingInTheMiddleDiscardsTheRest) {
  Harness h;
  for (unsigned i = 0; i < 5; ++i)
    expect_good(write_var(h, pattern(100, i)));
  expect_good(h.run(scsi::write_filemarks6(2)));
  expect_good(h.run(scsi::locate10(2)));
  expect_good(write_var(h, pattern(50, 9)));
  EXPECT_EQ(h.drive.medium()->object_count(0), 3u);
  EXPECT_EQ(object(h), 3u);
  expect_sense(read_var(h, 100), scsi::SenseKey::blank_check, 0x00, 0x05);
  expect_good(h.run(scsi::locate10(1)));
  expect_good(h.run(scsi::write_filemarks6(1)));
  EXPECT_EQ(h.drive.medium()->object_count(0), 2u);
  EXPECT_EQ(h.drive.position()->file, 1u);
}

TEST(DriveIo, EarlyWarningWritesTheDataAndOverflowDoesNot) {
  // 100000 bytes, early warning in the last 20000.
  Harness h(test::small_medium(100000, 20000));
  const std::size_t n = 8000;
  unsigned i = 0;
  for (; i < 10; ++i)
    expect_good(write_var(h, pattern(n, i)));  // 80000 bytes
  EXPECT_FALSE(h.drive.position()->eop);
  // 88000 > 80000: early warning, and the record is on the medium.
  Response r = write_var(h, pattern(n, i++));
  auto s = expect_sense(r, scsi::SenseKey::no_sense, 0x00, 0x02);
  EXPECT_TRUE(s.eom);
  EXPECT_TRUE(s.information_valid);
  EXPECT_EQ(s.information_signed(), 0);
  EXPECT_EQ(h.drive.medium()->object_count(0), 11u);
  EXPECT_TRUE(h.drive.position()->eop);
  // Every further write reports it too.
  s = expect_sense(write_var(h, pattern(n, i++)), scsi::SenseKey::no_sense, 0x00, 0x02);
  EXPECT_EQ(h.drive.medium()->used_bytes(0), 96000u);
  // 104000 > 100000: VOLUME OVERFLOW, EOM, INFORMATION = the whole record; nothing written.
  r = write_var(h, pattern(n, i));
  s = expect_sense(r, scsi::SenseKey::volume_overflow, 0x00, 0x02);
  EXPECT_TRUE(s.eom);
  EXPECT_EQ(s.information_signed(), 8000);
  EXPECT_EQ(h.drive.medium()->object_count(0), 12u);
  EXPECT_EQ(object(h), 12u);
  // What fits still goes.
  s = expect_sense(write_var(h, pattern(4000, 99)), scsi::SenseKey::no_sense, 0x00, 0x02);
  EXPECT_EQ(h.drive.medium()->used_bytes(0), 100000u);
  // Filemarks take no space by default: they still fit.
  expect_sense(h.run(scsi::write_filemarks6(1)), scsi::SenseKey::no_sense, 0x00, 0x02);
  // Reading back the early-warning record works; EOD beyond early warning carries EOM.
  expect_good(h.run(scsi::locate10(10)));
  Response back = read_var(h, n);
  expect_good(back);
  EXPECT_EQ(back.data_in, pattern(n, 10));
  expect_good(h.run(scsi::space6(scsi::SpaceCode::end_of_data, 0)));
  s = expect_sense(read_var(h, 10), scsi::SenseKey::blank_check, 0x00, 0x05);
  EXPECT_TRUE(s.eom);
}

TEST(DriveIo, FixedModeOverflowWritesWhatFits) {
  MediumOptions o = test::small_medium(10000, 1000);
  o.mark_size = 100;
  Harness h(o);
  ASSERT_TRUE(h.drive.set_block_size(1000).good());
  expect_good(write_fixed(h, 8, 1000, pattern(8000, 1)));
  Response r = write_fixed(h, 4, 1000, pattern(4000, 2));
  auto s = expect_sense(r, scsi::SenseKey::volume_overflow, 0x00, 0x02);
  EXPECT_EQ(s.information_signed(), 2);  // two of four blocks written
  EXPECT_EQ(h.drive.medium()->object_count(0), 10u);
  EXPECT_EQ(h.drive.medium()->used_bytes(0), 10000u);
  // Marks take 100 bytes here: none fits.
  s = expect_sense(h.run(scsi::write_filemarks6(3)), scsi::SenseKey::volume_overflow, 0x00, 0x02);
  EXPECT_EQ(s.information_signed(), 3);
}

TEST(DriveIo, WriteProtection) {
  MediumOptions o = test::small_medium();
  o.write_protected = true;
  Harness h(o);
  auto s = expect_sense(write_var(h, pattern(10, 1)), scsi::SenseKey::data_protect, 0x27, 0x00);
  expect_sense(h.run(scsi::write_filemarks6(1)), scsi::SenseKey::data_protect, 0x27, 0x00);
  expect_sense(h.run(scsi::erase6(false)), scsi::SenseKey::data_protect, 0x27, 0x00);
  EXPECT_TRUE(h.drive.tape_alert(9));
  expect_sense(read_var(h, 10), scsi::SenseKey::blank_check, 0x00, 0x05);  // reads are fine
  ASSERT_TRUE(h.drive.medium()->set_write_protected(false));
  expect_good(write_var(h, pattern(10, 1)));
  h.drive.set_software_write_protect(true);
  expect_sense(write_var(h, pattern(10, 1)), scsi::SenseKey::data_protect, 0x27, 0x02);
  h.drive.set_software_write_protect(false);
  expect_good(write_var(h, pattern(10, 1)));
}

TEST(DriveIo, CompressionShrinksWhatTheMediumHolds) {
  Harness h;
  ASSERT_TRUE(h.drive.set_compression(true).good());
  const auto t = text(20000);
  expect_good(write_var(h, t));
  expect_good(write_var(h, pattern(5000, 1)));
  const Counters& k = h.drive.counters();
  EXPECT_EQ(k.bytes_from_host, 25000u);
  EXPECT_LT(k.bytes_to_medium, 7000u);
  EXPECT_EQ(h.drive.medium()->used_bytes(0), k.bytes_to_medium);
  EXPECT_TRUE(h.drive.medium()->object(0, 0).compressed);
  expect_good(h.run(scsi::rewind()));
  // With DDE off a compressed record cannot be read, and the position stays on it.
  ASSERT_TRUE(h.drive.set_compression(true, false).good());
  expect_sense(read_var(h, 20000), scsi::SenseKey::medium_error, 0x11, 0x0e);
  EXPECT_EQ(object(h), 0u);
  ASSERT_TRUE(h.drive.set_compression(false, true).good());
  Response r = read_var(h, 20000);
  expect_good(r);
  EXPECT_EQ(r.data_in, t);
  EXPECT_EQ(h.drive.counters().bytes_to_host, 20000u);
}

TEST(DriveIo, EraseDiscardsFromThePosition) {
  Harness h;
  for (unsigned i = 0; i < 4; ++i)
    expect_good(write_var(h, pattern(10, i)));
  expect_good(h.run(scsi::locate10(1)));
  expect_good(h.run(scsi::erase6(true)));
  EXPECT_EQ(h.drive.medium()->object_count(0), 1u);
  EXPECT_EQ(object(h), 1u);
  expect_good(h.run(scsi::rewind()));
  expect_good(h.run(scsi::erase6(false)));
  EXPECT_EQ(h.drive.medium()->object_count(0), 0u);
}

TEST(DriveIo, DensityIsRecordedFromBeginningOfTape) {
  Harness h;  // an LTO-9 drive: LTO-8 and LTO-9, LTO-9 by default
  EXPECT_EQ(h.drive.medium()->density_code(), 0);
  EXPECT_EQ(h.drive.density(), 0x60);
  expect_good(write_var(h, pattern(10, 1)));
  EXPECT_EQ(h.drive.medium()->density_code(), 0x60);
  ASSERT_TRUE(h.drive.set_density(0x5e).good());
  EXPECT_FALSE(h.drive.set_density(0x58).good());  // LTO-5: not this drive's
  expect_good(write_var(h, pattern(10, 2)));       // not at BOP: the cartridge keeps LTO-9
  EXPECT_EQ(h.drive.medium()->density_code(), 0x60);
  expect_good(h.run(scsi::rewind()));
  expect_good(write_var(h, pattern(10, 3)));  // from BOP: rewritten as LTO-8
  EXPECT_EQ(h.drive.medium()->density_code(), 0x5e);
}

TEST(DriveIo, ForeignDensityCannotBeReadOrAppended) {
  MediumOptions o = test::small_medium();
  o.density_code = 0x26;  // DDS-4 in an LTO drive
  Harness h(o);
  expect_sense(read_var(h, 10), scsi::SenseKey::medium_error, 0x30, 0x02);
  ASSERT_TRUE(h.drive.medium()->write_record(0, 0, pattern(5, 1), false));
  expect_good(h.run(scsi::locate10(1)));
  expect_sense(write_var(h, pattern(10, 1)), scsi::SenseKey::data_protect, 0x30, 0x05);
  expect_good(h.run(scsi::rewind()));
  expect_good(write_var(h, pattern(10, 1)));  // overwriting from BOP reformats
  EXPECT_EQ(h.drive.medium()->density_code(), 0x60);
}

TEST(DriveIo, DamagedRecordIsAMediumErrorAndIsPassed) {
  test::TempPath t("img");
  Harness h;
  ASSERT_TRUE(h.drive.eject());
  {
    auto m = Medium::create_image(t.path, test::small_medium());
    ASSERT_TRUE(m);
    ASSERT_TRUE(m->write_record(0, 0, pattern(100, 1), false));
    ASSERT_TRUE(m->write_record(0, 1, pattern(100, 2), false));
  }
  {  // damage the first record's bytes
    std::FILE* f = std::fopen(t.path.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 96 + 32 + 8 + 32 + 10, SEEK_SET);  // header, layout frame, first frame
    std::fputc(0xee, f);
    std::fclose(f);
  }
  auto m = Medium::open_image(t.path);
  ASSERT_TRUE(m) << m.error().message();
  ASSERT_TRUE(h.drive.insert(std::move(*m)));
  h.clear_attentions();
  auto s = expect_sense(read_var(h, 100), scsi::SenseKey::medium_error, 0x11, 0x00);
  EXPECT_EQ(s.information_signed(), 100);
  EXPECT_TRUE(h.drive.tape_alert(4));
  EXPECT_EQ(h.drive.counters().read_errors, 1u);
  Response r = read_var(h, 100);
  expect_good(r);
  EXPECT_EQ(r.data_in, pattern(100, 2));
}

TEST(DriveIo, TypedReadRecordAndWriteRecord) {
  Harness h;
  expect_good(h.drive.write_record(pattern(64, 1)));
  expect_good(h.drive.write_filemarks(1));
  expect_good(h.drive.rewind());
  std::vector<std::byte> buf(128);
  Outcome o = h.drive.read_record(buf);
  expect_sense(o, scsi::SenseKey::no_sense, 0, 0);
  EXPECT_EQ(o.transferred, 64u);
  EXPECT_EQ(std::vector<std::byte>(buf.begin(), buf.begin() + 64), pattern(64, 1));
  o = h.drive.read_record(buf, true);
  expect_sense(o, scsi::SenseKey::no_sense, 0x00, 0x01);
  o = h.drive.read_record(buf, true);
  expect_sense(o, scsi::SenseKey::blank_check, 0x00, 0x05);
}

}  // namespace
}  // namespace uiscsi::tapesim
