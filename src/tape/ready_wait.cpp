// detail::wait_until_ready: the bounded TEST UNIT READY loop (see ready_wait.hpp).
#include "tape/ready_wait.hpp"

#include <thread>

#include "uiscsi/scsi/cdb.hpp"

namespace uiscsi::tape::detail {

Result<Condition> wait_until_ready(Transport& transport, const ReadyBounds& bounds) {
  const auto deadline = std::chrono::steady_clock::now() + bounds.timeout;
  Condition last;
  for (int attempt = 0; attempt < bounds.attempts; ++attempt) {
    auto e = transport.run(scsi::test_unit_ready(), {}, {});
    if (!e) return e.error();
    Condition c = classify(e->status, e->sense);
    if (!c.code) return c;
    if (*c.code != tape_errc::unit_attention && *c.code != tape_errc::not_ready) return c;
    last = std::move(c);
    if (*last.code == tape_errc::not_ready) {
      if (std::chrono::steady_clock::now() + bounds.interval > deadline) break;
      std::this_thread::sleep_for(bounds.interval);
    } else if (std::chrono::steady_clock::now() > deadline) {
      break;
    }
  }
  last.code = tape_errc::not_ready_timeout;
  return last;
}

}  // namespace uiscsi::tape::detail
