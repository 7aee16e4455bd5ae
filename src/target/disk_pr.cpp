// DiskLu: PERSISTENT RESERVE IN/OUT (SPC-4 6.13-6.14) and RESERVE/RELEASE (6)/(10) (SPC-2
// 7.21-7.24): CDB and parameter list checks here, the state machine in reservations.cpp.
#include "target/disk_lu_impl.hpp"

namespace uiscsi::target {
namespace {

using Impl = DiskLu::Impl;

InitiatorPort port_of(const Nexus& n) {
  return InitiatorPort{n.initiator_name, n.isid};
}

}  // namespace

// PERSISTENT RESERVE IN: byte 1 SERVICE ACTION (0-3, others are refused by the command table);
// 7-8 ALLOCATION LENGTH.
ScsiResult Impl::persistent_reserve_in(const Command& c) {
  ScsiResult r;
  {
    std::lock_guard lock(state_mutex);
    switch (c.u8(1) & 0x1f) {
      case 0x00:
        r.data_in = reservations.read_keys();
        break;
      case 0x01:
        r.data_in = reservations.read_reservation();
        break;
      case 0x02: {
        const auto caps = reservations.report_capabilities();
        r.data_in.assign(caps.begin(), caps.end());
        break;
      }
      default: {
        auto full = reservations.read_full_status(config.relative_target_port);
        if (!full) return check(sense::make(scsi::SenseKey::hardware_error, 0x44, 0x00));
        r.data_in = std::move(*full);
        break;
      }
    }
  }
  limit(r, c.be16(7));
  return r;
}

// PERSISTENT RESERVE OUT: byte 1 SERVICE ACTION; byte 2 SCOPE 7-4, TYPE 3-0 (checked for the
// service actions that use them); 5-8 PARAMETER LIST LENGTH, which must be 24 without SPEC_I_PT
// (PARAMETER LIST LENGTH ERROR otherwise). Parameter list: 0-7 RESERVATION KEY, 8-15 SERVICE
// ACTION RESERVATION KEY, byte 20 SPEC_I_PT 3 (not supported), ALL_TG_PT 2, APTPL 0.
ScsiResult Impl::persistent_reserve_out(const Command& c) {
  const auto action = static_cast<scsi::PrOutAction>(c.u8(1) & 0x1f);
  const std::uint8_t scope = c.u8(2) >> 4;
  const std::uint8_t type = c.u8(2) & 0x0f;
  const bool uses_type =
      action == scsi::PrOutAction::reserve || action == scsi::PrOutAction::release ||
      action == scsi::PrOutAction::preempt || action == scsi::PrOutAction::preempt_and_abort;
  if (uses_type && scope != 0) return check(sense::invalid_cdb(2, 7));
  if (uses_type && !valid_pr_type(type)) return check(sense::invalid_cdb(2, 3));
  const std::uint32_t length = c.be32(5);
  if (length < 24 || c.in.data_out.size() < 24) return check(sense::parameter_list_length());
  const auto params = c.in.data_out.first(24);
  const auto flags = std::to_integer<std::uint8_t>(params[20]);
  if ((flags & 0x08) != 0) return check(sense::invalid_param(20, 3));
  if (length != 24) return check(sense::parameter_list_length());

  PrOutRequest request;
  request.action = action;
  request.scope = scope;
  request.type = static_cast<scsi::PrType>(type);
  request.key = core::load_be64(params.data());
  request.sa_key = core::load_be64(params.data() + 8);
  request.all_tg_pt = (flags & 0x04) != 0;
  request.aptpl = (flags & 0x01) != 0;

  std::lock_guard lock(state_mutex);
  const PrResult result = reservations.out(port_of(c.in.nexus), request);
  for (const PrUnitAttention& ua : result.attentions)
    post_port(ua.port, {0x2a, ua.ascq});
  refresh_gate();
  switch (result.status) {
    case PrResult::Status::good:
      return ScsiResult::good();
    case PrResult::Status::conflict:
      return conflict();
    case PrResult::Status::check_condition:
      break;
  }
  return check(result.sense);
}

// RESERVE (6)/(10): the (10) form's 3RDPTY (byte 1 bit 4) is not supported.
ScsiResult Impl::reserve(const Command& c) {
  if (c.cdb.size() == 10 && (c.u8(1) & 0x10) != 0) return check(sense::invalid_cdb(1, 4));
  std::lock_guard lock(state_mutex);
  const PrResult result = reservations.reserve(port_of(c.in.nexus));
  refresh_gate();
  return result.status == PrResult::Status::good ? ScsiResult::good() : conflict();
}

// RELEASE (6)/(10): releasing a reservation this nexus does not hold does nothing.
ScsiResult Impl::release(const Command& c) {
  if (c.cdb.size() == 10 && (c.u8(1) & 0x10) != 0) return check(sense::invalid_cdb(1, 4));
  std::lock_guard lock(state_mutex);
  const PrResult result = reservations.release(port_of(c.in.nexus));
  refresh_gate();
  return result.status == PrResult::Status::good ? ScsiResult::good() : conflict();
}

}  // namespace uiscsi::target
