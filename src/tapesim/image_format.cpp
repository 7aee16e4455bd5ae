// Encoding and checking of image headers and frames (image_format.hpp).
#include "tapesim/image_format.hpp"

#include <algorithm>
#include <cstring>

#include "core/bytes.hpp"
#include "core/crc32c.hpp"
#include "tapesim/errors.hpp"

namespace uiscsi::tapesim::image {
namespace {

constexpr char kMagic[8] = {'U', 'I', 'S', 'C', 'T', 'A', 'P', 'E'};
constexpr char kFrameMagic[4] = {'T', 'F', 'R', '1'};
constexpr std::uint32_t kFlagWriteProtected = 0x1;
constexpr std::uint32_t kFlagClean = 0x2;
constexpr std::uint8_t kFlagCompressed = 0x1;
constexpr std::uint8_t kMaxKind = 2;

}  // namespace

std::array<std::byte, kHeaderSize> encode_header(const Header& h) {
  std::array<std::byte, kHeaderSize> out{};
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  core::store_be16(&out[8], kVersion);
  core::store_be16(&out[10], static_cast<std::uint16_t>(kHeaderSize));
  core::store_be32(&out[12],
                   (h.write_protected ? kFlagWriteProtected : 0u) | (h.clean ? kFlagClean : 0u));
  core::store_be64(&out[16], h.capacity);
  core::store_be64(&out[24], h.early_warning);
  core::store_be32(&out[32], h.mark_size);
  out[36] = std::byte{h.density_code};
  core::store_be64(&out[40], h.clean ? h.clean_length : 0);
  const std::size_t n = std::min(h.barcode.size(), kBarcodeLength);
  std::memcpy(&out[48], h.barcode.data(), n);
  core::store_be32(&out[92], core::crc32c(std::span(out).first(92)));
  return out;
}

Result<Header> decode_header(std::span<const std::byte> b) {
  if (b.size() < kHeaderSize) return tapesim_errc::image_truncated;
  if (std::memcmp(b.data(), kMagic, sizeof kMagic) != 0) return tapesim_errc::image_not_a_tape;
  const std::uint16_t version = core::load_be16(&b[8]);
  if (version == 0 || version > kVersion || core::load_be16(&b[10]) != kHeaderSize) {
    return tapesim_errc::image_version;
  }
  if (core::load_be32(&b[92]) != core::crc32c(b.first(92))) return tapesim_errc::image_corrupt;
  const std::uint32_t flags = core::load_be32(&b[12]);
  if ((flags & ~(kFlagWriteProtected | kFlagClean)) != 0) return tapesim_errc::image_corrupt;
  const auto zero = [&](std::size_t from, std::size_t to) {
    return std::all_of(b.begin() + static_cast<std::ptrdiff_t>(from),
                       b.begin() + static_cast<std::ptrdiff_t>(to),
                       [](std::byte x) { return x == std::byte{0}; });
  };
  if (!zero(37, 40) || !zero(80, 92)) return tapesim_errc::image_corrupt;
  Header h;
  h.write_protected = (flags & kFlagWriteProtected) != 0;
  h.clean = (flags & kFlagClean) != 0;
  h.capacity = core::load_be64(&b[16]);
  h.early_warning = core::load_be64(&b[24]);
  h.mark_size = core::load_be32(&b[32]);
  h.density_code = std::to_integer<std::uint8_t>(b[36]);
  h.clean_length = core::load_be64(&b[40]);
  if (!h.clean && h.clean_length != 0) return tapesim_errc::image_corrupt;
  for (std::size_t i = 0; i < kBarcodeLength; ++i) {
    const auto c = std::to_integer<unsigned char>(b[48 + i]);
    if (c == 0) {
      // NUL padding: everything after the first NUL must be NUL too.
      if (!zero(48 + i, 48 + kBarcodeLength)) return tapesim_errc::image_corrupt;
      break;
    }
    if (c < 0x20 || c > 0x7e) return tapesim_errc::image_corrupt;
    h.barcode.push_back(static_cast<char>(c));
  }
  return h;
}

std::array<std::byte, kFrameHeaderSize> encode_frame(const Frame& f) {
  std::array<std::byte, kFrameHeaderSize> out{};
  std::memcpy(out.data(), kFrameMagic, sizeof kFrameMagic);
  out[4] = std::byte{static_cast<std::uint8_t>(f.type)};
  out[5] = std::byte{f.partition};
  out[6] = std::byte{f.kind};
  out[7] = std::byte{f.compressed ? kFlagCompressed : std::uint8_t{0}};
  core::store_be64(&out[8], f.value);
  core::store_be32(&out[16], f.payload_length);
  core::store_be32(&out[20], f.payload_crc);
  core::store_be32(&out[28], core::crc32c(std::span(out).first(28)));
  return out;
}

Result<Frame> decode_frame(std::span<const std::byte> b) {
  if (b.size() < kFrameHeaderSize) return tapesim_errc::image_truncated;
  if (std::memcmp(b.data(), kFrameMagic, sizeof kFrameMagic) != 0 ||
      core::load_be32(&b[28]) != core::crc32c(b.first(28)) || core::load_be32(&b[24]) != 0) {
    return tapesim_errc::image_corrupt;
  }
  Frame f;
  const std::uint8_t type = std::to_integer<std::uint8_t>(b[4]);
  f.partition = std::to_integer<std::uint8_t>(b[5]);
  f.kind = std::to_integer<std::uint8_t>(b[6]);
  const std::uint8_t flags = std::to_integer<std::uint8_t>(b[7]);
  f.compressed = (flags & kFlagCompressed) != 0;
  f.value = core::load_be64(&b[8]);
  f.payload_length = core::load_be32(&b[16]);
  f.payload_crc = core::load_be32(&b[20]);
  if ((flags & ~kFlagCompressed) != 0) return tapesim_errc::image_corrupt;
  switch (type) {
    case static_cast<std::uint8_t>(FrameType::object): {
      f.type = FrameType::object;
      if (f.kind > kMaxKind || f.partition >= kMaxPartitions) return tapesim_errc::image_corrupt;
      if (f.kind != 0) {  // marks carry nothing
        if (f.compressed || f.value != 0 || f.payload_length != 0) {
          return tapesim_errc::image_corrupt;
        }
        break;
      }
      // A record: 1..kMaxRecordLength logical bytes; stored as is, or deflated to fewer.
      if (f.value == 0 || f.value > kMaxRecordLength || f.payload_length == 0) {
        return tapesim_errc::image_corrupt;
      }
      if (f.compressed ? f.payload_length >= f.value : f.payload_length != f.value) {
        return tapesim_errc::image_corrupt;
      }
      break;
    }
    case static_cast<std::uint8_t>(FrameType::truncate):
      f.type = FrameType::truncate;
      if (f.partition >= kMaxPartitions || f.kind != 0 || f.compressed || f.payload_length != 0) {
        return tapesim_errc::image_corrupt;
      }
      break;
    case static_cast<std::uint8_t>(FrameType::format):
      f.type = FrameType::format;
      if (f.partition != 0 || f.kind != 0 || f.compressed || f.value == 0 ||
          f.value > kMaxPartitions || f.payload_length != 8 * f.value) {
        return tapesim_errc::image_corrupt;
      }
      break;
    default:
      return tapesim_errc::image_corrupt;
  }
  return f;
}

}  // namespace uiscsi::tapesim::image
