// PcmRing: the bounded buffer between the decoder (one producer) and the audio output (one
// consumer). It holds at most `capacity_frames` frames of PCM; marker blocks (track start, end
// of playlist) cost nothing. Every wait has a timeout, and close() wakes both sides for good:
// a producer never blocks on a consumer that has stopped (the original's deadlock, section 3 of
// the tape stack report).
//
// Underruns: the consumer calls note_underrun() when it needed PCM and found none; the ring
// counts them for the user interface.
//
// Threads: push()/clear_older()/close() from any thread, pop() from the consumer; all methods
// are thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "player/pcm.hpp"

namespace uiscsi::player {

class PcmRing {
 public:
  explicit PcmRing(std::size_t capacity_frames);

  // Appends `block`, waiting up to `timeout` for room. Returns false when the ring stayed full
  // for the whole timeout or was closed (the block is then not queued). A samples block larger
  // than the whole capacity is accepted once the ring is empty.
  bool push(PcmBlock&& block, std::chrono::milliseconds timeout);
  // Takes the oldest block, waiting up to `timeout` for one. Empty on timeout or when closed
  // and drained.
  std::optional<PcmBlock> pop(std::chrono::milliseconds timeout);
  // Takes up to `max_frames` frames of the oldest samples block (splitting it), or the oldest
  // marker block whole. Same waiting as pop().
  std::optional<PcmBlock> pop_frames(std::size_t max_frames, std::chrono::milliseconds timeout);

  // Drops every queued block whose generation is below `generation` (a skip or seek happened).
  void clear_older(std::uint64_t generation);
  void clear();
  // Ends waiting on both sides; push() fails from now on, pop() drains what is left.
  void close();
  // Undoes close() (for a restart after an error); the ring is emptied.
  void reopen();

  [[nodiscard]] std::size_t frames() const;
  [[nodiscard]] std::size_t capacity_frames() const { return capacity_; }
  // True when `min_frames` frames are queued, or an end-of-playlist marker is (nothing more
  // will come to fill it further).
  [[nodiscard]] bool ready(std::size_t min_frames) const;
  // Waits up to `timeout` for ready(min_frames).
  bool wait_ready(std::size_t min_frames, std::chrono::milliseconds timeout);

  void note_underrun();
  [[nodiscard]] std::uint64_t underruns() const;

 private:
  [[nodiscard]] bool ready_locked(std::size_t min_frames) const;
  std::optional<PcmBlock> take_locked(std::size_t max_frames);

  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<PcmBlock> blocks_;
  std::size_t frames_ = 0;
  std::size_t end_markers_ = 0;
  bool closed_ = false;
  std::uint64_t underruns_ = 0;
};

}  // namespace uiscsi::player
