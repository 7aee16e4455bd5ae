// UNH-IOL target full feature phase, groups 5 and 7 to 10, 16, 18 and 19: R2T and Data-In
// contents, too much or too little data, immediate and unsolicited data, digests, residuals
// (RFC 7143 sections 4.2.5, 7.5, 11.3, 11.4, 11.7, 11.8). Our target engine against a scripted
// initiator, in memory.
#include "conformance/kit/target_kit.hpp"

namespace uiscsi::core {
namespace {

using testing::LoginKeys;
using testing::only;
using testing::pattern;
using testing::kit::data_ins;
using testing::kit::describe_data_in;
using testing::kit::describe_r2t;
using testing::kit::response_for;
using testing::kit::ScriptedInitiator;
using testing::kit::sense_for;

// The target ended the command with CHECK CONDITION and this sense, or closed the connection
// (both allowed by the plan).
void expect_check_or_close(ScriptedInitiator& h, Itt itt, std::uint8_t asc, std::uint8_t ascq) {
  if (h.closed()) return;
  const auto r = response_for(h.all, itt);
  ASSERT_TRUE(r) << "no SCSI Response and the connection is still up";
  EXPECT_EQ(r->status, 0x02);
  const auto s = sense_for(h.all, itt);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->asc, asc);
  EXPECT_EQ(s->ascq, ascq);
}

// 5.1: ERL 1, DataDigest on: a WRITE whose immediate data has a bad digest gets a Reject
// (reason 0x02, section 7.5); the identical retry fills the CmdSN gap and ends GOOD.
TEST(UnhTargetFfp, Target_FFP_5_1_CommandRetryAfterDigestError) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.data_digest = "CRC32C", .immediate_data = "Yes"}));
  ScsiCommand c = h.rw10(true, 4, 1);
  const auto data = pattern(512, 5);
  h.send_bad_data_digest(Header{c}, data);
  const auto first = h.receive_tracked();
  const auto rejects = only<Reject>(first);
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].reason, RejectReason::data_digest_error);
  EXPECT_FALSE(response_for(first, c.itt));
  h.send(Header{c}, data);  // the retry: same ITT, CmdSN, CDB (section 6.2.1)
  const auto second = h.receive_tracked();
  const auto r = response_for(second, c.itt);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 0);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), h.disk.data().begin() + 4 * 512));
}

// 7.1: a Data-Out longer than the R2T asked for: CHECK CONDITION or a disconnect.
TEST(UnhTargetFfp, Target_FFP_7_1_TooMuchSolicitedData) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.max_burst = "512", .first_burst = "512"}));
  const ScsiCommand c = h.rw10(true, 0, 4);
  h.send(Header{c});
  const auto r2ts = only<R2t>(h.receive_tracked());
  ASSERT_EQ(r2ts.size(), 1u);
  ASSERT_EQ(r2ts[0].desired_data_transfer_length, 512u);
  const auto data = pattern(1024, 1);
  h.send(Header{h.data_out(c, r2ts[0].ttt, 0, 0, true)}, data);  // 1024 bytes for 512 asked
  h.receive_tracked();
  ASSERT_TRUE(h.closed() || response_for(h.all, c.itt)) << "the excess went unanswered";
  if (!h.closed()) {
    EXPECT_EQ(response_for(h.all, c.itt)->status, 0x02);
  }
}

// 7.2: InitialR2T=No, FirstBurstLength 512, 1024 bytes sent unsolicited: CHECK CONDITION.
TEST(UnhTargetFfp, Target_FFP_7_2_TooMuchUnsolicitedData) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.initial_r2t = "No", .first_burst = "512"}));
  ScsiCommand c = h.rw10(true, 0, 4);
  c.final = false;
  h.send(Header{c});
  // One 1024-byte unsolicited Data-Out where the first burst is 512 bytes.
  h.send(Header{h.data_out(c, Ttt::reserved(), 0, 0, true)}, pattern(1024, 1));
  h.receive_tracked();
  expect_check_or_close(h, c.itt, 0x0c, 0x0c);  // UNEXPECTED UNSOLICITED DATA
}

// 8.1: an R2T carries a real TTT and the command's LUN (section 11.8.1).
TEST(UnhTargetFfp, Target_FFP_8_1_R2TTTTAndLUN) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  const auto w = h.write(0, 2);
  ASSERT_FALSE(w.r2ts.empty());
  for (const auto& r : w.r2ts) {
    EXPECT_FALSE(r.ttt.is_reserved()) << describe_r2t(r);
    EXPECT_EQ(r.lun, h.last_command.lun) << describe_r2t(r);
  }
}

// 8.2: without the A bit, Data-In has TTT 0xffffffff and LUN 0 (section 11.7.4).
TEST(UnhTargetFfp, Target_FFP_8_2_DataInTTTAndLUNReserved) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  const ScsiCommand r = h.rw10(false, 0, 4);
  h.send(Header{r});
  const auto d = data_ins(h.receive_tracked(), r.itt);
  ASSERT_EQ(d.size(), 4u);
  for (std::size_t k = 0; k < d.size(); ++k) {
    ASSERT_FALSE(d[k].first.acknowledge);
    EXPECT_TRUE(d[k].first.ttt.is_reserved()) << describe_data_in(d[k].first, d[k].second, k);
    EXPECT_EQ(d[k].first.lun, Lun()) << describe_data_in(d[k].first, d[k].second, k);
  }
}

// 9.1: status rides in the last Data-In (S=1, F=1) only for GOOD; a CHECK CONDITION comes in a
// SCSI Response (section 11.7.3).
TEST(UnhTargetFfp, Target_FFP_9_1_StatusInDataIn) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  const ScsiCommand good = h.rw10(false, 0, 2);
  h.send(Header{good});
  const auto out = h.receive_tracked();
  const auto d = data_ins(out, good.itt);
  ASSERT_FALSE(d.empty());
  EXPECT_TRUE(d.back().first.status_present);
  EXPECT_TRUE(d.back().first.final);
  EXPECT_EQ(d.back().first.status, 0);
  for (std::size_t k = 0; k + 1 < d.size(); ++k)
    EXPECT_FALSE(d[k].first.status_present) << describe_data_in(d[k].first, d[k].second, k);
  EXPECT_FALSE(response_for(out, good.itt)) << "status sent twice";
  // A READ past the end of the disk: CHECK CONDITION in a SCSI Response, never in Data-In.
  const ScsiCommand bad = h.rw10(false, 0x7fffffff, 2);
  h.send(Header{bad});
  const auto out2 = h.receive_tracked();
  for (const auto& [x, n] : data_ins(out2, bad.itt))
    EXPECT_FALSE(x.status_present) << "exception status in a Data-In";
  const auto r = response_for(out2, bad.itt);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 0x02);
}

// 9.2: the last Data-In of a sequence has F=1, no other does.
TEST(UnhTargetFfp, Target_FFP_9_2_DataInFBit) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  const ScsiCommand r = h.rw10(false, 0, 8);
  h.send(Header{r});
  const auto d = data_ins(h.receive_tracked(), r.itt);
  ASSERT_EQ(d.size(), 8u);
  for (std::size_t k = 0; k < d.size(); ++k)
    EXPECT_EQ(d[k].first.final, k + 1 == d.size()) << describe_data_in(d[k].first, d[k].second, k);
}

// 9.3.1: our MaxRecvDataSegmentLength of 512 bounds every Data-In data segment (section 13.12).
TEST(UnhTargetFfp, Target_FFP_9_3_1_HonoursInitiatorMRDSL) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.mrdsl = "512"}));
  const ScsiCommand r = h.rw10(false, 0, 16);
  h.send(Header{r});
  const auto d = data_ins(h.receive_tracked(), r.itt);
  std::size_t total = 0;
  for (std::size_t k = 0; k < d.size(); ++k) {
    EXPECT_LE(d[k].second, 512u) << describe_data_in(d[k].first, d[k].second, k);
    total += d[k].second;
  }
  EXPECT_EQ(total, 16u * 512);
}

// 9.3.2: a Data-Out with DataSegmentLength 0 after an R2T is not an error.
TEST(UnhTargetFfp, Target_FFP_9_3_2_ZeroLengthDataOut) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  const ScsiCommand c = h.rw10(true, 0, 2);
  h.send(Header{c});
  const auto r2ts = only<R2t>(h.receive_tracked());
  ASSERT_EQ(r2ts.size(), 1u);
  h.send(Header{h.data_out(c, r2ts[0].ttt, 0, 0, false)});  // empty
  const auto after_empty = h.receive_tracked();
  EXPECT_TRUE(only<Reject>(after_empty).empty());
  const auto data = pattern(1024, 3);
  h.send(Header{h.data_out(c, r2ts[0].ttt, 1, 0, true)}, data);
  const auto out = h.receive_tracked();
  const auto r = response_for(out, c.itt);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 0);
  EXPECT_FALSE(h.closed());
}

// 9.3.3: every Data-In but the F=1 one carries whole 4-byte words: with a declared
// MaxRecvDataSegmentLength of 1022 the target must not send 1022-byte segments.
TEST(UnhTargetFfp, Target_FFP_9_3_3_DataInPaddedToWords) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.mrdsl = "1022"}));
  const ScsiCommand r = h.rw10(false, 0, 8);
  h.send(Header{r});
  const auto d = data_ins(h.receive_tracked(), r.itt);
  ASSERT_GE(d.size(), 4u);
  for (std::size_t k = 0; k + 1 < d.size(); ++k) {
    EXPECT_EQ(d[k].second % 4, 0u) << describe_data_in(d[k].first, d[k].second, k);
    EXPECT_LE(d[k].second, 1022u);
  }
}

// 9.4: with MRDSL 512, DataSN starts at 0 and rises by one per Data-In.
TEST(UnhTargetFfp, Target_FFP_9_4_DataInDataSn) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.mrdsl = "512"}));
  const ScsiCommand r = h.rw10(false, 0, 12);
  h.send(Header{r});
  const auto d = data_ins(h.receive_tracked(), r.itt);
  ASSERT_EQ(d.size(), 12u);
  for (std::uint32_t k = 0; k < d.size(); ++k)
    EXPECT_EQ(d[k].first.data_sn, k) << describe_data_in(d[k].first, d[k].second, k);
}

// 9.5: both in-order keys Yes, MRDSL 512: Buffer Offset is exact and increasing, and the data
// is the disk's.
TEST(UnhTargetFfp, Target_FFP_9_5_DataInBufferOffset) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.mrdsl = "512"}));
  const ScsiCommand r = h.rw10(false, 3, 6);
  h.send(Header{r});
  const auto out = h.receive_tracked();
  std::uint32_t offset = 0;
  for (const auto& p : out) {
    const auto* d = p.as<DataIn>();
    if (d == nullptr) continue;
    EXPECT_EQ(d->buffer_offset, offset) << describe_data_in(*d, p.data.size(), d->data_sn);
    EXPECT_TRUE(std::equal(p.data.begin(), p.data.end(), h.disk.data().begin() + 3 * 512 + offset));
    offset += static_cast<std::uint32_t>(p.data.size());
  }
  EXPECT_EQ(offset, 6u * 512);
}

// 10.1: MaxBurstLength = FirstBurstLength = 512, ITT 0xa2a2a2a2: R2Ts cover contiguous ranges,
// echo the ITT, count R2TSN from 0, carry a TTT, do not advance StatSN, ask 1..512 bytes.
TEST(UnhTargetFfp, Target_FFP_10_1_R2TContents) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.max_burst = "512", .first_burst = "512"}));
  const SerialNumber stat_sn = h.exp_stat_sn;
  const auto w = h.write(0, 4, 512, 0, Itt(0xa2a2a2a2));
  ASSERT_TRUE(w.response);
  ASSERT_EQ(w.r2ts.size(), 4u);
  std::uint32_t offset = 0;
  for (std::uint32_t k = 0; k < w.r2ts.size(); ++k) {
    const R2t& r = w.r2ts[k];
    EXPECT_EQ(r.itt, Itt(0xa2a2a2a2)) << describe_r2t(r);
    EXPECT_EQ(r.r2t_sn, k) << describe_r2t(r);
    EXPECT_EQ(r.buffer_offset, offset) << describe_r2t(r);
    EXPECT_FALSE(r.ttt.is_reserved()) << describe_r2t(r);
    EXPECT_EQ(r.stat_sn, stat_sn) << describe_r2t(r);
    EXPECT_GE(r.desired_data_transfer_length, 1u);
    EXPECT_LE(r.desired_data_transfer_length, 512u);
    offset += r.desired_data_transfer_length;
  }
  EXPECT_EQ(offset, 2048u);
  EXPECT_EQ(w.response->stat_sn, stat_sn);
}

// 16.1: INQUIRY with EDTL 4096: U set, residual = 4096 - bytes sent, O clear (section 11.4.5).
TEST(UnhTargetFfp, Target_FFP_16_1_ResidualUnderflow) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  const ScsiCommand c = h.inquiry(4096, 4096);
  h.send(Header{c});
  const auto out = h.receive_tracked();
  std::uint32_t sent = 0;
  for (const auto& [d, n] : data_ins(out, c.itt))
    sent += static_cast<std::uint32_t>(n);
  ASSERT_GT(sent, 0u);
  ASSERT_LT(sent, 4096u);
  const auto d = data_ins(out, c.itt);
  const DataIn& last = d.back().first;
  if (last.status_present) {
    EXPECT_TRUE(last.underflow);
    EXPECT_FALSE(last.overflow);
    EXPECT_EQ(last.residual_count, 4096u - sent);
  } else {
    const auto r = response_for(out, c.itt);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->underflow);
    EXPECT_FALSE(r->overflow);
    EXPECT_EQ(r->residual_count, 4096u - sent);
  }
}

// 16.2: INQUIRY with EDTL 4 (allocation length 255): O set, residual = the bytes that did not
// fit.
TEST(UnhTargetFfp, Target_FFP_16_2_ResidualOverflow) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  const ScsiCommand c = h.inquiry(4, 255);
  h.send(Header{c});
  const auto out = h.receive_tracked();
  const auto d = data_ins(out, c.itt);
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].second, 4u);
  const std::uint32_t produced = 36;  // TinyDisk's standard INQUIRY data
  bool overflow = false;
  std::uint32_t residual = 0;
  if (d[0].first.status_present) {
    overflow = d[0].first.overflow;
    residual = d[0].first.residual_count;
    EXPECT_FALSE(d[0].first.underflow);
  } else if (const auto r = response_for(out, c.itt)) {
    overflow = r->overflow;
    residual = r->residual_count;
    EXPECT_FALSE(r->underflow);
  }
  EXPECT_TRUE(overflow);
  EXPECT_EQ(residual, produced - 4);
}

// 16.3.1: ImmediateData=Yes, InitialR2T=Yes, FBL 512: 512 immediate bytes, then an R2T for the
// rest, then GOOD.
TEST(UnhTargetFfp, Target_FFP_16_3_1_ImmediateDataPlusSolicitedRest) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.initial_r2t = "Yes", .immediate_data = "Yes", .first_burst = "512"}));
  const auto w = h.write(0, 4, 512, 512);
  ASSERT_TRUE(w.response);
  EXPECT_EQ(w.response->status, 0);
  ASSERT_FALSE(w.r2ts.empty());
  EXPECT_EQ(w.r2ts[0].buffer_offset, 512u) << describe_r2t(w.r2ts[0]);
  const auto data = pattern(2048, 1);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), h.disk.data().begin()));
}

// 16.3.2: 1024 immediate bytes with FirstBurstLength 512: CHECK CONDITION 0C/0C (or a
// disconnect).
TEST(UnhTargetFfp, Target_FFP_16_3_2_ImmediateDataOverFirstBurstLength) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.immediate_data = "Yes", .first_burst = "512"}));
  ScsiCommand c = h.rw10(true, 0, 4);
  h.send(Header{c}, pattern(1024, 1));
  h.receive_tracked();
  expect_check_or_close(h, c.itt, 0x0c, 0x0c);
}

// 16.3.3: ImmediateData=No, InitialR2T=Yes: one 1024-byte Data-Out (F=1) after the R2T: GOOD.
TEST(UnhTargetFfp, Target_FFP_16_3_3_PlainSolicitedWrite) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  const auto w = h.write(0, 2, 1024);
  ASSERT_EQ(w.r2ts.size(), 1u);
  ASSERT_TRUE(w.response);
  EXPECT_EQ(w.response->status, 0);
}

// 16.3.4: ImmediateData=No but 1024 bytes attached: CHECK CONDITION 0C/0C or a disconnect.
TEST(UnhTargetFfp, Target_FFP_16_3_4_ImmediateDataWhenNotAllowed) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.immediate_data = "No"}));
  const ScsiCommand c = h.rw10(true, 0, 2);
  h.send(Header{c}, pattern(1024, 1));
  h.receive_tracked();
  expect_check_or_close(h, c.itt, 0x0c, 0x0c);
}

// 16.3.5: ImmediateData=No, InitialR2T=No, FBL 1024: 1024 bytes unsolicited: GOOD.
TEST(UnhTargetFfp, Target_FFP_16_3_5_UnsolicitedDataOutAllowed) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.initial_r2t = "No", .immediate_data = "No", .first_burst = "1024"}));
  ScsiCommand c = h.rw10(true, 0, 2);
  c.final = false;
  h.send(Header{c});
  const auto data = pattern(1024, 9);
  h.send(Header{h.data_out(c, Ttt::reserved(), 0, 0, false)}, std::span(data).first(512));
  h.send(Header{h.data_out(c, Ttt::reserved(), 1, 512, true)}, std::span(data).subspan(512));
  const auto out = h.receive_tracked();
  EXPECT_TRUE(only<R2t>(out).empty());
  const auto r = response_for(out, c.itt);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 0);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), h.disk.data().begin()));
}

// 16.3.6: EDTL 1024 but only 512 unsolicited bytes, F=1 (InitialR2T=No, FirstBurstLength
// 1024): CHECK CONDITION 0C/0D NOT ENOUGH UNSOLICITED DATA, or a disconnect.
TEST(UnhTargetFfp, Target_FFP_16_3_6_TooLittleData) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.initial_r2t = "No", .immediate_data = "No", .first_burst = "1024"}));
  ScsiCommand c = h.rw10(true, 0, 2);
  c.final = false;
  h.send(Header{c});
  h.send(Header{h.data_out(c, Ttt::reserved(), 0, 0, true)}, pattern(512, 1));
  const auto out = h.receive_tracked();
  EXPECT_TRUE(only<R2t>(out).empty()) << "an R2T instead of an error";
  expect_check_or_close(h, c.itt, 0x0c, 0x0d);
}

// 16.3.7: an invalid operation code: CHECK CONDITION (ILLEGAL REQUEST) or a disconnect.
TEST(UnhTargetFfp, Target_FFP_16_3_7_BadOpcode) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  const ScsiCommand c = h.scsi({0xff}, 0, false);
  h.send(Header{c});
  h.receive_tracked();
  if (h.closed()) return;
  const auto r = response_for(h.all, c.itt);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 0x02);
}

// 18.1.1: HeaderDigest on, a WRITE with a bad header digest: discarded (no R2T), or the
// connection drops (section 7.8).
TEST(UnhTargetFfp, Target_FFP_18_1_1_HeaderDigestError) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.header_digest = "CRC32C"}));
  const ScsiCommand c = h.rw10(true, 0, 2);
  h.send_bad_header_digest(Header{c});
  const auto out = h.receive_tracked();
  for (const auto& p : out)
    if (const auto* r = p.as<R2t>()) {
      ADD_FAILURE() << "R2T for a damaged command: " << describe_r2t(*r);
    }
  EXPECT_FALSE(response_for(out, c.itt));
}

// 18.2.1: bad data digest on immediate data: Reject 0x02, no R2T for that command.
TEST(UnhTargetFfp, Target_FFP_18_2_1_DataDigestErrorOnCommand) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.data_digest = "CRC32C", .immediate_data = "Yes"}));
  const ScsiCommand c = h.rw10(true, 0, 4);
  h.send_bad_data_digest(Header{c}, pattern(512, 1));
  const auto out = h.receive_tracked();
  const auto rejects = only<Reject>(out);
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].reason, RejectReason::data_digest_error);
  EXPECT_TRUE(only<R2t>(out).empty());
}

// 18.2.2: bad data digest on a Data-Out: Reject 0x02; then a recovery R2T for that data, or
// CHECK CONDITION only after the F=1 Data-Out.
TEST(UnhTargetFfp, Target_FFP_18_2_2_DataDigestErrorOnDataOut) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open({.data_digest = "CRC32C", .max_burst = "2048"}));
  const ScsiCommand c = h.rw10(true, 0, 4);
  h.send(Header{c});
  const auto r2ts = only<R2t>(h.receive_tracked());
  ASSERT_EQ(r2ts.size(), 1u);
  const auto data = pattern(2048, 1);
  h.send_bad_data_digest(Header{h.data_out(c, r2ts[0].ttt, 0, 0, false)},
                         std::span(data).first(1024));
  const auto after_bad = h.receive_tracked();
  const auto rejects = only<Reject>(after_bad);
  ASSERT_EQ(rejects.size(), 1u);
  EXPECT_EQ(rejects[0].reason, RejectReason::data_digest_error);
  EXPECT_FALSE(response_for(after_bad, c.itt)) << "status before the F=1 Data-Out";
  h.send(Header{h.data_out(c, r2ts[0].ttt, 1, 1024, true)}, std::span(data).subspan(1024));
  auto out = h.receive_tracked();
  const auto again = only<R2t>(out);
  if (!again.empty()) {
    // Recovery R2T for the damaged range (section 7.5); answer it and expect GOOD.
    EXPECT_EQ(again[0].buffer_offset, 0u) << describe_r2t(again[0]);
    EXPECT_EQ(again[0].desired_data_transfer_length, 1024u) << describe_r2t(again[0]);
    const auto w = h.answer_r2ts(c, data, out, 1024);
    ASSERT_TRUE(w.response);
    EXPECT_EQ(w.response->status, 0);
    EXPECT_TRUE(std::equal(data.begin(), data.end(), h.disk.data().begin()));
  } else {
    const auto r = response_for(out, c.itt);
    ASSERT_TRUE(r) << "neither a recovery R2T nor a status";
    EXPECT_EQ(r->status, 0x02);
  }
}

// 19.1: READ CAPACITY with EDTL 0: no data is sent.
TEST(UnhTargetFfp, Target_FFP_19_1_EDTLOfZero) {
  ScriptedInitiator h;
  ASSERT_TRUE(h.open());
  const ScsiCommand c = h.scsi({0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 0, true);
  h.send(Header{c});
  const auto out = h.receive_tracked();
  for (const auto& [d, n] : data_ins(out, c.itt))
    EXPECT_EQ(n, 0u) << "Data-In with " << n << " bytes for EDTL 0";
  const auto r = response_for(out, c.itt);
  ASSERT_TRUE(r);
  if (r->status == 0) {
    EXPECT_TRUE(r->overflow);  // 8 bytes did not fit
    EXPECT_EQ(r->residual_count, 8u);
  }
}

}  // namespace
}  // namespace uiscsi::core
