#include "core/pdu.hpp"

#include <gtest/gtest.h>

#include "core/bytes.hpp"
#include "core/crc32c.hpp"
#include "support/sample_pdus.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

using testing::sample_headers;

TEST(Pdu, EveryOpcodeRoundTrips) {
  const auto headers = sample_headers();
  ASSERT_EQ(headers.size(), 18u);
  for (const auto& h : headers) {
    Bhs bhs;
    encode_header(h, bhs);
    auto back = decode_header(bhs);
    ASSERT_TRUE(back) << describe(h) << ": " << back.error().message();
    EXPECT_EQ(*back, h) << describe(h);
    // And the wire bytes are stable through a second encode.
    Bhs again;
    encode_header(*back, again);
    EXPECT_EQ(again.bytes, bhs.bytes) << describe(h);
  }
}

TEST(Pdu, OpcodeAndImmediateBit) {
  NopOut n;
  n.immediate = true;
  const Bhs b = encode(n);
  EXPECT_EQ(b.bytes[0], std::byte{0x40});
  EXPECT_EQ(b.bytes[1], std::byte{0x80});  // F bit is always 1 on NOP-Out
  LoginRequest l;
  EXPECT_EQ(encode(l).bytes[0], std::byte{0x43});  // Login is always immediate
  EXPECT_EQ(encode(Reject{}).bytes[0], std::byte{0x3f});
}

TEST(Pdu, FieldOffsetsFollowRfc7143) {
  // SCSI Command, RFC 7143 section 11.3: EDTL at 20, CmdSN 24, ExpStatSN 28, CDB at 32.
  ScsiCommand c;
  c.read = true;
  c.final = true;
  c.attr = TaskAttribute::simple;
  c.itt = Itt(0x01020304);
  c.expected_data_transfer_length = 0x0a0b0c0d;
  c.cmd_sn = SerialNumber(0x11121314);
  c.exp_stat_sn = SerialNumber(0x21222324);
  c.cdb[0] = std::byte{0x28};
  const Bhs b = encode(c);
  EXPECT_EQ(b.bytes[1], std::byte{0xc1});
  EXPECT_EQ(load_be32(b.bytes.data() + 16), 0x01020304u);
  EXPECT_EQ(load_be32(b.bytes.data() + 20), 0x0a0b0c0du);
  EXPECT_EQ(load_be32(b.bytes.data() + 24), 0x11121314u);
  EXPECT_EQ(load_be32(b.bytes.data() + 28), 0x21222324u);
  EXPECT_EQ(b.bytes[32], std::byte{0x28});

  // Data-In, section 11.7: S bit is bit 0 of byte 1, status at byte 3, DataSN 36, offset 40.
  DataIn d;
  d.final = true;
  d.status_present = true;
  d.status = 0x02;
  d.data_sn = 7;
  d.buffer_offset = 8192;
  d.residual_count = 5;
  const Bhs db = encode(d);
  EXPECT_EQ(db.bytes[1], std::byte{0x81});
  EXPECT_EQ(db.bytes[3], std::byte{0x02});
  EXPECT_EQ(load_be32(db.bytes.data() + 36), 7u);
  EXPECT_EQ(load_be32(db.bytes.data() + 40), 8192u);
  EXPECT_EQ(load_be32(db.bytes.data() + 44), 5u);

  // TMF, section 11.5: function in byte 1 with bit 7 set; TASK REASSIGN is 8, CLEAR TASK SET 4.
  TaskMgmtRequest t;
  t.function = TmfFunction::task_reassign;
  EXPECT_EQ(encode(t).bytes[1], std::byte{0x88});
  t.function = TmfFunction::clear_task_set;
  EXPECT_EQ(encode(t).bytes[1], std::byte{0x84});

  // Login Request, section 11.12: T C . . CSG NSG; ISID in bytes 8-13, TSIH 14-15, CID 20-21.
  LoginRequest l;
  l.transit = true;
  l.csg = LoginStage::operational_negotiation;
  l.nsg = LoginStage::full_feature_phase;
  l.isid = 0x800000000001ull;
  l.tsih = 0x1234;
  l.cid = 0x5678;
  const Bhs lb = encode(l);
  EXPECT_EQ(lb.bytes[1], std::byte{0x87});
  EXPECT_EQ(lb.bytes[8], std::byte{0x80});
  EXPECT_EQ(lb.bytes[13], std::byte{0x01});
  EXPECT_EQ(load_be16(lb.bytes.data() + 14), 0x1234);
  EXPECT_EQ(load_be16(lb.bytes.data() + 20), 0x5678);

  // SNACK, section 11.16: type in byte 1 low nibble, BegRun 40, RunLength 44.
  SnackRequest s;
  s.type = SnackType::data_ack;
  s.beg_run = 3;
  s.run_length = 1;
  const Bhs sb = encode(s);
  EXPECT_EQ(sb.bytes[1], std::byte{0x82});
  EXPECT_EQ(load_be32(sb.bytes.data() + 40), 3u);
  EXPECT_EQ(load_be32(sb.bytes.data() + 44), 1u);
}

TEST(Pdu, UnknownOpcodeRejected) {
  for (unsigned raw = 0; raw < 64; ++raw) {
    Bhs b;
    b.bytes[0] = static_cast<std::byte>(raw);
    b.bytes[1] = std::byte{0x80};
    auto r = decode_header(b, {ReservedPolicy::ignore});
    if (is_known_opcode(static_cast<std::uint8_t>(raw))) continue;
    ASSERT_FALSE(r) << raw;
    EXPECT_EQ(r.error(), protocol_errc::unknown_opcode);
  }
}

TEST(Pdu, EveryReservedBitIsCaughtInStrictModeAndIgnoredOtherwise) {
  for (const auto& h : sample_headers()) {
    Bhs clean;
    encode_header(h, clean);
    int flagged = 0;
    for (std::size_t i = 0; i < kBhsSize; ++i) {
      if (i >= 4 && i <= 7) continue;  // lengths are framing, tested separately
      for (int bitno = 0; bitno < 8; ++bitno) {
        if (i == 0 && bitno < 6) continue;  // the opcode itself
        Bhs b = clean;
        b.bytes[i] ^= static_cast<std::byte>(1u << bitno);
        auto strict = decode_header(b);
        if (strict || strict.error() != protocol_errc::reserved_field_nonzero) continue;
        ++flagged;
        // The same bit flipped is accepted when reserved bits are ignored, with equal fields.
        auto lenient = decode_header(b, {ReservedPolicy::ignore});
        ASSERT_TRUE(lenient) << describe(h) << " byte " << i << " bit " << bitno;
        EXPECT_EQ(*lenient, h) << describe(h) << " byte " << i << " bit " << bitno;
      }
    }
    EXPECT_GT(flagged, 0) << describe(h) << " has reserved bits (at least byte 0 bit 7)";
  }
}

TEST(Pdu, LengthsThatMustBeZero) {
  Bhs b = encode(TaskMgmtResponse{});
  b.set_data_segment_length(4);
  EXPECT_EQ(decode_header(b).error(), protocol_errc::invalid_field);
  b = encode(R2t{});
  b.set_total_ahs_length(1);
  EXPECT_EQ(decode_header(b).error(), protocol_errc::invalid_field);
  b = encode(ScsiCommand{});
  b.set_total_ahs_length(1);
  EXPECT_TRUE(decode_header(b));
}

TEST(Pdu, AsyncAndRejectCarryTheReservedItt) {
  for (Bhs b : {encode(Reject{}), encode(AsyncMessage{})}) {
    ASSERT_TRUE(decode_header(b));
    b.bytes[17] = std::byte{0xa0};  // ITT no longer 0xffffffff
    EXPECT_EQ(decode_header(b).error(), protocol_errc::invalid_field);
    EXPECT_TRUE(decode_header(b, {ReservedPolicy::ignore}));
  }
}

TEST(Pdu, FixedBitsAndStages) {
  Bhs b = encode(NopOut{});
  b.bytes[1] = std::byte{0};  // F must be 1
  EXPECT_EQ(decode_header(b).error(), protocol_errc::invalid_field);
  b = encode(LoginRequest{});
  b.bytes[0] = std::byte{0x03};  // I must be 1
  EXPECT_EQ(decode_header(b).error(), protocol_errc::invalid_field);
  b = encode(LoginRequest{});
  b.bytes[1] = std::byte{0x08};  // CSG = 2 is reserved
  EXPECT_EQ(decode_header(b).error(), protocol_errc::invalid_field);
  b.bytes[1] = std::byte{0x02};  // NSG = 2 without T is not looked at
  EXPECT_TRUE(decode_header(b));
  b.bytes[1] = std::byte{0x82};  // with T it is an error
  EXPECT_EQ(decode_header(b).error(), protocol_errc::invalid_field);
}

TEST(Pdu, ExtendedCdbAndBidiAhs) {
  std::vector<std::byte> cdb(32);
  for (std::size_t i = 0; i < cdb.size(); ++i)
    cdb[i] = static_cast<std::byte>(i + 1);
  ScsiCommand cmd;
  std::vector<std::byte> ahs;
  ASSERT_TRUE(set_cdb(cmd, cdb, ahs));
  append_bidi_read_length_ahs(ahs, 4096);
  EXPECT_EQ(ahs.size() % 4, 0u);
  // Extended CDB AHS: AHSLength = 16 + 1 (the reserved byte), type 1; then 8 bytes of bidi AHS.
  EXPECT_EQ(load_be16(ahs.data()), 17);
  EXPECT_EQ(ahs[2], std::byte{1});
  EXPECT_EQ(ahs.size(), 20u + 8u);
  auto parsed = parse_ahs(ahs);
  ASSERT_TRUE(parsed);
  ASSERT_EQ(parsed->extended_cdb.size(), 16u);
  EXPECT_EQ(parsed->extended_cdb[0], std::byte{17});
  EXPECT_EQ(parsed->bidi_read_expected_data_transfer_length, 4096u);
  EXPECT_EQ(cmd.cdb[0], std::byte{1});
  EXPECT_EQ(cmd.cdb[15], std::byte{16});

  // Every truncation of the AHS area is rejected cleanly.
  for (std::size_t n = 1; n < ahs.size(); ++n) {
    auto r = parse_ahs(std::span(ahs).first(n));
    if (n == 20) {  // exactly the first entry: valid on its own
      EXPECT_TRUE(r);
      continue;
    }
    EXPECT_FALSE(r) << n;
  }
  EXPECT_EQ(set_cdb(cmd, {}, ahs).error(), errc::invalid_argument);
}

TEST(Pdu, SerializeWithDigests) {
  const std::vector<std::byte> data = {std::byte{'a'}, std::byte{'b'}, std::byte{'c'}};
  TextRequest t;
  auto wire = serialize_pdu(Header{t}, data, {true, true});
  // 48 BHS + 4 header digest + 3 data + 1 pad + 4 data digest.
  ASSERT_EQ(wire.size(), 60u);
  EXPECT_EQ(load_be24(wire.data() + 5), 3u);
  EXPECT_EQ(load_digest(wire.data() + 48), crc32c(std::span(wire).first(48)));
  EXPECT_EQ(wire[55], std::byte{0});  // pad
  EXPECT_EQ(load_digest(wire.data() + 56), crc32c(std::span(wire).subspan(52, 4)));
  // No data: no data digest even when enabled.
  EXPECT_EQ(serialize_pdu(Header{t}, {}, {false, true}).size(), 48u);
}

TEST(Pdu, DescribeIsReadable) {
  DataOut d;
  d.itt = Itt(5);
  d.ttt = Ttt(0x10);
  d.data_sn = 2;
  d.buffer_offset = 16384;
  d.final = true;
  EXPECT_EQ(describe(d), "Data-Out itt=0x5 ttt=0x10 DataSN=2 offset=16384 F=1");
}

}  // namespace
}  // namespace uiscsi::core
