// The "tcmu" error category (uiscsi/tcmu/errors.hpp).
#include "uiscsi/tcmu/errors.hpp"

#include <string>

namespace uiscsi::tcmu {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tcmu"; }
  std::string message(int ev) const override {
    switch (static_cast<tcmu_errc>(ev)) {
      case tcmu_errc::bad_mailbox:
        return "TCMU mailbox unusable (version or ring geometry)";
      case tcmu_errc::ring_corrupt:
        return "TCMU command ring corrupt";
      case tcmu_errc::unknown_command:
        return "no outstanding TCMU command with this id";
      case tcmu_errc::already_completed:
        return "TCMU command already completed";
      case tcmu_errc::bad_entry:
        return "TCMU command entry points outside the mapping";
      case tcmu_errc::unknown_opcode:
        return "unknown TCMU entry opcode";
      case tcmu_errc::device_not_found:
        return "TCMU uio device not found";
      case tcmu_errc::bad_device_name:
        return "invalid TCMU device or handler name";
      case tcmu_errc::timed_out:
        return "TCMU event loop timed out";
      case tcmu_errc::cancelled:
        return "TCMU event loop cancelled";
    }
    return "unknown tcmu error " + std::to_string(ev);
  }
};

}  // namespace

const std::error_category& tcmu_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(tcmu_errc e) noexcept {
  return {static_cast<int>(e), tcmu_category()};
}

}  // namespace uiscsi::tcmu
