// Writes the seed corpora of the fuzz targets into DIR/<target>/ (usage: make_fuzz_seeds DIR).
// Run by hand when the input layouts change; the output is checked in under fuzz/corpus.
//   pdu_decode: each sample header of tests/support/sample_pdus.hpp as a BHS, the SCSI Command
//               also with an extended-CDB and a bidirectional-read AHS after it;
//   framer:     PDU streams of both directions built from the same samples, with and without
//               digests, a digest switch after login, corrupted digests and an oversized
//               segment, each followed by its choices tail (framer_input.hpp);
//   text:       login, CHAP and SendTargets key sets as initiators and targets send them;
//   target_engine, initiator_engine: sessions that log in (scripted, or from the input's own
//               Login PDUs) and then read, write (R2T, immediate and unsolicited data), time out,
//               abort, ping, renegotiate, lose the connection and log out (engine_input.hpp).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/bytes.hpp"
#include "core/pdu.hpp"
#include "engine_input.hpp"
#include "framer_input.hpp"
#include "support/sample_pdus.hpp"

namespace {

using namespace uiscsi;
using namespace uiscsi::core;
using Bytes = std::vector<std::byte>;
using namespace std::literals;
namespace fs = std::filesystem;

void write_file(const fs::path& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

Opcode opcode_of(const Header& h) {
  return std::visit([](const auto& v) { return v.kOpcode; }, h);
}

Bytes text_bytes(std::string_view s) {
  const auto b = as_bytes(s);
  return {b.begin(), b.end()};
}

Bytes pattern(std::size_t n, unsigned seed) {
  Bytes b(n);
  for (std::size_t i = 0; i < n; ++i)
    b[i] = static_cast<std::byte>((i * 31 + seed) & 0xff);
  return b;
}

// A plausible data segment for each opcode that may carry one; empty for the others.
Bytes data_for(const Header& h) {
  switch (opcode_of(h)) {
    case Opcode::nop_out:
    case Opcode::nop_in:
      return pattern(12, 1);  // ping data
    case Opcode::scsi_command:
      return pattern(64, 2);  // immediate data
    case Opcode::scsi_data_out:
    case Opcode::scsi_data_in:
      return pattern(101, 3);  // odd length: three pad bytes
    case Opcode::scsi_response: {
      Bytes sense = pattern(20, 4);  // SenseLength then fixed-format sense
      sense[0] = std::byte{0};
      sense[1] = std::byte{18};
      sense[2] = std::byte{0x70};
      return sense;
    }
    case Opcode::login_request:
      return text_bytes("HeaderDigest=CRC32C,None\0DataDigest=None\0"sv);
    case Opcode::login_response:
      return text_bytes("HeaderDigest=CRC32C\0DataDigest=None\0"sv);
    case Opcode::text_request:
      return text_bytes("SendTargets=All\0"sv);
    case Opcode::text_response:
      return text_bytes(
          "TargetName=iqn.2024-01.org.example:disk0\0TargetAddress=10.0.0.1:3260,1\0"sv);
    case Opcode::reject:
      return pattern(48, 5);  // the rejected BHS
    default:
      return {};
  }
}

// Every sample PDU that `role` receives, with its data segment.
Bytes stream_for(Role role, const DigestConfig& digests) {
  Bytes out;
  for (const Header& h : testing::sample_headers()) {
    if (is_initiator_opcode(opcode_of(h)) != (role == Role::target)) continue;
    const Bytes pdu = serialize_pdu(h, data_for(h), digests);
    out.insert(out.end(), pdu.begin(), pdu.end());
  }
  return out;
}

fuzz::FramerPlan plan(Role role, DigestConfig digests, std::uint32_t mrdsl,
                      std::vector<std::size_t> splits) {
  fuzz::FramerPlan p;
  p.config.role = role;
  p.config.digests = digests;
  p.config.max_recv_data_segment_length = mrdsl;
  p.placement = true;
  p.splits = std::move(splits);
  return p;
}

std::uint32_t bits_for(std::uint32_t mrdsl) {
  std::uint32_t bits = 10;
  while (fuzz::max_for_bits(bits) < mrdsl)
    ++bits;
  return bits;
}

// The stream followed by the plan's tail; checks that the fuzzer reads the plan back.
void write_framer_seed(const fs::path& dir, const char* name, const Bytes& stream,
                       const fuzz::FramerPlan& p) {
  fuzz::TailWriter tail;
  tail.put_plan(p, bits_for(p.config.max_recv_data_segment_length));
  std::vector<std::uint8_t> raw(stream.size());
  std::memcpy(raw.data(), stream.data(), stream.size());
  const std::vector<std::uint8_t> input = tail.finish(raw);

  FuzzedDataProvider in(input.data(), input.size());
  const fuzz::FramerPlan back = fuzz::consume_plan(in);
  const bool same =
      back.config.role == p.config.role && back.config.digests.header == p.config.digests.header &&
      back.config.digests.data == p.config.digests.data &&
      back.config.max_recv_data_segment_length == p.config.max_recv_data_segment_length &&
      back.config.decode.reserved == p.config.decode.reserved &&
      back.config.skip_pdu_on_header_digest_error == p.config.skip_pdu_on_header_digest_error &&
      back.config.staging_bytes == p.config.staging_bytes && back.placement == p.placement &&
      back.splits == p.splits && back.toggle_digests_at == p.toggle_digests_at &&
      in.remaining_bytes() == stream.size();
  if (!same) {
    std::fprintf(stderr, "framer seed %s: the tail does not read back\n", name);
    std::exit(1);
  }
  write_file(dir / name, std::as_bytes(std::span(input)));
}

void framer_seeds(const fs::path& dir) {
  const DigestConfig none{false, false}, both{true, true};
  write_framer_seed(dir, "initiator-plain", stream_for(Role::initiator, none),
                    plan(Role::initiator, none, 8192, {7, 100, 4096}));
  {
    auto p = plan(Role::initiator, both, 8192, {1, 48, 13});
    p.config.staging_bytes = 0;
    p.drain_every = 3;
    write_framer_seed(dir, "initiator-digests", stream_for(Role::initiator, both), p);
  }
  {
    auto p = plan(Role::target, none, 65536, {65536});
    p.config.decode.reserved = ReservedPolicy::ignore;
    p.placement = false;
    write_framer_seed(dir, "target-plain", stream_for(Role::target, none), p);
  }
  {
    auto p = plan(Role::target, both, 262144, {3, 1000});
    p.config.skip_pdu_on_header_digest_error = true;
    p.config.staging_bytes = 4096;
    p.drain_every = 2;
    write_framer_seed(dir, "target-digests", stream_for(Role::target, both), p);
  }
  {
    // A READ's Data-In sequence, placed at its buffer offsets.
    Bytes stream;
    for (std::uint32_t i = 0; i < 4; ++i) {
      DataIn din;
      din.final = i == 3;
      din.itt = Itt(0x20);
      din.data_sn = i;
      din.buffer_offset = i * 301;
      din.exp_cmd_sn = SerialNumber(5);
      din.max_cmd_sn = SerialNumber(36);
      const Bytes pdu = serialize_pdu(Header{din}, pattern(301, i), both);
      stream.insert(stream.end(), pdu.begin(), pdu.end());
    }
    write_framer_seed(dir, "data-in-sequence", stream,
                      plan(Role::initiator, both, 2047, {400, 100, 65536}));
  }
  {
    // The final Login Response without digests, then full feature phase with both.
    LoginResponse lr;
    lr.transit = true;
    lr.csg = LoginStage::operational_negotiation;
    lr.nsg = LoginStage::full_feature_phase;
    lr.isid = 0x80123456789aull;
    lr.tsih = 1;
    lr.itt = Itt(1);
    lr.stat_sn = SerialNumber(1);
    lr.exp_cmd_sn = SerialNumber(2);
    lr.max_cmd_sn = SerialNumber(33);
    Bytes stream =
        serialize_pdu(Header{lr}, text_bytes("HeaderDigest=CRC32C\0DataDigest=CRC32C\0"sv), none);
    const std::size_t login_bytes = stream.size();
    const Bytes ffp = stream_for(Role::initiator, both);
    stream.insert(stream.end(), ffp.begin(), ffp.end());
    auto p = plan(Role::initiator, none, 8192, {login_bytes, 65536});
    p.toggle_digests_at = 1;
    write_framer_seed(dir, "digests-after-login", stream, p);
  }
  {
    // A corrupted header digest (skipped, as configured) and a corrupted data digest.
    Bytes stream = stream_for(Role::initiator, both);
    stream[kBhsSize] ^= std::byte{1};           // first PDU's header digest
    stream[stream.size() - 1] ^= std::byte{1};  // last PDU's data digest
    auto p = plan(Role::initiator, both, 8192, {4096});
    p.config.skip_pdu_on_header_digest_error = true;
    p.pause_on_error = true;
    write_framer_seed(dir, "bad-digests", stream, p);
  }
  {
    // A data segment over MaxRecvDataSegmentLength: fatal.
    NopIn nop;
    nop.itt = Itt(0xffffffff);
    nop.ttt = Ttt(7);
    const Bytes stream = serialize_pdu(Header{nop}, pattern(600, 6), none);
    write_framer_seed(dir, "segment-too-long", stream, plan(Role::initiator, none, 512, {64}));
  }
}

void pdu_decode_seeds(const fs::path& dir) {
  int i = 0;
  for (const Header& h : testing::sample_headers()) {
    Bhs bhs;
    encode_header(h, bhs);
    char name[64];
    std::snprintf(name, sizeof name, "%02d-%s", i++, opcode_name(opcode_of(h)));
    for (char* c = name; *c != '\0'; ++c)
      if (*c == ' ' || *c == '/') *c = '_';
    Bytes input(bhs.bytes.begin(), bhs.bytes.end());
    if (const auto* cmd = std::get_if<ScsiCommand>(&h)) {
      // A 32-byte CDB (16 bytes in an extended CDB AHS) and a bidirectional read length.
      ScsiCommand big = *cmd;
      Bytes ahs;
      const Bytes cdb = pattern(32, 7);
      if (!set_cdb(big, cdb, ahs)) std::exit(1);
      append_bidi_read_length_ahs(ahs, 4096);
      encode_header(big, bhs);
      bhs.set_total_ahs_length(static_cast<std::uint8_t>(ahs.size() / 4));
      Bytes with_ahs(bhs.bytes.begin(), bhs.bytes.end());
      with_ahs.insert(with_ahs.end(), ahs.begin(), ahs.end());
      write_file(dir / (std::string(name) + "-ahs"), with_ahs);
    }
    write_file(dir / name, input);
  }
}

void text_seeds(const fs::path& dir) {
  const std::pair<const char*, std::string_view> sets[] = {
      {"login-initiator-operational",
       "InitiatorName=iqn.2024-01.org.example:host1\0InitiatorAlias=host1\0"
       "TargetName=iqn.2024-01.org.example:disk0\0SessionType=Normal\0"
       "HeaderDigest=CRC32C,None\0DataDigest=CRC32C,None\0MaxConnections=1\0InitialR2T=No\0"
       "ImmediateData=Yes\0MaxRecvDataSegmentLength=262144\0MaxBurstLength=16776192\0"
       "FirstBurstLength=262144\0DefaultTime2Wait=2\0DefaultTime2Retain=0\0"
       "MaxOutstandingR2T=1\0DataPDUInOrder=Yes\0DataSequenceInOrder=Yes\0"
       "ErrorRecoveryLevel=0\0"sv},
      {"login-target-answer",
       "TargetPortalGroupTag=1\0HeaderDigest=CRC32C\0DataDigest=None\0MaxConnections=1\0"
       "InitialR2T=No\0ImmediateData=Yes\0MaxRecvDataSegmentLength=65536\0"
       "MaxBurstLength=0x40000\0FirstBurstLength=0bAAQAAA==\0X-com.example.Feature=NotUnderstood\0"
       "OFMarker=Irrelevant\0TargetAlias=disk0\0"sv},
      {"login-discovery",
       "InitiatorName=iqn.2024-01.org.example:host1\0SessionType=Discovery\0"
       "AuthMethod=None\0"sv},
      {"chap-offer", "InitiatorName=iqn.2024-01.org.example:host1\0AuthMethod=CHAP,None\0"sv},
      {"chap-algorithm", "CHAP_A=5,7\0"sv},
      {"chap-challenge",
       "CHAP_A=5\0CHAP_I=17\0CHAP_C=0x3f2a9c1d04e5b6a7788899aabbccddeeff0011223344\0"sv},
      {"chap-response-mutual",
       "CHAP_N=user1\0CHAP_R=0x0f1e2d3c4b5a69788796a5b4c3d2e1f0\0CHAP_I=200\0"
       "CHAP_C=0bq83vEjRWeJqrze8SNFZ4mg==\0"sv},
      {"sendtargets-request", "SendTargets=All\0"sv},
      {"sendtargets-answer",
       "TargetName=iqn.2024-01.org.example:disk0\0TargetAddress=192.168.1.10:3260,1\0"
       "TargetAddress=[fe80::1%eth0]:3260,2\0TargetName=iqn.2024-01.org.example:tape0\0"
       "TargetAddress=192.168.1.10:3261,1\0"sv},
      {"no-final-nul", "HeaderDigest=None\0DataDigest=None"sv},
  };
  for (const auto& [name, text] : sets)
    write_file(dir / name, as_bytes(text));
}

// ---- session fuzzers -----------------------------------------------------------------------

// An input of fuzz_target_engine or fuzz_initiator_engine: configuration bytes, then operations
// (an op code and its arguments; see engine_input.hpp).
class SessionInput {
 public:
  explicit SessionInput(std::initializer_list<std::uint8_t> config) {
    for (std::uint8_t b : config)
      w_.u8(b);
  }
  SessionInput& u8(std::uint8_t v) {
    w_.u8(v);
    return *this;
  }
  SessionInput& u32(std::uint32_t v) {
    w_.u32(v);
    return *this;
  }
  SessionInput& op(std::uint8_t code, std::initializer_list<std::uint8_t> args = {}) {
    w_.u8(code);
    for (std::uint8_t b : args)
      w_.u8(b);
    return *this;
  }
  // An operation whose arguments end with a header (any_pdu): 48 BHS bytes, flags, length.
  SessionInput& pdu(std::uint8_t code, const Bhs& bhs, std::uint8_t flags, std::uint16_t length) {
    w_.u8(code).bytes(bhs.bytes).u8(flags).u16(length);
    return *this;
  }
  void write(const fs::path& path) const { write_file(path, std::as_bytes(std::span(w_.data()))); }

 private:
  fuzz::InputWriter w_;
};

void target_engine_seeds(const fs::path& dir) {
  namespace op = fuzz::target_op;
  // Configuration: mode, parameters, segment lengths, bursts, window, faults, then the CmdSN.
  // One operational stage, no digests, InitialR2T=Yes: a read, a write by R2T, a read whose LU
  // answer overflows, NOP, ABORT TASK, SendTargets, time, logout.
  SessionInput({1, 0x0c, 3 | 3 << 3, 5 | 4 << 3 | 1 << 6, 3, 0})
      .u32(1)
      .op(op::command, {0x01, 0, 5, 0, 0x28, 0})
      .op(op::complete, {0, 0})
      .op(op::command, {0x02, 1, 7, 0, 0x2a, 0})
      .op(op::data_out, {0, 0, 0})
      .op(op::complete, {0, 0})
      .op(op::command, {0x01, 2, 9, 0, 0x28, 0})
      .op(op::complete, {0, 2})
      .op(op::nop_out, {0, 16})
      .op(op::tmf, {0, 0, 0})
      .op(op::text, {0, 0})
      .op(op::time, {0, 100})
      .op(op::logout, {0, 0})
      .write(dir / "read-write-r2t");
  // Security stage first, both digests, immediate and unsolicited data, four R2Ts, CmdSN
  // wrapping past 2^32, CHECK CONDITION out of order, a bidirectional command, a status SNACK,
  // MaxRecvDataSegmentLength renegotiated, a long ping.
  SessionInput({2, 0x07 | 1 << 6, 2 | 2 << 3, 4 | 3 << 3 | 3 << 6, 2, 0})
      .u32(0xfffffffe)
      .op(op::command, {0x82, 2, 7, 1, 0x8a, 0})
      .op(op::data_out, {0, 0, 0})
      .op(op::command, {0x01, 3, 6, 0, 0x88, 0})
      .op(op::complete, {1, 3})
      .op(op::complete, {0, 0})
      .op(op::command, {0x23, 4, 5, 0x15, 0x53, 0})
      .op(op::data_out, {0, 0, 0})
      .op(op::complete, {0, 0})
      .op(op::snack, {1, 3, 0, 0, 0, 0})
      .op(op::text, {3, 0x40})
      .op(op::nop_out, {0x08, 40})
      .op(op::logout, {0, 0})
      .write(dir / "digests-unsolicited-erl1");
  // No scripted login: the input's own Login Request (operational keys, T=1 to full feature
  // phase), then a command, a framed NOP-Out from raw header bytes, logout and raw bytes.
  SessionInput({0, 0x0c, 3 | 3 << 3, 5 | 4 << 3, 3, 0})
      .u32(7)
      .op(op::text, {0x80, 0x8d})
      .op(op::command, {0x01, 5, 5, 0, 0x12, 0})
      .op(op::complete, {0, 0})
      .pdu(
          op::any_pdu,
          encode(NopOut{true, Lun(), Itt(0x55), Ttt::reserved(), SerialNumber(0), SerialNumber(0)}),
          0x10, 20)
      .op(op::logout, {0, 0})
      .op(op::raw, {4, 0, 0, 0, 0})
      .write(dir / "raw-login");
  // The LU answers inline, NOP-In pings, faults (Data-In last-first, A bit, an async logout
  // request), ERL 1, tiny segments and bursts, a window of 1, small write limits, 7-byte chunks
  // through receive_buffer(), blocked writes, resets, connection loss.
  SessionInput({1 | 8 | 16 | 64, 0x0c | 1 << 6, 0 | 1 << 3, 0, 0 | 1 << 2, 1 | 2 | 16})
      .u32(0x7fffffff)
      .op(op::chunking, {0, 7, 1})
      .op(op::command, {0x01, 0, 5, 0, 0x28, 0})
      .op(op::command, {0x01, 1, 2, 0, 0x28, 0})
      .op(op::command, {0x02, 2, 6, 0, 0x2a, 0})
      .op(op::command, {0x02, 3, 3, 0, 0x2a, 0})
      .op(op::data_out, {0, 0, 0})
      .op(op::time, {0, 0})
      .op(op::nop_out, {1, 0})
      .op(op::block_writes)
      .op(op::command, {0x01, 4, 5, 0, 0x28, 0})
      .op(op::time, {0, 200})
      .op(op::block_writes)
      .op(op::tmf, {4, 0, 0})
      .op(op::tmf_done, {0})
      .op(op::tmf, {6, 0, 0})
      .op(op::tmf_done, {0})
      .op(op::lost, {0})
      .write(dir / "inline-lu-faults-timers");
  // A discovery session: SendTargets, a request continued with the C bit, the answer asked for
  // with the target's TTT, a key not allowed in full feature phase, a SCSI command.
  SessionInput({1 | 4, 0x00, 3 | 3 << 3, 5 | 4 << 3, 3, 0})
      .u32(100)
      .op(op::text, {0, 0})
      .op(op::text, {6, 0})
      .op(op::text, {0, 0x80})
      .op(op::text, {5, 0})
      .op(op::command, {0x01, 0, 5, 0, 0x12, 0})
      .op(op::logout, {0, 0})
      .write(dir / "discovery-text");
}

void initiator_engine_seeds(const fs::path& dir) {
  namespace op = fuzz::initiator_op;
  // Configuration: mode, parameters, segment lengths, bursts, window, StatSN, TSIH.
  // Scripted login; a read answered by Data-In with status, a write with immediate data then an
  // R2T for the rest, a bidirectional command, ABORT TASK, SendTargets, NOP ping, logout.
  SessionInput({1, 0x03, 3 | 3 << 3, 5 | 4 << 3, 3 | 31 << 3})
      .u32(1000)
      .u8(5)
      .op(op::submit, {0, 5, 0})
      .op(op::data_in, {0, 0, 0x21, 0})
      .op(op::submit, {1, 9, 0})
      .op(op::r2t, {0, 0, 0})
      .op(op::scsi_response, {0, 0, 0, 0, 0})
      .op(op::submit, {2, 5, 0})
      .op(op::r2t, {0, 0, 0})
      .op(op::data_in, {0, 0, 0x21, 0})
      .op(op::submit, {3, 0, 0})
      .op(op::tmf_rsp, {0, 0})
      .op(op::submit, {5, 0, 0})
      .op(op::text_rsp, {0, 0})
      .op(op::nop_in, {0, 0})
      .op(op::submit, {6, 0, 0})
      .op(op::logout_rsp, {0, 0})
      .write(dir / "read-write-tmf-logout");
  // Digests, ERL 1, keepalive, two outstanding R2Ts, unsolicited data, StatSN wrapping: a read
  // that times out half-way (ABORT TASK), a write, CHECK CONDITION with sense, an async SCSI
  // event, a Reject, the target's ping and ours, a logout with a deadline.
  SessionInput({1 | 8 | 32 | 64, 0x01 | 1 << 4 | 1 << 6, 2 | 4 << 3, 4 | 2 << 3, 2 | 3 << 3})
      .u32(0xfffffff0)
      .u8(7)
      .op(op::submit, {0, 6, 0x07})
      .op(op::data_in, {0, 4, 0x00, 0})
      .op(op::time, {0, 20})
      .op(op::tmf_rsp, {0, 0})
      .op(op::submit, {1, 8, 0})
      .op(op::r2t, {0, 0, 0x20})
      .op(op::scsi_response, {0, 1, 0x20, 0, 0x11})
      .op(op::async, {0, 5, 0})
      .op(op::reject, {0, 0})
      .op(op::nop_in, {0, 4})
      .op(op::time, {0, 0})
      .op(op::nop_in, {1, 0})
      .op(op::submit, {6, 3, 2})
      .op(op::logout_rsp, {0, 0})
      .write(dir / "digests-erl1-deadlines");
  // Recovery: the connection drops with a read in flight, the session logs in again and the
  // read goes again; a second drop, a refused login, a failed reconnection, a good one.
  SessionInput({1 | 4, 0x03, 3 | 3 << 3, 5 | 4 << 3, 3})
      .u32(500)
      .u8(9)
      .op(op::submit, {0, 5, 0})
      .op(op::lost, {0})
      .op(op::reconnect, {0})
      .op(op::data_in, {0, 0, 0x21, 0})
      .op(op::submit, {1, 6, 0})
      .op(op::lost, {0})
      .op(op::reconnect, {0x09})
      .op(op::reconnect, {0x80})
      .op(op::reconnect, {0})
      .op(op::r2t, {0, 0, 0})
      .op(op::scsi_response, {0, 0, 0, 0, 0})
      .write(dir / "recovery");
  // No scripted login: Login Responses from the input answer the security and operational
  // stages; then a read, a framed NOP-In from raw header bytes, and raw bytes.
  NopIn nop;
  nop.itt = Itt::reserved();
  nop.ttt = Ttt(0x99);
  SessionInput({0, 0x03, 3 | 3 << 3, 5 | 4 << 3, 3})
      .u32(1)
      .u8(1)
      .op(op::login_rsp, {1, 0, 0, 0x10})
      .op(op::login_rsp, {1, 0, 0, 0x10})
      .op(op::submit, {0, 3, 0})
      .op(op::data_in, {0, 0, 0x21, 0})
      .pdu(op::any_pdu, encode(nop), 0x10, 8)
      .op(op::raw, {4, 0x3f, 0x80, 0, 0})
      .write(dir / "raw-login");
  // A closed command window opened by a NOP-In, an async renegotiation request (the engine sends
  // its own Text Request), a task termination event, an async logout request (its own Logout),
  // chunked input through receive_buffer(), blocked writes.
  SessionInput({1, 0x03, 3 | 3 << 3, 5 | 4 << 3, 5})
      .u32(42)
      .u8(3)
      .op(op::chunking, {0, 5, 1})
      .op(op::submit, {0, 5, 0})
      .op(op::nop_in, {8, 3})
      .op(op::async, {4, 0, 0x10})
      .op(op::text_rsp, {0x10, 0})
      .op(op::block_writes)
      .op(op::submit, {0, 3, 0})
      .op(op::async, {5, 0, 0})
      .op(op::block_writes)
      .op(op::async, {1, 0, 0x20})
      .op(op::logout_rsp, {0, 0})
      .write(dir / "window-async");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  const fs::path root = argv[1];
  for (const char* target : {"framer", "pdu_decode", "text", "target_engine", "initiator_engine"})
    fs::create_directories(root / target);
  framer_seeds(root / "framer");
  pdu_decode_seeds(root / "pdu_decode");
  text_seeds(root / "text");
  target_engine_seeds(root / "target_engine");
  initiator_engine_seeds(root / "initiator_engine");
  return 0;
}
