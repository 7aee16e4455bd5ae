// Scenario 3: TCMU. tapesim-tcmu (built on the host, copied into the guest image) serves a
// tapesim drive to the guest kernel through TCMU (configfs backstore user_N, uio ring):
//   * LIO exports it over iSCSI (portal guest 127.0.0.1:P, forwarded from the host), and our
//     initiator and tape driver on the host write, read and verify records and filemarks
//     through kernel -> TCMU -> tapesim-tcmu;
//   * tcm_loop exposes a second instance to the guest's own SCSI stack, where the kernel's st
//     driver (/dev/nst0) writes and reads it with mt and dd (tests/kernel/guest/initiator.sh).
#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "kernel/qemu_guest.hpp"
#include "support/pattern.hpp"
#include "uiscsi/session.hpp"
#include "uiscsi/tape.hpp"

namespace uiscsi {
namespace {

using std::chrono::seconds;
using testing::GuestOptions;
using testing::pattern;
using testing::QemuGuest;

constexpr const char* kInitiator = "iqn.2026-11.dev.uiscsi:tcmu-test";
constexpr const char* kTarget = "iqn.2003-01.org.linux-iscsi.uiscsi:tcmu-tape";
const Lun kLun0 = *Lun::from_number(0);

// Starts TOOL (tapesim-tcmu or tcmu-ramdisk) as backstore core/user_HBA/NAME in the background
// and waits (20 s) for its "ready" line; its stderr goes to /tmp/NAME.err, its PID to
// /tmp/NAME.pid.
std::string start_handler(const std::string& tool, const std::string& name, int hba,
                          const std::string& args) {
  const std::string out = "/tmp/" + name + ".out", err = "/tmp/" + name + ".err";
  return tool + " --name " + name + " --hba " + std::to_string(hba) + " " + args + " >" + out +
         " 2>" + err + " &\n" + "echo $! >/tmp/" + name + ".pid\n" +
         "i=0\n"
         "while ! grep -q '^ready' " +
         out + " 2>/dev/null; do\n" + "  i=$((i + 1)); if [ $i -gt 100 ]; then cat " + err +
         "; exit 1; fi\n"
         "  sleep 0.2 2>/dev/null || sleep 1\n"
         "done\n"
         "cat " +
         out + "\n";
}

// Unlinks a fabric LUN, stops the handler NAME with SIGTERM and checks that it exits and removes
// its backstore core/user_HBA/NAME; prints the handler's stderr (its statistics line).
std::string stop_handler(const std::string& lun_link, const std::string& name, int hba) {
  return "set -e\nCFS=/sys/kernel/config/target\nrm " + lun_link + "\n" + "pid=$(cat /tmp/" + name +
         ".pid)\n" +
         "kill -TERM $pid\n"
         "i=0\n"
         "while kill -0 $pid 2>/dev/null; do\n"
         "  i=$((i + 1)); [ $i -le 50 ] || { echo 'still running'; exit 1; }\n"
         "  sleep 0.2 2>/dev/null || sleep 1\n"
         "done\n"
         "[ ! -e $CFS/core/user_" +
         std::to_string(hba) + "/" + name + " ] || { echo 'backstore left'; exit 1; }\n" +
         "cat /tmp/" + name + ".err\n";
}

class Tcmu : public ::testing::Test {
 protected:
  static inline QemuGuest* guest = nullptr;
  static inline int port = 0;
  static inline std::string boot_error;

  static void SetUpTestSuite() {
    if (!QemuGuest::qemu_installed()) return;
    guest = new QemuGuest;
    port = testing::free_port();
    GuestOptions o;
    o.portals = {port};
    o.extra_binaries = {UISCSI_TAPESIM_TCMU, UISCSI_TCMU_RAMDISK};
    boot_error = guest->boot(o);
    if (!boot_error.empty()) return;
    const std::string p = std::to_string(port);
    const std::string tpg = std::string("$CFS/iscsi/") + kTarget + "/tpgt_1";
    auto r = guest->exec(
        "set -e\nCFS=/sys/kernel/config/target\n" +
            start_handler("tapesim-tcmu", "tape0", 1, "--size 1G --capacity 64M") + "mkdir -p " +
            tpg + "/lun/lun_0\n" + "ln -s $CFS/core/user_1/tape0 " + tpg + "/lun/lun_0/tape0\n" +
            "echo 0 >" + tpg + "/attrib/authentication\n" + "echo 1 >" + tpg +
            "/attrib/generate_node_acls\n" + "echo 1 >" + tpg + "/attrib/cache_dynamic_acls\n" +
            "echo 0 >" + tpg + "/attrib/demo_mode_write_protect\n" + "echo None >" + tpg +
            "/param/AuthMethod\n" + "mkdir " + tpg + "/np/127.0.0.1:" + p + "\n" + "echo 1 >" +
            tpg + "/enable\n" + "echo TCMU-ISCSI-READY\n",
        seconds(60));
    if (!r.ok())
      boot_error = "TCMU / LIO set-up failed: " + r.describe() + "\n" + guest->console_tail();
  }
  static void TearDownTestSuite() {
    delete guest;
    guest = nullptr;
  }
  void SetUp() override {
    if (guest == nullptr) GTEST_SKIP() << "qemu-system-x86_64 not installed";
    if (!boot_error.empty()) FAIL() << boot_error;
  }
  void TearDown() override {
    if (guest) testing::print_console_on_failure(*guest);
  }
  static SessionOptions options() {
    SessionOptions o;
    o.initiator_name = kInitiator;
    o.connect_timeout = seconds(10);
    o.login_timeout = seconds(20);
    o.command_timeout = seconds(60);
    return o;
  }
};

TEST_F(Tcmu, OurTapeDriverThroughLioAndTcmu) {
  auto s =
      Session::dial("iscsi://127.0.0.1:" + std::to_string(port) + "/" + kTarget + "/0", options());
  ASSERT_TRUE(s) << s.error().message();
  tape::DriveOptions dopt;
  dopt.block_size = 0;  // variable-length records
  dopt.sili = true;     // short records come back as data: their length is the READ_LEN residual
  dopt.ready_timeout = std::chrono::milliseconds(30000);
  auto d = tape::Drive::open(*s, kLun0, dopt);
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->info().inquiry.vendor, "UISCSI");

  // File 1: 6 records of 32 KiB; file 2: 3 records of 60 000 bytes.
  std::vector<std::vector<std::byte>> file1, file2;
  for (unsigned i = 0; i < 6; ++i)
    file1.push_back(pattern(32768, 10 + i));
  for (unsigned i = 0; i < 3; ++i)
    file2.push_back(pattern(60000, 20 + i));
  ASSERT_TRUE(d->rewind());
  for (auto& r : file1)
    ASSERT_TRUE(d->write(r)) << d->last_error()->message();
  ASSERT_TRUE(d->write_filemarks(1));
  for (auto& r : file2)
    ASSERT_TRUE(d->write(r)) << d->last_error()->message();
  ASSERT_TRUE(d->write_filemarks(1));
  auto pos = d->position();
  ASSERT_TRUE(pos);
  EXPECT_EQ(pos->block, 11u);

  ASSERT_TRUE(d->rewind());
  std::vector<std::byte> buf(65536);
  for (auto& want : file1) {
    auto r = d->read(buf);
    ASSERT_TRUE(r) << d->last_error()->message();
    ASSERT_EQ(r->status, tape::ReadStatus::data);
    ASSERT_EQ(r->bytes, want.size());  // LIO's residual from TCMU's READ_LEN
    EXPECT_TRUE(std::equal(want.begin(), want.end(), buf.begin()));
  }
  auto fm = d->read(buf);
  ASSERT_TRUE(fm);
  EXPECT_EQ(fm->status, tape::ReadStatus::filemark);

  // SPACE and LOCATE: back to file 2 from BOT, then its last record by position.
  ASSERT_TRUE(d->rewind());
  ASSERT_TRUE(d->space(tape::SpaceUnit::filemarks, 1));
  auto r = d->read(buf);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->bytes, file2[0].size());
  EXPECT_TRUE(std::equal(file2[0].begin(), file2[0].end(), buf.begin()));
  ASSERT_TRUE(d->locate(9));
  r = d->read(buf);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->bytes, file2[2].size());
  EXPECT_TRUE(std::equal(file2[2].begin(), file2[2].end(), buf.begin()));
  auto end = d->read(buf);
  ASSERT_TRUE(end);
  EXPECT_EQ(end->status, tape::ReadStatus::filemark);
  auto eod = d->read(buf);
  ASSERT_TRUE(eod);
  EXPECT_EQ(eod->status, tape::ReadStatus::end_of_data);
  ASSERT_TRUE(d->rewind());

  // The kernel offered READ_LEN (the lengths above depend on it); the handler saw no bad entry.
  auto log = guest->exec("cat /tmp/tape0.err", seconds(10));
  ASSERT_TRUE(log.ok()) << log.describe();
  EXPECT_NE(log.output.find(" READ_LEN"), std::string::npos) << log.output;
  std::cerr << log.output;
}

TEST_F(Tcmu, LunResetReachesTheHandlerAsTmrEntry) {
  // tapesim-tcmu sets attrib/tmr_notification, so LIO queues our LUN RESET in the ring as a
  // TMR entry; the handler logs it and resets the tape LU. The drive serves commands afterwards.
  auto s =
      Session::dial("iscsi://127.0.0.1:" + std::to_string(port) + "/" + kTarget + "/0", options());
  ASSERT_TRUE(s) << s.error().message();
  auto reset = s->lun_reset(kLun0);
  ASSERT_TRUE(reset) << reset.error().message();
  EXPECT_EQ(*reset, TmfResponse::function_complete);
  auto log = guest->exec(
      "i=0\n"
      "until grep -q 'TMR LUN RESET' /tmp/tape0.err; do\n"
      "  i=$((i + 1)); [ $i -le 50 ] || { cat /tmp/tape0.err; exit 1; }\n"
      "  sleep 0.2 2>/dev/null || sleep 1\n"
      "done\n"
      "cat /tmp/tape0.err\n",
      seconds(30));
  ASSERT_TRUE(log.ok()) << log.describe();
  std::cerr << log.output;

  tape::DriveOptions dopt;
  dopt.block_size = 0;
  dopt.sili = true;
  dopt.ready_timeout = std::chrono::milliseconds(30000);
  auto d = tape::Drive::open(*s, kLun0, dopt);
  ASSERT_TRUE(d) << d.error().message();
  ASSERT_TRUE(d->rewind()) << d->last_error()->message();
  const auto rec = pattern(4096, 77);
  ASSERT_TRUE(d->write(rec)) << d->last_error()->message();
  ASSERT_TRUE(d->rewind());
  std::vector<std::byte> buf(8192);
  auto r = d->read(buf);
  ASSERT_TRUE(r) << d->last_error()->message();
  ASSERT_EQ(r->bytes, rec.size());
  EXPECT_TRUE(std::equal(rec.begin(), rec.end(), buf.begin()));
}

TEST_F(Tcmu, MediumAndModeCommandsThroughLioAndTcmu) {
  // The rest of the drive's command set through kernel -> TCMU -> tapesim: REPORT DENSITY
  // SUPPORT, LOG SENSE (TapeAlert), MODE SELECT/SENSE, PREVENT ALLOW MEDIUM REMOVAL, ERASE,
  // LOAD UNLOAD, READ POSITION.
  auto s =
      Session::dial("iscsi://127.0.0.1:" + std::to_string(port) + "/" + kTarget + "/0", options());
  ASSERT_TRUE(s) << s.error().message();
  tape::DriveOptions dopt;
  dopt.block_size = 0;
  dopt.ready_timeout = std::chrono::milliseconds(30000);
  auto d = tape::Drive::open(*s, kLun0, dopt);
  ASSERT_TRUE(d) << d.error().message();
  auto dens = d->densities();
  ASSERT_TRUE(dens) << dens.error().message();
  EXPECT_FALSE(dens->empty());
  auto alerts = d->tape_alerts();
  ASSERT_TRUE(alerts) << alerts.error().message();
  ASSERT_TRUE(d->set_block_size(1024)) << d->last_error()->message();
  ASSERT_TRUE(d->set_block_size(0)) << d->last_error()->message();
  ASSERT_TRUE(d->lock());
  ASSERT_TRUE(d->unlock());

  // ERASE from BOT leaves a blank tape: the first READ finds end of data.
  ASSERT_TRUE(d->rewind());
  ASSERT_TRUE(d->write(pattern(2048, 5))) << d->last_error()->message();
  ASSERT_TRUE(d->rewind());
  ASSERT_TRUE(d->erase()) << d->last_error()->message();
  ASSERT_TRUE(d->rewind());
  std::vector<std::byte> buf(4096);
  auto r = d->read(buf);
  ASSERT_TRUE(r) << d->last_error()->message();
  EXPECT_EQ(r->status, tape::ReadStatus::end_of_data);

  ASSERT_TRUE(d->unload()) << d->last_error()->message();
  ASSERT_TRUE(d->load()) << d->last_error()->message();
  auto pos = d->position();
  ASSERT_TRUE(pos) << d->last_error()->message();
  EXPECT_EQ(pos->block, 0u);
}

TEST_F(Tcmu, KernelStDriverThroughTcmLoop) {
  // tcm_loop: a loopback SCSI host in the guest; its LUN 0 is a second tapesim-tcmu.
  const std::string tpg = "$CFS/loopback/naa.50014050000000a1/tpgt_1";
  auto r = guest->exec(
      "set -e\nCFS=/sys/kernel/config/target\n"
      "modprobe tcm_loop\n" +
          start_handler("tapesim-tcmu", "tape1", 2, "--size 1G --capacity 64M") + "mkdir -p " +
          tpg + "/lun/lun_0\n" + "echo naa.50014050000000b2 >" + tpg + "/nexus\n" +
          "ln -s $CFS/core/user_2/tape1 " + tpg + "/lun/lun_0/tape1\n" +
          "i=0\n"
          "while [ ! -e /dev/nst0 ]; do\n"
          "  i=$((i + 1)); [ $i -le 50 ] || { echo 'no /dev/nst0'; exit 1; }\n"
          "  sleep 0.2 2>/dev/null || sleep 1\n"
          "done\n"
          "/scenarios/initiator.sh tape /dev/nst0\n",
      seconds(120));
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_NE(r.output.find("UK: TAPE-OK"), std::string::npos) << r.output;

  // Clean shutdown: unlink the LUN, SIGTERM the handler; it removes its backstore and exits 0.
  r = guest->exec(stop_handler(tpg + "/lun/lun_0/tape1", "tape1", 2), seconds(30));
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_NE(r.output.find(" commands, 0 bad"), std::string::npos) << r.output;
  std::cerr << r.output;
}

TEST_F(Tcmu, KernelSdDriverOnTcmuRamdisk) {
  // tcm_loop again, with tcmu-ramdisk (the general disk handler) as LUN 0: the kernel's sd
  // driver writes 8 MiB and reads it back with O_DIRECT (tests/kernel/guest/initiator.sh disk).
  const std::string tpg = "$CFS/loopback/naa.50014050000000c3/tpgt_1";
  auto r = guest->exec(
      "set -e\nCFS=/sys/kernel/config/target\nmodprobe tcm_loop\n"
      "sds() { ls /sys/block | grep '^sd' | tr '\\n' ' ' || true; }\n"
      "before=\" $(sds)\"\n" +
          start_handler("tcmu-ramdisk", "disk0", 3, "--size 16M") + "mkdir -p " + tpg +
          "/lun/lun_0\n" + "echo naa.50014050000000d4 >" + tpg + "/nexus\n" +
          "ln -s $CFS/core/user_3/disk0 " + tpg + "/lun/lun_0/disk0\n" +
          "i=0\n"
          "dev=\n"
          "while :; do\n"
          "  for d in $(sds); do case \"$before\" in *\" $d \"*) ;; *) dev=$d ;; esac; done\n"
          "  [ -z \"$dev\" ] || [ \"$(cat /sys/block/$dev/size)\" = 0 ] || break\n"
          "  i=$((i + 1)); [ $i -le 50 ] || { echo 'no new sd disk'; exit 1; }\n"
          "  sleep 0.2 2>/dev/null || sleep 1\n"
          "done\n"
          "echo \"UK: SIZE $(($(cat /sys/block/$dev/size) * 512))\"\n"
          "echo \"UK: MODEL $(cat /sys/block/$dev/device/vendor /sys/block/$dev/device/model | "
          "tr -s ' \\n' ' ')\"\n"
          "/scenarios/initiator.sh disk /dev/$dev 8\n",
      seconds(120));
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_NE(r.output.find("UK: SIZE 16777216"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("UK: MODEL UISCSI"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("UK: DISK-OK"), std::string::npos) << r.output;

  r = guest->exec(stop_handler(tpg + "/lun/lun_0/disk0", "disk0", 3), seconds(30));
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_NE(r.output.find(" commands, 0 bad"), std::string::npos) << r.output;
  std::cerr << r.output;
}

}  // namespace
}  // namespace uiscsi
