// serve(): the signal-driven daemon loop (uiscsi/tcmu/serve.hpp).
#include "uiscsi/tcmu/serve.hpp"

#include <signal.h>

#include <atomic>

namespace uiscsi::tcmu {
namespace {

std::atomic<EventLoop*> g_loop{nullptr};

void on_signal(int) {
  if (EventLoop* loop = g_loop.load()) loop->cancel();  // one write(): async-signal-safe
}

}  // namespace

Result<void> serve(Device& device, Handler& handler,
                   std::optional<std::chrono::steady_clock::time_point> deadline) {
  g_loop.store(&device.loop());
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  ::sigaction(SIGINT, &sa, &old_int);
  ::sigaction(SIGTERM, &sa, &old_term);
  auto r = device.loop().run(handler, deadline);
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  g_loop.store(nullptr);
  return r;
}

}  // namespace uiscsi::tcmu
