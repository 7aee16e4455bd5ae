// TrackData: the bytes of one tape file (one FLAC stream) as the tape reader reads them. The
// reader appends records; the decoder reads at any offset, waiting (with a timeout and a
// cancellation test) for bytes that are still on their way. Shared by the cache and the
// decoder through shared_ptr, so bytes being decoded stay alive even if the cache lets go.
//
// Threads: thread-safe (one mutex); one appender, any number of readers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include "uiscsi/result.hpp"

namespace uiscsi::player {

class TrackData {
 public:
  void append(std::span<const std::byte> bytes);
  // No more bytes will come: the filemark was read.
  void complete();
  // The read stopped (an error or a cancelled read): readers get what is there, then the end.
  void abandon();

  struct ReadOutcome {
    std::size_t bytes = 0;  // copied to the start of `out`
    bool end = false;       // nothing after offset + bytes, for good
  };
  // Copies bytes from `offset` into `out`, waiting while none are there and more may come. A
  // wait gives up after `timeout` (player_errc::timed_out) or when `cancelled` returns true
  // (player_errc::cancelled); `cancelled` is polled every 50 ms.
  Result<ReadOutcome> read_at(std::size_t offset, std::span<std::byte> out,
                              std::chrono::milliseconds timeout,
                              const std::function<bool()>& cancelled);
  // A copy of the first `max` bytes available now (for header parsing).
  [[nodiscard]] std::vector<std::byte> prefix(std::size_t max) const;

  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] bool is_complete() const;
  [[nodiscard]] bool is_final() const;  // complete or abandoned

 private:
  mutable std::mutex mu_;
  std::condition_variable grown_;
  std::vector<std::byte> bytes_;
  bool complete_ = false, abandoned_ = false;
};

}  // namespace uiscsi::player
