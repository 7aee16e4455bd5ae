// tape_category() and TapeError::message().
#include "uiscsi/tape/errors.hpp"

#include <string>

namespace uiscsi::tape {
namespace {

class TapeCategory final : public std::error_category {
 public:
  [[nodiscard]] const char* name() const noexcept override { return "uiscsi-tape"; }
  [[nodiscard]] std::string message(int ev) const override {
    switch (static_cast<tape_errc>(ev)) {
      case tape_errc::filemark:
        return "filemark detected";
      case tape_errc::setmark:
        return "setmark detected";
      case tape_errc::incorrect_length_short:
        return "record shorter than requested";
      case tape_errc::incorrect_length_long:
        return "record longer than requested";
      case tape_errc::early_warning:
        return "end of medium early warning";
      case tape_errc::beginning_of_partition:
        return "beginning of partition reached";
      case tape_errc::end_of_data:
        return "end of data (blank check)";
      case tape_errc::volume_overflow:
        return "volume overflow: data not written";
      case tape_errc::deferred_error:
        return "deferred error of an earlier command";
      case tape_errc::unit_attention:
        return "unit attention";
      case tape_errc::no_medium:
        return "no medium in the drive";
      case tape_errc::not_ready:
        return "drive not ready";
      case tape_errc::write_protected:
        return "medium is write protected";
      case tape_errc::medium_error:
        return "medium error";
      case tape_errc::hardware_error:
        return "hardware error";
      case tape_errc::illegal_request:
        return "illegal request";
      case tape_errc::aborted_command:
        return "command aborted by the drive";
      case tape_errc::other_sense:
        return "check condition";
      case tape_errc::no_sense_data:
        return "check condition without sense data";
      case tape_errc::busy:
        return "drive busy";
      case tape_errc::reservation_conflict:
        return "reservation conflict";
      case tape_errc::unexpected_status:
        return "unexpected SCSI status";
      case tape_errc::not_a_tape:
        return "not a sequential-access device";
      case tape_errc::not_ready_timeout:
        return "drive did not become ready";
      case tape_errc::position_lost:
        return "logical position lost";
      case tape_errc::invalid_block_size:
        return "invalid block size for this transfer";
      case tape_errc::write_failed_earlier:
        return "an earlier buffered write failed";
      case tape_errc::not_a_changer:
        return "not a media changer";
      case tape_errc::invalid_element:
        return "invalid element address";
      case tape_errc::source_empty:
        return "source element is empty";
      case tape_errc::destination_full:
        return "destination element is full";
      case tape_errc::removal_prevented:
        return "medium removal prevented";
      case tape_errc::no_such_element:
        return "no such slot or drive";
      case tape_errc::no_empty_slot:
        return "no empty slot";
    }
    return "unknown tape error";
  }
};

}  // namespace

const std::error_category& tape_category() noexcept {
  static const TapeCategory category;
  return category;
}

std::error_code make_error_code(tape_errc e) noexcept {
  return {static_cast<int>(e), tape_category()};
}

std::string TapeError::message() const {
  std::string out = "tape: ";
  if (!operation.empty()) out += operation + ": ";
  out += code.message();
  if (block) out += " at block " + std::to_string(*block);
  if (file) out += " (file " + std::to_string(*file) + ")";
  if (record) out += " (record " + std::to_string(*record) + ")";
  if (residue) out += ", residue " + std::to_string(*residue);
  if (sense) out += " (" + scsi::describe(*sense) + ")";
  return out;
}

}  // namespace uiscsi::tape
