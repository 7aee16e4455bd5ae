// TapeReader: the thread that owns the tape drive. Reads tape file i (track i) to its filemark
// into the cache, the wanted track first, then ahead while the cache has room; positions with
// SPACE FILEMARKS (SSC-3 7.7, negative counts towards BOP) or REWIND, never by reading data
// it does not need. The end of the tape is end of data (BLANK CHECK, SSC-3 4.2.7) or an empty
// file (two filemarks in a row). A tape error stops the reader until retry; a transport
// failure (connection lost: the session's error recovery reconnects by itself) is retried at
// once, from a known position, up to three times in a row.
//
// It never waits on the decoder or the sink: when the cache is full of tracks it must keep,
// it stops at a file boundary (between files, not mid-stream).
#pragma once

#include <cstdint>
#include <optional>
#include <thread>
#include <vector>

#include "player/player_shared.hpp"
#include "uiscsi/tape/drive.hpp"

namespace uiscsi::player {

class TapeReader {
 public:
  TapeReader(tape::Drive& drive, Player::Shared& shared, std::size_t record_bytes);
  ~TapeReader();
  void start();
  void join();

 private:
  void main();
  // The next file to read, or nullopt when there is nothing to do now. Under the lock.
  std::optional<std::size_t> choose_locked() const;
  bool position_to(std::size_t file);
  void read_file(std::size_t file);
  void fail(const char* what, std::error_code ec);

  tape::Drive& drive_;
  Player::Shared& s_;
  std::vector<std::byte> buffer_;
  std::optional<std::size_t> file_at_;  // the head is at the start of this file, when known
  int auto_retries_ = 0;                // transport failures retried since the last file read whole
  std::thread thread_;
};

}  // namespace uiscsi::player
