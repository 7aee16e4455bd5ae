#include "core/pdu.hpp"

#include <cstdio>
#include <cstring>

#include "core/bytes.hpp"
#include "core/crc32c.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

// Per-opcode layout facts for decode checks: bits that are reserved, bits that must be one,
// and whether AHS and data segment must be empty.
struct Layout {
  std::array<std::uint8_t, kBhsSize> reserved{};
  std::uint8_t byte0_must_one = 0;
  std::uint8_t byte1_must_one = 0;
  bool ahs_allowed = false;
  bool data_allowed = true;
};

constexpr Layout make_layout(bool target_pdu, std::uint8_t b1_reserved,
                             std::initializer_list<std::pair<int, int>> reserved_ranges,
                             std::uint8_t b1_must_one, bool data_allowed = true,
                             bool ahs_allowed = false) {
  Layout l{};
  l.reserved[0] = target_pdu ? 0xc0 : 0x80;  // bit 7 always; the I bit too for target PDUs
  l.reserved[1] = b1_reserved;
  for (auto [first, last] : reserved_ranges)
    for (int i = first; i <= last; ++i)
      l.reserved[static_cast<std::size_t>(i)] = 0xff;
  l.byte1_must_one = b1_must_one;
  l.data_allowed = data_allowed;
  l.ahs_allowed = ahs_allowed;
  return l;
}

const Layout* layout_for(Opcode op) {
  // Byte ranges follow the PDU figures of RFC 7143 section 11.
  static const Layout kNopOut = make_layout(false, 0x7f, {{2, 3}, {32, 47}}, 0x80);
  static const Layout kScsiCommand = make_layout(false, 0x18, {{2, 3}}, 0, true, true);
  static const Layout kTmfRequest = make_layout(false, 0x00, {{2, 3}, {40, 47}}, 0x80, false);
  static const Layout kLoginRequest = [] {
    Layout l = make_layout(false, 0x30, {{22, 23}, {32, 47}}, 0);
    l.byte0_must_one = 0x40;  // a Login Request is always immediate
    return l;
  }();
  static const Layout kTextRequest = make_layout(false, 0x3f, {{2, 3}, {32, 47}}, 0);
  static const Layout kDataOut = [] {
    Layout l = make_layout(false, 0x7f, {{2, 3}, {24, 27}, {32, 35}, {44, 47}}, 0);
    l.reserved[0] = 0xc0;
    return l;
  }();
  static const Layout kLogoutRequest =
      make_layout(false, 0x00, {{2, 3}, {8, 15}, {22, 23}, {32, 47}}, 0x80, false);
  static const Layout kSnack = [] {
    Layout l = make_layout(false, 0x70, {{2, 3}, {24, 27}, {32, 39}}, 0x80, false);
    l.reserved[0] = 0xc0;
    return l;
  }();
  static const Layout kNopIn = make_layout(true, 0x7f, {{2, 3}, {36, 47}}, 0x80);
  static const Layout kScsiResponse = make_layout(true, 0x61, {{8, 15}}, 0x80);
  static const Layout kTmfResponse =
      make_layout(true, 0x7f, {{3, 3}, {8, 15}, {20, 23}, {36, 47}}, 0x80, false);
  static const Layout kLoginResponse = make_layout(true, 0x30, {{20, 23}, {38, 47}}, 0);
  static const Layout kTextResponse = make_layout(true, 0x3f, {{2, 3}, {36, 47}}, 0);
  static const Layout kDataIn = make_layout(true, 0x38, {{2, 2}}, 0);
  static const Layout kLogoutResponse =
      make_layout(true, 0x7f, {{3, 3}, {8, 15}, {20, 23}, {36, 39}, {44, 47}}, 0x80, false);
  static const Layout kR2t = make_layout(true, 0x7f, {{2, 3}}, 0x80, false);
  static const Layout kAsync = make_layout(true, 0x7f, {{2, 3}, {20, 23}, {44, 47}}, 0x80);
  static const Layout kReject =
      make_layout(true, 0x7f, {{3, 3}, {8, 15}, {20, 23}, {40, 47}}, 0x80);
  switch (op) {
    case Opcode::nop_out:
      return &kNopOut;
    case Opcode::scsi_command:
      return &kScsiCommand;
    case Opcode::task_mgmt_request:
      return &kTmfRequest;
    case Opcode::login_request:
      return &kLoginRequest;
    case Opcode::text_request:
      return &kTextRequest;
    case Opcode::scsi_data_out:
      return &kDataOut;
    case Opcode::logout_request:
      return &kLogoutRequest;
    case Opcode::snack_request:
      return &kSnack;
    case Opcode::nop_in:
      return &kNopIn;
    case Opcode::scsi_response:
      return &kScsiResponse;
    case Opcode::task_mgmt_response:
      return &kTmfResponse;
    case Opcode::login_response:
      return &kLoginResponse;
    case Opcode::text_response:
      return &kTextResponse;
    case Opcode::scsi_data_in:
      return &kDataIn;
    case Opcode::logout_response:
      return &kLogoutResponse;
    case Opcode::r2t:
      return &kR2t;
    case Opcode::async_message:
      return &kAsync;
    case Opcode::reject:
      return &kReject;
  }
  return nullptr;
}

// Field cursor over the 48 BHS bytes.
struct Writer {
  std::byte* b;
  void u8(int at, std::uint8_t v) const { store_u8(b + at, v); }
  void u16(int at, std::uint16_t v) const { store_be16(b + at, v); }
  void u32(int at, std::uint32_t v) const { store_be32(b + at, v); }
  void sn(int at, SerialNumber v) const { store_be32(b + at, v.value()); }
  void lun(const Lun& l) const { std::memcpy(b + 8, l.wire().data(), 8); }
  void isid(std::uint64_t v) const {
    for (int i = 0; i < 6; ++i)
      b[8 + i] = static_cast<std::byte>(v >> (8 * (5 - i)));
  }
  void op(Opcode o, bool immediate) const {
    b[0] = static_cast<std::byte>(static_cast<std::uint8_t>(o) | (immediate ? 0x40u : 0u));
  }
  void flags(std::uint8_t v) const { b[1] = std::byte{v}; }
};

struct Reader {
  const std::byte* b;
  [[nodiscard]] std::uint8_t u8(int at) const { return load_u8(b + at); }
  [[nodiscard]] std::uint16_t u16(int at) const { return load_be16(b + at); }
  [[nodiscard]] std::uint32_t u32(int at) const { return load_be32(b + at); }
  [[nodiscard]] SerialNumber sn(int at) const { return SerialNumber(load_be32(b + at)); }
  [[nodiscard]] Lun lun() const { return Lun::from_wire(std::span<const std::byte, 8>(b + 8, 8)); }
  [[nodiscard]] std::uint64_t isid() const {
    std::uint64_t v = 0;
    for (int i = 0; i < 6; ++i)
      v = (v << 8) | load_u8(b + 8 + i);
    return v;
  }
  [[nodiscard]] bool bit(int byte, int bitno) const { return ((u8(byte) >> bitno) & 1) != 0; }
  [[nodiscard]] bool immediate() const { return bit(0, 6); }
};

constexpr std::uint8_t flag(bool v, int bitno) {
  return v ? static_cast<std::uint8_t>(1u << bitno) : std::uint8_t{0};
}
constexpr std::uint8_t u8of(auto e) {
  return static_cast<std::uint8_t>(e);
}

// Encoders: one per opcode, writing the fields named in RFC 7143 section 11.
void put(const NopOut& h, Writer w) {
  w.op(h.kOpcode, h.immediate);
  w.flags(0x80);
  w.lun(h.lun);
  w.u32(16, h.itt.value);
  w.u32(20, h.ttt.value);
  w.sn(24, h.cmd_sn);
  w.sn(28, h.exp_stat_sn);
}
void put(const ScsiCommand& h, Writer w) {
  w.op(h.kOpcode, h.immediate);
  w.flags(static_cast<std::uint8_t>(flag(h.final, 7) | flag(h.read, 6) | flag(h.write, 5) |
                                    (u8of(h.attr) & 0x07u)));
  w.lun(h.lun);
  w.u32(16, h.itt.value);
  w.u32(20, h.expected_data_transfer_length);
  w.sn(24, h.cmd_sn);
  w.sn(28, h.exp_stat_sn);
  std::memcpy(w.b + 32, h.cdb.data(), 16);
}
void put(const TaskMgmtRequest& h, Writer w) {
  w.op(h.kOpcode, h.immediate);
  w.flags(static_cast<std::uint8_t>(0x80u | (u8of(h.function) & 0x7fu)));
  w.lun(h.lun);
  w.u32(16, h.itt.value);
  w.u32(20, h.referenced_task_tag.value);
  w.sn(24, h.cmd_sn);
  w.sn(28, h.exp_stat_sn);
  w.sn(32, h.ref_cmd_sn);
  w.sn(36, h.exp_data_sn);
}
void put(const LoginRequest& h, Writer w) {
  w.op(h.kOpcode, true);
  w.flags(static_cast<std::uint8_t>(flag(h.transit, 7) | flag(h.cont, 6) |
                                    ((u8of(h.csg) & 3u) << 2) | (u8of(h.nsg) & 3u)));
  w.u8(2, h.version_max);
  w.u8(3, h.version_min);
  w.isid(h.isid);
  w.u16(14, h.tsih);
  w.u32(16, h.itt.value);
  w.u16(20, h.cid);
  w.sn(24, h.cmd_sn);
  w.sn(28, h.exp_stat_sn);
}
void put(const TextRequest& h, Writer w) {
  w.op(h.kOpcode, h.immediate);
  w.flags(static_cast<std::uint8_t>(flag(h.final, 7) | flag(h.cont, 6)));
  w.lun(h.lun);
  w.u32(16, h.itt.value);
  w.u32(20, h.ttt.value);
  w.sn(24, h.cmd_sn);
  w.sn(28, h.exp_stat_sn);
}
void put(const DataOut& h, Writer w) {
  w.op(h.kOpcode, false);
  w.flags(flag(h.final, 7));
  w.lun(h.lun);
  w.u32(16, h.itt.value);
  w.u32(20, h.ttt.value);
  w.sn(28, h.exp_stat_sn);
  w.u32(36, h.data_sn);
  w.u32(40, h.buffer_offset);
}
void put(const LogoutRequest& h, Writer w) {
  w.op(h.kOpcode, h.immediate);
  w.flags(static_cast<std::uint8_t>(0x80u | (u8of(h.reason) & 0x7fu)));
  w.u32(16, h.itt.value);
  w.u16(20, h.cid);
  w.sn(24, h.cmd_sn);
  w.sn(28, h.exp_stat_sn);
}
void put(const SnackRequest& h, Writer w) {
  w.op(h.kOpcode, false);
  w.flags(static_cast<std::uint8_t>(0x80u | (u8of(h.type) & 0x0fu)));
  w.lun(h.lun);
  w.u32(16, h.itt.value);
  w.u32(20, h.ttt.value);
  w.sn(28, h.exp_stat_sn);
  w.u32(40, h.beg_run);
  w.u32(44, h.run_length);
}
void put_sns(Writer w, SerialNumber stat_sn, SerialNumber exp_cmd_sn, SerialNumber max_cmd_sn) {
  w.sn(24, stat_sn);
  w.sn(28, exp_cmd_sn);
  w.sn(32, max_cmd_sn);
}
void put(const NopIn& h, Writer w) {
  w.op(h.kOpcode, false);
  w.flags(0x80);
  w.lun(h.lun);
  w.u32(16, h.itt.value);
  w.u32(20, h.ttt.value);
  put_sns(w, h.stat_sn, h.exp_cmd_sn, h.max_cmd_sn);
}
void put(const ScsiResponse& h, Writer w) {
  w.op(h.kOpcode, false);
  w.flags(static_cast<std::uint8_t>(0x80u | flag(h.bidi_read_overflow, 4) |
                                    flag(h.bidi_read_underflow, 3) | flag(h.overflow, 2) |
                                    flag(h.underflow, 1)));
  w.u8(2, u8of(h.response));
  w.u8(3, h.status);
  w.u32(16, h.itt.value);
  w.u32(20, h.snack_tag);
  put_sns(w, h.stat_sn, h.exp_cmd_sn, h.max_cmd_sn);
  w.u32(36, h.exp_data_sn);
  w.u32(40, h.bidi_read_residual_count);
  w.u32(44, h.residual_count);
}
void put(const TaskMgmtResponse& h, Writer w) {
  w.op(h.kOpcode, false);
  w.flags(0x80);
  w.u8(2, u8of(h.response));
  w.u32(16, h.itt.value);
  put_sns(w, h.stat_sn, h.exp_cmd_sn, h.max_cmd_sn);
}
void put(const LoginResponse& h, Writer w) {
  w.op(h.kOpcode, false);
  w.flags(static_cast<std::uint8_t>(flag(h.transit, 7) | flag(h.cont, 6) |
                                    ((u8of(h.csg) & 3u) << 2) | (u8of(h.nsg) & 3u)));
  w.u8(2, h.version_max);
  w.u8(3, h.version_active);
  w.isid(h.isid);
  w.u16(14, h.tsih);
  w.u32(16, h.itt.value);
  put_sns(w, h.stat_sn, h.exp_cmd_sn, h.max_cmd_sn);
  w.u8(36, h.status_class);
  w.u8(37, h.status_detail);
}
void put(const TextResponse& h, Writer w) {
  w.op(h.kOpcode, false);
  w.flags(static_cast<std::uint8_t>(flag(h.final, 7) | flag(h.cont, 6)));
  w.lun(h.lun);
  w.u32(16, h.itt.value);
  w.u32(20, h.ttt.value);
  put_sns(w, h.stat_sn, h.exp_cmd_sn, h.max_cmd_sn);
}
void put(const DataIn& h, Writer w) {
  w.op(h.kOpcode, false);
  w.flags(static_cast<std::uint8_t>(flag(h.final, 7) | flag(h.acknowledge, 6) |
                                    flag(h.overflow, 2) | flag(h.underflow, 1) |
                                    flag(h.status_present, 0)));
  w.u8(3, h.status);
  w.lun(h.lun);
  w.u32(16, h.itt.value);
  w.u32(20, h.ttt.value);
  put_sns(w, h.stat_sn, h.exp_cmd_sn, h.max_cmd_sn);
  w.u32(36, h.data_sn);
  w.u32(40, h.buffer_offset);
  w.u32(44, h.residual_count);
}
void put(const LogoutResponse& h, Writer w) {
  w.op(h.kOpcode, false);
  w.flags(0x80);
  w.u8(2, u8of(h.response));
  w.u32(16, h.itt.value);
  put_sns(w, h.stat_sn, h.exp_cmd_sn, h.max_cmd_sn);
  w.u16(40, h.time2wait);
  w.u16(42, h.time2retain);
}
void put(const R2t& h, Writer w) {
  w.op(h.kOpcode, false);
  w.flags(0x80);
  w.lun(h.lun);
  w.u32(16, h.itt.value);
  w.u32(20, h.ttt.value);
  put_sns(w, h.stat_sn, h.exp_cmd_sn, h.max_cmd_sn);
  w.u32(36, h.r2t_sn);
  w.u32(40, h.buffer_offset);
  w.u32(44, h.desired_data_transfer_length);
}
void put(const AsyncMessage& h, Writer w) {
  w.op(h.kOpcode, false);
  w.flags(0x80);
  w.lun(h.lun);
  w.u32(16, kReservedTag);
  put_sns(w, h.stat_sn, h.exp_cmd_sn, h.max_cmd_sn);
  w.u8(36, u8of(h.async_event));
  w.u8(37, h.async_vcode);
  w.u16(38, h.parameter1);
  w.u16(40, h.parameter2);
  w.u16(42, h.parameter3);
}
void put(const Reject& h, Writer w) {
  w.op(h.kOpcode, false);
  w.flags(0x80);
  w.u8(2, u8of(h.reason));
  w.u32(16, kReservedTag);
  put_sns(w, h.stat_sn, h.exp_cmd_sn, h.max_cmd_sn);
  w.u32(36, h.data_sn_or_r2t_sn);
}

// Decoders.
template <class T>
void get_sns(Reader r, T& h) {
  h.stat_sn = r.sn(24);
  h.exp_cmd_sn = r.sn(28);
  h.max_cmd_sn = r.sn(32);
}

Header get(Opcode op, Reader r) {
  switch (op) {
    case Opcode::nop_out: {
      NopOut h;
      h.immediate = r.immediate();
      h.lun = r.lun();
      h.itt = Itt(r.u32(16));
      h.ttt = Ttt(r.u32(20));
      h.cmd_sn = r.sn(24);
      h.exp_stat_sn = r.sn(28);
      return h;
    }
    case Opcode::scsi_command: {
      ScsiCommand h;
      h.immediate = r.immediate();
      h.final = r.bit(1, 7);
      h.read = r.bit(1, 6);
      h.write = r.bit(1, 5);
      h.attr = static_cast<TaskAttribute>(r.u8(1) & 0x07u);
      h.lun = r.lun();
      h.itt = Itt(r.u32(16));
      h.expected_data_transfer_length = r.u32(20);
      h.cmd_sn = r.sn(24);
      h.exp_stat_sn = r.sn(28);
      std::memcpy(h.cdb.data(), r.b + 32, 16);
      return h;
    }
    case Opcode::task_mgmt_request: {
      TaskMgmtRequest h;
      h.immediate = r.immediate();
      h.function = static_cast<TmfFunction>(r.u8(1) & 0x7fu);
      h.lun = r.lun();
      h.itt = Itt(r.u32(16));
      h.referenced_task_tag = Itt(r.u32(20));
      h.cmd_sn = r.sn(24);
      h.exp_stat_sn = r.sn(28);
      h.ref_cmd_sn = r.sn(32);
      h.exp_data_sn = r.sn(36);
      return h;
    }
    case Opcode::login_request: {
      LoginRequest h;
      h.transit = r.bit(1, 7);
      h.cont = r.bit(1, 6);
      h.csg = static_cast<LoginStage>((r.u8(1) >> 2) & 3u);
      h.nsg = static_cast<LoginStage>(r.u8(1) & 3u);
      h.version_max = r.u8(2);
      h.version_min = r.u8(3);
      h.isid = r.isid();
      h.tsih = r.u16(14);
      h.itt = Itt(r.u32(16));
      h.cid = r.u16(20);
      h.cmd_sn = r.sn(24);
      h.exp_stat_sn = r.sn(28);
      return h;
    }
    case Opcode::text_request: {
      TextRequest h;
      h.immediate = r.immediate();
      h.final = r.bit(1, 7);
      h.cont = r.bit(1, 6);
      h.lun = r.lun();
      h.itt = Itt(r.u32(16));
      h.ttt = Ttt(r.u32(20));
      h.cmd_sn = r.sn(24);
      h.exp_stat_sn = r.sn(28);
      return h;
    }
    case Opcode::scsi_data_out: {
      DataOut h;
      h.final = r.bit(1, 7);
      h.lun = r.lun();
      h.itt = Itt(r.u32(16));
      h.ttt = Ttt(r.u32(20));
      h.exp_stat_sn = r.sn(28);
      h.data_sn = r.u32(36);
      h.buffer_offset = r.u32(40);
      return h;
    }
    case Opcode::logout_request: {
      LogoutRequest h;
      h.immediate = r.immediate();
      h.reason = static_cast<LogoutReason>(r.u8(1) & 0x7fu);
      h.itt = Itt(r.u32(16));
      h.cid = r.u16(20);
      h.cmd_sn = r.sn(24);
      h.exp_stat_sn = r.sn(28);
      return h;
    }
    case Opcode::snack_request: {
      SnackRequest h;
      h.type = static_cast<SnackType>(r.u8(1) & 0x0fu);
      h.lun = r.lun();
      h.itt = Itt(r.u32(16));
      h.ttt = Ttt(r.u32(20));
      h.exp_stat_sn = r.sn(28);
      h.beg_run = r.u32(40);
      h.run_length = r.u32(44);
      return h;
    }
    case Opcode::nop_in: {
      NopIn h;
      h.lun = r.lun();
      h.itt = Itt(r.u32(16));
      h.ttt = Ttt(r.u32(20));
      get_sns(r, h);
      return h;
    }
    case Opcode::scsi_response: {
      ScsiResponse h;
      h.bidi_read_overflow = r.bit(1, 4);
      h.bidi_read_underflow = r.bit(1, 3);
      h.overflow = r.bit(1, 2);
      h.underflow = r.bit(1, 1);
      h.response = static_cast<IscsiResponse>(r.u8(2));
      h.status = r.u8(3);
      h.itt = Itt(r.u32(16));
      h.snack_tag = r.u32(20);
      get_sns(r, h);
      h.exp_data_sn = r.u32(36);
      h.bidi_read_residual_count = r.u32(40);
      h.residual_count = r.u32(44);
      return h;
    }
    case Opcode::task_mgmt_response: {
      TaskMgmtResponse h;
      h.response = static_cast<TmfResponse>(r.u8(2));
      h.itt = Itt(r.u32(16));
      get_sns(r, h);
      return h;
    }
    case Opcode::login_response: {
      LoginResponse h;
      h.transit = r.bit(1, 7);
      h.cont = r.bit(1, 6);
      h.csg = static_cast<LoginStage>((r.u8(1) >> 2) & 3u);
      h.nsg = static_cast<LoginStage>(r.u8(1) & 3u);
      h.version_max = r.u8(2);
      h.version_active = r.u8(3);
      h.isid = r.isid();
      h.tsih = r.u16(14);
      h.itt = Itt(r.u32(16));
      get_sns(r, h);
      h.status_class = r.u8(36);
      h.status_detail = r.u8(37);
      return h;
    }
    case Opcode::text_response: {
      TextResponse h;
      h.final = r.bit(1, 7);
      h.cont = r.bit(1, 6);
      h.lun = r.lun();
      h.itt = Itt(r.u32(16));
      h.ttt = Ttt(r.u32(20));
      get_sns(r, h);
      return h;
    }
    case Opcode::scsi_data_in: {
      DataIn h;
      h.final = r.bit(1, 7);
      h.acknowledge = r.bit(1, 6);
      h.overflow = r.bit(1, 2);
      h.underflow = r.bit(1, 1);
      h.status_present = r.bit(1, 0);
      h.status = r.u8(3);
      h.lun = r.lun();
      h.itt = Itt(r.u32(16));
      h.ttt = Ttt(r.u32(20));
      get_sns(r, h);
      h.data_sn = r.u32(36);
      h.buffer_offset = r.u32(40);
      h.residual_count = r.u32(44);
      return h;
    }
    case Opcode::logout_response: {
      LogoutResponse h;
      h.response = static_cast<LogoutResponseCode>(r.u8(2));
      h.itt = Itt(r.u32(16));
      get_sns(r, h);
      h.time2wait = r.u16(40);
      h.time2retain = r.u16(42);
      return h;
    }
    case Opcode::r2t: {
      R2t h;
      h.lun = r.lun();
      h.itt = Itt(r.u32(16));
      h.ttt = Ttt(r.u32(20));
      get_sns(r, h);
      h.r2t_sn = r.u32(36);
      h.buffer_offset = r.u32(40);
      h.desired_data_transfer_length = r.u32(44);
      return h;
    }
    case Opcode::async_message: {
      AsyncMessage h;
      h.lun = r.lun();
      get_sns(r, h);
      h.async_event = static_cast<AsyncEvent>(r.u8(36));
      h.async_vcode = r.u8(37);
      h.parameter1 = r.u16(38);
      h.parameter2 = r.u16(40);
      h.parameter3 = r.u16(42);
      return h;
    }
    case Opcode::reject: {
      Reject h;
      h.reason = static_cast<RejectReason>(r.u8(2));
      get_sns(r, h);
      h.data_sn_or_r2t_sn = r.u32(36);
      return h;
    }
  }
  return NopOut{};  // unreachable: decode_header checked the opcode
}

}  // namespace

std::uint32_t Bhs::data_segment_length() const {
  return load_be24(bytes.data() + 5);
}
Itt Bhs::itt() const {
  return Itt(load_be32(bytes.data() + 16));
}
void Bhs::set_data_segment_length(std::uint32_t n) {
  store_be24(bytes.data() + 5, n);
}

bool is_known_opcode(std::uint8_t raw) {
  switch (raw) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x05:
    case 0x06:
    case 0x10:
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x23:
    case 0x24:
    case 0x25:
    case 0x26:
    case 0x31:
    case 0x32:
    case 0x3f:
      return true;
    default:
      return false;
  }
}

bool is_initiator_opcode(Opcode op) {
  return static_cast<std::uint8_t>(op) < 0x20;
}

const char* opcode_name(Opcode op) {
  switch (op) {
    case Opcode::nop_out:
      return "NOP-Out";
    case Opcode::scsi_command:
      return "SCSI Command";
    case Opcode::task_mgmt_request:
      return "Task Management Request";
    case Opcode::login_request:
      return "Login Request";
    case Opcode::text_request:
      return "Text Request";
    case Opcode::scsi_data_out:
      return "Data-Out";
    case Opcode::logout_request:
      return "Logout Request";
    case Opcode::snack_request:
      return "SNACK Request";
    case Opcode::nop_in:
      return "NOP-In";
    case Opcode::scsi_response:
      return "SCSI Response";
    case Opcode::task_mgmt_response:
      return "Task Management Response";
    case Opcode::login_response:
      return "Login Response";
    case Opcode::text_response:
      return "Text Response";
    case Opcode::scsi_data_in:
      return "Data-In";
    case Opcode::logout_response:
      return "Logout Response";
    case Opcode::r2t:
      return "R2T";
    case Opcode::async_message:
      return "Async Message";
    case Opcode::reject:
      return "Reject";
  }
  return "unknown opcode";
}

const char* tmf_function_name(TmfFunction f) {
  switch (f) {
    case TmfFunction::abort_task:
      return "ABORT TASK";
    case TmfFunction::abort_task_set:
      return "ABORT TASK SET";
    case TmfFunction::clear_aca:
      return "CLEAR ACA";
    case TmfFunction::clear_task_set:
      return "CLEAR TASK SET";
    case TmfFunction::logical_unit_reset:
      return "LOGICAL UNIT RESET";
    case TmfFunction::target_warm_reset:
      return "TARGET WARM RESET";
    case TmfFunction::target_cold_reset:
      return "TARGET COLD RESET";
    case TmfFunction::task_reassign:
      return "TASK REASSIGN";
  }
  return "unknown function";
}

const char* tmf_response_name(TmfResponse r) {
  switch (r) {
    case TmfResponse::function_complete:
      return "function complete";
    case TmfResponse::task_does_not_exist:
      return "task does not exist";
    case TmfResponse::lun_does_not_exist:
      return "LUN does not exist";
    case TmfResponse::task_still_allegiant:
      return "task still allegiant";
    case TmfResponse::task_reassignment_not_supported:
      return "task reassignment not supported";
    case TmfResponse::function_not_supported:
      return "function not supported";
    case TmfResponse::function_authorization_failed:
      return "function authorization failed";
    case TmfResponse::function_rejected:
      return "function rejected";
  }
  return "unknown response";
}

const char* reject_reason_name(RejectReason r) {
  switch (r) {
    case RejectReason::data_digest_error:
      return "data digest error";
    case RejectReason::snack_reject:
      return "SNACK reject";
    case RejectReason::protocol_error:
      return "protocol error";
    case RejectReason::command_not_supported:
      return "command not supported";
    case RejectReason::immediate_command_reject:
      return "immediate command reject";
    case RejectReason::task_in_progress:
      return "task in progress";
    case RejectReason::invalid_data_ack:
      return "invalid DataACK";
    case RejectReason::invalid_pdu_field:
      return "invalid PDU field";
    case RejectReason::long_operation_reject:
      return "long operation reject";
    case RejectReason::deprecated_negotiation_reset:
      return "negotiation reset (deprecated)";
    case RejectReason::waiting_for_logout:
      return "waiting for logout";
  }
  return "unknown reason";
}

void encode_header(const Header& h, Bhs& out) {
  out.bytes.fill(std::byte{0});
  std::visit([&](const auto& v) { put(v, Writer{out.bytes.data()}); }, h);
}

Result<Header> decode_header(const Bhs& bhs, const DecodeOptions& options) {
  const std::uint8_t raw = bhs.raw_opcode();
  if (!is_known_opcode(raw)) return protocol_errc::unknown_opcode;
  const Opcode op = static_cast<Opcode>(raw);
  const Layout& layout = *layout_for(op);
  const Reader r{bhs.bytes.data()};

  if ((r.u8(0) & layout.byte0_must_one) != layout.byte0_must_one ||
      (r.u8(1) & layout.byte1_must_one) != layout.byte1_must_one)
    return protocol_errc::invalid_field;
  if (!layout.data_allowed && bhs.data_segment_length() != 0) return protocol_errc::invalid_field;
  if (!layout.ahs_allowed && bhs.total_ahs_length() != 0) return protocol_errc::invalid_field;
  if (options.reserved == ReservedPolicy::reject) {
    for (std::size_t i = 0; i < kBhsSize; ++i)
      if ((std::to_integer<std::uint8_t>(bhs.bytes[i]) & layout.reserved[i]) != 0)
        return protocol_errc::reserved_field_nonzero;
  }
  // Async Message and Reject carry ITT 0xffffffff (sections 11.9 and 11.17).
  if ((op == Opcode::async_message || op == Opcode::reject) && !bhs.itt().is_reserved() &&
      options.reserved == ReservedPolicy::reject)
    return protocol_errc::invalid_field;
  if (op == Opcode::login_request || op == Opcode::login_response) {
    // Stage code 2 is reserved (section 11.12.3); NSG counts only when T is set.
    const std::uint8_t flags = r.u8(1);
    if (((flags >> 2) & 3u) == 2 || ((flags & 0x80u) && (flags & 3u) == 2))
      return protocol_errc::invalid_field;
  }
  return get(op, r);
}

Result<ParsedAhs> parse_ahs(std::span<const std::byte> ahs) {
  ParsedAhs out;
  bool seen_cdb = false;
  while (!ahs.empty()) {
    if (ahs.size() < 4) return protocol_errc::truncated;
    const std::uint16_t ahs_length = load_be16(ahs.data());
    const auto type = load_u8(ahs.data() + 2);
    // AHSLength counts the bytes after AHSType: the reserved byte plus the specific field.
    const std::size_t total = round_up4(std::size_t{3} + ahs_length);
    if (ahs_length == 0 || total > ahs.size()) return protocol_errc::truncated;
    if (type == static_cast<std::uint8_t>(AhsType::extended_cdb)) {
      if (seen_cdb) return protocol_errc::invalid_field;
      seen_cdb = true;
      out.extended_cdb = ahs.subspan(4, ahs_length - 1u);
    } else if (type ==
               static_cast<std::uint8_t>(AhsType::bidi_read_expected_data_transfer_length)) {
      if (ahs_length != 5 || out.bidi_read_expected_data_transfer_length)
        return protocol_errc::invalid_field;
      out.bidi_read_expected_data_transfer_length = load_be32(ahs.data() + 4);
    } else {
      return protocol_errc::invalid_field;
    }
    ahs = ahs.subspan(total);
  }
  return out;
}

void append_extended_cdb_ahs(std::vector<std::byte>& ahs, std::span<const std::byte> cdb_tail) {
  const std::size_t start = ahs.size();
  const auto ahs_length = static_cast<std::uint16_t>(cdb_tail.size() + 1);
  ahs.resize(start + round_up4(3 + std::size_t{ahs_length}));
  store_be16(ahs.data() + start, ahs_length);
  store_u8(ahs.data() + start + 2, static_cast<std::uint8_t>(AhsType::extended_cdb));
  std::memcpy(ahs.data() + start + 4, cdb_tail.data(), cdb_tail.size());
}

void append_bidi_read_length_ahs(std::vector<std::byte>& ahs, std::uint32_t length) {
  const std::size_t start = ahs.size();
  ahs.resize(start + 8);
  store_be16(ahs.data() + start, 5);
  store_u8(ahs.data() + start + 2,
           static_cast<std::uint8_t>(AhsType::bidi_read_expected_data_transfer_length));
  store_be32(ahs.data() + start + 4, length);
}

Result<void> set_cdb(ScsiCommand& cmd, std::span<const std::byte> cdb,
                     std::vector<std::byte>& ahs) {
  // One extended CDB AHS may hold up to kMaxAhsBytes - 4 CDB bytes.
  if (cdb.empty() || cdb.size() > 16 + kMaxAhsBytes - 4) return errc::invalid_argument;
  cmd.cdb.fill(std::byte{0});
  const std::size_t head = std::min<std::size_t>(cdb.size(), 16);
  std::memcpy(cmd.cdb.data(), cdb.data(), head);
  if (cdb.size() > 16) append_extended_cdb_ahs(ahs, cdb.subspan(16));
  return ok();
}

WireHeader make_wire_header(Bhs bhs, std::span<const std::byte> ahs, std::uint32_t data_length,
                            const DigestConfig& digests) {
  WireHeader w;
  bhs.set_total_ahs_length(static_cast<std::uint8_t>(ahs.size() / 4));
  bhs.set_data_segment_length(data_length);
  std::memcpy(w.bytes.data(), bhs.bytes.data(), kBhsSize);
  if (!ahs.empty()) std::memcpy(w.bytes.data() + kBhsSize, ahs.data(), ahs.size());
  w.size = kBhsSize + ahs.size();
  if (digests.header) {
    store_digest(w.bytes.data() + w.size, crc32c({w.bytes.data(), w.size}));
    w.size += kDigestSize;
  }
  return w;
}

WireTrailer make_wire_trailer(std::uint32_t data_crc, std::size_t data_length,
                              const DigestConfig& digests) {
  WireTrailer t;
  const std::size_t pad = pad4(data_length);
  t.size = pad;  // bytes are already zero
  if (digests.data && data_length > 0) {
    const std::uint32_t crc = crc32c({t.bytes.data(), pad}, data_crc);
    store_digest(t.bytes.data() + pad, crc);
    t.size += kDigestSize;
  }
  return t;
}

WireTrailer make_wire_trailer(std::span<const std::byte> data, const DigestConfig& digests) {
  return make_wire_trailer(digests.data ? crc32c(data) : 0u, data.size(), digests);
}

std::vector<std::byte> serialize_pdu(const Bhs& bhs, std::span<const std::byte> ahs,
                                     std::span<const std::byte> data, const DigestConfig& digests) {
  const WireHeader head =
      make_wire_header(bhs, ahs, static_cast<std::uint32_t>(data.size()), digests);
  const WireTrailer tail = make_wire_trailer(data, digests);
  std::vector<std::byte> out;
  out.reserve(head.size + data.size() + tail.size);
  out.insert(out.end(), head.bytes.begin(), head.bytes.begin() + static_cast<long>(head.size));
  out.insert(out.end(), data.begin(), data.end());
  out.insert(out.end(), tail.bytes.begin(), tail.bytes.begin() + static_cast<long>(tail.size));
  return out;
}

std::vector<std::byte> serialize_pdu(const Header& h, std::span<const std::byte> data,
                                     const DigestConfig& digests) {
  Bhs bhs;
  encode_header(h, bhs);
  return serialize_pdu(bhs, {}, data, digests);
}

namespace {

std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%x", v);
  return buf;
}
std::string sn(std::string_view name, SerialNumber v) {
  return std::string(" ") + std::string(name) + "=" + std::to_string(v.value());
}
std::string tag(std::string_view name, std::uint32_t v) {
  return std::string(" ") + std::string(name) + "=" + hex32(v);
}
std::string num(std::string_view name, std::uint64_t v) {
  return std::string(" ") + std::string(name) + "=" + std::to_string(v);
}
std::string bit(std::string_view name, bool v) {
  return std::string(" ") + std::string(name) + "=" + (v ? "1" : "0");
}
std::string target_sns(const auto& h) {
  return sn("StatSN", h.stat_sn) + sn("ExpCmdSN", h.exp_cmd_sn) + sn("MaxCmdSN", h.max_cmd_sn);
}

std::string describe_fields(const NopOut& h) {
  return tag("itt", h.itt.value) + tag("ttt", h.ttt.value) + bit("I", h.immediate) +
         sn("CmdSN", h.cmd_sn) + sn("ExpStatSN", h.exp_stat_sn);
}
std::string describe_fields(const ScsiCommand& h) {
  char cdb0[8];
  std::snprintf(cdb0, sizeof cdb0, "0x%02x", std::to_integer<unsigned>(h.cdb[0]));
  return tag("itt", h.itt.value) + " cdb[0]=" + cdb0 + " lun=" + h.lun.to_string() +
         bit("I", h.immediate) + bit("F", h.final) + bit("R", h.read) + bit("W", h.write) +
         num("EDTL", h.expected_data_transfer_length) + sn("CmdSN", h.cmd_sn) +
         sn("ExpStatSN", h.exp_stat_sn);
}
std::string describe_fields(const TaskMgmtRequest& h) {
  return std::string(" ") + tmf_function_name(h.function) + tag("itt", h.itt.value) +
         tag("rtt", h.referenced_task_tag.value) + sn("CmdSN", h.cmd_sn) +
         sn("RefCmdSN", h.ref_cmd_sn) + sn("ExpDataSN", h.exp_data_sn);
}
std::string describe_fields(const LoginRequest& h) {
  return bit("T", h.transit) + bit("C", h.cont) + num("CSG", static_cast<unsigned>(h.csg)) +
         num("NSG", static_cast<unsigned>(h.nsg)) + num("TSIH", h.tsih) + num("CID", h.cid) +
         tag("itt", h.itt.value) + sn("CmdSN", h.cmd_sn) + sn("ExpStatSN", h.exp_stat_sn);
}
std::string describe_fields(const TextRequest& h) {
  return tag("itt", h.itt.value) + tag("ttt", h.ttt.value) + bit("F", h.final) + bit("C", h.cont) +
         sn("CmdSN", h.cmd_sn);
}
std::string describe_fields(const DataOut& h) {
  return tag("itt", h.itt.value) + tag("ttt", h.ttt.value) + num("DataSN", h.data_sn) +
         num("offset", h.buffer_offset) + bit("F", h.final);
}
std::string describe_fields(const LogoutRequest& h) {
  return num("reason", static_cast<unsigned>(h.reason)) + num("CID", h.cid) +
         tag("itt", h.itt.value) + sn("CmdSN", h.cmd_sn);
}
std::string describe_fields(const SnackRequest& h) {
  return num("type", static_cast<unsigned>(h.type)) + tag("itt", h.itt.value) +
         tag("ttt", h.ttt.value) + num("BegRun", h.beg_run) + num("RunLength", h.run_length);
}
std::string describe_fields(const NopIn& h) {
  return tag("itt", h.itt.value) + tag("ttt", h.ttt.value) + target_sns(h);
}
std::string describe_fields(const ScsiResponse& h) {
  return tag("itt", h.itt.value) + num("response", static_cast<unsigned>(h.response)) +
         tag("status", h.status) + target_sns(h) + num("residual", h.residual_count) +
         bit("U", h.underflow) + bit("O", h.overflow);
}
std::string describe_fields(const TaskMgmtResponse& h) {
  return tag("itt", h.itt.value) + " " + tmf_response_name(h.response) + target_sns(h);
}
std::string describe_fields(const LoginResponse& h) {
  return bit("T", h.transit) + bit("C", h.cont) + num("CSG", static_cast<unsigned>(h.csg)) +
         num("NSG", static_cast<unsigned>(h.nsg)) + num("TSIH", h.tsih) +
         num("class", h.status_class) + num("detail", h.status_detail) + target_sns(h);
}
std::string describe_fields(const TextResponse& h) {
  return tag("itt", h.itt.value) + tag("ttt", h.ttt.value) + bit("F", h.final) + bit("C", h.cont) +
         target_sns(h);
}
std::string describe_fields(const DataIn& h) {
  return tag("itt", h.itt.value) + num("DataSN", h.data_sn) + num("offset", h.buffer_offset) +
         bit("F", h.final) + bit("S", h.status_present) + bit("A", h.acknowledge) +
         (h.status_present ? tag("status", h.status) + sn("StatSN", h.stat_sn) : std::string());
}
std::string describe_fields(const LogoutResponse& h) {
  return tag("itt", h.itt.value) + num("response", static_cast<unsigned>(h.response)) +
         target_sns(h) + num("Time2Wait", h.time2wait) + num("Time2Retain", h.time2retain);
}
std::string describe_fields(const R2t& h) {
  return tag("itt", h.itt.value) + tag("ttt", h.ttt.value) + num("R2TSN", h.r2t_sn) +
         num("offset", h.buffer_offset) + num("length", h.desired_data_transfer_length);
}
std::string describe_fields(const AsyncMessage& h) {
  return num("event", static_cast<unsigned>(h.async_event)) + num("p1", h.parameter1) +
         num("p2", h.parameter2) + num("p3", h.parameter3) + target_sns(h);
}
std::string describe_fields(const Reject& h) {
  return std::string(" ") + reject_reason_name(h.reason) + target_sns(h);
}

}  // namespace

std::string describe(const Header& h) {
  return std::visit(
      [](const auto& v) { return std::string(opcode_name(v.kOpcode)) + describe_fields(v); }, h);
}

}  // namespace uiscsi::core
