#include "target/lu_factory.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <utility>

#include "target/changer_lu.hpp"
#include "target/disk_lu.hpp"
#include "target/tape_lu.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::target {
namespace {

// A stable serial number for a LUN of a target: FNV-1a of the target name plus the LUN number.
std::string derived_serial(std::string_view target, std::uint64_t lun) {
  std::uint64_t h = 1469598103934665603ull;
  for (char c : target) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%llu", static_cast<unsigned long long>(h & 0xffffffffu),
                static_cast<unsigned long long>(lun));
  return buf;
}

TapeLuConfig tape_config(const TargetEntry& target, const LunConfig& lun) {
  TapeLuConfig cfg;
  cfg.serial = lun.serial.empty() ? derived_serial(target.name, lun.number) : lun.serial;
  if (!lun.product.empty()) cfg.product = lun.product;
  cfg.capacity_bytes = lun.size_bytes;
  cfg.image = lun.image;
  cfg.lto_generation = lun.lto_generation;
  cfg.read_only = lun.read_only;
  return cfg;
}

// The tape LUNs of `target` that are the drives of `changer`: those it names, else the first
// tape LUN. nullopt when a named LUN is not a tape LUN of the target.
std::optional<std::vector<const LunConfig*>> changer_drives(const TargetEntry& target,
                                                            const LunConfig& changer) {
  std::vector<const LunConfig*> out;
  const auto is_tape = [](const LunConfig& l) { return l.kind == LunConfig::Kind::tape; };
  if (changer.drives.empty()) {
    auto it = std::find_if(target.luns.begin(), target.luns.end(), is_tape);
    if (it != target.luns.end()) out.push_back(&*it);
    return out;
  }
  for (std::uint64_t n : changer.drives) {
    auto it = std::find_if(target.luns.begin(), target.luns.end(),
                           [&](const LunConfig& l) { return l.number == n && is_tape(l); });
    if (it == target.luns.end()) return std::nullopt;
    out.push_back(&*it);
  }
  return out;
}

bool is_changer_drive(const TargetEntry& target, const LunConfig& tape) {
  for (const LunConfig& l : target.luns) {
    if (l.kind != LunConfig::Kind::changer) continue;
    auto drives = changer_drives(target, l);
    if (drives && std::find(drives->begin(), drives->end(), &tape) != drives->end()) return true;
  }
  return false;
}

// The drives a target's changer and tape LUNs share, by tape LUN number: whichever of the two
// is built first creates the drive and the other finds it here.
using SharedDrives = std::map<std::uint64_t, std::shared_ptr<SharedDrive>>;

Result<std::shared_ptr<SharedDrive>> shared_drive(SharedDrives& drives, const TargetEntry& target,
                                                  const LunConfig& tape) {
  if (auto it = drives.find(tape.number); it != drives.end()) return it->second;
  auto d = make_shared_drive(tape_config(target, tape));
  if (!d) return d.error();
  drives[tape.number] = *d;
  return *d;
}

Result<std::shared_ptr<LogicalUnit>> make_changer(SharedDrives& shared, const TargetEntry& target,
                                                  const LunConfig& lun) {
  auto drives = changer_drives(target, lun);
  if (!drives || lun.slots == 0 || lun.slots > 4096) return errc::invalid_argument;
  ChangerLuConfig cfg;
  cfg.serial = lun.serial.empty() ? derived_serial(target.name, lun.number) : lun.serial;
  if (!lun.product.empty()) cfg.product = lun.product;
  cfg.slots = static_cast<std::uint16_t>(lun.slots);
  cfg.capacity_bytes = lun.size_bytes;
  cfg.lto_generation = lun.lto_generation;
  cfg.image_dir = lun.image;
  cfg.read_only = lun.read_only;
  for (const LunConfig* t : *drives) {
    auto d = shared_drive(shared, target, *t);
    if (!d) return d.error();
    cfg.drives.push_back(std::move(*d));
  }
  auto lu = ChangerLu::create(cfg);
  if (!lu) return lu.error();
  return std::shared_ptr<LogicalUnit>(std::move(*lu));
}

Result<std::shared_ptr<LogicalUnit>> make_logical_unit(SharedDrives& shared,
                                                       const TargetEntry& target,
                                                       const LunConfig& lun) {
  if (lun.kind == LunConfig::Kind::changer) return make_changer(shared, target, lun);
  if (lun.kind == LunConfig::Kind::tape) {
    if (is_changer_drive(target, lun)) {
      // A changer's drive: empty at start, loaded by the changer (its cartridges have images
      // in the changer's directory, not one of their own).
      if (!lun.image.empty()) return errc::invalid_argument;
      auto d = shared_drive(shared, target, lun);
      if (!d) return d.error();
      return std::shared_ptr<LogicalUnit>(TapeLu::create(std::move(*d)));
    }
    auto lu = TapeLu::create(tape_config(target, lun));
    if (!lu) return lu.error();
    return std::shared_ptr<LogicalUnit>(std::move(*lu));
  }
  if (lun.block_size == 0 || (lun.kind != LunConfig::Kind::file && lun.size_bytes < lun.block_size))
    return errc::invalid_argument;
  Result<std::unique_ptr<BlockStore>> store = errc::invalid_argument;
  DiskLuConfig cfg;
  cfg.read_only = lun.read_only;
  cfg.serial = lun.serial.empty() ? derived_serial(target.name, lun.number) : lun.serial;
  switch (lun.kind) {
    case LunConfig::Kind::ram:
      store = make_ram_store(lun.block_size, lun.size_bytes / lun.block_size);
      cfg.product = "RAMDISK";
      break;
    case LunConfig::Kind::null:
      store = make_null_store(lun.block_size, lun.size_bytes / lun.block_size);
      cfg.product = "NULLDISK";
      break;
    case LunConfig::Kind::file: {
      FileStoreOptions o;
      o.path = lun.path;
      o.block_size = lun.block_size;
      o.size_bytes = lun.size_bytes;
      o.read_only = lun.read_only;
      o.direct = lun.direct_io;
      store = open_file_store(o);
      cfg.product = "FILEDISK";
      break;
    }
    default:
      break;
  }
  if (!store) return store.error();
  if (!lun.product.empty()) cfg.product = lun.product;
  auto lu = DiskLu::create(std::move(cfg), std::move(*store));
  if (!lu) return lu.error();
  return std::shared_ptr<LogicalUnit>(std::move(*lu));
}

}  // namespace

Result<LogicalUnits> make_logical_units(const TargetEntry& target) {
  LogicalUnits out;
  SharedDrives shared;
  for (const LunConfig& lun : target.luns) {
    if (out.count(lun.number)) return errc::invalid_argument;  // LUN listed twice
    auto lu = make_logical_unit(shared, target, lun);
    if (!lu) return lu.error();
    out[lun.number] = std::move(*lu);
  }
  return out;
}

}  // namespace uiscsi::target
