// Error codes of the tape simulator (src/tapesim).
//
// These are failures of the simulator's own API: an image file that cannot be used, a cartridge
// operation that is not possible right now. SCSI conditions (filemark, early warning, NOT READY,
// ILLEGAL REQUEST...) are never errors here: Drive reports them as sense data (see drive.hpp).
#pragma once

#include <system_error>

namespace uiscsi::tapesim {

enum class tapesim_errc {
  image_not_a_tape = 1,  // the file does not start with the image magic
  image_version,         // the image was written by a newer, unknown format version
  image_corrupt,         // a checksum or a field of the image is wrong
  image_truncated,       // the image ends inside its header or inside a frame
  image_busy,            // another process holds the image open (flock)
  image_exists,          // create_image on a path that already exists
  data_corrupt,          // a record's stored bytes fail their checksum or do not decompress
  volume_overflow,       // the object does not fit before the end of the partition
  write_protected,       // the cartridge is write protected
  invalid_geometry,      // capacity, partition sizes or limits out of range
  no_medium,             // no cartridge in the drive
  medium_present,        // a cartridge is already in the drive
  removal_prevented,     // PREVENT ALLOW MEDIUM REMOVAL forbids the removal
};

const std::error_category& tapesim_category() noexcept;
std::error_code make_error_code(tapesim_errc e) noexcept;

}  // namespace uiscsi::tapesim

template <>
struct std::is_error_code_enum<uiscsi::tapesim::tapesim_errc> : std::true_type {};
