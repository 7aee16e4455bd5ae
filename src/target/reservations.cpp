// Persistent reservations and SPC-2 reservations (see reservations.hpp). Section numbers are
// SPC-4 r37 unless noted.
#include "target/reservations.hpp"

#include <algorithm>

#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::target {
namespace {

using scsi::PrType;

constexpr std::uint8_t kReservationsPreempted = 0x03;   // 2A/03
constexpr std::uint8_t kReservationsReleased = 0x04;    // 2A/04
constexpr std::uint8_t kRegistrationsPreempted = 0x05;  // 2A/05

PrResult good() {
  return {};
}
PrResult conflict() {
  PrResult r;
  r.status = PrResult::Status::conflict;
  return r;
}
PrResult check(scsi::SenseData s) {
  PrResult r;
  r.status = PrResult::Status::check_condition;
  r.sense = s;
  return r;
}

bool is_all_registrants(PrType t) {
  return t == PrType::write_exclusive_all_registrants ||
         t == PrType::exclusive_access_all_registrants;
}
bool is_registrants_only(PrType t) {
  return t == PrType::write_exclusive_registrants_only ||
         t == PrType::exclusive_access_registrants_only;
}
bool is_exclusive_access(PrType t) {
  return t == PrType::exclusive_access || t == PrType::exclusive_access_registrants_only ||
         t == PrType::exclusive_access_all_registrants;
}

}  // namespace

bool valid_pr_type(std::uint8_t type) {
  switch (type) {
    case 0x1:
    case 0x3:
    case 0x5:
    case 0x6:
    case 0x7:
    case 0x8:
      return true;
    default:
      return false;
  }
}

// ---- Queries ---------------------------------------------------------------------------------

const Reservations::Registration* Reservations::find(const InitiatorPort& port) const {
  for (const Registration& r : registrations_) {
    if (r.port == port) return &r;
  }
  return nullptr;
}

bool Reservations::all_registrants() const {
  return holder_ && is_all_registrants(holder_->type);
}

// 5.12.10: for the all-registrants types every registered I_T nexus is a holder.
bool Reservations::holds(const InitiatorPort& port) const {
  if (!holder_) return false;
  if (all_registrants()) return find(port) != nullptr;
  return holder_->port == port;
}

std::uint64_t Reservations::reservation_key() const {
  if (!holder_ || all_registrants()) return 0;
  const Registration* r = find(holder_->port);
  return r ? r->key : 0;
}

bool Reservations::active() const {
  return !registrations_.empty() || holder_.has_value() || spc2_holder_.has_value();
}

// 5.12.1 tables of commands allowed in the presence of reservations: the holder may do
// anything; Write Exclusive types stop writes from others, Exclusive Access types reads too; the
// registrants-only and all-registrants types let registered I_T nexuses through.
bool Reservations::conflicts(const InitiatorPort& port, ReservationAccess access,
                             bool spc2_allowed) const {
  if (spc2_holder_ && !(*spc2_holder_ == port) && !spc2_allowed) return true;
  if (!holder_ || access == ReservationAccess::allowed || holds(port)) return false;
  const PrType type = holder_->type;
  if ((is_registrants_only(type) || is_all_registrants(type)) && find(port) != nullptr) {
    return false;
  }
  if (access == ReservationAccess::write) return true;
  return is_exclusive_access(type);
}

void Reservations::notify_registrants(std::vector<PrUnitAttention>& out,
                                      const InitiatorPort& except, std::uint8_t ascq) const {
  for (const Registration& r : registrations_) {
    if (!(r.port == except)) out.push_back({r.port, ascq});
  }
}

std::vector<InitiatorPort> Reservations::remove_with_key(std::uint64_t key,
                                                         const InitiatorPort* keep) {
  std::vector<InitiatorPort> removed;
  std::erase_if(registrations_, [&](const Registration& r) {
    if (r.key != key || (keep && r.port == *keep)) return false;
    removed.push_back(r.port);
    return true;
  });
  return removed;
}

void Reservations::drop_orphaned_reservation() {
  if (!holder_) return;
  if (all_registrants() ? registrations_.empty() : find(holder_->port) == nullptr) {
    holder_.reset();
  }
}

// ---- PERSISTENT RESERVE OUT ------------------------------------------------------------------

PrResult Reservations::out(const InitiatorPort& port, const PrOutRequest& r) {
  switch (r.action) {
    case scsi::PrOutAction::register_key:
    case scsi::PrOutAction::register_and_ignore_existing_key:
      return do_register(port, r);
    case scsi::PrOutAction::reserve:
      return do_reserve(port, r);
    case scsi::PrOutAction::release:
      return do_release(port, r);
    case scsi::PrOutAction::clear:
      return do_clear(port, r);
    case scsi::PrOutAction::preempt:
    case scsi::PrOutAction::preempt_and_abort:
      return do_preempt(port, r);
    case scsi::PrOutAction::register_and_move:
      break;
  }
  auto s = scsi::make_sense(scsi::SenseKey::illegal_request, 0x24, 0x00);
  s.sense_key_specific = scsi::SenseKeySpecific::field(true, 1, 4);
  return check(s);
}

// 5.12.7 (REGISTER) and 5.12.8 (REGISTER AND IGNORE EXISTING KEY).
PrResult Reservations::do_register(const InitiatorPort& port, const PrOutRequest& r) {
  const bool ignore = r.action == scsi::PrOutAction::register_and_ignore_existing_key;
  auto it = std::find_if(registrations_.begin(), registrations_.end(),
                         [&](const Registration& x) { return x.port == port; });
  if (it == registrations_.end()) {
    if (!ignore && r.key != 0) return conflict();
    if (r.sa_key == 0) return good();  // unregistering an unregistered nexus: nothing to do
    registrations_.push_back({port, r.sa_key, r.all_tg_pt});
    aptpl_ = r.aptpl;
    ++generation_;
    return good();
  }
  if (!ignore && r.key != it->key) return conflict();
  ++generation_;
  if (r.sa_key != 0) {
    it->key = r.sa_key;  // a holder's reservation key follows its registration
    aptpl_ = r.aptpl;
    return good();
  }
  // Unregister (5.12.11.2.2): a holder of a non-all-registrants reservation releases it, with
  // RESERVATIONS RELEASED to the other registrants for the registrants-only types.
  PrResult result;
  registrations_.erase(it);
  if (holder_ && !all_registrants() && holder_->port == port) {
    const PrType type = holder_->type;
    holder_.reset();
    if (is_registrants_only(type)) {
      notify_registrants(result.attentions, port, kReservationsReleased);
    }
  }
  drop_orphaned_reservation();
  return result;
}

// 5.12.9: only a registered I_T nexus with its own key may reserve; holding the same
// reservation again is not an error, anything else while reserved conflicts.
PrResult Reservations::do_reserve(const InitiatorPort& port, const PrOutRequest& r) {
  const Registration* me = find(port);
  if (me == nullptr || me->key != r.key) return conflict();
  if (holder_) {
    if (holds(port) && holder_->type == r.type && r.scope == 0) return good();
    return conflict();
  }
  holder_ = Holder{port, r.type};
  return good();
}

// 5.12.11.2: a non-holder's RELEASE does nothing; the holder must name the right scope and type.
PrResult Reservations::do_release(const InitiatorPort& port, const PrOutRequest& r) {
  const Registration* me = find(port);
  if (me == nullptr || me->key != r.key) return conflict();
  if (!holder_ || !holds(port)) return good();
  if (holder_->type != r.type || r.scope != 0) {
    return check(scsi::make_sense(scsi::SenseKey::illegal_request, 0x26, 0x04));
  }
  PrResult result;
  const PrType type = holder_->type;
  holder_.reset();
  if (type != PrType::write_exclusive && type != PrType::exclusive_access) {
    notify_registrants(result.attentions, port, kReservationsReleased);
  }
  return result;
}

// 5.12.11.3: drops every registration and the reservation; the others learn RESERVATIONS
// PREEMPTED.
PrResult Reservations::do_clear(const InitiatorPort& port, const PrOutRequest& r) {
  const Registration* me = find(port);
  if (me == nullptr || me->key != r.key) return conflict();
  PrResult result;
  notify_registrants(result.attentions, port, kReservationsPreempted);
  registrations_.clear();
  holder_.reset();
  ++generation_;
  return result;
}

// 5.12.11.4 PREEMPT (and PREEMPT AND ABORT; aborting the preempted nexuses' tasks is the
// engine's part, this state machine only changes registrations).
PrResult Reservations::do_preempt(const InitiatorPort& port, const PrOutRequest& r) {
  const Registration* me = find(port);
  if (me == nullptr || me->key != r.key) return conflict();
  auto sa_key_zero = [] {
    auto s = scsi::make_sense(scsi::SenseKey::illegal_request, 0x26, 0x00);
    s.sense_key_specific = scsi::SenseKeySpecific::field(false, 8, 7);
    return check(s);
  };
  PrResult result;
  auto preempted = [&](const std::vector<InitiatorPort>& ports) {
    for (const InitiatorPort& p : ports) {
      if (!(p == port)) result.attentions.push_back({p, kRegistrationsPreempted});
    }
  };

  if (!holder_) {
    // 5.12.11.4.2: no reservation, only registrations are removed.
    if (r.sa_key == 0) return sa_key_zero();
    const auto removed = remove_with_key(r.sa_key, nullptr);
    if (removed.empty()) return conflict();
    preempted(removed);
  } else if (all_registrants()) {
    // 5.12.11.4.4: key 0 preempts every other registrant and takes a new reservation.
    if (r.sa_key == 0) {
      std::vector<InitiatorPort> removed;
      std::erase_if(registrations_, [&](const Registration& x) {
        if (x.port == port) return false;
        removed.push_back(x.port);
        return true;
      });
      preempted(removed);
      holder_ = Holder{port, r.type};
    } else {
      const auto removed = remove_with_key(r.sa_key, nullptr);
      if (removed.empty()) return conflict();
      preempted(removed);
      drop_orphaned_reservation();
    }
  } else if (r.sa_key == reservation_key()) {
    // 5.12.11.4.3: preempting the holder moves the reservation to this nexus.
    const PrType old_type = holder_->type;
    const auto removed = remove_with_key(r.sa_key, &port);
    preempted(removed);
    holder_ = Holder{port, r.type};
    if (old_type != r.type) {
      for (const Registration& x : registrations_) {
        if (!(x.port == port)) result.attentions.push_back({x.port, kReservationsReleased});
      }
    }
  } else {
    // A key that is not the holder's: only those registrations go.
    if (r.sa_key == 0) return sa_key_zero();
    const auto removed = remove_with_key(r.sa_key, nullptr);
    if (removed.empty()) return conflict();
    preempted(removed);
    drop_orphaned_reservation();
  }
  ++generation_;
  return result;
}

// ---- PERSISTENT RESERVE IN -------------------------------------------------------------------

std::vector<std::byte> Reservations::read_keys() const {
  std::vector<std::uint64_t> keys;
  keys.reserve(registrations_.size());
  for (const Registration& r : registrations_)
    keys.push_back(r.key);
  return scsi::build_pr_read_keys(generation_, keys);
}

std::vector<std::byte> Reservations::read_reservation() const {
  scsi::PrReservation r;
  r.generation = generation_;
  if (holder_) {
    r.reserved = true;
    r.key = reservation_key();
    r.type = holder_->type;
  }
  return scsi::build_pr_read_reservation(r);
}

std::array<std::byte, 8> Reservations::report_capabilities() const {
  scsi::PrCapabilities c;
  c.atp_c = true;
  c.ptpl_c = true;
  c.tmv = true;
  c.ptpl_a = aptpl_;
  c.type_mask = scsi::pr_type_mask::kWriteExclusive | scsi::pr_type_mask::kExclusiveAccess |
                scsi::pr_type_mask::kWriteExclusiveRegistrantsOnly |
                scsi::pr_type_mask::kExclusiveAccessRegistrantsOnly |
                scsi::pr_type_mask::kWriteExclusiveAllRegistrants |
                scsi::pr_type_mask::kExclusiveAccessAllRegistrants;
  return scsi::build_pr_report_capabilities(c);
}

Result<std::vector<std::byte>> Reservations::read_full_status(
    std::uint16_t relative_target_port) const {
  std::vector<scsi::PrFullStatusDescriptor> list;
  list.reserve(registrations_.size());
  for (const Registration& r : registrations_) {
    scsi::PrFullStatusDescriptor d;
    d.key = r.key;
    d.all_tg_pt = r.all_tg_pt;
    d.reservation_holder = holds(r.port);
    if (d.reservation_holder) d.type = holder_->type;
    d.relative_target_port = relative_target_port;
    d.transport_id = scsi::make_iscsi_transport_id(r.port.name, r.port.isid);
    list.push_back(std::move(d));
  }
  return scsi::build_pr_read_full_status(generation_, list);
}

// ---- SPC-2 RESERVE / RELEASE -----------------------------------------------------------------

PrResult Reservations::reserve(const InitiatorPort& port) {
  if (!registrations_.empty() || holder_) return conflict();  // CRH = 0
  if (spc2_holder_ && !(*spc2_holder_ == port)) return conflict();
  spc2_holder_ = port;
  return good();
}

PrResult Reservations::release(const InitiatorPort& port) {
  if (!registrations_.empty() || holder_) return conflict();  // CRH = 0
  if (spc2_holder_ && *spc2_holder_ == port) spc2_holder_.reset();
  return good();  // releasing someone else's reservation, or none, does nothing
}

void Reservations::nexus_lost(const InitiatorPort& port) {
  if (spc2_holder_ && *spc2_holder_ == port) spc2_holder_.reset();
}

void Reservations::reset() {
  spc2_holder_.reset();
}

void Reservations::power_on() {
  spc2_holder_.reset();
  if (aptpl_) return;
  registrations_.clear();
  holder_.reset();
  generation_ = 0;
}

}  // namespace uiscsi::target
