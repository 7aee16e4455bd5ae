// Changer: READ ELEMENT STATUS (SMC-3 6.10), sized in two steps and retried without VOLTAG.
#include <algorithm>
#include <array>

#include "tape/changer_impl.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/errors.hpp"

namespace uiscsi::tape {
namespace {

using scsi::ElementType;

constexpr const char* kOp = "READ ELEMENT STATUS";
constexpr std::size_t kHeader = 8;                  // element status header (SMC-3 6.10.2)
constexpr std::size_t kPageHeader = 8;              // element status page header (SMC-3 6.10.3)
constexpr std::uint32_t kMaxAllocation = 0xffffff;  // 24-bit ALLOCATION LENGTH
constexpr std::size_t kShortPageTolerance = 8;
constexpr std::uint8_t kInvalidFieldInCdb = 0x24;

std::size_t be24_at(std::span<const std::byte> d, std::size_t at) {
  return std::to_integer<std::size_t>(d[at]) << 16 | std::to_integer<std::size_t>(d[at + 1]) << 8 |
         std::to_integer<std::size_t>(d[at + 2]);
}

// How many of the `received` bytes to parse. tgtd (1.0.85) ends each element status page 8
// bytes short of what its page header announces; a device that stopped early (fewer bytes
// than the allocation length asked for) at most that many bytes inside its last page gets that
// page zero-padded (the buffer is zero-filled), so its last descriptor is not dropped. Data cut
// by our own allocation length is left as it is.
std::size_t usable_length(std::span<const std::byte> buffer, std::size_t received) {
  if (received >= buffer.size()) return received;
  std::size_t off = kHeader;
  while (off + kPageHeader <= received) {
    const std::size_t end = off + kPageHeader + be24_at(buffer, off + 5);
    if (end <= received) {
      off = end;
      continue;
    }
    if (end - received <= kShortPageTolerance && end <= buffer.size()) return end;
    break;
  }
  return received;
}

Element to_element(const scsi::ElementStatus& s, std::size_t index) {
  Element e;
  e.type = s.type;
  e.address = s.address;
  e.index = index;
  e.full = s.full;
  e.except = s.except;
  e.access = s.access;
  e.impexp = s.impexp;
  e.barcode = s.primary_volume_tag;
  if (s.svalid) e.source = s.source_address;
  e.asc = s.asc;
  e.ascq = s.ascq;
  return e;
}

}  // namespace

// First the 8-byte header alone, whose BYTE COUNT OF REPORT AVAILABLE is not cut to the
// allocation length (SMC-3 6.10.2), then the whole report with a bounded allocation.
Result<scsi::ElementStatusData> Changer::Impl::read_status_once(ElementType type,
                                                                std::uint16_t first,
                                                                std::uint16_t count,
                                                                bool with_voltag, bool* cut) {
  scsi::ReadElementStatusOptions o;
  o.voltag = with_voltag;
  std::array<std::byte, kHeader> header{};
  UISCSI_TRY(auto probe, scsi::read_element_status(type, first, count, kHeader, o));
  UISCSI_TRY(auto c, command(kOp, probe, header));
  if (c.code) return fail(kOp, c);
  if (data_in_bytes < kHeader) return fail(kOp, scsi::scsi_errc::truncated_data);

  const std::size_t wanted = kHeader + be24_at(header, 5);
  const std::size_t bound = std::min<std::size_t>(
      std::max<std::size_t>(options.max_status_bytes, kHeader), kMaxAllocation);
  const std::size_t allocation = std::min(wanted, bound);
  if (cut != nullptr) *cut = wanted > allocation;
  std::vector<std::byte> buf(allocation);
  UISCSI_TRY(auto spec, scsi::read_element_status(type, first, count,
                                                  static_cast<std::uint32_t>(allocation), o));
  UISCSI_TRY(auto c2, command(kOp, spec, buf));
  if (c2.code) return fail(kOp, c2);
  const std::size_t received = std::min(data_in_bytes, buf.size());
  auto d = scsi::parse_read_element_status(std::span(buf).first(usable_length(buf, received)));
  if (!d) return fail(kOp, d.error());
  return d;
}

// Reads until `count` elements came back or the report was complete; a report cut by the
// allocation bound is continued from the address after the last element it held.
Result<std::vector<scsi::ElementStatus>> Changer::Impl::read_status(ElementType type,
                                                                    std::uint16_t first,
                                                                    std::uint16_t count) {
  std::vector<scsi::ElementStatus> out;
  std::uint32_t next = first;
  while (out.size() < count && next <= 0xffff) {
    bool cut = false;
    const auto start = static_cast<std::uint16_t>(next);
    const auto remaining = static_cast<std::uint16_t>(count - out.size());
    auto d = read_status_once(type, start, remaining, voltag, &cut);
    if (!d && voltag && last_error && last_error->sense &&
        last_error->code == tape_errc::illegal_request &&
        last_error->sense->asc == kInvalidFieldInCdb) {
      voltag = false;  // SMC-3 6.10.1: VOLTAG is optional; ask without it from now on
      continue;
    }
    if (!d) return d.error();
    std::size_t added = 0;
    for (auto& e : d->elements) {
      if (e.address < next || (type != ElementType::all && e.type != type)) continue;
      if (out.size() == count) break;
      next = e.address + 1u;
      out.push_back(std::move(e));
      ++added;
    }
    if (!cut || added == 0) break;
  }
  return out;
}

Result<std::vector<Element>> Changer::Impl::elements_of(ElementType type) {
  std::vector<Element> out;
  if (type == ElementType::all) {
    for (auto t : {ElementType::medium_transport, ElementType::storage, ElementType::import_export,
                   ElementType::data_transfer}) {
      UISCSI_TRY(auto part, elements_of(t));
      out.insert(out.end(), part.begin(), part.end());
    }
    std::sort(out.begin(), out.end(),
              [](const Element& a, const Element& b) { return a.address < b.address; });
    return out;
  }
  const scsi::ElementRange& range = range_of(type);
  if (range.count == 0) return out;
  UISCSI_TRY(auto raw, read_status(type, range.first, range.count));
  for (const auto& s : raw) {
    const std::size_t index = range.contains(s.address) ? s.address - range.first : out.size();
    out.push_back(to_element(s, index));
  }
  return out;
}

Result<ChangerStatus> Changer::status() {
  ChangerStatus st;
  UISCSI_TRY(st.transports, impl_->elements_of(ElementType::medium_transport));
  UISCSI_TRY(st.slots, impl_->elements_of(ElementType::storage));
  UISCSI_TRY(st.import_export, impl_->elements_of(ElementType::import_export));
  UISCSI_TRY(st.drives, impl_->elements_of(ElementType::data_transfer));
  st.barcodes = impl_->voltag;
  return st;
}

Result<std::vector<Element>> Changer::elements(ElementType type) {
  return impl_->elements_of(type);
}

}  // namespace uiscsi::tape
