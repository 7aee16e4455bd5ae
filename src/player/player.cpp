// Player: construction, commands from the user, the snapshot for the user interface.
#include "player/player.hpp"

#include <cstdlib>

#include "player/errors.hpp"
#include "player/player_shared.hpp"
#include "player/tape_reader.hpp"

namespace uiscsi::player {
namespace {

constexpr std::uint32_t kRingRate = 48000;  // the ring's capacity is counted at this rate

}  // namespace

Result<std::vector<KeyEvent>> parse_key_script(std::string_view text) {
  std::vector<KeyEvent> out;
  std::size_t pos = 0;
  while (!text.empty()) {
    const std::size_t comma = text.find(',', pos);
    const std::string_view item =
        text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos);
    KeyEvent e;
    std::string_view key = item;
    if (const auto colon = item.find(':');
        colon != std::string_view::npos && colon + 1 < item.size()) {
      const std::string seconds(item.substr(0, colon));
      char* end = nullptr;
      e.after_seconds = std::strtod(seconds.c_str(), &end);
      if (seconds.empty() || end != seconds.c_str() + seconds.size() || e.after_seconds < 0)
        return make_error_code(std::errc::invalid_argument);
      key = item.substr(colon + 1);
    }
    if (key == "n") {
      e.key = Key::next;
    } else if (key == "p") {
      e.key = Key::previous;
    } else if (key == "]" || key == "." || key == "+") {
      e.key = Key::seek_forward;
    } else if (key == "[" || key == "-") {
      e.key = Key::seek_back;
    } else if (key == "s") {
      e.key = Key::stop;
    } else if (key == " " || key == "pause") {
      e.key = Key::play_pause;
    } else if (key == "r") {
      e.key = Key::rewind;
    } else if (key == "q") {
      e.key = Key::quit;
    } else {
      return make_error_code(std::errc::invalid_argument);
    }
    out.push_back(e);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

Player::Player(tape::Drive& drive, std::unique_ptr<Sink> sink, PlayerOptions options)
    : s_(std::make_unique<Shared>(options.cache_bytes)),
      sink_(std::move(sink)),
      options_(std::move(options)),
      ring_(static_cast<std::size_t>(options_.buffer_seconds * kRingRate)) {
  reader_ = std::make_unique<TapeReader>(drive, *s_, options_.record_bytes);
}

Player::~Player() {
  (void)shutdown();
}

void Player::start() {
  {
    std::lock_guard lock(s_->mu);
    s_->decode_track = 0;
    s_->decode_frame = 0;
    s_->decode_new_segment = true;
    s_->state = options_.start_playing ? PlayState::playing : PlayState::stopped;
  }
  reader_->start();
  decoder_ = std::thread([this] { decoder_main(); });
  output_ = std::thread([this] { output_main(); });
}

Result<void> Player::shutdown() {
  s_->quit = true;
  s_->changed.notify_all();
  ring_.close();
  if (decoder_.joinable()) decoder_.join();
  if (output_.joinable()) output_.join();
  reader_->join();
  if (sink_) {
    auto r = sink_->finish();
    sink_.reset();
    if (!r) return r;
  }
  return {};
}

void Player::event_locked(std::string line) {
  s_->events.add(std::move(line));
}

void Player::restart_locked(std::size_t track, std::uint64_t frame, bool new_segment) {
  s_->decode_track = track;
  s_->decode_frame = frame;
  s_->decode_new_segment = new_segment;
  const std::uint64_t gen = ++s_->generation;
  ring_.clear_older(gen);
  s_->changed.notify_all();
}

void Player::press(Key key) {
  apply(key);
}

void Player::apply(Key key) {
  std::lock_guard lock(s_->mu);
  Shared& s = *s_;
  const std::size_t current = s.playing.value_or(s.decode_track.value_or(0));
  const double rate = s.format.sample_rate ? s.format.sample_rate : 0.0;
  const double seconds = rate > 0 ? static_cast<double>(s.position) / rate : 0.0;
  switch (key) {
    case Key::quit:
      s.quit = true;
      s.finished = true;
      ring_.close();
      s.changed.notify_all();
      return;
    case Key::play_pause:
      if (s.state == PlayState::playing) {
        s.state = PlayState::paused;
      } else {
        if (s.state == PlayState::stopped) restart_locked(current, 0, true);
        s.state = PlayState::playing;
      }
      s.changed.notify_all();
      return;
    case Key::stop:
      s.state = PlayState::stopped;
      s.position = 0;
      restart_locked(current, 0, true);
      return;
    case Key::next:
      if (!s.playlist.may_exist(current + 1)) {
        event_locked("next: no track after " + std::to_string(current + 1));
        return;
      }
      s.playing = current + 1;
      s.position = 0;
      restart_locked(current + 1, 0, true);
      return;
    case Key::previous: {
      const bool restart = seconds >= options_.previous_restarts_after || current == 0;
      const std::size_t target = restart ? current : current - 1;
      s.playing = target;
      s.position = 0;
      restart_locked(target, 0, true);
      return;
    }
    case Key::seek_forward:
    case Key::seek_back: {
      if (rate <= 0 || !s.playing) return;
      const auto step = static_cast<std::int64_t>(options_.seek_seconds * rate + 0.5);
      std::int64_t target =
          static_cast<std::int64_t>(s.position) + (key == Key::seek_forward ? step : -step);
      if (target < 0) target = 0;
      const std::uint64_t total = *s.playing < s.playlist.size() && s.playlist.at(*s.playing).header
                                      ? s.playlist.at(*s.playing).header->total_frames
                                      : 0;
      if (total != 0 && static_cast<std::uint64_t>(target) >= total) {
        // Past the end: on to the next track, as its start is where that audio would be.
        if (s.playlist.may_exist(*s.playing + 1)) {
          s.playing = *s.playing + 1;
          s.position = 0;
          restart_locked(*s.playing, 0, true);
        }
        return;
      }
      s.position = static_cast<std::uint64_t>(target);
      restart_locked(*s.playing, static_cast<std::uint64_t>(target), false);
      return;
    }
    case Key::rewind:
      s.rewind_request = true;
      s.playing = 0;
      s.position = 0;
      restart_locked(0, 0, true);
      return;
    case Key::retry:
      s.retry_request = true;
      s.fatal.clear();
      restart_locked(current, s.position, false);
      return;
  }
}

Snapshot Player::snapshot() const {
  std::lock_guard lock(s_->mu);
  const Shared& s = *s_;
  Snapshot out;
  for (const Track& t : s.playlist.tracks()) {
    TrackView v;
    v.title = s.playlist.title(t.index);
    v.state = t.state;
    v.bytes = t.bytes;
    v.duration = s.playlist.duration(t.index);
    v.error = t.error;
    out.tracks.push_back(std::move(v));
  }
  out.end_known = s.playlist.end_known();
  out.playing = s.playing;
  out.format = s.format;
  if (s.format.sample_rate) out.position = static_cast<double>(s.position) / s.format.sample_rate;
  if (s.playing && *s.playing < s.playlist.size()) out.duration = s.playlist.duration(*s.playing);
  out.state = s.state;
  out.underruns = ring_.underruns() + (sink_ ? sink_->device_underruns() : 0);
  out.corrupt_frames = s.corrupt_frames;
  out.buffer_fill =
      static_cast<double>(ring_.frames()) / static_cast<double>(ring_.capacity_frames());
  out.cache_bytes = s.cache.bytes();
  out.cache_bound = s.cache.bound();
  out.tape_bytes = s.tape_bytes;
  out.tape_files = s.tape_files;
  out.tape_spaces = s.tape_spaces;
  out.tape_activity = s.tape_activity;
  if (options_.recoveries) out.recoveries = options_.recoveries();
  out.tape_error = s.tape_error;
  out.last_error = s.last_error;
  out.events = s.events.lines();
  out.first_event = s.events.first_sequence();
  out.finished = s.finished;
  return out;
}

bool Player::wait_finished(std::chrono::milliseconds timeout) {
  std::unique_lock lock(s_->mu);
  return s_->changed.wait_for(lock, timeout, [&] { return s_->finished || s_->quit.load(); });
}

std::error_code Player::fatal_error() const {
  std::lock_guard lock(s_->mu);
  return s_->fatal ? s_->fatal : s_->tape_error_code;
}

bool Player::had_track_errors() const {
  std::lock_guard lock(s_->mu);
  return s_->track_errors;
}

}  // namespace uiscsi::player
