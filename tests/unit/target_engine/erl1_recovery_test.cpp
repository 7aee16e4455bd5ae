// The target engine at ErrorRecoveryLevel 1: digest errors (RFC 7143 section 7.8), command
// retry (section 7.2.1) and the lost-PDU faults, driven with raw PDUs.
#include <gtest/gtest.h>

#include "target_harness.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

using testing::LoginKeys;
using testing::only;
using testing::TargetHarness;
using testing::TargetPdu;

LoginKeys digests_on() {
  LoginKeys k;
  k.header_digest = "CRC32C";
  k.data_digest = "CRC32C";
  k.max_burst = "2048";
  return k;
}

TEST(TargetErl1Digest, DataDigestErrorOnDataOutGetsARecoveryR2t) {
  TargetHarness h;
  ASSERT_TRUE(h.login(digests_on()));
  const auto write = h.rw10(true, 8, 4);
  h.send(Header{write});
  const auto r2t = only<R2t>(h.receive());
  ASSERT_EQ(r2t.size(), 1u);
  ASSERT_EQ(r2t[0].desired_data_transfer_length, 2048u);
  const auto data = testing::pattern(2048, 11);
  std::vector<TargetPdu> out;
  for (std::uint32_t i = 0; i < 4; ++i) {
    const auto d = h.data_out(write, r2t[0].ttt, i, i * 512, i == 3);
    const auto part = std::span(data).subspan(i * 512, 512);
    if (i == 1) {
      h.send_bad_data_digest(Header{d}, part);
    } else {
      h.send(Header{d}, part);
    }
    const auto got = h.receive();
    out.insert(out.end(), got.begin(), got.end());
  }
  // The damaged PDU is rejected with its header (reason 0x02), then, when the burst has ended,
  // a recovery R2T asks for just its range: next R2TSN, a new TTT.
  ASSERT_EQ(out.size(), 2u);
  const auto* rej = out[0].as<Reject>();
  ASSERT_NE(rej, nullptr);
  EXPECT_EQ(rej->reason, RejectReason::data_digest_error);
  ASSERT_EQ(out[0].data.size(), kBhsSize);
  EXPECT_EQ(load_be32(out[0].data.data() + 36), 1u);  // the rejected Data-Out's DataSN
  const auto* rec = out[1].as<R2t>();
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->r2t_sn, 1u);
  EXPECT_NE(rec->ttt, r2t[0].ttt);
  EXPECT_EQ(rec->buffer_offset, 512u);
  EXPECT_EQ(rec->desired_data_transfer_length, 512u);
  h.send(Header{h.data_out(write, rec->ttt, 0, 512, true)}, std::span(data).subspan(512, 512));
  const auto rsp = only<ScsiResponse>(h.receive());
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].status, 0);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), h.disk.data().begin() + 8 * 512));
  EXPECT_EQ(h.target->stats().recovery_r2ts, 1u);
}

TEST(TargetErl1Digest, DataDigestErrorOnUnsolicitedData) {
  TargetHarness h;
  h.config.negotiation.initial_r2t = false;  // InitialR2T is an OR of both offers
  LoginKeys k = digests_on();
  k.initial_r2t = "No";
  k.immediate_data = "Yes";
  k.first_burst = "1024";
  ASSERT_TRUE(h.login(k));
  auto write = h.rw10(true, 0, 2);
  write.final = false;  // unsolicited Data-Out follows the immediate data
  const auto data = testing::pattern(1024, 5);
  h.send(Header{write}, std::span(data).first(512));
  h.send_bad_data_digest(Header{h.data_out(write, Ttt::reserved(), 0, 512, true)},
                         std::span(data).subspan(512));
  const auto out = h.receive();
  ASSERT_EQ(out.size(), 2u);
  ASSERT_NE(out[0].as<Reject>(), nullptr);
  const auto* rec = out[1].as<R2t>();
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ(rec->r2t_sn, 0u);
  EXPECT_EQ(rec->buffer_offset, 512u);
  EXPECT_EQ(rec->desired_data_transfer_length, 512u);
  h.send(Header{h.data_out(write, rec->ttt, 0, 512, true)}, std::span(data).subspan(512));
  const auto rsp = only<ScsiResponse>(h.receive());
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].status, 0);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), h.disk.data().begin()));
}

TEST(TargetErl1Digest, DataDigestErrorOnACommandThenItsRetry) {
  TargetHarness h;
  LoginKeys k = digests_on();
  k.immediate_data = "Yes";
  ASSERT_TRUE(h.login(k));
  const auto write = h.rw10(true, 16, 2);
  const auto data = testing::pattern(1024, 6);
  h.send_bad_data_digest(Header{write}, data);
  auto out = h.receive();
  ASSERT_EQ(out.size(), 1u);
  const auto* rej = out[0].as<Reject>();
  ASSERT_NE(rej, nullptr);
  EXPECT_EQ(rej->reason, RejectReason::data_digest_error);
  EXPECT_EQ(rej->exp_cmd_sn, write.cmd_sn);  // the command was discarded
  EXPECT_TRUE(h.held.empty());
  // A later command waits behind the gap...
  const auto tur = h.test_unit_ready();
  h.send(Header{tur});
  EXPECT_TRUE(h.receive().empty());
  // ...until the retry (same ITT, CmdSN and CDB) fills it.
  h.send(Header{write}, data);
  out = h.receive();
  const auto rsp = only<ScsiResponse>(out);
  ASSERT_EQ(rsp.size(), 2u);
  EXPECT_EQ(rsp[0].itt, write.itt);
  EXPECT_EQ(rsp[0].status, 0);
  EXPECT_EQ(rsp[1].itt, tur.itt);
  EXPECT_EQ(rsp[1].exp_cmd_sn, h.cmd_sn);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), h.disk.data().begin() + 16 * 512));
}

TEST(TargetErl1Digest, HeaderDigestErrorDiscardsThePdu) {
  TargetHarness h;
  ASSERT_TRUE(h.login(digests_on()));
  NopOut ping;
  ping.immediate = true;
  ping.itt = h.itt();
  ping.ttt = Ttt::reserved();
  ping.cmd_sn = h.cmd_sn;
  ping.exp_stat_sn = h.exp_stat_sn;
  h.send_bad_header_digest(Header{ping}, testing::pattern(64, 1));
  EXPECT_TRUE(h.receive().empty());  // no answer, no Reject: nothing in it can be trusted
  EXPECT_FALSE(h.closed());
  h.send(Header{ping});
  EXPECT_EQ(only<NopIn>(h.receive()).size(), 1u);
  EXPECT_EQ(h.target->stats().digest_errors, 1u);
}

TEST(TargetErl1Digest, LostDataOutLeavesAHoleAskedForAgain) {
  TargetHarness h;
  ASSERT_TRUE(h.login(digests_on()));
  const auto write = h.rw10(true, 0, 4);
  h.send(Header{write});
  const auto r2t = only<R2t>(h.receive());
  ASSERT_EQ(r2t.size(), 1u);
  const auto data = testing::pattern(2048, 12);
  for (std::uint32_t i = 0; i < 4; ++i) {
    const auto d = h.data_out(write, r2t[0].ttt, i, i * 512, i == 3);
    const auto part = std::span(data).subspan(i * 512, 512);
    if (i == 2) {
      h.send_bad_header_digest(Header{d}, part);  // skipped: DataSN 3 then shows the gap
    } else {
      h.send(Header{d}, part);
    }
  }
  const auto rec = only<R2t>(h.receive());
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(rec[0].buffer_offset, 1024u);
  EXPECT_EQ(rec[0].desired_data_transfer_length, 512u);
  h.send(Header{h.data_out(write, rec[0].ttt, 0, 1024, true)}, std::span(data).subspan(1024, 512));
  const auto rsp = only<ScsiResponse>(h.receive());
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].status, 0);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), h.disk.data().begin()));
}

TEST(TargetErl1Digest, HeaderDigestErrorWithAnUntrustworthyLengthCloses) {
  TargetHarness h;
  ASSERT_TRUE(h.login(digests_on()));
  NopOut ping;
  ping.immediate = true;
  ping.itt = h.itt();
  ping.ttt = Ttt::reserved();
  auto w = h.wire(Header{ping});
  w[5] = std::byte{0x10};  // DataSegmentLength 1 MiB, beyond our MaxRecvDataSegmentLength
  w[kBhsSize] ^= std::byte{0x01};
  h.feed(w);
  h.receive();
  EXPECT_TRUE(h.closed());
}

TEST(TargetErl1Digest, HeaderDigestErrorAtErl0Closes) {
  TargetHarness h;
  LoginKeys k = digests_on();
  k.erl = "0";
  ASSERT_TRUE(h.login(k));
  NopOut ping;
  ping.immediate = true;
  ping.itt = h.itt();
  ping.ttt = Ttt::reserved();
  h.send_bad_header_digest(Header{ping});
  h.receive();
  EXPECT_TRUE(h.closed());
}

TEST(TargetErl1Retry, DuplicateOfARunningCommandIsIgnored) {
  TargetHarness h;
  ASSERT_TRUE(h.login());
  h.execute_inline = false;
  const auto read = h.rw10(false, 0, 2);
  h.send(Header{read});
  h.send(Header{read});  // retried while it runs
  EXPECT_TRUE(h.receive().empty());
  ASSERT_EQ(h.held.size(), 1u);  // executed once
  h.run_held();
  const auto d = only<DataIn>(h.receive());
  EXPECT_EQ(d.size(), 2u);
}

TEST(TargetErl1Retry, RetryOfACompletedCommandGetsItsAnswerAgain) {
  TargetHarness h;
  ASSERT_TRUE(h.login());
  const auto write = h.test_unit_ready();
  h.send(Header{write});
  const auto rsp = only<ScsiResponse>(h.receive());
  ASSERT_EQ(rsp.size(), 1u);
  h.send(Header{write});
  const auto again = only<ScsiResponse>(h.receive());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].stat_sn, rsp[0].stat_sn);
  EXPECT_EQ(again[0].itt, write.itt);
  // A read: its data and status again.
  const auto read = h.rw10(false, 0, 3);
  h.send(Header{read});
  const auto first = h.receive();
  h.send(Header{read});
  const auto second = h.receive();
  ASSERT_EQ(only<DataIn>(second).size(), 3u);
  EXPECT_EQ(only<DataIn>(second).back().stat_sn, only<DataIn>(first).back().stat_sn);
  EXPECT_TRUE(only<DataIn>(second).back().status_present);
  EXPECT_EQ(h.target->stats().command_retries, 2u);
  EXPECT_EQ(h.target->stats().commands, 2u);  // nothing ran twice
}

TEST(TargetErl1Faults, LosePduDropsTheNthPdu) {
  TargetHarness h;
  h.config.faults.lose_pdu = 2;
  ASSERT_TRUE(h.login());
  const auto read = h.rw10(false, 0, 4);
  h.send(Header{read});
  const auto d = only<DataIn>(h.receive());
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].data_sn, 0u);
  EXPECT_EQ(d[1].data_sn, 2u);  // DataSN 1 was lost
  EXPECT_EQ(h.target->stats().pdus_lost, 1u);
  h.send(Header{h.snack(SnackType::data_r2t, read.itt, 1, 1)});
  const auto again = only<DataIn>(h.receive());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].data_sn, 1u);
  EXPECT_EQ(again[0].buffer_offset, 512u);
}

TEST(TargetErl1Faults, LoseEveryNthPdu) {
  TargetHarness h;
  h.config.faults.lose_every = 3;
  ASSERT_TRUE(h.login());
  const auto read = h.rw10(false, 0, 6);
  h.send(Header{read});
  const auto d = only<DataIn>(h.receive());
  ASSERT_EQ(d.size(), 4u);  // PDUs 3 and 6 lost
  EXPECT_EQ(d[2].data_sn, 3u);
  EXPECT_EQ(h.target->stats().pdus_lost, 2u);
}

TEST(TargetErl1Faults, CorruptDigestFaultsStillWork) {
  TargetHarness h;
  h.config.faults.corrupt_data_digest_pdu = 2;
  ASSERT_TRUE(h.login(digests_on()));
  const auto read = h.rw10(false, 0, 3);
  h.send(Header{read});
  const auto out = h.receive();
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].error, make_error_code(protocol_errc::data_digest_mismatch));
}

}  // namespace
}  // namespace uiscsi::core
