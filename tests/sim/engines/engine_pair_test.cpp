// The initiator engine against the target engine, in memory and virtual time.
#include "support/engine_pair.hpp"

#include <gtest/gtest.h>

#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

using testing::EnginePair;
using testing::pattern;

CdbBytes rw10(bool write, std::uint32_t lba, std::uint16_t blocks) {
  std::vector<std::byte> c(10);
  c[0] = std::byte{static_cast<unsigned char>(write ? 0x2a : 0x28)};
  store_be32(c.data() + 2, lba);
  store_be16(c.data() + 7, blocks);
  return CdbBytes::from(c);
}

TEST(EnginePairTest, LoginWithoutAuthentication) {
  EnginePair p;
  ASSERT_TRUE(p.login(p.session_config()));
  EXPECT_TRUE(p.initiator->logged_in());
  EXPECT_TRUE(p.target->logged_in());
  EXPECT_EQ(p.initiator->tsih(), 0x100);
  EXPECT_EQ(p.initiator->target_alias(), "sim");
  auto up = std::get_if<SessionUp>(&p.target_events.at(0));
  ASSERT_NE(up, nullptr);
  EXPECT_EQ(up->initiator_name, "iqn.2026-11.dev.uiscsi:sim-initiator");
}

struct ChapCase {
  bool mutual;
  std::vector<ChapAlgorithm> algorithms;
};

class ChapPair : public ::testing::TestWithParam<ChapCase> {};

TEST_P(ChapPair, LoginWithChap) {
  EnginePair p;
  p.directory.chap_required = true;
  p.directory.chap_users["alice"] = "alice-secret-0123";
  p.directory.mutual = ChapCredentials{"sim-target", Secret("target-secret-4567"), false, {}, {}};
  SessionConfig c = p.session_config();
  c.chap = ChapCredentials{"alice", Secret("alice-secret-0123"), GetParam().mutual, "sim-target",
                           Secret("target-secret-4567")};
  c.chap_preference = GetParam().algorithms;
  ASSERT_TRUE(p.login(c));
}

INSTANTIATE_TEST_SUITE_P(Algorithms, ChapPair,
                         ::testing::Values(ChapCase{false, {ChapAlgorithm::md5}},
                                           ChapCase{false, {ChapAlgorithm::sha1}},
                                           ChapCase{true, {ChapAlgorithm::sha256}},
                                           ChapCase{true, {ChapAlgorithm::sha3_256}},
                                           ChapCase{true, default_chap_preference()}));

TEST(EnginePairTest, WrongPasswordIsAuthenticationFailure) {
  EnginePair p;
  p.directory.chap_required = true;
  p.directory.chap_users["alice"] = "alice-secret-0123";
  SessionConfig c = p.session_config();
  c.chap = ChapCredentials{"alice", Secret("not-the-secret-99"), false, {}, {}};
  EXPECT_FALSE(p.login(c));
  p.pump();
  // The target said 2/1 and closed.
  EXPECT_FALSE(p.initiator->logged_in());
  EXPECT_TRUE(p.target->finished());
}

TEST(EnginePairTest, NoCredentialsForAChapTarget) {
  EnginePair p;
  p.directory.chap_required = true;
  p.start(p.session_config());
  p.pump();
  auto done = p.take<LoginDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].error, make_login_error(2, 1));
}

TEST(EnginePairTest, UnknownTargetIsNotFound) {
  EnginePair p;
  SessionConfig c = p.session_config();
  c.target_name = "iqn.2026-11.dev.uiscsi:nope";
  p.start(c);
  p.pump();
  auto done = p.take<LoginDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].error, make_login_error(2, 3));
}

TEST(EnginePairTest, RedirectNamesTheNewAddress) {
  EnginePair p;
  p.directory.redirect_to = "127.0.0.2:3261,2";
  p.start(p.session_config());
  p.pump();
  auto done = p.take<LoginDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(login_status_class(done[0].error), 1);
  EXPECT_EQ(done[0].redirect_address, "127.0.0.2:3261,2");
}

struct Params {
  bool initial_r2t;
  bool immediate_data;
  std::uint32_t initiator_mrdsl;
  std::uint32_t target_mrdsl;
  std::uint32_t max_burst;
  std::uint32_t first_burst;
  std::uint32_t max_outstanding_r2t;
  bool digests;
  std::size_t chunk;
};

class DataPath : public ::testing::TestWithParam<Params> {};

TEST_P(DataPath, WritesAndReadsRoundTrip) {
  const Params prm = GetParam();
  EnginePair p;
  p.chunk = prm.chunk;
  auto& tn = p.target_config.negotiation;
  tn.max_recv_data_segment_length = prm.target_mrdsl;
  tn.max_burst_length = prm.max_burst;
  tn.first_burst_length = prm.first_burst;
  tn.max_outstanding_r2t = prm.max_outstanding_r2t;
  tn.initial_r2t = prm.initial_r2t;
  tn.immediate_data = prm.immediate_data;
  tn.header_digest = {"CRC32C", "None"};
  tn.data_digest = {"CRC32C", "None"};
  SessionConfig c = p.session_config();
  auto& in = c.negotiation;
  in.max_recv_data_segment_length = prm.initiator_mrdsl;
  in.max_burst_length = prm.max_burst;
  in.first_burst_length = prm.first_burst;
  in.max_outstanding_r2t = prm.max_outstanding_r2t;
  in.initial_r2t = prm.initial_r2t;
  in.immediate_data = prm.immediate_data;
  if (prm.digests) {
    in.header_digest = {"CRC32C"};
    in.data_digest = {"CRC32C"};
  }
  ASSERT_TRUE(p.login(c));
  EXPECT_EQ(p.initiator->params().header_digest, prm.digests);
  EXPECT_EQ(p.initiator->params().max_outstanding_r2t, prm.max_outstanding_r2t);

  // Writes of many sizes, several in flight, then read everything back.
  const std::uint16_t sizes[] = {1, 2, 7, 16, 17, 64, 128, 255};
  std::vector<std::vector<std::byte>> written;
  std::uint32_t lba = 0;
  std::vector<TaskId> ids;
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    written.push_back(pattern(std::size_t{sizes[i]} * 512, static_cast<unsigned>(i + 1)));
    ScsiRequest r;
    r.cdb = rw10(true, lba, sizes[i]);
    r.data_out = written.back();
    ids.push_back(p.initiator->submit(r, p.now));
    lba += sizes[i];
  }
  p.pump();
  auto done = p.take<TaskDone>();
  ASSERT_EQ(done.size(), ids.size());
  for (auto& d : done) {
    ASSERT_FALSE(d.error) << d.error.message();
    EXPECT_EQ(d.result.status, 0);
  }
  std::vector<std::byte> expect;
  for (auto& w : written)
    expect.insert(expect.end(), w.begin(), w.end());
  EXPECT_TRUE(std::equal(expect.begin(), expect.end(), p.disk.data().begin()));

  std::vector<std::byte> back(expect.size());
  lba = 0;
  std::size_t off = 0;
  for (std::uint16_t n : sizes) {
    ScsiRequest r;
    r.cdb = rw10(false, lba, n);
    r.data_in = std::span(back).subspan(off, std::size_t{n} * 512);
    p.initiator->submit(r, p.now);
    lba += n;
    off += std::size_t{n} * 512;
  }
  p.pump();
  done = p.take<TaskDone>();
  ASSERT_EQ(done.size(), std::size(sizes));
  for (auto& d : done)
    ASSERT_FALSE(d.error) << d.error.message();
  EXPECT_EQ(back, expect);
  EXPECT_EQ(p.initiator->tasks_in_flight(), 0u);
  EXPECT_EQ(p.target->tasks(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Parameters, DataPath,
    ::testing::Values(Params{true, false, 8192, 8192, 262144, 65536, 1, false, 1 << 20},
                      Params{true, true, 8192, 8192, 262144, 65536, 1, false, 1 << 20},
                      Params{false, false, 8192, 8192, 262144, 65536, 1, false, 1 << 20},
                      Params{false, true, 8192, 8192, 262144, 65536, 1, false, 1 << 20},
                      Params{false, true, 512, 512, 1024, 512, 1, true, 0},
                      Params{true, true, 4096, 2048, 16384, 4096, 4, true, 0},
                      Params{false, true, 262144, 262144, 1048576, 262144, 8, true, 3},
                      Params{true, false, 1024, 65536, 8192, 8192, 16, false, 61}),
    [](const ::testing::TestParamInfo<Params>& i) {
      const Params& x = i.param;
      return std::string("R2T") + (x.initial_r2t ? "Yes" : "No") + "_Imm" +
             (x.immediate_data ? "Yes" : "No") + "_mrdsl" + std::to_string(x.initiator_mrdsl) +
             "_" + std::to_string(x.target_mrdsl) + "_burst" + std::to_string(x.max_burst) + "_" +
             std::to_string(x.first_burst) + "_r2t" + std::to_string(x.max_outstanding_r2t) +
             (x.digests ? "_digests" : "") + "_chunk" + std::to_string(x.chunk);
    });

TEST(EnginePairTest, ManyCommandsInFlight) {
  EnginePair p;
  p.target_config.cmd_window = 256;
  p.execute_inline = false;
  ASSERT_TRUE(p.login(p.session_config()));
  std::vector<std::vector<std::byte>> bufs(128, std::vector<std::byte>(512));
  for (std::size_t i = 0; i < bufs.size(); ++i) {
    ScsiRequest r;
    r.cdb = rw10(false, static_cast<std::uint32_t>(i), 1);
    r.data_in = bufs[i];
    p.initiator->submit(r, p.now);
  }
  p.pump();
  EXPECT_EQ(p.held.size(), 128u) << "all 128 reached the target before any completed";
  for (auto& e : p.held)
    p.target->complete(e.task, p.disk.execute(e), p.now);
  p.held.clear();
  p.pump();
  EXPECT_EQ(p.take<TaskDone>().size(), 128u);
}

TEST(EnginePairTest, DiscoverySendTargets) {
  EnginePair p;
  SessionConfig c = p.session_config();
  c.session_type = SessionType::discovery;
  c.target_name.clear();
  ASSERT_TRUE(p.login(c));
  p.initiator->submit_text({{"SendTargets", "All"}}, p.now);
  p.pump();
  auto done = p.take<TextDone>();
  ASSERT_EQ(done.size(), 1u);
  ASSERT_FALSE(done[0].error);
  EXPECT_EQ(*find_value(done[0].keys, "TargetName"), "iqn.2026-11.dev.uiscsi:sim");
}

TEST(EnginePairTest, LongSendTargetsAnswerSpansPdus) {
  EnginePair p;
  p.target_config.negotiation.max_recv_data_segment_length = 512;
  SessionConfig c = p.session_config();
  c.session_type = SessionType::discovery;
  c.target_name.clear();
  c.negotiation.max_recv_data_segment_length = 512;
  p.directory.target = std::string(200, 'x');
  ASSERT_TRUE(p.login(c));
  p.initiator->submit_text({{"SendTargets", "All"}}, p.now);
  p.pump();
  auto done = p.take<TextDone>();
  ASSERT_EQ(done.size(), 1u);
  ASSERT_FALSE(done[0].error) << done[0].error.message();
  EXPECT_EQ(*find_value(done[0].keys, "TargetName"), std::string(200, 'x'));
}

TEST(EnginePairTest, LogoutEndsBothSides) {
  EnginePair p;
  ASSERT_TRUE(p.login(p.session_config()));
  p.initiator->logout(p.now, p.now + std::chrono::seconds(5));
  p.pump();
  auto lo = p.take<LogoutDone>();
  ASSERT_EQ(lo.size(), 1u);
  EXPECT_FALSE(lo[0].error);
  EXPECT_TRUE(p.initiator->closed());
  EXPECT_TRUE(p.target->finished());
}

TEST(EnginePairTest, AbortTaskWhileTheLuHoldsIt) {
  EnginePair p;
  p.execute_inline = false;
  ASSERT_TRUE(p.login(p.session_config()));
  std::vector<std::byte> buf(512);
  ScsiRequest r;
  r.cdb = rw10(false, 0, 1);
  r.data_in = buf;
  const TaskId id = p.initiator->submit(r, p.now);
  p.pump();
  ASSERT_EQ(p.held.size(), 1u);
  p.initiator->submit_tmf(TmfFunction::abort_task, Lun(), id, p.now);
  p.pump();
  auto tmf = p.take<TmfDone>();
  ASSERT_EQ(tmf.size(), 1u);
  EXPECT_EQ(tmf[0].response, TmfResponse::function_complete);
  auto done = p.take<TaskDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].error, errc::task_aborted);
  // The LU finishes later; its answer is dropped.
  p.target->complete(p.held[0].task, p.disk.execute(p.held[0]), p.now);
  p.pump();
  EXPECT_TRUE(p.take<TaskDone>().empty());
  EXPECT_EQ(p.target->tasks(), 0u);
}

TEST(EnginePairTest, CheckConditionCarriesSense) {
  EnginePair p;
  ASSERT_TRUE(p.login(p.session_config()));
  std::vector<std::byte> buf(512);
  ScsiRequest r;
  r.cdb = rw10(false, 1u << 30, 1);
  r.data_in = buf;
  p.initiator->submit(r, p.now);
  p.pump();
  auto done = p.take<TaskDone>();
  ASSERT_EQ(done.size(), 1u);
  ASSERT_FALSE(done[0].error);
  EXPECT_EQ(done[0].result.status, 0x02);
  ASSERT_GE(done[0].result.sense.size(), 14u);
  EXPECT_EQ(done[0].result.sense[12], std::byte{0x21});
}

TEST(EnginePairTest, TargetPingsAnIdleInitiator) {
  EnginePair p;
  p.target_config.nop_in_interval = std::chrono::seconds(3);
  ASSERT_TRUE(p.login(p.session_config()));
  p.now += std::chrono::seconds(3);
  p.target->on_timer(p.now);
  p.pump();  // NOP-In out, NOP-Out back
  p.now += std::chrono::seconds(20);
  p.target->on_timer(p.now);
  p.pump();
  EXPECT_TRUE(p.target->logged_in()) << "the answer cleared the ping";
}

TEST(EnginePairTest, InitiatorKeepaliveAgainstTheTarget) {
  EnginePair p;
  SessionConfig c = p.session_config();
  c.keepalive_interval = std::chrono::seconds(2);
  ASSERT_TRUE(p.login(c));
  for (int i = 0; i < 5; ++i) {
    p.now += std::chrono::seconds(2);
    p.initiator->on_timer(p.now);
    p.pump();
  }
  EXPECT_TRUE(p.initiator->logged_in());
}

}  // namespace
}  // namespace uiscsi::core
