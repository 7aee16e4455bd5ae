// Sense data builders of the simulated drive (sense.hpp).
#include "tapesim/sense.hpp"

namespace uiscsi::tapesim::sense {
namespace {

SenseData with_info(SenseData s, std::int64_t residue) {
  s.information_valid = true;
  s.information = static_cast<std::uint64_t>(residue);
  return s;
}

SenseData illegal(std::uint8_t asc, std::uint8_t ascq, bool in_cdb, std::uint16_t byte, int bit) {
  SenseData s = make(SenseKey::illegal_request, asc, ascq);
  s.sense_key_specific = scsi::SenseKeySpecific::field(in_cdb, byte, bit);
  return s;
}

}  // namespace

SenseData make(SenseKey key, std::uint8_t asc, std::uint8_t ascq) {
  return scsi::make_sense(key, asc, ascq);
}

SenseData invalid_opcode() {
  return illegal(0x20, 0x00, true, 0, 7);
}
SenseData invalid_cdb(std::uint16_t byte, int bit) {
  return illegal(0x24, 0x00, true, byte, bit);
}
SenseData invalid_param(std::uint16_t byte, int bit) {
  return illegal(0x26, 0x00, false, byte, bit);
}
SenseData parameter_list_length() {
  return make(SenseKey::illegal_request, 0x1a, 0x00);
}
SenseData saving_not_supported() {
  return make(SenseKey::illegal_request, 0x39, 0x00);
}
SenseData removal_prevented() {
  return make(SenseKey::illegal_request, 0x53, 0x02);
}
SenseData invalid_partition(std::uint16_t byte) {
  return invalid_cdb(byte, 7);
}

SenseData medium_not_present() {
  return make(SenseKey::not_ready, 0x3a, 0x00);
}
SenseData becoming_ready() {
  return make(SenseKey::not_ready, 0x04, 0x01);
}
SenseData initializing_command_required() {
  return make(SenseKey::not_ready, 0x04, 0x02);
}

SenseData unit_attention(std::uint8_t asc, std::uint8_t ascq) {
  return make(SenseKey::unit_attention, asc, ascq);
}

SenseData filemark(std::int64_t residue) {
  SenseData s = with_info(make(SenseKey::no_sense, 0x00, 0x01), residue);
  s.filemark = true;
  return s;
}
SenseData setmark(std::int64_t residue) {
  SenseData s = with_info(make(SenseKey::no_sense, 0x00, 0x03), residue);
  s.filemark = true;
  return s;
}
SenseData end_of_data(std::int64_t residue, bool eom, bool valid) {
  SenseData s = make(SenseKey::blank_check, 0x00, 0x05);
  if (valid) s = with_info(s, residue);
  s.eom = eom;
  return s;
}
SenseData beginning_of_partition(std::int64_t residue, bool valid) {
  SenseData s = make(SenseKey::no_sense, 0x00, 0x04);
  if (valid) s = with_info(s, residue);
  s.eom = true;
  return s;
}
SenseData incorrect_length(std::int64_t residue) {
  SenseData s = with_info(make(SenseKey::no_sense, 0x00, 0x00), residue);
  s.ili = true;
  return s;
}
SenseData early_warning(std::int64_t residue) {
  SenseData s = with_info(make(SenseKey::no_sense, 0x00, 0x02), residue);
  s.eom = true;
  return s;
}
SenseData volume_overflow(std::int64_t residue) {
  SenseData s = with_info(make(SenseKey::volume_overflow, 0x00, 0x02), residue);
  s.eom = true;
  return s;
}
SenseData locate_end_of_data() {
  return make(SenseKey::blank_check, 0x00, 0x05);
}

SenseData write_protected(bool software) {
  return make(SenseKey::data_protect, 0x27, software ? 0x02 : 0x00);
}
SenseData cannot_write_format() {
  return make(SenseKey::data_protect, 0x30, 0x05);
}
SenseData cannot_read_format() {
  return make(SenseKey::medium_error, 0x30, 0x02);
}
SenseData unrecovered_read(std::int64_t residue) {
  return with_info(make(SenseKey::medium_error, 0x11, 0x00), residue);
}
SenseData cannot_decompress() {
  return make(SenseKey::medium_error, 0x11, 0x0e);
}
SenseData write_error() {
  return make(SenseKey::medium_error, 0x0c, 0x00);
}
SenseData internal_failure() {
  return make(SenseKey::hardware_error, 0x44, 0x00);
}

}  // namespace uiscsi::tapesim::sense
