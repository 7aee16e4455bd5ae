// Error recovery level 2 in the initiator engine, PDU by PDU (RFC 7143 sections 6.2, 7.2,
// 11.5.1, 11.14.1): the recovery login reuses ISID, TSIH and CID; TASK REASSIGN carries the
// task's ITT and CmdSN and the first DataSN not yet received; the read resumes from there.
#include <gtest/gtest.h>

#include "core/bytes.hpp"
#include "sim/erl2/erl2_sim.hpp"

namespace uiscsi::core {
namespace {

using testing::Erl2Sim;
using testing::LinkFate;
using testing::pattern;

CdbBytes read10(std::uint32_t lba, std::uint16_t blocks) {
  std::vector<std::byte> c(10);
  c[0] = std::byte{0x28};
  store_be32(c.data() + 2, lba);
  store_be16(c.data() + 7, blocks);
  return CdbBytes::from(c);
}

struct Wire {
  bool up;
  std::vector<std::byte> pdu;
  LinkFate fate;
  [[nodiscard]] unsigned opcode() const { return std::to_integer<unsigned>(pdu[0]) & 0x3fu; }
};

class Erl2Engine : public ::testing::Test {
 protected:
  Erl2Sim sim;
  std::vector<Wire> wire;

  void start(std::size_t connections) {
    SessionConfig c = sim.session_config();
    auto& tn = sim.target_config.negotiation;
    tn.error_recovery_level = 2;
    tn.max_connections = 2;
    tn.max_recv_data_segment_length = 8192;
    tn.default_time2wait = 1;
    c.negotiation.error_recovery_level = 2;
    c.negotiation.max_connections = static_cast<std::uint32_t>(connections);
    c.negotiation.max_recv_data_segment_length = 4096;  // 4 KiB Data-In PDUs
    c.negotiation.default_time2wait = 1;
    c.recovery = true;
    sim.connections = connections;
    sim.trace = [this](bool up, const std::vector<std::byte>& pdu, LinkFate f) {
      wire.push_back({up, pdu, f});
    };
    ASSERT_TRUE(sim.start(c));
    ASSERT_EQ(sim.initiator->params().error_recovery_level, 2u);
  }
};

TEST_F(Erl2Engine, ReadResumesFromTheFirstDataSnNotReceived) {
  start(1);
  const auto data = pattern(16384, 3);
  std::copy(data.begin(), data.end(), sim.disk.data().begin());
  std::vector<std::byte> in(16384);
  ScsiRequest r;
  r.cdb = read10(0, 32);
  r.data_in = in;
  r.retry = RetryPolicy::never;
  const std::size_t logins_before = wire.size();
  // The third Data-In (DataSN 2) is cut: two have been placed.
  int data_ins = 0;
  std::size_t cut_at = 0;
  const TaskId id = sim.initiator->submit(r, sim.now);
  sim.trace = [&](bool up, const std::vector<std::byte>& pdu, LinkFate f) {
    wire.push_back({up, pdu, f});
    if (!up && (std::to_integer<unsigned>(pdu[0]) & 0x3fu) == 0x25 && ++data_ins == 3 &&
        cut_at == 0) {
      cut_at = wire.size();
      sim.cut_cid(0);
    }
  };
  ASSERT_TRUE(sim.run({id}));
  const TaskDone& d = sim.done.at(id.value);
  ASSERT_FALSE(d.error) << d.error.message();
  EXPECT_EQ(d.result.data_in_bytes, 16384u);
  EXPECT_EQ(in, data);
  ASSERT_GT(cut_at, 0u);

  // The command: its ITT and CmdSN.
  std::uint32_t itt = 0, cmd_sn = 0;
  for (std::size_t i = logins_before; i < wire.size(); ++i)
    if (wire[i].up && wire[i].opcode() == 0x01) {
      itt = load_be32(wire[i].pdu.data() + 16);
      cmd_sn = load_be32(wire[i].pdu.data() + 24);
      break;
    }
  // The first login's ISID/TSIH/CID, and the recovery login's.
  std::vector<const Wire*> login_requests, login_responses;
  for (const auto& w : wire) {
    if (w.up && w.opcode() == 0x03) login_requests.push_back(&w);
    if (!w.up && w.opcode() == 0x23) login_responses.push_back(&w);
  }
  ASSERT_GE(login_requests.size(), 2u);
  const Wire& first = *login_requests.front();
  const Wire& again = *login_requests.back();
  EXPECT_TRUE(std::equal(first.pdu.begin() + 8, first.pdu.begin() + 14, again.pdu.begin() + 8))
      << "same ISID";
  std::uint16_t tsih = 0;  // from the first response that carries one (the final one)
  for (const Wire* w : login_responses)
    if (tsih == 0) tsih = load_be16(w->pdu.data() + 14);
  EXPECT_NE(tsih, 0);
  EXPECT_EQ(load_be16(again.pdu.data() + 14), tsih) << "same TSIH: the session goes on";
  EXPECT_EQ(load_be16(again.pdu.data() + 20), load_be16(first.pdu.data() + 20)) << "same CID";

  // TASK REASSIGN: immediate, function 8, ReferencedTaskTag = the ITT, RefCmdSN = its CmdSN,
  // ExpDataSN = 2 (DataSN 0 and 1 arrived).
  const Wire* tmf = nullptr;
  for (std::size_t i = cut_at; i < wire.size(); ++i)
    if (wire[i].up && wire[i].opcode() == 0x02) tmf = &wire[i];
  ASSERT_NE(tmf, nullptr);
  EXPECT_TRUE((std::to_integer<unsigned>(tmf->pdu[0]) & 0x40u) != 0) << "immediate";
  EXPECT_EQ(std::to_integer<unsigned>(tmf->pdu[1]) & 0x7fu, 8u);
  EXPECT_EQ(load_be32(tmf->pdu.data() + 20), itt);
  EXPECT_EQ(load_be32(tmf->pdu.data() + 32), cmd_sn);
  EXPECT_EQ(load_be32(tmf->pdu.data() + 36), 2u);
  // The target resent from DataSN 2: the first Data-In after the reassignment.
  for (std::size_t i = cut_at; i < wire.size(); ++i)
    if (!wire[i].up && wire[i].opcode() == 0x25) {
      EXPECT_EQ(load_be32(wire[i].pdu.data() + 36), 2u);
      EXPECT_EQ(load_be32(wire[i].pdu.data() + 40), 8192u);
      break;
    }
  EXPECT_EQ(sim.initiator->erl1_counters().connection_recoveries, 1u);
  EXPECT_EQ(sim.initiator->erl1_counters().tasks_reassigned, 1u);
}

// MC/S: a failed connection is logged out with reason 2 on the other, which takes its tasks.
TEST_F(Erl2Engine, FailedConnectionIsRemovedForRecoveryOnTheOther) {
  start(2);
  ASSERT_EQ(sim.initiator->live_connections(), 2u);
  const auto data = pattern(16384, 4);
  std::copy(data.begin(), data.end(), sim.disk.data().begin());
  std::vector<std::byte> a(16384), b(16384);
  ScsiRequest r;
  r.cdb = read10(0, 32);
  r.data_in = a;
  const TaskId ia = sim.initiator->submit(r, sim.now);  // connection 0
  r.data_in = b;
  const TaskId ib = sim.initiator->submit(r, sim.now);  // connection 1
  bool cut = false;
  sim.trace = [&](bool up, const std::vector<std::byte>& pdu, LinkFate f) {
    wire.push_back({up, pdu, f});
    if (!cut && !up && (std::to_integer<unsigned>(pdu[0]) & 0x3fu) == 0x25) {
      cut = true;
      sim.cut_cid(0);
    }
  };
  ASSERT_TRUE(sim.run({ia, ib}));
  EXPECT_FALSE(sim.done.at(ia.value).error);
  EXPECT_FALSE(sim.done.at(ib.value).error);
  EXPECT_EQ(a, data);
  EXPECT_EQ(b, data);
  const Wire* logout = nullptr;
  for (const auto& w : wire)
    if (w.up && w.opcode() == 0x06) logout = &w;
  ASSERT_NE(logout, nullptr);
  EXPECT_EQ(std::to_integer<unsigned>(logout->pdu[1]) & 0x7fu, 2u) << "reason 2";
  EXPECT_EQ(load_be16(logout->pdu.data() + 20), 0u) << "for CID 0";
  EXPECT_EQ(sim.initiator->erl1_counters().tasks_reassigned, 1u);
  EXPECT_EQ(sim.session_logins, 1u);
}

}  // namespace
}  // namespace uiscsi::core
