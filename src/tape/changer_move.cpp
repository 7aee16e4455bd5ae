// Changer: MOVE MEDIUM (SMC-3 6.6) and what is built on it (load, unload, transfer), INITIALIZE
// ELEMENT STATUS (6.2) and POSITION TO ELEMENT (6.7).
#include "tape/changer_impl.hpp"
#include "uiscsi/scsi/cdb.hpp"

namespace uiscsi::tape {
namespace {

using scsi::ElementType;

constexpr const char* kMove = "MOVE MEDIUM";

}  // namespace

Result<void> Changer::move(std::uint16_t source, std::uint16_t destination,
                           std::optional<std::uint16_t> transport) {
  Impl& c = *impl_;
  const std::uint16_t picker = transport.value_or(c.default_transport());
  return c.simple(kMove, scsi::move_medium(picker, source, destination), source, destination);
}

Result<void> Changer::load(std::size_t slot, std::size_t drive) {
  UISCSI_TRY(auto from, impl_->address_of(kMove, ElementType::storage, slot));
  UISCSI_TRY(auto to, impl_->address_of(kMove, ElementType::data_transfer, drive));
  return move(from, to);
}

Result<void> Changer::transfer(std::size_t from_slot, std::size_t to_slot) {
  UISCSI_TRY(auto from, impl_->address_of(kMove, ElementType::storage, from_slot));
  UISCSI_TRY(auto to, impl_->address_of(kMove, ElementType::storage, to_slot));
  return move(from, to);
}

// Without a slot, the destination comes from READ ELEMENT STATUS: the slot the cartridge came
// from (SVALID) when it is a storage element and empty, else the first empty slot. An empty
// drive is source_empty before any move is tried.
Result<std::size_t> Changer::unload(std::size_t drive, std::optional<std::size_t> slot) {
  Impl& c = *impl_;
  UISCSI_TRY(auto from, c.address_of(kMove, ElementType::data_transfer, drive));
  if (slot) {
    UISCSI_TRY(auto to, c.address_of(kMove, ElementType::storage, *slot));
    UISCSI_TRY_VOID(move(from, to));
    return *slot;
  }
  UISCSI_TRY(auto drives, c.elements_of(ElementType::data_transfer));
  UISCSI_TRY(auto slots, c.elements_of(ElementType::storage));
  const Element* d = nullptr;
  for (const auto& e : drives)
    if (e.address == from) d = &e;
  if (d == nullptr) return c.fail(kMove, make_error_code(tape_errc::no_such_element), from);
  if (!d->full) return c.fail(kMove, make_error_code(tape_errc::source_empty), from);
  const Element* target = nullptr;
  for (const auto& e : slots) {
    if (!e.full && d->source && e.address == *d->source) target = &e;
  }
  for (const auto& e : slots) {
    if (target == nullptr && !e.full) target = &e;
  }
  if (target == nullptr) return c.fail(kMove, make_error_code(tape_errc::no_empty_slot), from);
  const std::size_t index = target->index;
  UISCSI_TRY_VOID(move(from, target->address));
  return index;
}

Result<void> Changer::inventory() {
  return impl_->simple("INITIALIZE ELEMENT STATUS", scsi::initialize_element_status());
}

Result<void> Changer::position_to(std::uint16_t element, std::optional<std::uint16_t> transport) {
  Impl& c = *impl_;
  const std::uint16_t picker = transport.value_or(c.default_transport());
  return c.simple("POSITION TO ELEMENT", scsi::position_to_element(picker, element), std::nullopt,
                  element);
}

}  // namespace uiscsi::tape
