#include "core/data_out_plan.hpp"

#include <algorithm>

namespace uiscsi::core {

UnsolicitedPlan plan_unsolicited(std::uint32_t write_length, bool initial_r2t, bool immediate_data,
                                 std::uint32_t first_burst_length,
                                 std::uint32_t max_send_data_segment_length) {
  UnsolicitedPlan p;
  if (write_length == 0 || (initial_r2t && !immediate_data)) return p;
  const std::uint32_t unsolicited_total = std::min(write_length, first_burst_length);
  if (immediate_data) p.immediate_bytes = std::min(unsolicited_total, max_send_data_segment_length);
  if (!initial_r2t) p.unsolicited_dataout_bytes = unsolicited_total - p.immediate_bytes;
  p.command_final = p.unsolicited_dataout_bytes == 0;
  return p;
}

std::optional<DataOutSegment> DataSequence::next() {
  if (sent_ >= length_) return std::nullopt;
  DataOutSegment s;
  s.buffer_offset = offset_ + sent_;
  s.length = std::min(max_segment_, length_ - sent_);
  s.data_sn = data_sn_++;
  sent_ += s.length;
  s.final = sent_ >= length_;
  return s;
}

void DataSequence::rewind(std::uint32_t sent, std::uint32_t data_sn) {
  sent_ = std::min(sent, length_);
  data_sn_ = data_sn;
}

}  // namespace uiscsi::core
