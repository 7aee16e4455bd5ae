// Scenario 1: libuiscsi against the Linux kernel's own iSCSI target (LIO) in a qemu guest.
// One guest for the suite, three targets on one portal (guest 127.0.0.1:P, forwarded from the
// host's 127.0.0.1:P so that SendTargets advertises a reachable address): open, CHAP, mutual
// CHAP, each with a fileio LUN 0 on the guest's tmpfs. Set up through the control channel with
// tests/kernel/guest/lio.sh.
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <thread>

#include "kernel/qemu_guest.hpp"
#include "support/pattern.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/session.hpp"

namespace uiscsi {
namespace {

using std::chrono::seconds;
using testing::GuestOptions;
using testing::pattern;
using testing::QemuGuest;

constexpr const char* kInitiator = "iqn.2026-11.dev.uiscsi:kernel-test";
constexpr const char* kOpen = "iqn.2003-01.org.linux-iscsi.uiscsi:open";
constexpr const char* kChap = "iqn.2003-01.org.linux-iscsi.uiscsi:chap";
constexpr const char* kMutual = "iqn.2003-01.org.linux-iscsi.uiscsi:mutual";
constexpr const char* kChapUser = "uiscsi-kernel";
constexpr const char* kChapSecret = "lio-chap-secret-1";
constexpr const char* kMutualUser = "lio-target";
constexpr const char* kMutualSecret = "lio-mutual-secret-2";
// Non-default login parameters on the open target. MaxBurstLength is the minimum of both
// offers (RFC 7143 section 13.13). MaxRecvDataSegmentLength is declarative (section 13.12), and
// LIO declares the value of its MaxXmitDataSegmentLength parameter, not of its
// MaxRecvDataSegmentLength parameter (iscsi_check_acceptor_state() in the kernel replaces one
// with the other when the initiator declares its own): observed here with 6.1.
constexpr std::uint32_t kOpenMrdsl = 32768;
constexpr std::uint32_t kOpenMxdsl = 65536;
constexpr std::uint32_t kOpenMaxBurst = 131072;
const Lun kLun0 = *Lun::from_number(0);

class Lio : public ::testing::Test {
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
    boot_error = guest->boot(o);
    if (!boot_error.empty()) return;
    const std::string p = std::to_string(port);
    auto r =
        guest->exec(std::string("export UK_INITIATOR=") + kInitiator +
                        " UK_CHAP_USER=" + kChapUser + " UK_CHAP_SECRET=" + kChapSecret +
                        " UK_MUTUAL_USER=" + kMutualUser + " UK_MUTUAL_SECRET=" + kMutualSecret +
                        "\nset -e\n"
                        "/scenarios/lio.sh target " +
                        kOpen + " " + p + " 32 open\n" + "/scenarios/lio.sh param " + kOpen +
                        " MaxRecvDataSegmentLength " + std::to_string(kOpenMrdsl) + "\n" +
                        "/scenarios/lio.sh param " + kOpen + " MaxXmitDataSegmentLength " +
                        std::to_string(kOpenMxdsl) + "\n" + "/scenarios/lio.sh param " + kOpen +
                        " MaxBurstLength " + std::to_string(kOpenMaxBurst) + "\n" +
                        "/scenarios/lio.sh target " + kChap + " " + p + " 8 chap\n" +
                        "/scenarios/lio.sh target " + kMutual + " " + p + " 8 mutual\n",
                    seconds(60));
    if (!r.ok()) boot_error = "LIO set-up failed: " + r.describe() + "\n" + guest->console_tail();
  }
  static void TearDownTestSuite() {
    delete guest;
    guest = nullptr;
  }
  void SetUp() override {
    if (!QemuGuest::qemu_installed())
      GTEST_SKIP() << "qemu-system-x86_64 not installed (scripts/setup.sh installs it)";
    ASSERT_TRUE(boot_error.empty()) << boot_error;
  }
  void TearDown() override {
    if (guest) testing::print_console_on_failure(*guest);
  }

  static std::string url(const char* iqn) {
    return "iscsi://127.0.0.1:" + std::to_string(port) + "/" + iqn + "/0";
  }
  static SessionOptions options() {
    SessionOptions o;
    o.initiator_name = kInitiator;
    o.header_digest = DigestPolicy::require;
    o.data_digest = DigestPolicy::require;
    o.connect_timeout = seconds(10);
    o.login_timeout = seconds(20);
    o.command_timeout = seconds(60);
    return o;
  }
  static ChapOptions chap(bool mutual) {
    ChapOptions c;
    c.user = kChapUser;
    c.secret = Secret(kChapSecret);
    if (mutual) {
      c.target_user = kMutualUser;
      c.target_secret = Secret(kMutualSecret);
    }
    return c;
  }
  // LIO's TPG login parameters as configured in the guest (configfs param/*).
  static std::map<std::string, std::string> lio_params(const char* iqn) {
    std::map<std::string, std::string> m;
    auto r = guest->exec(std::string("/scenarios/lio.sh show ") + iqn, seconds(20));
    EXPECT_TRUE(r.ok()) << r.describe();
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);)
      if (auto eq = line.find('='); eq != std::string::npos)
        m[line.substr(0, eq)] = line.substr(eq + 1);
    return m;
  }
  // LIO reports UNIT ATTENTION 3F/0E (reported LUNs data has changed) on the first command of
  // a new I_T nexus after LUNs were added (and 29/xx after a reset): clear it.
  static void clear_unit_attention(Session& s) {
    for (int i = 0; i < 4; ++i) {
      auto c = s.run(kLun0, Command(scsi::test_unit_ready()));
      ASSERT_TRUE(c) << c.error().message();
      if (c->ok()) return;
    }
    FAIL() << "TEST UNIT READY still fails after 4 tries";
  }
  static void write_read_verify(Session& s, std::size_t bytes, std::uint64_t lba, unsigned seed) {
    const auto data = pattern(bytes, seed);
    const auto blocks = static_cast<std::uint32_t>(bytes / 512);
    auto w = s.run(kLun0, Command(*scsi::write16(lba, blocks, 512)).write_from(data));
    ASSERT_TRUE(w) << w.error().message();
    ASSERT_TRUE(w->ok()) << w->describe();
    verify(s, data, lba);
  }
  static void verify(Session& s, const std::vector<std::byte>& data, std::uint64_t lba) {
    std::vector<std::byte> back(data.size());
    const auto blocks = static_cast<std::uint32_t>(data.size() / 512);
    auto r = s.run(kLun0, Command(*scsi::read16(lba, blocks, 512)).read_into(back));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_TRUE(r->ok()) << r->describe();
    EXPECT_EQ(r->bytes_received(), data.size());
    EXPECT_TRUE(back == data) << data.size() << " bytes at LBA " << lba << " differ";
  }
};

TEST_F(Lio, SendTargetsListsEveryTargetAtTheForwardedPortal) {
  SessionOptions o = options();
  o.header_digest = DigestPolicy::prefer;
  o.data_digest = DigestPolicy::prefer;
  auto targets = discover("127.0.0.1:" + std::to_string(port), o);
  ASSERT_TRUE(targets) << targets.error().message();
  std::map<std::string, std::string> found;
  for (auto& t : *targets)
    for (auto& p : t.portals)
      found[t.name] = p.address;
  for (const char* iqn : {kOpen, kChap, kMutual}) {
    ASSERT_TRUE(found.count(iqn)) << iqn;
    EXPECT_EQ(found[iqn], "127.0.0.1:" + std::to_string(port)) << iqn;
  }
}

TEST_F(Lio, LoginWithDigestsAndReadWriteVerified) {
  auto s = Session::dial(url(kOpen), options());
  ASSERT_TRUE(s) << s.error().message();
  const auto n = s->negotiated();
  EXPECT_TRUE(n.header_digest);
  EXPECT_TRUE(n.data_digest);
  clear_unit_attention(*s);
  auto cap = s->run(kLun0, Command(scsi::read_capacity16()));
  ASSERT_TRUE(cap && cap->ok());
  auto c = scsi::parse_read_capacity16(cap->data());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->block_count() * c->block_length, 32ull << 20);
  EXPECT_EQ(c->block_length, 512u);
  // Sizes around LIO's caps: one PDU, several PDUs, several R2T bursts of MaxBurstLength.
  std::uint64_t lba = 0;
  unsigned seed = 1;
  for (std::size_t bytes : {512u, 8192u, 32768u, 65536u, 131072u, 262144u, 1048576u}) {
    write_read_verify(*s, bytes, lba, seed++);
    lba += bytes / 512 + 8;
  }
  EXPECT_TRUE(s->logout());
}

TEST_F(Lio, NegotiatedParametersFollowLiosCaps) {
  for (const char* iqn : {kOpen, kChap}) {
    SCOPED_TRACE(iqn);
    SessionOptions o = options();
    if (iqn == kChap) o.chap = chap(false);
    auto s = Session::dial(url(iqn), o);
    ASSERT_TRUE(s) << s.error().message();
    const auto n = s->negotiated();
    auto lio = lio_params(iqn);
    // Record what LIO offered and what was agreed, for doc/kernel-tests.md.
    std::cout << iqn << ": LIO MaxRecvDataSegmentLength=" << lio["MaxRecvDataSegmentLength"]
              << " MaxBurstLength=" << lio["MaxBurstLength"]
              << " FirstBurstLength=" << lio["FirstBurstLength"]
              << " InitialR2T=" << lio["InitialR2T"] << " ImmediateData=" << lio["ImmediateData"]
              << " MaxOutstandingR2T=" << lio["MaxOutstandingR2T"]
              << " MaxXmitDataSegmentLength=" << lio["MaxXmitDataSegmentLength"]
              << "\n  negotiated: target MRDSL=" << n.target_max_recv_data_segment_length
              << " initiator MRDSL=" << n.initiator_max_recv_data_segment_length
              << " MaxBurstLength=" << n.max_burst_length
              << " FirstBurstLength=" << n.first_burst_length << " InitialR2T=" << n.initial_r2t
              << " ImmediateData=" << n.immediate_data
              << " MaxOutstandingR2T=" << n.max_outstanding_r2t << " ERL=" << n.error_recovery_level
              << "\n";
    // What we may send LIO: it declares its MaxXmitDataSegmentLength as MaxRecvDataSegmentLength.
    EXPECT_EQ(std::to_string(n.target_max_recv_data_segment_length),
              lio["MaxXmitDataSegmentLength"]);
    // MaxBurstLength and FirstBurstLength: the minimum of both offers.
    EXPECT_EQ(std::to_string(n.max_burst_length), lio["MaxBurstLength"]);
    EXPECT_EQ(std::to_string(n.first_burst_length), lio["FirstBurstLength"]);
    // InitialR2T: OR of both (LIO says Yes by default); ImmediateData: AND.
    EXPECT_EQ(n.initial_r2t, lio["InitialR2T"] == "Yes");
    EXPECT_EQ(n.immediate_data, lio["ImmediateData"] == "Yes");
    EXPECT_EQ(n.initiator_max_recv_data_segment_length, 262144u);  // our own declaration
    EXPECT_EQ(n.error_recovery_level, 0u);
    if (iqn == kOpen) {
      EXPECT_EQ(n.target_max_recv_data_segment_length, kOpenMxdsl);
      EXPECT_EQ(n.max_burst_length, kOpenMaxBurst);
    } else {
      EXPECT_EQ(n.target_max_recv_data_segment_length, 262144u);  // LIO's default MXDSL
      EXPECT_EQ(n.max_burst_length, 262144u);                     // LIO's default
    }
    EXPECT_TRUE(s->logout());
  }
}

TEST_F(Lio, ChapLoginAndWrongSecretRefused) {
  SessionOptions o = options();
  o.chap = chap(false);
  auto s = Session::dial(url(kChap), o);
  ASSERT_TRUE(s) << s.error().message();
  clear_unit_attention(*s);
  write_read_verify(*s, 65536, 64, 11);
  EXPECT_TRUE(s->logout());

  o.chap->secret = Secret("not-the-lio-secret");
  auto bad = Session::dial(url(kChap), o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(login_status_class(bad.error()), 2) << bad.error().message();
  EXPECT_EQ(bad.error().message().find("not-the-lio-secret"), std::string::npos);

  auto none = Session::dial(url(kChap), options());
  ASSERT_FALSE(none) << "LIO accepted a login without CHAP";
}

TEST_F(Lio, MutualChapLoginAndWrongTargetSecretDetected) {
  SessionOptions o = options();
  o.chap = chap(true);
  auto s = Session::dial(url(kMutual), o);
  ASSERT_TRUE(s) << s.error().message();
  clear_unit_attention(*s);
  write_read_verify(*s, 131072, 128, 21);
  EXPECT_TRUE(s->logout());

  // The target proves a secret we do not expect: our side must refuse the target.
  o.chap->target_secret = Secret("some-other-target-secret");
  auto bad = Session::dial(url(kMutual), o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), make_error_code(errc::authentication_failed)) << bad.error().message();
}

TEST_F(Lio, TaskManagementAbortTaskAndLunReset) {
  auto s = Session::dial(url(kOpen), options());
  ASSERT_TRUE(s) << s.error().message();
  clear_unit_attention(*s);

  // ABORT TASK on the last of four 4 MiB reads queued together, sent while their Data-In flows.
  // LIO aborts a task only before its backend I/O completes; a fileio LUN on tmpfs completes at
  // once, so LIO answers "task does not exist" (always so in our runs with 6.1) even while
  // the data is still being sent. Either answer is valid; every read must still end, intact
  // unless aborted.
  constexpr int kReads = 4;
  std::vector<std::vector<std::byte>> bufs(kReads, std::vector<std::byte>(4u << 20));
  std::vector<std::future<Result<Completion>>> reads;
  for (int i = 0; i < kReads - 1; ++i)
    reads.push_back(s->submit(kLun0, Command(*scsi::read16(0, 8192, 512)).read_into(bufs[i])));
  std::promise<Result<Completion>> done;
  reads.push_back(done.get_future());
  auto handle = s->submit(kLun0, Command(*scsi::read16(0, 8192, 512)).read_into(bufs.back()),
                          [&done](Result<Completion> r) { done.set_value(std::move(r)); });
  auto abort = s->abort_task(handle);
  ASSERT_TRUE(abort) << abort.error().message();
  EXPECT_TRUE(*abort == TmfResponse::function_complete ||
              *abort == TmfResponse::task_does_not_exist)
      << tmf_response_name(*abort);
  std::string outcome;
  for (int i = 0; i < kReads; ++i) {
    ASSERT_EQ(reads[i].wait_for(seconds(60)), std::future_status::ready) << "read " << i;
    auto r = reads[i].get();
    if (r) {
      EXPECT_TRUE(r->ok()) << r->describe();
      EXPECT_EQ(r->bytes_received(), bufs[i].size()) << "read " << i;
      outcome += " completed";
    } else {
      EXPECT_EQ(i, kReads - 1) << "read " << i << ": " << r.error().message();
      EXPECT_EQ(r.error(), make_error_code(errc::task_aborted)) << r.error().message();
      outcome += " " + r.error().message();
    }
  }
  std::cout << "ABORT TASK: " << tmf_response_name(*abort) << ", reads:" << outcome << "\n";

  auto reset = s->lun_reset(kLun0);
  ASSERT_TRUE(reset) << reset.error().message();
  EXPECT_EQ(*reset, TmfResponse::function_complete) << tmf_response_name(*reset);
  // After the reset: UNIT ATTENTION 29/03 (or similar) once, then normal I/O.
  clear_unit_attention(*s);
  write_read_verify(*s, 65536, 4096, 31);
  EXPECT_TRUE(s->logout());
}

TEST_F(Lio, Erl0ReinstatementAfterTheGuestCutsTheConnection) {
  SessionOptions o = options();
  o.recovery = true;
  auto s = Session::dial(url(kOpen), o);
  ASSERT_TRUE(s) << s.error().message();
  clear_unit_attention(*s);
  const auto before = pattern(262144, 41);
  write_read_verify(*s, before.size(), 8192, 41);
  EXPECT_EQ(s->recovery_stats().reinstatements, 0u);

  // LIO drops the TPG's sessions when the TPG is disabled; it comes back a second later.
  auto cut = guest->exec(std::string("/scenarios/lio.sh cut ") + kOpen + " 1", seconds(30));
  ASSERT_TRUE(cut.ok()) << cut.describe();

  // A command submitted now waits for the reinstated session (RFC 7143 section 6.3.5 ERL 0).
  const auto after = pattern(262144, 42);
  auto w = s->run(kLun0, Command(*scsi::write16(9000, 512, 512)).write_from(after));
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_TRUE(w->ok()) << w->describe();
  EXPECT_GE(s->recovery_stats().reinstatements, 1u);
  EXPECT_TRUE(s->logged_in());
  // Data written before and after the cut are both intact.
  clear_unit_attention(*s);
  verify(*s, before, 8192);
  verify(*s, after, 9000);
  std::cout << "reinstatements: " << s->recovery_stats().reinstatements << "\n";
  EXPECT_TRUE(s->logout());
}

}  // namespace
}  // namespace uiscsi
