// LossySim: the initiator engine against target engines over a simulated link that can lose,
// damage or cut at any PDU, in virtual time. Connections are re-made when the initiator asks
// (RecoveryNeeded), each with a fresh TargetConnection over the same disk, as a real target
// would reinstate the session. Pure and deterministic: a test names the PDU to hit.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "support/engine_pair.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::testing {

// Splits one direction's byte stream into whole PDUs (login PDUs have no digests; every later
// PDU has the negotiated ones).
class PduSplitter {
 public:
  PduSplitter(bool from_initiator, core::DigestConfig ffp)
      : from_initiator_(from_initiator), ffp_(ffp) {}

  void push(std::span<const std::byte> bytes) {
    buf_.insert(buf_.end(), bytes.begin(), bytes.end());
  }

  // The next complete PDU, or empty.
  std::vector<std::byte> pop() {
    if (buf_.size() < core::kBhsSize) return {};
    const auto opcode = std::to_integer<std::uint8_t>(buf_[0]) & 0x3fu;
    const bool login = opcode == (from_initiator_ ? 0x03 : 0x23);
    const std::size_t ahs = std::size_t{std::to_integer<std::uint8_t>(buf_[4])} * 4;
    const std::size_t dsl = core::load_be32(buf_.data() + 4) & 0xffffffu;
    std::size_t total = core::kBhsSize + ahs + ((dsl + 3) & ~std::size_t{3});
    if (!login && ffp_.header) total += 4;
    if (!login && ffp_.data && dsl > 0) total += 4;
    if (buf_.size() < total) return {};
    std::vector<std::byte> pdu(buf_.begin(), buf_.begin() + static_cast<long>(total));
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<long>(total));
    return pdu;
  }

 private:
  bool from_initiator_;
  core::DigestConfig ffp_;
  std::vector<std::byte> buf_;
};

// What the link does to one PDU.
enum class LinkFate { deliver, lose, damage_data, damage_header, cut };

// A disk that counts how often each block was written.
class CountingDisk {
 public:
  explicit CountingDisk(std::uint32_t blocks = 4096) : disk_(blocks), writes_(blocks) {}
  core::CommandOutcome execute(const core::ExecuteCommand& e) {
    if (std::to_integer<std::uint8_t>(e.cdb[0]) == 0x2a) {
      const std::uint32_t lba = core::load_be32(e.cdb.data() + 2);
      const std::uint32_t n = core::load_be16(e.cdb.data() + 7);
      for (std::uint32_t i = lba; i < lba + n && i < writes_.size(); ++i)
        ++writes_[i];
    }
    return disk_.execute(e);
  }
  std::vector<std::byte>& data() { return disk_.data(); }
  [[nodiscard]] std::uint32_t writes(std::uint32_t lba) const { return writes_[lba]; }

 private:
  TinyDisk disk_;
  std::vector<std::uint32_t> writes_;
};

class LossySim {
 public:
  core::TimePoint now{std::chrono::seconds(10000)};
  CountingRandom irng, trng;
  TestDirectory directory;
  core::TargetConfig target_config;
  CountingDisk disk;
  std::unique_ptr<core::InitiatorSession> initiator;
  // Called for every PDU with its direction and its index in that direction (counted over all
  // connections, login PDUs included).
  std::function<LinkFate(bool from_initiator, std::uint64_t index)> fault;
  std::map<std::uint64_t, core::TaskDone> done;  // by TaskId::value
  std::uint64_t pdus_up = 0, pdus_down = 0;      // PDUs that entered the link, each direction
  int reconnections = 0;
  std::string target_closed;  // why target connections closed
  std::function<void(bool, const std::vector<std::byte>&, LinkFate)> trace;  // every PDU
  int recovery_failures = 0;

  core::SessionConfig session_config() const {
    core::SessionConfig c;
    c.initiator_name = "iqn.2026-11.dev.uiscsi:sim-initiator";
    c.target_name = directory.target;
    c.keepalive_interval = std::chrono::seconds(0);
    c.recovery_backoff = std::chrono::milliseconds(100);
    return c;
  }

  // Logs in; false if the login failed.
  bool start(core::SessionConfig c) {
    digests_ = core::DigestConfig{c.negotiation.header_digest.front() == "CRC32C",
                                  c.negotiation.data_digest.front() == "CRC32C"};
    initiator = std::make_unique<core::InitiatorSession>(std::move(c), irng);
    connect();
    pump();
    return initiator->logged_in();
  }

  // Runs until every task in `ids` is done, or `limit` of virtual time passed (a hang).
  bool run(const std::vector<core::TaskId>& ids, core::Duration limit = std::chrono::minutes(5)) {
    const core::TimePoint end = now + limit;
    auto all_done = [&] {
      return std::all_of(ids.begin(), ids.end(), [&](auto id) { return done.count(id.value) > 0; });
    };
    while (true) {
      pump();
      if (all_done()) return true;
      if (now >= end) return false;
      std::optional<core::TimePoint> next = initiator->next_deadline();
      for (auto& c : conns_)
        if (auto t = c.target->next_deadline(); t && (!next || *t < *next)) next = t;
      if (reconnect_at_ && (!next || *reconnect_at_ < *next)) next = reconnect_at_;
      now = next && *next > now ? *next : now + std::chrono::milliseconds(100);
      if (reconnect_at_ && now >= *reconnect_at_) {
        reconnect_at_.reset();
        connect();
      }
      initiator->on_timer(now);
      for (auto& c : conns_)
        c.target->on_timer(now);
    }
  }

 private:
  struct Conn {
    core::ConnectionId cid = 0;
    std::unique_ptr<core::TargetConnection> target;
    std::unique_ptr<PduSplitter> up, down;
    bool cut = false;
  };

  void connect() {
    Conn c;
    c.cid = initiator->open_connection(now);
    c.target = std::make_unique<core::TargetConnection>(target_config, directory, trng, now);
    c.up = std::make_unique<PduSplitter>(true, digests_);
    c.down = std::make_unique<PduSplitter>(false, digests_);
    conns_.push_back(std::move(c));
    if (conns_.size() > 1) ++reconnections;
  }

  void cut(Conn& c) {
    if (c.cut) return;
    c.cut = true;
    initiator->connection_lost(c.cid, make_error_code(uiscsi::errc::connection_closed), now);
    c.target->connection_lost(make_error_code(uiscsi::errc::connection_closed), now);
  }

  // Moves whole PDUs both ways through the link until nothing changes.
  void pump() {
    for (int round = 0; round < 200000; ++round) {
      bool moved = false;
      for (auto& c : conns_) {
        if (c.cut) continue;
        moved |= move(c, true);
        if (!c.cut) moved |= move(c, false);
        while (auto e = c.target->poll_event()) {
          moved = true;
          if (auto* x = std::get_if<core::ExecuteCommand>(&*e)) {
            c.target->complete(x->task, disk.execute(*x), now);
          } else if (auto* tm = std::get_if<core::TaskManagement>(&*e)) {
            c.target->tmf_done(tm->request, now);
          } else if (auto* cl = std::get_if<core::TargetConnectionClosed>(&*e)) {
            target_closed += cl->reason.message() + "; ";
          }
        }
        if (!c.cut && c.target->finished()) cut(c);
      }
      while (auto e = initiator->poll_event()) {
        moved = true;
        if (auto* d = std::get_if<core::TaskDone>(&*e)) done[d->id.value] = *d;
        if (auto* r = std::get_if<core::RecoveryNeeded>(&*e)) reconnect_at_ = now + r->delay;
        if (std::get_if<core::RecoveryFailed>(&*e)) ++recovery_failures;
      }
      if (!moved) return;
    }
    ADD_FAILURE() << "the link did not settle";
  }

  bool move(Conn& c, bool from_initiator) {
    std::array<std::span<const std::byte>, 64> iov;
    const std::size_t n = from_initiator ? initiator->gather(c.cid, iov) : c.target->gather(iov);
    if (n == 0) return false;
    std::size_t total = 0;
    PduSplitter& split = from_initiator ? *c.up : *c.down;
    for (std::size_t i = 0; i < n; ++i) {
      split.push(iov[i]);
      total += iov[i].size();
    }
    if (from_initiator) {
      initiator->consume(c.cid, total);
    } else {
      c.target->consume(total);
    }
    for (auto pdu = split.pop(); !pdu.empty(); pdu = split.pop()) {
      std::uint64_t& index = from_initiator ? pdus_up : pdus_down;
      const LinkFate f = fault ? fault(from_initiator, index) : LinkFate::deliver;
      ++index;
      if (trace) trace(from_initiator, pdu, f);
      switch (f) {
        case LinkFate::deliver:
          break;
        case LinkFate::lose:
          continue;
        case LinkFate::damage_data:
          pdu.back() ^= std::byte{0x40};  // the data digest (or the last data byte)
          break;
        case LinkFate::damage_header:
          pdu[core::kBhsSize] ^= std::byte{0x40};  // the header digest (or AHS/data)
          break;
        case LinkFate::cut:
          cut(c);
          return true;
      }
      if (from_initiator) {
        c.target->feed(pdu, now);
      } else {
        initiator->feed(c.cid, pdu, now);
      }
      if (c.cut) return true;
    }
    return true;
  }

  core::DigestConfig digests_;
  std::vector<Conn> conns_;
  std::optional<core::TimePoint> reconnect_at_;
};

}  // namespace uiscsi::testing
