// Parsers and builders for PERSISTENT RESERVE IN data (SPC-4 6.13), iSCSI TransportIDs (SPC-4
// 7.6.4.6), GET LBA STATUS data (SBC-3 5.7) and REPORT SUPPORTED OPERATION CODES data (SPC-4
// 6.35). Declared in include/uiscsi/scsi/data.hpp and data_build.hpp; each builder is the inverse
// of the parser of the same structure.
#include <algorithm>
#include <limits>

#include "scsi/wire.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"
#include "uiscsi/scsi/errors.hpp"

namespace uiscsi::scsi {
namespace {

using detail::be16;
using detail::be32;
using detail::be64;
using detail::bit;
using detail::bits;
using detail::Bytes;
using detail::flag;
using detail::put16;
using detail::put32;
using detail::put64;
using detail::put8;
using detail::sub;
using detail::u8;

constexpr std::size_t kFullStatusFixed = 24;  // descriptor bytes before the TransportID
constexpr std::size_t kTimeoutsLength = 12;   // command timeouts descriptor
constexpr std::uint8_t kProtocolIscsi = 0x5;  // SPC-4 7.6.1 PROTOCOL IDENTIFIER
constexpr std::size_t kMinTransportId = 24;   // SPC-4 7.6.4.1
constexpr std::size_t kMaxIscsiName = 223;    // RFC 7143 section 4.2.7.1

void put_timeouts(std::span<std::byte> d, std::size_t off, const CommandTimeouts& t) {
  put16(d, off, 0x0a);  // DESCRIPTOR LENGTH
  put32(d, off + 4, t.nominal);
  put32(d, off + 8, t.recommended);
}

}  // namespace

// ---- PERSISTENT RESERVE IN -------------------------------------------------------------------

// REPORT CAPABILITIES: 0-1 LENGTH (8); byte 2 RLR_C 7, CRH 4, SIP_C 3, ATP_C 2, PTPL_C 0;
// byte 3 TMV 7, ALLOW COMMANDS 6-4, PTPL_A 0; 4-5 PERSISTENT RESERVATION TYPE MASK.
Result<PrCapabilities> parse_pr_report_capabilities(std::span<const std::byte> d) {
  if (d.size() < 8) return scsi_errc::truncated_data;
  if (be16(d, 0) < 8) return scsi_errc::malformed_data;
  PrCapabilities c;
  const std::uint8_t b2 = u8(d, 2);
  const std::uint8_t b3 = u8(d, 3);
  c.rlr_c = bit(b2, 7);
  c.crh = bit(b2, 4);
  c.sip_c = bit(b2, 3);
  c.atp_c = bit(b2, 2);
  c.ptpl_c = bit(b2, 0);
  c.tmv = bit(b3, 7);
  c.allow_commands = bits(b3, 6, 4);
  c.ptpl_a = bit(b3, 0);
  c.type_mask = be16(d, 4);
  return c;
}

std::array<std::byte, 8> build_pr_report_capabilities(const PrCapabilities& c) {
  std::array<std::byte, 8> out{};
  put16(out, 0, 8);
  put8(out, 2,
       static_cast<std::uint8_t>(flag(c.rlr_c, 7) | flag(c.crh, 4) | flag(c.sip_c, 3) |
                                 flag(c.atp_c, 2) | flag(c.ptpl_c, 0)));
  put8(out, 3,
       static_cast<std::uint8_t>(flag(c.tmv, 7) | ((c.allow_commands & 0x07) << 4) |
                                 flag(c.ptpl_a, 0)));
  put16(out, 4, c.type_mask);
  return out;
}

std::vector<std::byte> build_pr_read_keys(std::uint32_t generation,
                                          std::span<const std::uint64_t> keys) {
  std::vector<std::byte> out(8 + 8 * keys.size());
  put32(out, 0, generation);
  put32(out, 4, static_cast<std::uint32_t>(8 * keys.size()));
  for (std::size_t i = 0; i < keys.size(); ++i)
    put64(out, 8 + 8 * i, keys[i]);
  return out;
}

// READ RESERVATION: 0-3 PRGENERATION, 4-7 ADDITIONAL LENGTH (0 or 10h); then 8-15 RESERVATION
// KEY, 16-19 obsolete, byte 21 SCOPE 7-4 / TYPE 3-0, 22-23 obsolete.
std::vector<std::byte> build_pr_read_reservation(const PrReservation& r) {
  std::vector<std::byte> out(r.reserved ? 24 : 8);
  put32(out, 0, r.generation);
  if (!r.reserved) return out;
  put32(out, 4, 0x10);
  put64(out, 8, r.key);
  put8(out, 21,
       static_cast<std::uint8_t>(((r.scope & 0x0f) << 4) |
                                 (static_cast<std::uint8_t>(r.type) & 0x0f)));
  return out;
}

// READ FULL STATUS: 0-3 PRGENERATION, 4-7 ADDITIONAL LENGTH; descriptors of 0-7 RESERVATION
// KEY, 12 ALL_TG_PT 1 / R_HOLDER 0, 13 SCOPE 7-4 / TYPE 3-0, 18-19 RELATIVE TARGET PORT
// IDENTIFIER, 20-23 ADDITIONAL DESCRIPTOR LENGTH, 24.. TransportID.
Result<PrFullStatus> parse_pr_read_full_status(std::span<const std::byte> d) {
  if (d.size() < 8) return scsi_errc::truncated_data;
  PrFullStatus r;
  r.generation = be32(d, 0);
  r.additional_length = be32(d, 4);
  const Bytes list = sub(d, 8, r.additional_length);
  const bool complete = list.size() == r.additional_length;
  std::size_t off = 0;
  while (off + kFullStatusFixed <= list.size()) {
    const std::size_t tid_length = be32(list, off + 20);
    if (tid_length > r.additional_length - off - kFullStatusFixed) {
      return scsi_errc::malformed_data;  // overruns ADDITIONAL LENGTH
    }
    if (off + kFullStatusFixed + tid_length > list.size()) break;  // cut by the allocation
    PrFullStatusDescriptor x;
    x.key = be64(list, off);
    x.all_tg_pt = bit(u8(list, off + 12), 1);
    x.reservation_holder = bit(u8(list, off + 12), 0);
    x.scope = bits(u8(list, off + 13), 7, 4);
    x.type = static_cast<PrType>(bits(u8(list, off + 13), 3, 0));
    x.relative_target_port = be16(list, off + 18);
    const Bytes tid = list.subspan(off + kFullStatusFixed, tid_length);
    x.transport_id.assign(tid.begin(), tid.end());
    r.descriptors.push_back(std::move(x));
    off += kFullStatusFixed + tid_length;
  }
  if (complete && off != list.size()) return scsi_errc::malformed_data;
  return r;
}

Result<std::vector<std::byte>> build_pr_read_full_status(
    std::uint32_t generation, std::span<const PrFullStatusDescriptor> descriptors) {
  std::size_t total = 8;
  for (const PrFullStatusDescriptor& x : descriptors) {
    if (x.transport_id.size() < kMinTransportId || x.transport_id.size() % 4 != 0) {
      return errc::invalid_argument;
    }
    total += kFullStatusFixed + x.transport_id.size();
  }
  if (total - 8 > std::numeric_limits<std::uint32_t>::max()) return errc::invalid_argument;
  std::vector<std::byte> out(total);
  put32(out, 0, generation);
  put32(out, 4, static_cast<std::uint32_t>(total - 8));
  std::size_t off = 8;
  for (const PrFullStatusDescriptor& x : descriptors) {
    put64(out, off, x.key);
    put8(out, off + 12,
         static_cast<std::uint8_t>(flag(x.all_tg_pt, 1) | flag(x.reservation_holder, 0)));
    put8(out, off + 13,
         static_cast<std::uint8_t>(((x.scope & 0x0f) << 4) |
                                   (static_cast<std::uint8_t>(x.type) & 0x0f)));
    put16(out, off + 18, x.relative_target_port);
    put32(out, off + 20, static_cast<std::uint32_t>(x.transport_id.size()));
    std::copy(x.transport_id.begin(), x.transport_id.end(),
              out.begin() + static_cast<std::ptrdiff_t>(off + kFullStatusFixed));
    off += kFullStatusFixed + x.transport_id.size();
  }
  return out;
}

// iSCSI TransportID: byte 0 FORMAT CODE 7-6, PROTOCOL IDENTIFIER 3-0 (5); 2-3 ADDITIONAL
// LENGTH; 4.. the NUL-terminated name (format 01b: "name,i,0x" + ISID), padded to 4 bytes.
std::vector<std::byte> make_iscsi_transport_id(std::string_view iscsi_name,
                                               std::optional<std::uint64_t> isid) {
  std::string text(iscsi_name.substr(0, kMaxIscsiName));
  if (isid) {
    static constexpr char kHex[] = "0123456789abcdef";
    text += ",i,0x";
    for (int shift = 44; shift >= 0; shift -= 4)
      text += kHex[(*isid >> shift) & 0x0f];  // ISID is 48 bits
  }
  std::size_t length = 4 + text.size() + 1;  // header, text, NUL
  length = std::max(kMinTransportId, (length + 3) & ~std::size_t{3});
  std::vector<std::byte> out(length);
  put8(out, 0, static_cast<std::uint8_t>((isid ? 0x40 : 0x00) | kProtocolIscsi));
  put16(out, 2, static_cast<std::uint16_t>(length - 4));
  for (std::size_t i = 0; i < text.size(); ++i)
    out[4 + i] = static_cast<std::byte>(text[i]);
  return out;
}

// ---- GET LBA STATUS --------------------------------------------------------------------------

// Header: 0-3 PARAMETER DATA LENGTH, 4-7 reserved. Descriptor: 0-7 LBA, 8-11 NUMBER OF
// LOGICAL BLOCKS, byte 12 PROVISIONING STATUS 3-0, 13-15 reserved.
Result<LbaStatus> parse_get_lba_status(std::span<const std::byte> d) {
  if (d.size() < 8) return scsi_errc::truncated_data;
  LbaStatus r;
  r.parameter_data_length = be32(d, 0);
  // The length counts the 4 reserved bytes of the header as well.
  const std::size_t announced =
      r.parameter_data_length < 4 ? 0 : std::size_t{r.parameter_data_length} - 4;
  const Bytes list = sub(d, 8, announced);
  for (std::size_t off = 0; off + 16 <= list.size(); off += 16) {
    LbaStatusDescriptor x;
    x.lba = be64(list, off);
    x.blocks = be32(list, off + 8);
    x.status = static_cast<ProvisioningStatus>(bits(u8(list, off + 12), 3, 0));
    r.descriptors.push_back(x);
  }
  return r;
}

std::vector<std::byte> build_get_lba_status(std::span<const LbaStatusDescriptor> descriptors) {
  std::vector<std::byte> out(8 + 16 * descriptors.size());
  put32(out, 0, static_cast<std::uint32_t>(4 + 16 * descriptors.size()));
  std::size_t off = 8;
  for (const LbaStatusDescriptor& x : descriptors) {
    put64(out, off, x.lba);
    put32(out, off + 8, x.blocks);
    put8(out, off + 12, static_cast<std::uint8_t>(static_cast<std::uint8_t>(x.status) & 0x0f));
    off += 16;
  }
  return out;
}

// ---- REPORT SUPPORTED OPERATION CODES --------------------------------------------------------

std::vector<std::byte> build_supported_opcodes(std::span<const SupportedOpcode> commands) {
  std::size_t total = 4;
  for (const SupportedOpcode& c : commands)
    total += 8 + (c.timeouts ? kTimeoutsLength : 0);
  std::vector<std::byte> out(total);
  put32(out, 0, static_cast<std::uint32_t>(total - 4));
  std::size_t off = 4;
  for (const SupportedOpcode& c : commands) {
    put8(out, off, c.opcode);
    put16(out, off + 2, c.service_action);
    put8(out, off + 5,
         static_cast<std::uint8_t>(flag(c.timeouts.has_value(), 1) | flag(c.servactv, 0)));
    put16(out, off + 6, c.cdb_length);
    off += 8;
    if (c.timeouts) {
      put_timeouts(out, off, *c.timeouts);
      off += kTimeoutsLength;
    }
  }
  return out;
}

// One-command form: byte 1 CTDP 7, SUPPORT 2-0; 2-3 CDB SIZE; CDB USAGE DATA; timeouts.
Result<SupportedOpcodeOne> parse_supported_opcode_one(std::span<const std::byte> d) {
  if (d.size() < 4) return scsi_errc::truncated_data;
  SupportedOpcodeOne r;
  const bool ctdp = bit(u8(d, 1), 7);
  r.support = bits(u8(d, 1), 2, 0);
  const std::size_t cdb_size = be16(d, 2);
  if (d.size() < 4 + cdb_size) return scsi_errc::truncated_data;
  for (std::size_t i = 0; i < cdb_size; ++i)
    r.cdb_usage.push_back(u8(d, 4 + i));
  if (ctdp) {
    const std::size_t off = 4 + cdb_size;
    if (d.size() < off + kTimeoutsLength) return scsi_errc::truncated_data;
    if (be16(d, off) < 0x0a) return scsi_errc::malformed_data;
    r.timeouts = CommandTimeouts{be32(d, off + 4), be32(d, off + 8)};
  }
  return r;
}

std::vector<std::byte> build_supported_opcode_one(const SupportedOpcodeOne& one) {
  const std::size_t cdb_size = std::min<std::size_t>(one.cdb_usage.size(), 0xffff);
  std::vector<std::byte> out(4 + cdb_size + (one.timeouts ? kTimeoutsLength : 0));
  put8(out, 1, static_cast<std::uint8_t>(flag(one.timeouts.has_value(), 7) | (one.support & 0x07)));
  put16(out, 2, static_cast<std::uint16_t>(cdb_size));
  for (std::size_t i = 0; i < cdb_size; ++i)
    put8(out, 4 + i, one.cdb_usage[i]);
  if (one.timeouts) put_timeouts(out, 4 + cdb_size, *one.timeouts);
  return out;
}

}  // namespace uiscsi::scsi
