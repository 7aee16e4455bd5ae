// The player's log lines (segments played, seeks, errors), bounded: only the newest `capacity`
// lines are kept, so a player left running for days does not grow. Every line has a sequence
// number (0 for the first line ever added), so a reader that polls snapshots can print each
// kept line exactly once and tell how many it missed. Not thread-safe: the player keeps it
// under its lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace uiscsi::player {

class EventLog {
 public:
  static constexpr std::size_t kDefaultCapacity = 512;

  explicit EventLog(std::size_t capacity = kDefaultCapacity);

  void add(std::string line);
  // Sequence number of the oldest kept line; the lines before it were dropped.
  [[nodiscard]] std::uint64_t first_sequence() const { return next_ - lines_.size(); }
  // One past the newest line's sequence number: how many lines were ever added.
  [[nodiscard]] std::uint64_t end_sequence() const { return next_; }
  [[nodiscard]] std::vector<std::string> lines() const { return {lines_.begin(), lines_.end()}; }

 private:
  std::size_t capacity_;
  std::deque<std::string> lines_;
  std::uint64_t next_ = 0;
};

}  // namespace uiscsi::player
