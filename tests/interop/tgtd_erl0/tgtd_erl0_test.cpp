// Error recovery level 0 against a real tgtd: the connection is killed in the middle of large
// transfers, by the soak's fault proxy (bench/soak/fault_proxy.hpp) and from tgtd's side with
// `tgtadm --mode conn --op delete`. The session must reinstate itself (RFC 7143 section 6.3.5:
// a new login with the same ISID and TSIH 0), repeat the reads and LBA-addressed writes that
// were interrupted, and lose no data; a write sent with RetryPolicy::never must instead fail
// with errc::command_interrupted ("it may have been executed"), not be repeated.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <regex>
#include <sstream>
#include <thread>

#include "fault_proxy.hpp"
#include "interop/support.hpp"
#include "interop/tgtd_suite.hpp"
#include "support/pattern.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/session.hpp"

namespace uiscsi {
namespace {

using namespace std::chrono_literals;
using testing::run;
using uiscsi::testing::pattern;

constexpr std::size_t kChunk = 1u << 20;  // 1 MiB per command
constexpr std::uint32_t kChunkBlocks = kChunk / 512;
const Lun kLun1 = *Lun::from_number(1);

class TgtdErl0 : public testing::TgtdSuite<TgtdErl0> {
 protected:
  static void SetUpTestSuite() {
    if (!have_tgt() || !start("tgtd-erl0")) return;
    // Large PDUs and bursts make each 1 MiB command a few PDUs; DefaultTime2Wait 0 makes
    // reinstatement immediate. The tests run one after another, each with its own sessions.
    up = add("disk", 1, "iqn.2026-11.test:erl0", 64) && param(1, "DefaultTime2Wait", "0") &&
         param(1, "MaxRecvDataSegmentLength", "262144") && param(1, "InitialR2T", "No") &&
         param(1, "FirstBurstLength", "262144") && param(1, "MaxBurstLength", "1048576");
  }
  void SetUp() override {
    if (!testing::have_program("tgtd"))
      GTEST_SKIP() << "tgtd not installed (scripts/setup.sh installs it)";
    ASSERT_TRUE(up) << "tgtd did not start; log in " << dir;
  }

  static std::string url(int at_port) {
    return "iscsi://127.0.0.1:" + std::to_string(at_port) + "/iqn.2026-11.test:erl0/1";
  }
  static SessionOptions recovering() {
    SessionOptions o;
    o.connect_timeout = 5s;
    o.login_timeout = 5s;
    o.command_timeout = 20s;
    o.default_time2wait = 0;
    o.recovery_backoff = 20ms;
    o.max_recovery_attempts = 6;
    return o;
  }
  static std::string tgtadm() { return "tgtadm -C " + std::to_string(port % 30000 + 1000); }

  // tgtd reports POWER ON (29/00) on the first command of a nexus; clear it.
  static void clear_unit_attention(Session& s) {
    for (int i = 0; i < 3; ++i) {
      auto c = s.run(kLun1, Command(scsi::test_unit_ready()));
      ASSERT_TRUE(c) << c.error().message();
      if (c->ok()) return;
    }
  }

  // `data` written (or read into `into`) in 1 MiB commands from LBA 0, all in flight at once.
  // Every command must succeed. `started` counts completions, for a killer thread to watch.
  static void write_all(Session& s, std::span<const std::byte> data,
                        std::atomic<int>* started = nullptr) {
    std::vector<std::future<Result<Completion>>> f;
    for (std::size_t off = 0; off < data.size(); off += kChunk)
      f.push_back(s.submit(kLun1, Command(*scsi::write16(off / 512, kChunkBlocks, 512))
                                      .write_from(data.subspan(off, kChunk))));
    for (auto& x : f) {
      auto r = x.get();
      if (started) ++*started;
      ASSERT_TRUE(r) << r.error().message();
      ASSERT_TRUE(r->ok()) << r->describe();
    }
  }
  static void read_all(Session& s, std::span<std::byte> into, std::atomic<int>* started = nullptr) {
    std::vector<std::future<Result<Completion>>> f;
    for (std::size_t off = 0; off < into.size(); off += kChunk)
      f.push_back(s.submit(kLun1, Command(*scsi::read16(off / 512, kChunkBlocks, 512))
                                      .read_into(into.subspan(off, kChunk))));
    for (auto& x : f) {
      auto r = x.get();
      if (started) ++*started;
      ASSERT_TRUE(r) << r.error().message();
      ASSERT_TRUE(r->ok()) << r->describe();
      ASSERT_EQ(r->bytes_received(), kChunk);
    }
  }

  // What is on the LUN, read over a fresh session that bypasses any proxy.
  static std::vector<std::byte> read_back(std::size_t bytes) {
    std::vector<std::byte> back(bytes);
    auto s = Session::dial(url(port), recovering());
    EXPECT_TRUE(s) << s.error().message();
    if (!s) return back;
    clear_unit_attention(*s);
    read_all(*s, back);
    return back;
  }
};

TEST_F(TgtdErl0, ProxyCutsMidTransferAndTheDataSurvives) {
  auto proxy = bench::FaultProxy::start({.upstream_port = static_cast<std::uint16_t>(port)});
  ASSERT_TRUE(proxy) << proxy.error().message();
  auto s = Session::dial(url((*proxy)->port()), recovering());
  ASSERT_TRUE(s) << s.error().message();
  clear_unit_attention(*s);

  const auto data = pattern(16 * kChunk, 21);
  // 5 MiB into 16 MiB of writes in flight, and 6 MiB into the reads: both mid-transfer.
  (*proxy)->cut_after_bytes(5 * kChunk, bench::Direction::to_target);
  write_all(*s, data);
  EXPECT_GE(s->recovery_stats().reinstatements, 1u);
  (*proxy)->cut_after_bytes(6 * kChunk, bench::Direction::to_initiator);
  std::vector<std::byte> back(data.size());
  read_all(*s, back);
  EXPECT_TRUE(back == data) << "data read through the reinstated session differs";
  EXPECT_EQ((*proxy)->counts().cut, 2u);
  EXPECT_GE(s->recovery_stats().reinstatements, 2u);
  EXPECT_EQ(s->recovery_stats().status_snacks, 0u) << "ERL 0: no SNACKs";
  EXPECT_TRUE(s->logged_in());
  EXPECT_TRUE(read_back(data.size()) == data) << "a write is missing on tgtd's LUN";
}

// The I_T nexus (tgtd's session id) and connection ids of target `tid`, from
// `tgtadm --mode target --op show`.
std::vector<std::pair<std::string, std::string>> connections(const std::string& tgtadm, int tid) {
  std::string out;
  run(tgtadm + " --lld iscsi --mode target --op show", &out);
  std::vector<std::pair<std::string, std::string>> found;
  const std::regex target_re(R"(^Target (\d+):)"), nexus_re(R"(^\s+I_T nexus: (\d+))"),
      conn_re(R"(^\s+Connection: (\d+))");
  std::string current_tid, sid;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, target_re))
      current_tid = m[1];
    else if (std::regex_search(line, m, nexus_re))
      sid = m[1];
    else if (std::regex_search(line, m, conn_re) && current_tid == std::to_string(tid))
      found.emplace_back(sid, m[1]);
  }
  return found;
}

TEST_F(TgtdErl0, TgtadmDeletesTheConnectionMidTransfer) {
  auto s = Session::dial(url(port), recovering());
  ASSERT_TRUE(s) << s.error().message();
  clear_unit_attention(*s);
  ASSERT_EQ(connections(tgtadm(), 1).size(), 1u) << "tgtadm shows no connection of ours";

  // Deletes every connection of target 1 once the batch in flight has its first completion.
  auto killer = [](std::atomic<int>& done) {
    return std::async(std::launch::async, [&done] {
      const auto until = std::chrono::steady_clock::now() + 10s;
      while (done.load() < 1 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(1ms);
      for (auto [sid, cid] : connections(tgtadm(), 1))
        run(tgtadm() + " --lld iscsi --mode conn --op delete --tid 1 --sid " + sid + " --cid " +
            cid + " >/dev/null 2>&1");
    });
  };
  // A batch can finish before tgtadm strikes on a fast machine: then it runs again (each batch
  // is verified either way), up to 4 times.
  const auto data = pattern(16 * kChunk, 22);
  for (int round = 0; round < 4 && s->recovery_stats().reinstatements == 0; ++round) {
    std::atomic<int> writes_done{0};
    auto kill = killer(writes_done);
    write_all(*s, data, &writes_done);
    kill.get();
  }
  const auto after_writes = s->recovery_stats().reinstatements;
  ASSERT_GE(after_writes, 1u) << "the connection was never deleted while writes were in flight";

  std::vector<std::byte> back(data.size());
  for (int round = 0; round < 4 && s->recovery_stats().reinstatements == after_writes; ++round) {
    std::atomic<int> reads_done{0};
    auto kill = killer(reads_done);
    std::fill(back.begin(), back.end(), std::byte{0});
    read_all(*s, back, &reads_done);
    kill.get();
    EXPECT_TRUE(back == data) << "data read through the session differs (round " << round << ")";
  }
  EXPECT_GT(s->recovery_stats().reinstatements, after_writes)
      << "the connection was never deleted while reads were in flight";
  EXPECT_TRUE(read_back(data.size()) == data) << "a write is missing on tgtd's LUN";
}

TEST_F(TgtdErl0, AWriteThatMustNotBeRepeatedFailsAsMayHaveExecuted) {
  auto proxy = bench::FaultProxy::start({.upstream_port = static_cast<std::uint16_t>(port)});
  ASSERT_TRUE(proxy) << proxy.error().message();
  auto s = Session::dial(url((*proxy)->port()), recovering());
  ASSERT_TRUE(s) << s.error().message();
  clear_unit_attention(*s);

  const auto data = pattern(4 * kChunk, 23);
  (*proxy)->cut_after_bytes(kChunk + kChunk / 2, bench::Direction::to_target);
  auto w = s->run(
      kLun1,
      Command(*scsi::write16(0, 4 * kChunkBlocks, 512)).write_from(data).retry(RetryPolicy::never));
  ASSERT_FALSE(w) << "the interrupted write completed: " << w->describe();
  EXPECT_EQ(w.error(), errc::command_interrupted) << w.error().message();
  EXPECT_NE(w.error().message().find("may have been executed"), std::string::npos)
      << w.error().message();
  EXPECT_EQ((*proxy)->counts().cut, 1u);
  // The command fails as soon as the connection is lost; the reinstatement follows.
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (s->recovery_stats().reinstatements == 0 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);
  EXPECT_GE(s->recovery_stats().reinstatements, 1u);

  // The session carries on, and the same write with the default policy is simply repeated.
  (*proxy)->cut_after_bytes(kChunk + kChunk / 2, bench::Direction::to_target);
  auto again = s->run(kLun1, Command(*scsi::write16(0, 4 * kChunkBlocks, 512)).write_from(data));
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_TRUE(again->ok()) << again->describe();
  EXPECT_EQ((*proxy)->counts().cut, 2u);
  EXPECT_GE(s->recovery_stats().reinstatements, 2u);
  EXPECT_TRUE(read_back(data.size()) == data);
}

}  // namespace
}  // namespace uiscsi
