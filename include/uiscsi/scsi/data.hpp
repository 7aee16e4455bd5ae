// Parsers for the data SCSI devices return (SPC-4, SBC-3, SSC-3, SMC-3).
//
// Common contract of every parse_* function:
//   * It reads only inside the span it is given and never crashes on any input.
//   * A response may legitimately be shorter than the device wanted to send: the initiator's
//     allocation length caps it. Where the data carries its own length (ADDITIONAL LENGTH, PAGE
//     LENGTH, LUN LIST LENGTH...), the parser reads the part of it that is present, drops a last
//     entry that is cut short, and reports the length the device announced so a caller can retry
//     with a larger allocation length (see the `*_length` fields and truncated()).
//   * Fixed-size structures (READ CAPACITY, READ BLOCK LIMITS, READ POSITION) need all their
//     bytes; anything shorter than the smallest meaningful prefix is scsi_errc::truncated_data.
//   * Inconsistent data (a page code that does not match, a length that is not a multiple of its
//     entry size, a descriptor that overruns its container) is scsi_errc::malformed_data.
// Results own their bytes (strings and vectors); nothing points into the input span.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "uiscsi/export.hpp"
#include "uiscsi/lun.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/command.hpp"

namespace uiscsi::scsi {

// ---------------------------------------------------------------------------------------------
// INQUIRY (SPC-4 section 6.4)
// ---------------------------------------------------------------------------------------------

// Standard INQUIRY data (SPC-4 6.4.2). Needs at least the 5-byte header; fields past
// the end of the returned data (or past 5 + ADDITIONAL LENGTH) read as zero / empty.
struct UISCSI_API InquiryData {
  std::uint8_t peripheral_qualifier = 0;  // byte 0 bits 7-5 (0: LU connected)
  PeripheralDeviceType device_type = PeripheralDeviceType::direct_access;
  bool rmb = false;                       // removable medium (byte 1 bit 7)
  std::uint8_t version = 0;               // 05h SPC-3, 06h SPC-4
  bool normaca = false;                   // byte 3 bit 5
  bool hisup = false;                     // byte 3 bit 4
  std::uint8_t response_data_format = 2;  // byte 3 bits 3-0; 2 for SPC-2 and later
  std::uint8_t additional_length = 0;     // byte 4
  bool sccs = false;                      // byte 5 bit 7
  bool acc = false;                       // byte 5 bit 6
  std::uint8_t tpgs = 0;                  // byte 5 bits 5-4: ALUA support
  bool third_party_copy = false;          // 3PC, byte 5 bit 3
  bool protect = false;                   // byte 5 bit 0
  bool encserv = false;                   // byte 6 bit 6
  bool multip = false;                    // byte 6 bit 4
  bool cmdque = false;                    // byte 7 bit 1: full task management model
  std::string vendor{};                   // T10 VENDOR IDENTIFICATION, trailing blanks removed
  std::string product{};                  // PRODUCT IDENTIFICATION, trimmed
  std::string revision{};                 // PRODUCT REVISION LEVEL, trimmed
  std::vector<std::uint16_t> version_descriptors{};  // non-zero entries of bytes 58-73
};
UISCSI_API Result<InquiryData> parse_inquiry(std::span<const std::byte> data);

// The 4-byte header every VPD page starts with (SPC-4 7.8) and the page bytes after it.
struct UISCSI_API VpdPage {
  std::uint8_t peripheral_qualifier = 0;
  PeripheralDeviceType device_type = PeripheralDeviceType::direct_access;
  std::uint8_t page_code = 0;
  std::uint16_t page_length = 0;     // PAGE LENGTH as announced
  std::vector<std::byte> payload{};  // bytes 4.. that are present, at most page_length
  [[nodiscard]] bool truncated() const { return payload.size() < page_length; }
};
// truncated_data if fewer than 4 bytes.
UISCSI_API Result<VpdPage> parse_vpd_page(std::span<const std::byte> data);

// VPD page codes this library decodes.
namespace vpd {
inline constexpr std::uint8_t kSupportedPages = 0x00;
inline constexpr std::uint8_t kUnitSerialNumber = 0x80;
inline constexpr std::uint8_t kDeviceIdentification = 0x83;
inline constexpr std::uint8_t kBlockLimits = 0xb0;
inline constexpr std::uint8_t kBlockDeviceCharacteristics = 0xb1;
inline constexpr std::uint8_t kLogicalBlockProvisioning = 0xb2;
}  // namespace vpd

// Each page parser checks the page code (malformed_data on a mismatch).
// Supported VPD pages (page 00h): the page codes listed.
UISCSI_API Result<std::vector<std::uint8_t>> parse_vpd_supported_pages(
    std::span<const std::byte> data);
// Unit serial number (page 80h): the PRODUCT SERIAL NUMBER with blanks and NULs trimmed.
UISCSI_API Result<std::string> parse_vpd_unit_serial(std::span<const std::byte> data);

// CODE SET (SPC-4 7.8, device identification page).
enum class CodeSet : std::uint8_t { binary = 1, ascii = 2, utf8 = 3 };
// ASSOCIATION: what the designator names.
enum class Association : std::uint8_t { logical_unit = 0, target_port = 1, target_device = 2 };
// DESIGNATOR TYPE.
enum class DesignatorType : std::uint8_t {
  vendor_specific = 0x0,
  t10_vendor_id = 0x1,
  eui64 = 0x2,
  naa = 0x3,
  relative_target_port = 0x4,
  target_port_group = 0x5,
  logical_unit_group = 0x6,
  md5_logical_unit = 0x7,
  scsi_name_string = 0x8,
  protocol_specific = 0x9,
};

// One designation descriptor of the device identification page (also used by READ ELEMENT
// STATUS for data transfer device identifiers).
struct UISCSI_API Designator {
  std::uint8_t protocol_identifier = 0;  // byte 0 bits 7-4, meaningful when piv
  CodeSet code_set = CodeSet::binary;    // byte 0 bits 3-0
  bool piv = false;                      // byte 1 bit 7
  Association association = Association::logical_unit;
  DesignatorType type = DesignatorType::vendor_specific;
  std::vector<std::byte> value{};  // DESIGNATOR bytes

  bool operator==(const Designator&) const = default;
};

// Device identification (page 83h): every complete descriptor present. A descriptor whose
// length runs past the page length is malformed_data; one cut short by the allocation length is
// dropped.
UISCSI_API Result<std::vector<Designator>> parse_vpd_device_identification(
    std::span<const std::byte> data);

// The logical unit designator to name a LUN by: association logical_unit, preferring NAA
// (IEEE registered extended 6h, then 5h, then others), then EUI-64, then SCSI name string, then
// T10 vendor ID. nullptr if none.
UISCSI_API const Designator* pick_lu_designator(std::span<const Designator> designators);

// Text form of a designator: "naa.6001405abcdef...", "eui.0011223344556677",
// "t10.LIO-ORG IBLOCK ..." (ASCII), the SCSI name string as is, hex otherwise.
UISCSI_API std::string designator_string(const Designator& d);

// Block limits (page B0h, SBC-3). Fields the page does not reach read as 0, which SBC-3
// defines as "no limit reported" for all of them.
struct UISCSI_API BlockLimitsVpd {
  bool wsnz = false;                              // byte 4 bit 0
  std::uint8_t max_compare_and_write_length = 0;  // byte 5, blocks
  std::uint16_t optimal_transfer_length_granularity = 0;
  std::uint32_t max_transfer_length = 0;
  std::uint32_t optimal_transfer_length = 0;
  std::uint32_t max_prefetch_length = 0;
  std::uint32_t max_unmap_lba_count = 0;
  std::uint32_t max_unmap_block_descriptor_count = 0;
  std::uint32_t optimal_unmap_granularity = 0;
  bool ugavalid = false;                          // byte 32 bit 7
  std::uint32_t unmap_granularity_alignment = 0;  // 31 bits
  std::uint64_t max_write_same_length = 0;        // bytes 36-43

  bool operator==(const BlockLimitsVpd&) const = default;
};
UISCSI_API Result<BlockLimitsVpd> parse_vpd_block_limits(std::span<const std::byte> data);

// Block device characteristics (page B1h, SBC-3).
struct UISCSI_API BlockCharacteristicsVpd {
  std::uint16_t medium_rotation_rate = 0;  // 0 not reported, 1 non-rotating (SSD), else rpm
  std::uint8_t product_type = 0;           // byte 6
  std::uint8_t wabereq = 0;                // byte 7 bits 7-6
  std::uint8_t wacereq = 0;                // byte 7 bits 5-4
  std::uint8_t nominal_form_factor = 0;    // byte 7 bits 3-0: 1 5.25", 2 3.5", 3 2.5", 4 1.8"
  bool fuab = false;                       // byte 8 bit 1
  bool vbuls = false;                      // byte 8 bit 0

  bool operator==(const BlockCharacteristicsVpd&) const = default;
};
UISCSI_API Result<BlockCharacteristicsVpd> parse_vpd_block_characteristics(
    std::span<const std::byte> data);

// PROVISIONING TYPE of page B2h.
enum class ProvisioningType : std::uint8_t { full = 0, resource = 1, thin = 2 };

// Logical block provisioning (page B2h, SBC-3). Needs the first 8 bytes.
struct UISCSI_API LogicalBlockProvisioningVpd {
  std::uint8_t threshold_exponent = 0;  // byte 4
  bool lbpu = false;                    // byte 5 bit 7: UNMAP supported
  bool lbpws = false;                   // byte 5 bit 6: WRITE SAME(16) with UNMAP
  bool lbpws10 = false;                 // byte 5 bit 5: WRITE SAME(10) with UNMAP
  bool lbprz = false;                   // byte 5 bit 2: unmapped blocks read zero
  bool anc_sup = false;                 // byte 5 bit 1
  bool dp = false;                      // byte 5 bit 0: provisioning group descriptor present
  std::uint8_t minimum_percentage = 0;  // byte 6 bits 7-3
  ProvisioningType provisioning_type = ProvisioningType::full;  // byte 6 bits 2-0
  std::uint8_t threshold_percentage = 0;                        // byte 7

  bool operator==(const LogicalBlockProvisioningVpd&) const = default;
};
UISCSI_API Result<LogicalBlockProvisioningVpd> parse_vpd_logical_block_provisioning(
    std::span<const std::byte> data);

// ---------------------------------------------------------------------------------------------
// READ CAPACITY (SBC-3), REPORT LUNS (SPC-4)
// ---------------------------------------------------------------------------------------------

// READ CAPACITY(10) / (16) parameter data. The (10) form fills last_lba and block_length only.
struct UISCSI_API CapacityData {
  std::uint64_t last_lba = 0;            // RETURNED LOGICAL BLOCK ADDRESS (the last LBA)
  std::uint32_t block_length = 0;        // LOGICAL BLOCK LENGTH IN BYTES
  std::uint8_t p_type = 0;               // byte 12 bits 3-1
  bool prot_en = false;                  // byte 12 bit 0
  std::uint8_t p_i_exponent = 0;         // byte 13 bits 7-4
  std::uint8_t lbppbe = 0;               // byte 13 bits 3-0: 2^n logical blocks per physical block
  bool lbpme = false;                    // byte 14 bit 7: thin provisioning enabled
  bool lbprz = false;                    // byte 14 bit 6
  std::uint16_t lowest_aligned_lba = 0;  // 14 bits

  // last_lba + 1.
  [[nodiscard]] std::uint64_t block_count() const { return last_lba + 1; }
  // For READ CAPACITY(10) data only: the device answered 0xFFFFFFFF, meaning the capacity does
  // not fit and READ CAPACITY(16) must be used.
  [[nodiscard]] bool needs_read_capacity16() const { return last_lba == 0xffffffffu; }

  bool operator==(const CapacityData&) const = default;
};
// Needs 8 bytes.
UISCSI_API Result<CapacityData> parse_read_capacity10(std::span<const std::byte> data);
// Needs 12 bytes (LBA and block length); bytes 12-15 are read when present.
UISCSI_API Result<CapacityData> parse_read_capacity16(std::span<const std::byte> data);

struct UISCSI_API ReportLunsData {
  std::uint32_t lun_list_length = 0;  // LUN LIST LENGTH as announced, in bytes
  std::vector<Lun> luns{};            // the complete entries present
  [[nodiscard]] bool truncated() const { return luns.size() * 8 < lun_list_length; }
};
// Needs the 8-byte header; malformed_data if LUN LIST LENGTH is not a multiple of 8.
UISCSI_API Result<ReportLunsData> parse_report_luns(std::span<const std::byte> data);

// ---------------------------------------------------------------------------------------------
// Mode parameters (SPC-4 7.5)
// ---------------------------------------------------------------------------------------------

// The mode parameter header of MODE SENSE / MODE SELECT (6) and (10) forms.
struct UISCSI_API ModeParameterHeader {
  std::uint16_t mode_data_length = 0;  // as announced (bytes after this field); 0 for SELECT
  std::uint8_t medium_type = 0;
  // DEVICE-SPECIFIC PARAMETER: disks WP bit 7, DPOFUA bit 4 (SBC-3); tapes WP bit 7, BUFFERED
  // MODE bits 6-4, SPEED bits 3-0 (SSC-3). Keep it when writing back (MODE SELECT) so buffered
  // mode is not switched off by accident.
  std::uint8_t device_specific = 0;
  bool long_lba = false;  // (10) form only: 16-byte block descriptors
  std::uint16_t block_descriptor_length = 0;

  [[nodiscard]] bool write_protected() const { return (device_specific & 0x80) != 0; }
  bool operator==(const ModeParameterHeader&) const = default;
};

// One block descriptor. For the general (8-byte) form used by tapes and most devices, byte 0
// is the DENSITY CODE and bytes 1-3 the NUMBER OF BLOCKS; for direct-access devices (SBC-3
// short LBA form) bytes 0-3 are the number of blocks and density_code is 0. The long LBA form
// (16 bytes) carries a 64-bit block count and no density code.
struct UISCSI_API BlockDescriptor {
  std::uint8_t density_code = 0;
  std::uint64_t number_of_blocks = 0;
  std::uint32_t block_length = 0;  // 24 bits in the 8-byte forms; 0 = variable (tape)

  bool operator==(const BlockDescriptor&) const = default;
};

// One mode page or subpage (SPC-4 7.5): the 2-byte (page_0) or 4-byte (sub_page) header
// followed by the mode parameters.
struct UISCSI_API ModePage {
  std::uint8_t page_code = 0;  // 6 bits
  std::uint8_t subpage = 0;    // 0 for page_0 format
  bool ps = false;             // parameters saveable (byte 0 bit 7); reserved in MODE SELECT
  bool spf = false;            // sub_page format (byte 0 bit 6)
  std::vector<std::byte> parameters{};  // the bytes after the page header (PAGE LENGTH of them)

  // Header size: 4 for sub_page format, else 2.
  [[nodiscard]] std::size_t header_length() const { return spf ? 4 : 2; }
  bool operator==(const ModePage&) const = default;
};

struct UISCSI_API ModeParameters {
  ModeParameterHeader header{};
  std::vector<BlockDescriptor> block_descriptors{};
  std::vector<ModePage> pages{};

  // The first page with this code and subpage, or nullptr.
  [[nodiscard]] const ModePage* find_page(std::uint8_t page_code, std::uint8_t subpage = 0) const;
  [[nodiscard]] ModePage* find_page(std::uint8_t page_code, std::uint8_t subpage = 0);
};

// MODE SENSE(6) / (10) data. device_type selects how the 8-byte block descriptor is read (see
// BlockDescriptor). Parses the header (truncated_data if shorter than 4 / 8 bytes), then block
// descriptors and pages inside both the span and MODE DATA LENGTH; a last page cut short by the
// allocation length is dropped. malformed_data if the block descriptor length is not a multiple
// of the descriptor size.
UISCSI_API Result<ModeParameters> parse_mode_sense6(std::span<const std::byte> data,
                                                    PeripheralDeviceType device_type);
UISCSI_API Result<ModeParameters> parse_mode_sense10(std::span<const std::byte> data,
                                                     PeripheralDeviceType device_type);

// Mode page codes this library decodes.
namespace mode_page {
inline constexpr std::uint8_t kDataCompression = 0x0f;      // SSC-3
inline constexpr std::uint8_t kDeviceConfiguration = 0x10;  // SSC-3
inline constexpr std::uint8_t kMediumPartition = 0x11;      // SSC-3
inline constexpr std::uint8_t kAllPages = 0x3f;
}  // namespace mode_page

// Data compression mode page 0Fh (SSC-3): 14 bytes of parameters.
struct UISCSI_API DataCompressionPage {
  bool dce = false;                           // byte 2 bit 7: compression enabled
  bool dcc = false;                           // byte 2 bit 6: compression capable
  bool dde = false;                           // byte 3 bit 7: decompression enabled
  std::uint8_t red = 0;                       // byte 3 bits 6-5: report exception on decompression
  std::uint32_t compression_algorithm = 0;    // bytes 4-7
  std::uint32_t decompression_algorithm = 0;  // bytes 8-11

  bool operator==(const DataCompressionPage&) const = default;
};
// malformed_data if `page` is not page 0Fh; truncated_data if under 10 parameter bytes.
UISCSI_API Result<DataCompressionPage> parse_data_compression_page(const ModePage& page);
// Read-modify-write: a copy of `page` (0Fh as returned by MODE SENSE) with DCE set to `dce`,
// DDE set to *dde when given, PS cleared, and every other byte untouched, ready for
// build_mode_parameters6/10. Errors as parse_data_compression_page.
UISCSI_API Result<ModePage> with_data_compression(const ModePage& page, bool dce,
                                                  std::optional<bool> dde = std::nullopt);

// Device configuration mode page 10h (SSC-3).
struct UISCSI_API DeviceConfigurationPage {
  bool cap = false;                   // byte 2 bit 6: change active partition
  bool caf = false;                   // byte 2 bit 5
  std::uint8_t active_format = 0;     // byte 2 bits 4-0
  std::uint8_t active_partition = 0;  // byte 3
  std::uint8_t write_buffer_full_ratio = 0;
  std::uint8_t read_buffer_empty_ratio = 0;
  std::uint16_t write_delay_time = 0;              // 100 ms units
  bool obr = false;                                // byte 8 bit 7
  bool lois = false;                               // byte 8 bit 6
  bool rsmk = false;                               // byte 8 bit 5: report setmarks
  bool avc = false;                                // byte 8 bit 4
  std::uint8_t socf = 0;                           // byte 8 bits 3-2
  bool robo = false;                               // byte 8 bit 1
  bool rew = false;                                // byte 8 bit 0: report early warning
  std::uint8_t gap_size = 0;                       // byte 9
  std::uint8_t eod_defined = 0;                    // byte 10 bits 7-5
  bool eeg = false;                                // byte 10 bit 4
  bool sew = false;                                // byte 10 bit 3: synchronize at early warning
  bool swp = false;                                // byte 10 bit 2: software write protect
  bool baml = false;                               // byte 10 bit 1
  bool bam = false;                                // byte 10 bit 0
  std::uint32_t buffer_size_at_early_warning = 0;  // bytes 11-13
  std::uint8_t select_data_compression_algorithm = 0;  // byte 14
  std::uint8_t wtre = 0;                               // byte 15 bits 7-6
  bool oir = false;                                    // byte 15 bit 5
  std::uint8_t rewind_on_reset = 0;                    // byte 15 bits 4-3
  bool asocwp = false;                                 // byte 15 bit 2
  bool perswp = false;                                 // byte 15 bit 1
  bool prmwp = false;                                  // byte 15 bit 0

  bool operator==(const DeviceConfigurationPage&) const = default;
};
UISCSI_API Result<DeviceConfigurationPage> parse_device_configuration_page(const ModePage& page);

// Medium partition mode page 11h (SSC-3).
struct UISCSI_API MediumPartitionPage {
  std::uint8_t max_additional_partitions = 0;      // byte 2
  std::uint8_t additional_partitions_defined = 0;  // byte 3
  bool fdp = false;                                // byte 4 bit 7
  bool sdp = false;                                // byte 4 bit 6
  bool idp = false;                                // byte 4 bit 5
  std::uint8_t psum = 0;                           // byte 4 bits 4-3: size unit
  bool pofm = false;                               // byte 4 bit 2
  bool clear = false;                              // byte 4 bit 1
  bool addp = false;                               // byte 4 bit 0
  std::uint8_t medium_format_recognition = 0;      // byte 5
  std::uint8_t partition_units = 0;                // byte 6 bits 3-0
  std::vector<std::uint16_t> partition_sizes{};    // bytes 8.., one per partition present

  bool operator==(const MediumPartitionPage&) const = default;
};
UISCSI_API Result<MediumPartitionPage> parse_medium_partition_page(const ModePage& page);

// ---------------------------------------------------------------------------------------------
// PERSISTENT RESERVE IN (SPC-4), REPORT SUPPORTED OPERATION CODES (SPC-4)
// ---------------------------------------------------------------------------------------------

struct UISCSI_API PrKeys {
  std::uint32_t generation = 0;         // PRGENERATION
  std::uint32_t additional_length = 0;  // as announced
  std::vector<std::uint64_t> keys{};    // complete keys present
  [[nodiscard]] bool truncated() const { return keys.size() * 8 < additional_length; }
};
// READ KEYS data. Needs the 8-byte header; malformed_data if ADDITIONAL LENGTH % 8 != 0.
UISCSI_API Result<PrKeys> parse_pr_read_keys(std::span<const std::byte> data);

struct UISCSI_API PrReservation {
  std::uint32_t generation = 0;
  bool reserved = false;  // ADDITIONAL LENGTH 10h: a reservation exists
  std::uint64_t key = 0;
  std::uint8_t scope = 0;
  PrType type = PrType::none;
};
// READ RESERVATION data. Needs 8 bytes, and 24 when ADDITIONAL LENGTH says a reservation
// follows.
UISCSI_API Result<PrReservation> parse_pr_read_reservation(std::span<const std::byte> data);

// REPORT CAPABILITIES data (SPC-4 6.13.4), 8 bytes.
struct UISCSI_API PrCapabilities {
  bool rlr_c = false;               // byte 2 bit 7: replace lost reservation capable
  bool crh = false;                 // byte 2 bit 4: compatible reservation handling
  bool sip_c = false;               // byte 2 bit 3: SPEC_I_PT capable
  bool atp_c = false;               // byte 2 bit 2: ALL_TG_PT capable
  bool ptpl_c = false;              // byte 2 bit 0: persist through power loss capable
  bool tmv = false;                 // byte 3 bit 7: the type mask is valid
  std::uint8_t allow_commands = 0;  // byte 3 bits 6-4
  bool ptpl_a = false;              // byte 3 bit 0: persist through power loss activated
  std::uint16_t type_mask = 0;      // bytes 4-5 big-endian; see pr_type_mask
  bool operator==(const PrCapabilities&) const = default;
};
// Bits of PrCapabilities::type_mask (byte 4 in the high half, byte 5 in the low half).
namespace pr_type_mask {
inline constexpr std::uint16_t kWriteExclusiveAllRegistrants = 0x8000;
inline constexpr std::uint16_t kExclusiveAccessRegistrantsOnly = 0x4000;
inline constexpr std::uint16_t kWriteExclusiveRegistrantsOnly = 0x2000;
inline constexpr std::uint16_t kExclusiveAccess = 0x0800;
inline constexpr std::uint16_t kWriteExclusive = 0x0200;
inline constexpr std::uint16_t kExclusiveAccessAllRegistrants = 0x0001;
}  // namespace pr_type_mask
// Needs all 8 bytes; malformed_data if LENGTH is below 8.
UISCSI_API Result<PrCapabilities> parse_pr_report_capabilities(std::span<const std::byte> data);

// One descriptor of READ FULL STATUS data (SPC-4 6.13.5): a registration and, for the holder,
// the reservation.
struct UISCSI_API PrFullStatusDescriptor {
  std::uint64_t key = 0;
  bool all_tg_pt = false;           // byte 12 bit 1
  bool reservation_holder = false;  // byte 12 bit 0 (R_HOLDER)
  std::uint8_t scope = 0;           // byte 13 bits 7-4, meaningful with R_HOLDER
  PrType type = PrType::none;       // byte 13 bits 3-0, meaningful with R_HOLDER
  std::uint16_t relative_target_port = 0;
  std::vector<std::byte> transport_id{};  // the TransportID (see make_iscsi_transport_id)
  bool operator==(const PrFullStatusDescriptor&) const = default;
};
struct UISCSI_API PrFullStatus {
  std::uint32_t generation = 0;
  std::uint32_t additional_length = 0;                // as announced
  std::vector<PrFullStatusDescriptor> descriptors{};  // the complete descriptors present
};
// Needs the 8-byte header; a descriptor cut short by the allocation length is dropped, one
// overrunning ADDITIONAL LENGTH is malformed_data.
UISCSI_API Result<PrFullStatus> parse_pr_read_full_status(std::span<const std::byte> data);

// An iSCSI TransportID (SPC-4 7.6.4.6): FORMAT CODE 00b with the iSCSI name alone, or 01b with
// "name,i,0x<12 hex digits of the ISID>" when isid is given; NUL-terminated and padded to a
// multiple of 4 bytes. The name is cut at 223 bytes.
UISCSI_API std::vector<std::byte> make_iscsi_transport_id(
    std::string_view iscsi_name, std::optional<std::uint64_t> isid = std::nullopt);

// PROVISIONING STATUS of GET LBA STATUS descriptors (SBC-3 5.7).
enum class ProvisioningStatus : std::uint8_t { mapped = 0, deallocated = 1, anchored = 2 };
struct UISCSI_API LbaStatusDescriptor {
  std::uint64_t lba = 0;
  std::uint32_t blocks = 0;
  ProvisioningStatus status = ProvisioningStatus::mapped;
  bool operator==(const LbaStatusDescriptor&) const = default;
};
struct UISCSI_API LbaStatus {
  std::uint32_t parameter_data_length = 0;  // as announced (bytes after byte 3)
  std::vector<LbaStatusDescriptor> descriptors{};
};
// GET LBA STATUS data: needs the 8-byte header; complete 16-byte descriptors are kept.
UISCSI_API Result<LbaStatus> parse_get_lba_status(std::span<const std::byte> data);

struct UISCSI_API CommandTimeouts {
  std::uint32_t nominal = 0;      // seconds
  std::uint32_t recommended = 0;  // seconds
  bool operator==(const CommandTimeouts&) const = default;
};
struct UISCSI_API SupportedOpcode {
  std::uint8_t opcode = 0;
  std::uint16_t service_action = 0;
  bool servactv = false;  // service_action is meaningful
  std::uint16_t cdb_length = 0;
  std::optional<CommandTimeouts> timeouts{};  // when CTDP is set (RCTD requested)
  bool operator==(const SupportedOpcode&) const = default;
};
struct UISCSI_API SupportedOpcodes {
  std::uint32_t command_data_length = 0;  // as announced
  std::vector<SupportedOpcode> commands{};
};
// The all-commands form (REPORTING OPTIONS 000b) of REPORT SUPPORTED OPERATION CODES.
UISCSI_API Result<SupportedOpcodes> parse_supported_opcodes(std::span<const std::byte> data);

// SUPPORT field values of the one-command form (SPC-4 6.35.3).
namespace opcode_support {
inline constexpr std::uint8_t kNoData = 0x0;        // the device does not say
inline constexpr std::uint8_t kNotSupported = 0x1;  // command not supported
inline constexpr std::uint8_t kStandard = 0x3;      // supported as in a SCSI standard
inline constexpr std::uint8_t kVendor = 0x5;        // supported in a vendor-specific way
}  // namespace opcode_support
// The one-command forms (REPORTING OPTIONS 001b-011b) of REPORT SUPPORTED OPERATION CODES.
struct UISCSI_API SupportedOpcodeOne {
  std::uint8_t support = 0;                   // byte 1 bits 2-0 (opcode_support)
  std::vector<std::uint8_t> cdb_usage{};      // CDB USAGE DATA, CDB SIZE bytes
  std::optional<CommandTimeouts> timeouts{};  // when CTDP is set
  bool operator==(const SupportedOpcodeOne&) const = default;
};
// Needs the 4-byte header; truncated_data when the usage data or timeouts descriptor is cut.
UISCSI_API Result<SupportedOpcodeOne> parse_supported_opcode_one(std::span<const std::byte> data);

// ---------------------------------------------------------------------------------------------
// LOG SENSE (SPC-4 7.3) and TapeAlert (SSC-3)
// ---------------------------------------------------------------------------------------------

struct UISCSI_API LogParameter {
  std::uint16_t code = 0;
  std::uint8_t control = 0;  // byte 2: DU 7, TSD 5, ETC 4, TMC 3-2, FORMAT AND LINKING 1-0
  std::vector<std::byte> value{};

  // The value as a big-endian unsigned integer (first 8 bytes if longer); 0 if empty.
  [[nodiscard]] std::uint64_t as_integer() const;
  bool operator==(const LogParameter&) const = default;
};
struct UISCSI_API LogPage {
  std::uint8_t page_code = 0;
  std::uint8_t subpage = 0;
  bool ds = false;                // byte 0 bit 7
  bool spf = false;               // byte 0 bit 6
  std::uint16_t page_length = 0;  // as announced
  std::vector<LogParameter> parameters{};

  [[nodiscard]] const LogParameter* find(std::uint16_t code) const;
};
// Needs the 4-byte header; keeps complete parameters inside both span and PAGE LENGTH.
UISCSI_API Result<LogPage> parse_log_page(std::span<const std::byte> data);

inline constexpr std::uint8_t kTapeAlertLogPage = 0x2e;
// The TapeAlert flags set in a log page 2Eh: parameter codes 1..64 whose value byte has bit 0
// set, in increasing order. malformed_data if `page` is not page 2Eh.
UISCSI_API Result<std::vector<std::uint8_t>> tape_alert_flags(const LogPage& page);
// Name of TapeAlert flag 1..64 ("Read warning", "Clean now", ...); "Reserved" or "Obsolete"
// for flags without an assignment, "Invalid" outside 1..64.
UISCSI_API std::string_view tape_alert_name(std::uint8_t flag) noexcept;

// ---------------------------------------------------------------------------------------------
// SSC-3 tape data
// ---------------------------------------------------------------------------------------------

struct UISCSI_API BlockLimits {
  std::uint8_t granularity = 0;        // byte 0 bits 4-0: block lengths are multiples of 2^g
  std::uint32_t max_block_length = 0;  // 24 bits; 0 = not specified
  std::uint16_t min_block_length = 0;
  bool operator==(const BlockLimits&) const = default;
};
// READ BLOCK LIMITS data; needs 6 bytes.
UISCSI_API Result<BlockLimits> parse_read_block_limits(std::span<const std::byte> data);

// READ POSITION data in any of its forms. Fields a form does not carry stay 0 / false.
struct UISCSI_API TapePosition {
  bool bop = false;   // beginning of partition
  bool eop = false;   // end of partition (past early warning)
  bool bpew = false;  // beyond programmable early warning (short and extended forms)
  bool perr = false;  // position error: counts overflowed (short and extended forms)
  bool block_position_unknown = false;  // BPU/LOLU (short, extended) or LONU (long)
  bool block_count_unknown = false;     // BCU/LOCU (short, extended)
  bool byte_count_unknown = false;      // BYCU (short, extended)
  bool mark_position_unknown = false;   // MPU (long form): file/set numbers invalid
  std::uint32_t partition = 0;
  std::uint64_t first_block = 0;  // FIRST LOGICAL OBJECT LOCATION / LOGICAL OBJECT NUMBER
  std::uint64_t last_block = 0;   // LAST LOGICAL OBJECT LOCATION (short, extended)
  std::uint32_t blocks_in_buffer = 0;
  std::uint64_t bytes_in_buffer = 0;
  std::uint64_t file_number = 0;  // long form
  std::uint64_t set_number = 0;   // long form

  bool operator==(const TapePosition&) const = default;
};
// Needs 20 bytes (short forms) or 32 (long and extended forms). unsupported_format for other
// service actions.
UISCSI_API Result<TapePosition> parse_read_position(std::span<const std::byte> data,
                                                    ReadPositionForm form);

struct UISCSI_API DensityDescriptor {
  std::uint8_t primary_density_code = 0;
  std::uint8_t secondary_density_code = 0;
  bool wrtok = false;             // byte 2 bit 7: the drive can write this density
  bool dup = false;               // byte 2 bit 6: duplicate of another descriptor
  bool deflt = false;             // byte 2 bit 5: default density
  std::uint32_t bits_per_mm = 0;  // 24 bits
  std::uint16_t media_width = 0;  // tenths of millimetres
  std::uint16_t tracks = 0;
  std::uint32_t capacity = 0;            // megabytes (10^6 bytes)
  std::string assigning_organization{};  // trimmed
  std::string density_name{};            // trimmed
  std::string description{};             // trimmed

  bool operator==(const DensityDescriptor&) const = default;
};
struct UISCSI_API DensitySupport {
  std::uint16_t available_length = 0;  // AVAILABLE DENSITY SUPPORT LENGTH as announced
  std::vector<DensityDescriptor> descriptors{};
};
// REPORT DENSITY SUPPORT data (MEDIUM TYPE=0). Descriptors are 52 bytes, or DESCRIPTOR LENGTH
// + 5 when DLV is set.
UISCSI_API Result<DensitySupport> parse_report_density_support(std::span<const std::byte> data);

// ---------------------------------------------------------------------------------------------
// SMC-3 READ ELEMENT STATUS
// ---------------------------------------------------------------------------------------------

struct UISCSI_API ElementStatus {
  ElementType type = ElementType::all;
  std::uint16_t address = 0;
  bool full = false;    // byte 2 bit 0
  bool impexp = false;  // byte 2 bit 1 (import/export elements)
  bool except = false;  // byte 2 bit 2: abnormal state, see asc / ascq
  bool access = false;  // byte 2 bit 3
  bool exenab = false;  // byte 2 bit 4 (import/export)
  bool inenab = false;  // byte 2 bit 5 (import/export)
  std::uint8_t asc = 0;
  std::uint8_t ascq = 0;
  bool svalid = false;           // byte 9 bit 7: source_address is valid
  bool invert = false;           // byte 9 bit 6
  bool ed = false;               // byte 9 bit 3: element disabled
  std::uint8_t medium_type = 0;  // byte 9 bits 2-0
  std::uint16_t source_address = 0;
  std::string primary_volume_tag{};               // barcode, trailing blanks removed (PVOLTAG)
  std::string alternate_volume_tag{};             // (AVOLTAG)
  std::optional<Designator> device_identifier{};  // data transfer elements with DVCID

  bool operator==(const ElementStatus&) const = default;
};
struct UISCSI_API ElementStatusData {
  std::uint16_t first_address = 0;           // FIRST ELEMENT ADDRESS REPORTED
  std::uint16_t elements_available = 0;      // NUMBER OF ELEMENTS AVAILABLE
  std::uint32_t report_bytes_available = 0;  // BYTE COUNT OF REPORT AVAILABLE
  std::vector<ElementStatus> elements{};     // all element status pages, in order
};
// Needs the 8-byte header. Element pages and descriptors are read while complete; a descriptor
// length too small for the fixed 12-byte descriptor (plus the volume tags the page announces)
// is malformed_data.
UISCSI_API Result<ElementStatusData> parse_read_element_status(std::span<const std::byte> data);

// ---------------------------------------------------------------------------------------------
// SMC-3 element address assignment mode page (1Dh)
// ---------------------------------------------------------------------------------------------

namespace mode_page {
inline constexpr std::uint8_t kElementAddressAssignment = 0x1d;  // SMC-3
}  // namespace mode_page

// First address and number of elements of one element type.
struct UISCSI_API ElementRange {
  std::uint16_t first = 0;
  std::uint16_t count = 0;

  [[nodiscard]] bool contains(std::uint16_t address) const {
    return address >= first && address - first < count;
  }
  bool operator==(const ElementRange&) const = default;
};
struct UISCSI_API ElementAddressAssignment {
  ElementRange medium_transport{};
  ElementRange storage{};
  ElementRange import_export{};
  ElementRange data_transfer{};
  bool operator==(const ElementAddressAssignment&) const = default;
};
// The element address assignment page (SMC-3 7.3.3) as parse_mode_sense6/10 returned it: page
// bytes 2-3 / 4-5 first medium transport address / number, then the same pairs for storage,
// import/export and data transfer elements (bytes 6-17). malformed_data if the page code is not
// 1Dh; truncated_data if the parameters are shorter than those 16 bytes.
UISCSI_API Result<ElementAddressAssignment> parse_element_address_page(const ModePage& page);

}  // namespace uiscsi::scsi
