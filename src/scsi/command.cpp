// Cdb, status and device-type names, opcode names (include/uiscsi/scsi/command.hpp).
#include "uiscsi/scsi/command.hpp"

#include <algorithm>
#include <cassert>

#include "uiscsi/errors.hpp"

namespace uiscsi::scsi {

Cdb::Cdb(std::uint8_t opcode, std::size_t length) noexcept {
  assert(length >= 1 && length <= kMaxLength);
  size_ = std::min(std::max<std::size_t>(length, 1), kMaxLength);
  bytes_[0] = std::byte{opcode};
}

Result<Cdb> Cdb::from_bytes(std::span<const std::byte> bytes) {
  if (bytes.empty() || bytes.size() > kMaxLength) return errc::invalid_argument;
  Cdb c;
  std::copy(bytes.begin(), bytes.end(), c.bytes_.begin());
  c.size_ = bytes.size();
  return c;
}

std::uint8_t Cdb::operator[](std::size_t i) const {
  assert(i < size_);
  return std::to_integer<std::uint8_t>(bytes_[i]);
}

bool operator==(const Cdb& a, const Cdb& b) {
  return a.size_ == b.size_ &&
         std::equal(a.bytes_.begin(), a.bytes_.begin() + static_cast<std::ptrdiff_t>(a.size_),
                    b.bytes_.begin());
}

std::string_view status_name(Status status) noexcept {
  switch (status) {
    case Status::good:
      return "GOOD";
    case Status::check_condition:
      return "CHECK CONDITION";
    case Status::condition_met:
      return "CONDITION MET";
    case Status::busy:
      return "BUSY";
    case Status::reservation_conflict:
      return "RESERVATION CONFLICT";
    case Status::task_set_full:
      return "TASK SET FULL";
    case Status::aca_active:
      return "ACA ACTIVE";
    case Status::task_aborted:
      return "TASK ABORTED";
  }
  return "UNKNOWN STATUS";
}

std::string_view device_type_name(PeripheralDeviceType type) noexcept {
  switch (type) {
    case PeripheralDeviceType::direct_access:
      return "disk";
    case PeripheralDeviceType::sequential_access:
      return "tape";
    case PeripheralDeviceType::printer:
      return "printer";
    case PeripheralDeviceType::processor:
      return "processor";
    case PeripheralDeviceType::write_once:
      return "worm";
    case PeripheralDeviceType::cd_dvd:
      return "cd/dvd";
    case PeripheralDeviceType::optical_memory:
      return "optical";
    case PeripheralDeviceType::medium_changer:
      return "changer";
    case PeripheralDeviceType::storage_array:
      return "raid";
    case PeripheralDeviceType::enclosure_services:
      return "enclosure";
    case PeripheralDeviceType::simplified_direct_access:
      return "rbc";
    case PeripheralDeviceType::optical_card:
      return "optical card";
    case PeripheralDeviceType::object_storage:
      return "osd";
    case PeripheralDeviceType::automation_drive_interface:
      return "adc";
    case PeripheralDeviceType::host_managed_zoned:
      return "zbc";
    case PeripheralDeviceType::well_known_lu:
      return "wlun";
    case PeripheralDeviceType::unknown:
      return "no device";
  }
  return "reserved";
}

std::string_view opcode_name(std::uint8_t op, PeripheralDeviceType type) noexcept {
  const bool tape = type == PeripheralDeviceType::sequential_access;
  const bool changer = type == PeripheralDeviceType::medium_changer;
  switch (op) {
    case opcode::kTestUnitReady:
      return "TEST UNIT READY";
    case 0x01:
      return tape ? "REWIND" : "REZERO UNIT";
    case opcode::kRequestSense:
      return "REQUEST SENSE";
    case opcode::kReadBlockLimits:
      return tape ? "READ BLOCK LIMITS" : "UNKNOWN";
    case 0x07:
      return changer ? "INITIALIZE ELEMENT STATUS" : "REASSIGN BLOCKS";
    case opcode::kRead6:
      return "READ(6)";
    case opcode::kWrite6:
      return "WRITE(6)";
    case opcode::kWriteFilemarks6:
      return tape ? "WRITE FILEMARKS(6)" : "UNKNOWN";
    case opcode::kSpace6:
      return tape ? "SPACE(6)" : "UNKNOWN";
    case opcode::kInquiry:
      return "INQUIRY";
    case opcode::kModeSelect6:
      return "MODE SELECT(6)";
    case opcode::kReserve6:
      return "RESERVE(6)";
    case opcode::kRelease6:
      return "RELEASE(6)";
    case opcode::kErase6:
      return tape ? "ERASE(6)" : "UNKNOWN";
    case opcode::kModeSense6:
      return "MODE SENSE(6)";
    case 0x1b:
      return tape ? "LOAD UNLOAD" : "START STOP UNIT";
    case opcode::kPreventAllowMediumRemoval:
      return "PREVENT ALLOW MEDIUM REMOVAL";
    case opcode::kReadCapacity10:
      return "READ CAPACITY(10)";
    case opcode::kRead10:
      return "READ(10)";
    case opcode::kWrite10:
      return "WRITE(10)";
    case 0x2b:
      return tape ? "LOCATE(10)" : changer ? "POSITION TO ELEMENT" : "SEEK(10)";
    case opcode::kWriteAndVerify10:
      return "WRITE AND VERIFY(10)";
    case opcode::kVerify10:
      return "VERIFY(10)";
    case 0x34:
      return tape ? "READ POSITION" : "PRE-FETCH(10)";
    case opcode::kSynchronizeCache10:
      return "SYNCHRONIZE CACHE(10)";
    case opcode::kWriteSame10:
      return "WRITE SAME(10)";
    case opcode::kUnmap:
      return "UNMAP";
    case opcode::kReportDensitySupport:
      return tape ? "REPORT DENSITY SUPPORT" : "UNKNOWN";
    case opcode::kLogSelect:
      return "LOG SELECT";
    case opcode::kLogSense:
      return "LOG SENSE";
    case opcode::kModeSelect10:
      return "MODE SELECT(10)";
    case opcode::kReserve10:
      return "RESERVE(10)";
    case opcode::kRelease10:
      return "RELEASE(10)";
    case opcode::kModeSense10:
      return "MODE SENSE(10)";
    case opcode::kPersistentReserveIn:
      return "PERSISTENT RESERVE IN";
    case opcode::kPersistentReserveOut:
      return "PERSISTENT RESERVE OUT";
    case opcode::kRead16:
      return "READ(16)";
    case opcode::kCompareAndWrite:
      return "COMPARE AND WRITE";
    case opcode::kWrite16:
      return "WRITE(16)";
    case opcode::kWriteAndVerify16:
      return "WRITE AND VERIFY(16)";
    case opcode::kVerify16:
      return "VERIFY(16)";
    case opcode::kPreFetch16:
      return "PRE-FETCH(16)";
    case 0x91:
      return tape ? "SPACE(16)" : "SYNCHRONIZE CACHE(16)";
    case 0x92:
      return tape ? "LOCATE(16)" : "LOCK UNLOCK CACHE(16)";
    case 0x93:
      return tape ? "ERASE(16)" : "WRITE SAME(16)";
    case opcode::kServiceActionIn16:
      return "SERVICE ACTION IN(16)";
    case opcode::kReportLuns:
      return "REPORT LUNS";
    case opcode::kMaintenanceIn:
      return "MAINTENANCE IN";
    case opcode::kRead12:
      return "READ(12)";
    case opcode::kWrite12:
      return "WRITE(12)";
    case opcode::kWriteAndVerify12:
      return "WRITE AND VERIFY(12)";
    case opcode::kVerify12:
      return "VERIFY(12)";
    case opcode::kMoveMedium:
      return changer ? "MOVE MEDIUM" : "UNKNOWN";
    case opcode::kReadElementStatus:
      return changer ? "READ ELEMENT STATUS" : "UNKNOWN";
    default:
      return "UNKNOWN";
  }
}

}  // namespace uiscsi::scsi
