// FileStore: a BlockStore over a regular file or block device (see block_store.hpp).
//
// Plain mode: pread/pwrite straight into the caller's buffers. Durable writes (FUA, or the write
// cache disabled) use pwritev2(RWF_DSYNC) where the kernel has it, else pwrite + fdatasync.
// O_DIRECT mode: every transfer goes through a bounce buffer aligned to direct_alignment covering
// the aligned byte range; a write that does not cover whole aligned chunks reads them first
// (read-modify-write). RMW writes and discards take rmw_mutex_ exclusively and aligned writes
// share it, so an RMW never resurrects bytes another write or a punch just changed.
// Discard punches holes (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE) when a probe at open time
// shows the file system supports it; provisioning() then reads the holes back through
// SEEK_DATA / SEEK_HOLE. Without hole punching every block reports mapped.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "target/block_store.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::target {
namespace {

std::error_code os_error(int e) {
  return {e, std::system_category()};
}
std::error_code last_os_error() {
  return os_error(errno);
}

std::uint64_t round_up(std::uint64_t n, std::uint64_t to) {
  return (n + to - 1) / to * to;
}

// Reads exactly buf.size() bytes at `offset`; bytes past the end of the file read as zeros.
Result<void> pread_full(int fd, std::span<std::byte> buf, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < buf.size()) {
    const ssize_t n =
        ::pread(fd, buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_os_error();
    }
    if (n == 0) {  // end of file
      std::memset(buf.data() + done, 0, buf.size() - done);
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  return ok();
}

// Writes all of `data` at `offset`; with dsync the data is on stable storage on return.
Result<void> pwrite_full(int fd, std::span<const std::byte> data, std::uint64_t offset, bool dsync,
                         std::atomic<bool>& pwritev2_works) {
  bool sync_after = false;
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = -1;
#ifdef RWF_DSYNC
    if (dsync && pwritev2_works.load(std::memory_order_relaxed)) {
      iovec iov{const_cast<std::byte*>(data.data() + done), data.size() - done};
      n = ::pwritev2(fd, &iov, 1, static_cast<off_t>(offset + done), RWF_DSYNC);
      if (n < 0 && (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL)) {
        pwritev2_works.store(false, std::memory_order_relaxed);
        continue;
      }
    } else
#endif
    {
      n = ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
      sync_after = dsync;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_os_error();
    }
    done += static_cast<std::size_t>(n);
  }
  if (sync_after && ::fdatasync(fd) != 0) return last_os_error();
  return ok();
}

// A heap buffer aligned for O_DIRECT.
class AlignedBuffer {
 public:
  AlignedBuffer(std::size_t alignment, std::size_t size)
      : data_(static_cast<std::byte*>(std::aligned_alloc(alignment, size))), size_(size) {}
  ~AlignedBuffer() { std::free(data_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  [[nodiscard]] bool valid() const { return data_ != nullptr; }
  [[nodiscard]] std::span<std::byte> span() { return {data_, size_}; }

 private:
  std::byte* data_;
  std::size_t size_;
};

struct FileParams {
  int fd = -1;
  std::uint32_t block_size = 512;
  std::uint64_t blocks = 0;
  bool regular = true;
  bool read_only = false;
  bool direct = false;
  std::uint32_t alignment = 4096;
  bool use_fsync = false;
  bool discard = false;
};

class FileStore final : public BlockStore {
 public:
  explicit FileStore(const FileParams& p)
      : fd_(p.fd),
        block_size_(p.block_size),
        blocks_(p.blocks),
        regular_(p.regular),
        read_only_(p.read_only),
        direct_(p.direct),
        alignment_(p.alignment),
        use_fsync_(p.use_fsync),
        discard_(p.discard) {}
  ~FileStore() override { ::close(fd_); }
  FileStore(const FileStore&) = delete;
  FileStore& operator=(const FileStore&) = delete;

  [[nodiscard]] std::uint32_t block_size() const override { return block_size_; }
  [[nodiscard]] std::uint64_t block_count() const override {
    return blocks_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] bool blocking() const override { return true; }
  [[nodiscard]] bool read_only() const override { return read_only_; }
  [[nodiscard]] bool supports_discard() const override { return discard_; }

  Result<void> read(std::uint64_t lba, std::span<std::byte> out) override {
    const std::uint64_t offset = lba * block_size_;
    if (!direct_) return pread_full(fd_, out, offset);
    const std::uint64_t a0 = offset / alignment_ * alignment_;
    const std::uint64_t a1 = round_up(offset + out.size(), alignment_);
    AlignedBuffer bounce(alignment_, static_cast<std::size_t>(a1 - a0));
    if (!bounce.valid()) return os_error(ENOMEM);
    UISCSI_TRY_VOID(pread_full(fd_, bounce.span(), a0));
    std::memcpy(out.data(), bounce.span().data() + (offset - a0), out.size());
    return ok();
  }

  Result<void> write(std::uint64_t lba, std::span<const std::byte> data, bool durable) override {
    if (read_only_) return os_error(EROFS);
    const std::uint64_t offset = lba * block_size_;
    if (!direct_) return pwrite_full(fd_, data, offset, durable, pwritev2_works_);
    const std::uint64_t a0 = offset / alignment_ * alignment_;
    const std::uint64_t a1 = round_up(offset + data.size(), alignment_);
    AlignedBuffer bounce(alignment_, static_cast<std::size_t>(a1 - a0));
    if (!bounce.valid()) return os_error(ENOMEM);
    const bool aligned = a0 == offset && a1 == offset + data.size();
    if (aligned) {
      std::shared_lock lock(rmw_mutex_);
      std::memcpy(bounce.span().data(), data.data(), data.size());
      return pwrite_full(fd_, bounce.span(), a0, durable, pwritev2_works_);
    }
    std::unique_lock lock(rmw_mutex_);
    UISCSI_TRY_VOID(pread_full(fd_, bounce.span(), a0));
    std::memcpy(bounce.span().data() + (offset - a0), data.data(), data.size());
    return pwrite_full(fd_, bounce.span(), a0, durable, pwritev2_works_);
  }

  Result<void> flush() override {
    if (read_only_) return ok();
    const int rc = use_fsync_ ? ::fsync(fd_) : ::fdatasync(fd_);
    if (rc != 0) return last_os_error();
    return ok();
  }

  Result<void> discard(std::uint64_t lba, std::uint64_t blocks) override {
    if (!discard_) return errc::unsupported;
    std::unique_lock lock(rmw_mutex_, std::defer_lock);
    if (direct_) lock.lock();
    const int rc = ::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                               static_cast<off_t>(lba * block_size_),
                               static_cast<off_t>(blocks * block_size_));
    if (rc != 0) return last_os_error();
    return ok();
  }

  Result<ProvisioningExtent> provisioning(std::uint64_t lba, std::uint64_t max_blocks) override {
    const std::uint64_t left = std::min(block_count() - lba, max_blocks);
    if (!discard_) return ProvisioningExtent{true, left};
    const std::uint64_t offset = lba * block_size_;
    const std::uint64_t end = offset + left * block_size_;
    const off_t data = ::lseek(fd_, static_cast<off_t>(offset), SEEK_DATA);
    if (data < 0 && errno == ENXIO) return ProvisioningExtent{false, left};  // hole to EOF
    if (data < 0) return ProvisioningExtent{true, left};  // no SEEK_DATA: assume mapped
    const auto data_at = static_cast<std::uint64_t>(data);
    if (data_at >= offset + block_size_) {
      // A hole covering at least this whole block; it ends at the block holding data_at.
      const std::uint64_t hole_blocks = (std::min(data_at, end) - offset) / block_size_;
      return ProvisioningExtent{false, std::max<std::uint64_t>(hole_blocks, 1)};
    }
    // Data within this block: mapped up to the next hole, rounded up to whole blocks.
    const off_t hole = ::lseek(fd_, static_cast<off_t>(data_at), SEEK_HOLE);
    if (hole < 0) return ProvisioningExtent{true, left};
    const std::uint64_t mapped_end =
        std::min(round_up(static_cast<std::uint64_t>(hole), block_size_), end);
    return ProvisioningExtent{true,
                              std::max<std::uint64_t>((mapped_end - offset) / block_size_, 1)};
  }

  Result<void> resize(std::uint64_t block_count) override {
    if (block_count == 0) return errc::invalid_argument;
    if (!regular_ || read_only_) return errc::unsupported;
    std::uint64_t bytes = block_count * block_size_;
    if (direct_) bytes = round_up(bytes, alignment_);
    if (::ftruncate(fd_, static_cast<off_t>(bytes)) != 0) return last_os_error();
    blocks_.store(block_count, std::memory_order_relaxed);
    return ok();
  }

 private:
  int fd_;
  std::uint32_t block_size_;
  std::atomic<std::uint64_t> blocks_;
  bool regular_;
  bool read_only_;
  bool direct_;
  std::uint32_t alignment_;
  bool use_fsync_;
  bool discard_;
  std::atomic<bool> pwritev2_works_{true};
  std::shared_mutex rmw_mutex_;
};

// Closes the descriptor unless released (for the error paths of open_file_store).
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Whether hole punching works on this file: punch one chunk past the end of the file, which
// changes nothing (KEEP_SIZE) but fails with EOPNOTSUPP where the file system lacks support.
bool probe_punch_hole(int fd, std::uint64_t file_bytes, std::uint32_t chunk) {
  const std::uint64_t at = round_up(file_bytes, chunk);
  return ::fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(at),
                     static_cast<off_t>(chunk)) == 0;
}

}  // namespace

Result<std::unique_ptr<BlockStore>> open_file_store(const FileStoreOptions& o) {
  if (!valid_block_size(o.block_size) || o.path.empty()) return errc::invalid_argument;
  if (o.direct && (o.direct_alignment < 512 || o.direct_alignment > (1u << 20) ||
                   (o.direct_alignment & (o.direct_alignment - 1)) != 0)) {
    return errc::invalid_argument;
  }
  int flags = O_CLOEXEC | (o.read_only ? O_RDONLY : O_RDWR);
  if (o.create && !o.read_only) flags |= O_CREAT;
  if (o.direct) flags |= O_DIRECT;
  const int fd = ::open(o.path.c_str(), flags, 0644);
  if (fd < 0) return last_os_error();
  FdGuard guard(fd);

  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_os_error();
  const bool regular = S_ISREG(st.st_mode);
  std::uint64_t current = 0;
  if (regular) {
    current = static_cast<std::uint64_t>(st.st_size);
  } else if (S_ISBLK(st.st_mode)) {
    if (::ioctl(fd, BLKGETSIZE64, &current) != 0) return last_os_error();
  } else {
    return errc::invalid_argument;
  }

  const std::uint64_t wanted = o.size_bytes != 0 ? o.size_bytes : current;
  const std::uint64_t blocks = wanted / o.block_size;
  if (blocks == 0) return errc::invalid_argument;
  std::uint64_t file_bytes = blocks * o.block_size;
  if (o.direct) file_bytes = round_up(file_bytes, o.direct_alignment);
  if (regular && file_bytes > current) {
    if (o.read_only) return errc::invalid_argument;
    if (::ftruncate(fd, static_cast<off_t>(file_bytes)) != 0) return last_os_error();
  } else if (!regular && blocks * o.block_size > current) {
    return errc::invalid_argument;
  }

  FileParams p;
  p.block_size = o.block_size;
  p.blocks = blocks;
  p.regular = regular;
  p.read_only = o.read_only;
  p.direct = o.direct;
  p.alignment = o.direct_alignment;
  p.use_fsync = o.use_fsync;
  p.discard = o.allow_discard && !o.read_only && regular &&
              probe_punch_hole(fd, std::max(file_bytes, current), 4096);
  p.fd = guard.release();
  return std::unique_ptr<BlockStore>(std::make_unique<FileStore>(p));
}

}  // namespace uiscsi::target
