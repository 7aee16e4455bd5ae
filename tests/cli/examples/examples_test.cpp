// The example programs of doc/guide.md, run against uiscsi-target: they must keep working.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli/target_process.hpp"
#include "interop/support.hpp"

namespace uiscsi {
namespace {

using testing::run;

std::string example_path(const std::string& name) {
  return std::string(EXAMPLES_DIR) + "/example_" + name;
}

class Examples : public ::testing::Test {
 protected:
  static inline testing::TargetProcess* target = nullptr;
  static void SetUpTestSuite() {
    target = new testing::TargetProcess;
    ASSERT_TRUE(target->start(UISCSI_TARGET, {"--ram", "4M"}));
  }
  static void TearDownTestSuite() { delete target; }
  static std::string example(const std::string& name) {
    return std::string(EXAMPLES_DIR) + "/example_" + name;
  }
};

TEST_F(Examples, DiscoverAndRead) {
  std::string out;
  EXPECT_EQ(run(example("discover_and_read") + " " + target->portal(), &out), 0) << out;
  EXPECT_NE(out.find("target " + target->iqn()), std::string::npos) << out;
  EXPECT_NE(out.find("UISCSI RAMDISK"), std::string::npos) << out;
  EXPECT_NE(out.find("block 0 starts with"), std::string::npos) << out;
}

TEST_F(Examples, WriteAndVerify) {
  std::string out;
  EXPECT_EQ(run(example("write_and_verify") + " " + target->url(0), &out), 0) << out;
  EXPECT_NE(out.find("identical"), std::string::npos) << out;
}

TEST_F(Examples, RawCdb) {
  std::string out;
  EXPECT_EQ(run(example("raw_cdb") + " " + target->url(0), &out), 0) << out;
  EXPECT_NE(out.find("LUN 0"), std::string::npos) << out;
}

TEST_F(Examples, AsyncMany) {
  std::string out;
  EXPECT_EQ(run(example("async_many") + " " + target->url(0), &out), 0) << out;
  EXPECT_NE(out.find("128 of 128 reads good"), std::string::npos) << out;
}

TEST_F(Examples, StreamToFile) {
  const auto dir = testing::temp_dir("examples");
  std::string out;
  EXPECT_EQ(run(example("stream_to_file") + " " + target->url(0) + " " + (dir / "lun.img").string(),
                &out),
            0)
      << out;
  EXPECT_EQ(std::filesystem::file_size(dir / "lun.img"), 4u << 20);
  EXPECT_NE(out.find("4194304 bytes in 4 commands"), std::string::npos) << out;
  std::filesystem::remove_all(dir);
}

TEST_F(Examples, EventLoop) {
  std::string out;
  EXPECT_EQ(run(example("event_loop") + " " + target->url(0), &out), 0) << out;
  EXPECT_NE(out.find("256 of 256 reads good, handled on the loop thread"), std::string::npos)
      << out;
}

// A target of its own: LUN 0 a RAM disk, LUN 1 a tape drive with a 16 MiB cartridge.
TEST(ExamplesTape, TapeWriteRead) {
  testing::TargetProcess tape_target;
  ASSERT_TRUE(tape_target.start(UISCSI_TARGET, {"--ram", "1M", "--tape", "16M"}));
  std::string out;
  EXPECT_EQ(run(example_path("tape_write_read") + " " + tape_target.url(1), &out), 0) << out;
  EXPECT_NE(out.find("file 0: 3 records read back identical"), std::string::npos) << out;
  EXPECT_NE(out.find("file 1: 2 records read back identical"), std::string::npos) << out;
  EXPECT_NE(out.find("position: block 7"), std::string::npos) << out;
}

}  // namespace
}  // namespace uiscsi
