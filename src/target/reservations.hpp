// Reservations: persistent reservations (SPC-4 5.12, PERSISTENT RESERVE IN/OUT) and SPC-2
// RESERVE / RELEASE of one logical unit, as a pure state machine. No locking (DiskLu holds its
// state lock around every call), no I/O; unit attentions come back as values for the caller to
// deliver.
//
// Model:
//   * Registrations and holders are kept per initiator port (iSCSI InitiatorName + ISID). The
//     target has a single target port, so the initiator port names the I_T nexus (SAM-5 4.7),
//     and a session reinstated with the same ISID keeps its registration.
//   * All six reservation types. For the all-registrants types every registrant holds the
//     reservation and READ RESERVATION reports key 0 (SPC-4 5.12.10).
//   * CRH = 0 (SPC-4 5.12.3): RESERVE(6)/(10) and RELEASE(6)/(10) get RESERVATION CONFLICT
//     while any registration exists, and persistent reservation commands conflict while another
//     I_T nexus holds an SPC-2 reservation.
//   * ALL_TG_PT is accepted (there is one target port); SPEC_I_PT and REGISTER AND MOVE are not
//     supported. APTPL is accepted and reported (PTPL_A): registrations then survive a target
//     cold reset (power_on()), but nothing is written to disk, so they do not survive the
//     process.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "uiscsi/result.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/sense.hpp"

namespace uiscsi::target {

struct InitiatorPort {
  std::string name;        // iSCSI InitiatorName
  std::uint64_t isid = 0;  // 48-bit ISID
  bool operator==(const InitiatorPort&) const = default;
};

// How a command is treated while another I_T nexus holds a persistent reservation (SPC-4 table
// "SPC commands that are allowed in the presence of various reservations", SBC-3 table "SBC
// commands that are allowed ..."; the "from registered I_T nexus" column allows everything for
// the registrants-only and all-registrants types).
enum class ReservationAccess : std::uint8_t {
  allowed,  // INQUIRY, REPORT LUNS, REQUEST SENSE, PR IN, READ CAPACITY, TEST UNIT READY...
  read,     // conflicts under Exclusive Access types: READ, VERIFY, MODE SENSE...
  write,    // conflicts under every type: WRITE, UNMAP, MODE SELECT, SYNCHRONIZE CACHE...
};

// A unit attention a reservation change raises for an initiator port: ASC 2Ah with ASCQ 03h
// RESERVATIONS PREEMPTED, 04h RESERVATIONS RELEASED or 05h REGISTRATIONS PREEMPTED.
struct PrUnitAttention {
  InitiatorPort port;
  std::uint8_t ascq = 0;
};

// The outcome of a reservation command.
struct PrResult {
  enum class Status : std::uint8_t { good, conflict, check_condition };
  Status status = Status::good;
  scsi::SenseData sense{};  // with check_condition
  std::vector<PrUnitAttention> attentions{};
};

// A PERSISTENT RESERVE OUT request, decoded from the CDB and the 24-byte basic parameter list.
struct PrOutRequest {
  scsi::PrOutAction action = scsi::PrOutAction::register_key;
  std::uint8_t scope = 0;
  scsi::PrType type = scsi::PrType::none;
  std::uint64_t key = 0;     // RESERVATION KEY
  std::uint64_t sa_key = 0;  // SERVICE ACTION RESERVATION KEY
  bool all_tg_pt = false;
  bool aptpl = false;
};

class Reservations {
 public:
  // True while any registration, persistent reservation or SPC-2 reservation exists.
  [[nodiscard]] bool active() const;
  // Whether a command from `port` must end with RESERVATION CONFLICT: `access` classifies it
  // for persistent reservations, spc2_allowed says whether it may run while another I_T nexus
  // holds an SPC-2 reservation (SPC-2 7.21: INQUIRY, REQUEST SENSE, REPORT LUNS, RELEASE...).
  [[nodiscard]] bool conflicts(const InitiatorPort& port, ReservationAccess access,
                               bool spc2_allowed) const;

  // PERSISTENT RESERVE OUT (SPC-4 6.14), after the CDB and parameter list were validated.
  PrResult out(const InitiatorPort& port, const PrOutRequest& request);

  // PERSISTENT RESERVE IN data (SPC-4 6.13).
  [[nodiscard]] std::vector<std::byte> read_keys() const;
  [[nodiscard]] std::vector<std::byte> read_reservation() const;
  [[nodiscard]] std::array<std::byte, 8> report_capabilities() const;
  [[nodiscard]] Result<std::vector<std::byte>> read_full_status(
      std::uint16_t relative_target_port) const;

  // RESERVE(6)/(10) and RELEASE(6)/(10) (SPC-2 7.21-7.24), CRH = 0.
  PrResult reserve(const InitiatorPort& port);
  PrResult release(const InitiatorPort& port);

  // I_T nexus loss: the nexus's SPC-2 reservation is released; registrations stay (SPC-4
  // 5.12.1).
  void nexus_lost(const InitiatorPort& port);
  // Logical unit reset or target warm reset: SPC-2 reservations are released (SAM-5 6.3.3),
  // persistent reservations are kept.
  void reset();
  // Target cold reset, handled as a power on: as reset(), and unless APTPL was activated every
  // registration and the persistent reservation are dropped and PRGENERATION restarts at 0
  // (SPC-4 5.12.4).
  void power_on();

 private:
  struct Registration {
    InitiatorPort port;
    std::uint64_t key = 0;
    bool all_tg_pt = false;
  };
  struct Holder {
    InitiatorPort port;  // unused for the all-registrants types
    scsi::PrType type = scsi::PrType::none;
  };

  [[nodiscard]] const Registration* find(const InitiatorPort& port) const;
  [[nodiscard]] bool all_registrants() const;
  [[nodiscard]] bool holds(const InitiatorPort& port) const;
  [[nodiscard]] std::uint64_t reservation_key() const;
  // Removes the registrations whose key is `key` (all but `keep`, if given); returns their ports.
  std::vector<InitiatorPort> remove_with_key(std::uint64_t key, const InitiatorPort* keep);
  // Drops the reservation when its holder (or, for all-registrants types, every registrant) is
  // no longer registered.
  void drop_orphaned_reservation();
  void notify_registrants(std::vector<PrUnitAttention>& out, const InitiatorPort& except,
                          std::uint8_t ascq) const;

  PrResult do_register(const InitiatorPort& port, const PrOutRequest& r);
  PrResult do_reserve(const InitiatorPort& port, const PrOutRequest& r);
  PrResult do_release(const InitiatorPort& port, const PrOutRequest& r);
  PrResult do_clear(const InitiatorPort& port, const PrOutRequest& r);
  PrResult do_preempt(const InitiatorPort& port, const PrOutRequest& r);

  std::vector<Registration> registrations_;
  std::optional<Holder> holder_;
  std::optional<InitiatorPort> spc2_holder_;
  std::uint32_t generation_ = 0;
  bool aptpl_ = false;
};

// True for the six reservation TYPE codes of SPC-4 table 175 (1, 3, 5, 6, 7, 8).
bool valid_pr_type(std::uint8_t type);

}  // namespace uiscsi::target
