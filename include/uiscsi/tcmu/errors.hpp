// Error codes of the TCMU bindings (src/tcmu). OS failures (open, mmap, epoll, configfs writes)
// come back as std::error_code in the system category (errno).
#pragma once

#include <system_error>

namespace uiscsi::tcmu {

enum class tcmu_errc {
  bad_mailbox = 1,    // version other than 2, or the ring does not fit in the mapping
  ring_corrupt,       // an entry header or cmd_head cannot be stepped over safely
  unknown_command,    // complete() with an id that is not outstanding
  already_completed,  // complete() twice for one command
  bad_entry,          // a command entry's CDB or iovecs lie outside the mapping
  unknown_opcode,     // an entry opcode other than PAD, CMD, TMR
  device_not_found,   // no uio device named tcm-user/HBA/NAME/... appeared in time
  bad_device_name,    // a device or handler name with '/', ',', '=' or white space
  timed_out,          // the event loop's deadline passed
  cancelled,          // cancel() stopped the event loop
};

const std::error_category& tcmu_category() noexcept;
std::error_code make_error_code(tcmu_errc e) noexcept;

}  // namespace uiscsi::tcmu

template <>
struct std::is_error_code_enum<uiscsi::tcmu::tcmu_errc> : std::true_type {};
