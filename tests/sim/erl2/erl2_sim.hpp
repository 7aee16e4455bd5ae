// Erl2Sim: the initiator engine against target engines of one shared session (MC/S, ERL 2)
// over a simulated link that can cut a connection at any PDU, in virtual time. Each initiator
// connection is one TargetConnection; the connections of a session share a TargetSession
// through the directory, as the server does. When the initiator asks for a connection again
// (RecoveryNeeded), or an MC/S session has fewer connections than wanted, a new one is made
// after DefaultTime2Wait. Pure and deterministic: a test names the PDU to cut.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "core/target_session.hpp"
#include "sim/recovery/lossy_sim.hpp"

namespace uiscsi::testing {

class Erl2Sim {
 public:
  core::TimePoint now{std::chrono::seconds(20000)};
  CountingRandom irng, trng;
  SharedDirectory directory;
  core::TargetConfig target_config;
  CountingDisk disk;
  std::unique_ptr<core::InitiatorSession> initiator;
  std::size_t connections = 1;  // wanted
  std::function<LinkFate(bool from_initiator, std::uint64_t index)> fault;
  std::map<std::uint64_t, core::TaskDone> done;  // by TaskId::value
  std::uint64_t pdus_up = 0, pdus_down = 0;
  int logins = 0, recovery_failures = 0;
  std::uint64_t session_logins = 0;  // logins that made a new session (TSIH changed)
  std::function<void(bool, const std::vector<std::byte>&, LinkFate)> trace;
  std::vector<core::LogoutDone> logouts;

  core::SessionConfig session_config() const {
    core::SessionConfig c;
    c.initiator_name = "iqn.2026-11.dev.uiscsi:erl2-sim";
    c.target_name = directory.target;
    c.keepalive_interval = std::chrono::seconds(0);
    c.recovery_backoff = std::chrono::milliseconds(100);
    return c;
  }

  // Logs in the leading connection, then the others; false if any login failed.
  bool start(core::SessionConfig c) {
    digests_ = core::DigestConfig{c.negotiation.header_digest.front() == "CRC32C",
                                  c.negotiation.data_digest.front() == "CRC32C"};
    initiator = std::make_unique<core::InitiatorSession>(std::move(c), irng);
    connect();
    pump();
    while (initiator->logged_in() && initiator->live_connections() < connections) {
      const std::size_t before = initiator->live_connections();
      connect();
      pump();
      if (initiator->live_connections() == before) return false;
    }
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
      for (auto& [tsih, s] : directory.sessions)
        if (auto t = s->next_deadline(); t && (!next || *t < *next)) next = t;
      if (reconnect_at_ && (!next || *reconnect_at_ < *next)) next = reconnect_at_;
      now = next && *next > now ? *next : now + std::chrono::milliseconds(100);
      if (reconnect_at_ && now >= *reconnect_at_) {
        reconnect_at_.reset();
        connect();
      }
      initiator->on_timer(now);
      for (auto& c : conns_)
        c.target->on_timer(now);
      for (auto& [tsih, s] : directory.sessions)
        s->on_timer(now);
    }
  }

  void pump() {
    for (int round = 0; round < 200000; ++round) {
      bool moved = false;
      for (std::size_t i = 0; i < conns_.size(); ++i) {
        Conn& c = conns_[i];
        if (c.cut) continue;
        moved |= move(i, true);
        if (!conns_[i].cut) moved |= move(i, false);
        while (auto e = conns_[i].target->poll_event()) {
          moved = true;
          if (auto* x = std::get_if<core::ExecuteCommand>(&*e)) {
            conns_[i].target->complete(x->task, disk.execute(*x), now);
          } else if (auto* tm = std::get_if<core::TaskManagement>(&*e)) {
            conns_[i].target->tmf_done(tm->request, now);
          }
        }
        if (!conns_[i].cut && conns_[i].target->finished()) cut(conns_[i]);
      }
      while (auto e = initiator->poll_event()) {
        moved = true;
        if (auto* d = std::get_if<core::TaskDone>(&*e)) done[d->id.value] = *d;
        if (auto* r = std::get_if<core::RecoveryNeeded>(&*e)) reconnect_at_ = now + r->delay;
        if (std::get_if<core::RecoveryFailed>(&*e)) ++recovery_failures;
        if (auto* l = std::get_if<core::LogoutDone>(&*e)) logouts.push_back(*l);
        if (auto* l = std::get_if<core::LoginDone>(&*e); l && !l->error) {
          ++logins;
          if (initiator->tsih() != last_tsih_) ++session_logins;
          last_tsih_ = initiator->tsih();
        }
        if (auto* cl = std::get_if<core::ConnectionClosed>(&*e)) {
          // The initiator let the connection go: the target side sees it close.
          for (auto& c : conns_)
            if (c.cid == cl->cid && !c.cut) cut(c);
          // MC/S: a lost connection is replaced after DefaultTime2Wait.
          if (cl->reason && initiator->logged_in() && !initiator->recovering() &&
              initiator->live_connections() < connections && !reconnect_at_)
            reconnect_at_ = now + std::chrono::seconds(initiator->params().default_time2wait);
        }
      }
      if (!moved) return;
    }
    ADD_FAILURE() << "the link did not settle";
  }

  // Cuts the live connection with this CID (from outside the link).
  void cut_cid(core::ConnectionId cid) {
    for (auto& c : conns_)
      if (c.cid == cid && !c.cut) cut(c);
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
  }

  void cut(Conn& c) {
    if (c.cut) return;
    c.cut = true;
    initiator->connection_lost(c.cid, make_error_code(uiscsi::errc::connection_closed), now);
    c.target->connection_lost(make_error_code(uiscsi::errc::connection_closed), now);
  }

  bool move(std::size_t i, bool from_initiator) {
    Conn* c = &conns_[i];
    std::array<std::span<const std::byte>, 64> iov;
    const std::size_t n = from_initiator ? initiator->gather(c->cid, iov) : c->target->gather(iov);
    if (n == 0) return false;
    std::size_t total = 0;
    PduSplitter& split = from_initiator ? *c->up : *c->down;
    for (std::size_t k = 0; k < n; ++k) {
      split.push(iov[k]);
      total += iov[k].size();
    }
    if (from_initiator) {
      initiator->consume(c->cid, total);
    } else {
      c->target->consume(total);
    }
    for (auto pdu = split.pop(); !pdu.empty(); pdu = split.pop()) {
      std::uint64_t& index = from_initiator ? pdus_up : pdus_down;
      const LinkFate f = fault ? fault(from_initiator, index) : LinkFate::deliver;
      ++index;
      if (trace) trace(from_initiator, pdu, f);
      if (f == LinkFate::cut) {
        cut(*c);
        return true;
      }
      if (f == LinkFate::lose) continue;
      if (from_initiator) {
        c->target->feed(pdu, now);
      } else {
        initiator->feed(c->cid, pdu, now);
      }
      c = &conns_[i];  // feeding never adds connections, but stay safe
      if (c->cut) return true;
    }
    return true;
  }

  core::DigestConfig digests_;
  std::vector<Conn> conns_;
  std::optional<core::TimePoint> reconnect_at_;
  std::uint16_t last_tsih_ = 0;
};

}  // namespace uiscsi::testing
