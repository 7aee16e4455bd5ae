// Data builders (include/uiscsi/scsi/data_build.hpp): the inverse of the parsers in data.cpp
// and data_tape.cpp, with the same byte layouts.
#include "uiscsi/scsi/data_build.hpp"

#include <algorithm>

#include "scsi/wire.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::scsi {
namespace {

using detail::flag;
using detail::put16;
using detail::put24;
using detail::put32;
using detail::put64;
using detail::put8;

std::uint8_t peripheral_byte(PeripheralDeviceType type) {
  return static_cast<std::uint8_t>(static_cast<std::uint8_t>(type) & 0x1f);
}

// A VPD page of `payload_length` zero bytes after the 4-byte header.
std::vector<std::byte> vpd_page(PeripheralDeviceType type, std::uint8_t page,
                                std::size_t payload_length) {
  std::vector<std::byte> out(4 + payload_length);
  put8(out, 0, peripheral_byte(type));
  put8(out, 1, page);
  put16(out, 2, static_cast<std::uint16_t>(payload_length));
  return out;
}

bool uses_short_lba_descriptor(PeripheralDeviceType t) {
  return t == PeripheralDeviceType::direct_access ||
         t == PeripheralDeviceType::simplified_direct_access ||
         t == PeripheralDeviceType::host_managed_zoned;
}

Result<std::vector<std::byte>> build_mode(const ModeParameters& m, PeripheralDeviceType type,
                                          ModeDataUse use, bool ten) {
  if (!ten && m.header.long_lba) return errc::invalid_argument;
  const std::size_t header_length = ten ? 8 : 4;
  const std::size_t desc_size = m.header.long_lba ? 16 : 8;
  const std::size_t bdl = desc_size * m.block_descriptors.size();
  std::size_t total = header_length + bdl;
  for (const ModePage& p : m.pages) {
    if (p.page_code > 0x3f) return errc::invalid_argument;
    const bool spf = p.spf || p.subpage != 0;
    if (p.parameters.size() > (spf ? 0xffffu : 0xffu)) return errc::invalid_argument;
    total += (spf ? 4 : 2) + p.parameters.size();
  }
  if (ten ? total > 0xffff + 2 : total > 0xff + 1) return errc::invalid_argument;
  if (!ten && bdl > 0xff) return errc::invalid_argument;
  if (ten && bdl > 0xffff) return errc::invalid_argument;

  std::vector<std::byte> out(total);
  const std::size_t mdl = use == ModeDataUse::sense ? total - (ten ? 2 : 1) : 0;
  if (ten) {
    put16(out, 0, static_cast<std::uint16_t>(mdl));
    put8(out, 2, m.header.medium_type);
    put8(out, 3, m.header.device_specific);
    put8(out, 4, flag(m.header.long_lba, 0));
    put16(out, 6, static_cast<std::uint16_t>(bdl));
  } else {
    put8(out, 0, static_cast<std::uint8_t>(mdl));
    put8(out, 1, m.header.medium_type);
    put8(out, 2, m.header.device_specific);
    put8(out, 3, static_cast<std::uint8_t>(bdl));
  }
  std::size_t off = header_length;
  for (const BlockDescriptor& bd : m.block_descriptors) {
    if (m.header.long_lba) {
      put64(out, off, bd.number_of_blocks);
      put32(out, off + 12, bd.block_length);
    } else if (uses_short_lba_descriptor(type)) {
      put32(out, off,
            static_cast<std::uint32_t>(std::min<std::uint64_t>(bd.number_of_blocks, 0xffffffffu)));
      put24(out, off + 5, bd.block_length & 0xffffffu);
    } else {
      put8(out, off, bd.density_code);
      put24(out, off + 1,
            static_cast<std::uint32_t>(std::min<std::uint64_t>(bd.number_of_blocks, 0xffffffu)));
      put24(out, off + 5, bd.block_length & 0xffffffu);
    }
    off += desc_size;
  }
  for (const ModePage& p : m.pages) {
    const bool spf = p.spf || p.subpage != 0;
    const bool ps = use == ModeDataUse::sense && p.ps;
    put8(out, off, static_cast<std::uint8_t>(flag(ps, 7) | flag(spf, 6) | p.page_code));
    if (spf) {
      put8(out, off + 1, p.subpage);
      put16(out, off + 2, static_cast<std::uint16_t>(p.parameters.size()));
      off += 4;
    } else {
      put8(out, off + 1, static_cast<std::uint8_t>(p.parameters.size()));
      off += 2;
    }
    std::copy(p.parameters.begin(), p.parameters.end(),
              out.begin() + static_cast<std::ptrdiff_t>(off));
    off += p.parameters.size();
  }
  return out;
}

}  // namespace

// ---- INQUIRY and VPD -------------------------------------------------------------------------

Result<std::vector<std::byte>> build_inquiry(const InquiryData& inq) {
  if (inq.version_descriptors.size() > 8) return errc::invalid_argument;
  std::vector<std::byte> out(inq.version_descriptors.empty() ? 36 : 74);
  put8(out, 0,
       static_cast<std::uint8_t>(((inq.peripheral_qualifier & 0x07) << 5) |
                                 peripheral_byte(inq.device_type)));
  put8(out, 1, flag(inq.rmb, 7));
  put8(out, 2, inq.version);
  put8(out, 3,
       static_cast<std::uint8_t>(flag(inq.normaca, 5) | flag(inq.hisup, 4) |
                                 (inq.response_data_format & 0x0f)));
  put8(out, 4, static_cast<std::uint8_t>(out.size() - 5));
  put8(out, 5,
       static_cast<std::uint8_t>(flag(inq.sccs, 7) | flag(inq.acc, 6) | ((inq.tpgs & 0x03) << 4) |
                                 flag(inq.third_party_copy, 3) | flag(inq.protect, 0)));
  put8(out, 6, static_cast<std::uint8_t>(flag(inq.encserv, 6) | flag(inq.multip, 4)));
  put8(out, 7, flag(inq.cmdque, 1));
  detail::put_ascii(out, 8, 8, inq.vendor);
  detail::put_ascii(out, 16, 16, inq.product);
  detail::put_ascii(out, 32, 4, inq.revision);
  for (std::size_t i = 0; i < inq.version_descriptors.size(); ++i) {
    put16(out, 58 + 2 * i, inq.version_descriptors[i]);
  }
  return out;
}

std::vector<std::byte> build_vpd_supported_pages(PeripheralDeviceType type,
                                                 std::span<const std::uint8_t> pages) {
  const std::size_t n = std::min<std::size_t>(pages.size(), 0xffff);
  std::vector<std::byte> out = vpd_page(type, vpd::kSupportedPages, n);
  for (std::size_t i = 0; i < n; ++i)
    put8(out, 4 + i, pages[i]);
  return out;
}

Result<std::vector<std::byte>> build_vpd_unit_serial(PeripheralDeviceType type,
                                                     std::string_view serial) {
  if (serial.size() > 255) return errc::invalid_argument;
  std::vector<std::byte> out = vpd_page(type, vpd::kUnitSerialNumber, serial.size());
  detail::put_ascii(out, 4, serial.size(), serial);
  return out;
}

Result<std::vector<std::byte>> build_vpd_device_identification(
    PeripheralDeviceType type, std::span<const Designator> designators) {
  std::size_t length = 0;
  for (const Designator& d : designators) {
    if (d.value.size() > 255) return errc::invalid_argument;
    length += 4 + d.value.size();
  }
  if (length > 0xffff) return errc::invalid_argument;
  std::vector<std::byte> out = vpd_page(type, vpd::kDeviceIdentification, length);
  std::size_t off = 4;
  for (const Designator& d : designators) {
    put8(out, off,
         static_cast<std::uint8_t>(((d.protocol_identifier & 0x0f) << 4) |
                                   (static_cast<std::uint8_t>(d.code_set) & 0x0f)));
    put8(out, off + 1,
         static_cast<std::uint8_t>(flag(d.piv, 7) |
                                   ((static_cast<std::uint8_t>(d.association) & 0x03) << 4) |
                                   (static_cast<std::uint8_t>(d.type) & 0x0f)));
    put8(out, off + 3, static_cast<std::uint8_t>(d.value.size()));
    std::copy(d.value.begin(), d.value.end(), out.begin() + static_cast<std::ptrdiff_t>(off + 4));
    off += 4 + d.value.size();
  }
  return out;
}

std::vector<std::byte> build_vpd_block_limits(PeripheralDeviceType type, const BlockLimitsVpd& v) {
  std::vector<std::byte> out = vpd_page(type, vpd::kBlockLimits, 0x3c);
  put8(out, 4, flag(v.wsnz, 0));
  put8(out, 5, v.max_compare_and_write_length);
  put16(out, 6, v.optimal_transfer_length_granularity);
  put32(out, 8, v.max_transfer_length);
  put32(out, 12, v.optimal_transfer_length);
  put32(out, 16, v.max_prefetch_length);
  put32(out, 20, v.max_unmap_lba_count);
  put32(out, 24, v.max_unmap_block_descriptor_count);
  put32(out, 28, v.optimal_unmap_granularity);
  put32(out, 32, (v.ugavalid ? 0x80000000u : 0u) | (v.unmap_granularity_alignment & 0x7fffffffu));
  put64(out, 36, v.max_write_same_length);
  return out;
}

std::vector<std::byte> build_vpd_block_characteristics(PeripheralDeviceType type,
                                                       const BlockCharacteristicsVpd& v) {
  std::vector<std::byte> out = vpd_page(type, vpd::kBlockDeviceCharacteristics, 0x3c);
  put16(out, 4, v.medium_rotation_rate);
  put8(out, 6, v.product_type);
  put8(out, 7,
       static_cast<std::uint8_t>(((v.wabereq & 0x03) << 6) | ((v.wacereq & 0x03) << 4) |
                                 (v.nominal_form_factor & 0x0f)));
  put8(out, 8, static_cast<std::uint8_t>(flag(v.fuab, 1) | flag(v.vbuls, 0)));
  return out;
}

std::vector<std::byte> build_vpd_logical_block_provisioning(PeripheralDeviceType type,
                                                            const LogicalBlockProvisioningVpd& v) {
  std::vector<std::byte> out = vpd_page(type, vpd::kLogicalBlockProvisioning, 4);
  put8(out, 4, v.threshold_exponent);
  put8(out, 5,
       static_cast<std::uint8_t>(flag(v.lbpu, 7) | flag(v.lbpws, 6) | flag(v.lbpws10, 5) |
                                 flag(v.lbprz, 2) | flag(v.anc_sup, 1) | flag(v.dp, 0)));
  put8(out, 6,
       static_cast<std::uint8_t>(((v.minimum_percentage & 0x1f) << 3) |
                                 (static_cast<std::uint8_t>(v.provisioning_type) & 0x07)));
  put8(out, 7, v.threshold_percentage);
  return out;
}

Designator make_naa_designator(std::span<const std::byte, 16> naa, Association association) {
  Designator d;
  d.code_set = CodeSet::binary;
  d.association = association;
  d.type = DesignatorType::naa;
  d.value.assign(naa.begin(), naa.end());
  return d;
}

std::vector<std::byte> locally_assigned_naa(std::string_view vendor, std::string_view product,
                                            std::string_view serial) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over vendor, product, serial in turn
  for (std::string_view part : {vendor, product, serial})
    for (char c : part) {
      h ^= static_cast<std::uint8_t>(c);
      h *= 0x100000001b3ull;
    }
  const std::uint64_t v = (std::uint64_t{3} << 60) | (h & 0x0fffffffffffffffull);
  std::vector<std::byte> out(8);
  for (std::size_t i = 0; i < 8; ++i)
    out[i] = static_cast<std::byte>(v >> (56 - 8 * i));
  return out;
}

std::vector<Designator> logical_unit_designators(std::span<const std::byte> naa,
                                                 std::string_view vendor, std::string_view product,
                                                 std::string_view serial) {
  std::vector<Designator> ids(2);
  ids[0].type = DesignatorType::naa;
  ids[0].value.assign(naa.begin(), naa.end());
  ids[1].code_set = CodeSet::ascii;
  ids[1].type = DesignatorType::t10_vendor_id;
  // Cut or blank-padded to `width`.
  auto append = [&](std::string_view text, std::size_t width) {
    for (std::size_t i = 0; i < width; ++i)
      ids[1].value.push_back(static_cast<std::byte>(i < text.size() ? text[i] : ' '));
  };
  append(vendor, 8);
  append(product, 16);
  append(serial, serial.size());
  return ids;
}

// ---- READ CAPACITY, REPORT LUNS --------------------------------------------------------------

std::array<std::byte, 8> build_read_capacity10(const CapacityData& c) {
  std::array<std::byte, 8> out{};
  put32(out, 0, static_cast<std::uint32_t>(std::min<std::uint64_t>(c.last_lba, 0xffffffffu)));
  put32(out, 4, c.block_length);
  return out;
}

std::array<std::byte, 32> build_read_capacity16(const CapacityData& c) {
  std::array<std::byte, 32> out{};
  put64(out, 0, c.last_lba);
  put32(out, 8, c.block_length);
  put8(out, 12, static_cast<std::uint8_t>(((c.p_type & 0x07) << 1) | flag(c.prot_en, 0)));
  put8(out, 13, static_cast<std::uint8_t>(((c.p_i_exponent & 0x0f) << 4) | (c.lbppbe & 0x0f)));
  put16(out, 14,
        static_cast<std::uint16_t>((c.lbpme ? 0x8000u : 0u) | (c.lbprz ? 0x4000u : 0u) |
                                   (c.lowest_aligned_lba & 0x3fffu)));
  return out;
}

std::vector<std::byte> build_report_luns(std::span<const Lun> luns) {
  std::vector<std::byte> out(8 + 8 * luns.size());
  put32(out, 0, static_cast<std::uint32_t>(8 * luns.size()));
  std::size_t off = 8;
  for (const Lun& l : luns) {
    std::copy(l.wire().begin(), l.wire().end(), out.begin() + static_cast<std::ptrdiff_t>(off));
    off += 8;
  }
  return out;
}

// ---- Mode parameters -------------------------------------------------------------------------

Result<std::vector<std::byte>> build_mode_parameters6(const ModeParameters& m,
                                                      PeripheralDeviceType device_type,
                                                      ModeDataUse use) {
  return build_mode(m, device_type, use, false);
}
Result<std::vector<std::byte>> build_mode_parameters10(const ModeParameters& m,
                                                       PeripheralDeviceType device_type,
                                                       ModeDataUse use) {
  return build_mode(m, device_type, use, true);
}

ModePage build_data_compression_page(const DataCompressionPage& p) {
  ModePage page;
  page.page_code = mode_page::kDataCompression;
  page.parameters.resize(14);
  put8(page.parameters, 0, static_cast<std::uint8_t>(flag(p.dce, 7) | flag(p.dcc, 6)));
  put8(page.parameters, 1, static_cast<std::uint8_t>(flag(p.dde, 7) | ((p.red & 0x03) << 5)));
  put32(page.parameters, 2, p.compression_algorithm);
  put32(page.parameters, 6, p.decompression_algorithm);
  return page;
}

ModePage build_device_configuration_page(const DeviceConfigurationPage& p) {
  ModePage page;
  page.page_code = mode_page::kDeviceConfiguration;
  auto& b = page.parameters;
  b.resize(14);
  put8(b, 0, static_cast<std::uint8_t>(flag(p.cap, 6) | flag(p.caf, 5) | (p.active_format & 0x1f)));
  put8(b, 1, p.active_partition);
  put8(b, 2, p.write_buffer_full_ratio);
  put8(b, 3, p.read_buffer_empty_ratio);
  put16(b, 4, p.write_delay_time);
  put8(b, 6,
       static_cast<std::uint8_t>(flag(p.obr, 7) | flag(p.lois, 6) | flag(p.rsmk, 5) |
                                 flag(p.avc, 4) | ((p.socf & 0x03) << 2) | flag(p.robo, 1) |
                                 flag(p.rew, 0)));
  put8(b, 7, p.gap_size);
  put8(b, 8,
       static_cast<std::uint8_t>(((p.eod_defined & 0x07) << 5) | flag(p.eeg, 4) | flag(p.sew, 3) |
                                 flag(p.swp, 2) | flag(p.baml, 1) | flag(p.bam, 0)));
  put24(b, 9, p.buffer_size_at_early_warning & 0xffffffu);
  put8(b, 12, p.select_data_compression_algorithm);
  put8(b, 13,
       static_cast<std::uint8_t>(((p.wtre & 0x03) << 6) | flag(p.oir, 5) |
                                 ((p.rewind_on_reset & 0x03) << 3) | flag(p.asocwp, 2) |
                                 flag(p.perswp, 1) | flag(p.prmwp, 0)));
  return page;
}

// ---- LOG SENSE -------------------------------------------------------------------------------

Result<std::vector<std::byte>> build_log_page(const LogPage& page) {
  std::size_t length = 0;
  for (const LogParameter& p : page.parameters) {
    if (p.value.size() > 255) return errc::invalid_argument;
    length += 4 + p.value.size();
  }
  if (length > 0xffff || page.page_code > 0x3f) return errc::invalid_argument;
  std::vector<std::byte> out(4 + length);
  put8(out, 0, static_cast<std::uint8_t>(flag(page.ds, 7) | flag(page.spf, 6) | page.page_code));
  put8(out, 1, page.subpage);
  put16(out, 2, static_cast<std::uint16_t>(length));
  std::size_t off = 4;
  for (const LogParameter& p : page.parameters) {
    put16(out, off, p.code);
    put8(out, off + 2, p.control);
    put8(out, off + 3, static_cast<std::uint8_t>(p.value.size()));
    std::copy(p.value.begin(), p.value.end(), out.begin() + static_cast<std::ptrdiff_t>(off + 4));
    off += 4 + p.value.size();
  }
  return out;
}

// ---- SSC-3 -----------------------------------------------------------------------------------

std::array<std::byte, 6> build_read_block_limits(const BlockLimits& limits) {
  std::array<std::byte, 6> out{};
  put8(out, 0, static_cast<std::uint8_t>(limits.granularity & 0x1f));
  put24(out, 1, limits.max_block_length & 0xffffffu);
  put16(out, 4, limits.min_block_length);
  return out;
}

std::vector<std::byte> build_read_position(const TapePosition& p, ReadPositionForm form) {
  const std::uint8_t short_flags =
      static_cast<std::uint8_t>(flag(p.bop, 7) | flag(p.eop, 6) | flag(p.block_count_unknown, 5) |
                                flag(p.byte_count_unknown, 4) | flag(p.block_position_unknown, 2) |
                                flag(p.perr, 1) | flag(p.bpew, 0));
  switch (form) {
    case ReadPositionForm::long_form: {
      std::vector<std::byte> out(32);
      put8(out, 0,
           static_cast<std::uint8_t>(flag(p.bop, 7) | flag(p.eop, 6) |
                                     flag(p.mark_position_unknown, 3) |
                                     flag(p.block_position_unknown, 2) | flag(p.bpew, 0)));
      put32(out, 4, p.partition);
      put64(out, 8, p.first_block);
      put64(out, 16, p.file_number);
      put64(out, 24, p.set_number);
      return out;
    }
    case ReadPositionForm::extended_form: {
      std::vector<std::byte> out(32);
      put8(out, 0, short_flags);
      put8(out, 1, static_cast<std::uint8_t>(p.partition));
      put16(out, 2, 0x1c);
      put24(out, 5, p.blocks_in_buffer & 0xffffffu);
      put64(out, 8, p.first_block);
      put64(out, 16, p.last_block);
      put64(out, 24, p.bytes_in_buffer);
      return out;
    }
    case ReadPositionForm::short_form:
    case ReadPositionForm::short_vendor:
    default: {
      std::vector<std::byte> out(20);
      put8(out, 0, short_flags);
      put8(out, 1, static_cast<std::uint8_t>(p.partition));
      put32(out, 4, static_cast<std::uint32_t>(p.first_block));
      put32(out, 8, static_cast<std::uint32_t>(p.last_block));
      put24(out, 13, p.blocks_in_buffer & 0xffffffu);
      put32(out, 16, static_cast<std::uint32_t>(p.bytes_in_buffer));
      return out;
    }
  }
}

Result<std::vector<std::byte>> build_report_density_support(
    std::span<const DensityDescriptor> descriptors) {
  const std::size_t length = 52 * descriptors.size();
  if (length + 2 > 0xffff) return errc::invalid_argument;
  std::vector<std::byte> out(4 + length);
  put16(out, 0, static_cast<std::uint16_t>(length + 2));
  std::size_t off = 4;
  for (const DensityDescriptor& d : descriptors) {
    put8(out, off, d.primary_density_code);
    put8(out, off + 1, d.secondary_density_code);
    put8(out, off + 2,
         static_cast<std::uint8_t>(flag(d.wrtok, 7) | flag(d.dup, 6) | flag(d.deflt, 5) | 0x01));
    put16(out, off + 3, 52 - 5);
    put24(out, off + 5, d.bits_per_mm & 0xffffffu);
    put16(out, off + 8, d.media_width);
    put16(out, off + 10, d.tracks);
    put32(out, off + 12, d.capacity);
    detail::put_ascii(out, off + 16, 8, d.assigning_organization);
    detail::put_ascii(out, off + 24, 8, d.density_name);
    detail::put_ascii(out, off + 32, 20, d.description);
    off += 52;
  }
  return out;
}

}  // namespace uiscsi::scsi
