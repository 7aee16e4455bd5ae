#include "core/framer.hpp"

#include <gtest/gtest.h>

#include <random>

#include "core/bytes.hpp"
#include "support/sample_pdus.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

using testing::sample_headers;
using Bytes = std::vector<std::byte>;

Bytes payload(std::size_t n, unsigned seed = 1) {
  Bytes b(n);
  std::mt19937 rng(seed);
  for (auto& x : b)
    x = static_cast<std::byte>(rng());
  return b;
}

struct Received {
  Header header;
  Bytes ahs;
  Bytes data;
};

// Feeds `stream` in chunks of `chunk` bytes and collects every PDU; stops at the first error.
struct Collect {
  std::vector<Received> pdus;
  std::vector<std::error_code> errors;
};
Collect run(Framer& f, std::span<const std::byte> stream, std::size_t chunk) {
  Collect out;
  auto drain = [&] {
    for (;;) {
      auto r = f.next();
      if (!r) {
        out.errors.push_back(r.error());
        if (f.failed()) return false;
        continue;
      }
      if (*r == nullptr) return true;
      const InboundPdu& p = **r;
      out.pdus.push_back(
          {p.header, Bytes(p.ahs.begin(), p.ahs.end()), Bytes(p.data.begin(), p.data.end())});
    }
  };
  while (!stream.empty()) {
    const std::size_t n = f.feed(stream.first(std::min(chunk, stream.size())));
    stream = stream.subspan(n);
    if (!drain()) return out;
  }
  drain();
  return out;
}

FramerConfig initiator_config(bool hd = false, bool dd = false, std::uint32_t mrdsl = 262144) {
  FramerConfig c;
  c.role = Role::initiator;
  c.digests = {hd, dd};
  c.max_recv_data_segment_length = mrdsl;
  return c;
}

// A stream of target PDUs of various data sizes (0..5 bytes of padding cases included).
struct Stream {
  Bytes bytes;
  std::vector<Header> headers;
  std::vector<Bytes> datas;
};
Stream target_stream(const DigestConfig& d) {
  Stream s;
  std::size_t k = 0;
  for (const auto& h : sample_headers()) {
    const Opcode op = std::visit([](const auto& v) { return v.kOpcode; }, h);
    if (is_initiator_opcode(op)) continue;
    Bhs probe;
    encode_header(h, probe);
    const bool data_ok = decode_header([&] {
                           Bhs b = probe;
                           b.set_data_segment_length(1);
                           return b;
                         }())
                             .has_value();
    const Bytes data = data_ok ? payload(k * 37 % 300, static_cast<unsigned>(k)) : Bytes{};
    ++k;
    auto wire = serialize_pdu(h, data, d);
    s.bytes.insert(s.bytes.end(), wire.begin(), wire.end());
    s.headers.push_back(h);
    s.datas.push_back(data);
  }
  return s;
}

TEST(Framer, AnySplitGivesTheSamePdus) {
  for (bool digests : {false, true}) {
    const Stream s = target_stream({digests, digests});
    for (std::size_t chunk : {1u, 2u, 3u, 7u, 47u, 48u, 49u, 100u, 4096u, 1u << 20}) {
      Framer f(initiator_config(digests, digests));
      auto got = run(f, s.bytes, chunk);
      ASSERT_TRUE(got.errors.empty()) << got.errors[0].message();
      ASSERT_EQ(got.pdus.size(), s.headers.size()) << "chunk " << chunk;
      for (std::size_t i = 0; i < got.pdus.size(); ++i) {
        EXPECT_EQ(got.pdus[i].header, s.headers[i]) << describe(s.headers[i]);
        EXPECT_EQ(got.pdus[i].data, s.datas[i]) << describe(s.headers[i]);
      }
      EXPECT_TRUE(f.check_end_of_stream());
    }
  }
}

TEST(Framer, EveryTruncatedPrefixIsRejectedCleanly) {
  for (bool digests : {false, true}) {
    DataIn d;
    d.final = true;
    const Bytes data = payload(1001);
    const Bytes wire = serialize_pdu(Header{d}, data, {digests, digests});
    for (std::size_t n = 0; n < wire.size(); ++n) {
      Framer f(initiator_config(digests, digests));
      auto got = run(f, std::span(wire).first(n), 64);
      EXPECT_TRUE(got.pdus.empty()) << n;
      EXPECT_TRUE(got.errors.empty()) << n;
      if (n == 0) {
        EXPECT_TRUE(f.check_end_of_stream());
      } else {
        EXPECT_EQ(f.check_end_of_stream().error(), protocol_errc::truncated) << n;
      }
    }
  }
}

TEST(Framer, SingleByteCorruptionIsDetectedWithDigests) {
  ScsiResponse r;
  r.itt = Itt(7);
  const Bytes data = payload(18 + 2);
  const Bytes wire = serialize_pdu(Header{r}, data, {true, true});
  for (std::size_t i = 0; i < wire.size(); ++i) {
    for (std::uint8_t mask : {0x01, 0x80, 0xff}) {
      Bytes bad = wire;
      bad[i] ^= std::byte{mask};
      Framer f(initiator_config(true, true));
      auto got = run(f, bad, 13);
      const bool detected = !got.errors.empty() || (got.pdus.empty() && !f.check_end_of_stream());
      EXPECT_TRUE(detected) << "byte " << i << " mask " << int{mask};
      // Never a PDU that differs from what was sent.
      for (const auto& p : got.pdus) {
        EXPECT_EQ(p.header, Header{r});
        EXPECT_EQ(p.data, data);
      }
    }
  }
}

TEST(Framer, OversizedDataSegmentIsFatalAndAllocatesNothing) {
  DataIn d;
  Bhs b = encode(d);
  b.set_data_segment_length(kMaxDataSegmentLength);  // 16 MiB claim, no bytes behind it
  Framer f(initiator_config(false, false, 8192));
  f.feed(b.bytes);
  auto r = f.next();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), protocol_errc::data_segment_too_long);
  EXPECT_TRUE(f.failed());
  EXPECT_EQ(f.next().error(), protocol_errc::data_segment_too_long);
  EXPECT_TRUE(f.read_buffer().empty());
}

TEST(Framer, DataSegmentAtTheLimitIsAccepted) {
  DataIn d;
  const Bytes data = payload(8192);
  const Bytes wire = serialize_pdu(Header{d}, data, {});
  Framer f(initiator_config(false, false, 8192));
  auto got = run(f, wire, 1000);
  ASSERT_EQ(got.pdus.size(), 1u);
  EXPECT_EQ(got.pdus[0].data, data);
}

TEST(Framer, WrongDirectionOpcodeIsSkippedAndReported) {
  // An initiator receiving a Data-Out (an initiator opcode) followed by a good NOP-In.
  DataOut bad;
  Bytes wire = serialize_pdu(Header{bad}, payload(10), {});
  NopIn good;
  good.itt = Itt(3);
  const Bytes tail = serialize_pdu(Header{good}, {}, {});
  wire.insert(wire.end(), tail.begin(), tail.end());
  Framer f(initiator_config());
  auto got = run(f, wire, 5);
  ASSERT_EQ(got.errors.size(), 1u);
  EXPECT_EQ(got.errors[0], protocol_errc::unexpected_opcode);
  EXPECT_EQ(f.failed_bhs().opcode(), Opcode::scsi_data_out);
  ASSERT_EQ(got.pdus.size(), 1u);
  EXPECT_EQ(got.pdus[0].header, Header{good});
  EXPECT_FALSE(f.failed());
}

TEST(Framer, HeaderDigestErrorIsFatalUnlessSkippingIsAllowed) {
  NopIn a, b;
  a.itt = Itt(1);
  b.itt = Itt(2);
  Bytes wire = serialize_pdu(Header{a}, payload(8), {true, false});
  wire[20] ^= std::byte{1};  // corrupt a's TTT
  const Bytes second = serialize_pdu(Header{b}, {}, {true, false});
  wire.insert(wire.end(), second.begin(), second.end());

  Framer strict(initiator_config(true, false));
  auto got = run(strict, wire, 64);
  ASSERT_EQ(got.errors.size(), 1u);
  EXPECT_EQ(got.errors[0], protocol_errc::header_digest_mismatch);
  EXPECT_TRUE(strict.failed());
  EXPECT_TRUE(got.pdus.empty());

  FramerConfig c = initiator_config(true, false);
  c.skip_pdu_on_header_digest_error = true;
  Framer lenient(c);
  got = run(lenient, wire, 64);
  ASSERT_EQ(got.errors.size(), 1u);
  EXPECT_EQ(got.errors[0], protocol_errc::header_digest_mismatch);
  ASSERT_EQ(got.pdus.size(), 1u);
  EXPECT_EQ(got.pdus[0].header, Header{b});
}

TEST(Framer, DataDigestErrorCostsOnlyThatPdu) {
  DataIn a, b;
  a.itt = Itt(1);
  b.itt = Itt(2);
  Bytes wire = serialize_pdu(Header{a}, payload(100), {false, true});
  wire[60] ^= std::byte{0x10};
  const Bytes second = serialize_pdu(Header{b}, payload(50), {false, true});
  wire.insert(wire.end(), second.begin(), second.end());
  Framer f(initiator_config(false, true));
  auto got = run(f, wire, 33);
  ASSERT_EQ(got.errors.size(), 1u);
  EXPECT_EQ(got.errors[0], protocol_errc::data_digest_mismatch);
  EXPECT_EQ(f.failed_bhs().itt(), Itt(1));
  ASSERT_EQ(got.pdus.size(), 1u);
  EXPECT_EQ(got.pdus[0].header, Header{b});
}

TEST(Framer, ReconfigureTakesEffectAtTheNextPdu) {
  // Final Login Response without digests, then a NOP-In with both digests, in one buffer.
  LoginResponse lr;
  lr.transit = true;
  lr.csg = LoginStage::operational_negotiation;
  lr.nsg = LoginStage::full_feature_phase;
  Bytes wire = serialize_pdu(Header{lr}, payload(20), {});
  NopIn nop;
  nop.itt = Itt(9);
  const Bytes second = serialize_pdu(Header{nop}, payload(6), {true, true});
  wire.insert(wire.end(), second.begin(), second.end());

  Framer f(initiator_config());
  f.feed(wire);
  auto first = f.next();
  ASSERT_TRUE(first && *first);
  EXPECT_TRUE(std::holds_alternative<LoginResponse>((*first)->header));
  f.configure(initiator_config(true, true));
  auto next = f.next();
  ASSERT_TRUE(next && *next) << (next ? "" : next.error().message());
  EXPECT_EQ((*next)->header, Header{nop});
  EXPECT_EQ((*next)->data.size(), 6u);
}

class BufferPlacement : public DataPlacement {
 public:
  Bytes buffer = Bytes(1 << 20);
  std::span<std::byte> place(const Header& h, std::uint32_t len) override {
    const auto* d = std::get_if<DataIn>(&h);
    if (d == nullptr || d->buffer_offset + len > buffer.size()) return {};
    return std::span(buffer).subspan(d->buffer_offset, len);
  }
};

// `data` as Data-In PDUs of `segment` bytes each (the last one final), one after another.
Bytes data_in_wire(const Bytes& data, std::uint32_t segment, DigestConfig digests) {
  Bytes wire;
  const auto count = static_cast<std::uint32_t>(data.size() / segment);
  for (std::uint32_t i = 0; i < count; ++i) {
    DataIn d;
    d.itt = Itt(1);
    d.data_sn = i;
    d.buffer_offset = i * segment;
    d.final = i + 1 == count;
    auto pdu = serialize_pdu(Header{d}, std::span(data).subspan(i * segment, segment), digests);
    wire.insert(wire.end(), pdu.begin(), pdu.end());
  }
  return wire;
}

struct ReadCounts {
  std::size_t pdus = 0, placed_pdus = 0, reads = 0, direct = 0;  // direct: bytes read in place
};

// Feeds `wire` through read_buffer()/commit() as a socket would, each read taking what the
// framer hands out, at most `max_read` bytes; framing errors fail the test.
ReadCounts read_through(Framer& f, const BufferPlacement& placement, const Bytes& wire,
                        std::size_t max_read) {
  ReadCounts counts;
  std::size_t pos = 0;
  while (pos < wire.size()) {
    auto buf = f.read_buffer();
    EXPECT_FALSE(buf.empty());
    if (buf.empty()) break;
    const bool is_dest = buf.data() >= placement.buffer.data() &&
                         buf.data() < placement.buffer.data() + placement.buffer.size();
    const std::size_t n = std::min({buf.size(), wire.size() - pos, max_read});
    std::memcpy(buf.data(), wire.data() + pos, n);
    f.commit(n);
    pos += n;
    ++counts.reads;
    if (is_dest) counts.direct += n;
    for (;;) {
      auto r = f.next();
      EXPECT_TRUE(r) << r.error().message();
      if (!r || *r == nullptr) break;
      ++counts.pdus;
      if ((*r)->data_placed) ++counts.placed_pdus;
    }
  }
  return counts;
}

TEST(Framer, PlacementReceivesDataStraightFromReadBuffer) {
  // Three Data-In PDUs of 64 KiB, read through read_buffer()/commit() in odd-sized reads.
  const Bytes data = payload(3 * 65536);
  const Bytes wire = data_in_wire(data, 65536, {true, true});
  FramerConfig c = initiator_config(true, true);
  c.staging_bytes = 4096;
  Framer f(c);
  BufferPlacement placement;
  f.set_placement(&placement);
  const auto counts = read_through(f, placement, wire, 10007);
  EXPECT_EQ(counts.pdus, 3u);
  EXPECT_EQ(counts.placed_pdus, 3u);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), placement.buffer.begin()));
  // Most data bytes went straight into the destination.
  EXPECT_GT(counts.direct, data.size() * 3 / 4);
}

TEST(Framer, AfterALargePlacedSegmentHeadersAreReadAlone) {
  // A socket with plenty queued fills whatever read_buffer() hands out. The first 64 KiB
  // Data-In lands in the staging buffer with its header (and is copied); from then on the
  // framer asks for just the trailer and the next header, and every later data segment is
  // read straight into the destination.
  const Bytes data = payload(4 * 65536);
  const Bytes wire = data_in_wire(data, 65536, {true, true});
  Framer f(initiator_config(true, true));
  BufferPlacement placement;
  f.set_placement(&placement);
  const auto counts = read_through(f, placement, wire, wire.size());
  EXPECT_EQ(counts.pdus, 4u);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), placement.buffer.begin()));
  EXPECT_GE(counts.direct, 3u * 65536);
  // The first PDU in 2 reads, then (trailer and) header, and data, for each of the others, and
  // the last trailer.
  EXPECT_LE(counts.reads, 2u + 2u * 3 + 1);
}

TEST(Framer, SmallSegmentsKeepFullSizeReads) {
  // 4 KiB Data-In PDUs: below kLargeSegment, reads keep filling the whole staging buffer, so
  // one read takes many PDUs.
  const Bytes data = payload(16 * 4096);
  const Bytes wire = data_in_wire(data, 4096, {});
  Framer f(initiator_config());
  BufferPlacement placement;
  f.set_placement(&placement);
  const auto counts = read_through(f, placement, wire, wire.size());
  EXPECT_EQ(counts.pdus, 16u);
  EXPECT_TRUE(std::equal(data.begin(), data.end(), placement.buffer.begin()));
  EXPECT_LE(counts.reads, 3u);
}

TEST(Framer, StagingBufferIsBounded) {
  FramerConfig c = initiator_config();
  c.staging_bytes = 4096;
  Framer f(c);
  const Bytes big(5000);
  EXPECT_EQ(f.feed(big), 4096u);
  EXPECT_EQ(f.feed(big), 0u);
}

}  // namespace
}  // namespace uiscsi::core
