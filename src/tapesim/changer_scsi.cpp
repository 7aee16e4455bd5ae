// Changer: the SCSI entry point. The command table, the gate every command passes (unit
// attentions, unknown opcodes, reserved CDB bits), and the commands other than READ ELEMENT
// STATUS and MODE SENSE (changer_status.cpp).
//
// Gate order (SAM-5, SPC-4), as the drive's: a pending unit attention first, to any command but
// INQUIRY and REQUEST SENSE; then an unknown OPERATION CODE (20/00); then reserved bits (24/00
// with a field pointer; the CONTROL byte excepted); then the command.
#include <algorithm>
#include <array>
#include <bit>

#include "core/bytes.hpp"
#include "tapesim/changer.hpp"
#include "tapesim/changer_sense.hpp"
#include "tapesim/inquiry.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::tapesim {

struct Changer::CommandInfo {
  std::uint8_t opcode = 0;
  std::uint8_t cdb_length = 0;
  Handler handler = nullptr;
  bool ua_exempt = false;                // INQUIRY, REQUEST SENSE (SAM-5)
  std::array<std::uint8_t, 12> usage{};  // the CDB bits that may be set
};

namespace {

using U = std::array<std::uint8_t, 12>;
using scsi::PeripheralDeviceType;

constexpr auto kChanger = PeripheralDeviceType::medium_changer;

// Version descriptors (SPC-4 INQUIRY): SAM-5, SPC-4, SMC-3.
constexpr std::uint16_t kVersionSmc3 = 0x0480;

constexpr std::uint8_t kSupportedVpd[] = {
    scsi::vpd::kSupportedPages,
    scsi::vpd::kUnitSerialNumber,
    scsi::vpd::kDeviceIdentification,
};

}  // namespace

std::span<const Changer::CommandInfo> Changer::commands() {
  static const CommandInfo kCommands[] = {
      {0x00, 6, &Changer::test_unit_ready, false, U{0x00, 0, 0, 0, 0, 0}},
      {0x03, 6, &Changer::request_sense, true, U{0x03, 0x01, 0, 0, 0xff, 0}},
      {0x07, 6, &Changer::initialize_element_status, false, U{0x07, 0, 0, 0, 0, 0}},
      {0x12, 6, &Changer::inquiry, true, U{0x12, 0x01, 0xff, 0xff, 0xff, 0}},
      {0x1a, 6, &Changer::mode_sense, false, U{0x1a, 0x08, 0xff, 0xff, 0xff, 0}},
      {0x1e, 6, &Changer::prevent_allow, false, U{0x1e, 0, 0, 0, 0x03, 0}},
      {0x2b, 10, &Changer::cmd_position_to_element, false,
       U{0x2b, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x01, 0}},
      {0x37, 10, &Changer::initialize_with_range, false,
       U{0x37, 0x03, 0xff, 0xff, 0, 0, 0xff, 0xff, 0, 0}},
      {0x5a, 10, &Changer::mode_sense, false, U{0x5a, 0x08, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0}},
      {0xa5, 12, &Changer::cmd_move_medium, false,
       U{0xa5, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x01, 0}},
      {0xb8, 12, &Changer::read_element_status, false,
       U{0xb8, 0x1f, 0xff, 0xff, 0xff, 0xff, 0x03, 0xff, 0xff, 0xff, 0, 0}},
  };
  return kCommands;
}

// ---- results and fields ----------------------------------------------------------------------

Response Changer::check(const scsi::SenseData& s) {
  Response r;
  r.status = scsi::Status::check_condition;
  r.sense = scsi::build_fixed_sense(s);
  return r;
}

Response Changer::from(const Outcome& o) {
  return o.sense ? check(*o.sense) : Response{};
}

std::uint8_t Changer::Command::u8(std::size_t i) const {
  return std::to_integer<std::uint8_t>(cdb[i]);
}
std::uint16_t Changer::Command::be16(std::size_t i) const {
  return core::load_be16(&cdb[i]);
}
std::uint32_t Changer::Command::be24(std::size_t i) const {
  return core::load_be24(&cdb[i]);
}

// ---- the gate --------------------------------------------------------------------------------

Response Changer::execute(std::span<const std::byte> cdb, std::span<const std::byte> data_out,
                          std::uint64_t nexus) {
  (void)data_out;  // no changer command here takes a parameter list
  if (cdb.empty()) return check(sense::invalid_opcode());
  const auto byte = [&](std::size_t i) {
    return i < cdb.size() ? std::to_integer<std::uint8_t>(cdb[i]) : std::uint8_t{0};
  };
  const std::uint8_t op = byte(0);
  const auto table = commands();
  const auto info = std::find_if(table.begin(), table.end(),
                                 [&](const CommandInfo& c) { return c.opcode == op; });
  const bool known = info != table.end();
  (void)nexus_state(nexus);  // a nexus seen for the first time gets 29/00
  if (!known || !info->ua_exempt) {
    if (auto ua = take_attention(nexus)) return check(sense::unit_attention(ua->asc, ua->ascq));
  }
  if (!known) return check(sense::invalid_opcode());
  if (cdb.size() < info->cdb_length) return check(sense::invalid_cdb(0, 7));
  for (std::size_t i = 1; i + 1 < info->cdb_length; ++i) {
    if (const auto bad = static_cast<std::uint8_t>(byte(i) & ~info->usage[i]); bad != 0) {
      return check(sense::invalid_cdb(static_cast<std::uint16_t>(i), 7 - std::countl_zero(bad)));
    }
  }
  const Command c{cdb.first(info->cdb_length), nexus};
  return (this->*info->handler)(c);
}

// ---- commands --------------------------------------------------------------------------------

// The changer has no door and no power-up inventory to wait for: it is always ready.
Response Changer::test_unit_ready(const Command&) {
  return {};
}

// REQUEST SENSE (SPC-4): byte 1 DESC (bit 0); byte 4 ALLOCATION LENGTH. Reports, and clears, a
// pending unit attention; else NO SENSE.
Response Changer::request_sense(const Command& c) {
  const bool desc = (c.u8(1) & 0x01) != 0;
  scsi::SenseData s = sense::make(scsi::SenseKey::no_sense, 0x00, 0x00);
  if (auto ua = take_attention(c.nexus)) s = sense::unit_attention(ua->asc, ua->ascq);
  Response r;
  r.data_in = desc ? scsi::build_descriptor_sense(s) : scsi::build_fixed_sense(s);
  if (r.data_in.size() > c.u8(4)) r.data_in.resize(c.u8(4));
  return r;
}

// INITIALIZE ELEMENT STATUS (SMC-3 6.2): a real library re-reads every barcode; the simulated
// inventory is always exact, so there is nothing to do.
Response Changer::initialize_element_status(const Command&) {
  return {};
}

// INITIALIZE ELEMENT STATUS WITH RANGE (SMC-3 6.3): byte 1 FAST (bit 1), RANGE (bit 0); 2-3
// ELEMENT ADDRESS; 6-7 NUMBER OF ELEMENTS. With RANGE the starting address must exist.
Response Changer::initialize_with_range(const Command& c) {
  const bool range = (c.u8(1) & 0x01) != 0;
  if (range && c.be16(2) >= elements_.size()) return check(sense::invalid_element(2));
  return {};
}

// INQUIRY (SPC-4 6.6), answered by tapesim's shared answer_inquiry.
Response Changer::inquiry(const Command& c) {
  return answer_inquiry(c.cdb,
                        {kChanger, config_.vendor, config_.product, config_.revision, kVersionSmc3},
                        [this](std::uint8_t page) { return vpd_page(page); });
}

// VPD pages 00h, 80h and 83h (SPC-4 7.8): an NAA 3h designator hashed from the identification
// and a T10 vendor ID designator. errc::unsupported for other pages.
Result<std::vector<std::byte>> Changer::vpd_page(std::uint8_t page) const {
  switch (page) {
    case scsi::vpd::kSupportedPages:
      return scsi::build_vpd_supported_pages(kChanger, kSupportedVpd);
    case scsi::vpd::kUnitSerialNumber:
      return scsi::build_vpd_unit_serial(kChanger, config_.serial);
    case scsi::vpd::kDeviceIdentification: {
      const auto naa = scsi::locally_assigned_naa(config_.vendor, config_.product, config_.serial);
      const auto ids =
          scsi::logical_unit_designators(naa, config_.vendor, config_.product, config_.serial);
      return scsi::build_vpd_device_identification(kChanger, ids);
    }
    default:
      return errc::unsupported;
  }
}

// PREVENT ALLOW MEDIUM REMOVAL (SPC-4, SMC-3): byte 4 PREVENT (bits 1-0); 00b allow, 01b
// prevent; the other values are obsolete and refused.
Response Changer::prevent_allow(const Command& c) {
  const std::uint8_t prevent = c.u8(4) & 0x03;
  if (prevent > 1) return check(sense::invalid_cdb(4, 1));
  return from(prevent_removal(prevent == 1, c.nexus));
}

// POSITION TO ELEMENT (SMC-3 6.7): 2-3 MEDIUM TRANSPORT ADDRESS; 4-5 DESTINATION ELEMENT
// ADDRESS; byte 8 INVERT (bit 0).
Response Changer::cmd_position_to_element(const Command& c) {
  return from(position_to_element(c.be16(2), c.be16(4), (c.u8(8) & 0x01) != 0));
}

// MOVE MEDIUM (SMC-3 6.6): 2-3 MEDIUM TRANSPORT ADDRESS; 4-5 SOURCE ADDRESS; 6-7 DESTINATION
// ADDRESS; byte 10 INVERT (bit 0).
Response Changer::cmd_move_medium(const Command& c) {
  return from(move_medium(c.be16(2), c.be16(4), c.be16(6), (c.u8(10) & 0x01) != 0));
}

}  // namespace uiscsi::tapesim
