// A tape::Transport that executes CDBs on an in-process tapesim::Drive: the driver's unit tests
// run against the simulator without sockets. start() executes at once (in order, like the
// ORDERED attribute) and completes the slot before returning; with Shared::deferred it queues
// the command for a worker thread instead, which runs the queue in order a little later and
// completes each slot from there, as a session's I/O thread does (run() first waits for the
// queue to drain). Counts the commands per opcode, and
// can script replies for given opcodes to exercise paths the simulator cannot produce, or refuse
// opcodes as a drive without them does (ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "tapesim/drive.hpp"
#include "uiscsi/scsi/sense.hpp"
#include "uiscsi/tape/transport.hpp"

namespace uiscsi::tape::test {

class SimTransport final : public Transport {
 public:
  struct Shared {
    tapesim::Drive drive;
    std::map<std::uint8_t, int> commands;  // opcode -> how many were sent
    // Replies used instead of the simulator for an opcode: status/sense and Data-In bytes.
    std::map<std::uint8_t, std::deque<std::pair<Exchange, std::vector<std::byte>>>> scripted;
    std::uint64_t nexus = 1;
    std::set<std::uint8_t> unsupported;  // answered CHECK CONDITION 05/20/00
    bool deferred = false;  // start() completes later, from another thread (read when started)
  };

  explicit SimTransport(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  SimTransport(const SimTransport&) = delete;
  SimTransport& operator=(const SimTransport&) = delete;
  ~SimTransport() override {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  Result<Exchange> run(const scsi::CommandSpec& spec, std::span<std::byte> data_in,
                       std::span<const std::byte> data_out) override {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return queue_.empty(); });
    }
    return execute(spec, data_in, data_out);
  }

  void start(const scsi::CommandSpec& spec, std::span<std::byte> data_in,
             std::span<const std::byte> data_out, PendingExchange& done) override {
    if (!shared_->deferred) {
      done.complete(execute(spec, data_in, data_out));
      return;
    }
    std::lock_guard lock(mutex_);
    if (!worker_.joinable()) worker_ = std::thread([this] { work(); });
    queue_.push_back({spec, data_in, data_out, &done});
    changed_.notify_all();
  }

 private:
  struct Queued {
    scsi::CommandSpec spec;
    std::span<std::byte> data_in;
    std::span<const std::byte> data_out;
    PendingExchange* done;
  };

  // The worker: runs the queue in order, each command after a short pause (so that later ones
  // pile up behind it), and completes its slot once it has left the queue.
  void work() {
    std::unique_lock lock(mutex_);
    for (;;) {
      changed_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      const Queued q = queue_.front();  // stays queued while it runs: run() waits for it
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::microseconds(300));
      auto outcome = execute(q.spec, q.data_in, q.data_out);
      lock.lock();
      queue_.pop_front();
      changed_.notify_all();
      lock.unlock();
      q.done->complete(std::move(outcome));
      lock.lock();
    }
  }

  Result<Exchange> execute(const scsi::CommandSpec& spec, std::span<std::byte> data_in,
                           std::span<const std::byte> data_out) {
    const std::uint8_t op = spec.cdb.opcode();
    ++shared_->commands[op];
    if (shared_->unsupported.contains(op)) {
      Exchange e;
      e.status = scsi::Status::check_condition;
      e.sense = scsi::build_fixed_sense(scsi::make_sense(scsi::SenseKey::illegal_request, 0x20, 0));
      return e;
    }
    if (auto it = shared_->scripted.find(op);
        it != shared_->scripted.end() && !it->second.empty()) {
      auto [e, data] = std::move(it->second.front());
      it->second.pop_front();
      e.data_in = std::min(data.size(), data_in.size());
      if (e.data_in > 0) std::memcpy(data_in.data(), data.data(), e.data_in);
      return e;
    }
    tapesim::Response r = shared_->drive.execute(spec.cdb.bytes(), data_out, shared_->nexus);
    Exchange e;
    e.status = r.status;
    e.sense = std::move(r.sense);
    e.data_in = std::min(r.data_in.size(), data_in.size());
    if (e.data_in > 0) std::memcpy(data_in.data(), r.data_in.data(), e.data_in);
    return e;
  }

  std::shared_ptr<Shared> shared_;
  std::mutex mutex_;
  std::condition_variable changed_;  // the queue changed, or stop_
  std::deque<Queued> queue_;         // started, not yet completed, oldest first
  bool stop_ = false;
  std::thread worker_;
};

// A drive with a blank cartridge of `capacity` bytes (early warning zone `early_warning`).
inline std::shared_ptr<SimTransport::Shared> make_sim(std::uint64_t capacity = 16ull << 20,
                                                      std::uint64_t early_warning = 1ull << 20,
                                                      tapesim::DriveConfig config = {}) {
  auto drive = tapesim::Drive::create(std::move(config));
  tapesim::MediumOptions mo;
  mo.capacity = capacity;
  mo.early_warning = early_warning;
  auto medium = tapesim::Medium::create(mo);
  (void)drive->insert(std::move(*medium));
  drive->power_on();
  return std::make_shared<SimTransport::Shared>(
      SimTransport::Shared{std::move(*drive), {}, {}, 1, {}, false});
}

}  // namespace uiscsi::tape::test
