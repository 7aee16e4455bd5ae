// EnginePair: an InitiatorSession and a TargetConnection wired together in memory, in virtual
// time. Bytes move in chunks of a chosen size (or randomly), the target's SCSI commands run on
// a small RAM disk, and tests drive both ends with pump().
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "core/bytes.hpp"
#include "core/initiator_session.hpp"
#include "core/target_connection.hpp"
#include "core/target_session.hpp"
#include "support/scripted_target.hpp"

namespace uiscsi::testing {

// A directory with one target and optional CHAP accounts.
class TestDirectory : public core::TargetDirectory {
 public:
  std::string target = "iqn.2026-11.dev.uiscsi:sim";
  std::string alias = "sim";
  std::map<std::string, std::string> chap_users;  // user -> secret
  std::optional<core::ChapCredentials> mutual;
  bool chap_required = false;
  std::string redirect_to;
  std::uint16_t next_tsih = 0x100;

  std::optional<TargetInfo> find_target(std::string_view name) const override {
    if (name != target) return std::nullopt;
    return TargetInfo{alias, 1, chap_required, mutual.has_value()};
  }
  bool allowed(std::string_view, std::string_view) const override { return true; }
  std::optional<Secret> chap_secret(std::string_view, std::string_view user) const override {
    auto it = chap_users.find(std::string(user));
    if (it == chap_users.end()) return std::nullopt;
    return Secret(it->second);
  }
  std::optional<core::ChapCredentials> mutual_credentials(std::string_view) const override {
    return mutual;
  }
  bool lun_exists(std::string_view, const Lun& lun) const override { return lun == Lun(); }
  bool discovery_chap_required() const override { return false; }
  core::KeyValueList send_targets(std::string_view, std::string_view which,
                                  std::string_view) const override {
    if (which != "All" && !which.empty() && which != target) return {};
    return {{"TargetName", target}, {"TargetAddress", "127.0.0.1:3260,1"}};
  }
  std::string redirect(std::string_view) const override { return redirect_to; }
  std::uint16_t attach_session(std::string_view, std::uint64_t, std::uint16_t tsih,
                               std::string_view) override {
    return tsih ? tsih : next_tsih++;
  }
};

// A TestDirectory that shares session state between the connections of a session, as the
// server does.
class SharedDirectory : public TestDirectory {
 public:
  std::map<std::uint16_t, std::shared_ptr<core::TargetSession>> sessions;
  std::uint16_t attach_session(std::string_view, std::uint64_t, std::uint16_t tsih,
                               std::string_view) override {
    if (tsih != 0) return sessions.count(tsih) ? tsih : 0;
    const std::uint16_t t = next_tsih++;
    sessions[t] = std::make_shared<core::TargetSession>();
    return t;
  }
  std::shared_ptr<core::TargetSession> session_state(std::uint16_t tsih) override {
    auto it = sessions.find(tsih);
    return it == sessions.end() ? nullptr : it->second;
  }
};

// A RAM disk answering INQUIRY, TEST UNIT READY, READ CAPACITY(10), READ(10), WRITE(10).
class TinyDisk {
 public:
  explicit TinyDisk(std::uint32_t blocks = 4096) : data_(std::size_t{blocks} * 512) {}
  core::CommandOutcome execute(const core::ExecuteCommand& e) {
    core::CommandOutcome o;
    const auto op = std::to_integer<std::uint8_t>(e.cdb[0]);
    auto check = [&](std::uint8_t key, std::uint8_t asc) {
      o.status = 0x02;
      o.sense.assign(18, std::byte{0});
      o.sense[0] = std::byte{0x70};
      o.sense[2] = std::byte{key};
      o.sense[7] = std::byte{10};
      o.sense[12] = std::byte{asc};
    };
    switch (op) {
      case 0x00:
        return o;
      case 0x12: {
        o.data_in.assign(36, std::byte{0});
        o.data_in[2] = std::byte{6};
        o.data_in[3] = std::byte{2};
        o.data_in[4] = std::byte{31};
        std::memcpy(o.data_in.data() + 8, "UISCSI  TINYDISK        0001", 28);
        return o;
      }
      case 0x25: {
        o.data_in.assign(8, std::byte{0});
        core::store_be32(o.data_in.data(), static_cast<std::uint32_t>(data_.size() / 512 - 1));
        core::store_be32(o.data_in.data() + 4, 512);
        return o;
      }
      case 0x28:
      case 0x2a: {
        const std::uint64_t lba = core::load_be32(e.cdb.data() + 2);
        const std::uint64_t n = core::load_be16(e.cdb.data() + 7);
        if ((lba + n) * 512 > data_.size()) {
          check(0x05, 0x21);
          return o;
        }
        if (op == 0x28) {
          o.data_in.assign(data_.begin() + static_cast<long>(lba * 512),
                           data_.begin() + static_cast<long>((lba + n) * 512));
        } else {
          if (e.data_out.size() != n * 512) {
            check(0x05, 0x24);
            return o;
          }
          std::memcpy(data_.data() + lba * 512, e.data_out.data(), e.data_out.size());
        }
        return o;
      }
      default:
        check(0x05, 0x20);
        return o;
    }
  }
  std::vector<std::byte>& data() { return data_; }

 private:
  std::vector<std::byte> data_;
};

class EnginePair {
 public:
  core::TimePoint now{std::chrono::seconds(5000)};
  CountingRandom irng, trng;
  TestDirectory directory;
  core::TargetConfig target_config;
  TinyDisk disk;
  std::unique_ptr<core::InitiatorSession> initiator;
  std::unique_ptr<core::TargetConnection> target;
  core::ConnectionId cid = 0;
  std::size_t chunk = 1 << 20;  // bytes moved per step; 0 = random 1..4096
  std::mt19937 rng{42};
  std::vector<core::Event> initiator_events;
  std::vector<core::TargetEvent> target_events;
  bool execute_inline = true;
  std::vector<core::ExecuteCommand> held;  // commands not yet executed (execute_inline = false)

  core::SessionConfig session_config() const {
    core::SessionConfig c;
    c.initiator_name = "iqn.2026-11.dev.uiscsi:sim-initiator";
    c.target_name = directory.target;
    c.keepalive_interval = std::chrono::seconds(0);
    return c;
  }

  void start(core::SessionConfig c) {
    initiator = std::make_unique<core::InitiatorSession>(std::move(c), irng);
    target = std::make_unique<core::TargetConnection>(target_config, directory, trng, now);
    cid = initiator->open_connection(now);
  }

  // Moves bytes both ways and runs LU commands until nothing changes.
  void pump(int max_rounds = 100000) {
    for (int round = 0; round < max_rounds; ++round) {
      const bool sent = move(true);
      const bool received = move(false);
      bool moved = sent || received;
      while (auto e = target->poll_event()) {
        moved = true;
        if (auto* x = std::get_if<core::ExecuteCommand>(&*e)) {
          if (execute_inline) {
            target->complete(x->task, disk.execute(*x), now);
          } else {
            held.push_back(*x);
          }
        } else if (auto* tm = std::get_if<core::TaskManagement>(&*e)) {
          target->tmf_done(tm->request, now);
        }
        target_events.push_back(std::move(*e));
      }
      while (auto e = initiator->poll_event()) {
        moved = true;
        initiator_events.push_back(std::move(*e));
      }
      if (!moved) return;
    }
    ADD_FAILURE() << "pump did not settle";
  }

  template <class T>
  std::vector<T> take() {
    std::vector<T> out;
    std::vector<core::Event> rest;
    for (auto& e : initiator_events) {
      if (auto* v = std::get_if<T>(&e)) {
        out.push_back(std::move(*v));
      } else {
        rest.push_back(std::move(e));
      }
    }
    initiator_events = std::move(rest);
    return out;
  }

  bool login(core::SessionConfig c) {
    start(std::move(c));
    pump();
    auto done = take<core::LoginDone>();
    return done.size() == 1 && !done[0].error;
  }

 private:
  std::size_t step() {
    return chunk ? chunk : std::uniform_int_distribution<std::size_t>(1, 4096)(rng);
  }

  bool move(bool to_target) {
    std::array<std::span<const std::byte>, 64> iov;
    const std::size_t n = to_target ? initiator->gather(cid, iov) : target->gather(iov);
    if (n == 0) return false;
    std::size_t budget = step(), moved = 0;
    for (std::size_t i = 0; i < n && budget > 0; ++i) {
      const auto part = iov[i].first(std::min(budget, iov[i].size()));
      // Copy first: feeding may change what gather() pointed at.
      std::vector<std::byte> copy(part.begin(), part.end());
      budget -= part.size();
      moved += part.size();
      if (to_target) {
        target->feed(copy, now);
      } else {
        initiator->feed(cid, copy, now);
      }
      if (part.size() < iov[i].size()) break;
    }
    if (to_target) {
      initiator->consume(cid, moved);
    } else {
      target->consume(moved);
    }
    return moved > 0;
  }
};

}  // namespace uiscsi::testing
