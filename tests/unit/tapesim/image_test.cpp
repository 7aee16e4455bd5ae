// Image-backed media: round trips, crash and corruption handling, locking, compaction, and a
// drive that keeps its cartridge across restarts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>

#include "core/bytes.hpp"
#include "core/crc32c.hpp"
#include "tapesim/errors.hpp"
#include "tapesim/image_format.hpp"
#include "tapesim/medium.hpp"
#include "tapesim_test_util.hpp"

namespace uiscsi::tapesim {
namespace {

using test::pattern;
using test::TempPath;
using test::text;

std::vector<std::byte> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> c((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> out(c.size());
  std::memcpy(out.data(), c.data(), c.size());
  return out;
}

void spit(const std::string& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

MediumOptions options() {
  MediumOptions o = test::small_medium(1 << 20, 4096);
  o.mark_size = 8;
  o.barcode = "TST001L9";
  o.density_code = 0x60;
  return o;
}

// Writes a little of everything: records (raw and compressed), marks, an overwrite.
void fill(Medium& m) {
  ASSERT_TRUE(m.write_record(0, 0, pattern(1000, 1), false));
  ASSERT_TRUE(m.write_record(0, 1, text(5000), true));
  ASSERT_TRUE(m.write_mark(0, 2, ObjectKind::filemark));
  ASSERT_TRUE(m.write_record(0, 3, pattern(77, 3), false));
  ASSERT_TRUE(m.write_mark(0, 4, ObjectKind::setmark));
  ASSERT_TRUE(m.write_record(0, 5, pattern(10, 4), false));
  ASSERT_TRUE(m.write_record(0, 4, pattern(333, 5), true));  // overwrites the setmark on
}

void expect_filled(const Medium& m, std::uint64_t objects = 5) {
  ASSERT_EQ(m.partition_count(), 1u);
  ASSERT_EQ(m.object_count(0), objects);
  EXPECT_EQ(m.object(0, 2).kind, ObjectKind::filemark);
  EXPECT_TRUE(m.object(0, 1).compressed);
  std::vector<std::byte> a(1000), b(5000), c(77), d(333);
  ASSERT_TRUE(m.read(0, 0, a));
  ASSERT_TRUE(m.read(0, 1, b));
  ASSERT_TRUE(m.read(0, 3, c));
  ASSERT_TRUE(m.read(0, 4, d));
  EXPECT_EQ(a, pattern(1000, 1));
  EXPECT_EQ(b, text(5000));
  EXPECT_EQ(c, pattern(77, 3));
  EXPECT_EQ(d, pattern(333, 5));
}

TEST(Image, RoundTripKeepsObjectsAndAttributes) {
  TempPath t("img");
  {
    auto m = Medium::create_image(t.path, options());
    ASSERT_TRUE(m) << m.error().message();
    fill(*m);
    ASSERT_TRUE(m->set_write_protected(true));
    EXPECT_EQ(m->write_record(0, 0, pattern(1, 1), false).error(), tapesim_errc::write_protected);
    ASSERT_TRUE(m->set_write_protected(false));
    ASSERT_TRUE(m->set_density_code(0x5e));
    ASSERT_TRUE(m->close());
  }
  auto m = Medium::open_image(t.path);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_TRUE(m->was_clean());
  EXPECT_EQ(m->barcode(), "TST001L9");
  EXPECT_EQ(m->density_code(), 0x5e);
  EXPECT_EQ(m->mark_size(), 8u);
  EXPECT_EQ(m->capacity(), 1u << 20);
  EXPECT_FALSE(m->write_protected());
  expect_filled(*m);
  EXPECT_EQ(m->used_bytes(0), 1000u + m->object(0, 1).stored + 8u + 77u + m->object(0, 4).stored);
}

TEST(Image, ExistingPathIsNotOverwritten) {
  TempPath t("img");
  ASSERT_TRUE(Medium::create_image(t.path, options()));
  EXPECT_EQ(Medium::create_image(t.path, options()).error(), tapesim_errc::image_exists);
}

TEST(Image, SecondOpenIsBusy) {
  TempPath t("img");
  auto m = Medium::create_image(t.path, options());
  ASSERT_TRUE(m);
  EXPECT_EQ(Medium::open_image(t.path).error(), tapesim_errc::image_busy);
  ASSERT_TRUE(m->close());
  auto again = Medium::open_image(t.path);
  EXPECT_TRUE(again);
}

TEST(Image, ReadOnlyIsWriteProtected) {
  TempPath t("img");
  {
    auto m = Medium::create_image(t.path, options());
    ASSERT_TRUE(m);
    fill(*m);
  }  // the destructor closes cleanly
  ImageOptions ro;
  ro.read_only = true;
  auto m = Medium::open_image(t.path, ro);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_TRUE(m->write_protected());
  expect_filled(*m);
  EXPECT_EQ(m->write_record(0, 5, pattern(1, 1), false).error(), tapesim_errc::write_protected);
  EXPECT_EQ(m->set_write_protected(false).error(), tapesim_errc::write_protected);
  // Two readers may share it.
  EXPECT_TRUE(Medium::open_image(t.path, ro));
}

// A process killed before close(): every change already reached the file.
TEST(Image, UncleanImageKeepsEveryWrite) {
  TempPath t("img");
  TempPath copy("copy");
  auto m = Medium::create_image(t.path, options());
  ASSERT_TRUE(m);
  fill(*m);
  std::filesystem::copy_file(t.path, copy.path);
  auto c = Medium::open_image(copy.path);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_FALSE(c->was_clean());
  expect_filled(*c);
}

// Every prefix of an image: a clean one is always an error; a crashed one is an error, or with
// recover_torn_tail a prefix of the objects. Nothing crashes and nothing allocates from a
// length it has not checked.
TEST(Image, EveryTruncatedPrefixIsAClearError) {
  TempPath t("img");
  TempPath cut("cut");
  std::vector<std::byte> clean, dirty;
  {
    auto m = Medium::create_image(t.path, options());
    ASSERT_TRUE(m);
    fill(*m);
    dirty = slurp(t.path);
    ASSERT_TRUE(m->close());
    clean = slurp(t.path);
  }
  ASSERT_EQ(clean.size(), dirty.size());
  ImageOptions ro;  // read-only opens write no header: no fsync per prefix
  ro.read_only = true;
  for (std::size_t n = 0; n < clean.size(); ++n) {
    spit(cut.path, std::span(clean).first(n));
    auto m = Medium::open_image(cut.path, ro);
    ASSERT_FALSE(m) << n;
    EXPECT_TRUE(m.error() == tapesim_errc::image_truncated) << n << " " << m.error().message();
  }
  for (std::size_t n = image::kHeaderSize; n < dirty.size(); ++n) {
    spit(cut.path, std::span(dirty).first(n));
    auto strict = Medium::open_image(cut.path, ro);
    if (strict) continue;  // cut at a frame boundary of a crashed image: an earlier state
    EXPECT_EQ(strict.error(), tapesim_errc::image_truncated) << n;
    // Recovery read-only ignores the torn tail; writable (every 8th prefix, for speed) cuts it
    // off and leaves a clean image.
    const bool repair = n % 8 == 0;
    ImageOptions io;
    io.recover_torn_tail = true;
    io.read_only = !repair;
    auto m = Medium::open_image(cut.path, io);
    if (!m) {
      // Only a missing first frame (the partition layout) cannot be recovered from.
      EXPECT_EQ(m.error(), tapesim_errc::image_truncated) << n;
      EXPECT_LT(n, image::kHeaderSize + image::kFrameHeaderSize + 8) << n;
      continue;
    }
    for (std::uint64_t i = 0; i < m->object_count(0); ++i) {
      const ObjectInfo o = m->object(0, i);
      if (o.kind != ObjectKind::record) continue;
      std::vector<std::byte> buf(o.length);
      EXPECT_TRUE(m->read(0, i, buf)) << n << " " << i;
    }
    if (!repair) continue;
    ASSERT_TRUE(m->close());
    EXPECT_TRUE(Medium::open_image(cut.path, ro));  // the repaired image is clean
  }
}

// Every single-byte change in the header or a frame header is caught when opening; one in a
// record's bytes when that record is read (or at open with verify_data).
TEST(Image, EveryCorruptedByteIsCaught) {
  TempPath t("img");
  TempPath bad("bad");
  std::vector<std::byte> clean;
  using Range = std::pair<std::uint64_t, std::uint64_t>;  // [offset, end)
  std::vector<Range> payloads;                            // every record payload
  std::vector<Range> live;                                // those still on the medium
  {
    auto m = Medium::create_image(t.path, options());
    ASSERT_TRUE(m);
    fill(*m);
    ASSERT_TRUE(m->close());
    clean = slurp(t.path);
  }
  // Find payload ranges by walking (and replaying) the frames.
  std::vector<std::optional<Range>> objects;
  for (std::size_t off = image::kHeaderSize; off < clean.size();) {
    auto f = image::decode_frame(std::span(clean).subspan(off));
    ASSERT_TRUE(f);
    const std::size_t p = off + image::kFrameHeaderSize;
    if (f->type == image::FrameType::object) {
      objects.emplace_back();
      if (f->payload_length > 0) {
        payloads.emplace_back(p, p + f->payload_length);
        objects.back() = payloads.back();
      }
    } else if (f->type == image::FrameType::truncate) {
      objects.resize(f->value);
    }
    off = p + f->payload_length;
  }
  for (const auto& o : objects) {
    if (o) live.push_back(*o);
  }
  ASSERT_LT(live.size(), payloads.size());  // fill() leaves a dead record behind
  for (std::size_t i = 0; i < clean.size(); ++i) {
    std::vector<std::byte> b = clean;
    b[i] ^= std::byte{0x5a};
    spit(bad.path, b);
    auto inside = [&](const std::vector<Range>& ranges) {
      return std::any_of(ranges.begin(), ranges.end(),
                         [&](const Range& r) { return i >= r.first && i < r.second; });
    };
    const bool in_payload = inside(payloads);
    const bool in_live = inside(live);
    ImageOptions ro;
    ro.read_only = true;
    auto m = Medium::open_image(bad.path, ro);
    if (!in_payload) {
      EXPECT_FALSE(m) << "byte " << i;
      continue;
    }
    ASSERT_TRUE(m) << i << " " << m.error().message();
    bool caught = false;
    for (std::uint64_t k = 0; k < m->object_count(0); ++k) {
      const ObjectInfo o = m->object(0, k);
      if (o.kind != ObjectKind::record) continue;
      std::vector<std::byte> buf(o.length);
      auto r = m->read(0, k, buf);
      if (!r) {
        EXPECT_EQ(r.error(), tapesim_errc::data_corrupt);
        caught = true;
      }
    }
    EXPECT_EQ(caught, in_live) << "byte " << i;  // damage to dead data harms nothing
    ImageOptions verify = ro;
    verify.verify_data = true;
    auto v = Medium::open_image(bad.path, verify);
    ASSERT_FALSE(v) << i;
    EXPECT_EQ(v.error(), tapesim_errc::image_corrupt);
  }
}

TEST(Image, ForeignAndFutureFilesAreRejected) {
  TempPath t("img");
  spit(t.path, test::text(500));
  EXPECT_EQ(Medium::open_image(t.path).error(), tapesim_errc::image_not_a_tape);
  image::Header h;
  h.capacity = 1000;
  auto head = image::encode_header(h);
  head[9] = std::byte{2};  // version 2
  core::store_be32(&head[92], core::crc32c(std::span(head).first(92)));
  spit(t.path, head);
  EXPECT_EQ(Medium::open_image(t.path).error(), tapesim_errc::image_version);
  EXPECT_FALSE(Medium::open_image(t.path + ".missing"));
}

// Hand-made journals whose frames contradict each other, or announce lengths they do not have.
TEST(Image, InconsistentFramesAreCorrupt) {
  TempPath t("img");
  image::Header h;
  h.capacity = 1000;
  auto frame_bytes = [](image::Frame f, std::span<const std::byte> payload) {
    f.payload_length = static_cast<std::uint32_t>(payload.size());
    f.payload_crc = core::crc32c(payload);
    std::vector<std::byte> out;
    const auto head = image::encode_frame(f);
    out.insert(out.end(), head.begin(), head.end());
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
  };
  std::vector<std::byte> layout(8);
  core::store_be64(layout.data(), 1000);
  image::Frame format;
  format.type = image::FrameType::format;
  format.value = 1;
  auto build = [&](std::vector<std::vector<std::byte>> frames) {
    image::Header hh = h;
    std::uint64_t length = image::kHeaderSize;
    for (const auto& f : frames)
      length += f.size();
    hh.clean = true;
    hh.clean_length = length;
    const auto head = image::encode_header(hh);
    std::vector<std::byte> out(head.begin(), head.end());
    for (const auto& f : frames)
      out.insert(out.end(), f.begin(), f.end());
    spit(t.path, out);
    return Medium::open_image(t.path).error();
  };
  image::Frame record;
  record.type = image::FrameType::object;
  record.value = 4;
  const auto four = pattern(4, 1);
  image::Frame trunc;
  trunc.type = image::FrameType::truncate;

  EXPECT_FALSE(build({frame_bytes(format, layout)}));  // a valid empty cartridge
  EXPECT_EQ(build({frame_bytes(record, four)}), tapesim_errc::image_corrupt);  // no layout first
  trunc.value = 2;
  EXPECT_EQ(build({frame_bytes(format, layout), frame_bytes(record, four), frame_bytes(trunc, {})}),
            tapesim_errc::image_corrupt);  // truncate past EOD
  record.partition = 1;
  EXPECT_EQ(build({frame_bytes(format, layout), frame_bytes(record, four)}),
            tapesim_errc::image_corrupt);  // no such partition
  record.partition = 0;
  std::vector<std::byte> huge(8);
  core::store_be64(huge.data(), 5000);
  EXPECT_EQ(build({frame_bytes(format, huge)}), tapesim_errc::image_corrupt);  // over capacity
  const auto big = pattern(999, 2);
  record.value = 999;
  EXPECT_TRUE(build({frame_bytes(format, layout), frame_bytes(record, big)}) == std::error_code{});
  EXPECT_EQ(
      build({frame_bytes(format, layout), frame_bytes(record, big), frame_bytes(record, big)}),
      tapesim_errc::image_corrupt);  // past the end of the partition
  // A frame announcing 16 MiB of payload in a small file: truncated, nothing allocated.
  image::Frame liar = record;
  liar.value = image::kMaxRecordLength;
  liar.compressed = true;
  auto lie = frame_bytes(liar, four);
  core::store_be32(&lie[16], image::kMaxRecordLength - 1);
  core::store_be32(&lie[28], core::crc32c(std::span(lie).first(28)));
  EXPECT_EQ(build({frame_bytes(format, layout), lie}), tapesim_errc::image_truncated);
  // Lengths past the format's bounds are corrupt whatever the file holds.
  image::Frame too_long = record;
  too_long.value = image::kMaxRecordLength + 1;
  EXPECT_EQ(build({frame_bytes(format, layout), frame_bytes(too_long, four)}),
            tapesim_errc::image_corrupt);
  image::Frame many = format;
  many.value = 65;
  EXPECT_EQ(build({frame_bytes(many, std::vector<std::byte>(8 * 65))}),
            tapesim_errc::image_corrupt);
}

TEST(Image, CompactionDropsDeadFrames) {
  TempPath t("img");
  auto m = Medium::create_image(t.path, options());
  ASSERT_TRUE(m);
  for (unsigned i = 0; i < 50; ++i)
    ASSERT_TRUE(m->write_record(0, 0, pattern(10000, i), false));  // rewrites record 0
  fill(*m);
  EXPECT_GT(m->dead_bytes(), 400000u);
  const auto before = std::filesystem::file_size(t.path);
  ASSERT_TRUE(m->compact());
  EXPECT_EQ(m->dead_bytes(), 0u);
  expect_filled(*m);
  ASSERT_TRUE(m->write_record(0, 5, pattern(12, 9), false));
  ASSERT_TRUE(m->close());
  EXPECT_LT(std::filesystem::file_size(t.path), before / 4);
  auto again = Medium::open_image(t.path);
  ASSERT_TRUE(again) << again.error().message();
  expect_filled(*again, 6);
}

TEST(Image, OpenCompactsAWastefulImage) {
  TempPath t("img");
  {
    auto m = Medium::create_image(t.path, options());
    ASSERT_TRUE(m);
    for (unsigned i = 0; i < 30; ++i)
      ASSERT_TRUE(m->write_record(0, 0, pattern(100000, i), false));
  }
  const auto before = std::filesystem::file_size(t.path);
  auto m = Medium::open_image(t.path);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->dead_bytes(), 0u);
  ASSERT_TRUE(m->close());
  EXPECT_LT(std::filesystem::file_size(t.path), before / 10);
}

// Rewriting a cartridge from BOP leaves the whole old content dead in the image: once that is
// more than 64 MiB the image is compacted at once (nothing live to copy), else it stays until
// the next open.
TEST(Image, RewritingFromBopCompactsALargeDeadImage) {
  TempPath t("img");
  MediumOptions o = options();
  o.capacity = 256ull << 20;
  auto m = Medium::create_image(t.path, o);
  ASSERT_TRUE(m);
  const auto record = pattern(1 << 20, 3);
  for (std::uint64_t i = 0; i < 8; ++i)
    ASSERT_TRUE(m->write_record(0, i, record, false));
  ASSERT_TRUE(m->write_record(0, 0, pattern(100, 4), false));  // 8 MiB dead: below the bound
  EXPECT_GT(std::filesystem::file_size(t.path), 8ull << 20);
  for (std::uint64_t i = 1; i < 70; ++i)
    ASSERT_TRUE(m->write_record(0, i, record, false));
  EXPECT_GT(std::filesystem::file_size(t.path), 77ull << 20);
  ASSERT_TRUE(m->write_record(0, 0, pattern(100, 5), false));  // ~77 MiB dead: compacted
  EXPECT_LT(std::filesystem::file_size(t.path), 1ull << 20);
  EXPECT_EQ(m->dead_bytes(), 0u);
  ASSERT_TRUE(m->close());
  auto again = Medium::open_image(t.path);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->object_count(0), 1u);
}

TEST(Image, PartitionsSurvive) {
  TempPath t("img");
  MediumOptions o = options();
  o.partitions = {300000, 700000};
  {
    auto m = Medium::create_image(t.path, o);
    ASSERT_TRUE(m);
    ASSERT_TRUE(m->write_record(1, 0, pattern(50, 1), false));
    ASSERT_TRUE(m->write_record(0, 0, pattern(60, 2), false));
    ASSERT_TRUE(m->write_mark(1, 1, ObjectKind::filemark));
  }
  {
    auto m = Medium::open_image(t.path);
    ASSERT_TRUE(m);
    ASSERT_EQ(m->partition_count(), 2u);
    EXPECT_EQ(m->partition_size(0), 300000u);
    EXPECT_EQ(m->object_count(0), 1u);
    EXPECT_EQ(m->object_count(1), 2u);
    ASSERT_TRUE(m->format(std::vector<std::uint64_t>{1000, 2000, 3000}));
    ASSERT_TRUE(m->write_record(2, 0, pattern(70, 3), false));
  }
  auto m = Medium::open_image(t.path);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->partition_count(), 3u);
  EXPECT_EQ(m->object_count(2), 1u);
  EXPECT_EQ(m->partition_size(2), 3000u);
}

TEST(Image, SyncWritesAndFlush) {
  TempPath t("img");
  ImageOptions io;
  io.sync_writes = true;
  auto m = Medium::create_image(t.path, options(), io);
  ASSERT_TRUE(m);
  fill(*m);
  ASSERT_TRUE(m->flush());
  ASSERT_TRUE(m->close());
  EXPECT_EQ(m->write_record(0, 0, pattern(1, 1), false).error(),
            std::make_error_code(std::errc::bad_file_descriptor));
}

}  // namespace
}  // namespace uiscsi::tapesim
