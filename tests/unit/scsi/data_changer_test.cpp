// SMC-3 READ ELEMENT STATUS parsing.
#include <gtest/gtest.h>

#include "scsi_test_util.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/errors.hpp"

namespace uiscsi::scsi {
namespace {

using test::append;
using test::ascii;
using test::bytes;
using test::for_each_prefix;
using test::hex;

std::vector<std::byte> page_header(int type, int voltag_flags, int desc_len, int bytes_count) {
  return bytes({type, voltag_flags, desc_len >> 8, desc_len & 0xff, 0, (bytes_count >> 16) & 0xff,
                (bytes_count >> 8) & 0xff, bytes_count & 0xff});
}

std::vector<std::byte> volume_tag(const char* barcode) {
  auto t = ascii(barcode, 32);
  append(t, hex("00 00 00 00"));
  return t;
}

// A small library as mhVTL / real changers report it with VOLTAG and DVCID: one robot, two
// slots (one full with barcode, one empty), one import/export slot, one drive (full, loaded
// from slot 0x1000, with a serial-number identifier).
std::vector<std::byte> library_status() {
  std::vector<std::byte> report;
  // Medium transport element, descriptor 12 + 36 = 48 bytes.
  append(report, page_header(1, 0x80, 48, 48));
  append(report, hex("00 01 00 00 00 00 00 00 00 00 00 00"));
  append(report, volume_tag(""));
  // Storage elements.
  append(report, page_header(2, 0x80, 48, 96));
  append(report, hex("10 00 09 00 00 00 00 00 00 00 00 00"));  // FULL + ACCESS
  append(report, volume_tag("E01001L4"));
  append(report, hex("10 01 08 00 00 00 00 00 00 00 00 00"));  // empty, ACCESS
  append(report, volume_tag(""));
  // Import/export element: INENAB, EXENAB, ACCESS, IMPEXP.
  append(report, page_header(3, 0x80, 48, 48));
  append(report, hex("03 00 3a 00 00 00 00 00 00 00 00 00"));
  append(report, volume_tag(""));
  // Data transfer element with DVCID: 12 + 36 + 4 + 12 = 64.
  append(report, page_header(4, 0x80, 64, 64));
  append(report, hex("01 00 09 00 00 00 00 00 00 c0 10 00"));  // SVALID + INVERT, source 1000h
  append(report, volume_tag("E01002L4"));
  append(report, hex("02 00 00 0c"));  // ASCII, vendor specific, 12 bytes
  append(report, ascii("HU1234567890", 12));
  auto d = bytes({0x00, 0x01, 0x00, 0x05, 0x00, static_cast<int>(report.size() >> 16),
                  static_cast<int>((report.size() >> 8) & 0xff),
                  static_cast<int>(report.size() & 0xff)});
  append(d, report);
  return d;
}

TEST(ReadElementStatus, Library) {
  const auto d = library_status();
  auto r = parse_read_element_status(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->first_address, 1);
  EXPECT_EQ(r->elements_available, 5);
  EXPECT_EQ(r->report_bytes_available, d.size() - 8);
  ASSERT_EQ(r->elements.size(), 5u);

  const ElementStatus& robot = r->elements[0];
  EXPECT_EQ(robot.type, ElementType::medium_transport);
  EXPECT_EQ(robot.address, 1);
  EXPECT_FALSE(robot.full);

  const ElementStatus& slot0 = r->elements[1];
  EXPECT_EQ(slot0.type, ElementType::storage);
  EXPECT_EQ(slot0.address, 0x1000);
  EXPECT_TRUE(slot0.full);
  EXPECT_TRUE(slot0.access);
  EXPECT_FALSE(slot0.except);
  EXPECT_EQ(slot0.primary_volume_tag, "E01001L4");
  const ElementStatus& slot1 = r->elements[2];
  EXPECT_FALSE(slot1.full);
  EXPECT_EQ(slot1.primary_volume_tag, "");

  const ElementStatus& mail = r->elements[3];
  EXPECT_EQ(mail.type, ElementType::import_export);
  EXPECT_TRUE(mail.inenab);
  EXPECT_TRUE(mail.exenab);
  EXPECT_TRUE(mail.access);
  EXPECT_TRUE(mail.impexp);
  EXPECT_FALSE(mail.full);

  const ElementStatus& drive = r->elements[4];
  EXPECT_EQ(drive.type, ElementType::data_transfer);
  EXPECT_EQ(drive.address, 0x0100);
  EXPECT_TRUE(drive.full);
  EXPECT_TRUE(drive.svalid);
  EXPECT_TRUE(drive.invert);
  EXPECT_EQ(drive.source_address, 0x1000);
  EXPECT_EQ(drive.primary_volume_tag, "E01002L4");
  ASSERT_TRUE(drive.device_identifier);
  EXPECT_EQ(drive.device_identifier->code_set, CodeSet::ascii);
  EXPECT_EQ(designator_string(*drive.device_identifier), "HU1234567890");
}

TEST(ReadElementStatus, ExceptionState) {
  auto d = hex("00 10 00 01 00 00 00 14");
  append(d, page_header(2, 0x00, 12, 12));
  append(d, hex("00 10 05 00 3b 0e 00 00 00 00 00 00"));  // EXCEPT + FULL, 3B/0E
  auto r = parse_read_element_status(d);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->elements.size(), 1u);
  EXPECT_TRUE(r->elements[0].except);
  EXPECT_EQ(r->elements[0].asc, 0x3b);
  EXPECT_EQ(r->elements[0].ascq, 0x0e);
  EXPECT_EQ(r->elements[0].primary_volume_tag, "");
}

TEST(ReadElementStatus, TruncatedByAllocationLength) {
  const auto d = library_status();
  const auto full = *parse_read_element_status(d);
  for_each_prefix(d, [&](std::span<const std::byte> p) {
    auto r = parse_read_element_status(p);
    if (p.size() < 8) {
      EXPECT_EQ(r.error(), scsi_errc::truncated_data);
      return;
    }
    ASSERT_TRUE(r);
    ASSERT_LE(r->elements.size(), full.elements.size());
    for (std::size_t i = 0; i < r->elements.size(); ++i) {
      EXPECT_EQ(r->elements[i], full.elements[i]);
    }
  });
}

TEST(ReadElementStatus, Malformed) {
  // Descriptor length shorter than the fixed part plus the announced volume tag.
  auto d = hex("00 10 00 01 00 00 00 14");
  append(d, page_header(2, 0x80, 12, 12));
  append(d, hex("10 00 09 00 00 00 00 00 00 00 00 00"));
  EXPECT_EQ(parse_read_element_status(d).error(), scsi_errc::malformed_data);
  // Descriptor length 0 must not loop forever.
  auto z = hex("00 10 00 01 00 00 00 14");
  append(z, page_header(2, 0x00, 0, 12));
  append(z, hex("10 00 09 00 00 00 00 00 00 00 00 00"));
  EXPECT_EQ(parse_read_element_status(z).error(), scsi_errc::malformed_data);
  // Page byte count is not a multiple of the descriptor length.
  auto odd = hex("00 10 00 01 00 00 00 12");
  append(odd, page_header(2, 0x00, 12, 10));
  append(odd, hex("10 00 09 00 00 00 00 00 00 00"));
  EXPECT_EQ(parse_read_element_status(odd).error(), scsi_errc::malformed_data);
  // Page claims more bytes than the report holds.
  auto over = hex("00 10 00 01 00 00 00 14");
  append(over, page_header(2, 0x00, 12, 24));
  append(over, hex("10 00 09 00 00 00 00 00 00 00 00 00"));
  EXPECT_EQ(parse_read_element_status(over).error(), scsi_errc::malformed_data);
}

}  // namespace
}  // namespace uiscsi::scsi
