#include "target/lu_factory.hpp"

#include <cstdio>

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

}  // namespace

Result<std::shared_ptr<LogicalUnit>> make_logical_unit(const TargetEntry& target,
                                                       const LunConfig& lun) {
  if (lun.kind == LunConfig::Kind::changer) return errc::unsupported;
  if (lun.kind == LunConfig::Kind::tape) {
    TapeLuConfig cfg;
    cfg.serial = lun.serial.empty() ? derived_serial(target.name, lun.number) : lun.serial;
    if (!lun.product.empty()) cfg.product = lun.product;
    cfg.capacity_bytes = lun.size_bytes;
    cfg.image = lun.image;
    cfg.lto_generation = lun.lto_generation;
    cfg.read_only = lun.read_only;
    auto lu = TapeLu::create(cfg);
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

}  // namespace uiscsi::target
