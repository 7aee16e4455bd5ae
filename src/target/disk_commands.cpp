// The command table of DiskLu and REPORT SUPPORTED OPERATION CODES (SPC-4 6.35), which lists
// exactly this table.
//
// Per command: CDB length, handler, whether unit attentions are held back (SAM-5 5.14), how it
// fares under reservations (SPC-4 5.12.1 and SPC-2 7.21 tables, SBC-3 table "SBC commands
// that are allowed in the presence of various reservations"), the command timeouts reported
// with RCTD, and the CDB USAGE DATA: the opcode, then per byte the bits the device server looks
// at (service actions as their value, SPC-4 6.35.3).
#include <algorithm>

#include "target/disk_lu_impl.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::target {
namespace {

using Impl = DiskLu::Impl;
using U = std::array<std::uint8_t, 16>;

// Kept sorted by opcode (then service action): find_command indexes it by opcode.
const CommandInfo kCommands[] = {
    // opcode, SA, length, handler, ua_exempt, reservations, spc2_allowed, thin_only,
    // timeouts (nominal, recommended), usage
    {0x00, -1, 6, &Impl::test_unit_ready, false, PrClass::allowed, false, false, 1, 30,
     U{0x00, 0, 0, 0, 0, 0x04}},
    {0x03, -1, 6, &Impl::request_sense, true, PrClass::allowed, true, false, 1, 30,
     U{0x03, 0x01, 0, 0, 0xff, 0x04}},
    {0x08, -1, 6, &Impl::read, false, PrClass::read, false, false, 1, 30,
     U{0x08, 0x1f, 0xff, 0xff, 0xff, 0x04}},
    {0x0a, -1, 6, &Impl::write, false, PrClass::write, false, false, 1, 30,
     U{0x0a, 0x1f, 0xff, 0xff, 0xff, 0x04}},
    {0x12, -1, 6, &Impl::inquiry, true, PrClass::allowed, true, false, 1, 30,
     U{0x12, 0x03, 0xff, 0xff, 0xff, 0x04}},
    {0x15, -1, 6, &Impl::mode_select, false, PrClass::write, false, false, 1, 30,
     U{0x15, 0x11, 0, 0, 0xff, 0x04}},
    {0x16, -1, 6, &Impl::reserve, false, PrClass::allowed, true, false, 1, 30,
     U{0x16, 0, 0, 0, 0, 0x04}},
    {0x17, -1, 6, &Impl::release, false, PrClass::allowed, true, false, 1, 30,
     U{0x17, 0, 0, 0, 0, 0x04}},
    {0x1a, -1, 6, &Impl::mode_sense, false, PrClass::read, false, false, 1, 30,
     U{0x1a, 0x08, 0xff, 0xff, 0xff, 0x04}},
    {0x1b, -1, 6, &Impl::start_stop_unit, false, PrClass::start_stop, false, false, 1, 30,
     U{0x1b, 0x01, 0, 0x0f, 0xf7, 0x04}},
    {0x1e, -1, 6, &Impl::prevent_allow, false, PrClass::prevent, false, false, 1, 30,
     U{0x1e, 0, 0, 0, 0x03, 0x04}},
    {0x25, -1, 10, &Impl::read_capacity10, false, PrClass::allowed, true, false, 1, 30,
     U{0x25, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0x01, 0x04}},
    {0x28, -1, 10, &Impl::read, false, PrClass::read, false, false, 1, 30,
     U{0x28, 0x1a, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x04}},
    {0x2a, -1, 10, &Impl::write, false, PrClass::write, false, false, 1, 30,
     U{0x2a, 0x1a, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x04}},
    {0x2e, -1, 10, &Impl::write_and_verify, false, PrClass::write, false, false, 1, 30,
     U{0x2e, 0x16, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x04}},
    {0x2f, -1, 10, &Impl::verify, false, PrClass::read, false, false, 1, 30,
     U{0x2f, 0x16, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x04}},
    {0x34, -1, 10, &Impl::prefetch, false, PrClass::read, false, false, 1, 30,
     U{0x34, 0x02, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x04}},
    {0x35, -1, 10, &Impl::synchronize_cache, false, PrClass::write, false, false, 10, 120,
     U{0x35, 0x02, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x04}},
    {0x41, -1, 10, &Impl::write_same, false, PrClass::write, false, false, 10, 120,
     U{0x41, 0x08, 0xff, 0xff, 0xff, 0xff, 0x1f, 0xff, 0xff, 0x04}},
    {0x42, -1, 10, &Impl::unmap, false, PrClass::write, false, true, 10, 120,
     U{0x42, 0, 0, 0, 0, 0, 0x1f, 0xff, 0xff, 0x04}},
    {0x55, -1, 10, &Impl::mode_select, false, PrClass::write, false, false, 1, 30,
     U{0x55, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, 0x04}},
    {0x56, -1, 10, &Impl::reserve, false, PrClass::allowed, true, false, 1, 30,
     U{0x56, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x04}},
    {0x57, -1, 10, &Impl::release, false, PrClass::allowed, true, false, 1, 30,
     U{0x57, 0x10, 0, 0, 0, 0, 0, 0, 0, 0x04}},
    {0x5a, -1, 10, &Impl::mode_sense, false, PrClass::read, false, false, 1, 30,
     U{0x5a, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0x04}},
    {0x5e, 0x00, 10, &Impl::persistent_reserve_in, false, PrClass::allowed, false, false, 1, 30,
     U{0x5e, 0x00, 0, 0, 0, 0, 0, 0xff, 0xff, 0x04}},
    {0x5e, 0x01, 10, &Impl::persistent_reserve_in, false, PrClass::allowed, false, false, 1, 30,
     U{0x5e, 0x01, 0, 0, 0, 0, 0, 0xff, 0xff, 0x04}},
    {0x5e, 0x02, 10, &Impl::persistent_reserve_in, false, PrClass::allowed, false, false, 1, 30,
     U{0x5e, 0x02, 0, 0, 0, 0, 0, 0xff, 0xff, 0x04}},
    {0x5e, 0x03, 10, &Impl::persistent_reserve_in, false, PrClass::allowed, false, false, 1, 30,
     U{0x5e, 0x03, 0, 0, 0, 0, 0, 0xff, 0xff, 0x04}},
    {0x5f, 0x00, 10, &Impl::persistent_reserve_out, false, PrClass::allowed, false, false, 1, 30,
     U{0x5f, 0x00, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x04}},
    {0x5f, 0x01, 10, &Impl::persistent_reserve_out, false, PrClass::allowed, false, false, 1, 30,
     U{0x5f, 0x01, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x04}},
    {0x5f, 0x02, 10, &Impl::persistent_reserve_out, false, PrClass::allowed, false, false, 1, 30,
     U{0x5f, 0x02, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x04}},
    {0x5f, 0x03, 10, &Impl::persistent_reserve_out, false, PrClass::allowed, false, false, 1, 30,
     U{0x5f, 0x03, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x04}},
    {0x5f, 0x04, 10, &Impl::persistent_reserve_out, false, PrClass::allowed, false, false, 1, 30,
     U{0x5f, 0x04, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x04}},
    {0x5f, 0x05, 10, &Impl::persistent_reserve_out, false, PrClass::allowed, false, false, 1, 30,
     U{0x5f, 0x05, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x04}},
    {0x5f, 0x06, 10, &Impl::persistent_reserve_out, false, PrClass::allowed, false, false, 1, 30,
     U{0x5f, 0x06, 0xff, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x04}},
    {0x88, -1, 16, &Impl::read, false, PrClass::read, false, false, 1, 30,
     U{0x88, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f,
       0x04}},
    {0x89, -1, 16, &Impl::compare_and_write, false, PrClass::write, false, false, 1, 30,
     U{0x89, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0xff, 0x1f, 0x04}},
    {0x8a, -1, 16, &Impl::write, false, PrClass::write, false, false, 1, 30,
     U{0x8a, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f,
       0x04}},
    {0x8e, -1, 16, &Impl::write_and_verify, false, PrClass::write, false, false, 1, 30,
     U{0x8e, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f,
       0x04}},
    {0x8f, -1, 16, &Impl::verify, false, PrClass::read, false, false, 1, 30,
     U{0x8f, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f,
       0x04}},
    {0x90, -1, 16, &Impl::prefetch, false, PrClass::read, false, false, 1, 30,
     U{0x90, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f,
       0x04}},
    {0x91, -1, 16, &Impl::synchronize_cache, false, PrClass::write, false, false, 10, 120,
     U{0x91, 0x02, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f,
       0x04}},
    {0x93, -1, 16, &Impl::write_same, false, PrClass::write, false, false, 10, 120,
     U{0x93, 0x09, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f,
       0x04}},
    {0x9e, 0x10, 16, &Impl::read_capacity16, false, PrClass::allowed, true, false, 1, 30,
     U{0x9e, 0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
       0x04}},
    {0x9e, 0x12, 16, &Impl::get_lba_status, false, PrClass::read, false, false, 1, 30,
     U{0x9e, 0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0,
       0x04}},
    {0xa0, -1, 12, &Impl::report_luns, true, PrClass::allowed, true, false, 1, 30,
     U{0xa0, 0, 0xff, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0x04}},
    {0xa3, 0x0c, 12, &Impl::report_supported_opcodes, false, PrClass::read, false, false, 1, 30,
     U{0xa3, 0x0c, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0x04}},
    {0xa8, -1, 12, &Impl::read, false, PrClass::read, false, false, 1, 30,
     U{0xa8, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x04}},
    {0xaa, -1, 12, &Impl::write, false, PrClass::write, false, false, 1, 30,
     U{0xaa, 0x1a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x04}},
    {0xae, -1, 12, &Impl::write_and_verify, false, PrClass::write, false, false, 1, 30,
     U{0xae, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x04}},
    {0xaf, -1, 12, &Impl::verify, false, PrClass::read, false, false, 1, 30,
     U{0xaf, 0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x04}},
};

// First table index of each opcode, -1 for unsupported ones.
const std::array<std::int16_t, 256>& opcode_index() {
  static const std::array<std::int16_t, 256> index = [] {
    std::array<std::int16_t, 256> x{};
    x.fill(-1);
    for (std::size_t i = std::size(kCommands); i-- > 0;)
      x[kCommands[i].opcode] = static_cast<std::int16_t>(i);
    return x;
  }();
  return index;
}

bool listed(const CommandInfo& c, bool thin) {
  return !c.thin_only || thin;
}

// The usage data as reported: without thin provisioning the UNMAP bit of WRITE SAME is not used.
std::vector<std::uint8_t> usage_of(const CommandInfo& c, bool thin) {
  std::vector<std::uint8_t> u(c.usage.begin(), c.usage.begin() + c.cdb_length);
  if (!thin && (c.opcode == 0x41 || c.opcode == 0x93)) u[1] &= static_cast<std::uint8_t>(~0x08u);
  return u;
}

std::optional<scsi::CommandTimeouts> timeouts_of(const CommandInfo& c, bool rctd) {
  if (!rctd) return std::nullopt;
  return scsi::CommandTimeouts{c.nominal_timeout, c.recommended_timeout};
}

}  // namespace

CommandLookup find_command(std::uint8_t opcode, std::uint8_t service_action, bool thin) {
  const std::int16_t first = opcode_index()[opcode];
  if (first < 0) return {};
  CommandLookup r;
  for (auto i = static_cast<std::size_t>(first);
       i < std::size(kCommands) && kCommands[i].opcode == opcode; ++i) {
    const CommandInfo& c = kCommands[i];
    if (!listed(c, thin)) return {};
    r.opcode_known = true;
    if (c.service_action < 0 || c.service_action == service_action) {
      r.info = &c;
      return r;
    }
  }
  return r;
}

// REPORT SUPPORTED OPERATION CODES: byte 2 RCTD 7, REPORTING OPTIONS 2-0; byte 3 REQUESTED
// OPERATION CODE; 4-5 REQUESTED SERVICE ACTION; 6-9 ALLOCATION LENGTH.
ScsiResult DiskLu::Impl::report_supported_opcodes(const Command& c) {
  const bool rctd = (c.u8(2) & 0x80) != 0;
  const std::uint8_t options = c.u8(2) & 0x07;
  const std::uint8_t op = c.u8(3);
  const std::uint16_t sa = c.be16(4);
  ScsiResult r;
  if (options == 0) {
    std::vector<scsi::SupportedOpcode> all;
    for (const CommandInfo& info : kCommands) {
      if (!listed(info, thin)) continue;
      scsi::SupportedOpcode x;
      x.opcode = info.opcode;
      x.servactv = info.service_action >= 0;
      x.service_action = x.servactv ? static_cast<std::uint16_t>(info.service_action) : 0;
      x.cdb_length = info.cdb_length;
      x.timeouts = timeouts_of(info, rctd);
      all.push_back(x);
    }
    r.data_in = scsi::build_supported_opcodes(all);
    limit(r, c.be32(6));
    return r;
  }
  if (options > 3) return check(sense::invalid_cdb(2, 2));
  // 001b: by opcode, which must have no service actions; 010b: by opcode and service action,
  // which must have them; 011b: either (SPC-4 6.35.1).
  const CommandLookup found =
      find_command(op, sa > 0xff ? 0xff : static_cast<std::uint8_t>(sa), thin);
  const CommandInfo* first = nullptr;
  if (const std::int16_t i = opcode_index()[op]; i >= 0 && listed(kCommands[i], thin)) {
    first = &kCommands[static_cast<std::size_t>(i)];
  }
  const bool has_sa = first != nullptr && first->service_action >= 0;
  if ((options == 1 && has_sa) || (options == 2 && first != nullptr && !has_sa)) {
    return check(sense::invalid_cdb(2, 2));
  }
  scsi::SupportedOpcodeOne one;
  const CommandInfo* info = has_sa ? (sa <= 0xff ? found.info : nullptr) : first;
  if (info == nullptr) {
    one.support = scsi::opcode_support::kNotSupported;
  } else {
    one.support = scsi::opcode_support::kStandard;
    one.cdb_usage = usage_of(*info, thin);
    one.timeouts = timeouts_of(*info, rctd);
  }
  r.data_in = scsi::build_supported_opcode_one(one);
  limit(r, c.be32(6));
  return r;
}

}  // namespace uiscsi::target
