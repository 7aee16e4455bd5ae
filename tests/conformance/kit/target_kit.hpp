// The target side of the UNH-IOL conformance kit: our TargetConnection engine driven PDU by PDU
// in memory and in virtual time by a scripted initiator (tests/unit/target_engine's
// TargetHarness), plus what the target checklist's lines keep doing: a WRITE answered R2T by R2T,
// plain SCSI commands, NOP-Out pings, and StatSN tracking across everything the target sends.
#pragma once

#include <gtest/gtest.h>

#include <optional>

#include "conformance/kit/wire_text.hpp"
#include "core/bytes.hpp"
#include "support/pattern.hpp"
#include "unit/target_engine/target_harness.hpp"

namespace uiscsi::testing::kit {

using core::Header;

// What one WRITE brought back.
struct WriteOutcome {
  std::vector<TargetPdu> pdus;  // everything the target sent, in order
  std::vector<core::R2t> r2ts;
  std::optional<core::ScsiResponse> response;
};

// A non-immediate Text Request taking the next CmdSN from `cmd_sn`.
inline core::TextRequest text_request(bool final, bool cont, core::Itt tag, core::Ttt ttt,
                                      core::SerialNumber& cmd_sn, core::SerialNumber exp_stat_sn) {
  core::TextRequest r;
  r.final = final;
  r.cont = cont;
  r.itt = tag;
  r.ttt = ttt;
  r.cmd_sn = cmd_sn;
  ++cmd_sn;
  r.exp_stat_sn = exp_stat_sn;
  return r;
}

class ScriptedInitiator : public TargetHarness {
 public:
  // Logs in with `keys` and puts a pattern on the disk's first 64 blocks.
  // The target offers the most permissive InitialR2T (No) and ImmediateData (Yes), and burst
  // lengths no smaller than ours, so the line's keys (OR / AND / min functions, RFC 7143
  // section 13) are the ones in force.
  bool open(const LoginKeys& keys = {}) {
    config.negotiation.initial_r2t = false;
    config.negotiation.immediate_data = true;
    config.negotiation.max_burst_length = 1u << 24;
    config.negotiation.first_burst_length = 1u << 24;
    if (!login(keys)) return false;
    const auto bytes = pattern(64 * 512, 7);
    std::copy(bytes.begin(), bytes.end(), disk.data().begin());
    return true;
  }

  // Runs the engine until quiet and follows StatSN (ExpStatSN = last status StatSN + 1).
  std::vector<TargetPdu> receive_tracked() {
    auto out = receive();
    for (const auto& p : out)
      std::visit(
          [&](const auto& h) {
            using T = std::decay_t<decltype(h)>;
            if constexpr (std::is_same_v<T, core::ScsiResponse> ||
                          std::is_same_v<T, core::TaskMgmtResponse> ||
                          std::is_same_v<T, core::Reject> ||
                          std::is_same_v<T, core::TextResponse> ||
                          std::is_same_v<T, core::LogoutResponse>) {
              exp_stat_sn = h.stat_sn + 1;
            } else if constexpr (std::is_same_v<T, core::NopIn>) {
              if (!h.itt.is_reserved()) exp_stat_sn = h.stat_sn + 1;
            } else if constexpr (std::is_same_v<T, core::DataIn>) {
              if (h.status_present) exp_stat_sn = h.stat_sn + 1;
            }
          },
          p.header);
    all.insert(all.end(), out.begin(), out.end());
    return out;
  }

  // Answers every R2T in `pdus` for `c` with Data-Out PDUs of at most `segment` bytes (DataSN
  // from 0 per R2T, F=1 on the last), then takes what the target sends next, until the SCSI
  // Response arrives or the target has nothing more to say.
  WriteOutcome answer_r2ts(const core::ScsiCommand& c, std::span<const std::byte> data,
                           std::vector<TargetPdu> pdus, std::uint32_t segment) {
    WriteOutcome w;
    for (int round = 0; round < 1000; ++round) {
      w.pdus.insert(w.pdus.end(), pdus.begin(), pdus.end());
      std::vector<core::R2t> now_r2ts;
      for (const auto& p : pdus) {
        if (const auto* r = p.as<core::R2t>(); r && r->itt == c.itt) now_r2ts.push_back(*r);
        if (const auto* s = p.as<core::ScsiResponse>(); s && s->itt == c.itt) w.response = *s;
      }
      if (w.response || now_r2ts.empty()) return w;
      for (const auto& r : now_r2ts) {
        w.r2ts.push_back(r);
        send_burst(c, r.ttt, data, r.buffer_offset, r.desired_data_transfer_length, segment);
      }
      pdus = receive_tracked();
    }
    return w;
  }

  // Data-Out PDUs for [offset, offset + length) of `data`, `segment` bytes each.
  void send_burst(const core::ScsiCommand& c, core::Ttt ttt, std::span<const std::byte> data,
                  std::uint32_t offset, std::uint32_t length, std::uint32_t segment) {
    std::uint32_t sn = 0;
    for (std::uint32_t done = 0; done < length; ++sn) {
      const std::uint32_t n = std::min(segment, length - done);
      send(Header{data_out(c, ttt, sn, offset + done, done + n == length)},
           data.subspan(offset + done, n));
      done += n;
    }
  }

  // A WRITE(10) of `blocks` at `lba` with `immediate` bytes of immediate data and no
  // unsolicited Data-Out (F=1), answered R2T by R2T with `segment`-byte Data-Outs.
  WriteOutcome write(std::uint32_t lba, std::uint16_t blocks, std::uint32_t segment = 512,
                     std::uint32_t immediate = 0, core::Itt itt = core::Itt()) {
    core::ScsiCommand c = rw10(true, lba, blocks);
    if (!itt.is_reserved()) c.itt = itt;
    last_command = c;
    const auto data = pattern(blocks * 512u, lba + 1);
    send(Header{c}, std::span(data).first(immediate));
    return answer_r2ts(c, data, receive_tracked(), segment);
  }

  // A SCSI command with the next CmdSN (non-immediate unless asked).
  core::ScsiCommand scsi(std::initializer_list<std::uint8_t> cdb, std::uint32_t edtl, bool read,
                         bool write_bit = false) {
    core::ScsiCommand c = test_unit_ready();
    c.read = read;
    c.write = write_bit;
    c.expected_data_transfer_length = edtl;
    std::size_t i = 0;
    for (auto b : cdb)
      c.cdb[i++] = std::byte{b};
    return c;
  }
  core::ScsiCommand inquiry(std::uint32_t edtl, std::uint16_t allocation) {
    return scsi({0x12, 0, 0, static_cast<std::uint8_t>(allocation >> 8),
                 static_cast<std::uint8_t>(allocation & 0xff), 0},
                edtl, true);
  }

  // A NOP-Out ping (ITT given, TTT reserved) with the current CmdSN; a non-immediate one takes
  // a CmdSN.
  core::NopOut ping(bool immediate, core::Itt tag) {
    core::NopOut n;
    n.immediate = immediate;
    n.itt = tag;
    n.ttt = core::Ttt::reserved();
    n.cmd_sn = cmd_sn;
    if (!immediate) ++cmd_sn;
    n.exp_stat_sn = exp_stat_sn;
    return n;
  }

  // A task management request with the next CmdSN (immediate by default: it does not take it).
  core::TaskMgmtRequest tmf(core::TmfFunction f, core::Itt referenced = core::Itt(),
                            core::SerialNumber ref_cmd_sn = core::SerialNumber(),
                            bool immediate = true) {
    core::TaskMgmtRequest t;
    t.immediate = immediate;
    t.function = f;
    t.itt = itt();
    t.referenced_task_tag = referenced;
    t.ref_cmd_sn = ref_cmd_sn;
    t.cmd_sn = cmd_sn;
    if (!immediate) ++cmd_sn;
    t.exp_stat_sn = exp_stat_sn;
    return t;
  }
  // Lets the LU layer finish every TMF the engine handed it (TaskManagement events), then
  // returns what the target sent.
  std::vector<TargetPdu> finish_tmfs() {
    std::vector<std::uint32_t> requests;
    for (auto it = events.begin(); it != events.end();) {
      if (const auto* m = std::get_if<core::TaskManagement>(&*it)) {
        requests.push_back(m->request);
        it = events.erase(it);
      } else {
        ++it;
      }
    }
    for (auto r : requests)
      target->tmf_done(r, now);
    return receive_tracked();
  }

  // A Text Request with `keys` (F, C, TTT and ITT as given; non-immediate: takes a CmdSN), and
  // what the target answered.
  std::vector<TargetPdu> text(const core::KeyValueList& keys, bool final, core::Itt tag,
                              core::Ttt ttt = core::Ttt::reserved(), bool cont = false) {
    return text_bytes(core::serialize_text(keys), final, tag, ttt, cont);
  }
  // The same with raw text bytes (a part of a text split with the C bit).
  std::vector<TargetPdu> text_bytes(std::span<const std::byte> data, bool final, core::Itt tag,
                                    core::Ttt ttt = core::Ttt::reserved(), bool cont = false) {
    send(Header{text_request(final, cont, tag, ttt, cmd_sn, exp_stat_sn)}, data);
    return receive_tracked();
  }
  // The payload sizes of a READ(10) of `blocks` blocks at LBA 0 (to see which
  // MaxRecvDataSegmentLength governs the Data-In).
  std::vector<std::size_t> read_segment_sizes(std::uint16_t blocks) {
    const auto c = rw10(false, 0, blocks);
    send(Header{c});
    std::vector<std::size_t> sizes;
    for (const auto& p : receive_tracked())
      if (const auto* d = p.as<core::DataIn>(); d && d->itt == c.itt)
        sizes.push_back(p.data.size());
    return sizes;
  }

  core::ScsiCommand last_command;
  std::vector<TargetPdu> all;  // everything receive_tracked() has seen
};

// A discovery session (SessionType=Discovery, no TargetName) on our target engine: logs in and
// sends Text and Logout requests (RFC 7143 sections 4.3, 11.10, 11.14, Appendix C).
class DiscoveryInitiator {
 public:
  core::TimePoint now{std::chrono::seconds(1000)};
  CountingRandom rng;
  TestDirectory directory;
  core::TargetConfig config;
  std::unique_ptr<core::TargetConnection> target;
  std::vector<core::TargetEvent> events;
  core::SerialNumber cmd_sn{1};
  core::SerialNumber exp_stat_sn{0};

  DiscoveryInitiator() { config.negotiation.max_recv_data_segment_length = 8192; }

  bool login(const std::string& mrdsl = "512") {
    target = std::make_unique<core::TargetConnection>(config, directory, rng, now);
    core::FramerConfig fc;
    fc.role = core::Role::initiator;
    fc.max_recv_data_segment_length = core::kMaxDataSegmentLength;
    fc.decode.reserved = core::ReservedPolicy::ignore;
    framer_.configure(fc);
    const core::KeyValueList keys = {{"InitiatorName", "iqn.2026-11.dev.uiscsi:unh-discovery"},
                                     {"SessionType", "Discovery"},
                                     {"HeaderDigest", "None"},
                                     {"DataDigest", "None"},
                                     {"MaxRecvDataSegmentLength", mrdsl}};
    for (int step = 0; step < 5; ++step) {
      core::LoginRequest r;
      r.transit = true;
      r.csg = core::LoginStage::operational_negotiation;
      r.nsg = core::LoginStage::full_feature_phase;
      r.isid = 0x800000005678ull;
      r.itt = core::Itt(0x2000);
      r.cmd_sn = cmd_sn;
      r.exp_stat_sn = exp_stat_sn;
      send(Header{r}, core::serialize_text(step == 0 ? keys : core::KeyValueList{}));
      const auto out = receive();
      if (out.size() != 1) return false;
      const auto* lr = out[0].as<core::LoginResponse>();
      if (lr == nullptr || lr->status_class != 0) return false;
      exp_stat_sn = lr->stat_sn + 1;
      if (lr->transit && lr->nsg == core::LoginStage::full_feature_phase) {
        cmd_sn = lr->exp_cmd_sn;
        return target->logged_in();
      }
    }
    return false;
  }

  void send(const Header& h, std::span<const std::byte> data = {}) {
    core::Bhs bhs;
    core::encode_header(h, bhs);
    target->feed(core::serialize_pdu(bhs, {}, data, {}), now);
  }
  std::vector<TargetPdu> receive() {
    return run_until_quiet(*target, framer_, events, [](const core::ExecuteCommand&) {});
  }
  std::vector<TargetPdu> text(const core::KeyValueList& keys, bool final, core::Itt tag,
                              core::Ttt ttt = core::Ttt::reserved()) {
    send(Header{text_request(final, false, tag, ttt, cmd_sn, exp_stat_sn)},
         core::serialize_text(keys));
    return receive();
  }
  std::vector<TargetPdu> logout(core::LogoutReason reason, core::Itt tag) {
    core::LogoutRequest l;
    l.immediate = true;
    l.reason = reason;
    l.itt = tag;
    l.cmd_sn = cmd_sn;
    l.exp_stat_sn = exp_stat_sn;
    send(Header{l});
    return receive();
  }
  bool closed() const {
    return std::any_of(events.begin(), events.end(), [](const core::TargetEvent& e) {
      return std::holds_alternative<core::TargetConnectionClosed>(e);
    });
  }

 private:
  core::Framer framer_;
};

// The Text Responses among `pdus` with their decoded keys.
struct TextAnswer {
  core::TextResponse header;
  core::KeyValueList keys;
  std::size_t bytes = 0;
};
inline std::vector<TextAnswer> text_answers(const std::vector<TargetPdu>& pdus) {
  std::vector<TextAnswer> out;
  for (const auto& p : pdus)
    if (const auto* t = p.as<core::TextResponse>()) {
      auto keys = core::parse_text(p.data);
      out.push_back({*t, keys ? *keys : core::KeyValueList{}, p.data.size()});
    }
  return out;
}
inline std::optional<std::string> value_of(const core::KeyValueList& keys, std::string_view key) {
  for (const auto& kv : keys)
    if (kv.key == key) return kv.value;
  return std::nullopt;
}

// The Data-In PDUs of `pdus` for `itt`, with their payload sizes.
inline std::vector<std::pair<core::DataIn, std::size_t>> data_ins(
    const std::vector<TargetPdu>& pdus, core::Itt itt) {
  std::vector<std::pair<core::DataIn, std::size_t>> out;
  for (const auto& p : pdus)
    if (const auto* d = p.as<core::DataIn>(); d && d->itt == itt)
      out.emplace_back(*d, p.data.size());
  return out;
}

// The SCSI Response for `itt` among `pdus`, if any.
inline std::optional<core::ScsiResponse> response_for(const std::vector<TargetPdu>& pdus,
                                                      core::Itt itt) {
  for (const auto& p : pdus)
    if (const auto* s = p.as<core::ScsiResponse>(); s && s->itt == itt) return *s;
  return std::nullopt;
}

// Sense key, ASC and ASCQ of fixed-format sense data carried after the 2-byte SenseLength.
struct SenseCode {
  std::uint8_t key = 0, asc = 0, ascq = 0;
};
inline std::optional<SenseCode> sense_of(std::span<const std::byte> segment) {
  if (segment.size() < 2 + 14) return std::nullopt;
  const auto s = segment.subspan(2);
  return SenseCode{static_cast<std::uint8_t>(std::to_integer<std::uint8_t>(s[2]) & 0x0f),
                   std::to_integer<std::uint8_t>(s[12]), std::to_integer<std::uint8_t>(s[13])};
}
inline std::optional<SenseCode> sense_for(const std::vector<TargetPdu>& pdus, core::Itt itt) {
  for (const auto& p : pdus)
    if (const auto* s = p.as<core::ScsiResponse>(); s && s->itt == itt) return sense_of(p.data);
  return std::nullopt;
}

}  // namespace uiscsi::testing::kit
