// SequenceTracker: receipt of numbered PDUs (DataSN, R2TSN, StatSN) that should arrive in
// order, tolerating losses as error recovery level 1 must (RFC 7143 sections 7.9 and 11.16).
//
// `next` is the lowest number not yet received: everything below it has arrived. Numbers that
// arrive above it are remembered (bounded) until the gap below them fills. `seen_end` is one
// past the highest number known to exist, received or already asked for again, so each gap is
// reported once: accept() and reveal() return the part of a gap that is newly known, which the
// caller asks for with a SNACK (BegRun = gap.begin, RunLength = gap.length).
//
// Numbers compare in serial arithmetic (RFC 1982), so StatSN may wrap. Pure code.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace uiscsi::core {

class SequenceTracker {
 public:
  enum class Fate {
    in_order,   // the expected number: `next` moved past it (and past any received above)
    ahead,      // above a gap: kept, the gap is reported
    duplicate,  // received before (a retransmission we no longer need)
    too_far,    // more than the bound above `next`: the peer is not recovering
  };
  struct Gap {
    std::uint32_t begin = 0;
    std::uint32_t length = 0;  // 0: nothing new to ask for
  };
  struct Accepted {
    Fate fate = Fate::in_order;
    Gap gap;
  };

  SequenceTracker() = default;
  explicit SequenceTracker(std::uint32_t first, std::size_t max_ahead = kDefaultMaxAhead)
      : next_(first), seen_end_(first), max_ahead_(max_ahead) {}

  void reset(std::uint32_t first) {
    next_ = seen_end_ = first;
    ahead_.clear();
  }

  Accepted accept(std::uint32_t sn) {
    const std::int32_t d = distance(next_, sn);
    if (d < 0) return {Fate::duplicate, {}};
    if (d == 0) {
      ++next_;
      while (!ahead_.empty() && ahead_.front() == next_) {
        ahead_.erase(ahead_.begin());
        ++next_;
      }
      if (distance(seen_end_, next_) > 0) seen_end_ = next_;
      return {Fate::in_order, {}};
    }
    if (std::find(ahead_.begin(), ahead_.end(), sn) != ahead_.end()) return {Fate::duplicate, {}};
    if (static_cast<std::size_t>(d) > max_ahead_ || ahead_.size() >= max_ahead_)
      return {Fate::too_far, {}};
    const auto at = std::find_if(ahead_.begin(), ahead_.end(),
                                 [&](std::uint32_t x) { return distance(x, sn) < 0; });
    ahead_.insert(at, sn);
    const Gap gap = reveal(sn);
    if (distance(seen_end_, sn + 1) > 0) seen_end_ = sn + 1;
    return {Fate::ahead, gap};
  }

  // Numbers below `end` exist (a status says how many Data-In PDUs were sent, a NOP-In carries
  // the next StatSN): returns those not received nor asked for before, and marks them asked.
  Gap reveal(std::uint32_t end) {
    const std::uint32_t from = distance(seen_end_, next_) > 0 ? next_ : seen_end_;
    const std::int32_t d = distance(from, end);
    if (d <= 0 || static_cast<std::size_t>(d) > max_ahead_) return {};
    seen_end_ = end;
    return {from, static_cast<std::uint32_t>(d)};
  }

  // Marks one number as asked for again (its PDU arrived damaged), without receiving it.
  void asked_for(std::uint32_t sn) {
    if (distance(seen_end_, sn + 1) > 0) seen_end_ = sn + 1;
  }

  // This number has arrived (below `next` or kept above it).
  [[nodiscard]] bool received(std::uint32_t sn) const {
    return distance(next_, sn) < 0 || std::find(ahead_.begin(), ahead_.end(), sn) != ahead_.end();
  }
  // Everything below `end` has arrived.
  [[nodiscard]] bool complete_below(std::uint32_t end) const { return distance(end, next_) >= 0; }
  [[nodiscard]] std::uint32_t next() const { return next_; }
  [[nodiscard]] bool has_gap() const { return !ahead_.empty(); }
  // The first run of missing numbers: from `next` to the lowest received above it (or, with
  // none received above, to the end of what is known to exist). Empty if nothing is missing.
  [[nodiscard]] Gap first_gap() const {
    const std::int32_t d = distance(next_, ahead_.empty() ? seen_end_ : ahead_.front());
    if (d <= 0) return {};
    return {next_, static_cast<std::uint32_t>(d)};
  }

 private:
  static std::int32_t distance(std::uint32_t from, std::uint32_t to) {
    return static_cast<std::int32_t>(to - from);
  }

  static constexpr std::size_t kDefaultMaxAhead = 4096;

  std::uint32_t next_ = 0;
  std::uint32_t seen_end_ = 0;
  std::size_t max_ahead_ = kDefaultMaxAhead;
  std::vector<std::uint32_t> ahead_;  // received above next_, ascending in serial order
};

}  // namespace uiscsi::core
