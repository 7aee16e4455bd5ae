// SessionAccess: the glue between the public Command/Completion types and the engine.
// Internal header.
#pragma once

#include "core/initiator_types.hpp"
#include "uiscsi/command.hpp"

namespace uiscsi {

struct SessionAccess {
  // Sets up the engine request's buffers from a Command: lends the caller's buffers, or uses
  // a library-owned read buffer kept in `completion` and write data kept in `owned_write`.
  static void prepare(Command& command, Completion& completion, std::vector<std::byte>& owned_write,
                      core::ScsiRequest& request);
  // Copies the engine's result into the completion.
  static void fill(Completion& completion, const core::CommandResult& result);
};

}  // namespace uiscsi
