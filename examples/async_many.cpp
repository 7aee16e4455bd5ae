// 128 reads in flight at once with completion callbacks, then a count of the results.
//   example_async_many iscsi://127.0.0.1:3260/iqn.2026-11.dev.uiscsi:target/0
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <vector>

#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/session.hpp"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  auto s = uiscsi::Session::dial(argv[1]);
  if (!s) {
    std::fprintf(stderr, "login: %s\n", s.error().message().c_str());
    return 1;
  }
  (void)s->run(uiscsi::Lun(), uiscsi::Command(uiscsi::scsi::test_unit_ready()));

  constexpr int kCommands = 128;
  std::vector<std::vector<std::byte>> buffers(kCommands, std::vector<std::byte>(4096));
  std::mutex m;
  std::condition_variable cv;
  int done = 0, good = 0;
  for (int i = 0; i < kCommands; ++i) {
    auto spec = uiscsi::scsi::read16(static_cast<std::uint64_t>(i) * 8, 8, 512);
    // The callback runs on the session's I/O thread: keep it short, never block in it.
    s->submit(uiscsi::Lun(), uiscsi::Command(*spec).read_into(buffers[static_cast<std::size_t>(i)]),
              [&](uiscsi::Result<uiscsi::Completion> r) {
                std::lock_guard lock(m);
                ++done;
                if (r && r->ok()) ++good;
                cv.notify_one();
              });
  }
  std::unique_lock lock(m);
  cv.wait(lock, [&] { return done == kCommands; });
  std::printf("%d of %d reads good\n", good, kCommands);
  return good == kCommands ? 0 : 1;
}
