#include "core/framer.hpp"

#include <algorithm>
#include <cstring>

#include "core/bytes.hpp"
#include "core/crc32c.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {

Framer::Framer(FramerConfig config) : config_(config) {
  in_.resize(std::max<std::size_t>(config_.staging_bytes, kBhsSize + kMaxAhsBytes + 8));
}

void Framer::configure(const FramerConfig& config) {
  if (state_ == State::header && hdr_got_ == 0) {
    config_ = config;
    config_pending_ = false;
  } else {
    pending_config_ = config;
    config_pending_ = true;
  }
}

std::size_t Framer::header_size() const {
  // TotalAHSLength is BHS byte 4, in 4-byte words.
  return kBhsSize + std::size_t{std::to_integer<std::uint8_t>(hdr_[4])} * 4 +
         (config_.digests.header ? kDigestSize : 0);
}

std::size_t Framer::trailer_size() const {
  if (data_length_ == 0) return 0;
  return pad4(data_length_) + (config_.digests.data ? kDigestSize : 0);
}

std::size_t Framer::take(std::byte* dst, std::size_t want) {
  const std::size_t n = std::min(want, in_tail_ - in_head_);
  if (n != 0 && dst != nullptr) std::memcpy(dst, in_.data() + in_head_, n);
  in_head_ += n;
  return n;
}

std::span<std::byte> Framer::data_destination() {
  if (!placed_.empty()) return placed_;
  if (data_buf_.size() < data_length_) data_buf_.resize(data_length_);
  return {data_buf_.data(), data_length_};
}

std::size_t Framer::feed(std::span<const std::byte> bytes) {
  if (in_head_ == in_tail_) {
    in_head_ = in_tail_ = 0;
  } else if (in_head_ > 0 && in_.size() - in_tail_ < bytes.size()) {
    std::memmove(in_.data(), in_.data() + in_head_, in_tail_ - in_head_);
    in_tail_ -= in_head_;
    in_head_ = 0;
  }
  const std::size_t n = std::min(bytes.size(), in_.size() - in_tail_);
  if (n != 0) std::memcpy(in_.data() + in_tail_, bytes.data(), n);
  in_tail_ += n;
  return n;
}

std::span<std::byte> Framer::read_buffer() {
  direct_read_ = false;
  if (failed_) return {};
  if (state_ == State::data && !skipping_ && in_head_ == in_tail_ && data_got_ < data_length_) {
    direct_read_ = true;
    return data_destination().subspan(data_got_);
  }
  if (in_head_ == in_tail_) {
    in_head_ = in_tail_ = 0;
  } else if (in_head_ > 0) {
    std::memmove(in_.data(), in_.data() + in_head_, in_tail_ - in_head_);
    in_tail_ -= in_head_;
    in_head_ = 0;
  }
  std::size_t room = in_.size() - in_tail_;
  if (expect_large_ && in_head_ == in_tail_) {
    // Read up to the end of the next BHS (and its header digest; AHS are rare and then come
    // with the next read), so that its data segment can be read straight into its destination.
    const std::size_t digest = config_.digests.header ? kDigestSize : 0;
    std::size_t want = 0;
    if (state_ == State::header && hdr_got_ < kBhsSize)
      want = kBhsSize - hdr_got_ + digest;
    else if (state_ == State::trailer)
      want = trailer_size() - trailer_got_ + kBhsSize + digest;
    if (want > 0) room = std::min(room, want);
  }
  return {in_.data() + in_tail_, room};
}

void Framer::commit(std::size_t n) {
  if (direct_read_) {
    data_got_ += n;
  } else {
    in_tail_ = std::min(in_.size(), in_tail_ + n);
  }
  direct_read_ = false;
}

bool Framer::at_pdu_boundary() const {
  return state_ == State::header && hdr_got_ == 0 && in_head_ == in_tail_;
}

Result<void> Framer::check_end_of_stream() const {
  if (failed_) return failure_;
  if (!at_pdu_boundary()) return protocol_errc::truncated;
  return ok();
}

Result<const InboundPdu*> Framer::fail(std::error_code ec, bool fatal) {
  std::memcpy(failed_bhs_.bytes.data(), hdr_.data(), kBhsSize);
  if (fatal) {
    failed_ = true;
    failure_ = ec;
  }
  return Unexpected(ec);
}

void Framer::reset_for_next() {
  state_ = State::header;
  hdr_got_ = 0;
  data_length_ = 0;
  data_got_ = 0;
  placed_ = {};
  data_in_place_ = nullptr;
  skipping_ = false;
  trailer_got_ = 0;
  if (config_pending_) {
    config_ = pending_config_;
    config_pending_ = false;
  }
}

Result<const InboundPdu*> Framer::finish_header() {
  Bhs bhs;
  std::memcpy(bhs.bytes.data(), hdr_.data(), kBhsSize);
  const std::size_t ahs_bytes = std::size_t{bhs.total_ahs_length()} * 4;
  data_length_ = bhs.data_segment_length();
  data_got_ = 0;
  state_ = State::data;

  if (config_.digests.header) {
    const std::uint32_t want = load_digest(hdr_.data() + kBhsSize + ahs_bytes);
    if (crc32c({hdr_.data(), kBhsSize + ahs_bytes}) != want) {
      const bool can_skip = config_.skip_pdu_on_header_digest_error &&
                            data_length_ <= config_.max_recv_data_segment_length;
      skipping_ = can_skip;
      return fail(protocol_errc::header_digest_mismatch, !can_skip);
    }
  }
  if (data_length_ > config_.max_recv_data_segment_length)
    return fail(protocol_errc::data_segment_too_long, true);

  // From here on the lengths are trusted, so a bad header only costs this PDU.
  auto header = decode_header(bhs, config_.decode);
  if (!header) {
    skipping_ = true;
    return fail(header.error(), false);
  }
  const bool from_initiator = is_initiator_opcode(bhs.opcode());
  if (from_initiator != (config_.role == Role::target)) {
    skipping_ = true;
    return fail(protocol_errc::unexpected_opcode, false);
  }

  pdu_.bhs = bhs;
  pdu_.header = std::move(*header);
  pdu_.ahs = {hdr_.data() + kBhsSize, ahs_bytes};
  pdu_.data = {};
  pdu_.data_placed = false;
  if (data_length_ > 0 && placement_ != nullptr) {
    auto dest = placement_->place(pdu_.header, data_length_);
    if (dest.size() == data_length_) placed_ = dest;
  }
  if (data_length_ > 0) expect_large_ = !placed_.empty() && data_length_ >= kLargeSegment;
  return nullptr;  // continue with the data segment
}

Result<const InboundPdu*> Framer::finish_pdu() {
  if (skipping_) {  // the error for this PDU was reported when its header was complete
    reset_for_next();
    return nullptr;
  }
  std::span<const std::byte> data;
  if (data_length_ > 0) {
    if (!placed_.empty()) {
      data = placed_;
    } else if (data_in_place_ != nullptr) {
      data = {data_in_place_, data_length_};
    } else {
      data = {data_buf_.data(), data_length_};
    }
  }
  if (config_.digests.data && data_length_ > 0) {
    const std::size_t pad = pad4(data_length_);
    const std::uint32_t crc = crc32c({trailer_.data(), pad}, crc32c(data));
    if (crc != load_digest(trailer_.data() + pad)) {
      reset_for_next();
      return fail(protocol_errc::data_digest_mismatch, false);
    }
  }
  pdu_.data = data;
  pdu_.data_placed = !placed_.empty();
  reset_for_next();
  return &pdu_;
}

Result<const InboundPdu*> Framer::next() {
  if (failed_) return Unexpected(failure_);
  for (;;) {
    switch (state_) {
      case State::header: {
        if (hdr_got_ < kBhsSize) {
          hdr_got_ += take(hdr_.data() + hdr_got_, kBhsSize - hdr_got_);
          if (hdr_got_ < kBhsSize) return nullptr;
        }
        const std::size_t need = header_size();
        if (hdr_got_ < need) {
          hdr_got_ += take(hdr_.data() + hdr_got_, need - hdr_got_);
          if (hdr_got_ < need) return nullptr;
        }
        auto r = finish_header();
        if (!r) return r;
        break;
      }
      case State::data: {
        const std::size_t staged = in_tail_ - in_head_;
        const std::size_t remaining = data_length_ - data_got_;
        if (skipping_) {
          data_got_ += take(nullptr, remaining);
        } else if (placed_.empty() && data_got_ == 0 && staged >= data_length_ + trailer_size()) {
          // The whole segment and its trailer are staged: hand out a view, no copy.
          data_in_place_ = in_.data() + in_head_;
          in_head_ += data_length_;
          data_got_ = data_length_;
        } else if (remaining > 0) {
          data_got_ += take(data_destination().data() + data_got_, remaining);
        }
        if (data_got_ < data_length_) return nullptr;
        state_ = State::trailer;
        break;
      }
      case State::trailer: {
        const std::size_t need = trailer_size();
        if (trailer_got_ < need) {
          trailer_got_ += take(trailer_.data() + trailer_got_, need - trailer_got_);
          if (trailer_got_ < need) return nullptr;
        }
        auto r = finish_pdu();
        if (!r || *r != nullptr) return r;
        break;
      }
    }
  }
}

}  // namespace uiscsi::core
