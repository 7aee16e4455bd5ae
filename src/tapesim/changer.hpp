// Changer: an SMC-3 medium changer (a tape library) as a pure state machine: one medium
// transport, storage slots, import/export elements and data transfer elements (tape drives),
// each cartridge a tapesim::Medium with a barcode (its primary volume tag).
//
// Element addresses (SMC-3 4.2, reported by MODE SENSE page 1Dh) are contiguous, in element
// type order: the medium transport at 0, storage elements 1..S, import/export elements S+1..
// S+I, data transfer elements S+I+1..S+I+D.
//
// The changer reaches its drives only through DriveSlot (below): MOVE MEDIUM to a drive hands
// the Medium to DriveSlot::insert, MOVE MEDIUM from a drive takes it back with DriveSlot::eject.
// The changer keeps the barcode and the source element of a cartridge that sits in a drive.
//
// Two ways in, as with Drive:
//   * execute(cdb, data_out, nexus): TEST UNIT READY, REQUEST SENSE, INITIALIZE ELEMENT STATUS
//     (07h), INQUIRY (+ VPD 00h, 80h, 83h), MODE SENSE(6/10) (pages 1Dh, 1Eh, 1Fh, 3Fh),
//     PREVENT ALLOW MEDIUM REMOVAL, POSITION TO ELEMENT, INITIALIZE ELEMENT STATUS WITH RANGE
//     (37h), MOVE MEDIUM, READ ELEMENT STATUS. Anything else is ILLEGAL REQUEST 20/00.
//   * the typed API (move_medium, position_to_element...) with the same sense as values.
//
// Unit attentions per I_T nexus: 29/00 the first time a nexus is seen, 29/03 after
// logical_unit_reset(), 28/01 IMPORT OR EXPORT ELEMENT ACCESSED after the operator put a
// cartridge into, or took one out of, an import/export element (SMC-3 5.3 / SPC-4 annex D).
// PREVENT ALLOW MEDIUM REMOVAL keeps the operator from taking cartridges out of import/export
// elements (SMC-3 6.x, PREVENT ALLOW MEDIUM REMOVAL); MOVE MEDIUM is not affected by it.
//
// No threads, no clock, no sockets (the only I/O is that of the media's image files). Not
// thread-safe: callers serialize. Movable.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tapesim/drive.hpp"
#include "tapesim/medium.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/scsi/cdb.hpp"

namespace uiscsi::tapesim {

// How the changer reaches one tape drive. Implementations may lock the drive (see
// src/target/changer_lu.cpp); the changer calls them while it executes a command.
class DriveSlot {
 public:
  virtual ~DriveSlot() = default;
  // Puts the cartridge into the drive and loads it (the drive reports 28/00 to its nexuses).
  // On failure `medium` is not moved from. tapesim_errc::medium_present when the drive holds a
  // cartridge already.
  virtual Result<void> insert(Medium&& medium) = 0;
  // Unloads the cartridge if it is still loaded (rewinding it) and takes it out of the drive.
  // tapesim_errc::no_medium; tapesim_errc::removal_prevented when a nexus of the drive has
  // prevented medium removal (PREVENT ALLOW MEDIUM REMOVAL on the drive).
  virtual Result<Medium> eject() = 0;
  [[nodiscard]] virtual bool medium_present() const = 0;
  // The drive's unit serial number, reported as its device identifier (DVCID).
  [[nodiscard]] virtual std::string identifier() const = 0;
};

// A DriveSlot over a Drive the caller owns and serializes (tests, single-threaded users).
class DirectDriveSlot final : public DriveSlot {
 public:
  explicit DirectDriveSlot(Drive& drive) : drive_(&drive) {}
  Result<void> insert(Medium&& medium) override;
  Result<Medium> eject() override;
  [[nodiscard]] bool medium_present() const override { return drive_->medium_present(); }
  [[nodiscard]] std::string identifier() const override { return drive_->config().serial; }

 private:
  Drive* drive_;
};

struct ChangerConfig {
  std::string vendor = "UISCSI";       // T10 vendor identification (8 characters at most)
  std::string product = "CHANGERSIM";  // (16)
  std::string revision = "0001";       // (4)
  std::string serial = "CS0000001";    // unit serial number (VPD 80h)
  std::uint16_t storage_slots = 8;     // 1..4096
  std::uint16_t import_export = 1;     // 0..16
};

// The state of one element as READ ELEMENT STATUS reports it.
struct ElementInfo {
  scsi::ElementType type = scsi::ElementType::storage;
  std::uint16_t address = 0;
  bool full = false;
  std::string barcode;                  // of the cartridge in it (full elements)
  std::optional<std::uint16_t> source;  // SVALID: the element the cartridge was last moved from
  bool imported = false;                // IMPEXP: put into an import/export element by an operator
  bool operator==(const ElementInfo&) const = default;
};

// Where a cartridge is, for saving and restoring the inventory (see inventory_text()).
struct Placement {
  std::string barcode;
  std::uint16_t address = 0;
  std::optional<std::uint16_t> source;
  bool imported = false;
  bool operator==(const Placement&) const = default;
};

// A saved inventory: the element counts it was saved with (addresses only mean the same in a
// changer of the same shape) and the placements.
struct Inventory {
  std::uint16_t storage = 0;
  std::uint16_t import_export = 0;
  std::uint16_t drives = 0;
  std::vector<Placement> placements;
  bool operator==(const Inventory&) const = default;
};

class Changer {
 public:
  // errc::invalid_argument for a bad configuration (slot or import/export counts out of range,
  // identification strings too long or not printable, more than 64 drives).
  static Result<Changer> create(ChangerConfig config,
                                std::vector<std::unique_ptr<DriveSlot>> drives);

  // ---- the element map ----
  [[nodiscard]] static constexpr std::uint16_t transport_address() { return 0; }
  [[nodiscard]] std::uint16_t first_storage() const { return 1; }
  [[nodiscard]] std::uint16_t first_import_export() const;
  [[nodiscard]] std::uint16_t first_drive() const;
  [[nodiscard]] std::uint16_t storage_count() const { return config_.storage_slots; }
  [[nodiscard]] std::uint16_t import_export_count() const { return config_.import_export; }
  [[nodiscard]] std::uint16_t drive_count() const;
  [[nodiscard]] std::optional<ElementInfo> element(std::uint16_t address) const;
  [[nodiscard]] std::vector<ElementInfo> elements() const;

  // ---- cartridges (setup and operator actions, not SCSI) ----
  // Puts a cartridge into an empty storage, import/export or data transfer element at setup
  // time (no unit attention). errc::invalid_argument: not such an element, or the barcode is
  // empty or already in the changer; tapesim_errc::medium_present: the element is full.
  Result<void> place(std::uint16_t address, Medium medium,
                     std::optional<std::uint16_t> source = std::nullopt, bool imported = false);
  // The operator puts a cartridge into the first empty import/export element: IMPEXP = 1 and
  // 28/01 for every nexus. Returns its address. tapesim_errc::medium_present when none is
  // empty; errc::invalid_argument for a missing or duplicate barcode.
  Result<std::uint16_t> import_medium(Medium medium);
  // The operator takes the cartridge out of an import/export element: 28/01 for every nexus.
  // removal_prevented while a nexus prevents removal; no_medium; errc::invalid_argument when
  // `address` is not an import/export element.
  Result<Medium> export_medium(std::uint16_t address);
  // Takes every cartridge out of storage and import/export elements (the ones in drives stay
  // there), for a clean shutdown.
  std::vector<Medium> take_all();

  // ---- events (SAM-5) ----
  void power_on();                         // every nexus forgotten; prevention cleared
  void logical_unit_reset();               // 29/03 for every known nexus; prevention cleared
  void forget_nexus(std::uint64_t nexus);  // its unit attentions and prevention go with it

  // ---- the typed API ----
  // MOVE MEDIUM (SMC-3 6.6). ILLEGAL REQUEST with: 21/01 INVALID ELEMENT ADDRESS for a
  // transport that is not a medium transport element, or a source / destination that is not a
  // storage, import/export or data transfer element (the field pointer names the field);
  // 24/00 for INVERT (cartridges are not invertible); 3B/0E MEDIUM SOURCE ELEMENT EMPTY;
  // 3B/0D MEDIUM DESTINATION ELEMENT FULL; 53/03 MEDIUM REMOVAL PREVENTED BY DATA TRANSFER
  // ELEMENT when the source drive's removal is prevented. A cartridge still loaded in the
  // source drive is unloaded first (DriveSlot::eject).
  Outcome move_medium(std::uint16_t transport, std::uint16_t source, std::uint16_t destination,
                      bool invert = false);
  // POSITION TO ELEMENT (SMC-3 6.7): checks the addresses as MOVE MEDIUM does; no motion here.
  Outcome position_to_element(std::uint16_t transport, std::uint16_t destination,
                              bool invert = false);
  // PREVENT ALLOW MEDIUM REMOVAL for `nexus`.
  Outcome prevent_removal(bool prevent, std::uint64_t nexus = 0);
  [[nodiscard]] bool removal_prevented() const;

  // ---- the inventory file ----
  // A header line, a "layout STORAGE IMPORT_EXPORT DRIVES" line, then one line per full
  // element: "BARCODE ADDRESS [source=N] [imported]".
  [[nodiscard]] std::string inventory_text() const;
  // The inverse of inventory_text(). errc::invalid_argument for anything malformed, a barcode
  // or an address listed twice.
  static Result<Inventory> parse_inventory(std::string_view text);
  // Whether addresses of `inventory` mean the same elements in this changer.
  [[nodiscard]] bool same_layout(const Inventory& inventory) const;

  [[nodiscard]] const ChangerConfig& config() const { return config_; }

  // ---- SCSI ----
  Response execute(std::span<const std::byte> cdb, std::span<const std::byte> data_out = {},
                   std::uint64_t nexus = 0);

 private:
  struct Element {
    scsi::ElementType type = scsi::ElementType::storage;
    std::optional<Medium> medium;  // storage and import/export elements hold it here
    bool full = false;             // drives: the changer put a cartridge there
    std::string barcode;
    std::optional<std::uint16_t> source;
    bool imported = false;
    std::size_t drive = 0;  // data transfer elements: index into drives_
  };
  struct UnitAttention {
    std::uint8_t asc = 0;
    std::uint8_t ascq = 0;
    bool operator==(const UnitAttention&) const = default;
  };
  struct NexusState {
    std::deque<UnitAttention> attentions;
    bool prevent = false;
  };
  struct Command {
    std::span<const std::byte> cdb;
    std::uint64_t nexus = 0;
    [[nodiscard]] std::uint8_t u8(std::size_t i) const;
    [[nodiscard]] std::uint16_t be16(std::size_t i) const;
    [[nodiscard]] std::uint32_t be24(std::size_t i) const;
  };
  using Handler = Response (Changer::*)(const Command&);
  struct CommandInfo;

  Changer(ChangerConfig config, std::vector<std::unique_ptr<DriveSlot>> drives);

  // changer.cpp
  [[nodiscard]] bool holds_medium(std::uint16_t address) const;  // storage, I/E or drive
  [[nodiscard]] bool has_barcode(const std::string& barcode) const;
  Result<void> put(Element& e, Medium&& medium);  // on failure `medium` is not moved from
  Result<Medium> take(Element& e);
  NexusState& nexus_state(std::uint64_t nexus);
  void post(UnitAttention ua);
  std::optional<UnitAttention> take_attention(std::uint64_t nexus);

  // changer_scsi.cpp
  static std::span<const CommandInfo> commands();
  static Response check(const scsi::SenseData& s);
  static Response from(const Outcome& o);
  Response test_unit_ready(const Command& c);
  Response request_sense(const Command& c);
  Response initialize_element_status(const Command& c);
  Response inquiry(const Command& c);
  Response prevent_allow(const Command& c);
  Response cmd_position_to_element(const Command& c);
  Response initialize_with_range(const Command& c);
  Response cmd_move_medium(const Command& c);
  [[nodiscard]] Result<std::vector<std::byte>> vpd_page(std::uint8_t page) const;

  // changer_status.cpp: READ ELEMENT STATUS and MODE SENSE
  Response read_element_status(const Command& c);
  Response mode_sense(const Command& c);
  [[nodiscard]] std::vector<scsi::ModePage> mode_pages(std::uint8_t page, bool changeable) const;

  ChangerConfig config_;
  std::vector<std::unique_ptr<DriveSlot>> drives_;
  std::vector<Element> elements_;  // indexed by element address
  std::map<std::uint64_t, NexusState> nexuses_;
};

}  // namespace uiscsi::tapesim
