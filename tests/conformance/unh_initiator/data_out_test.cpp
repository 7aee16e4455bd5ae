// UNH-IOL initiator full feature phase: how our initiator sends write data (groups 6, 8, 9, 11,
// 12 and 16.1-16.3, 16.6): unsolicited and immediate data within FirstBurstLength, R2T answers,
// DataSN, Buffer Offset, F bits and segment sizes (RFC 7143 sections 4.2.5, 11.3, 11.7, 11.8).
// The engine against a scripted target, PDU by PDU, in virtual time.
#include "conformance/kit/initiator_kit.hpp"

namespace uiscsi::core {
namespace {

using UnhInitiatorFfp = UnhInitiator;

// 6.1: DataSN starts at 0 in each sequence, unsolicited and per R2T, rising by one.
TEST_F(UnhInitiatorFfp, Initiator_FFP_6_1_DataOutDataSn) {
  open({.initial_r2t = false, .immediate_data = false, .first_burst = 2048, .target_mrdsl = 512});
  write(4096);
  const auto sent = t->drain();
  const auto cmd = command_in(sent);
  ASSERT_TRUE(cmd);
  EXPECT_FALSE(cmd->final);
  expect_burst(data_outs(sent), cmd->itt, Ttt::reserved(), -1, 0, 2048, 512, buffer(0));
  r2t(cmd->itt, Ttt(0x10), 0, 2048, 2048);
  expect_burst(data_outs(t->drain()), cmd->itt, Ttt(0x10), 0, 2048, 2048, 512, buffer(0));
}

// 8.1: FBL 512, MBL 1024, InitialR2T=No, ImmediateData=Yes: the unsolicited part stays within
// FirstBurstLength, the rest waits for R2Ts, which are honoured.
TEST_F(UnhInitiatorFfp, Initiator_FFP_8_1_UnsolicitedDataLimits) {
  open({.initial_r2t = false, .immediate_data = true, .first_burst = 512, .max_burst = 1024});
  write(4096);
  const auto sent = t->drain();
  const auto cmd = command_in(sent);
  ASSERT_TRUE(cmd);
  std::size_t unsolicited = sent[0].data.size();
  for (const auto& p : data_outs(sent))
    unsolicited += p.data.size();
  EXPECT_EQ(unsolicited, 512u);
  EXPECT_TRUE(cmd->final) << "immediate data filled the first burst: no Data-Out follows";
  r2t(cmd->itt, Ttt(0x20), 0, 512, 1024);
  expect_burst(data_outs(t->drain()), cmd->itt, Ttt(0x20), 0, 512, 1024, 8192, buffer(0));
  EXPECT_TRUE(t->drain().empty()) << "data beyond the R2T";
}

// 8.2: InitialR2T=Yes, ImmediateData=No: no immediate data, no Data-Out before the first R2T.
TEST_F(UnhInitiatorFfp, Initiator_FFP_8_2_R2TModeNoUnsolicited) {
  open({.initial_r2t = true, .immediate_data = false});
  write(2048);
  const auto sent = t->drain();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_TRUE(sent[0].data.empty());
  EXPECT_TRUE(sent[0].as<ScsiCommand>()->final);
}

// 8.3: InitialR2T=No, ImmediateData=No: unsolicited data in separate Data-Out PDUs, at most
// FirstBurstLength in total.
TEST_F(UnhInitiatorFfp, Initiator_FFP_8_3_UnsolicitedDataOutOnly) {
  open({.initial_r2t = false, .immediate_data = false, .first_burst = 1024, .target_mrdsl = 512});
  write(4096);
  const auto sent = t->drain();
  const auto cmd = command_in(sent);
  ASSERT_TRUE(cmd);
  EXPECT_TRUE(sent[0].data.empty());
  EXPECT_FALSE(cmd->final);
  expect_burst(data_outs(sent), cmd->itt, Ttt::reserved(), -1, 0, 1024, 512, buffer(0));
}

// 9.1: Data-Out for an R2T carries that R2T's TTT.
TEST_F(UnhInitiatorFfp, Initiator_FFP_9_1_TargetTransferTagEcho) {
  open({.max_outstanding_r2t = 2});
  write(4096);
  const auto cmd = command_in(t->drain());
  ASSERT_TRUE(cmd);
  r2t(cmd->itt, Ttt(0x1234), 0, 0, 2048);
  r2t(cmd->itt, Ttt(0x5678), 1, 2048, 2048);
  const auto d = data_outs(t->drain());
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].as<DataOut>()->ttt, Ttt(0x1234));
  EXPECT_EQ(d[1].as<DataOut>()->ttt, Ttt(0x5678));
}

// 11.1.1: the station's MaxRecvDataSegmentLength of 512 bounds every Data-Out.
TEST_F(UnhInitiatorFfp, Initiator_FFP_11_1_1_DataOutSegmentSize) {
  open({.target_mrdsl = 512});
  write(8192);
  const auto cmd = command_in(t->drain());
  ASSERT_TRUE(cmd);
  r2t(cmd->itt, Ttt(1), 0, 0, 8192);
  const auto d = data_outs(t->drain());
  ASSERT_EQ(d.size(), 16u);
  expect_burst(d, cmd->itt, Ttt(1), 0, 0, 8192, 512, buffer(0));
}

// 11.2.1: immediate data within FirstBurstLength; the last unsolicited Data-Out has F=1.
TEST_F(UnhInitiatorFfp, Initiator_FFP_11_2_1_FBitUnsolicited) {
  open({.initial_r2t = false, .immediate_data = true, .first_burst = 2048, .target_mrdsl = 512});
  write(8192);
  const auto sent = t->drain();
  const auto cmd = command_in(sent);
  ASSERT_TRUE(cmd);
  EXPECT_LE(sent[0].data.size(), 512u);
  const auto d = data_outs(sent);
  ASSERT_FALSE(d.empty());
  const auto imm = static_cast<std::uint32_t>(sent[0].data.size());
  expect_burst(d, cmd->itt, Ttt::reserved(), -1, imm, 2048 - imm, 512, buffer(0));
}

// 11.2.2: after an R2T for 65536 bytes, the last Data-Out of that burst has F=1.
TEST_F(UnhInitiatorFfp, Initiator_FFP_11_2_2_FBitSolicited) {
  open();
  write(65536);
  const auto cmd = command_in(t->drain());
  ASSERT_TRUE(cmd);
  r2t(cmd->itt, Ttt(7), 0, 0, 65536);
  expect_burst(data_outs(t->drain()), cmd->itt, Ttt(7), 0, 0, 65536, 8192, buffer(0));
}

// 11.3: station MRDSL 1024, R2Ts of 2048 bytes: DataSN restarts at 0 per R2T.
TEST_F(UnhInitiatorFfp, Initiator_FFP_11_3_DataSnPerR2T) {
  open({.target_mrdsl = 1024});
  write(8192);
  const auto cmd = command_in(t->drain());
  ASSERT_TRUE(cmd);
  for (std::uint32_t k = 0; k < 4; ++k) {
    r2t(cmd->itt, Ttt(0x40 + k), k, k * 2048, 2048);
    expect_burst(data_outs(t->drain()), cmd->itt, Ttt(0x40 + k), static_cast<int>(k), k * 2048,
                 2048, 1024, buffer(0));
  }
}

// 11.4: both in-order keys Yes: Buffer Offset is right and rises PDU by PDU.
TEST_F(UnhInitiatorFfp, Initiator_FFP_11_4_BufferOffset) {
  open({.target_mrdsl = 512});
  write(3072);
  const auto cmd = command_in(t->drain());
  ASSERT_TRUE(cmd);
  r2t(cmd->itt, Ttt(3), 0, 0, 3072);
  expect_burst(data_outs(t->drain()), cmd->itt, Ttt(3), 0, 0, 3072, 512, buffer(0));
}

// 12.1: Data-Out echoes TTT 0xabbaabba; one PDU answering the R2T has its offset and length.
TEST_F(UnhInitiatorFfp, Initiator_FFP_12_1_R2TAnswered) {
  open();
  write(4096);
  const auto cmd = command_in(t->drain());
  ASSERT_TRUE(cmd);
  r2t(cmd->itt, Ttt(0xabbaabba), 0, 1024, 2048);
  const auto d = data_outs(t->drain());
  ASSERT_EQ(d.size(), 1u);
  expect_burst(d, cmd->itt, Ttt(0xabbaabba), 0, 1024, 2048, 8192, buffer(0));
}

// 12.2: a 4096-byte R2T with MRDSL 512: PDUs inside the range, contiguous, ascending, no
// overlap, last F=1.
TEST_F(UnhInitiatorFfp, Initiator_FFP_12_2_R2TAnsweredByASequence) {
  open({.target_mrdsl = 512});
  write(8192);
  const auto cmd = command_in(t->drain());
  ASSERT_TRUE(cmd);
  r2t(cmd->itt, Ttt(9), 0, 2048, 4096);
  const auto d = data_outs(t->drain());
  ASSERT_EQ(d.size(), 8u);
  expect_burst(d, cmd->itt, Ttt(9), 0, 2048, 4096, 512, buffer(0));
}

// 12.3: DataSequenceInOrder=No, four R2Ts for descending offsets: answered in arrival order.
TEST_F(UnhInitiatorFfp, Initiator_FFP_12_3_R2TOrderDataSequenceInOrderNo) {
  open({.max_outstanding_r2t = 4, .data_sequence_in_order = false});
  write(4096);
  const auto cmd = command_in(t->drain());
  ASSERT_TRUE(cmd);
  for (std::uint32_t k = 0; k < 4; ++k)
    r2t(cmd->itt, Ttt(0x70 + k), k, 3072 - k * 1024, 1024);
  const auto d = data_outs(t->drain());
  ASSERT_EQ(d.size(), 4u);
  for (std::uint32_t k = 0; k < 4; ++k) {
    const auto* x = d[k].as<DataOut>();
    EXPECT_EQ(x->ttt, Ttt(0x70 + k))
        << testing::kit::describe_data_out(*x, d[k].data.size(), k + 1, static_cast<int>(k));
    EXPECT_EQ(x->buffer_offset, 3072 - k * 1024);
    EXPECT_TRUE(x->final);
  }
}

// 12.4: two concurrent WRITEs get R2Ts in reverse order: the first data goes with the second
// command's ITT.
TEST_F(UnhInitiatorFfp, Initiator_FFP_12_4_ParallelCommands) {
  open();
  write(1024);
  write(1024);
  const auto sent = t->drain();
  ASSERT_EQ(sent.size(), 2u);
  const Itt first = sent[0].as<ScsiCommand>()->itt;
  const Itt second = sent[1].as<ScsiCommand>()->itt;
  r2t(second, Ttt(0x200), 0, 0, 1024);
  r2t(first, Ttt(0x100), 0, 0, 1024);
  const auto d = data_outs(t->drain());
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].as<DataOut>()->itt, second);
  EXPECT_EQ(d[0].as<DataOut>()->ttt, Ttt(0x200));
  EXPECT_EQ(d[1].as<DataOut>()->itt, first);
  EXPECT_TRUE(std::equal(d[0].data.begin(), d[0].data.end(), buffer(1).begin()));
}

// 16.1.1 / 16.1.2: the first command: CmdSN = the login's ExpCmdSN, ExpStatSN = login StatSN
// + 1, an ITT unlike the login's, DSL equal to the data carried (none with ImmediateData=No), a
// valid opcode, an AHS for a CDB over 16 bytes.
void check_first_command(UnhInitiator& f, ScriptedTarget& t, bool immediate_data,
                         const SentPdu& p) {
  const auto* c = p.as<ScsiCommand>();
  ASSERT_NE(c, nullptr) << p.describe();
  EXPECT_EQ(c->cmd_sn, t.first_login_request.cmd_sn);
  EXPECT_EQ(c->exp_stat_sn, t.next_stat_sn());
  EXPECT_NE(c->itt, t.first_login_request.itt);
  EXPECT_EQ(p.bhs.data_segment_length(), p.data.size());
  EXPECT_EQ(p.data.empty(), !immediate_data);
  EXPECT_EQ(p.bhs.opcode(), Opcode::scsi_command);
  (void)f;
}
TEST_F(UnhInitiatorFfp, Initiator_FFP_16_1_1_CommandFieldsImmediateDataYes) {
  open({.immediate_data = true});
  write(1024);
  check_first_command(*this, *t, true, t->drain_one());
  // A 32-byte CDB: the bytes past 16 travel in an extended CDB AHS (section 11.2.2).
  std::vector<std::byte> long_cdb(32, std::byte{0});
  long_cdb[0] = std::byte{0x7f};
  long_cdb[7] = std::byte{0x18};
  ScsiRequest r;
  r.cdb = CdbBytes::from(long_cdb);
  s->submit(r, now);
  const SentPdu p = t->drain_one();
  ASSERT_EQ(p.bhs.total_ahs_length(), 5u);  // 4-byte header + 16 bytes + 1 pad byte, in words
  const auto ahs = parse_ahs(p.ahs);
  ASSERT_TRUE(ahs);
  EXPECT_EQ(ahs->extended_cdb.size(), 16u);
}
TEST_F(UnhInitiatorFfp, Initiator_FFP_16_1_2_CommandFieldsImmediateDataNo) {
  open({.immediate_data = false});
  write(1024);
  check_first_command(*this, *t, false, t->drain_one());
}

// 16.2.1: ImmediateData=Yes, InitialR2T=Yes, FirstBurstLength large: DSL equals the immediate
// bytes, F=1 when EDTL equals DSL.
TEST_F(UnhInitiatorFfp, Initiator_FFP_16_2_1_UnsolicitedImmYesR2TYesHugeFBL) {
  open({.initial_r2t = true,
        .immediate_data = true,
        .first_burst = 16777215,
        .max_burst = 16777215});
  write(4096);
  const SentPdu p = t->drain_one();
  const auto* c = p.as<ScsiCommand>();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(p.bhs.data_segment_length(), 4096u);
  EXPECT_EQ(c->expected_data_transfer_length, 4096u);
  EXPECT_TRUE(c->final);
  EXPECT_TRUE(c->write);
  EXPECT_TRUE(std::equal(p.data.begin(), p.data.end(), buffer(0).begin()));
}

// 16.2.2 / 16.3.1: ImmediateData=No, InitialR2T=Yes: the WRITE carries no data, W=1, F=1; no
// Data-Out before the R2T; the last Data-Out after it has F=1.
void check_r2t_mode(UnhInitiator& f, ScriptedTarget& t, std::span<const std::byte> data) {
  const SentPdu p = t.drain_one();
  const auto* c = p.as<ScsiCommand>();
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(p.data.empty());
  EXPECT_EQ(p.bhs.data_segment_length(), 0u);
  EXPECT_TRUE(c->write);
  EXPECT_TRUE(c->final);
  EXPECT_TRUE(t.drain().empty()) << "Data-Out before the R2T";
  R2t r;
  r.itt = c->itt;
  r.ttt = Ttt(0x33);
  r.desired_data_transfer_length = static_cast<std::uint32_t>(data.size());
  t.send(Header{r});
  const auto d = t.drain();
  ASSERT_FALSE(d.empty());
  EXPECT_TRUE(d.back().as<DataOut>()->final);
  (void)f;
}
TEST_F(UnhInitiatorFfp, Initiator_FFP_16_2_2_UnsolicitedImmNoR2TYes) {
  open({.initial_r2t = true, .immediate_data = false});
  write(16384);
  check_r2t_mode(*this, *t, buffer(0));
}
TEST_F(UnhInitiatorFfp, Initiator_FFP_16_3_1_CommandFBitR2TMode) {
  open({.initial_r2t = true, .immediate_data = false, .target_mrdsl = 512});
  write(2048);
  check_r2t_mode(*this, *t, buffer(0));
}

// 16.2.3: ImmediateData=No, InitialR2T=No: the WRITE has DSL 0 and W=1.
TEST_F(UnhInitiatorFfp, Initiator_FFP_16_2_3_UnsolicitedImmNoR2TNo) {
  open({.initial_r2t = false, .immediate_data = false, .first_burst = 1024});
  write(4096);
  const auto sent = t->drain();
  const auto* c = sent.at(0).as<ScsiCommand>();
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(sent[0].bhs.data_segment_length(), 0u);
  EXPECT_TRUE(c->write);
  EXPECT_FALSE(c->final) << "unsolicited Data-Out follows";
}

// 16.2.4: ImmediateData=Yes, InitialR2T=No: right DSL, W=1, at most FirstBurstLength of
// immediate data, the last unsolicited Data-Out F=1.
TEST_F(UnhInitiatorFfp, Initiator_FFP_16_2_4_UnsolicitedImmYesR2TNo) {
  open({.initial_r2t = false, .immediate_data = true, .first_burst = 4096, .target_mrdsl = 1024});
  write(8192);
  const auto sent = t->drain();
  const auto* c = sent.at(0).as<ScsiCommand>();
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->write);
  EXPECT_EQ(sent[0].bhs.data_segment_length(), sent[0].data.size());
  EXPECT_LE(sent[0].data.size(), 1024u);
  const auto imm = static_cast<std::uint32_t>(sent[0].data.size());
  expect_burst(data_outs(sent), c->itt, Ttt::reserved(), -1, imm, 4096 - imm, 1024, buffer(0));
}

// 16.6: ImmediateData=Yes, InitialR2T=Yes: F=1 when DSL equals EDTL; when EDTL exceeds
// FirstBurstLength only the immediate part goes before an R2T.
TEST_F(UnhInitiatorFfp, Initiator_FFP_16_6_ExpectedDataTransferLength) {
  open({.initial_r2t = true, .immediate_data = true, .first_burst = 1024});
  write(1024);
  const SentPdu small = t->drain_one();
  EXPECT_EQ(small.data.size(), 1024u);
  EXPECT_EQ(small.as<ScsiCommand>()->expected_data_transfer_length, 1024u);
  EXPECT_TRUE(small.as<ScsiCommand>()->final);
  write(4096);
  const auto sent = t->drain();
  ASSERT_EQ(sent.size(), 1u) << "Data-Out before an R2T";
  EXPECT_EQ(sent[0].data.size(), 1024u);
  EXPECT_TRUE(sent[0].as<ScsiCommand>()->final);
}

}  // namespace
}  // namespace uiscsi::core
