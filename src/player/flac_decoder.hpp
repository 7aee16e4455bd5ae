// FlacDecoder: libFLAC++ (FLAC::Decoder::Stream) fed from a TrackData, one frame at a time.
// Any sample rate, bit depth (4-32) and channel count the stream carries; each block says its
// format, so a change between tracks (each track has its own decoder) reaches the output.
//
// Corrupt data: libFLAC reports a lost sync, a bad header or a CRC mismatch through its error
// callback and goes on with the next frame (a frame whose CRC fails comes out as silence of
// its length); the decoder counts these and never stops for them. Bytes after the last frame
// (a fixed-block tape pads the file with zeros) are ignored once STREAMINFO's sample count
// has been delivered.
//
// Seeking: seek() calls FLAC__stream_decoder_seek_absolute(), which uses the stream's seek
// table when there is one and otherwise a binary search over frame headers in the bytes. It
// needs the stream's length, so it works once the track is fully cached.
//
// Threads: one thread at a time. Waiting for bytes that are still on tape is cancelled by the
// `cancelled` predicate given at construction.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "player/flac_header.hpp"
#include "player/pcm.hpp"
#include "player/track_data.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi::player {

class FlacDecoder {
 public:
  FlacDecoder(std::shared_ptr<TrackData> data, std::function<bool()> cancelled);
  ~FlacDecoder();
  FlacDecoder(const FlacDecoder&) = delete;
  FlacDecoder& operator=(const FlacDecoder&) = delete;

  // Reads up to the first audio frame. Errors: player_errc::not_flac (the tape file does not
  // start with "fLaC"), corrupt_header (its metadata is unreadable), decoder_failed,
  // cancelled.
  Result<void> open();
  [[nodiscard]] const PcmFormat& format() const;
  [[nodiscard]] std::uint64_t total_frames() const;  // 0: unknown

  // The next frame of PCM (kind samples, first_frame set). A block with no samples means the
  // end of the stream. Errors: cancelled, decoder_failed.
  Result<PcmBlock> next();
  // Positions so that next() returns the frame starting exactly at `frame`. Errors:
  // seek_failed (track not fully cached, or the data does not allow it).
  Result<void> seek(std::uint64_t frame);

  // Frames lost to corruption so far (lost sync, bad header, CRC mismatch).
  [[nodiscard]] std::uint64_t corrupt_frames() const;

 private:
  class Stream;
  std::unique_ptr<Stream> stream_;
};

}  // namespace uiscsi::player
