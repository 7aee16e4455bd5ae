// More SBC-3 CDB builders (include/uiscsi/scsi/cdb.hpp): the 6- and 12-byte READ/WRITE forms,
// VERIFY(12), WRITE AND VERIFY, PRE-FETCH, GET LBA STATUS, and the SPC-2 RESERVE / RELEASE
// commands. Byte and bit positions follow the CDB tables of SBC-3 section 5 and SPC-2 7.21-7.24.
#include <limits>

#include "scsi/wire.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"

namespace uiscsi::scsi {
namespace {

using detail::flag;

constexpr std::uint8_t kMax3Bits = 0x07;
constexpr std::uint8_t kMax5Bits = 0x1f;

// A CommandSpec with direction derived from the lengths (command.hpp contract).
CommandSpec make_spec(const Cdb& cdb, std::uint32_t in, std::uint32_t out) {
  CommandSpec s;
  s.cdb = cdb;
  s.data_in_length = in;
  s.data_out_length = out;
  if (in != 0 && out != 0) {
    s.direction = DataDirection::bidirectional;
  } else if (in != 0) {
    s.direction = DataDirection::from_device;
  } else if (out != 0) {
    s.direction = DataDirection::to_device;
  }
  return s;
}

// blocks * block_size if it fits 32 bits.
Result<std::uint32_t> bytes_for(std::uint64_t blocks, std::uint32_t block_size) {
  if (block_size == 0) return errc::invalid_argument;
  const std::uint64_t n = blocks * block_size;  // both below 2^32: no 64-bit overflow
  if (n > std::numeric_limits<std::uint32_t>::max()) return errc::invalid_argument;
  return static_cast<std::uint32_t>(n);
}

// READ(6) / WRITE(6): byte 1 LBA 20-16 (bits 4-0), bytes 2-3 LBA 15-0, byte 4 TRANSFER LENGTH.
Result<CommandSpec> rw6(std::uint8_t op, bool is_write, std::uint32_t lba, std::uint32_t blocks,
                        std::uint32_t block_size) {
  if (lba > 0x1fffff || blocks == 0 || blocks > 256) return errc::invalid_argument;
  UISCSI_TRY(const std::uint32_t bytes, bytes_for(blocks, block_size));
  Cdb c(op, 6);
  auto b = c.mutable_bytes();
  detail::put24(b, 1, lba);
  detail::put8(b, 4, static_cast<std::uint8_t>(blocks & 0xff));  // 256 -> 0
  return is_write ? make_spec(c, 0, bytes) : make_spec(c, bytes, 0);
}

// READ(12) / WRITE(12) / VERIFY(12) / WRITE AND VERIFY(12) share a layout: byte 1 flags,
// bytes 2-5 LBA, 6-9 length, byte 10 GROUP NUMBER 4-0.
Cdb cdb12(std::uint8_t op, std::uint8_t byte1, std::uint64_t lba, std::uint32_t blocks,
          std::uint8_t group) {
  Cdb c(op, 12);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, byte1);
  detail::put32(b, 2, static_cast<std::uint32_t>(lba));
  detail::put32(b, 6, blocks);
  detail::put8(b, 10, group);
  return c;
}

// The 10-byte LBA/length layout: bytes 2-5 LBA, byte 6 GROUP, 7-8 length.
Cdb cdb10(std::uint8_t op, std::uint8_t byte1, std::uint64_t lba, std::uint32_t blocks,
          std::uint8_t group) {
  Cdb c(op, 10);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, byte1);
  detail::put32(b, 2, static_cast<std::uint32_t>(lba));
  detail::put8(b, 6, group);
  detail::put16(b, 7, static_cast<std::uint16_t>(blocks));
  return c;
}

// The 16-byte layout: bytes 2-9 LBA, 10-13 length, byte 14 GROUP.
Cdb cdb16(std::uint8_t op, std::uint8_t byte1, std::uint64_t lba, std::uint32_t blocks,
          std::uint8_t group) {
  Cdb c(op, 16);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, byte1);
  detail::put64(b, 2, lba);
  detail::put32(b, 10, blocks);
  detail::put8(b, 14, group);
  return c;
}

Result<CommandSpec> rw12(std::uint8_t op, bool is_write, std::uint64_t lba, std::uint32_t blocks,
                         std::uint32_t block_size, const ReadWriteOptions& o) {
  if (lba > 0xffffffffu || o.group_number > kMax5Bits || o.protect > kMax3Bits) {
    return errc::invalid_argument;
  }
  UISCSI_TRY(const std::uint32_t bytes, bytes_for(blocks, block_size));
  // Byte 1: RDPROTECT / WRPROTECT 7-5, DPO 4, FUA 3.
  const auto b1 = static_cast<std::uint8_t>((o.protect << 5) | flag(o.dpo, 4) | flag(o.fua, 3));
  const Cdb c = cdb12(op, b1, lba, blocks, o.group_number);
  return is_write ? make_spec(c, 0, bytes) : make_spec(c, bytes, 0);
}

enum class Size { ten, twelve, sixteen };

// WRITE AND VERIFY: byte 1 WRPROTECT 7-5, DPO 4, BYTCHK 1.
Result<CommandSpec> write_verify(std::uint8_t op, Size size, std::uint64_t lba,
                                 std::uint32_t blocks, std::uint32_t block_size,
                                 const WriteAndVerifyOptions& o) {
  if (o.group_number > kMax5Bits || o.protect > kMax3Bits) return errc::invalid_argument;
  if (size != Size::sixteen && lba > 0xffffffffu) return errc::invalid_argument;
  if (size == Size::ten && blocks > 0xffffu) return errc::invalid_argument;
  UISCSI_TRY(const std::uint32_t bytes, bytes_for(blocks, block_size));
  const auto b1 = static_cast<std::uint8_t>((o.protect << 5) | flag(o.dpo, 4) | flag(o.bytchk, 1));
  switch (size) {
    case Size::ten:
      return make_spec(cdb10(op, b1, lba, blocks, o.group_number), 0, bytes);
    case Size::twelve:
      return make_spec(cdb12(op, b1, lba, blocks, o.group_number), 0, bytes);
    case Size::sixteen:
      break;
  }
  return make_spec(cdb16(op, b1, lba, blocks, o.group_number), 0, bytes);
}

}  // namespace

Result<CommandSpec> read6(std::uint32_t lba, std::uint32_t blocks, std::uint32_t block_size) {
  return rw6(opcode::kRead6, false, lba, blocks, block_size);
}
Result<CommandSpec> write6(std::uint32_t lba, std::uint32_t blocks, std::uint32_t block_size) {
  return rw6(opcode::kWrite6, true, lba, blocks, block_size);
}

Result<CommandSpec> read12(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                           const ReadWriteOptions& options) {
  return rw12(opcode::kRead12, false, lba, blocks, block_size, options);
}
Result<CommandSpec> write12(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                            const ReadWriteOptions& options) {
  return rw12(opcode::kWrite12, true, lba, blocks, block_size, options);
}

// VERIFY(12): byte 1 VRPROTECT 7-5, DPO 4, BYTCHK 2-1.
Result<CommandSpec> verify12(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                             const VerifyOptions& o) {
  const auto bytchk = static_cast<std::uint8_t>(o.bytchk);
  if (block_size == 0 || lba > 0xffffffffu || o.group_number > kMax5Bits || o.protect > kMax3Bits ||
      bytchk == 2 || bytchk > 3) {
    return errc::invalid_argument;
  }
  std::uint32_t out = 0;
  if (o.bytchk == ByteCheck::compare) {
    UISCSI_TRY(out, bytes_for(blocks, block_size));
  } else if (o.bytchk == ByteCheck::compare_one_block) {
    out = block_size;
  }
  const auto b1 = static_cast<std::uint8_t>((o.protect << 5) | flag(o.dpo, 4) | (bytchk << 1));
  return make_spec(cdb12(opcode::kVerify12, b1, lba, blocks, o.group_number), 0, out);
}

Result<CommandSpec> write_and_verify10(std::uint64_t lba, std::uint32_t blocks,
                                       std::uint32_t block_size,
                                       const WriteAndVerifyOptions& options) {
  return write_verify(opcode::kWriteAndVerify10, Size::ten, lba, blocks, block_size, options);
}
Result<CommandSpec> write_and_verify12(std::uint64_t lba, std::uint32_t blocks,
                                       std::uint32_t block_size,
                                       const WriteAndVerifyOptions& options) {
  return write_verify(opcode::kWriteAndVerify12, Size::twelve, lba, blocks, block_size, options);
}
Result<CommandSpec> write_and_verify16(std::uint64_t lba, std::uint32_t blocks,
                                       std::uint32_t block_size,
                                       const WriteAndVerifyOptions& options) {
  return write_verify(opcode::kWriteAndVerify16, Size::sixteen, lba, blocks, block_size, options);
}

// PRE-FETCH(10) / (16): byte 1 IMMED 1; LBA, GROUP and PREFETCH LENGTH in the 10/16 layouts.
Result<CommandSpec> prefetch10(std::uint64_t lba, std::uint32_t blocks, bool immed,
                               std::uint8_t group_number) {
  if (lba > 0xffffffffu || blocks > 0xffffu || group_number > kMax5Bits) {
    return errc::invalid_argument;
  }
  return make_spec(cdb10(opcode::kPreFetch10, flag(immed, 1), lba, blocks, group_number), 0, 0);
}
Result<CommandSpec> prefetch16(std::uint64_t lba, std::uint32_t blocks, bool immed,
                               std::uint8_t group_number) {
  if (group_number > kMax5Bits) return errc::invalid_argument;
  return make_spec(cdb16(opcode::kPreFetch16, flag(immed, 1), lba, blocks, group_number), 0, 0);
}

// GET LBA STATUS: byte 1 SERVICE ACTION 12h; 2-9 STARTING LBA; 10-13 ALLOCATION LENGTH.
CommandSpec get_lba_status(std::uint64_t lba, std::uint32_t allocation_length) {
  Cdb c(opcode::kServiceActionIn16, 16);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, service_action::kGetLbaStatus);
  detail::put64(b, 2, lba);
  detail::put32(b, 10, allocation_length);
  return make_spec(c, allocation_length, 0);
}

CommandSpec reserve6() {
  return make_spec(Cdb(opcode::kReserve6, 6), 0, 0);
}
CommandSpec release6() {
  return make_spec(Cdb(opcode::kRelease6, 6), 0, 0);
}
CommandSpec reserve10() {
  return make_spec(Cdb(opcode::kReserve10, 10), 0, 0);
}
CommandSpec release10() {
  return make_spec(Cdb(opcode::kRelease10, 10), 0, 0);
}

}  // namespace uiscsi::scsi
