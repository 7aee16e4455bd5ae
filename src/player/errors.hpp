// Errors of the tape player library (uiscsi::player): one std::error_code per failure the
// player reports to its user. Tape and initiator errors keep their own categories.
#pragma once

#include <system_error>

namespace uiscsi::player {

enum class player_errc {
  not_flac = 1,        // a tape file does not start with the FLAC stream marker "fLaC"
  need_more_data,      // a FLAC header is cut short: more bytes of the tape file are needed
  corrupt_header,      // a FLAC metadata block is malformed (bad length, STREAMINFO missing...)
  decoder_failed,      // libFLAC could not be set up or stopped in a state it cannot leave
  seek_failed,         // libFLAC could not seek to the sample (track not fully cached, bad data)
  cancelled,           // a wait was cancelled (quit, stop, another track chosen)
  timed_out,           // a wait ran out of time
  sink_failed,         // the audio device or output file failed
  unsupported_format,  // the sink cannot take the stream's format
  no_such_track,       // a track index beyond the playlist
  record_too_long,     // a tape record longer than the read buffer (use a larger --bs)
};

const std::error_category& player_category() noexcept;
std::error_code make_error_code(player_errc e) noexcept;

}  // namespace uiscsi::player

template <>
struct std::is_error_code_enum<uiscsi::player::player_errc> : std::true_type {};
