// Drive: construction, the cartridge (insert, eject, load, unload), readiness, unit attentions,
// resets and the simple mode parameter accessors.
#include "tapesim/drive.hpp"

#include <algorithm>

#include "core/bytes.hpp"
#include "tapesim/errors.hpp"
#include "tapesim/sense.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::tapesim {
namespace {

constexpr std::size_t kMaxAttentions = 16;  // per nexus; later ones are dropped

// TapeAlert flags raised by the simulator (SSC-3 TapeAlert log page).
constexpr std::uint8_t kAlertHardError = 3;
constexpr std::uint8_t kAlertWriteProtect = 9;

// Mode parameter bits (parameter byte index = page byte - 2).
constexpr std::size_t kDceByte = 0;  // page 0Fh byte 2
constexpr std::uint8_t kDce = 0x80;
constexpr std::size_t kDdeByte = 1;  // page 0Fh byte 3
constexpr std::uint8_t kDde = 0x80;
constexpr std::size_t kRsmkByte = 6;  // page 10h byte 8
constexpr std::uint8_t kRsmk = 0x20;
constexpr std::size_t kSwpByte = 8;  // page 10h byte 10
constexpr std::uint8_t kSwp = 0x04;

bool ascii(const std::string& s, std::size_t max) {
  return s.size() <= max &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

void set_bit(std::uint8_t& byte, std::uint8_t mask, bool on) {
  byte = static_cast<std::uint8_t>(on ? (byte | mask) : (byte & ~mask));
}

scsi::SenseData invalid_value() {
  return sense::make(scsi::SenseKey::illegal_request, 0x26, 0x00);
}

}  // namespace

Drive::Drive(DriveConfig config) : config_(std::move(config)) {}

Result<Drive> Drive::create(DriveConfig config) {
  const bool lengths_ok =
      config.min_block_length >= 1 && config.min_block_length <= config.max_block_length &&
      config.max_block_length <= Medium::kMaxRecordLength && config.granularity <= 23;
  if (!lengths_ok || config.densities.empty() || config.max_additional_partitions > 63 ||
      (!config.naa.empty() && config.naa.size() != 8 && config.naa.size() != 16) ||
      !ascii(config.vendor, 8) || !ascii(config.product, 16) || !ascii(config.revision, 4) ||
      !ascii(config.serial, 252) || config.max_transfer == 0) {
    return errc::invalid_argument;
  }
  Drive d(std::move(config));
  if (d.config_.block_size != 0 && !d.valid_block_length(d.config_.block_size)) {
    return errc::invalid_argument;
  }
  d.naa_ = d.config_.naa;
  if (d.naa_.empty())
    d.naa_ = scsi::locally_assigned_naa(d.config_.vendor, d.config_.product, d.config_.serial);
  d.reset_mode();
  return d;
}

// ---- command field access -----------------------------------------------------------------

std::uint8_t Drive::Command::u8(std::size_t i) const {
  return std::to_integer<std::uint8_t>(cdb[i]);
}
std::uint16_t Drive::Command::be16(std::size_t i) const {
  return core::load_be16(&cdb[i]);
}
std::uint32_t Drive::Command::be24(std::size_t i) const {
  return core::load_be24(&cdb[i]);
}
std::uint32_t Drive::Command::be32(std::size_t i) const {
  return core::load_be32(&cdb[i]);
}
std::uint64_t Drive::Command::be64(std::size_t i) const {
  return core::load_be64(&cdb[i]);
}

// ---- readiness -----------------------------------------------------------------------------

bool Drive::ready() const {
  return load_ == Load::loaded && becoming_ready_ == 0;
}

// SSC-3 / SPC-4 NOT READY: no cartridge or ejected (3A/00), unloaded but held (04/02), still
// loading (04/01).
std::optional<scsi::SenseData> Drive::not_ready() const {
  if (!medium_ || (load_ == Load::unloaded && !held_)) return sense::medium_not_present();
  if (load_ == Load::unloaded) return sense::initializing_command_required();
  if (becoming_ready_ > 0) return sense::becoming_ready();
  return std::nullopt;
}

// As not_ready(), counting down the commands that see 04/01 after a load.
std::optional<scsi::SenseData> Drive::consume_ready() {
  auto s = not_ready();
  if (s && load_ == Load::loaded && becoming_ready_ > 0) --becoming_ready_;
  return s;
}

// DATA PROTECT when the cartridge tab or SWP (device configuration page) forbids writing.
std::optional<scsi::SenseData> Drive::write_blocked() const {
  if (medium_ && medium_->write_protected()) return sense::write_protected(false);
  if (software_write_protect()) return sense::write_protected(true);
  return std::nullopt;
}

// A cartridge recorded in a density this drive does not know cannot be read.
std::optional<scsi::SenseData> Drive::read_blocked() const {
  const std::uint8_t d = medium_->density_code();
  if (d != 0 && find_density(d) == nullptr) return sense::cannot_read_format();
  return std::nullopt;
}

bool Drive::beyond_early_warning() const {
  return medium_->in_early_warning(partition_, medium_->bytes_before(partition_, object_));
}

// ---- densities and block lengths -----------------------------------------------------------

const scsi::DensityDescriptor* Drive::find_density(std::uint8_t code) const {
  for (const scsi::DensityDescriptor& d : config_.densities) {
    if (d.primary_density_code == code) return &d;
  }
  return nullptr;
}

std::uint8_t Drive::default_density() const {
  for (const scsi::DensityDescriptor& d : config_.densities) {
    if (d.deflt) return d.primary_density_code;
  }
  return config_.densities.front().primary_density_code;
}

std::uint8_t Drive::density() const {
  if (medium_ && medium_->density_code() != 0) return medium_->density_code();
  return selected_density_ != 0 ? selected_density_ : default_density();
}

bool Drive::valid_block_length(std::uint32_t bytes) const {
  return bytes >= config_.min_block_length && bytes <= config_.max_block_length &&
         (bytes & ((1u << config_.granularity) - 1)) == 0;
}

// ---- unit attentions (SAM-5 unit attention conditions, per I_T nexus) ----------------------

Drive::NexusState& Drive::nexus_state(std::uint64_t nexus) {
  auto [it, fresh] = nexuses_.try_emplace(nexus);
  if (fresh) it->second.attentions.push_back({0x29, 0x00});  // POWER ON, RESET, OR BDR
  return it->second;
}

// A 29h (reset) condition replaces whatever was pending; others queue once each.
void Drive::post(UnitAttention ua, std::optional<std::uint64_t> except) {
  for (auto& [id, state] : nexuses_) {
    if (except && *except == id) continue;
    auto& q = state.attentions;
    if (ua.asc == 0x29) q.clear();
    if (std::find(q.begin(), q.end(), ua) == q.end() && q.size() < kMaxAttentions) {
      q.push_back(ua);
    }
  }
}

std::optional<Drive::UnitAttention> Drive::take_attention(std::uint64_t nexus) {
  auto& q = nexus_state(nexus).attentions;
  if (q.empty()) return std::nullopt;
  const UnitAttention ua = q.front();
  q.pop_front();
  return ua;
}

bool Drive::removal_prevented() const {
  return std::any_of(nexuses_.begin(), nexuses_.end(),
                     [](const auto& n) { return n.second.prevent; });
}

void Drive::forget_nexus(std::uint64_t nexus) {
  nexuses_.erase(nexus);
}

void Drive::inject(std::uint8_t opcode, scsi::SenseData sense) {
  injected_.emplace_back(opcode, std::move(sense));
}

void Drive::power_on() {
  nexuses_.clear();
  reset_mode();
  becoming_ready_ = 0;
  if (load_ == Load::loaded) rewind_to_start();
}

void Drive::logical_unit_reset() {
  reset_mode();
  for (auto& [id, state] : nexuses_)
    state.prevent = false;
  post({0x29, 0x03}, std::nullopt);
}

// ---- the cartridge ---------------------------------------------------------------------------

void Drive::rewind_to_start() {
  partition_ = 0;
  object_ = 0;
}

Result<void> Drive::insert(Medium medium) {
  if (medium_) return tapesim_errc::medium_present;
  medium_.emplace(std::move(medium));
  load_ = Load::loaded;
  held_ = false;
  becoming_ready_ = config_.ready_delay;
  rewind_to_start();
  post({0x28, 0x00}, std::nullopt);  // NOT READY TO READY CHANGE, MEDIUM MAY HAVE CHANGED
  return ok();
}

Result<Medium> Drive::eject() {
  if (!medium_) return tapesim_errc::no_medium;
  if (removal_prevented()) return tapesim_errc::removal_prevented;
  (void)medium_->flush();
  Medium m = std::move(*medium_);
  medium_.reset();
  load_ = Load::empty;
  held_ = false;
  becoming_ready_ = 0;
  rewind_to_start();
  return m;
}

// LOAD UNLOAD with LOAD = 1 (SSC-3): an unloaded cartridge is loaded and every other nexus gets
// 28/00; a loaded one is positioned at BOP of partition 0.
Outcome Drive::load_from(std::optional<std::uint64_t> nexus) {
  if (!medium_) return {sense::medium_not_present()};
  becoming_ready_ = 0;  // LOAD returns when the cartridge is ready
  rewind_to_start();
  if (load_ == Load::unloaded) {
    load_ = Load::loaded;
    held_ = false;
    post({0x28, 0x00}, nexus);
  }
  return {};
}

Outcome Drive::load() {
  return load_from(std::nullopt);
}

Outcome Drive::unload(bool hold) {
  if (!medium_) return {sense::medium_not_present()};
  if (removal_prevented()) return {sense::removal_prevented()};
  if (auto f = medium_->flush(); !f) return {write_failure(f.error(), 0)};
  load_ = Load::unloaded;
  held_ = hold;
  becoming_ready_ = 0;
  rewind_to_start();
  return {};
}

Outcome Drive::prevent_removal(bool prevent, std::uint64_t nexus) {
  nexus_state(nexus).prevent = prevent;
  return {};
}

// ---- simple mode parameters ------------------------------------------------------------------

Outcome Drive::set_block_size(std::uint32_t bytes) {
  if (bytes != 0 && !valid_block_length(bytes)) return {invalid_value()};
  block_size_ = bytes;
  return {};
}

Compression Drive::compression() const {
  return {(compression_page_[kDceByte] & kDce) != 0, (compression_page_[kDdeByte] & kDde) != 0};
}

Outcome Drive::set_compression(bool dce, std::optional<bool> dde) {
  set_bit(compression_page_[kDceByte], kDce, dce);
  if (dde) set_bit(compression_page_[kDdeByte], kDde, *dde);
  return {};
}

Outcome Drive::set_density(std::uint8_t code) {
  if (code != 0) {
    const scsi::DensityDescriptor* d = find_density(code);
    if (d == nullptr || !d->wrtok) return {invalid_value()};
  }
  selected_density_ = code;
  return {};
}

bool Drive::software_write_protect() const {
  return (configuration_page_[kSwpByte] & kSwp) != 0;
}
void Drive::set_software_write_protect(bool on) {
  set_bit(configuration_page_[kSwpByte], kSwp, on);
}
bool Drive::report_setmarks() const {
  return (configuration_page_[kRsmkByte] & kRsmk) != 0;
}
void Drive::set_report_setmarks(bool on) {
  set_bit(configuration_page_[kRsmkByte], kRsmk, on);
}

Outcome Drive::partition_medium(std::span<const std::uint64_t> sizes) {
  if (auto s = consume_ready()) return {s};
  if (auto s = write_blocked()) {
    raise_tape_alert(kAlertWriteProtect);
    return {s};
  }
  if (sizes.empty() || sizes.size() > std::size_t{config_.max_additional_partitions} + 1) {
    return {invalid_value()};
  }
  if (auto r = medium_->format(sizes); !r) {
    if (r.error() == tapesim_errc::invalid_geometry) return {invalid_value()};
    return {write_failure(r.error(), 0)};
  }
  rewind_to_start();
  return {};
}

// ---- logs ------------------------------------------------------------------------------------

void Drive::reset_counters() {
  counters_ = {};
}

void Drive::raise_tape_alert(std::uint8_t flag) {
  if (flag >= 1 && flag <= 64) tape_alerts_ |= std::uint64_t{1} << (flag - 1);
}

bool Drive::tape_alert(std::uint8_t flag) const {
  return flag >= 1 && flag <= 64 && (tape_alerts_ & (std::uint64_t{1} << (flag - 1))) != 0;
}

// A failed change of the medium as sense: the hard end, write protection, or a write error
// (TapeAlert 3, hard error).
scsi::SenseData Drive::write_failure(std::error_code ec, std::int64_t residue) {
  if (ec == tapesim_errc::volume_overflow) return sense::volume_overflow(residue);
  if (ec == tapesim_errc::write_protected) return sense::write_protected(false);
  raise_tape_alert(kAlertHardError);
  ++counters_.write_errors;
  scsi::SenseData s = sense::write_error();
  s.information_valid = true;
  s.information = static_cast<std::uint64_t>(residue);
  return s;
}

}  // namespace uiscsi::tapesim
