#include "core/tx_queue.hpp"

#include <cstring>

#include "core/bytes.hpp"
#include "core/crc32c.hpp"

namespace uiscsi::core {

Bhs OutPdu::bhs() const {
  Bhs b;
  std::memcpy(b.bytes.data(), head.bytes.data(), kBhsSize);
  return b;
}

OutPdu make_out_pdu(const Bhs& bhs, std::span<const std::byte> ahs, std::span<const std::byte> data,
                    const DigestConfig& digests) {
  OutPdu p;
  p.head = make_wire_header(bhs, ahs, static_cast<std::uint32_t>(data.size()), digests);
  p.data = data;
  p.tail = make_wire_trailer(data, digests);
  return p;
}

OutPdu make_owned_pdu(const Bhs& bhs, std::vector<std::byte> data, const DigestConfig& digests) {
  OutPdu p;
  p.owned = std::move(data);
  p.head = make_wire_header(bhs, {}, static_cast<std::uint32_t>(p.owned.size()), digests);
  p.data = p.owned;
  p.tail = make_wire_trailer(p.data, digests);
  return p;
}

OutPdu make_out_pdu(const Header& h, std::span<const std::byte> data, const DigestConfig& digests) {
  Bhs b;
  encode_header(h, b);
  return make_out_pdu(b, {}, data, digests);
}

void TxQueue::push(OutPdu pdu) {
  if (pending_.empty()) {
    ready_.push_back(std::move(pdu));
  } else {
    pending_.emplace_back(std::move(pdu));
  }
}

void TxQueue::push_urgent(OutPdu pdu) {
  auto pos = ready_.begin();
  if (pos != ready_.end() && front_offset_ > 0) ++pos;  // never split a PDU on the wire
  while (pos != ready_.end() && pos->urgent)
    ++pos;
  pdu.urgent = true;
  ready_.insert(pos, std::move(pdu));
}

void TxQueue::push_sequence(SequenceRef ref) {
  pending_.emplace_back(ref);
}

bool TxQueue::fill_ready() {
  while (!pending_.empty()) {
    auto& item = pending_.front();
    if (auto* pdu = std::get_if<OutPdu>(&item)) {
      ready_.push_back(std::move(*pdu));
      pending_.pop_front();
      return true;
    }
    const SequenceRef ref = std::get<SequenceRef>(item);
    OutPdu out;
    if (expander_ != nullptr && expander_->expand(ref, out)) {
      ready_.push_back(std::move(out));
      return true;  // the ref stays at the front until it reports the end
    }
    pending_.pop_front();
  }
  return false;
}

std::size_t TxQueue::gather(std::span<std::span<const std::byte>> out, std::size_t max_bytes) {
  std::size_t n = 0, bytes = 0;
  std::size_t skip = front_offset_;
  auto add = [&](std::span<const std::byte> s) {
    if (s.empty()) return true;
    if (skip >= s.size()) {
      skip -= s.size();
      return true;
    }
    s = s.subspan(skip);
    skip = 0;
    if (n == out.size()) return false;
    out[n++] = s;
    bytes += s.size();
    return true;
  };
  for (std::size_t i = 0;; ++i) {
    if (i == ready_.size() && !fill_ready()) break;
    const OutPdu& p = ready_[i];
    if (!add(p.head.view()) || !add(p.data) || !add(p.tail.view())) break;
    if (bytes >= max_bytes || n + 3 > out.size()) break;
  }
  return n;
}

void TxQueue::consume(std::size_t n) {
  while (n > 0 && !ready_.empty()) {
    const std::size_t left = ready_.front().size() - front_offset_;
    if (n < left) {
      front_offset_ += n;
      return;
    }
    n -= left;
    front_offset_ = 0;
    ready_.pop_front();
    ++pdus_sent_;
  }
}

void TxQueue::take_ownership(std::uint32_t itt) {
  auto own = [itt](OutPdu& p) {
    if (p.head.size < kBhsSize || p.data.empty() || !p.owned.empty()) return;
    if (load_be32(p.head.bytes.data() + 16) != itt) return;
    p.owned.assign(p.data.begin(), p.data.end());
    p.data = p.owned;
  };
  for (auto& p : ready_)
    own(p);
  for (auto& item : pending_)
    if (auto* p = std::get_if<OutPdu>(&item)) own(*p);
}

void TxQueue::clear() {
  ready_.clear();
  pending_.clear();
  front_offset_ = 0;
}

}  // namespace uiscsi::core
