// Sense data of the simulated medium changer (internal to src/tapesim). ASC/ASCQ values are the
// T10 assignments (SPC-4 annex D) that SMC-3 uses for MOVE MEDIUM, POSITION TO ELEMENT and READ
// ELEMENT STATUS; all are ILLEGAL REQUEST. Field pointers follow SPC-4 4.5.2.4.2.
#pragma once

#include <cstdint>

#include "tapesim/sense.hpp"

namespace uiscsi::tapesim::sense {

// 21/01 INVALID ELEMENT ADDRESS, pointing at the CDB field that holds it.
inline SenseData invalid_element(std::uint16_t cdb_byte) {
  SenseData s = make(SenseKey::illegal_request, 0x21, 0x01);
  s.sense_key_specific = scsi::SenseKeySpecific::field(true, cdb_byte, 7);
  return s;
}
// 3B/0D MEDIUM DESTINATION ELEMENT FULL.
inline SenseData destination_full() {
  return make(SenseKey::illegal_request, 0x3b, 0x0d);
}
// 3B/0E MEDIUM SOURCE ELEMENT EMPTY.
inline SenseData source_empty() {
  return make(SenseKey::illegal_request, 0x3b, 0x0e);
}
// 53/03 MEDIUM REMOVAL PREVENTED BY DATA TRANSFER ELEMENT.
inline SenseData removal_prevented_by_drive() {
  return make(SenseKey::illegal_request, 0x53, 0x03);
}

}  // namespace uiscsi::tapesim::sense
