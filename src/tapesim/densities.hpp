// Density tables for the simulated drive: what REPORT DENSITY SUPPORT lists (SSC-3) and
// which density codes MODE SELECT accepts.
//
// Codes (T10 density code assignments as drives report them):
//   LTO:  58h LTO-5, 5Ah LTO-6, 5Ch LTO-7, 5Dh LTO-7 Type M (M8), 5Eh LTO-8, 60h LTO-9
//   DDS:  13h DDS, 24h DDS-2, 25h DDS-3, 26h DDS-4, 47h DAT-72, 48h DAT-160, 49h DAT-320
// Capacities are native (uncompressed) megabytes (10^6 bytes).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "uiscsi/scsi/data.hpp"

namespace uiscsi::tapesim {

// An LTO drive of `generation` (5..9): it writes its own and the previous generation and reads
// two back (LTO-5..7) or one back (LTO-8, LTO-9), as the LTO roadmap has it. The LTO-8 drive
// also writes LTO-7 Type M. The drive's own density is the default (DEFLT).
std::vector<scsi::DensityDescriptor> lto_densities(int generation);
// A DDS drive of `generation` (1..7: DDS, DDS-2, DDS-3, DDS-4, DAT-72, DAT-160, DAT-320):
// reads and writes its own and the two previous generations.
std::vector<scsi::DensityDescriptor> dds_densities(int generation);

// "LTO-5", "DDS-3", ... for known codes, "unknown" otherwise.
std::string_view density_name(std::uint8_t code) noexcept;
// Native capacity in bytes of a known density code, else 0.
std::uint64_t density_capacity(std::uint8_t code) noexcept;

}  // namespace uiscsi::tapesim
