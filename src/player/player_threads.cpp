// Player's decoder and output threads.
#include <cmath>

#include "player/errors.hpp"
#include "player/flac_decoder.hpp"
#include "player/player.hpp"
#include "player/player_shared.hpp"

namespace uiscsi::player {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kWait = std::chrono::milliseconds(100);
constexpr auto kPollWait = std::chrono::milliseconds(50);

}  // namespace

void Player::decoder_main() {
  Shared& s = *s_;
  while (!s.quit) {
    std::uint64_t gen = 0, frame = 0;
    std::size_t track = 0;
    bool segment = true;
    {
      std::unique_lock lock(s.mu);
      const auto work = [&] {
        return s.quit || (s.state != PlayState::stopped && s.decode_track &&
                          s.decoding_generation != s.generation);
      };
      s.changed.wait_for(lock, kWait, work);
      if (s.quit) break;
      if (!work()) continue;
      gen = s.generation;
      s.decoding_generation = gen;
      track = *s.decode_track;
      frame = s.decode_frame;
      segment = s.decode_new_segment;
    }
    // Play from `track` on, one track after the other, until a command changes the plan.
    while (!s.quit && s.generation == gen) {
      if (!decode_track(gen, track, frame, segment)) break;
      std::lock_guard lock(s.mu);
      if (s.generation != gen) break;
      s.decode_track = ++track;
      s.decode_frame = frame = 0;
      s.decode_new_segment = segment = true;
    }
  }
}

bool Player::decode_track(std::uint64_t gen, std::size_t track, std::uint64_t start_frame,
                          bool new_segment) {
  Shared& s = *s_;
  const auto cancelled = [&s, gen] { return s.quit || s.generation != gen; };
  const auto push = [&](PcmBlock&& b) {
    b.generation = gen;
    b.track = track;
    while (!ring_.push(std::move(b), kWait))
      if (cancelled()) return false;
    return true;
  };
  const auto track_error = [&](const std::string& why) {
    std::lock_guard lock(s.mu);
    const std::string line = "track " + std::to_string(track + 1) + " (tape file " +
                             std::to_string(track + 1) + "): " + why;
    s.last_error = line;
    s.events.add(line);
    s.track_errors = true;
    s.changed.notify_all();
  };

  // A read cut short (the tape reader failed mid-file; its bytes are abandoned) is waited
  // out: the reader reads the file again, and decoding resumes at the frame it had reached.
  std::shared_ptr<TrackData> abandoned;
  const auto is_abandoned = [](const TrackData& d) { return d.is_final() && !d.is_complete(); };
  for (;;) {
    // The bytes: from the cache, or wait for the tape reader to bring them.
    std::shared_ptr<TrackData> data;
    for (;;) {
      if (cancelled()) return false;
      std::unique_lock lock(s.mu);
      if (!s.playlist.may_exist(track)) {
        lock.unlock();
        PcmBlock end;
        end.kind = PcmBlock::Kind::end_of_playlist;
        (void)push(std::move(end));
        return false;
      }
      if (track < s.playlist.size() && s.playlist.at(track).state == TrackState::failed) {
        const std::string why = s.playlist.at(track).error;
        lock.unlock();
        track_error(why + ", skipped");
        return true;
      }
      data = s.cache.get(track);
      if (data && data != abandoned) {
        if (s.wanted == track) s.wanted.reset();
        break;
      }
      s.wanted = track;
      s.changed.notify_all();
      s.changed.wait_for(lock, kWait);
    }

    FlacDecoder decoder(data, cancelled);
    if (auto r = decoder.open(); !r) {
      if (cancelled()) return false;
      if (is_abandoned(*data)) {
        abandoned = data;
        continue;
      }
      bool exists = true;
      {
        std::lock_guard lock(s.mu);
        exists = s.playlist.may_exist(track);
      }
      if (!exists) {  // it was the empty file (or end of data) that ends the tape
        PcmBlock end;
        end.kind = PcmBlock::Kind::end_of_playlist;
        (void)push(std::move(end));
        return false;
      }
      if (r.error() == player_errc::not_flac) {
        const auto head = data->prefix(4);
        std::string shown;
        for (std::byte c8 : head) {
          const auto c = std::to_integer<unsigned char>(c8);
          shown += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
        }
        track_error("not a FLAC stream (it starts with \"" + shown + "\"), skipped");
      } else {
        track_error(r.error().message() + ", skipped");
      }
      return true;
    }
    if (start_frame > 0) {
      // Seeking needs the whole track (libFLAC asks for the stream length).
      while (!data->is_final()) {
        if (cancelled()) return false;
        std::this_thread::sleep_for(kPollWait);
      }
      if (is_abandoned(*data)) {
        abandoned = data;
        continue;
      }
      if (auto r = decoder.seek(start_frame); !r) {
        track_error("cannot seek to " + std::to_string(start_frame) + ": " + r.error().message());
        return true;
      }
    }
    PcmBlock start;
    start.kind = PcmBlock::Kind::track_start;
    start.format = decoder.format();
    start.first_frame = start_frame;
    start.new_segment = new_segment;
    if (!push(std::move(start))) return false;

    std::uint64_t corrupt_seen = 0;
    bool cut = false;
    for (;;) {
      auto b = decoder.next();
      if (is_abandoned(*data)) {
        // The bytes ran out because the read stopped, not because the stream ended: what
        // was decoded from them may be a damaged last frame, so it is not counted.
        cut = true;
        break;
      }
      if (const std::uint64_t c = decoder.corrupt_frames(); c != corrupt_seen) {
        std::lock_guard lock(s.mu);
        s.corrupt_frames += c - corrupt_seen;
        s.events.add("track " + std::to_string(track + 1) + ": corrupt frame skipped");
        corrupt_seen = c;
      }
      if (!b) {
        if (cancelled()) return false;
        track_error("decoding stopped: " + b.error().message());
        return true;
      }
      if (b->samples.empty()) return true;
      const std::uint64_t next_frame = b->first_frame + b->frames();
      if (!push(std::move(*b))) return false;
      start_frame = next_frame;
    }
    if (cut) {
      abandoned = data;
      new_segment = false;
      std::lock_guard lock(s.mu);
      s.events.add("track " + std::to_string(track + 1) +
                   ": tape read interrupted, resuming at frame " + std::to_string(start_frame));
    }
  }
}

void Player::output_main() {
  Shared& s = *s_;
  const bool self_paced = sink_->realtime();
  const bool paced = self_paced || options_.speed > 0;
  std::uint64_t seen_gen = 0;
  bool prebuffering = true, ended = false;
  std::size_t segment = 0, key_index = 0;
  double key_elapsed = 0, written = 0;
  PcmFormat format;
  Clock::time_point t0 = Clock::now();

  const auto fatal = [&](std::error_code ec, const std::string& what) {
    std::lock_guard lock(s.mu);
    s.fatal = ec;
    s.last_error = what + ": " + ec.message();
    s.events.add(s.last_error);
    s.finished = true;
    s.quit = true;
    s.changed.notify_all();
  };

  while (!s.quit) {
    const std::uint64_t gen = s.generation;
    if (gen != seen_gen) {
      if (seen_gen != 0) sink_->drop();
      seen_gen = gen;
      prebuffering = true;
      ended = false;
    }
    PlayState state;
    {
      std::lock_guard lock(s.mu);
      state = s.state;
    }
    if (state != PlayState::playing) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      prebuffering = true;
      continue;
    }
    const std::uint32_t rate = format.sample_rate;
    if (prebuffering) {
      const auto min = static_cast<std::size_t>(options_.prebuffer_seconds * (rate ? rate : 48000));
      if (!ring_.wait_ready(min, kPollWait)) continue;
      prebuffering = false;
      t0 = Clock::now();
      written = 0;
    }
    std::size_t max_frames = rate ? std::max<std::uint32_t>(rate / 20, 1) : 4096;
    std::int64_t to_key = -1;
    if (key_index < options_.keys.size() && rate) {
      const double remaining = options_.keys[key_index].after_seconds - key_elapsed;
      to_key = std::llround(remaining * rate);
      if (to_key <= 0) {
        const Key key = options_.keys[key_index++].key;
        key_elapsed = 0;
        apply(key);
        continue;
      }
      max_frames = std::min(max_frames, static_cast<std::size_t>(to_key));
    }
    auto b = ring_.pop_frames(max_frames, kPollWait);
    if (!b) {
      // Nothing to play: an underrun, unless a command just emptied the ring or the end came.
      if (paced && !ended && !s.quit && s.generation == gen) {
        ring_.note_underrun();
        prebuffering = true;
      }
      continue;
    }
    if (b->generation < s.generation) continue;  // decoded before a skip or seek
    if (b->kind == PcmBlock::Kind::track_start) {
      format = b->format;
      std::string line;
      if (b->new_segment) {
        ++segment;
        if (auto r = sink_->begin(format, segment, b->track); !r) {
          fatal(r.error(), "output " + sink_->describe());
          break;
        }
      }
      std::lock_guard lock(s.mu);
      s.playing = b->track;
      s.position = b->first_frame;
      s.format = format;
      s.cache.pin_playing(b->track);
      s.trim_cache();
      const std::string title = s.playlist.title(b->track);
      if (b->new_segment)
        s.events.add("play " + std::to_string(segment) + ": track " + std::to_string(b->track + 1) +
                     " \"" + title + "\" " + format.describe());
      else
        s.events.add("seek: track " + std::to_string(b->track + 1) + " at frame " +
                     std::to_string(b->first_frame));
      t0 = Clock::now();
      written = 0;
      s.changed.notify_all();
      continue;
    }
    if (b->kind == PcmBlock::Kind::end_of_playlist) {
      ended = true;
      std::lock_guard lock(s.mu);
      s.events.add("end of playlist");
      if (options_.stop_at_end) s.finished = true;
      s.state = PlayState::stopped;
      s.changed.notify_all();
      continue;
    }
    const std::size_t n = b->frames();
    if (paced && !self_paced && rate) {
      const auto due = t0 + std::chrono::duration_cast<Clock::duration>(
                                std::chrono::duration<double>(written / options_.speed));
      while (Clock::now() < due && !s.quit && s.generation == gen)
        std::this_thread::sleep_for(std::min<Clock::duration>(due - Clock::now(), kPollWait));
      if (s.generation != gen) continue;
    }
    if (auto r = sink_->write(*b); !r) {
      fatal(r.error(), "output " + sink_->describe());
      break;
    }
    if (rate) {
      written += static_cast<double>(n) / rate;
      if (to_key >= 0 && static_cast<std::int64_t>(n) == to_key)
        key_elapsed = options_.keys[key_index].after_seconds;
      else
        key_elapsed += static_cast<double>(n) / rate;
    }
    std::lock_guard lock(s.mu);
    s.position = b->first_frame + n;
  }
}

}  // namespace uiscsi::player
