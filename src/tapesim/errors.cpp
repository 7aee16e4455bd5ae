// The "tapesim" error category (errors.hpp).
#include "tapesim/errors.hpp"

#include <string>

namespace uiscsi::tapesim {
namespace {

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tapesim"; }
  std::string message(int ev) const override {
    switch (static_cast<tapesim_errc>(ev)) {
      case tapesim_errc::image_not_a_tape:
        return "not a tape image (bad magic)";
      case tapesim_errc::image_version:
        return "tape image format version not supported";
      case tapesim_errc::image_corrupt:
        return "tape image corrupt (checksum or field mismatch)";
      case tapesim_errc::image_truncated:
        return "tape image truncated";
      case tapesim_errc::image_busy:
        return "tape image in use by another process";
      case tapesim_errc::image_exists:
        return "tape image already exists";
      case tapesim_errc::data_corrupt:
        return "record data corrupt";
      case tapesim_errc::volume_overflow:
        return "end of partition reached";
      case tapesim_errc::write_protected:
        return "cartridge write protected";
      case tapesim_errc::invalid_geometry:
        return "invalid tape geometry";
      case tapesim_errc::no_medium:
        return "no cartridge in the drive";
      case tapesim_errc::medium_present:
        return "a cartridge is already in the drive";
      case tapesim_errc::removal_prevented:
        return "medium removal prevented";
    }
    return "unknown tapesim error " + std::to_string(ev);
  }
};

}  // namespace

const std::error_category& tapesim_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(tapesim_errc e) noexcept {
  return {static_cast<int>(e), tapesim_category()};
}

}  // namespace uiscsi::tapesim
