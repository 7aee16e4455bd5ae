// CDB builders (include/uiscsi/scsi/cdb.hpp). Byte and bit positions follow the CDB tables of
// SPC-4, SBC-3, SSC-3 and SMC-3; each builder lists the fields it sets.
#include "uiscsi/scsi/cdb.hpp"

#include <limits>

#include "scsi/wire.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::scsi {
namespace {

using detail::flag;

// A CommandSpec honouring the direction contract of command.hpp.
CommandSpec spec(const Cdb& cdb, std::uint32_t in, std::uint32_t out) {
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

// blocks * block_size as a 32-bit byte count, or nothing on overflow.
bool byte_count(std::uint64_t blocks, std::uint32_t block_size, std::uint32_t& out) {
  const std::uint64_t n = blocks * block_size;  // both < 2^32: no 64-bit overflow
  if (n > std::numeric_limits<std::uint32_t>::max()) return false;
  out = static_cast<std::uint32_t>(n);
  return true;
}

constexpr std::uint8_t kMax3Bits = 0x07;
constexpr std::uint8_t kMax4Bits = 0x0f;
constexpr std::uint8_t kMax5Bits = 0x1f;
constexpr std::uint8_t kMax6Bits = 0x3f;
constexpr std::uint32_t kMax24Bits = 0xffffff;

enum class Form { ten, sixteen };

// READ / WRITE (10) and (16): byte 1 = PROTECT 7-5, DPO 4, FUA 3; LBA; TRANSFER LENGTH; GROUP.
Result<CommandSpec> read_write(std::uint8_t op, Form form, bool is_write, std::uint64_t lba,
                               std::uint32_t blocks, std::uint32_t block_size,
                               const ReadWriteOptions& o) {
  if (block_size == 0 || o.group_number > kMax5Bits || o.protect > kMax3Bits) {
    return errc::invalid_argument;
  }
  if (form == Form::ten && (lba > 0xffffffffu || blocks > 0xffffu)) return errc::invalid_argument;
  std::uint32_t bytes = 0;
  if (!byte_count(blocks, block_size, bytes)) return errc::invalid_argument;
  const std::uint8_t b1 =
      static_cast<std::uint8_t>((o.protect << 5) | flag(o.dpo, 4) | flag(o.fua, 3));
  if (form == Form::ten) {
    Cdb c(op, 10);
    auto b = c.mutable_bytes();
    detail::put8(b, 1, b1);
    detail::put32(b, 2, static_cast<std::uint32_t>(lba));
    detail::put8(b, 6, o.group_number);
    detail::put16(b, 7, static_cast<std::uint16_t>(blocks));
    return is_write ? spec(c, 0, bytes) : spec(c, bytes, 0);
  }
  Cdb c(op, 16);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, b1);
  detail::put64(b, 2, lba);
  detail::put32(b, 10, blocks);
  detail::put8(b, 14, o.group_number);
  return is_write ? spec(c, 0, bytes) : spec(c, bytes, 0);
}

Result<CommandSpec> verify(std::uint8_t op, Form form, std::uint64_t lba, std::uint32_t blocks,
                           std::uint32_t block_size, const VerifyOptions& o) {
  const auto bytchk = static_cast<std::uint8_t>(o.bytchk);
  if (block_size == 0 || o.group_number > kMax5Bits || o.protect > kMax3Bits || bytchk > 3 ||
      bytchk == 2) {
    return errc::invalid_argument;
  }
  if (form == Form::ten && (lba > 0xffffffffu || blocks > 0xffffu)) return errc::invalid_argument;
  std::uint32_t out = 0;
  if (o.bytchk == ByteCheck::compare && !byte_count(blocks, block_size, out)) {
    return errc::invalid_argument;
  }
  if (o.bytchk == ByteCheck::compare_one_block) out = block_size;
  // Byte 1: VRPROTECT 7-5, DPO 4, BYTCHK 2-1.
  const std::uint8_t b1 =
      static_cast<std::uint8_t>((o.protect << 5) | flag(o.dpo, 4) | (bytchk << 1));
  Cdb c(op, form == Form::ten ? 10 : 16);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, b1);
  if (form == Form::ten) {
    detail::put32(b, 2, static_cast<std::uint32_t>(lba));
    detail::put8(b, 6, o.group_number);
    detail::put16(b, 7, static_cast<std::uint16_t>(blocks));
  } else {
    detail::put64(b, 2, lba);
    detail::put32(b, 10, blocks);
    detail::put8(b, 14, o.group_number);
  }
  return spec(c, 0, out);
}

Result<CommandSpec> write_same(std::uint8_t op, Form form, std::uint64_t lba, std::uint32_t blocks,
                               std::uint32_t block_size, const WriteSameOptions& o) {
  if (block_size == 0 || o.group_number > kMax5Bits || o.protect > kMax3Bits) {
    return errc::invalid_argument;
  }
  if (form == Form::ten && (lba > 0xffffffffu || blocks > 0xffffu || o.ndob)) {
    return errc::invalid_argument;
  }
  // Byte 1: WRPROTECT 7-5, ANCHOR 4, UNMAP 3, NDOB 0 (16 only).
  const std::uint8_t b1 = static_cast<std::uint8_t>((o.protect << 5) | flag(o.anchor, 4) |
                                                    flag(o.unmap, 3) | flag(o.ndob, 0));
  Cdb c(op, form == Form::ten ? 10 : 16);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, b1);
  if (form == Form::ten) {
    detail::put32(b, 2, static_cast<std::uint32_t>(lba));
    detail::put8(b, 6, o.group_number);
    detail::put16(b, 7, static_cast<std::uint16_t>(blocks));
  } else {
    detail::put64(b, 2, lba);
    detail::put32(b, 10, blocks);
    detail::put8(b, 14, o.group_number);
  }
  return spec(c, 0, o.ndob ? 0 : block_size);
}

}  // namespace

// ---- SPC-4 -----------------------------------------------------------------------------------

CommandSpec test_unit_ready() {
  return spec(Cdb(opcode::kTestUnitReady, 6), 0, 0);
}

// INQUIRY: byte 1 bit 0 EVPD, byte 2 PAGE CODE, bytes 3-4 ALLOCATION LENGTH.
CommandSpec inquiry(std::uint16_t allocation_length) {
  Cdb c(opcode::kInquiry, 6);
  detail::put16(c.mutable_bytes(), 3, allocation_length);
  return spec(c, allocation_length, 0);
}

CommandSpec inquiry_vpd(std::uint8_t page_code, std::uint16_t allocation_length) {
  Cdb c(opcode::kInquiry, 6);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, 0x01);
  detail::put8(b, 2, page_code);
  detail::put16(b, 3, allocation_length);
  return spec(c, allocation_length, 0);
}

// REPORT LUNS: byte 2 SELECT REPORT, bytes 6-9 ALLOCATION LENGTH.
Result<CommandSpec> report_luns(std::uint32_t allocation_length, ReportLunsSelect select) {
  if (allocation_length < 16) return errc::invalid_argument;
  Cdb c(opcode::kReportLuns, 12);
  auto b = c.mutable_bytes();
  detail::put8(b, 2, static_cast<std::uint8_t>(select));
  detail::put32(b, 6, allocation_length);
  return spec(c, allocation_length, 0);
}

// REQUEST SENSE: byte 1 bit 0 DESC, byte 4 ALLOCATION LENGTH.
CommandSpec request_sense(std::uint8_t allocation_length, bool descriptor_format) {
  Cdb c(opcode::kRequestSense, 6);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, flag(descriptor_format, 0));
  detail::put8(b, 4, allocation_length);
  return spec(c, allocation_length, 0);
}

// MODE SENSE(6): byte 1 bit 3 DBD; byte 2 PC 7-6, PAGE CODE 5-0; byte 3 SUBPAGE; byte 4 ALLOC.
Result<CommandSpec> mode_sense6(std::uint8_t page_code, std::uint8_t subpage,
                                std::uint8_t allocation_length, const ModeSenseOptions& o) {
  if (page_code > kMax6Bits || o.llbaa) return errc::invalid_argument;
  Cdb c(opcode::kModeSense6, 6);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, flag(o.dbd, 3));
  detail::put8(b, 2,
               static_cast<std::uint8_t>((static_cast<unsigned>(o.page_control) << 6) | page_code));
  detail::put8(b, 3, subpage);
  detail::put8(b, 4, allocation_length);
  return spec(c, allocation_length, 0);
}

// MODE SENSE(10): byte 1 LLBAA 4, DBD 3; byte 2 PC/PAGE CODE; byte 3 SUBPAGE; bytes 7-8 ALLOC.
Result<CommandSpec> mode_sense10(std::uint8_t page_code, std::uint8_t subpage,
                                 std::uint16_t allocation_length, const ModeSenseOptions& o) {
  if (page_code > kMax6Bits) return errc::invalid_argument;
  Cdb c(opcode::kModeSense10, 10);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, static_cast<std::uint8_t>(flag(o.llbaa, 4) | flag(o.dbd, 3)));
  detail::put8(b, 2,
               static_cast<std::uint8_t>((static_cast<unsigned>(o.page_control) << 6) | page_code));
  detail::put8(b, 3, subpage);
  detail::put16(b, 7, allocation_length);
  return spec(c, allocation_length, 0);
}

// MODE SELECT(6): byte 1 PF 4, SP 0; byte 4 PARAMETER LIST LENGTH.
CommandSpec mode_select6(std::uint8_t parameter_list_length, bool pf, bool sp) {
  Cdb c(opcode::kModeSelect6, 6);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, static_cast<std::uint8_t>(flag(pf, 4) | flag(sp, 0)));
  detail::put8(b, 4, parameter_list_length);
  return spec(c, 0, parameter_list_length);
}

// MODE SELECT(10): byte 1 PF 4, SP 0; bytes 7-8 PARAMETER LIST LENGTH.
CommandSpec mode_select10(std::uint16_t parameter_list_length, bool pf, bool sp) {
  Cdb c(opcode::kModeSelect10, 10);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, static_cast<std::uint8_t>(flag(pf, 4) | flag(sp, 0)));
  detail::put16(b, 7, parameter_list_length);
  return spec(c, 0, parameter_list_length);
}

// LOG SENSE: byte 1 SP 0; byte 2 PC 7-6, PAGE CODE 5-0; byte 3 SUBPAGE; bytes 5-6 PARAMETER
// POINTER; bytes 7-8 ALLOCATION LENGTH.
Result<CommandSpec> log_sense(std::uint8_t page_code, std::uint8_t subpage,
                              std::uint16_t allocation_length, const LogSenseOptions& o) {
  if (page_code > kMax6Bits || static_cast<std::uint8_t>(o.page_control) > 3) {
    return errc::invalid_argument;
  }
  Cdb c(opcode::kLogSense, 10);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, flag(o.sp, 0));
  detail::put8(b, 2,
               static_cast<std::uint8_t>((static_cast<unsigned>(o.page_control) << 6) | page_code));
  detail::put8(b, 3, subpage);
  detail::put16(b, 5, o.parameter_pointer);
  detail::put16(b, 7, allocation_length);
  return spec(c, allocation_length, 0);
}

// PERSISTENT RESERVE IN: byte 1 SERVICE ACTION 4-0; bytes 7-8 ALLOCATION LENGTH.
CommandSpec persistent_reserve_in(PrInAction action, std::uint16_t allocation_length) {
  Cdb c(opcode::kPersistentReserveIn, 10);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, static_cast<std::uint8_t>(static_cast<std::uint8_t>(action) & kMax5Bits));
  detail::put16(b, 7, allocation_length);
  return spec(c, allocation_length, 0);
}

// PERSISTENT RESERVE OUT: byte 1 SERVICE ACTION 4-0; byte 2 SCOPE 7-4 (0), TYPE 3-0;
// bytes 5-8 PARAMETER LIST LENGTH.
CommandSpec persistent_reserve_out(PrOutAction action, PrType type,
                                   std::uint32_t parameter_list_length) {
  Cdb c(opcode::kPersistentReserveOut, 10);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, static_cast<std::uint8_t>(static_cast<std::uint8_t>(action) & kMax5Bits));
  detail::put8(b, 2, static_cast<std::uint8_t>(static_cast<std::uint8_t>(type) & kMax4Bits));
  detail::put32(b, 5, parameter_list_length);
  return spec(c, 0, parameter_list_length);
}

// Basic parameter list: bytes 0-7 RESERVATION KEY, 8-15 SERVICE ACTION RESERVATION KEY,
// 16-19 obsolete, byte 20 SPEC_I_PT 3, ALL_TG_PT 2, APTPL 0; 21-23 reserved/obsolete.
std::array<std::byte, 24> build_pr_out_parameters(const PrOutParameters& p) {
  std::array<std::byte, 24> out{};
  detail::put64(out, 0, p.reservation_key);
  detail::put64(out, 8, p.service_action_reservation_key);
  detail::put8(
      out, 20,
      static_cast<std::uint8_t>(flag(p.spec_i_pt, 3) | flag(p.all_tg_pt, 2) | flag(p.aptpl, 0)));
  return out;
}

// PREVENT ALLOW MEDIUM REMOVAL: byte 4 PREVENT 1-0.
CommandSpec prevent_allow_medium_removal(bool prevent) {
  Cdb c(opcode::kPreventAllowMediumRemoval, 6);
  detail::put8(c.mutable_bytes(), 4, prevent ? 0x01 : 0x00);
  return spec(c, 0, 0);
}

// REPORT SUPPORTED OPERATION CODES: byte 1 SA 0Ch; byte 2 RCTD 7, REPORTING OPTIONS 2-0;
// byte 3 REQUESTED OPERATION CODE; 4-5 REQUESTED SERVICE ACTION; 6-9 ALLOCATION LENGTH.
Result<CommandSpec> report_supported_operation_codes(std::uint32_t allocation_length,
                                                     const ReportOpcodesOptions& o) {
  if (o.reporting_options > kMax3Bits) return errc::invalid_argument;
  Cdb c(opcode::kMaintenanceIn, 12);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, service_action::kReportSupportedOperationCodes);
  detail::put8(b, 2, static_cast<std::uint8_t>(flag(o.rctd, 7) | o.reporting_options));
  detail::put8(b, 3, o.opcode);
  detail::put16(b, 4, o.service_action);
  detail::put32(b, 6, allocation_length);
  return spec(c, allocation_length, 0);
}

// ---- SBC-3 -----------------------------------------------------------------------------------

CommandSpec read_capacity10() {
  return spec(Cdb(opcode::kReadCapacity10, 10), 8, 0);
}

// SERVICE ACTION IN(16): byte 1 SA 10h; bytes 10-13 ALLOCATION LENGTH.
CommandSpec read_capacity16(std::uint32_t allocation_length) {
  Cdb c(opcode::kServiceActionIn16, 16);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, service_action::kReadCapacity16);
  detail::put32(b, 10, allocation_length);
  return spec(c, allocation_length, 0);
}

Result<CommandSpec> read10(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                           const ReadWriteOptions& options) {
  return read_write(opcode::kRead10, Form::ten, false, lba, blocks, block_size, options);
}
Result<CommandSpec> write10(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                            const ReadWriteOptions& options) {
  return read_write(opcode::kWrite10, Form::ten, true, lba, blocks, block_size, options);
}
Result<CommandSpec> read16(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                           const ReadWriteOptions& options) {
  return read_write(opcode::kRead16, Form::sixteen, false, lba, blocks, block_size, options);
}
Result<CommandSpec> write16(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                            const ReadWriteOptions& options) {
  return read_write(opcode::kWrite16, Form::sixteen, true, lba, blocks, block_size, options);
}

Result<CommandSpec> verify10(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                             const VerifyOptions& options) {
  return verify(opcode::kVerify10, Form::ten, lba, blocks, block_size, options);
}
Result<CommandSpec> verify16(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                             const VerifyOptions& options) {
  return verify(opcode::kVerify16, Form::sixteen, lba, blocks, block_size, options);
}

Result<CommandSpec> write_same10(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                                 const WriteSameOptions& options) {
  return write_same(opcode::kWriteSame10, Form::ten, lba, blocks, block_size, options);
}
Result<CommandSpec> write_same16(std::uint64_t lba, std::uint32_t blocks, std::uint32_t block_size,
                                 const WriteSameOptions& options) {
  return write_same(opcode::kWriteSame16, Form::sixteen, lba, blocks, block_size, options);
}

// UNMAP: byte 1 ANCHOR 0; byte 6 GROUP NUMBER 4-0; bytes 7-8 PARAMETER LIST LENGTH.
Result<CommandSpec> unmap(std::uint16_t parameter_list_length, bool anchor,
                          std::uint8_t group_number) {
  if (group_number > kMax5Bits) return errc::invalid_argument;
  Cdb c(opcode::kUnmap, 10);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, flag(anchor, 0));
  detail::put8(b, 6, group_number);
  detail::put16(b, 7, parameter_list_length);
  return spec(c, 0, parameter_list_length);
}

// Header: bytes 0-1 UNMAP DATA LENGTH (n - 2), 2-3 BLOCK DESCRIPTOR DATA LENGTH (n - 8),
// 4-7 reserved. Descriptor: 0-7 LBA, 8-11 NUMBER OF LOGICAL BLOCKS, 12-15 reserved.
Result<std::vector<std::byte>> build_unmap_parameter_list(std::span<const UnmapDescriptor> ranges) {
  const std::size_t total = 8 + 16 * ranges.size();
  if (total > 0xffff) return errc::invalid_argument;
  std::vector<std::byte> out(total);
  detail::put16(out, 0, static_cast<std::uint16_t>(total - 2));
  detail::put16(out, 2, static_cast<std::uint16_t>(total - 8));
  std::size_t off = 8;
  for (const UnmapDescriptor& r : ranges) {
    detail::put64(out, off, r.lba);
    detail::put32(out, off + 8, r.blocks);
    off += 16;
  }
  return out;
}

// COMPARE AND WRITE: byte 1 WRPROTECT 7-5, DPO 4, FUA 3; 2-9 LBA; 13 NUMBER OF LOGICAL
// BLOCKS; 14 GROUP NUMBER.
Result<CommandSpec> compare_and_write(std::uint64_t lba, std::uint8_t blocks,
                                      std::uint32_t block_size, const ReadWriteOptions& o) {
  if (block_size == 0 || o.group_number > kMax5Bits || o.protect > kMax3Bits) {
    return errc::invalid_argument;
  }
  std::uint32_t bytes = 0;
  if (!byte_count(2ull * blocks, block_size, bytes)) return errc::invalid_argument;
  Cdb c(opcode::kCompareAndWrite, 16);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, static_cast<std::uint8_t>((o.protect << 5) | flag(o.dpo, 4) | flag(o.fua, 3)));
  detail::put64(b, 2, lba);
  detail::put8(b, 13, blocks);
  detail::put8(b, 14, o.group_number);
  return spec(c, 0, bytes);
}

// SYNCHRONIZE CACHE(10): byte 1 IMMED 1; 2-5 LBA; 7-8 NUMBER OF LOGICAL BLOCKS.
Result<CommandSpec> synchronize_cache10(std::uint64_t lba, std::uint32_t blocks, bool immed) {
  if (lba > 0xffffffffu || blocks > 0xffffu) return errc::invalid_argument;
  Cdb c(opcode::kSynchronizeCache10, 10);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, flag(immed, 1));
  detail::put32(b, 2, static_cast<std::uint32_t>(lba));
  detail::put16(b, 7, static_cast<std::uint16_t>(blocks));
  return spec(c, 0, 0);
}

// SYNCHRONIZE CACHE(16): byte 1 IMMED 1; 2-9 LBA; 10-13 NUMBER OF LOGICAL BLOCKS.
CommandSpec synchronize_cache16(std::uint64_t lba, std::uint32_t blocks, bool immed) {
  Cdb c(opcode::kSynchronizeCache16, 16);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, flag(immed, 1));
  detail::put64(b, 2, lba);
  detail::put32(b, 10, blocks);
  return spec(c, 0, 0);
}

// START STOP UNIT: byte 1 IMMED 0; byte 3 POWER CONDITION MODIFIER 3-0; byte 4 POWER
// CONDITION 7-4, NO_FLUSH 2, LOEJ 1, START 0.
Result<CommandSpec> start_stop_unit(const StartStopOptions& o) {
  const auto pc = static_cast<std::uint8_t>(o.power_condition);
  if (pc > kMax4Bits || o.power_condition_modifier > kMax4Bits) return errc::invalid_argument;
  Cdb c(opcode::kStartStopUnit, 6);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, flag(o.immed, 0));
  detail::put8(b, 3, o.power_condition_modifier);
  detail::put8(b, 4,
               static_cast<std::uint8_t>((pc << 4) | flag(o.no_flush, 2) | flag(o.loej, 1) |
                                         flag(o.start, 0)));
  return spec(c, 0, 0);
}

// ---- SSC-3 -----------------------------------------------------------------------------------

// READ(6) / WRITE(6): byte 1 SILI 1 (READ only), FIXED 0; bytes 2-4 TRANSFER LENGTH.
Result<CommandSpec> read6_tape(std::uint32_t count, std::uint32_t block_size, bool sili) {
  const bool fixed = block_size != 0;
  if (count > kMax24Bits || (fixed && sili)) return errc::invalid_argument;
  std::uint32_t bytes = count;
  if (fixed && !byte_count(count, block_size, bytes)) return errc::invalid_argument;
  Cdb c(opcode::kRead6, 6);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, static_cast<std::uint8_t>(flag(sili, 1) | flag(fixed, 0)));
  detail::put24(b, 2, count);
  return spec(c, bytes, 0);
}

Result<CommandSpec> write6_tape(std::uint32_t count, std::uint32_t block_size) {
  const bool fixed = block_size != 0;
  if (count > kMax24Bits) return errc::invalid_argument;
  std::uint32_t bytes = count;
  if (fixed && !byte_count(count, block_size, bytes)) return errc::invalid_argument;
  Cdb c(opcode::kWrite6, 6);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, flag(fixed, 0));
  detail::put24(b, 2, count);
  return spec(c, 0, bytes);
}

// WRITE FILEMARKS(6): byte 1 WSMK 1, IMMED 0; bytes 2-4 TRANSFER LENGTH (marks).
Result<CommandSpec> write_filemarks6(std::uint32_t count, bool immed, bool setmarks) {
  if (count > kMax24Bits) return errc::invalid_argument;
  Cdb c(opcode::kWriteFilemarks6, 6);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, static_cast<std::uint8_t>(flag(setmarks, 1) | flag(immed, 0)));
  detail::put24(b, 2, count);
  return spec(c, 0, 0);
}

// SPACE(6): byte 1 CODE 3-0; bytes 2-4 COUNT (two's complement).
Result<CommandSpec> space6(SpaceCode code, std::int32_t count) {
  const auto raw_code = static_cast<std::uint8_t>(code);
  if (raw_code > kMax4Bits || count < -(1 << 23) || count > (1 << 23) - 1) {
    return errc::invalid_argument;
  }
  Cdb c(opcode::kSpace6, 6);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, raw_code);
  detail::put24(b, 2, static_cast<std::uint32_t>(count) & kMax24Bits);
  return spec(c, 0, 0);
}

// SPACE(16): byte 1 CODE 3-0; bytes 4-11 COUNT; bytes 12-13 PARAMETER LENGTH (0).
CommandSpec space16(SpaceCode code, std::int64_t count) {
  Cdb c(opcode::kSpace16, 16);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, static_cast<std::uint8_t>(static_cast<std::uint8_t>(code) & kMax4Bits));
  detail::put64(b, 4, static_cast<std::uint64_t>(count));
  return spec(c, 0, 0);
}

// REWIND: byte 1 IMMED 0.
CommandSpec rewind(bool immed) {
  Cdb c(opcode::kRewind, 6);
  detail::put8(c.mutable_bytes(), 1, flag(immed, 0));
  return spec(c, 0, 0);
}

// LOCATE(10): byte 1 BT 2 (0), CP 1, IMMED 0; bytes 3-6 LOGICAL OBJECT IDENTIFIER; byte 8
// PARTITION.
Result<CommandSpec> locate10(std::uint64_t block, const LocateOptions& o) {
  if (block > 0xffffffffu) return errc::invalid_argument;
  Cdb c(opcode::kLocate10, 10);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, static_cast<std::uint8_t>(flag(o.change_partition, 1) | flag(o.immed, 0)));
  detail::put32(b, 3, static_cast<std::uint32_t>(block));
  detail::put8(b, 8, o.partition);
  return spec(c, 0, 0);
}

// LOCATE(16): byte 1 DEST_TYPE 5-3, CP 1, IMMED 0; byte 2 BAM 0 (0: implicit); byte 3
// PARTITION; bytes 4-11 LOGICAL IDENTIFIER.
CommandSpec locate16(std::uint64_t identifier, LocateDestination destination,
                     const LocateOptions& o) {
  Cdb c(opcode::kLocate16, 16);
  auto b = c.mutable_bytes();
  const auto dest = static_cast<std::uint8_t>(static_cast<std::uint8_t>(destination) & kMax3Bits);
  detail::put8(
      b, 1,
      static_cast<std::uint8_t>((dest << 3) | flag(o.change_partition, 1) | flag(o.immed, 0)));
  detail::put8(b, 3, o.partition);
  detail::put64(b, 4, identifier);
  return spec(c, 0, 0);
}

// READ POSITION: byte 1 SERVICE ACTION 4-0; bytes 7-8 ALLOCATION LENGTH (extended form only).
CommandSpec read_position(ReadPositionForm form) {
  Cdb c(opcode::kReadPosition, 10);
  auto b = c.mutable_bytes();
  const auto sa = static_cast<std::uint8_t>(static_cast<std::uint8_t>(form) & kMax5Bits);
  detail::put8(b, 1, sa);
  std::uint32_t length = 20;
  if (form == ReadPositionForm::long_form) length = 32;
  if (form == ReadPositionForm::extended_form) {
    length = 32;
    detail::put16(b, 7, 32);
  }
  return spec(c, length, 0);
}

// ERASE(6): byte 1 IMMED 1, LONG 0.
CommandSpec erase6(bool long_erase, bool immed) {
  Cdb c(opcode::kErase6, 6);
  detail::put8(c.mutable_bytes(), 1,
               static_cast<std::uint8_t>(flag(immed, 1) | flag(long_erase, 0)));
  return spec(c, 0, 0);
}

// LOAD UNLOAD: byte 1 IMMED 0; byte 4 HOLD 3, EOT 2, RETEN 1, LOAD 0.
CommandSpec load_unload(bool load, const LoadUnloadOptions& o) {
  Cdb c(opcode::kLoadUnload, 6);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, flag(o.immed, 0));
  detail::put8(b, 4,
               static_cast<std::uint8_t>(flag(o.hold, 3) | flag(o.eot, 2) | flag(o.retension, 1) |
                                         flag(load, 0)));
  return spec(c, 0, 0);
}

CommandSpec read_block_limits() {
  return spec(Cdb(opcode::kReadBlockLimits, 6), 6, 0);
}

// REPORT DENSITY SUPPORT: byte 1 MEDIUM TYPE 1 (0), MEDIA 0; bytes 7-8 ALLOCATION LENGTH.
CommandSpec report_density_support(bool media, std::uint16_t allocation_length) {
  Cdb c(opcode::kReportDensitySupport, 10);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, flag(media, 0));
  detail::put16(b, 7, allocation_length);
  return spec(c, allocation_length, 0);
}

// ---- SMC-3 -----------------------------------------------------------------------------------

// READ ELEMENT STATUS: byte 1 VOLTAG 4, ELEMENT TYPE CODE 3-0; 2-3 STARTING ELEMENT ADDRESS;
// 4-5 NUMBER OF ELEMENTS; byte 6 CURDATA 1, DVCID 0; 7-9 ALLOCATION LENGTH.
Result<CommandSpec> read_element_status(ElementType type, std::uint16_t starting_address,
                                        std::uint16_t count, std::uint32_t allocation_length,
                                        const ReadElementStatusOptions& o) {
  const auto raw_type = static_cast<std::uint8_t>(type);
  if (allocation_length > kMax24Bits || raw_type > kMax4Bits) return errc::invalid_argument;
  Cdb c(opcode::kReadElementStatus, 12);
  auto b = c.mutable_bytes();
  detail::put8(b, 1, static_cast<std::uint8_t>(flag(o.voltag, 4) | raw_type));
  detail::put16(b, 2, starting_address);
  detail::put16(b, 4, count);
  detail::put8(b, 6, static_cast<std::uint8_t>(flag(o.curdata, 1) | flag(o.dvcid, 0)));
  detail::put24(b, 7, allocation_length);
  return spec(c, allocation_length, 0);
}

// MOVE MEDIUM: 2-3 MEDIUM TRANSPORT ADDRESS; 4-5 SOURCE; 6-7 DESTINATION; byte 10 INVERT 0.
CommandSpec move_medium(std::uint16_t transport, std::uint16_t source, std::uint16_t destination,
                        bool invert) {
  Cdb c(opcode::kMoveMedium, 12);
  auto b = c.mutable_bytes();
  detail::put16(b, 2, transport);
  detail::put16(b, 4, source);
  detail::put16(b, 6, destination);
  detail::put8(b, 10, flag(invert, 0));
  return spec(c, 0, 0);
}

CommandSpec initialize_element_status() {
  return spec(Cdb(opcode::kInitializeElementStatus, 6), 0, 0);
}

// POSITION TO ELEMENT: 2-3 MEDIUM TRANSPORT ADDRESS; 4-5 DESTINATION; byte 8 INVERT 0.
CommandSpec position_to_element(std::uint16_t transport, std::uint16_t destination, bool invert) {
  Cdb c(opcode::kPositionToElement, 10);
  auto b = c.mutable_bytes();
  detail::put16(b, 2, transport);
  detail::put16(b, 4, destination);
  detail::put8(b, 8, flag(invert, 0));
  return spec(c, 0, 0);
}

}  // namespace uiscsi::scsi
