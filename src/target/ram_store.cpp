// RamStore: a BlockStore in memory (see block_store.hpp for the allocation model).
//
// The data lives in one anonymous private mapping reserved at creation (MAP_NORESERVE), so the
// kernel commits pages lazily on first write and untouched pages read as zeros. A bitmap (one
// atomic bit per block) records which blocks are mapped for GET LBA STATUS: write() sets bits,
// discard() clears them and returns whole pages to the kernel (MADV_DONTNEED), zeroing partial
// pages in place.
//
// Locking: the byte range is split into 1 MiB regions, each guarded by one of 64 striped
// shared_mutexes (reads shared, writes and discards exclusive), so copies never race in the C++
// memory-model sense while unrelated I/O proceeds in parallel. Multi-region requests take the
// region locks one at a time, never two at once.
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <shared_mutex>

#include "target/block_store.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::target {
namespace {

constexpr unsigned kRegionShift = 20;  // 1 MiB lock regions
constexpr std::size_t kStripes = 64;

std::error_code last_os_error() {
  return {errno, std::system_category()};
}

std::size_t page_size() {
  static const std::size_t size = [] {
    const long v = ::sysconf(_SC_PAGESIZE);
    return v > 0 ? static_cast<std::size_t>(v) : std::size_t{4096};
  }();
  return size;
}

std::size_t round_up(std::size_t n, std::size_t to) {
  return (n + to - 1) / to * to;
}

// One bit per block, 1 = mapped. Words are atomics so concurrent writers to neighbouring blocks
// never lose each other's updates.
class BlockBitmap {
 public:
  explicit BlockBitmap(std::uint64_t blocks) { reset(blocks); }

  void reset(std::uint64_t blocks) {
    words_ = static_cast<std::size_t>((blocks + 63) / 64);
    bits_ = std::make_unique<std::atomic<std::uint64_t>[]>(words_);
  }

  // Keeps the bits below `blocks` and clears the rest (used by resize).
  void resize(std::uint64_t old_blocks, std::uint64_t blocks) {
    BlockBitmap next(blocks);
    const std::uint64_t keep = std::min(old_blocks, blocks);
    for (std::uint64_t b = 0; b < keep; b += 64) {
      std::uint64_t w = bits_[b / 64].load(std::memory_order_relaxed);
      if (keep - b < 64) w &= (std::uint64_t{1} << (keep - b)) - 1;
      next.bits_[b / 64].store(w, std::memory_order_relaxed);
    }
    *this = std::move(next);
  }

  void assign(std::uint64_t first, std::uint64_t count, bool mapped) {
    while (count > 0) {
      const auto bit = static_cast<unsigned>(first % 64);
      const std::uint64_t n = std::min<std::uint64_t>(64 - bit, count);
      const std::uint64_t mask = (n == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << n) - 1) << bit;
      auto& word = bits_[first / 64];
      if (mapped) {
        word.fetch_or(mask, std::memory_order_relaxed);
      } else {
        word.fetch_and(~mask, std::memory_order_relaxed);
      }
      first += n;
      count -= n;
    }
  }

  // State of `first` and the length of its run, at most max_count.
  ProvisioningExtent run(std::uint64_t first, std::uint64_t max_count) const {
    const bool mapped = test(first);
    std::uint64_t count = 0;
    while (count < max_count) {
      const std::uint64_t at = first + count;
      const auto bit = static_cast<unsigned>(at % 64);
      std::uint64_t w = bits_[at / 64].load(std::memory_order_relaxed);
      if (!mapped) w = ~w;
      const auto same = static_cast<std::uint64_t>(std::countr_one(w >> bit));
      count += std::min<std::uint64_t>(same, 64 - bit);
      if (same < 64 - bit) break;
    }
    return ProvisioningExtent{mapped, std::min(count, max_count)};
  }

 private:
  [[nodiscard]] bool test(std::uint64_t block) const {
    return ((bits_[block / 64].load(std::memory_order_relaxed) >> (block % 64)) & 1u) != 0;
  }

  std::unique_ptr<std::atomic<std::uint64_t>[]> bits_;
  std::size_t words_ = 0;
};

class RamStore final : public BlockStore {
 public:
  RamStore(std::byte* base, std::size_t reserved, std::uint32_t block_size, std::uint64_t blocks)
      : base_(base),
        reserved_(reserved),
        block_size_(block_size),
        blocks_(blocks),
        bitmap_(blocks) {}
  ~RamStore() override { ::munmap(base_, reserved_); }
  RamStore(const RamStore&) = delete;
  RamStore& operator=(const RamStore&) = delete;

  [[nodiscard]] std::uint32_t block_size() const override { return block_size_; }
  [[nodiscard]] std::uint64_t block_count() const override {
    return blocks_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] bool supports_discard() const override { return true; }

  Result<void> read(std::uint64_t lba, std::span<std::byte> out) override {
    std::size_t done = 0;
    for_each_region(lba * block_size_, out.size(),
                    [&](std::uint64_t region, std::uint64_t off, std::size_t n) {
                      std::shared_lock lock(stripe(region));
                      std::memcpy(out.data() + done, base_ + off, n);
                      done += n;
                    });
    return ok();
  }

  // One copy: from the mapping straight into the caller's vector, no zero-fill first.
  Result<void> read_append(std::uint64_t lba, std::uint64_t blocks,
                           std::vector<std::byte>& out) override {
    const auto length = static_cast<std::size_t>(blocks * block_size_);
    out.reserve(out.size() + length);
    for_each_region(lba * block_size_, length,
                    [&](std::uint64_t region, std::uint64_t off, std::size_t n) {
                      std::shared_lock lock(stripe(region));
                      out.insert(out.end(), base_ + off, base_ + off + n);
                    });
    return ok();
  }

  Result<void> write(std::uint64_t lba, std::span<const std::byte> data, bool) override {
    std::size_t done = 0;
    for_each_region(lba * block_size_, data.size(),
                    [&](std::uint64_t region, std::uint64_t off, std::size_t n) {
                      std::unique_lock lock(stripe(region));
                      std::memcpy(base_ + off, data.data() + done, n);
                      done += n;
                    });
    bitmap_.assign(lba, data.size() / block_size_, true);
    return ok();
  }

  Result<void> flush() override { return ok(); }

  Result<void> discard(std::uint64_t lba, std::uint64_t blocks) override {
    const std::size_t page = page_size();
    bitmap_.assign(lba, blocks, false);
    for_each_region(lba * block_size_, static_cast<std::size_t>(blocks * block_size_),
                    [&](std::uint64_t region, std::uint64_t off, std::size_t n) {
                      std::unique_lock lock(stripe(region));
                      zero_range(off, n, page);
                    });
    return ok();
  }

  Result<ProvisioningExtent> provisioning(std::uint64_t lba, std::uint64_t max_blocks) override {
    const std::uint64_t left = block_count() - lba;
    return bitmap_.run(lba, std::min(left, max_blocks));
  }

  Result<void> resize(std::uint64_t block_count) override {
    if (block_count == 0) return errc::invalid_argument;
    const std::uint64_t old_blocks = blocks_.load(std::memory_order_relaxed);
    const std::uint64_t bytes = block_count * block_size_;
    const std::size_t reserved = round_up(static_cast<std::size_t>(bytes), page_size());
    if (reserved != reserved_) {
      void* p = ::mremap(base_, reserved_, reserved, MREMAP_MAYMOVE);
      if (p == MAP_FAILED) return last_os_error();
      base_ = static_cast<std::byte*>(p);
      reserved_ = reserved;
    }
    if (block_count < old_blocks) {
      // Zero the tail of the last page so that growing again exposes zeros, not old data.
      std::memset(base_ + bytes, 0, reserved_ - bytes);
    }
    bitmap_.resize(old_blocks, block_count);
    blocks_.store(block_count, std::memory_order_relaxed);
    return ok();
  }

 private:
  template <class F>
  void for_each_region(std::uint64_t offset, std::size_t length, F&& f) {
    while (length > 0) {
      const std::uint64_t region = offset >> kRegionShift;
      const std::uint64_t region_end = (region + 1) << kRegionShift;
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(length, region_end - offset));
      f(region, offset, n);
      offset += n;
      length -= n;
    }
  }
  std::shared_mutex& stripe(std::uint64_t region) { return stripes_[region % kStripes]; }

  // Zeroes [off, off + n): whole pages go back to the kernel (they read as zeros afterwards),
  // partial pages are cleared in place. Falls back to memset if madvise refuses.
  void zero_range(std::uint64_t off, std::size_t n, std::size_t page) {
    const std::uint64_t end = off + n;
    const std::uint64_t inner_begin = round_up(off, page);
    const std::uint64_t inner_end = end / page * page;
    if (inner_begin >= inner_end) {
      std::memset(base_ + off, 0, n);
      return;
    }
    std::memset(base_ + off, 0, inner_begin - off);
    std::memset(base_ + inner_end, 0, end - inner_end);
    if (::madvise(base_ + inner_begin, inner_end - inner_begin, MADV_DONTNEED) != 0) {
      std::memset(base_ + inner_begin, 0, inner_end - inner_begin);
    }
  }

  std::byte* base_;
  std::size_t reserved_;
  std::uint32_t block_size_;
  std::atomic<std::uint64_t> blocks_;
  BlockBitmap bitmap_;
  std::array<std::shared_mutex, kStripes> stripes_;
};

}  // namespace

Result<std::unique_ptr<BlockStore>> make_ram_store(std::uint32_t block_size,
                                                   std::uint64_t block_count) {
  if (!valid_block_size(block_size) || block_count == 0) return errc::invalid_argument;
  if (block_count > (std::uint64_t{1} << 62) / block_size) return errc::invalid_argument;
  const std::size_t reserved =
      round_up(static_cast<std::size_t>(block_count * block_size), page_size());
  void* p = ::mmap(nullptr, reserved, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return last_os_error();
  return std::unique_ptr<BlockStore>(
      std::make_unique<RamStore>(static_cast<std::byte*>(p), reserved, block_size, block_count));
}

}  // namespace uiscsi::target
