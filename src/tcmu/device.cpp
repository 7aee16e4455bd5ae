// Backstore (configfs), uio discovery and the shared mapping (uiscsi/tcmu/device.hpp).
#include "uiscsi/tcmu/device.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <thread>
#include <utility>

#include "uiscsi/tcmu/errors.hpp"

namespace uiscsi::tcmu {
namespace {

std::error_code last_error() {
  return {errno, std::system_category()};
}

// One write() per call: configfs parses each write as one request. The trailing newline is a
// separator TCMU's control parser accepts (strsep on ",\n").
Result<void> write_attribute(const std::string& path, std::string value) {
  value += '\n';
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return last_error();
  const auto n = ::write(fd, value.data(), value.size());
  const auto ec = n < 0 ? last_error() : std::error_code{};
  ::close(fd);
  if (ec) return ec;
  if (static_cast<std::size_t>(n) != value.size()) return std::make_error_code(std::errc::io_error);
  return ok();
}

// The first line of a small sysfs file (at most 255 bytes are read).
Result<std::string> read_line(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return last_error();
  char buf[256];
  const auto n = ::read(fd, buf, sizeof buf - 1);
  const auto ec = n < 0 ? last_error() : std::error_code{};
  ::close(fd);
  if (ec) return ec;
  std::string s(buf, static_cast<std::size_t>(n));
  if (auto nl = s.find('\n'); nl != std::string::npos) s.resize(nl);
  return s;
}

Result<void> make_dir(const std::string& path, bool& created) {
  created = false;
  if (::mkdir(path.c_str(), 0755) == 0) {
    created = true;
    return ok();
  }
  if (errno == EEXIST) return ok();
  return last_error();
}

// One scan of the uio class directory.
Result<UioDevice> scan_uio(const DeviceConfig& c, const std::string& prefix) {
  DIR* dir = ::opendir(c.uio_root.c_str());
  if (dir == nullptr) return tcmu_errc::device_not_found;
  UioDevice found;
  while (const dirent* e = ::readdir(dir)) {
    const std::string entry = e->d_name;
    if (entry.size() < 4 || entry.compare(0, 3, "uio") != 0) continue;
    if (entry.find_first_not_of("0123456789", 3) != std::string::npos) continue;
    auto name = read_line(c.uio_root + "/" + entry + "/name");
    if (!name || name->compare(0, prefix.size(), prefix) != 0) continue;
    found.index = std::atoi(entry.c_str() + 3);
    found.name = *name;
    found.dev_path = c.dev_root + "/" + entry;
    auto size = read_line(c.uio_root + "/" + entry + "/maps/map0/size");
    if (size) found.map_size = std::strtoull(size->c_str(), nullptr, 0);  // "0x40800000"
    break;
  }
  ::closedir(dir);
  if (found.index < 0 || found.map_size == 0) return tcmu_errc::device_not_found;
  return found;
}

}  // namespace

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (const char ch : s) {
    const bool ok_char = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                         (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
    if (!ok_char) return false;
  }
  return true;
}

// ---- Backstore ----

Backstore::Backstore(std::string path, std::string hba_path, bool created_hba)
    : path_(std::move(path)), hba_path_(std::move(hba_path)), created_hba_(created_hba) {}

Backstore::Backstore(Backstore&& o) noexcept
    : path_(std::move(o.path_)),
      hba_path_(std::move(o.hba_path_)),
      created_hba_(o.created_hba_),
      removed_(std::exchange(o.removed_, true)) {}

Backstore& Backstore::operator=(Backstore&& o) noexcept {
  if (this != &o) {
    (void)remove();
    path_ = std::move(o.path_);
    hba_path_ = std::move(o.hba_path_);
    created_hba_ = o.created_hba_;
    removed_ = std::exchange(o.removed_, true);
  }
  return *this;
}

Backstore::~Backstore() {
  (void)remove();
}

Result<Backstore> Backstore::create(const DeviceConfig& c) {
  if (!valid_name(c.name) || !valid_name(c.handler) || (!c.config.empty() && !valid_name(c.config)))
    return tcmu_errc::bad_device_name;
  if (c.size == 0) return std::make_error_code(std::errc::invalid_argument);
  const std::string hba = c.configfs_root + "/core/user_" + std::to_string(c.hba);
  const std::string dev = hba + "/" + c.name;
  bool created_hba = false, created_core = false;
  if (auto r = make_dir(c.configfs_root + "/core", created_core); !r) return r.error();
  if (auto r = make_dir(hba, created_hba); !r) return r.error();
  if (::mkdir(dev.c_str(), 0755) != 0) {
    const auto ec = last_error();  // EEXIST: another device of that name; not ours to reuse
    if (created_hba) ::rmdir(hba.c_str());
    return ec;
  }
  Backstore b(dev, hba, created_hba);
  const std::string control = dev + "/control";
  std::string params[] = {"dev_size=" + std::to_string(c.size),
                          "dev_config=" + c.handler + "/" + c.config, "nl_reply_supported=-1",
                          c.block_size != 0 ? "hw_block_size=" + std::to_string(c.block_size) : ""};
  for (const auto& p : params) {
    if (p.empty()) continue;
    if (auto r = write_attribute(control, p); !r) return r.error();  // b's destructor cleans up
  }
  if (c.tmr_notification) {
    if (auto r = write_attribute(dev + "/attrib/tmr_notification", "1"); !r) return r.error();
  }
  if (auto r = write_attribute(dev + "/enable", "1"); !r) return r.error();
  return b;
}

Result<void> Backstore::remove() {
  if (removed_) return ok();
  removed_ = true;
  if (::rmdir(path_.c_str()) != 0) return last_error();
  if (created_hba_) ::rmdir(hba_path_.c_str());  // best effort: other devices may live there
  return ok();
}

// ---- uio ----

Result<UioDevice> find_uio(const DeviceConfig& c) {
  const std::string prefix = "tcm-user/" + std::to_string(c.hba) + "/" + c.name + "/";
  const auto deadline = std::chrono::steady_clock::now() + c.uio_timeout;
  for (;;) {
    auto r = scan_uio(c, prefix);
    if (r || std::chrono::steady_clock::now() >= deadline) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Mapping::Mapping(Mapping&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      base_(std::exchange(o.base_, nullptr)),
      size_(std::exchange(o.size_, 0)) {}

Mapping& Mapping::operator=(Mapping&& o) noexcept {
  if (this != &o) {
    reset();
    fd_ = std::exchange(o.fd_, -1);
    base_ = std::exchange(o.base_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

Mapping::~Mapping() {
  reset();
}

void Mapping::reset() {
  if (base_ != nullptr) ::munmap(base_, size_);
  if (fd_ >= 0) ::close(fd_);
  base_ = nullptr;
  fd_ = -1;
  size_ = 0;
}

Result<Mapping> Mapping::open(const UioDevice& uio) {
  if (uio.map_size == 0 || uio.map_size > (std::uint64_t{1} << 40))
    return std::make_error_code(std::errc::invalid_argument);
  const int fd = ::open(uio.dev_path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return last_error();
  const auto size = static_cast<std::size_t>(uio.map_size);
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);  // map0: offset 0
  if (p == MAP_FAILED) {
    const auto ec = last_error();
    ::close(fd);
    return ec;
  }
  return Mapping(fd, static_cast<std::byte*>(p), size);
}

// ---- Device ----

Result<std::unique_ptr<Device>> Device::create(const DeviceConfig& config) {
  auto backstore = Backstore::create(config);
  if (!backstore) return backstore.error();
  auto uio = find_uio(config);
  if (!uio) return uio.error();
  auto mapping = Mapping::open(*uio);
  if (!mapping) return mapping.error();
  auto ring = Ring::attach(mapping->memory());
  if (!ring) return ring.error();
  const int fd = mapping->fd();
  auto loop = EventLoop::create(fd, std::move(*ring));
  if (!loop) return loop.error();
  auto device = std::unique_ptr<Device>(
      new Device(std::move(*backstore), std::move(*uio), std::move(*mapping)));
  device->loop_ = std::move(*loop);
  return device;
}

Result<void> Device::close() {
  loop_.reset();
  { Mapping gone = std::move(mapping_); }
  return backstore_.remove();
}

}  // namespace uiscsi::tcmu
