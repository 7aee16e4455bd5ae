// tapeplayer's terminal UI driven through tmux: start it in a detached session (null output,
// real-time pace), send keys, capture the screen and check the playlist, the track states and
// the play state it shows. Skipped when tmux is not installed.
#include <gtest/gtest.h>

#include <thread>

#include "cli/tapeplayer/album.hpp"

namespace uiscsi::testing {
namespace {

class TapeplayerTui : public AlbumOnTape {
 protected:
  std::string socket = "uiscsi-tp-" + std::to_string(::getpid());

  void SetUp() override {
    if (!have_program("tmux")) GTEST_SKIP() << "tmux is not installed";
    start_target();
  }
  void TearDown() override {
    (void)run("tmux -L " + socket + " kill-server 2>/dev/null");
    AlbumOnTape::TearDown();
  }
  [[nodiscard]] std::string tmux(const std::string& args) const {
    std::string out;
    (void)run("tmux -L " + socket + " " + args, &out);
    return out;
  }
  [[nodiscard]] std::string screen() const { return tmux("capture-pane -p -t tp"); }
  // Polls the screen (every 50 ms, up to 10 s) until it contains every fragment; the last
  // screen is in `shown`.
  ::testing::AssertionResult wait_for(const std::vector<std::string>& fragments) {
    for (int i = 0; i < 200; ++i) {
      shown = screen();
      bool all = true;
      for (const auto& f : fragments)
        all = all && contains(shown, f);
      if (all) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return ::testing::AssertionFailure() << "the screen never showed all of the expected text:\n"
                                         << shown;
  }
  std::string shown;
  void keys(const std::string& k) const { (void)tmux("send-keys -t tp " + k); }
};

TEST_F(TapeplayerTui, ShowsThePlaylistStatesAndFollowsTheKeys) {
  write_album();
  const std::string cmd = std::string(UISCSI_TAPEPLAYER) + " " + tape() +
                          " --output null --speed 1; echo EXITED $?; sleep 30";
  ASSERT_EQ(run("tmux -L " + socket + " new-session -d -s tp -x 110 -y 30 '" + cmd + "'"), 0);
  // The drive line, the whole album read into the cache with titles, and track 1 playing.
  ASSERT_TRUE(wait_for({"UISCSI TAPESIM", ">  1. Tape Band - First", "Second", "Track 3", "PLAYING",
                        "22050 Hz 16 bit stereo"}));
  ASSERT_TRUE(wait_for({"[cached ]", "end of tape"}));
  EXPECT_TRUE(contains(shown, "0:14")) << shown;  // track 1's duration
  EXPECT_TRUE(contains(shown, "underruns 0")) << shown;
  // n: track 2 plays.
  keys("n");
  ASSERT_TRUE(wait_for({">  2. Second", "48000 Hz 24 bit mono"}));
  // space: pause; again: play.
  keys("Space");
  ASSERT_TRUE(wait_for({"PAUSED"}));
  keys("Space");
  ASSERT_TRUE(wait_for({"PLAYING"}));
  // Left: back to track 1 (under 3 s played).
  keys("Left");
  ASSERT_TRUE(wait_for({">  1. Tape Band - First", "22050 Hz"}));
  // ?: help; any key closes it.
  keys("?");
  ASSERT_TRUE(wait_for({"Keys", "seek forward 10 s"}));
  keys("x");
  ASSERT_TRUE(wait_for({">  1. Tape Band - First"}));
  // s: stopped.
  keys("s");
  ASSERT_TRUE(wait_for({"STOPPED"}));
  // q: quits with exit code 0.
  keys("q");
  ASSERT_TRUE(wait_for({"EXITED 0"}));
}

}  // namespace
}  // namespace uiscsi::testing
