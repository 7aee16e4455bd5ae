// Errors of the tape driver (uiscsi::tape): one std::error_code per SSC-3 condition, plus a
// TapeError record that keeps the details an error_code cannot hold (the sense data, the signed
// residue and where on the tape it happened).
//
// Conditions that are a normal part of reading (a filemark, end of data, a record of another
// length) are not errors of Drive::read(): they come back as a ReadStatus. The same conditions
// are errors when they stop another operation early (SPACE stopped by a filemark, LOCATE past
// end of data), and then carry the residue.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

#include "uiscsi/export.hpp"
#include "uiscsi/scsi/sense.hpp"

namespace uiscsi::tape {

enum class tape_errc {
  // ---- stream conditions (SSC-3 4.2, sense key NO SENSE / RECOVERED ERROR with FM/EOM/ILI) ----
  filemark = 1,            // FM = 1, 00/01: a filemark was met
  setmark,                 // FM = 1, 00/03: a setmark was met
  incorrect_length_short,  // ILI = 1, INFORMATION > 0: the record was shorter than requested
  incorrect_length_long,   // ILI = 1, INFORMATION < 0: the record was longer than requested
  early_warning,           // EOM = 1 with NO SENSE: early warning; a write's data WAS written
  beginning_of_partition,  // EOM = 1, 00/04: BOP reached while moving towards it
  end_of_data,             // BLANK CHECK (08h): end of data (00/05) or blank medium
  volume_overflow,         // VOLUME OVERFLOW (0Dh): the hard end; the data was NOT written
  // ---- failures reported by the device ----
  deferred_error,   // response code 71h/73h: an earlier buffered command failed
  unit_attention,   // UNIT ATTENTION (06h): reset, medium change, mode change...
  not_ready,        // NOT READY (02h): becoming ready, initializing command required...
  no_medium,        // NOT READY, 3A/xx MEDIUM NOT PRESENT: no cartridge loaded (not retried)
  write_protected,  // DATA PROTECT (07h)
  medium_error,     // MEDIUM ERROR (03h)
  hardware_error,   // HARDWARE ERROR (04h)
  illegal_request,  // ILLEGAL REQUEST (05h)
  aborted_command,  // ABORTED COMMAND (0Bh)
  other_sense,      // any other sense key (or RECOVERED ERROR with a condition we keep)
  no_sense_data,    // CHECK CONDITION without usable sense data
  busy,             // BUSY or TASK SET FULL status
  reservation_conflict,
  unexpected_status,  // any other SCSI status
  // ---- driver-side ----
  not_a_tape,            // INQUIRY: peripheral device type is not 01h
  not_ready_timeout,     // open(): TEST UNIT READY did not succeed within the bounds
  position_lost,         // the logical position could not be re-established
  invalid_block_size,    // a fixed-mode transfer that is not a whole number of blocks, or a size
                         // outside READ BLOCK LIMITS
  write_failed_earlier,  // write-behind: an earlier buffered write failed (see last_error())
  // ---- media changer (uiscsi::tape::Changer, SMC-3) ----
  not_a_changer,      // INQUIRY: peripheral device type is not 08h
  invalid_element,    // ILLEGAL REQUEST 21/01 INVALID ELEMENT ADDRESS
  source_empty,       // ILLEGAL REQUEST 3B/0E MEDIUM SOURCE ELEMENT EMPTY
  destination_full,   // ILLEGAL REQUEST 3B/0D MEDIUM DESTINATION ELEMENT FULL
  removal_prevented,  // 53/02 MEDIUM REMOVAL PREVENTED, 53/03 ... BY DATA TRANSFER ELEMENT
  no_such_element,    // driver-side: a slot or drive index outside the element map
  no_empty_slot,      // driver-side: unload found no empty storage element to put the cartridge
};

UISCSI_API const std::error_category& tape_category() noexcept;
UISCSI_API std::error_code make_error_code(tape_errc e) noexcept;

// Details of the last failure of a Drive operation.
struct UISCSI_API TapeError {
  std::error_code code;                  // tape_errc, or an initiator error (transport, timeout)
  std::string operation;                 // the command that failed: "READ(6)", "SPACE(6)", ...
  std::optional<scsi::SenseData> sense;  // as returned with CHECK CONDITION
  // INFORMATION as a signed residue (requested - actual: bytes, blocks, marks or objects,
  // depending on the command), when the device gave one.
  std::optional<std::int64_t> residue;
  // The logical object number (READ POSITION's block number) where the failing command
  // started, when known; for write-behind, where the failed record was to be written.
  std::optional<std::uint64_t> block;
  std::optional<std::uint64_t> file;  // file number at that point, when known
  // Write-behind: the sequence number (0-based, counting write() calls since open) of the
  // record whose WRITE failed.
  std::optional<std::uint64_t> record;

  // One line, e.g. "tape: WRITE(6): volume overflow at block 1234 (record 17), residue 65536
  // (VOLUME OVERFLOW: end-of-partition/medium detected (asc 0x00, ascq 0x02))".
  [[nodiscard]] std::string message() const;
};

}  // namespace uiscsi::tape

template <>
struct std::is_error_code_enum<uiscsi::tape::tape_errc> : std::true_type {};
