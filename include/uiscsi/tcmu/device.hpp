// A TCMU device's life: the LIO backstore in configfs, its uio device, the shared mapping.
//
//   Backstore::create   mkdir CONFIGFS/core/user_HBA/NAME; write to its `control` file, one
//                       write per parameter: dev_size=SIZE, dev_config=HANDLER/CONFIG,
//                       hw_block_size=BS, nl_reply_supported=-1 (the kernel then does not wait
//                       for a netlink reply, so no tcmu-runner style daemon is needed); with
//                       tmr_notification, 1 to attrib/tmr_notification; then 1 to `enable`.
//                       The kernel creates the uio device at once.
//   find_uio            scans UIO_ROOT/uio*/name for "tcm-user/HBA/NAME/" (the kernel names it
//                       tcm-user/HBA/NAME/DEV_CONFIG) and reads maps/map0/size; retries until
//                       the timeout.
//   Mapping::open       opens DEV_ROOT/uioN read-write, non-blocking, and maps map0 shared.
//   Device::create      all three, plus the Ring and the EventLoop.
//   Backstore::remove   rmdir of NAME, then of user_HBA when this call created it (the LUN that
//                       exports it must have been unlinked first; LIO refuses otherwise: EBUSY).
//
// The roots are parameters so tests can point them at a temporary directory. Needs root and the
// target_core_user module on a real system. Errors: OS errors (system category) naming nothing
// secret; tcmu_errc::bad_device_name, device_not_found, bad_mailbox.
//
// Thread safety: none; each object has one owner.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "uiscsi/result.hpp"
#include "uiscsi/tcmu/event_loop.hpp"

namespace uiscsi::tcmu {

struct DeviceConfig {
  std::string configfs_root = "/sys/kernel/config/target";
  std::string uio_root = "/sys/class/uio";
  std::string dev_root = "/dev";
  std::uint32_t hba = 0;            // core/user_<hba>
  std::string name;                 // backstore name: [A-Za-z0-9_.-]+
  std::string handler = "uiscsi";   // dev_config is HANDLER/CONFIG
  std::string config;               // handler specific, same characters as name (may be empty)
  std::uint64_t size = 1ull << 30;  // dev_size in bytes
  std::uint32_t block_size = 512;   // hw_block_size (0: the kernel's default)
  // attrib/tmr_notification=1: the kernel queues TMR entries (LUN RESET, aborts) in the ring.
  bool tmr_notification = false;
  std::chrono::milliseconds uio_timeout{5000};
};

class Backstore {
 public:
  static Result<Backstore> create(const DeviceConfig& config);
  Backstore(Backstore&& o) noexcept;
  Backstore& operator=(Backstore&& o) noexcept;
  Backstore(const Backstore&) = delete;
  Backstore& operator=(const Backstore&) = delete;
  ~Backstore();  // remove(), errors ignored

  // The configfs directory (to symlink into a fabric's LUN).
  [[nodiscard]] const std::string& path() const { return path_; }
  // Idempotent. OS errors from rmdir of the device directory.
  Result<void> remove();

 private:
  Backstore(std::string path, std::string hba_path, bool created_hba);
  std::string path_;
  std::string hba_path_;
  bool created_hba_ = false;
  bool removed_ = false;
};

struct UioDevice {
  int index = -1;        // N of uioN
  std::string name;      // tcm-user/HBA/NAME/DEV_CONFIG
  std::string dev_path;  // DEV_ROOT/uioN
  std::uint64_t map_size = 0;
};

Result<UioDevice> find_uio(const DeviceConfig& config);

// The uio device open and its map0 mapped.
class Mapping {
 public:
  static Result<Mapping> open(const UioDevice& uio);
  Mapping(Mapping&& o) noexcept;
  Mapping& operator=(Mapping&& o) noexcept;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping();

  [[nodiscard]] int fd() const { return fd_; }
  [[nodiscard]] std::span<std::byte> memory() const { return {base_, size_}; }

 private:
  Mapping(int fd, std::byte* base, std::size_t size) : fd_(fd), base_(base), size_(size) {}
  void reset();
  int fd_ = -1;
  std::byte* base_ = nullptr;
  std::size_t size_ = 0;
};

// Backstore + uio + mapping + event loop. Destruction order: loop, mapping, backstore.
class Device {
 public:
  static Result<std::unique_ptr<Device>> create(const DeviceConfig& config);
  [[nodiscard]] EventLoop& loop() { return *loop_; }
  [[nodiscard]] const UioDevice& uio() const { return uio_; }
  [[nodiscard]] const Backstore& backstore() const { return backstore_; }
  // Stops the loop, unmaps, removes the backstore. Errors from Backstore::remove().
  Result<void> close();

 private:
  Device(Backstore b, UioDevice u, Mapping m)
      : backstore_(std::move(b)), uio_(std::move(u)), mapping_(std::move(m)) {}
  Backstore backstore_;
  UioDevice uio_;
  Mapping mapping_;
  std::unique_ptr<EventLoop> loop_;
};

// True for names LIO and the uio name can carry unambiguously: [A-Za-z0-9_.-]+, at most 64.
bool valid_name(const std::string& s);

}  // namespace uiscsi::tcmu
