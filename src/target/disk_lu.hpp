// DiskLu: an SBC-3 direct-access logical unit (a disk) over a BlockStore.
//
// It implements the command set libiscsi's iscsi-test-cu exercises on a disk: TEST UNIT READY,
// INQUIRY (standard data, VPD 00h 80h 83h B0h B1h B2h), REPORT LUNS, REQUEST SENSE, READ
// CAPACITY(10)/(16), READ/WRITE (6)/(10)/(12)/(16), WRITE AND VERIFY (10)/(12)/(16), VERIFY
// (10)/(12)/(16), PRE-FETCH (10)/(16), WRITE SAME (10)/(16), UNMAP, COMPARE AND WRITE,
// SYNCHRONIZE CACHE (10)/(16), GET LBA STATUS, MODE SENSE/SELECT (6)/(10) with the caching,
// control and informational exceptions pages, PERSISTENT RESERVE IN/OUT, RESERVE/RELEASE
// (6)/(10), START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL and REPORT SUPPORTED OPERATION CODES.
// Anything else ends with ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE (20/00).
//
// Unit attentions are kept per I_T nexus: POWER ON, RESET, OR BUS DEVICE RESET OCCURRED (29/00)
// for a new nexus, BUS DEVICE RESET FUNCTION OCCURRED (29/03) after a logical unit reset, SCSI
// BUS RESET OCCURRED (29/02) after a target warm reset and POWER ON OCCURRED (29/01) after a cold
// one, MODE PARAMETERS CHANGED (2A/01) for the other nexuses after a MODE SELECT that changed
// something, the reservation attentions 2A/03, 2A/04, 2A/05, and CAPACITY DATA HAS CHANGED
// (2A/09) after resize(). INQUIRY, REPORT LUNS and REQUEST SENSE neither report nor clear them
// (REQUEST SENSE returns the pending one as its data and clears it, SPC-4 6.39).
//
// Thread safety: execute() and every other member may be called concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "target/block_store.hpp"
#include "target/logical_unit.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi::target {

struct DiskLuConfig {
  std::string vendor = "UISCSI";        // T10 vendor identification, at most 8 characters
  std::string product = "uiscsi disk";  // at most 16 characters
  std::string revision = "0001";        // at most 4 characters
  std::string serial = "uiscsi-lu";     // unit serial number (VPD 80h), printable ASCII
  // The logical unit's NAA designator (VPD 83h): 8 or 16 bytes, NAA type in the top nibble.
  // Empty: an 8-byte NAA 3h (locally assigned) derived from vendor, product and serial.
  std::vector<std::byte> naa;
  bool read_only = false;                  // every write ends with DATA PROTECT, WRITE PROTECTED
  bool thin_provisioning = true;           // LBPME, UNMAP, WRITE SAME UNMAP when the store discards
  std::uint16_t relative_target_port = 1;  // VPD 83h and READ FULL STATUS

  // Block limits (VPD B0h), enforced by the commands they describe.
  std::uint32_t max_transfer_bytes = 8u << 20;      // MAXIMUM TRANSFER LENGTH, in bytes here
  std::uint32_t optimal_transfer_bytes = 1u << 20;  // OPTIMAL TRANSFER LENGTH, in bytes here
  std::uint8_t max_compare_and_write_blocks = 255;
  std::uint32_t max_unmap_blocks = 0xffffffff;  // per UNMAP command; FFFFFFFFh: no limit
  std::uint32_t max_unmap_descriptors = 256;
  std::uint64_t max_write_same_blocks = 1u << 22;
  std::uint8_t physical_block_exponent = 0;  // LBPPBE: 2^n logical blocks per physical block
  std::uint16_t rotation_rate = 1;           // VPD B1h MEDIUM ROTATION RATE; 1: non-rotating

  // REPORT LUNS answers with this target's LUN inventory; unset: only the addressed LUN. Called
  // from execute(), possibly on several threads at once.
  std::function<std::vector<Lun>()> report_luns;
};

class DiskLu final : public LogicalUnit {
 public:
  // errc::invalid_argument if the store's block size is not 512-4096 bytes, a name field is too
  // long or not printable ASCII, the NAA designator is not 8 or 16 bytes, or a limit is zero.
  static Result<std::unique_ptr<DiskLu>> create(DiskLuConfig config,
                                                std::unique_ptr<BlockStore> store);
  ~DiskLu() override;
  DiskLu(const DiskLu&) = delete;
  DiskLu& operator=(const DiskLu&) = delete;

  ScsiResult execute(const ScsiCommand& command) override;
  [[nodiscard]] bool blocking() const override;
  [[nodiscard]] std::uint8_t device_type() const override { return 0x00; }
  void nexus_added(const Nexus& nexus) override;
  void nexus_removed(const Nexus& nexus) override;
  void logical_unit_reset() override;
  void target_reset(bool cold) override;

  // Changes the capacity; every nexus gets CAPACITY DATA HAS CHANGED (2A/09). Waits for the
  // commands in progress. Errors: those of BlockStore::resize.
  Result<void> resize(std::uint64_t block_count);
  [[nodiscard]] std::uint64_t block_count() const;
  [[nodiscard]] std::uint32_t block_size() const;

  struct Impl;

 private:
  explicit DiskLu(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace uiscsi::target
