// SMC-3 element address assignment mode page (1Dh) parsing, alone and inside MODE SENSE data.
#include <gtest/gtest.h>

#include "scsi_test_util.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/errors.hpp"

namespace uiscsi::scsi {
namespace {

using test::hex;

// MODE SENSE(6) data as a library with robot 0, slots 1000h.. (40), import/export 10h.. (2)
// and drives 100h.. (4) returns it: 4-byte header, no block descriptor, page 1Dh of 12h bytes.
std::vector<std::byte> mode_sense6_with_page_1d() {
  return hex(
      "17 08 00 00"
      "9d 12 00 00 00 01 10 00 00 28 00 10 00 02 01 00 00 04 00 00");
}

TEST(ElementAddressPage, ParsesEveryRangeFromModeSense6) {
  auto m = parse_mode_sense6(mode_sense6_with_page_1d(), PeripheralDeviceType::medium_changer);
  ASSERT_TRUE(m) << m.error().message();
  const ModePage* page = m->find_page(mode_page::kElementAddressAssignment);
  ASSERT_NE(page, nullptr);
  EXPECT_TRUE(page->ps);
  auto a = parse_element_address_page(*page);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->medium_transport, (ElementRange{0x0000, 1}));
  EXPECT_EQ(a->storage, (ElementRange{0x1000, 40}));
  EXPECT_EQ(a->import_export, (ElementRange{0x0010, 2}));
  EXPECT_EQ(a->data_transfer, (ElementRange{0x0100, 4}));
}

TEST(ElementAddressPage, RangeContainsItsAddressesOnly) {
  const ElementRange r{0x1000, 40};
  EXPECT_TRUE(r.contains(0x1000));
  EXPECT_TRUE(r.contains(0x1027));
  EXPECT_FALSE(r.contains(0x1028));
  EXPECT_FALSE(r.contains(0x0fff));
  EXPECT_FALSE((ElementRange{5, 0}).contains(5));
  // No overflow at the top of the address space.
  EXPECT_TRUE((ElementRange{0xfffe, 2}).contains(0xffff));
}

TEST(ElementAddressPage, EveryShortParameterListIsTruncated) {
  ModePage page;
  page.page_code = mode_page::kElementAddressAssignment;
  const auto full = hex("00 00 00 01 00 01 00 08 00 09 00 01 00 0a 00 01 00 00");
  for (std::size_t n = 0; n < 16; ++n) {
    page.parameters.assign(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    auto a = parse_element_address_page(page);
    ASSERT_FALSE(a) << n;
    EXPECT_EQ(a.error(), scsi_errc::truncated_data) << n;
  }
  page.parameters.assign(full.begin(), full.begin() + 16);  // without the reserved bytes
  auto a = parse_element_address_page(page);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->data_transfer, (ElementRange{10, 1}));
}

TEST(ElementAddressPage, OtherPagesAreRejected) {
  ModePage page;
  page.page_code = 0x1e;  // transport geometry
  page.parameters = hex("00 00 00 01 00 01 00 08 00 09 00 01 00 0a 00 01 00 00");
  auto a = parse_element_address_page(page);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error(), scsi_errc::malformed_data);
  page.page_code = mode_page::kElementAddressAssignment;
  page.spf = true;  // SMC-3 defines no subpage of 1Dh
  a = parse_element_address_page(page);
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error(), scsi_errc::malformed_data);
}

TEST(ElementAddressPage, ModeSenseCutInsideThePageHasNoPage) {
  const auto data = mode_sense6_with_page_1d();
  for (std::size_t n = 4; n < data.size(); ++n) {
    auto m = parse_mode_sense6(std::span(data).first(n), PeripheralDeviceType::medium_changer);
    if (!m) continue;
    const ModePage* page = m->find_page(mode_page::kElementAddressAssignment);
    if (page != nullptr) {
      EXPECT_TRUE(parse_element_address_page(*page)) << n;
    }
  }
}

}  // namespace
}  // namespace uiscsi::scsi
