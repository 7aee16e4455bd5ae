// uiscsi::tape::Changer: an SMC-3 media changer (a tape library) behind an iSCSI session, with
// methods named for what a library user does (status, load, unload, transfer, inventory).
//
//   auto s = uiscsi::Session::dial("iscsi://127.0.0.1:3260/iqn.x:library");
//   auto c = uiscsi::tape::Changer::open(*s, *uiscsi::Lun::from_number(1));
//   auto st = c->status();                       // slots, drives, barcodes
//   if (!c->load(0, 0)) std::cerr << c->last_error()->message() << "\n";
//
// Numbering: load(), unload() and transfer() take 0-based indexes into status().slots and
// status().drives (element address order), not element addresses; move() and position_to()
// take element addresses (SMC-3 4.2). The uiscsi-changer tool shows slots from 1, as mtx does.
//
// Errors: every operation returns Result<T>. Its error_code is a tape_errc (tape/errors.hpp):
// source_empty (3B/0E), destination_full (3B/0D), invalid_element (21/01), removal_prevented
// (53/02, 53/03), the generic sense-key codes shared with the tape Drive, the driver-side
// not_a_changer / no_such_element / no_empty_slot, or the initiator's code when the command's
// fate is unknown. last_error() then holds the command, its element addresses and the sense.
//
// Unit attentions (a reset, 28/01 after an operator used the mail slot) are consumed: a
// command answered with one did not run (SAM-5 5.14) and is sent again, up to 3 more times.
//
// Threads: a Changer is not thread-safe; use it from one thread at a time. Movable.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "uiscsi/export.hpp"
#include "uiscsi/lun.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/tape/errors.hpp"
#include "uiscsi/tape/transport.hpp"

namespace uiscsi {
class Session;
}

namespace uiscsi::tape {

struct UISCSI_API ChangerOptions {
  // open(): TEST UNIT READY is repeated while the changer answers UNIT ATTENTION or NOT READY
  // (a library still taking its inventory), as Drive::open does.
  int ready_attempts = 30;
  std::chrono::milliseconds ready_interval{1000};
  std::chrono::milliseconds ready_timeout{60000};
  // Ask for volume tags (VOLTAG). When the changer refuses them (ILLEGAL REQUEST 24/00 to
  // READ ELEMENT STATUS with VOLTAG) the driver asks again without and stops asking.
  bool barcodes = true;
  // Upper bound of one READ ELEMENT STATUS allocation, whatever the changer announces.
  std::uint32_t max_status_bytes = 16u << 20;
  // Per-command timeout for the session transport (0: the session's default). MOVE MEDIUM
  // on a real library can take minutes.
  std::chrono::milliseconds command_timeout{0};
};

// One element as READ ELEMENT STATUS reported it (SMC-3 6.10.3 to 6.10.6).
struct UISCSI_API Element {
  scsi::ElementType type = scsi::ElementType::storage;
  std::uint16_t address = 0;
  std::size_t index = 0;  // 0-based position among the elements of its type
  bool full = false;
  bool except = false;  // abnormal state: see asc / ascq
  bool access = false;  // the medium transport can reach it
  bool impexp = false;  // import/export: the cartridge was put in by an operator
  std::string barcode;  // primary volume tag, trailing blanks removed; empty when none
  std::optional<std::uint16_t> source;  // SVALID: element the cartridge was last moved from
  std::uint8_t asc = 0;
  std::uint8_t ascq = 0;
};

struct UISCSI_API ChangerStatus {
  std::vector<Element> transports;
  std::vector<Element> slots;  // storage elements
  std::vector<Element> import_export;
  std::vector<Element> drives;  // data transfer elements
  bool barcodes = false;        // volume tags were reported

  // The element at `address`, or nullptr.
  [[nodiscard]] const Element* find(std::uint16_t address) const;
};

// Details of the last failure of a Changer operation.
struct UISCSI_API ChangerError {
  std::error_code code;                      // tape_errc, or an initiator error
  std::string operation;                     // "MOVE MEDIUM", "READ ELEMENT STATUS", ...
  std::optional<std::uint16_t> source;       // element addresses the command named
  std::optional<std::uint16_t> destination;  //
  std::optional<scsi::SenseData> sense;      // as returned with CHECK CONDITION

  // One line, e.g. "changer: MOVE MEDIUM 1 -> 10: source element is empty (ILLEGAL REQUEST:
  // medium source element empty (asc 0x3b, ascq 0x0e))".
  [[nodiscard]] std::string message() const;
};

class UISCSI_API Changer {
 public:
  // Opens the changer at `lun` of `session` (which must outlive the Changer): checks with
  // INQUIRY that it is a medium changer, device type 08h (else tape_errc::not_a_changer, at
  // once), waits until it is ready, and reads the element map: MODE SENSE page 1Dh, or READ
  // ELEMENT STATUS of all types when the changer does not have that page.
  static Result<Changer> open(Session& session, Lun lun, ChangerOptions options = {});
  // The same over any Transport.
  static Result<Changer> open(std::unique_ptr<Transport> transport, ChangerOptions options = {});

  Changer(Changer&&) noexcept;
  Changer& operator=(Changer&&) noexcept;
  ~Changer();

  [[nodiscard]] const scsi::InquiryData& inquiry() const;
  [[nodiscard]] const scsi::ElementAddressAssignment& element_map() const;
  [[nodiscard]] const ChangerOptions& options() const;
  // Whether READ ELEMENT STATUS still asks for volume tags (false once the changer refused).
  [[nodiscard]] bool barcodes_supported() const;
  // Details of the last failure; empty until something failed.
  [[nodiscard]] const std::optional<ChangerError>& last_error() const;

  // ---- status (READ ELEMENT STATUS, SMC-3 6.10) ----
  // Every element of every type, one type per command.
  Result<ChangerStatus> status();
  // The elements of one type (ElementType::all: every type, in address order).
  Result<std::vector<Element>> elements(scsi::ElementType type);

  // ---- moves (MOVE MEDIUM, SMC-3 6.6) ----
  // Element addresses; the transport defaults to the first medium transport element.
  Result<void> move(std::uint16_t source, std::uint16_t destination,
                    std::optional<std::uint16_t> transport = std::nullopt);
  // Slot `slot` into drive `drive` (0-based indexes).
  Result<void> load(std::size_t slot, std::size_t drive = 0);
  // Drive `drive` back into slot `slot`, or when none is given into the slot it came from
  // (SVALID) if that slot is empty, else the first empty slot. Returns the slot index used.
  Result<std::size_t> unload(std::size_t drive = 0, std::optional<std::size_t> slot = std::nullopt);
  // Slot to slot (0-based indexes).
  Result<void> transfer(std::size_t from_slot, std::size_t to_slot);

  // ---- housekeeping ----
  // INITIALIZE ELEMENT STATUS (SMC-3 6.2): the changer checks every element (barcodes too).
  Result<void> inventory();
  // POSITION TO ELEMENT (SMC-3 6.7): moves the transport in front of `element`.
  Result<void> position_to(std::uint16_t element,
                           std::optional<std::uint16_t> transport = std::nullopt);

 private:
  struct UISCSI_LOCAL Impl;
  explicit Changer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace uiscsi::tape
