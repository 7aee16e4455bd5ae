// The initiator engine against a scripted target, PDU by PDU, in virtual time.
#include "core/initiator_session.hpp"

#include <gtest/gtest.h>

#include "core/bytes.hpp"
#include "uiscsi/errors.hpp"
#include "unit/initiator_engine/initiator_fixture.hpp"

namespace uiscsi::core {
namespace {

TEST_F(InitiatorTest, LoginNegotiatesAndKeepsLimitsPerDirection) {
  SessionConfig c = config();
  c.negotiation.max_recv_data_segment_length = 65536;
  start(c, {}, 4096);
  EXPECT_EQ(s->params().initiator_max_recv_data_segment_length, 65536u);
  EXPECT_EQ(s->params().target_max_recv_data_segment_length, 4096u);
  EXPECT_EQ(s->tsih(), 0x10);
  EXPECT_EQ(s->isid() >> 46, 2u);  // random ISID type
}

TEST_F(InitiatorTest, ReadPlacesMultiPduDataAndStatusInFinalDataIn) {
  start();
  std::vector<std::byte> buf(4096);
  ScsiRequest r;
  r.cdb = kRead10;
  r.data_in = buf;
  const TaskId id = s->submit(r, now);
  const SentPdu cmd = t->drain_one();
  const auto* sc = cmd.as<ScsiCommand>();
  ASSERT_NE(sc, nullptr) << cmd.describe();
  EXPECT_TRUE(sc->read);
  EXPECT_FALSE(sc->write);
  EXPECT_TRUE(sc->final);
  EXPECT_EQ(sc->expected_data_transfer_length, 4096u);
  EXPECT_EQ(sc->cmd_sn, SerialNumber(1));
  EXPECT_EQ(sc->cdb[0], std::byte{0x28});
  const auto data = pattern(4096);
  for (std::uint32_t i = 0; i < 4; ++i) {
    DataIn d;
    d.itt = sc->itt;
    d.data_sn = i;
    d.buffer_offset = i * 1024;
    d.final = i == 3;
    d.status_present = i == 3;
    t->send(Header{d}, std::span(data).subspan(i * 1024, 1024));
  }
  const TaskDone done = one_done();
  EXPECT_EQ(done.id, id);
  ASSERT_FALSE(done.error) << done.error.message();
  EXPECT_EQ(done.result.status, 0);
  EXPECT_EQ(done.result.data_in_bytes, 4096u);
  EXPECT_EQ(buf, data);
}

TEST_F(InitiatorTest, ReadWithUnderflowAndSeparateResponse) {
  start();
  std::vector<std::byte> buf(4096);
  ScsiRequest r;
  r.cdb = kRead10;
  r.data_in = buf;
  s->submit(r, now);
  const auto itt = t->drain_one().bhs.itt();
  DataIn d;
  d.itt = itt;
  d.final = true;
  t->send(Header{d}, pattern(512));
  ScsiResponse rsp = good_response(itt);
  rsp.underflow = true;
  rsp.residual_count = 4096 - 512;
  t->send(Header{rsp});
  const TaskDone done = one_done();
  ASSERT_FALSE(done.error) << done.error.message();
  EXPECT_TRUE(done.result.underflow);
  EXPECT_EQ(done.result.residual_count, 3584u);
  EXPECT_EQ(done.result.data_in_bytes, 512u);
}

TEST_F(InitiatorTest, GoodStatusWithMissingDataIsAnError) {
  start();
  std::vector<std::byte> buf(4096);
  ScsiRequest r;
  r.cdb = kRead10;
  r.data_in = buf;
  s->submit(r, now);
  const auto itt = t->drain_one().bhs.itt();
  DataIn d;
  d.itt = itt;
  t->send(Header{d}, pattern(1024));
  t->send(Header{good_response(itt)});  // GOOD, no residual, but 3 KiB never came
  EXPECT_EQ(one_done().error, protocol_errc::sequence_error);
}

TEST_F(InitiatorTest, CheckConditionCarriesSenseWithoutLengthPrefix) {
  start();
  ScsiRequest r;
  r.cdb = cdb({0x00, 0, 0, 0, 0, 0});
  s->submit(r, now);
  const auto itt = t->drain_one().bhs.itt();
  ScsiResponse rsp = good_response(itt);
  rsp.status = 0x02;
  std::vector<std::byte> seg = {std::byte{0}, std::byte{18}};
  auto sense = pattern(18);
  sense[0] = std::byte{0x70};
  seg.insert(seg.end(), sense.begin(), sense.end());
  t->send(Header{rsp}, seg);
  const TaskDone done = one_done();
  ASSERT_FALSE(done.error);
  EXPECT_EQ(done.result.status, 0x02);
  EXPECT_EQ(done.result.sense, sense);
}

TEST_F(InitiatorTest, DataInWithWrongDataSnFailsTheTaskAndAbortsIt) {
  start();
  std::vector<std::byte> buf(2048);
  ScsiRequest r;
  r.cdb = kRead10;
  r.data_in = buf;
  s->submit(r, now);
  const auto itt = t->drain_one().bhs.itt();
  DataIn d;
  d.itt = itt;
  d.data_sn = 1;  // 0 expected
  t->send(Header{d}, pattern(1024));
  const TaskDone done = one_done();
  EXPECT_EQ(done.error, protocol_errc::sequence_error);
  EXPECT_TRUE(done.may_have_executed);
  const SentPdu abort = t->drain_one();
  const auto* tmf = abort.as<TaskMgmtRequest>();
  ASSERT_NE(tmf, nullptr) << abort.describe();
  EXPECT_EQ(tmf->function, TmfFunction::abort_task);
  EXPECT_EQ(tmf->referenced_task_tag, itt);
  EXPECT_EQ(tmf->ref_cmd_sn, SerialNumber(1));
  // Later data for the aborted task is swallowed, never written to the released buffer.
  std::fill(buf.begin(), buf.end(), std::byte{0});
  d.data_sn = 2;
  d.buffer_offset = 1024;
  t->send(Header{d}, pattern(1024));
  EXPECT_TRUE(std::all_of(buf.begin(), buf.end(), [](std::byte b) { return b == std::byte{0}; }));
  TaskMgmtResponse tr;
  tr.itt = tmf->itt;
  t->send(Header{tr});
  EXPECT_TRUE(events<TmfDone>().empty());  // our own abort is not reported
  EXPECT_EQ(s->tasks_in_flight(), 0u);
}

// ---- writes: the four InitialR2T/ImmediateData combinations ----

struct WriteCase {
  const char* initial_r2t;
  const char* immediate_data;
  std::uint32_t length;
  std::uint32_t expect_immediate;
  std::uint32_t expect_unsolicited;
};

class WriteTest : public InitiatorTest, public ::testing::WithParamInterface<WriteCase> {};

TEST_P(WriteTest, UnsolicitedThenSolicitedData) {
  const WriteCase wc = GetParam();
  SessionConfig c = config();
  c.negotiation.initial_r2t = std::string(wc.initial_r2t) == "Yes";
  c.negotiation.immediate_data = std::string(wc.immediate_data) == "Yes";
  c.negotiation.first_burst_length = 8192;
  start(c,
        {{"InitialR2T", wc.initial_r2t},
         {"ImmediateData", wc.immediate_data},
         {"FirstBurstLength", "8192"},
         {"MaxBurstLength", "16384"}},
        2048);
  const auto data = pattern(wc.length);
  ScsiRequest r;
  r.cdb = kWrite10;
  r.data_out = data;
  s->submit(r, now);
  auto sent = t->drain();
  ASSERT_FALSE(sent.empty());
  const auto* sc = sent[0].as<ScsiCommand>();
  ASSERT_NE(sc, nullptr);
  EXPECT_TRUE(sc->write);
  EXPECT_EQ(sc->expected_data_transfer_length, wc.length);
  EXPECT_EQ(sent[0].data.size(), wc.expect_immediate);
  EXPECT_EQ(sc->final, wc.expect_unsolicited == 0) << "F=0 only when unsolicited Data-Out follows";
  std::vector<std::byte> got(wc.length);
  if (!sent[0].data.empty()) std::memcpy(got.data(), sent[0].data.data(), sent[0].data.size());
  std::uint32_t unsolicited = 0;
  for (std::size_t i = 1; i < sent.size(); ++i) {
    const auto* d = sent[i].as<DataOut>();
    ASSERT_NE(d, nullptr) << sent[i].describe();
    EXPECT_TRUE(d->ttt.is_reserved());
    EXPECT_EQ(d->data_sn, i - 1);
    EXPECT_EQ(d->buffer_offset, wc.expect_immediate + unsolicited);
    EXPECT_LE(sent[i].data.size(), 2048u);
    unsolicited += static_cast<std::uint32_t>(sent[i].data.size());
    EXPECT_EQ(d->final, i + 1 == sent.size());
    std::memcpy(got.data() + d->buffer_offset, sent[i].data.data(), sent[i].data.size());
  }
  EXPECT_EQ(unsolicited, wc.expect_unsolicited);
  // The rest by R2T, two outstanding at once, answered from the buffer at their offsets.
  std::uint32_t offset = wc.expect_immediate + wc.expect_unsolicited;
  std::uint32_t r2t_sn = 0;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> r2ts;
  while (offset < wc.length) {
    const std::uint32_t len = std::min<std::uint32_t>(5000, wc.length - offset);
    R2t r2t;
    r2t.itt = sc->itt;
    r2t.ttt = Ttt(0x100 + r2t_sn);
    r2t.r2t_sn = r2t_sn++;
    r2t.buffer_offset = offset;
    r2t.desired_data_transfer_length = len;
    t->send(Header{r2t});
    r2ts.emplace_back(offset, len);
    offset += len;
  }
  auto solicited = t->drain();
  std::size_t k = 0;
  for (std::size_t i = 0; i < r2ts.size(); ++i) {
    std::uint32_t covered = 0, data_sn = 0;
    while (covered < r2ts[i].second) {
      ASSERT_LT(k, solicited.size());
      const auto* d = solicited[k].as<DataOut>();
      ASSERT_NE(d, nullptr);
      EXPECT_EQ(d->ttt, Ttt(0x100 + static_cast<std::uint32_t>(i)));
      EXPECT_EQ(d->data_sn, data_sn++) << "DataSN restarts per R2T";
      EXPECT_EQ(d->buffer_offset, r2ts[i].first + covered);
      EXPECT_LE(solicited[k].data.size(), 2048u);
      covered += static_cast<std::uint32_t>(solicited[k].data.size());
      EXPECT_EQ(d->final, covered == r2ts[i].second);
      std::memcpy(got.data() + d->buffer_offset, solicited[k].data.data(),
                  solicited[k].data.size());
      ++k;
    }
  }
  EXPECT_EQ(k, solicited.size());
  EXPECT_EQ(got, data);
  t->send(Header{good_response(sc->itt)});
  EXPECT_FALSE(one_done().error);
}

INSTANTIATE_TEST_SUITE_P(
    Combinations, WriteTest,
    ::testing::Values(WriteCase{"Yes", "No", 20000, 0, 0},      // R2T only
                      WriteCase{"Yes", "Yes", 20000, 2048, 0},  // immediate, then R2T
                      WriteCase{"No", "No", 20000, 0, 8192},    // unsolicited Data-Out only
                      WriteCase{"No", "Yes", 20000, 2048, 6144},
                      WriteCase{"No", "Yes", 1000, 1000, 0},     // smaller than one PDU
                      WriteCase{"No", "No", 8192, 0, 8192},      // exactly the first burst
                      WriteCase{"No", "Yes", 4096, 2048, 2048},  // multiple of the PDU size
                      WriteCase{"Yes", "Yes", 2048, 2048, 0}),
    [](const ::testing::TestParamInfo<WriteCase>& p) {
      return std::string("InitialR2T") + p.param.initial_r2t + "_ImmediateData" +
             p.param.immediate_data + "_" + std::to_string(p.param.length) + "bytes";
    });

// ---- the command window ----

TEST_F(InitiatorTest, ZeroWindowHoldsCommandsUntilANopInOpensIt) {
  start();
  ScsiRequest r;
  r.cdb = cdb({0, 0, 0, 0, 0, 0});
  s->submit(r, now);
  auto first = t->drain_one();
  // The response closes the window: MaxCmdSN = ExpCmdSN - 1.
  t->accept_commands(1);
  t->set_window(0);
  t->send(Header{good_response(first.bhs.itt())});
  EXPECT_EQ(events<TaskDone>().size(), 1u);
  s->submit(r, now);
  s->submit(r, now);
  EXPECT_TRUE(t->drain().empty());
  EXPECT_EQ(s->tasks_waiting(), 2u);
  // A NOP-In opens a window of one: exactly one command goes.
  t->set_window(1);
  NopIn nop;
  nop.itt = Itt::reserved();
  nop.ttt = Ttt::reserved();
  t->send(Header{nop});
  auto sent = t->drain();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].as<ScsiCommand>()->cmd_sn, SerialNumber(2));
  t->accept_commands(1);
  t->set_window(8);
  t->send(Header{nop});
  sent = t->drain();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].as<ScsiCommand>()->cmd_sn, SerialNumber(3));
}

TEST_F(InitiatorTest, ManyCommandsInFlightGetConsecutiveCmdSnsAndDistinctItts) {
  start();
  t->set_window(200);
  NopIn nop;
  nop.itt = Itt::reserved();
  nop.ttt = Ttt::reserved();
  t->send(Header{nop});
  ScsiRequest r;
  r.cdb = cdb({0, 0, 0, 0, 0, 0});
  for (int i = 0; i < 128; ++i)
    s->submit(r, now);
  auto sent = t->drain();
  ASSERT_EQ(sent.size(), 128u);
  std::set<std::uint32_t> itts;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(sent[i].as<ScsiCommand>()->cmd_sn, SerialNumber(1 + static_cast<std::uint32_t>(i)));
    itts.insert(sent[i].bhs.itt().value);
  }
  EXPECT_EQ(itts.size(), 128u);
  // Complete in reverse order.
  for (auto it = sent.rbegin(); it != sent.rend(); ++it)
    t->send(Header{good_response(it->bhs.itt())});
  EXPECT_EQ(events<TaskDone>().size(), 128u);
  EXPECT_EQ(s->tasks_in_flight(), 0u);
}

TEST_F(InitiatorTest, CancelBeforeSendingSpendsNoCmdSn) {
  start();
  t->set_window(0);
  NopIn nop;
  nop.itt = Itt::reserved();
  nop.ttt = Ttt::reserved();
  t->send(Header{nop});
  ScsiRequest r;
  r.cdb = cdb({0, 0, 0, 0, 0, 0});
  const TaskId a = s->submit(r, now);
  s->submit(r, now);
  s->cancel(a, now);
  auto done = events<TaskDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].error, errc::cancelled);
  EXPECT_FALSE(done[0].may_have_executed);
  t->set_window(4);
  t->send(Header{nop});
  auto sent = t->drain();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].as<ScsiCommand>()->cmd_sn, SerialNumber(1)) << "no CmdSN skipped";
}

// ---- NOP ----

TEST_F(InitiatorTest, TargetPingIsAnsweredWithEchoedTttLunAndData) {
  start();
  NopIn ping;
  ping.itt = Itt::reserved();
  ping.ttt = Ttt(0xabbaabba);
  ping.lun = *Lun::from_number(2);
  const auto payload = pattern(10);
  t->send(Header{ping}, payload);
  const SentPdu reply = t->drain_one();
  const auto* nop = reply.as<NopOut>();
  ASSERT_NE(nop, nullptr);
  EXPECT_TRUE(nop->itt.is_reserved());
  EXPECT_EQ(nop->ttt, Ttt(0xabbaabba));
  EXPECT_EQ(nop->lun, ping.lun);
  EXPECT_TRUE(nop->immediate);
  EXPECT_EQ(reply.data, payload);
}

TEST_F(InitiatorTest, KeepalivePingsAnIdleLinkAndFailsWhenUnanswered) {
  SessionConfig c = config();
  c.keepalive_interval = 5s;
  c.keepalive_timeout = 2s;
  start(c);
  EXPECT_EQ(s->next_deadline(), now + 5s);
  now += 5s;
  s->on_timer(now);
  const SentPdu ping = t->drain_one();
  const auto* nop = ping.as<NopOut>();
  ASSERT_NE(nop, nullptr);
  EXPECT_TRUE(nop->ttt.is_reserved());
  EXPECT_FALSE(nop->itt.is_reserved());
  EXPECT_TRUE(nop->immediate);
  // Answered: no failure, next ping after another interval of silence.
  NopIn pong;
  pong.itt = nop->itt;
  pong.ttt = Ttt::reserved();
  t->send(Header{pong});
  now += 2s;
  s->on_timer(now);
  EXPECT_TRUE(s->logged_in());
  now += 5s;
  s->on_timer(now);
  ASSERT_TRUE(t->drain_one_as<NopOut>());
  now += 2s;
  s->on_timer(now);
  EXPECT_FALSE(s->logged_in());
  auto closed = events<ConnectionClosed>();
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].reason, errc::timed_out);
}

// ---- task management ----

TEST_F(InitiatorTest, AbortTaskNamesTheCommandAndEndsIt) {
  start();
  ScsiRequest r;
  r.cdb = cdb({0, 0, 0, 0, 0, 0});
  const TaskId cmd = s->submit(r, now);
  const auto cmd_pdu = t->drain_one();
  const TaskId tmf = s->submit_tmf(TmfFunction::abort_task, {}, cmd, now);
  const SentPdu p = t->drain_one();
  const auto* h = p.as<TaskMgmtRequest>();
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->function, TmfFunction::abort_task);
  EXPECT_EQ(h->referenced_task_tag, cmd_pdu.bhs.itt());
  EXPECT_EQ(h->ref_cmd_sn, SerialNumber(1));
  EXPECT_EQ(h->cmd_sn, SerialNumber(2));  // immediate: the next CmdSN, not consumed
  EXPECT_TRUE(h->immediate);
  TaskMgmtResponse rsp;
  rsp.itt = h->itt;
  t->send(Header{rsp});
  std::vector<TaskDone> done;
  std::vector<TmfDone> tmf_done;
  while (auto e = s->poll_event()) {
    if (auto* d = std::get_if<TaskDone>(&*e)) done.push_back(*d);
    if (auto* d = std::get_if<TmfDone>(&*e)) tmf_done.push_back(*d);
  }
  ASSERT_EQ(tmf_done.size(), 1u);
  EXPECT_EQ(tmf_done[0].id, tmf);
  EXPECT_EQ(tmf_done[0].response, TmfResponse::function_complete);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, cmd);
  EXPECT_EQ(done[0].error, errc::task_aborted);
}

TEST_F(InitiatorTest, TmfFunctionCodesAreRight) {
  start();
  const std::pair<TmfFunction, int> cases[] = {
      {TmfFunction::abort_task_set, 2},    {TmfFunction::clear_aca, 3},
      {TmfFunction::clear_task_set, 4},    {TmfFunction::logical_unit_reset, 5},
      {TmfFunction::target_warm_reset, 6}, {TmfFunction::target_cold_reset, 7}};
  for (auto [f, code] : cases) {
    s->submit_tmf(f, *Lun::from_number(1), std::nullopt, now);
    const SentPdu p = t->drain_one();
    EXPECT_EQ(std::to_integer<int>(p.bhs.bytes[1]), 0x80 | code);
  }
}

TEST_F(InitiatorTest, LunResetEndsEveryTaskOnThatLun) {
  start();
  ScsiRequest r;
  r.cdb = cdb({0, 0, 0, 0, 0, 0});
  r.lun = *Lun::from_number(1);
  s->submit(r, now);
  s->submit(r, now);
  r.lun = *Lun::from_number(2);
  const TaskId other = s->submit(r, now);
  auto cmds = t->drain();
  ASSERT_EQ(cmds.size(), 3u);
  s->submit_tmf(TmfFunction::logical_unit_reset, *Lun::from_number(1), std::nullopt, now);
  const auto tmf = t->drain_one();
  TaskMgmtResponse rsp;
  rsp.itt = tmf.bhs.itt();
  t->send(Header{rsp});
  auto done = events<TaskDone>();
  ASSERT_EQ(done.size(), 2u);
  for (auto& d : done) {
    EXPECT_EQ(d.error, errc::task_aborted);
    EXPECT_NE(d.id, other);
  }
}

// ---- Reject, text, logout, async ----

TEST_F(InitiatorTest, RejectIsMatchedThroughTheRejectedHeader) {
  start();
  ScsiRequest r;
  r.cdb = cdb({0, 0, 0, 0, 0, 0});
  const TaskId id = s->submit(r, now);
  const SentPdu cmd = t->drain_one();
  Reject rej;
  rej.reason = RejectReason::invalid_pdu_field;
  t->send(Header{rej}, cmd.bhs.bytes);
  const TaskDone done = one_done();
  EXPECT_EQ(done.id, id);
  EXPECT_EQ(done.error, errc::rejected);
  EXPECT_FALSE(done.may_have_executed);
}

TEST_F(InitiatorTest, SendTargetsAcrossSeveralTextResponses) {
  start();
  const TaskId id = s->submit_text({{"SendTargets", "All"}}, now);
  SentPdu req = t->drain_one();
  const auto* tr = req.as<TextRequest>();
  ASSERT_NE(tr, nullptr);
  EXPECT_TRUE(tr->final);
  EXPECT_TRUE(tr->ttt.is_reserved());
  EXPECT_EQ(core::as_chars(req.data), std::string_view("SendTargets=All\0", 16));
  // First part ends mid-key (C=1, F=0), second part ends at a key boundary (F=0), then F=1.
  const std::string all = std::string("TargetName=iqn.a\0TargetAddress=127.0.0.1:3260,1\0", 48) +
                          std::string("TargetName=iqn.b\0", 17);
  TextResponse rsp;
  rsp.itt = tr->itt;
  rsp.ttt = Ttt(0x77);
  rsp.final = false;
  rsp.cont = true;
  t->send(Header{rsp}, core::as_bytes(std::string_view(all).substr(0, 20)));
  req = t->drain_one();
  EXPECT_EQ(req.as<TextRequest>()->ttt, Ttt(0x77));
  EXPECT_TRUE(req.data.empty());
  rsp.cont = false;
  t->send(Header{rsp}, core::as_bytes(std::string_view(all).substr(20, 28)));
  req = t->drain_one();
  EXPECT_EQ(req.as<TextRequest>()->ttt, Ttt(0x77));
  rsp.final = true;
  t->send(Header{rsp}, core::as_bytes(std::string_view(all).substr(48)));
  auto done = events<TextDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, id);
  ASSERT_FALSE(done[0].error) << done[0].error.message();
  ASSERT_EQ(done[0].keys.size(), 3u);
  EXPECT_EQ(done[0].keys[2].value, "iqn.b");
}

TEST_F(InitiatorTest, LogoutWaitsForTasksInFlightThenClosesCleanly) {
  start();
  ScsiRequest r;
  r.cdb = cdb({0, 0, 0, 0, 0, 0});
  s->submit(r, now);
  const auto cmd = t->drain_one();
  const TaskId lo = s->logout(now, now + 10s);
  EXPECT_TRUE(t->drain().empty());
  // New work is refused while logging out.
  s->submit(r, now);
  EXPECT_EQ(one_done().error, errc::session_closed);
  t->send(Header{good_response(cmd.bhs.itt())});
  EXPECT_FALSE(one_done().error);
  const SentPdu p = t->drain_one();
  const auto* h = p.as<LogoutRequest>();
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->reason, LogoutReason::close_session);
  LogoutResponse rsp;
  rsp.itt = h->itt;
  rsp.time2wait = 2;
  t->send(Header{rsp});
  std::vector<LogoutDone> lds;
  std::vector<ConnectionClosed> closed;
  while (auto e = s->poll_event()) {
    if (auto* d = std::get_if<LogoutDone>(&*e)) lds.push_back(*d);
    if (auto* d = std::get_if<ConnectionClosed>(&*e)) closed.push_back(*d);
  }
  ASSERT_EQ(lds.size(), 1u);
  EXPECT_EQ(lds[0].id, lo);
  EXPECT_FALSE(lds[0].error);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_FALSE(closed[0].reason);
  EXPECT_TRUE(s->closed());
}

// Every LogoutDone the engine has queued.
std::vector<LogoutDone> logout_dones(core::InitiatorSession& s) {
  std::vector<LogoutDone> out;
  while (auto e = s.poll_event())
    if (auto* d = std::get_if<LogoutDone>(&*e)) out.push_back(*d);
  return out;
}

TEST_F(InitiatorTest, LogoutWaitingForTasksGoesOutAtItsDeadline) {
  start();
  ScsiRequest r;
  r.cdb = cdb({0, 0, 0, 0, 0, 0});
  s->submit(r, now);
  t->drain_one();  // the command, never answered
  s->logout(now, now + 400ms);
  EXPECT_TRUE(t->drain().empty());
  // An event loop sleeps until next_deadline(): the logout's deadline must be among them.
  const auto d = s->next_deadline();
  ASSERT_TRUE(d);
  EXPECT_LE(*d, now + 400ms);
  now += 400ms;
  s->on_timer(now);
  const SentPdu p = t->drain_one();
  ASSERT_NE(p.as<LogoutRequest>(), nullptr) << p.describe();
  // Sent: its deadline is no longer one.
  const auto after = s->next_deadline();
  EXPECT_TRUE(!after || *after > now);
}

TEST_F(InitiatorTest, RejectedLogoutLeavesTheSessionUsable) {
  start();
  const TaskId lo = s->logout(now, now + 1s);
  const SentPdu req = t->drain_one();
  ASSERT_NE(req.as<LogoutRequest>(), nullptr);
  Reject rej;
  rej.reason = RejectReason::invalid_pdu_field;
  t->send(Header{rej}, req.bhs.bytes);
  const auto lds = logout_dones(*s);
  ASSERT_EQ(lds.size(), 1u);
  EXPECT_EQ(lds[0].id, lo);
  EXPECT_EQ(lds[0].error, errc::rejected);
  EXPECT_FALSE(s->closed());
  const auto d = s->next_deadline();
  EXPECT_TRUE(!d || *d > now) << "no stale logout deadline";
  // Commands go out again, and so does another logout.
  ScsiRequest r;
  r.cdb = cdb({0, 0, 0, 0, 0, 0});
  s->submit(r, now);
  ASSERT_TRUE(t->drain_one_as<ScsiCommand>());
  s->logout(now, std::nullopt);
  EXPECT_TRUE(logout_dones(*s).empty());
}

TEST_F(InitiatorTest, SecondLogoutWhileOneIsPendingIsBusy) {
  start();
  ScsiRequest r;
  r.cdb = cdb({0, 0, 0, 0, 0, 0});
  s->submit(r, now);
  t->drain_one();
  const TaskId first = s->logout(now, now + 10s, LogoutReason::close_connection, cid);
  const TaskId second = s->logout(now, now + 10s);
  auto lds = logout_dones(*s);
  ASSERT_EQ(lds.size(), 1u);
  EXPECT_EQ(lds[0].id, second);
  EXPECT_EQ(lds[0].error, errc::busy);
  // The first one still ends, with the connection.
  s->connection_lost(cid, make_error_code(errc::connection_closed), now);
  lds = logout_dones(*s);
  ASSERT_EQ(lds.size(), 1u);
  EXPECT_EQ(lds[0].id, first);
  EXPECT_EQ(lds[0].error, errc::connection_closed);
}

TEST_F(InitiatorTest, AsyncLogoutRequestLeadsToLogoutWithinParameter3) {
  start();
  AsyncMessage a;
  a.async_event = AsyncEvent::logout_request;
  a.parameter3 = 5;
  t->send(Header{a});
  const SentPdu p = t->drain_one();
  const auto* h = p.as<LogoutRequest>();
  ASSERT_NE(h, nullptr) << p.describe();
  EXPECT_EQ(h->cid, cid);
  EXPECT_TRUE(p.data.empty());
  EXPECT_TRUE(p.ahs.empty());
}

TEST_F(InitiatorTest, MalformedPduFromTargetClosesTheConnectionWithAClearError) {
  start();
  ScsiRequest r;
  r.cdb = cdb({0, 0, 0, 0, 0, 0});
  const TaskId id = s->submit(r, now);
  t->drain();
  Bhs junk;
  junk.bytes[0] = std::byte{0x1e};  // no such opcode
  t->send_raw(junk.bytes);
  std::vector<TaskDone> done;
  std::vector<ConnectionClosed> closed;
  while (auto e = s->poll_event()) {
    if (auto* d = std::get_if<TaskDone>(&*e)) done.push_back(*d);
    if (auto* d = std::get_if<ConnectionClosed>(&*e)) closed.push_back(*d);
  }
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].reason, protocol_errc::unknown_opcode);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, id);
  EXPECT_EQ(done[0].error, errc::connection_closed);
}

TEST_F(InitiatorTest, TaskDeadlineAbortsAndReleasesTheCaller) {
  start();
  std::vector<std::byte> buf(512);
  ScsiRequest r;
  r.cdb = kRead10;
  r.data_in = buf;
  r.deadline = now + 3s;
  const TaskId id = s->submit(r, now);
  t->drain();
  EXPECT_EQ(s->next_deadline(), now + 3s);
  now += 3s;
  s->on_timer(now);
  const TaskDone done = one_done();
  EXPECT_EQ(done.id, id);
  EXPECT_EQ(done.error, errc::timed_out);
  ASSERT_TRUE(t->drain_one_as<TaskMgmtRequest>());
}

}  // namespace
}  // namespace uiscsi::core

namespace uiscsi::core {
namespace {

class InitiatorAhsTest : public InitiatorTest {};

TEST_F(InitiatorAhsTest, ExtendedCdbGoesInAnAhs) {
  start();
  std::vector<std::byte> cdb(32);
  for (std::size_t i = 0; i < cdb.size(); ++i)
    cdb[i] = static_cast<std::byte>(0x7f + i);
  ScsiRequest r;
  r.cdb = CdbBytes::from(cdb);
  s->submit(r, now);
  const SentPdu p = t->drain_one();
  const auto* sc = p.as<ScsiCommand>();
  ASSERT_NE(sc, nullptr);
  EXPECT_EQ(sc->cdb[0], std::byte{0x7f});
  EXPECT_EQ(sc->cdb[15], std::byte{0x8e});
  auto ahs = parse_ahs(p.ahs);
  ASSERT_TRUE(ahs);
  ASSERT_EQ(ahs->extended_cdb.size(), 16u);
  EXPECT_EQ(ahs->extended_cdb[0], std::byte{0x8f});
  EXPECT_FALSE(ahs->bidi_read_expected_data_transfer_length);
}

TEST_F(InitiatorAhsTest, BidirectionalCommandSharesDataSnWithR2tSn) {
  start();
  const auto out = pattern(4096, 3);
  std::vector<std::byte> in(2048);
  ScsiRequest r;
  r.cdb = cdb({0x53, 0, 0, 0, 0, 0, 0, 0, 8, 0});  // XDWRITEREAD(10)
  r.data_out = out;
  r.data_in = in;
  const TaskId id = s->submit(r, now);
  SentPdu p = t->drain_one();
  const auto* sc = p.as<ScsiCommand>();
  ASSERT_NE(sc, nullptr);
  EXPECT_TRUE(sc->read);
  EXPECT_TRUE(sc->write);
  EXPECT_EQ(sc->expected_data_transfer_length, 4096u) << "EDTL is the write length";
  auto ahs = parse_ahs(p.ahs);
  ASSERT_TRUE(ahs);
  EXPECT_EQ(ahs->bidi_read_expected_data_transfer_length, 2048u);
  // R2T takes number 0 of the shared sequence, Data-In number 1 (section 11.7.5).
  R2t r2t;
  r2t.itt = sc->itt;
  r2t.ttt = Ttt(9);
  r2t.r2t_sn = 0;
  r2t.desired_data_transfer_length = 4096;
  t->send(Header{r2t});
  std::vector<std::byte> got;
  for (auto& d : t->drain())
    got.insert(got.end(), d.data.begin(), d.data.end());
  EXPECT_EQ(got, out);
  DataIn din;
  din.itt = sc->itt;
  din.data_sn = 1;
  din.final = true;
  din.status_present = true;
  const auto back = pattern(2048, 4);
  t->send(Header{din}, back);
  const TaskDone done = one_done();
  EXPECT_EQ(done.id, id);
  ASSERT_FALSE(done.error) << done.error.message();
  EXPECT_EQ(in, back);
}

}  // namespace
}  // namespace uiscsi::core

namespace uiscsi::core {
namespace {

// Error recovery level 0: the session is reinstated and safe commands go again.
class RecoveryTest : public InitiatorTest {
 protected:
  SessionConfig recovering_config() {
    SessionConfig c = config();
    c.recovery = true;
    c.max_recovery_attempts = 3;
    c.recovery_backoff = 100ms;
    return c;
  }
  // Replaces the scripted target by a fresh one on the new connection and logs in.
  void reconnect(std::uint16_t tsih = 0x20) {
    cid = s->open_connection(now);
    t = std::make_unique<ScriptedTarget>(*s, cid, &now);
    t->login({}, 8192, tsih);
  }
};

TEST_F(RecoveryTest, SafeCommandsAreReissuedInCmdSnOrderAfterReinstatement) {
  start(recovering_config());
  const std::uint64_t isid = s->isid();
  std::vector<std::byte> a(512);
  ScsiRequest read_a;
  read_a.cdb = kRead10;
  read_a.data_in = a;
  ScsiRequest write_b;
  write_b.cdb = kWrite10;
  const auto data = pattern(4096);
  write_b.data_out = data;
  ScsiRequest tape_write;  // WRITE(6): on a tape this moves the medium; never repeated silently
  tape_write.cdb = cdb({0x0a, 0, 0, 1, 0, 0});
  tape_write.data_out = std::span(data).first(512);
  s->submit(read_a, now);
  s->submit(write_b, now);
  const TaskId it = s->submit(tape_write, now);
  ASSERT_EQ(t->drain().size(), 3u);

  s->connection_lost(cid, make_error_code(errc::connection_closed), now);
  std::vector<RecoveryNeeded> needed;
  std::vector<TaskDone> done;
  while (auto e = s->poll_event()) {
    if (auto* x = std::get_if<RecoveryNeeded>(&*e)) needed.push_back(*x);
    if (auto* x = std::get_if<TaskDone>(&*e)) done.push_back(*x);
  }
  ASSERT_EQ(needed.size(), 1u);
  EXPECT_EQ(needed[0].attempt, 1);
  EXPECT_EQ(needed[0].delay, 2s) << "DefaultTime2Wait";
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, it);
  EXPECT_EQ(done[0].error, errc::connection_closed);
  EXPECT_TRUE(done[0].may_have_executed) << "it was sent: the caller must know it may have run";
  EXPECT_TRUE(s->recovering());

  now += 2s;
  reconnect();
  EXPECT_EQ(t->first_login_request.isid, isid) << "reinstatement keeps the ISID";
  EXPECT_EQ(t->first_login_request.tsih, 0) << "and asks with TSIH 0";
  auto sent = t->drain();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].as<ScsiCommand>()->cdb[0], std::byte{0x28}) << "in the original order";
  EXPECT_EQ(sent[1].as<ScsiCommand>()->cdb[0], std::byte{0x2a});
  // The write's data goes out again from the caller's buffer.
  EXPECT_EQ(sent[1].as<ScsiCommand>()->expected_data_transfer_length, 4096u);
}

TEST_F(RecoveryTest, RecoveryThenRetriedCommandsComplete) {
  start(recovering_config());
  std::vector<std::byte> a(512);
  ScsiRequest r;
  r.cdb = kRead10;
  r.data_in = a;
  const TaskId id = s->submit(r, now);
  const auto old_cmd = t->drain_one();
  s->connection_lost(cid, make_error_code(errc::connection_closed), now);
  ASSERT_EQ(events<RecoveryNeeded>().size(), 1u);
  ScsiRequest tur;
  tur.cdb = cdb({0, 0, 0, 0, 0, 0});
  const TaskId later = s->submit(tur, now);
  now += 2s;
  reconnect();
  ASSERT_TRUE(s->logged_in());
  EXPECT_FALSE(s->recovering());
  auto sent = t->drain();
  ASSERT_EQ(sent.size(), 2u);
  const auto* again = sent[0].as<ScsiCommand>();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->cdb, old_cmd.as<ScsiCommand>()->cdb) << "the interrupted read goes first";
  EXPECT_EQ(sent[1].as<ScsiCommand>()->cdb[0], std::byte{0});
  EXPECT_EQ(again->cmd_sn, sent[1].as<ScsiCommand>()->cmd_sn - 1);
  DataIn d;
  d.itt = again->itt;
  d.final = true;
  d.status_present = true;
  const auto data = pattern(512, 5);
  t->send(Header{d}, data);
  ScsiResponse rsp;
  rsp.itt = sent[1].bhs.itt();
  t->send(Header{rsp});
  auto done = events<TaskDone>();
  ASSERT_EQ(done.size(), 2u);
  for (auto& x : done) {
    EXPECT_FALSE(x.error) << x.error.message();
    EXPECT_TRUE(x.id == id || x.id == later);
  }
  EXPECT_EQ(a, data);
}

TEST_F(RecoveryTest, GivesUpAfterTheLastAttempt) {
  start(recovering_config());
  ScsiRequest r;
  r.cdb = kRead10;
  std::vector<std::byte> a(512);
  r.data_in = a;
  s->submit(r, now);
  t->drain();
  std::vector<Duration> delays;
  std::vector<RecoveryFailed> failed;
  std::vector<TaskDone> done;
  auto collect = [&] {
    while (auto e = s->poll_event()) {
      if (auto* x = std::get_if<RecoveryNeeded>(&*e)) delays.push_back(x->delay);
      if (auto* x = std::get_if<RecoveryFailed>(&*e)) failed.push_back(*x);
      if (auto* x = std::get_if<TaskDone>(&*e)) done.push_back(*x);
    }
  };
  s->connection_lost(cid, make_error_code(errc::connection_closed), now);
  collect();
  for (int i = 0; i < 3; ++i) {
    s->reconnect_failed(std::make_error_code(std::errc::connection_refused), now);
    collect();
  }
  // Time2Wait, then Time2Wait plus a doubling backoff; the fourth failure ends it.
  ASSERT_EQ(delays.size(), 3u);
  EXPECT_EQ(delays[0], 2s);
  EXPECT_EQ(delays[1], 2s + 100ms);
  EXPECT_EQ(delays[2], 2s + 200ms);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].reason, std::errc::connection_refused);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].error, errc::connection_closed);
  EXPECT_TRUE(done[0].may_have_executed);
  EXPECT_TRUE(s->closed());
}

TEST_F(RecoveryTest, ACommandIsRepeatedAtMostMaxCommandReplaysTimes) {
  SessionConfig c = recovering_config();
  c.max_command_replays = 2;
  start(c);
  std::vector<std::byte> a(512);
  ScsiRequest r;
  r.cdb = kRead10;
  r.data_in = a;
  r.retry = RetryPolicy::always;
  const TaskId id = s->submit(r, now);
  for (int sent = 1; sent <= 3; ++sent) {
    ASSERT_EQ(t->drain().size(), 1u) << "send " << sent;
    s->connection_lost(cid, make_error_code(errc::connection_closed), now);
    const auto done = events<TaskDone>();
    if (sent <= 2) {
      EXPECT_TRUE(done.empty()) << "repeated after loss " << sent;
      now += 2s;
      reconnect();
    } else {
      ASSERT_EQ(done.size(), 1u);
      EXPECT_EQ(done[0].id, id);
      EXPECT_EQ(done[0].error, errc::connection_closed);
      EXPECT_TRUE(done[0].may_have_executed);
    }
  }
  EXPECT_TRUE(s->recovering()) << "the session itself still recovers";
}

TEST_F(RecoveryTest, NoRecoveryAfterALogoutWasAsked) {
  start(recovering_config());
  s->logout(now, now + 5s);
  t->drain();
  s->connection_lost(cid, make_error_code(errc::connection_closed), now);
  EXPECT_TRUE(events<RecoveryNeeded>().empty());
  EXPECT_FALSE(s->recovering());
}

// Fixed-format sense: UNIT ATTENTION with the given ASC/ASCQ, as the response data segment
// carries it (SenseLength first).
std::vector<std::byte> unit_attention_segment(std::uint8_t asc, std::uint8_t ascq) {
  std::vector<std::byte> seg(2 + 18);
  seg[1] = std::byte{18};
  seg[2] = std::byte{0x70};
  seg[2 + 2] = std::byte{0x06};
  seg[2 + 7] = std::byte{10};
  seg[2 + 12] = std::byte{asc};
  seg[2 + 13] = std::byte{ascq};
  return seg;
}

TEST_F(RecoveryTest, ResetUnitAttentionAfterReinstatementIsAbsorbedOncePerLu) {
  start(recovering_config());
  ScsiRequest tur;
  tur.cdb = cdb({0, 0, 0, 0, 0, 0});
  s->submit(tur, now);
  t->drain();
  s->connection_lost(cid, make_error_code(errc::connection_closed), now);
  now += 2s;
  reconnect();
  auto first = t->drain_one();
  ASSERT_NE(first.as<ScsiCommand>(), nullptr);
  ScsiResponse ua;
  ua.itt = first.bhs.itt();
  ua.status = 0x02;
  t->send(Header{ua}, unit_attention_segment(0x29, 0x07));
  int absorbed = 0, done_early = 0;
  while (auto e = s->poll_event()) {
    absorbed += std::holds_alternative<ResetAttentionAbsorbed>(*e) ? 1 : 0;
    done_early += std::holds_alternative<TaskDone>(*e) ? 1 : 0;
  }
  EXPECT_EQ(done_early, 0) << "the nexus loss attention is ours, not the caller's";
  EXPECT_EQ(absorbed, 1);
  auto again = t->drain_one();
  ASSERT_NE(again.as<ScsiCommand>(), nullptr);
  EXPECT_EQ(again.as<ScsiCommand>()->cdb[0], std::byte{0});
  EXPECT_EQ(again.as<ScsiCommand>()->cmd_sn, first.as<ScsiCommand>()->cmd_sn + 1);
  ScsiResponse good;
  good.itt = again.bhs.itt();
  t->send(Header{good});
  auto done = events<TaskDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].error);
  EXPECT_EQ(done[0].result.status, 0);

  // A later reset (someone's LOGICAL UNIT RESET) reaches the caller.
  const TaskId later = s->submit(tur, now);
  auto cmd = t->drain_one();
  ScsiResponse ua2;
  ua2.itt = cmd.bhs.itt();
  ua2.status = 0x02;
  t->send(Header{ua2}, unit_attention_segment(0x29, 0x03));
  done = events<TaskDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, later);
  EXPECT_EQ(done[0].result.status, 0x02);
}

TEST_F(RecoveryTest, AsyncConnectionDropUsesTheTargetsTime2Wait) {
  start(recovering_config());
  AsyncMessage m;
  m.async_event = AsyncEvent::connection_drop;
  m.parameter2 = 7;  // Time2Wait
  m.parameter3 = 20;
  t->send(Header{m});
  std::vector<ConnectionClosed> closed;
  std::vector<RecoveryNeeded> needed;
  while (auto e = s->poll_event()) {
    if (auto* c = std::get_if<ConnectionClosed>(&*e)) closed.push_back(*c);
    if (auto* r = std::get_if<RecoveryNeeded>(&*e)) needed.push_back(*r);
  }
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].time2wait, std::optional<std::uint16_t>(7));  // for an MC/S replacement
  ASSERT_EQ(needed.size(), 1u);
  EXPECT_EQ(needed[0].delay, 7s);
}

TEST(RetryPolicy, AutomaticRetriesOnlyWhatIsSafeOnAnyDevice) {
  auto safe = [](std::initializer_list<int> bytes) {
    std::vector<std::byte> v;
    for (int b : bytes)
      v.push_back(static_cast<std::byte>(b));
    return retry_is_safe(v);
  };
  EXPECT_TRUE(safe({0x28}));        // READ(10)
  EXPECT_TRUE(safe({0x8a}));        // WRITE(16)
  EXPECT_TRUE(safe({0x12}));        // INQUIRY
  EXPECT_TRUE(safe({0x9e, 0x10}));  // READ CAPACITY(16)
  EXPECT_FALSE(safe({0x08}));       // READ(6): a tape read moves the medium
  EXPECT_FALSE(safe({0x0a}));       // WRITE(6)
  EXPECT_FALSE(safe({0x10}));       // WRITE FILEMARKS
  EXPECT_FALSE(safe({0x11}));       // SPACE
  EXPECT_FALSE(safe({0x91}));       // SPACE(16) / SYNCHRONIZE CACHE(16): ambiguous, so no
  EXPECT_FALSE(safe({0x89}));       // COMPARE AND WRITE
  EXPECT_FALSE(safe({0x5f}));       // PERSISTENT RESERVE OUT
  EXPECT_FALSE(safe({0x9e, 0x1f}));
  EXPECT_FALSE(retry_is_safe({}));
}

}  // namespace
}  // namespace uiscsi::core
