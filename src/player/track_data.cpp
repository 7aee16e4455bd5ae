#include "player/track_data.hpp"

#include <algorithm>
#include <cstring>

#include "player/errors.hpp"

namespace uiscsi::player {

void TrackData::append(std::span<const std::byte> bytes) {
  std::lock_guard lock(mu_);
  bytes_.insert(bytes_.end(), bytes.begin(), bytes.end());
  grown_.notify_all();
}

void TrackData::complete() {
  std::lock_guard lock(mu_);
  complete_ = true;
  grown_.notify_all();
}

void TrackData::abandon() {
  std::lock_guard lock(mu_);
  abandoned_ = true;
  grown_.notify_all();
}

Result<TrackData::ReadOutcome> TrackData::read_at(std::size_t offset, std::span<std::byte> out,
                                                  std::chrono::milliseconds timeout,
                                                  const std::function<bool()>& cancelled) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mu_);
  for (;;) {
    const bool final = complete_ || abandoned_;
    if (offset < bytes_.size() || final) {
      ReadOutcome r;
      if (offset < bytes_.size()) {
        r.bytes = std::min(out.size(), bytes_.size() - offset);
        std::memcpy(out.data(), bytes_.data() + offset, r.bytes);
      }
      r.end = final && offset + r.bytes >= bytes_.size();
      return r;
    }
    if (cancelled && cancelled()) return player_errc::cancelled;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return player_errc::timed_out;
    grown_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(
                              deadline - now, std::chrono::milliseconds(50)));
  }
}

std::vector<std::byte> TrackData::prefix(std::size_t max) const {
  std::lock_guard lock(mu_);
  const std::size_t n = std::min(max, bytes_.size());
  return {bytes_.begin(), bytes_.begin() + static_cast<long>(n)};
}

std::size_t TrackData::size() const {
  std::lock_guard lock(mu_);
  return bytes_.size();
}

bool TrackData::is_complete() const {
  std::lock_guard lock(mu_);
  return complete_;
}

bool TrackData::is_final() const {
  std::lock_guard lock(mu_);
  return complete_ || abandoned_;
}

}  // namespace uiscsi::player
