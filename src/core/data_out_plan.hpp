// Data-Out planning for SCSI writes (RFC 7143 sections 4.2.5.2 and 13.10/13.11/13.14).
//
// plan_unsolicited() decides how much of a write goes with the command (immediate data) and in
// unsolicited Data-Out PDUs, for all four InitialR2T/ImmediateData combinations:
//   - immediate data only when ImmediateData=Yes, at most FirstBurstLength and at most the
//     target's MaxRecvDataSegmentLength (one PDU);
//   - unsolicited Data-Out only when InitialR2T=No, so that immediate + unsolicited data is at
//     most FirstBurstLength;
//   - never more than the write itself.
// The command PDU's F bit is 1 unless unsolicited Data-Out PDUs follow.
//
// DataSequence yields the Data-Out PDUs of one sequence (the unsolicited one, or the answer to
// one R2T): segments of at most the target's MaxRecvDataSegmentLength, DataSN from 0, offsets
// rising, F=1 on the last. Pure code.
#pragma once

#include <cstdint>
#include <optional>

#include "core/tags.hpp"

namespace uiscsi::core {

struct UnsolicitedPlan {
  std::uint32_t immediate_bytes = 0;            // in the SCSI Command PDU
  std::uint32_t unsolicited_dataout_bytes = 0;  // in Data-Out PDUs with TTT 0xffffffff
  bool command_final = true;                    // the SCSI Command's F bit
};

UnsolicitedPlan plan_unsolicited(std::uint32_t write_length, bool initial_r2t, bool immediate_data,
                                 std::uint32_t first_burst_length,
                                 std::uint32_t max_send_data_segment_length);

struct DataOutSegment {
  std::uint32_t buffer_offset = 0;
  std::uint32_t length = 0;
  std::uint32_t data_sn = 0;
  bool final = false;
};

class DataSequence {
 public:
  DataSequence() = default;
  DataSequence(Ttt ttt, std::uint32_t offset, std::uint32_t length, std::uint32_t max_segment)
      : ttt_(ttt), offset_(offset), length_(length), max_segment_(max_segment ? max_segment : 1) {}

  // The next segment, or nullopt when the sequence is complete.
  std::optional<DataOutSegment> next();
  // Restarts from `offset` within the sequence (ERL 1/2 retransmission), DataSN from `data_sn`.
  void rewind(std::uint32_t sent, std::uint32_t data_sn);
  void set_max_segment(std::uint32_t m) { max_segment_ = m ? m : 1; }

  [[nodiscard]] Ttt ttt() const { return ttt_; }
  [[nodiscard]] std::uint32_t offset() const { return offset_; }
  [[nodiscard]] std::uint32_t length() const { return length_; }
  [[nodiscard]] std::uint32_t sent() const { return sent_; }
  [[nodiscard]] bool done() const { return sent_ >= length_; }

 private:
  Ttt ttt_;
  std::uint32_t offset_ = 0;
  std::uint32_t length_ = 0;
  std::uint32_t max_segment_ = 1;
  std::uint32_t sent_ = 0;
  std::uint32_t data_sn_ = 0;
};

}  // namespace uiscsi::core
