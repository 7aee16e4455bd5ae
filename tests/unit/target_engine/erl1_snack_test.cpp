// The target engine at ErrorRecoveryLevel 1: retention and SNACKs (RFC 7143 section 11.16),
// driven with raw PDUs.
#include <gtest/gtest.h>

#include "target_harness.hpp"

namespace uiscsi::core {
namespace {

using testing::only;
using testing::TargetHarness;
using testing::TargetPdu;

// Bytes of the Data-In PDUs in `pdus`, at their buffer offsets.
std::vector<std::byte> assemble(const std::vector<TargetPdu>& pdus, std::size_t length) {
  std::vector<std::byte> out(length);
  for (const auto& p : pdus)
    if (const auto* d = p.as<DataIn>())
      std::copy(p.data.begin(), p.data.end(), out.begin() + d->buffer_offset);
  return out;
}

// The disk with a pattern on its first 64 blocks.
void fill(TargetHarness& h) {
  const auto bytes = testing::pattern(64 * 512, 7);
  std::copy(bytes.begin(), bytes.end(), h.disk.data().begin());
}

// A read of 4 blocks at the initiator's MaxRecvDataSegmentLength of 512: four Data-In PDUs,
// status in the last.
struct ReadFixture : ::testing::Test {
  TargetHarness h;
  ScsiCommand read;
  std::vector<TargetPdu> first;
  void SetUp() override {
    ASSERT_TRUE(h.login());
    fill(h);
    read = h.rw10(false, 2, 4);
    h.send(Header{read});
    first = h.receive();
    ASSERT_EQ(only<DataIn>(first).size(), 4u);
  }
};

TEST_F(ReadFixture, DataSnackResendsTheRunExactly) {
  h.send(Header{h.snack(SnackType::data_r2t, read.itt, 1, 2)});
  const auto again = h.receive();
  const auto d = only<DataIn>(again);
  ASSERT_EQ(d.size(), 2u);
  const auto orig = only<DataIn>(first);
  for (std::size_t i = 0; i < 2; ++i) {
    const DataIn& a = orig[i + 1];
    const DataIn& b = d[i];
    EXPECT_EQ(b.data_sn, a.data_sn);
    EXPECT_EQ(b.buffer_offset, a.buffer_offset);
    EXPECT_EQ(b.final, a.final);
    EXPECT_EQ(b.status_present, a.status_present);
    EXPECT_EQ(b.acknowledge, a.acknowledge);
    EXPECT_EQ(b.itt, a.itt);
    EXPECT_TRUE(b.ttt.is_reserved());
    EXPECT_EQ(again[i].data, first[i + 1].data);
    EXPECT_EQ(b.exp_cmd_sn, h.cmd_sn);  // current values
  }
  EXPECT_EQ(h.target->stats().pdus_resent, 2u);
}

TEST_F(ReadFixture, DataSnackForEverythingIncludesTheStatus) {
  h.send(Header{h.snack(SnackType::data_r2t, read.itt, 0, 0)});
  const auto again = h.receive();
  const auto d = only<DataIn>(again);
  ASSERT_EQ(d.size(), 4u);
  const DataIn orig_last = only<DataIn>(first).back();
  ASSERT_TRUE(orig_last.status_present);
  EXPECT_TRUE(d.back().status_present);
  EXPECT_TRUE(d.back().final);
  EXPECT_EQ(d.back().stat_sn, orig_last.stat_sn);  // the same StatSN
  EXPECT_EQ(d.back().data_sn, 3u);
  EXPECT_EQ(assemble(again, 2048),
            std::vector<std::byte>(h.disk.data().begin() + 1024, h.disk.data().begin() + 3072));
}

TEST_F(ReadFixture, DataSnackForDataNeverSentIsAProtocolError) {
  const auto s = h.snack(SnackType::data_r2t, read.itt, 10, 0);
  h.send(Header{s});
  const auto out = h.receive();
  ASSERT_EQ(out.size(), 1u);
  const auto* r = out[0].as<Reject>();
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->reason, RejectReason::protocol_error);  // section 11.16
  EXPECT_EQ(r->data_sn_or_r2t_sn, 4u);                 // the next DataSN (section 11.17.3)
  ASSERT_EQ(out[0].data.size(), kBhsSize);             // the rejected header comes back
  auto back = decode_header(Bhs{[&] {
    std::array<std::byte, kBhsSize> b{};
    std::copy(out[0].data.begin(), out[0].data.end(), b.begin());
    return b;
  }()});
  ASSERT_TRUE(back);
  EXPECT_EQ(std::get<SnackRequest>(*back).beg_run, 10u);
  // A run that goes past the last PDU sent is refused too.
  h.send(Header{h.snack(SnackType::data_r2t, read.itt, 3, 2)});
  const auto out2 = h.receive();
  ASSERT_EQ(only<Reject>(out2).size(), 1u);
  EXPECT_EQ(only<Reject>(out2)[0].reason, RejectReason::protocol_error);
}

TEST_F(ReadFixture, UnknownItt) {
  h.send(Header{h.snack(SnackType::data_r2t, Itt(0x7777), 0, 0)});
  const auto r = only<Reject>(h.receive());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].reason, RejectReason::invalid_pdu_field);
}

TEST_F(ReadFixture, StatusSnackResendsTheStatusDataIn) {
  const DataIn last = only<DataIn>(first).back();
  h.send(Header{h.snack(SnackType::status, Itt::reserved(), last.stat_sn.value(), 1)});
  const auto again = h.receive();
  ASSERT_EQ(again.size(), 1u);
  const auto* d = again[0].as<DataIn>();
  ASSERT_NE(d, nullptr);
  EXPECT_TRUE(d->status_present);
  EXPECT_EQ(d->stat_sn, last.stat_sn);
  EXPECT_EQ(d->data_sn, last.data_sn);
  EXPECT_EQ(again[0].data, first.back().data);
}

TEST_F(ReadFixture, ExpStatSnReleasesTheAnswer) {
  EXPECT_GT(h.target->retained_bytes(), 2048u);
  EXPECT_EQ(h.target->retained_statuses(), 1u);
  const DataIn last = only<DataIn>(first).back();
  h.acknowledge(last.stat_sn + 1);
  EXPECT_TRUE(h.receive().empty());
  EXPECT_EQ(h.target->retained_bytes(), 0u);
  EXPECT_EQ(h.target->retained_statuses(), 0u);
  // What was acknowledged cannot be asked for.
  h.send(Header{h.snack(SnackType::status, Itt::reserved(), last.stat_sn.value(), 1)});
  auto r = only<Reject>(h.receive());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].reason, RejectReason::protocol_error);
  h.send(Header{h.snack(SnackType::data_r2t, read.itt, 0, 1)});
  r = only<Reject>(h.receive());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].reason, RejectReason::invalid_pdu_field);  // no such task any more
}

TEST_F(ReadFixture, RDataSnackResegmentsAtTheNewSize) {
  const DataIn orig_last = only<DataIn>(first).back();
  // The initiator declares a larger MaxRecvDataSegmentLength (section 13.12, in a Text
  // exchange), then asks for the data again with an R-Data SNACK.
  TextRequest t;
  t.itt = h.itt();
  t.ttt = Ttt::reserved();
  t.cmd_sn = h.cmd_sn;
  ++h.cmd_sn;
  t.exp_stat_sn = h.exp_stat_sn;
  h.send(Header{t}, serialize_text({{"MaxRecvDataSegmentLength", "1024"}}));
  ASSERT_EQ(only<TextResponse>(h.receive()).size(), 1u);
  h.send(Header{h.snack(SnackType::rdata, read.itt, 0, 0, Ttt(0x77))});
  const auto again = h.receive();
  const auto d = only<DataIn>(again);
  ASSERT_EQ(d.size(), 2u);
  for (std::uint32_t i = 0; i < 2; ++i) {
    EXPECT_EQ(d[i].data_sn, i);
    EXPECT_EQ(d[i].buffer_offset, i * 1024);
    EXPECT_FALSE(d[i].status_present);  // the status goes in a SCSI Response
    EXPECT_EQ(again[i].data.size(), 1024u);
  }
  EXPECT_TRUE(d[1].final);
  EXPECT_EQ(assemble(again, 2048),
            std::vector<std::byte>(h.disk.data().begin() + 1024, h.disk.data().begin() + 3072));
  const auto rsp = only<ScsiResponse>(again);
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].snack_tag, 0x77u);            // section 11.16.3
  EXPECT_EQ(rsp[0].stat_sn, orig_last.stat_sn);  // the status keeps its StatSN
  EXPECT_EQ(rsp[0].exp_data_sn, 2u);             // the new count
  EXPECT_EQ(rsp[0].status, 0);
  // A Status SNACK now gets that SCSI Response, with the SNACK Tag.
  h.send(Header{h.snack(SnackType::status, Itt::reserved(), orig_last.stat_sn.value(), 1)});
  const auto st = only<ScsiResponse>(h.receive());
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].snack_tag, 0x77u);
}

TEST_F(ReadFixture, MalformedRDataSnackIsRejected) {
  h.send(Header{h.snack(SnackType::rdata, read.itt, 0, 0, Ttt(0))});  // SNACK Tag 0
  h.send(Header{h.snack(SnackType::rdata, read.itt, 1, 0, Ttt(5))});  // BegRun not 0
  const auto r = only<Reject>(h.receive());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].reason, RejectReason::invalid_pdu_field);
  EXPECT_EQ(r[1].reason, RejectReason::invalid_pdu_field);
}

TEST(TargetErl1, DataAckReleasesTheDataEarly) {
  TargetHarness h;
  h.config.faults.set_a_bit = true;
  ASSERT_TRUE(h.login());
  fill(h);
  const auto read = h.rw10(false, 0, 4);
  h.send(Header{read});
  const auto d = only<DataIn>(h.receive());
  ASSERT_EQ(d.size(), 4u);
  const DataIn& last = d.back();
  EXPECT_TRUE(last.acknowledge);
  EXPECT_FALSE(last.ttt.is_reserved());  // a real TTT and the command's LUN (section 11.7.4)
  EXPECT_EQ(last.lun, read.lun);
  for (std::size_t i = 0; i + 1 < d.size(); ++i)
    EXPECT_FALSE(d[i].acknowledge);
  const auto before = h.target->retained_bytes();
  auto ack = h.snack(SnackType::data_ack, Itt::reserved(), 4, 0, last.ttt);
  ack.lun = last.lun;
  h.send(Header{ack});
  EXPECT_TRUE(h.receive().empty());
  EXPECT_LE(h.target->retained_bytes() + 2048, before);
  EXPECT_EQ(h.target->retained_statuses(), 1u);  // the status stays until ExpStatSN
  // Acknowledged data cannot be asked for again...
  h.send(Header{h.snack(SnackType::data_r2t, read.itt, 0, 1)});
  auto r = only<Reject>(h.receive());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].reason, RejectReason::protocol_error);
  // ...but the status can: as a SCSI Response with the same StatSN.
  h.send(Header{h.snack(SnackType::status, Itt::reserved(), last.stat_sn.value(), 1)});
  const auto st = only<ScsiResponse>(h.receive());
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[0].stat_sn, last.stat_sn);
  EXPECT_EQ(st[0].itt, read.itt);
  EXPECT_EQ(st[0].status, 0);
  EXPECT_EQ(st[0].exp_data_sn, 4u);
}

TEST(TargetErl1, BadDataAckIsRejected) {
  TargetHarness h;
  h.config.faults.set_a_bit = true;
  ASSERT_TRUE(h.login());
  const auto read = h.rw10(false, 0, 2);
  h.send(Header{read});
  const auto d = only<DataIn>(h.receive());
  ASSERT_EQ(d.size(), 2u);
  h.send(Header{h.snack(SnackType::data_ack, Itt::reserved(), 2, 0, Ttt(0x5555))});  // no such TTT
  auto wrong_lun = h.snack(SnackType::data_ack, Itt::reserved(), 2, 0, d.back().ttt);
  wrong_lun.lun = Lun::from_u64(0x0001000000000000ull);
  h.send(Header{wrong_lun});
  auto too_far = h.snack(SnackType::data_ack, Itt::reserved(), 9, 0, d.back().ttt);
  h.send(Header{too_far});
  const auto r = only<Reject>(h.receive());
  ASSERT_EQ(r.size(), 3u);
  for (const auto& x : r)
    EXPECT_EQ(x.reason, RejectReason::invalid_data_ack);
}

TEST(TargetErl1, StatusSnackForOtherResponses) {
  TargetHarness h;
  ASSERT_TRUE(h.login());
  // A SCSI Response and a NOP-In, each numbered.
  const auto tur = h.test_unit_ready();
  h.send(Header{tur});
  const auto rsp = only<ScsiResponse>(h.receive());
  NopOut ping;
  ping.immediate = true;
  ping.itt = h.itt();
  ping.ttt = Ttt::reserved();
  ping.cmd_sn = h.cmd_sn;
  ping.exp_stat_sn = h.exp_stat_sn;
  const auto echo = testing::pattern(100, 3);
  h.send(Header{ping}, echo);
  const auto nop = only<NopIn>(h.receive());
  ASSERT_EQ(rsp.size(), 1u);
  ASSERT_EQ(nop.size(), 1u);
  ASSERT_EQ(nop[0].stat_sn, rsp[0].stat_sn + 1);
  // BegRun 0, RunLength 0: everything not acknowledged, in StatSN order.
  h.send(Header{h.snack(SnackType::status, Itt::reserved(), 0, 0)});
  const auto again = h.receive();
  ASSERT_EQ(again.size(), 2u);
  const auto* r2 = again[0].as<ScsiResponse>();
  const auto* n2 = again[1].as<NopIn>();
  ASSERT_NE(r2, nullptr);
  ASSERT_NE(n2, nullptr);
  EXPECT_EQ(r2->stat_sn, rsp[0].stat_sn);
  EXPECT_EQ(r2->itt, tur.itt);
  EXPECT_EQ(n2->stat_sn, nop[0].stat_sn);
  EXPECT_EQ(n2->itt, ping.itt);
  EXPECT_EQ(again[1].data, echo);
  // A StatSN never sent.
  h.send(Header{h.snack(SnackType::status, Itt::reserved(), nop[0].stat_sn.value() + 5, 1)});
  const auto rej = only<Reject>(h.receive());
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].reason, RejectReason::protocol_error);
}

TEST(TargetErl1, R2tSnackResendsTheOutstandingR2t) {
  TargetHarness h;
  ASSERT_TRUE(h.login({.max_burst = "1024"}));
  const auto write = h.rw10(true, 0, 4);
  h.send(Header{write});
  const auto r2t = only<R2t>(h.receive());
  ASSERT_EQ(r2t.size(), 1u);
  h.send(Header{h.snack(SnackType::data_r2t, write.itt, 0, 1)});
  const auto again = only<R2t>(h.receive());
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].r2t_sn, r2t[0].r2t_sn);
  EXPECT_EQ(again[0].ttt, r2t[0].ttt);
  EXPECT_EQ(again[0].buffer_offset, r2t[0].buffer_offset);
  EXPECT_EQ(again[0].desired_data_transfer_length, r2t[0].desired_data_transfer_length);
  // An R2T far beyond what was sent: protocol error, naming the next R2TSN.
  h.send(Header{h.snack(SnackType::data_r2t, write.itt, 255, 0)});
  const auto rej = only<Reject>(h.receive());
  ASSERT_EQ(rej.size(), 1u);
  EXPECT_EQ(rej[0].reason, RejectReason::protocol_error);
  EXPECT_EQ(rej[0].data_sn_or_r2t_sn, 1u);
  // The write still completes.
  const auto data = testing::pattern(2048, 9);
  for (std::uint32_t burst = 0; burst < 2; ++burst) {
    const auto r = burst == 0 ? r2t[0] : only<R2t>(h.receive()).at(0);
    h.send(Header{h.data_out(write, r.ttt, 0, r.buffer_offset, true)},
           std::span(data).subspan(r.buffer_offset, 1024));
  }
  const auto rsp = only<ScsiResponse>(h.receive());
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].status, 0);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), h.disk.data().begin()));
}

TEST(TargetErl1, LostLastDataOutIsAskedForWhenTheInitiatorSnacksTheNextR2t) {
  TargetHarness h;
  ASSERT_TRUE(h.login());
  const auto write = h.rw10(true, 4, 2);
  h.send(Header{write});
  const auto r2t = only<R2t>(h.receive());
  ASSERT_EQ(r2t.size(), 1u);
  const auto data = testing::pattern(1024, 4);
  // The first half arrives, the final Data-Out is lost on the way.
  h.send(Header{h.data_out(write, r2t[0].ttt, 0, 0, false)}, std::span(data).first(512));
  EXPECT_TRUE(h.receive().empty());
  // The initiator has every R2T and sent all: it asks for the next R2TSN (RunLength 0).
  h.send(Header{h.snack(SnackType::data_r2t, write.itt, 1, 0)});
  const auto rec = only<R2t>(h.receive());
  ASSERT_EQ(rec.size(), 1u);
  EXPECT_EQ(rec[0].r2t_sn, 1u);
  EXPECT_NE(rec[0].ttt, r2t[0].ttt);
  EXPECT_EQ(rec[0].buffer_offset, 512u);
  EXPECT_EQ(rec[0].desired_data_transfer_length, 512u);
  h.send(Header{h.data_out(write, rec[0].ttt, 0, 512, true)}, std::span(data).subspan(512));
  const auto rsp = only<ScsiResponse>(h.receive());
  ASSERT_EQ(rsp.size(), 1u);
  EXPECT_EQ(rsp[0].status, 0);
  EXPECT_EQ(rsp[0].exp_data_sn, 2u);  // two R2Ts
  EXPECT_TRUE(std::equal(data.begin(), data.end(), h.disk.data().begin() + 4 * 512));
}

TEST(TargetErl1, SnackAtErl0IsRejected) {
  TargetHarness h;
  ASSERT_TRUE(h.login({.erl = "0"}));
  const auto read = h.rw10(false, 0, 1);
  h.send(Header{read});
  ASSERT_EQ(only<DataIn>(h.receive()).size(), 1u);
  EXPECT_EQ(h.target->retained_statuses(), 0u);  // nothing kept at ERL 0
  h.send(Header{h.snack(SnackType::data_r2t, read.itt, 0, 0)});
  const auto r = only<Reject>(h.receive());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].reason, RejectReason::snack_reject);
}

TEST(TargetErl1, RetentionIsBounded) {
  TargetHarness h;
  h.config.max_retained_bytes = 6000;
  ASSERT_TRUE(h.login());
  std::vector<ScsiCommand> reads;
  std::vector<SerialNumber> stat_sns;
  for (int i = 0; i < 4; ++i) {
    reads.push_back(h.rw10(false, 0, 4));  // 2 KiB each
    h.send(Header{reads.back()});
    const auto d = only<DataIn>(h.receive());
    ASSERT_EQ(d.size(), 4u);
    stat_sns.push_back(d.back().stat_sn);
    EXPECT_LE(h.target->retained_bytes(), h.config.max_retained_bytes);
  }
  // The oldest answers went: a SNACK for them is refused with "SNACK Reject".
  h.send(Header{h.snack(SnackType::data_r2t, reads[0].itt, 0, 0)});
  h.send(Header{h.snack(SnackType::status, Itt::reserved(), stat_sns[0].value(), 1)});
  auto r = only<Reject>(h.receive());
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].reason, RejectReason::snack_reject);
  EXPECT_EQ(r[1].reason, RejectReason::snack_reject);
  // The newest is still there.
  h.send(Header{h.snack(SnackType::data_r2t, reads[3].itt, 0, 0)});
  EXPECT_EQ(only<DataIn>(h.receive()).size(), 4u);
}

TEST(TargetErl1, TooManySnacksAtOnceAreRefused) {
  TargetHarness h;
  ASSERT_TRUE(h.login());
  const auto read = h.rw10(false, 0, 8);
  h.send(Header{read});
  ASSERT_EQ(only<DataIn>(h.receive()).size(), 8u);
  // Many SNACKs before the socket takes anything: the resend jobs are bounded.
  for (int i = 0; i < 40; ++i)
    h.send(Header{h.snack(SnackType::data_r2t, read.itt, 0, 0)});
  const auto out = h.receive();
  const auto rej = only<Reject>(out);
  EXPECT_EQ(rej.size(), 8u);
  for (const auto& x : rej)
    EXPECT_EQ(x.reason, RejectReason::snack_reject);
  EXPECT_EQ(only<DataIn>(out).size(), 32u * 8u);
}

}  // namespace
}  // namespace uiscsi::core
