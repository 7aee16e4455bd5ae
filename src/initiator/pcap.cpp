#include "uiscsi/pcap.hpp"

#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace uiscsi {
namespace {

void put16(std::vector<std::byte>& v, std::size_t at, std::uint16_t x) {
  v[at] = static_cast<std::byte>(x >> 8);
  v[at + 1] = static_cast<std::byte>(x);
}
void put32(std::vector<std::byte>& v, std::size_t at, std::uint32_t x) {
  for (int i = 0; i < 4; ++i)
    v[at + static_cast<std::size_t>(i)] = static_cast<std::byte>(x >> (24 - 8 * i));
}

// RFC 1071 one's complement sum over `data`, continued from `sum`.
std::uint32_t add_sum(std::uint32_t sum, std::span<const std::byte> data) {
  std::size_t i = 0;
  for (; i + 1 < data.size(); i += 2)
    sum += (std::to_integer<std::uint32_t>(data[i]) << 8) |
           std::to_integer<std::uint32_t>(data[i + 1]);
  if (i < data.size()) sum += std::to_integer<std::uint32_t>(data[i]) << 8;
  return sum;
}
std::uint16_t fold(std::uint32_t sum) {
  while (sum >> 16)
    sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

template <class T>
void write_le(std::FILE* f, T v) {
  std::fwrite(&v, sizeof v, 1, f);  // pcap headers are in host order; the magic tells readers
}

constexpr std::uint8_t kSyn = 0x02, kAck = 0x10, kPsh = 0x08;
constexpr std::size_t kMaxSegment = 16384;

}  // namespace

Result<std::shared_ptr<PcapWriter>> PcapWriter::open(const std::string& path, Options options) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return std::error_code(errno, std::system_category());
  // Global header: microsecond timestamps, version 2.4, LINKTYPE_RAW (101): packets start with
  // the IP header.
  write_le<std::uint32_t>(f, 0xa1b2c3d4);
  write_le<std::uint16_t>(f, 2);
  write_le<std::uint16_t>(f, 4);
  write_le<std::int32_t>(f, 0);
  write_le<std::uint32_t>(f, 0);
  write_le<std::uint32_t>(f, 262144);
  write_le<std::uint32_t>(f, 101);
  std::shared_ptr<PcapWriter> w(new PcapWriter(f, options));
  // The three-way handshake, so readers see a whole TCP conversation.
  w->segment(true, kSyn, {});
  w->segment(false, kSyn | kAck, {});
  w->segment(true, kAck, {});
  std::fflush(f);
  return w;
}

PcapWriter::PcapWriter(std::FILE* file, Options options) : file_(file), options_(options) {}

PcapWriter::~PcapWriter() {
  if (file_) std::fclose(file_);
}

std::uint64_t PcapWriter::packets() const {
  std::lock_guard lock(mutex_);
  return packets_;
}

void PcapWriter::segment(bool from_initiator, std::uint8_t flags,
                         std::span<const std::byte> payload) {
  std::vector<std::byte> pkt(40 + payload.size());
  const std::uint32_t src = from_initiator ? options_.initiator_address : options_.target_address;
  const std::uint32_t dst = from_initiator ? options_.target_address : options_.initiator_address;
  const std::uint16_t sport = from_initiator ? options_.initiator_port : options_.target_port;
  const std::uint16_t dport = from_initiator ? options_.target_port : options_.initiator_port;
  std::uint32_t& seq = from_initiator ? initiator_seq_ : target_seq_;
  const std::uint32_t ack = from_initiator ? target_seq_ : initiator_seq_;
  // IPv4 header.
  pkt[0] = std::byte{0x45};
  put16(pkt, 2, static_cast<std::uint16_t>(pkt.size()));
  put16(pkt, 4, static_cast<std::uint16_t>(packets_));
  put16(pkt, 6, 0x4000);  // don't fragment
  pkt[8] = std::byte{64};
  pkt[9] = std::byte{6};  // TCP
  put32(pkt, 12, src);
  put32(pkt, 16, dst);
  put16(pkt, 10, fold(add_sum(0, std::span(pkt).first(20))));
  // TCP header.
  put16(pkt, 20, sport);
  put16(pkt, 22, dport);
  put32(pkt, 24, seq);
  put32(pkt, 28, (flags & kAck) ? ack : 0);
  pkt[32] = std::byte{0x50};  // data offset 5 words
  pkt[33] = std::byte{flags};
  put16(pkt, 34, 65535);
  if (!payload.empty()) std::memcpy(pkt.data() + 40, payload.data(), payload.size());
  // TCP checksum over the pseudo-header and the segment.
  std::uint32_t sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 +
                      static_cast<std::uint32_t>(pkt.size() - 20);
  put16(pkt, 36, fold(add_sum(sum, std::span(pkt).subspan(20))));
  seq += static_cast<std::uint32_t>(payload.size()) + ((flags & kSyn) ? 1u : 0u);

  timeval tv{};
  ::gettimeofday(&tv, nullptr);
  write_le<std::uint32_t>(file_, static_cast<std::uint32_t>(tv.tv_sec));
  write_le<std::uint32_t>(file_, static_cast<std::uint32_t>(tv.tv_usec));
  write_le<std::uint32_t>(file_, static_cast<std::uint32_t>(pkt.size()));
  write_le<std::uint32_t>(file_, static_cast<std::uint32_t>(pkt.size()));
  std::fwrite(pkt.data(), 1, pkt.size(), file_);
  ++packets_;
}

void PcapWriter::record(PduDirection direction, std::span<const std::byte> pdu) {
  std::lock_guard lock(mutex_);
  if (file_ == nullptr) return;
  // As on the wire: the data segment padded to a multiple of 4 bytes.
  std::vector<std::byte> wire(pdu.begin(), pdu.end());
  wire.resize((wire.size() + 3) & ~std::size_t{3});
  const bool from_initiator = direction == PduDirection::outbound;
  for (std::size_t off = 0; off < wire.size(); off += kMaxSegment)
    segment(from_initiator, kAck | kPsh,
            std::span(wire).subspan(off, std::min(kMaxSegment, wire.size() - off)));
  std::fflush(file_);
}

std::function<void(PduDirection, std::span<const std::byte>)> PcapWriter::hook() {
  // The hook may outlive the caller's handle: it holds the writer.
  return [self = shared_from_this()](PduDirection d, std::span<const std::byte> p) {
    self->record(d, p);
  };
}

}  // namespace uiscsi
