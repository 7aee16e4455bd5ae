#include "player/tape_reader.hpp"

#include <chrono>

#include "player/errors.hpp"
#include "player/flac_header.hpp"

namespace uiscsi::player {
namespace {

constexpr auto kIdleWait = std::chrono::milliseconds(100);
constexpr std::size_t kHeaderProbeBytes = 1u << 20;  // tags beyond the first MiB are not shown
constexpr int kAutoRetries = 3;  // transport failures in a row retried without the user

std::string tape_message(const tape::Drive& drive, std::error_code ec) {
  if (const auto& last = drive.last_error(); last && last->code == ec) return last->message();
  return ec.message();
}

}  // namespace

TapeReader::TapeReader(tape::Drive& drive, Player::Shared& shared, std::size_t record_bytes)
    : drive_(drive), s_(shared) {
  std::size_t n = std::max<std::size_t>(record_bytes, 512);
  if (const std::uint32_t bs = drive_.medium().block_size; bs != 0)
    n = std::max<std::size_t>(1, n / bs) * bs;  // fixed mode: whole blocks
  buffer_.resize(n);
}

TapeReader::~TapeReader() {
  join();
}

void TapeReader::start() {
  thread_ = std::thread([this] { main(); });
}

void TapeReader::join() {
  if (thread_.joinable()) thread_.join();
}

void TapeReader::fail(const char* what, std::error_code ec) {
  const std::string why = std::string(what) + ": " + tape_message(drive_, ec);
  std::lock_guard lock(s_.mu);
  file_at_.reset();  // the position is no longer trusted: rewind before the next read
  if (ec.category() != tape::tape_category() && auto_retries_ < kAutoRetries) {
    // Not a condition of the drive but the transport (connection lost, timeout): the
    // session's error recovery logs in again by itself, so read again from a known position
    // (REWIND, then SPACE) before bothering the user.
    ++auto_retries_;
    s_.events.add("tape: " + why + "; reading again after the session's recovery");
    s_.changed.notify_all();
    return;
  }
  s_.tape_error = why;
  s_.tape_error_code = ec;
  s_.tape_activity = "error";
  s_.events.add("tape error: " + why);
  s_.changed.notify_all();
}

std::optional<std::size_t> TapeReader::choose_locked() const {
  const Playlist& pl = s_.playlist;
  auto readable = [&](std::size_t t) {
    if (!pl.may_exist(t) || s_.cache.contains(t)) return false;
    return t >= pl.size() || pl.at(t).state != TrackState::failed;
  };
  // The track the decoder waits for first; tracks are discovered in order, so one beyond
  // the known ones is reached by reading the next unknown file.
  if (s_.wanted && readable(*s_.wanted)) return std::min(*s_.wanted, pl.size());
  // Then read ahead of the playing track while the cache has room.
  if (s_.cache.bytes() >= s_.cache.bound()) return std::nullopt;
  const std::size_t from = s_.playing.value_or(s_.decode_track.value_or(0));
  for (std::size_t t = from; pl.may_exist(t); ++t) {
    if (t >= pl.size()) return t;
    if (readable(t) && pl.at(t).state == TrackState::on_tape) return t;
  }
  return std::nullopt;
}

bool TapeReader::position_to(std::size_t file) {
  if (file_at_ && *file_at_ == file) return true;
  {
    std::lock_guard lock(s_.mu);
    s_.tape_activity = "spacing to file " + std::to_string(file + 1);
  }
  std::size_t at = 0;
  if (file == 0 || !file_at_) {
    // The first file, or the position is unknown (after an error): from BOP.
    if (auto r = drive_.rewind(); !r) {
      fail("rewind", r.error());
      return false;
    }
  } else {
    at = *file_at_;
  }
  std::uint64_t spaces = 0;
  if (file > at) {
    if (auto r = drive_.space(tape::SpaceUnit::filemarks, static_cast<std::int64_t>(file - at));
        !r) {
      fail("space forward", r.error());
      return false;
    }
    ++spaces;
  } else if (file < at) {
    // Back across the filemarks ending files file-1 .. at-1, then forward over the filemark
    // ending file-1: the head is then at the start of `file` (SSC-3 SPACE, negative count).
    if (auto r =
            drive_.space(tape::SpaceUnit::filemarks, -static_cast<std::int64_t>(at - file + 1));
        !r) {
      fail("space back", r.error());
      return false;
    }
    if (auto r = drive_.space(tape::SpaceUnit::filemarks, 1); !r) {
      fail("space forward", r.error());
      return false;
    }
    spaces += 2;
  }
  file_at_ = file;
  std::lock_guard lock(s_.mu);
  s_.tape_spaces += spaces;
  return true;
}

void TapeReader::read_file(std::size_t file) {
  auto data = std::make_shared<TrackData>();
  {
    std::lock_guard lock(s_.mu);
    if (file == s_.playlist.size()) s_.playlist.discover();
    Track& t = s_.playlist.at(file);
    t.state = TrackState::loading;
    t.bytes = 0;
    t.error.clear();
    s_.cache.insert(file, data);
    s_.cache.pin_reading(file);
    s_.tape_activity = "reading file " + std::to_string(file + 1);
    s_.changed.notify_all();
  }
  bool header_done = false, not_flac = false;
  std::uint64_t bytes = 0;
  auto finish = [&](TrackState state, std::string error) {
    std::lock_guard lock(s_.mu);
    Track& t = s_.playlist.at(file);
    t.state = state;
    t.error = std::move(error);
    if (state != TrackState::cached) s_.cache.erase(file);
    s_.cache.pin_reading(std::nullopt);
    s_.tape_activity = "idle";
    s_.changed.notify_all();
  };
  for (;;) {
    if (s_.quit) {
      data->abandon();
      finish(TrackState::on_tape, "");
      file_at_.reset();
      return;
    }
    auto r = drive_.read(buffer_);
    if (!r) {
      data->abandon();
      finish(TrackState::on_tape, "");
      fail(("read file " + std::to_string(file + 1)).c_str(), r.error());
      return;
    }
    const tape::Record& rec = *r;
    if (rec.bytes > 0 && !not_flac) {
      data->append(std::span(buffer_).first(rec.bytes));
    }
    bytes += rec.bytes;
    if (!header_done && bytes > 0) {
      auto h = parse_flac_header(data->prefix(kHeaderProbeBytes));
      if (h || h.error() != player_errc::need_more_data || bytes >= kHeaderProbeBytes) {
        header_done = true;
        std::lock_guard lock(s_.mu);
        if (h) {
          s_.playlist.at(file).header = *h;
        } else if (h.error() == player_errc::not_flac) {
          not_flac = true;  // read on to the filemark to keep the position, keep nothing
        }
      }
    }
    {
      std::lock_guard lock(s_.mu);
      s_.tape_bytes += rec.bytes;
      s_.playlist.at(file).bytes = bytes;
      // Room for what was just read, never taking the playing track or this one.
      s_.trim_cache();
      s_.changed.notify_all();
    }
    switch (rec.status) {
      case tape::ReadStatus::data:
      case tape::ReadStatus::short_record:
        continue;
      case tape::ReadStatus::long_record:
      case tape::ReadStatus::wrong_block_length:
        data->abandon();
        finish(TrackState::on_tape, "");
        fail(("read file " + std::to_string(file + 1)).c_str(),
             make_error_code(player_errc::record_too_long));
        return;
      case tape::ReadStatus::setmark:
        continue;
      case tape::ReadStatus::filemark:
      case tape::ReadStatus::end_of_data: {
        const bool eod = rec.status == tape::ReadStatus::end_of_data;
        // After a filemark the head is at the start of the next file; end of data right at a
        // file's start did not move it; end of data after some records leaves it mid-file.
        if (!eod)
          file_at_ = file + 1;
        else if (bytes == 0)
          file_at_ = file;
        else
          file_at_.reset();
        if (bytes == 0) {
          // An empty file (a second filemark) or end of data: the end of the album. The end
          // is recorded before the (empty) bytes are final, so a decoder that sees them end
          // also sees that the track does not exist.
          {
            std::lock_guard lock(s_.mu);
            s_.cache.erase(file);
            s_.cache.pin_reading(std::nullopt);
            s_.playlist.set_end(file);
            s_.tape_activity = "end of tape";
            s_.changed.notify_all();
          }
          data->complete();
          return;
        }
        data->complete();
        {
          std::lock_guard lock(s_.mu);
          ++s_.tape_files;
          if (eod) s_.playlist.set_end(file + 1);
        }
        auto_retries_ = 0;
        if (not_flac)
          finish(TrackState::failed, "not a FLAC stream");
        else
          finish(TrackState::cached, "");
        return;
      }
    }
  }
}

void TapeReader::main() {
  while (!s_.quit) {
    std::optional<std::size_t> file;
    bool rewind = false;
    {
      std::unique_lock lock(s_.mu);
      if (s_.retry_request) {
        s_.retry_request = false;
        s_.tape_error.clear();
        s_.tape_error_code.clear();
      }
      rewind = s_.rewind_request;
      s_.rewind_request = false;
      if (!rewind) {
        if (s_.tape_error.empty()) file = choose_locked();
        if (!file) {
          s_.changed.wait_for(lock, kIdleWait);
          continue;
        }
      }
    }
    if (rewind) {
      {
        std::lock_guard lock(s_.mu);
        s_.tape_activity = "rewinding";
      }
      if (auto r = drive_.rewind(); !r) {
        fail("rewind", r.error());
        continue;
      }
      file_at_ = 0;
      std::lock_guard lock(s_.mu);
      s_.tape_activity = "idle";
      continue;
    }
    if (!position_to(*file)) continue;
    read_file(*file);
  }
}

}  // namespace uiscsi::player
