// Drive: mode parameters (SPC-4 mode parameter list; SSC-3 mode pages) and the MODE SENSE /
// MODE SELECT (6)/(10) handlers.
//
// Header: DEVICE-SPECIFIC PARAMETER = WP (bit 7: cartridge tab or SWP), BUFFERED MODE (6-4,
// changeable: 0..2), SPEED (3-0, 0). One 8-byte block descriptor: DENSITY CODE, NUMBER OF
// BLOCKS 0, BLOCK LENGTH (0: variable). Pages, none saveable:
//   0Fh Data Compression: DCE (byte 2 bit 7) and DDE (byte 3 bit 7) changeable, DCC = 1,
//       COMPRESSION / DECOMPRESSION ALGORITHM 1 (the default algorithm; 0 and 1 accepted).
//   10h Device Configuration: CAP + ACTIVE PARTITION (change partition), RSMK, SEW, SWP, the
//       buffer ratios, WRITE DELAY TIME and BUFFER SIZE AT EARLY WARNING changeable; LOIS = 1,
//       EEG = 1; SELECT DATA COMPRESSION ALGORITHM mirrors DCE (0 or 1).
//   11h Medium Partition: FDP, SDP or IDP with ADDITIONAL PARTITIONS DEFINED, PSUM, PARTITION
//       UNITS and the sizes repartition the loaded cartridge at once (POFM = 0); sizes are
//       reported with PSUM 11b in units of 10^PARTITION UNITS bytes.
//
// MODE SELECT changes only what it changes: a bit is applied when it differs from the value
// MODE SENSE reported before the command, so echoing a page back (read-modify-write) keeps
// everything, and a block descriptor or page that is absent changes nothing. Fields that are
// not changeable must hold their current value (INVALID FIELD IN PARAMETER LIST, with a field
// pointer). The list is checked whole before anything is applied. Other nexuses then get
// MODE PARAMETERS CHANGED (2A/01).
#include <algorithm>
#include <bit>

#include "core/bytes.hpp"
#include "tapesim/drive.hpp"
#include "tapesim/errors.hpp"
#include "tapesim/sense.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::tapesim {
namespace {

constexpr std::uint8_t kCompressionPage = 0x0f;
constexpr std::uint8_t kConfigurationPage = 0x10;
constexpr std::uint8_t kPartitionPage = 0x11;
constexpr std::uint8_t kAllPages = 0x3f;

constexpr std::uint8_t kCurrent = 0;
constexpr std::uint8_t kChangeable = 1;
constexpr std::uint8_t kDefaults = 2;

using Page = std::array<std::uint8_t, 14>;

// Parameter byte i is page byte i + 2.
constexpr Page kCompressionDefaults{0x40, 0x80, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0};
constexpr Page kCompressionChangeable{0x80, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
// Checked separately (DCC is informational; the algorithms are validated by value).
constexpr Page kCompressionSpecial{0x40, 0,    0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0,    0,    0,    0};

constexpr Page kConfigurationDefaults{0, 0, 0, 0, 0x00, 0x64, 0x40, 0, 0x18, 0, 0, 0, 0, 0};
constexpr Page kConfigurationChangeable{0x40, 0xff, 0xff, 0xff, 0xff, 0xff, 0x20,
                                        0,    0x0c, 0xff, 0xff, 0xff, 0xff, 0};
// CAP, ACTIVE PARTITION and SELECT DATA COMPRESSION ALGORITHM act, they are not stored.
constexpr Page kConfigurationSpecial{0x40, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0};

constexpr std::uint8_t kWriteProtectBit = 0x80;  // device-specific parameter
constexpr std::uint8_t kDefaultBufferedMode = 1;

// ---- medium partition page helpers ----

std::uint64_t pow10(unsigned e) {
  std::uint64_t v = 1;
  for (unsigned i = 0; i < e; ++i)
    v *= 10;
  return v;
}

// The smallest 10^u unit in which every size fits 16 bits.
std::uint8_t partition_units(std::span<const std::uint64_t> sizes) {
  const std::uint64_t largest = sizes.empty() ? 0 : *std::max_element(sizes.begin(), sizes.end());
  std::uint8_t u = 0;
  while (u < 15 && (largest + pow10(u) - 1) / pow10(u) > 0xfffe)
    ++u;
  return u;
}

}  // namespace

void Drive::reset_mode() {
  block_size_ = config_.block_size;
  selected_density_ = 0;
  buffered_mode_ = kDefaultBufferedMode;
  compression_page_ = kCompressionDefaults;
  if (config_.compression) compression_page_[0] |= 0x80;
  configuration_page_ = kConfigurationDefaults;
}

// The medium partition page (11h) for PAGE CONTROL `control`.
scsi::ModePage Drive::partition_page(std::uint8_t control) const {
  const std::size_t slots = std::size_t{config_.max_additional_partitions} + 1;
  std::vector<std::uint8_t> p(6 + 2 * slots, 0);
  if (control == kChangeable) {
    p[1] = 0xff;
    p[2] = 0xf8;  // FDP, SDP, IDP, PSUM
    p[4] = 0x0f;  // PARTITION UNITS
    std::fill(p.begin() + 6, p.end(), std::uint8_t{0xff});
  } else {
    std::vector<std::uint64_t> sizes;
    if (control == kCurrent && medium_) {
      for (std::uint32_t i = 0; i < medium_->partition_count(); ++i)
        sizes.push_back(medium_->partition_size(i));
    }
    const std::uint8_t units = partition_units(sizes);
    p[0] = config_.max_additional_partitions;
    p[1] = static_cast<std::uint8_t>(sizes.empty() ? 0 : sizes.size() - 1);
    p[2] = 0x18;  // PSUM 11b: units of 10^PARTITION UNITS bytes
    p[3] = 0x03;  // MEDIUM FORMAT RECOGNITION: format and partition recognition
    p[4] = units;
    for (std::size_t i = 0; i < sizes.size() && i < slots; ++i) {
      const std::uint64_t v = (sizes[i] + pow10(units) - 1) / pow10(units);
      p[6 + 2 * i] = static_cast<std::uint8_t>(v >> 8);
      p[7 + 2 * i] = static_cast<std::uint8_t>(v);
    }
  }
  scsi::ModePage m;
  m.page_code = kPartitionPage;
  for (std::uint8_t b : p)
    m.parameters.push_back(std::byte{b});
  return m;
}

std::vector<scsi::ModePage> Drive::mode_pages(std::uint8_t code, std::uint8_t control) const {
  std::vector<scsi::ModePage> out;
  auto add = [&](std::uint8_t page_code, const Page& bytes) {
    scsi::ModePage m;
    m.page_code = page_code;
    for (std::uint8_t b : bytes)
      m.parameters.push_back(std::byte{b});
    out.push_back(std::move(m));
  };
  if (code == kCompressionPage || code == kAllPages) {
    Page defaults = kCompressionDefaults;
    if (config_.compression) defaults[0] |= 0x80;  // DCE after power on
    add(kCompressionPage, control == kChangeable ? kCompressionChangeable
                          : control == kDefaults ? defaults
                                                 : compression_page_);
  }
  if (code == kConfigurationPage || code == kAllPages) {
    Page p = control == kChangeable ? kConfigurationChangeable
             : control == kDefaults ? kConfigurationDefaults
                                    : configuration_page_;
    if (control == kCurrent) {
      p[1] = static_cast<std::uint8_t>(medium_ ? partition_ : 0);
      p[12] = compression().dce ? 1 : 0;
    } else if (control == kDefaults) {
      p[12] = config_.compression ? 1 : 0;
    }
    add(kConfigurationPage, p);
  }
  if (code == kPartitionPage || code == kAllPages) out.push_back(partition_page(control));
  return out;
}

// MODE SENSE (6)/(10) (SPC-4): byte 1 DBD (bit 3; (10): LLBAA bit 4, ignored: tapes have only
// short descriptors); byte 2 PC 7-6, PAGE CODE 5-0; byte 3 SUBPAGE CODE (0, or FFh with
// 3Fh); ALLOCATION LENGTH byte 4 (6) or 7-8 (10). Saved values are not supported (39/00).
Response Drive::mode_sense(const Command& c) {
  const bool six = c.cdb.size() == 6;
  const bool dbd = (c.u8(1) & 0x08) != 0;
  const std::uint8_t pc = c.u8(2) >> 6;
  const std::uint8_t page = c.u8(2) & 0x3f;
  const std::uint8_t subpage = c.u8(3);
  const std::size_t alloc = six ? c.u8(4) : c.be16(7);
  if (pc == 3) return check(sense::saving_not_supported());
  if (page != kCompressionPage && page != kConfigurationPage && page != kPartitionPage &&
      page != kAllPages && page != 0) {
    return check(sense::invalid_cdb(2, 5));
  }
  if (subpage != 0 && !(subpage == 0xff && page == kAllPages)) {
    return check(sense::invalid_cdb(3, 7));
  }
  scsi::ModeParameters m;
  switch (pc) {
    case kChangeable:
      m.header.device_specific = 0x70;
      break;
    case kDefaults:
      m.header.device_specific = kDefaultBufferedMode << 4;
      break;
    default:
      m.header.device_specific = static_cast<std::uint8_t>(
          (write_blocked() ? kWriteProtectBit : 0) | (buffered_mode_ << 4));
      break;
  }
  if (!dbd) {
    scsi::BlockDescriptor d;
    if (pc == kChangeable) {
      d.density_code = 0xff;
      d.block_length = 0xffffff;
    } else {
      d.density_code = pc == kDefaults ? default_density() : density();
      d.block_length = pc == kDefaults ? config_.block_size : block_size_;
    }
    m.block_descriptors.push_back(d);
  }
  if (page != 0) m.pages = mode_pages(page, pc);
  auto data = six ? scsi::build_mode_parameters6(m, scsi::PeripheralDeviceType::sequential_access,
                                                 scsi::ModeDataUse::sense)
                  : scsi::build_mode_parameters10(m, scsi::PeripheralDeviceType::sequential_access,
                                                  scsi::ModeDataUse::sense);
  if (!data) return check(sense::internal_failure());
  Response r;
  r.data_in = std::move(*data);
  limit(r, alloc);
  return r;
}

// MODE SELECT (6)/(10) (SPC-4): byte 1 PF (bit 4), SP (bit 0: saving is not supported);
// PARAMETER LIST LENGTH byte 4 (6) or 7-8 (10).
Response Drive::mode_select(const Command& c) {
  const bool six = c.cdb.size() == 6;
  if ((c.u8(1) & 0x01) != 0) return check(sense::invalid_cdb(1, 0));
  const bool pf = (c.u8(1) & 0x10) != 0;
  const std::size_t length = six ? c.u8(4) : c.be16(7);
  Response done;
  done.data_out_length = length;
  if (length == 0) return done;
  if (c.data_out.size() < length) return check(sense::parameter_list_length());
  const auto list = c.data_out.first(length);
  const auto at = [&](std::size_t i) { return std::to_integer<std::uint8_t>(list[i]); };
  const std::size_t header = six ? 4 : 8;
  if (list.size() < header) return check(sense::parameter_list_length());

  // Header: DEVICE-SPECIFIC PARAMETER, BLOCK DESCRIPTOR LENGTH (and LONGLBA in the (10) form).
  const std::size_t dsp_byte = six ? 2 : 3;
  const std::uint8_t buffered = (at(dsp_byte) >> 4) & 0x07;
  if (buffered > 2) return check(sense::invalid_param(static_cast<std::uint16_t>(dsp_byte), 6));
  if (!six && (at(4) & 0x01) != 0) return check(sense::invalid_param(4, 0));
  const std::size_t bdl = six ? at(3) : core::load_be16(list.data() + 6);
  if (bdl != 0 && bdl != 8) {
    return check(sense::invalid_param(static_cast<std::uint16_t>(six ? 3 : 7), 7));
  }
  if (list.size() - header < bdl) return check(sense::parameter_list_length());

  std::uint32_t new_block_size = block_size_;
  std::uint8_t new_density = selected_density_;
  if (bdl == 8) {
    // DENSITY CODE 00h and 7Fh keep the current choice; others must be written by this drive.
    const std::uint8_t code = at(header);
    if (code != 0 && code != 0x7f) {
      const scsi::DensityDescriptor* d = find_density(code);
      if (d == nullptr || !d->wrtok) {
        return check(sense::invalid_param(static_cast<std::uint16_t>(header), 7));
      }
      new_density = code;
    }
    const std::uint32_t bl = core::load_be24(list.data() + header + 5);
    if (bl != 0 && !valid_block_length(bl)) {
      return check(sense::invalid_param(static_cast<std::uint16_t>(header + 5), 7));
    }
    new_block_size = bl;
  }

  const auto pages = list.subspan(header + bdl);
  if (!pages.empty() && !pf) return check(sense::invalid_cdb(1, 4));
  Page new_compression = compression_page_;
  Page new_configuration = configuration_page_;
  const Page sensed_compression = compression_page_;
  Page sensed_configuration = configuration_page_;
  sensed_configuration[1] = static_cast<std::uint8_t>(medium_ ? partition_ : 0);
  sensed_configuration[12] = compression().dce ? 1 : 0;
  std::optional<std::vector<std::uint64_t>> repartition;
  std::optional<std::uint32_t> change_partition;
  std::optional<bool> sdca;

  std::size_t off = 0;
  while (off < pages.size()) {
    const std::size_t base = header + bdl + off;  // for field pointers
    const auto ptr = [&](std::size_t i) { return static_cast<std::uint16_t>(base + i); };
    if (pages.size() - off < 2) return check(sense::parameter_list_length());
    const std::uint8_t b0 = std::to_integer<std::uint8_t>(pages[off]);
    if ((b0 & 0x40) != 0) return check(sense::invalid_param(ptr(0), 6));  // SPF
    const std::uint8_t code = b0 & 0x3f;
    const std::size_t plen = std::to_integer<std::uint8_t>(pages[off + 1]);
    if (pages.size() - off - 2 < plen) return check(sense::parameter_list_length());
    const auto p = pages.subspan(off + 2, plen);
    const auto pb = [&](std::size_t i) { return std::to_integer<std::uint8_t>(p[i]); };

    if (code == kCompressionPage || code == kConfigurationPage) {
      if (plen != 14) return check(sense::invalid_param(ptr(1), 7));
      const bool comp = code == kCompressionPage;
      const Page& sensed = comp ? sensed_compression : sensed_configuration;
      const Page& changeable = comp ? kCompressionChangeable : kConfigurationChangeable;
      const Page& special = comp ? kCompressionSpecial : kConfigurationSpecial;
      Page& target = comp ? new_compression : new_configuration;
      for (std::size_t i = 0; i < 14; ++i) {
        const std::uint8_t v = pb(i);
        const auto fixed =
            static_cast<std::uint8_t>((v ^ sensed[i]) & ~changeable[i] & ~special[i]);
        if (fixed != 0) return check(sense::invalid_param(ptr(2 + i), 7 - std::countl_zero(fixed)));
        const auto apply = static_cast<std::uint8_t>((v ^ sensed[i]) & changeable[i] & ~special[i]);
        target[i] = static_cast<std::uint8_t>((target[i] & ~apply) | (v & apply));
      }
      if (comp) {
        for (std::size_t field : {std::size_t{2}, std::size_t{6}}) {
          if (core::load_be32(p.data() + field) > 1)
            return check(sense::invalid_param(ptr(2 + field), 7));
        }
      } else {
        if ((pb(0) & 0x40) != 0) change_partition = pb(1);  // CAP
        if (pb(12) > 1) return check(sense::invalid_param(ptr(14), 7));
        if (pb(12) != sensed[12]) sdca = pb(12) == 1;
      }
    } else if (code == kPartitionPage) {
      const std::size_t slots = std::size_t{config_.max_additional_partitions} + 1;
      if (plen < 6 || plen % 2 != 0 || plen > 6 + 2 * slots) {
        return check(sense::invalid_param(ptr(1), 7));
      }
      const std::uint8_t flags = pb(2);
      const int methods = ((flags & 0x80) != 0) + ((flags & 0x40) != 0) + ((flags & 0x20) != 0);
      if (methods > 1) return check(sense::invalid_param(ptr(4), 7));
      if ((flags & 0x01) != 0) return check(sense::invalid_param(ptr(4), 0));  // ADDP
      if (methods == 1) {
        const std::size_t additional = pb(1);
        if (additional + 1 > slots) return check(sense::invalid_param(ptr(3), 7));
        if (!medium_) return check(sense::medium_not_present());
        const std::uint64_t capacity = medium_->capacity();
        std::vector<std::uint64_t> sizes;
        if ((flags & 0x80) != 0 || (flags & 0x40) != 0) {
          // FDP: this drive's fixed layout is two equal partitions (one if it allows no more);
          // SDP: ADDITIONAL PARTITIONS DEFINED + 1 equal partitions.
          const std::size_t n =
              (flags & 0x80) != 0 ? std::min<std::size_t>(2, slots) : additional + 1;
          sizes.assign(n, capacity / n);
        } else {
          // IDP: sizes in the PSUM unit; FFFFh takes what the others leave.
          const std::size_t n = additional + 1;
          if (plen < 6 + 2 * n) return check(sense::invalid_param(ptr(1), 7));
          const unsigned psum = (flags >> 3) & 0x03;
          const std::uint64_t unit = psum == 0   ? 1
                                     : psum == 1 ? 1000
                                     : psum == 2 ? 1000000
                                                 : pow10(pb(4) & 0x0f);
          std::uint64_t sum = 0;
          std::optional<std::size_t> rest;
          for (std::size_t i = 0; i < n; ++i) {
            const std::uint16_t v = core::load_be16(p.data() + 6 + 2 * i);
            if (v == 0xffff && !rest) {
              rest = i;
              sizes.push_back(0);
              continue;
            }
            const std::uint64_t bytes = std::uint64_t{v} * unit;
            if (v == 0 || v == 0xffff || bytes > capacity - sum) {
              return check(sense::invalid_param(ptr(8 + 2 * i), 7));
            }
            sum += bytes;
            sizes.push_back(bytes);
          }
          if (rest) {
            if (sum >= capacity) return check(sense::invalid_param(ptr(8 + 2 * *rest), 7));
            sizes[*rest] = capacity - sum;
          }
        }
        if (std::find(sizes.begin(), sizes.end(), 0) != sizes.end()) {
          return check(sense::invalid_param(ptr(3), 7));
        }
        repartition = std::move(sizes);
      }
    } else {
      return check(sense::invalid_param(ptr(0), 5));
    }
    off += 2 + plen;
  }

  // Actions on the cartridge need it loaded (and writable, to repartition).
  if (repartition || change_partition) {
    if (auto s = consume_ready()) return check(*s);
  }
  if (repartition) {
    if (auto s = write_blocked()) return check(*s);
  }
  if (change_partition && !repartition && *change_partition >= medium_->partition_count()) {
    return check(sense::invalid_param(static_cast<std::uint16_t>(header + bdl + 3), 7));
  }

  // Everything checked: apply.
  bool changed = new_block_size != block_size_ || new_density != selected_density_ ||
                 buffered != buffered_mode_ || new_compression != compression_page_ ||
                 new_configuration != configuration_page_ || sdca.has_value() ||
                 repartition.has_value();
  block_size_ = new_block_size;
  selected_density_ = new_density;
  buffered_mode_ = buffered;
  compression_page_ = new_compression;
  configuration_page_ = new_configuration;
  if (sdca) set_compression(*sdca);
  if (repartition) {
    if (auto r = medium_->format(*repartition); !r) {
      if (r.error() == tapesim_errc::invalid_geometry) return check(sense::invalid_param(0));
      return check(write_failure(r.error(), 0));
    }
    rewind_to_start();
  } else if (change_partition) {
    // CAP: to the beginning of ACTIVE PARTITION.
    changed = changed || *change_partition != partition_;
    partition_ = *change_partition;
    object_ = 0;
  }
  if (changed) post({0x2a, 0x01}, c.nexus);
  return done;
}

}  // namespace uiscsi::tapesim
