// UNH-IOL initiator full feature phase lines on SNACK at ErrorRecoveryLevel 1: the DataACK asked
// for by the A bit (10.2, 13.2) and the Data SNACK for a missing Data-In (13.1) (RFC 7143
// sections 7.4, 11.7.2, 11.16). Our initiator engine against a scripted target, in virtual time.
#include "conformance/kit/initiator_kit.hpp"

namespace uiscsi::core {
namespace {

class UnhInitiatorFfp : public UnhInitiator {
 protected:
  // A Data-In for `itt` carrying `data[offset, offset + n)`.
  void data_in(Itt itt, std::uint32_t data_sn, std::uint32_t offset, std::uint32_t n,
               std::span<const std::byte> data, bool final = false, bool ack = false,
               Ttt ttt = Ttt::reserved()) {
    DataIn d;
    d.itt = itt;
    d.data_sn = data_sn;
    d.buffer_offset = offset;
    d.final = final;
    d.acknowledge = ack;
    d.ttt = ttt;
    t->send(Header{d}, data.subspan(offset, n));
  }
  static std::vector<SnackRequest> snacks(const std::vector<SentPdu>& pdus) {
    std::vector<SnackRequest> out;
    for (const auto& p : pdus)
      if (const auto* s = p.as<SnackRequest>()) out.push_back(*s);
    return out;
  }
};

// 10.2: the final Data-In has A=1: the initiator sends a DataACK SNACK (type 2, the Data-In's
// TTT, BegRun = the next DataSN, RunLength 0, ITT 0xffffffff) at once, before any PDU that
// acknowledges the status through ExpStatSN; the READ then completes with the status.
TEST_F(UnhInitiatorFfp, Initiator_FFP_10_2_DataInABit) {
  open({.erl = 1});
  const TaskId id = read(1024);
  const auto c = t->drain_one_as<ScsiCommand>();
  ASSERT_TRUE(c);
  const Itt itt = c->itt;
  const auto data = pattern(1024, 3);
  data_in(itt, 0, 0, 512, data);
  data_in(itt, 1, 512, 512, data, true, true, Ttt(0x1234));
  const auto out = t->drain();
  ASSERT_EQ(out.size(), 1u) << "expected only the DataACK";
  const auto ack = snacks(out);
  ASSERT_EQ(ack.size(), 1u) << out[0].describe();
  EXPECT_EQ(ack[0].type, SnackType::data_ack);
  EXPECT_EQ(ack[0].ttt, Ttt(0x1234));
  EXPECT_TRUE(ack[0].itt.is_reserved());
  EXPECT_EQ(ack[0].beg_run, 2u);
  EXPECT_EQ(ack[0].run_length, 0u);
  respond(itt);
  const TaskDone done = one_done();
  EXPECT_EQ(done.id, id);
  EXPECT_FALSE(done.error) << done.error.message();
  EXPECT_EQ(done.result.data_in_bytes, 1024u);
}

// 13.1: DataSN 3 never arrives (4 follows it): a Data/R2T SNACK (type 0) with the READ's ITT,
// TTT 0xffffffff, BegRun 3, RunLength 1, sent before the status is acknowledged; the resent
// PDU completes the data.
TEST_F(UnhInitiatorFfp, Initiator_FFP_13_1_DataR2TSNACK) {
  open({.erl = 1});
  const TaskId id = read(2560);
  const auto c = t->drain_one_as<ScsiCommand>();
  ASSERT_TRUE(c);
  const Itt itt = c->itt;
  const auto data = pattern(2560, 4);
  for (std::uint32_t sn : {0u, 1u, 2u})
    data_in(itt, sn, sn * 512, 512, data);
  EXPECT_TRUE(t->drain().empty());
  data_in(itt, 4, 4 * 512, 512, data, true);
  const auto out = t->drain();
  const auto sn = snacks(out);
  ASSERT_EQ(sn.size(), 1u) << "no SNACK for the missing DataSN 3";
  EXPECT_EQ(sn[0].type, SnackType::data_r2t);
  EXPECT_EQ(sn[0].itt, itt);
  EXPECT_TRUE(sn[0].ttt.is_reserved());
  EXPECT_EQ(sn[0].beg_run, 3u);
  EXPECT_EQ(sn[0].run_length, 1u);
  const SerialNumber status_sn = t->next_stat_sn();
  for (const auto& p : out)
    EXPECT_EQ(p.as<ScsiCommand>(), nullptr) << "a command before the SNACK was answered";
  data_in(itt, 3, 3 * 512, 512, data);
  respond(itt);
  const TaskDone done = one_done();
  EXPECT_EQ(done.id, id);
  EXPECT_FALSE(done.error) << done.error.message();
  EXPECT_TRUE(std::equal(data.begin(), data.end(), buffer(0).begin()));
  EXPECT_TRUE(serial_gt(t->next_stat_sn(), status_sn));
}

// 13.2: MaxBurstLength 1024; the Data-In ending the first burst has A=1: a DataACK SNACK with
// RunLength 0, ITT 0xffffffff, the station's TTT and BegRun = the next DataSN.
TEST_F(UnhInitiatorFfp, Initiator_FFP_13_2_DataACKSNACK) {
  open({.first_burst = 1024, .max_burst = 1024, .erl = 1});
  const TaskId id = read(2048);
  const auto c = t->drain_one_as<ScsiCommand>();
  ASSERT_TRUE(c);
  const Itt itt = c->itt;
  const auto data = pattern(2048, 5);
  data_in(itt, 0, 0, 512, data);
  data_in(itt, 1, 512, 512, data, true, true, Ttt(0x55));
  const auto ack = snacks(t->drain());
  ASSERT_EQ(ack.size(), 1u) << "no DataACK after the acknowledged burst";
  EXPECT_EQ(ack[0].type, SnackType::data_ack);
  EXPECT_EQ(ack[0].ttt, Ttt(0x55));
  EXPECT_TRUE(ack[0].itt.is_reserved());
  EXPECT_EQ(ack[0].beg_run, 2u);
  EXPECT_EQ(ack[0].run_length, 0u);
  data_in(itt, 2, 1024, 512, data);
  data_in(itt, 3, 1536, 512, data, true);
  respond(itt);
  const TaskDone done = one_done();
  EXPECT_EQ(done.id, id);
  EXPECT_FALSE(done.error) << done.error.message();
  EXPECT_TRUE(std::equal(data.begin(), data.end(), buffer(0).begin()));
}

}  // namespace
}  // namespace uiscsi::core
