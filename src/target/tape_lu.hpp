// TapeLu: an SSC-3 sequential-access logical unit (a tape drive, peripheral device type 01h)
// around one tapesim::Drive holding one cartridge. The cartridge lives in memory, or in an image
// file (tapesim image format) that keeps its records across target restarts.
//
// The SCSI command set, sense data and unit attentions are tapesim's (src/tapesim/drive.hpp);
// each I_T nexus of the target maps to the drive's nexus by its unique id, so unit attentions
// and PREVENT ALLOW MEDIUM REMOVAL are kept per session. Commands are serialized on the drive
// (tape is sequential). REPORT LUNS is answered by the server.
//
// A drive that a media changer loads (changer_lu.hpp) is a SharedDrive: the tape LUN and the
// changer LUN both hold it, and each takes its mutex around every use of the drive.
//
// Thread safety: every member may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "tapesim/drive.hpp"
#include "target/logical_unit.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi::target {

// A tapesim::Drive and the mutex that serializes it. Lock order: a changer takes its own lock
// first and this one second; the tape LUN takes only this one.
struct SharedDrive {
  std::mutex mutex;
  tapesim::Drive drive;
  explicit SharedDrive(tapesim::Drive d) : drive(std::move(d)) {}
  SharedDrive(const SharedDrive&) = delete;
  SharedDrive& operator=(const SharedDrive&) = delete;
  ~SharedDrive();  // closes the cartridge in the drive (marks its image clean)
};

struct TapeLuConfig {
  std::string vendor = "UISCSI";
  std::string product = "TAPESIM";
  std::string serial = "uiscsi-tape";
  int lto_generation = 9;                      // 5..9: the densities the drive reports and writes
  std::uint64_t capacity_bytes = 64ull << 20;  // cartridge capacity (new cartridges only)
  std::string image;                           // empty: in memory; else opened, or created blank
  bool read_only = false;                      // the cartridge is write protected
};

// An empty drive (no cartridge) with the identification and densities of `config`; its
// capacity, image and read_only are not used. errc::invalid_argument for a bad generation.
Result<std::shared_ptr<SharedDrive>> make_shared_drive(const TapeLuConfig& config);

class TapeLu final : public LogicalUnit {
 public:
  // A drive holding its own cartridge. Errors: errc::invalid_argument (bad generation,
  // capacity 0), tapesim's image errors (image_busy, image_not_a_tape, image_corrupt...) and OS
  // errors opening the image.
  static Result<std::unique_ptr<TapeLu>> create(const TapeLuConfig& config);
  // A drive shared with a changer, which puts cartridges in and takes them out.
  static std::unique_ptr<TapeLu> create(std::shared_ptr<SharedDrive> drive);
  ~TapeLu() override;

  ScsiResult execute(const ScsiCommand& command) override;
  // True (commands run on the server's workers) when the cartridge is an image file or the
  // drive is shared with a changer (whose cartridges may be images); false for a drive holding
  // its own in-memory cartridge, whose commands are only memory copies and run on the server's
  // loop thread, saving two thread hand-offs per command. Fixed for the LU's lifetime.
  [[nodiscard]] bool blocking() const override;
  [[nodiscard]] bool sequential() const override { return true; }
  [[nodiscard]] std::uint8_t device_type() const override { return 0x01; }
  void nexus_added(const Nexus& nexus) override;
  void nexus_removed(const Nexus& nexus) override;
  void logical_unit_reset() override;
  void target_reset(bool cold) override;

 private:
  struct Impl;
  explicit TapeLu(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace uiscsi::target
