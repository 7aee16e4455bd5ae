// Playlist: the tracks found on the tape so far, one per tape file, in tape order. Track i is
// tape file i. Each track has a state (on tape, loading, cached, evicted), its size, its format
// and duration, and its tags once the FLAC header has been read; the metadata stays when the
// bytes are evicted.
//
// Pure bookkeeping, not thread-safe: the Player guards it with its own mutex.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "player/flac_header.hpp"

namespace uiscsi::player {

enum class TrackState : std::uint8_t {
  on_tape,  // known to exist (or next to read), never read
  loading,  // the tape reader is reading it into the cache
  cached,   // all of it is in memory
  evicted,  // it was cached and the cache let it go; it is on tape again
  failed,   // reading or parsing it failed (see Track::error)
};

const char* state_name(TrackState s);

struct Track {
  std::size_t index = 0;  // == tape file number
  TrackState state = TrackState::on_tape;
  std::uint64_t bytes = 0;  // bytes read so far, or its full size once it was read
  std::optional<FlacHeader> header;
  std::string error;  // why it failed, e.g. "not a FLAC stream"
};

class Playlist {
 public:
  // Adds the next track (tape file size()), found by reading on; returns its index.
  std::size_t discover();
  [[nodiscard]] std::size_t size() const { return tracks_.size(); }
  [[nodiscard]] bool empty() const { return tracks_.empty(); }
  Track& at(std::size_t i) { return tracks_.at(i); }
  [[nodiscard]] const Track& at(std::size_t i) const { return tracks_.at(i); }
  [[nodiscard]] const std::vector<Track>& tracks() const { return tracks_; }

  // The end of the recorded data was found after `count` tracks: no more will be discovered.
  void set_end(std::size_t count);
  [[nodiscard]] bool end_known() const { return end_.has_value(); }
  [[nodiscard]] std::optional<std::size_t> end() const { return end_; }
  // True when track `i` exists or may still be discovered.
  [[nodiscard]] bool may_exist(std::size_t i) const { return !end_ || i < *end_; }

  // "Artist - Title" from the tags, the title alone, or "Track N" (N = track number tag, else
  // position on tape, from 1).
  [[nodiscard]] std::string title(std::size_t i) const;
  // Duration in seconds; 0 when unknown.
  [[nodiscard]] double duration(std::size_t i) const;

 private:
  std::vector<Track> tracks_;
  std::optional<std::size_t> end_;
};

}  // namespace uiscsi::player
