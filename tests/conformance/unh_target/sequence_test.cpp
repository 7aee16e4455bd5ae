// UNH-IOL target full feature phase, groups 1 to 4: command numbering, StatSN, DataSN, R2TSN
// (RFC 7143 sections 4.2.2, 4.2.2.2, 11.7.5, 11.8.3). Our target engine against a scripted
// initiator, in memory.
#include "conformance/kit/target_kit.hpp"

namespace uiscsi::core {
namespace {

using testing::only;
using testing::kit::ScriptedInitiator;

// 1.1: over ten 1 KB R2T-driven WRITEs, MaxCmdSN is never below ExpCmdSN - 1 (RFC 7143 section
// 4.2.2.1: MaxCmdSN - ExpCmdSN + 1 is the window, never negative).
TEST(UnhTargetFfp, Target_FFP_1_1_MaxCmdSnNeverBelowExpCmdSn1) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  for (std::uint32_t i = 0; i < 10; ++i) {
    const auto w = h.write(i * 2, 2);
    ASSERT_TRUE(w.response) << "WRITE " << i;
    EXPECT_EQ(w.response->status, 0);
    EXPECT_FALSE(w.r2ts.empty());
  }
  int checked = 0;
  for (const auto& p : h.all)
    std::visit(
        [&](const auto& x) {
          if constexpr (requires { x.max_cmd_sn; }) {
            EXPECT_TRUE(serial_ge(x.max_cmd_sn, x.exp_cmd_sn - 1))
                << describe(p.header) << ": MaxCmdSN " << x.max_cmd_sn.value() << " ExpCmdSN "
                << x.exp_cmd_sn.value();
            ++checked;
          }
        },
        p.header);
  EXPECT_GE(checked, 20);
}

// 1.2: the 7th of 10 WRITEs carries a CmdSN outside the window: dropped silently (section
// 4.2.2.1), the others complete.
TEST(UnhTargetFfp, Target_FFP_1_2_OutOfWindowCmdSnIgnored) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  for (std::uint32_t i = 0; i < 10; ++i) {
    if (i == 6) {
      ScsiCommand c = h.rw10(true, 100, 2);
      c.cmd_sn = h.cmd_sn + 1000;  // far outside [ExpCmdSN, MaxCmdSN]
      h.cmd_sn = h.cmd_sn - 1;     // the next WRITE takes the CmdSN this one should have had
      h.send(Header{c});
      const auto out = h.receive_tracked();
      EXPECT_TRUE(out.empty()) << "answered an out-of-window command: " << describe(out[0].header);
      continue;
    }
    const auto w = h.write(i * 2, 2);
    ASSERT_TRUE(w.response) << "WRITE " << i;
    EXPECT_EQ(w.response->status, 0);
  }
  EXPECT_FALSE(h.closed());
}

// 1.3: the 7th WRITE repeats the 6th's CmdSN: the duplicate is dropped, later WRITEs complete.
TEST(UnhTargetFfp, Target_FFP_1_3_DuplicateCmdSnIgnored) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  for (std::uint32_t i = 0; i < 10; ++i) {
    if (i == 6) {
      ScsiCommand c = h.rw10(true, 100, 2);
      c.cmd_sn = h.cmd_sn - 2;  // the 6th WRITE's CmdSN
      h.cmd_sn = h.cmd_sn - 1;
      h.send(Header{c});
      const auto out = h.receive_tracked();
      EXPECT_TRUE(out.empty()) << "answered a duplicate CmdSN: " << describe(out[0].header);
      continue;
    }
    const auto w = h.write(i * 2, 2);
    ASSERT_TRUE(w.response) << "WRITE " << i;
    EXPECT_EQ(w.response->status, 0);
  }
}

// 2.1: StatSN rises by one per response, from the Login Response on (section 4.2.2.2).
TEST(UnhTargetFfp, Target_FFP_2_1_StatSnSequencing) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  SerialNumber expected = h.exp_stat_sn;  // Login Response StatSN + 1
  h.send(Header{h.test_unit_ready()});
  h.receive_tracked();
  h.write(0, 4);
  h.send(Header{h.rw10(false, 0, 4)});
  h.receive_tracked();
  h.send(Header{h.ping(false, h.itt())});
  h.receive_tracked();
  int statuses = 0;
  for (const auto& p : h.all) {
    std::optional<SerialNumber> sn;
    if (const auto* r = p.as<ScsiResponse>()) sn = r->stat_sn;
    if (const auto* d = p.as<DataIn>(); d && d->status_present) sn = d->stat_sn;
    if (const auto* n = p.as<NopIn>()) sn = n->stat_sn;
    if (!sn) continue;
    EXPECT_EQ(sn->value(), expected.value()) << describe(p.header);
    ++expected;
    ++statuses;
  }
  EXPECT_EQ(statuses, 4);
}

// 3.1: three READs with different ITTs: each Data-In sequence counts DataSN from 0 by one
// (section 11.7.5).
TEST(UnhTargetFfp, Target_FFP_3_1_DataInDataSn) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  for (int i = 0; i < 3; ++i) {
    const ScsiCommand r = h.rw10(false, static_cast<std::uint32_t>(i * 8), 4);
    h.send(Header{r});
    const auto d = testing::kit::data_ins(h.receive_tracked(), r.itt);
    ASSERT_EQ(d.size(), 4u);  // MaxRecvDataSegmentLength 512
    for (std::uint32_t k = 0; k < d.size(); ++k)
      EXPECT_EQ(d[k].first.data_sn, k)
          << testing::kit::describe_data_in(d[k].first, d[k].second, k);
  }
}

// 4.1: three WRITEs, each with several R2Ts: R2TSN counts from 0 by one per command (section
// 11.8.3).
TEST(UnhTargetFfp, Target_FFP_4_1_R2TSN) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.max_burst = "1024", .first_burst = "512"}));
  for (std::uint32_t i = 0; i < 3; ++i) {
    const auto w = h.write(i * 8, 4);
    ASSERT_TRUE(w.response);
    ASSERT_EQ(w.r2ts.size(), 2u);  // 2048 bytes in 1024-byte bursts
    for (std::uint32_t k = 0; k < w.r2ts.size(); ++k)
      EXPECT_EQ(w.r2ts[k].r2t_sn, k) << testing::kit::describe_r2t(w.r2ts[k]);
  }
}

}  // namespace
}  // namespace uiscsi::core
