// uiscsi::tape::Drive: an SSC-3 tape drive behind an iSCSI session, with methods named for what
// a tape user does (read, write, write_filemarks, rewind, space, locate, position...).
//
//   auto s = uiscsi::Session::dial("iscsi://127.0.0.1:3260/iqn.x:tape");
//   auto d = uiscsi::tape::Drive::open(*s, *uiscsi::Lun::from_number(1), {.read_ahead = 4});
//   std::vector<std::byte> buf(262144);
//   for (;;) {
//     auto r = d->read(buf);
//     if (!r) { std::cerr << d->last_error()->message() << "\n"; break; }
//     if (r->status == uiscsi::tape::ReadStatus::filemark) break;   // end of this file
//     consume(std::span(buf).first(r->bytes));
//   }
//
// Errors: every operation returns Result<T>. Its error_code is a tape_errc (tape/errors.hpp)
// for a SCSI condition or a driver-side check, or the initiator's code when the command's fate
// is unknown (connection lost, timeout). last_error() then holds the details: the sense data,
// the signed residue, the logical block (and file) where it happened and, for write-behind,
// which record failed.
//
// Position: the driver tracks the caller's logical position (logical object number, partition
// and file number) exactly, including while READs are prefetched or WRITEs are buffered; every
// operation other than read()/write() first flushes buffered writes and settles prefetched
// reads (see read()).
//
// Threads: a Drive is not thread-safe; use it from one thread at a time. Movable.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "uiscsi/export.hpp"
#include "uiscsi/lun.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/tape/errors.hpp"
#include "uiscsi/tape/transport.hpp"

namespace uiscsi {
class Session;
}

namespace uiscsi::tape {

struct UISCSI_API DriveOptions {
  // open(): TEST UNIT READY is repeated while the drive answers UNIT ATTENTION or NOT READY,
  // at most `ready_attempts` times and for at most `ready_timeout`, waiting `ready_interval`
  // after NOT READY (a unit attention is retried at once).
  int ready_attempts = 30;
  std::chrono::milliseconds ready_interval{1000};
  std::chrono::milliseconds ready_timeout{60000};
  // open() selects this block size (0: variable mode) when given; otherwise the drive's
  // current one is kept.
  std::optional<std::uint32_t> block_size;
  // Variable-mode READs set SILI: a record shorter than the buffer is no incorrect-length
  // condition (ReadStatus::data with fewer bytes).
  bool sili = false;
  // READs kept in flight ahead of the caller; 0 turns read-ahead off.
  unsigned read_ahead = 0;
  // Write-behind: write() copies the record and returns before the WRITE completes, with at
  // most this many bytes buffered; 0 turns write-behind off (each write() waits).
  std::size_t write_behind_bytes = 0;
  // Per-command timeout for the session transport (0: the session's default).
  std::chrono::milliseconds command_timeout{0};
};

struct UISCSI_API DriveInfo {
  scsi::InquiryData inquiry;
  scsi::BlockLimits limits;
};

// The current mode (MODE SENSE header and block descriptor, SSC-3 8.3.3).
struct UISCSI_API MediumState {
  std::uint32_t block_size = 0;  // 0: variable mode
  std::uint8_t density_code = 0;
  bool write_protected = false;
  std::uint8_t buffered_mode = 0;  // BUFFERED MODE field (bits 6-4 of device-specific)
};

// What one read() met (SSC-3 READ(6)).
enum class ReadStatus : std::uint8_t {
  data,               // a record (variable) or the requested blocks (fixed)
  filemark,           // a filemark: the position is now after it (bytes: fixed-mode blocks
                      // read before it)
  setmark,            // a setmark (reported only when the drive is asked to, RSMK)
  end_of_data,        // BLANK CHECK: nothing more is recorded; the position did not move
  short_record,       // ILI: the record was shorter than the buffer; residue > 0
  long_record,        // ILI: the record was longer; `bytes` are its first bytes, residue < 0
  wrong_block_length  // ILI in fixed mode: a record of another length than the block size was
                      // passed; residue counts the blocks not read
};

struct UISCSI_API Record {
  ReadStatus status = ReadStatus::data;
  std::size_t bytes = 0;       // bytes placed at the start of the caller's buffer
  std::int64_t residue = 0;    // INFORMATION: requested - actual (bytes or blocks), signed
  bool early_warning = false;  // EOM was set: the position is in the early-warning zone
};

struct UISCSI_API WriteStatus {
  // EOM early warning (SSC-3 4.2.5): the data was written, but the end of the partition is
  // near; write what must be written (e.g. a filemark) and stop.
  bool early_warning = false;
};

enum class SpaceUnit : std::uint8_t {
  blocks,
  filemarks,
  sequential_filemarks,
  setmarks,
  end_of_data,
};

struct UISCSI_API Position {
  std::uint32_t partition = 0;
  std::uint64_t block = 0;            // logical object number (records and marks before it)
  std::optional<std::uint64_t> file;  // filemarks before it, when known
  bool bop = false;                   // beginning of partition
  bool eop = false;                   // end of partition (early warning zone)
  bool bpew = false;                  // beyond programmable early warning
};

class UISCSI_API Drive {
 public:
  // Opens the tape drive at `lun` of `session` (which must outlive the Drive): waits until it
  // is ready, checks it is a sequential-access device (else tape_errc::not_a_tape), reads READ
  // BLOCK LIMITS, the mode (MODE SENSE) and the position (READ POSITION).
  static Result<Drive> open(Session& session, Lun lun, DriveOptions options = {});
  // The same over any Transport.
  static Result<Drive> open(std::unique_ptr<Transport> transport, DriveOptions options = {});

  Drive(Drive&&) noexcept;
  Drive& operator=(Drive&&) noexcept;
  // Flushes buffered writes (errors are lost: call flush() first to see them).
  ~Drive();

  [[nodiscard]] const DriveInfo& info() const;
  // The mode as last read or set.
  [[nodiscard]] const MediumState& medium() const;
  [[nodiscard]] const DriveOptions& options() const;
  // Details of the last failure; empty until something failed.
  [[nodiscard]] const std::optional<TapeError>& last_error() const;

  // ---- data ----
  // Reads one record (variable mode: into `buffer`, at most buffer.size() bytes) or
  // buffer.size() / block_size blocks (fixed mode; the size must be a whole number of blocks,
  // else invalid_block_size). Filemarks, end of data and length mismatches are statuses of
  // the Record, not errors.
  //
  // Read-ahead (options.read_ahead > 0) keeps READs of the same size in flight and hands their
  // results out strictly in order, so the caller sees exactly what unbuffered reads would
  // return. How the position stays exact is explained in src/tape/drive_read.cpp.
  Result<Record> read(std::span<std::byte> buffer);
  // Writes one record (variable mode) or buffer.size() / block_size blocks (fixed mode; the
  // size must be a whole number of blocks: pad a short last block yourself). With
  // write-behind, a failure shows up at a later write() or flush() with last_error()->record
  // naming the record that failed.
  Result<WriteStatus> write(std::span<const std::byte> data);
  Result<WriteStatus> write_filemarks(std::uint32_t count = 1);
  Result<WriteStatus> write_setmarks(std::uint32_t count = 1);
  // Waits for every buffered write; reports the first failure or early warning.
  Result<WriteStatus> flush();

  // ---- positioning ----
  Result<void> rewind();
  // SPACE(6), or SPACE(16) when count does not fit 24 bits; negative counts move towards BOP.
  // Stopping early (a filemark, BOP, end of data) is an error (filemark, beginning_of_partition,
  // end_of_data) whose last_error()->residue says how much was not spaced.
  Result<void> space(SpaceUnit unit, std::int64_t count);
  // LOCATE(10), or LOCATE(16) for blocks past 32 bits, to logical object `block`, in
  // `partition` when given.
  Result<void> locate(std::uint64_t block, std::optional<std::uint32_t> partition = {});
  // READ POSITION (long form when the drive has it, else short form). The file number comes
  // from the long form, else from the driver's own count.
  Result<Position> position();

  // ---- medium ----
  Result<void> erase(bool long_erase = false);
  Result<void> load();
  Result<void> unload();
  Result<void> lock();    // PREVENT ALLOW MEDIUM REMOVAL: prevent
  Result<void> unlock();  // allow

  // ---- mode (read-modify-write: only the named field changes) ----
  // 0 selects variable mode; otherwise within READ BLOCK LIMITS.
  Result<void> set_block_size(std::uint32_t bytes);
  // DCE (and DDE when given) of the data compression page 0Fh.
  Result<void> set_compression(bool enable, std::optional<bool> decompress = std::nullopt);
  Result<scsi::DataCompressionPage> compression();
  Result<MediumState> refresh_medium_state();

  // ---- information ----
  // REPORT DENSITY SUPPORT: what the drive supports, or (media) what the loaded medium does.
  Result<std::vector<scsi::DensityDescriptor>> densities(bool media = false);
  // TapeAlert flags set (LOG SENSE page 2Eh; reading clears them on most drives).
  Result<std::vector<std::uint8_t>> tape_alerts();

 private:
  struct UISCSI_LOCAL Impl;
  explicit Drive(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Name of a density code: "LTO-1".."LTO-9", "LTO-7M8", "DDS".."DDS-4", "DAT-72", "DAT-160",
// "DAT-320" and other common codes; "unknown" otherwise.
UISCSI_API std::string_view density_name(std::uint8_t code) noexcept;

}  // namespace uiscsi::tape
