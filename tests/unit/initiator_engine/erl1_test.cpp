// Error recovery level 1 in the initiator engine, against a scripted target: SNACKs with the
// exact RFC 7143 section 11.16 fields, statuses held for missing data, ExpStatSN held at a
// StatSN gap, digest errors, command retry and the probe.
#include <gtest/gtest.h>

#include "core/bytes.hpp"
#include "core/sequence_tracker.hpp"
#include "uiscsi/errors.hpp"
#include "unit/initiator_engine/initiator_fixture.hpp"

namespace uiscsi::core {
namespace {

TEST(SequenceTracker, InOrderGapsDuplicatesAndBounds) {
  SequenceTracker s(0, 8);
  EXPECT_EQ(s.accept(0).fate, SequenceTracker::Fate::in_order);
  auto a = s.accept(3);
  EXPECT_EQ(a.fate, SequenceTracker::Fate::ahead);
  EXPECT_EQ(a.gap.begin, 1u);
  EXPECT_EQ(a.gap.length, 2u);
  EXPECT_EQ(s.accept(5).gap.begin, 4u) << "only the newly revealed part";
  EXPECT_EQ(s.accept(3).fate, SequenceTracker::Fate::duplicate);
  EXPECT_EQ(s.accept(0).fate, SequenceTracker::Fate::duplicate);
  EXPECT_EQ(s.reveal(6).length, 0u) << "nothing new below 6";
  EXPECT_EQ(s.reveal(7).begin, 6u);
  EXPECT_FALSE(s.complete_below(6));
  s.accept(1);
  s.accept(2);
  EXPECT_EQ(s.next(), 4u) << "moved past 3, held above the gap";
  s.accept(4);
  EXPECT_EQ(s.next(), 6u);
  EXPECT_TRUE(s.complete_below(6));
  EXPECT_EQ(s.accept(100).fate, SequenceTracker::Fate::too_far);
  SequenceTracker w(0xfffffffeu);
  w.accept(0xfffffffeu);
  EXPECT_EQ(w.accept(1).gap.begin, 0xffffffffu) << "serial arithmetic across the wrap";
  EXPECT_EQ(w.accept(1).fate, SequenceTracker::Fate::duplicate);
  w.accept(0xffffffffu);
  w.accept(0);
  EXPECT_EQ(w.next(), 2u);
}

class Erl1Test : public InitiatorTest {
 protected:
  void start_erl1(bool header_digest = false, bool data_digest = false) {
    SessionConfig c = config();
    c.negotiation.error_recovery_level = 1;
    c.negotiation.initial_r2t = true;
    c.negotiation.immediate_data = true;
    if (header_digest) c.negotiation.header_digest = {"CRC32C"};
    if (data_digest) c.negotiation.data_digest = {"CRC32C"};
    c.recovery_probe_interval = 1s;
    start(c);
    ASSERT_EQ(s->params().error_recovery_level, 1u);
  }
  // Submits a read of `bytes` and returns its ITT.
  Itt read(std::vector<std::byte>& buf, TaskId* id = nullptr) {
    ScsiRequest r;
    r.cdb = kRead10;
    r.data_in = buf;
    const TaskId tid = s->submit(r, now);
    if (id != nullptr) *id = tid;
    const auto cmd = t->drain_one();
    EXPECT_NE(cmd.as<ScsiCommand>(), nullptr);
    return cmd.as<ScsiCommand>() ? cmd.as<ScsiCommand>()->itt : Itt();
  }
  DataIn data_in(Itt itt, std::uint32_t data_sn, std::uint32_t offset, bool last) {
    DataIn d;
    d.itt = itt;
    d.data_sn = data_sn;
    d.buffer_offset = offset;
    d.final = last;
    d.status_present = last;
    return d;
  }
  // The only SNACK in what the initiator sent.
  SnackRequest one_snack() {
    auto pdus = t->drain();
    std::vector<SnackRequest> snacks;
    for (auto& p : pdus)
      if (const auto* x = p.as<SnackRequest>()) snacks.push_back(*x);
    EXPECT_EQ(snacks.size(), 1u);
    return snacks.empty() ? SnackRequest{} : snacks[0];
  }
};

TEST_F(Erl1Test, DataSnGapIsAskedForAndFilledOutOfOrder) {
  start_erl1();
  std::vector<std::byte> buf(4096);
  TaskId id;
  const Itt itt = read(buf, &id);
  const auto data = pattern(4096);
  auto piece = [&](std::uint32_t i) { return std::span(data).subspan(i * 1024, 1024); };
  t->send(Header{data_in(itt, 0, 0, false)}, piece(0));
  t->send(Header{data_in(itt, 2, 2048, false)}, piece(2));
  const SnackRequest snack = one_snack();
  EXPECT_EQ(snack.type, SnackType::data_r2t);
  EXPECT_EQ(snack.itt, itt);
  EXPECT_EQ(snack.ttt, Ttt::reserved());
  EXPECT_EQ(snack.beg_run, 1u);
  EXPECT_EQ(snack.run_length, 1u);
  t->send(Header{data_in(itt, 3, 3072, true)}, piece(3));
  EXPECT_TRUE(events<TaskDone>().empty()) << "the status waits for DataSN 1";
  t->send(Header{data_in(itt, 1, 1024, false)}, piece(1));
  const TaskDone done = one_done();
  EXPECT_EQ(done.id, id);
  ASSERT_FALSE(done.error) << done.error.message();
  EXPECT_EQ(buf, data);
  EXPECT_EQ(s->erl1_counters().data_r2t_snacks, 1u);
}

TEST_F(Erl1Test, AtErl0ADataSnGapEndsTheCommand) {
  start();
  std::vector<std::byte> buf(2048);
  TaskId id;
  const Itt itt = read(buf, &id);
  const auto data = pattern(1024);
  t->send(Header{data_in(itt, 1, 1024, true)}, data);
  // The engine aborts the task (ABORT TASK goes out) and reports a sequence error.
  bool abort_sent = false;
  for (auto& p : t->drain())
    if (p.as<TaskMgmtRequest>()) abort_sent = true;
  EXPECT_TRUE(abort_sent);
}

TEST_F(Erl1Test, ResponseExpDataSnRevealsMissingDataIn) {
  start_erl1();
  std::vector<std::byte> buf(2048);
  TaskId id;
  const Itt itt = read(buf, &id);
  const auto data = pattern(2048);
  DataIn d0 = data_in(itt, 0, 0, false);
  t->send(Header{d0}, std::span(data).first(1024));
  ScsiResponse r = good_response(itt);
  r.exp_data_sn = 2;
  t->send(Header{r});
  const SnackRequest snack = one_snack();
  EXPECT_EQ(snack.beg_run, 1u);
  EXPECT_EQ(snack.run_length, 1u);
  EXPECT_TRUE(events<TaskDone>().empty());
  t->send(Header{data_in(itt, 1, 1024, false)}, std::span(data).subspan(1024));
  const TaskDone done = one_done();
  ASSERT_FALSE(done.error) << done.error.message();
  EXPECT_EQ(buf, data);
}

TEST_F(Erl1Test, StatSnGapHoldsExpStatSnAndIsAskedFor) {
  start_erl1();
  std::vector<std::byte> a(512), b(512);
  const Itt itt_a = read(a);
  const Itt itt_b = read(b);
  const SerialNumber lost = t->next_stat_sn();
  // The status of A (StatSN `lost`) never arrives; B's status comes with the next StatSN.
  DataIn db = data_in(itt_b, 0, 0, true);
  db.stat_sn = lost + 1;
  t->send(Header{db}, pattern(512));
  const SnackRequest snack = one_snack();
  EXPECT_EQ(snack.type, SnackType::status);
  EXPECT_EQ(snack.itt, Itt::reserved());
  EXPECT_EQ(snack.beg_run, lost.value());
  EXPECT_EQ(snack.run_length, 1u);
  EXPECT_EQ(snack.exp_stat_sn, lost) << "ExpStatSN stays at the gap";
  EXPECT_EQ(one_done().error, std::error_code()) << "B completes at once";
  // The retransmitted status fills the gap.
  DataIn da = data_in(itt_a, 0, 0, true);
  da.stat_sn = lost;
  t->send(Header{da}, pattern(512));
  EXPECT_FALSE(one_done().error);
  std::vector<std::byte> c(512);
  ScsiRequest next;
  next.cdb = kRead10;
  next.data_in = c;
  s->submit(next, now);
  const auto cmd = t->drain_one();
  ASSERT_NE(cmd.as<ScsiCommand>(), nullptr);
  EXPECT_EQ(cmd.as<ScsiCommand>()->exp_stat_sn, lost + 2);
}

TEST_F(Erl1Test, DataDigestErrorOnDataInAsksForThatPdu) {
  start_erl1(false, true);
  std::vector<std::byte> buf(2048);
  TaskId id;
  const Itt itt = read(buf, &id);
  const auto data = pattern(2048);
  t->send(Header{data_in(itt, 0, 0, false)}, std::span(data).first(1024));
  DataIn last = data_in(itt, 1, 1024, true);
  last.stat_sn = t->next_stat_sn();
  auto wire = serialize_pdu(Header{last}, std::span(data).subspan(1024), t->digests());
  wire[kBhsSize + 10] ^= std::byte{0xff};  // damage the data, not the header
  t->send_raw(wire);
  const SnackRequest snack = one_snack();
  EXPECT_EQ(snack.type, SnackType::data_r2t);
  EXPECT_EQ(snack.itt, itt);
  EXPECT_EQ(snack.beg_run, 1u);
  EXPECT_EQ(snack.run_length, 1u);
  EXPECT_TRUE(events<TaskDone>().empty());
  EXPECT_TRUE(s->logged_in());
  t->send(Header{last}, std::span(data).subspan(1024), false);
  const TaskDone done = one_done();
  ASSERT_FALSE(done.error) << done.error.message();
  EXPECT_EQ(buf, data);
  EXPECT_EQ(s->erl1_counters().digest_errors, 1u);
}

TEST_F(Erl1Test, HeaderDigestErrorSkipsThePduAndTheGapIsFound) {
  start_erl1(true, false);
  std::vector<std::byte> buf(2048);
  const Itt itt = read(buf);
  const auto data = pattern(2048);
  auto wire =
      serialize_pdu(Header{data_in(itt, 0, 0, false)}, std::span(data).first(1024), t->digests());
  wire[kBhsSize] ^= std::byte{0x01};  // the header digest
  t->send_raw(wire);
  EXPECT_TRUE(s->logged_in());
  EXPECT_TRUE(t->drain().empty()) << "nothing shows what was lost yet";
  t->send(Header{data_in(itt, 1, 1024, true)}, std::span(data).subspan(1024));
  const SnackRequest snack = one_snack();
  EXPECT_EQ(snack.beg_run, 0u);
  EXPECT_EQ(snack.run_length, 1u);
  t->send(Header{data_in(itt, 0, 0, false)}, std::span(data).first(1024));
  EXPECT_FALSE(one_done().error);
  EXPECT_EQ(buf, data);
}

TEST_F(Erl1Test, ABitDataInIsAcknowledged) {
  start_erl1();
  std::vector<std::byte> buf(1024);
  const Itt itt = read(buf);
  DataIn d = data_in(itt, 0, 0, false);
  d.acknowledge = true;
  d.ttt = Ttt(0x77);
  d.lun = Lun();
  t->send(Header{d}, pattern(1024));
  const SnackRequest ack = one_snack();
  EXPECT_EQ(ack.type, SnackType::data_ack);
  EXPECT_EQ(ack.itt, Itt::reserved());
  EXPECT_EQ(ack.ttt, Ttt(0x77));
  EXPECT_EQ(ack.beg_run, 1u) << "everything below DataSN 1 arrived";
  EXPECT_EQ(ack.run_length, 0u);
}

TEST_F(Erl1Test, R2tGapIsAskedForAndBothBurstsAreServed) {
  start_erl1();
  constexpr std::uint32_t kTotal = 16384;
  const auto out = pattern(kTotal);
  ScsiRequest w;
  w.cdb = kWrite10;
  w.data_out = out;
  s->submit(w, now);
  auto first = t->drain();
  ASSERT_FALSE(first.empty());
  const auto* sc = first[0].as<ScsiCommand>();
  ASSERT_NE(sc, nullptr);
  // Immediate data went with the command (up to the target's MaxRecvDataSegmentLength); the
  // target asks for the rest in two R2Ts, the first of which is lost.
  const std::uint32_t sent = static_cast<std::uint32_t>(first[0].data.size());
  ASSERT_LT(sent, kTotal);
  const std::uint32_t half = (kTotal - sent) / 2;
  R2t r1;
  r1.itt = sc->itt;
  r1.ttt = Ttt(2);
  r1.r2t_sn = 1;
  r1.buffer_offset = sent + half;
  r1.desired_data_transfer_length = kTotal - sent - half;
  t->send(Header{r1});
  auto pdus = t->drain();
  int snacks = 0;
  std::uint32_t bytes = 0;
  for (auto& p : pdus) {
    if (const auto* x = p.as<SnackRequest>()) {
      ++snacks;
      EXPECT_EQ(x->type, SnackType::data_r2t);
      EXPECT_EQ(x->beg_run, 0u);
      EXPECT_EQ(x->run_length, 1u);
    }
    if (p.as<DataOut>()) bytes += static_cast<std::uint32_t>(p.data.size());
  }
  EXPECT_EQ(snacks, 1);
  EXPECT_EQ(bytes, r1.desired_data_transfer_length);
  R2t r0 = r1;
  r0.ttt = Ttt(1);
  r0.r2t_sn = 0;
  r0.buffer_offset = sent;
  r0.desired_data_transfer_length = half;
  t->send(Header{r0});
  bytes = 0;
  for (auto& p : t->drain())
    if (const auto* d = p.as<DataOut>()) {
      EXPECT_EQ(d->ttt, Ttt(1));
      bytes += static_cast<std::uint32_t>(p.data.size());
    }
  EXPECT_EQ(bytes, half);
  t->send(Header{good_response(sc->itt)});
  EXPECT_FALSE(one_done().error);
}

TEST_F(Erl1Test, CommandRejectedForItsDataDigestGoesAgainWithTheSameCmdSn) {
  start_erl1(false, true);
  const auto out = pattern(1024);
  ScsiRequest w;
  w.cdb = kWrite10;
  w.data_out = out;
  const TaskId id = s->submit(w, now);
  const SentPdu cmd = t->drain_one();
  const auto* sc = cmd.as<ScsiCommand>();
  ASSERT_NE(sc, nullptr);
  Reject rej;
  rej.reason = RejectReason::data_digest_error;
  t->send(Header{rej}, cmd.bhs.bytes);
  const SentPdu again = t->drain_one();
  const auto* sc2 = again.as<ScsiCommand>();
  ASSERT_NE(sc2, nullptr);
  EXPECT_EQ(sc2->itt, sc->itt);
  EXPECT_EQ(sc2->cmd_sn, sc->cmd_sn);
  EXPECT_EQ(sc2->cdb, sc->cdb);
  EXPECT_EQ(again.data, cmd.data) << "the immediate data again";
  t->send(Header{good_response(sc->itt)});
  const TaskDone done = one_done();
  EXPECT_EQ(done.id, id);
  EXPECT_FALSE(done.error);
  EXPECT_EQ(s->erl1_counters().command_retries, 1u);
}

TEST_F(Erl1Test, ProbeFindsACommandTheTargetNeverGot) {
  start_erl1();
  std::vector<std::byte> buf(512);
  ScsiRequest r;
  r.cdb = kRead10;
  r.data_in = buf;
  s->submit(r, now);
  const SentPdu cmd = t->drain_one();
  const auto* sc = cmd.as<ScsiCommand>();
  ASSERT_NE(sc, nullptr);
  // The target lost it: silence. After the probe interval, a ping.
  ASSERT_TRUE(s->next_deadline());
  EXPECT_EQ(*s->next_deadline(), now + 1s);
  now += 1s;
  s->on_timer(now);
  const SentPdu ping = t->drain_one();
  const auto* nop = ping.as<NopOut>();
  ASSERT_NE(nop, nullptr);
  EXPECT_FALSE(nop->itt.is_reserved());
  NopIn pong;
  pong.itt = nop->itt;
  pong.ttt = Ttt::reserved();
  pong.exp_cmd_sn = sc->cmd_sn;  // still waiting for it
  t->send(Header{pong});
  const SentPdu again = t->drain_one();
  const auto* sc2 = again.as<ScsiCommand>();
  ASSERT_NE(sc2, nullptr) << again.describe();
  EXPECT_EQ(sc2->itt, sc->itt);
  EXPECT_EQ(sc2->cmd_sn, sc->cmd_sn);
}

TEST_F(Erl1Test, ProbeFindsALostFinalStatus) {
  start_erl1();
  std::vector<std::byte> buf(512);
  TaskId id;
  const Itt itt = read(buf, &id);
  t->accept_commands(1);
  const SerialNumber lost = t->next_stat_sn();
  now += 1s;
  s->on_timer(now);
  const SentPdu ping = t->drain_one();
  ASSERT_NE(ping.as<NopOut>(), nullptr);
  NopIn pong;
  pong.itt = ping.as<NopOut>()->itt;
  pong.ttt = Ttt::reserved();
  pong.stat_sn = lost + 1;  // the status with `lost` went missing before it
  t->send(Header{pong});
  const SnackRequest snack = one_snack();
  EXPECT_EQ(snack.type, SnackType::status);
  EXPECT_EQ(snack.beg_run, lost.value());
  EXPECT_EQ(snack.run_length, 1u);
  DataIn d = data_in(itt, 0, 0, true);
  d.stat_sn = lost;
  t->send(Header{d}, pattern(512));
  EXPECT_FALSE(one_done().error);
}

TEST_F(Erl1Test, UnansweredStatusSnacksEndTheConnection) {
  start_erl1();
  std::vector<std::byte> a(512), b(512);
  read(a);
  const Itt itt_b = read(b);
  t->accept_commands(2);
  const SerialNumber lost = t->next_stat_sn();
  DataIn db = data_in(itt_b, 0, 0, true);
  db.stat_sn = lost + 1;
  t->send(Header{db}, pattern(512));
  t->drain();
  for (int i = 0; i < 10 && s->logged_in(); ++i) {
    now += 1s;
    s->on_timer(now);
    for (auto& p : t->drain())
      if (const auto* nop = p.as<NopOut>(); nop && !nop->itt.is_reserved()) {
        NopIn pong;
        pong.itt = nop->itt;
        pong.ttt = Ttt::reserved();
        pong.stat_sn = lost + 2 + static_cast<std::uint32_t>(i);
        t->send(Header{pong});
      }
  }
  EXPECT_FALSE(s->logged_in()) << "the target never resent the status";
}

}  // namespace
}  // namespace uiscsi::core

namespace uiscsi::core {
namespace {

// Found by the engine fuzzer (fuzz/initiator_engine.cpp): work must not outlive a failed login
// or a lost connection.
class FuzzFoundTest : public InitiatorTest {};

TEST_F(FuzzFoundTest, CommandsQueuedDuringAFailedLoginFail) {
  s = std::make_unique<InitiatorSession>(config(), rng);
  cid = s->open_connection(now);
  std::vector<std::byte> buf(512);
  ScsiRequest r;
  r.cdb = kRead10;
  r.data_in = buf;
  const TaskId id = s->submit(r, now);
  s->connection_lost(cid, make_error_code(errc::connection_closed), now);
  const auto done = events<TaskDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, id);
  EXPECT_TRUE(done[0].error);
  EXPECT_FALSE(done[0].may_have_executed);
}

TEST_F(FuzzFoundTest, ALogoutWaitingForCommandsEndsWithTheConnection) {
  start();
  std::vector<std::byte> buf(512);
  ScsiRequest r;
  r.cdb = kRead10;
  r.data_in = buf;
  s->submit(r, now);
  t->drain();
  const TaskId logout = s->logout(now, std::nullopt);
  EXPECT_TRUE(t->drain().empty()) << "the logout waits for the read";
  s->connection_lost(cid, make_error_code(errc::connection_closed), now);
  std::vector<LogoutDone> logouts;
  int reads_done = 0;
  while (auto e = s->poll_event()) {
    if (auto* x = std::get_if<LogoutDone>(&*e)) logouts.push_back(*x);
    if (std::get_if<TaskDone>(&*e)) ++reads_done;
  }
  EXPECT_EQ(reads_done, 1);
  ASSERT_EQ(logouts.size(), 1u);
  EXPECT_EQ(logouts[0].id, logout);
  EXPECT_TRUE(logouts[0].error);
}

TEST_F(FuzzFoundTest, TimedOutCommandsAreAbortedWhileTheTaskTableGrows) {
  start();
  // Many reads time out at once: each abort allocates an ABORT TASK while on_timer walks the
  // task table (ASan caught the old range-for here).
  std::vector<std::vector<std::byte>> bufs(30, std::vector<std::byte>(512));  // within the window
  for (auto& b : bufs) {
    ScsiRequest r;
    r.cdb = kRead10;
    r.data_in = b;
    r.deadline = now + 1s;
    s->submit(r, now);
  }
  t->drain();
  now += 2s;
  s->on_timer(now);
  int aborts = 0;
  for (auto& p : t->drain())
    if (p.as<TaskMgmtRequest>()) ++aborts;
  EXPECT_EQ(aborts, 30);
}

}  // namespace
}  // namespace uiscsi::core
