#include "player/track_cache.hpp"

namespace uiscsi::player {

void TrackCache::insert(std::size_t track, std::shared_ptr<TrackData> data) {
  erase(track);
  lru_.push_back(track);
  entries_[track] = Entry{std::move(data), std::prev(lru_.end())};
}

std::shared_ptr<TrackData> TrackCache::get(std::size_t track) {
  auto it = entries_.find(track);
  if (it == entries_.end()) return nullptr;
  lru_.splice(lru_.end(), lru_, it->second.pos);
  return it->second.data;
}

bool TrackCache::contains(std::size_t track) const {
  return entries_.count(track) != 0;
}

void TrackCache::erase(std::size_t track) {
  auto it = entries_.find(track);
  if (it == entries_.end()) return;
  lru_.erase(it->second.pos);
  entries_.erase(it);
}

bool TrackCache::pinned(std::size_t track) const {
  return (playing_ && *playing_ == track) || (reading_ && *reading_ == track);
}

std::vector<std::size_t> TrackCache::make_room(std::uint64_t extra) {
  std::vector<std::size_t> evicted;
  std::uint64_t total = bytes();
  auto it = lru_.begin();
  while (total + extra > bound_ && it != lru_.end()) {
    const std::size_t track = *it++;
    if (pinned(track)) continue;
    total -= entries_.at(track).data->size();
    erase(track);
    evicted.push_back(track);
  }
  return evicted;
}

std::uint64_t TrackCache::evictable_bytes() const {
  std::uint64_t n = 0;
  for (const auto& [track, e] : entries_)
    if (!pinned(track)) n += e.data->size();
  return n;
}

std::uint64_t TrackCache::bytes() const {
  std::uint64_t n = 0;
  for (const auto& [track, e] : entries_)
    n += e.data->size();
  return n;
}

std::vector<std::size_t> TrackCache::lru_order() const {
  return {lru_.begin(), lru_.end()};
}

}  // namespace uiscsi::player
