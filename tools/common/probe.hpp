// What a LUN is: INQUIRY and READ CAPACITY, retried through unit attentions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "uiscsi/session.hpp"

namespace uiscsi::tools {

struct LunInfo {
  std::uint64_t lun = 0;
  std::uint8_t device_type = 0x1f;
  std::string type_name;
  std::string vendor, product, revision;
  std::optional<std::uint64_t> blocks;
  std::uint32_t block_size = 0;
  bool present = true;  // false: the target has no such LUN (peripheral qualifier 011b)
  std::string error;    // why part of the information is missing
};

// Runs `command` and, on CHECK CONDITION with UNIT ATTENTION, runs it again (up to 3 times):
// the first command after login commonly reports "power on, reset" (29/00).
Result<Completion> run_through_unit_attention(Session& s, Lun lun, const Command& command);

// INQUIRY (and READ CAPACITY for disks) of one LUN.
LunInfo probe_lun(Session& s, Lun lun);

// REPORT LUNS; falls back to LUN 0 when the target refuses the command.
Result<std::vector<Lun>> report_luns(Session& s);

// JSON string literal (with quotes).
std::string json_string(std::string_view s);

}  // namespace uiscsi::tools
