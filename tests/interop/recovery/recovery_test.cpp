// Error recovery level 0 against uiscsi-target with injected connection drops: the session
// reinstates itself, repeats what is safe to repeat, reports what is not, and loses no data.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "support/pattern.hpp"
#include "target/server.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/session.hpp"

namespace uiscsi {
namespace {

using namespace std::chrono_literals;

constexpr const char* kDisk = "iqn.2026-11.dev.uiscsi:flaky";

using uiscsi::testing::pattern;

// A target that closes a connection when it receives its `drop_after_pdus`th PDU (login PDUs
// included), on every connection or only the first `faulty_connections`, with DefaultTime2Wait
// 0 so reconnections are immediate.
std::unique_ptr<target::TargetServer> flaky_target(std::uint64_t drop_after_pdus,
                                                   std::chrono::milliseconds delay = 0ms,
                                                   std::uint64_t faulty_connections = 0) {
  target::ServerConfig c;
  c.portals = {{"127.0.0.1", 0}};
  target::TargetEntry t;
  t.name = kDisk;
  target::LunConfig l;
  l.size_bytes = 32ull << 20;
  t.luns.push_back(l);
  c.targets.push_back(t);
  c.engine.negotiation.default_time2wait = 0;
  c.engine.faults.drop_after_pdus = drop_after_pdus;
  c.engine.faults.faulty_connections = faulty_connections;
  c.response_delay = delay;
  auto s = target::TargetServer::start(c);
  EXPECT_TRUE(s) << s.error().message();
  return s ? std::move(*s) : nullptr;
}

std::string url_of(const target::TargetServer& s) {
  return "iscsi://" + s.endpoints()[0].to_string() + "/" + kDisk + "/0";
}

SessionOptions recovering_options() {
  SessionOptions o;
  o.login_timeout = 5s;
  o.default_time2wait = 0;
  o.recovery_backoff = 20ms;
  o.max_recovery_attempts = 4;
  return o;
}

// Completion outcome of one command, as text for failure messages.
std::string describe(const Result<Completion>& r) {
  return r ? r->describe() : r.error().message();
}

bool is_reset_attention(const Completion& c) {
  auto sense = c.sense();
  return sense && sense->sense_key == scsi::SenseKey::unit_attention && sense->asc == 0x29;
}

TEST(Recovery, WritesAndReadsSurviveRepeatedDrops) {
  auto server = flaky_target(24);
  ASSERT_TRUE(server);
  auto s = Session::dial(url_of(*server), recovering_options());
  ASSERT_TRUE(s) << s.error().message();
  // The first nexus's power-on attention belongs to the caller, as usual.
  auto tur = s->run(Lun(), Command(scsi::test_unit_ready()));
  ASSERT_TRUE(tur);
  EXPECT_TRUE(tur->ok() || is_reset_attention(*tur)) << tur->describe();

  constexpr std::size_t kChunk = 64 * 1024, kChunks = 96;  // 6 MiB in flight 16 at a time
  const auto data = pattern(kChunk * kChunks, 3);
  auto in_batches = [&](auto make_command) {
    for (std::size_t first = 0; first < kChunks; first += 16) {
      std::vector<std::future<Result<Completion>>> batch;
      for (std::size_t i = first; i < first + 16; ++i)
        batch.push_back(s->submit(Lun(), make_command(i)));
      for (auto& f : batch) {
        auto r = f.get();
        ASSERT_TRUE(r && r->ok()) << describe(r);
      }
    }
  };
  const std::uint32_t blocks = kChunk / 512;
  in_batches([&](std::size_t i) {
    return Command(*scsi::write16(i * blocks, blocks, 512))
        .write_from(std::span(data).subspan(i * kChunk, kChunk));
  });
  std::vector<std::byte> back(data.size());
  in_batches([&](std::size_t i) {
    return Command(*scsi::read16(i * blocks, blocks, 512))
        .read_into(std::span(back).subspan(i * kChunk, kChunk));
  });
  EXPECT_TRUE(back == data);
  EXPECT_GE(s->recoveries(), 4u) << "the fault must have struck repeatedly";
  EXPECT_EQ(s->recovery_stats().reinstatements, s->recoveries());
  EXPECT_EQ(s->recovery_stats().status_snacks, 0u) << "ERL 0: no SNACKs";
  EXPECT_TRUE(s->logged_in());
}

TEST(Recovery, OnlyRepeatableCommandsAreRepeated) {
  // Every answer takes 50 ms, so the drop catches commands in flight; the reinstated session's
  // connection is sound.
  auto server = flaky_target(12, 50ms, 1);
  ASSERT_TRUE(server);
  auto s = Session::dial(url_of(*server), recovering_options());
  ASSERT_TRUE(s) << s.error().message();
  struct Sent {
    std::future<Result<Completion>> done;
    RetryPolicy policy;
  };
  std::vector<Sent> sent;
  for (int i = 0; i < 30; ++i) {
    // READ(6) is not repeated on its own: on a tape it would move the medium.
    const RetryPolicy policy = i % 3 == 0   ? RetryPolicy::automatic
                               : i % 3 == 1 ? RetryPolicy::always
                                            : RetryPolicy::never;
    sent.push_back(
        {s->submit(Lun(),
                   Command(*scsi::read6(static_cast<std::uint32_t>(i), 1, 512)).retry(policy)),
         policy});
  }
  int interrupted = 0;
  for (auto& x : sent) {
    auto r = x.done.get();
    if (!r) {
      EXPECT_EQ(r.error(), errc::command_interrupted) << r.error().message();
      EXPECT_NE(x.policy, RetryPolicy::always) << "repeated until it completes";
      ++interrupted;
      continue;
    }
    EXPECT_TRUE(r->ok() || is_reset_attention(*r)) << r->describe();
  }
  EXPECT_GE(interrupted, 1);
  EXPECT_GE(s->recoveries(), 1u);
  // The session carries on.
  auto after = s->run(Lun(), Command(*scsi::read16(0, 8, 512)));
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_TRUE(after->ok() || is_reset_attention(*after)) << after->describe();
}

TEST(Recovery, ACommandThatKillsEveryConnectionFailsAfterItsReplays) {
  // The login takes the first two PDUs of each connection; the first command the third.
  auto server = flaky_target(3);
  ASSERT_TRUE(server);
  SessionOptions o = recovering_options();
  o.max_command_replays = 2;
  auto s = Session::dial(url_of(*server), o);
  ASSERT_TRUE(s) << s.error().message();
  auto r = s->run(Lun(), Command(*scsi::read16(0, 1, 512)).retry(RetryPolicy::always).timeout(20s));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::command_interrupted) << r.error().message();
  // Sent once, then again in two reinstated sessions (a third is on its way, with nothing to
  // repeat).
  EXPECT_GE(s->recoveries(), 2u);
}

// Error recovery level 1 over TCP: the target loses every 7th PDU it sends and damages the
// data digest of its 5th; SNACKs and probes recover everything on the same connection.
TEST(Recovery, Erl1RecoversLostAndDamagedPdusWithoutReconnecting) {
  target::ServerConfig c;
  c.portals = {{"127.0.0.1", 0}};
  target::TargetEntry t;
  t.name = kDisk;
  target::LunConfig l;
  l.size_bytes = 32ull << 20;
  t.luns.push_back(l);
  c.targets.push_back(t);
  c.engine.negotiation.error_recovery_level = 1;
  c.engine.negotiation.header_digest = {"CRC32C", "None"};
  c.engine.negotiation.data_digest = {"CRC32C", "None"};
  c.engine.faults.lose_every = 7;
  c.engine.faults.corrupt_data_digest_pdu = 60;
  auto server = target::TargetServer::start(c);
  ASSERT_TRUE(server) << server.error().message();
  SessionOptions o = recovering_options();
  o.error_recovery_level = 1;
  o.header_digest = DigestPolicy::require;
  o.data_digest = DigestPolicy::require;
  o.recovery_probe_interval = 100ms;
  auto s = Session::dial(url_of(**server), o);
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_EQ(s->negotiated().error_recovery_level, 1u);
  (void)s->run(Lun(), Command(scsi::test_unit_ready()));  // takes the power-on attention

  constexpr std::size_t kChunk = 64 * 1024, kChunks = 32;
  const auto data = pattern(kChunk * kChunks, 9);
  const std::uint32_t blocks = kChunk / 512;
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<std::byte> back(data.size());
    std::vector<std::future<Result<Completion>>> batch;
    for (std::size_t i = 0; i < kChunks; ++i) {
      batch.push_back(
          pass == 0
              ? s->submit(Lun(), Command(*scsi::write16(i * blocks, blocks, 512))
                                     .write_from(std::span(data).subspan(i * kChunk, kChunk)))
              : s->submit(Lun(), Command(*scsi::read16(i * blocks, blocks, 512))
                                     .read_into(std::span(back).subspan(i * kChunk, kChunk))));
    }
    for (auto& f : batch) {
      auto r = f.get();
      ASSERT_TRUE(r) << r.error().message();
      EXPECT_TRUE(r->ok()) << r->describe();
    }
    if (pass == 1) {
      for (std::size_t i = 0; i < kChunks; ++i)
        EXPECT_TRUE(std::equal(back.begin() + static_cast<long>(i * kChunk),
                               back.begin() + static_cast<long>((i + 1) * kChunk),
                               data.begin() + static_cast<long>(i * kChunk)))
            << "chunk " << i;
    }
  }
  const RecoveryStats st = s->recovery_stats();
  EXPECT_EQ(st.reinstatements, 0u) << "no reconnection at ERL 1";
  EXPECT_GE(st.digest_errors, 1u);
  EXPECT_GE(st.data_r2t_snacks + st.status_snacks + st.command_retries + st.probes, 1u);
  EXPECT_TRUE(s->logged_in());
}

TEST(Recovery, GivesUpWhenTheTargetIsGone) {
  auto server = flaky_target(0);
  ASSERT_TRUE(server);
  SessionOptions o = recovering_options();
  o.max_recovery_attempts = 2;
  auto s = Session::dial(url_of(*server), o);
  ASSERT_TRUE(s) << s.error().message();
  server.reset();  // closes the connection; reconnections are refused
  const auto start = std::chrono::steady_clock::now();
  auto r = s->run(Lun(), Command(*scsi::read16(0, 1, 512)).timeout(30s));
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error() == errc::connection_closed || r.error() == errc::command_interrupted ||
              r.error() == errc::session_closed)
      << r.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_FALSE(s->logged_in());
}

TEST(Recovery, OffMeansTheSessionEndsWithTheConnection) {
  auto server = flaky_target(6);
  ASSERT_TRUE(server);
  SessionOptions o = recovering_options();
  o.recovery = false;
  auto s = Session::dial(url_of(*server), o);
  ASSERT_TRUE(s) << s.error().message();
  Result<Completion> last = Unexpected(errc::cancelled);
  for (int i = 0; i < 10; ++i) {
    last = s->run(Lun(), Command(*scsi::read16(0, 1, 512)));
    if (!last) break;
  }
  ASSERT_FALSE(last);
  EXPECT_EQ(s->recoveries(), 0u);
  EXPECT_FALSE(s->logged_in());
}

}  // namespace
}  // namespace uiscsi
