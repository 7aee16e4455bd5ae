// 32-bit serial number arithmetic (RFC 1982), used for CmdSN, ExpCmdSN, MaxCmdSN, StatSN,
// ExpStatSN, DataSN and R2TSN (RFC 7143 section 4.2.2.1).
//
// A SerialNumber deliberately has no operator< : two serial numbers are ordered only with
// serial_lt()/serial_gt(), which follow RFC 1982 section 3.2. When the two values are exactly
// 2^31 apart the order is undefined: both serial_lt(a, b) and serial_lt(b, a) are false.
#pragma once

#include <cstdint>

namespace uiscsi::core {

class SerialNumber {
 public:
  constexpr SerialNumber() = default;
  constexpr explicit SerialNumber(std::uint32_t v) : value_(v) {}
  [[nodiscard]] constexpr std::uint32_t value() const { return value_; }

  // RFC 1982 section 3.1: addition of n in [0, 2^31 - 1], modulo 2^32.
  constexpr SerialNumber operator+(std::uint32_t n) const { return SerialNumber(value_ + n); }
  constexpr SerialNumber operator-(std::uint32_t n) const { return SerialNumber(value_ - n); }
  constexpr SerialNumber& operator+=(std::uint32_t n) {
    value_ += n;
    return *this;
  }
  constexpr SerialNumber& operator++() {
    ++value_;
    return *this;
  }
  constexpr bool operator==(const SerialNumber&) const = default;

 private:
  std::uint32_t value_ = 0;
};

// RFC 1982 section 3.2: a < b.
constexpr bool serial_lt(SerialNumber a, SerialNumber b) {
  const std::uint32_t i1 = a.value(), i2 = b.value();
  return (i1 < i2 && i2 - i1 < 0x80000000u) || (i1 > i2 && i1 - i2 > 0x80000000u);
}
constexpr bool serial_gt(SerialNumber a, SerialNumber b) {
  return serial_lt(b, a);
}
constexpr bool serial_le(SerialNumber a, SerialNumber b) {
  return a == b || serial_lt(a, b);
}
constexpr bool serial_ge(SerialNumber a, SerialNumber b) {
  return a == b || serial_gt(a, b);
}

// b - a as a signed distance, meaningful when |b - a| < 2^31.
constexpr std::int32_t serial_distance(SerialNumber a, SerialNumber b) {
  return static_cast<std::int32_t>(b.value() - a.value());
}

// True when `x` lies in the closed serial interval [lo, hi].
constexpr bool serial_in_window(SerialNumber x, SerialNumber lo, SerialNumber hi) {
  return serial_le(lo, x) && serial_le(x, hi);
}

}  // namespace uiscsi::core
