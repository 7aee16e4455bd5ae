// EventLog: the player's log keeps the newest lines only, with sequence numbers that let a
// polling reader print each kept line once and count the ones it missed.
#include "player/event_log.hpp"

#include <gtest/gtest.h>

namespace uiscsi::player {
namespace {

TEST(EventLog, KeepsEveryLineUpToItsCapacity) {
  EventLog log(3);
  log.add("a");
  log.add("b");
  EXPECT_EQ(log.first_sequence(), 0u);
  EXPECT_EQ(log.end_sequence(), 2u);
  EXPECT_EQ(log.lines(), (std::vector<std::string>{"a", "b"}));
}

TEST(EventLog, DropsTheOldestLinesBeyondItsCapacity) {
  EventLog log(3);
  for (int i = 0; i < 10; ++i)
    log.add(std::to_string(i));
  EXPECT_EQ(log.lines(), (std::vector<std::string>{"7", "8", "9"}));
  EXPECT_EQ(log.first_sequence(), 7u);
  EXPECT_EQ(log.end_sequence(), 10u);
}

TEST(EventLog, ALongRunStaysWithinTheDefaultBound) {
  EventLog log;
  for (int i = 0; i < 100000; ++i)
    log.add("segment " + std::to_string(i));
  EXPECT_EQ(log.lines().size(), EventLog::kDefaultCapacity);
  EXPECT_EQ(log.lines().back(), "segment 99999");
  EXPECT_EQ(log.first_sequence(), 100000u - EventLog::kDefaultCapacity);
}

TEST(EventLog, ACapacityOfZeroStillKeepsTheNewestLine) {
  EventLog log(0);
  log.add("x");
  log.add("y");
  EXPECT_EQ(log.lines(), (std::vector<std::string>{"y"}));
}

}  // namespace
}  // namespace uiscsi::player
