// LogicalUnit: what a target LUN implements. The target engine collects a command's CDB and all
// its Data-Out bytes, the I/O layer calls execute() (inline, or on a worker thread when
// blocking() is true), and the engine sends the Data-In and status back.
//
// Everything SCSI happens here: CDB decoding, the command set (SPC-4 plus SBC-3, SSC-3 or
// SMC-3), sense data, unit attentions per I_T nexus, reservations. The iSCSI side (PDUs,
// sequence numbers, R2T, residuals) is the engine's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "uiscsi/lun.hpp"

namespace uiscsi::target {

// An I_T nexus: one initiator session on this target (SAM-5 section 4.7). Reservations and unit
// attentions are kept per nexus.
struct Nexus {
  std::uint64_t id = 0;        // unique while the session lives
  std::string initiator_name;  // InitiatorName
  std::uint64_t isid = 0;
  bool operator==(const Nexus& o) const { return id == o.id; }
};

// How the initiator tagged the task (SAM-5 section 8.6).
enum class TaskAttribute : std::uint8_t {
  untagged = 0,
  simple = 1,
  ordered = 2,
  head_of_queue = 3,
  aca = 4
};

struct ScsiCommand {
  Nexus nexus;
  Lun lun;
  std::span<const std::byte> cdb;
  std::span<const std::byte>
      data_out;  // all write data the initiator sent (Expected Data Transfer Length)
  std::uint32_t expected_data_in = 0;  // the initiator's read buffer size (allocation side)
  TaskAttribute attribute = TaskAttribute::simple;
};

struct ScsiResult {
  std::uint8_t status = 0;       // SAM status; 0x02 CHECK CONDITION comes with sense
  std::vector<std::byte> sense;  // sense data without the iSCSI SenseLength prefix
  // Read data. May be longer than expected_data_in: the engine sends what fits and reports the
  // overflow as a residual (SPC-4: the allocation length truncates).
  std::vector<std::byte> data_in;
  // For commands with Data-Out: the bytes the CDB calls for (transfer length x block length).
  // When it differs from what the initiator sent (its Expected Data Transfer Length), the engine
  // reports the difference as an iSCSI residual (RFC 7143 section 11.4.5.1).
  std::optional<std::uint64_t> data_out_length;

  static ScsiResult good() { return {}; }
};

class LogicalUnit {
 public:
  virtual ~LogicalUnit() = default;

  // Executes one command. Thread safety: may be called concurrently from several threads for
  // different commands; implementations lock what they share.
  virtual ScsiResult execute(const ScsiCommand& command) = 0;

  // True when execute() may block (file I/O): the I/O layer then runs it on a worker thread.
  [[nodiscard]] virtual bool blocking() const { return false; }

  // True when commands must run one at a time in the order they arrive (CmdSN order), whatever
  // their task attribute: a tape's position, or a changer's element map, is changed by every
  // command (SSC-3 4.2, SMC-3). The I/O layer then never runs two of them at once.
  [[nodiscard]] virtual bool sequential() const { return false; }

  // PERIPHERAL DEVICE TYPE (0 disk, 1 tape, 8 changer).
  [[nodiscard]] virtual std::uint8_t device_type() const = 0;

  // Task management and session life (SAM-5 section 7): each raises the right unit attention.
  virtual void nexus_added(const Nexus& nexus) = 0;    // new session: POWER ON/RESET UA (29/00)
  virtual void nexus_removed(const Nexus& nexus) = 0;  // session gone: release its reservation
  virtual void logical_unit_reset() = 0;               // LUN RESET: 29/03 UA for every nexus
  virtual void target_reset(bool cold) = 0;            // TARGET WARM/COLD RESET: 29/02 (or 29/01)
};

}  // namespace uiscsi::target
