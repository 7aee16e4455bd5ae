// Command and Completion: one SCSI command as the initiator submits it, and what came back.
//
// A Command wraps a scsi::CommandSpec (CDB, direction, lengths; see scsi/cdb.hpp) with its data
// buffers. Read data goes into a buffer the library allocates (data_in_length bytes) unless the
// caller lends one with read_into(); write data comes from a caller buffer (write_from(), which
// must stay valid until completion) or a vector handed over with write_data().
//
// A Completion carries the SCSI status and sense as data. ok() is true for GOOD and CONDITION
// MET; error() turns anything else into a std::error_code whose message names the status, sense
// key and ASC/ASCQ, e.g. "CHECK CONDITION: ILLEGAL REQUEST, logical block address out of
// range (asc 0x21, ascq 0x00)".
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "uiscsi/export.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/scsi/command.hpp"
#include "uiscsi/scsi/sense.hpp"

namespace uiscsi {

enum class TaskAttribute : std::uint8_t {
  untagged = 0,
  simple = 1,
  ordered = 2,
  head_of_queue = 3,
  aca = 4
};

// What the session does with a command that was in flight when its connection failed and the
// session recovered (RFC 7143 section 6.3.5: at ERL 0 the target discards such tasks, so the
// initiator must decide whether re-issuing is safe).
//   automatic: re-issue only commands that are idempotent (reads, INQUIRY, TEST UNIT READY,
//              READ CAPACITY, writes to explicit LBAs, ...); others fail with
//              errc::command_interrupted, since they may have executed.
//   always:    re-issue regardless (the caller knows the command is safe to repeat), up to
//              SessionOptions::max_command_replays times.
//   never:     fail with errc::command_interrupted if it had been sent.
enum class RetryPolicy : std::uint8_t { automatic, always, never };

class UISCSI_API Command {
 public:
  explicit Command(scsi::CommandSpec spec) : spec_(spec) {}
  // A raw CDB with explicit lengths. Errors: errc::invalid_argument (empty or > 64 bytes).
  static Result<Command> raw(std::span<const std::byte> cdb, std::uint32_t data_in_length = 0,
                             std::uint32_t data_out_length = 0);

  // Lend a read buffer (its size replaces data_in_length). Keep it valid until completion.
  Command& read_into(std::span<std::byte> buffer);
  // Lend write data (its size replaces data_out_length). Keep it valid until completion.
  Command& write_from(std::span<const std::byte> buffer);
  // Hand over write data.
  Command& write_data(std::vector<std::byte> data);
  // Fail with errc::timed_out (and abort the task) if not complete within `d`.
  Command& timeout(std::chrono::nanoseconds d);
  Command& attribute(TaskAttribute a);
  Command& retry(RetryPolicy p);

  [[nodiscard]] const scsi::CommandSpec& spec() const { return spec_; }
  [[nodiscard]] std::optional<std::chrono::nanoseconds> timeout_value() const { return timeout_; }
  [[nodiscard]] TaskAttribute task_attribute() const { return attribute_; }
  [[nodiscard]] RetryPolicy retry_policy() const { return retry_; }

 private:
  friend class Session;
  friend struct SessionAccess;
  scsi::CommandSpec spec_;
  std::span<std::byte> read_buffer_;
  bool lent_read_ = false;
  std::span<const std::byte> write_buffer_;
  std::vector<std::byte> owned_write_;
  std::optional<std::chrono::nanoseconds> timeout_;
  TaskAttribute attribute_ = TaskAttribute::simple;
  RetryPolicy retry_ = RetryPolicy::automatic;
};

class UISCSI_API Completion {
 public:
  Completion() = default;

  [[nodiscard]] scsi::Status status() const { return status_; }
  [[nodiscard]] bool ok() const {
    return status_ == scsi::Status::good || status_ == scsi::Status::condition_met;
  }
  // Read data actually received (at most the requested length).
  [[nodiscard]] std::span<const std::byte> data() const;
  // Moves the library-owned read buffer out (empty if the caller lent one), trimmed to data().
  std::vector<std::byte> take_data();
  [[nodiscard]] std::span<const std::byte> sense_bytes() const { return sense_; }
  // Parsed sense data, when there is any.
  [[nodiscard]] Result<scsi::SenseData> sense() const;
  // Empty for GOOD/CONDITION MET; otherwise a scsi_status_category() code (see above).
  [[nodiscard]] std::error_code error() const;
  // One readable line: "GOOD" or the error's message.
  [[nodiscard]] std::string describe() const;

  [[nodiscard]] std::uint32_t residual_count() const { return residual_; }
  [[nodiscard]] bool underflow() const { return underflow_; }
  [[nodiscard]] bool overflow() const { return overflow_; }
  [[nodiscard]] std::uint32_t bytes_received() const { return bytes_in_; }
  [[nodiscard]] std::chrono::nanoseconds latency() const { return latency_; }

 private:
  friend struct SessionAccess;
  scsi::Status status_ = scsi::Status::good;
  std::vector<std::byte> sense_;
  std::vector<std::byte> owned_in_;
  std::span<const std::byte> lent_in_;
  bool lent_ = false;
  std::uint32_t bytes_in_ = 0;
  std::uint32_t residual_ = 0;
  bool underflow_ = false;
  bool overflow_ = false;
  std::chrono::nanoseconds latency_{};
};

// The category of Completion::error() codes. The value packs status, sense key, ASC and ASCQ:
// (status << 24) | (sense_key << 16) | (asc << 8) | ascq.
UISCSI_API const std::error_category& scsi_status_category() noexcept;

}  // namespace uiscsi
