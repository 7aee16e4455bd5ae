// libuiscsi against a real tgtd (Debian's tgt package), started on a free loopback port.
#include <gtest/gtest.h>

#include <future>

#include "interop/support.hpp"
#include "interop/tgtd_suite.hpp"
#include "support/pattern.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/session.hpp"

namespace uiscsi {
namespace {

using testing::run;

using uiscsi::testing::pattern;

class Tgtd : public testing::TgtdSuite<Tgtd> {
 protected:
  static void SetUpTestSuite() {
    if (!have_tgt() || !start("tgtd")) return;
    up = add("disk", 1, "iqn.2026-11.test:disk", 64) &&
         add("disk", 2, "iqn.2026-11.test:chap", 16, "uiscsiuser uiscsi-secret-1") &&
         add("disk", 3, "iqn.2026-11.test:mutual", 16,
             "mutualuser mutual-secret-11 tgtduser tgtd-secret-22") &&
         add("disk", 4, "iqn.2026-11.test:tuned", 64) &&
         param(4, "MaxRecvDataSegmentLength", "262144") && param(4, "InitialR2T", "No") &&
         param(4, "FirstBurstLength", "262144") && param(4, "MaxBurstLength", "1048576") &&
         param(1, "HeaderDigest", "CRC32C,None") && param(1, "DataDigest", "CRC32C,None");
  }
  void SetUp() override {
    if (!testing::have_program("tgtd"))
      GTEST_SKIP() << "tgtd not installed (scripts/setup.sh installs it)";
    ASSERT_TRUE(up) << "tgtd did not start; log in " << dir;
  }

  std::string url(const std::string& target, const std::string& creds = "") const {
    return "iscsi://" + creds + "127.0.0.1:" + std::to_string(port) +
           "/iqn.2026-11.test:" + target + "/1";
  }
  static SessionOptions quick() {
    SessionOptions o;
    o.connect_timeout = std::chrono::seconds(5);
    o.login_timeout = std::chrono::seconds(5);
    return o;
  }
  // tgtd reports POWER ON (29/00) on the first command; clear it.
  static void clear_unit_attention(Session& s, Lun lun) {
    for (int i = 0; i < 3; ++i) {
      auto c = s.run(lun, Command(scsi::test_unit_ready()));
      ASSERT_TRUE(c) << c.error().message();
      if (c->ok()) return;
    }
  }
  static void write_read_verify(Session& s, Lun lun, std::size_t bytes, std::uint64_t lba,
                                unsigned seed) {
    const auto data = pattern(bytes, seed);
    const auto blocks = static_cast<std::uint32_t>(bytes / 512);
    auto w = s.run(lun, Command(*scsi::write16(lba, blocks, 512)).write_from(data));
    ASSERT_TRUE(w) << w.error().message();
    ASSERT_TRUE(w->ok()) << w->describe();
    std::vector<std::byte> back(bytes);
    auto r = s.run(lun, Command(*scsi::read16(lba, blocks, 512)).read_into(back));
    ASSERT_TRUE(r) << r.error().message();
    ASSERT_TRUE(r->ok()) << r->describe();
    EXPECT_EQ(r->bytes_received(), bytes);
    EXPECT_TRUE(back == data) << bytes << " bytes at LBA " << lba << " differ";
  }
};

const Lun kLun1 = *Lun::from_number(1);

TEST_F(Tgtd, DiscoveryListsEveryTarget) {
  auto targets = discover("127.0.0.1:" + std::to_string(port), quick());
  ASSERT_TRUE(targets) << targets.error().message();
  std::vector<std::string> names;
  for (auto& t : *targets)
    names.push_back(t.name);
  for (const char* n : {"iqn.2026-11.test:disk", "iqn.2026-11.test:chap", "iqn.2026-11.test:mutual",
                        "iqn.2026-11.test:tuned"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
}

TEST_F(Tgtd, DiskIoWithDataVerified) {
  auto s = Session::dial(url("disk"), quick());
  ASSERT_TRUE(s) << s.error().message();
  clear_unit_attention(*s, kLun1);
  auto cap = s->run(kLun1, Command(scsi::read_capacity16()));
  ASSERT_TRUE(cap && cap->ok());
  auto c = scsi::parse_read_capacity16(cap->data());
  ASSERT_TRUE(c);
  EXPECT_EQ(c->block_count() * c->block_length, 64ull << 20);
  std::uint64_t lba = 0;
  unsigned seed = 1;
  for (std::size_t bytes : {512u, 4096u, 8192u, 65536u, 262144u, 1048576u, 3u << 20}) {
    write_read_verify(*s, kLun1, bytes, lba, seed++);
    lba += bytes / 512;
  }
  EXPECT_TRUE(s->logout());
}

TEST_F(Tgtd, ChapLoginAndWrongPassword) {
  SessionOptions o = quick();
  o.chap = ChapOptions{"uiscsiuser", Secret("uiscsi-secret-1"), {}, {}, {8, 7, 6, 5}};
  auto s = Session::dial(url("chap"), o);
  ASSERT_TRUE(s) << s.error().message();
  clear_unit_attention(*s, kLun1);
  write_read_verify(*s, kLun1, 65536, 100, 9);

  o.chap->secret = Secret("wrong-secret-12");
  auto bad = Session::dial(url("chap"), o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), make_login_error(2, 1)) << bad.error().message();
  EXPECT_EQ(bad.error().message().find("wrong-secret"), std::string::npos);

  auto none = Session::dial(url("chap"), quick());
  ASSERT_FALSE(none);
  EXPECT_TRUE(none.error() == make_login_error(2, 1) || none.error() == errc::authentication_failed)
      << none.error().message();
}

TEST_F(Tgtd, MutualChap) {
  SessionOptions o = quick();
  o.chap = ChapOptions{
      "mutualuser", Secret("mutual-secret-11"), "tgtduser", Secret("tgtd-secret-22"), {5}};
  auto s = Session::dial(url("mutual"), o);
  ASSERT_TRUE(s) << s.error().message();
  clear_unit_attention(*s, kLun1);
  write_read_verify(*s, kLun1, 8192, 0, 3);

  o.chap->target_secret = Secret("not-tgtds-secret");
  auto bad = Session::dial(url("mutual"), o);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), errc::authentication_failed) << bad.error().message();
}

TEST_F(Tgtd, DigestsOn) {
  SessionOptions o = quick();
  o.header_digest = DigestPolicy::require;
  o.data_digest = DigestPolicy::require;
  auto s = Session::dial(url("disk"), o);
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->negotiated().header_digest);
  EXPECT_TRUE(s->negotiated().data_digest);
  clear_unit_attention(*s, kLun1);
  write_read_verify(*s, kLun1, 1048576, 4096, 21);
  write_read_verify(*s, kLun1, 4096 + 512, 9000, 22);
}

TEST_F(Tgtd, TunedParametersAndUnsolicitedData) {
  auto s = Session::dial(url("tuned"), quick());
  ASSERT_TRUE(s) << s.error().message();
  const auto n = s->negotiated();
  EXPECT_EQ(n.target_max_recv_data_segment_length, 262144u);
  EXPECT_FALSE(n.initial_r2t);
  EXPECT_EQ(n.first_burst_length, 262144u);
  EXPECT_EQ(n.max_burst_length, 1048576u);
  clear_unit_attention(*s, kLun1);
  for (std::size_t bytes : {4096u, 262144u, 262144u + 512, 2u << 20})
    write_read_verify(*s, kLun1, bytes, 0, 7);
}

TEST_F(Tgtd, ManyCommandsInFlight) {
  auto s = Session::dial(url("disk"), quick());
  ASSERT_TRUE(s) << s.error().message();
  clear_unit_attention(*s, kLun1);
  constexpr int kN = 128;
  std::vector<std::vector<std::byte>> data;
  std::vector<std::future<Result<Completion>>> writes;
  for (int i = 0; i < kN; ++i) {
    data.push_back(pattern(4096, static_cast<unsigned>(100 + i)));
    writes.push_back(
        s->submit(kLun1, Command(*scsi::write16(static_cast<std::uint64_t>(i) * 8, 8, 512))
                             .write_from(data.back())));
  }
  for (auto& f : writes) {
    auto r = f.get();
    ASSERT_TRUE(r && r->ok()) << (r ? r->describe() : r.error().message());
  }
  std::vector<std::vector<std::byte>> back(kN, std::vector<std::byte>(4096));
  std::vector<std::future<Result<Completion>>> reads;
  for (int i = 0; i < kN; ++i)
    reads.push_back(
        s->submit(kLun1, Command(*scsi::read16(static_cast<std::uint64_t>(i) * 8, 8, 512))
                             .read_into(back[static_cast<std::size_t>(i)])));
  for (int i = 0; i < kN; ++i) {
    auto r = reads[static_cast<std::size_t>(i)].get();
    ASSERT_TRUE(r && r->ok());
    EXPECT_TRUE(back[static_cast<std::size_t>(i)] == data[static_cast<std::size_t>(i)]) << i;
  }
}

TEST_F(Tgtd, TaskManagement) {
  auto s = Session::dial(url("disk"), quick());
  ASSERT_TRUE(s) << s.error().message();
  clear_unit_attention(*s, kLun1);
  auto r = s->lun_reset(kLun1);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, TmfResponse::function_complete);
  // The reset raises a unit attention; the next command reports it.
  auto c = s->run(kLun1, Command(scsi::test_unit_ready()));
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->ok());
  auto sense = c->sense();
  ASSERT_TRUE(sense);
  EXPECT_EQ(sense->sense_key, scsi::SenseKey::unit_attention);
}

TEST_F(Tgtd, WrongTargetNameAndClosedPort) {
  auto s = Session::dial("iscsi://127.0.0.1:" + std::to_string(port) + "/iqn.2026-11.test:nope/1",
                         quick());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error(), make_login_error(2, 3)) << s.error().message();
  auto closed = Session::dial(
      "iscsi://127.0.0.1:" + std::to_string(testing::free_port()) + "/iqn.x:y/0", quick());
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error(), std::errc::connection_refused) << closed.error().message();
}

}  // namespace
}  // namespace uiscsi
