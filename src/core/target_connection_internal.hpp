// Private structures of TargetConnection, shared by its source files. Not a public header.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "core/target_connection.hpp"

namespace uiscsi::core {

struct TargetConnection::Task {
  enum class State { receiving, executing, responding };

  Task() = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (held != nullptr) *held -= data_out.size();
  }

  std::uint32_t handle = 0;
  Itt itt;
  Lun lun;
  SerialNumber cmd_sn;
  bool immediate = false;
  TaskAttribute attr = TaskAttribute::simple;
  std::vector<std::byte> cdb;
  std::uint32_t read_length = 0;
  std::uint32_t write_length = 0;
  std::vector<std::byte> data_out;  // write_length bytes (empty when the task is refused)
  std::uint64_t* held = nullptr;    // the connection's count of write buffer bytes

  // Why the task ends as soon as it is admitted (in CmdSN order), without running: a SAM status
  // and, for CHECK CONDITION, the sense key, ASC and ASCQ.
  struct Refusal {
    std::uint8_t status = 0x02;
    std::uint8_t key = 0, asc = 0, ascq = 0;
  };
  std::optional<Refusal> refusal;

  // Unsolicited data (immediate data counts towards it).
  std::uint32_t unsolicited_expected = 0;  // bytes due in unsolicited Data-Out PDUs
  std::uint32_t unsolicited_received = 0;
  std::uint32_t unsolicited_data_sn = 0;
  // Solicited data.
  struct R2tState {
    Ttt ttt;
    std::uint32_t r2t_sn = 0;
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    std::uint32_t received = 0;
    std::uint32_t next_data_sn = 0;
  };
  std::vector<R2tState> r2ts;  // outstanding
  std::uint32_t next_r2t_offset = 0;
  std::uint32_t next_r2t_sn = 0;
  std::uint32_t received = 0;  // Data-Out bytes in hand

  State state = State::receiving;
  bool aborted = false;

  // The answer.
  CommandOutcome outcome;
  std::shared_ptr<std::vector<std::byte>> data_in;  // shared with the queued Data-In PDUs
  std::uint32_t data_in_length = 0;  // bytes we send (min of outcome and read_length)
  std::uint32_t data_in_sent = 0;
  std::uint32_t next_data_sn = 0;
  std::uint32_t burst_sent = 0;  // bytes in the current Data-In sequence
  bool status_in_data_in = false;
  SerialNumber status_stat_sn;  // reserved when the answer was queued
  std::uint32_t residual = 0;
  bool underflow = false;
  bool overflow = false;
  // Fault: the Data-In PDUs, planned in advance and sent last-first.
  struct PlannedDataIn {
    std::uint32_t offset, length, data_sn;
    bool final;
  };
  std::vector<PlannedDataIn> reversed;

  [[nodiscard]] bool data_complete() const { return received >= write_length; }
};

// Data-In PDUs of a command, expanded as the socket takes them.
class TargetConnection::Expander final : public TxQueue::Expander {
 public:
  explicit Expander(TargetConnection& c) : c_(c) {}
  bool expand(const SequenceRef& ref, OutPdu& out) override;

 private:
  TargetConnection& c_;
};

// Data-Out goes straight into the command's write buffer when its offset fits.
class TargetConnection::Placement final : public DataPlacement {
 public:
  explicit Placement(TargetConnection& c) : c_(c) {}
  std::span<std::byte> place(const Header& header, std::uint32_t length) override;

 private:
  TargetConnection& c_;
};

}  // namespace uiscsi::core
