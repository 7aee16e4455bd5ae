// TargetHarness: a TargetConnection driven with raw PDUs in memory, in virtual time. The test
// plays the initiator: it builds PDUs with the core codec (and may corrupt their digests), feeds
// them to the engine, and parses what the engine sends with a core Framer. SCSI commands run on
// the TinyDisk of tests/support/engine_pair.hpp, at once or when the test says so.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <optional>
#include <span>
#include <variant>
#include <vector>

#include "core/bytes.hpp"
#include "core/framer.hpp"
#include "core/target_connection.hpp"
#include "core/text.hpp"
#include "support/engine_pair.hpp"

namespace uiscsi::testing {

// A PDU the target sent, copied out of the framer (or the error the framer found in it).
struct TargetPdu {
  core::Bhs bhs;
  core::Header header;
  std::vector<std::byte> data;
  std::error_code error;  // a digest error in what the target sent
  // The header as a T, or null. Only on a PDU that outlives the pointer: not on a temporary.
  template <class T>
  [[nodiscard]] const T* as() const& {
    return error ? nullptr : std::get_if<T>(&header);
  }
  template <class T>
  const T* as() const&& = delete;
};

struct LoginKeys {
  std::string erl = "1";
  std::string header_digest = "None";
  std::string data_digest = "None";
  std::string mrdsl = "512";  // ours (the initiator's): the target's Data-In size
  std::string initial_r2t = "Yes";
  std::string immediate_data = "No";
  std::string max_burst = "262144";
  std::string first_burst = "65536";
};

// Frames every complete PDU `framer` holds into `out` (a framing error becomes a TargetPdu
// with `error` set; a fatal one stops).
inline void frame_pdus(core::Framer& framer, std::vector<TargetPdu>& out) {
  for (;;) {
    auto r = framer.next();
    if (!r) {
      TargetPdu p;
      p.bhs = framer.failed_bhs();
      p.error = r.error();
      out.push_back(std::move(p));
      if (framer.failed()) return;
      continue;
    }
    if (*r == nullptr) return;
    TargetPdu p;
    p.bhs = (*r)->bhs;
    p.header = (*r)->header;
    p.data.assign((*r)->data.begin(), (*r)->data.end());
    out.push_back(std::move(p));
  }
}

// Runs `target` until it is quiet: each ExecuteCommand goes to `on_execute`, other events to
// `events`, and every PDU it sends comes back in order, framed by `framer`.
template <class OnExecute>
std::vector<TargetPdu> run_until_quiet(core::TargetConnection& target, core::Framer& framer,
                                       std::vector<core::TargetEvent>& events,
                                       OnExecute&& on_execute) {
  std::vector<TargetPdu> out;
  for (int round = 0; round < 10000; ++round) {
    bool moved = false;
    while (auto e = target.poll_event()) {
      moved = true;
      if (auto* x = std::get_if<core::ExecuteCommand>(&*e)) {
        on_execute(*x);
      } else {
        events.push_back(std::move(*e));
      }
    }
    std::array<std::span<const std::byte>, 64> iov;
    const std::size_t n = target.gather(iov);
    std::size_t bytes = 0;
    for (std::size_t i = 0; i < n; ++i) {
      std::span<const std::byte> part = iov[i];
      while (!part.empty()) {
        const std::size_t took = framer.feed(part);
        part = part.subspan(took);
        bytes += took;
        frame_pdus(framer, out);
      }
    }
    if (bytes > 0) {
      target.consume(bytes);
      moved = true;
    }
    if (!moved) break;
  }
  frame_pdus(framer, out);
  return out;
}

class TargetHarness {
 public:
  core::TimePoint now{std::chrono::seconds(1000)};
  CountingRandom rng;
  TestDirectory directory;
  core::TargetConfig config;
  TinyDisk disk;
  std::unique_ptr<core::TargetConnection> target;
  core::DigestConfig digests;
  core::SerialNumber cmd_sn{1};
  core::SerialNumber exp_stat_sn{0};
  bool execute_inline = true;
  std::vector<core::ExecuteCommand> held;  // commands not yet run (execute_inline = false)
  std::vector<core::TargetEvent> events;   // everything but ExecuteCommand
  std::uint32_t next_itt = 0x10;

  TargetHarness() {
    config.negotiation.error_recovery_level = 2;
    config.negotiation.header_digest = {"CRC32C", "None"};
    config.negotiation.data_digest = {"CRC32C", "None"};
    config.negotiation.max_recv_data_segment_length = 8192;
  }

  // Logs in to full feature phase with these keys; false if the target refused.
  bool login(const LoginKeys& k = {}) {
    target = std::make_unique<core::TargetConnection>(config, directory, rng, now);
    core::FramerConfig fc;
    fc.role = core::Role::initiator;
    fc.max_recv_data_segment_length = core::kMaxDataSegmentLength;
    fc.decode.reserved = core::ReservedPolicy::ignore;
    framer_.configure(fc);
    core::KeyValueList keys = {{"InitiatorName", "iqn.2026-11.dev.uiscsi:harness"},
                               {"TargetName", directory.target},
                               {"SessionType", "Normal"},
                               {"HeaderDigest", k.header_digest},
                               {"DataDigest", k.data_digest},
                               {"ErrorRecoveryLevel", k.erl},
                               {"MaxRecvDataSegmentLength", k.mrdsl},
                               {"InitialR2T", k.initial_r2t},
                               {"ImmediateData", k.immediate_data},
                               {"MaxBurstLength", k.max_burst},
                               {"FirstBurstLength", k.first_burst},
                               {"MaxOutstandingR2T", "1"},
                               {"DefaultTime2Wait", "0"},
                               {"DefaultTime2Retain", "0"}};
    for (int step = 0; step < 5; ++step) {
      core::LoginRequest r;
      r.transit = true;
      r.csg = core::LoginStage::operational_negotiation;
      r.nsg = core::LoginStage::full_feature_phase;
      r.isid = 0x800000001234ull;
      r.itt = core::Itt(0x1000);
      r.cmd_sn = cmd_sn;
      r.exp_stat_sn = exp_stat_sn;
      send(core::Header{r}, core::serialize_text(step == 0 ? keys : core::KeyValueList{}));
      const auto out = receive();
      if (out.size() != 1) return false;
      const auto* lr = out[0].as<core::LoginResponse>();
      if (lr == nullptr || lr->status_class != 0) return false;
      exp_stat_sn = lr->stat_sn + 1;
      if (lr->transit && lr->nsg == core::LoginStage::full_feature_phase) {
        cmd_sn = lr->exp_cmd_sn;
        digests = {k.header_digest == "CRC32C", k.data_digest == "CRC32C"};
        fc.digests = digests;
        framer_.configure(fc);
        return target->logged_in();
      }
    }
    return false;
  }

  // ---- sending ----

  [[nodiscard]] std::vector<std::byte> wire(const core::Header& h,
                                            std::span<const std::byte> data = {},
                                            std::span<const std::byte> ahs = {}) const {
    core::Bhs bhs;
    core::encode_header(h, bhs);
    return core::serialize_pdu(bhs, ahs, data, digests);
  }
  void feed(std::span<const std::byte> bytes) { target->feed(bytes, now); }
  void send(const core::Header& h, std::span<const std::byte> data = {}) { feed(wire(h, data)); }
  // The PDU with a bit of its header digest (or data digest) flipped.
  void send_bad_header_digest(const core::Header& h, std::span<const std::byte> data = {}) {
    auto w = wire(h, data);
    w[core::kBhsSize + 3] ^= std::byte{0x01};
    feed(w);
  }
  void send_bad_data_digest(const core::Header& h, std::span<const std::byte> data) {
    auto w = wire(h, data);
    w.back() ^= std::byte{0x01};
    feed(w);
  }

  core::Itt itt() { return core::Itt(next_itt++); }

  // READ(10) / WRITE(10) of `blocks` 512-byte blocks at `lba`, with the next CmdSN.
  core::ScsiCommand rw10(bool write, std::uint32_t lba, std::uint16_t blocks) {
    core::ScsiCommand c;
    c.itt = itt();
    c.read = !write;
    c.write = write;
    c.expected_data_transfer_length = blocks * 512u;
    c.cmd_sn = cmd_sn;
    ++cmd_sn;
    c.exp_stat_sn = exp_stat_sn;
    c.cdb[0] = std::byte{static_cast<unsigned char>(write ? 0x2a : 0x28)};
    core::store_be32(c.cdb.data() + 2, lba);
    core::store_be16(c.cdb.data() + 7, blocks);
    return c;
  }
  core::ScsiCommand test_unit_ready() {
    core::ScsiCommand c;
    c.itt = itt();
    c.cmd_sn = cmd_sn;
    ++cmd_sn;
    c.exp_stat_sn = exp_stat_sn;
    return c;
  }
  core::DataOut data_out(const core::ScsiCommand& c, core::Ttt ttt, std::uint32_t data_sn,
                         std::uint32_t offset, bool final) const {
    core::DataOut d;
    d.final = final;
    d.itt = c.itt;
    d.ttt = ttt;
    d.data_sn = data_sn;
    d.buffer_offset = offset;
    d.exp_stat_sn = exp_stat_sn;
    return d;
  }
  core::SnackRequest snack(core::SnackType type, core::Itt itt, std::uint32_t beg_run,
                           std::uint32_t run_length, core::Ttt ttt = core::Ttt::reserved()) const {
    core::SnackRequest s;
    s.type = type;
    s.itt = itt;
    s.ttt = ttt;
    s.exp_stat_sn = exp_stat_sn;
    s.beg_run = beg_run;
    s.run_length = run_length;
    return s;
  }
  // An immediate NOP-Out that only carries ExpStatSN (ITT and TTT reserved): no answer.
  void acknowledge(core::SerialNumber next_stat_sn) {
    exp_stat_sn = next_stat_sn;
    core::NopOut n;
    n.immediate = true;
    n.itt = core::Itt::reserved();
    n.ttt = core::Ttt::reserved();
    n.cmd_sn = cmd_sn;
    n.exp_stat_sn = exp_stat_sn;
    send(core::Header{n});
  }

  // ---- receiving ----

  // Runs the engine until it is quiet: commands execute (unless held), and every PDU it sends
  // comes back in order.
  std::vector<TargetPdu> receive() {
    return run_until_quiet(*target, framer_, events, [&](const core::ExecuteCommand& x) {
      if (execute_inline) {
        target->complete(x.task, disk.execute(x), now);
      } else {
        held.push_back(x);
      }
    });
  }

  // Completes a held command.
  void run_held(std::size_t i = 0) {
    auto x = held.at(i);
    held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
    target->complete(x.task, disk.execute(x), now);
  }

  bool closed() const {
    return std::any_of(events.begin(), events.end(), [](const core::TargetEvent& e) {
      return std::holds_alternative<core::TargetConnectionClosed>(e);
    });
  }

 private:
  core::Framer framer_;
};

// The PDUs of type T among `pdus`.
template <class T>
std::vector<T> only(const std::vector<TargetPdu>& pdus) {
  std::vector<T> out;
  for (const auto& p : pdus)
    if (const T* h = p.as<T>()) out.push_back(*h);
  return out;
}

}  // namespace uiscsi::testing
