// Parsers for LOG SENSE pages (SPC-4 7.3), TapeAlert (SSC-3) and SSC-3 tape data: READ BLOCK
// LIMITS, READ POSITION, REPORT DENSITY SUPPORT (include/uiscsi/scsi/data.hpp).
#include <algorithm>
#include <bitset>

#include "scsi/wire.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/errors.hpp"

namespace uiscsi::scsi {

using detail::be16;
using detail::be24;
using detail::be32;
using detail::be64;
using detail::bit;
using detail::bits;
using detail::Bytes;
using detail::sub;
using detail::u8;

// ---- LOG SENSE -------------------------------------------------------------------------------

std::uint64_t LogParameter::as_integer() const {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < value.size() && i < 8; ++i) {
    v = (v << 8) | std::to_integer<std::uint64_t>(value[i]);
  }
  return v;
}

const LogParameter* LogPage::find(std::uint16_t code) const {
  for (const LogParameter& p : parameters) {
    if (p.code == code) return &p;
  }
  return nullptr;
}

// Page header: byte 0 DS 7, SPF 6, PAGE CODE 5-0; byte 1 SUBPAGE CODE; 2-3 PAGE LENGTH.
// Parameter: 0-1 PARAMETER CODE; 2 control byte; 3 PARAMETER LENGTH; value.
Result<LogPage> parse_log_page(std::span<const std::byte> d) {
  if (d.size() < 4) return scsi_errc::truncated_data;
  LogPage page;
  page.ds = bit(u8(d, 0), 7);
  page.spf = bit(u8(d, 0), 6);
  page.page_code = bits(u8(d, 0), 5, 0);
  page.subpage = u8(d, 1);
  page.page_length = be16(d, 2);
  const Bytes body = sub(d, 4, page.page_length);
  const bool complete = body.size() == page.page_length;
  std::size_t off = 0;
  while (off + 4 <= body.size()) {
    const std::size_t length = u8(body, off + 3);
    if (off + 4 + length > body.size()) {
      if (complete) return scsi_errc::malformed_data;
      break;
    }
    LogParameter p;
    p.code = be16(body, off);
    p.control = u8(body, off + 2);
    const Bytes value = body.subspan(off + 4, length);
    p.value.assign(value.begin(), value.end());
    page.parameters.push_back(std::move(p));
    off += 4 + length;
  }
  if (complete && off != body.size()) return scsi_errc::malformed_data;
  return page;
}

// TapeAlert log page: parameter codes 0001h..0040h, one byte each whose bit 0 is the flag.
Result<std::vector<std::uint8_t>> tape_alert_flags(const LogPage& page) {
  if (page.page_code != kTapeAlertLogPage) return scsi_errc::malformed_data;
  std::bitset<65> set;
  for (const LogParameter& p : page.parameters) {
    if (p.code >= 1 && p.code <= 64 && !p.value.empty() &&
        (std::to_integer<unsigned>(p.value[0]) & 1u) != 0) {
      set.set(p.code);
    }
  }
  std::vector<std::uint8_t> flags;
  for (std::uint8_t f = 1; f <= 64; ++f) {
    if (set.test(f)) flags.push_back(f);
  }
  return flags;
}

std::string_view tape_alert_name(std::uint8_t flag) noexcept {
  // SSC-3 annex (TapeAlert flags); 40h..48h were changer flags, obsolete for drives.
  static constexpr std::string_view kNames[65] = {
      "Invalid",
      "Read warning",
      "Write warning",
      "Hard error",
      "Media",
      "Read failure",
      "Write failure",
      "Media life",
      "Not data grade",
      "Write protect",
      "No removal",
      "Cleaning media",
      "Unsupported format",
      "Recoverable mechanical cartridge failure",
      "Unrecoverable mechanical cartridge failure",
      "Memory chip in cartridge failure",
      "Forced eject",
      "Read only format",
      "Tape directory corrupted on load",
      "Nearing media life",
      "Clean now",
      "Clean periodic",
      "Expired cleaning media",
      "Invalid cleaning tape",
      "Retension requested",
      "Dual-port interface error",
      "Cooling fan failure",
      "Power supply failure",
      "Power consumption",
      "Drive maintenance",
      "Hardware A",
      "Hardware B",
      "Interface",
      "Eject media",
      "Download fail",
      "Drive humidity",
      "Drive temperature",
      "Drive voltage",
      "Predictive failure",
      "Diagnostics required",
      "Obsolete",  // 40 (28h)
      "Obsolete",
      "Obsolete",
      "Obsolete",
      "Obsolete",
      "Obsolete",
      "Obsolete",
      "Obsolete",
      "Obsolete",  // 48 (30h)
      "Diminished native capacity",
      "Lost statistics",
      "Tape directory invalid at unload",
      "Tape system area write failure",
      "Tape system area read failure",
      "No start of data",
      "Loading failure",
      "Unrecoverable unload failure",
      "Automation interface failure",
      "Microcode failure",
      "WORM medium - integrity check failed",
      "WORM medium - overwrite attempted",
      "Reserved",  // 61
      "Reserved",
      "Reserved",
      "Reserved",  // 64
  };
  return flag <= 64 ? kNames[flag] : kNames[0];
}

// ---- SSC-3 -----------------------------------------------------------------------------------

// READ BLOCK LIMITS: byte 0 GRANULARITY 4-0; 1-3 MAXIMUM BLOCK LENGTH LIMIT; 4-5 MINIMUM.
Result<BlockLimits> parse_read_block_limits(std::span<const std::byte> d) {
  if (d.size() < 6) return scsi_errc::truncated_data;
  BlockLimits r;
  r.granularity = bits(u8(d, 0), 4, 0);
  r.max_block_length = be24(d, 1);
  r.min_block_length = be16(d, 4);
  return r;
}

Result<TapePosition> parse_read_position(std::span<const std::byte> d, ReadPositionForm form) {
  TapePosition p;
  switch (form) {
    case ReadPositionForm::short_form:
    case ReadPositionForm::short_vendor: {
      // Byte 0: BOP 7, EOP 6, BCU 5, BYCU 4, BPU 2, PERR 1, BPEW 0; 1 PARTITION NUMBER;
      // 4-7 FIRST and 8-11 LAST LOGICAL OBJECT LOCATION; 13-15 objects and 16-19 bytes in
      // the object buffer.
      if (d.size() < 20) return scsi_errc::truncated_data;
      const std::uint8_t b0 = u8(d, 0);
      p.bop = bit(b0, 7);
      p.eop = bit(b0, 6);
      p.block_count_unknown = bit(b0, 5);
      p.byte_count_unknown = bit(b0, 4);
      p.block_position_unknown = bit(b0, 2);
      p.perr = bit(b0, 1);
      p.bpew = bit(b0, 0);
      p.partition = u8(d, 1);
      p.first_block = be32(d, 4);
      p.last_block = be32(d, 8);
      p.blocks_in_buffer = be24(d, 13);
      p.bytes_in_buffer = be32(d, 16);
      return p;
    }
    case ReadPositionForm::long_form: {
      // Byte 0: BOP 7, EOP 6, MPU 3, LONU 2, BPEW 0; 4-7 PARTITION NUMBER; 8-15 LOGICAL OBJECT
      // NUMBER; 16-23 LOGICAL FILE IDENTIFIER; 24-31 LOGICAL SET IDENTIFIER.
      if (d.size() < 32) return scsi_errc::truncated_data;
      const std::uint8_t b0 = u8(d, 0);
      p.bop = bit(b0, 7);
      p.eop = bit(b0, 6);
      p.mark_position_unknown = bit(b0, 3);
      p.block_position_unknown = bit(b0, 2);
      p.bpew = bit(b0, 0);
      p.partition = be32(d, 4);
      p.first_block = be64(d, 8);
      p.last_block = p.first_block;
      p.file_number = be64(d, 16);
      p.set_number = be64(d, 24);
      return p;
    }
    case ReadPositionForm::extended_form: {
      // Byte 0 as the short form; 1 PARTITION NUMBER; 2-3 ADDITIONAL LENGTH (1Ch); 5-7 objects
      // in buffer; 8-15 FIRST, 16-23 LAST LOGICAL OBJECT LOCATION; 24-31 bytes in buffer.
      if (d.size() < 32) return scsi_errc::truncated_data;
      if (be16(d, 2) < 0x1c) return scsi_errc::malformed_data;
      const std::uint8_t b0 = u8(d, 0);
      p.bop = bit(b0, 7);
      p.eop = bit(b0, 6);
      p.block_count_unknown = bit(b0, 5);
      p.byte_count_unknown = bit(b0, 4);
      p.block_position_unknown = bit(b0, 2);
      p.perr = bit(b0, 1);
      p.bpew = bit(b0, 0);
      p.partition = u8(d, 1);
      p.blocks_in_buffer = be24(d, 5);
      p.first_block = be64(d, 8);
      p.last_block = be64(d, 16);
      p.bytes_in_buffer = be64(d, 24);
      return p;
    }
  }
  return scsi_errc::unsupported_format;
}

// Header: 0-1 AVAILABLE DENSITY SUPPORT LENGTH. Descriptor: 0 PRIMARY and 1 SECONDARY DENSITY
// CODE; byte 2 WRTOK 7, DUP 6, DEFLT 5, DLV 0; 3-4 DESCRIPTOR LENGTH (with DLV); 5-7 BITS PER
// MM; 8-9 MEDIA WIDTH; 10-11 TRACKS; 12-15 CAPACITY; 16-23 ASSIGNING ORGANIZATION; 24-31
// DENSITY NAME; 32-51 DESCRIPTION.
Result<DensitySupport> parse_report_density_support(std::span<const std::byte> d) {
  if (d.size() < 4) return scsi_errc::truncated_data;
  DensitySupport r;
  r.available_length = be16(d, 0);
  if (r.available_length < 2) return scsi_errc::malformed_data;
  const Bytes list = sub(d, 4, std::size_t{r.available_length} - 2);
  const bool complete = list.size() == std::size_t{r.available_length} - 2;
  std::size_t off = 0;
  while (off < list.size()) {
    std::size_t size = 52;
    if (off + 5 <= list.size() && bit(u8(list, off + 2), 0)) {
      size = std::size_t{be16(list, off + 3)} + 5;
      if (size < 52) return scsi_errc::malformed_data;
    }
    if (off + size > list.size()) {
      if (complete) return scsi_errc::malformed_data;
      break;
    }
    const Bytes x = list.subspan(off, size);
    DensityDescriptor dd;
    dd.primary_density_code = u8(x, 0);
    dd.secondary_density_code = u8(x, 1);
    dd.wrtok = bit(u8(x, 2), 7);
    dd.dup = bit(u8(x, 2), 6);
    dd.deflt = bit(u8(x, 2), 5);
    dd.bits_per_mm = be24(x, 5);
    dd.media_width = be16(x, 8);
    dd.tracks = be16(x, 10);
    dd.capacity = be32(x, 12);
    dd.assigning_organization = detail::ascii_trimmed(x.subspan(16, 8));
    dd.density_name = detail::ascii_trimmed(x.subspan(24, 8));
    dd.description = detail::ascii_trimmed(x.subspan(32, 20));
    r.descriptors.push_back(std::move(dd));
    off += size;
  }
  return r;
}

}  // namespace uiscsi::scsi
