// fuzz_framer: arbitrary bytes from the peer through Framer (src/core/framer.hpp), split at
// fuzzed sizes and fed alternately with feed() and with read_buffer()/commit(), under a fuzzed
// FramerConfig (input layout: framer_input.hpp).
//
// Properties (a violation traps):
//   - a returned PDU's data segment is exactly its BHS DataSegmentLength bytes and never longer
//     than the MaxRecvDataSegmentLength in force (RFC 7143 section 13.12);
//   - its AHS is TotalAHSLength * 4 bytes, its opcode is one the configured role receives and
//     its typed header is what decode_header() makes of its BHS;
//   - placed data lies at the Data-In BufferOffset in the destination buffer;
//   - once failed(), every next() returns the same error and read_buffer() hands out nothing;
//   - after next() asks for more bytes, the framer takes more bytes (no stall).
// Bytes are also offered while earlier ones are still staged (FramerPlan::drain_every and
// pause_on_error), which exercises the compaction of the staging buffer.
// Every byte of a returned AHS and data segment is read, so ASan sees any stale span.
#include "core/framer.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <variant>
#include <vector>

#include "framer_input.hpp"

namespace uiscsi::fuzz {
namespace {

constexpr std::size_t kDestinationBytes = 1u << 20;

// Results land here so the optimiser keeps the work that produces them.
volatile unsigned g_sink = 0;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Places Data-In segments at their BufferOffset in a 1 MiB buffer when they fit. The buffer is
// allocated once per process: zeroing 1 MiB per input would dominate the run time.
class BufferPlacement final : public core::DataPlacement {
 public:
  BufferPlacement() : dest_(buffer()) {}
  std::span<std::byte> place(const core::Header& header, std::uint32_t data_length) override {
    const auto* din = std::get_if<core::DataIn>(&header);
    if (din == nullptr || din->buffer_offset > dest_.size() ||
        data_length > dest_.size() - din->buffer_offset)
      return {};
    return dest_.subspan(din->buffer_offset, data_length);
  }
  [[nodiscard]] std::span<const std::byte> dest() const { return dest_; }

 private:
  static std::span<std::byte> buffer() {
    static std::vector<std::byte> storage(kDestinationBytes);
    return storage;
  }
  std::span<std::byte> dest_;
};

unsigned touch(std::span<const std::byte> bytes) {
  unsigned sum = 0;
  for (std::byte b : bytes)
    sum += std::to_integer<unsigned>(b);
  return sum;
}

class Harness {
 public:
  explicit Harness(const FramerPlan& plan)
      : framer_(plan.config), max_limit_(plan.config.max_recv_data_segment_length) {
    if (plan.placement) framer_.set_placement(&placement_);
  }

  enum class Round { need_bytes, recoverable_error, failed };

  // Calls next() until it needs more bytes or the framer has failed; with `pause_on_error` also
  // stops at a recoverable error (the caller may offer bytes before it calls next() again).
  Round drain(bool pause_on_error) {
    for (;;) {
      auto r = framer_.next();
      if (!r) {
        if (framer_.failed()) {
          check_failed_state(r.error());
          return Round::failed;
        }
        if (pause_on_error) return Round::recoverable_error;
        continue;  // that PDU was skipped; go on with the next one
      }
      if (*r == nullptr) return Round::need_bytes;
      check_pdu(**r);
    }
  }

  // Offers `bytes` through feed() or read_buffer()/commit(); returns how many were taken.
  std::size_t offer(std::span<const std::byte> bytes, bool use_feed) {
    if (use_feed) return framer_.feed(bytes);
    const std::span<std::byte> into = framer_.read_buffer();
    const std::size_t n = std::min(into.size(), bytes.size());
    if (n != 0) std::memcpy(into.data(), bytes.data(), n);
    framer_.commit(n);
    return n;
  }

  void toggle_digests() {
    core::FramerConfig c = framer_.config();
    c.digests.header = !c.digests.header;
    c.digests.data = !c.digests.data;
    framer_.configure(c);
  }

  void finish() {
    const auto end = framer_.check_end_of_stream();
    if (framer_.failed()) check(!end && end.error() == failure_);
    if (framer_.at_pdu_boundary()) check(framer_.failed() || end.has_value());
  }

  [[nodiscard]] bool failed() const { return framer_.failed(); }
  [[nodiscard]] unsigned sink() const { return sink_; }

 private:
  void check_pdu(const core::InboundPdu& pdu) {
    const core::FramerConfig& config = framer_.config();
    check(pdu.data.size() == pdu.bhs.data_segment_length());
    check(pdu.data.size() <= max_limit_);
    check(pdu.ahs.size() == std::size_t{pdu.bhs.total_ahs_length()} * 4);
    check(core::is_initiator_opcode(pdu.bhs.opcode()) == (config.role == core::Role::target));
    const auto decoded = core::decode_header(pdu.bhs, config.decode);
    check(decoded.has_value() && *decoded == pdu.header);
    if (pdu.data_placed) {
      const auto* din = std::get_if<core::DataIn>(&pdu.header);
      check(din != nullptr);
      check(pdu.data.data() == placement_.dest().data() + din->buffer_offset);
    }
    sink_ += touch(pdu.ahs) + touch(pdu.data) + touch(pdu.bhs.bytes);
  }

  void check_failed_state(std::error_code ec) {
    failure_ = ec;
    for (int i = 0; i < 3; ++i) {
      auto again = framer_.next();
      check(!again && again.error() == ec && framer_.failed());
    }
    check(framer_.read_buffer().empty());
    const std::byte more[core::kBhsSize] = {};
    framer_.feed(more);
    auto after_feed = framer_.next();
    check(!after_feed && after_feed.error() == ec);
  }

  BufferPlacement placement_;
  core::Framer framer_;
  std::uint32_t max_limit_;
  std::error_code failure_;
  unsigned sink_ = 0;
};

}  // namespace
}  // namespace uiscsi::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace uiscsi::fuzz;
  FuzzedDataProvider in(data, size);
  const FramerPlan plan = consume_plan(in);
  const std::vector<std::uint8_t> raw = in.ConsumeRemainingBytes<std::uint8_t>();
  std::span<const std::byte> stream(reinterpret_cast<const std::byte*>(raw.data()), raw.size());

  Harness h(plan);
  std::size_t chunk = 0;
  bool drained = true;  // nothing is staged: the framer must take what it is offered
  while (!stream.empty()) {
    if (plan.toggle_digests_at != 0 && chunk == plan.toggle_digests_at) h.toggle_digests();
    const std::size_t want = std::min(plan.splits[chunk % plan.splits.size()], stream.size());
    const std::size_t took = h.offer(stream.first(want), chunk % 2 == 0);
    stream = stream.subspan(took);
    ++chunk;
    if (took == 0 && drained) {
      if (!h.failed()) __builtin_trap();  // stalled: next() wants bytes, the framer takes none
      break;
    }
    drained = false;
    if (took == 0 || chunk % plan.drain_every == 0) {
      const Harness::Round round = h.drain(plan.pause_on_error);
      if (round == Harness::Round::failed) break;
      drained = round == Harness::Round::need_bytes;
    }
  }
  // End of stream: run next() until it needs bytes or fails.
  while (h.drain(plan.pause_on_error) == Harness::Round::recoverable_error) {
  }
  h.finish();
  g_sink = h.sink();
  return 0;
}
