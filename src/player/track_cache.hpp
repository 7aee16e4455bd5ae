// TrackCache: whole tracks in memory, least recently used first out, within a byte bound. The
// playing track (and the one being read) are pinned: eviction never takes them, so the bound
// can be exceeded by those two alone, never by anything else.
//
// Pure bookkeeping, not thread-safe: the Player guards it with its own mutex. The bytes
// themselves are TrackData objects, shared with the decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "player/track_data.hpp"

namespace uiscsi::player {

class TrackCache {
 public:
  explicit TrackCache(std::uint64_t bound_bytes) : bound_(bound_bytes) {}

  // Adds (or replaces) the bytes of `track`, as the most recently used.
  void insert(std::size_t track, std::shared_ptr<TrackData> data);
  // The bytes of `track` (marking it most recently used), or null.
  std::shared_ptr<TrackData> get(std::size_t track);
  [[nodiscard]] bool contains(std::size_t track) const;
  void erase(std::size_t track);

  // Pins the playing track and the one being read; nullopt unpins.
  void pin_playing(std::optional<std::size_t> track) { playing_ = track; }
  void pin_reading(std::optional<std::size_t> track) { reading_ = track; }

  // Evicts least recently used unpinned tracks until the cached bytes plus `extra` fit the
  // bound, or nothing unpinned is left. Returns the tracks evicted, oldest first.
  std::vector<std::size_t> make_room(std::uint64_t extra = 0);
  // Bytes that make_room() could free now.
  [[nodiscard]] std::uint64_t evictable_bytes() const;

  [[nodiscard]] std::uint64_t bytes() const;  // sum of the cached tracks' current sizes
  [[nodiscard]] std::uint64_t bound() const { return bound_; }
  [[nodiscard]] std::size_t count() const { return entries_.size(); }
  // Tracks from least to most recently used.
  [[nodiscard]] std::vector<std::size_t> lru_order() const;

 private:
  [[nodiscard]] bool pinned(std::size_t track) const;

  std::uint64_t bound_;
  std::list<std::size_t> lru_;  // front: least recently used
  struct Entry {
    std::shared_ptr<TrackData> data;
    std::list<std::size_t>::iterator pos;
  };
  std::map<std::size_t, Entry> entries_;
  std::optional<std::size_t> playing_, reading_;
};

}  // namespace uiscsi::player
