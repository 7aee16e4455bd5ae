// The initiator side of the UNH-IOL conformance kit: our InitiatorSession engine driven PDU by
// PDU in virtual time by a scripted target (tests/support's ScriptedTarget, through the unit
// tests' InitiatorTest fixture), with what the initiator checklist's lines keep doing: a login
// with the line's keys, READs and WRITEs whose buffers the kit keeps alive, R2Ts, and checks of
// a Data-Out burst field by field with readable messages.
#pragma once

#include <deque>

#include "conformance/kit/wire_text.hpp"
#include "unit/initiator_engine/initiator_fixture.hpp"

namespace uiscsi::core {
namespace {

// The operational keys a line asks for; the scripted target agrees to each.
struct UnhKeys {
  bool initial_r2t = true;
  bool immediate_data = false;
  std::uint32_t first_burst = 65536;
  std::uint32_t max_burst = 262144;
  std::uint32_t target_mrdsl = 8192;  // the station's MaxRecvDataSegmentLength
  std::uint32_t erl = 0;
  std::uint32_t max_outstanding_r2t = 1;
  bool data_sequence_in_order = true;
  bool data_pdu_in_order = true;
  // ERL 1: with commands outstanding and nothing heard for this long, a probe (NOP-Out ping).
  Duration probe = std::chrono::hours(1);
  Duration keepalive = Duration::zero();  // NOP-Out ping after this much idle time; 0: off
  std::uint32_t exp_stat_sn_ack_threshold = 64;
};

const char* yes_no(bool b) {
  return b ? "Yes" : "No";
}

class UnhInitiator : public InitiatorTest {
 protected:
  void open(const UnhKeys& k = {}) {
    SessionConfig c = config();
    c.negotiation.initial_r2t = k.initial_r2t;
    c.negotiation.immediate_data = k.immediate_data;
    c.negotiation.first_burst_length = k.first_burst;
    c.negotiation.max_burst_length = k.max_burst;
    c.negotiation.error_recovery_level = k.erl;
    c.negotiation.max_outstanding_r2t = k.max_outstanding_r2t;
    c.negotiation.data_sequence_in_order = k.data_sequence_in_order;
    c.negotiation.data_pdu_in_order = k.data_pdu_in_order;
    c.recovery_probe_interval = k.probe;
    c.keepalive_interval = k.keepalive;
    c.exp_stat_sn_ack_threshold = k.exp_stat_sn_ack_threshold;
    start(c,
          {{"InitialR2T", yes_no(k.initial_r2t)},
           {"ImmediateData", yes_no(k.immediate_data)},
           {"FirstBurstLength", std::to_string(k.first_burst)},
           {"MaxBurstLength", std::to_string(k.max_burst)},
           {"ErrorRecoveryLevel", std::to_string(k.erl)},
           {"MaxOutstandingR2T", std::to_string(k.max_outstanding_r2t)},
           {"DataSequenceInOrder", yes_no(k.data_sequence_in_order)},
           {"DataPDUInOrder", yes_no(k.data_pdu_in_order)}},
          k.target_mrdsl);
    ASSERT_EQ(s->params().initial_r2t, k.initial_r2t);
    ASSERT_EQ(s->params().immediate_data, k.immediate_data);
    ASSERT_EQ(s->params().error_recovery_level, k.erl);
  }

  // A WRITE(10) of `bytes` (pattern data); the buffer lives as long as the test.
  TaskId write(std::uint32_t bytes, Lun lun = Lun()) {
    buffers_.push_back(pattern(bytes, static_cast<unsigned>(buffers_.size() + 1)));
    ScsiRequest r;
    r.lun = lun;
    r.cdb = kWrite10;
    r.data_out = buffers_.back();
    return s->submit(r, now);
  }
  TaskId read(std::uint32_t bytes, Lun lun = Lun()) {
    buffers_.emplace_back(bytes);
    ScsiRequest r;
    r.lun = lun;
    r.cdb = kRead10;
    r.data_in = buffers_.back();
    return s->submit(r, now);
  }
  // A command without data (TEST UNIT READY).
  TaskId tur(Lun lun = Lun()) {
    ScsiRequest r;
    r.lun = lun;
    r.cdb = cdb({0, 0, 0, 0, 0, 0});
    return s->submit(r, now);
  }

  void r2t(Itt itt, Ttt ttt, std::uint32_t r2t_sn, std::uint32_t offset, std::uint32_t length) {
    R2t r;
    r.itt = itt;
    r.ttt = ttt;
    r.r2t_sn = r2t_sn;
    r.buffer_offset = offset;
    r.desired_data_transfer_length = length;
    t->send(Header{r});
  }
  void respond(Itt itt, std::uint8_t status = 0) {
    ScsiResponse r = good_response(itt);
    r.status = status;
    t->send(Header{r});
  }
  // A NOP-In: a ping (TTT given, ITT reserved) or, with TTT reserved, a window update.
  void nop_in(Ttt ttt, Lun lun = Lun()) {
    NopIn n;
    n.itt = Itt::reserved();
    n.ttt = ttt;
    n.lun = lun;
    t->send(Header{n});
  }

  // The first SCSI Command among `pdus`.
  static std::optional<ScsiCommand> command_in(const std::vector<SentPdu>& pdus) {
    for (const auto& p : pdus)
      if (const auto* c = p.as<ScsiCommand>()) return *c;
    return std::nullopt;
  }
  static std::vector<SentPdu> data_outs(const std::vector<SentPdu>& pdus) {
    std::vector<SentPdu> out;
    for (const auto& p : pdus)
      if (p.as<DataOut>() != nullptr) out.push_back(p);
    return out;
  }

  // Checks one Data-Out sequence against RFC 7143 sections 11.7 and 11.8: `seq` answers the R2T
  // numbered `r2t_index` (or is the unsolicited burst when r2t_index < 0) for [offset,
  // offset + length): TTT echoed, DataSN from 0 by one, offsets contiguous and ascending, no
  // segment over `max_segment`, F=1 on the last PDU only, the bytes of `data`.
  void expect_burst(const std::vector<SentPdu>& seq, Itt itt, Ttt ttt, int r2t_index,
                    std::uint32_t offset, std::uint32_t length, std::uint32_t max_segment,
                    std::span<const std::byte> data) {
    ASSERT_FALSE(seq.empty()) << "no Data-Out for R2T " << r2t_index;
    std::uint32_t at = offset;
    for (std::size_t i = 0; i < seq.size(); ++i) {
      const auto* d = seq[i].as<DataOut>();
      ASSERT_NE(d, nullptr) << seq[i].describe();
      const std::string what =
          testing::kit::describe_data_out(*d, seq[i].data.size(), i + 1, r2t_index);
      EXPECT_EQ(d->itt, itt) << what;
      EXPECT_EQ(d->ttt, ttt) << what;
      EXPECT_EQ(d->data_sn, i) << what;
      EXPECT_EQ(d->buffer_offset, at) << what;
      EXPECT_LE(seq[i].data.size(), max_segment) << what;
      EXPECT_EQ(d->final, i + 1 == seq.size()) << what;
      if (at + seq[i].data.size() <= data.size()) {
        EXPECT_TRUE(std::equal(seq[i].data.begin(), seq[i].data.end(), data.begin() + at)) << what;
      }
      at += static_cast<std::uint32_t>(seq[i].data.size());
    }
    EXPECT_EQ(at, offset + length) << "the burst for R2T " << r2t_index << " ends at " << at;
  }

  std::span<const std::byte> buffer(std::size_t i) const { return buffers_.at(i); }

 public:
  // For helpers shared by several tests.
  TaskId read_for_tmf() { return read(512); }
  TaskId write_for_tmf() { return write(512); }

 protected:
 private:
  std::deque<std::vector<std::byte>> buffers_;
};

}  // namespace
}  // namespace uiscsi::core
