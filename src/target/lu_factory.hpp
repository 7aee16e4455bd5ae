// Builds the LogicalUnits of a target, by LUN number, as its LunConfigs describe them (RAM, file
// or null disk; a tape drive, TapeLu; a media changer, ChangerLu). A changer and the tape LUNs
// that are its drives share one tapesim::Drive. Errors: errc::invalid_argument for a LUN number
// listed twice, bad sizes, a changer whose drives are not tape LUNs of the target, or a
// changer's drive with an image of its own; file errors from opening or sizing a backing file,
// tape image or changer directory; tapesim's image errors.
#pragma once

#include <cstdint>
#include <map>
#include <memory>

#include "target/config.hpp"
#include "target/logical_unit.hpp"

namespace uiscsi::target {

using LogicalUnits = std::map<std::uint64_t, std::shared_ptr<LogicalUnit>>;

Result<LogicalUnits> make_logical_units(const TargetEntry& target);

}  // namespace uiscsi::target
