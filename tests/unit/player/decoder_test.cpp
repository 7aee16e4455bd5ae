// FlacDecoder: sample-exact decoding of the formats FLAC carries, decoding while the bytes are
// still arriving, a corrupt frame skipped and counted, a non-FLAC file reported, trailing
// zero padding ignored, and sample-exact seeking with and without a seek table.
#include <gtest/gtest.h>

#include <thread>

#include "player/errors.hpp"
#include "player/flac_decoder.hpp"
#include "unit/player/flac_fixture.hpp"

namespace uiscsi::player {
namespace {

std::shared_ptr<TrackData> data_of(const std::vector<unsigned char>& v, bool complete = true) {
  auto d = std::make_shared<TrackData>();
  d->append(std::as_bytes(std::span(v)));
  if (complete) d->complete();
  return d;
}

// Decodes everything from the current position; checks the blocks are contiguous.
std::vector<std::int32_t> decode_rest(FlacDecoder& dec, std::uint64_t first_frame) {
  std::vector<std::int32_t> out;
  std::uint64_t next = first_frame;
  for (;;) {
    auto b = dec.next();
    EXPECT_TRUE(b) << b.error().message();
    if (!b || b->samples.empty()) break;
    EXPECT_EQ(b->first_frame, next);
    next += b->frames();
    out.insert(out.end(), b->samples.begin(), b->samples.end());
  }
  return out;
}

class DecoderFormats : public ::testing::TestWithParam<test::Tone> {};

TEST_P(DecoderFormats, DecodesEverySampleExactly) {
  const test::Tone t = GetParam();
  const auto pcm = test::tone_samples(t);
  const auto flac = test::encode_flac(t, pcm);
  ASSERT_FALSE(flac.empty());
  FlacDecoder dec(data_of(flac), nullptr);
  ASSERT_TRUE(dec.open());
  EXPECT_EQ(dec.format(), (PcmFormat{t.rate, t.channels, t.bits}));
  EXPECT_EQ(dec.total_frames(), t.frames);
  EXPECT_EQ(decode_rest(dec, 0), pcm);
  EXPECT_EQ(dec.corrupt_frames(), 0u);
}

test::Tone tone(std::uint32_t rate, std::uint32_t channels, std::uint32_t bits,
                std::uint64_t frames) {
  test::Tone t;
  t.rate = rate;
  t.channels = channels;
  t.bits = bits;
  t.frames = frames;
  return t;
}

INSTANTIATE_TEST_SUITE_P(Formats, DecoderFormats,
                         ::testing::Values(tone(44100, 2, 16, 20000), tone(48000, 1, 24, 9000),
                                           tone(8000, 2, 8, 3000), tone(96000, 6, 24, 5000),
                                           tone(22050, 1, 12, 4000), tone(192000, 2, 32, 7000)));

TEST(FlacDecoder, DecodesWhileTheBytesAreStillComingFromTape) {
  const test::Tone t = tone(44100, 2, 16, 30000);
  const auto pcm = test::tone_samples(t);
  const auto flac = test::encode_flac(t, pcm);
  auto d = std::make_shared<TrackData>();
  std::thread tape([&] {
    for (std::size_t at = 0; at < flac.size(); at += 1000) {
      const std::size_t n = std::min<std::size_t>(1000, flac.size() - at);
      d->append(std::as_bytes(std::span(flac).subspan(at, n)));
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    d->complete();
  });
  FlacDecoder dec(d, nullptr);
  ASSERT_TRUE(dec.open());
  EXPECT_EQ(decode_rest(dec, 0), pcm);
  tape.join();
}

TEST(FlacDecoder, ANonFlacFileIsReportedAsSuch) {
  const std::vector<unsigned char> tar(4096, 'x');
  FlacDecoder dec(data_of(tar), nullptr);
  EXPECT_EQ(dec.open().error(), player_errc::not_flac);
  FlacDecoder empty(data_of({}), nullptr);
  EXPECT_EQ(empty.open().error(), player_errc::not_flac);
}

TEST(FlacDecoder, UnreadableMetadataAfterTheMarkerIsACorruptHeader) {
  std::vector<unsigned char> bad = {'f', 'L', 'a', 'C'};
  bad.resize(200, 0xff);
  FlacDecoder dec(data_of(bad), nullptr);
  EXPECT_EQ(dec.open().error(), player_errc::corrupt_header);
}

TEST(FlacDecoder, WaitingForBytesIsCancellable) {
  auto d = std::make_shared<TrackData>();  // nothing ever arrives
  std::atomic<bool> stop{false};
  FlacDecoder dec(d, [&] { return stop.load(); });
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    stop = true;
  });
  EXPECT_EQ(dec.open().error(), player_errc::cancelled);
  canceller.join();
}

TEST(FlacDecoder, ACorruptFrameIsSkippedAndCountedAndTheRestDecodes) {
  test::Tone t = tone(44100, 1, 16, 44100);
  t.block_size = 4096;
  const auto pcm = test::tone_samples(t);
  auto flac = test::encode_flac(t, pcm);
  ASSERT_GT(flac.size(), 20000u);
  // Damage bytes in the middle of the audio.
  for (std::size_t i = flac.size() / 2; i < flac.size() / 2 + 8; ++i)
    flac[i] ^= 0x5a;
  FlacDecoder dec(data_of(flac), nullptr);
  ASSERT_TRUE(dec.open());
  std::vector<std::int32_t> out;
  for (;;) {
    auto b = dec.next();
    ASSERT_TRUE(b) << b.error().message();
    if (b->samples.empty()) break;
    out.insert(out.end(), b->samples.begin(), b->samples.end());
  }
  EXPECT_GE(dec.corrupt_frames(), 1u);
  // The first frames are intact, and decoding went on to the end.
  ASSERT_GE(out.size(), 8192u);
  EXPECT_TRUE(std::equal(out.begin(), out.begin() + 8192, pcm.begin()));
  EXPECT_GE(out.size(), pcm.size() - 2 * 4096);
  EXPECT_TRUE(std::equal(out.end() - 4096, out.end(), pcm.end() - 4096));
}

TEST(FlacDecoder, ZeroPaddingAfterTheStreamIsIgnored) {
  const test::Tone t = tone(44100, 2, 16, 10000);
  const auto pcm = test::tone_samples(t);
  auto flac = test::encode_flac(t, pcm);
  flac.resize(flac.size() + 3000, 0);  // a fixed-block tape pads the last block
  FlacDecoder dec(data_of(flac), nullptr);
  ASSERT_TRUE(dec.open());
  EXPECT_EQ(decode_rest(dec, 0), pcm);
}

class DecoderSeek : public ::testing::TestWithParam<bool> {};

TEST_P(DecoderSeek, LandsOnTheExactSampleBothWays) {
  test::Tone t = tone(22050, 2, 16, 22050 * 15);
  t.seek_table = GetParam();
  const auto pcm = test::tone_samples(t);
  const auto flac = test::encode_flac(t, pcm);
  FlacDecoder dec(data_of(flac), nullptr);
  ASSERT_TRUE(dec.open());
  ASSERT_TRUE(dec.next());  // start playing, then jump around
  for (std::uint64_t target : {22050ull * 11, 22050ull * 1 + 17, 5ull, 22050ull * 14 + 999}) {
    ASSERT_TRUE(dec.seek(target)) << target;
    auto b = dec.next();
    ASSERT_TRUE(b);
    ASSERT_FALSE(b->samples.empty());
    EXPECT_EQ(b->first_frame, target);
    EXPECT_TRUE(std::equal(b->samples.begin(), b->samples.end(),
                           pcm.begin() + static_cast<long>(target * 2)))
        << target;
  }
  EXPECT_EQ(dec.seek(t.frames).error(), player_errc::seek_failed);
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutSeekTable, DecoderSeek, ::testing::Bool());

TEST(FlacDecoder, SeekingNeedsTheWholeTrack) {
  const test::Tone t = tone(44100, 2, 16, 44100);
  const auto flac = test::encode_flac(t, test::tone_samples(t));
  FlacDecoder dec(data_of(flac, false), nullptr);
  ASSERT_TRUE(dec.open());
  EXPECT_EQ(dec.seek(1000).error(), player_errc::seek_failed);
}

}  // namespace
}  // namespace uiscsi::player
