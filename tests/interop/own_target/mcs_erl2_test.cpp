// Error recovery level 2 and multiple connections per session (MC/S) against uiscsi-target's
// server, in one process, over loopback TCP: reads and writes spread over two connections, a
// connection cut mid-transfer by the target's fault injection and recovered by moving its tasks
// (TASK REASSIGN) with no session reinstatement, and the logout of one connection while the
// other carries on, and connections to a further portal of the target's portal group (through a
// relay that shows where each connection went, and breaks one). Every byte is verified.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "support/pattern.hpp"
#include "support/relay.hpp"
#include "target/server.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/session.hpp"

namespace uiscsi {
namespace {

using namespace std::chrono_literals;
using uiscsi::testing::pattern;

constexpr const char* kDisk = "iqn.2026-11.dev.uiscsi:mcs";

// A target at ERL 2 with up to 2 connections per session and the faults of `faults` on the
// first `faults.faulty_connections` connections it accepts.
std::unique_ptr<target::TargetServer> mcs_target(core::FaultPlan faults) {
  target::ServerConfig c;
  c.portals = {{"127.0.0.1", 0}};
  target::TargetEntry t;
  t.name = kDisk;
  target::LunConfig l;
  l.size_bytes = 32ull << 20;
  t.luns.push_back(l);
  c.targets.push_back(t);
  c.engine.negotiation.error_recovery_level = 2;
  c.engine.negotiation.max_connections = 2;
  c.engine.negotiation.default_time2wait = 0;
  c.engine.faults = faults;
  auto s = target::TargetServer::start(c);
  EXPECT_TRUE(s) << s.error().message();
  return s ? std::move(*s) : nullptr;
}

std::unique_ptr<target::TargetServer> mcs_target() {
  return mcs_target({});
}

// The first connection closes after receiving `bytes`.
std::unique_ptr<target::TargetServer> mcs_target_dropping_after(std::uint64_t bytes) {
  core::FaultPlan f;
  f.drop_after_bytes = bytes;
  f.faulty_connections = 1;
  return mcs_target(f);
}

std::string url_of(const target::TargetServer& s) {
  return "iscsi://" + s.endpoints()[0].to_string() + "/" + kDisk + "/0";
}

SessionOptions erl2_options(std::uint32_t connections) {
  SessionOptions o;
  o.login_timeout = 5s;
  o.error_recovery_level = 2;
  o.connections = connections;
  o.default_time2wait = 0;
  o.recovery_backoff = 20ms;
  o.max_recovery_attempts = 4;
  o.max_burst_length = 65536;  // several bursts (R2Ts) per write
  o.first_burst_length = 16384;
  return o;
}

// Writes `chunks` chunks of `chunk` bytes at LBA 0 with all in flight, then reads them back the
// same way and compares. Commands are RetryPolicy::never, so a repetition would fail them.
void write_read_verify(Session& s, std::size_t chunk, std::size_t chunks, unsigned seed) {
  const auto data = pattern(chunk * chunks, seed);
  const auto blocks = static_cast<std::uint32_t>(chunk / 512);
  std::vector<std::byte> back(data.size());
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<std::future<Result<Completion>>> batch;
    for (std::size_t i = 0; i < chunks; ++i) {
      Command c = pass == 0 ? Command(*scsi::write16(i * blocks, blocks, 512))
                                  .write_from(std::span(data).subspan(i * chunk, chunk))
                            : Command(*scsi::read16(i * blocks, blocks, 512))
                                  .read_into(std::span(back).subspan(i * chunk, chunk));
      c.retry(RetryPolicy::never).timeout(30s);
      batch.push_back(s.submit(Lun(), std::move(c)));
    }
    for (auto& f : batch) {
      auto r = f.get();
      ASSERT_TRUE(r) << "pass " << pass << ": " << r.error().message();
      EXPECT_TRUE(r->ok()) << r->describe();
    }
  }
  EXPECT_TRUE(back == data);
}

void clear_ua(Session& s) {
  for (int i = 0; i < 3; ++i) {
    auto c = s.run(Lun(), Command(scsi::test_unit_ready()));
    ASSERT_TRUE(c) << c.error().message();
    if (c->ok()) return;
  }
}

// Polls `done` every 20 ms until it holds or `limit` passed.
template <typename Done>
void wait_until(Done done, std::chrono::milliseconds limit = 15s) {
  const auto give_up = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < give_up && !done())
    std::this_thread::sleep_for(20ms);
}

TEST(OwnTargetMcs, ReadsAndWritesOverTwoConnections) {
  auto server = mcs_target();
  ASSERT_TRUE(server);
  auto s = Session::dial(url_of(*server), erl2_options(2));
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->negotiated().max_connections, 2u);
  EXPECT_EQ(s->negotiated().error_recovery_level, 2u);
  EXPECT_EQ(s->connections().size(), 2u);
  clear_ua(*s);
  write_read_verify(*s, 256 * 1024, 16, 1);
  EXPECT_EQ(s->recovery_stats().reinstatements, 0u);
  EXPECT_TRUE(s->logout());
}

TEST(OwnTargetErl2, ConnectionCutMidTransferIsRecoveredByReassignment) {
  // The first connection closes after 3 MiB received: in the middle of the writes.
  auto server = mcs_target_dropping_after(3u << 20);
  ASSERT_TRUE(server);
  auto s = Session::dial(url_of(*server), erl2_options(1));
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_EQ(s->negotiated().error_recovery_level, 2u);
  clear_ua(*s);
  write_read_verify(*s, 256 * 1024, 24, 2);
  const RecoveryStats st = s->recovery_stats();
  EXPECT_GE(st.connection_recoveries, 1u);
  EXPECT_GE(st.reassigned_tasks, 1u);
  EXPECT_EQ(st.reinstatements, 0u) << "ERL 2 keeps the session";
  EXPECT_TRUE(s->logged_in());
}

TEST(OwnTargetMcs, ConnectionCutWhileTheOtherCarriesOn) {
  // The leading connection closes after 3 MiB received; the second one takes over its tasks.
  auto server = mcs_target_dropping_after(3u << 20);
  ASSERT_TRUE(server);
  auto s = Session::dial(url_of(*server), erl2_options(2));
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_EQ(s->connections().size(), 2u);
  clear_ua(*s);
  write_read_verify(*s, 256 * 1024, 24, 3);
  const RecoveryStats st = s->recovery_stats();
  EXPECT_GE(st.connection_recoveries, 1u);
  EXPECT_EQ(st.reinstatements, 0u);
  EXPECT_TRUE(s->logged_in());
  // The failed connection is replaced (DefaultTime2Wait 0).
  wait_until([&] { return s->connections().size() >= 2; }, 2s);
  EXPECT_EQ(s->connections().size(), 2u);
  write_read_verify(*s, 64 * 1024, 8, 4);
}

TEST(OwnTargetMcs, LogoutOfOneConnectionWhileTheOtherCarriesOn) {
  auto server = mcs_target();
  ASSERT_TRUE(server);
  auto s = Session::dial(url_of(*server), erl2_options(2));
  ASSERT_TRUE(s) << s.error().message();
  const auto cids = s->connections();
  ASSERT_EQ(cids.size(), 2u);
  clear_ua(*s);
  auto closing = std::async(std::launch::async, [&] { return s->close_connection(cids[0]); });
  write_read_verify(*s, 128 * 1024, 8, 5);
  auto r = closing.get();
  EXPECT_TRUE(r) << r.error().message();
  EXPECT_EQ(s->connections(), std::vector<std::uint16_t>{cids[1]});
  write_read_verify(*s, 128 * 1024, 8, 6);
  EXPECT_FALSE(s->close_connection(cids[0]));  // no longer there
  EXPECT_TRUE(s->logout());
}

// Cuts the relayed connection (link 0) of a 2-connection session whose second connection goes
// through `relay`, and waits until `done` holds or 15 s passed.
template <typename Done>
void cut_and_wait(testing::Relay& relay, Done done) {
  relay.cut(0);
  wait_until(done);
}

// Dials a session of two connections whose second one goes to `relay`'s portal (the leading
// one goes to the target directly), and clears the session's unit attention.
Result<Session> dial_via(const target::TargetServer& server, const testing::Relay& relay) {
  SessionOptions o = erl2_options(2);
  o.portals = {"127.0.0.1:" + std::to_string(relay.port())};
  auto s = Session::dial(url_of(server), o);
  if (s) clear_ua(*s);
  return s;
}

// SessionOptions::portals: the second connection goes to the further portal (here a relay to the
// target, so the test sees it arrive); when that path breaks, its replacement dials the same
// portal again, not the session's own, and the session carries on without reinstatement.
TEST(OwnTargetMcs, FurtherConnectionsGoToTheGivenPortalAndAreReplacedThere) {
  auto server = mcs_target();
  ASSERT_TRUE(server);
  testing::Relay relay(server->endpoints()[0].port);
  ASSERT_NE(relay.port(), 0);
  auto s = dial_via(*server, relay);
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_EQ(s->connections().size(), 2u);
  EXPECT_EQ(relay.links().size(), 1u);  // the leading connection dialled the target directly
  write_read_verify(*s, 128 * 1024, 8, 7);
  cut_and_wait(relay, [&] { return relay.links().size() >= 2 && s->connections().size() == 2; });
  EXPECT_EQ(relay.links().size(), 2u) << "the replacement did not dial the relay's portal";
  EXPECT_EQ(s->connections().size(), 2u);
  write_read_verify(*s, 128 * 1024, 8, 8);
  EXPECT_EQ(s->recovery_stats().reinstatements, 0u);
  EXPECT_TRUE(s->logout());
}

// The first two replacement attempts find the path down (the connection is closed before the
// login): the session keeps trying, with backoff, and gets its second connection back.
TEST(OwnTargetMcs, FailedReplacementIsTriedAgain) {
  auto server = mcs_target();
  ASSERT_TRUE(server);
  testing::Relay relay(server->endpoints()[0].port);
  auto s = dial_via(*server, relay);
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_EQ(s->connections().size(), 2u);
  relay.refuse_next(2);
  cut_and_wait(relay, [&] { return relay.links().size() == 2 && s->connections().size() == 2; });
  EXPECT_EQ(relay.refused(), 2);
  EXPECT_EQ(relay.links().size(), 2u);
  EXPECT_EQ(s->connections().size(), 2u);
  write_read_verify(*s, 128 * 1024, 8, 10);
  EXPECT_TRUE(s->logout());
}

// With the path down for good, the session stops after max_recovery_attempts replacement
// attempts and goes on over the connection it has.
TEST(OwnTargetMcs, ReplacementGivesUpAfterMaxRecoveryAttempts) {
  auto server = mcs_target();
  ASSERT_TRUE(server);
  testing::Relay relay(server->endpoints()[0].port);
  ASSERT_EQ(erl2_options(2).max_recovery_attempts, 4);
  auto s = dial_via(*server, relay);
  ASSERT_TRUE(s) << s.error().message();
  relay.refuse_next(1000);
  // 4 attempts: backoffs of 0, 20, 60 and 140 ms after DefaultTime2Wait 0.
  cut_and_wait(relay, [&] { return relay.refused() >= 4; });
  std::this_thread::sleep_for(1s);  // long enough for a fifth attempt (300 ms) to show
  EXPECT_EQ(relay.refused(), 4);
  EXPECT_EQ(s->connections().size(), 1u);
  write_read_verify(*s, 128 * 1024, 4, 11);
  EXPECT_TRUE(s->logout());
}

// The target asks for the logout of the session's first connection (Async event 1, after its
// third command): with another connection up, the initiator logs out just that one
// (reason 1, RFC 7143 section 11.9.1), then dials a replacement after the Logout Response's
// Time2Wait; the session is never reinstated and no command fails.
TEST(OwnTargetMcs, ConnectionLoggedOutAtTheTargetsRequestIsReplaced) {
  core::FaultPlan f;
  f.async_logout_after_commands = 3;
  f.async_logout_within = 2;
  f.faulty_connections = 1;
  auto server = mcs_target(f);
  ASSERT_TRUE(server);
  auto s = Session::dial(url_of(*server), erl2_options(2));
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_EQ(s->connections().size(), 2u);
  clear_ua(*s);
  write_read_verify(*s, 128 * 1024, 16, 12);
  wait_until(
      [&] { return server->stats().connections_accepted >= 3 && s->connections().size() >= 2; });
  EXPECT_EQ(server->stats().connections_accepted, 3u);
  EXPECT_EQ(s->connections().size(), 2u);
  write_read_verify(*s, 128 * 1024, 8, 13);
  EXPECT_EQ(s->recovery_stats().reinstatements, 0u);
  EXPECT_TRUE(s->logout());
}

// The target drops the session's first connection (Async event 2, after its third command)
// with a Time2Wait (Parameter2) of 2 s while the negotiated DefaultTime2Wait is 0: the
// replacement connection comes no sooner than 2 s after the drop (RFC 7143 section 11.9.1),
// and the session carries on over the other connection meanwhile.
TEST(OwnTargetMcs, ConnectionDroppedByTheTargetIsReplacedAfterItsTime2Wait) {
  core::FaultPlan f;
  f.async_drop_after_commands = 3;
  f.async_time2wait = 2;
  f.faulty_connections = 1;
  auto server = mcs_target(f);
  ASSERT_TRUE(server);
  auto s = Session::dial(url_of(*server), erl2_options(2));
  ASSERT_TRUE(s) << s.error().message();
  const auto before_drop = std::chrono::steady_clock::now();
  ASSERT_EQ(s->connections().size(), 2u);
  clear_ua(*s);
  write_read_verify(*s, 128 * 1024, 16, 14);
  wait_until([&] { return server->stats().connections_accepted >= 3; });
  EXPECT_GE(std::chrono::steady_clock::now() - before_drop, 2s);
  EXPECT_EQ(server->stats().connections_accepted, 3u);
  wait_until([&] { return s->connections().size() >= 2; });
  EXPECT_EQ(s->connections().size(), 2u);
  write_read_verify(*s, 128 * 1024, 8, 15);
  EXPECT_EQ(s->recovery_stats().reinstatements, 0u);
  EXPECT_TRUE(s->logout());
}

TEST(OwnTargetMcs, PortalThatDoesNotParseFailsTheDial) {
  auto server = mcs_target();
  ASSERT_TRUE(server);
  SessionOptions o = erl2_options(2);
  o.portals = {"[::1"};
  auto s = Session::dial(url_of(*server), o);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), errc::invalid_argument);
}

TEST(OwnTargetMcs, UnreachablePortalLeavesTheSessionWithOneConnection) {
  auto server = mcs_target();
  ASSERT_TRUE(server);
  SessionOptions o = erl2_options(2);
  o.connect_timeout = 2s;
  o.portals = {"127.0.0.1:1"};  // nothing listens on port 1
  auto s = Session::dial(url_of(*server), o);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->connections().size(), 1u);
  clear_ua(*s);
  write_read_verify(*s, 128 * 1024, 4, 9);
  EXPECT_TRUE(s->logout());
}

}  // namespace
}  // namespace uiscsi
