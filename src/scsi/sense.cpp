// Sense data decoding, description and building (include/uiscsi/scsi/sense.hpp).
#include "uiscsi/scsi/sense.hpp"

#include <algorithm>
#include <cstdio>

#include "scsi/asc_names.hpp"
#include "scsi/wire.hpp"
#include "uiscsi/scsi/errors.hpp"

namespace uiscsi::scsi {
namespace {

using detail::be32;
using detail::be64;
using detail::bit;
using detail::bits;
using detail::Bytes;
using detail::flag;
using detail::put32;
using detail::put64;
using detail::put8;
using detail::u8;

constexpr std::uint8_t kFixedCurrent = 0x70;
constexpr std::uint8_t kFixedDeferred = 0x71;
constexpr std::uint8_t kDescriptorCurrent = 0x72;
constexpr std::uint8_t kDescriptorDeferred = 0x73;
constexpr std::uint8_t kVendorFormat = 0x7f;

// Fixed format (SPC-4 4.5.3): byte 0 VALID 7, RESPONSE CODE 6-0; byte 2 FILEMARK 7, EOM 6,
// ILI 5, SDAT_OVFL 4, SENSE KEY 3-0; 3-6 INFORMATION; 7 ADDITIONAL SENSE LENGTH; 8-11
// COMMAND-SPECIFIC INFORMATION; 12 ASC; 13 ASCQ; 14 FRU CODE; 15-17 SENSE KEY SPECIFIC.
Result<SenseData> parse_fixed(Bytes d, SenseData s) {
  if (d.size() < 3) return scsi_errc::truncated_data;
  const std::uint8_t b2 = u8(d, 2);
  s.filemark = bit(b2, 7);
  s.eom = bit(b2, 6);
  s.ili = bit(b2, 5);
  s.sdat_ovfl = bit(b2, 4);
  s.sense_key = static_cast<SenseKey>(bits(b2, 3, 0));
  std::size_t n = d.size();
  if (n >= 8) n = std::min(n, std::size_t{8} + u8(d, 7));
  if (n >= 7) {
    s.information = be32(d, 3);
    s.information_valid = bit(u8(d, 0), 7);
  }
  if (n >= 12) {
    s.command_specific_information = be32(d, 8);
    s.command_specific_valid = s.command_specific_information != 0;
  }
  if (n >= 13) s.asc = u8(d, 12);
  if (n >= 14) s.ascq = u8(d, 13);
  if (n >= 15) s.field_replaceable_unit = u8(d, 14);
  if (n >= 18) {
    s.sense_key_specific.valid = bit(u8(d, 15), 7);
    if (s.sense_key_specific.valid) {
      s.sense_key_specific.bytes = {u8(d, 15), u8(d, 16), u8(d, 17)};
    }
  }
  return s;
}

// Descriptor format (SPC-4 4.5.2): byte 1 SENSE KEY 3-0; 2 ASC; 3 ASCQ; byte 4 SDAT_OVFL 7;
// 7 ADDITIONAL SENSE LENGTH; descriptors from byte 8, each [type, additional length, ...].
Result<SenseData> parse_descriptor(Bytes d, SenseData s) {
  if (d.size() < 2) return scsi_errc::truncated_data;
  s.sense_key = static_cast<SenseKey>(bits(u8(d, 1), 3, 0));
  if (d.size() >= 3) s.asc = u8(d, 2);
  if (d.size() >= 4) s.ascq = u8(d, 3);
  if (d.size() >= 5) s.sdat_ovfl = bit(u8(d, 4), 7);
  if (d.size() < 8) return s;
  const std::size_t n = std::min(d.size(), std::size_t{8} + u8(d, 7));
  std::size_t off = 8;
  while (off + 2 <= n) {
    const std::uint8_t type = u8(d, off);
    const std::size_t length = std::size_t{u8(d, off + 1)} + 2;
    if (off + length > n) break;  // cut short: dropped
    const Bytes x = d.subspan(off, length);
    switch (type) {
      case sense_descriptor::kInformation:
        if (length >= 12) {
          s.information_valid = bit(u8(x, 2), 7);
          s.information = be64(x, 4);
        }
        break;
      case sense_descriptor::kCommandSpecific:
        if (length >= 12) {
          s.command_specific_valid = true;
          s.command_specific_information = be64(x, 4);
        }
        break;
      case sense_descriptor::kSenseKeySpecific:
        if (length >= 7) {
          s.sense_key_specific.valid = bit(u8(x, 4), 7);
          if (s.sense_key_specific.valid) {
            s.sense_key_specific.bytes = {u8(x, 4), u8(x, 5), u8(x, 6)};
          }
        }
        break;
      case sense_descriptor::kFieldReplaceableUnit:
        if (length >= 4) s.field_replaceable_unit = u8(x, 3);
        break;
      case sense_descriptor::kStreamCommands:
        if (length >= 4) {
          s.filemark = bit(u8(x, 3), 7);
          s.eom = bit(u8(x, 3), 6);
          s.ili = bit(u8(x, 3), 5);
        }
        break;
      case sense_descriptor::kBlockCommands:
        if (length >= 4) s.ili = bit(u8(x, 3), 5);
        break;
      default:
        break;
    }
    s.descriptors.push_back(SenseDescriptor{type, std::vector<std::byte>(x.begin(), x.end())});
    off += length;
  }
  return s;
}

std::string hex2(std::uint8_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", v);
  return buf;
}

}  // namespace

std::string_view sense_key_name(SenseKey key) noexcept {
  static constexpr std::string_view kNames[16] = {
      "NO SENSE",       "RECOVERED ERROR", "NOT READY",      "MEDIUM ERROR",
      "HARDWARE ERROR", "ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT",
      "BLANK CHECK",    "VENDOR SPECIFIC", "COPY ABORTED",   "ABORTED COMMAND",
      "EQUAL",          "VOLUME OVERFLOW", "MISCOMPARE",     "COMPLETED",
  };
  return kNames[static_cast<std::uint8_t>(key) & 0x0f];
}

SenseKeySpecific SenseKeySpecific::field(bool in_cdb, std::uint16_t byte, int bit_no) {
  SenseKeySpecific s;
  s.valid = true;
  s.bytes[0] = static_cast<std::uint8_t>(0x80 | flag(in_cdb, 6) |
                                         (bit_no >= 0 ? 0x08 | (bit_no & 0x07) : 0));
  s.bytes[1] = static_cast<std::uint8_t>(byte >> 8);
  s.bytes[2] = static_cast<std::uint8_t>(byte);
  return s;
}

SenseKeySpecific SenseKeySpecific::progress_indication(std::uint16_t fraction) {
  SenseKeySpecific s;
  s.valid = true;
  s.bytes = {0x80, static_cast<std::uint8_t>(fraction >> 8), static_cast<std::uint8_t>(fraction)};
  return s;
}

std::int64_t SenseData::information_signed() const {
  if (descriptor_format()) return static_cast<std::int64_t>(information);
  return static_cast<std::int32_t>(static_cast<std::uint32_t>(information));
}

SenseData make_sense(SenseKey key, std::uint8_t asc, std::uint8_t ascq) {
  SenseData s;
  s.sense_key = key;
  s.asc = asc;
  s.ascq = ascq;
  return s;
}

Result<SenseData> parse_sense(std::span<const std::byte> sense) {
  if (sense.empty()) return scsi_errc::truncated_data;
  const std::uint8_t code = bits(u8(sense, 0), 6, 0);
  SenseData s;
  s.response_code = code;
  switch (code) {
    case kFixedCurrent:
    case kFixedDeferred:
      return parse_fixed(sense, std::move(s));
    case kDescriptorCurrent:
    case kDescriptorDeferred:
      return parse_descriptor(sense, std::move(s));
    case kVendorFormat:
      return scsi_errc::unsupported_format;
    default:
      return scsi_errc::malformed_data;
  }
}

std::string describe(const SenseData& s) {
  std::string out;
  if (s.deferred()) out += "deferred error: ";
  out += sense_key_name(s.sense_key);
  out += ": ";
  const detail::AscName name = detail::lookup_asc(s.asc, s.ascq);
  out += name.name;
  if (name.ascq_is_number) {
    out += ' ';
    out += hex2(s.ascq);
  }
  out += " (asc " + hex2(s.asc) + ", ascq " + hex2(s.ascq) + ")";
  if (s.filemark) out += ", filemark";
  if (s.eom) out += ", eom";
  if (s.ili) out += ", ili";
  if (s.information_valid) {
    out += ", info ";
    if (s.filemark || s.eom || s.ili) {
      out += std::to_string(s.information_signed());
    } else {
      out += std::to_string(s.information);
    }
  }
  const SenseKeySpecific& k = s.sense_key_specific;
  if (k.valid && s.sense_key == SenseKey::illegal_request) {
    out += k.command_data() ? ", CDB byte " : ", parameter byte ";
    out += std::to_string(k.field_pointer());
    if (k.bit_pointer_valid()) out += " bit " + std::to_string(k.bit_pointer());
  } else if (k.valid && (s.sense_key == SenseKey::not_ready || s.sense_key == SenseKey::no_sense)) {
    out += ", progress " + std::to_string(k.progress() * 100u / 65536u) + "%";
  }
  return out;
}

std::vector<std::byte> build_fixed_sense(const SenseData& s) {
  std::vector<std::byte> out(18);
  const std::int64_t as_signed = static_cast<std::int64_t>(s.information);
  const bool fits = s.information <= 0xffffffffu || (as_signed < 0 && as_signed >= INT32_MIN);
  const bool valid = s.information_valid && fits;
  put8(out, 0,
       static_cast<std::uint8_t>(flag(valid, 7) | (s.deferred() ? kFixedDeferred : kFixedCurrent)));
  put8(out, 2,
       static_cast<std::uint8_t>(flag(s.filemark, 7) | flag(s.eom, 6) | flag(s.ili, 5) |
                                 flag(s.sdat_ovfl, 4) |
                                 (static_cast<std::uint8_t>(s.sense_key) & 0x0f)));
  if (valid) put32(out, 3, static_cast<std::uint32_t>(s.information));
  put8(out, 7, 10);
  if (s.command_specific_valid)
    put32(out, 8, static_cast<std::uint32_t>(s.command_specific_information));
  put8(out, 12, s.asc);
  put8(out, 13, s.ascq);
  put8(out, 14, s.field_replaceable_unit);
  if (s.sense_key_specific.valid) {
    put8(out, 15, static_cast<std::uint8_t>(s.sense_key_specific.bytes[0] | 0x80));
    put8(out, 16, s.sense_key_specific.bytes[1]);
    put8(out, 17, s.sense_key_specific.bytes[2]);
  }
  return out;
}

std::vector<std::byte> build_descriptor_sense(const SenseData& s) {
  std::vector<std::byte> out(8);
  put8(out, 0, s.deferred() ? kDescriptorDeferred : kDescriptorCurrent);
  put8(out, 1, static_cast<std::uint8_t>(static_cast<std::uint8_t>(s.sense_key) & 0x0f));
  put8(out, 2, s.asc);
  put8(out, 3, s.ascq);
  put8(out, 4, flag(s.sdat_ovfl, 7));
  auto append = [&out](std::initializer_list<std::uint8_t> head, std::size_t extra) {
    // Additional sense length is one byte: stop adding descriptors past 255 bytes in all.
    if (out.size() + head.size() + extra > 255) return std::span<std::byte>{};
    const std::size_t at = out.size();
    out.resize(at + head.size() + extra);
    std::size_t i = at;
    for (std::uint8_t b : head)
      out[i++] = std::byte{b};
    return std::span<std::byte>(out).subspan(at);
  };
  if (s.information_valid) {
    if (auto x = append({sense_descriptor::kInformation, 0x0a, 0x80, 0x00}, 8); !x.empty()) {
      put64(x, 4, s.information);
    }
  }
  if (s.command_specific_valid) {
    if (auto x = append({sense_descriptor::kCommandSpecific, 0x0a, 0x00, 0x00}, 8); !x.empty()) {
      put64(x, 4, s.command_specific_information);
    }
  }
  if (s.sense_key_specific.valid) {
    const auto& b = s.sense_key_specific.bytes;
    append({sense_descriptor::kSenseKeySpecific, 0x06, 0x00, 0x00,
            static_cast<std::uint8_t>(b[0] | 0x80), b[1], b[2], 0x00},
           0);
  }
  if (s.field_replaceable_unit != 0) {
    append({sense_descriptor::kFieldReplaceableUnit, 0x02, 0x00, s.field_replaceable_unit}, 0);
  }
  if (s.filemark || s.eom || s.ili) {
    append({sense_descriptor::kStreamCommands, 0x02, 0x00,
            static_cast<std::uint8_t>(flag(s.filemark, 7) | flag(s.eom, 6) | flag(s.ili, 5))},
           0);
  }
  for (const SenseDescriptor& d : s.descriptors) {
    if (d.type <= sense_descriptor::kStreamCommands || d.bytes.size() < 2) continue;
    if (out.size() + d.bytes.size() > 255) break;
    out.insert(out.end(), d.bytes.begin(), d.bytes.end());
  }
  put8(out, 7, static_cast<std::uint8_t>(out.size() - 8));
  return out;
}

}  // namespace uiscsi::scsi
