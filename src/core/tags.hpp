// Strong types for task tags (RFC 7143 section 11.2.1.8: Initiator Task Tag, and the Target
// Transfer Tag of R2T, Data-In, NOP-In and Text Response).
#pragma once

#include <cstdint>

namespace uiscsi::core {

// The value RFC 7143 reserves for "no tag": ITT 0xffffffff marks an unsolicited target PDU or a
// NOP-Out answer, TTT 0xffffffff means "no transfer tag".
inline constexpr std::uint32_t kReservedTag = 0xffffffffu;

template <class Tag>
struct StrongTag {
  std::uint32_t value = kReservedTag;
  constexpr StrongTag() = default;
  constexpr explicit StrongTag(std::uint32_t v) : value(v) {}
  [[nodiscard]] constexpr bool is_reserved() const { return value == kReservedTag; }
  constexpr bool operator==(const StrongTag&) const = default;
  static constexpr StrongTag reserved() { return StrongTag{kReservedTag}; }
};

struct IttTag;
struct TttTag;
using Itt = StrongTag<IttTag>;  // Initiator Task Tag
using Ttt = StrongTag<TttTag>;  // Target Transfer Tag

}  // namespace uiscsi::core
