// BlockStore defaults and the null store (see block_store.hpp).
#include "target/block_store.hpp"

#include <algorithm>
#include <atomic>

#include "uiscsi/errors.hpp"

namespace uiscsi::target {

bool valid_block_size(std::uint32_t block_size) {
  return block_size == 512 || block_size == 1024 || block_size == 2048 || block_size == 4096;
}

Result<void> BlockStore::read_append(std::uint64_t lba, std::uint64_t blocks,
                                     std::vector<std::byte>& out) {
  const std::size_t at = out.size();
  out.resize(at + static_cast<std::size_t>(blocks) * block_size());
  auto r = read(lba, std::span<std::byte>(out).subspan(at));
  if (!r) out.resize(at);
  return r;
}

namespace {

// Reads zeros, drops writes; every block reports mapped (a write "mapped" it, and reading zeros
// after a discard is what LBPRZ promises anyway).
class NullStore final : public BlockStore {
 public:
  NullStore(std::uint32_t block_size, std::uint64_t blocks)
      : block_size_(block_size), blocks_(blocks) {}

  [[nodiscard]] std::uint32_t block_size() const override { return block_size_; }
  [[nodiscard]] std::uint64_t block_count() const override {
    return blocks_.load(std::memory_order_relaxed);
  }
  [[nodiscard]] bool supports_discard() const override { return true; }

  Result<void> read(std::uint64_t /*lba*/, std::span<std::byte> out) override {
    std::fill(out.begin(), out.end(), std::byte{0});
    return ok();
  }
  Result<void> read_append(std::uint64_t /*lba*/, std::uint64_t blocks,
                           std::vector<std::byte>& out) override {
    out.resize(out.size() + static_cast<std::size_t>(blocks) * block_size_);
    return ok();
  }
  Result<void> write(std::uint64_t, std::span<const std::byte>, bool) override { return ok(); }
  Result<void> flush() override { return ok(); }
  Result<void> discard(std::uint64_t, std::uint64_t) override { return ok(); }
  Result<ProvisioningExtent> provisioning(std::uint64_t lba, std::uint64_t max_blocks) override {
    const std::uint64_t left = block_count() - lba;
    return ProvisioningExtent{true, std::min(left, max_blocks)};
  }
  Result<void> resize(std::uint64_t block_count) override {
    if (block_count == 0) return errc::invalid_argument;
    blocks_.store(block_count, std::memory_order_relaxed);
    return ok();
  }

 private:
  std::uint32_t block_size_;
  std::atomic<std::uint64_t> blocks_;
};

}  // namespace

Result<std::unique_ptr<BlockStore>> make_null_store(std::uint32_t block_size,
                                                    std::uint64_t block_count) {
  if (!valid_block_size(block_size) || block_count == 0) return errc::invalid_argument;
  return std::unique_ptr<BlockStore>(std::make_unique<NullStore>(block_size, block_count));
}

}  // namespace uiscsi::target
