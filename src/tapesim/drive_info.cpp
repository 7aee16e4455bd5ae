// Drive: TEST UNIT READY, REQUEST SENSE, INQUIRY and its VPD pages, READ BLOCK LIMITS,
// REPORT DENSITY SUPPORT, LOG SENSE / LOG SELECT and PREVENT ALLOW MEDIUM REMOVAL.
#include <algorithm>

#include "core/bytes.hpp"
#include "tapesim/drive.hpp"
#include "tapesim/inquiry.hpp"
#include "tapesim/sense.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::tapesim {
namespace {

using scsi::PeripheralDeviceType;

constexpr auto kTape = PeripheralDeviceType::sequential_access;

// Version descriptors (SPC-4 INQUIRY): SAM-5, SPC-4, SSC-3.
constexpr std::uint16_t kVersionSsc3 = 0x0400;

constexpr std::uint8_t kSequentialCapabilitiesVpd = 0xb0;  // SSC-3
constexpr std::uint8_t kSupportedVpd[] = {
    scsi::vpd::kSupportedPages,
    scsi::vpd::kUnitSerialNumber,
    scsi::vpd::kDeviceIdentification,
    kSequentialCapabilitiesVpd,
};

// Log pages (SPC-4 7.3, SSC-3): supported pages, write / read error counters, sequential-access
// device, TapeAlert.
constexpr std::uint8_t kSupportedLogPages = 0x00;
constexpr std::uint8_t kWriteErrorLog = 0x02;
constexpr std::uint8_t kReadErrorLog = 0x03;
constexpr std::uint8_t kSequentialAccessLog = 0x0c;
constexpr std::uint8_t kTapeAlertLog = 0x2e;
constexpr std::uint8_t kLogPages[] = {kSupportedLogPages, kWriteErrorLog, kReadErrorLog,
                                      kSequentialAccessLog, kTapeAlertLog};
constexpr std::uint8_t kCumulative = 1;  // PAGE CONTROL: current cumulative values

scsi::LogParameter counter(std::uint16_t code, std::uint64_t value, std::size_t width) {
  scsi::LogParameter p;
  p.code = code;
  p.control = 0x00;  // bounded data counter
  p.value.resize(width);
  for (std::size_t i = 0; i < width; ++i)
    p.value[width - 1 - i] = static_cast<std::byte>(value >> (8 * i));
  return p;
}

}  // namespace

Response Drive::test_unit_ready(const Command&) {
  if (auto s = consume_ready()) return check(*s);
  return {};
}

// REQUEST SENSE (SPC-4): byte 1 DESC (bit 0); byte 4 ALLOCATION LENGTH. Reports, and clears, a
// pending unit attention; else the NOT READY state; else NO SENSE. Sense that went out with
// CHECK CONDITION (autosense) is not kept.
Response Drive::request_sense(const Command& c) {
  const bool desc = (c.u8(1) & 0x01) != 0;
  scsi::SenseData s = sense::make(scsi::SenseKey::no_sense, 0x00, 0x00);
  if (auto ua = take_attention(c.nexus)) {
    s = sense::unit_attention(ua->asc, ua->ascq);
  } else if (auto nr = not_ready()) {
    s = *nr;
  }
  Response r;
  r.data_in = desc ? scsi::build_descriptor_sense(s) : scsi::build_fixed_sense(s);
  limit(r, c.u8(4));
  return r;
}

// INQUIRY (SPC-4 6.6), answered by tapesim's shared answer_inquiry.
Response Drive::inquiry(const Command& c) {
  return answer_inquiry(c.cdb,
                        {kTape, config_.vendor, config_.product, config_.revision, kVersionSsc3},
                        [this](std::uint8_t page) { return vpd_page(page); });
}

// VPD pages (SPC-4, SSC-3). errc::unsupported for a page not in kSupportedVpd.
Result<std::vector<std::byte>> Drive::vpd_page(std::uint8_t page) const {
  switch (page) {
    case scsi::vpd::kSupportedPages:
      return scsi::build_vpd_supported_pages(kTape, kSupportedVpd);
    case scsi::vpd::kUnitSerialNumber:
      return scsi::build_vpd_unit_serial(kTape, config_.serial);
    case scsi::vpd::kDeviceIdentification: {
      const auto ids =
          scsi::logical_unit_designators(naa_, config_.vendor, config_.product, config_.serial);
      return scsi::build_vpd_device_identification(kTape, ids);
    }
    case kSequentialCapabilitiesVpd: {
      // Sequential-access device capabilities (SSC-3): PAGE LENGTH 2; byte 4 bit 0 WORM = 0.
      std::vector<std::byte> out(6);
      out[0] = std::byte{static_cast<std::uint8_t>(kTape)};
      out[1] = std::byte{kSequentialCapabilitiesVpd};
      core::store_be16(&out[2], 2);
      return out;
    }
    default:
      return errc::unsupported;
  }
}

// READ BLOCK LIMITS (SSC-3): byte 1 MLOI (bit 0, the SSC-4 maximum logical object identifier
// form) is not supported.
Response Drive::read_block_limits(const Command& c) {
  if ((c.u8(1) & 0x01) != 0) return check(sense::invalid_cdb(1, 0));
  scsi::BlockLimits l;
  l.granularity = config_.granularity;
  l.max_block_length = config_.max_block_length;
  l.min_block_length =
      static_cast<std::uint16_t>(std::min<std::uint32_t>(config_.min_block_length, 0xffff));
  const auto data = scsi::build_read_block_limits(l);
  Response r;
  r.data_in.assign(data.begin(), data.end());
  return r;
}

// REPORT DENSITY SUPPORT (SSC-3): byte 1 MEDIUM TYPE (bit 1: not supported), MEDIA (bit 0:
// what the loaded cartridge holds or, when blank, may be written in); bytes 7-8 ALLOCATION
// LENGTH.
Response Drive::report_density_support(const Command& c) {
  if ((c.u8(1) & 0x02) != 0) return check(sense::invalid_cdb(1, 1));
  const bool media = (c.u8(1) & 0x01) != 0;
  std::vector<scsi::DensityDescriptor> list;
  if (!media) {
    list = config_.densities;
  } else {
    if (auto s = consume_ready()) return check(*s);
    const std::uint8_t d = medium_->density_code();
    for (const scsi::DensityDescriptor& x : config_.densities) {
      if (d != 0 ? x.primary_density_code == d : x.wrtok) list.push_back(x);
    }
  }
  auto data = scsi::build_report_density_support(list);
  if (!data) return check(sense::internal_failure());
  Response r;
  r.data_in = std::move(*data);
  limit(r, c.be16(7));
  return r;
}

// One log page for PAGE CONTROL `control`: cumulative values for 01b, zeros (no thresholds,
// no defaults kept) otherwise; parameters from `pointer` on. Reading TapeAlert's cumulative
// values clears the flags.
Result<std::vector<std::byte>> Drive::log_page(std::uint8_t page, std::uint8_t control,
                                               std::uint16_t pointer) {
  if (page == kSupportedLogPages) {
    std::vector<std::byte> out(4 + sizeof kLogPages);
    core::store_be16(&out[2], sizeof kLogPages);
    for (std::size_t i = 0; i < sizeof kLogPages; ++i)
      out[4 + i] = std::byte{kLogPages[i]};
    return out;
  }
  const bool live = control == kCumulative;
  const Counters z{};
  const Counters& k = live ? counters_ : z;
  scsi::LogPage lp;
  lp.page_code = page;
  switch (page) {
    case kWriteErrorLog:
    case kReadErrorLog: {
      // SPC-4 error counter parameters 0000h-0006h; 0005h TOTAL BYTES PROCESSED.
      const bool w = page == kWriteErrorLog;
      for (std::uint16_t code = 0; code <= 4; ++code)
        lp.parameters.push_back(counter(code, 0, 4));
      lp.parameters.push_back(counter(5, w ? k.bytes_from_host : k.bytes_to_host, 8));
      lp.parameters.push_back(counter(6, w ? k.write_errors : k.read_errors, 4));
      break;
    }
    case kSequentialAccessLog:
      // SSC-3: bytes from / to the application client, to / from the medium (after
      // compression); 0100h CLEANING REQUIRED.
      lp.parameters.push_back(counter(0x0000, k.bytes_from_host, 8));
      lp.parameters.push_back(counter(0x0001, k.bytes_to_medium, 8));
      lp.parameters.push_back(counter(0x0002, k.bytes_from_medium, 8));
      lp.parameters.push_back(counter(0x0003, k.bytes_to_host, 8));
      lp.parameters.push_back(counter(0x0100, 0, 1));
      break;
    case kTapeAlertLog:
      for (std::uint16_t flag = 1; flag <= 64; ++flag) {
        scsi::LogParameter p =
            counter(flag, live && tape_alert(static_cast<std::uint8_t>(flag)), 1);
        p.control = 0x03;  // binary format list
        lp.parameters.push_back(std::move(p));
      }
      if (live) tape_alerts_ = 0;
      break;
    default:
      return errc::unsupported;
  }
  if (pointer > lp.parameters.back().code) return errc::invalid_argument;
  std::erase_if(lp.parameters, [&](const scsi::LogParameter& p) { return p.code < pointer; });
  return scsi::build_log_page(lp);
}

// LOG SENSE (SPC-4): byte 1 PPC (bit 1), SP (bit 0), neither supported; byte 2 PC 7-6, PAGE
// CODE 5-0; byte 3 SUBPAGE CODE (0); bytes 5-6 PARAMETER POINTER; 7-8 ALLOCATION LENGTH.
Response Drive::log_sense(const Command& c) {
  if ((c.u8(1) & 0x02) != 0) return check(sense::invalid_cdb(1, 1));
  if ((c.u8(1) & 0x01) != 0) return check(sense::invalid_cdb(1, 0));
  const std::uint8_t control = c.u8(2) >> 6;
  const std::uint8_t page = c.u8(2) & 0x3f;
  if (c.u8(3) != 0) return check(sense::invalid_cdb(3, 7));
  if (std::find(std::begin(kLogPages), std::end(kLogPages), page) == std::end(kLogPages)) {
    return check(sense::invalid_cdb(2, 5));
  }
  auto data = log_page(page, control, c.be16(5));
  if (!data) return check(sense::invalid_cdb(5, 7));
  Response r;
  r.data_in = std::move(*data);
  limit(r, c.be16(7));
  return r;
}

// LOG SELECT (SPC-4): byte 1 PCR (bit 1) resets every counter and TapeAlert flag, SP (bit 0) is
// not supported; bytes 7-8 PARAMETER LIST LENGTH must be 0 (no parameter can be set).
Response Drive::log_select(const Command& c) {
  if ((c.u8(1) & 0x01) != 0) return check(sense::invalid_cdb(1, 0));
  const std::uint16_t length = c.be16(7);
  if (length != 0) {
    Response r = check(sense::invalid_cdb(7, 7));
    r.data_out_length = length;
    return r;
  }
  if ((c.u8(1) & 0x02) != 0) {
    reset_counters();
    tape_alerts_ = 0;
  }
  Response r;
  r.data_out_length = 0;
  return r;
}

// PREVENT ALLOW MEDIUM REMOVAL (SPC-4, SSC-3): byte 4 PREVENT (bits 1-0): 00b allow, 01b
// prevent for this nexus; 10b and 11b are not defined for tapes.
Response Drive::prevent_allow(const Command& c) {
  const std::uint8_t prevent = c.u8(4) & 0x03;
  if (prevent > 1) return check(sense::invalid_cdb(4, 1));
  return from(prevent_removal(prevent == 1, c.nexus));
}

}  // namespace uiscsi::tapesim
