// Drive::Impl: the tape driver's state and helpers (internal to src/tape).
//
// Files: drive.cpp (Drive's forwarding methods, command helpers), drive_open.cpp (open, mode
// pages, information), drive_read.cpp (read, read-ahead), drive_write.cpp (write,
// write-behind, marks), drive_position.cpp (rewind, space, locate, position, load...).
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <vector>

#include "tape/sense_map.hpp"
#include "uiscsi/tape/drive.hpp"

namespace uiscsi::tape {

struct Drive::Impl {
  // Waits for every command still in flight (without settling the position: Drive's destructor
  // does that first), so that no transport writes into a slot or buffer freed here.
  ~Impl();

  std::unique_ptr<Transport> transport;  // declared first: destroyed after the slots below
  DriveOptions options;
  DriveInfo info;
  MediumState medium;
  std::optional<TapeError> last_error;

  // The caller's logical position: what it has read or written so far, not where prefetched
  // READs have moved the medium. block is nullopt when it is not known (after an error).
  std::optional<std::uint64_t> block;
  std::optional<std::uint64_t> file;
  std::uint32_t partition = 0;
  bool long_position = true;        // READ POSITION long form (06h) works; cleared when refused
  bool locate_unsupported = false;  // LOCATE answered INVALID COMMAND OPERATION CODE (20/00)

  // ---- read-ahead (drive_read.cpp) ----
  // One READ in flight. Heap-allocated so that its completion slot keeps its address while
  // the deque moves pointers around; recycled through spare_reads (buffer and slot reused).
  struct PrefetchedRead {
    std::vector<std::byte> buffer;
    PendingExchange result;
    std::size_t requested = 0;  // bytes asked for
  };
  std::deque<std::unique_ptr<PrefetchedRead>> prefetched;
  std::vector<std::unique_ptr<PrefetchedRead>> spare_reads;  // reused for later READs

  // ---- write-behind (drive_write.cpp) ----
  // One WRITE in flight, with its own copy of the record. Heap-allocated and recycled through
  // spare_writes like PrefetchedRead, so a record costs a copy into a reused buffer only.
  struct BufferedWrite {
    std::vector<std::byte> data;
    PendingExchange result;
    std::uint64_t record = 0;            // write() sequence number
    std::optional<std::uint64_t> block;  // where it goes
    std::optional<std::uint64_t> file;
  };
  std::deque<std::unique_ptr<BufferedWrite>> buffered;
  std::vector<std::unique_ptr<BufferedWrite>> spare_writes;
  std::size_t spare_write_bytes = 0;  // capacity held by spare_writes' buffers
  std::size_t buffered_bytes = 0;
  std::uint64_t next_record = 0;
  bool early_warning_pending = false;  // seen on a buffered write, not yet reported

  // ---- command helpers (drive.cpp) ----
  // Runs one command and classifies its outcome. A transport failure is an error (recorded
  // in last_error); a SCSI condition is not: it is in the Condition.
  Result<detail::Condition> command(const char* op, const scsi::CommandSpec& spec,
                                    std::span<std::byte> data_in = {},
                                    std::span<const std::byte> data_out = {});
  // Runs a command that must complete without any condition.
  Result<void> simple(const char* op, const scsi::CommandSpec& spec,
                      std::span<std::byte> data_in = {}, std::span<const std::byte> data_out = {});
  // Records `c` in last_error (with the current position) and returns its code.
  std::error_code fail(const char* op, const detail::Condition& c);
  std::error_code fail(const char* op, std::error_code code);
  // Makes the medium position equal to the caller's: flushes buffered writes and settles
  // prefetched reads. Every operation but read() and write() calls it first.
  Result<void> settle();

  // ---- drive_read.cpp ----
  Result<Record> read(std::span<std::byte> buffer);
  Result<Record> read_direct(std::span<std::byte> buffer);
  Result<Record> read_ahead(std::span<std::byte> buffer);
  Result<Record> finish_read(const Result<Exchange>& e, std::size_t requested,
                             std::span<const std::byte> data, std::span<std::byte> out);
  Result<scsi::CommandSpec> read_spec(std::size_t bytes) const;
  void issue_prefetch(std::size_t bytes);
  void top_up(std::size_t bytes);
  // Returns a delivered or cancelled READ's slot to spare_reads. Precondition: completed.
  void recycle_read(std::unique_ptr<PrefetchedRead> p);
  Result<void> cancel_read_ahead();
  Result<void> space_back(const std::vector<detail::ReadAccount>& passed);
  // After a failed READ: the position is READ POSITION minus what `later_objects` (READs
  // that ran after the failed one) moved; nullopt later_objects: unknown. Keeps last_error.
  void reposition_after_error(std::optional<std::uint64_t> later_objects, std::int64_t later_files);

  // ---- drive_write.cpp ----
  Result<WriteStatus> write(std::span<const std::byte> data);
  Result<WriteStatus> flush();
  Result<WriteStatus> write_marks(std::uint32_t count, bool setmarks);
  Result<scsi::CommandSpec> write_spec(std::size_t bytes) const;
  std::uint64_t objects_of(std::size_t bytes) const;  // records a WRITE of `bytes` makes
  Result<void> reap_write(BufferedWrite& w, WriteStatus& status);
  // Returns a reaped WRITE's slot to spare_writes (keeping its buffer while the spares' buffers
  // stay within write_behind_bytes).
  void recycle_write(std::unique_ptr<BufferedWrite> w);

  // ---- drive_position.cpp ----
  Result<void> refresh_position();
  Result<void> locate_to(std::uint64_t target_block, std::optional<std::uint32_t> part);

  // ---- drive_open.cpp ----
  Result<void> wait_ready();
  Result<scsi::ModeParameters> mode_sense(std::uint8_t page);
  Result<void> mode_select(const scsi::ModeParameters& m);
  Result<MediumState> refresh_medium_state();
};

}  // namespace uiscsi::tape
