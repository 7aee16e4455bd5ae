// Player::Shared: the state the player's threads share, behind one mutex. Internal to
// src/player.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "player/event_log.hpp"
#include "player/player.hpp"

namespace uiscsi::player {

struct Player::Shared {
  explicit Shared(std::uint64_t cache_bound) : cache(cache_bound) {}

  mutable std::mutex mu;
  std::condition_variable changed;  // any of the below changed
  std::atomic<bool> quit{false};
  std::atomic<std::uint64_t> generation{1};

  Playlist playlist;
  TrackCache cache;
  // With `mu` held: evicts unpinned tracks while the cache is over its bound and marks them
  // evicted in the playlist. Run after each record read and whenever the playing track changes
  // (a skip unpins the track left behind at once, not at the next read).
  void trim_cache() {
    for (std::size_t gone : cache.make_room())
      if (gone < playlist.size()) playlist.at(gone).state = TrackState::evicted;
  }

  // ---- decoder ----
  std::optional<std::size_t> decode_track;  // what the decoder is to play
  std::uint64_t decode_frame = 0;           // ... from this frame
  bool decode_new_segment = true;
  std::uint64_t decoding_generation = 0;  // generation the decoder is working on
  std::uint64_t corrupt_frames = 0;
  bool track_errors = false;

  // ---- output ----
  PlayState state = PlayState::stopped;
  std::optional<std::size_t> playing;
  std::uint64_t position = 0;  // frame within the playing track
  PcmFormat format;
  bool finished = false;

  // ---- tape reader ----
  std::optional<std::size_t> wanted;  // the track the decoder waits for
  bool rewind_request = false, retry_request = false;
  std::string tape_error;
  std::error_code tape_error_code;
  std::uint64_t tape_bytes = 0, tape_files = 0, tape_spaces = 0;
  std::string tape_activity = "idle";

  std::error_code fatal;
  std::string last_error;
  EventLog events;
};

}  // namespace uiscsi::player
