// Parsers for SPC-4 and SBC-3 data (include/uiscsi/scsi/data.hpp): INQUIRY and VPD pages,
// READ CAPACITY, REPORT LUNS, mode parameters, PERSISTENT RESERVE IN, REPORT SUPPORTED
// OPERATION CODES.
#include "uiscsi/scsi/data.hpp"

#include <algorithm>
#include <utility>

#include "scsi/wire.hpp"
#include "uiscsi/scsi/errors.hpp"

namespace uiscsi::scsi {
namespace {

using detail::be16;
using detail::be24;
using detail::be32;
using detail::be64;
using detail::bit;
using detail::bits;
using detail::Bytes;
using detail::sub;
using detail::u8;

std::vector<std::byte> copy_bytes(Bytes b) {
  return {b.begin(), b.end()};
}

// The payload of a VPD page (bytes 4.. present, at most PAGE LENGTH) after checking its code.
// `complete` tells whether the whole announced page is present.
struct VpdView {
  Bytes payload;
  bool complete = false;
};
Result<VpdView> vpd_view(Bytes d, std::uint8_t page_code) {
  if (d.size() < 4) return scsi_errc::truncated_data;
  if (u8(d, 1) != page_code) return scsi_errc::malformed_data;
  const std::size_t length = be16(d, 2);
  VpdView v;
  v.payload = sub(d, 4, length);
  v.complete = v.payload.size() == length;
  return v;
}

// Field readers that yield 0 when the field lies beyond the data present.
std::uint8_t opt8(Bytes d, std::size_t off) {
  return off < d.size() ? u8(d, off) : std::uint8_t{0};
}
std::uint16_t opt16(Bytes d, std::size_t off) {
  return off + 2 <= d.size() ? be16(d, off) : std::uint16_t{0};
}
std::uint32_t opt32(Bytes d, std::size_t off) {
  return off + 4 <= d.size() ? be32(d, off) : 0u;
}
std::uint64_t opt64(Bytes d, std::size_t off) {
  return off + 8 <= d.size() ? be64(d, off) : 0u;
}

// Short LBA block descriptors (SBC-3) replace the density code with the top byte of a 32-bit
// block count for direct-access devices.
bool uses_short_lba_descriptor(PeripheralDeviceType t) {
  return t == PeripheralDeviceType::direct_access ||
         t == PeripheralDeviceType::simplified_direct_access ||
         t == PeripheralDeviceType::host_managed_zoned;
}

char hex_digit(unsigned v) {
  return "0123456789abcdef"[v & 0xf];
}
std::string hex(const std::vector<std::byte>& v) {
  std::string s;
  s.reserve(v.size() * 2);
  for (std::byte b : v) {
    const auto x = std::to_integer<unsigned>(b);
    s += hex_digit(x >> 4);
    s += hex_digit(x);
  }
  return s;
}

Result<ModeParameters> parse_mode_sense(Bytes d, PeripheralDeviceType type, bool ten) {
  const std::size_t header_length = ten ? 8 : 4;
  if (d.size() < header_length) return scsi_errc::truncated_data;
  ModeParameters m;
  std::size_t announced = 0;  // total bytes the device meant to return
  if (ten) {
    m.header.mode_data_length = be16(d, 0);
    m.header.medium_type = u8(d, 2);
    m.header.device_specific = u8(d, 3);
    m.header.long_lba = bit(u8(d, 4), 0);
    m.header.block_descriptor_length = be16(d, 6);
    announced = std::size_t{m.header.mode_data_length} + 2;
  } else {
    m.header.mode_data_length = u8(d, 0);
    m.header.medium_type = u8(d, 1);
    m.header.device_specific = u8(d, 2);
    m.header.block_descriptor_length = u8(d, 3);
    announced = std::size_t{m.header.mode_data_length} + 1;
  }
  if (announced < header_length) return scsi_errc::malformed_data;
  const bool complete = d.size() >= announced;
  const Bytes avail = d.first(std::min(d.size(), announced));

  const std::size_t desc_size = m.header.long_lba ? 16 : 8;
  const std::size_t bdl = m.header.block_descriptor_length;
  if (bdl % desc_size != 0) return scsi_errc::malformed_data;
  if (complete && header_length + bdl > avail.size()) return scsi_errc::malformed_data;
  const Bytes descs = sub(avail, header_length, bdl);
  for (std::size_t off = 0; off + desc_size <= descs.size(); off += desc_size) {
    BlockDescriptor bd;
    if (m.header.long_lba) {
      bd.number_of_blocks = be64(descs, off);
      bd.block_length = be32(descs, off + 12);
    } else if (uses_short_lba_descriptor(type)) {
      bd.number_of_blocks = be32(descs, off);
      bd.block_length = be24(descs, off + 5);
    } else {
      bd.density_code = u8(descs, off);
      bd.number_of_blocks = be24(descs, off + 1);
      bd.block_length = be24(descs, off + 5);
    }
    m.block_descriptors.push_back(bd);
  }

  std::size_t off = header_length + bdl;
  while (off + 2 <= avail.size()) {
    const std::uint8_t b0 = u8(avail, off);
    ModePage page;
    page.ps = bit(b0, 7);
    page.spf = bit(b0, 6);
    page.page_code = bits(b0, 5, 0);
    std::size_t hdr = 2;
    std::size_t length = 0;
    if (page.spf) {
      if (off + 4 > avail.size()) break;
      hdr = 4;
      page.subpage = u8(avail, off + 1);
      length = be16(avail, off + 2);
    } else {
      length = u8(avail, off + 1);
    }
    if (off + hdr + length > avail.size()) {
      if (complete) return scsi_errc::malformed_data;
      break;  // cut short by the allocation length
    }
    page.parameters = copy_bytes(avail.subspan(off + hdr, length));
    m.pages.push_back(std::move(page));
    off += hdr + length;
  }
  if (complete && off < avail.size()) return scsi_errc::malformed_data;  // a stray byte
  return m;
}

}  // namespace

// ---- INQUIRY ---------------------------------------------------------------------------------

Result<InquiryData> parse_inquiry(std::span<const std::byte> d) {
  if (d.size() < 5) return scsi_errc::truncated_data;
  InquiryData r;
  r.peripheral_qualifier = bits(u8(d, 0), 7, 5);
  r.device_type = static_cast<PeripheralDeviceType>(bits(u8(d, 0), 4, 0));
  r.rmb = bit(u8(d, 1), 7);
  r.version = u8(d, 2);
  r.normaca = bit(u8(d, 3), 5);
  r.hisup = bit(u8(d, 3), 4);
  r.response_data_format = bits(u8(d, 3), 3, 0);
  r.additional_length = u8(d, 4);
  const Bytes v = d.first(std::min(d.size(), std::size_t{5} + r.additional_length));
  const std::uint8_t b5 = opt8(v, 5);
  r.sccs = bit(b5, 7);
  r.acc = bit(b5, 6);
  r.tpgs = bits(b5, 5, 4);
  r.third_party_copy = bit(b5, 3);
  r.protect = bit(b5, 0);
  const std::uint8_t b6 = opt8(v, 6);
  r.encserv = bit(b6, 6);
  r.multip = bit(b6, 4);
  r.cmdque = bit(opt8(v, 7), 1);
  r.vendor = detail::ascii_trimmed(sub(v, 8, 8));
  r.product = detail::ascii_trimmed(sub(v, 16, 16));
  r.revision = detail::ascii_trimmed(sub(v, 32, 4));
  for (std::size_t off = 58; off + 2 <= std::min<std::size_t>(v.size(), 74); off += 2) {
    if (const std::uint16_t vd = be16(v, off); vd != 0) r.version_descriptors.push_back(vd);
  }
  return r;
}

Result<VpdPage> parse_vpd_page(std::span<const std::byte> d) {
  if (d.size() < 4) return scsi_errc::truncated_data;
  VpdPage p;
  p.peripheral_qualifier = bits(u8(d, 0), 7, 5);
  p.device_type = static_cast<PeripheralDeviceType>(bits(u8(d, 0), 4, 0));
  p.page_code = u8(d, 1);
  p.page_length = be16(d, 2);
  p.payload = copy_bytes(sub(d, 4, p.page_length));
  return p;
}

Result<std::vector<std::uint8_t>> parse_vpd_supported_pages(std::span<const std::byte> d) {
  UISCSI_TRY(const VpdView v, vpd_view(d, vpd::kSupportedPages));
  std::vector<std::uint8_t> pages;
  pages.reserve(v.payload.size());
  for (std::byte b : v.payload)
    pages.push_back(std::to_integer<std::uint8_t>(b));
  return pages;
}

Result<std::string> parse_vpd_unit_serial(std::span<const std::byte> d) {
  UISCSI_TRY(const VpdView v, vpd_view(d, vpd::kUnitSerialNumber));
  return detail::ascii_trimmed_both(v.payload);
}

Result<std::vector<Designator>> parse_vpd_device_identification(std::span<const std::byte> d) {
  UISCSI_TRY(const VpdView v, vpd_view(d, vpd::kDeviceIdentification));
  const Bytes p = v.payload;
  std::vector<Designator> out;
  std::size_t off = 0;
  while (off + 4 <= p.size()) {
    const std::size_t length = u8(p, off + 3);
    if (off + 4 + length > p.size()) {
      if (v.complete) return scsi_errc::malformed_data;
      break;
    }
    Designator des;
    des.protocol_identifier = bits(u8(p, off), 7, 4);
    des.code_set = static_cast<CodeSet>(bits(u8(p, off), 3, 0));
    des.piv = bit(u8(p, off + 1), 7);
    des.association = static_cast<Association>(bits(u8(p, off + 1), 5, 4));
    des.type = static_cast<DesignatorType>(bits(u8(p, off + 1), 3, 0));
    des.value = copy_bytes(p.subspan(off + 4, length));
    out.push_back(std::move(des));
    off += 4 + length;
  }
  if (v.complete && off != p.size()) return scsi_errc::malformed_data;
  return out;
}

const Designator* pick_lu_designator(std::span<const Designator> designators) {
  const Designator* best = nullptr;
  int best_rank = 0;
  for (const Designator& d : designators) {
    if (d.association != Association::logical_unit || d.value.empty()) continue;
    int rank = 0;
    switch (d.type) {
      case DesignatorType::naa: {
        const unsigned naa = std::to_integer<unsigned>(d.value[0]) >> 4;
        rank = naa == 6 ? 100 : naa == 5 ? 90 : 80;
        break;
      }
      case DesignatorType::eui64:
        rank = 70;
        break;
      case DesignatorType::scsi_name_string:
        rank = 60;
        break;
      case DesignatorType::t10_vendor_id:
        rank = 50;
        break;
      default:
        break;
    }
    if (rank > best_rank) {
      best = &d;
      best_rank = rank;
    }
  }
  return best;
}

std::string designator_string(const Designator& d) {
  const auto text = [&d]() {
    std::string s;
    for (std::byte b : d.value) {
      const char c = static_cast<char>(b);
      if (c == '\0') break;
      s += (c >= 0x20 && c < 0x7f) ? c : '.';
    }
    while (!s.empty() && s.back() == ' ')
      s.pop_back();
    return s;
  };
  switch (d.type) {
    case DesignatorType::naa:
      return "naa." + hex(d.value);
    case DesignatorType::eui64:
      return "eui." + hex(d.value);
    case DesignatorType::t10_vendor_id:
      return "t10." + text();
    case DesignatorType::scsi_name_string:
      return text();
    default:
      return d.code_set == CodeSet::binary ? hex(d.value) : text();
  }
}

Result<BlockLimitsVpd> parse_vpd_block_limits(std::span<const std::byte> d) {
  UISCSI_TRY(const VpdView v, vpd_view(d, vpd::kBlockLimits));
  // Offsets below are page byte numbers minus the 4-byte header.
  const Bytes p = v.payload;
  BlockLimitsVpd r;
  r.wsnz = bit(opt8(p, 0), 0);
  r.max_compare_and_write_length = opt8(p, 1);
  r.optimal_transfer_length_granularity = opt16(p, 2);
  r.max_transfer_length = opt32(p, 4);
  r.optimal_transfer_length = opt32(p, 8);
  r.max_prefetch_length = opt32(p, 12);
  r.max_unmap_lba_count = opt32(p, 16);
  r.max_unmap_block_descriptor_count = opt32(p, 20);
  r.optimal_unmap_granularity = opt32(p, 24);
  const std::uint32_t uga = opt32(p, 28);
  r.ugavalid = (uga & 0x80000000u) != 0;
  r.unmap_granularity_alignment = uga & 0x7fffffffu;
  r.max_write_same_length = opt64(p, 32);
  return r;
}

Result<BlockCharacteristicsVpd> parse_vpd_block_characteristics(std::span<const std::byte> d) {
  UISCSI_TRY(const VpdView v, vpd_view(d, vpd::kBlockDeviceCharacteristics));
  const Bytes p = v.payload;
  BlockCharacteristicsVpd r;
  r.medium_rotation_rate = opt16(p, 0);
  r.product_type = opt8(p, 2);
  r.wabereq = bits(opt8(p, 3), 7, 6);
  r.wacereq = bits(opt8(p, 3), 5, 4);
  r.nominal_form_factor = bits(opt8(p, 3), 3, 0);
  r.fuab = bit(opt8(p, 4), 1);
  r.vbuls = bit(opt8(p, 4), 0);
  return r;
}

Result<LogicalBlockProvisioningVpd> parse_vpd_logical_block_provisioning(
    std::span<const std::byte> d) {
  UISCSI_TRY(const VpdView v, vpd_view(d, vpd::kLogicalBlockProvisioning));
  const Bytes p = v.payload;
  if (p.size() < 4) return scsi_errc::truncated_data;
  LogicalBlockProvisioningVpd r;
  r.threshold_exponent = u8(p, 0);
  const std::uint8_t b5 = u8(p, 1);
  r.lbpu = bit(b5, 7);
  r.lbpws = bit(b5, 6);
  r.lbpws10 = bit(b5, 5);
  r.lbprz = bit(b5, 2);
  r.anc_sup = bit(b5, 1);
  r.dp = bit(b5, 0);
  r.minimum_percentage = bits(u8(p, 2), 7, 3);
  r.provisioning_type = static_cast<ProvisioningType>(bits(u8(p, 2), 2, 0));
  r.threshold_percentage = u8(p, 3);
  return r;
}

// ---- READ CAPACITY, REPORT LUNS --------------------------------------------------------------

Result<CapacityData> parse_read_capacity10(std::span<const std::byte> d) {
  if (d.size() < 8) return scsi_errc::truncated_data;
  CapacityData c;
  c.last_lba = be32(d, 0);
  c.block_length = be32(d, 4);
  return c;
}

Result<CapacityData> parse_read_capacity16(std::span<const std::byte> d) {
  if (d.size() < 12) return scsi_errc::truncated_data;
  CapacityData c;
  c.last_lba = be64(d, 0);
  c.block_length = be32(d, 8);
  const std::uint8_t b12 = opt8(d, 12);
  c.p_type = bits(b12, 3, 1);
  c.prot_en = bit(b12, 0);
  const std::uint8_t b13 = opt8(d, 13);
  c.p_i_exponent = bits(b13, 7, 4);
  c.lbppbe = bits(b13, 3, 0);
  const std::uint16_t w14 = opt16(d, 14);
  c.lbpme = (w14 & 0x8000u) != 0;
  c.lbprz = (w14 & 0x4000u) != 0;
  c.lowest_aligned_lba = static_cast<std::uint16_t>(w14 & 0x3fffu);
  return c;
}

Result<ReportLunsData> parse_report_luns(std::span<const std::byte> d) {
  if (d.size() < 8) return scsi_errc::truncated_data;
  ReportLunsData r;
  r.lun_list_length = be32(d, 0);
  if (r.lun_list_length % 8 != 0) return scsi_errc::malformed_data;
  const Bytes list = sub(d, 8, r.lun_list_length);
  r.luns.reserve(list.size() / 8);
  for (std::size_t off = 0; off + 8 <= list.size(); off += 8) {
    r.luns.push_back(Lun::from_wire(list.subspan(off).first<8>()));
  }
  return r;
}

// ---- Mode parameters -------------------------------------------------------------------------

const ModePage* ModeParameters::find_page(std::uint8_t page_code, std::uint8_t subpage) const {
  for (const ModePage& p : pages) {
    if (p.page_code == page_code && p.subpage == subpage) return &p;
  }
  return nullptr;
}
ModePage* ModeParameters::find_page(std::uint8_t page_code, std::uint8_t subpage) {
  return const_cast<ModePage*>(std::as_const(*this).find_page(page_code, subpage));
}

Result<ModeParameters> parse_mode_sense6(std::span<const std::byte> d,
                                         PeripheralDeviceType device_type) {
  return parse_mode_sense(d, device_type, false);
}
Result<ModeParameters> parse_mode_sense10(std::span<const std::byte> d,
                                          PeripheralDeviceType device_type) {
  return parse_mode_sense(d, device_type, true);
}

// Page 0Fh parameters (page byte N is parameters[N - 2]): byte 2 DCE 7, DCC 6; byte 3 DDE 7,
// RED 6-5; bytes 4-7 COMPRESSION ALGORITHM; bytes 8-11 DECOMPRESSION ALGORITHM.
Result<DataCompressionPage> parse_data_compression_page(const ModePage& page) {
  if (page.page_code != mode_page::kDataCompression || page.spf) return scsi_errc::malformed_data;
  const Bytes p = page.parameters;
  if (p.size() < 10) return scsi_errc::truncated_data;
  DataCompressionPage r;
  r.dce = bit(u8(p, 0), 7);
  r.dcc = bit(u8(p, 0), 6);
  r.dde = bit(u8(p, 1), 7);
  r.red = bits(u8(p, 1), 6, 5);
  r.compression_algorithm = be32(p, 2);
  r.decompression_algorithm = be32(p, 6);
  return r;
}

Result<ModePage> with_data_compression(const ModePage& page, bool dce, std::optional<bool> dde) {
  UISCSI_TRY_VOID(parse_data_compression_page(page));
  ModePage out = page;
  out.ps = false;
  auto set = [&out](std::size_t i, unsigned bit_no, bool on) {
    const auto mask = static_cast<std::byte>(1u << bit_no);
    out.parameters[i] = on ? (out.parameters[i] | mask) : (out.parameters[i] & ~mask);
  };
  set(0, 7, dce);
  if (dde) set(1, 7, *dde);
  return out;
}

Result<DeviceConfigurationPage> parse_device_configuration_page(const ModePage& page) {
  if (page.page_code != mode_page::kDeviceConfiguration || page.spf) {
    return scsi_errc::malformed_data;
  }
  const Bytes p = page.parameters;
  if (p.size() < 14) return scsi_errc::truncated_data;
  DeviceConfigurationPage r;
  r.cap = bit(u8(p, 0), 6);
  r.caf = bit(u8(p, 0), 5);
  r.active_format = bits(u8(p, 0), 4, 0);
  r.active_partition = u8(p, 1);
  r.write_buffer_full_ratio = u8(p, 2);
  r.read_buffer_empty_ratio = u8(p, 3);
  r.write_delay_time = be16(p, 4);
  const std::uint8_t b8 = u8(p, 6);
  r.obr = bit(b8, 7);
  r.lois = bit(b8, 6);
  r.rsmk = bit(b8, 5);
  r.avc = bit(b8, 4);
  r.socf = bits(b8, 3, 2);
  r.robo = bit(b8, 1);
  r.rew = bit(b8, 0);
  r.gap_size = u8(p, 7);
  const std::uint8_t b10 = u8(p, 8);
  r.eod_defined = bits(b10, 7, 5);
  r.eeg = bit(b10, 4);
  r.sew = bit(b10, 3);
  r.swp = bit(b10, 2);
  r.baml = bit(b10, 1);
  r.bam = bit(b10, 0);
  r.buffer_size_at_early_warning = be24(p, 9);
  r.select_data_compression_algorithm = u8(p, 12);
  const std::uint8_t b15 = u8(p, 13);
  r.wtre = bits(b15, 7, 6);
  r.oir = bit(b15, 5);
  r.rewind_on_reset = bits(b15, 4, 3);
  r.asocwp = bit(b15, 2);
  r.perswp = bit(b15, 1);
  r.prmwp = bit(b15, 0);
  return r;
}

Result<MediumPartitionPage> parse_medium_partition_page(const ModePage& page) {
  if (page.page_code != mode_page::kMediumPartition || page.spf) return scsi_errc::malformed_data;
  const Bytes p = page.parameters;
  if (p.size() < 6) return scsi_errc::truncated_data;
  MediumPartitionPage r;
  r.max_additional_partitions = u8(p, 0);
  r.additional_partitions_defined = u8(p, 1);
  const std::uint8_t b4 = u8(p, 2);
  r.fdp = bit(b4, 7);
  r.sdp = bit(b4, 6);
  r.idp = bit(b4, 5);
  r.psum = bits(b4, 4, 3);
  r.pofm = bit(b4, 2);
  r.clear = bit(b4, 1);
  r.addp = bit(b4, 0);
  r.medium_format_recognition = u8(p, 3);
  r.partition_units = bits(u8(p, 4), 3, 0);
  for (std::size_t off = 6; off + 2 <= p.size(); off += 2)
    r.partition_sizes.push_back(be16(p, off));
  return r;
}

// ---- PERSISTENT RESERVE IN, REPORT SUPPORTED OPERATION CODES ----------------------------------

Result<PrKeys> parse_pr_read_keys(std::span<const std::byte> d) {
  if (d.size() < 8) return scsi_errc::truncated_data;
  PrKeys r;
  r.generation = be32(d, 0);
  r.additional_length = be32(d, 4);
  if (r.additional_length % 8 != 0) return scsi_errc::malformed_data;
  const Bytes list = sub(d, 8, r.additional_length);
  for (std::size_t off = 0; off + 8 <= list.size(); off += 8)
    r.keys.push_back(be64(list, off));
  return r;
}

Result<PrReservation> parse_pr_read_reservation(std::span<const std::byte> d) {
  if (d.size() < 8) return scsi_errc::truncated_data;
  PrReservation r;
  r.generation = be32(d, 0);
  const std::uint32_t length = be32(d, 4);
  if (length == 0) return r;
  if (length != 0x10) return scsi_errc::malformed_data;
  if (d.size() < 24) return scsi_errc::truncated_data;
  r.reserved = true;
  r.key = be64(d, 8);
  r.scope = bits(u8(d, 21), 7, 4);
  r.type = static_cast<PrType>(bits(u8(d, 21), 3, 0));
  return r;
}

// Command descriptor: 0 OPERATION CODE; 2-3 SERVICE ACTION; byte 5 CTDP 1, SERVACTV 0; 6-7 CDB
// LENGTH; then, with CTDP, a 12-byte timeouts descriptor (0-1 length 0Ah, 4-7 nominal, 8-11
// recommended).
Result<SupportedOpcodes> parse_supported_opcodes(std::span<const std::byte> d) {
  if (d.size() < 4) return scsi_errc::truncated_data;
  SupportedOpcodes r;
  r.command_data_length = be32(d, 0);
  const Bytes list = sub(d, 4, r.command_data_length);
  const bool complete = list.size() == r.command_data_length;
  std::size_t off = 0;
  while (off + 8 <= list.size()) {
    SupportedOpcode op;
    op.opcode = u8(list, off);
    op.service_action = be16(list, off + 2);
    const bool ctdp = bit(u8(list, off + 5), 1);
    op.servactv = bit(u8(list, off + 5), 0);
    op.cdb_length = be16(list, off + 6);
    const std::size_t size = ctdp ? 20 : 8;
    if (off + size > list.size()) {
      if (complete) return scsi_errc::malformed_data;
      break;
    }
    if (ctdp) {
      if (be16(list, off + 8) < 0x0a) return scsi_errc::malformed_data;
      op.timeouts = CommandTimeouts{be32(list, off + 12), be32(list, off + 16)};
    }
    r.commands.push_back(op);
    off += size;
  }
  if (complete && off != list.size()) return scsi_errc::malformed_data;
  return r;
}

}  // namespace uiscsi::scsi
