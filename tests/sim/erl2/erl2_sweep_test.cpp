// Error recovery level 2 and MC/S in virtual time: the initiator engine against target engines
// of one shared session, with the connection cut at every PDU of a mixed read/write workload,
// with one and with two connections. After recovery every read's data matches, every write is
// on the disk exactly once (nothing is executed twice: tasks are reassigned, or retried only
// when the target never got them), no task hangs, and the session is never reinstated.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "core/bytes.hpp"
#include "sim/erl2/erl2_sim.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

using testing::Erl2Sim;
using testing::LinkFate;
using testing::pattern;

constexpr std::uint32_t kBlocks = 32;  // per command: 16 KiB, several PDUs each way
constexpr std::uint32_t kWrites = 4, kReads = 4;
constexpr std::uint32_t kReadBase = 2048;
constexpr std::uint64_t kBlock = 512;

CdbBytes rw10(bool write, std::uint32_t lba, std::uint16_t blocks) {
  std::vector<std::byte> c(10);
  c[0] = std::byte{static_cast<unsigned char>(write ? 0x2a : 0x28)};
  store_be32(c.data() + 2, lba);
  store_be16(c.data() + 7, blocks);
  return CdbBytes::from(c);
}

struct Shape {
  std::size_t connections = 1;
  bool digests = false;
};

void configure(Erl2Sim& sim, SessionConfig& c, const Shape& s) {
  auto& tn = sim.target_config.negotiation;
  tn.error_recovery_level = 2;
  tn.max_connections = 4;
  tn.max_recv_data_segment_length = 8192;
  tn.header_digest = {"CRC32C", "None"};
  tn.data_digest = {"CRC32C", "None"};
  tn.default_time2wait = 1;
  tn.default_time2retain = 20;
  c.negotiation.error_recovery_level = 2;
  c.negotiation.max_connections = static_cast<std::uint32_t>(s.connections);
  c.negotiation.max_recv_data_segment_length = 8192;
  c.negotiation.initial_r2t = false;  // unsolicited Data-Out, then R2Ts
  c.negotiation.first_burst_length = 8192;
  c.negotiation.default_time2wait = 1;
  c.negotiation.default_time2retain = 20;
  if (s.digests) {
    c.negotiation.header_digest = {"CRC32C"};
    c.negotiation.data_digest = {"CRC32C"};
  }
  c.recovery = true;
  c.recovery_probe_interval = std::chrono::seconds(1);
  sim.connections = s.connections;
}

struct Counts {
  std::uint64_t up = 0, down = 0, login_up = 0, login_down = 0;
};

struct Outcome {
  std::string error;  // "" when everything checks out
  std::uint64_t recoveries = 0, reassigned = 0, retried = 0;
  std::uint64_t resumed_reads = 0;  // TASK REASSIGNs with ExpDataSN > 0 (a read resumed)
};

// TASK REASSIGN on the wire: opcode 02h, function 8; ExpDataSN at byte 36.
bool is_reassign(const std::vector<std::byte>& pdu, std::uint32_t* exp_data_sn) {
  if ((std::to_integer<unsigned>(pdu[0]) & 0x3fu) != 0x02) return false;
  if ((std::to_integer<unsigned>(pdu[1]) & 0x7fu) != 8) return false;
  *exp_data_sn = load_be32(pdu.data() + 36);
  return true;
}

Outcome run_workload(const Shape& s, std::function<LinkFate(bool, std::uint64_t)> fault,
                     Counts* counts = nullptr) {
  Outcome out;
  Erl2Sim sim;
  SessionConfig c = sim.session_config();
  configure(sim, c, s);
  for (std::uint32_t i = 0; i < kReads; ++i) {
    const auto p = pattern(kBlocks * kBlock, 100 + i);
    std::copy(p.begin(), p.end(),
              sim.disk.data().begin() + static_cast<long>((kReadBase + i * kBlocks) * kBlock));
  }
  if (!sim.start(c)) {
    out.error = "login failed";
    return out;
  }
  if (sim.initiator->params().error_recovery_level != 2) {
    out.error = "ERL 2 not negotiated";
    return out;
  }
  if (counts) {
    counts->login_up = sim.pdus_up;
    counts->login_down = sim.pdus_down;
  }
  sim.fault = std::move(fault);
  const bool print = std::getenv("UISCSI_SIM_TRACE") != nullptr;
  {
    sim.trace = [&out, print](bool up, const std::vector<std::byte>& pdu, LinkFate f) {
      std::uint32_t exp = 0;
      if (up && f == LinkFate::deliver && is_reassign(pdu, &exp) && exp > 0) ++out.resumed_reads;
      if (!print) return;
      std::fprintf(stderr, "%s op=%02x b1=%02x itt=%08x sn24=%08x sn28=%08x f=%d\n",
                   up ? "I->T" : "T->I", std::to_integer<unsigned>(pdu[0]) & 0x3fu,
                   std::to_integer<unsigned>(pdu[1]), load_be32(pdu.data() + 16),
                   load_be32(pdu.data() + 24), load_be32(pdu.data() + 28), static_cast<int>(f));
    };
  }
  const std::uint64_t sessions_before = sim.session_logins;

  std::vector<std::vector<std::byte>> wr, rd(kReads, std::vector<std::byte>(kBlocks * kBlock));
  std::vector<TaskId> ids;
  for (std::uint32_t i = 0; i < kWrites; ++i)
    wr.push_back(pattern(kBlocks * kBlock, 1 + i));
  for (std::uint32_t i = 0; i < std::max(kWrites, kReads); ++i) {
    if (i < kWrites) {
      ScsiRequest w;
      w.cdb = rw10(true, i * kBlocks, kBlocks);
      w.data_out = wr[i];
      w.retry = RetryPolicy::never;  // any repetition would show as a failure
      ids.push_back(sim.initiator->submit(w, sim.now));
    }
    if (i < kReads) {
      ScsiRequest r;
      r.cdb = rw10(false, kReadBase + i * kBlocks, kBlocks);
      r.data_in = rd[i];
      r.retry = RetryPolicy::never;
      ids.push_back(sim.initiator->submit(r, sim.now));
    }
  }
  if (!sim.run(ids)) {
    out.error = "a task hung";
    return out;
  }
  if (counts) {
    counts->up = sim.pdus_up;
    counts->down = sim.pdus_down;
  }
  const Erl1Counters& k = sim.initiator->erl1_counters();
  out.recoveries = k.connection_recoveries;
  out.reassigned = k.tasks_reassigned;
  out.retried = k.command_retries;
  for (auto id : ids) {
    const TaskDone& d = sim.done.at(id.value);
    if (d.error) {
      out.error = "a task failed: " + d.error.message();
      return out;
    }
    if (d.result.status != 0) {
      out.error = "a task ended with status " + std::to_string(d.result.status);
      return out;
    }
  }
  for (std::uint32_t i = 0; i < kReads; ++i)
    if (rd[i] != pattern(kBlocks * kBlock, 100 + i)) {
      out.error = "read " + std::to_string(i) + " differs";
      return out;
    }
  for (std::uint32_t i = 0; i < kWrites; ++i) {
    const auto at = sim.disk.data().begin() + static_cast<long>(i * kBlocks * kBlock);
    if (!std::equal(wr[i].begin(), wr[i].end(), at)) {
      out.error = "write " + std::to_string(i) + " is not on the disk";
      return out;
    }
    for (std::uint32_t b = i * kBlocks; b < (i + 1) * kBlocks; ++b)
      if (sim.disk.writes(b) != 1) {
        out.error =
            "block " + std::to_string(b) + " written " + std::to_string(sim.disk.writes(b)) + "x";
        return out;
      }
  }
  if (sim.session_logins != sessions_before) out.error = "the session was reinstated";
  if (sim.recovery_failures != 0) out.error = "recovery failed";
  return out;
}

// Cuts the connection at each PDU of the workload, each way, in turn.
void sweep(const Shape& s) {
  Counts n;
  const Outcome clean = run_workload(s, nullptr, &n);
  ASSERT_EQ(clean.error, "");
  ASSERT_GT(n.up, n.login_up);
  std::uint64_t recovered = 0, reassigned = 0, resumed = 0;
  for (bool dir : {true, false}) {
    const std::uint64_t from = dir ? n.login_up : n.login_down, to = dir ? n.up : n.down;
    for (std::uint64_t k = from; k < to; ++k) {
      // UISCSI_SIM_CUT=uK or dK reruns one cut (e.g. with UISCSI_SIM_TRACE=1).
      if (const char* only = std::getenv("UISCSI_SIM_CUT");
          only && (std::string(dir ? "u" : "d") + std::to_string(k)) != only)
        continue;
      const Outcome o = run_workload(s, [&](bool d, std::uint64_t i) {
        return d == dir && i == k ? LinkFate::cut : LinkFate::deliver;
      });
      EXPECT_EQ(o.error, "") << "cut at " << (dir ? "initiator" : "target") << " PDU " << k
                             << " with " << s.connections << " connection(s)";
      recovered += o.recoveries;
      reassigned += o.reassigned;
      resumed += o.resumed_reads;
    }
  }
  // The sweep really went through connection recovery and reassignment.
  if (std::getenv("UISCSI_SIM_CUT") == nullptr) {
    EXPECT_GT(recovered, 0u);
    EXPECT_GT(reassigned, 0u);
    EXPECT_GT(resumed, 0u);  // some reads resumed part way, from the Data-In not yet received
  }
}

TEST(Erl2Sweep, CutAtEveryPduOneConnection) {
  sweep(Shape{1, false});
}

TEST(Erl2Sweep, CutAtEveryPduOneConnectionWithDigests) {
  sweep(Shape{1, true});
}

TEST(Erl2Sweep, CutAtEveryPduTwoConnections) {
  sweep(Shape{2, false});
}

// Time2Retain passed before the connection came back: the target dropped the tasks, so they are
// not reassigned. The reads (safe to repeat) go again as new commands; the writes, whose policy
// forbids it, fail saying they may have executed. The session lives on.
TEST(Erl2Fallback, Time2RetainExpiredRetriesOnlyWhatThePolicyAllows) {
  Erl2Sim sim;
  SessionConfig c = sim.session_config();
  configure(sim, c, Shape{1, false});
  sim.target_config.negotiation.default_time2retain = 0;
  c.negotiation.default_time2retain = 0;
  const auto data = pattern(kBlocks * kBlock, 7);
  std::copy(data.begin(), data.end(), sim.disk.data().begin());
  ASSERT_TRUE(sim.start(c));
  ASSERT_EQ(sim.initiator->params().default_time2retain, 0u);
  std::vector<std::byte> in(kBlocks * kBlock);
  const auto wr = pattern(kBlocks * kBlock, 8);
  ScsiRequest r;
  r.cdb = rw10(false, 0, kBlocks);
  r.data_in = in;
  ScsiRequest w;
  w.cdb = rw10(true, 1024, kBlocks);
  w.data_out = wr;
  w.retry = RetryPolicy::never;
  // Cut at the second Data-In: both commands have reached the target.
  int data_ins = 0;
  sim.fault = [&](bool up, std::uint64_t) {
    (void)up;
    return LinkFate::deliver;
  };
  sim.trace = [&](bool up, const std::vector<std::byte>& pdu, LinkFate) {
    if (!up && (std::to_integer<unsigned>(pdu[0]) & 0x3fu) == 0x25 && ++data_ins == 2)
      sim.cut_cid(0);
  };
  const TaskId rid = sim.initiator->submit(r, sim.now);
  const TaskId wid = sim.initiator->submit(w, sim.now);
  ASSERT_TRUE(sim.run({rid, wid}));
  const TaskDone& rd = sim.done.at(rid.value);
  const TaskDone& wd = sim.done.at(wid.value);
  EXPECT_FALSE(rd.error) << rd.error.message();
  EXPECT_EQ(in, data);
  EXPECT_EQ(wd.error, make_error_code(errc::connection_closed));
  EXPECT_TRUE(wd.may_have_executed);
  EXPECT_EQ(sim.initiator->erl1_counters().tasks_reassigned, 0u);
  EXPECT_TRUE(sim.initiator->logged_in());
  EXPECT_EQ(sim.session_logins, 1u);  // never reinstated
}

// MC/S: one connection is logged out (reason 1) while the other carries the session on.
TEST(Erl2Mcs, LogoutOfOneConnectionWhileTheOtherCarriesOn) {
  Erl2Sim sim;
  SessionConfig c = sim.session_config();
  configure(sim, c, Shape{2, false});
  const auto data = pattern(kBlocks * kBlock, 9);
  std::copy(data.begin(), data.end(), sim.disk.data().begin());
  ASSERT_TRUE(sim.start(c));
  ASSERT_EQ(sim.initiator->live_connections(), 2u);
  std::vector<std::vector<std::byte>> in(4, std::vector<std::byte>(kBlocks * kBlock));
  std::vector<TaskId> ids;
  for (auto& b : in) {
    ScsiRequest r;
    r.cdb = rw10(false, 0, kBlocks);
    r.data_in = b;
    ids.push_back(sim.initiator->submit(r, sim.now));
  }
  const TaskId out = sim.initiator->logout(sim.now, sim.now + std::chrono::seconds(5),
                                           LogoutReason::close_connection, 0);
  ASSERT_TRUE(sim.run(ids));
  for (auto id : ids)
    EXPECT_FALSE(sim.done.at(id.value).error);
  for (auto& b : in)
    EXPECT_EQ(b, data);
  ASSERT_EQ(sim.logouts.size(), 1u);
  EXPECT_EQ(sim.logouts[0].id, out);
  EXPECT_FALSE(sim.logouts[0].error);
  EXPECT_EQ(sim.initiator->live_connections(), 1u);
  EXPECT_TRUE(sim.initiator->logged_in());
  // New work goes to the connection left.
  std::vector<std::byte> more(kBlocks * kBlock);
  ScsiRequest r;
  r.cdb = rw10(false, 0, kBlocks);
  r.data_in = more;
  const TaskId id = sim.initiator->submit(r, sim.now);
  ASSERT_TRUE(sim.run({id}));
  EXPECT_FALSE(sim.done.at(id.value).error);
  EXPECT_EQ(more, data);
}

}  // namespace
}  // namespace uiscsi::core
