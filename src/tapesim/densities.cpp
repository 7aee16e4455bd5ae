// Density tables (densities.hpp).
#include "tapesim/densities.hpp"

#include <algorithm>
#include <array>

namespace uiscsi::tapesim {
namespace {

struct Known {
  std::uint8_t code;
  std::string_view name;         // DENSITY NAME (8 characters at most)
  std::string_view description;  // DESCRIPTION (20 characters at most)
  std::string_view organization;
  std::uint32_t bits_per_mm;
  std::uint16_t width;  // tenths of a millimetre
  std::uint16_t tracks;
  std::uint32_t megabytes;
};

constexpr std::array<Known, 13> kKnown{{
    {0x58, "LTO-5", "Ultrium 5/16T", "LTO-CVE", 15142, 127, 1280, 1500000},
    {0x5a, "LTO-6", "Ultrium 6/16T", "LTO-CVE", 15143, 127, 2176, 2500000},
    {0x5c, "LTO-7", "Ultrium 7/32T", "LTO-CVE", 19107, 127, 3584, 6000000},
    {0x5d, "LTO-7M8", "Ultrium 7 Type M", "LTO-CVE", 19107, 127, 5376, 9000000},
    {0x5e, "LTO-8", "Ultrium 8/32T", "LTO-CVE", 20668, 127, 6656, 12000000},
    {0x60, "LTO-9", "Ultrium 9/32T", "LTO-CVE", 21600, 127, 8960, 18000000},
    {0x13, "DDS", "DDS 4mm DAT", "DDS", 2400, 38, 1, 2000},
    {0x24, "DDS-2", "DDS-2 4mm DAT", "DDS", 3200, 38, 1, 4000},
    {0x25, "DDS-3", "DDS-3 4mm DAT", "DDS", 4800, 38, 1, 12000},
    {0x26, "DDS-4", "DDS-4 4mm DAT", "DDS", 4800, 38, 1, 20000},
    {0x47, "DAT-72", "DAT 72 4mm", "DDS", 5300, 38, 1, 36000},
    {0x48, "DAT-160", "DAT 160 4mm", "DDS", 6300, 80, 1, 80000},
    {0x49, "DAT-320", "DAT 320 4mm", "DDS", 8700, 80, 1, 160000},
}};

const Known* find(std::uint8_t code) {
  const auto it =
      std::find_if(kKnown.begin(), kKnown.end(), [&](const Known& k) { return k.code == code; });
  return it == kKnown.end() ? nullptr : &*it;
}

scsi::DensityDescriptor describe(std::uint8_t code, bool writable, bool deflt) {
  const Known& k = *find(code);
  scsi::DensityDescriptor d;
  d.primary_density_code = code;
  d.secondary_density_code = code;
  d.wrtok = writable;
  d.deflt = deflt;
  d.bits_per_mm = k.bits_per_mm;
  d.media_width = k.width;
  d.tracks = k.tracks;
  d.capacity = k.megabytes;
  d.assigning_organization = std::string(k.organization);
  d.density_name = std::string(k.name);
  d.description = std::string(k.description);
  return d;
}

}  // namespace

std::vector<scsi::DensityDescriptor> lto_densities(int generation) {
  generation = std::clamp(generation, 5, 9);
  // Codes by generation; LTO-7 Type M is listed with LTO-8 drives only.
  const std::uint8_t code[] = {0, 0, 0, 0, 0, 0x58, 0x5a, 0x5c, 0x5e, 0x60};
  const int back = generation >= 8 ? 1 : 2;
  std::vector<scsi::DensityDescriptor> out;
  for (int g = std::max(5, generation - back); g <= generation; ++g) {
    out.push_back(describe(code[g], g >= generation - 1, g == generation));
    if (g == 7 && generation == 8) out.push_back(describe(0x5d, true, false));
  }
  return out;
}

std::vector<scsi::DensityDescriptor> dds_densities(int generation) {
  generation = std::clamp(generation, 1, 7);
  const std::uint8_t code[] = {0, 0x13, 0x24, 0x25, 0x26, 0x47, 0x48, 0x49};
  std::vector<scsi::DensityDescriptor> out;
  for (int g = std::max(1, generation - 2); g <= generation; ++g)
    out.push_back(describe(code[g], true, g == generation));
  return out;
}

std::string_view density_name(std::uint8_t code) noexcept {
  const Known* k = find(code);
  return k != nullptr ? k->name : std::string_view("unknown");
}

std::uint64_t density_capacity(std::uint8_t code) noexcept {
  const Known* k = find(code);
  return k != nullptr ? std::uint64_t{k->megabytes} * 1000000u : 0;
}

}  // namespace uiscsi::tapesim
