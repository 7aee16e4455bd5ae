// Internal helpers of src/scsi: bounds-checked-by-contract field access on spans and CDBs.
// Callers check lengths first; these helpers only spell the arithmetic once.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/bytes.hpp"
#include "uiscsi/scsi/command.hpp"

namespace uiscsi::scsi::detail {

using Bytes = std::span<const std::byte>;

// Field readers. Precondition: off + width <= d.size().
inline std::uint8_t u8(Bytes d, std::size_t off) {
  return std::to_integer<std::uint8_t>(d[off]);
}
inline std::uint16_t be16(Bytes d, std::size_t off) {
  return core::load_be16(d.data() + off);
}
inline std::uint32_t be24(Bytes d, std::size_t off) {
  return core::load_be24(d.data() + off);
}
inline std::uint32_t be32(Bytes d, std::size_t off) {
  return core::load_be32(d.data() + off);
}
inline std::uint64_t be64(Bytes d, std::size_t off) {
  return core::load_be64(d.data() + off);
}
inline bool bit(std::uint8_t v, unsigned n) {
  return ((unsigned{v} >> n) & 1u) != 0;
}
inline std::uint8_t bits(std::uint8_t v, unsigned hi, unsigned lo) {
  return static_cast<std::uint8_t>((unsigned{v} >> lo) & ((1u << (hi - lo + 1)) - 1u));
}
inline std::uint8_t flag(bool b, unsigned n) {
  return b ? static_cast<std::uint8_t>(1u << n) : std::uint8_t{0};
}

// The bytes [off, off + n) of d, clipped to what d holds (empty if off is past the end).
inline Bytes sub(Bytes d, std::size_t off, std::size_t n) {
  if (off >= d.size()) return {};
  return d.subspan(off, std::min(n, d.size() - off));
}

// ASCII field with trailing blanks and NULs removed (SPC-4 4.4.1: left-aligned, blank-padded).
inline std::string ascii_trimmed(Bytes d) {
  std::string_view s = core::as_chars(d);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0'))
    s.remove_suffix(1);
  return std::string(s);
}
// Also removes leading blanks (unit serial numbers may be right-aligned).
inline std::string ascii_trimmed_both(Bytes d) {
  std::string_view s = core::as_chars(d);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0'))
    s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\0'))
    s.remove_prefix(1);
  return std::string(s);
}

// Writers into a byte buffer. Precondition: the field fits.
inline void put8(std::span<std::byte> d, std::size_t off, std::uint8_t v) {
  d[off] = std::byte{v};
}
inline void put16(std::span<std::byte> d, std::size_t off, std::uint16_t v) {
  core::store_be16(d.data() + off, v);
}
inline void put24(std::span<std::byte> d, std::size_t off, std::uint32_t v) {
  core::store_be24(d.data() + off, v);
}
inline void put32(std::span<std::byte> d, std::size_t off, std::uint32_t v) {
  core::store_be32(d.data() + off, v);
}
inline void put64(std::span<std::byte> d, std::size_t off, std::uint64_t v) {
  core::store_be64(d.data() + off, v);
}
// Copies `s` into d[off, off + width), blank-padded or cut.
inline void put_ascii(std::span<std::byte> d, std::size_t off, std::size_t width,
                      std::string_view s) {
  for (std::size_t i = 0; i < width; ++i)
    d[off + i] = i < s.size() ? static_cast<std::byte>(s[i]) : std::byte{' '};
}

}  // namespace uiscsi::scsi::detail
