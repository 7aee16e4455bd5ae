// Multiple connections per session and ErrorRecoveryLevel 2 on uiscsi-target's server, over
// loopback TCP (RFC 7143 sections 6.3, 7.2, 11.5.1 function 8, 11.14): a scripted initiator
// (tests/support/raw_initiator.hpp) logs in two connections of one session, carries commands on
// both with one session-wide CmdSN, kills one connection in the middle of a read, removes it
// with a reason 2 logout on the other, reassigns the read there, and checks the data.
#include <gtest/gtest.h>

#include <optional>
#include <thread>

#include "core/bytes.hpp"
#include "support/pattern.hpp"
#include "support/raw_initiator.hpp"
#include "target/server.hpp"

namespace uiscsi {
namespace {

using core::Header;
using testing::RawInitiator;
using testing::RawPdu;
using namespace std::chrono_literals;

constexpr const char* kTarget = "iqn.2026-11.dev.uiscsi:mcs";

struct Fixture {
  std::unique_ptr<target::TargetServer> server;
  net::Endpoint endpoint;
  core::SerialNumber cmd_sn{1};  // session-wide

  // `retain`: the target's DefaultTime2Retain offer (the lower offer wins; Time2Wait is 0).
  explicit Fixture(std::uint32_t retain = 20, std::chrono::milliseconds delay = 0ms) {
    target::ServerConfig c;
    c.response_delay = delay;  // every LU answer comes this much later
    c.portals = {{"127.0.0.1", 0}};
    target::TargetEntry disk;
    disk.name = kTarget;
    target::LunConfig lun;
    lun.size_bytes = 8u << 20;
    disk.luns.push_back(lun);
    c.targets.push_back(disk);
    c.engine.negotiation.error_recovery_level = 2;
    c.engine.negotiation.max_connections = 2;
    c.engine.negotiation.default_time2wait = 0;
    c.engine.negotiation.default_time2retain = retain;
    c.engine.login_timeout = 5s;
    auto s = target::TargetServer::start(c);
    if (s) {
      server = std::move(*s);
      endpoint = server->endpoints().at(0);
    }
  }

  // The leading connection: a new session at ERL 2 with MaxConnections 2.
  bool lead(RawInitiator& x) {
    auto r = x.login(kTarget, {{"ErrorRecoveryLevel", "2"},
                               {"MaxConnections", "2"},
                               {"MaxRecvDataSegmentLength", "4096"},
                               {"InitialR2T", "Yes"},
                               {"ImmediateData", "No"},
                               {"MaxBurstLength", "65536"},
                               {"DefaultTime2Wait", "0"},
                               {"DefaultTime2Retain", "10"}});
    if (!r.ok) return false;
    cmd_sn = x.cmd_sn;
    // The new nexus starts with a unit attention (power on, SPC-4 6.1.1): TEST UNIT READY takes
    // it, for every connection of the session.
    x.cmd_sn = cmd_sn;
    const auto tur = x.command({0, 0, 0, 0, 0, 0}, 0, false, false);
    cmd_sn = x.cmd_sn;
    if (!x.send(Header{tur})) return false;
    auto p = x.receive();
    if (p) x.note_stat_sn(*p);
    return p && p->as<core::ScsiResponse>() != nullptr;
  }

  // A further connection of session `tsih`: connection keys only (LO keys are not sent).
  bool join(RawInitiator& x, std::uint16_t tsih, std::uint16_t cid, std::uint32_t mrdsl) {
    x.tsih = tsih;
    for (int step = 0; step < 4; ++step) {
      core::LoginRequest r;
      r.transit = true;
      r.csg = core::LoginStage::operational_negotiation;
      r.nsg = core::LoginStage::full_feature_phase;
      r.isid = x.isid;
      r.tsih = tsih;
      r.cid = cid;
      r.itt = core::Itt(0x2000);
      r.cmd_sn = cmd_sn;
      r.exp_stat_sn = x.exp_stat_sn;
      const core::KeyValueList keys = {{"InitiatorName", x.initiator_name},
                                       {"TargetName", kTarget},
                                       {"MaxRecvDataSegmentLength", std::to_string(mrdsl)}};
      if (!x.send(Header{r}, testing::text_of(step == 0 ? keys : core::KeyValueList{})))
        return false;
      auto p = x.receive();
      if (!p) return false;
      x.note_stat_sn(*p);
      const auto* lr = p->as<core::LoginResponse>();
      if (lr == nullptr || lr->status_class != 0) return false;
      if (lr->transit && lr->nsg == core::LoginStage::full_feature_phase) return lr->tsih == tsih;
    }
    return false;
  }

  core::ScsiCommand rw10(RawInitiator& x, bool write, std::uint32_t lba, std::uint16_t blocks) {
    x.cmd_sn = cmd_sn;
    auto c = x.command({static_cast<std::uint8_t>(write ? 0x2a : 0x28), 0, 0, 0, 0, 0, 0, 0, 0, 0},
                       blocks * 512u, !write, write);
    cmd_sn = x.cmd_sn;
    core::store_be32(c.cdb.data() + 2, lba);
    core::store_be16(c.cdb.data() + 7, blocks);
    return c;
  }

  // WRITE(10) of `data` at `lba`, answering every R2T; true on GOOD status.
  bool write(RawInitiator& x, std::uint32_t lba, const std::vector<std::byte>& data) {
    const auto c = rw10(x, true, lba, static_cast<std::uint16_t>(data.size() / 512));
    if (!x.send(Header{c})) return false;
    for (int i = 0; i < 10000; ++i) {
      auto p = x.receive();
      if (!p) return false;
      x.note_stat_sn(*p);
      if (const auto* r = p->as<core::ScsiResponse>()) return r->itt == c.itt && r->status == 0;
      if (p->as<core::Reject>()) return false;
      const auto* r2t = p->as<core::R2t>();
      if (r2t == nullptr || r2t->itt != c.itt) continue;
      std::uint32_t sn = 0;
      for (std::uint32_t off = 0; off < r2t->desired_data_transfer_length; off += 4096, ++sn) {
        const std::uint32_t len = std::min(4096u, r2t->desired_data_transfer_length - off);
        core::DataOut d;
        d.itt = c.itt;
        d.ttt = r2t->ttt;
        d.data_sn = sn;
        d.buffer_offset = r2t->buffer_offset + off;
        d.final = off + len == r2t->desired_data_transfer_length;
        d.exp_stat_sn = x.exp_stat_sn;
        if (!x.send(Header{d}, std::span(data).subspan(d.buffer_offset, len))) return false;
      }
    }
    return false;
  }

  // An immediate Logout (RFC 7143 11.14) of connection `cid`, sent on `x`: the response code,
  // or nothing when no Logout Response came.
  std::optional<core::LogoutResponseCode> logout(RawInitiator& x, core::LogoutReason reason,
                                                 std::uint16_t cid) {
    core::LogoutRequest lo;
    lo.immediate = true;
    lo.reason = reason;
    lo.cid = cid;
    lo.itt = x.next_itt();
    lo.cmd_sn = cmd_sn;
    lo.exp_stat_sn = x.exp_stat_sn;
    if (!x.send(Header{lo})) return std::nullopt;
    auto answer = x.receive();
    if (!answer) return std::nullopt;
    x.note_stat_sn(*answer);
    const auto* lr = answer->as<core::LogoutResponse>();
    if (lr == nullptr) return std::nullopt;
    return lr->response;
  }

  // TASK REASSIGN (11.5.1, function 8) of task `itt` on `x`, asking for Data-In from
  // `exp_data_sn`: the TMF response, or nothing when none came.
  std::optional<core::TmfResponse> reassign(RawInitiator& x, core::Itt itt,
                                            std::uint32_t exp_data_sn) {
    core::TaskMgmtRequest tmf;
    tmf.immediate = true;
    tmf.function = core::TmfFunction::task_reassign;
    tmf.itt = x.next_itt();
    tmf.referenced_task_tag = itt;
    tmf.cmd_sn = cmd_sn;
    tmf.exp_stat_sn = x.exp_stat_sn;
    tmf.exp_data_sn = core::SerialNumber(exp_data_sn);
    if (!x.send(Header{tmf})) return std::nullopt;
    auto answer = x.receive();
    if (!answer) return std::nullopt;
    x.note_stat_sn(*answer);
    const auto* tr = answer->as<core::TaskMgmtResponse>();
    if (tr == nullptr) return std::nullopt;
    return tr->response;
  }

  // The Data-In of `itt` (in DataSN order, from offset `have.size()`) until its status.
  static bool collect(RawInitiator& x, core::Itt itt, std::vector<std::byte>& have,
                      std::uint32_t next_sn) {
    for (int i = 0; i < 100000; ++i) {
      auto p = x.receive();
      if (!p) return false;
      x.note_stat_sn(*p);
      if (const auto* d = p->as<core::DataIn>(); d && d->itt == itt) {
        if (d->data_sn != next_sn++ || d->buffer_offset != have.size()) return false;
        have.insert(have.end(), p->data.begin(), p->data.end());
        if (d->status_present) return d->status == 0;
      } else if (const auto* r = p->as<core::ScsiResponse>(); r && r->itt == itt) {
        return r->status == 0;
      }
    }
    return false;
  }
};

TEST(TargetMcsServer, TwoConnectionsOneKilledItsReadReassignedOnTheOther) {
  Fixture f;
  ASSERT_NE(f.server, nullptr);
  RawInitiator a(f.endpoint), b(f.endpoint);
  ASSERT_TRUE(a.connected());
  ASSERT_TRUE(b.connected());
  ASSERT_TRUE(f.lead(a));
  ASSERT_TRUE(f.join(b, a.tsih, 2, 16384));
  const std::string report = f.server->session_report();
  EXPECT_NE(report.find("connections=2"), std::string::npos) << report;

  // Commands on both connections, one CmdSN sequence.
  const auto first = testing::pattern(256 * 1024, 21);
  const auto second = testing::pattern(64 * 1024, 22);
  ASSERT_TRUE(f.write(a, 0, first));
  ASSERT_TRUE(f.write(b, 1024, second));
  {
    std::vector<std::byte> got;
    const auto r = f.rw10(a, false, 1024, 128);
    ASSERT_TRUE(a.send(Header{r}));
    ASSERT_TRUE(Fixture::collect(a, r.itt, got, 0));
    EXPECT_EQ(got, second);  // written on B, read on A
  }

  // A read on A: the first Data-In PDUs arrive, then A's TCP connection is killed.
  const auto read = f.rw10(a, false, 0, 512);
  ASSERT_TRUE(a.send(Header{read}));
  std::vector<std::byte> got;
  std::uint32_t next_sn = 0;
  while (next_sn < 3) {
    auto p = a.receive();
    ASSERT_TRUE(p.has_value());
    if (const auto* d = p->as<core::DataIn>(); d && d->itt == read.itt) {
      ASSERT_EQ(d->data_sn, next_sn);
      ASSERT_EQ(d->buffer_offset, got.size());
      got.insert(got.end(), p->data.begin(), p->data.end());
      ++next_sn;
    }
  }
  a.close();

  // On B: remove A for recovery (logout reason 2 with A's CID, 0), then reassign the read.
  // RawInitiator::login sends CID 0.
  EXPECT_EQ(f.logout(b, core::LogoutReason::remove_connection_for_recovery, 0),
            core::LogoutResponseCode::closed_successfully);
  EXPECT_EQ(f.reassign(b, read.itt, next_sn), core::TmfResponse::function_complete);
  ASSERT_TRUE(Fixture::collect(b, read.itt, got, next_sn));
  EXPECT_EQ(got, first);

  // B carries on alone, then ends the session.
  {
    std::vector<std::byte> again;
    const auto r = f.rw10(b, false, 0, 16);
    ASSERT_TRUE(b.send(Header{r}));
    ASSERT_TRUE(Fixture::collect(b, r.itt, again, 0));
    EXPECT_TRUE(std::equal(again.begin(), again.end(), first.begin()));
  }
  EXPECT_EQ(f.logout(b, core::LogoutReason::close_session, 2),
            core::LogoutResponseCode::closed_successfully);
  EXPECT_TRUE(b.closed_by_peer());
  for (int i = 0; i < 100 && f.server->stats().connections_open != 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(f.server->stats().connections_open, 0u);
  EXPECT_EQ(f.server->stats().sessions_open, 0u);
}

TEST(TargetMcsServer, ThirdConnectionIsRefusedAndReasonOneLogoutLeavesTheOther) {
  Fixture f;
  ASSERT_NE(f.server, nullptr);
  RawInitiator a(f.endpoint), b(f.endpoint), c(f.endpoint);
  ASSERT_TRUE(f.lead(a));
  ASSERT_TRUE(f.join(b, a.tsih, 2, 8192));
  EXPECT_FALSE(f.join(c, a.tsih, 3, 8192));  // MaxConnections=2
  EXPECT_TRUE(c.closed_by_peer());
  // A logs out B's connection (reason 1); A keeps working.
  EXPECT_EQ(f.logout(a, core::LogoutReason::close_connection, 2),
            core::LogoutResponseCode::closed_successfully);
  EXPECT_TRUE(b.closed_by_peer());
  const auto data = testing::pattern(8192, 5);
  ASSERT_TRUE(f.write(a, 8, data));
  EXPECT_TRUE(a.ping());
}

// ERL 2 with one connection: the connection dies in the middle of a read, the initiator logs in
// again with the same ISID, TSIH and CID (connection reinstatement, section 6.3.4) and
// reassigns the read on the new connection.
TEST(TargetMcsServer, SingleConnectionReinstatedAndItsReadReassigned) {
  Fixture f;
  ASSERT_NE(f.server, nullptr);
  RawInitiator a(f.endpoint);
  ASSERT_TRUE(f.lead(a));
  const auto data = testing::pattern(128 * 1024, 31);
  ASSERT_TRUE(f.write(a, 2048, data));
  const auto read = f.rw10(a, false, 2048, 256);
  ASSERT_TRUE(a.send(Header{read}));
  std::vector<std::byte> got;
  std::uint32_t next_sn = 0;
  while (next_sn < 2) {
    auto p = a.receive();
    ASSERT_TRUE(p.has_value());
    if (const auto* d = p->as<core::DataIn>(); d && d->itt == read.itt) {
      got.insert(got.end(), p->data.begin(), p->data.end());
      ++next_sn;
    }
  }
  a.close();
  RawInitiator again(f.endpoint);
  again.exp_stat_sn = a.exp_stat_sn;
  ASSERT_TRUE(f.join(again, a.tsih, 0, 4096));  // CID 0 again
  EXPECT_EQ(f.reassign(again, read.itt, next_sn), core::TmfResponse::function_complete);
  ASSERT_TRUE(Fixture::collect(again, read.itt, got, next_sn));
  EXPECT_EQ(got, data);
  const std::string report = f.server->session_report();
  EXPECT_NE(report.find("connections=1 "), std::string::npos) << report;
  EXPECT_NE(report.find("waiting_tasks=0"), std::string::npos) << report;
}

// The LU is still working on a read (its answer held back 300 ms) when the read's connection
// dies: the task moves to the session, is reassigned on the other connection, and the LU's
// answer, delivered to the dead connection's engine, goes out on the new one.
TEST(TargetMcsServer, ReadStillRunningOnTheLuIsAnsweredOnTheNewConnection) {
  Fixture f(20, 300ms);
  ASSERT_NE(f.server, nullptr);
  RawInitiator a(f.endpoint), b(f.endpoint);
  ASSERT_TRUE(f.lead(a));
  ASSERT_TRUE(f.join(b, a.tsih, 2, 8192));
  const auto data = testing::pattern(32 * 1024, 41);
  ASSERT_TRUE(f.write(a, 4096, data));
  const auto read = f.rw10(a, false, 4096, 64);
  ASSERT_TRUE(a.send(Header{read}));
  ASSERT_TRUE(a.ping());  // the read has arrived, and has no answer yet
  a.close();
  EXPECT_EQ(f.logout(b, core::LogoutReason::remove_connection_for_recovery, 0),
            core::LogoutResponseCode::closed_successfully);
  EXPECT_EQ(f.reassign(b, read.itt, 0), core::TmfResponse::function_complete);
  std::vector<std::byte> got;
  ASSERT_TRUE(Fixture::collect(b, read.itt, got, 0));
  EXPECT_EQ(got, data);
}

// Time2Retain (section 7.3): the only connection of a session fails with a write waiting for its
// data; nobody reassigns it, so after DefaultTime2Wait + DefaultTime2Retain (0 + 1 s) the task
// is aborted and the session, kept until then for a reassignment, ends.
TEST(TargetMcsServer, UnclaimedTaskExpiresAndTheSessionEnds) {
  Fixture f(1);
  ASSERT_NE(f.server, nullptr);
  RawInitiator a(f.endpoint);
  ASSERT_TRUE(f.lead(a));
  const auto write = f.rw10(a, true, 0, 64);
  ASSERT_TRUE(a.send(Header{write}));
  auto r2t = a.receive();
  ASSERT_TRUE(r2t.has_value());
  ASSERT_NE(r2t->as<core::R2t>(), nullptr);
  a.close();
  bool waiting = false;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 500 && f.server->stats().sessions_open != 0; ++i) {
    waiting |=
        f.server->session_report().find("connections=0 waiting_tasks=1") != std::string::npos;
    std::this_thread::sleep_for(10ms);
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(waiting) << "the session should wait for a reassignment";
  EXPECT_EQ(f.server->stats().sessions_open, 0u);
  EXPECT_EQ(f.server->session_report(), "");
  EXPECT_GE(took, 900ms);
}

}  // namespace
}  // namespace uiscsi
