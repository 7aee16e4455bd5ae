// Changer::Impl: the media changer driver's state and helpers (internal to src/tape).
//
// Files: changer.cpp (open, the element map, command helpers, errors), changer_status.cpp
// (READ ELEMENT STATUS), changer_move.cpp (MOVE MEDIUM and the commands built on it).
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "tape/sense_map.hpp"
#include "uiscsi/tape/changer.hpp"

namespace uiscsi::tape {

struct Changer::Impl {
  std::unique_ptr<Transport> transport;
  ChangerOptions options;
  scsi::InquiryData inquiry;
  scsi::ElementAddressAssignment map;
  bool voltag = true;  // cleared when the changer refuses VOLTAG
  std::optional<ChangerError> last_error;
  std::size_t data_in_bytes = 0;  // Data-In bytes of the last command()

  // ---- command helpers (changer.cpp) ----
  // Runs one command and classifies its outcome (sense_map.hpp, refined by
  // refine_for_changer). A command answered with UNIT ATTENTION did not run (SAM-5 5.14) and is
  // sent again, a few times. A transport failure is an error (recorded in last_error); a SCSI
  // condition is in the Condition.
  Result<detail::Condition> command(const char* op, const scsi::CommandSpec& spec,
                                    std::span<std::byte> data_in = {},
                                    std::optional<std::uint16_t> source = {},
                                    std::optional<std::uint16_t> destination = {});
  // Runs a command that must complete without any condition.
  Result<void> simple(const char* op, const scsi::CommandSpec& spec,
                      std::optional<std::uint16_t> source = {},
                      std::optional<std::uint16_t> destination = {});
  // Record the failure in last_error and return its code.
  std::error_code fail(const char* op, const detail::Condition& c,
                       std::optional<std::uint16_t> source = {},
                       std::optional<std::uint16_t> destination = {});
  std::error_code fail(const char* op, std::error_code code,
                       std::optional<std::uint16_t> source = {},
                       std::optional<std::uint16_t> destination = {});

  // ---- the element map (changer.cpp) ----
  Result<void> read_map();  // MODE SENSE page 1Dh, else discover_map()
  Result<void> discover_map();
  [[nodiscard]] const scsi::ElementRange& range_of(scsi::ElementType type) const;
  // The medium transport MOVE MEDIUM uses when the caller names none: the first one, or 0
  // (SMC-3 6.6: the default transport) when the map has none.
  [[nodiscard]] std::uint16_t default_transport() const;
  // Element address of index `i` of `type`; no_such_element (recorded for `op`) when outside.
  Result<std::uint16_t> address_of(const char* op, scsi::ElementType type, std::size_t i);

  // ---- READ ELEMENT STATUS (changer_status.cpp) ----
  // The elements of `type` from `first`, at most `count`, with volume tags when asked for and
  // allowed; index is left 0. Retries without VOLTAG once when the changer refuses it.
  Result<std::vector<scsi::ElementStatus>> read_status(scsi::ElementType type, std::uint16_t first,
                                                       std::uint16_t count);
  // One READ ELEMENT STATUS, sized from the header's BYTE COUNT OF REPORT AVAILABLE (at most
  // options.max_status_bytes); *cut is set when the report did not fit.
  Result<scsi::ElementStatusData> read_status_once(scsi::ElementType type, std::uint16_t first,
                                                   std::uint16_t count, bool with_voltag,
                                                   bool* cut = nullptr);
  Result<std::vector<Element>> elements_of(scsi::ElementType type);
};

namespace detail {
// The changer conditions SMC-3 defines for MOVE MEDIUM and friends (ASC/ASCQ of SPC-4 annex
// D), whatever the sense key: 21/01 invalid_element, 3B/0D destination_full, 3B/0E
// source_empty, 53/02 and 53/03 removal_prevented. Deferred errors and unit attentions keep
// their code. Other conditions are returned unchanged.
Condition refine_for_changer(Condition c);
}  // namespace detail

}  // namespace uiscsi::tape
