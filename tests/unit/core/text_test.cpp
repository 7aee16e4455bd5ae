#include "core/text.hpp"

#include <gtest/gtest.h>

#include "core/bytes.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

std::vector<std::byte> raw(std::string_view s) {
  auto b = as_bytes(s);
  return {b.begin(), b.end()};
}

TEST(Text, RoundTrip) {
  const KeyValueList kvs = {{"HeaderDigest", "CRC32C,None"},
                            {"MaxRecvDataSegmentLength", "262144"},
                            {"X-com.example.Key", ""}};
  const auto wire = serialize_text(kvs);
  auto back = parse_text(wire);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, kvs);
  EXPECT_EQ(*find_value(kvs, "MaxRecvDataSegmentLength"), "262144");
  EXPECT_FALSE(find_value(kvs, "Nope"));
}

TEST(Text, ToleratesMissingFinalNulAndPadding) {
  auto a = parse_text(raw("A=1"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->size(), 1u);
  auto b = parse_text(raw(std::string("A=1\0B=2\0\0\0", 10)));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size(), 2u);
  EXPECT_TRUE(parse_text({})->empty());
}

TEST(Text, Malformed) {
  EXPECT_EQ(parse_text(raw("NoEquals")).error(), protocol_errc::text_malformed);
  EXPECT_EQ(parse_text(raw("=value")).error(), protocol_errc::text_malformed);
  EXPECT_EQ(parse_text(raw("Bad Key=1")).error(), protocol_errc::text_malformed);
  EXPECT_EQ(parse_text(raw(std::string("A=1\0\0B=2", 8))).error(), protocol_errc::text_malformed);
}

TEST(Text, Limits) {
  const std::string key63(63, 'K'), key64(64, 'K');
  EXPECT_TRUE(parse_text(raw(key63 + "=1")));
  EXPECT_EQ(parse_text(raw(key64 + "=1")).error(), protocol_errc::text_key_too_long);
  EXPECT_TRUE(parse_text(raw("A=" + std::string(255, 'v'))));
  EXPECT_EQ(parse_text(raw("A=" + std::string(256, 'v'))).error(),
            protocol_errc::text_value_too_long);
  // CHAP values may be long (a 1024-byte challenge is 2050 characters of hex).
  EXPECT_TRUE(parse_text(raw("CHAP_C=0x" + std::string(2048, 'a'))));
  EXPECT_EQ(parse_text(raw("CHAP_C=0x" + std::string(kMaxLongValueLength, 'a'))).error(),
            protocol_errc::text_value_too_long);
  TextLimits small;
  small.max_total = 10;
  EXPECT_EQ(parse_text(raw("A=1234567890"), small).error(), protocol_errc::text_too_long);
  EXPECT_EQ(parse_text(raw(std::string("A=1\0A=2\0", 8))).error(),
            protocol_errc::text_duplicate_key);
}

TEST(Text, AccumulatorJoinsContinuedPdusWithinBound) {
  TextAccumulator acc(16);
  ASSERT_TRUE(acc.append(raw("SendTar"), true));
  EXPECT_FALSE(acc.complete());
  ASSERT_TRUE(acc.append(raw("gets=All"), false));
  ASSERT_TRUE(acc.complete());
  auto joined = acc.take();
  EXPECT_EQ(as_chars(joined), "SendTargets=All");
  EXPECT_FALSE(acc.complete());
  ASSERT_TRUE(acc.append(raw("0123456789"), true));
  EXPECT_EQ(acc.append(raw("0123456789"), false).error(), protocol_errc::text_too_long);
}

TEST(Text, SplitCoversEverythingInBoundedSegments) {
  const auto text = raw(std::string(1000, 'x'));
  const auto parts = split_text(text, 300);
  ASSERT_EQ(parts.size(), 4u);
  std::size_t total = 0;
  for (auto p : parts) {
    EXPECT_LE(p.size(), 300u);
    total += p.size();
  }
  EXPECT_EQ(total, 1000u);
  EXPECT_EQ(split_text({}, 300).size(), 1u);  // one empty segment: a PDU still goes out
}

TEST(Text, Numeric) {
  EXPECT_EQ(*parse_numeric("8192"), 8192u);
  EXPECT_EQ(*parse_numeric("0x2000"), 8192u);
  EXPECT_EQ(*parse_numeric("0X2000"), 8192u);
  EXPECT_EQ(*parse_numeric("0bIAA="), 8192u);  // base64 of 0x20 0x00
  EXPECT_EQ(*parse_numeric("18446744073709551615"), ~0ull);
  EXPECT_FALSE(parse_numeric("18446744073709551616"));
  EXPECT_FALSE(parse_numeric(""));
  EXPECT_FALSE(parse_numeric("12a"));
  EXPECT_FALSE(parse_numeric("-1"));
  EXPECT_FALSE(parse_numeric("0x"));
  EXPECT_FALSE(parse_numeric("0x1ffffffffffffffff"));
  EXPECT_EQ(*parse_numeric("0x00000000000000000001"), 1u);
}

TEST(Text, BinaryHexAndBase64) {
  const std::vector<std::byte> bytes = {std::byte{0xde}, std::byte{0xad}, std::byte{0xbe},
                                        std::byte{0xef}, std::byte{0x01}};
  EXPECT_EQ(format_hex(bytes), "0xdeadbeef01");
  EXPECT_EQ(*parse_binary("0xDEADBEEF01"), bytes);
  EXPECT_EQ(*parse_binary(format_base64(bytes)), bytes);
  for (std::size_t n = 0; n < 8; ++n) {
    std::vector<std::byte> b(n);
    for (std::size_t i = 0; i < n; ++i)
      b[i] = static_cast<std::byte>(i * 37 + 1);
    if (n == 0) continue;
    EXPECT_EQ(*parse_binary(format_base64(b)), b) << n;
    EXPECT_EQ(*parse_binary(format_hex(b)), b) << n;
  }
  EXPECT_FALSE(parse_binary("1234"));  // decimal is not binary
  EXPECT_FALSE(parse_binary("0xZZ"));
  EXPECT_FALSE(parse_binary("0bAB=C"));  // '=' in the middle
  EXPECT_FALSE(parse_binary("0bABC"));   // not a multiple of 4
  EXPECT_EQ(*parse_binary("0xabc"), (std::vector<std::byte>{std::byte{0x0a}, std::byte{0xbc}}));
}

TEST(Text, BooleanAndList) {
  EXPECT_TRUE(*parse_boolean("Yes"));
  EXPECT_FALSE(*parse_boolean("No"));
  EXPECT_FALSE(parse_boolean("yes"));
  const auto l = split_list("CRC32C,None");
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0], "CRC32C");
  EXPECT_EQ(l[1], "None");
  EXPECT_EQ(split_list("None").size(), 1u);
}

}  // namespace
}  // namespace uiscsi::core
