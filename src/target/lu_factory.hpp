// Builds the LogicalUnit a LunConfig describes (RAM, file or null disk; a tape drive, TapeLu).
// Errors: file errors from opening or sizing a backing file or tape image, tapesim's image
// errors, errc::unsupported for a kind this build cannot serve (changer), errc::invalid_argument
// for bad sizes.
#pragma once

#include <memory>

#include "target/config.hpp"
#include "target/logical_unit.hpp"

namespace uiscsi::target {

Result<std::shared_ptr<LogicalUnit>> make_logical_unit(const TargetEntry& target,
                                                       const LunConfig& lun);

}  // namespace uiscsi::target
