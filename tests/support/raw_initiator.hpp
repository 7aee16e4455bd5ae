// RawInitiator: a scripted iSCSI initiator over a real loopback TCP socket, for tests that send
// a target exactly the bytes they choose (malformed PDUs, protocol violations) and read back
// what it answers. PDUs are built with the core codec (core/pdu.hpp, core/text.hpp) and parsed
// with the core Framer; nothing here keeps session state beyond the sequence numbers a test
// asks it to track. Blocking with timeouts (poll), single-threaded, test code only.
#pragma once

#include <poll.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/framer.hpp"
#include "core/pdu.hpp"
#include "core/serial.hpp"
#include "core/text.hpp"
#include "net/socket.hpp"

namespace uiscsi::testing {

using namespace std::chrono_literals;

// A received PDU, copied out of the framer.
struct RawPdu {
  core::Bhs bhs;
  core::Header header;
  std::vector<std::byte> data;
  // A pointer into this PDU: not callable on a temporary (the pointer would dangle).
  template <class T>
  [[nodiscard]] const T* as() const& {
    return std::get_if<T>(&header);
  }
  template <class T>
  const T* as() const&& = delete;
  [[nodiscard]] core::KeyValueList keys() const {
    auto k = core::parse_text(data);
    return k ? *k : core::KeyValueList{};
  }
};

inline std::vector<std::byte> text_of(const core::KeyValueList& kvs) {
  return core::serialize_text(kvs);
}

class RawInitiator {
 public:
  explicit RawInitiator(const net::Endpoint& target) {
    auto s = net::connect(target, net::Clock::now() + 5s);
    if (s) socket_ = std::move(*s);
    core::FramerConfig fc;
    fc.role = core::Role::initiator;
    fc.max_recv_data_segment_length = core::kMaxDataSegmentLength;
    fc.decode.reserved = core::ReservedPolicy::ignore;
    framer_.configure(fc);
  }

  [[nodiscard]] bool connected() const { return socket_.valid(); }
  void close() { socket_.close(); }

  // Header and data digests for what we send and what we parse from now on.
  void set_digests(core::DigestConfig d) {
    digests_ = d;
    core::FramerConfig fc = framer_.config();
    fc.digests = d;
    framer_.configure(fc);
  }

  // Writes every byte (or gives up when the peer is gone). True if all went out.
  bool send_bytes(std::span<const std::byte> bytes) {
    while (!bytes.empty() && socket_.valid()) {
      std::span<const std::byte> one[1] = {bytes};
      auto w = socket_.writev(one);
      if (!w) {
        if (w.error() != std::errc::resource_unavailable_try_again) return false;
        pollfd p{socket_.fd(), POLLOUT, 0};
        if (::poll(&p, 1, 5000) <= 0) return false;
        continue;
      }
      bytes = bytes.subspan(*w);
    }
    return bytes.empty();
  }

  // The PDU as it goes on the wire, with our digests.
  [[nodiscard]] std::vector<std::byte> wire(const core::Header& h,
                                            std::span<const std::byte> data = {},
                                            std::span<const std::byte> ahs = {}) const {
    core::Bhs bhs;
    core::encode_header(h, bhs);
    return core::serialize_pdu(bhs, ahs, data, digests_);
  }
  bool send(const core::Header& h, std::span<const std::byte> data = {},
            std::span<const std::byte> ahs = {}) {
    return send_bytes(wire(h, data, ahs));
  }

  // The next PDU, or nothing when none comes within `timeout` or the connection ended.
  std::optional<RawPdu> receive(std::chrono::milliseconds timeout = 3000ms) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto p = take()) return p;
      if (eof_ || framer_.failed()) return std::nullopt;
      if (!fill(deadline)) return std::nullopt;
    }
  }

  // Reads until the target closes the connection (EOF or reset) within `timeout`; the PDUs it
  // sent before go to `before`.
  bool closed_by_peer(std::chrono::milliseconds timeout = 3000ms,
                      std::vector<RawPdu>* before = nullptr) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      while (auto p = take())
        if (before) before->push_back(std::move(*p));
      if (eof_) return true;
      if (!fill(deadline)) return eof_;
    }
  }

  // True when no PDU arrives for `quiet`.
  bool silent_for(std::chrono::milliseconds quiet) {
    auto p = receive(quiet);
    if (p) unexpected_.push_back(std::move(*p));
    return !p && !eof_;
  }
  [[nodiscard]] const std::vector<RawPdu>& unexpected() const { return unexpected_; }

  // ---- login ----

  struct LoginOutcome {
    bool ok = false;
    std::uint8_t status_class = 0, status_detail = 0;
    core::KeyValueList keys;  // the target's keys, every response joined
    std::vector<RawPdu> responses;
  };

  // A login straight to the operational stage (no authentication), ending in full feature
  // phase. `keys` come after InitiatorName, TargetName and SessionType.
  LoginOutcome login(const std::string& target, core::KeyValueList keys) {
    core::KeyValueList all = {
        {"InitiatorName", initiator_name}, {"TargetName", target}, {"SessionType", "Normal"}};
    all.insert(all.end(), keys.begin(), keys.end());
    return login_steps({{core::LoginStage::operational_negotiation, all}});
  }

  // One login request per step (CSG of the step; T=1 towards the next stage, full feature
  // phase after the operational stage). Stops at the first refusal.
  struct Step {
    core::LoginStage csg;
    core::KeyValueList keys;
    bool transit = true;
  };
  LoginOutcome login_steps(const std::vector<Step>& steps) {
    LoginOutcome out;
    for (const auto& step : steps) {
      auto r = login_request(step.csg, step.keys, step.transit);
      if (!r) return out;
      out.responses.push_back(*r);
      const auto* lr = r->as<core::LoginResponse>();
      if (lr == nullptr) return out;
      out.status_class = lr->status_class;
      out.status_detail = lr->status_detail;
      for (auto& kv : r->keys())
        out.keys.push_back(kv);
      if (lr->status_class != 0) return out;
      // The target may answer T=0 while it settles the operational keys: ask again.
      for (int i = 0; i < 4 && step.transit && !lr->transit; ++i) {
        r = login_request(step.csg, {}, true);
        if (!r || (lr = r->as<core::LoginResponse>()) == nullptr) return out;
        out.responses.push_back(*r);
        for (auto& kv : r->keys())
          out.keys.push_back(kv);
        if (lr->status_class != 0) {
          out.status_class = lr->status_class;
          out.status_detail = lr->status_detail;
          return out;
        }
      }
      if (lr->transit && lr->nsg == core::LoginStage::full_feature_phase) {
        out.ok = true;
        exp_cmd_sn = lr->exp_cmd_sn;
        cmd_sn = lr->exp_cmd_sn;
        tsih = lr->tsih;
      }
    }
    return out;
  }

  // Sends one Login Request and waits for its answer.
  std::optional<RawPdu> login_request(core::LoginStage csg, const core::KeyValueList& keys,
                                      bool transit, bool cont = false) {
    core::LoginRequest r;
    r.transit = transit;
    r.cont = cont;
    r.csg = csg;
    r.nsg = !transit ? core::LoginStage(0)
            : csg == core::LoginStage::security_negotiation
                ? core::LoginStage::operational_negotiation
                : core::LoginStage::full_feature_phase;
    r.isid = isid;
    r.itt = core::Itt(0x1000);
    r.cmd_sn = cmd_sn;
    r.exp_stat_sn = exp_stat_sn;
    const auto data = text_of(keys);
    if (!send(core::Header{r}, data)) return std::nullopt;
    auto answer = receive();
    if (answer) note_stat_sn(*answer);
    return answer;
  }

  // ---- full feature phase ----

  core::Itt next_itt() { return core::Itt(itt_++); }

  // A SCSI Command with the next CmdSN (non-immediate), the CDB padded to 16 bytes.
  core::ScsiCommand command(std::initializer_list<std::uint8_t> cdb, std::uint32_t edtl, bool read,
                            bool write) {
    core::ScsiCommand c;
    c.itt = next_itt();
    c.read = read;
    c.write = write;
    c.expected_data_transfer_length = edtl;
    c.cmd_sn = cmd_sn;
    ++cmd_sn;
    c.exp_stat_sn = exp_stat_sn;
    std::size_t i = 0;
    for (auto b : cdb)
      c.cdb[i++] = std::byte{b};
    return c;
  }

  // An immediate NOP-Out ping; true when the matching NOP-In comes back (other PDUs before it
  // are kept in unexpected()).
  bool ping(std::chrono::milliseconds timeout = 3000ms) {
    core::NopOut n;
    n.immediate = true;
    n.itt = next_itt();
    n.ttt = core::Ttt::reserved();
    n.cmd_sn = cmd_sn;
    n.exp_stat_sn = exp_stat_sn;
    if (!send(core::Header{n})) return false;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto p = receive(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (!p) return false;
      note_stat_sn(*p);
      if (const auto* in = p->as<core::NopIn>(); in && in->itt == n.itt) {
        last_nop_in = *in;
        return true;
      }
      unexpected_.push_back(std::move(*p));
    }
    return false;
  }

  // Follows StatSN: ExpStatSN is one past the last StatSN of a status-carrying PDU.
  void note_stat_sn(const RawPdu& p) {
    std::visit(
        [&](const auto& h) {
          using T = std::decay_t<decltype(h)>;
          if constexpr (std::is_same_v<T, core::ScsiResponse> ||
                        std::is_same_v<T, core::LoginResponse> || std::is_same_v<T, core::NopIn> ||
                        std::is_same_v<T, core::Reject> ||
                        std::is_same_v<T, core::TaskMgmtResponse> ||
                        std::is_same_v<T, core::TextResponse> ||
                        std::is_same_v<T, core::LogoutResponse>) {
            if (core::serial_ge(h.stat_sn + 1, exp_stat_sn)) exp_stat_sn = h.stat_sn + 1;
          }
        },
        p.header);
  }

  std::string initiator_name = "iqn.2026-11.dev.uiscsi:raw-initiator";
  std::uint64_t isid = 0x800000001234ull;
  std::uint16_t tsih = 0;
  core::SerialNumber cmd_sn{1};
  core::SerialNumber exp_cmd_sn{1};
  core::SerialNumber exp_stat_sn{0};
  std::optional<core::NopIn> last_nop_in;

 private:
  std::optional<RawPdu> take() {
    if (!pending_.empty()) {
      RawPdu p = std::move(pending_.front());
      pending_.erase(pending_.begin());
      return p;
    }
    return next_from_framer();
  }
  std::optional<RawPdu> next_from_framer() {
    if (framer_.failed()) return std::nullopt;
    for (;;) {
      auto r = framer_.next();
      if (!r) {
        if (framer_.failed()) return std::nullopt;
        continue;  // a PDU we cannot decode: skipped
      }
      if (*r == nullptr) return std::nullopt;
      RawPdu p;
      p.bhs = (*r)->bhs;
      p.header = (*r)->header;
      p.data.assign((*r)->data.begin(), (*r)->data.end());
      return p;
    }
  }
  // Reads what the socket has before `deadline`; false on timeout.
  bool fill(std::chrono::steady_clock::time_point deadline) {
    if (!socket_.valid()) {
      eof_ = true;
      return false;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{socket_.fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    std::byte buf[16384];
    auto r = socket_.read(buf);
    if (!r) {
      if (r.error() == std::errc::resource_unavailable_try_again) return true;
      eof_ = true;  // reset by the peer
      return true;
    }
    if (*r == 0) {
      eof_ = true;
      return true;
    }
    std::span<const std::byte> in(buf, *r);
    while (!in.empty()) {
      const std::size_t n = framer_.feed(in);
      in = in.subspan(n);
      if (n == 0) {
        // Staging is full: hand what is complete to the queue first.
        if (auto pdu = next_from_framer()) pending_.push_back(std::move(*pdu));
        if (framer_.failed()) break;
      }
    }
    return true;
  }

  net::Socket socket_;
  core::Framer framer_;
  core::DigestConfig digests_;
  bool eof_ = false;
  std::uint32_t itt_ = 0x100;
  std::vector<RawPdu> pending_;  // complete PDUs taken out while feeding a full framer
  std::vector<RawPdu> unexpected_;
};

}  // namespace uiscsi::testing
