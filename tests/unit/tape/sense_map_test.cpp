// The pure status/sense -> tape condition mapping (src/tape/sense_map.hpp): every sense key,
// every combination of FM/EOM/ILI, current and deferred, fixed and descriptor format, plus
// hand-written sense bytes that pin the bit positions, and the READ accounting.
#include "tape/sense_map.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace uiscsi::tape::detail {
namespace {

using scsi::SenseKey;
using scsi::Status;

std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int b : v)
    out.push_back(static_cast<std::byte>(b));
  return out;
}

// The expected code for a CHECK CONDITION, written as a table of the rules in SSC-3 / SPC-4.
std::optional<tape_errc> expected(std::uint8_t response_code, int key, bool fm, bool eom, bool ili,
                                  std::uint8_t asc, std::uint8_t ascq, std::int64_t residue) {
  if (response_code == 0x71 || response_code == 0x73) return tape_errc::deferred_error;
  switch (key) {
    case 0x2:
      return asc == 0x3a ? tape_errc::no_medium : tape_errc::not_ready;
    case 0x3:
      return tape_errc::medium_error;
    case 0x4:
      return tape_errc::hardware_error;
    case 0x5:
      return tape_errc::illegal_request;
    case 0x6:
      return tape_errc::unit_attention;
    case 0x7:
      return tape_errc::write_protected;
    case 0x8:
      return tape_errc::end_of_data;
    case 0xb:
      return tape_errc::aborted_command;
    case 0xd:
      return tape_errc::volume_overflow;
    case 0x0:
    case 0x1:
      break;
    default:
      return tape_errc::other_sense;
  }
  if (fm) return asc == 0 && ascq == 3 ? tape_errc::setmark : tape_errc::filemark;
  if (ili)
    return residue < 0 ? tape_errc::incorrect_length_long : tape_errc::incorrect_length_short;
  if (eom)
    return asc == 0 && ascq == 4 ? tape_errc::beginning_of_partition : tape_errc::early_warning;
  if (key == 0 && asc == 0 && ascq == 5) return tape_errc::end_of_data;
  if (key == 0) return tape_errc::other_sense;
  return std::nullopt;  // RECOVERED ERROR alone: the command completed
}

TEST(TapeSenseMap, EveryKeyBitAndFormat) {
  const std::array<std::pair<std::uint8_t, std::uint8_t>, 8> ascs{
      {{0, 0}, {0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}, {0x11, 0}, {0x3a, 0}}};
  int checked = 0;
  for (std::uint8_t rc : {0x70, 0x71, 0x72, 0x73}) {
    for (int key = 0; key < 16; ++key) {
      for (int bits = 0; bits < 8; ++bits) {
        for (auto [asc, ascq] : ascs) {
          for (std::int64_t residue : {std::int64_t{0}, std::int64_t{12}, std::int64_t{-12}}) {
            scsi::SenseData s = scsi::make_sense(static_cast<SenseKey>(key), asc, ascq);
            s.response_code = rc;
            s.filemark = (bits & 1) != 0;
            s.eom = (bits & 2) != 0;
            s.ili = (bits & 4) != 0;
            s.information_valid = residue != 0;
            s.information = static_cast<std::uint64_t>(residue);
            const auto wire =
                rc >= 0x72 ? scsi::build_descriptor_sense(s) : scsi::build_fixed_sense(s);
            const Condition c = classify(Status::check_condition, wire);
            const auto want = expected(rc, key, s.filemark, s.eom, s.ili, asc, ascq, residue);
            ASSERT_EQ(c.code, want)
                << "rc " << int(rc) << " key " << key << " bits " << bits << " asc " << int(asc)
                << "/" << int(ascq) << " residue " << residue;
            EXPECT_EQ(c.filemark, s.filemark);
            EXPECT_EQ(c.eom, s.eom);
            EXPECT_EQ(c.ili, s.ili);
            if (residue != 0) {
              ASSERT_TRUE(c.residue.has_value());
              EXPECT_EQ(*c.residue, residue);
            } else {
              EXPECT_FALSE(c.residue.has_value());
            }
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 16 * 8 * 8 * 3);
}

TEST(TapeSenseMap, StatusesOtherThanCheckCondition) {
  EXPECT_FALSE(classify(Status::good, {}).code);
  EXPECT_FALSE(classify(Status::condition_met, {}).code);
  EXPECT_EQ(classify(Status::busy, {}).code, tape_errc::busy);
  EXPECT_EQ(classify(Status::task_set_full, {}).code, tape_errc::busy);
  EXPECT_EQ(classify(Status::reservation_conflict, {}).code, tape_errc::reservation_conflict);
  EXPECT_EQ(classify(Status::task_aborted, {}).code, tape_errc::unexpected_status);
  EXPECT_EQ(classify(Status::check_condition, {}).code, tape_errc::no_sense_data);
  EXPECT_EQ(classify(Status::check_condition, bytes({0x7f, 0, 0})).code, tape_errc::no_sense_data);
}

// Fixed-format sense written by hand (SPC-4 4.5.3): byte 2 bit 7 FILEMARK, bit 6 EOM, bit 5
// ILI, bits 3-0 the key; byte 0 bit 7 VALID; bytes 3-6 INFORMATION.
TEST(TapeSenseMap, HandWrittenFixedSense) {
  // Filemark, residue 100.
  auto fm = classify(Status::check_condition,
                     bytes({0xf0, 0, 0x80, 0, 0, 0, 100, 10, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(fm.code, tape_errc::filemark);
  EXPECT_EQ(fm.residue, 100);
  // ILI, INFORMATION -1000 (a record 1000 bytes longer than asked for).
  auto longer =
      classify(Status::check_condition,
               bytes({0xf0, 0, 0x20, 0xff, 0xff, 0xfc, 0x18, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(longer.code, tape_errc::incorrect_length_long);
  EXPECT_EQ(longer.residue, -1000);
  // Early warning: NO SENSE, EOM, 00/02.
  auto ew = classify(Status::check_condition,
                     bytes({0x70, 0, 0x40, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0}));
  EXPECT_EQ(ew.code, tape_errc::early_warning);
  // Volume overflow: key 0Dh with EOM set must not read as early warning.
  auto vo = classify(Status::check_condition,
                     bytes({0xf0, 0, 0x4d, 0, 1, 0, 0, 10, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0}));
  EXPECT_EQ(vo.code, tape_errc::volume_overflow);
  EXPECT_EQ(vo.residue, 65536);
  // Deferred (71h) MEDIUM ERROR.
  auto deferred = classify(Status::check_condition,
                           bytes({0x71, 0, 0x03, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x0c, 0, 0, 0, 0, 0}));
  EXPECT_EQ(deferred.code, tape_errc::deferred_error);
  // BLANK CHECK, END-OF-DATA DETECTED.
  auto eod = classify(Status::check_condition,
                      bytes({0x70, 0, 0x08, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0}));
  EXPECT_EQ(eod.code, tape_errc::end_of_data);
  EXPECT_FALSE(eod.residue);  // VALID = 0
}

Condition cond(std::optional<tape_errc> code, std::optional<std::int64_t> residue = {},
               bool eom = false) {
  Condition c;
  c.code = code;
  c.residue = residue;
  c.eom = eom;
  return c;
}

TEST(TapeReadAccount, VariableMode) {
  auto data = account_read(cond(std::nullopt), 100, 0, 100);
  ASSERT_TRUE(data);
  EXPECT_EQ(data->record.status, ReadStatus::data);
  EXPECT_EQ(data->record.bytes, 100u);
  EXPECT_EQ(data->objects, 1u);

  auto fm = account_read(cond(tape_errc::filemark, 100), 100, 0, 0);
  ASSERT_TRUE(fm);
  EXPECT_EQ(fm->record.status, ReadStatus::filemark);
  EXPECT_EQ(fm->objects, 1u);
  EXPECT_EQ(fm->files, 1);

  auto eod = account_read(cond(tape_errc::end_of_data, 100), 100, 0, 0);
  ASSERT_TRUE(eod);
  EXPECT_EQ(eod->record.status, ReadStatus::end_of_data);
  EXPECT_EQ(eod->objects, 0u);

  // Short record: the residue decides the length even when Data-In was padded.
  auto shorter = account_read(cond(tape_errc::incorrect_length_short, 30), 100, 0, 100);
  ASSERT_TRUE(shorter);
  EXPECT_EQ(shorter->record.status, ReadStatus::short_record);
  EXPECT_EQ(shorter->record.bytes, 70u);
  EXPECT_EQ(shorter->record.residue, 30);
  EXPECT_EQ(shorter->objects, 1u);
  // ... but never counts bytes that did not arrive (tgtd sends less than the record).
  auto cut = account_read(cond(tape_errc::incorrect_length_short, 30), 100, 0, 40);
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->record.bytes, 40u);
  EXPECT_EQ(cut->record.residue, 30);

  auto longer = account_read(cond(tape_errc::incorrect_length_long, -50), 100, 0, 100);
  ASSERT_TRUE(longer);
  EXPECT_EQ(longer->record.status, ReadStatus::long_record);
  EXPECT_EQ(longer->record.bytes, 100u);
  EXPECT_EQ(longer->record.residue, -50);

  auto ew = account_read(cond(tape_errc::early_warning, 0, true), 100, 0, 100);
  ASSERT_TRUE(ew);
  EXPECT_EQ(ew->record.status, ReadStatus::data);
  EXPECT_TRUE(ew->record.early_warning);

  EXPECT_FALSE(account_read(cond(tape_errc::medium_error), 100, 0, 0));
  EXPECT_FALSE(account_read(cond(tape_errc::unit_attention), 100, 0, 0));
  EXPECT_FALSE(account_read(cond(tape_errc::deferred_error), 100, 0, 0));
}

TEST(TapeReadAccount, FixedMode) {
  // 4 blocks of 512 asked, filemark after 2: 2 blocks delivered, 3 objects passed.
  auto fm = account_read(cond(tape_errc::filemark, 2), 2048, 512, 1024);
  ASSERT_TRUE(fm);
  EXPECT_EQ(fm->record.status, ReadStatus::filemark);
  EXPECT_EQ(fm->record.bytes, 1024u);
  EXPECT_EQ(fm->objects, 3u);
  // A block of the wrong length after 1 block: passed, not transferred.
  auto ili = account_read(cond(tape_errc::incorrect_length_short, 3), 2048, 512, 512);
  ASSERT_TRUE(ili);
  EXPECT_EQ(ili->record.status, ReadStatus::wrong_block_length);
  EXPECT_EQ(ili->record.bytes, 512u);
  EXPECT_EQ(ili->objects, 2u);
  auto eod = account_read(cond(tape_errc::end_of_data, 1), 2048, 512, 1536);
  ASSERT_TRUE(eod);
  EXPECT_EQ(eod->record.bytes, 1536u);
  EXPECT_EQ(eod->objects, 3u);
  auto whole = account_read(cond(std::nullopt), 2048, 512, 2048);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->objects, 4u);
}

TEST(TapeErrors, MessageCarriesPositionAndResidue) {
  TapeError e;
  e.code = make_error_code(tape_errc::volume_overflow);
  e.operation = "WRITE(6)";
  e.block = 1234;
  e.record = 17;
  e.residue = 65536;
  const std::string m = e.message();
  EXPECT_NE(m.find("WRITE(6)"), std::string::npos) << m;
  EXPECT_NE(m.find("volume overflow"), std::string::npos) << m;
  EXPECT_NE(m.find("block 1234"), std::string::npos) << m;
  EXPECT_NE(m.find("record 17"), std::string::npos) << m;
  EXPECT_NE(m.find("65536"), std::string::npos) << m;
  EXPECT_EQ(make_error_code(tape_errc::filemark).category().name(), std::string("uiscsi-tape"));
}

TEST(TapeDensity, Names) {
  EXPECT_EQ(density_name(0x40), "LTO-1");
  EXPECT_EQ(density_name(0x42), "LTO-2");
  EXPECT_EQ(density_name(0x44), "LTO-3");
  EXPECT_EQ(density_name(0x46), "LTO-4");
  EXPECT_EQ(density_name(0x58), "LTO-5");
  EXPECT_EQ(density_name(0x5a), "LTO-6");
  EXPECT_EQ(density_name(0x5c), "LTO-7");
  EXPECT_EQ(density_name(0x5e), "LTO-8");
  EXPECT_EQ(density_name(0x60), "LTO-9");
  EXPECT_EQ(density_name(0x13), "DDS");
  EXPECT_EQ(density_name(0x24), "DDS-2");
  EXPECT_EQ(density_name(0x25), "DDS-3");
  EXPECT_EQ(density_name(0x26), "DDS-4");
  EXPECT_EQ(density_name(0x47), "DAT-72");
  EXPECT_EQ(density_name(0x7e), "unknown");
}

}  // namespace
}  // namespace uiscsi::tape::detail
