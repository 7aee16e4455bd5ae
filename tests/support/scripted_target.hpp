// ScriptedTarget: plays the target side of one connection against an InitiatorSession, PDU by
// PDU, in memory. Tests read what the initiator sent (decoded, with readable descriptions) and
// script the answers. login() runs a plain login with chosen operational answers.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/framer.hpp"
#include "core/initiator_session.hpp"
#include "core/text.hpp"
#include "support/pattern.hpp"

namespace uiscsi::testing {

using core::Header;

struct SentPdu {
  Header header;
  core::Bhs bhs;
  std::vector<std::byte> ahs;
  std::vector<std::byte> data;

  // A pointer into this PDU: not callable on a temporary (the pointer would dangle; take
  // ScriptedTarget::drain_one_as<T>() instead).
  template <class T>
  [[nodiscard]] const T* as() const& {
    return std::get_if<T>(&header);
  }
  template <class T>
  const T* as() const&& = delete;
  [[nodiscard]] std::string describe() const { return core::describe(header); }
};

// Deterministic bytes for tests.
class CountingRandom : public core::RandomSource {
 public:
  void fill(std::span<std::byte> out) override {
    for (auto& b : out)
      b = static_cast<std::byte>(next_++ * 7 + 3);
  }

 private:
  unsigned next_ = 1;
};

class ScriptedTarget {
 public:
  ScriptedTarget(core::InitiatorSession& s, core::ConnectionId cid, core::TimePoint* now)
      : s_(s), cid_(cid), now_(now) {
    core::FramerConfig fc;
    fc.role = core::Role::target;
    fc.max_recv_data_segment_length = (1u << 24) - 1;
    framer_.configure(fc);
  }

  // Everything the initiator has queued for this connection, decoded.
  std::vector<SentPdu> drain() {
    std::vector<SentPdu> out;
    for (;;) {
      std::array<std::span<const std::byte>, 64> iov;
      const std::size_t n = s_.gather(cid_, iov);
      if (n == 0) break;
      std::size_t total = 0;
      for (std::size_t i = 0; i < n; ++i) {
        std::span<const std::byte> seg = iov[i];
        while (!seg.empty()) {
          const std::size_t k = framer_.feed(seg);
          seg = seg.subspan(k);
          collect(out);
        }
        total += iov[i].size();
      }
      s_.consume(cid_, total);
    }
    collect(out);
    return out;
  }

  // Exactly one PDU expected.
  SentPdu drain_one() {
    auto v = drain();
    EXPECT_EQ(v.size(), 1u);
    if (v.empty()) return {};
    return v.front();
  }
  // Exactly one PDU expected, of header type T: a copy of its header, or nullopt (and a test
  // failure) when it is another PDU.
  template <class T>
  std::optional<T> drain_one_as() {
    const SentPdu p = drain_one();
    if (const T* h = p.as<T>()) return *h;
    ADD_FAILURE() << "expected another PDU than " << p.describe();
    return std::nullopt;
  }

  // Sends a target PDU to the initiator. Sequence numbers left at zero are filled in: StatSN
  // (advancing for status PDUs), ExpCmdSN and MaxCmdSN.
  void send(Header h, std::span<const std::byte> data = {}, bool fill_sns = true) {
    if (fill_sns) fill(h);
    auto wire = core::serialize_pdu(h, data, digests_);
    s_.feed(cid_, wire, *now_);
  }
  void send_raw(std::span<const std::byte> wire) { s_.feed(cid_, wire, *now_); }

  // Runs a login with no authentication. `answers` overrides our answer to an offered key;
  // other keys are echoed (lists: first value). MaxRecvDataSegmentLength is declared as
  // `target_mrdsl`.
  void login(std::map<std::string, std::string> answers = {}, std::uint32_t target_mrdsl = 8192,
             std::uint16_t tsih = 0x10) {
    for (int round = 0; round < 10; ++round) {
      auto pdus = drain();
      ASSERT_EQ(pdus.size(), 1u) << "login round " << round;
      const auto* req = pdus[0].as<core::LoginRequest>();
      ASSERT_NE(req, nullptr) << pdus[0].describe();
      if (round == 0) first_login_request = *req;
      auto keys = core::parse_text(pdus[0].data);
      ASSERT_TRUE(keys);
      core::KeyValueList reply;
      for (const auto& kv : *keys) {
        if (kv.key == "InitiatorName" || kv.key == "TargetName" || kv.key == "SessionType" ||
            kv.key == "InitiatorAlias" || kv.key == "MaxRecvDataSegmentLength")
          continue;
        if (auto it = answers.find(kv.key); it != answers.end()) {
          reply.push_back({kv.key, it->second});
        } else {
          const auto first = kv.value.substr(0, kv.value.find(','));
          reply.push_back({kv.key, first});
        }
      }
      if (req->csg == core::LoginStage::operational_negotiation)
        reply.push_back({"MaxRecvDataSegmentLength", std::to_string(target_mrdsl)});
      core::LoginResponse rsp;
      rsp.transit = req->transit;
      rsp.csg = req->csg;
      rsp.nsg = req->nsg;
      rsp.isid = req->isid;
      rsp.itt = req->itt;
      rsp.stat_sn = core::SerialNumber(stat_sn_.value());
      ++stat_sn_;
      rsp.exp_cmd_sn = req->cmd_sn;
      rsp.max_cmd_sn = req->cmd_sn + window_ - 1;
      exp_cmd_sn_ = req->cmd_sn;
      const bool final = req->transit && req->nsg == core::LoginStage::full_feature_phase;
      if (final) rsp.tsih = tsih;
      auto text = core::serialize_text(reply);
      s_.feed(cid_, core::serialize_pdu(Header{rsp}, text, {}), *now_);
      if (final) {
        digests_ = {s_.params().header_digest, s_.params().data_digest};
        core::FramerConfig fc = framer_.config();
        fc.digests = digests_;
        framer_.configure(fc);
        return;
      }
    }
    FAIL() << "login did not finish";
  }

  // Window control: MaxCmdSN = ExpCmdSN + window - 1 in the PDUs we send.
  void set_window(std::int32_t window) { window_ = static_cast<std::uint32_t>(window); }
  // Commands the target has "received" (advances ExpCmdSN for the next PDUs).
  void accept_commands(std::uint32_t n) { exp_cmd_sn_ += n; }
  [[nodiscard]] core::SerialNumber exp_cmd_sn() const { return exp_cmd_sn_; }
  [[nodiscard]] core::SerialNumber next_stat_sn() const { return stat_sn_; }
  [[nodiscard]] const core::DigestConfig& digests() const { return digests_; }
  // The first Login Request of login() (ISID, TSIH, CID, CmdSN as the initiator sent them).
  core::LoginRequest first_login_request;

 private:
  void collect(std::vector<SentPdu>& out) {
    for (;;) {
      auto r = framer_.next();
      if (!r) {
        ADD_FAILURE() << "initiator sent a bad PDU: " << r.error().message();
        return;
      }
      if (*r == nullptr) return;
      const auto& p = **r;
      out.push_back(
          {p.header, p.bhs, {p.ahs.begin(), p.ahs.end()}, {p.data.begin(), p.data.end()}});
    }
  }

  void fill(Header& h) {
    std::visit(
        [&](auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (requires { v.exp_cmd_sn; }) {
            if (v.exp_cmd_sn == core::SerialNumber(0)) v.exp_cmd_sn = exp_cmd_sn_;
            if (v.max_cmd_sn == core::SerialNumber(0)) v.max_cmd_sn = exp_cmd_sn_ + window_ - 1;
          }
          if constexpr (requires { v.stat_sn; }) {
            bool advances = true;
            if constexpr (std::is_same_v<T, core::DataIn>) advances = v.status_present;
            if constexpr (std::is_same_v<T, core::R2t>) advances = false;
            if constexpr (std::is_same_v<T, core::NopIn>) advances = !v.itt.is_reserved();
            if (v.stat_sn == core::SerialNumber(0) &&
                (advances || !std::is_same_v<T, core::DataIn>)) {
              v.stat_sn = stat_sn_;
              if (advances) ++stat_sn_;
            }
          }
        },
        h);
  }

  core::InitiatorSession& s_;
  core::ConnectionId cid_;
  core::TimePoint* now_;
  core::Framer framer_;
  core::DigestConfig digests_;
  core::SerialNumber stat_sn_{100};
  core::SerialNumber exp_cmd_sn_{1};
  std::uint32_t window_ = 32;
};

}  // namespace uiscsi::testing
