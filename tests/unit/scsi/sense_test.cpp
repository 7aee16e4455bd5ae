// Sense data: fixed and descriptor formats, tape bits, names, describe() and builders.
#include "uiscsi/scsi/sense.hpp"

#include <gtest/gtest.h>

#include <set>

#include "scsi/asc_names.hpp"
#include "scsi_test_util.hpp"
#include "uiscsi/scsi/errors.hpp"

namespace uiscsi::scsi {
namespace {

using test::for_each_prefix;
using test::hex;

TEST(Sense, FixedMediumError) {
  // 70h, VALID, MEDIUM ERROR, INFORMATION 1234 (LBA), ASC/ASCQ 11/00, retry count 3.
  const auto d = hex("f0 00 03 00 00 04 d2 0a 00 00 00 00 11 00 00 80 00 03");
  auto s = parse_sense(d);
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->descriptor_format());
  EXPECT_TRUE(s->current());
  EXPECT_EQ(s->response_code, 0x70);
  EXPECT_EQ(s->sense_key, SenseKey::medium_error);
  EXPECT_EQ(s->asc, 0x11);
  EXPECT_EQ(s->ascq, 0x00);
  EXPECT_TRUE(s->information_valid);
  EXPECT_EQ(s->information, 1234u);
  EXPECT_TRUE(s->sense_key_specific.valid);
  EXPECT_EQ(s->sense_key_specific.retry_count(), 3);
  EXPECT_EQ(describe(*s), "MEDIUM ERROR: unrecovered read error (asc 0x11, ascq 0x00), info 1234");
}

TEST(Sense, FixedIllegalRequestFieldPointer) {
  // INVALID FIELD IN CDB, field pointer: C/D=1, BPV, bit 1 of CDB byte 2.
  const auto d = hex("70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 c9 00 02");
  auto s = parse_sense(d);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->sense_key, SenseKey::illegal_request);
  EXPECT_FALSE(s->information_valid);
  const SenseKeySpecific& k = s->sense_key_specific;
  EXPECT_TRUE(k.valid);
  EXPECT_TRUE(k.command_data());
  EXPECT_TRUE(k.bit_pointer_valid());
  EXPECT_EQ(k.bit_pointer(), 1);
  EXPECT_EQ(k.field_pointer(), 2);
  EXPECT_EQ(describe(*s),
            "ILLEGAL REQUEST: invalid field in CDB (asc 0x24, ascq 0x00), CDB byte 2 bit 1");
  EXPECT_EQ(k, SenseKeySpecific::field(true, 2, 1));
}

TEST(Sense, FixedTapeFilemarkAndIliWithNegativeResidue) {
  // READ(6) variable mode asked for 512 bytes, the record was 1024: ILI with INFORMATION =
  // requested - actual = -512 (FFFFFE00h), NO SENSE.
  const auto ili = hex("f0 00 20 ff ff fe 00 0a 00 00 00 00 00 00 00 00 00 00");
  auto s = parse_sense(ili);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->sense_key, SenseKey::no_sense);
  EXPECT_TRUE(s->ili);
  EXPECT_FALSE(s->filemark);
  EXPECT_TRUE(s->information_valid);
  EXPECT_EQ(s->information, 0xfffffe00u);
  EXPECT_EQ(s->information_signed(), -512);
  EXPECT_EQ(describe(*s),
            "NO SENSE: no additional sense information (asc 0x00, ascq 0x00), ili, info -512");

  // Filemark read: NO SENSE 00/01, FM, residue = whole request (positive).
  const auto fm = hex("f0 00 80 00 01 00 00 0a 00 00 00 00 00 01 00 00 00 00");
  auto f = parse_sense(fm);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->filemark);
  EXPECT_EQ(f->information_signed(), 65536);
  EXPECT_EQ(describe(*f),
            "NO SENSE: filemark detected (asc 0x00, ascq 0x01), filemark, info 65536");

  // Early warning on write: NO SENSE 00/02 with EOM, vs. VOLUME OVERFLOW 00/02 with EOM.
  auto ew = parse_sense(hex("70 00 40 00 00 00 00 0a 00 00 00 00 00 02 00 00 00 00"));
  ASSERT_TRUE(ew);
  EXPECT_TRUE(ew->eom);
  EXPECT_EQ(ew->sense_key, SenseKey::no_sense);
  auto vo = parse_sense(hex("70 00 4d 00 00 00 00 0a 00 00 00 00 00 02 00 00 00 00"));
  ASSERT_TRUE(vo);
  EXPECT_TRUE(vo->eom);
  EXPECT_EQ(vo->sense_key, SenseKey::volume_overflow);

  // Blank check at end of data.
  auto bc = parse_sense(hex("70 00 08 00 00 00 00 0a 00 00 00 00 00 05 00 00 00 00"));
  ASSERT_TRUE(bc);
  EXPECT_EQ(describe(*bc), "BLANK CHECK: end-of-data detected (asc 0x00, ascq 0x05)");
}

TEST(Sense, DeferredAndShortButValid) {
  auto d = parse_sense(hex("71 00 03 00 00 00 00 06 00 00 00 00 0c 00"));
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->deferred());
  EXPECT_EQ(d->asc, 0x0c);
  EXPECT_EQ(describe(*d), "deferred error: MEDIUM ERROR: write error (asc 0x0c, ascq 0x00)");
  // Only the first three bytes: the key is known, ASC/ASCQ are not.
  auto three = parse_sense(hex("70 00 06"));
  ASSERT_TRUE(three);
  EXPECT_EQ(three->sense_key, SenseKey::unit_attention);
  EXPECT_EQ(three->asc, 0);
  // ADDITIONAL SENSE LENGTH 6 hides the ASC even though bytes are present.
  auto capped = parse_sense(hex("70 00 06 00 00 00 00 04 00 00 00 00 29 00"));
  ASSERT_TRUE(capped);
  EXPECT_EQ(capped->asc, 0);
}

TEST(Sense, ErrorsForUnusableSense) {
  EXPECT_EQ(parse_sense({}).error(), scsi_errc::truncated_data);
  EXPECT_EQ(parse_sense(hex("70 00")).error(), scsi_errc::truncated_data);
  EXPECT_EQ(parse_sense(hex("72")).error(), scsi_errc::truncated_data);
  EXPECT_EQ(parse_sense(hex("7f 00 00 00")).error(), scsi_errc::unsupported_format);
  EXPECT_EQ(parse_sense(hex("00 00 05 00")).error(), scsi_errc::malformed_data);
  EXPECT_EQ(parse_sense(hex("74 00 05 00")).error(), scsi_errc::malformed_data);
}

// Descriptor format as LIO sends it for a tape/ILI case: information, stream commands and
// sense key specific descriptors, plus an ATA status return descriptor (09h) kept raw.
std::vector<std::byte> descriptor_sample() {
  return hex(
      "72 03 11 00 00 00 00 32"
      "00 0a 80 00 ff ff ff ff ff ff fe 00"  // information: -512
      "01 0a 00 00 00 00 00 00 00 00 00 07"  // command-specific: 7
      "02 06 00 00 80 00 05 00"              // sense key specific: retry count 5
      "04 02 00 e0"                          // stream: FM, EOM, ILI
      "09 0c 00 00 00 00 00 00 00 00 00 00 00 00");
}

TEST(Sense, DescriptorFormat) {
  const auto d = descriptor_sample();
  auto s = parse_sense(d);
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->descriptor_format());
  EXPECT_EQ(s->sense_key, SenseKey::medium_error);
  EXPECT_EQ(s->asc, 0x11);
  EXPECT_TRUE(s->information_valid);
  EXPECT_EQ(s->information_signed(), -512);
  EXPECT_TRUE(s->command_specific_valid);
  EXPECT_EQ(s->command_specific_information, 7u);
  EXPECT_TRUE(s->sense_key_specific.valid);
  EXPECT_EQ(s->sense_key_specific.retry_count(), 5);
  EXPECT_TRUE(s->filemark);
  EXPECT_TRUE(s->eom);
  EXPECT_TRUE(s->ili);
  ASSERT_EQ(s->descriptors.size(), 5u);
  EXPECT_EQ(s->descriptors[4].type, 0x09);
  EXPECT_EQ(s->descriptors[4].bytes.size(), 14u);
}

TEST(Sense, DescriptorBlockCommandsAndMinimal) {
  auto b = parse_sense(hex("72 05 24 00 00 00 00 04 05 02 00 20"));
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->ili);
  EXPECT_FALSE(b->filemark);
  auto two = parse_sense(hex("73 02"));
  ASSERT_TRUE(two);
  EXPECT_TRUE(two->deferred());
  EXPECT_EQ(two->sense_key, SenseKey::not_ready);
}

TEST(Sense, EveryPrefixIsSafeAndConsistent) {
  const auto fixed = hex("f0 00 e3 00 00 04 d2 0a 00 00 00 07 11 00 05 c9 00 02");
  const auto full_fixed = *parse_sense(fixed);
  for_each_prefix(fixed, [&](std::span<const std::byte> p) {
    auto s = parse_sense(p);
    if (p.size() < 3) {
      EXPECT_FALSE(s);
      return;
    }
    ASSERT_TRUE(s);
    EXPECT_EQ(s->sense_key, full_fixed.sense_key);
    EXPECT_EQ(s->filemark, full_fixed.filemark);
    if (p.size() >= 13) {
      EXPECT_EQ(s->asc, full_fixed.asc);
    }
    if (p.size() >= 7) {
      EXPECT_EQ(s->information, full_fixed.information);
    }
    if (p.size() < 18) {
      EXPECT_FALSE(s->sense_key_specific.valid);
    }
  });
  const auto desc = descriptor_sample();
  for_each_prefix(desc, [&](std::span<const std::byte> p) {
    auto s = parse_sense(p);
    if (p.size() < 2) {
      EXPECT_FALSE(s);
      return;
    }
    ASSERT_TRUE(s);
    EXPECT_EQ(s->sense_key, SenseKey::medium_error);
    if (p.size() < 20) {
      EXPECT_FALSE(s->information_valid);
    }
    if (p.size() >= 20) {
      EXPECT_EQ(s->information_signed(), -512);
    }
  });
}

TEST(AscNames, CommonCodes) {
  EXPECT_EQ(asc_ascq_name(0x29, 0x00), "power on, reset, or bus device reset occurred");
  EXPECT_EQ(asc_ascq_name(0x3a, 0x00), "medium not present");
  EXPECT_EQ(asc_ascq_name(0x00, 0x01), "filemark detected");
  EXPECT_EQ(asc_ascq_name(0x00, 0x02), "end-of-partition/medium detected");
  EXPECT_EQ(asc_ascq_name(0x00, 0x04), "beginning-of-partition/medium detected");
  EXPECT_EQ(asc_ascq_name(0x00, 0x05), "end-of-data detected");
  EXPECT_EQ(asc_ascq_name(0x14, 0x03), "end-of-data not found");
  EXPECT_EQ(asc_ascq_name(0x24, 0x00), "invalid field in CDB");
  EXPECT_EQ(asc_ascq_name(0x20, 0x00), "invalid command operation code");
  EXPECT_EQ(asc_ascq_name(0x21, 0x00), "logical block address out of range");
  EXPECT_EQ(asc_ascq_name(0x27, 0x00), "write protected");
  EXPECT_EQ(asc_ascq_name(0x3b, 0x00), "sequential positioning error");
  EXPECT_EQ(asc_ascq_name(0x04, 0x01), "logical unit is in process of becoming ready");
  EXPECT_EQ(asc_ascq_name(0x28, 0x00), "not ready to ready change, medium may have changed");
  EXPECT_EQ(asc_ascq_name(0x2a, 0x09), "capacity data has changed");
  EXPECT_EQ(asc_ascq_name(0x3f, 0x0e), "reported LUNs data has changed");
  EXPECT_EQ(asc_ascq_name(0x26, 0x00), "invalid field in parameter list");
  EXPECT_EQ(asc_ascq_name(0x1a, 0x00), "parameter list length error");
  EXPECT_EQ(asc_ascq_name(0x30, 0x00), "incompatible medium installed");
  EXPECT_EQ(asc_ascq_name(0x53, 0x02), "medium removal prevented");
  EXPECT_EQ(asc_ascq_name(0x3b, 0x0e), "medium source element empty");
  EXPECT_EQ(asc_ascq_name(0x44, 0x00), "internal target failure");
  EXPECT_EQ(asc_ascq_name(0x5d, 0x12), "hardware impending failure data error rate too high");
}

TEST(AscNames, RangesAndUnknownCodes) {
  EXPECT_EQ(asc_ascq_name(0x40, 0x85), "diagnostic failure on component");
  EXPECT_EQ(asc_ascq_name(0x4d, 0x17), "tagged overlapped commands, task tag");
  EXPECT_EQ(asc_ascq_name(0x70, 0x03), "decompression exception short algorithm ID");
  EXPECT_EQ(asc_ascq_name(0x80, 0x00), "vendor specific additional sense code");
  EXPECT_EQ(asc_ascq_name(0xff, 0xff), "vendor specific additional sense code");
  EXPECT_EQ(asc_ascq_name(0x04, 0x80), "vendor specific additional sense code qualifier");
  EXPECT_EQ(asc_ascq_name(0x56, 0x00), "unknown additional sense code");
  EXPECT_EQ(asc_ascq_name(0x29, 0x7e), "unknown additional sense code");
  SenseData s = make_sense(SenseKey::hardware_error, 0x40, 0x85);
  EXPECT_EQ(describe(s),
            "HARDWARE ERROR: diagnostic failure on component 0x85 (asc 0x40, ascq 0x85)");
  // Every pair has a non-empty name.
  for (int asc = 0; asc < 256; ++asc) {
    for (int ascq = 0; ascq < 256; ++ascq) {
      ASSERT_FALSE(
          asc_ascq_name(static_cast<std::uint8_t>(asc), static_cast<std::uint8_t>(ascq)).empty());
    }
  }
}

TEST(AscNames, TableIsLargeSortedAndUnique) {
  const std::size_t n = detail::asc_table_size();
  EXPECT_GE(n, 500u);
  std::set<std::uint16_t> seen;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) {
      EXPECT_LT(detail::asc_table_key(i - 1), detail::asc_table_key(i));
    }
    seen.insert(detail::asc_table_key(i));
  }
  EXPECT_EQ(seen.size(), n);
}

TEST(SenseKeys, Names) {
  EXPECT_EQ(sense_key_name(SenseKey::no_sense), "NO SENSE");
  EXPECT_EQ(sense_key_name(SenseKey::not_ready), "NOT READY");
  EXPECT_EQ(sense_key_name(SenseKey::unit_attention), "UNIT ATTENTION");
  EXPECT_EQ(sense_key_name(SenseKey::blank_check), "BLANK CHECK");
  EXPECT_EQ(sense_key_name(SenseKey::aborted_command), "ABORTED COMMAND");
  EXPECT_EQ(sense_key_name(SenseKey::volume_overflow), "VOLUME OVERFLOW");
  EXPECT_EQ(sense_key_name(SenseKey::miscompare), "MISCOMPARE");
  EXPECT_EQ(sense_key_name(SenseKey::completed), "COMPLETED");
}

TEST(SenseBuild, FixedLayout) {
  SenseData s = make_sense(SenseKey::illegal_request, 0x24, 0x00);
  s.sense_key_specific = SenseKeySpecific::field(true, 1, 0);
  const auto d = build_fixed_sense(s);
  EXPECT_EQ(test::ints(d),
            test::ints(hex("70 00 05 00 00 00 00 0a 00 00 00 00 24 00 00 c8 00 01")));
}

TEST(SenseBuild, FixedTapeResidueRoundTrip) {
  SenseData s = make_sense(SenseKey::no_sense, 0x00, 0x00);
  s.ili = true;
  s.information_valid = true;
  s.information = static_cast<std::uint64_t>(std::int64_t{-512});
  const auto d = build_fixed_sense(s);
  EXPECT_EQ(test::ints(std::span(d).first(8)), test::ints(hex("f0 00 20 ff ff fe 00 0a")));
  auto back = parse_sense(d);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->ili);
  EXPECT_EQ(back->information_signed(), -512);

  // A 64-bit LBA does not fit the fixed format: VALID stays 0.
  SenseData big = make_sense(SenseKey::medium_error, 0x11, 0x00);
  big.information_valid = true;
  big.information = 0x100000000ull;
  EXPECT_FALSE(parse_sense(build_fixed_sense(big))->information_valid);

  SenseData deferred = make_sense(SenseKey::medium_error, 0x0c, 0x00);
  deferred.response_code = 0x73;
  EXPECT_EQ(std::to_integer<int>(build_fixed_sense(deferred)[0]), 0x71);
}

TEST(SenseBuild, DescriptorRoundTrip) {
  SenseData s = make_sense(SenseKey::medium_error, 0x11, 0x00);
  s.response_code = 0x72;
  s.information_valid = true;
  s.information = 0x0123456789abcdefull;
  s.command_specific_valid = true;
  s.command_specific_information = 9;
  s.sense_key_specific = SenseKeySpecific::progress_indication(0x8000);
  s.field_replaceable_unit = 4;
  s.filemark = true;
  s.eom = true;
  const auto d = build_descriptor_sense(s);
  EXPECT_EQ(test::ints(std::span(d).first(20)),
            test::ints(hex("72 03 11 00 00 00 00 28 00 0a 80 00 01 23 45 67 89 ab cd ef")));
  auto back = parse_sense(d);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->sense_key, s.sense_key);
  EXPECT_EQ(back->asc, s.asc);
  EXPECT_EQ(back->information_valid, s.information_valid);
  EXPECT_EQ(back->information, s.information);
  EXPECT_EQ(back->command_specific_information, 9u);
  EXPECT_EQ(back->sense_key_specific, s.sense_key_specific);
  EXPECT_EQ(back->field_replaceable_unit, 4);
  EXPECT_TRUE(back->filemark);
  EXPECT_TRUE(back->eom);
  EXPECT_FALSE(back->ili);
  EXPECT_EQ(back->descriptors.size(), 5u);
  // Building again from the parsed result gives the same bytes (standard descriptors are
  // regenerated from the fields, not duplicated).
  EXPECT_EQ(build_descriptor_sense(*back), d);

  SenseData plain = make_sense(SenseKey::unit_attention, 0x29, 0x00);
  EXPECT_EQ(test::ints(build_descriptor_sense(plain)), test::ints(hex("72 06 29 00 00 00 00 00")));
  EXPECT_EQ(describe(*parse_sense(build_descriptor_sense(plain))),
            "UNIT ATTENTION: power on, reset, or bus device reset occurred (asc 0x29, ascq 0x00)");
}

TEST(SenseBuild, NotReadyProgressDescribe) {
  SenseData s = make_sense(SenseKey::not_ready, 0x00, 0x1a);
  s.sense_key_specific = SenseKeySpecific::progress_indication(0x4000);
  EXPECT_EQ(describe(*parse_sense(build_fixed_sense(s))),
            "NOT READY: rewind operation in progress (asc 0x00, ascq 0x1a), progress 25%");
}

}  // namespace
}  // namespace uiscsi::scsi
