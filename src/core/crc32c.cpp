// CRC32C (Castagnoli), the iSCSI header and data digest (RFC 7143 section 13.1; test vectors
// in appendix B.4).
//
// Two implementations:
//   - portable: slicing-by-8 over tables built at compile time; every platform.
//   - hardware (x86-64 only): the SSE4.2 crc32 instruction on 8-byte words; buffers of at least
//     kMinFoldBytes run as three interleaved lanes joined with PCLMULQDQ carry-less multiplies.
// crc32c() picks one at run time from CPUID, detected once (a thread-safe function-local static).
//
// Notation. The CRC is bit-reflected: in a 32-bit register value r, bit i is the coefficient of
// x^(31-i); in a 64-bit word, bit i is the coefficient of x^(63-i). Arithmetic is over GF(2)
// modulo P(x) = x^32 + 0x1EDC6F41. The register is kept without the pre/post inversion that the
// public functions apply.
//
// Facts the hardware path rests on (R, V, A, B are the polynomials of r, v, a, b):
//   (1) The register is linear: feeding message M1 then M2 from register r gives
//       shift(reg(r, M1), |M2|) xor reg(0, M2), and shift(r, n bytes) = R * x^(8n) mod P
//       (feeding a zero byte multiplies by x^8).
//   (2) crc32q(r, v) = (R * x^64 + V * x^32) mod P; in particular crc32q(0, v) = V * x^32 mod P.
//   (3) pclmulqdq of two 32-bit values a, b yields a 64-bit word whose polynomial is A * B * x:
//       the 63-bit product sits one place short of the word's top end.
// Hence crc32q(0, clmul(r, K)) = R * K * x^33 mod P, and with K = x^(8n - 33) mod P this is
// shift(r, n). A block of three lanes of L bytes each (lanes a, b, c; a starts from the incoming
// register, b and c from zero) folds to shift(a, 2L) xor shift(b, L) xor c; the two shifts share
// one crc32q because (2) is linear in v, and that crc32q is merged into lane c's last word.
// The constants x^(64w - 33) mod P for every lane width of w words are computed at compile time
// (kFoldConstants) and checked against the byte table by the static_asserts below; the unit
// tests compare the hardware path with the portable one for every length across all widths.
#include "core/crc32c.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>  // SSE4.2 crc32
#include <wmmintrin.h>  // PCLMULQDQ
#endif

namespace uiscsi::core {
namespace {

// Reflected polynomial of 0x1EDC6F41: x^32 mod P.
constexpr std::uint32_t kPoly = 0x82f63b78u;
// The polynomial 1 (x^0) in reflected form.
constexpr std::uint32_t kOne = 0x80000000u;

// Slicing-by-8 tables, built at compile time.
constexpr std::array<std::array<std::uint32_t, 256>, 8> make_tables() {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1u) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t s = 1; s < 8; ++s)
    for (std::uint32_t i = 0; i < 256; ++i)
      t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xffu];
  return t;
}
constexpr auto kTables = make_tables();

// ---- polynomial arithmetic modulo P, reflected ----

// a * x mod P: x^(31-i) becomes x^(31-(i-1)); the x^31 term becomes x^32 = kPoly.
constexpr std::uint32_t mul_x(std::uint32_t a) {
  return (a & 1u) ? (a >> 1) ^ kPoly : a >> 1;
}

// a * b mod P (shift-and-add over a's terms from x^0 upwards).
constexpr std::uint32_t mul_mod(std::uint32_t a, std::uint32_t b) {
  std::uint32_t product = 0;
  for (std::uint32_t term = kOne; term != 0; term >>= 1) {
    if ((a & term) != 0) product ^= b;
    b = mul_x(b);
  }
  return product;
}

// x^n mod P by square and multiply.
constexpr std::uint32_t x_pow_mod(std::uint64_t n) {
  std::uint32_t result = kOne;
  std::uint32_t square = kOne >> 1;  // x^1
  for (; n != 0; n >>= 1) {
    if ((n & 1u) != 0) result = mul_mod(result, square);
    square = mul_mod(square, square);
  }
  return result;
}

// The register advanced over n zero bytes with the byte table: the reference for fact (1).
constexpr std::uint32_t shift_by_table(std::uint32_t r, std::size_t n) {
  for (; n != 0; --n)
    r = (r >> 8) ^ kTables[0][r & 0xffu];
  return r;
}

// ---- lane geometry of the hardware path ----

// A block is three lanes of w 8-byte words, kMinLaneWords <= w <= kMaxLaneWords, w chosen as
// large as the remaining length allows. Larger lanes spread the fixed cost of one join
// (about 15 cycles of latency) over more data; 4 KiB lanes keep it near 1%. Below 4 words per
// lane one chain is about as fast as three plus the join (measured: bench/README.md).
constexpr std::size_t kMaxLaneWords = 512;
constexpr std::size_t kMinLaneWords = 4;

// kFoldConstants[w] = x^(64w - 33) mod P: shifts a register past w words (see the file
// comment). Indexes 1 .. 2 * kMaxLaneWords are used (lane a moves past two lanes).
constexpr std::array<std::uint32_t, 2 * kMaxLaneWords + 1> make_fold_constants() {
  std::array<std::uint32_t, 2 * kMaxLaneWords + 1> k{};
  const std::uint32_t x64 = x_pow_mod(64);
  k[1] = x_pow_mod(64 - 33);
  for (std::size_t w = 2; w < k.size(); ++w)
    k[w] = mul_mod(k[w - 1], x64);
  return k;
}
constexpr auto kFoldConstants = make_fold_constants();

// The polynomial arithmetic agrees with the table-driven CRC ...
static_assert(x_pow_mod(32) == kPoly);
static_assert(x_pow_mod(31) == 1u);
static_assert(mul_mod(kOne, 0x12345678u) == 0x12345678u);
static_assert(shift_by_table(0x12345678u, 1) == mul_mod(0x12345678u, x_pow_mod(8)));
static_assert(shift_by_table(0xdeadbeefu, 77) == mul_mod(0xdeadbeefu, x_pow_mod(8 * 77)));
// ... the table holds x^(64w - 33) ...
static_assert(kFoldConstants[1] == 1u);  // x^31
static_assert(kFoldConstants[2] == x_pow_mod(2 * 64 - 33));
static_assert(kFoldConstants[kMinLaneWords] == x_pow_mod(64 * kMinLaneWords - 33));
static_assert(kFoldConstants[170] == x_pow_mod(64 * 170 - 33));
static_assert(kFoldConstants[kMaxLaneWords] == x_pow_mod(64 * kMaxLaneWords - 33));
static_assert(kFoldConstants[2 * kMaxLaneWords] == x_pow_mod(128 * kMaxLaneWords - 33));
// ... and K * x^33 (the factor x of (3) and x^32 of (2)) shifts a register past w words.
static_assert(mul_mod(mul_mod(0x9abcdef0u, kFoldConstants[1]), x_pow_mod(33)) ==
              shift_by_table(0x9abcdef0u, 8));
static_assert(mul_mod(mul_mod(0x0badf00du, kFoldConstants[kMinLaneWords]), x_pow_mod(33)) ==
              shift_by_table(0x0badf00du, 8 * kMinLaneWords));
static_assert(mul_mod(mul_mod(0x7fffffffu, kFoldConstants[100]), x_pow_mod(33)) ==
              shift_by_table(0x7fffffffu, 800));

#if defined(__x86_64__)

// Shorter buffers run as one chain (plus up to 7 bytes to reach 8-byte alignment first).
constexpr std::size_t kMinFoldBytes = 3 * 8 * kMinLaneWords + 7;

#define UISCSI_TARGET_SSE42 __attribute__((target("sse4.2")))
#define UISCSI_TARGET_SSE42_CLMUL __attribute__((target("sse4.2,pclmul")))

struct CpuFeatures {
  bool sse42 = false;
  bool clmul = false;
};

const CpuFeatures& cpu_features() noexcept {
  static const CpuFeatures features = [] {
    __builtin_cpu_init();  // harmless if already done; needed before constructors ran
    CpuFeatures f;
    f.sse42 = __builtin_cpu_supports("sse4.2") != 0;
    f.clmul = f.sse42 && __builtin_cpu_supports("pclmul") != 0;
    return f;
  }();
  return features;
}

inline std::uint64_t load64(const unsigned char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline std::uint32_t load32(const unsigned char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline std::uint16_t load16(const unsigned char* p) {
  std::uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// One dependent chain of crc32 instructions over [p, p + n); register in and out.
UISCSI_TARGET_SSE42 std::uint32_t crc_chain(const unsigned char* p, std::size_t n,
                                            std::uint32_t reg) {
  std::uint64_t r = reg;
  for (; n >= 8; n -= 8, p += 8)
    r = _mm_crc32_u64(r, load64(p));
  auto r32 = static_cast<std::uint32_t>(r);
  if ((n & 4) != 0) {
    r32 = _mm_crc32_u32(r32, load32(p));
    p += 4;
  }
  if ((n & 2) != 0) {
    r32 = _mm_crc32_u16(r32, load16(p));
    p += 2;
  }
  if ((n & 1) != 0) r32 = _mm_crc32_u8(r32, *p);
  return r32;
}

// Three lanes per block, joined with carry-less multiplies. Precondition: n >= kMinFoldBytes.
UISCSI_TARGET_SSE42_CLMUL std::uint32_t crc_folded(const unsigned char* p, std::size_t n,
                                                   std::uint32_t reg) {
  // Reach 8-byte alignment so no word load straddles a cache line.
  const std::size_t head = (8 - (reinterpret_cast<std::uintptr_t>(p) & 7u)) & 7u;
  reg = crc_chain(p, head, reg);
  p += head;
  n -= head;
  for (;;) {
    const std::size_t w = std::min(kMaxLaneWords, n / 24);
    if (w < kMinLaneWords) break;
    const std::size_t lane = 8 * w;
    const unsigned char* pa = p;
    const unsigned char* pb = p + lane;
    const unsigned char* pc = p + 2 * lane;
    std::uint64_t a = reg, b = 0, c = 0;
    const std::size_t last = lane - 8;
    for (std::size_t off = 0; off < last; off += 8) {
      a = _mm_crc32_u64(a, load64(pa + off));
      b = _mm_crc32_u64(b, load64(pb + off));
      c = _mm_crc32_u64(c, load64(pc + off));
    }
    a = _mm_crc32_u64(a, load64(pa + last));
    b = _mm_crc32_u64(b, load64(pb + last));
    // clmul(a, x^(128w - 33)) and clmul(b, x^(64w - 33)): after crc32q they are a and b moved
    // past two lanes and one lane respectively.
    const __m128i ka = _mm_cvtsi64_si128(static_cast<long long>(kFoldConstants[2 * w]));
    const __m128i kb = _mm_cvtsi64_si128(static_cast<long long>(kFoldConstants[w]));
    const __m128i fa = _mm_clmulepi64_si128(_mm_cvtsi64_si128(static_cast<long long>(a)), ka, 0);
    const __m128i fb = _mm_clmulepi64_si128(_mm_cvtsi64_si128(static_cast<long long>(b)), kb, 0);
    const auto folded = static_cast<std::uint64_t>(_mm_cvtsi128_si64(_mm_xor_si128(fa, fb)));
    // crc32q(c, v ^ folded) = crc32q(c, v) ^ crc32q(0, folded): lane c's last word and the join.
    reg = static_cast<std::uint32_t>(_mm_crc32_u64(c, load64(pc + last) ^ folded));
    p += 3 * lane;
    n -= 3 * lane;
  }
  return crc_chain(p, n, reg);
}

// Precondition: features.sse42.
std::uint32_t crc_hardware(std::span<const std::byte> data, std::uint32_t crc,
                           const CpuFeatures& features) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  const std::size_t n = data.size();
  const std::uint32_t reg =
      (features.clmul && n >= kMinFoldBytes) ? crc_folded(p, n, ~crc) : crc_chain(p, n, ~crc);
  return ~reg;
}

#undef UISCSI_TARGET_SSE42
#undef UISCSI_TARGET_SSE42_CLMUL

#endif  // __x86_64__

}  // namespace

std::uint32_t crc32c_portable(std::span<const std::byte> data, std::uint32_t crc) noexcept {
  std::uint32_t c = ~crc;
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  while (n >= 8) {
    const std::uint32_t lo = c ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                                  std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24);
    c = kTables[7][lo & 0xffu] ^ kTables[6][(lo >> 8) & 0xffu] ^ kTables[5][(lo >> 16) & 0xffu] ^
        kTables[4][lo >> 24] ^ kTables[3][p[4]] ^ kTables[2][p[5]] ^ kTables[1][p[6]] ^
        kTables[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n--)
    c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xffu];
  return ~c;
}

#if defined(__x86_64__)

bool crc32c_hardware_available() noexcept {
  return cpu_features().sse42;
}

// Safe on any CPU: without SSE4.2 it quietly computes the portable result.
std::uint32_t crc32c_hardware(std::span<const std::byte> data, std::uint32_t crc) noexcept {
  const CpuFeatures& features = cpu_features();
  if (!features.sse42) return crc32c_portable(data, crc);
  return crc_hardware(data, crc, features);
}

std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc) noexcept {
  const CpuFeatures& features = cpu_features();
  if (features.sse42) return crc_hardware(data, crc, features);
  return crc32c_portable(data, crc);
}

#else  // no hardware path on this architecture

bool crc32c_hardware_available() noexcept {
  return false;
}
std::uint32_t crc32c_hardware(std::span<const std::byte> data, std::uint32_t crc) noexcept {
  return crc32c_portable(data, crc);
}
std::uint32_t crc32c(std::span<const std::byte> data, std::uint32_t crc) noexcept {
  return crc32c_portable(data, crc);
}

#endif

}  // namespace uiscsi::core
