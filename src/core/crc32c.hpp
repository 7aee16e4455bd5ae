// CRC32C (Castagnoli, polynomial 0x1EDC6F41), the iSCSI header and data digest
// (RFC 7143 section 13.1 and appendix B.4).
//
// crc32c() picks the fastest implementation the CPU offers at run time (SSE4.2, with PCLMUL
// folding for large buffers) and falls back to a portable table-driven version.
//
// Chaining: crc32c(b, crc32c(a)) == crc32c(a followed by b). Start with crc = 0.
//
// Byte order on the wire: the digest is the 32-bit CRC value stored least significant byte
// first. RFC 7143 appendix B.4 lists 32 zero bytes -> wire bytes aa 36 91 8a, which is the
// value 0x8a9136aa sent little-endian. Use store_digest()/load_digest(), never store_be32().
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace uiscsi::core {

std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc = 0) noexcept;

// The portable implementation, always available; exposed for tests and benchmarks.
std::uint32_t crc32c_portable(std::span<const std::byte> data, std::uint32_t crc = 0) noexcept;

// The hardware implementation; only call when crc32c_hardware_available().
std::uint32_t crc32c_hardware(std::span<const std::byte> data, std::uint32_t crc = 0) noexcept;
bool crc32c_hardware_available() noexcept;

inline constexpr std::size_t kDigestSize = 4;

inline void store_digest(std::byte* out, std::uint32_t crc) noexcept {
  for (int i = 0; i < 4; ++i)
    out[i] = static_cast<std::byte>(crc >> (8 * i));
}
inline std::uint32_t load_digest(const std::byte* in) noexcept {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | std::to_integer<std::uint32_t>(in[i]);
  return v;
}

}  // namespace uiscsi::core
