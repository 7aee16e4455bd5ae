// Player: plays the FLAC tracks of a tape, one per tape file, through a Sink.
//
// Threads (each wait below has a timeout of at most 100 ms and checks for quit):
//   - tape reader (TapeReader): the only user of the Drive. Reads whole tape files to their
//     filemark into the track cache, ahead of playback while the cache has room. It never
//     waits on the decoder or the sink, so a streaming drive keeps streaming (no
//     shoe-shining). Goes back with SPACE (or REWIND for the first track), never by reading.
//   - decoder: decodes the current track from its cached bytes (waiting for bytes still on
//     their way) and pushes PCM into the PcmRing, blocking only on a full ring.
//   - output: takes PCM from the ring to the sink, paced by the sound card or by its own clock
//     (`speed`), counts underruns, and runs the headless key script at exact audio positions.
// Commands (next, previous, seek...) come from any thread: they bump a generation number, so
// PCM decoded before them is dropped, and the decoder starts over.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "player/pcm_ring.hpp"
#include "player/playlist.hpp"
#include "player/sink.hpp"
#include "player/track_cache.hpp"
#include "uiscsi/tape/drive.hpp"

namespace uiscsi::player {

enum class Key : std::uint8_t {
  play_pause,
  stop,
  next,
  previous,
  seek_forward,
  seek_back,
  rewind,
  retry,
  quit
};

// One step of a headless key script: `key` fires after `after_seconds` of audio have played
// since the previous step (or since playback began).
struct KeyEvent {
  double after_seconds = 0;
  Key key = Key::next;
};

// Parses "n,p,1.5:],0.25:[,q": comma-separated [SECONDS:]KEY with KEY one of n (next),
// p (previous), ] or . or + (seek forward), [ or - (seek back), s (stop), space or
// "pause" (play/pause), r (rewind), q (quit). Errors: std::errc::invalid_argument.
Result<std::vector<KeyEvent>> parse_key_script(std::string_view text);

struct PlayerOptions {
  std::uint64_t cache_bytes = 512ull << 20;  // bound of the track cache
  double buffer_seconds = 10;                // PCM ring capacity (at 48 kHz)
  double prebuffer_seconds = 2;              // playback (re)starts with this much buffered
  double speed = 1.0;  // pace of non-real-time sinks: 1 = real time, 0 = as fast as possible
  std::size_t record_bytes = 1u << 20;  // READ buffer (largest record in variable mode)
  double seek_seconds = 10;
  double previous_restarts_after = 3;  // "previous" restarts the track once this has played
  bool start_playing = true;
  std::vector<KeyEvent> keys;  // headless key script
  bool stop_at_end = true;     // end of playlist ends the player (headless)
  // Reconnections the session's error recovery has made (shown to the user); may be empty.
  std::function<std::uint64_t()> recoveries;
};

enum class PlayState : std::uint8_t { stopped, playing, paused };

struct TrackView {
  std::string title;
  TrackState state = TrackState::on_tape;
  std::uint64_t bytes = 0;
  double duration = 0;
  std::string error;
};

// What the user interface shows; a copy taken under the player's lock.
struct Snapshot {
  std::vector<TrackView> tracks;
  bool end_known = false;
  std::optional<std::size_t> playing;
  double position = 0, duration = 0;  // seconds
  PlayState state = PlayState::stopped;
  PcmFormat format;
  std::uint64_t underruns = 0, corrupt_frames = 0;
  double buffer_fill = 0;  // 0..1 of the PCM ring
  std::uint64_t cache_bytes = 0, cache_bound = 0;
  std::uint64_t tape_bytes = 0, tape_files = 0, tape_spaces = 0;
  std::uint64_t recoveries = 0;  // session reconnections by error recovery
  std::string tape_activity;     // "reading file 3", "spacing", "idle", ...
  std::string tape_error;        // empty when none; R retries
  std::string last_error;        // the latest problem with a track (not FLAC...)
  // The newest log lines (segments, seeks, errors): events[i] has sequence number
  // first_event + i; lines before first_event were dropped (see EventLog).
  std::vector<std::string> events;
  std::uint64_t first_event = 0;
  bool finished = false;
};

class TapeReader;

class Player {
 public:
  // `drive` must outlive the Player and not be used by anyone else while it runs.
  Player(tape::Drive& drive, std::unique_ptr<Sink> sink, PlayerOptions options);
  ~Player();
  Player(const Player&) = delete;
  Player& operator=(const Player&) = delete;

  // Starts the three threads; the tape reader rewinds before its first read.
  void start();
  // Stops every thread (bounded: each notices within ~100 ms) and finishes the sink.
  Result<void> shutdown();

  void press(Key key);
  [[nodiscard]] Snapshot snapshot() const;
  // Waits up to `timeout` for the end of the playlist (or quit, or a fatal error).
  bool wait_finished(std::chrono::milliseconds timeout);
  // The first fatal error: a tape error the player cannot go on after, or the sink failing.
  [[nodiscard]] std::error_code fatal_error() const;
  // True when some track was not FLAC or failed to decode.
  [[nodiscard]] bool had_track_errors() const;

  // ---- shared with the threads (see player_*.cpp) ----
  struct Shared;

 private:
  void decoder_main();
  void output_main();
  bool decode_track(std::uint64_t gen, std::size_t track, std::uint64_t start_frame,
                    bool new_segment);
  void apply(Key key);  // under no lock; takes the lock itself
  void restart_locked(std::size_t track, std::uint64_t frame, bool new_segment);
  void event_locked(std::string line);

  std::unique_ptr<Shared> s_;
  std::unique_ptr<TapeReader> reader_;
  std::unique_ptr<Sink> sink_;
  PlayerOptions options_;
  PcmRing ring_;
  std::thread decoder_, output_;
};

}  // namespace uiscsi::player
