// TxQueue: the order in which queued PDUs reach the wire.
#include "core/tx_queue.hpp"

#include <gtest/gtest.h>

#include <array>
#include <vector>

#include "core/bytes.hpp"
#include "core/pdu.hpp"

namespace uiscsi::core {
namespace {

// A NOP-In whose ITT tells the PDUs apart on the wire.
OutPdu pdu_tagged(std::uint32_t itt) {
  NopIn h;
  h.itt = Itt(itt);
  return make_out_pdu(Header{h}, {}, DigestConfig{});
}

// Writes everything queued and returns the ITT of every PDU header in it. `rest_of_first`: the
// bytes of a PDU that had started to go out before, which come first.
std::vector<std::uint32_t> drain(TxQueue& q, std::size_t rest_of_first = 0) {
  std::vector<std::byte> wire;
  std::array<std::span<const std::byte>, 16> iov;
  while (!q.empty()) {
    const std::size_t n = q.gather(iov);
    std::size_t took = 0;
    for (std::size_t i = 0; i < n; ++i) {
      wire.insert(wire.end(), iov[i].begin(), iov[i].end());
      took += iov[i].size();
    }
    q.consume(took);
  }
  std::vector<std::uint32_t> itts;
  EXPECT_EQ((wire.size() - rest_of_first) % kBhsSize, 0u);  // no data segments
  for (std::size_t at = rest_of_first; at + kBhsSize <= wire.size(); at += kBhsSize)
    itts.push_back(load_be32(wire.data() + at + 16));
  return itts;
}

TEST(TxQueue, PlainPdusLeaveInTheOrderQueued) {
  TxQueue q;
  for (std::uint32_t i = 1; i <= 3; ++i)
    q.push(pdu_tagged(i));
  EXPECT_EQ(drain(q), (std::vector<std::uint32_t>{1, 2, 3}));
}

// Urgent PDUs (a target's TMF responses, NOP replies) overtake what waits, and keep their own
// order: each carries the next StatSN, which the initiator must see in order.
TEST(TxQueue, UrgentPdusOvertakePlainOnesAndKeepTheirOwnOrder) {
  TxQueue q;
  q.push(pdu_tagged(1));
  q.push(pdu_tagged(2));
  q.push_urgent(pdu_tagged(10));
  q.push_urgent(pdu_tagged(11));
  q.push(pdu_tagged(3));
  q.push_urgent(pdu_tagged(12));
  EXPECT_EQ(drain(q), (std::vector<std::uint32_t>{10, 11, 12, 1, 2, 3}));
}

TEST(TxQueue, UrgentPduNeverSplitsOneAlreadyGoingOut) {
  TxQueue q;
  q.push(pdu_tagged(1));
  q.push(pdu_tagged(2));
  std::array<std::span<const std::byte>, 4> iov;
  ASSERT_GT(q.gather(iov), 0u);
  q.consume(10);  // part of PDU 1 is on the wire
  q.push_urgent(pdu_tagged(10));
  q.push_urgent(pdu_tagged(11));
  // The rest of PDU 1 first, then the urgent ones, then PDU 2.
  EXPECT_EQ(drain(q, kBhsSize - 10), (std::vector<std::uint32_t>{10, 11, 2}));
}

}  // namespace
}  // namespace uiscsi::core
