// INQUIRY for the simulated devices (internal to src/tapesim): the tape drive and the media
// changer answer it the same way and differ only in who they are and which VPD pages they have.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tapesim/drive.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/scsi/data.hpp"

namespace uiscsi::tapesim {

struct DeviceIdentity {
  scsi::PeripheralDeviceType type = scsi::PeripheralDeviceType::sequential_access;
  std::string vendor;
  std::string product;
  std::string revision;
  std::uint16_t command_set_version = 0;  // version descriptor of SSC-3 or SMC-3
};

// Returns a VPD page, or errc::unsupported for a page the device does not have.
using VpdPageBuilder = std::function<Result<std::vector<std::byte>>(std::uint8_t page)>;

// INQUIRY (SPC-4 6.6): CMDDT (byte 1 bit 1, obsolete) set, or a PAGE CODE without EVPD, or a
// page `vpd` does not have -> ILLEGAL REQUEST 24/00 with the field pointer; otherwise the
// standard data (removable medium, SPC-4, version descriptors SAM-5, SPC-4 and the command set)
// or the VPD page, cut to ALLOCATION LENGTH (bytes 3-4).
Response answer_inquiry(std::span<const std::byte> cdb, const DeviceIdentity& identity,
                        const VpdPageBuilder& vpd);

}  // namespace uiscsi::tapesim
