#include "uiscsi/lun.hpp"

#include <gtest/gtest.h>

#include "uiscsi/errors.hpp"

namespace uiscsi {
namespace {

std::array<std::byte, 8> bytes(std::initializer_list<int> v) {
  std::array<std::byte, 8> out{};
  std::size_t i = 0;
  for (int x : v)
    out[i++] = static_cast<std::byte>(x);
  return out;
}

TEST(Lun, PeripheralBelow256) {
  auto l = Lun::from_number(5);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->wire(), bytes({0, 5}));
  EXPECT_EQ(l->method(), Lun::Method::peripheral);
  EXPECT_EQ(*l->to_number(), 5u);
}

TEST(Lun, FlatSpaceUpTo16383) {
  auto l = Lun::from_number(256);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->wire(), bytes({0x41, 0x00}));
  EXPECT_EQ(l->method(), Lun::Method::flat);
  EXPECT_EQ(*l->to_number(), 256u);
  EXPECT_EQ(*Lun::from_number(16383)->to_number(), 16383u);
  EXPECT_EQ(Lun::from_number(16383)->wire(), bytes({0x7f, 0xff}));
}

TEST(Lun, ExtendedFlatAndLongExtendedFlat) {
  auto l = Lun::from_number(16384);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->wire(), bytes({0xd2, 0x00, 0x40, 0x00}));
  EXPECT_EQ(l->method(), Lun::Method::extended_flat);
  EXPECT_EQ(*l->to_number(), 16384u);

  auto big = Lun::from_number((1ull << 40) - 1);
  ASSERT_TRUE(big);
  EXPECT_EQ(big->wire(), bytes({0xe2, 0xff, 0xff, 0xff, 0xff, 0xff}));
  EXPECT_EQ(big->method(), Lun::Method::long_extended_flat);
  EXPECT_EQ(*big->to_number(), (1ull << 40) - 1);
}

TEST(Lun, TooLargeIsAnErrorNotACrash) {
  auto l = Lun::from_number(1ull << 40);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error(), errc::invalid_argument);
  EXPECT_FALSE(Lun::from_number(~0ull));
}

TEST(Lun, WireBytesKeptVerbatim) {
  // Multi-level LUN: kept as is, has no single number.
  const auto raw = bytes({0x00, 0x01, 0x00, 0x02});
  const Lun l = Lun::from_wire(raw);
  EXPECT_EQ(l.wire(), raw);
  EXPECT_FALSE(l.to_number());
  EXPECT_EQ(l.to_string(), "0001000200000000");
}

TEST(Lun, WellKnownAndNotSpecified) {
  const Lun report_luns_wlun = Lun::from_wire(bytes({0xc1, 0x01}));
  EXPECT_EQ(report_luns_wlun.method(), Lun::Method::well_known);
  EXPECT_EQ(*report_luns_wlun.to_number(), 1u);
  EXPECT_EQ(Lun::from_wire(bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})).method(),
            Lun::Method::not_specified);
}

TEST(Lun, RoundTripThroughU64) {
  for (std::uint64_t n : {0ull, 1ull, 255ull, 256ull, 16383ull, 16384ull, 0xffffffull, 0x1000000ull,
                          0xffffffffffull}) {
    auto l = Lun::from_number(n);
    ASSERT_TRUE(l) << n;
    EXPECT_EQ(*Lun::from_u64(l->as_u64()).to_number(), n);
  }
}

}  // namespace
}  // namespace uiscsi
