// CDB builders for SPC-4, SBC-3, SSC-3 and SMC-3 commands.
//
// Each builder returns the CommandSpec of one command: the CDB bytes plus direction and
// expected lengths (see command.hpp for that contract). Builders whose arguments can be out of
// range return Result<CommandSpec> and fail with uiscsi::errc::invalid_argument; the others
// cannot fail. The CONTROL byte is always 0 (no NACA, no linking).
//
// Flags travel in small option structs, so call sites read as
//   write16(lba, blocks, 512, {.fua = true});
// instead of positional booleans.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "uiscsi/export.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/scsi/command.hpp"

namespace uiscsi::scsi {

// ---------------------------------------------------------------------------------------------
// SPC-4 primary commands
// ---------------------------------------------------------------------------------------------

// TEST UNIT READY (SPC-4), opcode 00h.
UISCSI_API CommandSpec test_unit_ready();

// INQUIRY (SPC-4), opcode 12h, standard data (EVPD=0, PAGE CODE 0).
UISCSI_API CommandSpec inquiry(std::uint16_t allocation_length = 255);

// INQUIRY with EVPD=1 for vital product data page `page_code` (SPC-4).
UISCSI_API CommandSpec inquiry_vpd(std::uint8_t page_code, std::uint16_t allocation_length = 255);

// SELECT REPORT field of REPORT LUNS (SPC-4).
enum class ReportLunsSelect : std::uint8_t {
  all = 0x00,             // logical units, excluding well-known ones
  well_known = 0x01,      // well-known logical units only
  all_accessible = 0x02,  // everything accessible to the I_T nexus
};

// REPORT LUNS (SPC-4), opcode A0h. The device rejects allocation lengths below 16, so the
// builder does too (errc::invalid_argument).
UISCSI_API Result<CommandSpec> report_luns(std::uint32_t allocation_length = 4096,
                                           ReportLunsSelect select = ReportLunsSelect::all);

// REQUEST SENSE (SPC-4), opcode 03h. descriptor_format sets DESC (byte 1 bit 0).
UISCSI_API CommandSpec request_sense(std::uint8_t allocation_length = 252,
                                     bool descriptor_format = false);

// PAGE CONTROL of MODE SENSE (SPC-4).
enum class PageControl : std::uint8_t { current = 0, changeable = 1, defaults = 2, saved = 3 };

struct UISCSI_API ModeSenseOptions {
  bool dbd = false;  // disable block descriptors (byte 1 bit 3)
  PageControl page_control = PageControl::current;
  bool llbaa = false;  // MODE SENSE(10) only: long LBA descriptors accepted (byte 1 bit 4)
};

// MODE SENSE(6) (SPC-4), opcode 1Ah. page_code 0x3F is "all pages", subpage 0xFF "all
// subpages". errc::invalid_argument if page_code > 0x3F or options.llbaa is set (6-byte form
// has no LLBAA).
UISCSI_API Result<CommandSpec> mode_sense6(std::uint8_t page_code, std::uint8_t subpage = 0,
                                           std::uint8_t allocation_length = 255,
                                           const ModeSenseOptions& options = {});
// MODE SENSE(10) (SPC-4), opcode 5Ah.
UISCSI_API Result<CommandSpec> mode_sense10(std::uint8_t page_code, std::uint8_t subpage = 0,
                                            std::uint16_t allocation_length = 4096,
                                            const ModeSenseOptions& options = {});

// MODE SELECT(6) (SPC-4), opcode 15h; the parameter list (header, block descriptors,
// pages: see build_mode_parameters6 in data_build.hpp) is the Data-Out. pf: page format (byte 1
// bit 4), sp: save pages (byte 1 bit 0).
UISCSI_API CommandSpec mode_select6(std::uint8_t parameter_list_length, bool pf = true,
                                    bool sp = false);
// MODE SELECT(10) (SPC-4), opcode 55h.
UISCSI_API CommandSpec mode_select10(std::uint16_t parameter_list_length, bool pf = true,
                                     bool sp = false);

// PAGE CONTROL of LOG SENSE (SPC-4).
enum class LogPageControl : std::uint8_t {
  threshold = 0,
  cumulative = 1,
  default_threshold = 2,
  default_cumulative = 3,
};

struct UISCSI_API LogSenseOptions {
  LogPageControl page_control = LogPageControl::cumulative;
  std::uint16_t parameter_pointer = 0;  // first parameter code to return
  bool sp = false;                      // save parameters (byte 1 bit 0)
};

// LOG SENSE (SPC-4), opcode 4Dh. errc::invalid_argument if page_code > 0x3F.
UISCSI_API Result<CommandSpec> log_sense(std::uint8_t page_code, std::uint8_t subpage = 0,
                                         std::uint16_t allocation_length = 4096,
                                         const LogSenseOptions& options = {});

// SERVICE ACTION of PERSISTENT RESERVE IN (SPC-4).
enum class PrInAction : std::uint8_t {
  read_keys = 0x00,
  read_reservation = 0x01,
  report_capabilities = 0x02,
  read_full_status = 0x03,
};

// PERSISTENT RESERVE IN (SPC-4), opcode 5Eh.
UISCSI_API CommandSpec persistent_reserve_in(PrInAction action,
                                             std::uint16_t allocation_length = 1024);

// SERVICE ACTION of PERSISTENT RESERVE OUT (SPC-4).
enum class PrOutAction : std::uint8_t {
  register_key = 0x00,
  reserve = 0x01,
  release = 0x02,
  clear = 0x03,
  preempt = 0x04,
  preempt_and_abort = 0x05,
  register_and_ignore_existing_key = 0x06,
  register_and_move = 0x07,  // needs a different parameter list; not built by this library
};

// TYPE of a persistent reservation (SPC-4). none (0) where TYPE is ignored.
enum class PrType : std::uint8_t {
  none = 0x0,
  write_exclusive = 0x1,
  exclusive_access = 0x3,
  write_exclusive_registrants_only = 0x5,
  exclusive_access_registrants_only = 0x6,
  write_exclusive_all_registrants = 0x7,
  exclusive_access_all_registrants = 0x8,
};

// PERSISTENT RESERVE OUT (SPC-4), opcode 5Fh, SCOPE = LU_SCOPE. The Data-Out is the
// 24-byte basic parameter list (build_pr_out_parameters).
UISCSI_API CommandSpec persistent_reserve_out(PrOutAction action, PrType type = PrType::none,
                                              std::uint32_t parameter_list_length = 24);

// Fields of the PERSISTENT RESERVE OUT basic parameter list (SPC-4).
struct UISCSI_API PrOutParameters {
  std::uint64_t reservation_key = 0;
  std::uint64_t service_action_reservation_key = 0;
  bool spec_i_pt = false;  // byte 20 bit 3
  bool all_tg_pt = false;  // byte 20 bit 2
  bool aptpl = false;      // byte 20 bit 0: persist through power loss
};
UISCSI_API std::array<std::byte, 24> build_pr_out_parameters(const PrOutParameters& p);

// PREVENT ALLOW MEDIUM REMOVAL (SPC-4, SSC-3, SMC-3), opcode 1Eh: PREVENT field 01b when
// `prevent`, else 00b.
UISCSI_API CommandSpec prevent_allow_medium_removal(bool prevent);

struct UISCSI_API ReportOpcodesOptions {
  // REPORTING OPTIONS (byte 2 bits 2-0): 0 = all commands (the form parse_supported_opcodes
  // reads), 1..3 = one command selected by `opcode` / `service_action`.
  std::uint8_t reporting_options = 0;
  std::uint8_t opcode = 0;
  std::uint16_t service_action = 0;
  bool rctd = false;  // return command timeouts descriptors (byte 2 bit 7)
};

// REPORT SUPPORTED OPERATION CODES (SPC-4), MAINTENANCE IN A3h / SA 0Ch.
// errc::invalid_argument if reporting_options > 7.
UISCSI_API Result<CommandSpec> report_supported_operation_codes(
    std::uint32_t allocation_length = 65536, const ReportOpcodesOptions& options = {});

// ---------------------------------------------------------------------------------------------
// SBC-3 block commands
// ---------------------------------------------------------------------------------------------

// READ CAPACITY(10) (SBC-3), opcode 25h: 8 bytes of data.
UISCSI_API CommandSpec read_capacity10();
// READ CAPACITY(16) (SBC-3), SERVICE ACTION IN(16) 9Eh / SA 10h: 32 bytes of data.
UISCSI_API CommandSpec read_capacity16(std::uint32_t allocation_length = 32);

struct UISCSI_API ReadWriteOptions {
  bool fua = false;               // force unit access (byte 1 bit 3)
  bool dpo = false;               // disable page out (byte 1 bit 4)
  std::uint8_t group_number = 0;  // GROUP NUMBER, 5 bits
  std::uint8_t protect = 0;       // RDPROTECT / WRPROTECT, 3 bits (byte 1 bits 7-5)
};

// READ(10) / WRITE(10) (SBC-3), opcodes 28h / 2Ah. The data length is
// blocks * block_size. errc::invalid_argument when block_size is 0, lba > 0xFFFFFFFF,
// blocks > 0xFFFF, the byte count overflows 32 bits, or an option is out of range.
UISCSI_API Result<CommandSpec> read10(std::uint64_t lba, std::uint32_t blocks,
                                      std::uint32_t block_size,
                                      const ReadWriteOptions& options = {});
UISCSI_API Result<CommandSpec> write10(std::uint64_t lba, std::uint32_t blocks,
                                       std::uint32_t block_size,
                                       const ReadWriteOptions& options = {});
// READ(16) / WRITE(16) (SBC-3), opcodes 88h / 8Ah.
UISCSI_API Result<CommandSpec> read16(std::uint64_t lba, std::uint32_t blocks,
                                      std::uint32_t block_size,
                                      const ReadWriteOptions& options = {});
UISCSI_API Result<CommandSpec> write16(std::uint64_t lba, std::uint32_t blocks,
                                       std::uint32_t block_size,
                                       const ReadWriteOptions& options = {});

// BYTCHK of VERIFY (SBC-3).
enum class ByteCheck : std::uint8_t {
  none = 0,               // medium verification only, no Data-Out
  compare = 1,            // compare blocks * block_size bytes of Data-Out
  compare_one_block = 3,  // compare one block of Data-Out against every block
};

struct UISCSI_API VerifyOptions {
  ByteCheck bytchk = ByteCheck::none;
  bool dpo = false;
  std::uint8_t group_number = 0;
  std::uint8_t protect = 0;  // VRPROTECT
};

// VERIFY(10) / VERIFY(16) (SBC-3), opcodes 2Fh / 8Fh. Limits as for READ.
UISCSI_API Result<CommandSpec> verify10(std::uint64_t lba, std::uint32_t blocks,
                                        std::uint32_t block_size,
                                        const VerifyOptions& options = {});
UISCSI_API Result<CommandSpec> verify16(std::uint64_t lba, std::uint32_t blocks,
                                        std::uint32_t block_size,
                                        const VerifyOptions& options = {});

struct UISCSI_API WriteSameOptions {
  bool unmap = false;   // byte 1 bit 3
  bool anchor = false;  // byte 1 bit 4
  bool ndob = false;    // WRITE SAME(16) only: no Data-Out buffer (byte 1 bit 0)
  std::uint8_t group_number = 0;
  std::uint8_t protect = 0;  // WRPROTECT
};

// WRITE SAME(10) / (16) (SBC-3), opcodes 41h / 93h. Data-Out is one block unless
// ndob. blocks == 0 means "to the last LBA" where the device allows it (WSNZ=0).
// errc::invalid_argument for the READ limits (blocks <= 0xFFFF for (10)) or ndob on (10).
UISCSI_API Result<CommandSpec> write_same10(std::uint64_t lba, std::uint32_t blocks,
                                            std::uint32_t block_size,
                                            const WriteSameOptions& options = {});
UISCSI_API Result<CommandSpec> write_same16(std::uint64_t lba, std::uint32_t blocks,
                                            std::uint32_t block_size,
                                            const WriteSameOptions& options = {});

// UNMAP (SBC-3), opcode 42h. The Data-Out is the parameter list from
// build_unmap_parameter_list. errc::invalid_argument if group_number > 31.
UISCSI_API Result<CommandSpec> unmap(std::uint16_t parameter_list_length, bool anchor = false,
                                     std::uint8_t group_number = 0);

struct UISCSI_API UnmapDescriptor {
  std::uint64_t lba = 0;
  std::uint32_t blocks = 0;
};
// The UNMAP parameter list (SBC-3): an 8-byte header and one 16-byte block descriptor
// per entry. errc::invalid_argument if the list does not fit the 16-bit length (> 4095 entries).
UISCSI_API Result<std::vector<std::byte>> build_unmap_parameter_list(
    std::span<const UnmapDescriptor> ranges);

// COMPARE AND WRITE (SBC-3), opcode 89h. Data-Out is 2 * blocks * block_size (verify
// data then write data). errc::invalid_argument when blocks > 255 or the length overflows.
UISCSI_API Result<CommandSpec> compare_and_write(std::uint64_t lba, std::uint8_t blocks,
                                                 std::uint32_t block_size,
                                                 const ReadWriteOptions& options = {});

// SYNCHRONIZE CACHE(10) / (16) (SBC-3), opcodes 35h / 91h. lba 0 + blocks 0 means
// the whole medium. (10): errc::invalid_argument if lba > 0xFFFFFFFF or blocks > 0xFFFF.
UISCSI_API Result<CommandSpec> synchronize_cache10(std::uint64_t lba = 0, std::uint32_t blocks = 0,
                                                   bool immed = false);
UISCSI_API CommandSpec synchronize_cache16(std::uint64_t lba = 0, std::uint32_t blocks = 0,
                                           bool immed = false);

// POWER CONDITION of START STOP UNIT (SBC-3).
enum class PowerCondition : std::uint8_t {
  start_valid = 0x0,  // honour START and LOEJ
  active = 0x1,
  idle = 0x2,
  standby = 0x3,
  lu_control = 0x7,
  force_idle_0 = 0xa,
  force_standby_0 = 0xb,
};

struct UISCSI_API StartStopOptions {
  bool start = true;   // byte 4 bit 0
  bool loej = false;   // load/eject (byte 4 bit 1)
  bool immed = false;  // byte 1 bit 0
  bool no_flush = false;
  PowerCondition power_condition = PowerCondition::start_valid;  // byte 4 bits 7-4
  std::uint8_t power_condition_modifier = 0;                     // byte 3 bits 3-0
};

// START STOP UNIT (SBC-3), opcode 1Bh. errc::invalid_argument if the power condition or
// its modifier does not fit 4 bits.
UISCSI_API Result<CommandSpec> start_stop_unit(const StartStopOptions& options = {});

// READ(6) / WRITE(6) for direct-access devices (SBC-3), opcodes 08h / 0Ah: a 21-bit LBA and
// 1 to 256 blocks (256 is sent as TRANSFER LENGTH 0). errc::invalid_argument when block_size is
// 0, lba > 0x1FFFFF, blocks is 0 or above 256, or the byte count overflows 32 bits. (The tape
// forms are read6_tape / write6_tape.)
UISCSI_API Result<CommandSpec> read6(std::uint32_t lba, std::uint32_t blocks,
                                     std::uint32_t block_size);
UISCSI_API Result<CommandSpec> write6(std::uint32_t lba, std::uint32_t blocks,
                                      std::uint32_t block_size);

// READ(12) / WRITE(12) (SBC-3), opcodes A8h / AAh. Limits as READ(10) except blocks (32 bits).
UISCSI_API Result<CommandSpec> read12(std::uint64_t lba, std::uint32_t blocks,
                                      std::uint32_t block_size,
                                      const ReadWriteOptions& options = {});
UISCSI_API Result<CommandSpec> write12(std::uint64_t lba, std::uint32_t blocks,
                                       std::uint32_t block_size,
                                       const ReadWriteOptions& options = {});
// VERIFY(12) (SBC-3), opcode AFh.
UISCSI_API Result<CommandSpec> verify12(std::uint64_t lba, std::uint32_t blocks,
                                        std::uint32_t block_size,
                                        const VerifyOptions& options = {});

struct UISCSI_API WriteAndVerifyOptions {
  bool bytchk = false;  // byte 1 bit 1: compare the written data instead of a medium check
  bool dpo = false;
  std::uint8_t group_number = 0;
  std::uint8_t protect = 0;  // WRPROTECT
};
// WRITE AND VERIFY(10) / (12) / (16) (SBC-3), opcodes 2Eh / AEh / 8Eh. Data-Out is
// blocks * block_size. Limits as for WRITE of the same size.
UISCSI_API Result<CommandSpec> write_and_verify10(std::uint64_t lba, std::uint32_t blocks,
                                                  std::uint32_t block_size,
                                                  const WriteAndVerifyOptions& options = {});
UISCSI_API Result<CommandSpec> write_and_verify12(std::uint64_t lba, std::uint32_t blocks,
                                                  std::uint32_t block_size,
                                                  const WriteAndVerifyOptions& options = {});
UISCSI_API Result<CommandSpec> write_and_verify16(std::uint64_t lba, std::uint32_t blocks,
                                                  std::uint32_t block_size,
                                                  const WriteAndVerifyOptions& options = {});

// PRE-FETCH(10) / (16) (SBC-3), opcodes 34h / 90h: no data. errc::invalid_argument (10 only)
// when lba > 0xFFFFFFFF or blocks > 0xFFFF, or group_number > 31.
UISCSI_API Result<CommandSpec> prefetch10(std::uint64_t lba, std::uint32_t blocks,
                                          bool immed = false, std::uint8_t group_number = 0);
UISCSI_API Result<CommandSpec> prefetch16(std::uint64_t lba, std::uint32_t blocks,
                                          bool immed = false, std::uint8_t group_number = 0);

// GET LBA STATUS (SBC-3), SERVICE ACTION IN(16) 9Eh / SA 12h, from `lba` on.
UISCSI_API CommandSpec get_lba_status(std::uint64_t lba, std::uint32_t allocation_length = 4096);

// RESERVE(6) / RELEASE(6) / RESERVE(10) / RELEASE(10) (SPC-2 logical unit reservations, opcodes
// 16h / 17h / 56h / 57h; obsolete in SPC-4 but still used). No third-party form.
UISCSI_API CommandSpec reserve6();
UISCSI_API CommandSpec release6();
UISCSI_API CommandSpec reserve10();
UISCSI_API CommandSpec release10();

// ---------------------------------------------------------------------------------------------
// SSC-3 stream commands (tape)
// ---------------------------------------------------------------------------------------------
//
// Fixed and variable mode follow the SSC convention for block length: block_size 0 means
// variable mode (FIXED=0, the count is a byte count of one record), block_size > 0 means fixed
// mode (FIXED=1, the count is a number of blocks of that size).

// READ(6) for tape (SSC-3), opcode 08h. sili suppresses incorrect length indication
// (variable mode only: SSC-3 forbids SILI with FIXED). errc::invalid_argument when count
// > 0xFFFFFF, the byte count overflows 32 bits, or sili is set in fixed mode.
UISCSI_API Result<CommandSpec> read6_tape(std::uint32_t count, std::uint32_t block_size,
                                          bool sili = false);
// WRITE(6) for tape (SSC-3), opcode 0Ah.
UISCSI_API Result<CommandSpec> write6_tape(std::uint32_t count, std::uint32_t block_size);

// WRITE FILEMARKS(6) (SSC-3), opcode 10h. setmarks sets WSMK (obsolete in SSC-3 but
// still honoured by DDS drives). errc::invalid_argument if count > 0xFFFFFF.
UISCSI_API Result<CommandSpec> write_filemarks6(std::uint32_t count, bool immed = false,
                                                bool setmarks = false);

// CODE of SPACE (SSC-3).
enum class SpaceCode : std::uint8_t {
  blocks = 0x0,
  filemarks = 0x1,
  sequential_filemarks = 0x2,
  end_of_data = 0x3,
  setmarks = 0x4,             // obsolete in SSC-3
  sequential_setmarks = 0x5,  // obsolete in SSC-3
};

// SPACE(6) (SSC-3), opcode 11h: count is signed 24-bit two's complement (negative spaces
// towards BOP). Ignored for end_of_data. errc::invalid_argument outside [-2^23, 2^23 - 1].
UISCSI_API Result<CommandSpec> space6(SpaceCode code, std::int32_t count);
// SPACE(16) (SSC-3), opcode 91h: count is signed 64-bit.
UISCSI_API CommandSpec space16(SpaceCode code, std::int64_t count);

// REWIND (SSC-3), opcode 01h.
UISCSI_API CommandSpec rewind(bool immed = false);

struct UISCSI_API LocateOptions {
  bool change_partition = false;  // CP (byte 1 bit 1): move to `partition` first
  std::uint8_t partition = 0;
  bool immed = false;  // byte 1 bit 0
};

// LOCATE(10) (SSC-3), opcode 2Bh, to logical object (block) `block`. errc::invalid_argument
// if block > 0xFFFFFFFF.
UISCSI_API Result<CommandSpec> locate10(std::uint64_t block, const LocateOptions& options = {});

// DEST_TYPE of LOCATE(16) (SSC-3).
enum class LocateDestination : std::uint8_t {
  logical_object = 0x0,  // block number
  logical_file = 0x1,    // file number
  end_of_data = 0x3,
};

// LOCATE(16) (SSC-3), opcode 92h.
UISCSI_API CommandSpec locate16(std::uint64_t identifier,
                                LocateDestination destination = LocateDestination::logical_object,
                                const LocateOptions& options = {});

// SERVICE ACTION of READ POSITION (SSC-3).
enum class ReadPositionForm : std::uint8_t {
  short_form = 0x00,     // 20 bytes, 32-bit block numbers
  short_vendor = 0x01,   // 20 bytes, vendor-specific block numbers
  long_form = 0x06,      // 32 bytes, 64-bit block / file / set numbers
  extended_form = 0x08,  // 32 bytes, 64-bit block numbers and buffer counts
};

// READ POSITION (SSC-3), opcode 34h. The ALLOCATION LENGTH field is used by the extended
// form only (the other forms return fixed-size data).
UISCSI_API CommandSpec read_position(ReadPositionForm form = ReadPositionForm::short_form);

// ERASE(6) (SSC-3), opcode 19h: long_erase erases to the end of the partition.
UISCSI_API CommandSpec erase6(bool long_erase, bool immed = false);

struct UISCSI_API LoadUnloadOptions {
  bool immed = false;      // byte 1 bit 0
  bool hold = false;       // byte 4 bit 3
  bool eot = false;        // byte 4 bit 2: unload at end of tape
  bool retension = false;  // byte 4 bit 1
};

// LOAD UNLOAD (SSC-3), opcode 1Bh: LOAD (byte 4 bit 0) = load.
UISCSI_API CommandSpec load_unload(bool load, const LoadUnloadOptions& options = {});

// READ BLOCK LIMITS (SSC-3), opcode 05h: 6 bytes of data.
UISCSI_API CommandSpec read_block_limits();

// REPORT DENSITY SUPPORT (SSC-3), opcode 44h. media: report what the mounted medium
// supports (byte 1 bit 0) instead of what the drive supports.
UISCSI_API CommandSpec report_density_support(bool media = false,
                                              std::uint16_t allocation_length = 8192);

// ---------------------------------------------------------------------------------------------
// SMC-3 media changer commands
// ---------------------------------------------------------------------------------------------

// ELEMENT TYPE CODE (SMC-3).
enum class ElementType : std::uint8_t {
  all = 0x0,
  medium_transport = 0x1,
  storage = 0x2,
  import_export = 0x3,
  data_transfer = 0x4,
};

struct UISCSI_API ReadElementStatusOptions {
  bool voltag = false;   // byte 1 bit 4: report volume tags (barcodes)
  bool curdata = false;  // byte 6 bit 1: no mechanical motion to gather data
  bool dvcid = false;    // byte 6 bit 0: report data transfer device identifiers
};

// READ ELEMENT STATUS (SMC-3), opcode B8h. errc::invalid_argument if allocation_length
// > 0xFFFFFF.
UISCSI_API Result<CommandSpec> read_element_status(ElementType type, std::uint16_t starting_address,
                                                   std::uint16_t count,
                                                   std::uint32_t allocation_length = 65536,
                                                   const ReadElementStatusOptions& options = {});

// MOVE MEDIUM (SMC-3), opcode A5h.
UISCSI_API CommandSpec move_medium(std::uint16_t transport, std::uint16_t source,
                                   std::uint16_t destination, bool invert = false);

// INITIALIZE ELEMENT STATUS (SMC-3), opcode 07h.
UISCSI_API CommandSpec initialize_element_status();

// POSITION TO ELEMENT (SMC-3), opcode 2Bh.
UISCSI_API CommandSpec position_to_element(std::uint16_t transport, std::uint16_t destination,
                                           bool invert = false);

}  // namespace uiscsi::scsi
