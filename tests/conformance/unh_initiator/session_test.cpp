// UNH-IOL initiator full feature phase line 17.1 (RFC 7143 sections 11.9.1, 11.14, 11.15): the
// target asks for a logout with an Async Message (AsyncEvent 1). Unlike the engine-level lines,
// this one needs the I/O layer: the public uiscsi::Session logs in over loopback to uiscsi-target
// (its async-logout fault) through a small relay that records how each TCP connection ends, so
// the test sees the initiator's FIN and its reconnection to the address it first dialled.
#include "uiscsi/session.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>
#include <vector>

#include "support/relay.hpp"
#include "target/server.hpp"
#include "uiscsi/scsi/cdb.hpp"

namespace uiscsi {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using uiscsi::testing::Relay;

constexpr const char* kDisk = "iqn.2026-11.dev.uiscsi:unh-17-1";

// One PDU the initiator sent or received: its opcode and when.
struct Seen {
  bool outbound;
  std::uint8_t opcode;
  Clock::time_point at;
};

// uiscsi-target with a 1 MiB LUN that asks for a logout (AsyncEvent 1, Parameter3 = 2 s) after
// the third command on its first connection, and answers the Logout with Time2Wait 1 s.
std::unique_ptr<target::TargetServer> async_logout_target() {
  target::ServerConfig c;
  c.portals = {{"127.0.0.1", 0}};
  target::TargetEntry t;
  t.name = kDisk;
  target::LunConfig l;
  l.size_bytes = 1u << 20;
  t.luns.push_back(l);
  c.targets.push_back(t);
  c.engine.negotiation.default_time2wait = 1;  // the Logout Response's Time2Wait
  c.engine.faults.async_logout_after_commands = 3;
  c.engine.faults.async_logout_within = 2;
  c.engine.faults.faulty_connections = 1;  // the second session is left alone
  auto s = target::TargetServer::start(c);
  EXPECT_TRUE(s) << s.error().message();
  return s ? std::move(*s) : nullptr;
}

std::string url_of(const Relay& relay) {
  return "iscsi://127.0.0.1:" + std::to_string(relay.port()) + "/" + kDisk + "/0";
}

// 17.1: after the target's logout request (AsyncEvent 1, Parameter3 = 2 s) the initiator sends a
// Logout within Parameter3, sends no command after it, closes the connection with a FIN once the
// Logout Response is in, and after the response's Time2Wait (1 s) logs in again at the address it
// first dialled; the commands of the caller meanwhile complete in the new session.
TEST(UnhInitiatorFfp, Initiator_FFP_17_1_LogoutAfterAsyncRequest) {
  auto server = async_logout_target();
  ASSERT_TRUE(server);
  Relay relay(server->endpoints()[0].port);
  ASSERT_NE(relay.port(), 0);

  std::mutex seen_mutex;
  std::vector<Seen> seen;
  SessionOptions o;
  o.login_timeout = 5s;
  o.default_time2wait = 0;
  o.recovery_backoff = 20ms;
  o.max_recovery_attempts = 4;
  o.hooks.on_pdu = [&](PduDirection d, std::span<const std::byte> pdu) {
    if (pdu.empty()) return;
    std::lock_guard lock(seen_mutex);
    seen.push_back({d == PduDirection::outbound,
                    static_cast<std::uint8_t>(pdu[0] & std::byte{0x3f}), Clock::now()});
  };
  auto s =
      Session::dial("iscsi://127.0.0.1:" + std::to_string(relay.port()) + "/" + kDisk + "/0", o);
  ASSERT_TRUE(s) << s.error().message();

  // Commands one after another across the logout: each completes, before it or in the session
  // logged in again (a power-on/reset unit attention is an answer too).
  const auto give_up = Clock::now() + 15s;
  int completed = 0;
  while (Clock::now() < give_up && (completed < 8 || s->recoveries() == 0)) {
    auto r = s->run(Lun(), Command(scsi::test_unit_ready()).timeout(10s));
    ASSERT_TRUE(r) << "TEST UNIT READY " << completed << ": " << r.error().message();
    ++completed;
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(s->recoveries(), 1u) << "the session was not logged in again";
  EXPECT_TRUE(s->logged_in());

  constexpr std::uint8_t kScsiCommand = 0x01, kLoginRequest = 0x03, kLogoutRequest = 0x06;
  constexpr std::uint8_t kLogoutResponse = 0x26, kAsyncMessage = 0x32;
  std::vector<Seen> log;
  {
    std::lock_guard lock(seen_mutex);
    log = seen;
  }
  auto find = [&](bool outbound, std::uint8_t op, std::size_t from) {
    for (std::size_t i = from; i < log.size(); ++i)
      if (log[i].outbound == outbound && log[i].opcode == op) return i;
    return log.size();
  };
  const std::size_t async = find(false, kAsyncMessage, 0);
  ASSERT_LT(async, log.size()) << "no Async Message from the target";
  const std::size_t logout = find(true, kLogoutRequest, async);
  ASSERT_LT(logout, log.size()) << "no Logout after the target's request";
  EXPECT_LE(log[logout].at - log[async].at, 2s) << "the Logout came after Parameter3";
  const std::size_t response = find(false, kLogoutResponse, logout);
  ASSERT_LT(response, log.size()) << "no Logout Response";
  const std::size_t login = find(true, kLoginRequest, response);
  ASSERT_LT(login, log.size()) << "no new login after the logout";
  for (std::size_t i = logout + 1; i < login; ++i)
    EXPECT_FALSE(log[i].outbound && log[i].opcode == kScsiCommand)
        << "a SCSI Command after the Logout (PDU " << i << ")";
  EXPECT_GE(log[login].at - log[response].at, 900ms) << "the new login did not wait Time2Wait";
  EXPECT_LT(find(true, kScsiCommand, login), log.size()) << "no command in the new session";

  // Two TCP connections, both to the address first dialled (the relay's only one); the first
  // ended with the initiator's FIN, not a reset.
  const auto deadline = Clock::now() + 5s;
  std::vector<Relay::Link> links = relay.links();
  while ((links.empty() || !(links[0].client_fin || links[0].client_reset)) &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    links = relay.links();
  }
  ASSERT_EQ(links.size(), 2u) << "connections to the original address";
  EXPECT_TRUE(links[0].client_fin) << "the initiator did not close the first connection";
  EXPECT_FALSE(links[0].client_reset) << "the first connection ended with a reset";
  EXPECT_GE(links[1].client, 0) << "the new connection is not open";
  EXPECT_EQ(server->stats().connections_accepted, 2u);
}

// Beyond line 17.1: with recovery off, the session the target asked to leave ends logged out
// (a FIN, no new login), and later commands fail at once. (A suite of its own: the table check
// wants every UnhInitiatorFfp test in a row.)
TEST(TargetRequestedLogout, WithoutRecoveryTheSessionEnds) {
  auto server = async_logout_target();
  ASSERT_TRUE(server);
  Relay relay(server->endpoints()[0].port);
  ASSERT_NE(relay.port(), 0);
  SessionOptions o;
  o.login_timeout = 5s;
  o.recovery = false;
  std::atomic<bool> logged_out{false};
  o.hooks.on_state = [&](SessionState st, std::error_code) {
    if (st == SessionState::logged_out) logged_out = true;
  };
  auto s = Session::dial(url_of(relay), o);
  ASSERT_TRUE(s) << s.error().message();
  for (int i = 0; i < 3; ++i)
    ASSERT_TRUE(s->run(Lun(), Command(scsi::test_unit_ready()).timeout(10s)));
  const auto deadline = Clock::now() + 5s;
  while (!logged_out && Clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(logged_out) << "the session did not end after the target's logout request";
  EXPECT_FALSE(s->logged_in());
  EXPECT_FALSE(s->run(Lun(), Command(scsi::test_unit_ready()).timeout(2s)))
      << "a command ran after the session ended";
  std::this_thread::sleep_for(1500ms);  // past Time2Wait: still no new connection
  const auto links = relay.links();
  ASSERT_EQ(links.size(), 1u) << "a new login without recovery";
  EXPECT_TRUE(links[0].client_fin);
  EXPECT_EQ(s->recoveries(), 0u);
}

}  // namespace
}  // namespace uiscsi
