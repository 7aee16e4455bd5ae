#include "uiscsi/lun.hpp"

#include <cstdio>

#include "core/bytes.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi {

Lun Lun::from_wire(std::span<const std::byte, 8> bytes) {
  Lun l;
  for (std::size_t i = 0; i < 8; ++i)
    l.bytes_[i] = bytes[i];
  return l;
}

Lun Lun::from_u64(std::uint64_t be_value) {
  Lun l;
  core::store_be64(l.bytes_.data(), be_value);
  return l;
}

std::uint64_t Lun::as_u64() const {
  return core::load_be64(bytes_.data());
}

Result<Lun> Lun::from_number(std::uint64_t n) {
  Lun l;
  auto* b = l.bytes_.data();
  if (n < 256) {
    b[1] = static_cast<std::byte>(n);
  } else if (n < 16384) {
    core::store_be16(b, static_cast<std::uint16_t>(0x4000u | n));
  } else if (n < (1ull << 24)) {
    b[0] = std::byte{0xd2};
    core::store_be24(b + 1, static_cast<std::uint32_t>(n));
  } else if (n < (1ull << 40)) {
    b[0] = std::byte{0xe2};
    for (int i = 0; i < 5; ++i)
      b[1 + i] = static_cast<std::byte>(n >> (8 * (4 - i)));
  } else {
    return errc::invalid_argument;
  }
  return l;
}

Lun::Method Lun::method() const {
  const auto b0 = std::to_integer<unsigned>(bytes_[0]);
  switch (b0 >> 6) {
    case 0:
      return Method::peripheral;
    case 1:
      return Method::flat;
    case 2:
      return Method::logical_unit;
    default:
      break;
  }
  if (b0 == 0xff && std::to_integer<unsigned>(bytes_[1]) == 0xff) return Method::not_specified;
  const unsigned length = (b0 >> 4) & 3u, eam = b0 & 0xfu;
  if (length == 0 && eam == 1) return Method::well_known;
  if (length == 1 && eam == 2) return Method::extended_flat;
  if (length == 2 && eam == 2) return Method::long_extended_flat;
  return Method::extended_other;
}

Result<std::uint64_t> Lun::to_number() const {
  const auto* b = bytes_.data();
  // A single-level LUN has zeros after its first level (bytes 2..7 for the 2-byte forms).
  auto rest_zero = [&](std::size_t from) {
    for (std::size_t i = from; i < 8; ++i)
      if (bytes_[i] != std::byte{0}) return false;
    return true;
  };
  switch (method()) {
    case Method::peripheral:
      if ((core::load_u8(b) & 0x3f) != 0 || !rest_zero(2)) return errc::unsupported;
      return std::uint64_t{core::load_u8(b + 1)};
    case Method::flat:
      if (!rest_zero(2)) return errc::unsupported;
      return std::uint64_t{core::load_be16(b) & 0x3fffu};
    case Method::logical_unit:
      if (!rest_zero(2)) return errc::unsupported;
      return std::uint64_t{core::load_u8(b + 1) & 0x1fu};
    case Method::extended_flat:
      if (!rest_zero(4)) return errc::unsupported;
      return std::uint64_t{core::load_be24(b + 1)};
    case Method::long_extended_flat: {
      if (!rest_zero(6)) return errc::unsupported;
      std::uint64_t v = 0;
      for (int i = 1; i <= 5; ++i)
        v = (v << 8) | core::load_u8(b + i);
      return v;
    }
    case Method::well_known:
      return std::uint64_t{core::load_u8(b + 1)};
    default:
      return errc::unsupported;
  }
}

std::string Lun::to_string() const {
  if (auto n = to_number(); n && method() != Method::well_known) return std::to_string(*n);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(as_u64()));
  return buf;
}

}  // namespace uiscsi
