// The Player over the tape simulator (no sockets): the tape reader streams the whole tape into
// the cache while nothing plays (it never waits on the decoder or the output), and going back
// to an evicted track uses SPACE (not a rewind and reading everything again).
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "player/player.hpp"
#include "uiscsi/scsi/sense.hpp"
#include "unit/player/flac_fixture.hpp"
#include "unit/tape/sim_transport.hpp"

namespace uiscsi::player {
namespace {

using tape::test::SimTransport;

constexpr std::uint8_t kRewind = 0x01, kRead6 = 0x08, kSpace6 = 0x11;  // SSC-3 opcodes

class PlayerOnSim : public ::testing::Test {
 protected:
  std::shared_ptr<SimTransport::Shared> sim = tape::test::make_sim(16ull << 20);
  std::optional<tape::Drive> drive;

  void SetUp() override {
    tape::DriveOptions o;
    o.ready_interval = std::chrono::milliseconds(1);
    o.sili = true;
    auto d = tape::Drive::open(std::make_unique<SimTransport>(sim), o);
    ASSERT_TRUE(d) << d.error().message();
    drive.emplace(std::move(*d));
    // Three 1-second tracks, each one tape file written in 16 KiB records.
    for (int i = 0; i < 3; ++i) {
      test::Tone t;
      t.rate = 8000 * static_cast<std::uint32_t>(i + 1);
      t.frames = t.rate;
      t.title = "T" + std::to_string(i + 1);
      const auto flac = test::encode_flac(t, test::tone_samples(t));
      ASSERT_FALSE(flac.empty());
      for (std::size_t at = 0; at < flac.size(); at += 16384) {
        const auto n = std::min<std::size_t>(16384, flac.size() - at);
        ASSERT_TRUE(drive->write(std::as_bytes(std::span(flac).subspan(at, n))));
      }
      ASSERT_TRUE(drive->write_filemarks(1));
    }
    ASSERT_TRUE(drive->rewind());
    sim->commands.clear();
  }

  static bool wait(const std::function<bool()>& done) {
    for (int i = 0; i < 500; ++i) {
      if (done()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
};

TEST_F(PlayerOnSim, TheReaderStreamsTheTapeWhileNothingPlays) {
  PlayerOptions o;
  o.start_playing = false;  // no decoder work, no output: the reader must not care
  o.stop_at_end = false;
  Player p(*drive, make_null_sink(), o);
  p.start();
  ASSERT_TRUE(wait([&] { return p.snapshot().end_known; }));
  const Snapshot s = p.snapshot();
  ASSERT_EQ(s.tracks.size(), 3u);
  for (const auto& t : s.tracks)
    EXPECT_EQ(t.state, TrackState::cached) << t.title;
  EXPECT_EQ(s.tracks[1].title, "T2");
  EXPECT_DOUBLE_EQ(s.tracks[2].duration, 1.0);
  EXPECT_EQ(s.tape_files, 3u);
  EXPECT_EQ(s.tape_spaces, 0u);
  EXPECT_EQ(s.state, PlayState::stopped);
  EXPECT_TRUE(p.shutdown());
}

TEST_F(PlayerOnSim, PreviousToAnEvictedTrackSpacesBackAndReadsOnlyThatFile) {
  PlayerOptions o;
  o.cache_bytes = 1;  // only the playing track and the one being read stay
  o.speed = 0;
  o.keys = {{0, Key::next}, {0, Key::next}, {0.1, Key::previous}, {0.1, Key::quit}};
  Player p(*drive, make_null_sink(), o);
  p.start();
  ASSERT_TRUE(p.wait_finished(std::chrono::seconds(10)));
  ASSERT_TRUE(p.shutdown());
  const Snapshot s = p.snapshot();
  // Files 1, 2, 3 read, then file 2 again after SPACE -3 and SPACE +1 filemarks (the decoder
  // may also have asked for file 3 again, as it runs ahead of the output). The only REWIND is
  // the one at start: going back never rewinds and reads the earlier files again.
  EXPECT_GE(s.tape_files, 4u);
  EXPECT_LE(s.tape_files, 6u);
  EXPECT_GE(s.tape_spaces, 2u);
  EXPECT_GE(sim->commands[kSpace6], 2);
  EXPECT_EQ(sim->commands[kRewind], 1);
  EXPECT_GT(sim->commands[kRead6], 0);
  ASSERT_GE(s.events.size(), 3u);
  EXPECT_NE(std::find_if(s.events.begin(), s.events.end(),
                         [](const std::string& e) {
                           return e.find("play 3: track 2 \"T2\"") != std::string::npos;
                         }),
            s.events.end());
}

TEST_F(PlayerOnSim, RetryAfterATapeErrorRewindsAndReadsOnFromAKnownPosition) {
  // The first READ(6) fails with MEDIUM ERROR (03/11/00, unrecovered read error): a condition
  // of the drive, so the reader stops and waits for the user instead of retrying by itself.
  tape::Exchange medium_error;
  medium_error.status = scsi::Status::check_condition;
  medium_error.sense =
      scsi::build_fixed_sense(scsi::make_sense(scsi::SenseKey::medium_error, 0x11, 0));
  sim->scripted[kRead6].push_back({medium_error, {}});
  PlayerOptions o;
  o.start_playing = false;
  o.stop_at_end = false;
  Player p(*drive, make_null_sink(), o);
  p.start();
  ASSERT_TRUE(wait([&] { return !p.snapshot().tape_error.empty(); }));
  Snapshot s = p.snapshot();
  EXPECT_EQ(s.tape_activity, "error");
  EXPECT_EQ(s.tape_files, 0u);
  EXPECT_TRUE(std::any_of(s.events.begin(), s.events.end(), [](const std::string& e) {
    return e.rfind("tape error: ", 0) == 0;
  })) << "the error is in the event log";
  // Without R the reader leaves the tape alone.
  const int reads = sim->commands[kRead6];
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(p.snapshot().tape_files, 0u);
  EXPECT_EQ(sim->commands[kRead6], reads);

  p.press(Key::retry);
  ASSERT_TRUE(wait([&] { return p.snapshot().end_known; }));
  s = p.snapshot();
  EXPECT_TRUE(s.tape_error.empty());
  ASSERT_EQ(s.tracks.size(), 3u);
  for (const auto& t : s.tracks)
    EXPECT_EQ(t.state, TrackState::cached) << t.title;
  // The position was not trusted after the error: one REWIND at start, one before reading again.
  EXPECT_EQ(sim->commands[kRewind], 2);
  EXPECT_TRUE(p.shutdown());
}

}  // namespace
}  // namespace uiscsi::player
