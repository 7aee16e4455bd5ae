// Scenario 2: the Linux kernel initiator (iscsi_tcp + open-iscsi) in a qemu guest against
// uiscsi-target on the host. The target listens on the host's 127.0.0.1:P; the guest reaches
// it as 10.0.2.2:P through qemu's user network. LUN 0 is a file disk (checked on the host
// after the guest wrote it, and by the guest through a 9p share), LUN 1 a tape drive used by the
// kernel's st driver and mt-st. Mutual CHAP is required; the guest offers CRC32C digests first and
// uiscsi-target (default
// --digest prefer) must pick them. (Not --digest crc32c: open-iscsi has no digest setting for
// discovery sessions, it offers None there, and such a target rightly refuses.) The guest side runs
// tests/kernel/guest/initiator.sh through the control channel; the host asserts on its "UK: ..."
// markers. The tests run in order on one guest.
#include <gtest/gtest.h>

#include <regex>

#include "cli/target_process.hpp"
#include "kernel/qemu_guest.hpp"

namespace uiscsi {
namespace {

using std::chrono::seconds;
using testing::GuestOptions;
using testing::QemuGuest;

constexpr const char* kTargetName = "iqn.2026-11.dev.uiscsi:kernel-peer";
constexpr const char* kFaultyTargetName = "iqn.2026-11.dev.uiscsi:kernel-peer-faulty";
constexpr const char* kGuestInitiator = "iqn.2026-11.dev.uiscsi:linux-guest";
constexpr const char* kChapUser = "linux-guest";
constexpr const char* kChapSecret = "guest-chap-secret-3";
constexpr const char* kMutualUser = "uiscsi-target";
constexpr const char* kMutualSecret = "target-mutual-secret-4";
constexpr int kDiskMiB = 32;
constexpr int kWriteMiB = 4;

class KernelInitiator : public ::testing::Test {
 protected:
  static inline QemuGuest* guest = nullptr;
  static inline testing::TargetProcess* target = nullptr;
  static inline std::filesystem::path dir;
  static inline std::string setup_error;
  static inline std::string portal;  // as the guest reaches the target: 10.0.2.2:P
  static inline std::string disk_dev, tape_dev;

  static void SetUpTestSuite() {
    if (!QemuGuest::qemu_installed()) return;
    dir = testing::temp_dir("kernel-initiator");
    target = new testing::TargetProcess;
    if (!target->start(UISCSI_TARGET,
                       {"--target-name", kTargetName, "--file",
                        (dir / "disk.img").string() + "," + std::to_string(kDiskMiB) + "M",
                        "--tape", "64M", "--chap", kChapUser, "--mutual-chap", kMutualUser},
                       {std::string("ISCSI_TARGET_CHAP_SECRET=") + kChapSecret,
                        std::string("ISCSI_TARGET_MUTUAL_SECRET=") + kMutualSecret})) {
      setup_error = "uiscsi-target did not start";
      return;
    }
    portal = "10.0.2.2:" + target->portal().substr(target->portal().rfind(':') + 1);
    guest = new QemuGuest;
    GuestOptions o;
    o.share_dir = dir;  // the target's files, at /host in the guest (virtio-9p)
    setup_error = guest->boot(o);
  }
  static void TearDownTestSuite() {
    delete guest;
    guest = nullptr;
    delete target;
    target = nullptr;
    if (!dir.empty()) std::filesystem::remove_all(dir);
  }
  void SetUp() override {
    if (!QemuGuest::qemu_installed())
      GTEST_SKIP() << "qemu-system-x86_64 not installed (scripts/setup.sh installs it)";
    ASSERT_TRUE(setup_error.empty()) << setup_error;
  }
  void TearDown() override {
    if (guest) testing::print_console_on_failure(*guest);
  }
  static testing::GuestReply sh(const std::string& script, int timeout_s) {
    return guest->exec(script, seconds(timeout_s));
  }
};

TEST_F(KernelInitiator, DiscoveryFindsTheTarget) {
  auto start =
      sh(std::string("export UK_CHAP_USER=") + kChapUser + " UK_CHAP_SECRET=" + kChapSecret +
             " UK_MUTUAL_USER=" + kMutualUser + " UK_MUTUAL_SECRET=" + kMutualSecret +
             "\n/scenarios/initiator.sh start " + kGuestInitiator,
         30);
  ASSERT_TRUE(start.ok()) << start.describe();
  auto r = sh("/scenarios/initiator.sh discover " + portal, 60);
  ASSERT_TRUE(r.ok()) << r.describe();
  // The target advertises the address it listens on (the host's loopback).
  EXPECT_NE(r.output.find(std::string("UK: TARGET ") + kTargetName + " " + target->portal()),
            std::string::npos)
      << r.output;
}

TEST_F(KernelInitiator, WrongChapSecretRefused) {
  auto r = sh("/scenarios/initiator.sh badlogin " + portal + " " + kTargetName, 90);
  ASSERT_TRUE(r.ok()) << r.describe();
  // open-iscsi's status 24: ISCSI_ERR_LOGIN_AUTH_FAILED (the target answered with status class
  // 2, RFC 7143 section 11.13.5).
  EXPECT_NE(r.output.find("UK: REFUSED 24"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(kChapSecret), std::string::npos);
}

TEST_F(KernelInitiator, TargetProvingAWrongMutualSecretRefused) {
  auto r =
      sh("/scenarios/initiator.sh badlogin " + portal + " " + kTargetName + " password_in", 90);
  ASSERT_TRUE(r.ok()) << r.describe();
  // iscsid checks the target's CHAP response (RFC 7143 section 12.1.3) and gives up the login
  // (open-iscsi's status 19: a non-retryable login failure).
  EXPECT_NE(r.output.find("UK: REFUSED 19"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("received incorrect CHAP response from target"), std::string::npos)
      << r.output;
}

TEST_F(KernelInitiator, LoginWithMutualChapAndDigestsShowsDiskAndTape) {
  auto r = sh("/scenarios/initiator.sh login " + portal + " " + kTargetName, 90);
  ASSERT_TRUE(r.ok()) << r.describe();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("UK: DISK (/dev/sd[a-z]+) ([0-9]+)")))
      << r.output;
  disk_dev = m[1];
  EXPECT_EQ(std::stoull(m[2]), static_cast<unsigned long long>(kDiskMiB) << 20);
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("UK: TAPE (/dev/nst[0-9]+)"))) << r.output;
  tape_dev = m[1];
  EXPECT_NE(r.output.find("UK: LOGGED-IN 1 session"), std::string::npos) << r.output;
  // What the kernel initiator negotiated with uiscsi-target (open-iscsi's view).
  EXPECT_NE(r.output.find("UK: PARAM HeaderDigest: CRC32C"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("UK: PARAM DataDigest: CRC32C"), std::string::npos) << r.output;
  std::cout << r.output;
}

TEST_F(KernelInitiator, DiskWriteReadVerifyWithChecksum) {
  ASSERT_FALSE(disk_dev.empty()) << "no disk from the login test";
  auto r = sh("/scenarios/initiator.sh disk " + disk_dev + " " + std::to_string(kWriteMiB), 120);
  ASSERT_TRUE(r.ok()) << r.describe();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("UK: DISK-OK ([0-9a-f]{32})"))) << r.output;
  // The bytes reached the target's backing file on the host.
  std::string host;
  ASSERT_EQ(testing::run("head -c " + std::to_string(kWriteMiB << 20) + " " +
                             (dir / "disk.img").string() + " | md5sum",
                         &host),
            0);
  EXPECT_EQ(host.substr(0, 32), m[1].str());
  // The same bytes seen by the guest through the 9p share of that directory.
  auto shared = sh("head -c " + std::to_string(kWriteMiB << 20) + " /host/disk.img | md5sum", 60);
  ASSERT_TRUE(shared.ok()) << shared.describe();
  EXPECT_EQ(shared.output.substr(0, 32), m[1].str()) << shared.output;
}

TEST_F(KernelInitiator, TapeWithStAndMt) {
  ASSERT_FALSE(tape_dev.empty()) << "no tape from the login test";
  auto r = sh("/scenarios/initiator.sh tape " + tape_dev, 180);
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(std::regex_search(r.output, std::regex("UK: TAPE-OK [0-9a-f]{32} [0-9a-f]{32}")))
      << r.output;
  std::cout << r.output;  // mt status and tell, for the record
}

TEST_F(KernelInitiator, Logout) {
  ASSERT_FALSE(disk_dev.empty()) << "not logged in";
  auto r = sh("/scenarios/initiator.sh logout " + portal + " " + kTargetName, 60);
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_NE(r.output.find("UK: LOGGED-OUT"), std::string::npos) << r.output;
}

// uiscsi-target drops the first connection after 2 MiB received, in the middle of the disk
// write: iscsid logs in again (ERL 0: a new session, RFC 7143 section 6.3.5), the SCSI layer
// retries the interrupted writes, and the data still arrives intact.
TEST_F(KernelInitiator, KernelRecoversFromADroppedConnection) {
  const auto dropped = dir / "dropped.img";
  testing::TargetProcess faulty;
  ASSERT_TRUE(faulty.start(UISCSI_TARGET,
                           {"--target-name", kFaultyTargetName, "--file",
                            dropped.string() + "," + std::to_string(kDiskMiB) + "M", "--chap",
                            kChapUser, "--mutual-chap", kMutualUser, "--fault",
                            "drop-after-bytes=2097152", "--fault", "faulty-connections=1"},
                           {std::string("ISCSI_TARGET_CHAP_SECRET=") + kChapSecret,
                            std::string("ISCSI_TARGET_MUTUAL_SECRET=") + kMutualSecret}));
  const std::string p = "10.0.2.2:" + faulty.portal().substr(faulty.portal().rfind(':') + 1);
  // No discovery: it would be the one faulty connection.
  auto r = sh("/scenarios/initiator.sh login " + p + " " + kFaultyTargetName, 90);
  ASSERT_TRUE(r.ok()) << r.describe();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("UK: DISK (/dev/sd[a-z]+) "))) << r.output;
  const std::string dev = m[1];
  r = sh("/scenarios/initiator.sh disk " + dev + " " + std::to_string(kWriteMiB) +
             "\ngrep -c 'operational after recovery' /tmp/iscsid.log | sed 's/^/UK: RECOVERIES /'",
         150);
  ASSERT_TRUE(r.ok()) << r.describe();
  ASSERT_TRUE(std::regex_search(r.output, m, std::regex("UK: DISK-OK ([0-9a-f]{32})"))) << r.output;
  std::string host;
  ASSERT_EQ(testing::run(
                "head -c " + std::to_string(kWriteMiB << 20) + " " + dropped.string() + " | md5sum",
                &host),
            0);
  EXPECT_EQ(host.substr(0, 32), m[1].str());
  EXPECT_TRUE(std::regex_search(r.output, std::regex("UK: RECOVERIES [1-9]"))) << r.output;
  std::cout << r.output;
  r = sh("/scenarios/initiator.sh logout " + p + " " + kFaultyTargetName, 60);
  EXPECT_TRUE(r.ok()) << r.describe();
}

}  // namespace
}  // namespace uiscsi
