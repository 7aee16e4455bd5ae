// The fixture of the initiator engine tests: an InitiatorSession logged in to a ScriptedTarget,
// in virtual time.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "core/initiator_session.hpp"
#include "support/scripted_target.hpp"

namespace uiscsi::core {
namespace {

using testing::CountingRandom;
using testing::pattern;
using testing::ScriptedTarget;
using testing::SentPdu;
using namespace std::chrono_literals;

CdbBytes cdb(std::initializer_list<int> bytes) {
  std::vector<std::byte> v;
  for (int b : bytes)
    v.push_back(static_cast<std::byte>(b));
  return CdbBytes::from(v);
}
const CdbBytes kRead10 = cdb({0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0});
const CdbBytes kWrite10 = cdb({0x2a, 0, 0, 0, 0, 0, 0, 0, 8, 0});

class InitiatorTest : public ::testing::Test {
 protected:
  TimePoint now{std::chrono::seconds(1000)};
  CountingRandom rng;
  std::unique_ptr<InitiatorSession> s;
  std::unique_ptr<ScriptedTarget> t;
  ConnectionId cid = 0;

  static SessionConfig config() {
    SessionConfig c;
    c.initiator_name = "iqn.2026-11.dev.uiscsi:test";
    c.target_name = "iqn.2026-11.dev.uiscsi:target";
    c.keepalive_interval = 0s;
    c.recovery = false;  // the recovery tests turn it on
    return c;
  }

  void start(SessionConfig c = config(), std::map<std::string, std::string> answers = {},
             std::uint32_t target_mrdsl = 8192) {
    s = std::make_unique<InitiatorSession>(std::move(c), rng);
    cid = s->open_connection(now);
    t = std::make_unique<ScriptedTarget>(*s, cid, &now);
    t->login(std::move(answers), target_mrdsl);
    auto ev = s->poll_event();
    ASSERT_TRUE(ev);
    const auto* done = std::get_if<LoginDone>(&*ev);
    ASSERT_NE(done, nullptr);
    ASSERT_FALSE(done->error) << done->error.message() << " " << done->failure_detail;
    ASSERT_TRUE(s->logged_in());
  }

  template <class T>
  std::vector<T> events() {
    std::vector<T> out;
    while (auto e = s->poll_event())
      if (auto* v = std::get_if<T>(&*e)) out.push_back(std::move(*v));
    return out;
  }

  TaskDone one_done() {
    auto d = events<TaskDone>();
    EXPECT_EQ(d.size(), 1u);
    return d.empty() ? TaskDone{} : d[0];
  }

  ScsiResponse good_response(Itt itt) {
    ScsiResponse r;
    r.itt = itt;
    r.status = 0;
    return r;
  }
};

}  // namespace
}  // namespace uiscsi::core
