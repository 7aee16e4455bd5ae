#include "player/flac_header.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "player/errors.hpp"

namespace uiscsi::player {
namespace {

constexpr std::size_t kMaxMetadataBlocks = 1024;
constexpr std::size_t kMaxTagBytes = 1024;  // a longer field value is cut

std::uint32_t u8(std::span<const std::byte> b, std::size_t i) {
  return std::to_integer<std::uint32_t>(b[i]);
}

std::uint32_t le32(std::span<const std::byte> b, std::size_t i) {
  return u8(b, i) | u8(b, i + 1) << 8 | u8(b, i + 2) << 16 | u8(b, i + 3) << 24;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool looks_like_flac(std::span<const std::byte> bytes) {
  return bytes.size() >= 4 && std::memcmp(bytes.data(), "fLaC", 4) == 0;
}

bool parse_vorbis_comment(std::span<const std::byte> body, TrackTags& tags) {
  std::size_t pos = 0;
  auto field = [&](std::string_view& out) -> bool {
    if (body.size() - pos < 4) return false;
    const std::uint32_t n = le32(body, pos);
    pos += 4;
    if (n > body.size() - pos) return false;
    out = std::string_view(reinterpret_cast<const char*>(body.data() + pos), n);
    pos += n;
    return true;
  };
  std::string_view vendor;
  if (!field(vendor)) return false;
  if (body.size() - pos < 4) return false;
  const std::uint32_t count = le32(body, pos);
  pos += 4;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::string_view entry;
    if (!field(entry)) return false;
    const auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string key = upper(entry.substr(0, eq));
    const std::string value(entry.substr(eq + 1, std::min(kMaxTagBytes, entry.size() - eq - 1)));
    if (key == "ARTIST") {
      tags.artist = value;
    } else if (key == "ALBUM") {
      tags.album = value;
    } else if (key == "TITLE") {
      tags.title = value;
    } else if (key == "TRACKNUMBER") {
      std::uint32_t n = 0;
      std::size_t digits = 0;
      for (char c : value) {
        if (c < '0' || c > '9' || digits >= 6) break;
        n = n * 10 + static_cast<std::uint32_t>(c - '0');
        ++digits;
      }
      if (digits > 0) tags.track_number = n;
    }
  }
  return true;
}

Result<FlacHeader> parse_flac_header(std::span<const std::byte> bytes) {
  if (bytes.size() < 4) {
    // A short prefix that still matches the marker may become FLAC with more bytes.
    if (std::memcmp(bytes.data(), "fLaC", bytes.size()) == 0) return player_errc::need_more_data;
    return player_errc::not_flac;
  }
  if (!looks_like_flac(bytes)) return player_errc::not_flac;
  FlacHeader h;
  bool have_streaminfo = false;
  std::size_t pos = 4;
  for (std::size_t blocks = 0;; ++blocks) {
    if (blocks >= kMaxMetadataBlocks) return player_errc::corrupt_header;
    if (bytes.size() - pos < 4) return player_errc::need_more_data;
    const std::uint32_t head = u8(bytes, pos);
    const bool last = (head & 0x80) != 0;
    const std::uint32_t type = head & 0x7f;
    const std::size_t length =
        u8(bytes, pos + 1) << 16 | u8(bytes, pos + 2) << 8 | u8(bytes, pos + 3);
    pos += 4;
    if (blocks == 0 && type != 0) return player_errc::corrupt_header;  // STREAMINFO first
    if (type == 127) return player_errc::corrupt_header;               // invalid type
    if (bytes.size() - pos < length) return player_errc::need_more_data;
    const auto body = bytes.subspan(pos, length);
    if (type == 0) {
      if (length != 34 || have_streaminfo) return player_errc::corrupt_header;
      // Bytes 10-17: sample rate (20 bits), channels - 1 (3), bits per sample - 1 (5),
      // total samples (36).
      h.format.sample_rate = u8(body, 10) << 12 | u8(body, 11) << 4 | u8(body, 12) >> 4;
      h.format.channels = ((u8(body, 12) >> 1) & 0x07) + 1;
      h.format.bits_per_sample = ((u8(body, 12) & 0x01) << 4 | u8(body, 13) >> 4) + 1;
      h.total_frames = static_cast<std::uint64_t>(u8(body, 13) & 0x0f) << 32 |
                       static_cast<std::uint64_t>(u8(body, 14)) << 24 | u8(body, 15) << 16 |
                       u8(body, 16) << 8 | u8(body, 17);
      if (h.format.sample_rate == 0) return player_errc::corrupt_header;
      have_streaminfo = true;
    } else if (type == 3) {
      h.has_seek_table = length > 0;
    } else if (type == 4) {
      if (!parse_vorbis_comment(body, h.tags)) return player_errc::corrupt_header;
    }
    pos += length;
    if (last) break;
  }
  h.audio_offset = pos;
  return h;
}

}  // namespace uiscsi::player
