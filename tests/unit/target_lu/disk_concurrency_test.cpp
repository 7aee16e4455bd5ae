// DiskLu under concurrent execute() calls from several threads (several nexuses), with task
// management events and reservation and mode changes interleaved. Run under
// -DUISCSI_SANITIZE=thread to check for data races. COMPARE AND WRITE serves as an atomic
// counter: lost increments would show a non-atomic compare-and-write.
#include <atomic>
#include <string>
#include <thread>

#include "lu_test_util.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::target::test {
namespace {

constexpr std::uint32_t kBs = 512;
constexpr std::uint64_t kCounterLba = 4000;

bool is_unit_attention(const ScsiResult& r) {
  if (r.status != kCheckCondition) return false;
  auto s = scsi::parse_sense(r.sense);
  return s && s->sense_key == scsi::SenseKey::unit_attention;
}

// Runs the command, repeating it while it only reports unit attentions.
ScsiResult run_through(Harness& h, const Nexus& n, const scsi::CommandSpec& spec,
                       std::span<const std::byte> data = {}) {
  for (;;) {
    ScsiResult r = h.run(n, spec, data);
    if (!is_unit_attention(r)) return r;
  }
}

std::uint64_t counter_value(std::span<const std::byte> block) {
  return core::load_be64(block.data());
}

std::vector<std::byte> counter_block(std::uint64_t v) {
  std::vector<std::byte> b(kBs);
  core::store_be64(b.data(), v);
  return b;
}

TEST(DiskLuConcurrency, ParallelIoWithManagementEvents) {
  Harness h(8192, kBs);
  h.write(kCounterLba, counter_block(0));
  constexpr int kThreads = 4;
  constexpr int kIterations = 400;
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < kThreads; ++t) {
    const Nexus n{static_cast<std::uint64_t>(100 + t),
                  "iqn.2024-01.dev.uiscsi:worker-" + std::to_string(t),
                  static_cast<std::uint64_t>(t)};
    h.lu->nexus_added(n);
    workers.emplace_back([&h, n, t] {
      const std::uint64_t base = 512ull * static_cast<unsigned>(t);
      for (int i = 0; i < kIterations; ++i) {
        // Own region: write, read back, sometimes unmap.
        const std::uint64_t lba = base + static_cast<std::uint64_t>(i % 64) * 4;
        const auto data = pattern(4 * kBs, static_cast<unsigned>(t * 1000 + i));
        EXPECT_GOOD(run_through(h, n, *scsi::write16(lba, 4, kBs), data));
        const auto back = run_through(h, n, *scsi::read16(lba, 4, kBs));
        EXPECT_GOOD(back);
        EXPECT_EQ(back.data_in, data);
        if (i % 16 == 0) {
          const std::vector<scsi::UnmapDescriptor> d{{lba, 4}};
          auto list = *scsi::build_unmap_parameter_list(d);
          EXPECT_GOOD(
              run_through(h, n, *scsi::unmap(static_cast<std::uint16_t>(list.size())), list));
        }
        // Shared counter through COMPARE AND WRITE, retried on miscompare.
        for (;;) {
          const auto cur = run_through(h, n, *scsi::read16(kCounterLba, 1, kBs));
          ASSERT_EQ(cur.status, kGood);
          const std::uint64_t v = counter_value(cur.data_in);
          auto buf = cur.data_in;
          const auto next = counter_block(v + 1);
          buf.insert(buf.end(), next.begin(), next.end());
          const auto r = run_through(h, n, *scsi::compare_and_write(kCounterLba, 1, kBs), buf);
          if (r.status == kGood) break;
          ASSERT_EQ(sense_of(r).sense_key, scsi::SenseKey::miscompare);
        }
        // Shared reads of state.
        EXPECT_GOOD(run_through(h, n, *scsi::mode_sense10(0x3f)));
        EXPECT_GOOD(run_through(h, n, scsi::get_lba_status(base, 4096)));
        EXPECT_GOOD(run_through(h, n, scsi::inquiry_vpd(0x83)));
      }
    });
  }
  // Management: resets, nexuses coming and going, registrations, mode changes.
  std::thread manager([&] {
    const Nexus m{200, "iqn.2024-01.dev.uiscsi:manager", 9};
    int round = 0;
    while (!stop.load()) {
      ++round;
      h.lu->nexus_added(m);
      const auto params = scsi::build_pr_out_parameters({.service_action_reservation_key = 0x77});
      EXPECT_GOOD(run_through(
          h, m, scsi::persistent_reserve_out(scsi::PrOutAction::register_and_ignore_existing_key),
          params));
      EXPECT_GOOD(
          run_through(h, m, scsi::persistent_reserve_in(scsi::PrInAction::read_full_status)));
      const auto zero = scsi::build_pr_out_parameters({});
      EXPECT_GOOD(run_through(
          h, m, scsi::persistent_reserve_out(scsi::PrOutAction::register_and_ignore_existing_key),
          zero));
      if (round % 3 == 0) h.lu->logical_unit_reset();
      if (round % 7 == 0) h.lu->target_reset(false);
      EXPECT_GOOD(run_through(h, m, *scsi::report_supported_operation_codes(65535)));
      EXPECT_GOOD(run_through(h, m, scsi::synchronize_cache16(0, 0)));
      h.lu->nexus_removed(m);
      std::this_thread::yield();
    }
  });
  for (auto& w : workers)
    w.join();
  stop.store(true);
  manager.join();
  h.clear_attentions(h.a);
  EXPECT_EQ(counter_value(h.read(kCounterLba, 1)), std::uint64_t{kThreads} * kIterations);
}

TEST(DiskLuConcurrency, ConcurrentResizeIsSafe) {
  Harness h(1024, kBs);
  std::atomic<bool> stop{false};
  std::thread io([&] {
    while (!stop.load()) {
      const auto r = h.run(scsi::read10(1000, 8, kBs));
      EXPECT_TRUE(r.status == kGood || r.status == kCheckCondition);
      const auto w = h.run(scsi::write10(900, 8, kBs), filled(8 * kBs, 1));
      EXPECT_TRUE(w.status == kGood || w.status == kCheckCondition);
    }
  });
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(h.lu->resize(i % 2 == 0 ? 512 : 2048));
  }
  stop.store(true);
  io.join();
}

}  // namespace
}  // namespace uiscsi::target::test
