// Pure mapping of a command's SCSI status and sense data to tape conditions (internal to
// src/tape). No I/O; unit-tested exhaustively in tests/unit/tape.
//
// Order of precedence (first match wins), following SPC-4 4.5 and SSC-3 4.2:
//   1. status other than CHECK CONDITION: GOOD/CONDITION MET -> no condition; BUSY / TASK SET
//      FULL -> busy; RESERVATION CONFLICT; anything else -> unexpected_status.
//   2. CHECK CONDITION without parseable sense -> no_sense_data.
//   3. deferred sense (response code 71h/73h, SPC-4 4.5.5) -> deferred_error, whatever the key:
//      it reports an earlier command, and the current one did not run.
//   4. sense key UNIT ATTENTION, VOLUME OVERFLOW (EOM with data not written), BLANK CHECK
//      (end of data), NOT READY (no_medium for ASC 3Ah), DATA PROTECT, MEDIUM ERROR, HARDWARE
//      ERROR, ILLEGAL REQUEST, ABORTED COMMAND: one code each; other keys except NO SENSE /
//      RECOVERED ERROR -> other_sense.
//   5. NO SENSE / RECOVERED ERROR with stream bits: FM -> filemark (setmark for 00/03);
//      ILI -> incorrect_length_short (INFORMATION > 0) or _long (< 0; SSC-3 READ(6));
//      EOM -> beginning_of_partition for 00/04, else early_warning.
//      RECOVERED ERROR without bits -> no condition (the command completed).
//      NO SENSE without bits but ASC/ASCQ 00/05 -> end_of_data.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "uiscsi/scsi/command.hpp"
#include "uiscsi/scsi/sense.hpp"
#include "uiscsi/tape/drive.hpp"
#include "uiscsi/tape/errors.hpp"

namespace uiscsi::tape::detail {

struct Condition {
  std::optional<tape_errc> code;         // nullopt: the command completed normally
  std::optional<scsi::SenseData> sense;  // parsed sense, when there was any
  std::optional<std::int64_t> residue;   // signed INFORMATION, when VALID
  bool filemark = false;                 // FM bit
  bool eom = false;                      // EOM bit
  bool ili = false;                      // ILI bit
};

Condition classify_sense(const scsi::SenseData& sense);
Condition classify(scsi::Status status, std::span<const std::byte> sense_bytes);

// How one READ(6) ended, from the caller's side, and how far it moved the medium.
struct ReadAccount {
  Record record;
  std::uint64_t objects = 0;  // logical objects passed (records and marks)
  std::int64_t files = 0;     // filemarks passed
  std::uint64_t sets = 0;     // setmarks passed
};

// Accounts a READ(6) of `requested` bytes (variable mode, block_size 0) or requested /
// block_size blocks (fixed mode) that returned `data_in` bytes and `c`. nullopt when the
// condition is an error (not a read status); the position is then unknown.
std::optional<ReadAccount> account_read(const Condition& c, std::size_t requested,
                                        std::uint32_t block_size, std::size_t data_in);

}  // namespace uiscsi::tape::detail
