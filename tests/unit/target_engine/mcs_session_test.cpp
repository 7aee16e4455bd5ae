// Multiple connections per session on the target engine (RFC 7143 sections 4.2.2.1, 6.3.4,
// 11.14, 13.2): two connections in one session, CmdSN order across them, MaxConnections, logout
// reasons 0, 1 and 2, and CID reinstatement at ERL < 2.
#include <gtest/gtest.h>

#include "mcs_harness.hpp"

namespace uiscsi::core {
namespace {

using testing::McsConnection;
using testing::McsKeys;
using testing::McsWorld;
using testing::only;

TEST(TargetMcs, SecondConnectionJoinsTheSession) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login()) << b.target->login_failure() << " "
                         << (b.last_login ? int(b.last_login->status_class) : -1);
  EXPECT_EQ(b.last_login->tsih, w.tsih);
  EXPECT_EQ(a.target->shared_session(), b.target->shared_session());
  EXPECT_EQ(a.target->shared_session()->live_connections(), 2u);
  // The session's parameters hold on the second connection too.
  EXPECT_EQ(b.target->session()->params.error_recovery_level, 2u);
  EXPECT_EQ(b.target->session()->params.max_connections, 2u);
}

TEST(TargetMcs, MaxConnectionsRefusesOneMore) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2), c(w, 3);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  EXPECT_FALSE(c.login());
  ASSERT_TRUE(c.last_login.has_value());
  EXPECT_EQ(c.last_login->status_class, 2);
  EXPECT_EQ(c.last_login->status_detail, 0x06);  // too many connections (section 11.13.5)
}

TEST(TargetMcs, CommandsAreRunInCmdSnOrderAcrossConnections) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  a.execute_inline = false;
  b.execute_inline = false;
  const auto first = w.rw10(false, 0, 1);
  const auto second = w.rw10(false, 1, 1);
  b.command(second);  // CmdSN n+1 arrives first, on B: it waits
  EXPECT_TRUE(b.receive().empty());
  EXPECT_TRUE(b.held.empty());
  EXPECT_EQ(b.target->tasks(), 1u);
  a.command(first);
  a.receive();
  b.receive();
  ASSERT_EQ(a.held.size(), 1u);
  ASSERT_EQ(b.held.size(), 1u);
  // Each runs on its own connection (allegiance): answers come back where the command went.
  a.run_held();
  b.run_held();
  const auto ra = a.receive();
  const auto rb = b.receive();
  const auto da = only<DataIn>(ra);
  const auto db = only<DataIn>(rb);
  ASSERT_EQ(da.size(), 1u);
  ASSERT_EQ(db.size(), 1u);
  EXPECT_EQ(da[0].itt, first.itt);
  EXPECT_EQ(db[0].itt, second.itt);
  // ExpCmdSN is session-wide.
  EXPECT_EQ(da[0].exp_cmd_sn, w.cmd_sn);
  EXPECT_EQ(db[0].exp_cmd_sn, w.cmd_sn);
}

TEST(TargetMcs, NonCommandPduCmdSnCountsAcrossConnections) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  const auto read = w.rw10(false, 0, 1);  // CmdSN n
  NopOut nop;                             // CmdSN n+1 on B, ahead of the gap
  nop.itt = w.itt();
  nop.ttt = Ttt::reserved();
  nop.cmd_sn = w.cmd_sn;
  ++w.cmd_sn;
  const auto later = w.rw10(false, 2, 1);  // CmdSN n+2 on B
  b.send(Header{nop});
  EXPECT_EQ(only<NopIn>(b.receive()).size(), 1u);
  b.command(later);
  EXPECT_TRUE(only<DataIn>(b.receive()).empty());
  a.command(read);
  EXPECT_EQ(only<DataIn>(a.receive()).size(), 1u);
  const auto got = only<DataIn>(b.receive());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].itt, later.itt);
  EXPECT_EQ(got[0].exp_cmd_sn, w.cmd_sn);
}

TEST(TargetMcs, ItaTagsAreUniqueInTheSession) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  a.execute_inline = false;
  auto one = w.rw10(false, 0, 1);
  auto two = w.rw10(false, 1, 1);
  two.itt = one.itt;
  a.command(one);
  a.receive();
  b.command(two);
  const auto rej = only<Reject>(b.receive());
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].reason, RejectReason::task_in_progress);
}

TEST(TargetMcs, LogoutReasonOneClosesTheOtherConnectionOnly) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  b.logout(LogoutReason::close_connection, 1, w.itt());
  const auto rsp = only<LogoutResponse>(b.receive());
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].response, LogoutResponseCode::closed_successfully);
  a.receive();
  EXPECT_TRUE(a.closed());
  EXPECT_FALSE(b.closed());
  EXPECT_FALSE(b.target->finished());
  // B carries on.
  b.command(w.rw10(false, 0, 1));
  EXPECT_EQ(only<DataIn>(b.receive()).size(), 1u);
  // An unknown CID.
  b.logout(LogoutReason::close_connection, 9, w.itt());
  const auto bad = only<LogoutResponse>(b.receive());
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].response, LogoutResponseCode::cid_not_found);
}

TEST(TargetMcs, LogoutReasonZeroClosesEveryConnection) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  a.logout(LogoutReason::close_session, 0, w.itt());
  const auto rsp = only<LogoutResponse>(a.receive());
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].response, LogoutResponseCode::closed_successfully);
  EXPECT_TRUE(a.target->finished());
  b.receive();
  EXPECT_TRUE(b.closed());
  EXPECT_EQ(a.target->shared_session()->live_connections(), 0u);
}

TEST(TargetMcs, Erl1RefusesRemoveForRecoveryAndTaskReassign) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  McsKeys k;
  k.erl = "1";
  ASSERT_TRUE(a.login(k));
  ASSERT_TRUE(b.login(k));
  b.logout(LogoutReason::remove_connection_for_recovery, 1, w.itt());
  const auto rsp = only<LogoutResponse>(b.receive());
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].response, LogoutResponseCode::recovery_not_supported);
  b.reassign(Itt(0x10), 0, w.itt());
  const auto tmf = only<TaskMgmtResponse>(b.receive());
  ASSERT_EQ(tmf.size(), 1u);
  EXPECT_EQ(tmf[0].response, TmfResponse::task_reassignment_not_supported);
}

TEST(TargetMcs, CidReinstatementAtErl1AbortsTheOldTasks) {
  McsWorld w;
  McsConnection a(w, 1);
  McsKeys k;
  k.erl = "1";
  k.max_connections = "1";
  ASSERT_TRUE(a.login(k));
  // A write waiting for its data on A.
  const auto write = w.rw10(true, 0, 2);
  a.command(write);
  ASSERT_EQ(only<R2t>(a.receive()).size(), 1u);
  McsConnection again(w, 1);  // same CID: reinstatement, allowed with MaxConnections=1
  ASSERT_TRUE(again.login(k));
  a.receive();
  EXPECT_TRUE(a.closed());
  EXPECT_EQ(a.target->tasks(), 0u);
  EXPECT_EQ(again.target->shared_session()->orphans(), 0u);
  again.reassign(write.itt, 0, w.itt());
  const auto tmf = only<TaskMgmtResponse>(again.receive());
  ASSERT_EQ(tmf.size(), 1u);
  EXPECT_EQ(tmf[0].response, TmfResponse::task_reassignment_not_supported);
  again.command(w.rw10(false, 0, 1));
  EXPECT_EQ(only<DataIn>(again.receive()).size(), 1u);
}

TEST(TargetMcs, AbortTaskReachesATaskOnAnotherConnection) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  const auto write = w.rw10(true, 0, 2);
  a.command(write);
  ASSERT_EQ(only<R2t>(a.receive()).size(), 1u);
  TaskMgmtRequest t;
  t.immediate = true;
  t.function = TmfFunction::abort_task;
  t.itt = w.itt();
  t.referenced_task_tag = write.itt;
  t.ref_cmd_sn = write.cmd_sn;
  t.cmd_sn = w.cmd_sn;
  b.send(Header{t});
  const auto tmf = only<TaskMgmtResponse>(b.receive());
  ASSERT_EQ(tmf.size(), 1u);
  EXPECT_EQ(tmf[0].response, TmfResponse::function_complete);
  EXPECT_EQ(a.target->tasks(), 0u);
}

// UNH-IOL target FFP 11.3.2: ABORT TASK SET while a CmdSN gap is open across two connections.
// The command waiting behind the gap and the one that fills it later are both aborted.
TEST(TargetMcs, AbortTaskSetCoversACmdSnGapAcrossConnections) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  const auto gap = w.rw10(false, 0, 1);      // CmdSN n, sent late on A
  const auto waiting = w.rw10(false, 1, 1);  // CmdSN n+1 on B
  b.command(waiting);
  EXPECT_TRUE(b.receive().empty());
  TaskMgmtRequest t;
  t.immediate = true;
  t.function = TmfFunction::abort_task_set;
  t.itt = w.itt();
  t.cmd_sn = w.cmd_sn;  // n+2
  a.send(Header{t});
  const auto tmf = only<TaskMgmtResponse>(a.receive());
  ASSERT_EQ(tmf.size(), 1u);
  EXPECT_EQ(tmf[0].response, TmfResponse::function_complete);
  a.command(gap);
  EXPECT_TRUE(only<DataIn>(a.receive()).empty());
  EXPECT_TRUE(only<DataIn>(b.receive()).empty());
  EXPECT_EQ(a.target->tasks() + b.target->tasks(), 0u);
  // The window moved past both: the next command runs.
  b.command(w.rw10(false, 2, 1));
  const auto d = only<DataIn>(b.receive());
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].exp_cmd_sn, w.cmd_sn);
}

}  // namespace
}  // namespace uiscsi::core
