// net::EventLoop: posted work runs in order on the loop thread, whether it was posted from
// another thread (which wakes the loop) or from the loop thread itself (which does not).
#include "net/event_loop.hpp"

#include <gtest/gtest.h>

#include <future>
#include <thread>
#include <vector>

namespace uiscsi::net {
namespace {

using namespace std::chrono_literals;

// Runs `loop` on a thread of its own until the test is done with it.
class RunningLoop {
 public:
  RunningLoop() : thread_([this] { loop.run(); }) {}
  ~RunningLoop() {
    loop.stop();
    thread_.join();
  }
  EventLoop loop;

 private:
  std::thread thread_;
};

TEST(EventLoop, WorkPostedFromAnotherThreadRunsOnTheLoopInOrder) {
  std::vector<int> seen;
  std::promise<std::thread::id> done;
  RunningLoop r;
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(r.loop.post([&, i] {
      seen.push_back(i);
      if (i == 99) done.set_value(std::this_thread::get_id());
    }));
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_NE(f.get(), std::this_thread::get_id());
  ASSERT_EQ(seen.size(), 100u);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(seen[static_cast<std::size_t>(i)], i);
}

TEST(EventLoop, WorkPostedFromTheLoopThreadRunsWithoutAWakeUp) {
  // A chain of posts made on the loop thread, with no deadline and no file descriptor ready:
  // the loop must not go to sleep on epoll_wait while work it posted itself is waiting.
  // Declared before the loop, so that they outlive work the loop drains when it stops.
  std::promise<int> done;
  std::function<void(int)> step;
  RunningLoop r;
  step = [&](int n) {
    EXPECT_TRUE(r.loop.in_loop_thread());
    if (n == 1000) {
      done.set_value(n);
      return;
    }
    r.loop.post([&, n] { step(n + 1); });
  };
  ASSERT_TRUE(r.loop.post([&] { step(0); }));
  auto f = done.get_future();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(f.get(), 1000);
}

TEST(EventLoop, PostsFromBothSidesAllRun) {
  // Another thread posting while the loop thread keeps posting too: nothing is lost or stuck.
  std::atomic<int> from_outside{0}, from_inside{0};
  std::promise<void> inside_done, last;
  std::function<void(int)> inner;
  RunningLoop r;
  inner = [&](int n) {
    ++from_inside;
    if (n == 2000) {
      inside_done.set_value();
      return;
    }
    r.loop.post([&, n] { inner(n + 1); });
  };
  r.loop.post([&] { inner(1); });
  for (int i = 0; i < 2000; ++i)
    r.loop.post([&] { ++from_outside; });
  ASSERT_EQ(inside_done.get_future().wait_for(5s), std::future_status::ready);
  r.loop.post([&] { last.set_value(); });
  ASSERT_EQ(last.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_EQ(from_outside.load(), 2000);
  EXPECT_EQ(from_inside.load(), 2000);
}

TEST(EventLoop, PostAfterStopIsRefused) {
  EventLoop loop;
  loop.stop();
  EXPECT_FALSE(loop.post([] {}));
}

}  // namespace
}  // namespace uiscsi::net
