// Google Benchmark programs for the pure core: CRC32C throughput, PDU header codec cost per PDU
// and framer throughput on a Data-In stream. Results and the command line: bench/README.md.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <span>
#include <variant>
#include <vector>

#include "core/crc32c.hpp"
#include "core/framer.hpp"
#include "core/pdu.hpp"

namespace uiscsi::core {
namespace {

std::vector<std::byte> random_bytes(std::size_t n, unsigned seed) {
  std::vector<std::byte> b(n);
  std::mt19937 rng(seed);
  for (auto& x : b)
    x = static_cast<std::byte>(rng());
  return b;
}

// ---- CRC32C (RFC 7143 section 13.1) ----

void BM_Crc32cHardware(benchmark::State& state) {
  if (!crc32c_hardware_available()) {
    state.SkipWithError("CPU has no SSE4.2");
    return;
  }
  const auto buf = random_bytes(static_cast<std::size_t>(state.range(0)), 1);
  std::uint32_t crc = 0;
  for (auto _ : state) {
    crc = crc32c_hardware(buf, crc);
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void BM_Crc32cPortable(benchmark::State& state) {
  const auto buf = random_bytes(static_cast<std::size_t>(state.range(0)), 1);
  std::uint32_t crc = 0;
  for (auto _ : state) {
    crc = crc32c_portable(buf, crc);
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(state.iterations() * state.range(0));
}

void crc_sizes(benchmark::internal::Benchmark* b) {
  for (long n : {64L, 512L, 4096L, 65536L, 1L << 20})
    b->Arg(n);
}
BENCHMARK(BM_Crc32cHardware)->Apply(crc_sizes);
BENCHMARK(BM_Crc32cPortable)->Apply(crc_sizes);

// ---- PDU header codec, one PDU per iteration ----

enum class Sample { scsi_command, data_in, r2t };

struct SamplePdu {
  Header header;
  std::uint32_t data_length = 0;
};

SamplePdu sample(Sample which) {
  const Lun lun = *Lun::from_number(1);
  switch (which) {
    case Sample::scsi_command: {
      ScsiCommand cmd;  // READ(10) of 128 blocks of 512 bytes
      cmd.read = true;
      cmd.lun = lun;
      cmd.itt = Itt(0x1001);
      cmd.expected_data_transfer_length = 65536;
      cmd.cmd_sn = SerialNumber(1000);
      cmd.exp_stat_sn = SerialNumber(2000);
      const unsigned char cdb[10] = {0x28, 0, 0, 0, 0x10, 0, 0, 0, 0x80, 0};
      std::memcpy(cmd.cdb.data(), cdb, sizeof cdb);
      return {cmd, 0};
    }
    case Sample::data_in: {
      DataIn din;
      din.lun = lun;
      din.itt = Itt(0x1001);
      din.exp_cmd_sn = SerialNumber(1001);
      din.max_cmd_sn = SerialNumber(1064);
      din.data_sn = 3;
      din.buffer_offset = 3 * 8192;
      return {din, 8192};
    }
    case Sample::r2t: {
      R2t r;
      r.lun = lun;
      r.itt = Itt(0x1002);
      r.ttt = Ttt(0x55);
      r.stat_sn = SerialNumber(2001);
      r.exp_cmd_sn = SerialNumber(1002);
      r.max_cmd_sn = SerialNumber(1065);
      r.r2t_sn = 1;
      r.buffer_offset = 65536;
      r.desired_data_transfer_length = 262144;
      return {r, 0};
    }
  }
  return {};
}

// encode_header() plus make_wire_header() with HeaderDigest=CRC32C and DataDigest=CRC32C: the
// work to put one header on the wire (the data digest is computed over the data, not here).
void BM_EncodeHeader(benchmark::State& state, Sample which) {
  const SamplePdu pdu = sample(which);
  const DigestConfig digests{true, true};
  for (auto _ : state) {
    Bhs bhs;
    encode_header(pdu.header, bhs);
    WireHeader wire = make_wire_header(bhs, {}, pdu.data_length, digests);
    benchmark::DoNotOptimize(wire);
  }
  state.SetItemsProcessed(state.iterations());
}

// decode_header() of a 48-byte BHS into a typed header.
void BM_DecodeHeader(benchmark::State& state, Sample which) {
  const SamplePdu pdu = sample(which);
  Bhs bhs;
  encode_header(pdu.header, bhs);
  bhs.set_data_segment_length(pdu.data_length);
  if (!decode_header(bhs)) {
    state.SkipWithError("sample header does not decode");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(bhs);
    auto header = decode_header(bhs);
    benchmark::DoNotOptimize(header);
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK_CAPTURE(BM_EncodeHeader, scsi_command, Sample::scsi_command);
BENCHMARK_CAPTURE(BM_EncodeHeader, data_in, Sample::data_in);
BENCHMARK_CAPTURE(BM_EncodeHeader, r2t, Sample::r2t);
BENCHMARK_CAPTURE(BM_DecodeHeader, scsi_command, Sample::scsi_command);
BENCHMARK_CAPTURE(BM_DecodeHeader, data_in, Sample::data_in);
BENCHMARK_CAPTURE(BM_DecodeHeader, r2t, Sample::r2t);

// ---- framer: a Data-In stream placed into a destination buffer ----

// Places each Data-In segment at its BufferOffset in one destination buffer.
class BufferPlacement final : public DataPlacement {
 public:
  explicit BufferPlacement(std::span<std::byte> dest) : dest_(dest) {}
  std::span<std::byte> place(const Header& header, std::uint32_t data_length) override {
    const auto* din = std::get_if<DataIn>(&header);
    if (din == nullptr || din->buffer_offset > dest_.size() ||
        data_length > dest_.size() - din->buffer_offset)
      return {};
    return dest_.subspan(din->buffer_offset, data_length);
  }

 private:
  std::span<std::byte> dest_;
};

constexpr std::size_t kStreamDataBytes = 4u << 20;  // data carried by one pass over the stream

// One READ's worth of Data-In PDUs (kStreamDataBytes in `segment`-byte data segments) as the
// target sends them.
std::vector<std::byte> data_in_stream(std::span<const std::byte> data, std::uint32_t segment,
                                      const DigestConfig& digests) {
  std::vector<std::byte> stream;
  const std::size_t count = data.size() / segment;
  for (std::size_t i = 0; i < count; ++i) {
    DataIn din;
    din.final = i + 1 == count;
    din.itt = Itt(0x1001);
    din.exp_cmd_sn = SerialNumber(1001);
    din.max_cmd_sn = SerialNumber(1064);
    din.data_sn = static_cast<std::uint32_t>(i);
    din.buffer_offset = static_cast<std::uint32_t>(i * segment);
    const auto pdu = serialize_pdu(Header{din}, data.subspan(i * segment, segment), digests);
    stream.insert(stream.end(), pdu.begin(), pdu.end());
  }
  return stream;
}

// Feeds the stream as a socket reader would: read_buffer(), one copy standing in for recv()
// into the span handed out (the destination itself while a placed segment is in progress),
// commit(), then next() until it needs more bytes. Returns the number of PDUs, or -1 on error.
long run_stream(Framer& framer, std::span<const std::byte> stream) {
  long pdus = 0;
  while (!stream.empty()) {
    const std::span<std::byte> into = framer.read_buffer();
    const std::size_t n = std::min(into.size(), stream.size());
    std::memcpy(into.data(), stream.data(), n);
    framer.commit(n);
    stream = stream.subspan(n);
    for (;;) {
      auto r = framer.next();
      if (!r) return -1;
      if (*r == nullptr) break;
      benchmark::DoNotOptimize((*r)->data.data());
      ++pdus;
    }
  }
  return pdus;
}

// Bytes per second counts wire bytes (headers, data, digests) of the Data-In stream.
void BM_FramerDataIn(benchmark::State& state, std::uint32_t segment, bool digests_on) {
  const DigestConfig digests{digests_on, digests_on};
  const auto data = random_bytes(kStreamDataBytes, 2);
  const auto stream = data_in_stream(data, segment, digests);
  std::vector<std::byte> dest(kStreamDataBytes);
  BufferPlacement placement(dest);

  FramerConfig config;
  config.role = Role::initiator;
  config.digests = digests;
  config.max_recv_data_segment_length = segment;
  Framer framer(config);
  framer.set_placement(&placement);

  // One checked pass outside the timing: every PDU arrives and the data lands in place.
  if (run_stream(framer, stream) != static_cast<long>(kStreamDataBytes / segment) || dest != data) {
    state.SkipWithError("framer did not reassemble the stream");
    return;
  }
  for (auto _ : state) {
    if (run_stream(framer, stream) < 0) {
      state.SkipWithError("framer error");
      return;
    }
  }
  state.SetBytesProcessed(state.iterations() * static_cast<long>(stream.size()));
  state.counters["PDUs"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(kStreamDataBytes / segment),
      benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_FramerDataIn, 8KiB_no_digests, 8192, false);
BENCHMARK_CAPTURE(BM_FramerDataIn, 8KiB_crc32c_digests, 8192, true);
BENCHMARK_CAPTURE(BM_FramerDataIn, 256KiB_no_digests, 262144, false);
BENCHMARK_CAPTURE(BM_FramerDataIn, 256KiB_crc32c_digests, 262144, true);

}  // namespace
}  // namespace uiscsi::core

BENCHMARK_MAIN();
