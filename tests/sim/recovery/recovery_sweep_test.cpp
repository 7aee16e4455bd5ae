// Error recovery swept across every PDU of a mixed read/write workload, in virtual time: the
// initiator engine against the target engine over a link that loses, damages or cuts one PDU.
// After recovery every read's data matches, every write is on the disk (exactly once at ERL 1,
// where nothing is re-executed), and no task hangs.
#include <gtest/gtest.h>

#include "core/bytes.hpp"
#include "sim/recovery/lossy_sim.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

using testing::LinkFate;
using testing::LossySim;
using testing::pattern;

constexpr std::uint32_t kBlocks = 32;  // per command: 16 KiB, several PDUs each way
constexpr std::uint32_t kWrites = 4, kReads = 4;
constexpr std::uint32_t kReadBase = 2048;

CdbBytes rw10(bool write, std::uint32_t lba, std::uint16_t blocks) {
  std::vector<std::byte> c(10);
  c[0] = std::byte{static_cast<unsigned char>(write ? 0x2a : 0x28)};
  store_be32(c.data() + 2, lba);
  store_be16(c.data() + 7, blocks);
  return CdbBytes::from(c);
}

struct Sweep {
  std::uint32_t erl;
  bool digests;
};

// One run of the workload with `fault` on the link. Returns a description of what went wrong,
// or "" when everything checks out.
struct PduCounts {
  std::uint64_t login_up = 0, login_down = 0, up = 0, down = 0;
};

std::string run_workload(const Sweep& sw, std::function<LinkFate(bool, std::uint64_t)> fault,
                         PduCounts* counts = nullptr) {
  LossySim sim;
  auto& tn = sim.target_config.negotiation;
  tn.error_recovery_level = sw.erl;
  tn.max_recv_data_segment_length = 8192;
  tn.header_digest = {"CRC32C", "None"};
  tn.data_digest = {"CRC32C", "None"};
  SessionConfig c = sim.session_config();
  c.negotiation.error_recovery_level = sw.erl;
  c.negotiation.max_recv_data_segment_length = 8192;
  c.negotiation.initial_r2t = false;  // unsolicited Data-Out, then R2Ts
  c.negotiation.first_burst_length = 8192;
  if (sw.digests) {
    c.negotiation.header_digest = {"CRC32C"};
    c.negotiation.data_digest = {"CRC32C"};
  }
  c.recovery = sw.erl == 0;
  c.negotiation.default_time2wait = 0;
  tn.default_time2wait = 0;
  c.recovery_probe_interval = std::chrono::seconds(1);
  const std::uint64_t block = 512;
  for (std::uint32_t i = 0; i < kReads; ++i) {
    const auto p = pattern(kBlocks * block, 100 + i);
    std::copy(p.begin(), p.end(),
              sim.disk.data().begin() + static_cast<long>((kReadBase + i * kBlocks) * block));
  }
  if (!sim.start(c)) return "login failed";
  if (counts) {
    counts->login_up = sim.pdus_up;
    counts->login_down = sim.pdus_down;
  }
  sim.fault = std::move(fault);

  std::vector<std::vector<std::byte>> out, in(kReads, std::vector<std::byte>(kBlocks * block));
  std::vector<TaskId> ids;
  for (std::uint32_t i = 0; i < kWrites; ++i)
    out.push_back(pattern(kBlocks * block, 1 + i));
  for (std::uint32_t i = 0; i < std::max(kWrites, kReads); ++i) {
    if (i < kWrites) {
      ScsiRequest w;
      w.cdb = rw10(true, i * kBlocks, kBlocks);
      w.data_out = out[i];
      ids.push_back(sim.initiator->submit(w, sim.now));
    }
    if (i < kReads) {
      ScsiRequest r;
      r.cdb = rw10(false, kReadBase + i * kBlocks, kBlocks);
      r.data_in = in[i];
      ids.push_back(sim.initiator->submit(r, sim.now));
    }
  }
  if (!sim.run(ids)) return "a task hung";
  if (counts) {
    counts->up = sim.pdus_up;
    counts->down = sim.pdus_down;
  }
  for (auto id : ids) {
    const TaskDone& d = sim.done.at(id.value);
    if (d.error) return "a task failed: " + d.error.message();
    if (d.result.status != 0) {
      // The reset unit attention after a reinstatement is absorbed by the engine; anything
      // else is a failure.
      return "a task ended with status " + std::to_string(d.result.status);
    }
  }
  for (std::uint32_t i = 0; i < kReads; ++i)
    if (in[i] != pattern(kBlocks * block, 100 + i)) return "read " + std::to_string(i) + " differs";
  for (std::uint32_t i = 0; i < kWrites; ++i) {
    const auto at = sim.disk.data().begin() + static_cast<long>(i * kBlocks * block);
    if (!std::equal(out[i].begin(), out[i].end(), at))
      return "write " + std::to_string(i) + " is not on the disk";
    for (std::uint32_t b = i * kBlocks; b < (i + 1) * kBlocks; ++b) {
      const std::uint32_t n = sim.disk.writes(b);
      if (n == 0 || (sw.erl >= 1 && n != 1))
        return "block " + std::to_string(b) + " written " + std::to_string(n) + " times";
    }
  }
  return {};
}

class RecoverySweep : public ::testing::TestWithParam<Sweep> {};

// Counts the workload's PDUs each way after the login (which the sweeps leave alone).
PduCounts count_pdus(const Sweep& sw) {
  PduCounts n;
  EXPECT_EQ(run_workload(sw, nullptr, &n), "");
  EXPECT_GT(n.up, n.login_up);
  EXPECT_GT(n.down, n.login_down);
  return n;
}

// Runs the workload once per PDU of one direction, with `fate` applied to that PDU only.
void sweep(const Sweep& sw, LinkFate fate, const char* what) {
  const PduCounts n = count_pdus(sw);
  for (bool dir : {true, false}) {
    const std::uint64_t from = dir ? n.login_up : n.login_down, to = dir ? n.up : n.down;
    for (std::uint64_t k = from; k < to; ++k) {
      const std::string why = run_workload(sw, [&](bool d, std::uint64_t i) {
        return d == dir && i == k ? fate : LinkFate::deliver;
      });
      EXPECT_EQ(why, "") << what << " at " << (dir ? "initiator" : "target") << " PDU " << k;
    }
  }
}

TEST_P(RecoverySweep, LoseEveryPdu) {
  const Sweep sw = GetParam();
  if (sw.erl == 0) GTEST_SKIP() << "at ERL 0 a lost PDU is found only by a command timeout";
  sweep(sw, LinkFate::lose, "lost");
}

TEST_P(RecoverySweep, DamageEveryDataSegment) {
  const Sweep sw = GetParam();
  if (sw.erl == 0 || !sw.digests) GTEST_SKIP() << "needs digests and ERL 1";
  sweep(sw, LinkFate::damage_data, "data damaged");
}

TEST_P(RecoverySweep, DamageEveryHeader) {
  const Sweep sw = GetParam();
  if (sw.erl == 0 || !sw.digests) GTEST_SKIP() << "needs digests and ERL 1";
  sweep(sw, LinkFate::damage_header, "header damaged");
}

TEST_P(RecoverySweep, CutAtEveryPdu) {
  const Sweep sw = GetParam();
  if (sw.erl != 0) GTEST_SKIP() << "connection recovery is ERL 2";
  sweep(sw, LinkFate::cut, "cut");
}

INSTANTIATE_TEST_SUITE_P(Levels, RecoverySweep, ::testing::Values(Sweep{0, false}, Sweep{0, true}),
                         [](const auto& param_info) {
                           return "Erl" + std::to_string(param_info.param.erl) +
                                  (param_info.param.digests ? "Digests" : "Plain");
                         });

}  // namespace
}  // namespace uiscsi::core
