// What a SCSI command is, independent of the transport: the CDB, the data direction and the
// expected lengths (SAM-5 section 5.1), plus the status byte it completes with (SAM-5 section
// 5.3) and the operation codes this library knows (SPC-4, SBC-3, SSC-3, SMC-3).
//
// The builders in cdb.hpp return a CommandSpec. The initiator pairs it with caller-owned
// buffers of data_in_length / data_out_length bytes; nothing here owns data buffers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "uiscsi/export.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi::scsi {

// Which way data moves, seen from the initiator (SAM-5 section 5.4.3).
enum class DataDirection : std::uint8_t {
  none,           // no data phase
  from_device,    // Data-In: READ, INQUIRY, MODE SENSE...
  to_device,      // Data-Out: WRITE, MODE SELECT, UNMAP...
  bidirectional,  // both (e.g. XDWRITEREAD); iSCSI carries it with a bidirectional AHS
};

// A command descriptor block of 1 to kMaxLength bytes (SPC-4 section 4.2). Fixed capacity, so
// a Cdb is a plain value with no allocation. 16 bytes fit in the iSCSI BHS; longer CDBs need
// the extended CDB AHS, which is the initiator's job.
class UISCSI_API Cdb {
 public:
  static constexpr std::size_t kMaxLength = 64;

  // An empty CDB (size() == 0). Not a valid command until filled.
  constexpr Cdb() = default;

  // A zero-filled CDB of `length` bytes whose byte 0 is `opcode`.
  // Precondition: 1 <= length <= kMaxLength (checked by assert; the builders only use 6, 10,
  // 12, 16). Use from_bytes() for lengths that come from outside.
  Cdb(std::uint8_t opcode, std::size_t length) noexcept;

  // Copies `bytes`. errc::invalid_argument if it is empty or longer than kMaxLength.
  static Result<Cdb> from_bytes(std::span<const std::byte> bytes);

  [[nodiscard]] std::span<const std::byte> bytes() const { return {bytes_.data(), size_}; }
  // The bytes for in-place edits (e.g. a vendor bit or the CONTROL byte); the length is fixed.
  [[nodiscard]] std::span<std::byte> mutable_bytes() { return {bytes_.data(), size_}; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  // Byte 0; 0 for an empty CDB.
  [[nodiscard]] std::uint8_t opcode() const { return std::to_integer<std::uint8_t>(bytes_[0]); }
  // Byte i. Precondition: i < size().
  [[nodiscard]] std::uint8_t operator[](std::size_t i) const;

  friend UISCSI_API bool operator==(const Cdb& a, const Cdb& b);

 private:
  std::array<std::byte, kMaxLength> bytes_{};
  std::size_t size_ = 0;
};

// Everything the initiator needs to send one command besides the LUN and the buffers.
// Contract of every builder: direction is none exactly when both lengths are 0, from_device
// when only data_in_length is non-zero, to_device when only data_out_length is, and
// bidirectional when both are.
struct UISCSI_API CommandSpec {
  Cdb cdb{};
  DataDirection direction = DataDirection::none;
  std::uint32_t data_in_length = 0;   // expected Data-In bytes (allocation or transfer length)
  std::uint32_t data_out_length = 0;  // Data-Out bytes the caller must supply

  bool operator==(const CommandSpec&) const = default;
};

// SCSI status codes (SAM-5 section 5.3.1, table 22). Other values may arrive from a broken
// peer; an enum class with a uint8_t base holds them all.
enum class Status : std::uint8_t {
  good = 0x00,
  check_condition = 0x02,
  condition_met = 0x04,
  busy = 0x08,
  reservation_conflict = 0x18,
  task_set_full = 0x28,
  aca_active = 0x30,
  task_aborted = 0x40,
};

// "GOOD", "CHECK CONDITION", ...; "UNKNOWN STATUS" for other values.
UISCSI_API std::string_view status_name(Status status) noexcept;

// PERIPHERAL DEVICE TYPE of INQUIRY byte 0 bits 4-0 (SPC-4 section 6.4.2, table 140).
enum class PeripheralDeviceType : std::uint8_t {
  direct_access = 0x00,      // SBC-3 disk
  sequential_access = 0x01,  // SSC-3 tape
  printer = 0x02,
  processor = 0x03,
  write_once = 0x04,
  cd_dvd = 0x05,
  optical_memory = 0x07,
  medium_changer = 0x08,  // SMC-3
  storage_array = 0x0c,
  enclosure_services = 0x0d,
  simplified_direct_access = 0x0e,
  optical_card = 0x0f,
  object_storage = 0x11,
  automation_drive_interface = 0x12,
  host_managed_zoned = 0x14,
  well_known_lu = 0x1e,
  unknown = 0x1f,  // unknown or no device type
};

// Short lower-case names as tools print them: "disk", "tape", "changer", "cd/dvd", ...;
// "reserved" for unassigned codes.
UISCSI_API std::string_view device_type_name(PeripheralDeviceType type) noexcept;

// Operation codes. Several are shared between command sets with different meanings
// (0x01 REWIND / REZERO UNIT, 0x1B LOAD UNLOAD / START STOP UNIT, 0x2B LOCATE(10) / POSITION TO
// ELEMENT, 0x91 SPACE(16) / SYNCHRONIZE CACHE(16)), so each name carries its own constant.
namespace opcode {
// SPC-4 (all device types)
inline constexpr std::uint8_t kTestUnitReady = 0x00;
inline constexpr std::uint8_t kRequestSense = 0x03;
inline constexpr std::uint8_t kInquiry = 0x12;
inline constexpr std::uint8_t kModeSelect6 = 0x15;
inline constexpr std::uint8_t kModeSense6 = 0x1a;
inline constexpr std::uint8_t kPreventAllowMediumRemoval = 0x1e;
inline constexpr std::uint8_t kLogSelect = 0x4c;
inline constexpr std::uint8_t kLogSense = 0x4d;
inline constexpr std::uint8_t kModeSelect10 = 0x55;
inline constexpr std::uint8_t kModeSense10 = 0x5a;
inline constexpr std::uint8_t kPersistentReserveIn = 0x5e;
inline constexpr std::uint8_t kPersistentReserveOut = 0x5f;
inline constexpr std::uint8_t kReportLuns = 0xa0;
inline constexpr std::uint8_t kMaintenanceIn = 0xa3;  // REPORT SUPPORTED OPERATION CODES (SA 0Ch)
// SPC-2 reservations (obsolete in SPC-4, still sent by clusters and libiscsi's test suite)
inline constexpr std::uint8_t kReserve6 = 0x16;
inline constexpr std::uint8_t kRelease6 = 0x17;
inline constexpr std::uint8_t kReserve10 = 0x56;
inline constexpr std::uint8_t kRelease10 = 0x57;
// SBC-3 (direct access)
inline constexpr std::uint8_t kStartStopUnit = 0x1b;
inline constexpr std::uint8_t kReadCapacity10 = 0x25;
inline constexpr std::uint8_t kRead10 = 0x28;
inline constexpr std::uint8_t kWrite10 = 0x2a;
inline constexpr std::uint8_t kVerify10 = 0x2f;
inline constexpr std::uint8_t kSynchronizeCache10 = 0x35;
inline constexpr std::uint8_t kWriteSame10 = 0x41;
inline constexpr std::uint8_t kUnmap = 0x42;
inline constexpr std::uint8_t kRead16 = 0x88;
inline constexpr std::uint8_t kCompareAndWrite = 0x89;
inline constexpr std::uint8_t kWrite16 = 0x8a;
inline constexpr std::uint8_t kVerify16 = 0x8f;
inline constexpr std::uint8_t kSynchronizeCache16 = 0x91;
inline constexpr std::uint8_t kWriteSame16 = 0x93;
inline constexpr std::uint8_t kServiceActionIn16 = 0x9e;  // READ CAPACITY(16) is SA 10h
inline constexpr std::uint8_t kWriteAndVerify10 = 0x2e;
inline constexpr std::uint8_t kPreFetch10 = 0x34;  // READ POSITION on tapes
inline constexpr std::uint8_t kWriteAndVerify16 = 0x8e;
inline constexpr std::uint8_t kPreFetch16 = 0x90;
inline constexpr std::uint8_t kRead12 = 0xa8;
inline constexpr std::uint8_t kWrite12 = 0xaa;
inline constexpr std::uint8_t kWriteAndVerify12 = 0xae;
inline constexpr std::uint8_t kVerify12 = 0xaf;
// SSC-3 (sequential access)
inline constexpr std::uint8_t kRewind = 0x01;
inline constexpr std::uint8_t kReadBlockLimits = 0x05;
inline constexpr std::uint8_t kRead6 = 0x08;
inline constexpr std::uint8_t kWrite6 = 0x0a;
inline constexpr std::uint8_t kWriteFilemarks6 = 0x10;
inline constexpr std::uint8_t kSpace6 = 0x11;
inline constexpr std::uint8_t kErase6 = 0x19;
inline constexpr std::uint8_t kLoadUnload = 0x1b;
inline constexpr std::uint8_t kLocate10 = 0x2b;
inline constexpr std::uint8_t kReadPosition = 0x34;
inline constexpr std::uint8_t kReportDensitySupport = 0x44;
inline constexpr std::uint8_t kSpace16 = 0x91;
inline constexpr std::uint8_t kLocate16 = 0x92;
// SMC-3 (medium changer)
inline constexpr std::uint8_t kInitializeElementStatus = 0x07;
inline constexpr std::uint8_t kPositionToElement = 0x2b;
inline constexpr std::uint8_t kMoveMedium = 0xa5;
inline constexpr std::uint8_t kReadElementStatus = 0xb8;
}  // namespace opcode

// Service actions used with the opcodes above.
namespace service_action {
inline constexpr std::uint8_t kReadCapacity16 = 0x10;                 // SERVICE ACTION IN(16)
inline constexpr std::uint8_t kGetLbaStatus = 0x12;                   // SERVICE ACTION IN(16)
inline constexpr std::uint8_t kReportSupportedOperationCodes = 0x0c;  // MAINTENANCE IN
}  // namespace service_action

// The command's name for logs ("READ(16)", "SPACE(6)", "MOVE MEDIUM"), taking the device type
// into account where an opcode is shared; "UNKNOWN" for codes this library does not build.
UISCSI_API std::string_view opcode_name(std::uint8_t op, PeripheralDeviceType type) noexcept;

}  // namespace uiscsi::scsi
