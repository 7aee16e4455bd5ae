#include "player/playlist.hpp"

namespace uiscsi::player {

const char* state_name(TrackState s) {
  switch (s) {
    case TrackState::on_tape:
      return "on tape";
    case TrackState::loading:
      return "loading";
    case TrackState::cached:
      return "cached";
    case TrackState::evicted:
      return "evicted";
    case TrackState::failed:
      return "failed";
  }
  return "?";
}

std::size_t Playlist::discover() {
  Track t;
  t.index = tracks_.size();
  tracks_.push_back(t);
  return t.index;
}

void Playlist::set_end(std::size_t count) {
  end_ = count;
  if (tracks_.size() > count) tracks_.resize(count);
}

std::string Playlist::title(std::size_t i) const {
  const Track& t = tracks_.at(i);
  if (t.header) {
    const TrackTags& tags = t.header->tags;
    if (!tags.title.empty())
      return tags.artist.empty() ? tags.title : tags.artist + " - " + tags.title;
    if (tags.track_number) return "Track " + std::to_string(*tags.track_number);
  }
  return "Track " + std::to_string(i + 1);
}

double Playlist::duration(std::size_t i) const {
  const Track& t = tracks_.at(i);
  return t.header ? t.header->duration_seconds() : 0.0;
}

}  // namespace uiscsi::player
