// player_category(): messages of player_errc.
#include "player/errors.hpp"

#include <string>

namespace uiscsi::player {
namespace {

class PlayerCategory final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "uiscsi-player"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<player_errc>(ev)) {
      case player_errc::not_flac:
        return "not a FLAC stream";
      case player_errc::need_more_data:
        return "FLAC header incomplete";
      case player_errc::corrupt_header:
        return "corrupt FLAC metadata";
      case player_errc::decoder_failed:
        return "FLAC decoder failed";
      case player_errc::seek_failed:
        return "seek failed";
      case player_errc::cancelled:
        return "cancelled";
      case player_errc::timed_out:
        return "timed out";
      case player_errc::sink_failed:
        return "audio output failed";
      case player_errc::unsupported_format:
        return "audio format not supported by the output";
      case player_errc::no_such_track:
        return "no such track";
      case player_errc::record_too_long:
        return "tape record longer than the read buffer";
    }
    return "unknown player error";
  }
};

}  // namespace

const std::error_category& player_category() noexcept {
  static const PlayerCategory category;
  return category;
}

std::error_code make_error_code(player_errc e) noexcept {
  return {static_cast<int>(e), player_category()};
}

}  // namespace uiscsi::player
