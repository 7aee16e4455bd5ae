// Internal: ASC/ASCQ lookup shared by asc_ascq_name() and describe().
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace uiscsi::scsi::detail {

struct AscName {
  std::string_view name;
  bool ascq_is_number = false;  // a "NN" range: the ASCQ is a value (component, tag, algorithm)
};

AscName lookup_asc(std::uint8_t asc, std::uint8_t ascq) noexcept;

// Number of individually named ASC/ASCQ pairs, and the key (asc << 8 | ascq) of entry i, for
// tests that check the table is sorted and unique.
std::size_t asc_table_size() noexcept;
std::uint16_t asc_table_key(std::size_t i) noexcept;

}  // namespace uiscsi::scsi::detail
