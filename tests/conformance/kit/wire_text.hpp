// Readable descriptions of PDUs for the UNH-IOL conformance tests: an assertion that fails names
// the PDU the way the test plan does ("Data-Out #3 of R2T 2: DataSN 2, F=1, offset 16384,
// 512 bytes, TTT 0x00000011") instead of printing two numbers.
#pragma once

#include <cstdio>
#include <string>

#include "core/pdu.hpp"

namespace uiscsi::testing::kit {

inline std::string hex32(std::uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

// "Data-Out #<index> of R2T <r2t>" (r2t < 0: unsolicited) with its fields.
inline std::string describe_data_out(const core::DataOut& d, std::size_t length, std::size_t index,
                                     int r2t) {
  std::string s = "Data-Out #" + std::to_string(index) +
                  (r2t < 0 ? std::string(" (unsolicited)") : " of R2T " + std::to_string(r2t)) +
                  ": DataSN " + std::to_string(d.data_sn) + ", F=" + (d.final ? "1" : "0") +
                  ", offset " + std::to_string(d.buffer_offset) + ", " + std::to_string(length) +
                  " bytes, ITT " + hex32(d.itt.value) + ", TTT " + hex32(d.ttt.value);
  return s;
}

// "Data-In #<index>: DataSN 2, F=1, S=1, A=0, offset 1024, 512 bytes, TTT 0xffffffff".
inline std::string describe_data_in(const core::DataIn& d, std::size_t length, std::size_t index) {
  return "Data-In #" + std::to_string(index) + ": DataSN " + std::to_string(d.data_sn) +
         ", F=" + (d.final ? "1" : "0") + ", S=" + (d.status_present ? "1" : "0") +
         ", A=" + (d.acknowledge ? "1" : "0") + ", offset " + std::to_string(d.buffer_offset) +
         ", " + std::to_string(length) + " bytes, ITT " + hex32(d.itt.value) + ", TTT " +
         hex32(d.ttt.value);
}

// "R2T R2TSN 1: offset 512, 512 bytes, TTT 0x00000003, ITT 0xa2a2a2a2".
inline std::string describe_r2t(const core::R2t& r) {
  return "R2T R2TSN " + std::to_string(r.r2t_sn) + ": offset " + std::to_string(r.buffer_offset) +
         ", " + std::to_string(r.desired_data_transfer_length) + " bytes, TTT " +
         hex32(r.ttt.value) + ", ITT " + hex32(r.itt.value);
}

}  // namespace uiscsi::testing::kit
