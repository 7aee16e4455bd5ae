#include "uiscsi/scsi/command.hpp"

#include <gtest/gtest.h>

#include "scsi_test_util.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/errors.hpp"
#include "uiscsi/scsi/sense.hpp"

namespace uiscsi::scsi {
namespace {

using test::bytes;

TEST(Cdb, FromBytesChecksLength) {
  EXPECT_EQ(Cdb::from_bytes({}).error(), errc::invalid_argument);
  std::vector<std::byte> big(Cdb::kMaxLength + 1);
  EXPECT_EQ(Cdb::from_bytes(big).error(), errc::invalid_argument);
  big.pop_back();
  auto max = Cdb::from_bytes(big);
  ASSERT_TRUE(max);
  EXPECT_EQ(max->size(), Cdb::kMaxLength);

  const auto raw = bytes({0x12, 0x01, 0x80, 0x00, 0xff, 0x00});
  auto c = Cdb::from_bytes(raw);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->size(), 6u);
  EXPECT_EQ(c->opcode(), 0x12);
  EXPECT_EQ((*c)[4], 0xff);
  EXPECT_EQ(test::ints(c->bytes()), test::ints(raw));
}

TEST(Cdb, EqualityComparesOnlyTheUsedBytes) {
  Cdb a(0x00, 6);
  Cdb b(0x00, 6);
  EXPECT_EQ(a, b);
  EXPECT_FALSE(a == Cdb(0x00, 10));
  b.mutable_bytes()[5] = std::byte{0x04};  // NACA in the CONTROL byte
  EXPECT_FALSE(a == b);
  EXPECT_TRUE(Cdb().empty());
}

TEST(Status, Names) {
  EXPECT_EQ(status_name(Status::good), "GOOD");
  EXPECT_EQ(status_name(Status::check_condition), "CHECK CONDITION");
  EXPECT_EQ(status_name(Status::condition_met), "CONDITION MET");
  EXPECT_EQ(status_name(Status::busy), "BUSY");
  EXPECT_EQ(status_name(Status::reservation_conflict), "RESERVATION CONFLICT");
  EXPECT_EQ(status_name(Status::task_set_full), "TASK SET FULL");
  EXPECT_EQ(status_name(Status::aca_active), "ACA ACTIVE");
  EXPECT_EQ(status_name(Status::task_aborted), "TASK ABORTED");
  EXPECT_EQ(status_name(static_cast<Status>(0x22)), "UNKNOWN STATUS");
  EXPECT_EQ(static_cast<int>(Status::reservation_conflict), 0x18);
  EXPECT_EQ(static_cast<int>(Status::task_set_full), 0x28);
}

TEST(DeviceType, Names) {
  EXPECT_EQ(device_type_name(PeripheralDeviceType::direct_access), "disk");
  EXPECT_EQ(device_type_name(PeripheralDeviceType::sequential_access), "tape");
  EXPECT_EQ(device_type_name(PeripheralDeviceType::cd_dvd), "cd/dvd");
  EXPECT_EQ(device_type_name(PeripheralDeviceType::medium_changer), "changer");
  EXPECT_EQ(device_type_name(static_cast<PeripheralDeviceType>(0x10)), "reserved");
}

TEST(Opcode, NamesDependOnDeviceType) {
  EXPECT_EQ(opcode_name(0x88, PeripheralDeviceType::direct_access), "READ(16)");
  EXPECT_EQ(opcode_name(0x01, PeripheralDeviceType::sequential_access), "REWIND");
  EXPECT_EQ(opcode_name(0x1b, PeripheralDeviceType::sequential_access), "LOAD UNLOAD");
  EXPECT_EQ(opcode_name(0x1b, PeripheralDeviceType::direct_access), "START STOP UNIT");
  EXPECT_EQ(opcode_name(0x91, PeripheralDeviceType::sequential_access), "SPACE(16)");
  EXPECT_EQ(opcode_name(0x91, PeripheralDeviceType::direct_access), "SYNCHRONIZE CACHE(16)");
  EXPECT_EQ(opcode_name(0x2b, PeripheralDeviceType::sequential_access), "LOCATE(10)");
  EXPECT_EQ(opcode_name(0x2b, PeripheralDeviceType::medium_changer), "POSITION TO ELEMENT");
  EXPECT_EQ(opcode_name(0xb8, PeripheralDeviceType::medium_changer), "READ ELEMENT STATUS");
  EXPECT_EQ(opcode_name(0xff, PeripheralDeviceType::direct_access), "UNKNOWN");
}

TEST(Errors, DataCategory) {
  const std::error_code ec = scsi_errc::truncated_data;
  EXPECT_EQ(ec.category().name(), std::string("scsi-data"));
  EXPECT_EQ(ec.message(), "SCSI data truncated");
  EXPECT_EQ(std::error_code(scsi_errc::malformed_data).message(), "malformed SCSI data");
  EXPECT_NE(ec, std::error_code(errc::invalid_argument));
}

TEST(Errors, StatusAndSenseAsErrorCodes) {
  EXPECT_FALSE(make_status_error(Status::good));
  const std::error_code busy = make_status_error(Status::busy);
  EXPECT_TRUE(busy);
  EXPECT_EQ(busy.message(), "BUSY");
  EXPECT_EQ(busy, std::errc::device_or_resource_busy);
  EXPECT_EQ(make_status_error(Status::reservation_conflict).message(), "RESERVATION CONFLICT");
  EXPECT_EQ(make_status_error(Status::check_condition).message(),
            "CHECK CONDITION (no sense data)");

  const std::error_code medium = make_sense_error(SenseKey::medium_error, 0x11, 0x00);
  EXPECT_EQ(medium.category().name(), std::string("scsi-sense"));
  EXPECT_EQ(medium.message(), "MEDIUM ERROR: unrecovered read error (asc 0x11, ascq 0x00)");
  // NO SENSE 00/00 is still an error value, never success.
  EXPECT_TRUE(make_sense_error(SenseKey::no_sense, 0, 0));
  EXPECT_EQ(make_sense_error(make_sense(SenseKey::not_ready, 0x3a, 0x00)),
            make_sense_error(SenseKey::not_ready, 0x3a, 0x00));
}

}  // namespace
}  // namespace uiscsi::scsi
