// Ring: parsing and completing TCMU command entries (uiscsi/tcmu/ring.hpp).
#include "uiscsi/tcmu/ring.hpp"

#include <algorithm>
#include <cstring>

#include "uiscsi/tcmu/errors.hpp"

namespace uiscsi::tcmu {
namespace {

template <class T>
T load(std::span<const std::byte> m, std::size_t off) {
  T v;
  std::memcpy(&v, m.data() + off, sizeof v);
  return v;
}

template <class T>
void store(std::span<std::byte> m, std::size_t off, T v) {
  std::memcpy(m.data() + off, &v, sizeof v);
}

// True when [off, off + len) lies inside [lo, hi), without overflow.
bool inside(std::uint64_t off, std::uint64_t len, std::uint64_t lo, std::uint64_t hi) {
  return off >= lo && off <= hi && len <= hi - off;
}

// The CDB length the opcode's group implies (SPC-4 4.2.5.1; groups 6 and 7 are vendor specific:
// 10 bytes, as the kernel's scsi_command_size assumes). Variable length CDBs (7Fh) carry their
// additional length in byte 7 (SPC-4 4.2.4): `byte7` is read only for them.
std::size_t cdb_length(std::uint8_t opcode, std::optional<std::uint8_t> byte7) {
  static constexpr std::size_t kByGroup[8] = {6, 10, 10, 12, 16, 12, 10, 10};
  if (opcode == 0x7f) return byte7 ? 8u + *byte7 : 8u;
  return kByGroup[opcode >> 5];
}

constexpr std::uint8_t kCheckCondition = 0x02;

}  // namespace

std::size_t Request::data_length() const {
  std::size_t n = 0;
  for (const auto& s : iov)
    n += s.size();
  return n;
}

std::vector<std::byte> Request::gather() const {
  std::vector<std::byte> out;
  out.reserve(data_length());
  for (const auto& s : iov)
    out.insert(out.end(), s.begin(), s.end());
  return out;
}

std::size_t Request::scatter(std::span<const std::byte> data) const {
  const auto& target = bidi_iov.empty() ? iov : bidi_iov;
  std::size_t done = 0;
  for (const auto& s : target) {
    if (done == data.size()) break;
    const std::size_t n = std::min(s.size(), data.size() - done);
    std::memcpy(s.data(), data.data() + done, n);
    done += n;
  }
  return done;
}

Reply error_reply() {
  Reply r;
  r.status = kCheckCondition;
  r.sense.assign(18, std::byte{0});
  r.sense[0] = std::byte{0x70};   // current error, fixed format (SPC-4 4.5.3)
  r.sense[2] = std::byte{0x04};   // HARDWARE ERROR
  r.sense[7] = std::byte{10};     // additional sense length
  r.sense[12] = std::byte{0x44};  // INTERNAL TARGET FAILURE
  return r;
}

Ring::Ring(std::span<std::byte> map, std::uint16_t flags, std::uint32_t cmdr_off,
           std::uint32_t cmdr_size, std::uint32_t tail)
    : map_(map),
      flags_(flags),
      cmdr_off_(cmdr_off),
      cmdr_size_(cmdr_size),
      read_pos_(tail),
      tail_(tail) {}

Result<Ring> Ring::attach(std::span<std::byte> map) {
  if (map.size() < abi::kMailboxSize || reinterpret_cast<std::uintptr_t>(map.data()) % 4 != 0)
    return tcmu_errc::bad_mailbox;
  const auto version = load<std::uint16_t>(map, offsetof(abi::Mailbox, version));
  const auto flags = load<std::uint16_t>(map, offsetof(abi::Mailbox, flags));
  const auto off = load<std::uint32_t>(map, offsetof(abi::Mailbox, cmdr_off));
  const auto size = load<std::uint32_t>(map, offsetof(abi::Mailbox, cmdr_size));
  const auto tail = load<std::uint32_t>(map, offsetof(abi::Mailbox, cmd_tail));
  if (version != abi::kMailboxVersion) return tcmu_errc::bad_mailbox;
  if (off < abi::kMailboxSize || off % abi::kOpAlign != 0 || size < abi::kOpAlign ||
      size % abi::kOpAlign != 0 || !inside(off, size, 0, map.size()))
    return tcmu_errc::bad_mailbox;
  if (tail >= size || tail % abi::kOpAlign != 0) return tcmu_errc::bad_mailbox;
  return Ring(map, flags, off, size, tail);
}

std::uint32_t Ring::load_head() const {
  // The kernel publishes entries before it moves cmd_head: acquire pairs with its barrier.
  auto* p = reinterpret_cast<std::uint32_t*>(map_.data() + offsetof(abi::Mailbox, cmd_head));
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

void Ring::store_tail(std::uint32_t tail) {
  // Answers are written before the kernel may see the new tail.
  auto* p = reinterpret_cast<std::uint32_t*>(map_.data() + offsetof(abi::Mailbox, cmd_tail));
  __atomic_store_n(p, tail, __ATOMIC_RELEASE);
}

Request Ring::parse_command(std::uint32_t offset, std::uint32_t length, std::uint16_t id) const {
  Request r;
  r.id = id;
  // An unusable entry keeps only its id: no buffers, no CDB.
  auto unusable = [&r]() -> Request {
    r.error = make_error_code(tcmu_errc::bad_entry);
    r.iov.clear();
    r.bidi_iov.clear();
    r.cdb.clear();
    return std::move(r);
  };
  const std::size_t at = std::size_t{cmdr_off_} + offset;
  const auto entry = std::span<const std::byte>(map_).subspan(at, length);
  const auto iov_cnt = load<std::uint32_t>(entry, offsetof(abi::CmdRequest, iov_cnt));
  const auto bidi_cnt = load<std::uint32_t>(entry, offsetof(abi::CmdRequest, iov_bidi_cnt));
  const auto dif_cnt = load<std::uint32_t>(entry, offsetof(abi::CmdRequest, iov_dif_cnt));
  const auto cdb_off = load<std::uint64_t>(entry, offsetof(abi::CmdRequest, cdb_off));

  // The iovec array must fit in the entry.
  const std::uint64_t total = std::uint64_t{iov_cnt} + bidi_cnt + dif_cnt;
  if (total > (length - abi::kIovOffset) / sizeof(abi::IoVec)) {
    return unusable();
  }
  // Data buffers lie in the data area, after the ring.
  const std::uint64_t data_off = std::uint64_t{cmdr_off_} + cmdr_size_;
  for (std::uint64_t i = 0; i < std::uint64_t{iov_cnt} + bidi_cnt; ++i) {
    const std::size_t v = abi::kIovOffset + i * sizeof(abi::IoVec);
    const auto base = load<std::uint64_t>(entry, v + offsetof(abi::IoVec, base));
    const auto len = load<std::uint64_t>(entry, v + offsetof(abi::IoVec, len));
    if (!inside(base, len, data_off, map_.size())) {
      return unusable();
    }
    auto span = map_.subspan(static_cast<std::size_t>(base), static_cast<std::size_t>(len));
    (i < iov_cnt ? r.iov : r.bidi_iov).push_back(span);
  }
  // The CDB lies in the ring (usually inside this entry) or in the data area.
  if (!inside(cdb_off, 1, cmdr_off_, map_.size())) {
    return unusable();
  }
  const auto opcode = static_cast<std::uint8_t>(map_[cdb_off]);
  std::optional<std::uint8_t> byte7;
  if (opcode == 0x7f && inside(cdb_off, 8, cmdr_off_, map_.size()))
    byte7 = static_cast<std::uint8_t>(map_[cdb_off + 7]);
  const std::size_t n = cdb_length(opcode, byte7);
  if (!inside(cdb_off, n, cmdr_off_, map_.size())) {
    return unusable();
  }
  const auto cdb = map_.subspan(static_cast<std::size_t>(cdb_off), n);
  r.cdb.assign(cdb.begin(), cdb.end());
  return r;
}

TaskManagement Ring::parse_tmr(std::uint32_t offset, std::uint32_t length) const {
  TaskManagement t;
  const std::size_t at = std::size_t{cmdr_off_} + offset;
  const auto entry = std::span<const std::byte>(map_).subspan(at, length);
  t.type = static_cast<abi::TmrType>(load<std::uint8_t>(entry, offsetof(abi::TmrEntry, tmr_type)));
  const auto count = load<std::uint32_t>(entry, offsetof(abi::TmrEntry, cmd_cnt));
  // Only the ids that fit in the entry are believed.
  const std::size_t fit = (length - abi::kTmrIdsOffset) / sizeof(std::uint16_t);
  const std::size_t n = std::min<std::size_t>(count, fit);
  for (std::size_t i = 0; i < n; ++i)
    t.cmd_ids.push_back(load<std::uint16_t>(entry, abi::kTmrIdsOffset + i * 2));
  return t;
}

Result<std::vector<Event>> Ring::poll() {
  if (dead_) return tcmu_errc::ring_corrupt;
  std::vector<Event> events;
  const std::uint32_t head = load_head();
  if (head >= cmdr_size_ || head % abi::kOpAlign != 0) {
    dead_ = true;
    return tcmu_errc::ring_corrupt;
  }
  // Each step moves at least 8 bytes, so a ring lap bounds the loop.
  for (std::uint32_t steps = 0; read_pos_ != head; ++steps) {
    if (steps > cmdr_size_ / abi::kOpAlign) {
      dead_ = true;
      return tcmu_errc::ring_corrupt;
    }
    const std::size_t at = std::size_t{cmdr_off_} + read_pos_;
    if (cmdr_size_ - read_pos_ < sizeof(abi::EntryHeader)) {
      dead_ = true;
      return tcmu_errc::ring_corrupt;
    }
    const auto len_op = load<std::uint32_t>(map_, at + offsetof(abi::EntryHeader, len_op));
    const auto id = load<std::uint16_t>(map_, at + offsetof(abi::EntryHeader, cmd_id));
    const std::uint32_t length = len_op & ~abi::kOpMask;
    const std::uint32_t op = len_op & abi::kOpMask;
    // The kernel never wraps an entry: it pads to the ring's end instead.
    if (length == 0 || length > cmdr_size_ - read_pos_) {
      dead_ = true;
      return tcmu_errc::ring_corrupt;
    }
    Slot slot{read_pos_, length, SlotKind::skip, id};
    switch (static_cast<abi::Op>(op)) {
      case abi::Op::pad:
        break;
      case abi::Op::cmd:
        if (length < abi::kMinCmdEntry) {
          events.emplace_back(BadEntry{read_pos_, make_error_code(tcmu_errc::bad_entry)});
          break;
        }
        if (outstanding_.count(id) != 0) {
          // The kernel reused an id still in flight: the ring cannot be trusted any more.
          dead_ = true;
          return tcmu_errc::ring_corrupt;
        }
        slot.kind = SlotKind::cmd;
        outstanding_.emplace(id, false);
        events.emplace_back(parse_command(read_pos_, length, id));
        break;
      case abi::Op::tmr:
        if (length < abi::kTmrIdsOffset) {
          events.emplace_back(BadEntry{read_pos_, make_error_code(tcmu_errc::bad_entry)});
          break;
        }
        events.emplace_back(parse_tmr(read_pos_, length));
        break;
      default:
        events.emplace_back(BadEntry{read_pos_, make_error_code(tcmu_errc::unknown_opcode)});
        break;
    }
    slots_.push_back(slot);
    read_pos_ = (read_pos_ + length) % cmdr_size_;
  }
  return events;
}

Result<void> Ring::complete(std::uint16_t id, Reply reply) {
  if (dead_) return tcmu_errc::ring_corrupt;
  auto it = outstanding_.find(id);
  if (it == outstanding_.end()) return tcmu_errc::unknown_command;
  if (it->second) return tcmu_errc::already_completed;
  it->second = true;
  answered_.emplace_back(id, std::move(reply));
  return ok();
}

void Ring::write_reply(const Slot& slot, std::uint16_t id, const Reply& reply) {
  const std::size_t at = std::size_t{cmdr_off_} + slot.offset;
  auto entry = map_.subspan(at, slot.length);  // length >= kMinCmdEntry (checked in poll)
  store<std::uint16_t>(entry, offsetof(abi::EntryHeader, cmd_id), id);
  std::uint8_t uflags = 0;
  std::uint32_t read_len = 0;
  if (read_len_supported() && reply.data_in_length) {
    uflags |= abi::kUflagReadLen;
    read_len = *reply.data_in_length;
  }
  store<std::uint8_t>(entry, offsetof(abi::EntryHeader, uflags), uflags);
  store<std::uint8_t>(entry, offsetof(abi::CmdResponse, scsi_status), reply.status);
  store<std::uint32_t>(entry, offsetof(abi::CmdResponse, read_len), read_len);
  auto sense = entry.subspan(offsetof(abi::CmdResponse, sense), abi::kSenseSize);
  std::fill(sense.begin(), sense.end(), std::byte{0});
  const std::size_t n = std::min(reply.sense.size(), abi::kSenseSize);
  std::copy_n(reply.sense.begin(), n, sense.begin());
}

std::size_t Ring::flush() {
  if (dead_) return 0;
  std::size_t retired = 0;
  while (!slots_.empty()) {
    const Slot slot = slots_.front();
    if (slot.kind == SlotKind::cmd) {
      auto pick = answered_.end();
      for (auto it = answered_.begin(); it != answered_.end(); ++it) {
        if (it->first == slot.id) {
          pick = it;
          break;
        }
      }
      if (pick == answered_.end()) {
        if (!out_of_order() || answered_.empty()) break;
        pick = answered_.begin();  // OOOC: the oldest answer takes this slot
      }
      write_reply(slot, pick->first, pick->second);
      outstanding_.erase(pick->first);
      answered_.erase(pick);
    }
    tail_ = (tail_ + slot.length) % cmdr_size_;
    slots_.pop_front();
    ++retired;
  }
  if (retired > 0) store_tail(tail_);
  return retired;
}

}  // namespace uiscsi::tcmu
