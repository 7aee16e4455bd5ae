// Test FLAC streams: tones of known samples encoded in memory with libFLAC++
// (FLAC::Encoder::Stream), with Vorbis comments and, optionally, a seek table. Lossless, so the
// samples that go in are exactly what a correct decoder gives back.
#pragma once

#include <FLAC++/encoder.h>
#include <FLAC++/metadata.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace uiscsi::player::test {

struct Tone {
  std::uint32_t rate = 44100, channels = 2, bits = 16;
  std::uint64_t frames = 44100;
  double hz = 440;
  std::string artist, album, title, track_number;
  bool seek_table = true;
  std::uint32_t block_size = 0;  // 0: libFLAC's default for the level
};

// Interleaved samples of a sine at `hz` (channel c a little higher: c * 110 Hz more) at 0.6 of
// full scale, plus a small deterministic ripple so frames are not all alike.
inline std::vector<std::int32_t> tone_samples(const Tone& t) {
  std::vector<std::int32_t> out(t.frames * t.channels);
  const double full = std::ldexp(1.0, static_cast<int>(t.bits) - 1) - 1;
  const double pi = 3.14159265358979323846;
  for (std::uint64_t i = 0; i < t.frames; ++i)
    for (std::uint32_t c = 0; c < t.channels; ++c) {
      const double x = std::sin(2 * pi * (t.hz + 110.0 * c) * static_cast<double>(i) / t.rate);
      const double ripple = static_cast<double>((i * 7 + c * 3) % 5) - 2.0;
      out[i * t.channels + c] = static_cast<std::int32_t>(std::lround(0.6 * full * x + ripple));
    }
  return out;
}

class MemoryEncoder final : public FLAC::Encoder::Stream {
 public:
  std::vector<unsigned char> bytes;
  std::size_t pos = 0;

 protected:
  FLAC__StreamEncoderWriteStatus write_callback(const FLAC__byte buffer[], size_t n, uint32_t,
                                                uint32_t) override {
    if (pos + n > bytes.size()) bytes.resize(pos + n);
    std::copy(buffer, buffer + n, bytes.begin() + static_cast<long>(pos));
    pos += n;
    return FLAC__STREAM_ENCODER_WRITE_STATUS_OK;
  }
  FLAC__StreamEncoderSeekStatus seek_callback(FLAC__uint64 offset) override {
    pos = static_cast<std::size_t>(offset);
    return FLAC__STREAM_ENCODER_SEEK_STATUS_OK;
  }
  FLAC__StreamEncoderTellStatus tell_callback(FLAC__uint64* offset) override {
    *offset = pos;
    return FLAC__STREAM_ENCODER_TELL_STATUS_OK;
  }
};

// The FLAC stream of `samples` (interleaved, t.channels) with the tags of `t`. Empty on failure.
inline std::vector<unsigned char> encode_flac(const Tone& t,
                                              const std::vector<std::int32_t>& samples) {
  MemoryEncoder e;
  e.set_channels(t.channels);
  e.set_bits_per_sample(t.bits);
  e.set_sample_rate(t.rate);
  e.set_compression_level(5);
  if (t.block_size) e.set_blocksize(t.block_size);
  e.set_total_samples_estimate(samples.size() / t.channels);
  FLAC::Metadata::VorbisComment comment;
  auto add = [&](const char* key, const std::string& value) {
    if (!value.empty())
      comment.append_comment(FLAC::Metadata::VorbisComment::Entry(key, value.c_str()));
  };
  add("ARTIST", t.artist);
  add("ALBUM", t.album);
  add("TITLE", t.title);
  add("TRACKNUMBER", t.track_number);
  FLAC::Metadata::SeekTable table;
  std::vector<FLAC::Metadata::Prototype*> blocks{&comment};
  if (t.seek_table) {
    table.template_append_spaced_points_by_samples(t.rate, samples.size() / t.channels);
    table.template_sort(true);
    blocks.push_back(&table);
  }
  e.set_metadata(blocks.data(), static_cast<uint32_t>(blocks.size()));
  if (e.init() != FLAC__STREAM_ENCODER_INIT_STATUS_OK) return {};
  if (!e.process_interleaved(samples.data(), static_cast<uint32_t>(samples.size() / t.channels)))
    return {};
  if (!e.finish()) return {};
  return e.bytes;
}

}  // namespace uiscsi::player::test
