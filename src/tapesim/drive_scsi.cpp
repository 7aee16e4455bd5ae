// Drive: the SCSI entry point. The command table (which also answers REPORT SUPPORTED
// OPERATION CODES), the gate every command passes (unit attentions, reserved CDB bits,
// injected errors), and the CDB decoding of the stream and positioning commands, which then
// call the typed API.
//
// Gate order (SAM-5, SPC-4): a pending unit attention is reported first, to any command but
// INQUIRY and REQUEST SENSE; then an unknown OPERATION CODE (20/00) or SERVICE ACTION (24/00);
// then reserved bits: every CDB bit the CDB USAGE DATA below does not list must be 0 (24/00
// with a field pointer), the CONTROL byte excepted; then an injected error; then the command.
#include <algorithm>
#include <bit>

#include "tapesim/drive.hpp"
#include "tapesim/sense.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::tapesim {

struct Drive::CommandInfo {
  std::uint8_t opcode = 0;
  std::int16_t service_action = -1;  // -1: the opcode has no service actions
  std::uint8_t cdb_length = 0;
  Handler handler = nullptr;
  bool ua_exempt = false;                 // INQUIRY, REQUEST SENSE (SAM-5)
  std::uint32_t nominal_timeout = 0;      // seconds, reported with RCTD
  std::uint32_t recommended_timeout = 0;  // seconds
  std::array<std::uint8_t, 16> usage{};   // CDB USAGE DATA (SPC-4 REPORT SUPPORTED OP CODES)
};

namespace {

using U = std::array<std::uint8_t, 16>;

std::int64_t sign_extend24(std::uint32_t v) {
  return (v & 0x800000u) != 0 ? static_cast<std::int64_t>(v) - 0x1000000 : std::int64_t{v};
}

}  // namespace

// Sorted by opcode, then service action.
std::span<const Drive::CommandInfo> Drive::commands() {
  static const CommandInfo kCommands[] = {
      {0x00, -1, 6, &Drive::test_unit_ready, false, 1, 30, U{0x00, 0, 0, 0, 0, 0}},
      {0x01, -1, 6, &Drive::cmd_rewind, false, 60, 600, U{0x01, 0x01, 0, 0, 0, 0}},
      {0x03, -1, 6, &Drive::request_sense, true, 1, 30, U{0x03, 0x01, 0, 0, 0xff, 0}},
      {0x05, -1, 6, &Drive::read_block_limits, false, 1, 30, U{0x05, 0x01, 0, 0, 0, 0}},
      {0x08, -1, 6, &Drive::cmd_read, false, 60, 600, U{0x08, 0x03, 0xff, 0xff, 0xff, 0}},
      {0x0a, -1, 6, &Drive::cmd_write, false, 60, 600, U{0x0a, 0x01, 0xff, 0xff, 0xff, 0}},
      {0x10, -1, 6, &Drive::cmd_write_filemarks, false, 60, 600,
       U{0x10, 0x03, 0xff, 0xff, 0xff, 0}},
      {0x11, -1, 6, &Drive::cmd_space, false, 60, 3600, U{0x11, 0x0f, 0xff, 0xff, 0xff, 0}},
      {0x12, -1, 6, &Drive::inquiry, true, 1, 30, U{0x12, 0x03, 0xff, 0xff, 0xff, 0}},
      {0x15, -1, 6, &Drive::mode_select, false, 1, 60, U{0x15, 0x11, 0, 0, 0xff, 0}},
      {0x19, -1, 6, &Drive::cmd_erase, false, 60, 3600, U{0x19, 0x03, 0, 0, 0, 0}},
      {0x1a, -1, 6, &Drive::mode_sense, false, 1, 30, U{0x1a, 0x08, 0xff, 0xff, 0xff, 0}},
      {0x1b, -1, 6, &Drive::cmd_load_unload, false, 60, 600, U{0x1b, 0x01, 0, 0, 0x0f, 0}},
      {0x1e, -1, 6, &Drive::prevent_allow, false, 1, 30, U{0x1e, 0, 0, 0, 0x03, 0}},
      {0x2b, -1, 10, &Drive::cmd_locate, false, 60, 3600,
       U{0x2b, 0x07, 0, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0}},
      {0x34, 0x00, 10, &Drive::cmd_read_position, false, 1, 30,
       U{0x34, 0x00, 0, 0, 0, 0, 0, 0xff, 0xff, 0}},
      {0x34, 0x01, 10, &Drive::cmd_read_position, false, 1, 30,
       U{0x34, 0x01, 0, 0, 0, 0, 0, 0xff, 0xff, 0}},
      {0x34, 0x06, 10, &Drive::cmd_read_position, false, 1, 30,
       U{0x34, 0x06, 0, 0, 0, 0, 0, 0xff, 0xff, 0}},
      {0x34, 0x08, 10, &Drive::cmd_read_position, false, 1, 30,
       U{0x34, 0x08, 0, 0, 0, 0, 0, 0xff, 0xff, 0}},
      {0x44, -1, 10, &Drive::report_density_support, false, 1, 30,
       U{0x44, 0x03, 0, 0, 0, 0, 0, 0xff, 0xff, 0}},
      {0x4c, -1, 10, &Drive::log_select, false, 1, 30,
       U{0x4c, 0x03, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0}},
      {0x4d, -1, 10, &Drive::log_sense, false, 1, 30,
       U{0x4d, 0x03, 0xff, 0xff, 0, 0xff, 0xff, 0xff, 0xff, 0}},
      {0x55, -1, 10, &Drive::mode_select, false, 1, 60,
       U{0x55, 0x11, 0, 0, 0, 0, 0, 0xff, 0xff, 0}},
      {0x5a, -1, 10, &Drive::mode_sense, false, 1, 30,
       U{0x5a, 0x18, 0xff, 0xff, 0, 0, 0, 0xff, 0xff, 0}},
      {0x91, -1, 16, &Drive::cmd_space, false, 60, 3600,
       U{0x91, 0x0f, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0}},
      {0x92, -1, 16, &Drive::cmd_locate, false, 60, 3600,
       U{0x92, 0x3b, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}},
      {0xa3, 0x0c, 12, &Drive::cmd_report_supported_opcodes, false, 1, 30,
       U{0xa3, 0x0c, 0x87, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0}},
  };
  return kCommands;
}

// ---- results ---------------------------------------------------------------------------------

Response Drive::from(const Outcome& o) {
  Response r;
  if (o.sense) {
    r.status = scsi::Status::check_condition;
    r.sense = scsi::build_fixed_sense(*o.sense);
  }
  return r;
}

Response Drive::check(const scsi::SenseData& s) {
  Outcome o;
  o.sense = s;
  return from(o);
}

void Drive::limit(Response& r, std::size_t allocation_length) {
  if (r.data_in.size() > allocation_length) r.data_in.resize(allocation_length);
}

// ---- the gate --------------------------------------------------------------------------------

Response Drive::execute(std::span<const std::byte> cdb, std::span<const std::byte> data_out,
                        std::uint64_t nexus) {
  if (cdb.empty()) return check(sense::invalid_opcode());
  const auto byte = [&](std::size_t i) {
    return i < cdb.size() ? std::to_integer<std::uint8_t>(cdb[i]) : std::uint8_t{0};
  };
  const std::uint8_t op = byte(0);
  const CommandInfo* info = nullptr;
  bool opcode_known = false;
  for (const CommandInfo& c : commands()) {
    if (c.opcode != op) continue;
    opcode_known = true;
    if (c.service_action < 0 || c.service_action == (byte(1) & 0x1f)) {
      info = &c;
      break;
    }
  }
  (void)nexus_state(nexus);  // a nexus seen for the first time gets 29/00
  if (info == nullptr || !info->ua_exempt) {
    if (auto ua = take_attention(nexus)) return check(sense::unit_attention(ua->asc, ua->ascq));
  }
  if (!opcode_known) return check(sense::invalid_opcode());
  if (info == nullptr) return check(sense::invalid_cdb(1, 4));
  if (cdb.size() < info->cdb_length) return check(sense::invalid_cdb(0, 7));
  for (std::size_t i = 1; i + 1 < info->cdb_length; ++i) {
    const std::uint8_t allowed = (i == 1 && info->service_action >= 0) ? 0x1f : info->usage[i];
    if (const auto bad = static_cast<std::uint8_t>(byte(i) & ~allowed); bad != 0) {
      return check(sense::invalid_cdb(static_cast<std::uint16_t>(i), 7 - std::countl_zero(bad)));
    }
  }
  for (auto it = injected_.begin(); it != injected_.end(); ++it) {
    if (it->first == op) {
      const scsi::SenseData s = it->second;
      injected_.erase(it);
      return check(s);
    }
  }
  const Command c{cdb.first(info->cdb_length), data_out, nexus};
  return (this->*info->handler)(c);
}

// ---- stream and positioning commands ---------------------------------------------------------

// READ(6) (SSC-3): byte 1 SILI (bit 1), FIXED (bit 0); bytes 2-4 TRANSFER LENGTH. The data that
// was read goes with the sense.
Response Drive::cmd_read(const Command& c) {
  const bool fixed = (c.u8(1) & 0x01) != 0;
  const bool sili = (c.u8(1) & 0x02) != 0;
  const std::uint32_t count = c.be24(2);
  std::vector<std::byte> buffer(read_size(count, fixed));
  const Outcome o = read(buffer, count, fixed, sili);
  Response r = from(o);
  buffer.resize(o.transferred);
  r.data_in = std::move(buffer);
  return r;
}

// WRITE(6) (SSC-3): byte 1 FIXED (bit 0); bytes 2-4 TRANSFER LENGTH. The Data-Out must hold
// what the CDB asks for (else INVALID FIELD IN CDB on TRANSFER LENGTH, nothing written).
Response Drive::cmd_write(const Command& c) {
  const bool fixed = (c.u8(1) & 0x01) != 0;
  const std::uint32_t count = c.be24(2);
  Response r = from(write(c.data_out, count, fixed));
  r.data_out_length = fixed ? std::uint64_t{count} * block_size_ : count;
  return r;
}

// WRITE FILEMARKS(6) (SSC-3): byte 1 WSMK (bit 1), IMMED (bit 0, nothing to wait for);
// bytes 2-4 TRANSFER LENGTH.
Response Drive::cmd_write_filemarks(const Command& c) {
  return from(write_filemarks(c.be24(2), (c.u8(1) & 0x02) != 0));
}

// SPACE(6): byte 1 CODE (bits 3-0); bytes 2-4 COUNT (24-bit two's complement).
// SPACE(16): byte 1 CODE; bytes 4-11 COUNT; bytes 12-13 PARAMETER LENGTH (0: no parameter list).
Response Drive::cmd_space(const Command& c) {
  const bool six = c.cdb.size() == 6;
  const std::uint8_t code = c.u8(1) & 0x0f;
  if (code > static_cast<std::uint8_t>(scsi::SpaceCode::sequential_setmarks)) {
    return check(sense::invalid_cdb(1, 3));
  }
  if (!six && c.be16(12) != 0) return check(sense::invalid_cdb(12, 7));
  const std::int64_t count = six ? sign_extend24(c.be24(2)) : static_cast<std::int64_t>(c.be64(4));
  return from(space(static_cast<scsi::SpaceCode>(code), count));
}

Response Drive::cmd_rewind(const Command&) {
  return from(rewind());
}

// LOCATE(10): byte 1 BT (bit 2: identifiers are the same either way here), CP (bit 1), IMMED
// (bit 0); bytes 3-6 LOGICAL OBJECT IDENTIFIER; byte 8 PARTITION (with CP).
// LOCATE(16): byte 1 DEST_TYPE (bits 5-3), CP, IMMED; byte 2 BAM (bit 0: only implicit address
// mode, 0); byte 3 PARTITION; bytes 4-11 LOGICAL IDENTIFIER.
Response Drive::cmd_locate(const Command& c) {
  const bool ten = c.cdb.size() == 10;
  const bool cp = (c.u8(1) & 0x02) != 0;
  const std::uint8_t partition = ten ? c.u8(8) : c.u8(3);
  auto destination = scsi::LocateDestination::logical_object;
  if (!ten) {
    const std::uint8_t dest = (c.u8(1) >> 3) & 0x07;
    if (dest != 0 && dest != 1 && dest != 3) return check(sense::invalid_cdb(1, 5));
    if ((c.u8(2) & 0x01) != 0) return check(sense::invalid_cdb(2, 0));
    destination = static_cast<scsi::LocateDestination>(dest);
  }
  if (cp && ready() && partition >= medium_->partition_count()) {
    return check(sense::invalid_partition(ten ? 8 : 3));
  }
  const std::uint64_t id = ten ? c.be32(3) : c.be64(4);
  return from(locate(id, destination, cp ? std::optional<std::uint32_t>(partition) : std::nullopt));
}

// READ POSITION (SSC-3): byte 1 SERVICE ACTION: 00h / 01h short form (20 bytes; 32-bit
// identifiers, BPU when they do not fit), 06h long form (32 bytes; partition, object, file and
// set numbers), 08h extended form (32 bytes; cut to ALLOCATION LENGTH, bytes 7-8). Nothing is
// ever buffered, so the first and last positions are the same and the buffer counts 0.
Response Drive::cmd_read_position(const Command& c) {
  if (auto s = consume_ready()) return check(*s);
  const Position pos = *position();
  const auto form = static_cast<scsi::ReadPositionForm>(c.u8(1) & 0x1f);
  scsi::TapePosition t;
  t.bop = pos.bop;
  t.eop = pos.eop;
  t.partition = pos.partition;
  t.first_block = pos.object;
  t.last_block = pos.object;
  t.file_number = pos.file;
  t.set_number = pos.set;
  if ((form == scsi::ReadPositionForm::short_form ||
       form == scsi::ReadPositionForm::short_vendor) &&
      (pos.object > 0xffffffffu || pos.partition > 0xff)) {
    t.block_position_unknown = true;
    t.first_block = t.last_block = 0;
  }
  Response r;
  r.data_in = scsi::build_read_position(t, form);
  if (form == scsi::ReadPositionForm::extended_form) limit(r, c.be16(7));
  return r;
}

// ERASE(6) (SSC-3): byte 1 IMMED (bit 1), LONG (bit 0).
Response Drive::cmd_erase(const Command& c) {
  return from(erase((c.u8(1) & 0x01) != 0));
}

// LOAD UNLOAD (SSC-3): byte 1 IMMED (bit 0); byte 4 HOLD (bit 3), EOT (bit 2), RETEN (bit 1),
// LOAD (bit 0). EOT and RETEN change nothing on a virtual tape.
Response Drive::cmd_load_unload(const Command& c) {
  const std::uint8_t b4 = c.u8(4);
  if ((b4 & 0x01) != 0) return from(load_from(c.nexus));
  return from(unload((b4 & 0x08) != 0));
}

// REPORT SUPPORTED OPERATION CODES (SPC-4): byte 2 RCTD (bit 7), REPORTING OPTIONS (bits 2-0);
// byte 3 REQUESTED OPERATION CODE; bytes 4-5 REQUESTED SERVICE ACTION; 6-9 ALLOCATION LENGTH.
Response Drive::cmd_report_supported_opcodes(const Command& c) {
  const bool rctd = (c.u8(2) & 0x80) != 0;
  const std::uint8_t options = c.u8(2) & 0x07;
  const std::uint8_t op = c.u8(3);
  const std::uint16_t sa = c.be16(4);
  auto timeouts = [&](const CommandInfo& info) -> std::optional<scsi::CommandTimeouts> {
    if (!rctd) return std::nullopt;
    return scsi::CommandTimeouts{info.nominal_timeout, info.recommended_timeout};
  };
  Response r;
  if (options == 0) {
    std::vector<scsi::SupportedOpcode> all;
    for (const CommandInfo& info : commands()) {
      scsi::SupportedOpcode x;
      x.opcode = info.opcode;
      x.servactv = info.service_action >= 0;
      x.service_action = x.servactv ? static_cast<std::uint16_t>(info.service_action) : 0;
      x.cdb_length = info.cdb_length;
      x.timeouts = timeouts(info);
      all.push_back(x);
    }
    r.data_in = scsi::build_supported_opcodes(all);
    limit(r, c.be32(6));
    return r;
  }
  if (options > 3) return check(sense::invalid_cdb(2, 2));
  // 001b: by opcode, which must have no service actions; 010b: by opcode and service action,
  // which must have them; 011b: either.
  const CommandInfo* first = nullptr;
  const CommandInfo* match = nullptr;
  for (const CommandInfo& info : commands()) {
    if (info.opcode != op) continue;
    if (first == nullptr) first = &info;
    if (info.service_action < 0 || info.service_action == sa) {
      match = &info;
      break;
    }
  }
  const bool has_sa = first != nullptr && first->service_action >= 0;
  if ((options == 1 && has_sa) || (options == 2 && first != nullptr && !has_sa)) {
    return check(sense::invalid_cdb(2, 2));
  }
  scsi::SupportedOpcodeOne one;
  if (match == nullptr) {
    one.support = scsi::opcode_support::kNotSupported;
  } else {
    one.support = scsi::opcode_support::kStandard;
    one.cdb_usage.assign(match->usage.begin(), match->usage.begin() + match->cdb_length);
    one.timeouts = timeouts(*match);
  }
  r.data_in = scsi::build_supported_opcode_one(one);
  limit(r, c.be32(6));
  return r;
}

}  // namespace uiscsi::tapesim
