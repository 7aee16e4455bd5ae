// Framer: turns a byte stream into PDUs, one at a time, whatever way the bytes are split.
//
// Input, either:
//   - feed(bytes): copies into the framer's staging buffer (bounded; returns what it took), or
//   - read_buffer() / commit(n): the caller reads from its socket straight into the span the
//     framer hands out. While a data segment with a placement destination is being received and
//     nothing is staged, that span is the destination itself, so large Data-In segments go from
//     the socket into the caller's buffer with no copy in between. After a placed data segment
//     of kLargeSegment bytes or more (a stream of large Data-In or Data-Out), the span handed
//     out at a PDU boundary covers only the next header (and the trailer before it), so the
//     following data segment also arrives without a copy; the cost is one more read per PDU.
// Output: next() returns the next complete PDU, nullptr when more bytes are needed, or an error.
//
// Limits are enforced before any allocation: DataSegmentLength must not exceed our declared
// MaxRecvDataSegmentLength (RFC 7143 section 13.12), so a peer's length field never sizes a
// buffer beyond that bound.
//
// Errors from next():
//   - recoverable (failed() stays false; the framer has already skipped the PDU and the next call
//     continues with the following PDU): data_digest_mismatch, unknown_opcode,
//     unexpected_opcode, reserved_field_nonzero, invalid_field. failed_bhs() holds the header
//     of the PDU in question (for a Reject, which carries it back to the sender).
//   - fatal (failed() becomes true and every later call returns the same error):
//     data_segment_too_long, and header_digest_mismatch unless
//     FramerConfig::skip_pdu_on_header_digest_error is set (then it is recoverable, trusting the
//     length fields as long as they are within our limit).
//
// The spans in a returned InboundPdu stay valid until the next call of a non-const method.
// Pure code: no I/O, no clock, no threads. Not thread-safe; one framer per connection.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/pdu.hpp"

namespace uiscsi::core {

// Placed data segments of this size and up make read_buffer() read headers alone.
inline constexpr std::uint32_t kLargeSegment = 16 * 1024;

struct FramerConfig {
  Role role = Role::initiator;  // we accept the opcodes the other role sends
  DigestConfig digests;
  // Our declared MaxRecvDataSegmentLength: the largest data segment the peer may send us.
  // During login it is 8192 (RFC 7143 section 13.12, default).
  std::uint32_t max_recv_data_segment_length = 8192;
  DecodeOptions decode;
  bool skip_pdu_on_header_digest_error = false;
  std::size_t staging_bytes = 64 * 1024;
};

// Decides where a data segment goes, once its header has been checked.
class DataPlacement {
 public:
  virtual ~DataPlacement() = default;
  // Return a span of exactly `data_length` bytes to receive the data segment, or an empty span
  // to let the framer buffer it (InboundPdu::data then points at the framer's copy).
  virtual std::span<std::byte> place(const Header& header, std::uint32_t data_length) = 0;
};

struct InboundPdu {
  Bhs bhs;
  Header header;
  std::span<const std::byte> ahs;
  std::span<const std::byte> data;  // unpadded data segment (the placement destination if placed)
  bool data_placed = false;
};

class Framer {
 public:
  explicit Framer(FramerConfig config = {});

  // Takes effect from the next PDU boundary; call it between next() calls (e.g. to turn digests
  // on after the final Login Response).
  void configure(const FramerConfig& config);
  [[nodiscard]] const FramerConfig& config() const { return config_; }
  void set_placement(DataPlacement* placement) { placement_ = placement; }

  std::size_t feed(std::span<const std::byte> bytes);
  std::span<std::byte> read_buffer();
  void commit(std::size_t n);

  Result<const InboundPdu*> next();

  // Call when the byte stream ended (EOF): protocol_errc::truncated if a PDU was cut short.
  [[nodiscard]] Result<void> check_end_of_stream() const;

  [[nodiscard]] bool failed() const { return failed_; }
  [[nodiscard]] const Bhs& failed_bhs() const { return failed_bhs_; }
  // True when no partial PDU is held: every byte fed so far belonged to PDUs already returned.
  [[nodiscard]] bool at_pdu_boundary() const;
  [[nodiscard]] std::size_t staged_bytes() const { return in_tail_ - in_head_; }

 private:
  enum class State { header, data, trailer };

  std::size_t take(std::byte* dst, std::size_t want);
  Result<const InboundPdu*> fail(std::error_code ec, bool fatal);
  Result<const InboundPdu*> finish_header();
  Result<const InboundPdu*> finish_pdu();
  void reset_for_next();
  [[nodiscard]] std::size_t header_size() const;
  [[nodiscard]] std::size_t trailer_size() const;
  std::span<std::byte> data_destination();

  FramerConfig config_;
  FramerConfig pending_config_;
  bool config_pending_ = false;
  DataPlacement* placement_ = nullptr;

  std::vector<std::byte> in_;  // staging buffer
  std::size_t in_head_ = 0, in_tail_ = 0;

  State state_ = State::header;
  std::array<std::byte, kBhsSize + kMaxAhsBytes + 4> hdr_{};
  std::size_t hdr_got_ = 0;
  std::uint32_t data_length_ = 0;
  std::size_t data_got_ = 0;
  std::span<std::byte> placed_;               // placement destination, when any
  std::vector<std::byte> data_buf_;           // framer-owned copy of a data segment
  const std::byte* data_in_place_ = nullptr;  // data fully inside the staging buffer
  bool skipping_ = false;                     // discarding the data of a PDU already reported
  std::array<std::byte, 8> trailer_{};
  std::size_t trailer_got_ = 0;
  bool direct_read_ = false;  // read_buffer() last handed out the data destination
  // The last data segment seen (this PDU's, once its header is in) is placed and at least
  // kLargeSegment long: read_buffer() then
  // hands out header-sized spans at PDU boundaries (see the header comment).
  bool expect_large_ = false;

  InboundPdu pdu_;
  bool failed_ = false;
  std::error_code failure_;
  Bhs failed_bhs_;
};

}  // namespace uiscsi::core
