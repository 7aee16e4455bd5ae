// ErrorRecoveryLevel 2 on the target engine (RFC 7143 sections 7.2, 7.3, 11.5.1 function 8,
// 11.6.1): tasks of a failed or removed connection wait for TASK REASSIGN on another (or the
// reinstated) connection, then resume; unclaimed ones expire after Time2Wait + Time2Retain.
#include <gtest/gtest.h>

#include "mcs_harness.hpp"
#include "support/pattern.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

using testing::McsConnection;
using testing::McsKeys;
using testing::McsWorld;
using testing::only;
using testing::TargetPdu;

// The TMF response among `pdus` (points into `pdus`: keep them alive).
const TaskMgmtResponse* tmf_of(const std::vector<TargetPdu>& pdus) {
  for (const auto& p : pdus)
    if (const auto* t = p.as<TaskMgmtResponse>()) return t;
  return nullptr;
}

// Fills `lba`.. with a pattern through the disk directly.
std::vector<std::byte> fill(McsWorld& w, std::uint32_t lba, std::size_t bytes, int seed) {
  auto data = testing::pattern(bytes, seed);
  std::copy(data.begin(), data.end(), w.disk.data().begin() + lba * 512);
  return data;
}

TEST(TargetErl2, ReadReassignedMidDataInResumesFromExpDataSnResegmented) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());  // MaxRecvDataSegmentLength 512
  McsKeys kb;
  kb.mrdsl = "1024";
  ASSERT_TRUE(b.login(kb));
  const auto data = fill(w, 16, 4096, 7);
  const auto read = w.rw10(false, 16, 8);
  a.command(read);
  const auto first = only<DataIn>(a.receive());
  ASSERT_EQ(first.size(), 8u);  // 512 bytes each, the last with the status
  // The initiator got DataSN 0..2; then A fails.
  a.target->connection_lost(make_error_code(errc::connection_closed), w.now);
  a.receive();
  EXPECT_EQ(a.target->shared_session()->orphans(), 1u);
  b.reassign(read.itt, 3, w.itt());
  const auto out = b.receive();
  ASSERT_GE(out.size(), 2u);
  const auto* tmf = out[0].as<TaskMgmtResponse>();  // the answer comes first
  ASSERT_NE(tmf, nullptr);
  EXPECT_EQ(tmf->response, TmfResponse::function_complete);
  std::vector<std::byte> got(data.begin(), data.begin() + 1536);
  std::uint32_t next_sn = 3;
  std::optional<ScsiResponse> status;
  for (std::size_t i = 1; i < out.size(); ++i) {
    if (const auto* d = out[i].as<DataIn>()) {
      EXPECT_EQ(d->data_sn, next_sn++);
      EXPECT_EQ(d->buffer_offset, got.size());
      EXPECT_LE(out[i].data.size(), 1024u);  // cut at B's MaxRecvDataSegmentLength
      got.insert(got.end(), out[i].data.begin(), out[i].data.end());
    } else if (const auto* r = out[i].as<ScsiResponse>()) {
      status = *r;
    }
  }
  EXPECT_EQ(next_sn, 6u);  // 1024 + 1024 + 512
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(status->status, 0);
  EXPECT_EQ(status->itt, read.itt);
  EXPECT_EQ(got, data);
  EXPECT_EQ(b.target->shared_session()->orphans(), 0u);
}

TEST(TargetErl2, WriteReassignedMidR2tAsksForTheRestWithNewR2ts) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());  // MaxBurstLength 2048, MaxOutstandingR2T 1
  ASSERT_TRUE(b.login());
  const auto data = testing::pattern(4096, 3);
  const auto write = w.rw10(true, 40, 8);
  a.command(write);
  const auto r2t = only<R2t>(a.receive());
  ASSERT_EQ(r2t.size(), 1u);
  ASSERT_EQ(r2t[0].desired_data_transfer_length, 2048u);
  // Half of the first burst arrives, then A fails.
  for (std::uint32_t i = 0; i < 2; ++i)
    a.send(Header{a.data_out(write.itt, r2t[0].ttt, i, i * 512, false)},
           std::span(data).subspan(i * 512, 512));
  a.receive();
  a.target->connection_lost(make_error_code(errc::connection_closed), w.now);
  b.reassign(write.itt, 1, w.itt());
  auto out = b.receive();
  const auto* tmf = tmf_of(out);
  ASSERT_NE(tmf, nullptr);
  EXPECT_EQ(tmf->response, TmfResponse::function_complete);
  // R2Ts on B for what is missing: [1024, 2048) first, then [2048, 4096).
  std::uint32_t expected_offset = 1024;
  std::uint32_t r2t_sn = 1;
  for (int round = 0; round < 4; ++round) {
    const auto r = only<R2t>(out);
    if (r.empty()) break;
    ASSERT_EQ(r.size(), 1u);
    EXPECT_EQ(r[0].buffer_offset, expected_offset);
    EXPECT_EQ(r[0].r2t_sn, r2t_sn++);
    const std::uint32_t len = r[0].desired_data_transfer_length;
    for (std::uint32_t off = 0; off < len; off += 512)
      b.send(Header{b.data_out(write.itt, r[0].ttt, off / 512, r[0].buffer_offset + off,
                               off + 512 == len)},
             std::span(data).subspan(r[0].buffer_offset + off, 512));
    expected_offset += len;
    out = b.receive();
  }
  EXPECT_EQ(expected_offset, 4096u);
  const auto rsp = only<ScsiResponse>(out);
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].status, 0);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), w.disk.data().begin() + 40 * 512));
}

TEST(TargetErl2, CompletedTaskResendsItsStatusWithANewStatSn) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  const auto data = testing::pattern(1024, 9);
  const auto write = w.rw10(true, 60, 2);
  a.command(write);
  const auto r2t = only<R2t>(a.receive());
  ASSERT_EQ(r2t.size(), 1u);
  a.send(Header{a.data_out(write.itt, r2t[0].ttt, 0, 0, false)}, std::span(data).first(512));
  a.send(Header{a.data_out(write.itt, r2t[0].ttt, 1, 512, true)}, std::span(data).subspan(512));
  ASSERT_EQ(only<ScsiResponse>(a.receive()).size(), 1u);  // lost on the way, say
  a.target->connection_lost(make_error_code(errc::connection_closed), w.now);
  const SerialNumber b_next = b.exp_stat_sn;
  b.reassign(write.itt, 0, w.itt());
  const auto out = b.receive();
  const auto rsp = only<ScsiResponse>(out);
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].itt, write.itt);
  EXPECT_EQ(rsp[0].status, 0);
  // The TMF response took B's next StatSN, the status the one after.
  EXPECT_EQ(rsp[0].stat_sn, b_next + 1);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), w.disk.data().begin() + 60 * 512));
}

TEST(TargetErl2, TaskRunningOnTheLuWhenItsConnectionFailsAnswersOnTheNewOne) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  const auto data = fill(w, 80, 1024, 4);
  a.execute_inline = false;
  const auto read = w.rw10(false, 80, 2);
  a.command(read);
  a.receive();
  ASSERT_EQ(a.held.size(), 1u);
  a.target->connection_lost(make_error_code(errc::connection_closed), w.now);
  EXPECT_TRUE(a.target->busy() == false);  // the task moved to the session
  b.reassign(read.itt, 0, w.itt());
  auto out = b.receive();
  ASSERT_NE(tmf_of(out), nullptr);
  EXPECT_EQ(tmf_of(out)->response, TmfResponse::function_complete);
  EXPECT_TRUE(only<DataIn>(out).empty());
  a.run_held();  // the LU completes on A's engine; the answer goes out on B
  out = b.receive();
  std::vector<std::byte> got;
  for (const auto& p : out)
    if (p.as<DataIn>()) got.insert(got.end(), p.data.begin(), p.data.end());
  EXPECT_EQ(got, data);
}

TEST(TargetErl2, LogoutForRecoveryOfAnotherCidThenReassign) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  const auto data = testing::pattern(1024, 5);
  const auto write = w.rw10(true, 100, 2);
  a.command(write);
  ASSERT_EQ(only<R2t>(a.receive()).size(), 1u);
  b.logout(LogoutReason::remove_connection_for_recovery, 1, w.itt());
  const auto rsp = only<LogoutResponse>(b.receive());
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].response, LogoutResponseCode::closed_successfully);
  a.receive();
  EXPECT_TRUE(a.closed());
  EXPECT_FALSE(b.target->finished());
  b.reassign(write.itt, 0, w.itt());
  const auto r2t = only<R2t>(b.receive());
  ASSERT_EQ(r2t.size(), 1u);
  EXPECT_EQ(r2t[0].buffer_offset, 0u);
  EXPECT_EQ(r2t[0].desired_data_transfer_length, 1024u);
  b.send(Header{b.data_out(write.itt, r2t[0].ttt, 0, 0, false)}, std::span(data).first(512));
  b.send(Header{b.data_out(write.itt, r2t[0].ttt, 1, 512, true)}, std::span(data).subspan(512));
  ASSERT_EQ(only<ScsiResponse>(b.receive()).size(), 1u);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), w.disk.data().begin() + 100 * 512));
  // The CID of a connection already gone for recovery is still known to a reason 2 logout.
  b.logout(LogoutReason::remove_connection_for_recovery, 1, w.itt());
  EXPECT_EQ(only<LogoutResponse>(b.receive()).at(0).response, LogoutResponseCode::cid_not_found);
}

TEST(TargetErl2, CidReinstatementKeepsTheTasksForReassignment) {
  McsWorld w;
  McsConnection a(w, 1);
  McsKeys k;
  k.max_connections = "1";
  ASSERT_TRUE(a.login(k));
  const auto data = fill(w, 120, 2048, 8);
  const auto read = w.rw10(false, 120, 4);
  a.command(read);
  ASSERT_EQ(only<DataIn>(a.receive()).size(), 4u);
  McsConnection again(w, 1);
  ASSERT_TRUE(again.login(k));
  a.receive();
  EXPECT_TRUE(a.closed());
  again.reassign(read.itt, 1, w.itt());
  const auto out = again.receive();
  std::vector<std::byte> got(data.begin(), data.begin() + 512);
  for (const auto& p : out)
    if (const auto* d = p.as<DataIn>()) {
      EXPECT_EQ(d->buffer_offset, got.size());
      got.insert(got.end(), p.data.begin(), p.data.end());
    }
  EXPECT_EQ(got, data);
  EXPECT_EQ(only<ScsiResponse>(out).size(), 1u);
}

TEST(TargetErl2, UnclaimedTasksExpireAfterTime2WaitPlusTime2Retain) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  McsKeys k;
  k.time2wait = "1";
  k.time2retain = "3";
  ASSERT_TRUE(a.login(k));
  ASSERT_TRUE(b.login(k));
  const auto write = w.rw10(true, 0, 2);
  a.command(write);
  ASSERT_EQ(only<R2t>(a.receive()).size(), 1u);
  a.target->connection_lost(make_error_code(errc::connection_closed), w.now);
  const auto& session = b.target->shared_session();
  ASSERT_EQ(session->orphans(), 1u);
  const auto p = b.target->session()->params;
  const auto retain = std::chrono::seconds(p.default_time2wait + p.default_time2retain);
  ASSERT_TRUE(b.target->next_deadline().has_value());
  EXPECT_EQ(*b.target->next_deadline(), w.now + retain);
  w.now += retain - std::chrono::seconds(1);
  b.target->on_timer(w.now);
  EXPECT_EQ(session->orphans(), 1u);
  w.now += std::chrono::seconds(1);
  b.target->on_timer(w.now);
  EXPECT_EQ(session->orphans(), 0u);
  EXPECT_FALSE(b.target->next_deadline().has_value());
  b.reassign(write.itt, 0, w.itt());
  const auto got = b.receive();
  const auto* tmf = tmf_of(got);
  ASSERT_NE(tmf, nullptr);
  EXPECT_EQ(tmf->response, TmfResponse::task_does_not_exist);
}

TEST(TargetErl2, ReassignRefusals) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  const auto write = w.rw10(true, 0, 2);
  a.command(write);
  ASSERT_EQ(only<R2t>(a.receive()).size(), 1u);
  // Still on a live connection.
  b.reassign(write.itt, 0, w.itt());
  const auto first = b.receive();
  auto* tmf = tmf_of(first);
  ASSERT_NE(tmf, nullptr);
  EXPECT_EQ(tmf->response, TmfResponse::task_still_allegiant);
  // Never seen.
  b.reassign(Itt(0x7777), 0, w.itt());
  const auto out = b.receive();
  tmf = tmf_of(out);
  ASSERT_NE(tmf, nullptr);
  EXPECT_EQ(tmf->response, TmfResponse::task_does_not_exist);
}

TEST(TargetErl2, LogoutReasonOneAbortsTheTasksOfTheClosedConnection) {
  McsWorld w;
  McsConnection a(w, 1), b(w, 2);
  ASSERT_TRUE(a.login());
  ASSERT_TRUE(b.login());
  const auto write = w.rw10(true, 0, 2);
  a.command(write);
  ASSERT_EQ(only<R2t>(a.receive()).size(), 1u);
  b.logout(LogoutReason::close_connection, 1, w.itt());
  EXPECT_EQ(only<LogoutResponse>(b.receive()).at(0).response,
            LogoutResponseCode::closed_successfully);
  EXPECT_EQ(b.target->shared_session()->orphans(), 0u);
  b.reassign(write.itt, 0, w.itt());
  const auto got = b.receive();
  const auto* tmf = tmf_of(got);
  ASSERT_NE(tmf, nullptr);
  EXPECT_EQ(tmf->response, TmfResponse::task_does_not_exist);
}

}  // namespace
}  // namespace uiscsi::core
