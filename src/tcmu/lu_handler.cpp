// LuHandler: a target LogicalUnit behind a TCMU ring (lu_handler.hpp).
#include "tcmu/lu_handler.hpp"

#include <algorithm>
#include <limits>

namespace uiscsi::tcmu {

LuHandler::LuHandler(std::unique_ptr<target::LogicalUnit> lu) : lu_(std::move(lu)) {
  nexus_.id = 1;
  nexus_.initiator_name = "tcmu";
  lu_->nexus_added(nexus_);
}

Reply LuHandler::execute(const Request& request) {
  const std::vector<std::byte> data_out = request.gather();
  target::ScsiCommand cmd;
  cmd.nexus = nexus_;
  cmd.cdb = request.cdb;
  cmd.data_out = data_out;
  cmd.expected_data_in = static_cast<std::uint32_t>(
      std::min<std::size_t>(request.data_length(), std::numeric_limits<std::uint32_t>::max()));
  target::ScsiResult r = lu_->execute(cmd);
  Reply reply;
  reply.status = r.status;
  reply.sense = std::move(r.sense);
  if (!r.data_in.empty())
    reply.data_in_length = static_cast<std::uint32_t>(request.scatter(r.data_in));
  return reply;
}

void LuHandler::task_management(const TaskManagement& tmr) {
  switch (tmr.type) {
    case abi::TmrType::lun_reset:
    case abi::TmrType::lun_reset_pr_out:
      lu_->logical_unit_reset();
      break;
    case abi::TmrType::target_warm_reset:
      lu_->target_reset(false);
      break;
    case abi::TmrType::target_cold_reset:
      lu_->target_reset(true);
      break;
    default:
      break;  // aborts: every command already ran to completion
  }
}

}  // namespace uiscsi::tcmu
