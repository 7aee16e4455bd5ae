// What uiscsi-mt prints for status, tell and densities: mt-st's text, or a JSON object.
#pragma once

#include <string>

#include "common/probe.hpp"
#include "uiscsi/tape/drive.hpp"

namespace uiscsi::tools::mt {

// Each returns an exit code; a failing drive command prints one error line.
int print_status(tape::Drive& drive, const std::string& name, bool json);
// The status of a drive without a loaded medium, as mt-st shows it (DR_OPEN).
int print_empty_status(const LunInfo& lun, const std::string& name, bool json);
int print_tell(tape::Drive& drive, const std::string& name, bool json);
int print_densities(tape::Drive& drive, const std::string& name, bool json);

}  // namespace uiscsi::tools::mt
