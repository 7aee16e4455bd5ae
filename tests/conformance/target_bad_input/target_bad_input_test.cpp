// uiscsi-target's server against a scripted initiator that misbehaves (tests/support/
// raw_initiator.hpp builds the PDUs with the core codec and sends them over loopback TCP).
// Each test checks the RFC 7143 answer to one kind of bad input, and that the target keeps
// serving: a well-behaved libuiscsi session writes and verifies data on the same target all the
// time, must see no error, and must make progress after each bad input; the bad connection must
// be gone from TargetServer::stats() afterwards, and at the end no connection is left.
//
// The test binary replaces operator new to record the largest single allocation, so the tests
// that send huge lengths can check the target never sized a buffer by them.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <new>
#include <thread>

#include "core/bytes.hpp"
#include "core/chap.hpp"
#include "interop/support.hpp"
#include "support/pattern.hpp"
#include "support/raw_initiator.hpp"
#include "target/server.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/sense.hpp"
#include "uiscsi/session.hpp"

// ---- allocation watch -------------------------------------------------------------------------

namespace {
std::atomic<std::size_t> g_largest_allocation{0};
void note_allocation(std::size_t n) {
  std::size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
  while (n > seen && !g_largest_allocation.compare_exchange_weak(seen, n)) {
  }
}
void* allocate(std::size_t n) {
  note_allocation(n);
  if (void* p = std::malloc(n != 0 ? n : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t n) {
  return allocate(n);
}
void* operator new[](std::size_t n) {
  return allocate(n);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace uiscsi {
namespace {

using core::Header;
using core::LoginStage;
using testing::RawInitiator;
using testing::RawPdu;
using namespace std::chrono_literals;

constexpr const char* kDisk = "iqn.2026-11.dev.uiscsi:bad-input";
constexpr const char* kChap = "iqn.2026-11.dev.uiscsi:bad-input-chap";
constexpr const char* kChapUser = "raw-user";
constexpr const char* kChapSecret = "raw-secret-000001";
constexpr std::uint32_t kMaxCommandWrite = 2u << 20;
constexpr std::uint64_t kMaxConnectionWrite = 4u << 20;
// No buffer the target allocates for these tests comes near this; the huge lengths sent are
// 1 GiB and 16 MiB.
constexpr std::size_t kLargeAllocation = 1u << 20;

// The operational keys of our scripted logins: no immediate data, so every write goes by R2T.
core::KeyValueList operational_keys(const char* header_digest = "None",
                                    const char* data_digest = "None") {
  return {{"HeaderDigest", header_digest}, {"DataDigest", data_digest},
          {"ErrorRecoveryLevel", "0"},     {"InitialR2T", "Yes"},
          {"ImmediateData", "No"},         {"MaxRecvDataSegmentLength", "65536"},
          {"MaxBurstLength", "262144"},    {"FirstBurstLength", "65536"},
          {"MaxOutstandingR2T", "1"},      {"DataPDUInOrder", "Yes"},
          {"DataSequenceInOrder", "Yes"},  {"DefaultTime2Wait", "0"},
          {"DefaultTime2Retain", "0"},     {"MaxConnections", "1"}};
}

// Sense key, ASC and ASCQ of a SCSI Response's data segment (SenseLength, fixed format).
struct SenseCode {
  int key = -1, asc = -1, ascq = -1;
};
SenseCode sense_of(const RawPdu& p) {
  if (p.data.size() < 2) return {};
  auto sense = scsi::parse_sense(std::span(p.data).subspan(2));
  if (!sense) return {};
  return {static_cast<int>(sense->sense_key), sense->asc, sense->ascq};
}

using uiscsi::testing::pattern;

// The well-behaved neighbour: writes 64 KiB, reads it back and compares, over and over, on LBAs
// the bad tests never touch.
class GoodSession {
 public:
  void start(const std::string& url) {
    thread_ = std::thread([this, url] { run(url); });
    for (int i = 0; i < 500 && ops_.load() == 0 && errors_.load() == 0; ++i)
      std::this_thread::sleep_for(10ms);
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  [[nodiscard]] std::uint64_t ops() const { return ops_.load(); }
  [[nodiscard]] std::uint64_t errors() const { return errors_.load(); }
  [[nodiscard]] std::string last_error() const {
    std::lock_guard lock(mutex_);
    return last_error_;
  }

 private:
  void fail(const std::string& why) {
    ++errors_;
    std::lock_guard lock(mutex_);
    last_error_ = why;
  }
  void run(const std::string& url) {
    SessionOptions o;
    o.initiator_name = "iqn.2026-11.dev.uiscsi:good-neighbour";
    o.login_timeout = 5s;
    auto s = Session::dial(url, o);
    if (!s) {
      fail("dial: " + s.error().message());
      return;
    }
    for (int i = 0; i < 3; ++i) {  // the POWER ON unit attention of a new session
      auto c = s->run(Lun(), Command(scsi::test_unit_ready()));
      if (c && c->ok()) break;
    }
    constexpr std::uint32_t kBlocks = 128;  // 64 KiB
    unsigned seed = 1;
    while (!stop_) {
      const std::uint64_t lba = (seed % 16) * kBlocks;
      const auto data = pattern(kBlocks * 512, seed++);
      auto w = s->run(Lun(), Command(*scsi::write16(lba, kBlocks, 512)).write_from(data));
      if (!w || !w->ok()) {
        fail("write: " + (w ? w->describe() : w.error().message()));
        break;
      }
      std::vector<std::byte> back(data.size());
      auto r = s->run(Lun(), Command(*scsi::read16(lba, kBlocks, 512)).read_into(back));
      if (!r || !r->ok()) {
        fail("read: " + (r ? r->describe() : r.error().message()));
        break;
      }
      if (back != data) {
        fail("data differ at LBA " + std::to_string(lba));
        break;
      }
      ++ops_;
      std::this_thread::sleep_for(2ms);
    }
    (void)s->logout();
  }

  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> ops_{0}, errors_{0};
  mutable std::mutex mutex_;
  std::string last_error_;
};

class TargetBadInput : public ::testing::Test {
 protected:
  static inline std::unique_ptr<target::TargetServer> server;
  static inline net::Endpoint endpoint;
  static inline GoodSession* good = nullptr;

  static void SetUpTestSuite() {
    target::ServerConfig c;
    c.portals = {{"127.0.0.1", 0}};
    target::TargetEntry disk;
    disk.name = kDisk;
    target::LunConfig lun;
    lun.size_bytes = 16u << 20;
    disk.luns.push_back(lun);
    c.targets.push_back(disk);
    target::TargetEntry chap = disk;
    chap.name = kChap;
    chap.chap_required = true;
    chap.chap_users[kChapUser] = Secret(kChapSecret);
    c.targets.push_back(chap);
    c.engine.negotiation.header_digest = {"CRC32C", "None"};
    c.engine.negotiation.data_digest = {"CRC32C", "None"};
    c.engine.max_command_write_bytes = kMaxCommandWrite;
    c.engine.max_connection_write_bytes = kMaxConnectionWrite;
    c.engine.login_timeout = 10s;
    auto s = target::TargetServer::start(c);
    ASSERT_TRUE(s) << s.error().message();
    server = std::move(*s);
    endpoint = server->endpoints()[0];
    good = new GoodSession;
    good->start("iscsi://" + endpoint.to_string() + "/" + kDisk + "/0");
  }
  static void TearDownTestSuite() {
    if (good != nullptr) {
      good->stop();
      delete good;
      good = nullptr;
    }
    // Every connection is gone once the good session has logged out.
    if (server) {
      for (int i = 0; i < 300 && server->stats().connections_open != 0; ++i)
        std::this_thread::sleep_for(10ms);
      EXPECT_EQ(server->stats().connections_open, 0u);
      EXPECT_EQ(server->stats().sessions_open, 0u);
      server.reset();
    }
  }

  void SetUp() override {
    ASSERT_TRUE(server);
    ASSERT_EQ(good->errors(), 0u) << good->last_error();
    ASSERT_GT(good->ops(), 0u) << "the good session never got going";
  }

  // After each bad input: the bad connection is gone, and the good session, alone on the
  // server, keeps reading and writing without an error.
  void TearDown() override {
    for (int i = 0; i < 300 && server->stats().connections_open != 1; ++i)
      std::this_thread::sleep_for(10ms);
    EXPECT_EQ(server->stats().connections_open, 1u) << "the bad connection is still open";
    const std::uint64_t before = good->ops();
    for (int i = 0; i < 500 && good->ops() < before + 3 && good->errors() == 0; ++i)
      std::this_thread::sleep_for(10ms);
    EXPECT_GE(good->ops(), before + 3) << "the good session stalled";
    EXPECT_EQ(good->errors(), 0u) << good->last_error();
  }

  static RawInitiator::LoginOutcome login(RawInitiator& c, const char* header_digest = "None",
                                          const char* data_digest = "None") {
    auto r = c.login(kDisk, operational_keys(header_digest, data_digest));
    if (r.ok) {
      c.set_digests({std::string(header_digest) == "CRC32C", std::string(data_digest) == "CRC32C"});
    }
    return r;
  }

  // TEST UNIT READY until GOOD: clears the POWER ON unit attention of the new session.
  static void clear_unit_attention(RawInitiator& c) {
    for (int i = 0; i < 3; ++i) {
      auto cmd = c.command({0x00}, 0, false, false);
      ASSERT_TRUE(c.send(Header{cmd}));
      auto r = c.receive();
      ASSERT_TRUE(r && r->as<core::ScsiResponse>());
      c.note_stat_sn(*r);
      if (r->as<core::ScsiResponse>()->status == 0) return;
    }
    FAIL() << "unit attention did not clear";
  }

  // A logged-in raw session with its unit attention cleared.
  static std::unique_ptr<RawInitiator> ready(const char* header_digest = "None",
                                             const char* data_digest = "None") {
    auto c = std::make_unique<RawInitiator>(endpoint);
    EXPECT_TRUE(c->connected());
    auto r = login(*c, header_digest, data_digest);
    EXPECT_TRUE(r.ok) << "login " << int(r.status_class) << "/" << int(r.status_detail);
    if (r.ok) clear_unit_attention(*c);
    return c;
  }

  // A WRITE(10) of `blocks` blocks at `lba` (ours: LBA 8192 and up) and the R2T it draws.
  static std::pair<core::ScsiCommand, std::optional<core::R2t>> write_until_r2t(
      RawInitiator& c, std::uint16_t blocks, std::uint32_t lba = 8192) {
    auto cmd = c.command(
        {0x2a, 0, std::uint8_t(lba >> 24), std::uint8_t(lba >> 16), std::uint8_t(lba >> 8),
         std::uint8_t(lba), 0, std::uint8_t(blocks >> 8), std::uint8_t(blocks)},
        blocks * 512u, false, true);
    if (!c.send(Header{cmd})) return {cmd, std::nullopt};
    auto p = c.receive();
    if (!p || !p->as<core::R2t>()) return {cmd, std::nullopt};
    return {cmd, *p->as<core::R2t>()};
  }

  static core::DataOut data_out_for(const core::ScsiCommand& cmd, const core::R2t& r2t,
                                    RawInitiator& c) {
    core::DataOut d;
    d.final = true;
    d.itt = cmd.itt;
    d.ttt = r2t.ttt;
    d.data_sn = 0;
    d.buffer_offset = r2t.buffer_offset;
    d.exp_stat_sn = c.exp_stat_sn;
    return d;
  }
};

// ---- framing ---------------------------------------------------------------------------------

TEST_F(TargetBadInput, TruncatedLoginPduThenClose) {
  RawInitiator c(endpoint);
  ASSERT_TRUE(c.connected());
  core::LoginRequest r;
  r.csg = LoginStage::operational_negotiation;
  const auto wire = c.wire(Header{r}, testing::text_of({{"InitiatorName", c.initiator_name}}));
  ASSERT_TRUE(c.send_bytes(std::span(wire).first(30)));  // part of the BHS only
  std::this_thread::sleep_for(50ms);
  c.close();
}

TEST_F(TargetBadInput, TruncatedCommandPduThenClose) {
  auto c = ready();
  // A WRITE whose BHS declares 4 KiB of data (immediate data is off, so it is also wrong), and
  // only part of it arrives before the connection goes away.
  auto cmd = c->command({0x2a, 0, 0, 0, 0x20, 0, 0, 0, 8}, 4096, false, true);
  const auto data = pattern(4096, 7);
  const auto wire = c->wire(Header{cmd}, data);
  ASSERT_TRUE(c->send_bytes(std::span(wire).first(core::kBhsSize + 1000)));
  std::this_thread::sleep_for(50ms);
  c->close();
}

TEST_F(TargetBadInput, OversizedDataSegmentLengthClosesWithoutAllocating) {
  auto c = ready();
  // DataSegmentLength 2^24 - 1, far beyond the 256 KiB MaxRecvDataSegmentLength the target
  // declared: the target cannot trust the stream any more and closes (RFC 7143 section 13.12),
  // without buffering the segment.
  core::NopOut n;
  n.immediate = true;
  n.itt = c->next_itt();
  n.ttt = core::Ttt::reserved();
  n.cmd_sn = c->cmd_sn;
  n.exp_stat_sn = c->exp_stat_sn;
  core::Bhs bhs;
  core::encode_header(Header{n}, bhs);
  bhs.bytes[5] = bhs.bytes[6] = bhs.bytes[7] = std::byte{0xff};
  g_largest_allocation = 0;
  ASSERT_TRUE(c->send_bytes(bhs.bytes));
  const auto filler = pattern(64 * 1024, 3);
  c->send_bytes(filler);
  std::vector<RawPdu> before;
  EXPECT_TRUE(c->closed_by_peer(3s, &before));
  EXPECT_TRUE(before.empty()) << "the target answered a PDU it cannot frame";
  EXPECT_LT(g_largest_allocation.load(), kLargeAllocation);
}

TEST_F(TargetBadInput, OversizedDataSegmentDuringLoginCloses) {
  RawInitiator c(endpoint);
  ASSERT_TRUE(c.connected());
  // During login the limit is 8192 bytes (RFC 7143 section 13.12 default).
  core::LoginRequest r;
  r.csg = LoginStage::operational_negotiation;
  r.isid = c.isid;
  core::Bhs bhs;
  core::encode_header(Header{r}, bhs);
  bhs.bytes[5] = std::byte{0x01};  // 65536
  g_largest_allocation = 0;
  ASSERT_TRUE(c.send_bytes(bhs.bytes));
  c.send_bytes(pattern(65536, 4));
  std::vector<RawPdu> before;
  EXPECT_TRUE(c.closed_by_peer(3s, &before));
  EXPECT_TRUE(before.empty());
  EXPECT_LT(g_largest_allocation.load(), kLargeAllocation);
}

TEST_F(TargetBadInput, UnknownOpcodeGetsRejectCommandNotSupported) {
  auto c = ready();
  core::Bhs bhs;
  bhs.bytes[0] = std::byte{0x0f};  // not an initiator opcode (RFC 7143 section 11.2.1.2)
  bhs.bytes[1] = std::byte{0x80};
  core::store_be32(bhs.bytes.data() + 16, 0x4242);
  ASSERT_TRUE(c->send_bytes(bhs.bytes));
  auto p = c->receive();
  ASSERT_TRUE(p);
  const auto* rej = p->as<core::Reject>();
  ASSERT_TRUE(rej) << core::describe(p->header);
  EXPECT_EQ(rej->reason, core::RejectReason::command_not_supported);  // 0x05, section 11.17.1
  ASSERT_EQ(p->data.size(), core::kBhsSize);  // the rejected header comes back
  EXPECT_TRUE(std::equal(bhs.bytes.begin(), bhs.bytes.end(), p->data.begin()));
  c->note_stat_sn(*p);
  EXPECT_TRUE(c->ping()) << "the session should go on after a Reject";
}

TEST_F(TargetBadInput, HeaderDigestErrorClosesTheConnection) {
  auto c = ready("CRC32C");
  ASSERT_TRUE(c->ping());  // header digests work
  core::NopOut n;
  n.immediate = true;
  n.itt = c->next_itt();
  n.ttt = core::Ttt::reserved();
  n.cmd_sn = c->cmd_sn;
  n.exp_stat_sn = c->exp_stat_sn;
  auto wire = c->wire(Header{n});
  ASSERT_EQ(wire.size(), core::kBhsSize + 4);
  wire.back() ^= std::byte{0x20};
  ASSERT_TRUE(c->send_bytes(wire));
  // At ErrorRecoveryLevel 0 the lengths of that header cannot be trusted: the connection ends
  // (RFC 7143 section 7.8), with no answer to the corrupted PDU.
  std::vector<RawPdu> before;
  EXPECT_TRUE(c->closed_by_peer(3s, &before));
  for (const auto& p : before)
    EXPECT_FALSE(p.as<core::NopIn>() && p.as<core::NopIn>()->itt == n.itt);
}

TEST_F(TargetBadInput, DataDigestErrorGetsRejectAndAbortedCommand) {
  auto c = ready("None", "CRC32C");
  auto [cmd, r2t] = write_until_r2t(*c, 2);
  ASSERT_TRUE(r2t);
  const auto data = pattern(1024, 9);
  auto wire = c->wire(Header{data_out_for(cmd, *r2t, *c)}, data);
  wire.back() ^= std::byte{0x01};  // the data digest
  ASSERT_TRUE(c->send_bytes(wire));
  // Reject with "data (payload) digest error" (section 11.17.1) and, at ERL 0, the command ends
  // with ABORTED COMMAND, PROTOCOL SERVICE CRC ERROR (47/05, section 11.4.7.2).
  auto p1 = c->receive();
  ASSERT_TRUE(p1 && p1->as<core::Reject>()) << (p1 ? core::describe(p1->header) : "nothing");
  EXPECT_EQ(p1->as<core::Reject>()->reason, core::RejectReason::data_digest_error);
  auto p2 = c->receive();
  ASSERT_TRUE(p2 && p2->as<core::ScsiResponse>());
  EXPECT_EQ(p2->as<core::ScsiResponse>()->status, 0x02);
  const SenseCode s = sense_of(*p2);
  EXPECT_EQ(s.key, 0x0b);
  EXPECT_EQ(s.asc, 0x47);
  EXPECT_EQ(s.ascq, 0x05);
  c->note_stat_sn(*p1);
  c->note_stat_sn(*p2);
  EXPECT_TRUE(c->ping());
}

// ---- command numbering (RFC 7143 section 4.2.2.1) ---------------------------------------------

TEST_F(TargetBadInput, CommandOutsideTheCmdSnWindowIsIgnored) {
  auto c = ready();
  const core::SerialNumber expected = c->cmd_sn;
  auto cmd = c->command({0x00}, 0, false, false);
  cmd.cmd_sn = expected + 1000;  // beyond MaxCmdSN (window 128)
  c->cmd_sn = expected;
  ASSERT_TRUE(c->send(Header{cmd}));
  EXPECT_TRUE(c->silent_for(300ms)) << "a command outside the window was answered";
  ASSERT_TRUE(c->ping());
  EXPECT_EQ(c->last_nop_in->exp_cmd_sn, expected);  // nothing was taken
  // The window still works.
  auto ok = c->command({0x00}, 0, false, false);
  ASSERT_TRUE(c->send(Header{ok}));
  auto p = c->receive();
  ASSERT_TRUE(p && p->as<core::ScsiResponse>());
  EXPECT_EQ(p->as<core::ScsiResponse>()->itt, ok.itt);
  EXPECT_EQ(p->as<core::ScsiResponse>()->exp_cmd_sn, expected + 1);
}

TEST_F(TargetBadInput, DuplicateCmdSnIsIgnored) {
  auto c = ready();
  auto first = c->command({0x00}, 0, false, false);
  ASSERT_TRUE(c->send(Header{first}));
  auto p = c->receive();
  ASSERT_TRUE(p && p->as<core::ScsiResponse>());
  c->note_stat_sn(*p);
  // The same CmdSN again (another ITT): a duplicate, silently dropped.
  auto again = c->command({0x00}, 0, false, false);
  again.cmd_sn = first.cmd_sn;
  c->cmd_sn = first.cmd_sn + 1;
  ASSERT_TRUE(c->send(Header{again}));
  EXPECT_TRUE(c->silent_for(300ms)) << "a duplicate CmdSN was answered";
  ASSERT_TRUE(c->ping());
  EXPECT_EQ(c->last_nop_in->exp_cmd_sn, first.cmd_sn + 1);
}

// ---- Data-Out (RFC 7143 sections 11.7 and 11.8) -----------------------------------------------

TEST_F(TargetBadInput, DataOutWithWrongDataSnEndsTheTaskWithAbortedCommand) {
  auto c = ready();
  auto [cmd, r2t] = write_until_r2t(*c, 2);
  ASSERT_TRUE(r2t);
  EXPECT_EQ(r2t->buffer_offset, 0u);
  EXPECT_EQ(r2t->desired_data_transfer_length, 1024u);
  auto d = data_out_for(cmd, *r2t, *c);
  d.data_sn = 5;  // the first Data-Out of a sequence has DataSN 0
  ASSERT_TRUE(c->send(Header{d}, pattern(1024, 1)));
  // tgtd accepts this; we end the task: CHECK CONDITION, ABORTED COMMAND.
  auto p = c->receive();
  ASSERT_TRUE(p && p->as<core::ScsiResponse>()) << (p ? core::describe(p->header) : "nothing");
  EXPECT_EQ(p->as<core::ScsiResponse>()->itt, cmd.itt);
  EXPECT_EQ(p->as<core::ScsiResponse>()->status, 0x02);
  EXPECT_EQ(sense_of(*p).key, 0x0b);
  c->note_stat_sn(*p);
  EXPECT_TRUE(c->ping());
}

TEST_F(TargetBadInput, DataOutWithUnknownTttIsRejected) {
  auto c = ready();
  auto [cmd, r2t] = write_until_r2t(*c, 2);
  ASSERT_TRUE(r2t);
  auto d = data_out_for(cmd, *r2t, *c);
  d.ttt = core::Ttt(r2t->ttt.value ^ 0x5a5a0000u);
  const auto data = pattern(1024, 2);
  ASSERT_TRUE(c->send(Header{d}, data));
  auto p = c->receive();
  ASSERT_TRUE(p && p->as<core::Reject>()) << (p ? core::describe(p->header) : "nothing");
  EXPECT_EQ(p->as<core::Reject>()->reason, core::RejectReason::invalid_pdu_field);  // 0x09
  c->note_stat_sn(*p);
  // The task is still waiting for its data: the right Data-Out completes it.
  ASSERT_TRUE(c->send(Header{data_out_for(cmd, *r2t, *c)}, data));
  p = c->receive();
  ASSERT_TRUE(p && p->as<core::ScsiResponse>());
  EXPECT_EQ(p->as<core::ScsiResponse>()->status, 0x00);
}

TEST_F(TargetBadInput, HugeExpectedDataTransferLengthIsRefusedWithoutAllocating) {
  auto c = ready();
  g_largest_allocation = 0;
  // WRITE(16) of 2^21 blocks: 1 GiB, far beyond the 2 MiB per-command bound.
  auto cmd = c->command({0x8a, 0, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0x20, 0, 0}, 1u << 30, false, true);
  ASSERT_TRUE(c->send(Header{cmd}));
  auto p = c->receive();
  ASSERT_TRUE(p && p->as<core::ScsiResponse>()) << (p ? core::describe(p->header) : "nothing");
  EXPECT_EQ(p->as<core::ScsiResponse>()->status, 0x02);
  const SenseCode s = sense_of(*p);
  EXPECT_EQ(s.key, 0x05);  // ILLEGAL REQUEST, INVALID FIELD IN COMMAND INFORMATION UNIT
  EXPECT_EQ(s.asc, 0x0e);
  EXPECT_EQ(s.ascq, 0x03);
  EXPECT_LT(g_largest_allocation.load(), kLargeAllocation);
  c->note_stat_sn(*p);
  EXPECT_TRUE(c->ping());
}

TEST_F(TargetBadInput, WriteBuffersPastTheConnectionBoundGetTaskSetFull) {
  auto c = ready();
  // Two 2 MiB writes take the connection's 4 MiB of write buffers (their data never comes)...
  const std::uint16_t blocks = kMaxCommandWrite / 512;
  for (std::uint32_t lba : {8192u, 8192u + blocks}) {
    auto [cmd, r2t] = write_until_r2t(*c, blocks, lba);
    ASSERT_TRUE(r2t);
  }
  // ... so a third is refused with TASK SET FULL (SAM-5 status 28h) until they finish.
  auto third = c->command({0x2a, 0, 0, 0, 0x30, 0, 0, std::uint8_t(blocks >> 8), 0}, blocks * 512u,
                          false, true);
  ASSERT_TRUE(c->send(Header{third}));
  auto p = c->receive();
  ASSERT_TRUE(p && p->as<core::ScsiResponse>()) << (p ? core::describe(p->header) : "nothing");
  EXPECT_EQ(p->as<core::ScsiResponse>()->itt, third.itt);
  EXPECT_EQ(p->as<core::ScsiResponse>()->status, 0x28);
}

// ---- login (RFC 7143 sections 6, 11.12, 11.13, 12.1) -----------------------------------------

TEST_F(TargetBadInput, ScsiCommandBeforeLoginClosesTheConnection) {
  RawInitiator c(endpoint);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send(Header{c.command({0x12, 0, 0, 0, 36, 0}, 36, true, false)}));
  // Section 6.3: before the Login Phase has started, the target just closes.
  std::vector<RawPdu> before;
  EXPECT_TRUE(c.closed_by_peer(3s, &before));
  EXPECT_TRUE(before.empty());
}

TEST_F(TargetBadInput, ScsiCommandDuringLoginGetsLoginReject) {
  RawInitiator c(endpoint);
  ASSERT_TRUE(c.connected());
  auto r = c.login_request(
      LoginStage::security_negotiation,
      {{"InitiatorName", c.initiator_name}, {"TargetName", kDisk}, {"AuthMethod", "None"}}, false);
  ASSERT_TRUE(r && r->as<core::LoginResponse>());
  ASSERT_EQ(r->as<core::LoginResponse>()->status_class, 0);
  ASSERT_TRUE(c.send(Header{c.command({0x12, 0, 0, 0, 36, 0}, 36, true, false)}));
  // Section 6.3: once the Login Phase has started, a Login reject "invalid during login"
  // (0x020b), then the connection closes.
  std::vector<RawPdu> before;
  EXPECT_TRUE(c.closed_by_peer(3s, &before));
  ASSERT_EQ(before.size(), 1u);
  const auto* lr = before[0].as<core::LoginResponse>();
  ASSERT_TRUE(lr);
  EXPECT_EQ(lr->status_class, 2);
  EXPECT_EQ(lr->status_detail, 0x0b);
}

TEST_F(TargetBadInput, LoginRequestWithTransitAndContinueIsRefused) {
  RawInitiator c(endpoint);
  ASSERT_TRUE(c.connected());
  // Section 11.12.2: with T=1, C must be 0.
  auto r =
      c.login_request(LoginStage::operational_negotiation,
                      {{"InitiatorName", c.initiator_name}, {"TargetName", kDisk}}, true, true);
  ASSERT_TRUE(r && r->as<core::LoginResponse>());
  EXPECT_EQ(r->as<core::LoginResponse>()->status_class, 2);   // initiator error
  EXPECT_EQ(r->as<core::LoginResponse>()->status_detail, 0);  // (miscellaneous)
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(TargetBadInput, LoginKeyFloodIsRefused) {
  RawInitiator c(endpoint);
  ASSERT_TRUE(c.connected());
  g_largest_allocation = 0;
  // 3000 distinct X- keys (about 40 KiB) in 8 KiB parts with C=1: each part is acknowledged
  // with an empty response, the whole is refused (more keys than a login may carry).
  core::KeyValueList keys = {{"InitiatorName", c.initiator_name}, {"TargetName", kDisk}};
  for (int i = 0; i < 3000; ++i)
    keys.push_back({"X-flood" + std::to_string(i), "v"});
  const auto text = testing::text_of(keys);
  const auto parts = core::split_text(text, 8192);
  ASSERT_GT(parts.size(), 3u);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    core::LoginRequest r;
    r.cont = !last;
    r.csg = LoginStage::operational_negotiation;
    r.isid = c.isid;
    r.cmd_sn = c.cmd_sn;
    ASSERT_TRUE(c.send(Header{r}, parts[i]));
    // Generous: the last part makes the target negotiate 3000 keys, slow under ASan on a busy
    // machine.
    auto p = c.receive(std::chrono::seconds(20));
    ASSERT_TRUE(p && p->as<core::LoginResponse>()) << "part " << i;
    if (!last) {
      EXPECT_EQ(p->as<core::LoginResponse>()->status_class, 0);
      EXPECT_TRUE(p->data.empty());
    } else {
      EXPECT_EQ(p->as<core::LoginResponse>()->status_class, 2);
      EXPECT_EQ(p->as<core::LoginResponse>()->status_detail, 0);
    }
  }
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_LT(g_largest_allocation.load(), kLargeAllocation);
}

TEST_F(TargetBadInput, LoginTextBeyondTheBoundIsRefused) {
  RawInitiator c(endpoint);
  ASSERT_TRUE(c.connected());
  g_largest_allocation = 0;
  // C=1 parts of 8 KiB that never end: past 64 KiB of text the login is refused.
  const std::vector<std::byte> part(8192, std::byte{'a'});
  int answered = 0;
  for (int i = 0; i < 20; ++i) {
    core::LoginRequest r;
    r.cont = true;
    r.csg = LoginStage::operational_negotiation;
    r.isid = c.isid;
    if (!c.send(Header{r}, part)) break;
    auto p = c.receive();
    ASSERT_TRUE(p && p->as<core::LoginResponse>()) << "part " << i;
    ++answered;
    if (p->as<core::LoginResponse>()->status_class != 0) {
      EXPECT_EQ(p->as<core::LoginResponse>()->status_class, 2);
      EXPECT_EQ(p->as<core::LoginResponse>()->status_detail, 0);
      break;
    }
  }
  EXPECT_EQ(answered, 9);  // 8 x 8 KiB fit the 64 KiB bound; the 9th does not
  EXPECT_TRUE(c.closed_by_peer());
  EXPECT_LT(g_largest_allocation.load(), kLargeAllocation);
}

// The CHAP exchange of section 12.1.3 up to the target's challenge.
struct ChapChallenge {
  std::uint8_t id = 0;
  std::vector<std::byte> challenge;
  bool ok = false;
};
ChapChallenge chap_challenge(RawInitiator& c, const char* algorithms) {
  ChapChallenge out;
  auto r = c.login_request(LoginStage::security_negotiation,
                           {{"InitiatorName", c.initiator_name},
                            {"TargetName", kChap},
                            {"SessionType", "Normal"},
                            {"AuthMethod", "CHAP"}},
                           false);
  if (!r || !r->as<core::LoginResponse>() || r->as<core::LoginResponse>()->status_class != 0)
    return out;
  r = c.login_request(LoginStage::security_negotiation, {{"CHAP_A", algorithms}}, false);
  if (!r || !r->as<core::LoginResponse>()) return out;
  const auto keys = r->keys();
  auto id = core::find_value(keys, "CHAP_I");
  auto ch = core::find_value(keys, "CHAP_C");
  if (!id || !ch) return out;
  out.id = static_cast<std::uint8_t>(std::atoi(std::string(*id).c_str()));
  auto bin = core::parse_binary(*ch);
  if (!bin) return out;
  out.challenge = *bin;
  out.ok = true;
  return out;
}

TEST_F(TargetBadInput, ChapResponseToTheRightChallengeLogsIn) {
  // The control for the next test: the same exchange with a correct response succeeds.
  RawInitiator c(endpoint);
  ASSERT_TRUE(c.connected());
  auto ch = chap_challenge(c, "5");
  ASSERT_TRUE(ch.ok);
  const auto resp =
      core::chap_response(core::ChapAlgorithm::md5, ch.id, Secret(kChapSecret), ch.challenge);
  auto r = c.login_steps({{LoginStage::security_negotiation,
                           {{"CHAP_N", kChapUser}, {"CHAP_R", core::format_hex(resp)}}},
                          {LoginStage::operational_negotiation, operational_keys()}});
  EXPECT_TRUE(r.ok) << int(r.status_class) << "/" << int(r.status_detail);
  c.close();
}

TEST_F(TargetBadInput, ChapResponseForAnotherChallengeFailsAuthentication) {
  RawInitiator c(endpoint);
  ASSERT_TRUE(c.connected());
  auto ch = chap_challenge(c, "5");
  ASSERT_TRUE(ch.ok);
  auto other = ch.challenge;
  other[0] ^= std::byte{0x01};  // a replayed response from some other exchange
  const auto resp =
      core::chap_response(core::ChapAlgorithm::md5, ch.id, Secret(kChapSecret), other);
  auto r = c.login_request(LoginStage::security_negotiation,
                           {{"CHAP_N", kChapUser}, {"CHAP_R", core::format_hex(resp)}}, true);
  ASSERT_TRUE(r && r->as<core::LoginResponse>());
  EXPECT_EQ(r->as<core::LoginResponse>()->status_class, 2);   // initiator error:
  EXPECT_EQ(r->as<core::LoginResponse>()->status_detail, 1);  // authentication failure
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(TargetBadInput, UnsupportedChapAlgorithmsFailAuthentication) {
  RawInitiator c(endpoint);
  ASSERT_TRUE(c.connected());
  auto r = c.login_request(
      LoginStage::security_negotiation,
      {{"InitiatorName", c.initiator_name}, {"TargetName", kChap}, {"AuthMethod", "CHAP"}}, false);
  ASSERT_TRUE(r && r->as<core::LoginResponse>());
  ASSERT_EQ(r->as<core::LoginResponse>()->status_class, 0);
  // Section 12.1.3: with none of the offered algorithms, a Login reject, Authentication Failure.
  r = c.login_request(LoginStage::security_negotiation, {{"CHAP_A", "1,2,99,x"}}, false);
  ASSERT_TRUE(r && r->as<core::LoginResponse>());
  EXPECT_EQ(r->as<core::LoginResponse>()->status_class, 2);
  EXPECT_EQ(r->as<core::LoginResponse>()->status_detail, 1);
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(TargetBadInput, RedeclaredInitiatorNameWithAnotherValueIsRefused) {
  RawInitiator c(endpoint);
  ASSERT_TRUE(c.connected());
  auto r = c.login_request(
      LoginStage::security_negotiation,
      {{"InitiatorName", c.initiator_name}, {"TargetName", kDisk}, {"AuthMethod", "None"}}, true);
  ASSERT_TRUE(r && r->as<core::LoginResponse>());
  ASSERT_EQ(r->as<core::LoginResponse>()->status_class, 0);
  // Section 6.2: a key declared twice in one login is an initiator error. (The same value
  // again is tolerated for libiscsi's sake; another value is not.)
  auto keys = operational_keys();
  keys.push_back({"InitiatorName", "iqn.2026-11.dev.uiscsi:someone-else"});
  r = c.login_request(LoginStage::operational_negotiation, keys, true);
  ASSERT_TRUE(r && r->as<core::LoginResponse>());
  EXPECT_EQ(r->as<core::LoginResponse>()->status_class, 2);
  EXPECT_EQ(r->as<core::LoginResponse>()->status_detail, 0);
  EXPECT_TRUE(c.closed_by_peer());
}

}  // namespace
}  // namespace uiscsi
