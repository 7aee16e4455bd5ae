// Transport: how the tape driver sends one command to its logical unit. The driver is written
// against this small interface, not against Session, so the same driver code runs over an iSCSI
// session (session_transport) or, in tests, straight against a simulated drive.
//
// Contract:
//   * run() sends one command and waits for it; start() sends one and returns at once.
//   * Commands are executed by the device in the order they were passed to run()/start()
//     (start() sends them with the ORDERED task attribute, SAM-5 8.6). The driver relies on
//     that for its read-ahead and write-behind pipelines.
//   * `data_in` is where Data-In goes (its size is the allocation / transfer length the CDB
//     asks for); `data_out` is the Data-Out. Both must stay valid until the command completes.
//   * The Result is an error only when the command's outcome is unknown or it did not run
//     (connection lost, timed out); SCSI status and sense data are in the Exchange.
#pragma once

#include <chrono>
#include <cstddef>
#include <future>
#include <memory>
#include <span>
#include <vector>

#include "uiscsi/lun.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/scsi/command.hpp"

namespace uiscsi {
class Session;
}

namespace uiscsi::tape {

// What came back from one command.
struct Exchange {
  scsi::Status status = scsi::Status::good;
  std::vector<std::byte> sense;  // bare sense bytes (CHECK CONDITION only)
  std::size_t data_in = 0;       // bytes placed at the start of the Data-In buffer
};

class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<Exchange> run(const scsi::CommandSpec& spec, std::span<std::byte> data_in,
                               std::span<const std::byte> data_out) = 0;
  virtual std::future<Result<Exchange>> start(const scsi::CommandSpec& spec,
                                              std::span<std::byte> data_in,
                                              std::span<const std::byte> data_out) = 0;
};

// A Transport over `session` to `lun`. The session must outlive the transport. Every command
// gets `timeout` (0: the session's default) and RetryPolicy::never: a tape command that may
// have run must not be sent again after a reconnection, or a record would be skipped or
// written twice.
std::unique_ptr<Transport> session_transport(Session& session, Lun lun,
                                             std::chrono::milliseconds timeout = {});

}  // namespace uiscsi::tape
