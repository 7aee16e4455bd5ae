// TxQueue: the PDUs waiting to go out on one connection, as scatter-gather byte ranges.
//
// Each OutPdu is a header block (BHS + AHS + header digest), a data segment and a trailer
// (padding + data digest). The data segment either points into the caller's buffer (Data-Out
// from a write buffer, Data-In from a target LUN) or into the PDU's own storage. gather() hands
// out the next ranges for writev(); consume() drops what the socket took.
//
// Long data sequences are queued as a SequenceRef and expanded into PDUs only when gather()
// reaches them, through the Expander the owner provides: memory stays proportional to what is
// about to be written, not to the burst size.
//
// Pure code; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <variant>
#include <vector>

#include "core/pdu.hpp"

namespace uiscsi::core {

struct OutPdu {
  OutPdu() = default;
  OutPdu(OutPdu&&) noexcept = default;
  OutPdu& operator=(OutPdu&&) noexcept = default;
  OutPdu(const OutPdu&) = delete;  // `data` may point into `owned`
  OutPdu& operator=(const OutPdu&) = delete;

  WireHeader head;
  std::span<const std::byte> data;
  std::vector<std::byte> owned;  // backing store when the PDU owns its data
  // Keeps a shared buffer that `data` points into alive until the PDU has been written (a
  // target's read data, shared by the Data-In PDUs of one command).
  std::shared_ptr<const void> keep_alive;
  WireTrailer tail;
  bool urgent = false;  // queued by push_urgent()

  [[nodiscard]] std::size_t size() const { return head.size + data.size() + tail.size; }
  // The header as decoded fields, for traces; the first 48 bytes of head.
  [[nodiscard]] Bhs bhs() const;
};

// Builds an OutPdu for header `bhs` (and `ahs`) with `data` borrowed from the caller, or with
// `owned` data moved in. Lengths and digests are filled in.
OutPdu make_out_pdu(const Bhs& bhs, std::span<const std::byte> ahs, std::span<const std::byte> data,
                    const DigestConfig& digests);
OutPdu make_owned_pdu(const Bhs& bhs, std::vector<std::byte> data, const DigestConfig& digests);
OutPdu make_out_pdu(const Header& h, std::span<const std::byte> data, const DigestConfig& digests);

// A lazily expanded run of PDUs (e.g. the Data-Out PDUs answering one R2T).
struct SequenceRef {
  std::uint32_t owner = 0;     // e.g. an ITT
  std::uint32_t sequence = 0;  // owner-defined
};

class TxQueue {
 public:
  class Expander {
   public:
    virtual ~Expander() = default;
    // Produces the next PDU of `ref` into `out`. Returns false when the sequence is finished
    // (or no longer wanted); then `out` is ignored and the ref is dropped.
    virtual bool expand(const SequenceRef& ref, OutPdu& out) = 0;
  };

  explicit TxQueue(Expander* expander = nullptr) : expander_(expander) {}
  void set_expander(Expander* e) { expander_ = e; }

  void push(OutPdu pdu);
  // Goes ahead of every PDU that has not started to go out (NOP replies, TMFs), but behind the
  // urgent ones queued before it: urgent PDUs keep their order (a target's StatSN order).
  void push_urgent(OutPdu pdu);
  void push_sequence(SequenceRef ref);

  // Fills `out` with byte ranges to write, in order, up to about `max_bytes`; returns how many
  // ranges were written. Expands sequences as needed.
  std::size_t gather(std::span<std::span<const std::byte>> out, std::size_t max_bytes = 1 << 20);
  // The socket accepted `n` bytes of what gather() returned.
  void consume(std::size_t n);

  [[nodiscard]] bool empty() const { return ready_.empty() && pending_.empty(); }
  // Number of whole PDUs fully written since construction (for statistics).
  [[nodiscard]] std::uint64_t pdus_sent() const { return pdus_sent_; }
  // Drops everything (connection gone).
  void clear();
  // Copies the borrowed data of every queued PDU with this ITT into the PDU itself, so the
  // caller's buffer may be released before those PDUs are written (an aborted task).
  void take_ownership(std::uint32_t itt);

 private:
  bool fill_ready();

  Expander* expander_;
  std::deque<OutPdu> ready_;                               // materialised, in send order
  std::deque<std::variant<OutPdu, SequenceRef>> pending_;  // not yet materialised
  std::size_t front_offset_ = 0;  // bytes of ready_.front() already written
  std::uint64_t pdus_sent_ = 0;
};

}  // namespace uiscsi::core
