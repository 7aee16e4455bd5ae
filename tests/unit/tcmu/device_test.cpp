// Backstore, uio discovery and mapping against a fake configfs / sysfs tree in a temp dir.
#include "uiscsi/tcmu/device.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "uiscsi/tcmu/errors.hpp"

namespace uiscsi::tcmu {
namespace {

namespace fs = std::filesystem;

class TempTree {
 public:
  TempTree() {
    char tmpl[] = "/tmp/uiscsi-tcmu-XXXXXX";
    root_ = ::mkdtemp(tmpl);
    fs::create_directories(root_ / "configfs" / "core");
    fs::create_directories(root_ / "uio");
    fs::create_directories(root_ / "dev");
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  [[nodiscard]] DeviceConfig config() const {
    DeviceConfig c;
    c.configfs_root = (root_ / "configfs").string();
    c.uio_root = (root_ / "uio").string();
    c.dev_root = (root_ / "dev").string();
    c.hba = 3;
    c.name = "tape0";
    c.handler = "uiscsi";
    c.config = "tape";
    c.size = 1 << 20;
    c.uio_timeout = std::chrono::milliseconds(200);
    return c;
  }
  // A uio device as the kernel would show it, backed by a file holding a valid mailbox.
  void add_uio(int n, const std::string& name, std::size_t size) {
    const auto dir = root_ / "uio" / ("uio" + std::to_string(n));
    fs::create_directories(dir / "maps" / "map0");
    std::ofstream(dir / "name") << name << "\n";
    std::ostringstream hex;
    hex << "0x" << std::hex << size << "\n";
    std::ofstream(dir / "maps" / "map0" / "size") << hex.str();
    std::vector<char> mem(size, 0);
    const std::uint16_t version = 2, flags = 0x2;
    const std::uint32_t off = 128, ring = 4096;
    std::memcpy(mem.data(), &version, 2);
    std::memcpy(mem.data() + 2, &flags, 2);
    std::memcpy(mem.data() + 4, &off, 4);
    std::memcpy(mem.data() + 8, &ring, 4);
    std::ofstream(root_ / "dev" / ("uio" + std::to_string(n)), std::ios::binary)
        .write(mem.data(), static_cast<std::streamsize>(mem.size()));
  }
  [[nodiscard]] const fs::path& root() const { return root_; }

 private:
  fs::path root_;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(TcmuDevice, BackstoreWritesControlAndEnable) {
  TempTree t;
  auto b = Backstore::create(t.config());
  ASSERT_TRUE(b) << b.error().message();
  const auto dir = t.root() / "configfs" / "core" / "user_3" / "tape0";
  EXPECT_EQ(b->path(), dir.string());
  EXPECT_EQ(slurp(dir / "control"),
            "dev_size=1048576\ndev_config=uiscsi/tape\nnl_reply_supported=-1\nhw_block_size=512\n");
  EXPECT_EQ(slurp(dir / "enable"), "1\n");
  // A second device of the same name is refused.
  EXPECT_FALSE(Backstore::create(t.config()));
  // configfs removes attribute files with the directory; a plain directory needs help.
  fs::remove(dir / "control");
  fs::remove(dir / "enable");
  ASSERT_TRUE(b->remove());
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_FALSE(fs::exists(dir.parent_path()));  // user_3 was ours
  EXPECT_TRUE(b->remove());                     // idempotent
}

TEST(TcmuDevice, NamesAreChecked) {
  TempTree t;
  for (const char* bad : {"", "a/b", "a,b", "a=b", "a b", "x\n"}) {
    auto c = t.config();
    c.name = bad;
    EXPECT_EQ(Backstore::create(c).error(), tcmu_errc::bad_device_name) << bad;
  }
  EXPECT_TRUE(valid_name("tape-0_a.b"));
}

TEST(TcmuDevice, FindsAndMapsTheUioDevice) {
  TempTree t;
  t.add_uio(0, "tcm-user/3/disk9/uiscsi/ramdisk", 8192);  // another device
  t.add_uio(7, "tcm-user/3/tape0/uiscsi/tape", 16384);
  auto uio = find_uio(t.config());
  ASSERT_TRUE(uio) << uio.error().message();
  EXPECT_EQ(uio->index, 7);
  EXPECT_EQ(uio->map_size, 16384u);
  EXPECT_EQ(uio->dev_path, (t.root() / "dev" / "uio7").string());
  auto m = Mapping::open(*uio);
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(m->memory().size(), 16384u);
  auto ring = Ring::attach(m->memory());
  ASSERT_TRUE(ring);
  EXPECT_TRUE(ring->read_len_supported());
}

TEST(TcmuDevice, MissingUioTimesOut) {
  TempTree t;
  t.add_uio(1, "tcm-user/3/tape00/uiscsi/tape", 8192);  // a prefix of the name is not a match
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(find_uio(t.config()).error(), tcmu_errc::device_not_found);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace uiscsi::tcmu
