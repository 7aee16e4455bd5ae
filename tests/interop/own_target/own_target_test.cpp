// libuiscsi against uiscsi-target's server, in one process, over loopback TCP.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <future>
#include <thread>

#include "interop/support.hpp"
#include "support/pattern.hpp"
#include "target/server.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/pcap.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/session.hpp"
#include "uiscsi/stream.hpp"

namespace uiscsi {
namespace {

using uiscsi::testing::pattern;

constexpr const char* kDisk = "iqn.2026-11.dev.uiscsi:disk";
constexpr const char* kChap = "iqn.2026-11.dev.uiscsi:chap";
constexpr const char* kMutual = "iqn.2026-11.dev.uiscsi:mutual";
constexpr const char* kSlow = "iqn.2026-11.dev.uiscsi:slow";

class OwnTarget : public ::testing::Test {
 protected:
  static inline std::unique_ptr<target::TargetServer> server;
  static inline std::unique_ptr<target::TargetServer> slow_server;
  static inline std::string portal, slow_portal;

  static void SetUpTestSuite() {
    target::ServerConfig c;
    c.portals = {{"127.0.0.1", 0}};
    auto disk = [](const char* name) {
      target::TargetEntry t;
      t.name = name;
      target::LunConfig l;
      l.size_bytes = 64ull << 20;
      t.luns.push_back(l);
      return t;
    };
    c.targets.push_back(disk(kDisk));
    auto chap = disk(kChap);
    chap.chap_required = true;
    chap.chap_users["alice"] = Secret("alice-secret-0001");
    c.targets.push_back(chap);
    auto mutual = disk(kMutual);
    mutual.chap_required = true;
    mutual.chap_users["bob"] = Secret("bob-secret-00002");
    mutual.mutual =
        core::ChapCredentials{"uiscsi-target", Secret("target-secret-003"), false, {}, {}};
    c.targets.push_back(mutual);
    c.engine.negotiation.header_digest = {"CRC32C", "None"};
    c.engine.negotiation.data_digest = {"CRC32C", "None"};
    auto s = target::TargetServer::start(c);
    ASSERT_TRUE(s) << s.error().message();
    server = std::move(*s);
    portal = server->endpoints()[0].to_string();

    // A target whose answers each take 300 ms, to keep commands in flight.
    target::ServerConfig slow;
    slow.portals = {{"127.0.0.1", 0}};
    slow.targets.push_back(disk(kSlow));
    slow.response_delay = std::chrono::milliseconds(300);
    auto ss = target::TargetServer::start(slow);
    ASSERT_TRUE(ss) << ss.error().message();
    slow_server = std::move(*ss);
    slow_portal = slow_server->endpoints()[0].to_string();
  }
  static void TearDownTestSuite() {
    server.reset();
    slow_server.reset();
  }

  static std::string url(const char* target) { return "iscsi://" + portal + "/" + target + "/0"; }
  static SessionOptions options() {
    SessionOptions o;
    o.login_timeout = std::chrono::seconds(5);
    return o;
  }
  static void clear_ua(Session& s) {
    for (int i = 0; i < 3; ++i) {
      auto c = s.run(Lun(), Command(scsi::test_unit_ready()));
      ASSERT_TRUE(c) << c.error().message();
      if (c->ok()) return;
    }
  }
  static void verify(Session& s, std::size_t bytes, std::uint64_t lba, unsigned seed) {
    const auto data = pattern(bytes, seed);
    const auto blocks = static_cast<std::uint32_t>(bytes / 512);
    auto w = s.run(Lun(), Command(*scsi::write16(lba, blocks, 512)).write_from(data));
    ASSERT_TRUE(w && w->ok()) << (w ? w->describe() : w.error().message());
    std::vector<std::byte> back(bytes);
    auto r = s.run(Lun(), Command(*scsi::read16(lba, blocks, 512)).read_into(back));
    ASSERT_TRUE(r && r->ok()) << (r ? r->describe() : r.error().message());
    EXPECT_TRUE(back == data) << bytes << " bytes at " << lba;
  }
};

TEST_F(OwnTarget, DataVerifiedAcrossSizes) {
  auto s = Session::dial(url(kDisk), options());
  ASSERT_TRUE(s) << s.error().message();
  clear_ua(*s);
  std::uint64_t lba = 0;
  for (std::size_t bytes : {512u, 4096u, 65536u, 262144u + 512, 1u << 20, 5u << 20}) {
    verify(*s, bytes, lba, static_cast<unsigned>(bytes));
    lba += bytes / 512;
  }
  EXPECT_TRUE(s->logout());
}

TEST_F(OwnTarget, DigestsOn) {
  SessionOptions o = options();
  o.header_digest = DigestPolicy::require;
  o.data_digest = DigestPolicy::require;
  auto s = Session::dial(url(kDisk), o);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->negotiated().header_digest);
  EXPECT_TRUE(s->negotiated().data_digest);
  clear_ua(*s);
  verify(*s, 3u << 20, 1000, 5);
  verify(*s, 1536, 20000, 6);
}

TEST_F(OwnTarget, RequiredDigestsRefusedByTheTargetFailTheLogin) {
  // The slow target offers no digests (None only): it answers CRC32C with Reject. Required
  // digests then fail the login rather than running without them; preferred ones fall back.
  const std::string slow_url = "iscsi://" + slow_portal + "/" + kSlow + "/0";
  SessionOptions o = options();
  o.header_digest = DigestPolicy::require;
  auto s = Session::dial(slow_url, o);
  ASSERT_FALSE(s) << "logged in with header digest "
                  << (s->negotiated().header_digest ? "CRC32C" : "None");
  o.header_digest = DigestPolicy::none;
  o.data_digest = DigestPolicy::require;
  EXPECT_FALSE(Session::dial(slow_url, o));
  o.header_digest = DigestPolicy::prefer;
  o.data_digest = DigestPolicy::prefer;
  auto p = Session::dial(slow_url, o);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_FALSE(p->negotiated().header_digest);
  EXPECT_FALSE(p->negotiated().data_digest);
}

class OwnTargetChap : public OwnTarget, public ::testing::WithParamInterface<int> {};

TEST_P(OwnTargetChap, OneWayAndMutualWithEachAlgorithm) {
  SessionOptions o = options();
  o.chap = ChapOptions{"alice", Secret("alice-secret-0001"), {}, {}, {GetParam()}};
  auto s = Session::dial(url(kChap), o);
  ASSERT_TRUE(s) << s.error().message();
  clear_ua(*s);
  verify(*s, 65536, 0, 1);

  SessionOptions m = options();
  m.chap = ChapOptions{"bob",
                       Secret("bob-secret-00002"),
                       "uiscsi-target",
                       Secret("target-secret-003"),
                       {GetParam()}};
  auto sm = Session::dial(url(kMutual), m);
  ASSERT_TRUE(sm) << sm.error().message();
}

INSTANTIATE_TEST_SUITE_P(Algorithms, OwnTargetChap, ::testing::Values(5, 6, 7, 8));

TEST_F(OwnTarget, ChapFailures) {
  SessionOptions o = options();
  o.chap = ChapOptions{"alice", Secret("wrong-secret-0001"), {}, {}, {8, 7, 6, 5}};
  auto bad = Session::dial(url(kChap), o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), make_login_error(2, 1));
  auto none = Session::dial(url(kChap), options());
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error(), make_login_error(2, 1));
  SessionOptions m = options();
  m.chap = ChapOptions{
      "bob", Secret("bob-secret-00002"), "uiscsi-target", Secret("not-the-target-99"), {8}};
  auto impostor = Session::dial(url(kMutual), m);
  ASSERT_FALSE(impostor);
  EXPECT_EQ(impostor.error(), errc::authentication_failed);
}

TEST_F(OwnTarget, ManyCommandsInFlight) {
  auto s = Session::dial(url(kDisk), options());
  ASSERT_TRUE(s) << s.error().message();
  clear_ua(*s);
  constexpr int kN = 256;
  std::vector<std::vector<std::byte>> data;
  std::vector<std::future<Result<Completion>>> futures;
  for (int i = 0; i < kN; ++i) {
    data.push_back(pattern(8192, static_cast<unsigned>(i)));
    futures.push_back(
        s->submit(Lun(), Command(*scsi::write16(static_cast<std::uint64_t>(i) * 16, 16, 512))
                             .write_from(data.back())));
  }
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_TRUE(r && r->ok());
  }
  futures.clear();
  std::vector<std::vector<std::byte>> back(kN, std::vector<std::byte>(8192));
  for (int i = 0; i < kN; ++i)
    futures.push_back(
        s->submit(Lun(), Command(*scsi::read16(static_cast<std::uint64_t>(i) * 16, 16, 512))
                             .read_into(back[static_cast<std::size_t>(i)])));
  for (int i = 0; i < kN; ++i) {
    auto r = futures[static_cast<std::size_t>(i)].get();
    ASSERT_TRUE(r && r->ok());
    EXPECT_TRUE(back[static_cast<std::size_t>(i)] == data[static_cast<std::size_t>(i)]) << i;
  }
}

// A sink that is slow on purpose.
class SlowSink final : public StreamSink {
 public:
  std::vector<std::byte> got;
  Result<void> write(std::span<const std::byte> d) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    got.insert(got.end(), d.begin(), d.end());
    return ok();
  }
};

TEST_F(OwnTarget, SlowStreamConsumerDoesNotStallOtherCommandsOrKeepalive) {
  SessionOptions o = options();
  o.keepalive_interval = std::chrono::milliseconds(100);
  o.keepalive_timeout = std::chrono::milliseconds(400);
  auto s = Session::dial(url(kDisk), o);
  ASSERT_TRUE(s) << s.error().message();
  clear_ua(*s);
  const auto data = pattern(16u << 20, 11);
  for (std::size_t off = 0; off < data.size(); off += 1u << 20) {
    auto w = s->run(Lun(), Command(*scsi::write16(off / 512, 2048, 512))
                               .write_from(std::span(data).subspan(off, 1u << 20)));
    ASSERT_TRUE(w && w->ok());
  }
  std::atomic<bool> streaming{true};
  std::atomic<long long> worst_us{0};
  std::thread other([&] {
    std::vector<std::byte> buf(4096);
    while (streaming) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = s->run(Lun(), Command(*scsi::read16(40000, 8, 512)).read_into(buf));
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                          std::chrono::steady_clock::now() - t0)
                          .count();
      if (!r || !r->ok()) return;
      worst_us = std::max<long long>(worst_us, us);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  SlowSink sink;
  StreamOptions so;
  so.depth = 3;
  so.buffer_bytes = 1u << 20;
  auto stats = read_blocks(*s, Lun(), 0, data.size() / 512, 512, sink, so);
  streaming = false;
  other.join();
  ASSERT_TRUE(stats) << stats.error().message();
  EXPECT_TRUE(sink.got == data);
  EXPECT_EQ(stats->commands, 16u);
  EXPECT_LE(stats->max_in_flight, 3u);
  EXPECT_LE(stats->buffers_allocated, 3u);
  EXPECT_LT(worst_us.load(), 50000) << "a small read waited behind the slow sink";
  EXPECT_TRUE(s->logged_in()) << "keepalive survived a consumer slower than its timeout";
}

class VectorSource final : public StreamSource {
 public:
  explicit VectorSource(std::span<const std::byte> d) : data_(d) {}
  Result<std::size_t> read(std::span<std::byte> buf) override {
    const std::size_t n = std::min({buf.size(), data_.size() - pos_, std::size_t{100000}});
    std::memcpy(buf.data(), data_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::span<const std::byte> data_;
  std::size_t pos_ = 0;
};

TEST_F(OwnTarget, StreamWriteThenStreamRead) {
  auto s = Session::dial(url(kDisk), options());
  ASSERT_TRUE(s) << s.error().message();
  clear_ua(*s);
  const auto data = pattern((7u << 20) + 1000, 21);  // not a whole number of blocks
  VectorSource src(data);
  StreamOptions so;
  so.buffer_bytes = 512u << 10;
  auto w = write_blocks(*s, Lun(), 5000, 1u << 20, 512, src, so);
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_EQ(w->bytes, (data.size() + 511) / 512 * 512);
  SlowSink sink;
  auto r = read_blocks(*s, Lun(), 5000, (data.size() + 511) / 512, 512, sink, so);
  ASSERT_TRUE(r);
  ASSERT_GE(sink.got.size(), data.size());
  EXPECT_TRUE(std::equal(data.begin(), data.end(), sink.got.begin()));
}

TEST_F(OwnTarget, AbortACommandTheTargetHolds) {
  auto s = Session::dial("iscsi://" + slow_portal + "/" + kSlow + "/0", options());
  ASSERT_TRUE(s) << s.error().message();
  clear_ua(*s);
  std::promise<Result<Completion>> done;
  std::vector<std::byte> buf(4096);
  TaskHandle h = s->submit(Lun(), Command(*scsi::read16(0, 8, 512)).read_into(buf),
                           [&](Result<Completion> r) { done.set_value(std::move(r)); });
  auto tmf = s->abort_task(h);
  ASSERT_TRUE(tmf) << tmf.error().message();
  EXPECT_EQ(*tmf, TmfResponse::function_complete);
  auto r = done.get_future().get();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::task_aborted);
  // The session carries on.
  auto after = s->run(Lun(), Command(scsi::test_unit_ready()));
  ASSERT_TRUE(after && after->ok());
}

TEST_F(OwnTarget, CancelAndTimeout) {
  auto s = Session::dial("iscsi://" + slow_portal + "/" + kSlow + "/0", options());
  ASSERT_TRUE(s) << s.error().message();
  clear_ua(*s);
  auto r = s->run(Lun(), Command(scsi::test_unit_ready()).timeout(std::chrono::milliseconds(50)));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::timed_out);
  std::promise<Result<Completion>> done;
  TaskHandle h = s->submit(Lun(), Command(scsi::test_unit_ready()),
                           [&](Result<Completion> x) { done.set_value(std::move(x)); });
  h.cancel();
  auto c = done.get_future().get();
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error(), errc::cancelled);
  auto after = s->run(Lun(), Command(scsi::test_unit_ready()));
  ASSERT_TRUE(after && after->ok()) << (after ? after->describe() : after.error().message());
}

TEST_F(OwnTarget, LogoutWhileCommandsAreInFlight) {
  auto s = Session::dial("iscsi://" + slow_portal + "/" + kSlow + "/0", options());
  ASSERT_TRUE(s) << s.error().message();
  clear_ua(*s);
  std::vector<std::future<Result<Completion>>> fs;
  for (int i = 0; i < 8; ++i)
    fs.push_back(s->submit(Lun(), Command(scsi::test_unit_ready())));
  EXPECT_TRUE(s->logout(std::chrono::seconds(5)));
  for (auto& f : fs) {
    auto r = f.get();
    EXPECT_TRUE(r && r->ok()) << "commands in flight finish before the logout";
  }
  EXPECT_FALSE(s->logged_in());
}

TEST_F(OwnTarget, LoginRedirectIsFollowed) {
  // A second server that sends every login for kDisk to the first one.
  target::ServerConfig c;
  c.portals = {{"127.0.0.1", 0}};
  target::TargetEntry t;
  t.name = kDisk;
  t.redirect = portal + ",1";
  t.luns.push_back(target::LunConfig{});
  c.targets.push_back(t);
  auto redirector = target::TargetServer::start(c);
  ASSERT_TRUE(redirector) << redirector.error().message();
  const std::string there = (*redirector)->endpoints()[0].to_string();
  auto s = Session::dial("iscsi://" + there + "/" + kDisk + "/0", options());
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_EQ(s->portal(), portal);
  clear_ua(*s);
  verify(*s, 4096, 77, 9);
  // With no hops allowed, the redirect is an error naming the redirection.
  SessionOptions no_hops = options();
  no_hops.max_redirects = 0;
  auto refused = Session::dial("iscsi://" + there + "/" + kDisk + "/0", no_hops);
  ASSERT_FALSE(refused);
  EXPECT_EQ(login_status_class(refused.error()), 1);
}

TEST_F(OwnTarget, PcapOpensInTshark) {
  if (!testing::have_program("tshark")) GTEST_SKIP() << "tshark not installed";
  const auto dir = testing::temp_dir("pcap");
  const std::string file = (dir / "s.pcap").string();
  {
    auto pcap = PcapWriter::open(file);
    ASSERT_TRUE(pcap);
    SessionOptions o = options();
    o.hooks.on_pdu = (*pcap)->hook();
    auto s = Session::dial(url(kDisk), o);
    ASSERT_TRUE(s) << s.error().message();
    clear_ua(*s);
    verify(*s, 300000 - 300000 % 512, 0, 3);
    ASSERT_TRUE(s->logout());
  }
  std::string out;
  ASSERT_EQ(
      testing::run("tshark -r " + file + " -d tcp.port==3260,iscsi -T fields -e iscsi.opcode 2>&1",
                   &out),
      0)
      << out;
  EXPECT_NE(out.find("0x03"), std::string::npos) << out;  // Login Request
  EXPECT_NE(out.find("0x25"), std::string::npos) << out;  // Data-In
  std::string expert;
  // The filter must be accepted (status 0), so an empty answer means a clean capture.
  ASSERT_EQ(testing::run("tshark -r " + file +
                             " -d tcp.port==3260,iscsi -Y '_ws.malformed || _ws.expert.severity >= "
                             "warning' 2>/dev/null",
                         &expert),
            0);
  EXPECT_TRUE(expert.empty()) << expert;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace uiscsi
