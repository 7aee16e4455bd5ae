// PcapWriter: records a session's PDUs in a pcap file that Wireshark and tshark open as an
// iSCSI conversation over TCP.
//
//   auto pcap = uiscsi::PcapWriter::open("session.pcap");
//   options.hooks.on_pdu = (*pcap)->hook();
//   auto s = uiscsi::Session::dial(url, options);
//
// Each PDU becomes one or more TCP segments between two made-up endpoints (initiator and target,
// port 3260 by default) with a three-way handshake first, valid IPv4 and TCP checksums, and the
// data segment padded to 4 bytes as on the wire. Digests are not in the hook's bytes, so the
// capture carries none (tshark's defaults expect none). Thread-safe; the file is flushed per PDU
// and closed when the last owner lets go.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "uiscsi/export.hpp"
#include "uiscsi/hooks.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi {

class UISCSI_API PcapWriter : public std::enable_shared_from_this<PcapWriter> {
 public:
  struct Options {
    std::uint32_t initiator_address = 0x0a000001;  // 10.0.0.1
    std::uint16_t initiator_port = 50000;
    std::uint32_t target_address = 0x0a000002;  // 10.0.0.2
    std::uint16_t target_port = 3260;
  };

  // Creates (truncates) `path`. Errors: the system error of fopen.
  static Result<std::shared_ptr<PcapWriter>> open(const std::string& path, Options options);
  static Result<std::shared_ptr<PcapWriter>> open(const std::string& path) {
    return open(path, Options{});
  }
  ~PcapWriter();

  // One PDU: BHS, AHS and data segment (what Hooks::on_pdu receives).
  void record(PduDirection direction, std::span<const std::byte> pdu);
  // A Hooks::on_pdu that records into this writer (keeps it alive).
  std::function<void(PduDirection, std::span<const std::byte>)> hook();
  [[nodiscard]] std::uint64_t packets() const;

  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

 private:
  PcapWriter(std::FILE* file, Options options);
  void segment(bool from_initiator, std::uint8_t flags, std::span<const std::byte> payload);

  std::FILE* file_;
  Options options_;
  mutable std::mutex mutex_;
  std::uint32_t initiator_seq_ = 1000;
  std::uint32_t target_seq_ = 5000;
  std::uint64_t packets_ = 0;
};

}  // namespace uiscsi
