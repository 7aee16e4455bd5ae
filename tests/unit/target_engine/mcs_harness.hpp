// McsWorld and McsConnection: several TargetConnection engines of one session (MC/S, ERL 2),
// driven with raw PDUs in memory, in virtual time. The world holds what the connections share
// (the directory with its session registry, the configuration, the disk, the clock, the
// initiator's CmdSN and ITTs); each McsConnection plays one TCP connection of the initiator.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

#include "core/target_session.hpp"
#include "target_harness.hpp"

namespace uiscsi::testing {

struct McsWorld {
  core::TimePoint now{std::chrono::seconds(1000)};
  CountingRandom rng;
  SharedDirectory directory;
  core::TargetConfig config;
  TinyDisk disk;
  core::SerialNumber cmd_sn{1};  // session-wide
  std::uint32_t next_itt = 0x10;
  std::uint16_t tsih = 0;

  McsWorld() {
    config.negotiation.error_recovery_level = 2;
    config.negotiation.max_connections = 4;
    config.negotiation.max_recv_data_segment_length = 8192;
  }
  core::Itt itt() { return core::Itt(next_itt++); }
  core::ScsiCommand rw10(bool write, std::uint32_t lba, std::uint16_t blocks) {
    core::ScsiCommand c;
    c.itt = itt();
    c.read = !write;
    c.write = write;
    c.expected_data_transfer_length = blocks * 512u;
    c.cmd_sn = cmd_sn;
    ++cmd_sn;
    c.cdb[0] = std::byte{static_cast<unsigned char>(write ? 0x2a : 0x28)};
    core::store_be32(c.cdb.data() + 2, lba);
    core::store_be16(c.cdb.data() + 7, blocks);
    return c;
  }
};

struct McsKeys {
  std::string erl = "2";
  std::string max_connections = "2";
  std::string mrdsl = "512";
  std::string max_burst = "2048";
  std::string time2wait = "0";
  std::string time2retain = "5";
};

class McsConnection {
 public:
  McsConnection(McsWorld& w, std::uint16_t cid) : w_(w), cid_(cid) {}

  std::unique_ptr<core::TargetConnection> target;
  core::SerialNumber exp_stat_sn{0};
  bool execute_inline = true;
  std::vector<core::ExecuteCommand> held;
  std::vector<core::TargetEvent> events;
  std::optional<core::LoginResponse> last_login;

  // Logs in: a new session when the world has none (w.tsih 0), else a further connection of it.
  // False when the target refused (last_login holds the answer).
  bool login(const McsKeys& k = {}) {
    target = std::make_unique<core::TargetConnection>(w_.config, w_.directory, w_.rng, w_.now);
    core::FramerConfig fc;
    fc.role = core::Role::initiator;
    fc.max_recv_data_segment_length = core::kMaxDataSegmentLength;
    fc.decode.reserved = core::ReservedPolicy::ignore;
    framer_.configure(fc);
    core::KeyValueList keys = {{"InitiatorName", "iqn.2026-11.dev.uiscsi:mcs"},
                               {"TargetName", w_.directory.target},
                               {"HeaderDigest", "None"},
                               {"DataDigest", "None"},
                               {"MaxRecvDataSegmentLength", k.mrdsl}};
    if (w_.tsih == 0) {
      // Leading-only keys (SessionType and the session's parameters) on the first connection.
      keys.insert(keys.end(), {{"SessionType", "Normal"},
                               {"ErrorRecoveryLevel", k.erl},
                               {"MaxConnections", k.max_connections},
                               {"InitialR2T", "Yes"},
                               {"ImmediateData", "No"},
                               {"MaxBurstLength", k.max_burst},
                               {"FirstBurstLength", "512"},
                               {"MaxOutstandingR2T", "1"},
                               {"DefaultTime2Wait", k.time2wait},
                               {"DefaultTime2Retain", k.time2retain}});
    }
    for (int step = 0; step < 5; ++step) {
      core::LoginRequest r;
      r.transit = true;
      r.csg = core::LoginStage::operational_negotiation;
      r.nsg = core::LoginStage::full_feature_phase;
      r.isid = 0x800000001234ull;
      r.tsih = w_.tsih;
      r.cid = cid_;
      r.itt = core::Itt(0x1000);
      r.cmd_sn = w_.cmd_sn;
      r.exp_stat_sn = exp_stat_sn;
      send(core::Header{r}, core::serialize_text(step == 0 ? keys : core::KeyValueList{}));
      const auto out = receive();
      if (out.size() != 1) return false;
      const auto* lr = out[0].as<core::LoginResponse>();
      if (lr == nullptr) return false;
      last_login = *lr;
      if (lr->status_class != 0) return false;
      exp_stat_sn = lr->stat_sn + 1;
      if (lr->transit && lr->nsg == core::LoginStage::full_feature_phase) {
        if (w_.tsih == 0) w_.tsih = lr->tsih;
        return target->logged_in();
      }
    }
    return false;
  }

  void send(const core::Header& h, std::span<const std::byte> data = {}) {
    core::Bhs bhs;
    core::encode_header(h, bhs);
    const auto w = core::serialize_pdu(bhs, {}, data, {});
    target->feed(w, w_.now);
  }
  // A command with this connection's ExpStatSN.
  void command(core::ScsiCommand c, std::span<const std::byte> data = {}) {
    c.exp_stat_sn = exp_stat_sn;
    send(core::Header{c}, data);
  }
  core::DataOut data_out(core::Itt itt, core::Ttt ttt, std::uint32_t data_sn, std::uint32_t offset,
                         bool final) const {
    core::DataOut d;
    d.final = final;
    d.itt = itt;
    d.ttt = ttt;
    d.data_sn = data_sn;
    d.buffer_offset = offset;
    d.exp_stat_sn = exp_stat_sn;
    return d;
  }
  // TASK REASSIGN (function 8) of `task`, immediate.
  void reassign(core::Itt task, std::uint32_t exp_data_sn, core::Itt itt) {
    core::TaskMgmtRequest t;
    t.immediate = true;
    t.function = core::TmfFunction::task_reassign;
    t.itt = itt;
    t.referenced_task_tag = task;
    t.cmd_sn = w_.cmd_sn;
    t.exp_stat_sn = exp_stat_sn;
    t.exp_data_sn = core::SerialNumber(exp_data_sn);
    send(core::Header{t});
  }
  void logout(core::LogoutReason reason, std::uint16_t cid, core::Itt itt) {
    core::LogoutRequest l;
    l.immediate = true;
    l.reason = reason;
    l.cid = cid;
    l.itt = itt;
    l.cmd_sn = w_.cmd_sn;
    l.exp_stat_sn = exp_stat_sn;
    send(core::Header{l});
  }

  // Runs the engine until quiet; every PDU it sends comes back in order.
  std::vector<TargetPdu> receive() {
    auto out = run_until_quiet(*target, framer_, events, [&](const core::ExecuteCommand& x) {
      if (execute_inline) {
        target->complete(x.task, w_.disk.execute(x), w_.now);
      } else {
        held.push_back(x);
      }
    });
    for (const auto& p : out)
      if (const auto* r = p.as<core::ScsiResponse>()) exp_stat_sn = r->stat_sn + 1;
    return out;
  }
  void run_held(std::size_t i = 0) {
    auto x = held.at(i);
    held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
    target->complete(x.task, w_.disk.execute(x), w_.now);
  }
  [[nodiscard]] bool closed() const {
    return std::any_of(events.begin(), events.end(), [](const core::TargetEvent& e) {
      return std::holds_alternative<core::TargetConnectionClosed>(e);
    });
  }

 private:
  McsWorld& w_;
  std::uint16_t cid_;
  core::Framer framer_;
};

}  // namespace uiscsi::testing
