// FakeKernel: the kernel's side of a TCMU ring in memory, for tests without a kernel.
//
// It lays out a mailbox, a command ring and a data area as target_core_user.c does: entries of
// 8-aligned length with the CDB after the iovecs, a PAD entry when an entry would not fit before
// the ring's end, data buffers as iovecs with offsets from the mapping's start (split in
// `chunk`-byte pieces to exercise scatter/gather). collect() retires entries up to cmd_tail as
// tcmu_handle_completions does: PAD and TMR entries are skipped, a CMD entry's answer is taken
// for the command whose id it holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "uiscsi/tcmu/abi.hpp"

namespace uiscsi::tcmu::test {

struct Completion {
  std::uint16_t id = 0;
  std::uint8_t status = 0;
  std::vector<std::byte> sense;           // all 96 bytes
  std::optional<std::uint32_t> read_len;  // with TCMU_UFLAG_READ_LEN
  std::vector<std::byte> data;            // the command's data buffers after completion
};

class FakeKernel {
 public:
  static constexpr std::uint32_t kCmdrOff = 128;

  FakeKernel(std::uint32_t ring_size, std::uint32_t data_size, std::uint16_t flags,
             std::size_t chunk = 4096)
      : words_((kCmdrOff + ring_size + data_size + 7) / 8),
        ring_size_(ring_size),
        data_size_(data_size),
        chunk_(chunk) {
    put<std::uint16_t>(0, abi::kMailboxVersion);
    put<std::uint16_t>(2, flags);
    put<std::uint32_t>(4, kCmdrOff);
    put<std::uint32_t>(8, ring_size);
  }

  [[nodiscard]] std::span<std::byte> memory() {
    return {reinterpret_cast<std::byte*>(words_.data()), kCmdrOff + ring_size_ + data_size_};
  }
  [[nodiscard]] std::uint32_t head() const { return head_; }
  [[nodiscard]] std::uint32_t tail() const { return get<std::uint32_t>(64); }
  [[nodiscard]] std::size_t pads() const { return pads_; }

  // Queues a SCSI command: `data` is the Data-Out (or, for a read, just sized buffers:
  // data_in_length bytes of 0xEE). Returns its id. Call publish() to move cmd_head.
  std::uint16_t submit(std::vector<std::byte> cdb, std::vector<std::byte> data_out,
                       std::size_t data_in_length = 0) {
    const std::uint16_t id = next_id_++;
    std::vector<std::byte> buffer = data_out;
    if (buffer.empty()) buffer.assign(data_in_length, std::byte{0xEE});
    // Data buffers, in chunk-size iovecs, from a bump allocator that wraps.
    std::vector<abi::IoVec> iov;
    for (std::size_t done = 0; done < buffer.size();) {
      const std::size_t n = std::min(chunk_, buffer.size() - done);
      if (data_pos_ + n > data_size_) data_pos_ = 0;
      const std::uint64_t base = kCmdrOff + ring_size_ + data_pos_;
      std::memcpy(memory().data() + base, buffer.data() + done, n);
      iov.push_back({base, n});
      data_pos_ += n;
      done += n;
    }
    commands_[id] = iov;
    const std::size_t need = abi::kIovOffset + iov.size() * sizeof(abi::IoVec) + cdb.size();
    const std::uint32_t len = align(std::max(need, abi::kMinCmdEntry));
    reserve(len);
    std::vector<std::byte> entry(len);
    set<std::uint32_t>(entry, 0, len | static_cast<std::uint32_t>(abi::Op::cmd));
    set<std::uint16_t>(entry, 4, id);
    set<std::uint32_t>(entry, 8, static_cast<std::uint32_t>(iov.size()));
    const std::size_t cdb_at = abi::kIovOffset + iov.size() * sizeof(abi::IoVec);
    set<std::uint64_t>(entry, 24, kCmdrOff + head_ + cdb_at);
    for (std::size_t i = 0; i < iov.size(); ++i) {
      set<std::uint64_t>(entry, abi::kIovOffset + i * 16, iov[i].base);
      set<std::uint64_t>(entry, abi::kIovOffset + i * 16 + 8, iov[i].len);
    }
    std::memcpy(entry.data() + cdb_at, cdb.data(), cdb.size());
    place(entry);
    return id;
  }

  void submit_tmr(abi::TmrType type, std::vector<std::uint16_t> ids,
                  std::optional<std::uint32_t> claimed_count = std::nullopt) {
    const std::uint32_t len = align(abi::kTmrIdsOffset + ids.size() * 2);
    reserve(len);
    std::vector<std::byte> entry(len);
    set<std::uint32_t>(entry, 0, len | static_cast<std::uint32_t>(abi::Op::tmr));
    set<std::uint8_t>(entry, 8, static_cast<std::uint8_t>(type));
    set<std::uint32_t>(entry, 12, claimed_count.value_or(static_cast<std::uint32_t>(ids.size())));
    for (std::size_t i = 0; i < ids.size(); ++i)
      set<std::uint16_t>(entry, 32 + i * 2, ids[i]);
    place(entry);
  }

  // Any bytes as the next entry (for malformed entries); `len` advances cmd_head.
  void submit_raw(std::vector<std::byte> entry, std::uint32_t len) {
    std::memcpy(memory().data() + kCmdrOff + head_, entry.data(), entry.size());
    head_ = (head_ + len) % ring_size_;
  }

  // Entry bytes for hand-made malformed entries.
  static std::vector<std::byte> header(std::uint32_t len_op, std::uint16_t id, std::size_t size) {
    std::vector<std::byte> e(size);
    set<std::uint32_t>(e, 0, len_op);
    set<std::uint16_t>(e, 4, id);
    return e;
  }

  void publish() { put<std::uint32_t>(12, head_); }
  void set_head_raw(std::uint32_t h) { put<std::uint32_t>(12, h); }
  void set_tail_raw(std::uint32_t t) {
    put<std::uint32_t>(64, t);
    cleaned_ = t;
  }
  // An empty ring whose head and tail both stand at `offset` (as after earlier traffic).
  void start_at(std::uint32_t offset) {
    head_ = offset;
    publish();
    set_tail_raw(offset);
  }
  void set_mailbox_u16(std::size_t off, std::uint16_t v) { put<std::uint16_t>(off, v); }
  void set_mailbox_u32(std::size_t off, std::uint32_t v) { put<std::uint32_t>(off, v); }
  std::uint16_t expect_next_id() const { return next_id_; }
  void set_next_id(std::uint16_t id) { next_id_ = id; }

  // Retires entries up to cmd_tail; throws on a broken ring (as the kernel would flag it).
  std::vector<Completion> collect() {
    std::vector<Completion> out;
    const std::uint32_t tail = this->tail();
    while (cleaned_ != tail) {
      const std::size_t at = kCmdrOff + cleaned_;
      const auto len_op = get<std::uint32_t>(at);
      const std::uint32_t len = len_op & ~abi::kOpMask;
      const auto op = static_cast<abi::Op>(len_op & abi::kOpMask);
      if (len == 0) throw std::runtime_error("zero-length entry at tail");
      if (op == abi::Op::cmd) {
        Completion c;
        c.id = get<std::uint16_t>(at + 4);
        auto it = commands_.find(c.id);
        if (it == commands_.end()) throw std::runtime_error("completion for an unknown id");
        c.status = get<std::uint8_t>(at + 8);
        const auto uflags = get<std::uint8_t>(at + 7);
        if (uflags & abi::kUflagReadLen) c.read_len = get<std::uint32_t>(at + 12);
        auto sense = memory().subspan(at + 16, abi::kSenseSize);
        c.sense.assign(sense.begin(), sense.end());
        for (const auto& v : it->second) {
          auto d = memory().subspan(v.base, v.len);
          c.data.insert(c.data.end(), d.begin(), d.end());
        }
        commands_.erase(it);
        out.push_back(std::move(c));
      }
      cleaned_ = (cleaned_ + len) % ring_size_;
    }
    return out;
  }

 private:
  static std::uint32_t align(std::size_t n) {
    return static_cast<std::uint32_t>((n + abi::kOpAlign - 1) / abi::kOpAlign * abi::kOpAlign);
  }
  template <class T>
  static void set(std::vector<std::byte>& v, std::size_t off, T x) {
    std::memcpy(v.data() + off, &x, sizeof x);
  }
  template <class T>
  void put(std::size_t off, T x) {
    std::memcpy(memory().data() + off, &x, sizeof x);
  }
  template <class T>
  T get(std::size_t off) const {
    T x;
    std::memcpy(&x, reinterpret_cast<const std::byte*>(words_.data()) + off, sizeof x);
    return x;
  }
  // Pads to the ring's end when `len` does not fit before it (the kernel never wraps an entry).
  void reserve(std::uint32_t len) {
    if (head_ + len > ring_size_) {
      const std::uint32_t pad = ring_size_ - head_;
      put<std::uint32_t>(kCmdrOff + head_, pad | static_cast<std::uint32_t>(abi::Op::pad));
      put<std::uint16_t>(kCmdrOff + head_ + 4, 0);
      head_ = 0;
      ++pads_;
    }
  }
  void place(const std::vector<std::byte>& entry) {
    std::memcpy(memory().data() + kCmdrOff + head_, entry.data(), entry.size());
    head_ = (head_ + static_cast<std::uint32_t>(entry.size())) % ring_size_;
  }

  std::vector<std::uint64_t> words_;  // 8-aligned backing store
  std::uint32_t ring_size_;
  std::uint32_t data_size_;
  std::size_t chunk_;
  std::uint32_t head_ = 0;
  std::uint32_t cleaned_ = 0;
  std::uint32_t data_pos_ = 0;
  std::uint16_t next_id_ = 1;
  std::size_t pads_ = 0;
  std::map<std::uint16_t, std::vector<abi::IoVec>> commands_;
};

}  // namespace uiscsi::tcmu::test
