// Changer: READ ELEMENT STATUS (SMC-3 6.10) and MODE SENSE with the element address
// assignment, transport geometry and device capabilities pages (SMC-3 7.3).
#include <algorithm>

#include "core/bytes.hpp"
#include "tapesim/changer.hpp"
#include "tapesim/changer_sense.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::tapesim {
namespace {

constexpr std::size_t kDescriptorBase = 12;   // address .. source storage element address
constexpr std::size_t kIdentifierHeader = 4;  // code set, identifier type, reserved, length
constexpr std::size_t kVolumeTag = 36;        // 32-byte identifier, 2 reserved, 2 sequence
constexpr std::size_t kPageHeader = 8;
constexpr std::uint8_t kMediumTypeData = 1;  // MEDIUM TYPE: data medium

// Element status flags, byte 2 of a descriptor (SMC-3 6.10.3 to 6.10.6).
constexpr std::uint8_t kFull = 0x01;
constexpr std::uint8_t kImpExp = 0x02;
constexpr std::uint8_t kAccess = 0x08;
constexpr std::uint8_t kExEnab = 0x10;
constexpr std::uint8_t kInEnab = 0x20;

// Mode pages (SMC-3 7.3).
constexpr std::uint8_t kElementAddressPage = 0x1d;
constexpr std::uint8_t kTransportGeometryPage = 0x1e;
constexpr std::uint8_t kDeviceCapabilitiesPage = 0x1f;
constexpr std::uint8_t kAllPages = 0x3f;
constexpr std::uint8_t kChangeable = 1;
constexpr std::uint8_t kSaved = 3;

// Storage / move capability bits of the device capabilities page, by element type.
constexpr std::uint8_t kCapDataTransfer = 0x08;
constexpr std::uint8_t kCapImportExport = 0x04;
constexpr std::uint8_t kCapStorage = 0x02;

void put16(std::vector<std::byte>& v, std::size_t at, std::uint16_t x) {
  core::store_be16(&v[at], x);
}

}  // namespace

// READ ELEMENT STATUS: byte 1 VOLTAG (bit 4), ELEMENT TYPE CODE (bits 3-0); 2-3 STARTING
// ELEMENT ADDRESS; 4-5 NUMBER OF ELEMENTS; byte 6 CURDATA (bit 1), DVCID (bit 0); 7-9
// ALLOCATION LENGTH.
//
// Reports, in address order, at most NUMBER OF ELEMENTS elements of the requested type (0: all
// types) at or above the starting address, one element status page per type. The header
// (SMC-3 6.10.2) gives the first address reported, the number of elements reported and the
// byte count of all pages; neither is cut to the allocation length, the data is (SPC-4
// 4.2.5.6), so an initiator can ask with 8 bytes first. Each descriptor is 12 bytes, the 36-byte
// primary volume tag with VOLTAG (an empty element's tag is all zeros), then the 4-byte device
// identifier header: with DVCID, data transfer elements carry the drive's serial number there
// (ASCII, vendor specific). CURDATA changes nothing: the inventory never needs motion.
Response Changer::read_element_status(const Command& c) {
  const bool voltag = (c.u8(1) & 0x10) != 0;
  const std::uint8_t type = c.u8(1) & 0x0f;
  const std::uint16_t start = c.be16(2);
  const std::uint16_t count = c.be16(4);
  const bool dvcid = (c.u8(6) & 0x01) != 0;
  const std::uint32_t allocation = c.be24(7);
  if (type > static_cast<std::uint8_t>(scsi::ElementType::data_transfer))
    return check(sense::invalid_cdb(1, 3));
  if (start >= elements_.size()) return check(sense::invalid_element(2));

  std::size_t id_length = 0;
  if (dvcid) {
    for (const auto& d : drives_)
      id_length = std::max(id_length, std::min<std::size_t>(d->identifier().size(), 252));
  }

  std::vector<std::byte> pages;
  std::uint16_t reported = 0;
  std::optional<std::uint16_t> first;
  std::size_t page_start = 0;  // offset of the open page's header in `pages`
  std::optional<scsi::ElementType> page_type;
  std::size_t desc_length = 0;
  const auto close_page = [&] {
    if (!page_type) return;
    const std::size_t bytes = pages.size() - page_start - kPageHeader;
    core::store_be24(&pages[page_start + 5], static_cast<std::uint32_t>(bytes));
  };
  for (std::size_t a = start; a < elements_.size() && reported < count; ++a) {
    const Element& e = elements_[a];
    if (type != 0 && static_cast<std::uint8_t>(e.type) != type) continue;
    if (page_type != e.type) {
      close_page();
      page_type = e.type;
      page_start = pages.size();
      const bool with_id = dvcid && e.type == scsi::ElementType::data_transfer;
      desc_length = kDescriptorBase + (voltag ? kVolumeTag : 0) + kIdentifierHeader +
                    (with_id ? id_length : 0);
      pages.resize(pages.size() + kPageHeader);
      pages[page_start] = std::byte{static_cast<std::uint8_t>(e.type)};
      pages[page_start + 1] = std::byte{static_cast<std::uint8_t>(voltag ? 0x80 : 0x00)};
      put16(pages, page_start + 2, static_cast<std::uint16_t>(desc_length));
    }
    const std::size_t at = pages.size();
    pages.resize(at + desc_length);
    std::byte* d = &pages[at];
    core::store_be16(d, static_cast<std::uint16_t>(a));
    std::uint8_t flags = e.full ? kFull : 0;
    switch (e.type) {
      case scsi::ElementType::import_export:
        flags |= kInEnab | kExEnab | kAccess | (e.imported ? kImpExp : 0);
        break;
      case scsi::ElementType::storage:
      case scsi::ElementType::data_transfer:
        flags |= kAccess;
        break;
      default:
        break;
    }
    d[2] = std::byte{flags};
    if (e.full) {
      d[9] = std::byte{static_cast<std::uint8_t>((e.source ? 0x80 : 0x00) | kMediumTypeData)};
      if (e.source) core::store_be16(d + 10, *e.source);
    }
    std::size_t off = kDescriptorBase;
    if (voltag) {
      if (e.full) {
        for (std::size_t i = 0; i < 32; ++i)
          d[off + i] = static_cast<std::byte>(i < e.barcode.size() ? e.barcode[i] : ' ');
      }
      off += kVolumeTag;
    }
    if (dvcid && e.type == scsi::ElementType::data_transfer) {
      const std::string id = drives_[e.drive]->identifier();
      d[off] = std::byte{0x02};      // CODE SET: ASCII
      d[off + 1] = std::byte{0x00};  // IDENTIFIER TYPE: vendor specific
      d[off + 3] = std::byte{static_cast<std::uint8_t>(id_length)};
      for (std::size_t i = 0; i < id_length; ++i)
        d[off + kIdentifierHeader + i] = static_cast<std::byte>(i < id.size() ? id[i] : ' ');
    }
    if (!first) first = static_cast<std::uint16_t>(a);
    ++reported;
  }
  close_page();

  Response r;
  r.data_in.resize(8);
  core::store_be16(&r.data_in[0], first.value_or(0));
  core::store_be16(&r.data_in[2], reported);
  core::store_be24(&r.data_in[5], static_cast<std::uint32_t>(pages.size()));
  r.data_in.insert(r.data_in.end(), pages.begin(), pages.end());
  if (r.data_in.size() > allocation) r.data_in.resize(allocation);
  return r;
}

// The element address assignment (1Dh), transport geometry (1Eh) and device capabilities (1Fh)
// pages; with `changeable` every parameter reads 0 (MODE SELECT changes nothing here).
std::vector<scsi::ModePage> Changer::mode_pages(std::uint8_t page, bool changeable) const {
  std::vector<scsi::ModePage> out;
  const auto add = [&](std::uint8_t code, std::vector<std::byte> params) {
    if (page != code && page != kAllPages) return;
    if (changeable) std::fill(params.begin(), params.end(), std::byte{0});
    scsi::ModePage p;
    p.page_code = code;
    p.parameters = std::move(params);
    out.push_back(std::move(p));
  };
  {
    // SMC-3 7.3.3: first address and number of each element type (page bytes 2-17).
    std::vector<std::byte> v(18);
    put16(v, 0, transport_address());
    put16(v, 2, 1);
    put16(v, 4, first_storage());
    put16(v, 6, storage_count());
    put16(v, 8, first_import_export());
    put16(v, 10, import_export_count());
    put16(v, 12, first_drive());
    put16(v, 14, drive_count());
    add(kElementAddressPage, std::move(v));
  }
  // SMC-3 7.3.4: one 2-byte descriptor per transport: ROTATE 0, MEMBER NUMBER 0.
  add(kTransportGeometryPage, std::vector<std::byte>(2));
  {
    // SMC-3 7.3.2: which element types store media (byte 2), and the moves each source type
    // supports (bytes 4-7: from MT, ST, I/E, DT); no EXCHANGE MEDIUM (bytes 12-15 zero).
    std::uint8_t holders = kCapStorage;
    if (import_export_count() > 0) holders |= kCapImportExport;
    if (drive_count() > 0) holders |= kCapDataTransfer;
    std::vector<std::byte> v(18);
    v[0] = std::byte{holders};
    v[3] = std::byte{holders};                                 // ST ->
    if (import_export_count() > 0) v[4] = std::byte{holders};  // I/E ->
    if (drive_count() > 0) v[5] = std::byte{holders};          // DT ->
    add(kDeviceCapabilitiesPage, std::move(v));
  }
  return out;
}

// MODE SENSE(6): byte 1 DBD (bit 3); byte 2 PC (bits 7-6), PAGE CODE (5-0); 3 SUBPAGE CODE;
// 4 ALLOCATION LENGTH. MODE SENSE(10): the same with ALLOCATION LENGTH in 7-8. A changer has no
// block descriptors, so DBD changes nothing. Saved values: 39/00.
Response Changer::mode_sense(const Command& c) {
  const bool six = c.cdb.size() == 6;
  const std::uint8_t pc = c.u8(2) >> 6;
  const std::uint8_t page = c.u8(2) & 0x3f;
  const std::uint8_t subpage = c.u8(3);
  const std::size_t alloc = six ? c.u8(4) : c.be16(7);
  if (pc == kSaved) return check(sense::saving_not_supported());
  if (page != kElementAddressPage && page != kTransportGeometryPage &&
      page != kDeviceCapabilitiesPage && page != kAllPages) {
    return check(sense::invalid_cdb(2, 5));
  }
  if (subpage != 0 && !(subpage == 0xff && page == kAllPages))
    return check(sense::invalid_cdb(3, 7));
  scsi::ModeParameters m;
  m.pages = mode_pages(page, pc == kChangeable);
  constexpr auto kType = scsi::PeripheralDeviceType::medium_changer;
  auto data = six ? scsi::build_mode_parameters6(m, kType, scsi::ModeDataUse::sense)
                  : scsi::build_mode_parameters10(m, kType, scsi::ModeDataUse::sense);
  if (!data) return check(sense::internal_failure());
  Response r;
  r.data_in = std::move(*data);
  if (r.data_in.size() > alloc) r.data_in.resize(alloc);
  return r;
}

}  // namespace uiscsi::tapesim
