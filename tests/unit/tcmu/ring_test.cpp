// Ring against a fake kernel in memory: parsing, completion order, wraparound, bad entries.
#include "uiscsi/tcmu/ring.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <variant>

#include "fake_kernel.hpp"
#include "uiscsi/tcmu/errors.hpp"

namespace uiscsi::tcmu {
namespace {

using test::FakeKernel;

std::vector<std::byte> bytes(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int x : v)
    out.push_back(static_cast<std::byte>(x));
  return out;
}

std::vector<std::byte> pattern(std::size_t n, int seed) {
  std::vector<std::byte> out(n);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<std::byte>((i * 7 + seed) & 0xff);
  return out;
}

const std::vector<std::byte> kTur = bytes({0x00, 0, 0, 0, 0, 0});
const std::vector<std::byte> kRead10 = bytes({0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0});

Reply good() {
  return {};
}

Ring attach(FakeKernel& k) {
  auto r = Ring::attach(k.memory());
  EXPECT_TRUE(r) << r.error().message();
  return std::move(*r);
}

std::vector<Request> requests(const std::vector<Event>& events) {
  std::vector<Request> out;
  for (const auto& e : events)
    if (const auto* r = std::get_if<Request>(&e)) out.push_back(*r);
  return out;
}

TEST(TcmuRing, AttachChecksTheMailbox) {
  FakeKernel k(4096, 65536, 0);
  EXPECT_TRUE(Ring::attach(k.memory()));
  EXPECT_EQ(Ring::attach(k.memory().first(40)).error(), tcmu_errc::bad_mailbox);
  EXPECT_EQ(Ring::attach(k.memory().first(128 + 4000)).error(), tcmu_errc::bad_mailbox);
  k.set_mailbox_u16(0, 1);  // version
  EXPECT_EQ(Ring::attach(k.memory()).error(), tcmu_errc::bad_mailbox);
  k.set_mailbox_u16(0, 2);
  k.set_mailbox_u32(4, 16);  // ring over the mailbox
  EXPECT_EQ(Ring::attach(k.memory()).error(), tcmu_errc::bad_mailbox);
  k.set_mailbox_u32(4, 128);
  k.set_mailbox_u32(8, 0xfffffff8);  // ring past the mapping
  EXPECT_EQ(Ring::attach(k.memory()).error(), tcmu_errc::bad_mailbox);
  k.set_mailbox_u32(8, 4096);
  k.set_tail_raw(12);  // misaligned tail
  EXPECT_EQ(Ring::attach(k.memory()).error(), tcmu_errc::bad_mailbox);
}

TEST(TcmuRing, CommandRoundTripWithDataOut) {
  FakeKernel k(4096, 65536, abi::kCapReadLen, 1000);
  Ring ring = attach(k);
  const auto data = pattern(2500, 3);
  const auto id = k.submit(bytes({0x2a, 0, 0, 0, 0, 9, 0, 0, 5, 0}), data);
  k.publish();
  auto events = ring.poll();
  ASSERT_TRUE(events);
  auto reqs = requests(*events);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].id, id);
  EXPECT_FALSE(reqs[0].error);
  EXPECT_EQ(reqs[0].cdb.size(), 10u);  // group 1: 10 bytes
  EXPECT_EQ(reqs[0].cdb[0], std::byte{0x2a});
  EXPECT_EQ(reqs[0].iov.size(), 3u);  // 1000 + 1000 + 500
  EXPECT_EQ(reqs[0].data_length(), 2500u);
  EXPECT_EQ(reqs[0].gather(), data);
  EXPECT_EQ(ring.outstanding(), 1u);
  EXPECT_EQ(ring.flush(), 0u);  // not answered yet
  ASSERT_TRUE(ring.complete(id, good()));
  EXPECT_EQ(ring.flush(), 1u);
  EXPECT_EQ(ring.outstanding(), 0u);
  EXPECT_EQ(k.tail(), k.head());
  auto done = k.collect();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, id);
  EXPECT_EQ(done[0].status, 0);
  EXPECT_FALSE(done[0].read_len);  // no Data-In length given
}

TEST(TcmuRing, ScatterAndReadLen) {
  FakeKernel k(4096, 65536, abi::kCapReadLen, 100);
  Ring ring = attach(k);
  const auto id = k.submit(kRead10, {}, 512);
  k.publish();
  auto reqs = requests(*ring.poll());
  ASSERT_EQ(reqs.size(), 1u);
  const auto payload = pattern(300, 9);
  Reply r;
  r.data_in_length = static_cast<std::uint32_t>(reqs[0].scatter(payload));
  EXPECT_EQ(*r.data_in_length, 300u);
  // More than the buffers hold is cut at data_length().
  EXPECT_EQ(reqs[0].scatter(pattern(9000, 1)), 512u);
  reqs[0].scatter(payload);
  ASSERT_TRUE(ring.complete(id, r));
  ring.flush();
  auto done = k.collect();
  ASSERT_EQ(done.size(), 1u);
  ASSERT_TRUE(done[0].read_len);
  EXPECT_EQ(*done[0].read_len, 300u);
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), done[0].data.begin()));
}

TEST(TcmuRing, NoReadLenWithoutTheCapability) {
  FakeKernel k(4096, 65536, 0);
  Ring ring = attach(k);
  EXPECT_FALSE(ring.read_len_supported());
  const auto id = k.submit(kRead10, {}, 512);
  k.publish();
  ASSERT_EQ(requests(*ring.poll()).size(), 1u);
  Reply r;
  r.data_in_length = 10;
  ASSERT_TRUE(ring.complete(id, r));
  ring.flush();
  auto done = k.collect();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_FALSE(done[0].read_len);
}

TEST(TcmuRing, SenseIsCopiedAndCut) {
  FakeKernel k(4096, 65536, 0);
  Ring ring = attach(k);
  const auto id = k.submit(kTur, {});
  k.publish();
  ASSERT_EQ(requests(*ring.poll()).size(), 1u);
  Reply r;
  r.status = 2;
  r.sense = pattern(200, 5);  // longer than the ring's 96 bytes
  ASSERT_TRUE(ring.complete(id, r));
  ring.flush();
  auto done = k.collect();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].status, 2);
  EXPECT_EQ(done[0].sense, std::vector<std::byte>(r.sense.begin(), r.sense.begin() + 96));
}

TEST(TcmuRing, WrapsAroundWithPadEntries) {
  // A 1 KiB ring: 120-byte entries leave a gap at the end every few commands.
  FakeKernel k(1024, 65536, abi::kCapReadLen);
  Ring ring = attach(k);
  std::size_t completed = 0;
  for (int round = 0; round < 50; ++round) {
    std::vector<std::uint16_t> ids;
    for (int i = 0; i < 3; ++i)
      ids.push_back(k.submit(kTur, {}));
    k.publish();
    auto events = ring.poll();
    ASSERT_TRUE(events) << events.error().message();
    auto reqs = requests(*events);
    ASSERT_EQ(reqs.size(), 3u);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(reqs[i].id, ids[i]);
      ASSERT_TRUE(ring.complete(reqs[i].id, good()));
    }
    EXPECT_GE(ring.flush(), 3u);
    auto done = k.collect();
    ASSERT_EQ(done.size(), 3u);
    completed += done.size();
    EXPECT_EQ(k.tail(), k.head());
  }
  EXPECT_EQ(completed, 150u);
  EXPECT_GT(k.pads(), 5u);  // the ring wrapped many times
}

TEST(TcmuRing, PadEntryBeforeTheFirstCommand) {
  FakeKernel k(1024, 65536, 0);
  k.start_at(1000);  // 24 bytes before the ring's end: too few for a command
  Ring ring = attach(k);
  const auto id = k.submit(kTur, {});
  k.publish();
  EXPECT_EQ(k.pads(), 1u);
  auto events = ring.poll();
  ASSERT_TRUE(events);
  auto reqs = requests(*events);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].cdb, kTur);
  ASSERT_TRUE(ring.complete(id, good()));
  EXPECT_EQ(ring.flush(), 2u);  // the pad and the command
  EXPECT_EQ(k.tail(), k.head());
  EXPECT_EQ(k.collect().size(), 1u);
}

TEST(TcmuRing, InOrderRingWaitsForTheTailCommand) {
  FakeKernel k(4096, 65536, 0);
  Ring ring = attach(k);
  const auto a = k.submit(kTur, {});
  const auto b = k.submit(kTur, {});
  const auto c = k.submit(kTur, {});
  k.publish();
  ASSERT_EQ(requests(*ring.poll()).size(), 3u);
  ASSERT_TRUE(ring.complete(c, good()));
  EXPECT_EQ(ring.flush(), 0u);
  ASSERT_TRUE(ring.complete(a, good()));
  EXPECT_EQ(ring.flush(), 1u);
  ASSERT_TRUE(ring.complete(b, good()));
  EXPECT_EQ(ring.flush(), 2u);
  auto done = k.collect();
  ASSERT_EQ(done.size(), 3u);
  EXPECT_EQ(done[0].id, a);
  EXPECT_EQ(done[1].id, b);
  EXPECT_EQ(done[2].id, c);
}

TEST(TcmuRing, OutOfOrderCompletionReusesTheTailSlot) {
  FakeKernel k(4096, 65536, abi::kCapOutOfOrder | abi::kCapReadLen, 64);
  Ring ring = attach(k);
  ASSERT_TRUE(ring.out_of_order());
  const auto a = k.submit(kRead10, {}, 128);
  const auto b = k.submit(kRead10, {}, 128);
  const auto c = k.submit(kRead10, {}, 128);
  k.publish();
  auto reqs = requests(*ring.poll());
  ASSERT_EQ(reqs.size(), 3u);
  // c finishes first: its answer goes into a's slot, with c's id.
  const auto data_c = pattern(128, 33);
  Reply rc;
  rc.data_in_length = static_cast<std::uint32_t>(reqs[2].scatter(data_c));
  ASSERT_TRUE(ring.complete(c, rc));
  EXPECT_EQ(ring.flush(), 1u);
  auto done = k.collect();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].id, c);
  EXPECT_EQ(done[0].data, data_c);
  // a and b were copied out at poll(): their CDBs survive the overwritten slot.
  EXPECT_EQ(reqs[0].cdb, kRead10);
  ASSERT_TRUE(ring.complete(b, good()));
  ASSERT_TRUE(ring.complete(a, good()));
  EXPECT_EQ(ring.flush(), 2u);
  done = k.collect();
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[0].id, b);  // completion order, not ring order
  EXPECT_EQ(done[1].id, a);
  EXPECT_EQ(ring.outstanding(), 0u);
}

TEST(TcmuRing, CompleteRejectsUnknownAndRepeatedIds) {
  FakeKernel k(4096, 65536, 0);
  Ring ring = attach(k);
  const auto id = k.submit(kTur, {});
  k.publish();
  ASSERT_EQ(requests(*ring.poll()).size(), 1u);
  EXPECT_EQ(ring.complete(static_cast<std::uint16_t>(id + 5), good()).error(),
            tcmu_errc::unknown_command);
  ASSERT_TRUE(ring.complete(id, good()));
  EXPECT_EQ(ring.complete(id, good()).error(), tcmu_errc::already_completed);
  ring.flush();
  EXPECT_EQ(ring.complete(id, good()).error(), tcmu_errc::unknown_command);
}

TEST(TcmuRing, TmrEntriesAreReportedAndSkipped) {
  FakeKernel k(4096, 65536, abi::kCapTmr);
  Ring ring = attach(k);
  const auto a = k.submit(kTur, {});
  k.submit_tmr(abi::TmrType::abort_task, {a});
  k.submit_tmr(abi::TmrType::lun_reset, {1, 2, 3}, 1000);  // claims more ids than fit
  const auto b = k.submit(kTur, {});
  k.publish();
  auto events = ring.poll();
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 4u);
  const auto* t1 = std::get_if<TaskManagement>(&(*events)[1]);
  ASSERT_NE(t1, nullptr);
  EXPECT_EQ(t1->type, abi::TmrType::abort_task);
  EXPECT_EQ(t1->cmd_ids, std::vector<std::uint16_t>{a});
  const auto* t2 = std::get_if<TaskManagement>(&(*events)[2]);
  ASSERT_NE(t2, nullptr);
  EXPECT_EQ(t2->type, abi::TmrType::lun_reset);
  EXPECT_EQ(t2->cmd_ids.size(), 4u);  // (40 - 32) / 2 ids fit in the entry: 1, 2, 3 and a pad
  ASSERT_TRUE(ring.complete(a, good()));
  ASSERT_TRUE(ring.complete(b, good()));
  EXPECT_EQ(ring.flush(), 4u);
  EXPECT_EQ(k.collect().size(), 2u);
}

TEST(TcmuRing, EntriesPointingOutsideAreErrors) {
  FakeKernel k(4096, 65536, 0);
  Ring ring = attach(k);
  // A good command to copy, then three broken ones.
  const auto id = k.submit(kRead10, {}, 100);
  const std::size_t at = 128;  // its entry, at ring offset 0
  std::vector<std::byte> entry(k.memory().begin() + at, k.memory().begin() + at + 112);
  auto patch64 = [](std::vector<std::byte> e, std::size_t off, std::uint64_t v) {
    std::memcpy(e.data() + off, &v, 8);
    return e;
  };
  auto patch32 = [](std::vector<std::byte> e, std::size_t off, std::uint32_t v) {
    std::memcpy(e.data() + off, &v, 4);
    return e;
  };
  auto with_id = [](std::vector<std::byte> e, std::uint16_t new_id) {
    std::memcpy(e.data() + 4, &new_id, 2);
    return e;
  };
  const std::uint32_t len = 112;  // the copied entry's own length
  // iovec base inside the ring, not the data area
  k.submit_raw(with_id(patch64(entry, 48, 200), 50), len);
  // iovec length past the mapping
  k.submit_raw(with_id(patch64(entry, 56, 1ull << 40), 51), len);
  // cdb_off past the mapping
  k.submit_raw(with_id(patch64(entry, 24, 1ull << 33), 52), len);
  // iov_cnt larger than the entry holds
  k.submit_raw(with_id(patch32(entry, 8, 100000), 53), len);
  // iovec base + len overflowing 64 bits
  k.submit_raw(with_id(patch64(patch64(entry, 48, ~0ull - 10), 56, 100), 54), len);
  k.publish();
  auto events = ring.poll();
  ASSERT_TRUE(events) << events.error().message();
  auto reqs = requests(*events);
  ASSERT_EQ(reqs.size(), 6u);
  EXPECT_EQ(reqs[0].id, id);
  EXPECT_FALSE(reqs[0].error);
  for (std::size_t i = 1; i < reqs.size(); ++i) {
    EXPECT_EQ(reqs[i].error, tcmu_errc::bad_entry) << i;
    EXPECT_TRUE(reqs[i].iov.empty());
    ASSERT_TRUE(ring.complete(reqs[i].id, error_reply()));
  }
  ASSERT_TRUE(ring.complete(id, good()));
  EXPECT_EQ(ring.flush(), 6u);
}

TEST(TcmuRing, UnknownOpcodeAndShortCommandAreSkipped) {
  FakeKernel k(4096, 65536, 0);
  Ring ring = attach(k);
  k.submit_raw(FakeKernel::header(64 | 5, 7, 64), 64);  // opcode 5
  k.submit_raw(FakeKernel::header(64 | 1, 8, 64), 64);  // CMD shorter than a response
  const auto id = k.submit(kTur, {});
  k.publish();
  auto events = ring.poll();
  ASSERT_TRUE(events);
  ASSERT_EQ(events->size(), 3u);
  const auto* bad1 = std::get_if<BadEntry>(&(*events)[0]);
  ASSERT_NE(bad1, nullptr);
  EXPECT_EQ(bad1->error, tcmu_errc::unknown_opcode);
  const auto* bad2 = std::get_if<BadEntry>(&(*events)[1]);
  ASSERT_NE(bad2, nullptr);
  EXPECT_EQ(bad2->error, tcmu_errc::bad_entry);
  ASSERT_TRUE(ring.complete(id, good()));
  EXPECT_EQ(ring.flush(), 3u);
}

TEST(TcmuRing, CorruptHeadersKillTheRing) {
  {
    FakeKernel k(4096, 65536, 0);
    Ring ring = attach(k);
    k.submit_raw(FakeKernel::header(0 | 1, 1, 8), 8);  // length 0
    k.publish();
    EXPECT_EQ(ring.poll().error(), tcmu_errc::ring_corrupt);
    EXPECT_EQ(ring.poll().error(), tcmu_errc::ring_corrupt);  // stays dead
    EXPECT_EQ(ring.complete(1, good()).error(), tcmu_errc::ring_corrupt);
    EXPECT_EQ(ring.flush(), 0u);
  }
  {
    FakeKernel k(4096, 65536, 0);
    Ring ring = attach(k);
    k.submit_raw(FakeKernel::header(8192 | 1, 1, 8), 8);  // past the ring's end
    k.publish();
    EXPECT_EQ(ring.poll().error(), tcmu_errc::ring_corrupt);
  }
  {
    FakeKernel k(4096, 65536, 0);
    Ring ring = attach(k);
    k.set_head_raw(4100);  // head outside the ring
    EXPECT_EQ(ring.poll().error(), tcmu_errc::ring_corrupt);
  }
  {
    FakeKernel k(4096, 65536, 0);
    Ring ring = attach(k);
    k.set_head_raw(13);  // misaligned head
    EXPECT_EQ(ring.poll().error(), tcmu_errc::ring_corrupt);
  }
  {
    FakeKernel k(4096, 65536, 0);
    Ring ring = attach(k);
    k.submit(kTur, {});
    k.set_next_id(1);
    k.submit(kTur, {});  // the same id twice while in flight
    k.publish();
    EXPECT_EQ(ring.poll().error(), tcmu_errc::ring_corrupt);
  }
}

TEST(TcmuRing, VariableLengthCdbIsBounded) {
  FakeKernel k(4096, 65536, 0);
  Ring ring = attach(k);
  std::vector<std::byte> cdb(32, std::byte{0});
  cdb[0] = std::byte{0x7f};
  cdb[7] = std::byte{24};  // 8 + 24 = 32 bytes
  const auto id = k.submit(cdb, {});
  k.publish();
  auto reqs = requests(*ring.poll());
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(reqs[0].cdb.size(), 32u);
  ASSERT_TRUE(ring.complete(id, good()));
}

}  // namespace
}  // namespace uiscsi::tcmu
