// PcmRing: bounded, one producer and one consumer, markers, generations, splitting, close
// without deadlock, and underrun counting.
#include <gtest/gtest.h>

#include <thread>

#include "player/pcm_ring.hpp"

namespace uiscsi::player {
namespace {

using std::chrono::milliseconds;

PcmBlock samples(std::size_t frames, std::int32_t first_value, std::uint64_t gen = 1) {
  PcmBlock b;
  b.generation = gen;
  b.format = {48000, 2, 16};
  for (std::size_t i = 0; i < frames * 2; ++i)
    b.samples.push_back(first_value + static_cast<std::int32_t>(i));
  return b;
}

TEST(PcmRing, HoldsAtMostItsCapacityAndTimesOutWhenFull) {
  PcmRing ring(100);
  EXPECT_TRUE(ring.push(samples(60, 0), milliseconds(10)));
  EXPECT_TRUE(ring.push(samples(40, 0), milliseconds(10)));
  EXPECT_EQ(ring.frames(), 100u);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(ring.push(samples(1, 0), milliseconds(30)));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(25));
  // Markers cost nothing: one fits even now, and keeps its place in the order.
  PcmBlock mark;
  mark.kind = PcmBlock::Kind::track_start;
  EXPECT_TRUE(ring.push(std::move(mark), milliseconds(1)));
  EXPECT_EQ(ring.frames(), 100u);
  EXPECT_EQ(ring.pop(milliseconds(1))->frames(), 60u);
  EXPECT_EQ(ring.pop(milliseconds(1))->frames(), 40u);
  EXPECT_EQ(ring.pop(milliseconds(1))->kind, PcmBlock::Kind::track_start);
}

TEST(PcmRing, PopFramesSplitsABlockInOrder) {
  PcmRing ring(1000);
  ASSERT_TRUE(ring.push(samples(10, 100), milliseconds(10)));
  auto a = ring.pop_frames(3, milliseconds(10));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->frames(), 3u);
  EXPECT_EQ(a->samples.front(), 100);
  EXPECT_EQ(a->first_frame, 0u);
  auto b = ring.pop_frames(100, milliseconds(10));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->frames(), 7u);
  EXPECT_EQ(b->first_frame, 3u);
  EXPECT_EQ(b->samples.front(), 106);
  EXPECT_EQ(ring.frames(), 0u);
  EXPECT_FALSE(ring.pop(milliseconds(5)));
}

TEST(PcmRing, ProducerAndConsumerThreadsPassEverySampleInOrder) {
  PcmRing ring(64);
  constexpr int kBlocks = 2000;
  std::thread producer([&] {
    for (int i = 0; i < kBlocks; ++i) {
      PcmBlock b = samples(5, i * 10);
      while (!ring.push(std::move(b), milliseconds(100))) {
      }
    }
  });
  std::int32_t expect = 0;
  int got = 0;
  while (got < kBlocks * 10) {
    auto b = ring.pop_frames(7, milliseconds(1000));
    ASSERT_TRUE(b);
    for (std::int32_t v : b->samples) {
      ASSERT_EQ(v, expect) << got;
      ++expect;
      ++got;
    }
  }
  producer.join();
}

TEST(PcmRing, ClearOlderDropsBlocksOfEarlierGenerations) {
  PcmRing ring(1000);
  ASSERT_TRUE(ring.push(samples(10, 0, 1), milliseconds(1)));
  ASSERT_TRUE(ring.push(samples(20, 0, 2), milliseconds(1)));
  ring.clear_older(2);
  EXPECT_EQ(ring.frames(), 20u);
  auto b = ring.pop(milliseconds(1));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->generation, 2u);
}

TEST(PcmRing, CloseWakesABlockedProducerAtOnce) {
  PcmRing ring(10);
  ASSERT_TRUE(ring.push(samples(10, 0), milliseconds(1)));
  std::atomic<bool> returned{false};
  std::thread producer([&] {
    EXPECT_FALSE(ring.push(samples(10, 0), milliseconds(10000)));
    returned = true;
  });
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(returned);
  const auto t0 = std::chrono::steady_clock::now();
  ring.close();
  producer.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(1000));
  // The consumer still drains what is there, then gets nothing without waiting.
  EXPECT_TRUE(ring.pop(milliseconds(1)));
  EXPECT_FALSE(ring.pop(milliseconds(10000)));
}

TEST(PcmRing, ReadyWhenPrebufferedOrEndIsQueued) {
  PcmRing ring(1000);
  EXPECT_FALSE(ring.ready(100));
  ASSERT_TRUE(ring.push(samples(50, 0), milliseconds(1)));
  EXPECT_FALSE(ring.ready(100));
  EXPECT_TRUE(ring.ready(50));
  PcmBlock end;
  end.kind = PcmBlock::Kind::end_of_playlist;
  ASSERT_TRUE(ring.push(std::move(end), milliseconds(1)));
  EXPECT_TRUE(ring.ready(100));
  EXPECT_TRUE(ring.wait_ready(100, milliseconds(1)));
}

TEST(PcmRing, CountsUnderruns) {
  PcmRing ring(10);
  EXPECT_EQ(ring.underruns(), 0u);
  ring.note_underrun();
  ring.note_underrun();
  EXPECT_EQ(ring.underruns(), 2u);
}

}  // namespace
}  // namespace uiscsi::player
