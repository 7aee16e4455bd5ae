// The example programs of doc/guide.md, run against uiscsi-target: they must keep working.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli/target_process.hpp"
#include "interop/support.hpp"

namespace uiscsi {
namespace {

using testing::run;

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

}  // namespace
}  // namespace uiscsi
