// TapeLu: an SSC-3 sequential-access logical unit (a tape drive, peripheral device type 01h)
// around one tapesim::Drive holding one cartridge. The cartridge lives in memory, or in an image
// file (tapesim image format) that keeps its records across target restarts.
//
// The SCSI command set, sense data and unit attentions are tapesim's (src/tapesim/drive.hpp);
// each I_T nexus of the target maps to the drive's nexus by its unique id, so unit attentions
// and PREVENT ALLOW MEDIUM REMOVAL are kept per session. Commands are serialized on the drive
// (tape is sequential). REPORT LUNS is answered by the server.
//
// Thread safety: every member may be called concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "target/logical_unit.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi::target {

struct TapeLuConfig {
  std::string vendor = "UISCSI";
  std::string product = "TAPESIM";
  std::string serial = "uiscsi-tape";
  int lto_generation = 9;                      // 5..9: the densities the drive reports and writes
  std::uint64_t capacity_bytes = 64ull << 20;  // cartridge capacity (new cartridges only)
  std::string image;                           // empty: in memory; else opened, or created blank
  bool read_only = false;                      // the cartridge is write protected
};

class TapeLu final : public LogicalUnit {
 public:
  // Errors: errc::invalid_argument (bad generation, capacity 0), tapesim's image errors
  // (image_busy, image_not_a_tape, image_corrupt...) and OS errors opening the image.
  static Result<std::unique_ptr<TapeLu>> create(const TapeLuConfig& config);
  ~TapeLu() override;

  ScsiResult execute(const ScsiCommand& command) override;
  [[nodiscard]] bool blocking() const override { return true; }
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
