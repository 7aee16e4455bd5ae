// Shared by the session-level fuzzers (fuzz_target_engine, fuzz_initiator_engine) and the seed
// generator: the input reader and writer, the operation codes of both input layouts, a tracker
// of PDU boundaries for the login phase, a process-wide cap on single allocations, and the
// fuzzers' FUZZ_CHECK and output reader.
//
// Both inputs are read front to back: a few configuration bytes, then a list of operations,
// each an op byte followed by its own arguments. A reader past the end returns zeros, so every
// prefix of an input is a valid input and the fuzzer can mutate arguments in place.
#pragma once

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UISCSI_FUZZ_HAVE_ASAN 1
#include <sanitizer/allocator_interface.h>
#include <sanitizer/asan_interface.h>
#endif
#endif

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "core/bytes.hpp"
#include "core/framer.hpp"
#include "core/pdu.hpp"

// Fails the run (libFuzzer keeps the input) when `cond` is false. The fuzzer defines
// kFuzzerName, its program name, where it uses the macro.
#define FUZZ_CHECK(cond)                                                                       \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "%s: check failed at line %d: %s\n", kFuzzerName, __LINE__, #cond); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)

namespace uiscsi::fuzz {

// Reads what an engine wrote (`writer`: "initiator" or "target") the way its peer would:
// through `framer`, which holds the peer's limits, handing every whole PDU to observe(pdu).
// A byte stream the peer could not take fails the run.
template <class Observe>
void read_engine_output(core::Framer& framer, std::span<const std::byte> bytes, const char* writer,
                        Observe&& observe) {
  constexpr const char* kFuzzerName = "engine output";
  while (!bytes.empty()) {
    const std::size_t k = framer.feed(bytes);
    bytes = bytes.subspan(k);
    for (;;) {
      auto r = framer.next();
      if (!r) {
        std::fprintf(stderr, "%s output: %s\n", writer, r.error().message().c_str());
        FUZZ_CHECK(!"the engine wrote a PDU its peer cannot take");
      }
      if (*r == nullptr) break;
      observe(**r);
    }
    FUZZ_CHECK(k > 0 || bytes.empty());
  }
}

class InputReader {
 public:
  InputReader(const std::uint8_t* data, std::size_t size) : p_(data), n_(size) {}
  [[nodiscard]] bool empty() const { return n_ == 0; }
  [[nodiscard]] std::size_t remaining() const { return n_; }
  std::uint8_t u8() {
    if (n_ == 0) return 0;
    --n_;
    return *p_++;
  }
  std::uint16_t u16() { return static_cast<std::uint16_t>((u8() << 8) | u8()); }
  std::uint32_t u32() { return (std::uint32_t{u16()} << 16) | u16(); }
  // Up to `n` bytes (fewer at the end of the input).
  std::span<const std::byte> bytes(std::size_t n) {
    n = n < n_ ? n : n_;
    std::span<const std::byte> out(reinterpret_cast<const std::byte*>(p_), n);
    p_ += n;
    n_ -= n;
    return out;
  }

 private:
  const std::uint8_t* p_;
  std::size_t n_;
};

// Builds inputs for seeds, in the reader's order.
class InputWriter {
 public:
  InputWriter& u8(std::uint8_t v) {
    out_.push_back(v);
    return *this;
  }
  InputWriter& u16(std::uint16_t v) { return u8(static_cast<std::uint8_t>(v >> 8)).u8(v & 0xff); }
  InputWriter& u32(std::uint32_t v) {
    return u16(static_cast<std::uint16_t>(v >> 16)).u16(v & 0xffff);
  }
  InputWriter& bytes(std::span<const std::byte> b) {
    for (std::byte x : b)
      out_.push_back(std::to_integer<std::uint8_t>(x));
    return *this;
  }
  [[nodiscard]] const std::vector<std::uint8_t>& data() const { return out_; }

 private:
  std::vector<std::uint8_t> out_;
};

// ---- fuzz_target_engine: the initiator's side, played by the harness ----
//
// Configuration (10 bytes):
//   mode     bit 0-1 login (0: none, the stream starts raw; 1: one operational stage; 2, 3:
//                    security stage first), bit 2 discovery session, bit 3 LU completes inline,
//                    bit 4 NOP-In pings on, bit 5 reserved bits ignored, bit 6 fault plan on,
//                    bit 7 unused
//   params   bit 0 HeaderDigest, 1 DataDigest, 2 ImmediateData, 3 InitialR2T,
//            4 DataPDUInOrder=No offered, 5 DataSequenceInOrder=No offered, 6-7 ErrorRecoveryLevel
//   mrdsl    bit 0-2 the initiator's MaxRecvDataSegmentLength, 3-5 the target's (kSegmentChoices)
//   burst    bit 0-2 MaxBurstLength, 3-5 FirstBurstLength (kBurstChoices), 6-7 MaxOutstandingR2T-1
//   window   bit 0-1 CmdSN window {1, 2, 8, 128}, bit 2-3 write buffer limits
//   faults   FaultPlan switches (see target_engine.cpp)
//   cmdsn    u32: the CmdSN of the login (exercises serial number wrap)
// then operations:
namespace target_op {
enum : std::uint8_t {
  raw = 0,        // u8 n, n bytes as they are
  command = 1,    // SCSI Command: flags, itt, length, immediate, opcode, lun, cmdsn delta
  data_out = 2,   // answers an R2T (or sends unsolicited data): pick, length, flags
  nop_out = 3,    // flags, data length
  tmf = 4,        // function, referenced task, flags
  text = 5,       // choice, flags
  logout = 6,     // reason, flags
  snack = 7,      // type, begrun, runlength
  any_pdu = 8,    // 48 BHS bytes, AHS words, data length: framed (and digested) correctly
  time = 9,       // u16 steps of 50 ms (0: to the next deadline)
  complete = 10,  // pick, outcome: the fake LU answers one held command (any order)
  tmf_done = 11,  // pick
  chunking = 12,  // u16 chunk size (0: whole), u8 receive method
  block_writes = 13,
  lost = 14,   // connection_lost; the operations end
  stale = 15,  // complete()/tmf_done() with a handle from the input
  count = 16
};
}  // namespace target_op

// ---- fuzz_initiator_engine: the target's side, played by the harness ----
//
// Configuration (10 bytes):
//   mode     bit 0-1 login (0: none, the stream starts raw; else scripted), bit 2 recovery on,
//            bit 3 keepalive on, bit 4 reserved bits ignored, bit 5 CRC32C offered,
//            bit 6 the scripted target picks CRC32C, bit 7 trace PDUs
//   params   bit 0 ImmediateData, 1 InitialR2T, 2 DataPDUInOrder=No, 3 DataSequenceInOrder=No,
//            4-5 ErrorRecoveryLevel, 6-7 MaxOutstandingR2T-1
//   mrdsl    bit 0-2 the initiator's MaxRecvDataSegmentLength, 3-5 the target's
//   burst    bit 0-2 MaxBurstLength, 3-5 FirstBurstLength
//   window   bit 0-2 CmdSN window {1, 2, 8, 32, 128, 0, 3, 64}, bit 3-7 ExpStatSN ack
//            threshold - 1
//   statsn   u32 first StatSN
//   tsih     u8
// then operations:
namespace initiator_op {
enum : std::uint8_t {
  raw = 0,            // u8 n, n bytes
  scsi_response = 1,  // pick, status, flags, residual, sense length
  data_in = 2,        // pick, length, flags, status
  r2t = 3,            // pick, length, flags
  nop_in = 4,         // flags, data length
  async = 5,          // event, parameters, flags
  reject = 6,         // reason, pick
  logout_rsp = 7,     // response code, flags
  tmf_rsp = 8,        // response, pick
  text_rsp = 9,       // choice, flags
  any_pdu = 10,       // 48 BHS bytes, AHS words, data length
  submit = 11,        // kind, length, flags: read, write, bidi, TMF, cancel, text, logout
  time = 12,          // u16 steps of 50 ms (0: to the next deadline)
  lost = 13,          // connection_lost (recovery may follow)
  reconnect = 14,     // open a connection when recovery asks; u8 login outcome
  chunking = 15,      // u16 chunk size, u8 receive method
  block_writes = 16,
  login_rsp = 17,  // flags, status class, detail, keys: a Login Response (raw logins)
  count = 18
};
}  // namespace initiator_op

inline constexpr std::uint32_t kSegmentChoices[8] = {512,   1024,  4096,   8192,
                                                     16384, 65536, 262144, 777};
inline constexpr std::uint32_t kBurstChoices[8] = {512,   4096,   8192,    16384,
                                                   65536, 262144, 1 << 20, 3000};

// Where PDUs end in a stream without digests (the login phase): the harnesses feed a PDU at a
// time then, so the end of the login is seen between two PDUs and the digests of the peer's
// output can be switched on at the right byte.
class PduBoundary {
 public:
  // How many more bytes may be fed before the current PDU (or its header) is complete.
  [[nodiscard]] std::size_t limit() const {
    return have_ < core::kBhsSize ? core::kBhsSize - have_ : body_left_;
  }
  // Returns true when `bytes` completed a PDU; `bytes` never exceeds limit().
  bool advance(std::span<const std::byte> bytes) {
    if (have_ < core::kBhsSize) {
      std::memcpy(bhs_.bytes.data() + have_, bytes.data(), bytes.size());
      have_ += bytes.size();
      if (have_ < core::kBhsSize) return false;
      body_left_ =
          std::size_t{bhs_.total_ahs_length()} * 4 + core::round_up4(bhs_.data_segment_length());
      if (body_left_ != 0) return false;
    } else {
      body_left_ -= bytes.size();
      if (body_left_ != 0) return false;
    }
    have_ = 0;
    return true;
  }
  void reset() { have_ = body_left_ = 0; }

 private:
  core::Bhs bhs_;
  std::size_t have_ = 0;
  std::size_t body_left_ = 0;
};

// While an ArmAllocationCap lives, a single allocation over kMaxAllocation aborts the run: no
// length a peer sends may size a buffer beyond the engines' own limits. ASan builds only (the
// hook is ASan's); libFuzzer's own allocations between runs are not counted.
inline constexpr std::size_t kMaxAllocation = 16u << 20;
namespace detail {
inline bool g_allocation_cap_armed = false;
inline void on_malloc(const volatile void*, std::size_t size) {
  if (g_allocation_cap_armed && size > kMaxAllocation) {
    std::fprintf(stderr, "fuzz: single allocation of %zu bytes\n", size);
    std::abort();
  }
}
inline void on_free(const volatile void*) {}  // ASan installs the pair only when both are set
}  // namespace detail
class ArmAllocationCap {
 public:
  ArmAllocationCap() {
#ifdef UISCSI_FUZZ_HAVE_ASAN
    [[maybe_unused]] static const int installed =
        __sanitizer_install_malloc_and_free_hooks(detail::on_malloc, detail::on_free);
#endif
    detail::g_allocation_cap_armed = true;
  }
  ~ArmAllocationCap() {
    detail::g_allocation_cap_armed = false;
  }
  ArmAllocationCap(const ArmAllocationCap&) = delete;
  ArmAllocationCap& operator=(const ArmAllocationCap&) = delete;
};

// Whether memory an engine lent us is still allocated, every byte of it (ASan's shadow; always
// true without ASan).
inline bool memory_is_live(std::span<const std::byte> b) {
#ifdef UISCSI_FUZZ_HAVE_ASAN
  return b.empty() ||
         __asan_region_is_poisoned(const_cast<std::byte*>(b.data()), b.size()) == nullptr;
#else
  (void)b;
  return true;
#endif
}

// Deterministic filler for write data and ping data.
inline std::span<const std::byte> pattern_bytes(std::size_t n) {
  static const std::vector<std::byte> buffer = [] {
    std::vector<std::byte> b((1u << 20) + 4096);
    for (std::size_t i = 0; i < b.size(); ++i)
      b[i] = static_cast<std::byte>((i * 131 + (i >> 9)) & 0xff);
    return b;
  }();
  return std::span<const std::byte>(buffer).first(n < buffer.size() ? n : buffer.size());
}

}  // namespace uiscsi::fuzz
