// Error recovery level 2 against a scripted target, where the target's answers are chosen: the
// recovery login reuses ISID, TSIH and CID (RFC 7143 section 6.3.4), each task gets a TASK
// REASSIGN (section 11.5.1), and a refused reassignment falls back as section 7.2 allows: an
// unknown task (response 1) goes again only when the retry policy allows it, any other refusal
// reinstates the session (ERL 0).
#include <gtest/gtest.h>

#include "uiscsi/errors.hpp"
#include "unit/initiator_engine/initiator_fixture.hpp"

namespace uiscsi::core {
namespace {

class Erl2FallbackTest : public InitiatorTest {
 protected:
  std::vector<std::byte> in = std::vector<std::byte>(4096);
  std::vector<std::byte> out = pattern(4096);
  TaskId read_id, write_id;
  Itt read_itt, write_itt;
  SerialNumber read_sn, write_sn;

  // ERL 2 session with a read and a write (RetryPolicy::never) the target has received, then
  // the connection fails and logs in again; returns the two TASK REASSIGNs it sent.
  std::vector<TaskMgmtRequest> lose_and_reconnect() {
    SessionConfig c = config();
    c.recovery = true;
    c.max_recovery_attempts = 3;
    c.negotiation.error_recovery_level = 2;
    start(c);
    EXPECT_EQ(s->params().error_recovery_level, 2u);
    ScsiRequest r;
    r.cdb = kRead10;
    r.data_in = in;
    ScsiRequest w;
    w.cdb = kWrite10;
    w.data_out = out;
    w.retry = RetryPolicy::never;
    read_id = s->submit(r, now);
    write_id = s->submit(w, now);
    for (auto& p : t->drain())
      if (const auto* cmd = p.as<ScsiCommand>()) {
        (cmd->read ? read_itt : write_itt) = cmd->itt;
        (cmd->read ? read_sn : write_sn) = cmd->cmd_sn;
      }
    t->accept_commands(2);
    const std::uint16_t tsih = s->tsih();
    const std::uint64_t isid = s->isid();
    const ConnectionId old = cid;

    s->connection_lost(cid, make_error_code(errc::connection_closed), now);
    std::vector<RecoveryNeeded> needed;
    while (auto e = s->poll_event()) {
      if (auto* x = std::get_if<RecoveryNeeded>(&*e)) needed.push_back(*x);
      EXPECT_EQ(std::get_if<TaskDone>(&*e), nullptr) << "no task ends with the connection";
    }
    EXPECT_EQ(needed.size(), 1u);
    EXPECT_EQ(s->orphans(), 2u);
    now += 2s;  // DefaultTime2Wait
    cid = s->open_connection(now);
    EXPECT_EQ(cid, old) << "the failed connection logs in again with its CID";
    t = std::make_unique<ScriptedTarget>(*s, cid, &now);
    t->login({}, 8192, tsih);
    EXPECT_EQ(t->first_login_request.isid, isid);
    EXPECT_EQ(t->first_login_request.tsih, tsih) << "the same session, not a reinstatement";
    EXPECT_EQ(t->first_login_request.cid, old);
    std::vector<TaskMgmtRequest> reassigns;
    for (auto& p : t->drain())
      if (const auto* m = p.as<TaskMgmtRequest>()) reassigns.push_back(*m);
    return reassigns;
  }

  void answer(const TaskMgmtRequest& m, TmfResponse response) {
    TaskMgmtResponse rsp;
    rsp.itt = m.itt;
    rsp.response = response;
    t->send(Header{rsp});
  }
};

TEST_F(Erl2FallbackTest, ReassignCarriesTheTasksFields) {
  const auto m = lose_and_reconnect();
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].function, TmfFunction::task_reassign);
  EXPECT_EQ(m[0].referenced_task_tag, read_itt) << "in CmdSN order";
  EXPECT_EQ(m[0].ref_cmd_sn, read_sn);
  EXPECT_EQ(m[0].exp_data_sn, SerialNumber(0)) << "no Data-In received yet";
  EXPECT_EQ(m[1].referenced_task_tag, write_itt);
  EXPECT_EQ(m[1].ref_cmd_sn, write_sn);
  EXPECT_TRUE(m[0].immediate);
  answer(m[0], TmfResponse::function_complete);
  answer(m[1], TmfResponse::function_complete);
  EXPECT_EQ(s->erl1_counters().tasks_reassigned, 2u);
  EXPECT_EQ(s->erl1_counters().connection_recoveries, 1u);
  EXPECT_EQ(s->orphans(), 0u);
  EXPECT_TRUE(events<TaskDone>().empty()) << "the tasks go on";
}

TEST_F(Erl2FallbackTest, UnknownTaskIsRetriedOnlyWhenThePolicyAllows) {
  const auto m = lose_and_reconnect();
  ASSERT_EQ(m.size(), 2u);
  answer(m[0], TmfResponse::task_does_not_exist);
  answer(m[1], TmfResponse::task_does_not_exist);
  // The read goes again as a new command; the write may have run and is not repeated.
  const auto sent = t->drain();
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_NE(sent[0].as<ScsiCommand>(), nullptr);
  EXPECT_TRUE(sent[0].as<ScsiCommand>()->read);
  const auto done = events<TaskDone>();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, write_id);
  EXPECT_EQ(done[0].error, errc::connection_closed);
  EXPECT_TRUE(done[0].may_have_executed);
  EXPECT_TRUE(s->logged_in()) << "the session lives on";
}

TEST_F(Erl2FallbackTest, RejectedReassignReinstatesTheSession) {
  const auto m = lose_and_reconnect();
  ASSERT_EQ(m.size(), 2u);
  answer(m[0], TmfResponse::function_rejected);
  std::vector<RecoveryNeeded> needed;
  std::vector<TaskDone> done;
  while (auto e = s->poll_event()) {
    if (auto* x = std::get_if<RecoveryNeeded>(&*e)) needed.push_back(*x);
    if (auto* x = std::get_if<TaskDone>(&*e)) done.push_back(*x);
  }
  ASSERT_EQ(needed.size(), 1u) << "level 0 recovery";
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, write_id);
  EXPECT_TRUE(done[0].may_have_executed);
  now += needed[0].delay;
  cid = s->open_connection(now);
  t = std::make_unique<ScriptedTarget>(*s, cid, &now);
  t->login({}, 8192, 0x20);
  EXPECT_EQ(t->first_login_request.tsih, 0) << "session reinstatement";
  const auto sent = t->drain();
  ASSERT_EQ(sent.size(), 1u);
  ASSERT_NE(sent[0].as<ScsiCommand>(), nullptr);
  EXPECT_TRUE(sent[0].as<ScsiCommand>()->read) << "the safe read goes again";
}

}  // namespace
}  // namespace uiscsi::core
