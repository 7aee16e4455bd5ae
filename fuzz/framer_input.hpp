// The layout of a fuzz_framer input, shared by the fuzzer and the seed generator.
//
// An input is a byte stream followed by a tail of choices. FuzzedDataProvider takes integral
// values from the end of the input, so the choices are read last byte first:
//   role, HeaderDigest, DataDigest, log2 bound, MaxRecvDataSegmentLength, reserved policy,
//   skip-on-header-digest-error, staging size, placement, split count, the split sizes, the
//   chunk index at which the digests are toggled with configure() (0: never), how many chunks
//   are offered between two rounds of next() (so bytes are also offered while some are staged),
//   and whether a round of next() ends at a recoverable error;
// everything in front of the tail is the stream. TailWriter builds such a tail for seeds.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/framer.hpp"

namespace uiscsi::fuzz {

inline constexpr std::uint32_t kMinRecvDataSegmentLength = 512;
inline constexpr std::size_t kMaxSplits = 8;
inline constexpr std::uint32_t kMaxSplitSize = 65536;
inline constexpr std::size_t kStagingChoices[] = {0, 4096, 64 * 1024};  // 0: the framer's minimum

struct FramerPlan {
  core::FramerConfig config;
  bool placement = false;
  std::vector<std::size_t> splits;  // chunk sizes, used in a cycle
  std::size_t toggle_digests_at = 0;
  std::size_t drain_every = 1;  // chunks offered per round of next() calls
  bool pause_on_error = false;  // a recoverable error ends the round of next() calls
};

// Upper end of the MaxRecvDataSegmentLength range for a log2 bound in [10, 24]. The bound makes
// small limits as likely as large ones, which keeps most runs from sizing 16 MiB buffers.
constexpr std::uint32_t max_for_bits(std::uint32_t bits) {
  return bits >= 24 ? core::kMaxDataSegmentLength : (1u << bits) - 1;
}

inline FramerPlan consume_plan(FuzzedDataProvider& in) {
  FramerPlan plan;
  core::FramerConfig& c = plan.config;
  c.role = in.ConsumeBool() ? core::Role::target : core::Role::initiator;
  c.digests.header = in.ConsumeBool();
  c.digests.data = in.ConsumeBool();
  const auto bits = in.ConsumeIntegralInRange<std::uint32_t>(10, 24);
  c.max_recv_data_segment_length =
      in.ConsumeIntegralInRange<std::uint32_t>(kMinRecvDataSegmentLength, max_for_bits(bits));
  c.decode.reserved =
      in.ConsumeBool() ? core::ReservedPolicy::ignore : core::ReservedPolicy::reject;
  c.skip_pdu_on_header_digest_error = in.ConsumeBool();
  c.staging_bytes = kStagingChoices[in.ConsumeIntegralInRange<std::size_t>(0, 2)];
  plan.placement = in.ConsumeBool();
  const auto count = in.ConsumeIntegralInRange<std::size_t>(1, kMaxSplits);
  for (std::size_t i = 0; i < count; ++i)
    plan.splits.push_back(in.ConsumeIntegralInRange<std::uint32_t>(1, kMaxSplitSize));
  plan.toggle_digests_at = in.ConsumeIntegralInRange<std::size_t>(0, 15);
  plan.drain_every = in.ConsumeIntegralInRange<std::size_t>(1, 4);
  plan.pause_on_error = in.ConsumeBool();
  return plan;
}

// Writes choices in the order consume_plan() reads them; finish() appends them to a stream.
class TailWriter {
 public:
  void put_bool(bool v) { bytes_.push_back(v ? 1 : 0); }
  // A value in [min, max], in as many bytes as ConsumeIntegralInRange reads for that range,
  // most significant first in reading order.
  void put_in_range(std::uint64_t min, std::uint64_t max, std::uint64_t v) {
    const std::uint64_t range = max - min, offset = v - min;
    int n = 0;
    while (n < 8 && (range >> (8 * n)) > 0)
      ++n;
    for (int i = n - 1; i >= 0; --i)
      bytes_.push_back(static_cast<std::uint8_t>(offset >> (8 * i)));
  }
  void put_plan(const FramerPlan& plan, std::uint32_t bits) {
    const core::FramerConfig& c = plan.config;
    put_bool(c.role == core::Role::target);
    put_bool(c.digests.header);
    put_bool(c.digests.data);
    put_in_range(10, 24, bits);
    put_in_range(kMinRecvDataSegmentLength, max_for_bits(bits), c.max_recv_data_segment_length);
    put_bool(c.decode.reserved == core::ReservedPolicy::ignore);
    put_bool(c.skip_pdu_on_header_digest_error);
    std::size_t staging = 0;
    for (std::size_t i = 0; i < 3; ++i)
      if (kStagingChoices[i] == c.staging_bytes) staging = i;
    put_in_range(0, 2, staging);
    put_bool(plan.placement);
    put_in_range(1, kMaxSplits, plan.splits.size());
    for (std::size_t s : plan.splits)
      put_in_range(1, kMaxSplitSize, s);
    put_in_range(0, 15, plan.toggle_digests_at);
    put_in_range(1, 4, plan.drain_every);
    put_bool(plan.pause_on_error);
  }
  // The stream followed by the tail, last choice first from the end.
  std::vector<std::uint8_t> finish(const std::vector<std::uint8_t>& stream) const {
    std::vector<std::uint8_t> out = stream;
    out.insert(out.end(), bytes_.rbegin(), bytes_.rend());
    return out;
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

}  // namespace uiscsi::fuzz
