// density_name(): names of the density codes of common tape formats. LTO codes from the LTO
// consortium's assignments as drives report them (SSC-3 REPORT DENSITY SUPPORT), DDS/DAT codes
// from the DDS drive manuals (e.g. 13h DDS, 24h DDS-2, 25h DDS-3, 26h DDS-4, 47h DAT-72).
#include <array>
#include <utility>

#include "uiscsi/tape/drive.hpp"

namespace uiscsi::tape {

std::string_view density_name(std::uint8_t code) noexcept {
  static constexpr std::array<std::pair<std::uint8_t, std::string_view>, 23> kNames{{
      {0x13, "DDS"},      {0x24, "DDS-2"},    {0x25, "DDS-3"},   {0x26, "DDS-4"},
      {0x47, "DAT-72"},   {0x48, "DAT-160"},  {0x49, "DAT-320"}, {0x40, "LTO-1"},
      {0x42, "LTO-2"},    {0x44, "LTO-3"},    {0x46, "LTO-4"},   {0x58, "LTO-5"},
      {0x5a, "LTO-6"},    {0x5c, "LTO-7"},    {0x5d, "LTO-7M8"}, {0x5e, "LTO-8"},
      {0x60, "LTO-9"},    {0x51, "3592J1A"},  {0x52, "3592E05"}, {0x53, "3592E06"},
      {0x1b, "DLT-35GB"}, {0x41, "DLT-40GB"}, {0x00, "default"},
  }};
  for (const auto& [c, name] : kNames)
    if (c == code) return name;
  return "unknown";
}

}  // namespace uiscsi::tape
