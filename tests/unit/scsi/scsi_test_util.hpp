// Helpers shared by the src/scsi unit tests.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

#include "uiscsi/scsi/command.hpp"

namespace uiscsi::scsi::test {

// Bytes from small integers: bytes({0x12, 0x01, 0x83}).
inline std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  out.reserve(v.size());
  for (int x : v)
    out.push_back(static_cast<std::byte>(x));
  return out;
}

// Bytes from hex text, spaces ignored: hex("12 01 83 00 ff 00").
inline std::vector<std::byte> hex(std::string_view s) {
  std::vector<std::byte> out;
  int hi = -1;
  for (char c : s) {
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<std::byte>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

// ASCII text as bytes, blank-padded to `width` (or cut).
inline std::vector<std::byte> ascii(std::string_view s, std::size_t width) {
  std::vector<std::byte> out(width, std::byte{' '});
  for (std::size_t i = 0; i < width && i < s.size(); ++i)
    out[i] = static_cast<std::byte>(s[i]);
  return out;
}

inline void append(std::vector<std::byte>& to, const std::vector<std::byte>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

inline std::vector<int> ints(std::span<const std::byte> b) {
  std::vector<int> out;
  for (std::byte x : b)
    out.push_back(std::to_integer<int>(x));
  return out;
}

// Checks the CDB bytes of `spec` exactly.
inline void expect_cdb(const CommandSpec& spec, std::initializer_list<int> expected) {
  EXPECT_EQ(ints(spec.cdb.bytes()), std::vector<int>(expected));
}

// Calls f(prefix) for every proper prefix of `data` (lengths 0 .. size-1). Each prefix lives in
// its own exactly-sized heap buffer, so an out-of-bounds read trips AddressSanitizer.
template <class F>
void for_each_prefix(std::span<const std::byte> data, F&& f) {
  for (std::size_t n = 0; n < data.size(); ++n) {
    std::vector<std::byte> copy(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
    SCOPED_TRACE(testing::Message() << "prefix length " << n);
    f(std::span<const std::byte>(copy.data(), copy.size()));
  }
}

}  // namespace uiscsi::scsi::test
