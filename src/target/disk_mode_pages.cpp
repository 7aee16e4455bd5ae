// Mode pages of the disk LU (see disk_mode_pages.hpp) and the MODE SENSE / MODE SELECT
// handlers (SPC-4 6.11-6.14, 7.5).
#include "target/disk_mode_pages.hpp"

#include <algorithm>
#include <bit>
#include <utility>

#include "target/disk_lu_impl.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::target {
namespace {

constexpr std::uint8_t kCaching = 0x08;
constexpr std::uint8_t kControl = 0x0a;
constexpr std::uint8_t kInformationalExceptions = 0x1c;
constexpr std::uint8_t kAllPages = 0x3f;

constexpr std::uint8_t kWce = 0x04;     // caching page byte 2
constexpr std::uint8_t kRcd = 0x01;     // caching page byte 2
constexpr std::uint8_t kDSense = 0x04;  // control page byte 2
constexpr std::uint8_t kSwp = 0x08;     // control page byte 4

constexpr std::uint8_t kWriteProtect = 0x80;  // device-specific parameter: WP (SBC-3 6.4.1)
constexpr std::uint8_t kDpoFua = 0x10;        // device-specific parameter: DPOFUA

}  // namespace

// Parameter bytes (the page minus its 2-byte header): index i is page byte i + 2.
ModePages::ModePages() {
  // Caching (SBC-3 6.4.5), PAGE LENGTH 12h.
  Page& caching = pages_[0];
  caching.code = kCaching;
  caching.defaults.assign(0x12, 0);
  caching.defaults[0] = kWce;
  caching.changeable.assign(0x12, 0);
  caching.changeable[0] = kWce | kRcd;

  // Control (SPC-4 7.5.8), PAGE LENGTH 0Ah.
  Page& control = pages_[1];
  control.code = kControl;
  control.defaults.assign(0x0a, 0);
  control.defaults[1] = 0x10;  // QUEUE ALGORITHM MODIFIER 1: unrestricted reordering
  control.defaults[6] = 0xff;  // BUSY TIMEOUT PERIOD FFFFh: unlimited
  control.defaults[7] = 0xff;
  control.changeable.assign(0x0a, 0);
  control.changeable[0] = kDSense;
  control.changeable[2] = kSwp;

  // Informational Exceptions Control (SPC-4 7.5.11), PAGE LENGTH 0Ah.
  Page& ie = pages_[2];
  ie.code = kInformationalExceptions;
  ie.defaults.assign(0x0a, 0);
  ie.defaults[0] = 0x08;  // DEXCPT: exceptions disabled
  ie.changeable.assign(0x0a, 0);
  ie.changeable[0] = 0x99;  // PERF, EWASC, DEXCPT, LOGERR
  std::fill(ie.changeable.begin() + 2, ie.changeable.end(), std::uint8_t{0xff});  // timers

  reset();
}

void ModePages::reset() {
  for (Page& p : pages_)
    p.current = p.defaults;
}

bool ModePages::wce() const {
  return (find(kCaching)->current[0] & kWce) != 0;
}
bool ModePages::d_sense() const {
  return (find(kControl)->current[0] & kDSense) != 0;
}
bool ModePages::swp() const {
  return (find(kControl)->current[2] & kSwp) != 0;
}

bool ModePages::known(std::uint8_t page_code) {
  return page_code == kAllPages || page_code == kCaching || page_code == kControl ||
         page_code == kInformationalExceptions;
}

const ModePages::Page* ModePages::find(std::uint8_t code) const {
  for (const Page& p : pages_) {
    if (p.code == code) return &p;
  }
  return nullptr;
}
ModePages::Page* ModePages::find(std::uint8_t code) {
  return const_cast<Page*>(std::as_const(*this).find(code));
}

std::vector<scsi::ModePage> ModePages::pages(std::uint8_t page_code, Control control) const {
  std::vector<scsi::ModePage> out;
  for (const Page& p : pages_) {
    if (page_code != kAllPages && page_code != p.code) continue;
    const std::vector<std::uint8_t>& v = control == Control::current      ? p.current
                                         : control == Control::changeable ? p.changeable
                                                                          : p.defaults;
    scsi::ModePage m;
    m.page_code = p.code;
    for (std::uint8_t b : v)
      m.parameters.push_back(std::byte{b});
    out.push_back(std::move(m));
  }
  return out;
}

// SPC-4 7.5.1: fields that are not changeable must hold their current values, PAGE LENGTH must
// match, subpages are not supported here.
std::optional<scsi::SenseData> ModePages::select(std::span<const std::byte> pages,
                                                 std::size_t offset, bool& changed) {
  ModePages next = *this;
  const auto at = [&](std::size_t i) { return std::to_integer<std::uint8_t>(pages[i]); };
  const auto pointer = [&](std::size_t i) { return static_cast<std::uint16_t>(offset + i); };
  std::size_t off = 0;
  while (off < pages.size()) {
    if (pages.size() - off < 2) return sense::parameter_list_length();
    const std::uint8_t b0 = at(off);
    if ((b0 & 0x40) != 0) return sense::invalid_param(pointer(off), 6);  // SPF
    Page* p = next.find(b0 & 0x3f);
    if (p == nullptr) return sense::invalid_param(pointer(off), 5);
    const std::size_t length = at(off + 1);
    if (length != p->current.size()) return sense::invalid_param(pointer(off + 1), 7);
    if (pages.size() - off - 2 < length) return sense::parameter_list_length();
    for (std::size_t i = 0; i < length; ++i) {
      const std::uint8_t v = at(off + 2 + i);
      const auto fixed = static_cast<std::uint8_t>((v ^ p->current[i]) & ~p->changeable[i]);
      if (fixed != 0) {
        return sense::invalid_param(pointer(off + 2 + i), 7 - std::countl_zero(fixed));
      }
      p->current[i] = v;
    }
    off += 2 + length;
  }
  changed = false;
  for (std::size_t i = 0; i < pages_.size(); ++i)
    changed = changed || next.pages_[i].current != pages_[i].current;
  *this = std::move(next);
  return std::nullopt;
}

// MODE SENSE (6)/(10) (SPC-4 6.11-6.12): byte 1 (10: LLBAA 4), DBD 3; byte 2 PC 7-6, PAGE CODE
// 5-0; byte 3 SUBPAGE CODE; ALLOCATION LENGTH in byte 4 (6) or 7-8 (10). Saved values are not
// supported (39/00). The header's device-specific parameter carries WP and DPOFUA (SBC-3 6.4.1);
// unless DBD, one block descriptor (short, or long with LLBAA) gives capacity and block length.
ScsiResult DiskLu::Impl::mode_sense(const Command& c) {
  const bool six = c.cdb.size() == 6;
  const bool dbd = (c.u8(1) & 0x08) != 0;
  const bool llbaa = !six && (c.u8(1) & 0x10) != 0;
  const std::uint8_t pc = c.u8(2) >> 6;
  const std::uint8_t page = c.u8(2) & 0x3f;
  const std::uint8_t subpage = c.u8(3);
  const std::size_t alloc = six ? c.u8(4) : c.be16(7);
  if (pc == 3) return check(sense::saving_not_supported());
  if (!ModePages::known(page)) return check(sense::invalid_cdb(2, 5));
  if (subpage != 0 && subpage != 0xff) return check(sense::invalid_cdb(3, 7));

  const auto control = static_cast<ModePages::Control>(pc);
  scsi::ModeParameters m;
  m.header.device_specific =
      static_cast<std::uint8_t>((write_protected() ? kWriteProtect : 0) | kDpoFua);
  m.header.long_lba = llbaa;
  if (!dbd) {
    scsi::BlockDescriptor d;
    if (control != ModePages::Control::changeable) {
      d.number_of_blocks = capacity();
      d.block_length = block_size;
    }
    m.block_descriptors.push_back(d);
  }
  {
    std::lock_guard lock(state_mutex);
    m.pages = mode_pages.pages(page, control);
  }
  auto data = six ? scsi::build_mode_parameters6(m, scsi::PeripheralDeviceType::direct_access,
                                                 scsi::ModeDataUse::sense)
                  : scsi::build_mode_parameters10(m, scsi::PeripheralDeviceType::direct_access,
                                                  scsi::ModeDataUse::sense);
  if (!data) return check(sense::make(scsi::SenseKey::hardware_error, 0x44, 0x00));
  ScsiResult r;
  r.data_in = std::move(*data);
  limit(r, alloc);
  return r;
}

// MODE SELECT (6)/(10) (SPC-4 6.9-6.10): byte 1 PF 4, SP 0 (saving is not supported: INVALID
// FIELD IN CDB); PARAMETER LIST LENGTH in byte 4 (6) or 7-8 (10). A block descriptor may repeat
// the block length and capacity (or 0 blocks) but not change them. When any current value
// changes, the other I_T nexuses get MODE PARAMETERS CHANGED (2A/01); switching the write
// cache off flushes it.
ScsiResult DiskLu::Impl::mode_select(const Command& c) {
  const bool six = c.cdb.size() == 6;
  const bool pf = (c.u8(1) & 0x10) != 0;
  if ((c.u8(1) & 0x01) != 0) return check(sense::invalid_cdb(1, 0));
  const std::size_t length = six ? c.u8(4) : c.be16(7);
  if (length == 0) return ScsiResult::good();
  const auto list = c.in.data_out.first(std::min(length, c.in.data_out.size()));
  const std::size_t header = six ? 4 : 8;
  if (list.size() < header) return check(sense::parameter_list_length());
  const auto at = [&](std::size_t i) { return std::to_integer<std::uint8_t>(list[i]); };
  const std::size_t bdl = six ? at(3) : core::load_be16(list.data() + 6);
  const bool long_lba = !six && (at(4) & 0x01) != 0;
  const std::size_t descriptor = long_lba ? 16 : 8;
  if (list.size() - header < bdl) return check(sense::parameter_list_length());
  if (bdl % descriptor != 0) return check(sense::invalid_param(six ? 3 : 6, 7));
  for (std::size_t off = header; off < header + bdl; off += descriptor) {
    const std::uint64_t count =
        long_lba ? core::load_be64(list.data() + off) : core::load_be32(list.data() + off);
    const std::uint32_t length_field =
        long_lba ? core::load_be32(list.data() + off + 12) : core::load_be24(list.data() + off + 5);
    if (length_field != block_size) {
      return check(sense::invalid_param(static_cast<std::uint16_t>(off + (long_lba ? 12 : 5)), 7));
    }
    const std::uint64_t cap = capacity();
    const bool same =
        count == 0 || count == cap || (!long_lba && count == 0xffffffffu && cap >= 0xffffffffu);
    if (!same) return check(sense::invalid_param(static_cast<std::uint16_t>(off), 7));
  }
  const auto pages = list.subspan(header + bdl);
  if (!pages.empty() && !pf) return check(sense::invalid_cdb(1, 4));

  bool changed = false;
  bool flush = false;
  {
    std::lock_guard lock(state_mutex);
    const bool wce_before = mode_pages.wce();
    if (auto bad = mode_pages.select(pages, header + bdl, changed)) return check(*bad);
    if (changed) {
      apply_mode_flags();
      post_all({0x2a, 0x01}, c.in.nexus.id);
      refresh_gate();
    }
    flush = wce_before && !mode_pages.wce();
  }
  if (flush) {
    if (auto f = store->flush(); !f) return store_error(f.error(), true, 0);
  }
  return ScsiResult::good();
}

}  // namespace uiscsi::target
