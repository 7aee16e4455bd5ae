#include "target/tape_lu.hpp"

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <system_error>

#include "tapesim/drive.hpp"
#include "tapesim/medium.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::target {

SharedDrive::~SharedDrive() {
  std::lock_guard lock(mutex);
  if (auto* m = drive.medium()) (void)m->close();  // mark the image clean
}

namespace {

Result<tapesim::Drive> make_drive(const TapeLuConfig& config) {
  if (config.lto_generation < 5 || config.lto_generation > 9) return errc::invalid_argument;
  tapesim::DriveConfig dc;
  dc.vendor = config.vendor;
  dc.product = config.product;
  dc.serial = config.serial;
  dc.densities = tapesim::lto_densities(config.lto_generation);
  return tapesim::Drive::create(std::move(dc));
}

}  // namespace

Result<std::shared_ptr<SharedDrive>> make_shared_drive(const TapeLuConfig& config) {
  auto drive = make_drive(config);
  if (!drive) return drive.error();
  return std::make_shared<SharedDrive>(std::move(*drive));
}

struct TapeLu::Impl {
  std::shared_ptr<SharedDrive> shared;
  std::mutex& mutex;
  tapesim::Drive& drive;
  bool blocking = true;  // see TapeLu::blocking()
  explicit Impl(std::shared_ptr<SharedDrive> s)
      : shared(std::move(s)), mutex(shared->mutex), drive(shared->drive) {}
};

TapeLu::TapeLu(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

TapeLu::~TapeLu() = default;  // the SharedDrive closes the cartridge when its last user goes

std::unique_ptr<TapeLu> TapeLu::create(std::shared_ptr<SharedDrive> drive) {
  return std::unique_ptr<TapeLu>(new TapeLu(std::make_unique<Impl>(std::move(drive))));
}

Result<std::unique_ptr<TapeLu>> TapeLu::create(const TapeLuConfig& config) {
  if (config.capacity_bytes == 0) return errc::invalid_argument;
  auto drive = make_drive(config);
  if (!drive) return drive.error();

  tapesim::MediumOptions mo;
  mo.capacity = config.capacity_bytes;
  // The early-warning zone may take at most half of a partition.
  mo.early_warning = std::min<std::uint64_t>(mo.early_warning, config.capacity_bytes / 2);
  mo.write_protected = config.read_only;
  Result<tapesim::Medium> medium = errc::invalid_argument;
  if (config.image.empty()) {
    medium = tapesim::Medium::create(mo);
  } else {
    tapesim::ImageOptions io;
    io.read_only = config.read_only;
    io.recover_torn_tail = true;  // a killed target leaves at most one torn frame
    std::error_code ec;
    if (std::filesystem::exists(config.image, ec))
      medium = tapesim::Medium::open_image(config.image, io);
    else
      medium = tapesim::Medium::create_image(config.image, mo, io);
  }
  if (!medium) return medium.error();
  if (auto r = drive->insert(std::move(*medium)); !r) return r.error();
  // No 28/00 on top of the 29/00 every new nexus gets: the cartridge was there at power on.
  drive->power_on();
  auto lu = create(std::make_shared<SharedDrive>(std::move(*drive)));
  lu->impl_->blocking = !config.image.empty();
  return lu;
}

bool TapeLu::blocking() const {
  return impl_->blocking;
}

ScsiResult TapeLu::execute(const ScsiCommand& command) {
  tapesim::Response r;
  {
    std::lock_guard lock(impl_->mutex);
    r = impl_->drive.execute(command.cdb, command.data_out, command.nexus.id);
  }
  ScsiResult out;
  out.status = static_cast<std::uint8_t>(r.status);
  out.sense = std::move(r.sense);
  out.data_in = std::move(r.data_in);
  out.data_out_length = r.data_out_length;
  return out;
}

void TapeLu::nexus_added(const Nexus& nexus) {
  // The drive posts 29/00 the first time it sees a nexus id; ids are never reused, so a new
  // session is new to the drive. A command makes it known; nothing to do here.
  (void)nexus;
}

void TapeLu::nexus_removed(const Nexus& nexus) {
  std::lock_guard lock(impl_->mutex);
  impl_->drive.forget_nexus(nexus.id);
}

void TapeLu::logical_unit_reset() {
  std::lock_guard lock(impl_->mutex);
  impl_->drive.logical_unit_reset();
}

void TapeLu::target_reset(bool cold) {
  std::lock_guard lock(impl_->mutex);
  if (cold)
    impl_->drive.power_on();  // every nexus gets 29/00 again
  else
    impl_->drive.logical_unit_reset();
}

}  // namespace uiscsi::target
