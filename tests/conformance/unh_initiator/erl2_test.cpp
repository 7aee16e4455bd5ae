// UNH-IOL initiator full feature phase lines at ErrorRecoveryLevel 2: connection reassignment
// after a dropped connection (7.1) and TASK REASSIGN on the other connection of two (19.5)
// (RFC 7143 sections 6.2, 7.2, 11.5.1). Our initiator engine against our target engine over
// simulated links (tests/sim/erl2's Erl2Sim), in virtual time; every PDU is decoded from the wire.
#include <gtest/gtest.h>

#include "core/bytes.hpp"
#include "sim/erl2/erl2_sim.hpp"

namespace uiscsi::core {
namespace {

using testing::Erl2Sim;
using testing::LinkFate;
using testing::pattern;

struct WirePdu {
  bool up = false;  // initiator to target
  Header header;
};

class UnhInitiatorFfp : public ::testing::Test {
 protected:
  Erl2Sim sim;
  std::vector<WirePdu> wire;
  std::size_t cut_at = 0;  // wire index when the link was cut

  void start(std::size_t connections) {
    SessionConfig c = sim.session_config();
    auto& tn = sim.target_config.negotiation;
    tn.error_recovery_level = 2;
    tn.max_connections = 2;
    tn.max_recv_data_segment_length = 8192;
    tn.default_time2wait = 1;
    c.negotiation.error_recovery_level = 2;
    c.negotiation.max_connections = static_cast<std::uint32_t>(connections);
    c.negotiation.max_recv_data_segment_length = 4096;
    c.negotiation.default_time2wait = 1;
    c.recovery = true;
    sim.connections = connections;
    ASSERT_TRUE(sim.start(c));
    ASSERT_EQ(sim.initiator->params().error_recovery_level, 2u);
  }
  // Records every PDU; cuts connection `cid` when the target sends its `nth` Data-In.
  void cut_on_data_in(ConnectionId cid, int nth) {
    auto count = std::make_shared<int>(0);
    sim.trace = [this, cid, nth, count](bool up, const std::vector<std::byte>& pdu, LinkFate) {
      Bhs bhs;
      std::copy_n(pdu.begin(), kBhsSize, bhs.bytes.begin());
      DecodeOptions o;
      o.reserved = ReservedPolicy::ignore;
      auto h = decode_header(bhs, o);
      ASSERT_TRUE(h) << "undecodable PDU on the wire";
      wire.push_back({up, *h});
      if (!up && std::holds_alternative<DataIn>(*h) && ++*count == nth && cut_at == 0) {
        cut_at = wire.size();
        sim.cut_cid(cid);
      }
    };
  }
  template <class T>
  std::vector<T> sent(bool up, std::size_t from = 0) const {
    std::vector<T> out;
    for (std::size_t i = from; i < wire.size(); ++i)
      if (const auto* h = std::get_if<T>(&wire[i].header); h && wire[i].up == up) out.push_back(*h);
    return out;
  }
  TaskId read(std::vector<std::byte>& into, std::uint16_t blocks) {
    ScsiRequest r;
    std::vector<std::byte> cdb(10);
    cdb[0] = std::byte{0x28};
    store_be16(cdb.data() + 7, blocks);
    r.cdb = CdbBytes::from(cdb);
    r.data_in = into;
    r.retry = RetryPolicy::never;
    return sim.initiator->submit(r, sim.now);
  }
};

// 7.1: the only connection drops in the middle of a READ: the initiator logs in a new
// connection of the same session (same ISID, the session's TSIH) and sends TASK REASSIGN
// (immediate, function 8) for the READ's ITT on it; the read then completes with the right data.
TEST_F(UnhInitiatorFfp, Initiator_FFP_7_1_ConnectionReassignment) {
  start(1);
  const auto data = pattern(16384, 7);
  std::copy(data.begin(), data.end(), sim.disk.data().begin());
  std::vector<std::byte> in(16384);
  cut_on_data_in(0, 2);
  const TaskId id = read(in, 32);
  ASSERT_TRUE(sim.run({id}));
  ASSERT_GT(cut_at, 0u) << "the link was never cut";
  const TaskDone& d = sim.done.at(id.value);
  ASSERT_FALSE(d.error) << d.error.message();
  EXPECT_EQ(in, data);
  const auto commands = sent<ScsiCommand>(true);
  ASSERT_EQ(commands.size(), 1u) << "the READ was sent again instead of reassigned";
  const auto logins = sent<LoginRequest>(true, cut_at);
  ASSERT_FALSE(logins.empty()) << "no new connection after the drop";
  const auto responses = sent<LoginResponse>(false);
  std::uint16_t tsih = 0;
  for (const auto& r : responses)
    if (tsih == 0 && r.tsih != 0) tsih = r.tsih;
  EXPECT_EQ(logins.front().tsih, tsih) << "a new session instead of a new connection";
  EXPECT_EQ(logins.front().isid, sent<LoginRequest>(true).front().isid);
  const auto tmfs = sent<TaskMgmtRequest>(true, cut_at);
  ASSERT_EQ(tmfs.size(), 1u) << "no TASK REASSIGN";
  EXPECT_EQ(tmfs[0].function, TmfFunction::task_reassign);
  EXPECT_TRUE(tmfs[0].immediate);
  EXPECT_EQ(tmfs[0].referenced_task_tag, commands[0].itt);
  EXPECT_EQ(tmfs[0].ref_cmd_sn, commands[0].cmd_sn);
}

// 19.5: two connections, the one carrying a READ fails: TASK REASSIGN (function 8) with that
// READ's ITT goes out on the other connection (no new login), and the READ completes there.
TEST_F(UnhInitiatorFfp, Initiator_FFP_19_5_TaskReassign) {
  start(2);
  ASSERT_EQ(sim.initiator->live_connections(), 2u);
  const auto data = pattern(16384, 8);
  std::copy(data.begin(), data.end(), sim.disk.data().begin());
  std::vector<std::byte> a(16384), b(16384);
  const std::uint64_t logins_before = sim.session_logins;
  cut_on_data_in(0, 1);
  const TaskId ia = read(a, 32);  // on connection 0
  const TaskId ib = read(b, 32);  // on connection 1
  ASSERT_TRUE(sim.run({ia, ib}));
  ASSERT_GT(cut_at, 0u);
  EXPECT_FALSE(sim.done.at(ia.value).error);
  EXPECT_FALSE(sim.done.at(ib.value).error);
  EXPECT_EQ(a, data);
  EXPECT_EQ(b, data);
  const auto commands = sent<ScsiCommand>(true);
  ASSERT_EQ(commands.size(), 2u);
  const auto tmfs = sent<TaskMgmtRequest>(true, cut_at);
  ASSERT_EQ(tmfs.size(), 1u);
  EXPECT_EQ(tmfs[0].function, TmfFunction::task_reassign);
  EXPECT_EQ(tmfs[0].referenced_task_tag, commands[0].itt);
  EXPECT_EQ(sim.session_logins, logins_before) << "a new session login";
}

}  // namespace
}  // namespace uiscsi::core
