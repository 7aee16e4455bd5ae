// The sense data the simulated drive returns (internal to src/tapesim). ASC/ASCQ values are the
// T10 assignments (SPC-4 annex D); stream-command bits and INFORMATION follow SSC-3 (READ,
// WRITE, SPACE, WRITE FILEMARKS descriptions). Always fixed format (70h) on the wire.
#pragma once

#include <cstdint>

#include "uiscsi/scsi/sense.hpp"

namespace uiscsi::tapesim::sense {

using scsi::SenseData;
using scsi::SenseKey;

SenseData make(SenseKey key, std::uint8_t asc, std::uint8_t ascq);

// ---- ILLEGAL REQUEST (field pointers per SPC-4 sense key specific data) ----
SenseData invalid_opcode();                                 // 20/00
SenseData invalid_cdb(std::uint16_t byte, int bit = -1);    // 24/00, C/D = 1
SenseData invalid_param(std::uint16_t byte, int bit = -1);  // 26/00, C/D = 0
SenseData parameter_list_length();                          // 1A/00
SenseData saving_not_supported();                           // 39/00
SenseData removal_prevented();                              // 53/02
SenseData invalid_partition(std::uint16_t byte);            // 24/00 on the PARTITION field

// ---- NOT READY ----
SenseData medium_not_present();             // 02/3A/00
SenseData becoming_ready();                 // 02/04/01
SenseData initializing_command_required();  // 02/04/02 (unloaded, held in the drive)

// ---- UNIT ATTENTION ----
SenseData unit_attention(std::uint8_t asc, std::uint8_t ascq);

// ---- stream conditions; INFORMATION is the residue (requested minus actual), signed ----
// FILEMARK DETECTED 00/01, NO SENSE, FM = 1.
SenseData filemark(std::int64_t residue);
// SETMARK DETECTED 00/03, NO SENSE, FM = 1 (reported only with RSMK).
SenseData setmark(std::int64_t residue);
// END-OF-DATA DETECTED 00/05, BLANK CHECK; EOM when at or beyond early warning.
SenseData end_of_data(std::int64_t residue, bool eom, bool valid = true);
// BEGINNING-OF-PARTITION/MEDIUM DETECTED 00/04, NO SENSE, EOM = 1.
SenseData beginning_of_partition(std::int64_t residue, bool valid = true);
// Incorrect length 00/00, NO SENSE, ILI = 1.
SenseData incorrect_length(std::int64_t residue);
// Early warning: END-OF-PARTITION/MEDIUM DETECTED 00/02, NO SENSE, EOM = 1: the data was written.
SenseData early_warning(std::int64_t residue);
// Hard end: END-OF-PARTITION/MEDIUM DETECTED 00/02, VOLUME OVERFLOW, EOM = 1.
SenseData volume_overflow(std::int64_t residue);
// BLANK CHECK 00/05 for LOCATE past end of data (no INFORMATION).
SenseData locate_end_of_data();

// ---- DATA PROTECT / MEDIUM ERROR / HARDWARE ERROR ----
SenseData write_protected(bool software);  // 07/27/00 cartridge, 07/27/02 software (SWP)
SenseData cannot_write_format();           // 07/30/05 CANNOT WRITE MEDIUM - INCOMPATIBLE FORMAT
SenseData cannot_read_format();            // 03/30/02 CANNOT READ MEDIUM - INCOMPATIBLE FORMAT
SenseData unrecovered_read(std::int64_t residue);  // 03/11/00
SenseData cannot_decompress();                     // 03/11/0E (DDE = 0 on compressed data)
SenseData write_error();                           // 03/0C/00
SenseData internal_failure();                      // 04/44/00

}  // namespace uiscsi::tapesim::sense
