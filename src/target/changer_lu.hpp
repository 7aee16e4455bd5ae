// ChangerLu: an SMC-3 medium changer logical unit (peripheral device type 08h) around a
// tapesim::Changer whose data transfer elements are the SharedDrives of tape LUNs of the same
// target (tape_lu.hpp). MOVE MEDIUM from a slot to a drive puts the cartridge into that tape
// LUN's drive, which then reports 28/00 to its sessions; MOVE MEDIUM from a drive takes it out.
//
// Cartridges: `slots` of them, barcodes UIS001L<g>, UIS002L<g>... (g: the LTO generation), one
// per storage slot at first. In memory, or, with an image directory, each cartridge is the
// image file <dir>/<barcode>.img and the element map (which cartridge is where) is the file
// <dir>/changer-inventory, written after every MOVE MEDIUM and at a clean stop, and read at
// start: cartridges and the map survive restarts.
//
// The SCSI command set, sense data and unit attentions are tapesim::Changer's (changer.hpp).
// REPORT LUNS is answered by the server.
//
// Thread safety: every member may be called concurrently. Lock order: the changer's mutex, then
// a drive's (the tape LUN takes only the drive's).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "target/logical_unit.hpp"
#include "target/tape_lu.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi::target {

struct ChangerLuConfig {
  std::string vendor = "UISCSI";
  std::string product = "CHANGERSIM";
  std::string serial = "uiscsi-changer";
  std::uint16_t slots = 8;                    // storage elements, 1..4096; one cartridge each
  std::uint16_t import_export = 1;            // import/export elements
  std::uint64_t capacity_bytes = 1ull << 30;  // of each new cartridge (in memory: sparse)
  int lto_generation = 9;                     // 5..9: the barcode suffix L5..L9
  std::string image_dir;                      // empty: cartridges in memory
  bool read_only = false;                     // cartridges are write protected
  std::vector<std::shared_ptr<SharedDrive>> drives;  // data transfer elements, in order
};

// The barcode of cartridge n (1-based): "UIS001L9" and so on.
std::string cartridge_barcode(unsigned n, int lto_generation);

class ChangerLu final : public LogicalUnit {
 public:
  // Errors: errc::invalid_argument (bad counts, generation or capacity; a corrupt inventory
  // file), tapesim's image errors and OS errors for the image directory and its files.
  static Result<std::unique_ptr<ChangerLu>> create(const ChangerLuConfig& config);
  ~ChangerLu() override;  // saves the inventory

  ScsiResult execute(const ScsiCommand& command) override;
  [[nodiscard]] bool blocking() const override { return true; }
  [[nodiscard]] bool sequential() const override { return true; }
  [[nodiscard]] std::uint8_t device_type() const override { return 0x08; }
  void nexus_added(const Nexus& nexus) override;
  void nexus_removed(const Nexus& nexus) override;
  void logical_unit_reset() override;
  void target_reset(bool cold) override;

 private:
  struct Impl;
  explicit ChangerLu(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace uiscsi::target
