// Reads what the playlist shows from the start of a FLAC stream, before any audio is decoded:
// STREAMINFO (format, length) and the VORBIS_COMMENT block (artist, album, title,
// tracknumber). FLAC format: "fLaC", then metadata blocks with a 4-byte header (last-block
// flag, 7-bit type, 24-bit length); STREAMINFO is type 0 and comes first, VORBIS_COMMENT is
// type 4 with little-endian lengths (https://xiph.org/flac/format.html).
//
// Pure: no I/O. Every length is checked against the bytes given and against fixed bounds, so a
// corrupt or hostile tape file cannot make it read out of bounds or allocate without limit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "player/pcm.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi::player {

struct TrackTags {
  std::string artist, album, title;
  std::optional<std::uint32_t> track_number;  // TRACKNUMBER, "3" or "3/12"
};

struct FlacHeader {
  PcmFormat format;
  std::uint64_t total_frames = 0;  // 0: unknown
  TrackTags tags;
  bool has_seek_table = false;
  std::size_t audio_offset = 0;  // bytes from the stream start to the first audio frame

  [[nodiscard]] double duration_seconds() const {
    return format.sample_rate ? static_cast<double>(total_frames) / format.sample_rate : 0.0;
  }
};

// True when `bytes` starts with the FLAC stream marker "fLaC".
bool looks_like_flac(std::span<const std::byte> bytes);

// Parses the metadata blocks at the start of `bytes`. Errors: player_errc::not_flac (the
// marker is missing), need_more_data (the metadata runs past `bytes`: call again with more),
// corrupt_header (STREAMINFO missing or malformed).
Result<FlacHeader> parse_flac_header(std::span<const std::byte> bytes);

// Parses a VORBIS_COMMENT block body (without the 4-byte block header) into `tags`; unknown
// fields are ignored. Returns false when the body is malformed.
bool parse_vorbis_comment(std::span<const std::byte> body, TrackTags& tags);

}  // namespace uiscsi::player
