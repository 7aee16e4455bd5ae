// tapeplayer end to end: FLAC tones written to uiscsi-target's virtual tape with
// uiscsi-tape-dd, played headless into WAV files, and checked sample for sample against the
// samples that were encoded. Then next/previous/seek at exact audio positions (the key script
// counts audio time), "previous" past an evicted track (SPACE back, no re-reading of the
// rest), a slow drive (the target's --rate-limit) without underruns once buffered, and the
// failures a user meets: a tape file that is not FLAC, no medium.
#include <gtest/gtest.h>

#include "cli/tapeplayer/album.hpp"

namespace uiscsi::testing {
namespace {

class Tapeplayer : public AlbumOnTape {
 protected:
  void SetUp() override { start_target(); }

  // Checks that play segment `n` (1-based, file seg-<n>.wav) holds `expect` in `format` of
  // track `t`.
  void expect_segment(int n, const AlbumTrack& t, const std::vector<std::int32_t>& expect) {
    const Wav w = read_wav(file("seg-" + std::to_string(n) + ".wav"));
    ASSERT_EQ(w.rate, t.tone.rate) << "segment " << n;
    EXPECT_EQ(w.channels, t.tone.channels);
    EXPECT_EQ(w.valid_bits, t.tone.bits);
    ASSERT_EQ(w.samples.size(), expect.size()) << "segment " << n;
    const auto diff = std::mismatch(w.samples.begin(), w.samples.end(), expect.begin());
    EXPECT_TRUE(diff.first == w.samples.end())
        << "segment " << n << " differs at sample " << (diff.first - w.samples.begin());
  }
  [[nodiscard]] std::string seg() const { return "--output " + file("seg-%n.wav"); }
  [[nodiscard]] bool segment_exists(int n) const {
    return std::filesystem::exists(file("seg-" + std::to_string(n) + ".wav"));
  }
};

std::uint64_t at(const AlbumTrack& t, double seconds) {
  return static_cast<std::uint64_t>(std::llround(seconds * t.tone.rate));
}

TEST_F(Tapeplayer, PlaysTheWholeTapeSampleForSampleWithTitlesAndFormats) {
  write_album();
  const Ran r = play(seg() + " --speed 0");
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(contains(r.out, "play 1: track 1 \"Tape Band - First\" 22050 Hz 16 bit stereo"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "play 2: track 2 \"Second\" 48000 Hz 24 bit mono")) << r.out;
  EXPECT_TRUE(contains(r.out, "play 3: track 3 \"Track 3\" 8000 Hz 8 bit stereo")) << r.out;
  EXPECT_TRUE(contains(r.out, "end of playlist")) << r.out;
  EXPECT_TRUE(contains(r.out, "summary: tracks 3, underruns 0, corrupt frames 0")) << r.out;
  for (int i = 0; i < 3; ++i)
    expect_segment(i + 1, album[i], album[i].pcm);
  EXPECT_FALSE(segment_exists(4));
}

TEST_F(Tapeplayer, OneWavFileSplitsWhereTheFormatChanges) {
  write_album();
  const Ran r = play("--output " + file("album.wav") + " --speed 0");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(read_wav(file("album.wav")).samples, album[0].pcm);
  EXPECT_EQ(read_wav(file("album.2.wav")).samples, album[1].pcm);
  EXPECT_EQ(read_wav(file("album.3.wav")).samples, album[2].pcm);
}

TEST_F(Tapeplayer, NextAndPreviousAtExactAudioPositions) {
  write_album();
  // 0.5 s of track 1, next; 0.25 s of track 2, previous (under 3 s: track 1 again);
  // 0.1 s, previous on the first track restarts it; then to the end.
  const Ran r = play(seg() + " --speed 0 --keys 0.5:n,0.25:p,0.1:p");
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  expect_segment(1, album[0], frames_of(album[0], 0, at(album[0], 0.5)));
  expect_segment(2, album[1], frames_of(album[1], 0, at(album[1], 0.25)));
  expect_segment(3, album[0], frames_of(album[0], 0, at(album[0], 0.1)));
  expect_segment(4, album[0], album[0].pcm);
  expect_segment(5, album[1], album[1].pcm);
  expect_segment(6, album[2], album[2].pcm);
  EXPECT_FALSE(segment_exists(7));
}

TEST_F(Tapeplayer, SeekTenSecondsForwardAndBackInsideATrack) {
  write_album();
  // Track 1 is 14 s: 1 s, +10 s (to 11 s), 0.5 s (11.5 s), -10 s (to 1.5 s), on to the end;
  // then in track 2 (no seek table: frame search) 0.2 s, +10 s is past its end: next track.
  const Ran r = play(seg() + " --speed 0 --keys 1:],0.5:[,12.7:],0.2:]");
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  const AlbumTrack& a = album[0];
  std::vector<std::int32_t> expect = frames_of(a, 0, at(a, 1.0));
  for (auto part :
       {frames_of(a, at(a, 11.0), at(a, 11.5)), frames_of(a, at(a, 1.5), a.tone.frames)})
    expect.insert(expect.end(), part.begin(), part.end());
  expect_segment(1, a, expect);
  EXPECT_TRUE(contains(r.out, "seek: track 1 at frame 242550")) << r.out;
  EXPECT_TRUE(contains(r.out, "seek: track 1 at frame 33075")) << r.out;
  // 12.7 s after the second key: the whole rest of track 1 (12.5 s) and 0.2 s of track 2,
  // then "]" at 0.2 s of track 2 goes past its end, to track 3.
  expect_segment(2, album[1], frames_of(album[1], 0, at(album[1], 0.2) + 0));
  expect_segment(3, album[2], album[2].pcm);
}

TEST_F(Tapeplayer, PreviousBeyondTheCacheSpacesBackInsteadOfRereading) {
  write_album();
  // A cache of 1 byte keeps only the playing track and the one being read: going back must
  // fetch the evicted tracks from tape again, by SPACE (track 2) and REWIND (track 1).
  // "n,n" at once skips two tracks (to track 3); 0.1 s of it, previous (track 2), 0.05 s of
  // that, previous (track 1), then everything from there.
  const Ran r = play(seg() + " --speed 0 --cache 1 --keys n,n,0.1:p,0.05:p");
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  expect_segment(1, album[0], {});
  expect_segment(2, album[2], frames_of(album[2], 0, at(album[2], 0.1)));
  expect_segment(3, album[1], frames_of(album[1], 0, at(album[1], 0.05)));
  expect_segment(4, album[0], album[0].pcm);
  expect_segment(5, album[1], album[1].pcm);
  expect_segment(6, album[2], album[2].pcm);
  EXPECT_FALSE(segment_exists(7));
  // Tracks 2 and 1 came back from tape by positioning, not by reading from the start: at
  // least 5 file reads (3 + 2 going back), at most one per play start (6) plus the first
  // pass (3), and SPACE commands were used. (Each skip trims the cache at once, so track 2 is
  // gone when track 3 starts, however far the reader had got.)
  const auto files = r.out.find(" files, ");
  ASSERT_NE(files, std::string::npos) << r.out;
  const auto in = r.out.rfind(" in ", files);
  const int count = std::stoi(r.out.substr(in + 4, files - in - 4));
  EXPECT_GE(count, 5) << r.out;
  EXPECT_LE(count, 9) << r.out;
  EXPECT_FALSE(contains(r.out, ", 0 spaces")) << r.out;
}

TEST_F(Tapeplayer, QuitFromTheKeyScriptStopsAtOnce) {
  write_album();
  const auto t0 = std::chrono::steady_clock::now();
  const Ran r = play("--output null --speed 1 --keys 0.3:q");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_TRUE(contains(r.out, "play 1: track 1")) << r.out;
  EXPECT_FALSE(contains(r.out, "play 2:")) << r.out;
}

TEST_F(Tapeplayer, ANonFlacTapeFileIsReportedAndSkipped) {
  const std::string junk = file("notes.txt");
  std::ofstream(junk) << std::string(100000, 'x');
  write_album(junk, 0);  // tape files: track1.flac, notes.txt, track2.flac, track3.flac
  const Ran r = play(seg() + " --speed 0");
  EXPECT_EQ(r.code, 1) << r.err << r.out;
  EXPECT_TRUE(contains(r.err, "Track 2: not a FLAC stream")) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_TRUE(contains(r.out, "track 2 (tape file 2): not a FLAC stream")) << r.out;
  expect_segment(1, album[0], album[0].pcm);
  expect_segment(2, album[1], album[1].pcm);
  expect_segment(3, album[2], album[2].pcm);
}

TEST_F(Tapeplayer, ACorruptFrameIsSkippedCountedAndPlaybackGoesOn) {
  write_album("", 0, true);
  const Ran r = play(seg() + " --speed 0");
  EXPECT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_TRUE(contains(r.out, "track 1: corrupt frame skipped")) << r.out;
  EXPECT_FALSE(contains(r.out, "corrupt frames 0,")) << r.out;
  // Track 1 keeps its first half exactly; the tracks after it are untouched.
  const Wav w = read_wav(file("seg-1.wav"));
  ASSERT_GE(w.samples.size(), album[0].pcm.size() / 3);
  EXPECT_TRUE(std::equal(w.samples.begin(),
                         w.samples.begin() + static_cast<long>(album[0].pcm.size() / 3),
                         album[0].pcm.begin()));
  expect_segment(2, album[1], album[1].pcm);
  expect_segment(3, album[2], album[2].pcm);
}

TEST_F(Tapeplayer, AnEmptyTapeIsAnEmptyPlaylist) {
  const Ran r = play("--output null --speed 0");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "end of playlist")) << r.out;
  EXPECT_TRUE(contains(r.out, "summary: tracks 0")) << r.out;
}

TEST_F(Tapeplayer, BadArgumentsAreUsageErrors) {
  EXPECT_EQ(play("--keys x").code, 2);
  EXPECT_EQ(play("--cache 0").code, 2);
  EXPECT_EQ(tool(std::string(UISCSI_TAPEPLAYER) + " " + tape() + " --keys n").code, 2);
}

class TapeplayerSlowDrive : public Tapeplayer {
 protected:
  void SetUp() override {}
};

TEST_F(TapeplayerSlowDrive, NoUnderrunOnceTheBufferHasFilled) {
  // The drive gives 1 MB/s; the album (about 400 kB for 16.5 s) needs about 200 kB/s at 8x
  // real time, so once 1 s is buffered playback never runs dry.
  start_target({"--rate-limit", "1M"});
  write_album();
  const Ran r = play(seg() + " --speed 8 --buffer 4 --prebuffer 1");
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_TRUE(contains(r.out, "underruns 0,")) << r.out;
  for (int i = 0; i < 3; ++i)
    expect_segment(i + 1, album[i], album[i].pcm);
}

TEST_F(TapeplayerSlowDrive, ADriveSlowerThanPlaybackUnderruns) {
  // The control: the same album at 64x real time needs ~1.5 MB/s from a 200 kB/s drive.
  start_target({"--rate-limit", "200K"});
  write_album();
  const Ran r = play("--output null --speed 64 --buffer 4 --prebuffer 0.1");
  ASSERT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_FALSE(contains(r.out, "underruns 0,")) << r.out;
}

TEST_F(TapeplayerSlowDrive, ALostConnectionIsRecoveredAndShown) {
  // The album goes on a tape image; the target then restarts with it and drops the first
  // connection after 19 PDUs, while track 1 is being read (the player's read-ahead decides
  // which record exactly). The session logs in again by itself; the reader reads from a
  // known position again and the decoder resumes at the frame it had reached.
  start_target({"--tape-image", "IMAGE"});
  write_album();
  target.stop();
  ASSERT_TRUE(target.start(
      UISCSI_TARGET, {"--ram", "1M", "--tape", "64M", "--tape-image", file("tape.img"), "--fault",
                      "drop-after-pdus=19", "--fault", "faulty-connections=1"}));
  const Ran r = play(seg() + " --speed 0");
  EXPECT_EQ(r.code, 0) << r.err << r.out;
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(contains(r.out, "reading again after the session's recovery")) << r.out;
  EXPECT_TRUE(contains(r.out, ", 1 reconnections")) << r.out;
  // Nothing lost, nothing doubled.
  for (int i = 0; i < 3; ++i)
    expect_segment(i + 1, album[i], album[i].pcm);
}

TEST(TapeplayerErrors, NoMediumIsAClearErrorWithExitCode7) {
  TargetProcess target;
  // With a changer, the tape drive starts empty.
  ASSERT_TRUE(target.start(UISCSI_TARGET, {"--tape", "64M", "--changer", "2"}));
  const Ran r =
      tool(std::string(UISCSI_TAPEPLAYER) + " " + target.url(0) + " --headless --output null");
  EXPECT_EQ(r.code, 7) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_TRUE(contains(r.err, "no medium")) << r.err;
}

TEST(TapeplayerErrors, NoTargetIsACannotConnectError) {
  const Ran r =
      tool(std::string(UISCSI_TAPEPLAYER) + " iscsi://127.0.0.1:" + std::to_string(free_port()) +
           "/iqn.x:none/0 --headless --output null" + " --timeout 2");
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
}

}  // namespace
}  // namespace uiscsi::testing
