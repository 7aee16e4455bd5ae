// The handlers behind tapesim-tcmu and tcmu-ramdisk, driven through a fake kernel's ring.
#include <gtest/gtest.h>

#include <cstring>

#include "fake_kernel.hpp"
#include "target/block_store.hpp"
#include "target/disk_lu.hpp"
#include "target/tape_lu.hpp"
#include "tcmu/lu_handler.hpp"

namespace uiscsi::tcmu {
namespace {

using test::Completion;
using test::FakeKernel;

std::vector<std::byte> cdb(std::initializer_list<int> v) {
  std::vector<std::byte> out;
  for (int x : v)
    out.push_back(static_cast<std::byte>(x));
  return out;
}

std::vector<std::byte> pattern(std::size_t n, int seed) {
  std::vector<std::byte> out(n);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<std::byte>((i * 13 + seed) & 0xff);
  return out;
}

int u8(const std::vector<std::byte>& v, std::size_t i) {
  return static_cast<int>(v.at(i));
}

// One command through the ring: submit, poll, execute, complete, flush, collect.
class Bench {
 public:
  explicit Bench(std::unique_ptr<target::LogicalUnit> lu)
      : kernel_(8192, 1 << 20, abi::kCapReadLen | abi::kCapTmr | abi::kCapOutOfOrder),
        ring_(std::move(*Ring::attach(kernel_.memory()))),
        handler_(std::move(lu)) {}

  Completion run(std::vector<std::byte> c, std::vector<std::byte> out = {}, std::size_t in = 0) {
    kernel_.submit(std::move(c), std::move(out), in);
    kernel_.publish();
    auto events = ring_.poll();
    EXPECT_TRUE(events);
    for (auto& e : *events) {
      if (auto* r = std::get_if<Request>(&e)) {
        EXPECT_TRUE(ring_.complete(r->id, handler_.execute(*r)));
      } else if (auto* t = std::get_if<TaskManagement>(&e)) {
        handler_.task_management(*t);
      }
    }
    ring_.flush();
    auto done = kernel_.collect();
    EXPECT_EQ(done.size(), 1u);
    return done.empty() ? Completion{} : done[0];
  }
  // Data-In actually returned (read_len bytes).
  static std::vector<std::byte> data_in(const Completion& c) {
    if (!c.read_len) return {};
    return {c.data.begin(), c.data.begin() + *c.read_len};
  }
  void tmr(abi::TmrType type) {
    kernel_.submit_tmr(type, {});
    kernel_.publish();
    auto events = ring_.poll();
    ASSERT_TRUE(events);
    for (auto& e : *events)
      if (auto* t = std::get_if<TaskManagement>(&e)) handler_.task_management(*t);
    ring_.flush();
  }

 private:
  FakeKernel kernel_;
  Ring ring_;
  LuHandler handler_;
};

std::vector<std::byte> write6(std::size_t n) {
  return cdb({0x0a, 0, static_cast<int>(n >> 16), static_cast<int>((n >> 8) & 0xff),
              static_cast<int>(n & 0xff), 0});
}
std::vector<std::byte> read6(std::size_t n) {
  return cdb({0x08, 0, static_cast<int>(n >> 16), static_cast<int>((n >> 8) & 0xff),
              static_cast<int>(n & 0xff), 0});
}

TEST(TcmuTapeHandler, WriteFilemarkSpaceReadRoundTrip) {
  target::TapeLuConfig config;
  config.capacity_bytes = 16 << 20;
  auto lu = target::TapeLu::create(config);
  ASSERT_TRUE(lu) << lu.error().message();
  Bench b(std::move(*lu));

  // A new nexus first sees POWER ON (29/00), then the drive is ready.
  auto c = b.run(cdb({0x00, 0, 0, 0, 0, 0}));
  EXPECT_EQ(c.status, 2);
  EXPECT_EQ(u8(c.sense, 2) & 0x0f, 6);
  EXPECT_EQ(u8(c.sense, 12), 0x29);
  EXPECT_EQ(b.run(cdb({0x00, 0, 0, 0, 0, 0})).status, 0);

  c = b.run(cdb({0x12, 0, 0, 0, 96, 0}), {}, 96);  // INQUIRY
  ASSERT_EQ(c.status, 0);
  EXPECT_EQ(u8(Bench::data_in(c), 0) & 0x1f, 1);                  // sequential-access device
  EXPECT_EQ(b.run(cdb({0x05, 0, 0, 0, 0, 0}), {}, 6).status, 0);  // READ BLOCK LIMITS

  const auto r1 = pattern(1000, 1), r2 = pattern(5000, 2), r3 = pattern(20000, 3),
             r4 = pattern(777, 4);
  for (const auto* r : {&r1, &r2, &r3})
    EXPECT_EQ(b.run(write6(r->size()), *r).status, 0);
  EXPECT_EQ(b.run(cdb({0x10, 0, 0, 0, 1, 0})).status, 0);  // WRITE FILEMARKS 1
  EXPECT_EQ(b.run(write6(r4.size()), r4).status, 0);
  EXPECT_EQ(b.run(cdb({0x01, 0, 0, 0, 0, 0})).status, 0);  // REWIND

  c = b.run(read6(1000), {}, 1000);
  EXPECT_EQ(c.status, 0);
  EXPECT_EQ(Bench::data_in(c), r1);
  // A longer READ than the record: ILI, data first, read_len = record length.
  c = b.run(read6(8000), {}, 8000);
  EXPECT_EQ(c.status, 2);
  EXPECT_EQ(u8(c.sense, 2) & 0x20, 0x20);  // ILI
  EXPECT_EQ(Bench::data_in(c), r2);
  EXPECT_EQ(b.run(cdb({0x11, 0, 0, 0, 1, 0})).status, 0);  // SPACE 1 block over r3
  c = b.run(read6(4096), {}, 4096);                        // the filemark
  EXPECT_EQ(c.status, 2);
  EXPECT_EQ(u8(c.sense, 2) & 0x80, 0x80);  // FILEMARK
  EXPECT_FALSE(c.read_len);
  c = b.run(read6(777), {}, 777);
  EXPECT_EQ(Bench::data_in(c), r4);

  c = b.run(cdb({0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0}), {}, 20);  // READ POSITION, short form
  ASSERT_EQ(c.status, 0);
  const auto pos = Bench::data_in(c);
  ASSERT_EQ(pos.size(), 20u);
  EXPECT_EQ(u8(pos, 7), 5);  // r1 r2 r3 FM r4

  // LOCATE(10) to object 2, read r3 exactly.
  EXPECT_EQ(b.run(cdb({0x2b, 0, 0, 0, 0, 0, 2, 0, 0, 0})).status, 0);
  c = b.run(read6(20000), {}, 20000);
  EXPECT_EQ(c.status, 0);
  EXPECT_EQ(Bench::data_in(c), r3);
  // From the end (object 5), SPACE -1 filemarks stops on the BOP side of the filemark (3).
  EXPECT_EQ(b.run(cdb({0x2b, 0, 0, 0, 0, 0, 5, 0, 0, 0})).status, 0);
  EXPECT_EQ(b.run(cdb({0x11, 1, 0xff, 0xff, 0xff, 0})).status, 0);
  c = b.run(cdb({0x34, 0, 0, 0, 0, 0, 0, 0, 0, 0}), {}, 20);
  EXPECT_EQ(u8(Bench::data_in(c), 7), 3);

  // MODE SENSE(6), MODE SELECT(6) to fixed 512-byte blocks, and back to variable.
  EXPECT_EQ(b.run(cdb({0x1a, 0, 0x3f, 0, 0xff, 0}), {}, 255).status, 0);
  auto fixed = cdb({0, 0, 0x10, 8, 0, 0, 0, 0, 0, 0, 0x02, 0});
  EXPECT_EQ(b.run(cdb({0x15, 0x10, 0, 0, 12, 0}), fixed).status, 0);
  c = b.run(cdb({0x1a, 0, 0, 0, 12, 0}), {}, 12);
  EXPECT_EQ(u8(Bench::data_in(c), 10), 0x02);  // block length 512
  auto variable = cdb({0, 0, 0x10, 8, 0, 0, 0, 0, 0, 0, 0, 0});
  EXPECT_EQ(b.run(cdb({0x15, 0x10, 0, 0, 12, 0}), variable).status, 0);

  EXPECT_EQ(b.run(cdb({0x44, 0, 0, 0, 0, 0, 0, 0x04, 0, 0}), {}, 1024).status, 0);    // RDS
  EXPECT_EQ(b.run(cdb({0x4d, 0, 0x40, 0, 0, 0, 0, 0x01, 0, 0}), {}, 256).status, 0);  // LOG SENSE

  // ERASE from object 1 on, then READ at object 1 meets end of data (BLANK CHECK).
  EXPECT_EQ(b.run(cdb({0x2b, 0, 0, 0, 0, 0, 1, 0, 0, 0})).status, 0);
  EXPECT_EQ(b.run(cdb({0x19, 1, 0, 0, 0, 0})).status, 0);
  c = b.run(read6(5000), {}, 5000);
  EXPECT_EQ(c.status, 2);
  EXPECT_EQ(u8(c.sense, 2) & 0x0f, 8);

  // UNLOAD, then NOT READY; LOAD, then ready again (after the 28/00 attention).
  EXPECT_EQ(b.run(cdb({0x1b, 0, 0, 0, 0, 0})).status, 0);
  c = b.run(cdb({0x00, 0, 0, 0, 0, 0}));
  EXPECT_EQ(u8(c.sense, 2) & 0x0f, 2);
  EXPECT_EQ(b.run(cdb({0x1b, 0, 0, 0, 1, 0})).status, 0);
  int ready_after = -1;
  for (int i = 0; i < 4 && ready_after < 0; ++i)
    if (b.run(cdb({0x00, 0, 0, 0, 0, 0})).status == 0) ready_after = i;
  EXPECT_GE(ready_after, 0);
  c = b.run(read6(1000), {}, 1000);  // r1 survived the unload
  EXPECT_EQ(Bench::data_in(c), r1);
}

TEST(TcmuDiskHandler, ReadWriteCapacityInquiry) {
  auto store = target::make_ram_store(512, 2048);
  ASSERT_TRUE(store);
  target::DiskLuConfig config;
  config.serial = "tcmu-test-1";
  auto lu = target::DiskLu::create(config, std::move(*store));
  ASSERT_TRUE(lu);
  Bench b(std::move(*lu));
  EXPECT_EQ(b.run(cdb({0x00, 0, 0, 0, 0, 0})).status, 2);  // 29/00
  EXPECT_EQ(b.run(cdb({0x00, 0, 0, 0, 0, 0})).status, 0);

  const auto data = pattern(1024, 7);
  EXPECT_EQ(b.run(cdb({0x2a, 0, 0, 0, 0, 5, 0, 0, 2, 0}), data).status, 0);  // WRITE(10)
  auto c = b.run(cdb({0x28, 0, 0, 0, 0, 5, 0, 0, 2, 0}), {}, 1024);          // READ(10)
  EXPECT_EQ(c.status, 0);
  EXPECT_EQ(Bench::data_in(c), data);
  c = b.run(cdb({0x88, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0, 1, 0, 0}), {}, 512);  // READ(16)
  EXPECT_EQ(Bench::data_in(c), std::vector<std::byte>(data.begin() + 512, data.end()));
  EXPECT_EQ(b.run(cdb({0x8a, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0}), pattern(512, 9)).status,
            0);  // WRITE(16)

  c = b.run(cdb({0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0}), {}, 8);  // READ CAPACITY(10)
  auto cap = Bench::data_in(c);
  ASSERT_EQ(cap.size(), 8u);
  EXPECT_EQ(u8(cap, 2) * 256 + u8(cap, 3), 2047);
  EXPECT_EQ(u8(cap, 6) * 256 + u8(cap, 7), 512);
  c = b.run(cdb({0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0}), {}, 32);  // RC(16)
  EXPECT_EQ(c.status, 0);
  c = b.run(cdb({0x12, 1, 0x80, 0, 64, 0}), {}, 64);  // INQUIRY VPD 80h
  auto vpd = Bench::data_in(c);
  ASSERT_GE(vpd.size(), 4u + 11u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(vpd.data()) + 4, 11), "tcmu-test-1");
  EXPECT_EQ(b.run(cdb({0x12, 1, 0x00, 0, 64, 0}), {}, 64).status, 0);     // VPD 00h
  EXPECT_EQ(b.run(cdb({0x12, 1, 0x83, 0, 255, 0}), {}, 255).status, 0);   // VPD 83h
  EXPECT_EQ(b.run(cdb({0x1a, 0, 0x3f, 0, 0xff, 0}), {}, 255).status, 0);  // MODE SENSE(6)
  EXPECT_EQ(b.run(cdb({0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0})).status, 0);     // SYNC CACHE(10)
  // A short allocation: READ_LEN reports what was placed.
  c = b.run(cdb({0x12, 0, 0, 0, 36, 0}), {}, 36);
  ASSERT_TRUE(c.read_len);
  EXPECT_EQ(*c.read_len, 36u);

  // LUN RESET through a TMR entry: the next command sees 29/03.
  b.tmr(abi::TmrType::lun_reset);
  c = b.run(cdb({0x00, 0, 0, 0, 0, 0}));
  EXPECT_EQ(c.status, 2);
  EXPECT_EQ(u8(c.sense, 12), 0x29);
  EXPECT_EQ(u8(c.sense, 13), 0x03);
}

}  // namespace
}  // namespace uiscsi::tcmu
