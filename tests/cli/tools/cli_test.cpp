// The tools as a user runs them, against uiscsi-target: output, data and exit codes, including
// every way a new user gets it wrong.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "cli/run_tool.hpp"
#include "cli/target_process.hpp"
#include "core/pdu.hpp"
#include "interop/support.hpp"
#include "net/socket.hpp"

namespace uiscsi {
namespace {

using testing::lines;
using testing::Ran;
using testing::run;
using testing::TargetProcess;
using testing::tool;

const std::string kLs = UISCSI_LS;
const std::string kDd = UISCSI_DD;

class Cli : public ::testing::Test {
 protected:
  static inline TargetProcess* target = nullptr;
  static inline TargetProcess* chap_target = nullptr;
  static inline std::filesystem::path dir;

  static void SetUpTestSuite() {
    dir = testing::temp_dir("cli");
    target = new TargetProcess;
    ASSERT_TRUE(target->start(UISCSI_TARGET, {"--ram", "8M", "--ram", "1M"}));
    chap_target = new TargetProcess;
    ASSERT_TRUE(chap_target->start(
        UISCSI_TARGET,
        {"--ram", "1M", "--chap", "alice", "--target-name", "iqn.2026-11.dev.uiscsi:chap"},
        {"ISCSI_TARGET_CHAP_SECRET=alice-secret-0001"}));
  }
  static void TearDownTestSuite() {
    delete target;
    delete chap_target;
    std::filesystem::remove_all(dir);
  }
  std::string file(const std::string& name) const { return (dir / name).string(); }
};

TEST_F(Cli, LsListsTargetAndLuns) {
  const Ran r = tool(kLs + " iscsi://" + target->portal());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find(target->iqn()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("RAMDISK"), std::string::npos);
  EXPECT_NE(r.out.find("8.0 MiB (16384 x 512)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1.0 MiB (2048 x 512)"), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
}

TEST_F(Cli, LsJson) {
  const Ran r = tool(kLs + " --json --portal " + target->portal());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("{\"targets\":[{\"name\":\"" + target->iqn() + "\"", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\"bytes\":8388608"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"type\":\"disk\""), std::string::npos);
}

TEST_F(Cli, DdRoundTripsAFile) {
  const auto src = file("src.bin"), back = file("back.bin");
  ASSERT_EQ(run("head -c 3000000 /dev/urandom > " + src), 0);
  Ran w = tool(kDd + " if=" + src + " of=" + target->url(0) + " bs=64K");
  EXPECT_EQ(w.code, 0) << w.err;
  EXPECT_NE(w.err.find("45+1 records in"), std::string::npos) << w.err;
  EXPECT_NE(w.err.find("last record padded"), std::string::npos) << w.err;
  Ran r = tool(kDd + " if=" + target->url(0) + " of=" + back + " bs=64K count=46 status=noxfer");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.err, "46+0 records in\n46+0 records out\n");
  EXPECT_EQ(run("head -c 3000000 " + back + " | cmp -s - " + src), 0) << "data differs";
}

TEST_F(Cli, DdReadsALunToItsEndWithoutCount) {
  const auto out = file("lun1.bin");
  Ran r = tool(kDd + " if=" + target->url(1) + " of=" + out + " bs=300K");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(std::filesystem::file_size(out), 1048576u);
  EXPECT_NE(r.err.find("3+1 records in"), std::string::npos) << r.err;
}

TEST_F(Cli, DdStdinToLunAndBackToStdout) {
  Ran w = tool("printf 'hello iscsi' | " + kDd + " of=" + target->url(1) + " bs=512 status=none");
  EXPECT_EQ(w.code, 0) << w.err;
  Ran r = tool(kDd + " if=" + target->url(1) + " bs=512 count=1 status=none | head -c 11");
  EXPECT_EQ(r.out, "hello iscsi");
}

TEST_F(Cli, DdWritingPastTheEndFails) {
  Ran r = tool("head -c 2M /dev/zero | " + kDd + " of=" + target->url(1) + " bs=64K status=noxfer");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
}

// ---- a new user's mistakes ----

void expect_one_error_line(const Ran& r, int code, const std::string& fragment) {
  EXPECT_EQ(r.code, code) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(fragment), std::string::npos) << r.err;
}

TEST_F(Cli, WrongFlag) {
  expect_one_error_line(tool(kLs + " --bogus"), 2, "bogus");
}

TEST_F(Cli, MissingUrl) {
  expect_one_error_line(tool(kLs), 2, "give a URL or --portal");
}

TEST_F(Cli, GarbageUrl) {
  expect_one_error_line(tool(kLs + " iscsi//nope"), 2, "invalid iscsi:// URL");
  expect_one_error_line(tool(kDd + " if=iscsi://[::1 of=/dev/null"), 2, "invalid iscsi:// URL");
}

TEST_F(Cli, MissingTargetInUrl) {
  expect_one_error_line(tool(kDd + " if=iscsi://" + target->portal() + " of=/dev/null"), 2,
                        "the URL needs a target");
}

TEST_F(Cli, DdNeedsAnIscsiSide) {
  expect_one_error_line(tool(kDd + " if=/dev/zero of=/dev/null count=1"), 2, "iscsi:// URL");
}

TEST_F(Cli, UnreachablePortal) {
  const std::string port = std::to_string(testing::free_port());
  expect_one_error_line(tool(kLs + " iscsi://127.0.0.1:" + port), 3, "Connection refused");
}

TEST_F(Cli, WrongTargetName) {
  expect_one_error_line(
      tool(kDd + " if=iscsi://" + target->portal() + "/iqn.2026-11.dev.uiscsi:nope/0 of=/dev/null"),
      5, "target not found");
}

TEST_F(Cli, NoSuchLun) {
  expect_one_error_line(tool(kDd + " if=" + target->url(7) + " of=/dev/null"), 5, "no such LUN");
}

TEST_F(Cli, WrongPassword) {
  const std::string url = "iscsi://" + chap_target->portal() + "/iqn.2026-11.dev.uiscsi:chap/0";
  expect_one_error_line(tool("ISCSI_CHAP_USER=alice ISCSI_CHAP_PASSWORD=wrong-secret-99 " + kDd +
                             " if=" + url + " of=/dev/null count=1"),
                        4, "authentication failure");
  // The secret never shows in error text.
  const Ran r = tool("ISCSI_CHAP_USER=alice ISCSI_CHAP_PASSWORD=wrong-secret-99 " + kDd +
                     " if=" + url + " of=/dev/null count=1");
  EXPECT_EQ(r.err.find("wrong-secret"), std::string::npos);
  // The right one works.
  const Ran ok = tool("ISCSI_CHAP_USER=alice ISCSI_CHAP_PASSWORD=alice-secret-0001 " + kDd +
                      " if=" + url + " of=/dev/null count=1 status=none");
  EXPECT_EQ(ok.code, 0) << ok.err;
}

TEST_F(Cli, ChapUserWithoutSecret) {
  const std::string url = "iscsi://" + chap_target->portal() + "/iqn.2026-11.dev.uiscsi:chap/0";
  expect_one_error_line(tool("env -u ISCSI_CHAP_PASSWORD ISCSI_CHAP_USER=alice " + kDd +
                             " if=" + url + " of=/dev/null"),
                        2, "needs a secret");
}

TEST_F(Cli, NoCredentialsForAChapTarget) {
  const std::string url = "iscsi://" + chap_target->portal() + "/iqn.2026-11.dev.uiscsi:chap/0";
  expect_one_error_line(tool(kDd + " if=" + url + " of=/dev/null"), 4, "authentication");
}

// A "target" that answers the login with a PDU of an undefined opcode.
TEST_F(Cli, MalformedPduFromThePeer) {
  auto listener = net::listen({"127.0.0.1", 0});
  ASSERT_TRUE(listener);
  const auto port = *net::local_port(*listener);
  std::atomic<bool> done{false};
  std::thread peer([&] {
    while (!done) {
      auto s = net::accept(*listener);
      if (!s) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      std::array<std::byte, 4096> buf{};
      for (int i = 0; i < 200; ++i) {  // wait for the Login Request
        auto n = s->read(buf);
        if (n && *n > 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      core::Bhs junk;
      junk.bytes[0] = std::byte{0x1e};
      const std::span<const std::byte> seg(junk.bytes);
      (void)s->writev(std::span(&seg, 1));
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  const Ran r =
      tool(kDd + " if=iscsi://127.0.0.1:" + std::to_string(port) + "/iqn.x:y/0 of=/dev/null");
  done = true;
  peer.join();
  expect_one_error_line(r, 6, "unknown iSCSI opcode");
}

TEST_F(Cli, PasswordInUrlIsHiddenFromProcessListings) {
  const std::string url =
      "iscsi://alice%alice-secret-0001@" + chap_target->portal() + "/iqn.2026-11.dev.uiscsi:chap/0";
  // A slow copy keeps the process alive while ps looks at it.
  Ran copy;
  std::thread t([&] {
    copy = tool("head -c 1M /dev/zero | (sleep 1; cat) | " + kDd + " of=" + url +
                " bs=512 status=none");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::string ps;
  run("ps -C uiscsi-dd -o args=", &ps);
  t.join();
  EXPECT_EQ(copy.code, 0) << copy.err;
  EXPECT_NE(ps.find("uiscsi-dd"), std::string::npos);
  EXPECT_EQ(ps.find("alice-secret-0001"), std::string::npos) << ps;
}

}  // namespace
}  // namespace uiscsi
