// Big-endian field access for wire formats. iSCSI and SCSI put multi-byte integers on the wire
// most significant byte first (RFC 7143 section 11.1), except digests (see crc32c.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

namespace uiscsi::core {

inline std::uint8_t load_u8(const std::byte* p) {
  return std::to_integer<std::uint8_t>(p[0]);
}
inline std::uint16_t load_be16(const std::byte* p) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                                    std::to_integer<unsigned>(p[1]));
}
inline std::uint32_t load_be24(const std::byte* p) {
  return (std::to_integer<std::uint32_t>(p[0]) << 16) |
         (std::to_integer<std::uint32_t>(p[1]) << 8) | std::to_integer<std::uint32_t>(p[2]);
}
inline std::uint32_t load_be32(const std::byte* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return __builtin_bswap32(v);
}
inline std::uint64_t load_be64(const std::byte* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}
inline std::uint32_t load_le32(const std::byte* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

inline void store_u8(std::byte* p, std::uint8_t v) {
  p[0] = std::byte{v};
}
inline void store_be16(std::byte* p, std::uint16_t v) {
  p[0] = static_cast<std::byte>(v >> 8);
  p[1] = static_cast<std::byte>(v);
}
inline void store_be24(std::byte* p, std::uint32_t v) {
  p[0] = static_cast<std::byte>(v >> 16);
  p[1] = static_cast<std::byte>(v >> 8);
  p[2] = static_cast<std::byte>(v);
}
inline void store_be32(std::byte* p, std::uint32_t v) {
  v = __builtin_bswap32(v);
  std::memcpy(p, &v, 4);
}
inline void store_be64(std::byte* p, std::uint64_t v) {
  v = __builtin_bswap64(v);
  std::memcpy(p, &v, 8);
}
inline void store_le32(std::byte* p, std::uint32_t v) {
  std::memcpy(p, &v, 4);
}

// Bytes to pad a segment of `n` bytes to a 4-byte boundary (RFC 7143 section 11.2.3).
constexpr std::size_t pad4(std::size_t n) {
  return (4 - (n & 3)) & 3;
}
constexpr std::size_t round_up4(std::size_t n) {
  return n + pad4(n);
}

inline std::span<const std::byte> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string_view as_chars(std::span<const std::byte> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace uiscsi::core
