#include "core/crc32c.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <numeric>
#include <random>
#include <vector>

namespace uiscsi::core {
namespace {

std::array<std::byte, 4> wire_digest(std::span<const std::byte> data,
                                     std::uint32_t (*fn)(std::span<const std::byte>,
                                                         std::uint32_t) noexcept) {
  std::array<std::byte, 4> out{};
  store_digest(out.data(), fn(data, 0));
  return out;
}

std::array<std::byte, 4> digest(std::initializer_list<int> v) {
  std::array<std::byte, 4> out{};
  std::size_t i = 0;
  for (int x : v)
    out[i++] = static_cast<std::byte>(x);
  return out;
}

// RFC 7143 appendix B.4: the test vectors, with the digest bytes in wire order.
struct Vector {
  const char* name;
  std::vector<std::byte> data;
  std::array<std::byte, 4> wire;
};

std::vector<Vector> rfc_vectors() {
  std::vector<Vector> v;
  v.push_back({"32 zero bytes", std::vector<std::byte>(32, std::byte{0}),
               digest({0xaa, 0x36, 0x91, 0x8a})});
  v.push_back({"32 0xff bytes", std::vector<std::byte>(32, std::byte{0xff}),
               digest({0x43, 0xab, 0xa8, 0x62})});
  std::vector<std::byte> inc(32), dec(32);
  for (int i = 0; i < 32; ++i) {
    inc[static_cast<std::size_t>(i)] = static_cast<std::byte>(i);
    dec[static_cast<std::size_t>(i)] = static_cast<std::byte>(31 - i);
  }
  v.push_back({"incrementing 00..1f", inc, digest({0x4e, 0x79, 0xdd, 0x46})});
  v.push_back({"decrementing 1f..00", dec, digest({0x5c, 0xdb, 0x3f, 0x11})});
  const int read10_pdu[48] = {0x01, 0xc0, 0, 0, 0, 0, 0,    0, 0,    0, 0, 0,    0, 0, 0, 0,
                              0x14, 0,    0, 0, 0, 0, 0x04, 0, 0,    0, 0, 0x14, 0, 0, 0, 0x18,
                              0x28, 0,    0, 0, 0, 0, 0,    0, 0x02, 0, 0, 0,    0, 0, 0, 0};
  std::vector<std::byte> pdu;
  for (int b : read10_pdu)
    pdu.push_back(static_cast<std::byte>(b));
  v.push_back({"SCSI Read(10) command PDU", pdu, digest({0x56, 0x3a, 0x96, 0xd9})});
  return v;
}

TEST(Crc32c, Rfc7143AppendixB4Portable) {
  for (const auto& v : rfc_vectors())
    EXPECT_EQ(wire_digest(v.data, crc32c_portable), v.wire) << v.name;
}

TEST(Crc32c, Rfc7143AppendixB4Dispatch) {
  for (const auto& v : rfc_vectors())
    EXPECT_EQ(wire_digest(v.data, crc32c), v.wire) << v.name;
}

TEST(Crc32c, Rfc7143AppendixB4Hardware) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "CPU has no SSE4.2";
  for (const auto& v : rfc_vectors())
    EXPECT_EQ(wire_digest(v.data, crc32c_hardware), v.wire) << v.name;
}

TEST(Crc32c, DigestByteOrderIsLittleEndian) {
  // The CRC value of 32 zero bytes is 0x8a9136aa; on the wire it reads aa 36 91 8a.
  const std::vector<std::byte> zeros(32);
  EXPECT_EQ(crc32c(zeros), 0x8a9136aau);
  std::array<std::byte, 4> out{};
  store_digest(out.data(), 0x8a9136aau);
  EXPECT_EQ(out, digest({0xaa, 0x36, 0x91, 0x8a}));
  EXPECT_EQ(load_digest(out.data()), 0x8a9136aau);
}

TEST(Crc32c, ChainingEqualsOneShotAndImplementationsAgree) {
  std::mt19937 rng(7);
  std::vector<std::byte> buf(1 << 20);
  for (auto& b : buf)
    b = static_cast<std::byte>(rng());
  // Sizes around every internal block boundary, offsets that misalign the start.
  for (std::size_t size : {0u, 1u, 3u, 7u, 8u, 15u, 16u, 63u, 64u, 255u, 256u, 1023u, 4096u, 8191u,
                           65536u, 65537u, 1048000u}) {
    for (std::size_t offset : {0u, 1u, 3u, 5u}) {
      std::span<const std::byte> s(buf.data() + offset, size);
      const std::uint32_t ref = crc32c_portable(s);
      EXPECT_EQ(crc32c(s), ref) << size << "+" << offset;
      if (crc32c_hardware_available()) {
        EXPECT_EQ(crc32c_hardware(s), ref) << size << "+" << offset;
      }
      const std::size_t cut = size / 3;
      EXPECT_EQ(crc32c(s.subspan(cut), crc32c(s.first(cut))), ref) << size << "+" << offset;
    }
  }
}

// The hardware path cuts buffers into blocks of three lanes whose width (in 8-byte words) follows
// the remaining length, and joins the lanes with a folding constant per width. Every length up
// to two maximal blocks (3 lanes x 4 KiB each) and a bit beyond exercises every width, every
// short tail and each head alignment; a nonzero incoming CRC checks that chaining reaches lane
// one. Reference values come from the portable implementation, chained byte by byte.
TEST(Crc32c, HardwareMatchesPortableForEveryLength) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "CPU has no SSE4.2";
  constexpr std::size_t kMaxLength = 2 * 3 * 4096 + 200;
  std::mt19937 rng(11);
  std::vector<std::byte> buf(kMaxLength + 8);
  for (auto& b : buf)
    b = static_cast<std::byte>(rng());
  for (std::size_t offset : {0u, 1u, 6u}) {
    for (std::uint32_t seed : {0u, 0xdeadbeefu}) {
      const std::span<const std::byte> all(buf.data() + offset, kMaxLength);
      std::uint32_t ref = seed;  // CRC of the first `n` bytes, extended one byte at a time
      std::size_t mismatches = 0;
      for (std::size_t n = 0; n <= kMaxLength; ++n) {
        if (n > 0) ref = crc32c_portable(all.subspan(n - 1, 1), ref);
        if (crc32c_hardware(all.first(n), seed) != ref && mismatches++ == 0)
          ADD_FAILURE() << "first mismatch at length " << n << " offset " << offset << " seed "
                        << seed;
      }
      EXPECT_EQ(mismatches, 0u) << "offset " << offset << " seed " << seed;
    }
  }
}

// Long buffers of constant bytes have known CRCs only through the portable path; chaining the
// hardware path over uneven pieces must still land on the same value.
TEST(Crc32c, HardwareChainsOverUnevenPieces) {
  if (!crc32c_hardware_available()) GTEST_SKIP() << "CPU has no SSE4.2";
  std::vector<std::byte> buf(3u << 20);
  std::mt19937 rng(3);
  for (auto& b : buf)
    b = static_cast<std::byte>(rng());
  const std::uint32_t ref = crc32c_portable(buf);
  EXPECT_EQ(crc32c_hardware(buf), ref);
  for (std::size_t piece : {1000u, 12288u, 12289u, 100000u}) {
    std::uint32_t crc = 0;
    for (std::size_t at = 0; at < buf.size(); at += piece)
      crc = crc32c_hardware(
          std::span<const std::byte>(buf).subspan(at, std::min(piece, buf.size() - at)), crc);
    EXPECT_EQ(crc, ref) << piece;
  }
}

}  // namespace
}  // namespace uiscsi::core
