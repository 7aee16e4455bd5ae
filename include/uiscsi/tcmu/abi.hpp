// The TCM-Userspace (TCMU) shared-memory ABI, as the Linux kernel defines it in
// include/uapi/linux/target_core_user.h (ABI version 2). Our own definitions, so the library
// builds where that header is missing; tests compare them with the kernel's when it is present.
//
// The uio device's map0 holds, in this order:
//   1. the mailbox (struct Mailbox): version, capability flags, where the command ring is, the
//      kernel's producer index cmd_head and the handler's consumer index cmd_tail (own cacheline);
//   2. the command ring, cmdr_size bytes from cmdr_off: entries of 8-byte-aligned length, each
//      starting with an EntryHeader. The kernel never splits an entry at the ring's end: it puts
//      a PAD entry there and starts the next entry at offset 0;
//   3. the data area (from cmdr_off + cmdr_size): CDBs that do not fit in the entry and the data
//      buffers, which the entries address as iovecs whose base is an OFFSET from the start of
//      the mapping, not a pointer.
// The handler completes a command by writing the response fields into the entry at cmd_tail and
// moving cmd_tail past it (modulo cmdr_size), then writing 4 bytes to the uio fd to wake the
// kernel. All fields are little-endian (host order on the architectures TCMU runs on).
#pragma once

#include <cstddef>
#include <cstdint>

namespace uiscsi::tcmu::abi {

inline constexpr std::uint16_t kMailboxVersion = 2;

// Mailbox capability flags (Mailbox::flags).
inline constexpr std::uint16_t kCapOutOfOrder = 1u << 0;  // completions in any order (OOOC)
inline constexpr std::uint16_t kCapReadLen = 1u << 1;     // rsp.read_len honoured
inline constexpr std::uint16_t kCapTmr = 1u << 2;         // TMR entries may appear
inline constexpr std::uint16_t kCapKeepBuf = 1u << 3;     // KEEP_BUF (not used here)

struct Mailbox {
  std::uint16_t version;
  std::uint16_t flags;
  std::uint32_t cmdr_off;   // offset of the command ring from the start of the mapping
  std::uint32_t cmdr_size;  // ring size in bytes
  std::uint32_t cmd_head;   // written by the kernel: where the next entry will go
  std::uint8_t reserved[48];
  std::uint32_t cmd_tail;  // written by the handler: the first entry not yet completed
};
static_assert(offsetof(Mailbox, version) == 0);
static_assert(offsetof(Mailbox, flags) == 2);
static_assert(offsetof(Mailbox, cmdr_off) == 4);
static_assert(offsetof(Mailbox, cmdr_size) == 8);
static_assert(offsetof(Mailbox, cmd_head) == 12);
static_assert(offsetof(Mailbox, cmd_tail) == 64);
inline constexpr std::size_t kMailboxSize = 68;  // bytes the handler may touch

// Entry opcodes (low 3 bits of len_op).
enum class Op : std::uint8_t { pad = 0, cmd = 1, tmr = 2 };
inline constexpr std::uint32_t kOpMask = 0x7;
inline constexpr std::uint32_t kOpAlign = 8;  // TCMU_OP_ALIGN_SIZE: entry lengths are multiples

// Handler flags (EntryHeader::uflags).
inline constexpr std::uint8_t kUflagUnknownOp = 0x1;
inline constexpr std::uint8_t kUflagReadLen = 0x2;  // rsp.read_len is valid
inline constexpr std::uint8_t kUflagKeepBuf = 0x4;

struct EntryHeader {
  std::uint32_t len_op;  // entry length (multiple of 8) | opcode
  std::uint16_t cmd_id;
  std::uint8_t kflags;
  std::uint8_t uflags;
};
static_assert(sizeof(EntryHeader) == 8);

struct IoVec {
  std::uint64_t base;  // offset from the start of the mapping
  std::uint64_t len;
};
static_assert(sizeof(IoVec) == 16);

// tcmu_cmd_entry as the kernel writes it (request side).
struct CmdRequest {
  EntryHeader hdr;
  std::uint32_t iov_cnt;
  std::uint32_t iov_bidi_cnt;
  std::uint32_t iov_dif_cnt;
  std::uint32_t pad0;
  std::uint64_t cdb_off;  // offset of the CDB from the start of the mapping
  std::uint64_t pad1;
  std::uint64_t pad2;
  // IoVec iov[iov_cnt + iov_bidi_cnt + iov_dif_cnt] follows
};
static_assert(offsetof(CmdRequest, iov_cnt) == 8);
static_assert(offsetof(CmdRequest, iov_bidi_cnt) == 12);
static_assert(offsetof(CmdRequest, iov_dif_cnt) == 16);
static_assert(offsetof(CmdRequest, cdb_off) == 24);
static_assert(sizeof(CmdRequest) == 48);
inline constexpr std::size_t kIovOffset = 48;

inline constexpr std::size_t kSenseSize = 96;  // TCMU_SENSE_BUFFERSIZE

// tcmu_cmd_entry as the handler overwrites it (response side, same bytes).
struct CmdResponse {
  EntryHeader hdr;
  std::uint8_t scsi_status;
  std::uint8_t pad1;
  std::uint16_t pad2;
  std::uint32_t read_len;  // with kUflagReadLen: Data-In bytes actually returned
  std::uint8_t sense[kSenseSize];
};
static_assert(offsetof(CmdResponse, scsi_status) == 8);
static_assert(offsetof(CmdResponse, read_len) == 12);
static_assert(offsetof(CmdResponse, sense) == 16);
static_assert(sizeof(CmdResponse) == 112);
// sizeof(struct tcmu_cmd_entry): the kernel never makes a CMD entry shorter.
inline constexpr std::size_t kMinCmdEntry = 112;

// TMR types (tcmu_tmr_entry::tmr_type).
enum class TmrType : std::uint8_t {
  unknown = 0,
  abort_task = 1,
  abort_task_set = 2,
  clear_aca = 3,
  clear_task_set = 4,
  lun_reset = 5,
  target_warm_reset = 6,
  target_cold_reset = 7,
  lun_reset_pr_out = 128,  // pseudo reset after PERSISTENT RESERVE OUT
};

struct TmrEntry {
  EntryHeader hdr;
  std::uint8_t tmr_type;
  std::uint8_t pad1;
  std::uint16_t pad2;
  std::uint32_t cmd_cnt;  // number of cmd_ids that follow
  std::uint64_t pad3;
  std::uint64_t pad4;
  // std::uint16_t cmd_ids[cmd_cnt] follows: commands in the ring the TMR aborts
};
static_assert(offsetof(TmrEntry, tmr_type) == 8);
static_assert(offsetof(TmrEntry, cmd_cnt) == 12);
static_assert(sizeof(TmrEntry) == 32);
inline constexpr std::size_t kTmrIdsOffset = 32;

}  // namespace uiscsi::tcmu::abi
