// The WAV sink: headers and sample encoding for each bit depth, one file per segment with %n,
// a new file on a format change; the null sink.
#include "player/sink.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

namespace uiscsi::player {
namespace {

std::vector<unsigned char> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::uint32_t le(const std::vector<unsigned char>& v, std::size_t at, int n) {
  std::uint32_t x = 0;
  for (int i = n - 1; i >= 0; --i)
    x = x << 8 | v.at(at + static_cast<std::size_t>(i));
  return x;
}

class WavSinkTest : public ::testing::Test {
 protected:
  std::filesystem::path dir;
  void SetUp() override {
    dir = std::filesystem::temp_directory_path() /
          ("uiscsi-wav-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir);
  }
  void TearDown() override { std::filesystem::remove_all(dir); }
  PcmBlock block(PcmFormat f, std::vector<std::int32_t> s) {
    PcmBlock b;
    b.format = f;
    b.samples = std::move(s);
    return b;
  }
};

TEST_F(WavSinkTest, SixteenBitStereoIsPlainPcm) {
  const std::string path = (dir / "a.wav").string();
  auto sink = make_wav_sink(path);
  const PcmFormat f{44100, 2, 16};
  ASSERT_TRUE(sink->begin(f, 1, 0));
  ASSERT_TRUE(sink->write(block(f, {1, -1, 32767, -32768})));
  ASSERT_TRUE(sink->finish());
  const auto v = slurp(path);
  ASSERT_EQ(v.size(), 44u + 8u);
  EXPECT_EQ(std::string(v.begin(), v.begin() + 4), "RIFF");
  EXPECT_EQ(le(v, 4, 4), 36u + 8u);
  EXPECT_EQ(le(v, 20, 2), 1u);  // PCM
  EXPECT_EQ(le(v, 22, 2), 2u);
  EXPECT_EQ(le(v, 24, 4), 44100u);
  EXPECT_EQ(le(v, 34, 2), 16u);
  EXPECT_EQ(le(v, 40, 4), 8u);
  EXPECT_EQ(le(v, 44, 2), 1u);
  EXPECT_EQ(le(v, 46, 2), 0xffffu);
  EXPECT_EQ(le(v, 48, 2), 0x7fffu);
  EXPECT_EQ(le(v, 50, 2), 0x8000u);
}

TEST_F(WavSinkTest, EightBitIsUnsignedAndTwelveBitIsExtensibleLeftJustified) {
  auto sink = make_wav_sink((dir / "t%n.wav").string());
  ASSERT_TRUE(sink->begin({8000, 1, 8}, 1, 0));
  ASSERT_TRUE(sink->write(block({8000, 1, 8}, {-128, 0, 127})));
  ASSERT_TRUE(sink->begin({8000, 1, 12}, 2, 1));
  ASSERT_TRUE(sink->write(block({8000, 1, 12}, {-1, 5})));
  ASSERT_TRUE(sink->finish());
  const auto a = slurp((dir / "t1.wav").string());
  ASSERT_EQ(a.size(), 47u);
  EXPECT_EQ(a[44], 0);
  EXPECT_EQ(a[45], 128);
  EXPECT_EQ(a[46], 255);
  const auto b = slurp((dir / "t2.wav").string());
  ASSERT_EQ(b.size(), 68u + 4u);
  EXPECT_EQ(le(b, 20, 2), 0xfffeu);  // WAVE_FORMAT_EXTENSIBLE
  EXPECT_EQ(le(b, 34, 2), 16u);      // container
  EXPECT_EQ(le(b, 38, 2), 12u);      // valid bits
  EXPECT_EQ(le(b, 68, 2), 0xfff0u);  // -1 << 4
  EXPECT_EQ(le(b, 70, 2), 0x0050u);  // 5 << 4
}

TEST_F(WavSinkTest, OneFileKeepsSegmentsOfOneFormatAndSplitsOnAChange) {
  const std::string path = (dir / "album.wav").string();
  auto sink = make_wav_sink(path);
  const PcmFormat f{44100, 2, 16}, g{48000, 2, 24};
  ASSERT_TRUE(sink->begin(f, 1, 0));
  ASSERT_TRUE(sink->write(block(f, {1, 2})));
  ASSERT_TRUE(sink->begin(f, 2, 1));
  ASSERT_TRUE(sink->write(block(f, {3, 4})));
  ASSERT_TRUE(sink->begin(g, 3, 2));
  ASSERT_TRUE(sink->write(block(g, {5, 6})));
  ASSERT_TRUE(sink->finish());
  EXPECT_EQ(slurp(path).size(), 44u + 8u);
  EXPECT_EQ(slurp((dir / "album.2.wav").string()).size(), 44u + 6u);
}

TEST(NullSink, TakesAnything) {
  auto sink = make_null_sink();
  EXPECT_TRUE(sink->begin({8000, 1, 8}, 1, 0));
  EXPECT_TRUE(sink->finish());
  EXPECT_FALSE(sink->realtime());
}

// The ALSA sink through alsa-lib's "null" PCM, which needs no sound card: the device is
// opened and configured for each format and takes the samples. A device that does not exist
// fails at begin() with an error, not a crash.
TEST(AlsaSink, PlaysIntoTheNullDeviceAndReportsAMissingOne) {
  auto sink = make_alsa_sink("null");
  if (!sink) GTEST_SKIP() << "built without ALSA";
  EXPECT_TRUE(sink->realtime());
  for (const PcmFormat f : {PcmFormat{44100, 2, 16}, PcmFormat{48000, 1, 24}}) {
    auto begun = sink->begin(f, 1, 0);
    if (!begun) GTEST_SKIP() << "no ALSA null device here: " << begun.error().message();
    PcmBlock b;
    b.format = f;
    b.samples.assign(static_cast<std::size_t>(f.channels) * 4800, 1000);
    EXPECT_TRUE(sink->write(b)) << f.describe();
  }
  EXPECT_TRUE(sink->finish());
  auto missing = make_alsa_sink("uiscsi_no_such_device");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->begin({44100, 2, 16}, 1, 0));
}

}  // namespace
}  // namespace uiscsi::player
