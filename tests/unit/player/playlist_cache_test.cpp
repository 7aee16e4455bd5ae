// Playlist (discovery, titles, states, end) and TrackCache (LRU, byte bound, pinning), and
// TrackData (waiting readers, cancellation), and the FLAC header reader.
#include <gtest/gtest.h>

#include <thread>

#include "player/errors.hpp"
#include "player/flac_header.hpp"
#include "player/player.hpp"
#include "player/playlist.hpp"
#include "player/track_cache.hpp"
#include "unit/player/flac_fixture.hpp"

namespace uiscsi::player {
namespace {

using std::chrono::milliseconds;

std::shared_ptr<TrackData> bytes_of(std::size_t n) {
  auto d = std::make_shared<TrackData>();
  std::vector<std::byte> v(n, std::byte{1});
  d->append(v);
  d->complete();
  return d;
}

std::span<const std::byte> as_bytes(const std::vector<unsigned char>& v) {
  return std::as_bytes(std::span(v));
}

TEST(Playlist, TracksAreDiscoveredInTapeOrderWithTitlesFromTags) {
  Playlist pl;
  EXPECT_TRUE(pl.may_exist(5));
  EXPECT_EQ(pl.discover(), 0u);
  EXPECT_EQ(pl.discover(), 1u);
  EXPECT_EQ(pl.discover(), 2u);
  EXPECT_EQ(pl.title(0), "Track 1");
  FlacHeader h;
  h.format = {44100, 2, 16};
  h.total_frames = 44100 * 3;
  h.tags.artist = "The Band";
  h.tags.title = "Song";
  pl.at(0).header = h;
  EXPECT_EQ(pl.title(0), "The Band - Song");
  EXPECT_DOUBLE_EQ(pl.duration(0), 3.0);
  h.tags = {};
  h.tags.title = "Only Title";
  pl.at(1).header = h;
  EXPECT_EQ(pl.title(1), "Only Title");
  h.tags = {};
  h.tags.track_number = 7;
  pl.at(2).header = h;
  EXPECT_EQ(pl.title(2), "Track 7");
  EXPECT_EQ(pl.at(0).state, TrackState::on_tape);
  EXPECT_STREQ(state_name(TrackState::evicted), "evicted");
  pl.set_end(3);
  EXPECT_TRUE(pl.end_known());
  EXPECT_TRUE(pl.may_exist(2));
  EXPECT_FALSE(pl.may_exist(3));
}

TEST(TrackCache, EvictsLeastRecentlyUsedWithinTheBound) {
  TrackCache c(300);
  c.insert(0, bytes_of(100));
  c.insert(1, bytes_of(100));
  c.insert(2, bytes_of(100));
  EXPECT_TRUE(c.make_room().empty());
  EXPECT_NE(c.get(0), nullptr);  // 0 becomes most recent: order 1, 2, 0
  c.insert(3, bytes_of(100));
  EXPECT_EQ(c.make_room(), std::vector<std::size_t>{1});
  EXPECT_EQ(c.bytes(), 300u);
  EXPECT_EQ(c.lru_order(), (std::vector<std::size_t>{2, 0, 3}));
  EXPECT_EQ(c.make_room(150), (std::vector<std::size_t>{2, 0}));
  EXPECT_FALSE(c.contains(0));
}

TEST(TrackCache, NeverEvictsThePlayingOrTheLoadingTrack) {
  TrackCache c(100);
  c.insert(0, bytes_of(80));
  c.insert(1, bytes_of(80));
  c.insert(2, bytes_of(80));
  c.pin_playing(0);
  c.pin_reading(2);
  EXPECT_EQ(c.evictable_bytes(), 80u);
  EXPECT_EQ(c.make_room(), std::vector<std::size_t>{1});
  EXPECT_TRUE(c.make_room().empty());  // over the bound, but only pinned tracks are left
  EXPECT_TRUE(c.contains(0));
  EXPECT_TRUE(c.contains(2));
  c.pin_playing(std::nullopt);
  EXPECT_EQ(c.make_room(), std::vector<std::size_t>{0});
}

TEST(TrackData, ReaderWaitsForBytesAndSeesTheEnd) {
  auto d = std::make_shared<TrackData>();
  std::thread writer([&] {
    std::this_thread::sleep_for(milliseconds(20));
    std::vector<std::byte> v{std::byte{1}, std::byte{2}, std::byte{3}};
    d->append(v);
    d->complete();
  });
  std::array<std::byte, 8> out{};
  auto r = d->read_at(0, out, milliseconds(5000), nullptr);
  ASSERT_TRUE(r);
  EXPECT_GE(r->bytes, 1u);
  writer.join();
  auto end = d->read_at(3, out, milliseconds(10), nullptr);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->bytes, 0u);
  EXPECT_TRUE(end->end);
}

TEST(TrackData, WaitingEndsOnTimeoutOrCancel) {
  TrackData d;
  std::array<std::byte, 8> out{};
  EXPECT_EQ(d.read_at(0, out, milliseconds(20), nullptr).error(), player_errc::timed_out);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(d.read_at(0, out, milliseconds(60000), [] { return true; }).error(),
            player_errc::cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, milliseconds(1000));
}

TEST(FlacHeader, ReadsFormatLengthAndVorbisComments) {
  test::Tone t;
  t.rate = 48000;
  t.channels = 1;
  t.bits = 24;
  t.frames = 12345;
  t.artist = "Artist";
  t.album = "Album";
  t.title = "Title";
  t.track_number = "4/12";
  const auto flac = test::encode_flac(t, test::tone_samples(t));
  ASSERT_FALSE(flac.empty());
  auto h = parse_flac_header(as_bytes(flac));
  ASSERT_TRUE(h) << h.error().message();
  EXPECT_EQ(h->format, (PcmFormat{48000, 1, 24}));
  EXPECT_EQ(h->total_frames, 12345u);
  EXPECT_EQ(h->tags.artist, "Artist");
  EXPECT_EQ(h->tags.album, "Album");
  EXPECT_EQ(h->tags.title, "Title");
  EXPECT_EQ(h->tags.track_number, 4u);
  EXPECT_TRUE(h->has_seek_table);
  // Every prefix that cuts the metadata asks for more; none reads out of bounds.
  for (std::size_t n = 0; n < h->audio_offset; ++n)
    EXPECT_EQ(parse_flac_header(as_bytes(flac).first(n)).error(), player_errc::need_more_data) << n;
}

TEST(FlacHeader, RejectsWhatIsNotFlacAndCorruptMetadata) {
  const std::string riff = "RIFF....WAVEfmt ";
  EXPECT_EQ(parse_flac_header(std::as_bytes(std::span(riff))).error(), player_errc::not_flac);
  std::vector<unsigned char> bad = {'f', 'L', 'a', 'C', 0x84, 0, 0, 4, 0, 0, 0, 0};
  EXPECT_EQ(parse_flac_header(as_bytes(bad)).error(), player_errc::corrupt_header);
  // STREAMINFO with a wrong length.
  bad = {'f', 'L', 'a', 'C', 0x80, 0, 0, 2, 0, 0};
  EXPECT_EQ(parse_flac_header(as_bytes(bad)).error(), player_errc::corrupt_header);
  // A Vorbis comment whose count claims more entries than there are bytes.
  TrackTags tags;
  std::vector<unsigned char> vc = {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
  EXPECT_FALSE(parse_vorbis_comment(as_bytes(vc), tags));
}

TEST(KeyScript, ParsesTimedKeys) {
  auto k = parse_key_script("n,1.5:p,0.25:],[,q");
  ASSERT_TRUE(k);
  ASSERT_EQ(k->size(), 5u);
  EXPECT_EQ((*k)[0].key, Key::next);
  EXPECT_DOUBLE_EQ((*k)[0].after_seconds, 0);
  EXPECT_EQ((*k)[1].key, Key::previous);
  EXPECT_DOUBLE_EQ((*k)[1].after_seconds, 1.5);
  EXPECT_EQ((*k)[2].key, Key::seek_forward);
  EXPECT_EQ((*k)[3].key, Key::seek_back);
  EXPECT_EQ((*k)[4].key, Key::quit);
  EXPECT_FALSE(parse_key_script("x"));
  EXPECT_FALSE(parse_key_script("abc:n"));
  EXPECT_FALSE(parse_key_script("-1:n"));
  EXPECT_FALSE(parse_key_script("n,,p"));
}

}  // namespace
}  // namespace uiscsi::player
