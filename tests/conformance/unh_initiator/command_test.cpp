// UNH-IOL initiator full feature phase: command numbering, the command window, NOP, task
// management, Data-In and the statuses a command may end with (groups 1 to 5, 10, 11.1.2, 15,
// 16.4, 16.5, 19). RFC 7143 sections 4.2.2, 11.3-11.7, 11.18, 11.19. The engine against a
// scripted target, PDU by PDU, in virtual time.
#include "conformance/kit/initiator_kit.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

using UnhInitiatorFfp = UnhInitiator;

// 1.1: every non-immediate command raises CmdSN by one, counting from the first Login Request.
TEST_F(UnhInitiatorFfp, Initiator_FFP_1_1_CommandNumbering) {
  open();
  SerialNumber expected = t->first_login_request.cmd_sn;
  for (int i = 0; i < 5; ++i) {
    tur();
    const SentPdu p = t->drain_one();
    ASSERT_NE(p.as<ScsiCommand>(), nullptr);
    EXPECT_FALSE(p.as<ScsiCommand>()->immediate);
    EXPECT_EQ(p.as<ScsiCommand>()->cmd_sn, expected) << "command " << i;
    ++expected;
    respond(p.as<ScsiCommand>()->itt);
  }
  t->accept_commands(5);
}

// 2.1: an immediate non-TMF request (our keepalive NOP-Out ping, I=1) carries the current CmdSN
// and the next command reuses it.
TEST_F(UnhInitiatorFfp, Initiator_FFP_2_1_ImmediateDeliveryNonTMF) {
  open({.keepalive = std::chrono::seconds(5)});
  now += std::chrono::seconds(6);
  s->on_timer(now);
  const SentPdu ping = t->drain_one();
  const auto* n = ping.as<NopOut>();
  ASSERT_NE(n, nullptr) << ping.describe();
  ASSERT_TRUE(n->immediate);
  tur();
  const SentPdu cmd = t->drain_one();
  ASSERT_NE(cmd.as<ScsiCommand>(), nullptr);
  EXPECT_EQ(cmd.as<ScsiCommand>()->cmd_sn, n->cmd_sn);
}

// 2.2: an immediate TMF (ABORT TASK of an unanswered command) takes the next CmdSN value, and the
// following command reuses it.
TEST_F(UnhInitiatorFfp, Initiator_FFP_2_2_ImmediateDeliveryTMF) {
  open();
  const TaskId id = tur();
  const auto first = t->drain_one_as<ScsiCommand>();
  ASSERT_TRUE(first);
  const SerialNumber next = first->cmd_sn + 1;
  s->submit_tmf(TmfFunction::abort_task, Lun(), id, now);
  const SentPdu tmf = t->drain_one();
  const auto* m = tmf.as<TaskMgmtRequest>();
  ASSERT_NE(m, nullptr) << tmf.describe();
  EXPECT_TRUE(m->immediate);
  EXPECT_EQ(m->cmd_sn, next);
  tur();
  EXPECT_EQ(t->drain_one_as<ScsiCommand>()->cmd_sn, next);
}

// 3.1: MaxCmdSN = ExpCmdSN - 1 (window zero): no command until a NOP-In opens the window.
TEST_F(UnhInitiatorFfp, Initiator_FFP_3_1_ZeroCommandWindow) {
  open();
  t->set_window(0);
  nop_in(Ttt::reserved());
  tur();
  EXPECT_TRUE(t->drain().empty()) << "a command through a closed window";
  t->set_window(4);
  nop_in(Ttt::reserved());
  EXPECT_TRUE(t->drain_one_as<ScsiCommand>());
}

// 3.2: MaxCmdSN about 100 above ExpCmdSN: several commands go out without a window update.
TEST_F(UnhInitiatorFfp, Initiator_FFP_3_2_LargeCommandWindow) {
  open();
  t->set_window(100);
  nop_in(Ttt::reserved());
  for (int i = 0; i < 10; ++i)
    tur();
  EXPECT_EQ(t->drain().size(), 10u);
}

// 3.3: MaxCmdSN = ExpCmdSN (window one): one command until a NOP-In raises MaxCmdSN.
TEST_F(UnhInitiatorFfp, Initiator_FFP_3_3_WindowOfOne) {
  open();
  t->set_window(1);
  nop_in(Ttt::reserved());
  tur();
  tur();
  tur();
  EXPECT_EQ(t->drain().size(), 1u);
  t->accept_commands(1);
  nop_in(Ttt::reserved());
  EXPECT_EQ(t->drain().size(), 1u) << "one more per window step";
}

// 4.1: ERL 1, a command the target never saw (its NOP-In answer to the probe shows ExpCmdSN not
// past it) is sent again with the same ITT, flags, LUN, CDB and CmdSN on the same connection.
TEST_F(UnhInitiatorFfp, Initiator_FFP_4_1_CommandRetry) {
  open({.erl = 1, .probe = std::chrono::seconds(1)});
  const Lun lun = Lun();
  read(2048, lun);
  const SentPdu first = t->drain_one();
  const auto* c = first.as<ScsiCommand>();
  ASSERT_NE(c, nullptr);
  now += std::chrono::seconds(2);
  s->on_timer(now);
  const SentPdu probe = t->drain_one();
  const auto* n = probe.as<NopOut>();
  ASSERT_NE(n, nullptr) << probe.describe();
  NopIn answer;
  answer.itt = n->itt;
  answer.ttt = Ttt::reserved();
  t->send(Header{answer});  // ExpCmdSN still at the lost command
  const auto again = t->drain();
  ASSERT_FALSE(again.empty());
  const auto* r = again.back().as<ScsiCommand>();
  ASSERT_NE(r, nullptr) << again.back().describe();
  // RFC 7143 section 6.2.1: the retry keeps ITT, flags, LUN, CDB and CmdSN; ExpStatSN is the
  // current one (the probe's answer advanced it).
  ScsiCommand same = *r;
  same.exp_stat_sn = c->exp_stat_sn;
  EXPECT_TRUE(same == *c) << "retry differs: " << again.back().describe() << " vs "
                          << first.describe();
  EXPECT_EQ(r->exp_stat_sn, t->next_stat_sn());
  EXPECT_EQ(s->erl1_counters().command_retries, 1u);
}

// 5.1: a response whose StatSN is 2^31 from the expected one starts recovery; at ERL 0 the
// connection (and so the session) may close. The command must not end as a success.
TEST_F(UnhInitiatorFfp, Initiator_FFP_5_1_ExpStatSnGap) {
  open();
  const TaskId id = tur();
  const auto c = t->drain_one_as<ScsiCommand>();
  ASSERT_TRUE(c);
  ScsiResponse r = good_response(c->itt);
  r.stat_sn = t->next_stat_sn() + 0x80000000u;
  t->send(Header{r});
  bool closed = false, succeeded = false;
  while (auto e = s->poll_event()) {
    if (std::holds_alternative<ConnectionClosed>(*e)) closed = true;
    if (const auto* d = std::get_if<TaskDone>(&*e); d && d->id == id && !d->error) succeeded = true;
  }
  EXPECT_TRUE(closed || s->recovering() || s->closed()) << "no recovery after a StatSN gap";
  EXPECT_FALSE(succeeded);
}

// 10.1: GOOD status in the last Data-In (S=1, F=1) completes the READ; the next command follows
// without a SCSI Response.
TEST_F(UnhInitiatorFfp, Initiator_FFP_10_1_StatusInDataIn) {
  open();
  const TaskId id = read(1024);
  const auto c = t->drain_one_as<ScsiCommand>();
  ASSERT_TRUE(c);
  DataIn d;
  d.itt = c->itt;
  d.final = true;
  d.status_present = true;
  t->send(Header{d}, pattern(1024));
  const TaskDone done = one_done();
  EXPECT_EQ(done.id, id);
  EXPECT_FALSE(done.error);
  EXPECT_EQ(done.result.data_in_bytes, 1024u);
  tur();
  EXPECT_TRUE(t->drain_one_as<ScsiCommand>());
}

// 11.1.2: a Data-In with DataSegmentLength 0 is not an error.
TEST_F(UnhInitiatorFfp, Initiator_FFP_11_1_2_ZeroLengthDataIn) {
  open();
  const TaskId id = read(1024);
  const auto c = t->drain_one_as<ScsiCommand>();
  ASSERT_TRUE(c);
  DataIn d;
  d.itt = c->itt;
  d.data_sn = 0;
  t->send(Header{d});  // empty
  d.data_sn = 1;
  d.final = true;
  d.status_present = true;
  t->send(Header{d}, pattern(1024));
  const TaskDone done = one_done();
  EXPECT_EQ(done.id, id);
  EXPECT_FALSE(done.error) << done.error.message();
  EXPECT_TRUE(s->logged_in());
}

// 15.1: a target ping (NOP-In with TTT, ITT 0xffffffff) is answered by a NOP-Out with the same
// TTT and LUN, ITT 0xffffffff, I=1, DSL 0; the next command's CmdSN is not advanced by it.
TEST_F(UnhInitiatorFfp, Initiator_FFP_15_1_NOPOutPingReply) {
  open();
  const Lun lun = Lun::from_u64(0x0001000000000000ull);
  nop_in(Ttt(0xcafe), lun);
  const SentPdu p = t->drain_one();
  const auto* n = p.as<NopOut>();
  ASSERT_NE(n, nullptr) << p.describe();
  EXPECT_EQ(n->ttt, Ttt(0xcafe));
  EXPECT_EQ(n->lun, lun);
  EXPECT_TRUE(n->itt.is_reserved());
  EXPECT_TRUE(n->immediate);
  EXPECT_EQ(p.bhs.data_segment_length(), 0u);
  tur();
  EXPECT_EQ(t->drain_one_as<ScsiCommand>()->cmd_sn, n->cmd_sn);
}

// 15.2: our own ping after idle time: TTT 0xffffffff, LUN 0, a valid ITT; the next command's
// CmdSN follows from the I bit.
TEST_F(UnhInitiatorFfp, Initiator_FFP_15_2_NOPOutPingRequest) {
  open({.keepalive = std::chrono::seconds(30)});
  now += std::chrono::seconds(31);
  s->on_timer(now);
  const SentPdu p = t->drain_one();
  const auto* n = p.as<NopOut>();
  ASSERT_NE(n, nullptr) << p.describe();
  EXPECT_TRUE(n->ttt.is_reserved());
  EXPECT_EQ(n->lun, Lun());
  EXPECT_FALSE(n->itt.is_reserved());
  tur();
  const auto c = t->drain_one_as<ScsiCommand>();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cmd_sn, n->immediate ? n->cmd_sn : n->cmd_sn + 1);
}

// 15.3: a NOP-Out only confirming ExpStatSN: TTT and ITT 0xffffffff, LUN 0, I=1, CmdSN not
// advanced.
TEST_F(UnhInitiatorFfp, Initiator_FFP_15_3_NOPOutExpStatSnConfirmation) {
  open({.exp_stat_sn_ack_threshold = 2});
  tur();
  tur();
  const auto cmds = t->drain();
  ASSERT_EQ(cmds.size(), 2u);
  t->accept_commands(2);
  respond(cmds[0].as<ScsiCommand>()->itt);
  EXPECT_TRUE(t->drain().empty()) << "one StatSN unacknowledged is below the threshold";
  respond(cmds[1].as<ScsiCommand>()->itt);
  std::optional<NopOut> ack;
  for (const auto& p : t->drain())
    if (const auto* n = p.as<NopOut>()) ack = *n;
  ASSERT_TRUE(ack) << "no ExpStatSN confirmation with 2 StatSNs unacknowledged and nothing to send";
  EXPECT_TRUE(ack->itt.is_reserved());
  EXPECT_TRUE(ack->ttt.is_reserved());
  EXPECT_EQ(ack->lun, Lun());
  EXPECT_TRUE(ack->immediate);
  EXPECT_EQ(ack->exp_stat_sn, t->next_stat_sn())
      << "the confirmation carries the current ExpStatSN";
  tur();
  EXPECT_EQ(t->drain_one_as<ScsiCommand>()->cmd_sn, ack->cmd_sn);
}

// 16.4.1 - 16.4.6: a command ending in CHECK CONDITION (47/05, 0C/0C, 0C/0D), BUSY or
// RESERVATION CONFLICT is not a success: the engine hands the status and sense to its caller,
// whose retry goes out as a new command under a new CmdSN and ITT (the engine never repeats a
// completed command by itself; retry policy belongs to the SCSI layer above it).
void check_status_not_success(UnhInitiator& f, ScriptedTarget& t, bool is_write,
                              std::uint8_t status, std::uint8_t key, std::uint8_t asc,
                              std::uint8_t ascq, std::function<TaskId()> submit,
                              std::function<std::vector<TaskDone>()> done) {
  const TaskId id = submit();
  auto sent = t.drain();
  ASSERT_FALSE(sent.empty());
  const auto* c = sent[0].as<ScsiCommand>();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->write, is_write);
  ScsiResponse r;
  r.itt = c->itt;
  r.status = status;
  std::vector<std::byte> seg;
  if (status == 0x02) {
    seg.assign(2 + 18, std::byte{0});
    seg[1] = std::byte{18};
    seg[2] = std::byte{0x70};
    seg[4] = std::byte{key};
    seg[9] = std::byte{10};
    seg[14] = std::byte{asc};
    seg[15] = std::byte{ascq};
  }
  t.send(Header{r}, seg);
  const auto d = done();
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].id, id);
  EXPECT_TRUE(d[0].error || d[0].result.status == status) << "reported as success";
  EXPECT_NE(d[0].result.status, 0);
  if (status == 0x02) {
    ASSERT_GE(d[0].result.sense.size(), 14u);
    EXPECT_EQ(std::to_integer<int>(d[0].result.sense[12]), asc);
  }
  t.accept_commands(1);
  submit();  // the caller's retry
  const auto again = t.drain();
  ASSERT_FALSE(again.empty());
  const auto* c2 = again[0].as<ScsiCommand>();
  ASSERT_NE(c2, nullptr);
  EXPECT_EQ(c2->cmd_sn, c->cmd_sn + 1) << "a retry after status is a new command";
  EXPECT_NE(c2->itt, c->itt);
  (void)f;
}

TEST_F(UnhInitiatorFfp, Initiator_FFP_16_4_1_CHECKCONDITIONCRCErrorSense) {
  open({.immediate_data = true});
  check_status_not_success(
      *this, *t, true, 0x02, 0x0b, 0x47, 0x05, [&] { return write(512); },
      [&] { return events<TaskDone>(); });
}
TEST_F(UnhInitiatorFfp, Initiator_FFP_16_4_3_CHECKCONDITIONUnexpectedUnsolicitedData) {
  open({.immediate_data = true});
  check_status_not_success(
      *this, *t, true, 0x02, 0x0b, 0x0c, 0x0c, [&] { return write(512); },
      [&] { return events<TaskDone>(); });
}
TEST_F(UnhInitiatorFfp, Initiator_FFP_16_4_4_CHECKCONDITIONWrongAmountOfData) {
  open({.immediate_data = true});
  check_status_not_success(
      *this, *t, true, 0x02, 0x0b, 0x0c, 0x0d, [&] { return write(512); },
      [&] { return events<TaskDone>(); });
}
TEST_F(UnhInitiatorFfp, Initiator_FFP_16_4_5_BUSYStatus) {
  open();
  check_status_not_success(
      *this, *t, false, 0x08, 0, 0, 0, [&] { return read(512); },
      [&] { return events<TaskDone>(); });
}
TEST_F(UnhInitiatorFfp, Initiator_FFP_16_4_6_RESERVATIONCONFLICT) {
  open();
  check_status_not_success(
      *this, *t, false, 0x18, 0, 0, 0, [&] { return read(512); },
      [&] { return events<TaskDone>(); });
}

// 16.4.2: one Data-In withheld (DataSN 1 of 3) at ERL 0: short data is never a success; the
// caller's new READ takes a new CmdSN.
TEST_F(UnhInitiatorFfp, Initiator_FFP_16_4_2_MissingDataSNACKRejected) {
  open();
  const TaskId id = read(3072);
  const auto c = t->drain_one_as<ScsiCommand>();
  ASSERT_TRUE(c);
  const auto data = pattern(3072);
  for (std::uint32_t k : {0u, 2u}) {
    DataIn d;
    d.itt = c->itt;
    d.data_sn = k;
    d.buffer_offset = k * 1024;
    d.final = k == 2;
    d.status_present = k == 2;
    t->send(Header{d}, std::span(data).subspan(k * 1024, 1024));
  }
  // A SNACK (if any) is answered with a Reject.
  for (const auto& p : t->drain())
    if (p.as<SnackRequest>() != nullptr) {
      Reject rj;
      rj.reason = RejectReason::snack_reject;
      t->send(Header{rj}, std::span(p.bhs.bytes));
    }
  bool success = false;
  while (auto e = s->poll_event())
    if (const auto* d = std::get_if<TaskDone>(&*e); d && d->id == id && !d->error)
      success = d->result.status == 0;
  EXPECT_FALSE(success) << "a READ missing 1024 bytes ended as a success";
}

// 16.5: a SCSI Response shuts the window (MaxCmdSN = ExpCmdSN - 1): no new command until a
// NOP-In 2 s later raises MaxCmdSN.
TEST_F(UnhInitiatorFfp, Initiator_FFP_16_5_WindowClosedViaSCSIResponse) {
  open();
  tur();
  const auto c = t->drain_one_as<ScsiCommand>();
  ASSERT_TRUE(c);
  t->accept_commands(1);
  t->set_window(0);
  respond(c->itt);
  tur();
  EXPECT_TRUE(t->drain().empty());
  now += std::chrono::seconds(2);
  s->on_timer(now);
  EXPECT_TRUE(t->drain().empty());
  t->set_window(8);
  nop_in(Ttt::reserved());
  EXPECT_TRUE(t->drain_one_as<ScsiCommand>());
}

// 19.1: an immediate TMF leaves CmdSN for the next command; a non-immediate one takes it.
TEST_F(UnhInitiatorFfp, Initiator_FFP_19_1_TMFCmdSn) {
  open();
  s->submit_tmf(TmfFunction::logical_unit_reset, Lun(), std::nullopt, now);
  const auto m = t->drain_one_as<TaskMgmtRequest>();
  ASSERT_TRUE(m);
  tur();
  const auto c = t->drain_one_as<ScsiCommand>();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cmd_sn, m->immediate ? m->cmd_sn : m->cmd_sn + 1);
}

// 19.2 / 19.3: ABORT TASK for an unanswered READ carries the READ's LUN and RefCmdSN.
TEST_F(UnhInitiatorFfp, Initiator_FFP_19_2_TMFLUN) {
  open();
  const Lun lun = Lun::from_u64(0x0003000000000000ull);
  const TaskId id = read(512, lun);
  const auto c = t->drain_one_as<ScsiCommand>();
  ASSERT_TRUE(c);
  s->submit_tmf(TmfFunction::abort_task, lun, id, now);
  const auto m = t->drain_one_as<TaskMgmtRequest>();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->lun, c->lun);
  EXPECT_EQ(m->referenced_task_tag, c->itt);
}
TEST_F(UnhInitiatorFfp, Initiator_FFP_19_3_TMFRefCmdSn) {
  open();
  tur();
  const TaskId id = read(512);
  const auto sent = t->drain();
  ASSERT_EQ(sent.size(), 2u);
  const auto* c = sent[1].as<ScsiCommand>();
  s->submit_tmf(TmfFunction::abort_task, Lun(), id, now);
  const auto m = t->drain_one_as<TaskMgmtRequest>();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->ref_cmd_sn, c->cmd_sn);
  EXPECT_EQ(m->function, TmfFunction::abort_task);
}

// 19.4.1 / 19.4.2 / 19.4.3: after ABORT TASK SET (or CLEAR TASK SET) the initiator still answers
// a NOP-In ping, takes late PDUs of the aborted task without a Reject, and stays up.
void after_task_set_tmf(UnhInitiator& f, ScriptedTarget& t, TmfFunction fn, bool read_task,
                        bool late_data_in, InitiatorSession& s, TimePoint now) {
  if (read_task) {
    f.read_for_tmf();
  } else {
    f.write_for_tmf();
  }
  const auto c = t.drain_one_as<ScsiCommand>();
  ASSERT_TRUE(c);
  const Itt itt = c->itt;
  s.submit_tmf(fn, Lun(), std::nullopt, now);
  const auto m = t.drain_one_as<TaskMgmtRequest>();
  ASSERT_TRUE(m);
  const Itt tmf_itt = m->itt;
  if (late_data_in) {
    DataIn d;  // the old command's answer, before the TMF response
    d.itt = itt;
    d.final = true;
    d.acknowledge = s.params().error_recovery_level >= 1;
    t.send(Header{d}, pattern(512));
    ScsiResponse r;
    r.itt = itt;
    t.send(Header{r});
  }
  TaskMgmtResponse tr;
  tr.itt = tmf_itt;
  t.send(Header{tr});
  NopIn ping;
  ping.itt = Itt::reserved();
  ping.ttt = Ttt(0x77);
  t.send(Header{ping});
  bool nop_out = false;
  for (const auto& p : t.drain()) {
    EXPECT_EQ(p.as<Reject>(), nullptr);
    if (const auto* n = p.as<NopOut>(); n && n->ttt == Ttt(0x77)) nop_out = true;
  }
  EXPECT_TRUE(nop_out) << "NOP-In ping not answered after " << tmf_function_name(fn);
  EXPECT_TRUE(s.logged_in());
}
TEST_F(UnhInitiatorFfp, Initiator_FFP_19_4_1_AbortClearTaskSetThenNOPIn) {
  open();
  after_task_set_tmf(*this, *t, TmfFunction::abort_task_set, false, false, *s, now);
  after_task_set_tmf(*this, *t, TmfFunction::clear_task_set, false, false, *s, now);
}
TEST_F(UnhInitiatorFfp, Initiator_FFP_19_4_2_AbortTaskSetThenNOPInAndDataIn) {
  open({.erl = 1});
  after_task_set_tmf(*this, *t, TmfFunction::abort_task_set, true, true, *s, now);
}
TEST_F(UnhInitiatorFfp, Initiator_FFP_19_4_3_AbortTaskSetLateResponse) {
  open();
  after_task_set_tmf(*this, *t, TmfFunction::abort_task_set, true, true, *s, now);
}

}  // namespace
}  // namespace uiscsi::core
