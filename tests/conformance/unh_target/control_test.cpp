// UNH-IOL target full feature phase, groups 11, 12, 14, 15 and 16.4-16.5 on one connection: task
// management, SNACK, Reject, NOP, duplicate commands (RFC 7143 sections 4.2.2, 7, 11.5, 11.16,
// 11.17, 11.18, 11.19). Our target engine against a scripted initiator, in memory.
#include "conformance/kit/target_kit.hpp"

namespace uiscsi::core {
namespace {

using testing::LoginKeys;
using testing::only;
using testing::pattern;
using testing::TargetPdu;
using testing::kit::data_ins;
using testing::kit::describe_r2t;
using testing::kit::response_for;
using testing::kit::ScriptedInitiator;

std::optional<TaskMgmtResponse> tmf_answer(const std::vector<TargetPdu>& pdus, Itt itt) {
  for (const auto& p : pdus)
    if (const auto* r = p.as<TaskMgmtResponse>(); r && r->itt == itt) return *r;
  return std::nullopt;
}

// The BHS carried in a Reject's data segment (section 11.17: the rejected PDU's header).
std::span<const std::byte> rejected_header(const std::vector<TargetPdu>& pdus) {
  for (const auto& p : pdus)
    if (p.as<Reject>() != nullptr && p.data.size() >= kBhsSize)
      return std::span(p.data).first(kBhsSize);
  return {};
}

bool same_bhs(std::span<const std::byte> got, const Header& sent) {
  Bhs b;
  encode_header(sent, b);
  // DataSegmentLength may differ (the Reject carries only the header); compare the rest.
  return got.size() == kBhsSize && std::equal(got.begin(), got.begin() + 4, b.bytes.begin()) &&
         std::equal(got.begin() + 8, got.end(), b.bytes.begin() + 8);
}

// A NOP-Out ping (ITT 0x77, TTT reserved, LUN 0), optionally with data, must come back as a
// NOP-In with the ITT, TTT 0xffffffff, the data cut to our MRDSL; the next SCSI Response has a
// higher StatSN (section 11.19).
void check_ping(bool immediate, std::size_t data_size, const std::string& mrdsl) {
  ScriptedInitiator h;
  LoginKeys k;
  k.mrdsl = mrdsl;
  ASSERT_TRUE(h.open(k));
  const auto data = pattern(data_size, 4);
  const NopOut n = h.ping(immediate, Itt(0x77));
  h.send(Header{n}, data);
  const auto out = h.receive_tracked();
  const auto in = only<NopIn>(out);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_EQ(in[0].itt, Itt(0x77));
  EXPECT_TRUE(in[0].ttt.is_reserved());
  EXPECT_EQ(in[0].lun, n.lun);
  const std::size_t limit = std::stoul(mrdsl);
  const std::size_t expected = std::min(data_size, limit);
  ASSERT_EQ(out[0].data.size(), expected);
  EXPECT_TRUE(std::equal(out[0].data.begin(), out[0].data.end(), data.begin()));
  const ScsiCommand tur = h.test_unit_ready();
  h.send(Header{tur});
  const auto r = response_for(h.receive_tracked(), tur.itt);
  ASSERT_TRUE(r);
  EXPECT_TRUE(serial_gt(r->stat_sn, in[0].stat_sn));
}

TEST(UnhTargetFfp, Target_FFP_15_1_1_NOPInReplyI1NoData) {
  check_ping(true, 0, "8192");
}
TEST(UnhTargetFfp, Target_FFP_15_1_2_NOPInReplyI0NoData) {
  check_ping(false, 0, "8192");
}
TEST(UnhTargetFfp, Target_FFP_15_1_3_NOPInReplyI0WithData) {
  check_ping(false, 300, "8192");
}
TEST(UnhTargetFfp, Target_FFP_15_1_4_NOPInReplyI1WithData) {
  check_ping(true, 300, "8192");
}
TEST(UnhTargetFfp, Target_FFP_15_1_5_PingDataOverInitiatorMRDSLI1) {
  check_ping(true, 1024, "512");
}
TEST(UnhTargetFfp, Target_FFP_15_1_6_PingDataOverInitiatorMRDSLI0) {
  check_ping(false, 1024, "512");
}

// 15.2: after the idle interval the target pings: ITT 0xffffffff, a real TTT, DSL 0, and StatSN
// does not advance because of it.
TEST(UnhTargetFfp, Target_FFP_15_2_TargetInitiatedNOPInPing) {
  ScriptedInitiator h;
  h.config.nop_in_interval = std::chrono::seconds(30);
  ASSERT_TRUE(h.open());
  h.now += std::chrono::seconds(31);
  h.target->on_timer(h.now);
  const auto out = h.receive_tracked();
  const auto in = only<NopIn>(out);
  ASSERT_EQ(in.size(), 1u);
  EXPECT_TRUE(in[0].itt.is_reserved());
  EXPECT_FALSE(in[0].ttt.is_reserved());
  EXPECT_TRUE(out[0].data.empty());
  EXPECT_EQ(in[0].stat_sn, h.exp_stat_sn);  // the next StatSN, not taken
  const ScsiCommand tur = h.test_unit_ready();
  h.send(Header{tur});
  const auto r = response_for(h.receive_tracked(), tur.itt);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stat_sn, in[0].stat_sn);
}

// 11.1: WRITE #1 waits for data; immediate WRITE #2 and immediate ABORT TASK of #1 follow: the
// abort completes, #1 gets no status, #2 ends GOOD.
TEST(UnhTargetFfp, Target_FFP_11_1_ImmediateTMFPlusImmediateCommand) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.immediate_data = "Yes"}));
  const ScsiCommand w1 = h.rw10(true, 0, 4);
  h.send(Header{w1});
  ASSERT_EQ(only<R2t>(h.receive_tracked()).size(), 1u);
  ScsiCommand w2 = h.rw10(true, 8, 1);
  w2.immediate = true;
  h.cmd_sn = w2.cmd_sn;  // an immediate command does not take its CmdSN
  const auto data = pattern(512, 2);
  h.send(Header{w2}, data);
  const TaskMgmtRequest abort = h.tmf(TmfFunction::abort_task, w1.itt, w1.cmd_sn);
  h.send(Header{abort});
  auto out = h.receive_tracked();
  const auto a = tmf_answer(out, abort.itt);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->response, TmfResponse::function_complete);
  const auto r2 = response_for(out, w2.itt);
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 0);
  h.send(Header{h.data_out(w1, Ttt(0), 0, 0, true)}, pattern(2048, 1));  // late data for #1
  h.receive_tracked();
  EXPECT_FALSE(response_for(h.all, w1.itt)) << "status for an aborted task";
}

// 11.3.1: immediate ABORT TASK SET while a READ runs: the TMF is answered, READ data/status only
// before it, and a NOP-Out with the same CmdSN is answered.
TEST(UnhTargetFfp, Target_FFP_11_3_1_ABORTTASKSETCompletion) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  h.execute_inline = false;
  const ScsiCommand r = h.rw10(false, 0, 4);
  h.send(Header{r});
  h.receive_tracked();
  const TaskMgmtRequest t = h.tmf(TmfFunction::abort_task_set);
  h.send(Header{t});
  auto out = h.receive_tracked();
  ASSERT_TRUE(tmf_answer(out, t.itt));
  EXPECT_EQ(tmf_answer(out, t.itt)->response, TmfResponse::function_complete);
  ASSERT_EQ(h.held.size(), 1u);
  h.run_held();  // the LU finishes the READ after the abort: nothing may go out
  out = h.receive_tracked();
  EXPECT_TRUE(data_ins(out, r.itt).empty());
  EXPECT_FALSE(response_for(out, r.itt));
  h.send(Header{h.ping(false, Itt(0x99))});
  EXPECT_EQ(only<NopIn>(h.receive_tracked()).size(), 1u);
}

// 11.3.3: ABORT TASK for an unknown tag with an out-of-window RefCmdSN: response 1 (task does
// not exist); the READ still completes; NOP-Out is answered.
TEST(UnhTargetFfp, Target_FFP_11_3_3_ABORTTASKForUnknownTask) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  h.execute_inline = false;
  const ScsiCommand r = h.rw10(false, 0, 4);
  h.send(Header{r});
  h.receive_tracked();
  const TaskMgmtRequest t = h.tmf(TmfFunction::abort_task, Itt(0x5555), h.cmd_sn + 5000);
  h.send(Header{t});
  const auto a = tmf_answer(h.receive_tracked(), t.itt);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->response, TmfResponse::task_does_not_exist);
  h.run_held();
  h.execute_inline = true;
  const auto out = h.receive_tracked();
  EXPECT_EQ(data_ins(out, r.itt).size(), 4u);
  h.send(Header{h.ping(false, Itt(0x99))});
  EXPECT_EQ(only<NopIn>(h.receive_tracked()).size(), 1u);
}

// 11.4 / 11.5: TARGET WARM / COLD RESET while a READ runs. Supported: the READ sends nothing
// more (and a cold reset closes the connection). Unsupported: response 5 or 6.
void check_reset(TmfFunction f) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  h.execute_inline = false;
  const ScsiCommand r = h.rw10(false, 0, 4);
  h.send(Header{r});
  h.receive_tracked();
  const TaskMgmtRequest t = h.tmf(f);
  h.send(Header{t});
  h.receive_tracked();
  h.finish_tmfs();
  const auto a = tmf_answer(h.all, t.itt);
  ASSERT_TRUE(a) << "no answer to " << tmf_function_name(f);
  if (a->response == TmfResponse::function_not_supported ||
      a->response == TmfResponse::function_authorization_failed)
    return;
  EXPECT_EQ(a->response, TmfResponse::function_complete);
  if (!h.held.empty()) h.run_held();
  h.receive_tracked();
  EXPECT_TRUE(data_ins(h.all, r.itt).empty()) << "Data-In after the reset";
  EXPECT_FALSE(response_for(h.all, r.itt));
  if (f == TmfFunction::target_cold_reset) {
    h.now += std::chrono::seconds(15);  // the closing connection's grace for the last PDUs
    h.target->on_timer(h.now);
    h.receive_tracked();
    EXPECT_TRUE(h.closed()) << "the connection stays up after TARGET COLD RESET";
  }
}
TEST(UnhTargetFfp, Target_FFP_11_4_TARGETWARMRESET) {
  check_reset(TmfFunction::target_warm_reset);
}
TEST(UnhTargetFfp, Target_FFP_11_5_TARGETCOLDRESET) {
  check_reset(TmfFunction::target_cold_reset);
}

// 12.1: ERL 1, a SNACK for the first R2T: the same R2T again, only ExpCmdSN/MaxCmdSN current.
TEST(UnhTargetFfp, Target_FFP_12_1_R2TSNACK) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.erl = "1", .max_burst = "1024"}));
  const ScsiCommand c = h.rw10(true, 0, 4);
  h.send(Header{c});
  const auto first = h.receive_tracked();
  const auto r2ts = only<R2t>(first);
  ASSERT_EQ(r2ts.size(), 1u);
  h.send(Header{h.snack(SnackType::data_r2t, c.itt, 0, 1)});
  const auto again_pdus = h.receive_tracked();
  const auto again = only<R2t>(again_pdus);
  ASSERT_EQ(again.size(), 1u);
  R2t want = r2ts[0];
  want.exp_cmd_sn = again[0].exp_cmd_sn;
  want.max_cmd_sn = again[0].max_cmd_sn;
  EXPECT_TRUE(want == again[0]) << "first: " << describe_r2t(r2ts[0])
                                << "\nagain: " << describe_r2t(again[0]);
  EXPECT_EQ(again_pdus[0].bhs.bytes[1], first[0].bhs.bytes[1]) << "flags changed";
}

// 12.2 / 12.3: Data SNACK for the second Data-In (BegRun 1, RunLength 1) or for all (0, 0):
// those PDUs again, unchanged but for ExpCmdSN/MaxCmdSN.
void check_data_snack(std::uint32_t beg, std::uint32_t run, std::size_t expect) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.erl = "1"}));
  const ScsiCommand r = h.rw10(false, 0, 4);
  h.send(Header{r});
  const auto first = h.receive_tracked();
  const auto orig = data_ins(first, r.itt);
  ASSERT_EQ(orig.size(), 4u);
  h.send(Header{h.snack(SnackType::data_r2t, r.itt, beg, run)});
  const auto out = h.receive_tracked();
  const auto again = data_ins(out, r.itt);
  ASSERT_EQ(again.size(), expect);
  for (std::size_t k = 0; k < again.size(); ++k) {
    DataIn want = orig[beg + k].first;
    want.exp_cmd_sn = again[k].first.exp_cmd_sn;
    want.max_cmd_sn = again[k].first.max_cmd_sn;
    EXPECT_TRUE(want == again[k].first)
        << "first: " << testing::kit::describe_data_in(want, orig[beg + k].second, beg + k)
        << "\nagain: " << testing::kit::describe_data_in(again[k].first, again[k].second, k);
    EXPECT_EQ(out[k].data, first[beg + k].data);
  }
}
TEST(UnhTargetFfp, Target_FFP_12_2_DataSNACKSinglePDU) {
  check_data_snack(1, 1, 1);
}
TEST(UnhTargetFfp, Target_FFP_12_3_DataSNACKWholeRun) {
  check_data_snack(0, 0, 4);
}

// 12.4: a SNACK for R2TSN 255, never sent: Reject 0x04 whose DataSN/R2TSN field names the
// task's R2T numbering. The plan (draft 20) says "the last valid number sent"; RFC 7143 section
// 11.17.3 says "the next Data/R2T sequence number that the target would send": R2TSN 0 was sent,
// so 1.
TEST(UnhTargetFfp, Target_FFP_12_4_SNACKForAnR2TNeverSent) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.erl = "1", .max_burst = "1024"}));
  const ScsiCommand c = h.rw10(true, 0, 4);
  h.send(Header{c});
  ASSERT_EQ(only<R2t>(h.receive_tracked()).size(), 1u);
  const SnackRequest s = h.snack(SnackType::data_r2t, c.itt, 255, 1);
  h.send(Header{s});
  const auto out = h.receive_tracked();
  const auto rj = only<Reject>(out);
  ASSERT_EQ(rj.size(), 1u);
  EXPECT_EQ(rj[0].reason, RejectReason::protocol_error);
  EXPECT_EQ(rj[0].data_sn_or_r2t_sn, 1u);  // R2TSN 0 sent, 1 next
  EXPECT_TRUE(same_bhs(rejected_header(out), Header{s}));
}

// 14.1: a Data-Out with a wrong ITT: a well-formed Reject holding its header; the WRITE's status
// waits for the F=1 Data-Out; Reject StatSN is one below the response's, ExpCmdSN consistent.
TEST(UnhTargetFfp, Target_FFP_14_1_RejectForDataOutWithWrongITT) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  const ScsiCommand c = h.rw10(true, 0, 4);
  h.send(Header{c});
  const auto r2ts = only<R2t>(h.receive_tracked());
  ASSERT_EQ(r2ts.size(), 1u);
  DataOut bad = h.data_out(c, r2ts[0].ttt, 0, 0, false);
  bad.itt = Itt(0xdead);
  const auto data = pattern(2048, 1);
  h.send(Header{bad}, std::span(data).first(512));
  const auto out = h.receive_tracked();
  const auto rj = only<Reject>(out);
  ASSERT_EQ(rj.size(), 1u);
  EXPECT_TRUE(same_bhs(rejected_header(out), Header{bad}));
  EXPECT_FALSE(response_for(out, c.itt)) << "status before the F=1 Data-Out";
  h.send_burst(c, r2ts[0].ttt, data, 0, 2048, 1024);
  const auto r = response_for(h.receive_tracked(), c.itt);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 0);
  EXPECT_EQ(rj[0].stat_sn + 1, r->stat_sn);
  EXPECT_EQ(rj[0].exp_cmd_sn, r->exp_cmd_sn);
}

// 14.2: ERL 1, a DataACK SNACK naming no A-bit Data-In: a well-formed Reject with the header and
// current sequence numbers; the next SCSI Response's StatSN follows it.
TEST(UnhTargetFfp, Target_FFP_14_2_RejectForBadDataACKSNACK) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.erl = "1"}));
  const ScsiCommand c = h.rw10(true, 0, 2);
  h.send(Header{c});
  const auto r2ts = only<R2t>(h.receive_tracked());
  ASSERT_EQ(r2ts.size(), 1u);
  const SerialNumber before = h.exp_stat_sn;
  const SnackRequest s = h.snack(SnackType::data_ack, Itt::reserved(), 7, 0, Ttt(0x4242));
  h.send(Header{s});
  const auto out = h.receive_tracked();
  const auto rj = only<Reject>(out);
  ASSERT_EQ(rj.size(), 1u);
  EXPECT_TRUE(same_bhs(rejected_header(out), Header{s}));
  EXPECT_EQ(rj[0].stat_sn, before);
  EXPECT_EQ(rj[0].exp_cmd_sn, h.cmd_sn);
  EXPECT_TRUE(serial_ge(rj[0].max_cmd_sn, r2ts[0].max_cmd_sn));
  h.send_burst(c, r2ts[0].ttt, pattern(1024, 1), 0, 1024, 1024);
  const auto r = response_for(h.receive_tracked(), c.itt);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stat_sn, rj[0].stat_sn + 1);
}

// 14.3: an R2T SNACK the target cannot serve (error recovery level 0): a well-formed Reject with
// the header and current, never-decreasing sequence numbers.
TEST(UnhTargetFfp, Target_FFP_14_3_RejectForR2TSNACK) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.erl = "0"}));
  const ScsiCommand c = h.rw10(true, 0, 2);
  h.send(Header{c});
  const auto r2ts = only<R2t>(h.receive_tracked());
  ASSERT_EQ(r2ts.size(), 1u);
  const SnackRequest s = h.snack(SnackType::data_r2t, c.itt, 0, 1);
  h.send(Header{s});
  const auto out = h.receive_tracked();
  const auto rj = only<Reject>(out);
  ASSERT_EQ(rj.size(), 1u);
  EXPECT_TRUE(same_bhs(rejected_header(out), Header{s}));
  EXPECT_EQ(rj[0].stat_sn, r2ts[0].stat_sn);
  EXPECT_TRUE(serial_ge(rj[0].exp_cmd_sn, r2ts[0].exp_cmd_sn));
  EXPECT_TRUE(serial_ge(rj[0].max_cmd_sn, r2ts[0].max_cmd_sn));
}

// 16.4.1 / 16.4.2: an identical copy of a WRITE in progress (after part of its data, or right
// after its first R2T) is dropped silently; the original ends GOOD, once.
void check_duplicate_write(bool after_partial_data) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.max_burst = "1024"}));
  const ScsiCommand c = h.rw10(true, 0, 4);
  h.send(Header{c});
  auto r2ts = only<R2t>(h.receive_tracked());
  ASSERT_EQ(r2ts.size(), 1u);
  const auto data = pattern(2048, 6);
  if (after_partial_data)
    h.send(Header{h.data_out(c, r2ts[0].ttt, 0, 0, false)}, std::span(data).first(512));
  h.send(Header{c});  // the copy
  const auto dup = h.receive_tracked();
  EXPECT_TRUE(dup.empty()) << "answered the copy: " << describe(dup[0].header);
  if (after_partial_data) {
    h.send(Header{h.data_out(c, r2ts[0].ttt, 1, 512, true)}, std::span(data).subspan(512, 512));
  } else {
    h.send_burst(c, r2ts[0].ttt, data, 0, 1024, 512);
  }
  const auto w = h.answer_r2ts(c, data, h.receive_tracked(), 512);
  ASSERT_TRUE(w.response);
  EXPECT_EQ(w.response->status, 0);
  int responses = 0;
  for (const auto& p : h.all)
    if (const auto* s = p.as<ScsiResponse>(); s && s->itt == c.itt) ++responses;
  EXPECT_EQ(responses, 1);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), h.disk.data().begin()));
}
TEST(UnhTargetFfp, Target_FFP_16_4_1_DuplicateCommandAfterPartialData) {
  check_duplicate_write(true);
}
TEST(UnhTargetFfp, Target_FFP_16_4_2_DuplicateCommandBeforeData) {
  check_duplicate_write(false);
}

// 16.5: a Data-Out with a wrong ITT may be Rejected, and no SCSI Response comes before the
// final F=1 Data-Out.
TEST(UnhTargetFfp, Target_FFP_16_5_StatusWaitsForFBit) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  const ScsiCommand c = h.rw10(true, 0, 4);
  h.send(Header{c});
  const auto r2ts = only<R2t>(h.receive_tracked());
  ASSERT_EQ(r2ts.size(), 1u);
  const auto data = pattern(2048, 8);
  DataOut bad = h.data_out(c, r2ts[0].ttt, 0, 0, true);
  bad.itt = Itt(0xbeef);
  h.send(Header{bad}, std::span(data).first(512));
  for (std::uint32_t k = 0; k < 3; ++k)
    h.send(Header{h.data_out(c, r2ts[0].ttt, k, k * 512, false)},
           std::span(data).subspan(k * 512, 512));
  auto out = h.receive_tracked();
  for (const auto& p : out)
    EXPECT_EQ(p.as<ScsiResponse>(), nullptr) << "status before F=1: " << describe(p.header);
  h.send(Header{h.data_out(c, r2ts[0].ttt, 3, 1536, true)}, std::span(data).subspan(1536));
  const auto r = response_for(h.receive_tracked(), c.itt);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 0);
}

}  // namespace
}  // namespace uiscsi::core
