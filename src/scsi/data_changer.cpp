// Parser for SMC-3 READ ELEMENT STATUS data (include/uiscsi/scsi/data.hpp).
#include <algorithm>

#include "scsi/wire.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/errors.hpp"

namespace uiscsi::scsi {

using detail::be16;
using detail::be24;
using detail::bit;
using detail::bits;
using detail::Bytes;
using detail::sub;
using detail::u8;

namespace {

constexpr std::size_t kVolumeTagSize = 36;  // 32-byte identifier, 2 reserved, 2 sequence

// Element descriptor: 0-1 ELEMENT ADDRESS; byte 2 INENAB 5, EXENAB 4, ACCESS 3, EXCEPT 2,
// IMPEXP 1, FULL 0; 4 ASC; 5 ASCQ; byte 9 SVALID 7, INVERT 6, ED 3, MEDIUM TYPE 2-0; 10-11
// SOURCE STORAGE ELEMENT ADDRESS; 12.. primary then alternate volume tag when announced; then
// for data transfer elements the identification descriptor (code set, type, length,
// identifier).
ElementStatus parse_element(Bytes x, ElementType type, bool pvoltag, bool avoltag) {
  ElementStatus e;
  e.type = type;
  e.address = be16(x, 0);
  const std::uint8_t flags = u8(x, 2);
  e.full = bit(flags, 0);
  e.impexp = bit(flags, 1);
  e.except = bit(flags, 2);
  e.access = bit(flags, 3);
  e.exenab = bit(flags, 4);
  e.inenab = bit(flags, 5);
  e.asc = u8(x, 4);
  e.ascq = u8(x, 5);
  const std::uint8_t b9 = u8(x, 9);
  e.svalid = bit(b9, 7);
  e.invert = bit(b9, 6);
  e.ed = bit(b9, 3);
  e.medium_type = bits(b9, 2, 0);
  e.source_address = be16(x, 10);
  std::size_t off = 12;
  if (pvoltag) {
    e.primary_volume_tag = detail::ascii_trimmed(x.subspan(off, 32));
    off += kVolumeTagSize;
  }
  if (avoltag) {
    e.alternate_volume_tag = detail::ascii_trimmed(x.subspan(off, 32));
    off += kVolumeTagSize;
  }
  if (type == ElementType::data_transfer && off + 4 <= x.size()) {
    const std::size_t length = u8(x, off + 3);
    if (length != 0 && off + 4 + length <= x.size()) {
      Designator id;
      id.protocol_identifier = bits(u8(x, off), 7, 4);
      id.code_set = static_cast<CodeSet>(bits(u8(x, off), 3, 0));
      id.piv = bit(u8(x, off + 1), 7);
      id.association = static_cast<Association>(bits(u8(x, off + 1), 5, 4));
      id.type = static_cast<DesignatorType>(bits(u8(x, off + 1), 3, 0));
      const Bytes v = x.subspan(off + 4, length);
      id.value.assign(v.begin(), v.end());
      e.device_identifier = std::move(id);
    }
  }
  return e;
}

}  // namespace

// Header: 0-1 FIRST ELEMENT ADDRESS REPORTED; 2-3 NUMBER OF ELEMENTS AVAILABLE; 5-7 BYTE COUNT
// OF REPORT AVAILABLE. Element status page header: 0 ELEMENT TYPE CODE 3-0; byte 1 PVOLTAG 7,
// AVOLTAG 6; 2-3 ELEMENT DESCRIPTOR LENGTH; 5-7 BYTE COUNT OF DESCRIPTOR DATA AVAILABLE.
Result<ElementStatusData> parse_read_element_status(std::span<const std::byte> d) {
  if (d.size() < 8) return scsi_errc::truncated_data;
  ElementStatusData r;
  r.first_address = be16(d, 0);
  r.elements_available = be16(d, 2);
  r.report_bytes_available = be24(d, 5);
  const Bytes report = sub(d, 8, r.report_bytes_available);
  const bool complete = report.size() == r.report_bytes_available;
  std::size_t off = 0;
  while (off + 8 <= report.size()) {
    const auto type = static_cast<ElementType>(bits(u8(report, off), 3, 0));
    const bool pvoltag = bit(u8(report, off + 1), 7);
    const bool avoltag = bit(u8(report, off + 1), 6);
    const std::size_t desc_length = be16(report, off + 2);
    const std::size_t page_bytes = be24(report, off + 5);
    const std::size_t minimum =
        12 + (pvoltag ? kVolumeTagSize : 0) + (avoltag ? kVolumeTagSize : 0);
    if (desc_length < minimum) return scsi_errc::malformed_data;
    const Bytes page = sub(report, off + 8, page_bytes);
    const bool page_complete = page.size() == page_bytes;
    if (complete && !page_complete) return scsi_errc::malformed_data;
    std::size_t pos = 0;
    for (; pos + desc_length <= page.size(); pos += desc_length) {
      r.elements.push_back(parse_element(page.subspan(pos, desc_length), type, pvoltag, avoltag));
    }
    if (!page_complete) break;  // the rest was cut by the allocation length
    if (pos != page.size()) return scsi_errc::malformed_data;  // not a whole number of descriptors
    off += 8 + page_bytes;
  }
  if (complete && off != report.size()) return scsi_errc::malformed_data;
  return r;
}

}  // namespace uiscsi::scsi
