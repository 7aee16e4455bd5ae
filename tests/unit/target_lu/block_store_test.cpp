// Block stores: RamStore, NullStore and FileStore (plain and O_DIRECT), and a DiskLu over a
// file.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include "lu_test_util.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/data.hpp"

namespace uiscsi::target::test {
namespace {

namespace fs = std::filesystem;

// A fresh directory that is removed with its contents afterwards.
class TempDir {
 public:
  explicit TempDir(const fs::path& parent = fs::temp_directory_path()) {
    std::string tmpl = (parent / "uiscsi-lu-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] bool ok() const { return !path_.empty(); }
  [[nodiscard]] fs::path file(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

TEST(RamStore, ReadWriteAndReadAppend) {
  auto s = make_ram_store(512, 1000);
  ASSERT_TRUE(s);
  BlockStore& st = **s;
  EXPECT_EQ(st.block_size(), 512u);
  EXPECT_EQ(st.block_count(), 1000u);
  EXPECT_FALSE(st.blocking());
  EXPECT_TRUE(st.supports_discard());
  // Crossing a 1 MiB lock region (block 2048 starts the second one).
  const auto data = pattern(8 * 512, 1);
  auto big = make_ram_store(512, 8192);
  ASSERT_TRUE(big);
  ASSERT_TRUE((*big)->write(2044, data, false));
  std::vector<std::byte> out(data.size());
  ASSERT_TRUE((*big)->read(2044, out));
  EXPECT_EQ(out, data);
  std::vector<std::byte> appended = filled(3, 7);
  ASSERT_TRUE((*big)->read_append(2044, 8, appended));
  ASSERT_EQ(appended.size(), 3 + data.size());
  EXPECT_TRUE(std::equal(data.begin(), data.end(), appended.begin() + 3));
}

TEST(RamStore, ProvisioningTracksWritesAndDiscards) {
  auto s = make_ram_store(512, 300);
  ASSERT_TRUE(s);
  BlockStore& st = **s;
  auto ext = [&](std::uint64_t lba) { return *st.provisioning(lba, 300 - lba); };
  EXPECT_FALSE(ext(0).mapped);
  EXPECT_EQ(ext(0).blocks, 300u);
  ASSERT_TRUE(st.write(10, filled(100 * 512, 0xab), false));
  EXPECT_EQ(ext(0).blocks, 10u);
  EXPECT_TRUE(ext(10).mapped);
  EXPECT_EQ(ext(10).blocks, 100u);
  EXPECT_EQ(ext(63).blocks, 47u);  // across a 64-bit word
  ASSERT_TRUE(st.discard(20, 70));
  EXPECT_EQ(ext(10).blocks, 10u);
  EXPECT_FALSE(ext(20).mapped);
  EXPECT_EQ(ext(20).blocks, 70u);
  EXPECT_EQ(st.provisioning(20, 5)->blocks, 5u);  // capped
  // Discarded blocks read zeros; neighbours keep their data, at page and block granularity.
  std::vector<std::byte> out(100 * 512);
  ASSERT_TRUE(st.read(10, out));
  EXPECT_TRUE(std::all_of(out.begin(), out.begin() + 10 * 512,
                          [](std::byte b) { return b == std::byte{0xab}; }));
  EXPECT_TRUE(std::all_of(out.begin() + 10 * 512, out.begin() + 80 * 512,
                          [](std::byte b) { return b == std::byte{0}; }));
  EXPECT_TRUE(std::all_of(out.begin() + 80 * 512, out.end(),
                          [](std::byte b) { return b == std::byte{0xab}; }));
}

TEST(RamStore, LargeStoreIsCreatedQuickly) {
  const auto start = std::chrono::steady_clock::now();
  auto s = make_ram_store(4096, (256u << 20) / 4096);  // 256 MiB
  ASSERT_TRUE(s);
  std::vector<std::byte> out(4096);
  ASSERT_TRUE((*s)->read((256u << 20) / 4096 - 1, out));
  ASSERT_TRUE((*s)->write(12345, filled(4096, 1), false));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(RamStore, ResizeAndInvalidArguments) {
  auto s = make_ram_store(512, 16);
  ASSERT_TRUE(s);
  ASSERT_TRUE((*s)->write(15, filled(512, 5), false));
  ASSERT_TRUE((*s)->resize(20000));
  EXPECT_EQ((*s)->block_count(), 20000u);
  std::vector<std::byte> out(512);
  ASSERT_TRUE((*s)->read(15, out));
  EXPECT_EQ(out, filled(512, 5));
  ASSERT_TRUE((*s)->read(19999, out));
  EXPECT_EQ(out, filled(512, 0));
  EXPECT_TRUE((*s)->provisioning(15, 1)->mapped);
  EXPECT_FALSE((*s)->resize(0));
  EXPECT_EQ(make_ram_store(500, 10).error(), errc::invalid_argument);
  EXPECT_EQ(make_ram_store(512, 0).error(), errc::invalid_argument);
  EXPECT_EQ(make_ram_store(512, ~0ull).error(), errc::invalid_argument);
}

TEST(NullStore, ReadsZerosDropsWrites) {
  auto s = make_null_store(4096, 1u << 30);  // 4 TiB of nothing
  ASSERT_TRUE(s);
  ASSERT_TRUE((*s)->write(5, filled(4096, 1), true));
  std::vector<std::byte> out = filled(4096, 9);
  ASSERT_TRUE((*s)->read(5, out));
  EXPECT_EQ(out, filled(4096, 0));
  std::vector<std::byte> app;
  ASSERT_TRUE((*s)->read_append(0, 2, app));
  EXPECT_EQ(app, filled(8192, 0));
  EXPECT_TRUE((*s)->flush());
  EXPECT_TRUE((*s)->discard(0, 10));
  EXPECT_TRUE((*s)->provisioning(0, 10)->mapped);
  ASSERT_TRUE((*s)->resize(7));
  EXPECT_EQ((*s)->block_count(), 7u);
  EXPECT_EQ(make_null_store(512, 0).error(), errc::invalid_argument);

  // A DiskLu over it answers I/O without storing anything.
  Harness h(0, 4096, {}, std::move(*make_null_store(4096, 1000)));
  EXPECT_GOOD(h.run(scsi::write10(0, 2, 4096), filled(8192, 3)));
  EXPECT_EQ(h.read(0, 2), filled(8192, 0));
}

TEST(FileStore, CreateWriteReopenAndDiscard) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  const auto path = dir.file("disk.img").string();
  FileStoreOptions o;
  o.path = path;
  o.size_bytes = 1 << 20;
  {
    auto s = open_file_store(o);
    ASSERT_TRUE(s) << s.error().message();
    EXPECT_TRUE((*s)->blocking());
    EXPECT_EQ((*s)->block_count(), 2048u);
    EXPECT_EQ(fs::file_size(path), 1u << 20);
    ASSERT_TRUE((*s)->write(100, pattern(3 * 512, 4), false));
    ASSERT_TRUE((*s)->write(2047, filled(512, 6), true));
    ASSERT_TRUE((*s)->flush());
  }
  o.size_bytes = 0;  // use the file's size
  auto s = open_file_store(o);
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)->block_count(), 2048u);
  std::vector<std::byte> out(3 * 512);
  ASSERT_TRUE((*s)->read(100, out));
  EXPECT_EQ(out, pattern(3 * 512, 4));
  if (!(*s)->supports_discard()) GTEST_SKIP() << "no hole punching on this file system";
  // Holes: a fresh sparse file is deallocated except where written.
  auto p0 = (*s)->provisioning(0, 2048);
  ASSERT_TRUE(p0);
  EXPECT_FALSE(p0->mapped);
  EXPECT_EQ(p0->blocks, 96u);  // up to the 4 KiB chunk holding block 100
  EXPECT_TRUE((*s)->provisioning(100, 1948)->mapped);
  ASSERT_TRUE((*s)->write(0, filled(64 * 512, 1), false));
  ASSERT_TRUE((*s)->discard(8, 48));
  std::vector<std::byte> zeros(48 * 512);
  ASSERT_TRUE((*s)->read(8, zeros));
  EXPECT_EQ(zeros, filled(48 * 512, 0));
  EXPECT_TRUE((*s)->provisioning(0, 8)->mapped);
  auto hole = (*s)->provisioning(8, 2040);
  ASSERT_TRUE(hole);
  EXPECT_FALSE(hole->mapped);
  EXPECT_EQ(hole->blocks, 48u);
  ASSERT_TRUE((*s)->read(0, std::span(zeros).first(512)));
  EXPECT_EQ(zeros[0], std::byte{1});
  // Growing.
  ASSERT_TRUE((*s)->resize(4096));
  EXPECT_EQ(fs::file_size(path), 2u << 20);
}

TEST(FileStore, OpenErrors) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  FileStoreOptions o;
  o.path = dir.file("missing.img").string();
  o.create = false;
  auto missing = open_file_store(o);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), std::error_code(ENOENT, std::system_category()));
  o.create = true;
  o.size_bytes = 0;  // new empty file, no size: nothing to serve
  EXPECT_EQ(open_file_store(o).error(), errc::invalid_argument);
  o.size_bytes = 100;  // below one block
  EXPECT_EQ(open_file_store(o).error(), errc::invalid_argument);
  o.path = fs::temp_directory_path().string();  // a directory
  o.size_bytes = 4096;
  EXPECT_FALSE(open_file_store(o));
  o.path = dir.file("x.img").string();
  o.block_size = 520;
  EXPECT_EQ(open_file_store(o).error(), errc::invalid_argument);
}

TEST(FileStore, ReadOnlyFileMakesWriteProtectedLu) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  FileStoreOptions o;
  o.path = dir.file("ro.img").string();
  o.size_bytes = 64 * 512;
  ASSERT_TRUE(open_file_store(o));  // create it
  o.read_only = true;
  o.size_bytes = 0;
  auto s = open_file_store(o);
  ASSERT_TRUE(s);
  EXPECT_TRUE((*s)->read_only());
  EXPECT_FALSE((*s)->supports_discard());
  EXPECT_EQ((*s)->write(0, filled(512, 1), false).error(),
            std::error_code(EROFS, std::system_category()));
  Harness h(0, 512, {}, std::move(*s));
  expect_sense(h.run(scsi::write10(0, 1, 512), filled(512, 0)), scsi::SenseKey::data_protect, 0x27,
               0x00);
  EXPECT_GOOD(h.run(scsi::read10(0, 1, 512)));
  auto m = scsi::parse_mode_sense6(h.run(*scsi::mode_sense6(0x3f)).data_in,
                                   scsi::PeripheralDeviceType::direct_access);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->header.write_protected());
}

// O_DIRECT needs a file system that supports it (tmpfs before Linux 6.6 does not).
Result<std::unique_ptr<BlockStore>> open_direct(const TempDir& dir, std::uint32_t block_size,
                                                std::uint64_t bytes) {
  FileStoreOptions o;
  o.path = dir.file("direct.img").string();
  o.block_size = block_size;
  o.size_bytes = bytes;
  o.direct = true;
  return open_file_store(o);
}

TEST(FileStore, DirectIoWithUnalignedBlocks) {
  TempDir dir(fs::current_path());
  ASSERT_TRUE(dir.ok());
  auto s = open_direct(dir, 512, 1001 * 512);
  if (!s && s.error() == std::error_code(EINVAL, std::system_category())) {
    GTEST_SKIP() << "O_DIRECT is not supported on " << fs::current_path();
  }
  ASSERT_TRUE(s) << s.error().message();
  BlockStore& st = **s;
  EXPECT_EQ(st.block_count(), 1001u);
  // Rounded up to the 4 KiB alignment.
  EXPECT_EQ(fs::file_size(dir.file("direct.img")), 126u * 4096);
  // Unaligned single blocks (read-modify-write), an aligned run, and a run across chunks.
  ASSERT_TRUE(st.write(3, filled(512, 3), false));
  ASSERT_TRUE(st.write(8, filled(8 * 512, 8), true));
  const auto across = pattern(11 * 512, 2);
  ASSERT_TRUE(st.write(13, across, false));
  std::vector<std::byte> one(512);
  ASSERT_TRUE(st.read(3, one));
  EXPECT_EQ(one, filled(512, 3));
  ASSERT_TRUE(st.read(2, one));
  EXPECT_EQ(one, filled(512, 0));
  std::vector<std::byte> run(11 * 512);
  ASSERT_TRUE(st.read(13, run));
  EXPECT_EQ(run, across);
  std::vector<std::byte> last(512);
  ASSERT_TRUE(st.read(1000, last));  // the last block, in the partial last chunk
  EXPECT_EQ(last, filled(512, 0));
  // Concurrent unaligned writes into the same 4 KiB chunks lose nothing.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&st, t] {
      for (int i = 0; i < 25; ++i) {
        const std::uint64_t lba =
            200 + static_cast<std::uint64_t>(i) * 4 + static_cast<unsigned>(t);
        EXPECT_TRUE(st.write(lba, filled(512, 16 + t), false));
      }
    });
  }
  for (auto& th : threads)
    th.join();
  std::vector<std::byte> all(100 * 512);
  ASSERT_TRUE(st.read(200, all));
  for (std::size_t b = 0; b < 100; ++b) {
    EXPECT_EQ(all[b * 512], static_cast<std::byte>(16 + b % 4)) << b;
  }
  if (st.supports_discard()) {
    ASSERT_TRUE(st.discard(13, 3));
    ASSERT_TRUE(st.read(13, std::span(run).first(3 * 512)));
    EXPECT_TRUE(std::all_of(run.begin(), run.begin() + 3 * 512,
                            [](std::byte b) { return b == std::byte{0}; }));
    ASSERT_TRUE(st.read(16, one));
    EXPECT_EQ(one, std::vector<std::byte>(across.begin() + 3 * 512, across.begin() + 4 * 512));
  }
  EXPECT_TRUE(st.flush());
}

TEST(FileStore, DiskLuOverAFile) {
  TempDir dir;
  ASSERT_TRUE(dir.ok());
  FileStoreOptions o;
  o.path = dir.file("lu.img").string();
  o.block_size = 4096;
  o.size_bytes = 256 * 4096;
  auto s = open_file_store(o);
  ASSERT_TRUE(s);
  const bool holes = (*s)->supports_discard();
  Harness h(0, 4096, {}, std::move(*s));
  EXPECT_TRUE(h.lu->blocking());
  const auto data = pattern(4 * 4096, 3);
  EXPECT_GOOD(h.run(scsi::write10(10, 4, 4096, {.fua = true}), data));
  EXPECT_EQ(h.read(10, 4), data);
  EXPECT_GOOD(h.run(*scsi::synchronize_cache10()));
  auto caw = data;
  caw.resize(2 * 4096);
  std::copy(data.begin(), data.begin() + 4096, caw.begin());
  std::fill(caw.begin() + 4096, caw.end(), std::byte{0x42});
  EXPECT_GOOD(h.run(scsi::compare_and_write(10, 1, 4096), caw));
  EXPECT_EQ(h.read(10, 1), filled(4096, 0x42));
  auto rc = scsi::parse_read_capacity16(h.run(scsi::read_capacity16()).data_in);
  ASSERT_TRUE(rc);
  EXPECT_EQ(rc->lbpme, holes);
  if (!holes) return;
  const std::vector<scsi::UnmapDescriptor> one{{11, 2}};
  auto list = *scsi::build_unmap_parameter_list(one);
  EXPECT_GOOD(h.run(*scsi::unmap(static_cast<std::uint16_t>(list.size())), list));
  EXPECT_EQ(h.read(11, 2), filled(2 * 4096, 0));
  auto st = scsi::parse_get_lba_status(h.run(scsi::get_lba_status(10, 4096)).data_in);
  ASSERT_TRUE(st);
  ASSERT_GE(st->descriptors.size(), 3u);
  EXPECT_EQ(st->descriptors[0],
            (scsi::LbaStatusDescriptor{10, 1, scsi::ProvisioningStatus::mapped}));
  EXPECT_EQ(st->descriptors[1],
            (scsi::LbaStatusDescriptor{11, 2, scsi::ProvisioningStatus::deallocated}));
  EXPECT_EQ(st->descriptors[2].status, scsi::ProvisioningStatus::mapped);
}

}  // namespace
}  // namespace uiscsi::target::test
