// Changer: construction, the element map, cartridges (placing, importing, exporting, moving),
// unit attentions and the inventory text.
#include "tapesim/changer.hpp"

#include <algorithm>
#include <charconv>

#include "tapesim/changer_sense.hpp"
#include "tapesim/errors.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::tapesim {
namespace {

constexpr std::size_t kMaxAttentions = 16;  // per nexus; later ones are dropped
constexpr std::uint16_t kMaxStorage = 4096;
constexpr std::uint16_t kMaxImportExport = 16;
constexpr std::size_t kMaxDrives = 64;
constexpr std::string_view kInventoryHeader = "uiscsi-changer-inventory 1";

bool ascii(const std::string& s, std::size_t max) {
  return s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// A barcode the inventory text can carry: 1..32 printable characters, no blanks.
bool valid_barcode(const std::string& s) {
  return !s.empty() && s.size() <= 32 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c > 0x20 && c <= 0x7e; });
}

bool parse_u16(std::string_view text, std::uint16_t& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && p == text.data() + text.size();
}

}  // namespace

// ---- DirectDriveSlot -------------------------------------------------------------------------

Result<void> DirectDriveSlot::insert(Medium&& medium) {
  if (drive_->medium_present()) return tapesim_errc::medium_present;
  return drive_->insert(std::move(medium));
}

Result<Medium> DirectDriveSlot::eject() {
  return drive_->eject();
}

// ---- construction ----------------------------------------------------------------------------

Changer::Changer(ChangerConfig config, std::vector<std::unique_ptr<DriveSlot>> drives)
    : config_(std::move(config)), drives_(std::move(drives)) {
  Element transport;
  transport.type = scsi::ElementType::medium_transport;
  elements_.push_back(std::move(transport));
  for (std::uint16_t i = 0; i < config_.storage_slots; ++i) {
    elements_.emplace_back();  // storage
  }
  for (std::uint16_t i = 0; i < config_.import_export; ++i) {
    Element e;
    e.type = scsi::ElementType::import_export;
    elements_.push_back(std::move(e));
  }
  for (std::size_t i = 0; i < drives_.size(); ++i) {
    Element e;
    e.type = scsi::ElementType::data_transfer;
    e.drive = i;
    e.full = drives_[i]->medium_present();
    elements_.push_back(std::move(e));
  }
}

Result<Changer> Changer::create(ChangerConfig config,
                                std::vector<std::unique_ptr<DriveSlot>> drives) {
  if (config.storage_slots == 0 || config.storage_slots > kMaxStorage ||
      config.import_export > kMaxImportExport || drives.size() > kMaxDrives ||
      !ascii(config.vendor, 8) || !ascii(config.product, 16) || !ascii(config.revision, 4) ||
      !ascii(config.serial, 252) ||
      std::any_of(drives.begin(), drives.end(), [](const auto& d) { return d == nullptr; })) {
    return errc::invalid_argument;
  }
  return Changer(std::move(config), std::move(drives));
}

std::uint16_t Changer::first_import_export() const {
  return static_cast<std::uint16_t>(first_storage() + config_.storage_slots);
}

std::uint16_t Changer::first_drive() const {
  return static_cast<std::uint16_t>(first_import_export() + config_.import_export);
}

std::uint16_t Changer::drive_count() const {
  return static_cast<std::uint16_t>(drives_.size());
}

std::optional<ElementInfo> Changer::element(std::uint16_t address) const {
  if (address >= elements_.size()) return std::nullopt;
  const Element& e = elements_[address];
  ElementInfo info;
  info.type = e.type;
  info.address = address;
  info.full = e.full;
  info.barcode = e.barcode;
  info.source = e.source;
  info.imported = e.imported;
  return info;
}

std::vector<ElementInfo> Changer::elements() const {
  std::vector<ElementInfo> out;
  for (std::size_t a = 0; a < elements_.size(); ++a)
    out.push_back(*element(static_cast<std::uint16_t>(a)));
  return out;
}

bool Changer::holds_medium(std::uint16_t address) const {
  return address < elements_.size() &&
         elements_[address].type != scsi::ElementType::medium_transport;
}

bool Changer::has_barcode(const std::string& barcode) const {
  return std::any_of(elements_.begin(), elements_.end(),
                     [&](const Element& e) { return e.full && e.barcode == barcode; });
}

// ---- moving cartridges -----------------------------------------------------------------------

// Contract: on failure `medium` is not moved from.
Result<void> Changer::put(Element& e, Medium&& medium) {
  std::string barcode = medium.barcode();
  if (e.type == scsi::ElementType::data_transfer) {
    if (auto r = drives_[e.drive]->insert(std::move(medium)); !r) return r.error();
  } else {
    e.medium.emplace(std::move(medium));
  }
  e.full = true;
  e.barcode = std::move(barcode);
  e.source.reset();
  e.imported = false;
  return ok();
}

Result<Medium> Changer::take(Element& e) {
  Result<Medium> m = tapesim_errc::no_medium;
  if (e.type == scsi::ElementType::data_transfer) {
    m = drives_[e.drive]->eject();
    // The drive lost its cartridge behind our back: the element is empty now.
    if (!m && m.error() == tapesim_errc::no_medium) e.full = false;
  } else if (e.medium) {
    m = std::move(*e.medium);
    e.medium.reset();
  }
  if (!m) return m;
  e.full = false;
  e.barcode.clear();
  e.source.reset();
  e.imported = false;
  return m;
}

Result<void> Changer::place(std::uint16_t address, Medium medium,
                            std::optional<std::uint16_t> source, bool imported) {
  if (!holds_medium(address) || !valid_barcode(medium.barcode()) || has_barcode(medium.barcode()) ||
      (source && !holds_medium(*source))) {
    return errc::invalid_argument;
  }
  Element& e = elements_[address];
  if (e.full) return tapesim_errc::medium_present;
  if (auto r = put(e, std::move(medium)); !r) return r;
  e.source = source;
  e.imported = imported && e.type == scsi::ElementType::import_export;
  return ok();
}

Result<std::uint16_t> Changer::import_medium(Medium medium) {
  if (!valid_barcode(medium.barcode()) || has_barcode(medium.barcode()))
    return errc::invalid_argument;
  for (std::uint16_t a = first_import_export(); a < first_drive(); ++a) {
    Element& e = elements_[a];
    if (e.full) continue;
    if (auto r = put(e, std::move(medium)); !r) return r.error();
    e.imported = true;
    post({0x28, 0x01});  // IMPORT OR EXPORT ELEMENT ACCESSED
    return a;
  }
  return tapesim_errc::medium_present;
}

Result<Medium> Changer::export_medium(std::uint16_t address) {
  if (address >= elements_.size() || elements_[address].type != scsi::ElementType::import_export) {
    return errc::invalid_argument;
  }
  Element& e = elements_[address];
  if (!e.full) return tapesim_errc::no_medium;
  if (removal_prevented()) return tapesim_errc::removal_prevented;
  auto m = take(e);
  if (m) post({0x28, 0x01});
  return m;
}

std::vector<Medium> Changer::take_all() {
  std::vector<Medium> out;
  for (Element& e : elements_) {
    if (e.type == scsi::ElementType::data_transfer || !e.full) continue;
    if (auto m = take(e)) out.push_back(std::move(*m));
  }
  return out;
}

// SMC-3 6.6: the transport must be a medium transport element (0 selects the default one),
// source and destination elements that can hold a cartridge; then the source must be full and
// the destination empty. The checks come in CDB order so the field pointer names the first bad
// field.
Outcome Changer::move_medium(std::uint16_t transport, std::uint16_t source,
                             std::uint16_t destination, bool invert) {
  if (transport != transport_address()) return {sense::invalid_element(2)};
  if (!holds_medium(source)) return {sense::invalid_element(4)};
  if (!holds_medium(destination)) return {sense::invalid_element(6)};
  if (invert) return {sense::invalid_cdb(10, 0)};
  Element& from = elements_[source];
  Element& to = elements_[destination];
  if (!from.full) return {sense::source_empty()};
  if (to.full) return {sense::destination_full()};
  const auto saved_source = from.source;
  const bool saved_imported = from.imported;
  // A drive gives its cartridge up only when no nexus of the drive prevents removal. A
  // cartridge still loaded is unloaded (rewound) first, as libraries with auto-unload do; see
  // src/target/changer_lu.cpp for why.
  auto medium = take(from);
  if (!medium) {
    if (medium.error() == tapesim_errc::removal_prevented)
      return {sense::removal_prevented_by_drive()};
    if (medium.error() == tapesim_errc::no_medium) return {sense::source_empty()};
    return {sense::internal_failure()};
  }
  if (auto r = put(to, std::move(*medium)); !r) {
    // The destination drive holds a cartridge the changer did not put there: put ours back.
    if (put(from, std::move(*medium))) {
      from.source = saved_source;
      from.imported = saved_imported;
    }
    if (r.error() == tapesim_errc::medium_present) {
      to.full = true;
      return {sense::destination_full()};
    }
    return {sense::internal_failure()};
  }
  to.source = source;
  return {};
}

// SMC-3 6.7: the same address checks as MOVE MEDIUM; the transport has nothing to move.
Outcome Changer::position_to_element(std::uint16_t transport, std::uint16_t destination,
                                     bool invert) {
  if (transport != transport_address()) return {sense::invalid_element(2)};
  if (!holds_medium(destination)) return {sense::invalid_element(4)};
  if (invert) return {sense::invalid_cdb(8, 0)};
  return {};
}

Outcome Changer::prevent_removal(bool prevent, std::uint64_t nexus) {
  nexus_state(nexus).prevent = prevent;
  return {};
}

bool Changer::removal_prevented() const {
  return std::any_of(nexuses_.begin(), nexuses_.end(),
                     [](const auto& n) { return n.second.prevent; });
}

// ---- unit attentions (SAM-5, per I_T nexus) --------------------------------------------------

Changer::NexusState& Changer::nexus_state(std::uint64_t nexus) {
  auto [it, fresh] = nexuses_.try_emplace(nexus);
  if (fresh) it->second.attentions.push_back({0x29, 0x00});  // POWER ON, RESET, OR BDR
  return it->second;
}

// A 29h (reset) condition replaces whatever was pending; others queue once each.
void Changer::post(UnitAttention ua) {
  for (auto& [id, state] : nexuses_) {
    auto& q = state.attentions;
    if (ua.asc == 0x29) q.clear();
    if (std::find(q.begin(), q.end(), ua) == q.end() && q.size() < kMaxAttentions) {
      q.push_back(ua);
    }
  }
}

std::optional<Changer::UnitAttention> Changer::take_attention(std::uint64_t nexus) {
  auto& q = nexus_state(nexus).attentions;
  if (q.empty()) return std::nullopt;
  const UnitAttention ua = q.front();
  q.pop_front();
  return ua;
}

void Changer::power_on() {
  nexuses_.clear();
}

void Changer::logical_unit_reset() {
  for (auto& [id, state] : nexuses_)
    state.prevent = false;
  post({0x29, 0x03});  // BUS DEVICE RESET FUNCTION OCCURRED
}

void Changer::forget_nexus(std::uint64_t nexus) {
  nexuses_.erase(nexus);
}

// ---- inventory text --------------------------------------------------------------------------

std::string Changer::inventory_text() const {
  std::string out(kInventoryHeader);
  out += "\nlayout " + std::to_string(storage_count()) + ' ' +
         std::to_string(import_export_count()) + ' ' + std::to_string(drive_count()) + '\n';
  for (std::size_t a = 0; a < elements_.size(); ++a) {
    const Element& e = elements_[a];
    if (!e.full) continue;
    out += e.barcode + ' ' + std::to_string(a);
    if (e.source) out += " source=" + std::to_string(*e.source);
    if (e.imported) out += " imported";
    out += '\n';
  }
  return out;
}

bool Changer::same_layout(const Inventory& inventory) const {
  return inventory.storage == storage_count() && inventory.import_export == import_export_count() &&
         inventory.drives == drive_count();
}

Result<Inventory> Changer::parse_inventory(std::string_view text) {
  Inventory inv;
  auto& out = inv.placements;
  bool header = false;
  bool layout = false;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (line.empty()) continue;
    if (!header) {
      if (line != kInventoryHeader) return errc::invalid_argument;
      header = true;
      continue;
    }
    std::vector<std::string_view> words;
    while (!line.empty()) {
      const auto sp = line.find(' ');
      if (sp != 0) words.push_back(line.substr(0, sp));
      line = sp == std::string_view::npos ? std::string_view{} : line.substr(sp + 1);
    }
    if (!layout) {
      if (words.size() != 4 || words[0] != "layout" || !parse_u16(words[1], inv.storage) ||
          !parse_u16(words[2], inv.import_export) || !parse_u16(words[3], inv.drives)) {
        return errc::invalid_argument;
      }
      layout = true;
      continue;
    }
    if (words.size() < 2) return errc::invalid_argument;
    Placement p;
    p.barcode = std::string(words[0]);
    if (!valid_barcode(p.barcode) || !parse_u16(words[1], p.address)) return errc::invalid_argument;
    for (std::size_t i = 2; i < words.size(); ++i) {
      std::uint16_t src = 0;
      if (words[i] == "imported") {
        p.imported = true;
      } else if (words[i].substr(0, 7) == "source=" && parse_u16(words[i].substr(7), src)) {
        p.source = src;
      } else {
        return errc::invalid_argument;
      }
    }
    const bool duplicate = std::any_of(out.begin(), out.end(), [&](const Placement& q) {
      return q.barcode == p.barcode || q.address == p.address;
    });
    if (duplicate) return errc::invalid_argument;
    out.push_back(std::move(p));
  }
  if (!layout) return errc::invalid_argument;
  return inv;
}

}  // namespace uiscsi::tapesim
