// uiscsi-changer as a user runs it, against uiscsi-target's library (`--tape 1G --changer 8`:
// LUN 0 the drive, LUN 1 the changer): every command, its output and exit code, and the ways a
// new user gets it wrong.
#include <gtest/gtest.h>

#include <fstream>

#include "cli/run_tool.hpp"
#include "cli/target_process.hpp"
#include "interop/support.hpp"

namespace uiscsi {
namespace {

using testing::lines;
using testing::Ran;
using testing::run;
using testing::TargetProcess;
using testing::tool;

void expect_one_error_line(const Ran& r, int code, const std::string& fragment) {
  EXPECT_EQ(r.code, code) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
}

const std::string kChanger = UISCSI_CHANGER;
constexpr const char* kChapIqn = "iqn.2026-11.dev.uiscsi:chap-library";

class ChangerCli : public ::testing::Test {
 protected:
  static inline TargetProcess* disk = nullptr;
  static inline TargetProcess* chap = nullptr;
  TargetProcess library;  // a fresh library for each test: commands change it

  static void SetUpTestSuite() {
    disk = new TargetProcess;
    ASSERT_TRUE(disk->start(UISCSI_TARGET, {"--ram", "1M"}));
    chap = new TargetProcess;
    ASSERT_TRUE(chap->start(
        UISCSI_TARGET,
        {"--tape", "64M", "--changer", "2", "--chap", "alice", "--target-name", kChapIqn},
        {"ISCSI_TARGET_CHAP_SECRET=alice-secret-0001"}));
  }
  static void TearDownTestSuite() {
    delete disk;
    delete chap;
  }
  void SetUp() override {
    ASSERT_TRUE(library.start(UISCSI_TARGET, {"--tape", "1G", "--changer", "8"}));
  }
  std::string url() const { return library.url(1); }
  Ran changer(const std::string& args) const {
    return tool(kChanger + " -f " + url() + " " + args);
  }
};

TEST_F(ChangerCli, StatusListsDrivesSlotsAndBarcodesLikeMtx) {
  const Ran r = changer("status");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_NE(r.out.find("  Storage Changer " + url() + ":1 Drives, 9 Slots ( 1 Import/Export )\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Data Transfer Element 0:Empty\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("      Storage Element 1:Full :VolumeTag=UIS001L9\n"), std::string::npos);
  EXPECT_NE(r.out.find("      Storage Element 8:Full :VolumeTag=UIS008L9\n"), std::string::npos);
  EXPECT_NE(r.out.find("      Storage Element 9 IMPORT/EXPORT:Empty\n"), std::string::npos);
  EXPECT_EQ(lines(r.out), 1 + 1 + 9);
}

TEST_F(ChangerCli, LoadShowsTheCartridgeInTheDriveAndUnloadPutsItBack) {
  Ran r = changer("load 3");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Loading media from Storage Element 3 into drive 0...done\n");
  r = changer("status");
  EXPECT_NE(r.out.find("Data Transfer Element 0:Full (Storage Element 3 Loaded):VolumeTag = "
                       "UIS003L9\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("      Storage Element 3:Empty\n"), std::string::npos) << r.out;

  r = changer("unload");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Unloading drive 0 into Storage Element 3...done\n");
  r = changer("status");
  EXPECT_NE(r.out.find("Data Transfer Element 0:Empty\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Storage Element 3:Full :VolumeTag=UIS003L9\n"), std::string::npos);
}

TEST_F(ChangerCli, UnloadIntoAGivenSlotAndDrive) {
  ASSERT_EQ(changer("load 5 0").code, 0);
  ASSERT_EQ(changer("transfer 1 9").code, 0);  // slot 9 is the import/export element
  Ran r = changer("unload 1 0");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "Unloading drive 0 into Storage Element 1...done\n");
  r = changer("status");
  EXPECT_NE(r.out.find("Storage Element 1:Full :VolumeTag=UIS005L9\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Storage Element 9 IMPORT/EXPORT:Full :VolumeTag=UIS001L9\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Storage Element 5:Empty\n"), std::string::npos) << r.out;
}

TEST_F(ChangerCli, TransferAndInventory) {
  Ran r = changer("transfer 2 9");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  r = changer("inventory");
  EXPECT_EQ(r.code, 0) << r.err;
  r = changer("status");
  EXPECT_NE(r.out.find("Storage Element 2:Empty\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Storage Element 9 IMPORT/EXPORT:Full :VolumeTag=UIS002L9\n"),
            std::string::npos)
      << r.out;
}

TEST_F(ChangerCli, StatusAsJson) {
  ASSERT_EQ(changer("load 2").code, 0);
  const Ran r = changer("--json status");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("{\"barcodes\":true,\"drives\":[{\"drive\":0,", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\"full\":true,\"barcode\":\"UIS002L9\",\"source_address\":2,"
                       "\"source_slot\":2}"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("{\"slot\":1,\"address\":1,\"full\":true,\"barcode\":\"UIS001L9\"}"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("{\"slot\":2,\"address\":2,\"full\":false}"), std::string::npos);
  EXPECT_NE(r.out.find("\"import_export\":[{\"slot\":9,"), std::string::npos);
  EXPECT_EQ(lines(r.out), 1);
}

TEST_F(ChangerCli, UrlFromTheChangerVariable) {
  const Ran r = tool("CHANGER=" + url() + " " + kChanger + " status");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("Storage Element 1:Full"), std::string::npos) << r.out;
}

TEST_F(ChangerCli, HelpHasExamples) {
  const Ran r = tool(kChanger + " --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Examples:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("load SLOT [DRIVE]"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("CHANGER"), std::string::npos) << r.out;
}

// ---- the changer refuses ----

TEST_F(ChangerCli, EmptySourceSlot) {
  ASSERT_EQ(changer("load 4").code, 0);
  expect_one_error_line(changer("transfer 4 9"), 7, "source element is empty");
}

TEST_F(ChangerCli, FullDestination) {
  const Ran r = changer("transfer 1 2");
  expect_one_error_line(r, 7, "transfer 1 to 2: destination element is full");
  EXPECT_NE(r.err.find("asc 0x3b, ascq 0x0d"), std::string::npos) << r.err;
  ASSERT_EQ(changer("load 1").code, 0);
  expect_one_error_line(changer("load 2"), 7, "destination element is full");
}

TEST_F(ChangerCli, UnloadingAnEmptyDrive) {
  expect_one_error_line(changer("unload"), 7, "unload drive 0: source element is empty");
}

// ---- a new user's mistakes ----

TEST_F(ChangerCli, WrongFlag) {
  expect_one_error_line(tool(kChanger + " --bogus status"), 2, "bogus");
}

TEST_F(ChangerCli, NoUrl) {
  expect_one_error_line(tool("env -u CHANGER " + kChanger + " status"), 2,
                        "give the changer's URL with -f or the CHANGER environment variable");
}

TEST_F(ChangerCli, NoCommandOrAWrongOne) {
  expect_one_error_line(tool(kChanger + " -f " + url()), 2, "give a command");
  expect_one_error_line(changer("eject"), 2, "unknown command 'eject'");
  expect_one_error_line(changer("load"), 2, "usage: load SLOT [DRIVE]");
  expect_one_error_line(changer("transfer 1"), 2, "usage: transfer SLOT SLOT");
  expect_one_error_line(changer("--json load 1"), 2, "--json is for status only");
}

TEST_F(ChangerCli, SlotAndDriveOutOfRange) {
  expect_one_error_line(changer("load 0"), 2, "no slot '0': slots are 1-9");
  expect_one_error_line(changer("load 10"), 2, "no slot '10'");
  expect_one_error_line(changer("load x"), 2, "no slot 'x'");
  expect_one_error_line(changer("load 1 1"), 2, "no drive '1': drives are 0-0");
}

TEST_F(ChangerCli, UrlWithoutTarget) {
  expect_one_error_line(tool(kChanger + " -f iscsi://" + library.portal() + " status"), 2,
                        "the URL needs a target");
}

TEST_F(ChangerCli, GarbageUrl) {
  expect_one_error_line(tool(kChanger + " -f iscsi//nope status"), 2, "invalid iscsi:// URL");
}

TEST_F(ChangerCli, RefusedConnection) {
  const std::string port = std::to_string(testing::free_port());
  expect_one_error_line(tool(kChanger + " -f iscsi://127.0.0.1:" + port + "/iqn.x:y/1 status"), 3,
                        "Connection refused");
}

TEST_F(ChangerCli, WrongTargetName) {
  expect_one_error_line(
      tool(kChanger + " -f iscsi://" + library.portal() + "/iqn.2026-11.dev.uiscsi:nope/1 status"),
      5, "target not found");
}

TEST_F(ChangerCli, WrongPassword) {
  const std::string u = "iscsi://" + chap->portal() + "/" + kChapIqn + "/1";
  const Ran r = tool("ISCSI_CHAP_USER=alice ISCSI_CHAP_PASSWORD=wrong-secret-99 " + kChanger +
                     " -f " + u + " status");
  expect_one_error_line(r, 4, "authentication failure");
  EXPECT_EQ(r.err.find("wrong-secret"), std::string::npos);
  const Ran ok = tool("ISCSI_CHAP_USER=alice ISCSI_CHAP_PASSWORD=alice-secret-0001 " + kChanger +
                      " -f " + u + " status");
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("Storage Element 2:Full :VolumeTag=UIS002L9"), std::string::npos);
  expect_one_error_line(
      tool("env -u ISCSI_CHAP_PASSWORD ISCSI_CHAP_USER=alice " + kChanger + " -f " + u + " status"),
      2, "needs a secret");
}

TEST_F(ChangerCli, ADiskIsNotAChanger) {
  expect_one_error_line(tool(kChanger + " -f " + disk->url(0) + " status"), 5,
                        "LUN 0 is not a media changer (it is a disk)");
}

TEST_F(ChangerCli, TheTapeDriveIsNotAChangerEither) {
  expect_one_error_line(tool(kChanger + " -f " + library.url(0) + " status"), 5,
                        "LUN 0 is not a media changer (it is a tape)");
}

TEST_F(ChangerCli, NoSuchLun) {
  expect_one_error_line(tool(kChanger + " -f " + library.url(7) + " status"), 5, "no such LUN");
}

}  // namespace
}  // namespace uiscsi
