// LuHandler: serves a target logical unit (src/target: DiskLu, TapeLu) through TCMU.
//
// The SCSI command set is the LU's own (the same code uiscsi-target serves over iSCSI): this
// class only moves bytes between the ring and the LU. TCMU does not tell the handler which
// I_T nexus sent a command, so every command comes from one nexus (id 1): unit attentions and
// reservations are per device here; LIO keeps its own per-nexus state in front.
//
// Data direction is not in the TCMU entry either: the iovecs are gathered as Data-Out for every
// command (the LU reads them only for commands that carry Data-Out), and Data-In is scattered
// back into them, with its length reported as READ_LEN. A command that returns no Data-In
// reports no READ_LEN, so LIO does not invent a residual for writes (target_complete_cmd).
//
// TMRs: LUN RESET -> logical_unit_reset(), TARGET WARM/COLD RESET -> target_reset(); aborts need
// nothing, as commands run to completion before the next entry is read.
//
// Thread safety: as EventLoop (one thread).
#pragma once

#include <memory>

#include "target/logical_unit.hpp"
#include "uiscsi/tcmu/event_loop.hpp"

namespace uiscsi::tcmu {

class LuHandler final : public Handler {
 public:
  explicit LuHandler(std::unique_ptr<target::LogicalUnit> lu);
  Reply execute(const Request& request) override;
  void task_management(const TaskManagement& tmr) override;
  [[nodiscard]] target::LogicalUnit& lu() { return *lu_; }

 private:
  std::unique_ptr<target::LogicalUnit> lu_;
  target::Nexus nexus_;
};

}  // namespace uiscsi::tcmu
