// PCM as the player moves it: interleaved signed samples in int32 (right-justified, as libFLAC
// delivers them), in blocks tagged with their format, track and position.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace uiscsi::player {

struct PcmFormat {
  std::uint32_t sample_rate = 0;      // Hz
  std::uint32_t channels = 0;         // 1..8 (FLAC)
  std::uint32_t bits_per_sample = 0;  // 4..32 (FLAC)

  friend bool operator==(const PcmFormat&, const PcmFormat&) = default;
  [[nodiscard]] bool valid() const {
    return sample_rate > 0 && channels > 0 && bits_per_sample > 0;
  }
  // "44100 Hz 16 bit stereo"
  [[nodiscard]] std::string describe() const;
};

// One block in the PCM ring. `kind` says whether it holds samples or marks an event in the
// stream; `generation` lets the consumer drop blocks decoded before a skip or seek.
struct PcmBlock {
  enum class Kind : std::uint8_t {
    samples,          // `samples` holds frames of `format` starting at `first_frame` of `track`
    track_start,      // `track` begins playing at `first_frame` (after a skip, seek or the end
                      // of the previous track)
    end_of_playlist,  // nothing follows: the last track ended
  };
  Kind kind = Kind::samples;
  std::uint64_t generation = 0;
  std::size_t track = 0;
  PcmFormat format;
  std::uint64_t first_frame = 0;  // frame (sample per channel) number within the track
  bool new_segment = true;        // track_start: a new play of the track (false: a seek)
  std::vector<std::int32_t> samples;

  [[nodiscard]] std::size_t frames() const {
    return format.channels ? samples.size() / format.channels : 0;
  }
};

}  // namespace uiscsi::player
