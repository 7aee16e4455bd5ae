// Sense data the logical units return (internal to src/target). ASC/ASCQ values are from SPC-4
// annex D; sense key specific field pointers follow SPC-4 4.5.2.4.2.
#pragma once

#include <cstdint>
#include <system_error>

#include "uiscsi/scsi/sense.hpp"

namespace uiscsi::target::sense {

using scsi::SenseData;
using scsi::SenseKey;

inline SenseData make(SenseKey key, std::uint8_t asc, std::uint8_t ascq) {
  return scsi::make_sense(key, asc, ascq);
}

// ILLEGAL REQUEST with a field pointer: into the CDB (C/D = 1) or the parameter list. `bit` is
// the most significant bit of the field in error, -1 for a whole byte.
inline SenseData illegal(std::uint8_t asc, std::uint8_t ascq, bool in_cdb, std::uint16_t byte,
                         int bit) {
  SenseData s = make(SenseKey::illegal_request, asc, ascq);
  s.sense_key_specific = scsi::SenseKeySpecific::field(in_cdb, byte, bit);
  return s;
}

// 20/00 INVALID COMMAND OPERATION CODE, pointing at the OPERATION CODE byte.
inline SenseData invalid_opcode() {
  return illegal(0x20, 0x00, true, 0, 7);
}
// 24/00 INVALID FIELD IN CDB.
inline SenseData invalid_cdb(std::uint16_t byte, int bit = -1) {
  return illegal(0x24, 0x00, true, byte, bit);
}
// 26/00 INVALID FIELD IN PARAMETER LIST.
inline SenseData invalid_param(std::uint16_t byte, int bit = -1) {
  return illegal(0x26, 0x00, false, byte, bit);
}
// 1A/00 PARAMETER LIST LENGTH ERROR.
inline SenseData parameter_list_length() {
  return make(SenseKey::illegal_request, 0x1a, 0x00);
}
// 21/00 LOGICAL BLOCK ADDRESS OUT OF RANGE.
inline SenseData lba_out_of_range() {
  return make(SenseKey::illegal_request, 0x21, 0x00);
}
// 39/00 SAVING PARAMETERS NOT SUPPORTED.
inline SenseData saving_not_supported() {
  return make(SenseKey::illegal_request, 0x39, 0x00);
}
// DATA PROTECT: 27/00 WRITE PROTECTED, 27/02 SOFTWARE WRITE PROTECTED (the SWP bit).
inline SenseData write_protected(bool software) {
  return make(SenseKey::data_protect, 0x27, software ? 0x02 : 0x00);
}
// MISCOMPARE, 1D/00 MISCOMPARE DURING VERIFY OPERATION; INFORMATION is the offset of the first
// differing byte in the Data-Out buffer (SBC-3 5.2 and 5.33).
inline SenseData miscompare(std::uint64_t offset) {
  SenseData s = make(SenseKey::miscompare, 0x1d, 0x00);
  s.information_valid = true;
  s.information = offset;
  return s;
}
inline SenseData unit_attention(std::uint8_t asc, std::uint8_t ascq) {
  return make(SenseKey::unit_attention, asc, ascq);
}

// A BlockStore failure as sense data. Out of space is DATA PROTECT, SPACE ALLOCATION FAILED
// WRITE PROTECT (27/07, SBC-3 4.7.3.6); a read-only medium is WRITE PROTECTED; I/O errors are
// MEDIUM ERROR, UNRECOVERED READ ERROR (11/00) or WRITE ERROR (0C/00) with INFORMATION = the
// first LBA of the request; anything else is HARDWARE ERROR, INTERNAL TARGET FAILURE (44/00).
SenseData from_store_error(std::error_code ec, bool writing, std::uint64_t lba);

}  // namespace uiscsi::target::sense
