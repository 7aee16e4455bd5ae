// Ring: the TCMU command ring as a sans-I/O state machine over the mapped memory (abi.hpp).
//
// It never calls the OS: the caller maps the uio device (or, in tests, hands over a buffer that
// a fake kernel fills), calls poll() after each uio interrupt to take the new entries, answers
// each Request with complete(), and calls flush(), which writes the answers into the ring and
// moves cmd_tail; when flush() retired entries the caller writes 4 bytes to the uio fd.
//
// Trust: the kernel writes this memory, but every offset and length read from it is checked
// against the mapping before use. A CMD entry whose CDB or iovecs fall outside the mapping (or
// inside the mailbox and ring) becomes a Request with `error` set, which the caller completes
// with CHECK CONDITION (see error_reply()). An entry with an unknown opcode, or a CMD entry too
// short to hold a response, is reported as a BadEntry and stepped over. A header that cannot be
// stepped over (length 0, not 8-aligned, running past the ring's end) or a cmd_head outside the
// ring makes poll() fail with tcmu_errc::ring_corrupt; the ring is then dead (every later call
// fails the same way) and the device should be torn down.
//
// Completion order: without the OOOC capability an answer can only be written into the entry
// at cmd_tail, so flush() stops at the first command not yet completed. With OOOC, flush()
// writes any completed command's answer into the slot at cmd_tail and rewrites its cmd_id
// there (the kernel looks commands up by the id it finds); the CDB and iovecs were copied out
// at poll(), so reusing the slot loses nothing. PAD and TMR entries at the tail are stepped
// over, as the kernel does (drivers/target/target_core_user.c, tcmu_handle_completions).
//
// Data-In length: with CAP_READ_LEN, a Reply with data_in_length sets TCMU_UFLAG_READ_LEN and
// rsp.read_len, so LIO reports the difference to the initiator as a residual underflow (and
// returns READ data along with CHECK CONDITION, as SSC-3 READ with ILI needs).
//
// Thread safety: none; one thread owns a Ring.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <system_error>
#include <variant>
#include <vector>

#include "uiscsi/result.hpp"
#include "uiscsi/tcmu/abi.hpp"

namespace uiscsi::tcmu {

// One SCSI command taken from the ring.
struct Request {
  std::uint16_t id = 0;
  std::vector<std::byte> cdb;                  // copied out of the ring
  std::vector<std::span<std::byte>> iov;       // the data buffers, in order, inside the data area
  std::vector<std::span<std::byte>> bidi_iov;  // bidirectional commands: the Data-In buffers
  std::error_code error;  // set: the entry is unusable; answer it with error_reply()

  // Bytes the initiator transfers (Expected Data Transfer Length): the iovecs' total.
  [[nodiscard]] std::size_t data_length() const;
  // The Data-Out bytes (for a write), gathered from the iovecs.
  [[nodiscard]] std::vector<std::byte> gather() const;
  // Scatters Data-In into the iovecs (bidi_iov when present); returns the bytes placed, at most
  // data_length().
  std::size_t scatter(std::span<const std::byte> data) const;
};

// The answer to one command.
struct Reply {
  std::uint8_t status = 0;       // SAM status; 0x02 CHECK CONDITION comes with sense
  std::vector<std::byte> sense;  // sense data; the ring holds at most abi::kSenseSize bytes
  // Data-In bytes placed with Request::scatter(); sent as READ_LEN when the kernel supports it.
  std::optional<std::uint32_t> data_in_length;
};

// CHECK CONDITION, HARDWARE ERROR, INTERNAL TARGET FAILURE (44/00): the answer to a Request whose
// entry is unusable.
Reply error_reply();

// A task management function the kernel reports (CAP_TMR). The listed commands were aborted in
// the kernel; their answers are still expected and ignored.
struct TaskManagement {
  abi::TmrType type = abi::TmrType::unknown;
  std::vector<std::uint16_t> cmd_ids;
};

// An entry that was stepped over: unknown opcode, or a CMD entry too short to answer.
struct BadEntry {
  std::uint32_t offset = 0;  // in the command ring
  std::error_code error;
};

using Event = std::variant<Request, TaskManagement, BadEntry>;

class Ring {
 public:
  // Checks the mailbox: version 2, cmdr_off >= the mailbox, the ring inside the mapping and at
  // least 8 bytes, cmd_tail inside the ring and 8-aligned. The mapping must be 4-byte aligned
  // (mmap'd memory is) and outlive the Ring. tcmu_errc::bad_mailbox.
  static Result<Ring> attach(std::span<std::byte> map);

  [[nodiscard]] std::uint16_t capabilities() const { return flags_; }
  [[nodiscard]] bool out_of_order() const { return (flags_ & abi::kCapOutOfOrder) != 0; }
  [[nodiscard]] bool read_len_supported() const { return (flags_ & abi::kCapReadLen) != 0; }

  // Takes the entries between the last position read and cmd_head, in ring order.
  // tcmu_errc::ring_corrupt (see above).
  Result<std::vector<Event>> poll();

  // Queues the answer to a command returned by poll() (including ones with `error`).
  // tcmu_errc::unknown_command, tcmu_errc::already_completed.
  Result<void> complete(std::uint16_t id, Reply reply);

  // Writes queued answers into the ring from cmd_tail on and publishes the new cmd_tail.
  // Returns the number of entries retired; when > 0 the kernel must be notified.
  std::size_t flush();

  // Commands taken by poll() and not yet written back by flush().
  [[nodiscard]] std::size_t outstanding() const { return outstanding_.size(); }

 private:
  enum class SlotKind : std::uint8_t { skip, cmd };
  struct Slot {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
    SlotKind kind = SlotKind::skip;
    std::uint16_t id = 0;
  };

  Ring(std::span<std::byte> map, std::uint16_t flags, std::uint32_t cmdr_off,
       std::uint32_t cmdr_size, std::uint32_t tail);
  [[nodiscard]] std::uint32_t load_head() const;
  void store_tail(std::uint32_t tail);
  Request parse_command(std::uint32_t offset, std::uint32_t length, std::uint16_t id) const;
  TaskManagement parse_tmr(std::uint32_t offset, std::uint32_t length) const;
  void write_reply(const Slot& slot, std::uint16_t id, const Reply& reply);

  std::span<std::byte> map_;
  std::uint16_t flags_ = 0;
  std::uint32_t cmdr_off_ = 0;
  std::uint32_t cmdr_size_ = 0;
  std::uint32_t read_pos_ = 0;  // next entry poll() reads (ring offset)
  std::uint32_t tail_ = 0;      // our copy of cmd_tail
  bool dead_ = false;
  std::deque<Slot> slots_;                                // entries read, not retired, from tail
  std::map<std::uint16_t, bool> outstanding_;             // id -> answered
  std::deque<std::pair<std::uint16_t, Reply>> answered_;  // in completion order
};

}  // namespace uiscsi::tcmu
