// Error categories of the SCSI layer (include/uiscsi/scsi/errors.hpp).
#include "uiscsi/scsi/errors.hpp"

#include <cstdio>
#include <string>

#include "uiscsi/scsi/command.hpp"
#include "uiscsi/scsi/sense.hpp"

namespace uiscsi::scsi {
namespace {

class DataCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "scsi-data"; }
  std::string message(int ev) const override {
    switch (static_cast<scsi_errc>(ev)) {
      case scsi_errc::truncated_data:
        return "SCSI data truncated";
      case scsi_errc::malformed_data:
        return "malformed SCSI data";
      case scsi_errc::unsupported_format:
        return "unsupported SCSI data format";
    }
    return "unknown SCSI data error " + std::to_string(ev);
  }
};

class StatusCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "scsi-status"; }
  std::string message(int ev) const override {
    const auto status = static_cast<Status>(ev & 0xff);
    std::string s(status_name(status));
    if (status == Status::check_condition) s += " (no sense data)";
    return s;
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<Status>(ev & 0xff)) {
      case Status::busy:
      case Status::task_set_full:
        return std::errc::device_or_resource_busy;
      case Status::task_aborted:
        return std::errc::operation_canceled;
      default:
        return {ev, *this};
    }
  }
};

class SenseCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "scsi-sense"; }
  std::string message(int ev) const override {
    const auto key = static_cast<SenseKey>((ev >> 16) & 0x0f);
    const auto asc = static_cast<std::uint8_t>((ev >> 8) & 0xff);
    const auto ascq = static_cast<std::uint8_t>(ev & 0xff);
    char codes[40];
    std::snprintf(codes, sizeof codes, " (asc 0x%02x, ascq 0x%02x)", asc, ascq);
    std::string s(sense_key_name(key));
    s += ": ";
    s += asc_ascq_name(asc, ascq);
    s += codes;
    return s;
  }
};

}  // namespace

const std::error_category& scsi_data_category() noexcept {
  static const DataCategory c;
  return c;
}
const std::error_category& scsi_status_category() noexcept {
  static const StatusCategory c;
  return c;
}
const std::error_category& sense_category() noexcept {
  static const SenseCategory c;
  return c;
}

std::error_code make_error_code(scsi_errc e) noexcept {
  return {static_cast<int>(e), scsi_data_category()};
}
std::error_code make_status_error(Status status) noexcept {
  return {static_cast<int>(status), scsi_status_category()};
}
std::error_code make_sense_error(SenseKey key, std::uint8_t asc, std::uint8_t ascq) noexcept {
  // Bit 24 keeps the value non-zero for NO SENSE 00h/00h, so the code never reads as success.
  return {0x01000000 | (static_cast<int>(key) << 16) | (static_cast<int>(asc) << 8) | ascq,
          sense_category()};
}
std::error_code make_sense_error(const SenseData& sense) noexcept {
  return make_sense_error(sense.sense_key, sense.asc, sense.ascq);
}

}  // namespace uiscsi::scsi
