// The test album: FLAC tones of different rates, depths and tags, written to a uiscsi-target
// tape with uiscsi-tape-dd (one tape file each), and a WAV reader to check what tapeplayer
// wrote, sample for sample.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cli/run_tool.hpp"
#include "cli/target_process.hpp"
#include "interop/support.hpp"
#include "unit/player/flac_fixture.hpp"

namespace uiscsi::testing {

using player::test::Tone;

struct AlbumTrack {
  Tone tone;
  std::vector<std::int32_t> pcm;  // interleaved
};

inline std::vector<AlbumTrack> make_album() {
  std::vector<AlbumTrack> album(3);
  Tone& a = album[0].tone;
  a.rate = 22050, a.channels = 2, a.bits = 16, a.frames = 22050 * 14;
  a.artist = "Tape Band", a.album = "Loopback", a.title = "First", a.track_number = "1";
  Tone& b = album[1].tone;
  b.rate = 48000, b.channels = 1, b.bits = 24, b.frames = 48000 * 3 / 2, b.hz = 660;
  b.title = "Second", b.track_number = "2", b.seek_table = false;
  Tone& c = album[2].tone;
  c.rate = 8000, c.channels = 2, c.bits = 8, c.frames = 8000, c.hz = 330;
  for (auto& t : album)
    t.pcm = player::test::tone_samples(t.tone);
  return album;
}

// Samples [from, to) (frames) of a track, interleaved.
inline std::vector<std::int32_t> frames_of(const AlbumTrack& t, std::uint64_t from,
                                           std::uint64_t to) {
  const auto ch = t.tone.channels;
  to = std::min<std::uint64_t>(to, t.tone.frames);
  return {t.pcm.begin() + static_cast<long>(from * ch), t.pcm.begin() + static_cast<long>(to * ch)};
}

struct Wav {
  std::uint32_t rate = 0, channels = 0, container_bits = 0, valid_bits = 0;
  std::vector<std::int32_t> samples;
};

// Reads a WAV file tapeplayer wrote; empty `rate` when unreadable.
inline Wav read_wav(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::vector<unsigned char> v{std::istreambuf_iterator<char>(in), {}};
  Wav w;
  auto le = [&](std::size_t at, int n) {
    std::uint32_t x = 0;
    for (int i = n - 1; i >= 0; --i)
      x = x << 8 | v[at + static_cast<std::size_t>(i)];
    return x;
  };
  if (v.size() < 44 || std::string(v.begin(), v.begin() + 4) != "RIFF") return w;
  std::size_t pos = 12;
  while (pos + 8 <= v.size()) {
    const std::string id(v.begin() + static_cast<long>(pos),
                         v.begin() + static_cast<long>(pos) + 4);
    const std::uint32_t size = le(pos + 4, 4);
    const std::size_t body = pos + 8;
    if (id == "fmt ") {
      w.channels = le(body + 2, 2);
      w.rate = le(body + 4, 4);
      w.container_bits = le(body + 14, 2);
      w.valid_bits = le(body, 2) == 0xfffe ? le(body + 18, 2) : w.container_bits;
    } else if (id == "data") {
      const std::uint32_t bytes = w.container_bits / 8;
      if (bytes == 0 || body + size > v.size()) return {};
      for (std::size_t at = body; at + bytes <= body + size; at += bytes) {
        std::uint32_t x = le(at, static_cast<int>(bytes));
        std::int32_t s;
        if (bytes == 1) {
          s = static_cast<std::int32_t>(x) - 128;
        } else {
          x <<= 32 - bytes * 8;
          s = static_cast<std::int32_t>(x) >> (32 - w.valid_bits);
        }
        w.samples.push_back(s);
      }
    }
    pos = body + size + (size & 1);
  }
  return w;
}

// A target with a blank tape (LUN 1) and the album written to it.
class AlbumOnTape : public ::testing::Test {
 protected:
  TargetProcess target;
  std::filesystem::path dir;
  std::vector<AlbumTrack> album = make_album();

  void start_target(std::vector<std::string> extra = {}) {
    dir = temp_dir("tapeplayer");
    ASSERT_FALSE(dir.empty());
    std::vector<std::string> args{"--ram", "1M", "--tape", "64M"};
    for (auto& a : extra)
      if (a == "IMAGE") a = file("tape.img");  // a tape image in the test's directory
    args.insert(args.end(), extra.begin(), extra.end());
    ASSERT_TRUE(target.start(UISCSI_TARGET, args));
  }
  void TearDown() override {
    target.stop();
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
  [[nodiscard]] std::string tape() const { return target.url(1); }
  [[nodiscard]] std::string file(const std::string& name) const { return (dir / name).string(); }

  void write_to_tape(const std::string& path, bool append) {
    const Ran r = tool(std::string(UISCSI_TAPE_DD) + " if=" + path + " of=" + tape() +
                       " bs=64K status=none" + (append ? " --append" : ""));
    ASSERT_EQ(r.code, 0) << r.err;
  }
  // Writes the album, with `between` (a path) as an extra tape file after track `after`.
  // With `damage`, 8 bytes in the middle of track 1's audio are flipped.
  void write_album(const std::string& between = "", std::size_t after = 0, bool damage = false) {
    for (std::size_t i = 0; i < album.size(); ++i) {
      auto flac = player::test::encode_flac(album[i].tone, album[i].pcm);
      ASSERT_FALSE(flac.empty());
      if (damage && i == 0)
        for (std::size_t k = flac.size() / 2; k < flac.size() / 2 + 8; ++k)
          flac[k] ^= 0x5a;
      const std::string path = file("track" + std::to_string(i + 1) + ".flac");
      std::ofstream(path, std::ios::binary)
          .write(reinterpret_cast<const char*>(flac.data()), static_cast<long>(flac.size()));
      write_to_tape(path, i > 0);
      if (!between.empty() && i == after) write_to_tape(between, true);
    }
  }
  [[nodiscard]] Ran play(const std::string& args) const {
    return tool(std::string(UISCSI_TAPEPLAYER) + " " + tape() + " --headless " + args);
  }
};

inline bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

}  // namespace uiscsi::testing
