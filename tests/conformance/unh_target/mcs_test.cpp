// UNH-IOL target full feature phase lines with two connections in one session: connection
// allegiance (6.1), TASK REASSIGN at ErrorRecoveryLevel 2 (11.2.x), ABORT TASK SET across a
// CmdSN gap (11.3.2) and Logout (13.x) (RFC 7143 sections 4.2.2.1, 6.3.4, 7.2, 11.5.1, 11.6.1,
// 11.14, 11.15). Our target engines of one session against scripted connections of an
// initiator, in memory (the MC/S harness of the target engine's unit tests).
#include <gtest/gtest.h>

#include "conformance/kit/wire_text.hpp"
#include "support/pattern.hpp"
#include "uiscsi/errors.hpp"
#include "unit/target_engine/mcs_harness.hpp"

namespace uiscsi::core {
namespace {

using testing::McsConnection;
using testing::McsKeys;
using testing::McsWorld;
using testing::only;
using testing::TargetPdu;
using testing::kit::describe_data_in;

std::optional<TaskMgmtResponse> tmf_answer(const std::vector<TargetPdu>& pdus) {
  for (const auto& p : pdus)
    if (const auto* t = p.as<TaskMgmtResponse>()) return *t;
  return std::nullopt;
}

// A pattern on the disk at `lba`, returned for comparison.
std::vector<std::byte> fill(McsWorld& w, std::uint32_t lba, std::size_t bytes, int seed) {
  auto data = testing::pattern(bytes, seed);
  std::copy(data.begin(), data.end(), w.disk.data().begin() + lba * 512);
  return data;
}

// An immediate NOP-Out ping on `c`: answered by a NOP-In with its ITT.
void expect_ping_answered(McsWorld& w, McsConnection& c) {
  NopOut n;
  n.immediate = true;
  n.itt = w.itt();
  n.ttt = Ttt::reserved();
  n.cmd_sn = w.cmd_sn;
  n.exp_stat_sn = c.exp_stat_sn;
  c.send(Header{n});
  const auto in = only<NopIn>(c.receive());
  ASSERT_EQ(in.size(), 1u) << "no NOP-In for the ping";
  EXPECT_EQ(in[0].itt, n.itt);
}

// Checks the Data-In resumed after TASK REASSIGN: DataSN from `from` by one, offsets from
// from * 512 (the first connection's 512-byte segments), the bytes of `data`, then GOOD status.
void expect_resumed_read(const std::vector<TargetPdu>& out, Itt itt, std::uint32_t from,
                         const std::vector<std::byte>& data) {
  std::uint32_t sn = from, offset = from * 512;
  std::optional<ScsiResponse> status;
  std::size_t index = 0;
  for (const auto& p : out) {
    if (const auto* d = p.as<DataIn>()) {
      const std::string what = describe_data_in(*d, p.data.size(), ++index);
      EXPECT_EQ(d->itt, itt) << what;
      EXPECT_EQ(d->data_sn, sn++) << what;
      EXPECT_EQ(d->buffer_offset, offset) << what;
      ASSERT_LE(offset + p.data.size(), data.size()) << what;
      EXPECT_TRUE(std::equal(p.data.begin(), p.data.end(), data.begin() + offset)) << what;
      offset += static_cast<std::uint32_t>(p.data.size());
    } else if (const auto* r = p.as<ScsiResponse>(); r && r->itt == itt) {
      status = *r;
    }
  }
  EXPECT_EQ(offset, data.size()) << "the read did not resume to its end";
  ASSERT_TRUE(status.has_value()) << "no status after the reassigned read";
  EXPECT_EQ(status->status, 0);
}

// 6.1: R2T, Data-In and status of each command come back on the connection that carried it.
TEST(UnhTargetFfp, Target_FFP_6_1_ConnectionAllegiance) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  const auto data = fill(w, 8, 1024, 3);
  const auto write = w.rw10(true, 40, 2);
  const auto read = w.rw10(false, 8, 2);
  a.command(write);
  b.command(read);
  const auto on_a = a.receive();
  const auto on_b = b.receive();
  const auto r2ts = only<R2t>(on_a);
  ASSERT_EQ(r2ts.size(), 1u) << "the WRITE's R2T is not on its connection";
  EXPECT_EQ(r2ts[0].itt, write.itt);
  EXPECT_TRUE(only<R2t>(on_b).empty()) << "an R2T on the other connection";
  EXPECT_TRUE(only<DataIn>(on_a).empty()) << "the READ's Data-In on the other connection";
  const auto ins = only<DataIn>(on_b);
  ASSERT_EQ(ins.size(), 2u);
  for (const auto& d : ins)
    EXPECT_EQ(d.itt, read.itt);
  const auto payload = testing::pattern(1024, 9);
  a.send(Header{a.data_out(write.itt, r2ts[0].ttt, 0, 0, false)}, std::span(payload).first(512));
  a.send(Header{a.data_out(write.itt, r2ts[0].ttt, 1, 512, true)}, std::span(payload).subspan(512));
  const auto status_a = only<ScsiResponse>(a.receive());
  ASSERT_EQ(status_a.size(), 1u);
  EXPECT_EQ(status_a[0].itt, write.itt);
  EXPECT_TRUE(b.receive().empty()) << "the WRITE's status also went to the other connection";
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), w.disk.data().begin() + 40 * 512));
}

// 11.2.1: ERL 2. The READ's connection logs itself out for recovery (reason 2) mid-transfer;
// TASK REASSIGN on the other connection gets a valid TMF response there, and the read goes on
// there from ExpDataSN.
TEST(UnhTargetFfp, Target_FFP_11_2_1_TaskReassignAfterCleanLogout) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  const auto data = fill(w, 16, 4096, 5);
  const auto read = w.rw10(false, 16, 8);
  a.command(read);
  ASSERT_EQ(only<DataIn>(a.receive()).size(), 8u);  // DataSN 0..1 reached us, the rest did not
  a.logout(LogoutReason::remove_connection_for_recovery, 1, w.itt());
  const auto bye = only<LogoutResponse>(a.receive());
  ASSERT_EQ(bye.size(), 1u);
  EXPECT_EQ(bye[0].response, LogoutResponseCode::closed_successfully);
  b.reassign(read.itt, 2, w.itt());
  const auto out = b.receive();
  ASSERT_FALSE(out.empty());
  const auto* tmf = out[0].as<TaskMgmtResponse>();
  ASSERT_NE(tmf, nullptr) << "the TMF response does not come first";
  EXPECT_EQ(tmf->response, TmfResponse::function_complete);
  expect_resumed_read(out, read.itt, 2, data);
}

// 11.2.2: TASK REASSIGN for a READ whose connection is still up: response 3 (task still
// allegiant), and the read is not disturbed.
TEST(UnhTargetFfp, Target_FFP_11_2_2_ReassignRefusedWhileAllegiant) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  fill(w, 0, 1024, 2);
  a.execute_inline = false;
  const auto read = w.rw10(false, 0, 2);
  a.command(read);
  EXPECT_TRUE(a.receive().empty());
  ASSERT_EQ(a.held.size(), 1u);
  b.reassign(read.itt, 0, w.itt());
  const auto answer = tmf_answer(b.receive());
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->response, TmfResponse::task_still_allegiant);
  a.run_held();
  const auto out = a.receive();
  EXPECT_EQ(only<DataIn>(out).size(), 2u);
  EXPECT_FALSE(a.closed());
}

// 11.2.3: the READ's connection drops: TASK REASSIGN elsewhere gets response 0 and the Data-In
// resumes there from ExpDataSN.
TEST(UnhTargetFfp, Target_FFP_11_2_3_ReassignAfterConnectionDrop) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  const auto data = fill(w, 24, 2048, 6);
  const auto read = w.rw10(false, 24, 4);
  a.command(read);
  ASSERT_EQ(only<DataIn>(a.receive()).size(), 4u);
  a.target->connection_lost(make_error_code(errc::connection_closed), w.now);
  a.receive();
  b.reassign(read.itt, 1, w.itt());
  const auto out = b.receive();
  const auto answer = tmf_answer(out);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->response, TmfResponse::function_complete);
  expect_resumed_read(out, read.itt, 1, data);
}

// 11.3.2: two connections, a READ waits behind a CmdSN gap on B; an immediate ABORT TASK SET on
// A is answered; the READ behind the gap and the READ that fills the gap later get no Data-In or
// status; a NOP-Out is still answered.
TEST(UnhTargetFfp, Target_FFP_11_3_2_ABORTTASKSETWithOutOfOrderCmdSN) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  const auto filler = w.rw10(false, 4, 1);  // CmdSN n: arrives after the TMF
  const auto behind = w.rw10(false, 5, 1);  // CmdSN n+1: waits for n
  b.command(behind);
  EXPECT_TRUE(b.receive().empty());
  TaskMgmtRequest t;
  t.immediate = true;
  t.function = TmfFunction::abort_task_set;
  t.itt = w.itt();
  t.cmd_sn = w.cmd_sn;
  t.exp_stat_sn = a.exp_stat_sn;
  a.send(Header{t});
  const auto answer = tmf_answer(a.receive());
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->itt, t.itt);
  EXPECT_EQ(answer->response, TmfResponse::function_complete);
  a.command(filler);
  const auto late_a = a.receive();
  const auto late_b = b.receive();
  EXPECT_TRUE(only<DataIn>(late_a).empty() && only<ScsiResponse>(late_a).empty());
  EXPECT_TRUE(only<DataIn>(late_b).empty() && only<ScsiResponse>(late_b).empty());
  expect_ping_answered(w, a);
  expect_ping_answered(w, b);
}

// 13.1: Logout reason 1 (close the connection) on one of two connections: response 0 there and
// that connection ends; a task on the other stays open and completes.
TEST(UnhTargetFfp, Target_FFP_13_1_LogoutCloseConnection) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  const auto write = w.rw10(true, 60, 1);
  b.command(write);
  const auto r2t = only<R2t>(b.receive());
  ASSERT_EQ(r2t.size(), 1u);
  a.logout(LogoutReason::close_connection, 1, w.itt());
  const auto rsp = only<LogoutResponse>(a.receive());
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].response, LogoutResponseCode::closed_successfully);
  EXPECT_TRUE(a.target->finished()) << "the logged-out connection did not end";
  EXPECT_FALSE(b.closed());
  const auto payload = testing::pattern(512, 4);
  b.send(Header{b.data_out(write.itt, r2t[0].ttt, 0, 0, true)}, payload);
  const auto status = only<ScsiResponse>(b.receive());
  ASSERT_EQ(status.size(), 1u) << "the other connection's task did not survive the logout";
  EXPECT_EQ(status[0].status, 0);
}

// 13.2: Logout reason 0 (close the session) on one of two connections: response 0, and every
// connection of the session ends.
TEST(UnhTargetFfp, Target_FFP_13_2_LogoutCloseSession) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  b.logout(LogoutReason::close_session, 0, w.itt());
  const auto rsp = only<LogoutResponse>(b.receive());
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].response, LogoutResponseCode::closed_successfully);
  EXPECT_TRUE(b.target->finished());
  a.receive();
  EXPECT_TRUE(a.closed()) << "the other connection of the session stays up";
}

// 13.3: Logout reason 1 naming a CID the session does not have: response 1 (CID not found),
// and both connections stay up.
TEST(UnhTargetFfp, Target_FFP_13_3_LogoutUnknownCID) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  a.logout(LogoutReason::close_connection, 7, w.itt());
  const auto rsp = only<LogoutResponse>(a.receive());
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].response, LogoutResponseCode::cid_not_found);
  b.receive();
  EXPECT_FALSE(a.closed());
  EXPECT_FALSE(b.closed());
  expect_ping_answered(w, a);
  expect_ping_answered(w, b);
}

}  // namespace
}  // namespace uiscsi::core
