// Builders for the data a device returns (the target, the tape simulator and tests use them)
// and for MODE SELECT parameter lists (the tape driver uses them). Each is the inverse of the
// parser of the same name in data.hpp: parse(build(x)) == x for every field the format carries.
//
// Builders produce the full data; truncating it to the initiator's allocation length is the
// caller's job. Builders whose input can exceed a length field return Result and fail with
// uiscsi::errc::invalid_argument.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "uiscsi/export.hpp"
#include "uiscsi/lun.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/scsi/data.hpp"

namespace uiscsi::scsi {

// Standard INQUIRY data: 36 bytes, or 74 when version descriptors are given (at most 8).
// ADDITIONAL LENGTH is computed; `additional_length` of the input is ignored. Vendor, product
// and revision are blank-padded (or cut) to 8, 16 and 4 bytes.
UISCSI_API Result<std::vector<std::byte>> build_inquiry(const InquiryData& inq);

// VPD pages (SPC-4 7.8, SBC-3). Byte 0 carries qualifier 0 and `type`.
UISCSI_API std::vector<std::byte> build_vpd_supported_pages(PeripheralDeviceType type,
                                                            std::span<const std::uint8_t> pages);
// errc::invalid_argument if the serial is longer than 255 bytes.
UISCSI_API Result<std::vector<std::byte>> build_vpd_unit_serial(PeripheralDeviceType type,
                                                                std::string_view serial);
// errc::invalid_argument if a designator is longer than 255 bytes or the page exceeds 65535.
UISCSI_API Result<std::vector<std::byte>> build_vpd_device_identification(
    PeripheralDeviceType type, std::span<const Designator> designators);
// Page length 3Ch (64 bytes in all).
UISCSI_API std::vector<std::byte> build_vpd_block_limits(PeripheralDeviceType type,
                                                         const BlockLimitsVpd& v);
UISCSI_API std::vector<std::byte> build_vpd_block_characteristics(PeripheralDeviceType type,
                                                                  const BlockCharacteristicsVpd& v);
// Page length 4 (8 bytes), no provisioning group descriptor (DP is written as given).
UISCSI_API std::vector<std::byte> build_vpd_logical_block_provisioning(
    PeripheralDeviceType type, const LogicalBlockProvisioningVpd& v);

// A designator helper for targets: NAA IEEE Registered Extended (type 6h) from 16 bytes.
UISCSI_API Designator make_naa_designator(std::span<const std::byte, 16> naa,
                                          Association association = Association::logical_unit);

// A stable NAA 3h "locally assigned" identifier (SPC-4 7.8.6.6.5, 8 bytes) for a logical unit
// that has no configured one: NAA 3h and 60 bits of a 64-bit FNV-1a hash of the three names.
UISCSI_API std::vector<std::byte> locally_assigned_naa(std::string_view vendor,
                                                       std::string_view product,
                                                       std::string_view serial);

// The logical-unit designators our targets report in the Device Identification VPD page: the
// NAA identifier (`naa`, 8 or 16 bytes, binary) and a T10 vendor ID (ASCII: vendor blank-padded
// to 8, product to 16, then the serial number).
UISCSI_API std::vector<Designator> logical_unit_designators(std::span<const std::byte> naa,
                                                            std::string_view vendor,
                                                            std::string_view product,
                                                            std::string_view serial);

// READ CAPACITY(10): last_lba above 0xFFFFFFFF is reported as 0xFFFFFFFF (SBC-3).
UISCSI_API std::array<std::byte, 8> build_read_capacity10(const CapacityData& c);
UISCSI_API std::array<std::byte, 32> build_read_capacity16(const CapacityData& c);

// REPORT LUNS data: the 8-byte header and 8 bytes per LUN.
UISCSI_API std::vector<std::byte> build_report_luns(std::span<const Lun> luns);

// Whether mode parameter data answers MODE SENSE or is sent with MODE SELECT. For select,
// MODE DATA LENGTH is 0 and every page's PS bit is cleared (both reserved in MODE SELECT,
// SPC-4 7.5); for sense, MODE DATA LENGTH is computed.
enum class ModeDataUse : std::uint8_t { sense, select };

// Mode parameter header + block descriptors + pages in the (6) / (10) form. BLOCK DESCRIPTOR
// LENGTH is computed from the descriptors (the header's field is ignored). device_type chooses
// the 8-byte descriptor layout as in parse_mode_sense6. errc::invalid_argument if the data is
// too long for the form, a page is too long for its PAGE LENGTH field, a page code exceeds
// 0x3F, or header.long_lba is set in the (6) form.
UISCSI_API Result<std::vector<std::byte>> build_mode_parameters6(const ModeParameters& m,
                                                                 PeripheralDeviceType device_type,
                                                                 ModeDataUse use);
UISCSI_API Result<std::vector<std::byte>> build_mode_parameters10(const ModeParameters& m,
                                                                  PeripheralDeviceType device_type,
                                                                  ModeDataUse use);

// Mode pages from their typed forms (ps = false, page_0 format), for targets and simulators.
UISCSI_API ModePage build_data_compression_page(const DataCompressionPage& p);
UISCSI_API ModePage build_device_configuration_page(const DeviceConfigurationPage& p);

// PERSISTENT RESERVE IN data (SPC-4 6.13). READ KEYS: 8-byte header and the keys.
UISCSI_API std::vector<std::byte> build_pr_read_keys(std::uint32_t generation,
                                                     std::span<const std::uint64_t> keys);
// READ RESERVATION: 8 bytes, or 24 when r.reserved.
UISCSI_API std::vector<std::byte> build_pr_read_reservation(const PrReservation& r);
UISCSI_API std::array<std::byte, 8> build_pr_report_capabilities(const PrCapabilities& c);
// READ FULL STATUS. errc::invalid_argument if a TransportID is shorter than 24 bytes or not a
// multiple of 4 (SPC-4 7.6.4.1), or the data exceeds 2^32 bytes.
UISCSI_API Result<std::vector<std::byte>> build_pr_read_full_status(
    std::uint32_t generation, std::span<const PrFullStatusDescriptor> descriptors);

// GET LBA STATUS data (SBC-3 5.7): 8-byte header and 16 bytes per descriptor.
UISCSI_API std::vector<std::byte> build_get_lba_status(
    std::span<const LbaStatusDescriptor> descriptors);

// REPORT SUPPORTED OPERATION CODES, all-commands form: each command descriptor carries a
// timeouts descriptor (CTDP) when its `timeouts` is set.
UISCSI_API std::vector<std::byte> build_supported_opcodes(
    std::span<const SupportedOpcode> commands);
// One-command form; CTDP is set when `timeouts` is.
UISCSI_API std::vector<std::byte> build_supported_opcode_one(const SupportedOpcodeOne& one);

// LOG SENSE data for one page. errc::invalid_argument if a parameter value exceeds 255 bytes
// or the page exceeds 65535 bytes.
UISCSI_API Result<std::vector<std::byte>> build_log_page(const LogPage& page);

// SSC-3 data for tape targets.
UISCSI_API std::array<std::byte, 6> build_read_block_limits(const BlockLimits& limits);
// 20 bytes for the short forms, 32 for the long and extended forms. Values wider than the
// form's fields are cut to the field width (the caller sets perr / *_unknown as SSC-3 asks).
UISCSI_API std::vector<std::byte> build_read_position(const TapePosition& pos,
                                                      ReadPositionForm form);
// 4-byte header and 52-byte descriptors (DLV set, DESCRIPTOR LENGTH 2Fh).
UISCSI_API Result<std::vector<std::byte>> build_report_density_support(
    std::span<const DensityDescriptor> descriptors);

}  // namespace uiscsi::scsi
