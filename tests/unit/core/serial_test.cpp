#include "core/serial.hpp"

#include <gtest/gtest.h>

namespace uiscsi::core {
namespace {

TEST(Serial, OrdersWithinHalfRange) {
  EXPECT_TRUE(serial_lt(SerialNumber(1), SerialNumber(2)));
  EXPECT_FALSE(serial_lt(SerialNumber(2), SerialNumber(1)));
  EXPECT_TRUE(serial_gt(SerialNumber(2), SerialNumber(1)));
  EXPECT_FALSE(serial_lt(SerialNumber(5), SerialNumber(5)));
  EXPECT_TRUE(serial_le(SerialNumber(5), SerialNumber(5)));
  EXPECT_TRUE(serial_ge(SerialNumber(5), SerialNumber(5)));
}

TEST(Serial, WrapsAround) {
  // RFC 1982 section 3.2: 0xffffffff < 0 because 0 - 0xffffffff = 1 < 2^31.
  EXPECT_TRUE(serial_lt(SerialNumber(0xffffffffu), SerialNumber(0)));
  EXPECT_TRUE(serial_gt(SerialNumber(0), SerialNumber(0xffffffffu)));
  EXPECT_TRUE(serial_lt(SerialNumber(0xfffffff0u), SerialNumber(0x10)));
  EXPECT_EQ(SerialNumber(0xffffffffu) + 1, SerialNumber(0));
  EXPECT_EQ(serial_distance(SerialNumber(0xfffffffeu), SerialNumber(2)), 4);
  EXPECT_EQ(serial_distance(SerialNumber(2), SerialNumber(0xfffffffeu)), -4);
}

TEST(Serial, HalfRangeApartIsUndefined) {
  // Exactly 2^31 apart: neither is less than the other.
  const SerialNumber a(0), b(0x80000000u);
  EXPECT_FALSE(serial_lt(a, b));
  EXPECT_FALSE(serial_lt(b, a));
  EXPECT_FALSE(serial_gt(a, b));
  EXPECT_FALSE(serial_gt(b, a));
}

TEST(Serial, JustUnderHalfRange) {
  EXPECT_TRUE(serial_lt(SerialNumber(0), SerialNumber(0x7fffffffu)));
  EXPECT_TRUE(serial_gt(SerialNumber(0), SerialNumber(0x80000001u)));
}

TEST(Serial, Window) {
  EXPECT_TRUE(serial_in_window(SerialNumber(5), SerialNumber(5), SerialNumber(5)));
  EXPECT_TRUE(serial_in_window(SerialNumber(0), SerialNumber(0xfffffffeu), SerialNumber(3)));
  EXPECT_FALSE(serial_in_window(SerialNumber(4), SerialNumber(0xfffffffeu), SerialNumber(3)));
  // A closed window: MaxCmdSN = ExpCmdSN - 1 holds nothing.
  EXPECT_FALSE(serial_in_window(SerialNumber(10), SerialNumber(10), SerialNumber(9)));
}

}  // namespace
}  // namespace uiscsi::core
