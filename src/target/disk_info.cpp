// DiskLu: INQUIRY and VPD pages, REPORT LUNS, REQUEST SENSE, READ CAPACITY, TEST UNIT READY,
// START STOP UNIT and PREVENT ALLOW MEDIUM REMOVAL.
#include "target/disk_lu_impl.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::target {
namespace {

using scsi::PeripheralDeviceType;

constexpr auto kDisk = PeripheralDeviceType::direct_access;
constexpr std::uint8_t kProtocolIscsi = 0x5;  // SPC-4 7.6.1

// Version descriptors (SPC-4 table 144): SAM-5, iSCSI, SPC-4, SBC-3.
constexpr std::uint16_t kVersionSam5 = 0x00a0;
constexpr std::uint16_t kVersionIscsi = 0x0960;
constexpr std::uint16_t kVersionSpc4 = 0x0460;
constexpr std::uint16_t kVersionSbc3 = 0x04c0;

constexpr std::uint8_t kSupportedVpd[] = {
    scsi::vpd::kSupportedPages,
    scsi::vpd::kUnitSerialNumber,
    scsi::vpd::kDeviceIdentification,
    scsi::vpd::kBlockLimits,
    scsi::vpd::kBlockDeviceCharacteristics,
    scsi::vpd::kLogicalBlockProvisioning,
};

}  // namespace

ScsiResult DiskLu::Impl::test_unit_ready(const Command&) {
  return ScsiResult::good();
}

// INQUIRY (SPC-4 6.6): byte 1 CMDDT 1 (obsolete, must be 0), EVPD 0; byte 2 PAGE CODE; 3-4
// ALLOCATION LENGTH.
ScsiResult DiskLu::Impl::inquiry(const Command& c) {
  const bool evpd = (c.u8(1) & 0x01) != 0;
  if ((c.u8(1) & 0x02) != 0) return check(sense::invalid_cdb(1, 1));
  const std::uint8_t page = c.u8(2);
  ScsiResult r;
  if (!evpd) {
    if (page != 0) return check(sense::invalid_cdb(2, 7));
    scsi::InquiryData inq;
    inq.device_type = kDisk;
    inq.version = 0x06;  // SPC-4
    inq.response_data_format = 2;
    inq.cmdque = true;
    inq.vendor = config.vendor;
    inq.product = config.product;
    inq.revision = config.revision;
    inq.version_descriptors = {kVersionSam5, kVersionIscsi, kVersionSpc4, kVersionSbc3};
    auto data = scsi::build_inquiry(inq);
    if (!data) return check(sense::make(scsi::SenseKey::hardware_error, 0x44, 0x00));
    r.data_in = std::move(*data);
  } else {
    auto data = vpd_page(page);
    if (!data) return check(sense::invalid_cdb(2, 7));
    r.data_in = std::move(*data);
  }
  limit(r, c.be16(3));
  return r;
}

// VPD pages (SPC-4 7.8, SBC-3 6.5). errc::unsupported for pages not in kSupportedVpd.
Result<std::vector<std::byte>> DiskLu::Impl::vpd_page(std::uint8_t page) const {
  switch (page) {
    case scsi::vpd::kSupportedPages:
      return scsi::build_vpd_supported_pages(kDisk, kSupportedVpd);
    case scsi::vpd::kUnitSerialNumber:
      return scsi::build_vpd_unit_serial(kDisk, config.serial);
    case scsi::vpd::kDeviceIdentification: {
      // The logical unit's NAA and T10 vendor ID designators and the relative target port.
      std::vector<scsi::Designator> ids =
          scsi::logical_unit_designators(naa, config.vendor, config.product, config.serial);
      scsi::Designator port;
      port.protocol_identifier = kProtocolIscsi;
      port.piv = true;
      port.association = scsi::Association::target_port;
      port.type = scsi::DesignatorType::relative_target_port;
      port.value.resize(4);
      core::store_be16(port.value.data() + 2, config.relative_target_port);
      ids.push_back(std::move(port));
      return scsi::build_vpd_device_identification(kDisk, ids);
    }
    case scsi::vpd::kBlockLimits: {
      scsi::BlockLimitsVpd b;
      b.max_compare_and_write_length = config.max_compare_and_write_blocks;
      b.optimal_transfer_length_granularity = optimal_granularity;
      b.max_transfer_length = max_transfer_blocks;
      b.optimal_transfer_length = optimal_transfer_blocks;
      // MAXIMUM PREFETCH LENGTH 0: no limit (PRE-FETCH has nothing to fill here).
      if (thin) {
        b.max_unmap_lba_count = config.max_unmap_blocks;
        b.max_unmap_block_descriptor_count = config.max_unmap_descriptors;
        b.optimal_unmap_granularity =
            std::max<std::uint32_t>(optimal_granularity, 4096 / block_size);
      }
      b.max_write_same_length = config.max_write_same_blocks;
      return scsi::build_vpd_block_limits(kDisk, b);
    }
    case scsi::vpd::kBlockDeviceCharacteristics: {
      scsi::BlockCharacteristicsVpd b;
      b.medium_rotation_rate = config.rotation_rate;
      return scsi::build_vpd_block_characteristics(kDisk, b);
    }
    case scsi::vpd::kLogicalBlockProvisioning: {
      // UNMAP and WRITE SAME (10)/(16) with UNMAP, and unmapped blocks read zeros, exactly when
      // thin provisioning is on (libiscsi's Unmap.VPD and WriteSame*.UnmapVPD check the match).
      scsi::LogicalBlockProvisioningVpd p;
      p.lbpu = thin;
      p.lbpws = thin;
      p.lbpws10 = thin;
      p.lbprz = thin;
      p.provisioning_type = thin ? scsi::ProvisioningType::thin : scsi::ProvisioningType::full;
      return scsi::build_vpd_logical_block_provisioning(kDisk, p);
    }
    default:
      return errc::unsupported;
  }
}

// REPORT LUNS (SPC-4 6.33): byte 2 SELECT REPORT; 6-9 ALLOCATION LENGTH (at least 16).
ScsiResult DiskLu::Impl::report_luns(const Command& c) {
  const std::uint32_t alloc = c.be32(6);
  if (alloc < 16) return check(sense::invalid_cdb(6, 7));
  std::vector<Lun> luns;
  switch (c.u8(2)) {
    case 0x00:  // logical units
    case 0x02:  // everything accessible
      luns = config.report_luns ? config.report_luns() : std::vector<Lun>{c.in.lun};
      break;
    case 0x01:  // well-known logical units only: none here
      break;
    default:
      return check(sense::invalid_cdb(2, 7));
  }
  ScsiResult r;
  r.data_in = scsi::build_report_luns(luns);
  limit(r, alloc);
  return r;
}

// REQUEST SENSE (SPC-4 6.39): byte 1 DESC 0; byte 4 ALLOCATION LENGTH. Returns the pending
// unit attention (and clears it), else NO SENSE; this LU has no deferred errors.
ScsiResult DiskLu::Impl::request_sense(const Command& c) {
  const bool desc = (c.u8(1) & 0x01) != 0;
  scsi::SenseData s = sense::make(scsi::SenseKey::no_sense, 0x00, 0x00);
  {
    std::lock_guard lock(state_mutex);
    if (auto ua = take_attention(nexus_state(c.in.nexus))) {
      s = sense::unit_attention(ua->asc, ua->ascq);
    }
  }
  ScsiResult r;
  r.data_in = sense_bytes(s, desc);
  limit(r, c.u8(4));
  return r;
}

// READ CAPACITY(10) (SBC-3 5.15): bytes 2-5 LBA and byte 8 PMI; with PMI = 0 the LBA must be 0.
ScsiResult DiskLu::Impl::read_capacity10(const Command& c) {
  if ((c.u8(8) & 0x01) == 0 && c.be32(2) != 0) return check(sense::invalid_cdb(2, 7));
  scsi::CapacityData d;
  d.last_lba = capacity() - 1;  // reported as FFFFFFFFh when it does not fit
  d.block_length = block_size;
  ScsiResult r;
  const auto data = scsi::build_read_capacity10(d);
  r.data_in.assign(data.begin(), data.end());
  return r;
}

// READ CAPACITY(16) (SBC-3 5.16): 2-9 LBA, 10-13 ALLOCATION LENGTH, byte 14 PMI.
ScsiResult DiskLu::Impl::read_capacity16(const Command& c) {
  if ((c.u8(14) & 0x01) == 0 && c.be64(2) != 0) return check(sense::invalid_cdb(2, 7));
  scsi::CapacityData d;
  d.last_lba = capacity() - 1;
  d.block_length = block_size;
  d.lbppbe = config.physical_block_exponent;
  d.lbpme = thin;
  d.lbprz = thin;
  ScsiResult r;
  const auto data = scsi::build_read_capacity16(d);
  r.data_in.assign(data.begin(), data.end());
  limit(r, c.be32(10));
  return r;
}

// START STOP UNIT (SBC-3 5.25): byte 4 POWER CONDITION 7-4, NO_FLUSH 2, LOEJ 1, START 0.
// The medium is not removable, so LOEJ is refused; START/STOP and the power conditions are
// accepted without changing anything but the cache, which a stop flushes unless NO_FLUSH.
ScsiResult DiskLu::Impl::start_stop_unit(const Command& c) {
  const std::uint8_t b4 = c.u8(4);
  const std::uint8_t power_condition = b4 >> 4;
  switch (power_condition) {
    case 0x0:
      if ((b4 & 0x02) != 0) return check(sense::invalid_cdb(4, 1));
      if ((b4 & 0x01) == 0 && (b4 & 0x04) == 0) {
        if (auto f = store->flush(); !f) return store_error(f.error(), true, 0);
      }
      return ScsiResult::good();
    case 0x1:  // ACTIVE
    case 0x2:  // IDLE
    case 0x3:  // STANDBY
    case 0x7:  // LU_CONTROL
    case 0xa:  // FORCE_IDLE_0
    case 0xb:  // FORCE_STANDBY_0
      return ScsiResult::good();
    default:
      return check(sense::invalid_cdb(4, 7));
  }
}

// PREVENT ALLOW MEDIUM REMOVAL (SPC-4 6.15): byte 4 PREVENT 1-0; 10b and 11b are not for disks.
// The state is kept per I_T nexus and cleared by resets and nexus loss.
ScsiResult DiskLu::Impl::prevent_allow(const Command& c) {
  const std::uint8_t prevent = c.u8(4) & 0x03;
  if (prevent > 1) return check(sense::invalid_cdb(4, 1));
  std::lock_guard lock(state_mutex);
  nexus_state(c.in.nexus).prevent = prevent == 1;
  return ScsiResult::good();
}

}  // namespace uiscsi::target
