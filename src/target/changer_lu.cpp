#include "target/changer_lu.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <system_error>

#include "tapesim/changer.hpp"
#include "tapesim/errors.hpp"
#include "tapesim/medium.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::target {
namespace {

namespace fs = std::filesystem;

constexpr const char* kInventoryFile = "changer-inventory";
constexpr std::uint8_t kMoveMedium = 0xa5;

// The changer's view of a tape LUN's drive. Every call takes the drive's mutex; the changer's
// own mutex is already held (lock order: changer, then drive).
//
// Taking a cartridge out of a drive (MOVE MEDIUM from a data transfer element): SMC-3 expects
// the drive to have ejected it, and many hosts do `mt offline` (LOAD UNLOAD, LOAD = 0) before
// `mtx unload`. Libraries with auto-unload also take a cartridge that is still loaded: they
// unload it first. We do the same (tapesim::Drive::eject rewinds and unloads), so both habits
// work. The one thing that stops the move is PREVENT ALLOW MEDIUM REMOVAL held by a session of
// the drive: then MOVE MEDIUM fails with 53/03 and the cartridge stays where it is.
class LockedDriveSlot final : public tapesim::DriveSlot {
 public:
  explicit LockedDriveSlot(std::shared_ptr<SharedDrive> d) : d_(std::move(d)) {}
  Result<void> insert(tapesim::Medium&& medium) override {
    std::lock_guard lock(d_->mutex);
    if (d_->drive.medium_present()) return tapesim::tapesim_errc::medium_present;
    return d_->drive.insert(std::move(medium));
  }
  Result<tapesim::Medium> eject() override {
    std::lock_guard lock(d_->mutex);
    return d_->drive.eject();
  }
  [[nodiscard]] bool medium_present() const override {
    std::lock_guard lock(d_->mutex);
    return d_->drive.medium_present();
  }
  [[nodiscard]] std::string identifier() const override {
    std::lock_guard lock(d_->mutex);
    return d_->drive.config().serial;
  }

 private:
  std::shared_ptr<SharedDrive> d_;
};

// A cartridge: in memory, or the image <dir>/<barcode>.img, opened or created blank.
Result<tapesim::Medium> open_cartridge(const ChangerLuConfig& c, const std::string& barcode) {
  tapesim::MediumOptions mo;
  mo.capacity = c.capacity_bytes;
  mo.early_warning = std::min<std::uint64_t>(mo.early_warning, c.capacity_bytes / 2);
  mo.write_protected = c.read_only;
  mo.barcode = barcode;
  if (c.image_dir.empty()) return tapesim::Medium::create(mo);
  tapesim::ImageOptions io;
  io.read_only = c.read_only;
  io.recover_torn_tail = true;  // a killed target leaves at most one torn frame
  const std::string path = (fs::path(c.image_dir) / (barcode + ".img")).string();
  std::error_code ec;
  Result<tapesim::Medium> m = fs::exists(path, ec) ? tapesim::Medium::open_image(path, io)
                                                   : tapesim::Medium::create_image(path, mo, io);
  if (m && m->barcode() != barcode) return errc::invalid_argument;  // a renamed image
  return m;
}

Result<std::optional<tapesim::Inventory>> read_inventory(const std::string& dir) {
  const fs::path path = fs::path(dir) / kInventoryFile;
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<tapesim::Inventory>{};
  std::ifstream in(path);
  if (!in) return std::error_code(errno ? errno : EIO, std::system_category());
  std::stringstream ss;
  ss << in.rdbuf();
  auto inv = tapesim::Changer::parse_inventory(ss.str());
  if (!inv) return inv.error();
  return std::optional<tapesim::Inventory>(std::move(*inv));
}

}  // namespace

std::string cartridge_barcode(unsigned n, int lto_generation) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "UIS%03uL%d", n, lto_generation);
  return buf;
}

struct ChangerLu::Impl {
  std::mutex mutex;
  tapesim::Changer changer;
  std::string image_dir;
  explicit Impl(tapesim::Changer c, std::string dir)
      : changer(std::move(c)), image_dir(std::move(dir)) {}

  // Writes the inventory next to the cartridges (write a temporary file, then rename it over
  // the old one). Caller holds `mutex`. A failure leaves the previous inventory in place.
  void save() {
    if (image_dir.empty()) return;
    const fs::path path = fs::path(image_dir) / kInventoryFile;
    const fs::path tmp = fs::path(image_dir) / (std::string(kInventoryFile) + ".tmp");
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << changer.inventory_text();
      out.flush();
      if (!out) return;
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
  }
};

ChangerLu::ChangerLu(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

ChangerLu::~ChangerLu() {
  if (!impl_) return;
  std::lock_guard lock(impl_->mutex);
  impl_->save();
  for (auto& m : impl_->changer.take_all())
    (void)m.close();  // mark the images clean; cartridges in drives close with their drive
}

Result<std::unique_ptr<ChangerLu>> ChangerLu::create(const ChangerLuConfig& config) {
  if (config.slots == 0 || config.slots > 4096 || config.lto_generation < 5 ||
      config.lto_generation > 9 || config.capacity_bytes == 0) {
    return errc::invalid_argument;
  }
  tapesim::ChangerConfig cc;
  cc.vendor = config.vendor;
  cc.product = config.product;
  cc.serial = config.serial;
  cc.storage_slots = config.slots;
  cc.import_export = config.import_export;
  std::vector<std::unique_ptr<tapesim::DriveSlot>> slots;
  for (const auto& d : config.drives) {
    if (!d) return errc::invalid_argument;
    slots.push_back(std::make_unique<LockedDriveSlot>(d));
  }
  auto changer = tapesim::Changer::create(std::move(cc), std::move(slots));
  if (!changer) return changer.error();

  std::optional<tapesim::Inventory> inventory;
  if (!config.image_dir.empty()) {
    std::error_code ec;
    fs::create_directories(config.image_dir, ec);
    if (ec) return ec;
    auto inv = read_inventory(config.image_dir);
    if (!inv) return inv.error();
    inventory = std::move(*inv);
  }
  // The saved map first, where it still fits this changer's shape; then every cartridge not
  // placed yet into the first empty slot (a changer grown by --changer N gets new cartridges; a
  // shrunken one leaves the extra images in the directory).
  std::set<std::string> placed;
  std::vector<std::string> pending;
  if (inventory) {
    const bool same = changer->same_layout(*inventory);
    for (const auto& p : inventory->placements) {
      if (!same) {
        pending.push_back(p.barcode);
        continue;
      }
      auto m = open_cartridge(config, p.barcode);
      if (!m) return m.error();
      if (auto r = changer->place(p.address, std::move(*m), p.source, p.imported); !r)
        return errc::invalid_argument;
      placed.insert(p.barcode);
    }
  }
  for (unsigned n = 1; n <= config.slots; ++n)
    pending.push_back(cartridge_barcode(n, config.lto_generation));
  std::uint16_t next = changer->first_storage();
  for (const auto& barcode : pending) {
    if (placed.count(barcode) != 0) continue;
    while (next < changer->first_drive() && changer->element(next)->full)
      ++next;
    if (next >= changer->first_drive()) break;  // no room left
    auto m = open_cartridge(config, barcode);
    if (!m) return m.error();
    if (auto r = changer->place(next, std::move(*m)); !r) return r.error();
    placed.insert(barcode);
  }
  changer->power_on();
  auto impl = std::make_unique<Impl>(std::move(*changer), config.image_dir);
  impl->save();
  return std::unique_ptr<ChangerLu>(new ChangerLu(std::move(impl)));
}

ScsiResult ChangerLu::execute(const ScsiCommand& command) {
  tapesim::Response r;
  {
    std::lock_guard lock(impl_->mutex);
    r = impl_->changer.execute(command.cdb, command.data_out, command.nexus.id);
    if (!command.cdb.empty() && std::to_integer<std::uint8_t>(command.cdb[0]) == kMoveMedium &&
        r.status == scsi::Status::good) {
      impl_->save();
    }
  }
  ScsiResult out;
  out.status = static_cast<std::uint8_t>(r.status);
  out.sense = std::move(r.sense);
  out.data_in = std::move(r.data_in);
  out.data_out_length = r.data_out_length;
  return out;
}

void ChangerLu::nexus_added(const Nexus& nexus) {
  (void)nexus;  // the changer posts 29/00 the first time it sees a nexus id
}

void ChangerLu::nexus_removed(const Nexus& nexus) {
  std::lock_guard lock(impl_->mutex);
  impl_->changer.forget_nexus(nexus.id);
}

void ChangerLu::logical_unit_reset() {
  std::lock_guard lock(impl_->mutex);
  impl_->changer.logical_unit_reset();
}

void ChangerLu::target_reset(bool cold) {
  std::lock_guard lock(impl_->mutex);
  if (cold)
    impl_->changer.power_on();
  else
    impl_->changer.logical_unit_reset();
}

}  // namespace uiscsi::target
