// Private structures of TargetConnection, shared by its source files. Not a public header.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>
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
  // ERL >= 1: Data-Out lost to a data digest error or a DataSN gap (RFC 7143 section 7.8). Each
  // is asked for again with a recovery R2T once the sequence it was part of (`origin`: the R2T's
  // TTT, or reserved for the unsolicited data) has ended.
  struct Hole {
    std::uint32_t offset = 0, length = 0;
    Ttt origin;
  };
  std::vector<Hole> holes;
  std::uint32_t next_r2t_offset = 0;
  std::uint32_t next_r2t_sn = 0;
  std::uint32_t received = 0;  // Data-Out bytes in hand

  State state = State::receiving;
  bool aborted = false;
  bool answered = false;  // ERL 2: the LU completed it while it was an orphan (outcome is set)

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

// ---- error recovery level >= 1: what is kept to answer SNACKs (target_recovery.cpp) ----

// One Data-In PDU as it went out; its DataSN is its index in RetainedTask::data_ins.
struct SentDataIn {
  static constexpr std::uint8_t kFinal = 1, kStatus = 2, kAck = 4, kSent = 8;
  std::uint32_t offset = 0, length = 0;
  Ttt ttt;  // the A-bit Data-In's TTT, else reserved
  std::uint8_t flags = 0;
  [[nodiscard]] bool has(std::uint8_t f) const { return (flags & f) != 0; }
};

// The answer of one task, kept from the moment it is queued until ExpStatSN acknowledges its
// status (RFC 7143 section 7.1.5: a target at ERL >= 1 must be able to resend it).
struct RetainedTask {
  Itt itt;
  Lun lun;
  SerialNumber cmd_sn;
  std::shared_ptr<const std::vector<std::byte>> data;  // the Data-In buffer (null: none/acked)
  std::vector<SentDataIn> data_ins;                    // by DataSN
  std::uint32_t acked = 0;    // DataSNs below were acknowledged by a DataACK (section 11.16.2)
  std::uint32_t r2ts = 0;     // R2Ts the task sent (R2TSNs 0 .. r2ts - 1)
  std::vector<Ttt> ack_ttts;  // TTTs of its A-bit Data-In PDUs
  // The status.
  SerialNumber stat_sn;
  std::uint8_t status = 0;
  bool underflow = false, overflow = false;
  std::uint32_t residual = 0;
  std::vector<std::byte> sense_segment;  // SCSI Response data segment
  bool status_in_data_in = false;
  std::uint32_t data_length = 0;  // Data-In bytes of the answer
  std::uint32_t snack_tag = 0;    // of the last R-Data SNACK (section 11.16.3)
  std::uint64_t bytes = 0;        // what it counts against TargetConfig::max_retained_bytes
  // Resend jobs still sending it: an answer acknowledged (or dropped) meanwhile is `released`
  // and goes when the last of them ends.
  std::uint32_t pins = 0;
  bool released = false;
};

// A numbered response (one that took a StatSN), oldest first. A SCSI status refers to its
// RetainedTask; any other response is kept as sent.
struct RetainedStatus {
  SerialNumber stat_sn;
  bool task = false;
  Itt itt;  // task: the RetainedTask
  Bhs bhs;  // otherwise: the PDU's header and data segment
  std::vector<std::byte> data;
  std::uint64_t bytes = 0;
};

// PDUs resent for a SNACK or a retried command, produced as the socket takes them (bounded in
// number, so SNACKs cannot make the connection queue without limit).
struct ResendJob {
  enum class Kind { data_in, status };
  Kind kind = Kind::data_in;
  Itt itt;                          // data_in: the task
  SerialNumber stat_sn;             // data_in: of its answer (a reused ITT is another answer)
  std::uint32_t next = 0, end = 0;  // data_in: DataSNs [next, end); status: StatSN values
  bool then_response = false;       // data_in: a SCSI Response follows the data
};

struct TargetConnection::Retention {
  std::unordered_map<std::uint32_t, RetainedTask> tasks;      // by ITT
  std::deque<RetainedStatus> statuses;                        // by StatSN, oldest first
  std::unordered_map<std::uint32_t, std::uint32_t> ack_ttts;  // A-bit Data-In TTT -> ITT
  std::deque<std::uint32_t> evicted;                          // ITTs the bound dropped (last 64)
  std::deque<std::uint32_t> old_ttts;  // A-bit TTTs of released answers (last 64)
  std::uint64_t bytes = 0;
  std::map<std::uint32_t, ResendJob> jobs;
  std::uint32_t next_job = 1;
};

// Data-In PDUs of a command, expanded as the socket takes them.
class TargetConnection::Expander final : public TxQueue::Expander {
 public:
  explicit Expander(TargetConnection& c) : c_(c) {}
  bool expand(const SequenceRef& ref, OutPdu& out) override;

 private:
  bool next(const SequenceRef& ref, OutPdu& out);  // the task's next Data-In PDU
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
