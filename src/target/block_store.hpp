// BlockStore: the medium behind a disk logical unit (DiskLu), addressed in logical blocks.
//
// Three backends:
//   * make_ram_store: memory. The whole capacity is reserved at once as one anonymous private
//     mapping (MAP_NORESERVE), so creating even a large store is instant; the kernel backs a page
//     with memory on its first write, reads of untouched pages see zeros, and discard() hands
//     whole pages back with MADV_DONTNEED. Tracks which blocks are mapped (written and not
//     discarded since) for GET LBA STATUS.
//   * open_file_store: a regular file or block device, pread/pwrite, optionally O_DIRECT through
//     aligned bounce buffers; discard() punches holes (FALLOC_FL_PUNCH_HOLE) where the file system
//     supports it, and provisioning() then reports holes through SEEK_DATA / SEEK_HOLE.
//   * make_null_store: reads return zeros and writes are dropped (benchmarks).
//
// Errors are values: OS failures come back as std::error_code in the system category (errno),
// misuse as uiscsi::errc::invalid_argument. Stores never throw.
//
// Thread safety: every member may be called concurrently from several threads, except resize(),
// which the caller must serialize against all other calls (DiskLu holds its I/O lock
// exclusively). Concurrent writes to overlapping blocks leave one of the versions per block, as
// on a real disk; a read concurrent with a write to the same blocks may see either.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "uiscsi/result.hpp"

namespace uiscsi::target {

// A run of blocks that share one provisioning state (SBC-3 4.7.1: mapped or deallocated).
struct ProvisioningExtent {
  bool mapped = true;
  std::uint64_t blocks = 0;  // at least 1
};

class BlockStore {
 public:
  virtual ~BlockStore() = default;

  [[nodiscard]] virtual std::uint32_t block_size() const = 0;
  [[nodiscard]] virtual std::uint64_t block_count() const = 0;
  // True when calls may block on I/O (files): the LU then asks for a worker thread.
  [[nodiscard]] virtual bool blocking() const { return false; }
  // True when the medium cannot be written (a file opened read-only).
  [[nodiscard]] virtual bool read_only() const { return false; }
  // True when discard() deallocates blocks so that they read back as zeros (LBPRZ).
  [[nodiscard]] virtual bool supports_discard() const = 0;

  // Reads out.size() bytes (whole blocks) starting at block `lba`.
  // Precondition: the range lies inside the store.
  virtual Result<void> read(std::uint64_t lba, std::span<std::byte> out) = 0;
  // Appends `blocks` blocks starting at `lba` to `out`. The default grows `out` (zero-filling)
  // and calls read(); memory-backed stores override it to copy once, straight from the medium.
  virtual Result<void> read_append(std::uint64_t lba, std::uint64_t blocks,
                                   std::vector<std::byte>& out);
  // Writes data (whole blocks) at `lba`. durable: the data must be on stable storage when this
  // returns (FUA, or the write cache disabled). Precondition: the range lies inside the store.
  virtual Result<void> write(std::uint64_t lba, std::span<const std::byte> data, bool durable) = 0;
  // Makes every completed write durable (SYNCHRONIZE CACHE).
  virtual Result<void> flush() = 0;
  // Deallocates [lba, lba + blocks): those blocks read as zeros afterwards.
  // errc::unsupported when !supports_discard().
  virtual Result<void> discard(std::uint64_t lba, std::uint64_t blocks) = 0;
  // The provisioning state of block `lba` and how many blocks from it share that state, at most
  // max_blocks (max_blocks >= 1). Stores that do not track allocation report mapped.
  virtual Result<ProvisioningExtent> provisioning(std::uint64_t lba, std::uint64_t max_blocks) = 0;
  // Changes the capacity to `block_count` blocks (>= 1); added blocks read as zeros.
  virtual Result<void> resize(std::uint64_t block_count) = 0;
};

// True for the logical block sizes the stores accept: 512, 1024, 2048 and 4096 bytes.
bool valid_block_size(std::uint32_t block_size);

// errc::invalid_argument for a bad block size or a zero block count; the mmap errno when the
// address space cannot be reserved.
Result<std::unique_ptr<BlockStore>> make_ram_store(std::uint32_t block_size,
                                                   std::uint64_t block_count);

// errc::invalid_argument for a bad block size or a zero block count.
Result<std::unique_ptr<BlockStore>> make_null_store(std::uint32_t block_size,
                                                    std::uint64_t block_count);

struct FileStoreOptions {
  std::string path;
  std::uint32_t block_size = 512;
  // Capacity in bytes (whole blocks are used). 0: the current size of the file or device. A
  // regular file that is smaller is extended (sparse) to this size; it is never shrunk.
  std::uint64_t size_bytes = 0;
  bool create = true;      // create the file if it does not exist (not with read_only)
  bool read_only = false;  // open O_RDONLY; the LU then reports write protection
  // O_DIRECT: I/O goes through bounce buffers aligned to direct_alignment; writes that do not
  // cover whole aligned chunks read-modify-write them under a lock. A regular file is rounded up
  // to a multiple of the alignment.
  bool direct = false;
  std::uint32_t direct_alignment = 4096;
  bool use_fsync = false;     // flush() with fsync instead of fdatasync
  bool allow_discard = true;  // punch holes for discard() when the file system supports it
};

// Opens (and creates or extends) the file. Errors: the errno of open/fstat/ftruncate,
// errc::invalid_argument for a bad block size or alignment, a capacity below one block, or a
// path that is neither a regular file nor a block device.
Result<std::unique_ptr<BlockStore>> open_file_store(const FileStoreOptions& options);

}  // namespace uiscsi::target
