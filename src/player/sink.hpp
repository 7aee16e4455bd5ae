// Sinks: where the player's PCM goes. A WAV file (`--output file.wav`), nothing (null), or the
// sound card through ALSA. The player's output thread is the only caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "player/pcm.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi::player {

class Sink {
 public:
  virtual ~Sink() = default;
  // A track starts playing with `format`: `segment` counts track starts from 1 (a skip, a
  // "previous" or a restart begins a new segment; a seek does not), `track` is its index.
  virtual Result<void> begin(const PcmFormat& format, std::size_t segment, std::size_t track) = 0;
  // Plays (or stores) the samples of `block`, which has the format given to begin().
  virtual Result<void> write(const PcmBlock& block) = 0;
  // Audio queued in the device is thrown away (a skip or seek); files keep what they have.
  virtual void drop() {}
  // Plays out what is queued and closes (files: fixes up the headers).
  virtual Result<void> finish() = 0;
  // True when write() itself keeps real time (a sound card); false for files and null, which
  // the player paces with its own clock when asked to.
  [[nodiscard]] virtual bool realtime() const { return false; }
  [[nodiscard]] virtual std::string describe() const = 0;
  // Times the device itself ran dry (ALSA EPIPE); 0 for files.
  [[nodiscard]] virtual std::uint64_t device_underruns() const { return 0; }
};

// Writes RIFF/WAVE files: PCM for 8/16/24/32-bit samples in up to two channels, else
// WAVE_FORMAT_EXTENSIBLE with the valid bits given (samples left-justified in whole bytes).
// With "%n" in `path`, each segment goes to its own file (%n replaced by the segment number);
// otherwise all go to `path`, and a format change starts a new file "<stem>.<k><ext>" (k = 2,
// 3...), because one WAV file has one format.
std::unique_ptr<Sink> make_wav_sink(std::string path);
// Throws the samples away.
std::unique_ptr<Sink> make_null_sink();
// The ALSA PCM device `device` ("default" when empty). Errors show up at begin().
// Returns null when the player was built without ALSA.
std::unique_ptr<Sink> make_alsa_sink(std::string device);

}  // namespace uiscsi::player
