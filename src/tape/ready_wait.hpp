// The TEST UNIT READY loop that Drive::open and Changer::open share (internal to src/tape).
#pragma once

#include <chrono>

#include "tape/sense_map.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/tape/transport.hpp"

namespace uiscsi::tape::detail {

struct ReadyBounds {
  int attempts = 30;
  std::chrono::milliseconds interval{1000};  // wait after NOT READY
  std::chrono::milliseconds timeout{60000};  // wall-time bound of the whole loop
};

// Sends TEST UNIT READY (SPC-4 6.47) until GOOD. UNIT ATTENTION (a reset, a new medium, SPC-4
// 6.47 / SAM-5 5.14) is retried at once: each TEST UNIT READY consumes one. NOT READY
// (becoming ready, loading) is retried after `interval`; NOT READY with MEDIUM NOT PRESENT
// (no_medium) is not, as no wait makes a cartridge appear. Both bounds apply.
//
// Returns a transport error when a command's fate is unknown; otherwise a Condition: no code
// when the unit is ready, the first other condition as it came, or not_ready_timeout (with the
// last UNIT ATTENTION / NOT READY sense) when the bounds ran out.
Result<Condition> wait_until_ready(Transport& transport, const ReadyBounds& bounds);

}  // namespace uiscsi::tape::detail
