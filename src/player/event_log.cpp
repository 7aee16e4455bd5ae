#include "player/event_log.hpp"

#include <algorithm>

namespace uiscsi::player {

EventLog::EventLog(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

void EventLog::add(std::string line) {
  if (lines_.size() == capacity_) lines_.pop_front();
  lines_.push_back(std::move(line));
  ++next_;
}

}  // namespace uiscsi::player
