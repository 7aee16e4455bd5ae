// The soak workload (soak_run.hpp). One thread (the caller's) decides, submits and verifies;
// completion callbacks on the session's I/O thread only queue their result and wake it.
#include "soak_run.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"

namespace uiscsi::bench {

namespace {

using Clock = std::chrono::steady_clock;

enum class OpKind { fill, read, write, resolve, test_unit_ready, read_capacity, inquiry };

const char* op_name(OpKind k) {
  switch (k) {
    case OpKind::fill:
      return "fill write";
    case OpKind::read:
      return "read";
    case OpKind::write:
      return "write";
    case OpKind::resolve:
      return "read-back of an unknown-outcome write";
    case OpKind::test_unit_ready:
      return "TEST UNIT READY";
    case OpKind::read_capacity:
      return "READ CAPACITY(16)";
    case OpKind::inquiry:
      return "INQUIRY";
  }
  return "?";
}

struct Op {
  std::uint64_t id = 0;
  OpKind kind = OpKind::read;
  std::uint64_t lba = 0;
  std::uint32_t blocks = 0;
  std::vector<std::byte> data;     // write data, or the read buffer
  std::vector<std::byte> written;  // resolve: the data of the write being resolved
  RetryPolicy policy = RetryPolicy::automatic;
  Clock::time_point sent{};
  [[nodiscard]] bool locks() const { return blocks > 0; }
};

bool is_unit_attention(const Completion& c) {
  auto s = c.sense();
  return s && s->sense_key == scsi::SenseKey::unit_attention;
}

class Runner {
 public:
  Runner(Session& s, const std::function<Result<Session>()>& dial,
         const std::atomic<bool>& session_failed, const SoakConfig& cfg)
      : session_(&s),
        dial_(dial),
        session_failed_(session_failed),
        cfg_(cfg),
        rng_(cfg.seed),
        shadow_(cfg.region_blocks * cfg.block_size),
        known_(cfg.region_blocks, false) {}

  // False when the run stopped on a hang: then callbacks may still hold `this`, and the caller
  // must not destroy the runner.
  bool run(const std::function<void(const SoakStats&)>& progress);
  SoakStats stats;

 private:
  std::unique_ptr<Op> next_op();
  std::unique_ptr<Op> random_op();
  void submit(std::unique_ptr<Op> op);
  void complete(std::unique_ptr<Op> op, Result<Completion> r);
  void complete_write(std::unique_ptr<Op> op, const Result<Completion>& r);
  void complete_resolve(std::unique_ptr<Op> op, const Result<Completion>& r);
  void complete_read(Op& op, const Result<Completion>& r);
  void complete_small(Op& op, const Result<Completion>& r);
  void record_failure(const Op& op, const Result<Completion>& r);
  void mismatch(std::string detail);
  bool overlaps(std::uint64_t lba, std::uint64_t end) const;
  void lock(const Op& op) { locked_[op.lba] = op.lba + op.blocks; }
  void unlock(const Op& op) {
    if (op.locks()) locked_.erase(op.lba);
  }
  std::vector<std::byte> random_bytes(std::size_t n);
  std::span<std::byte> shadow_of(std::uint64_t lba, std::uint32_t blocks) {
    return std::span(shadow_).subspan(lba * cfg_.block_size, std::size_t{blocks} * cfg_.block_size);
  }
  bool redial();

  Session* session_;
  std::optional<Session> redialled_;
  const std::function<Result<Session>()>& dial_;
  const std::atomic<bool>& session_failed_;
  SoakConfig cfg_;
  std::mt19937_64 rng_;
  std::vector<std::byte> shadow_;
  std::vector<bool> known_;
  std::map<std::uint64_t, std::uint64_t> locked_;  // in-flight LBA ranges: first -> end
  std::deque<std::unique_ptr<Op>> pending_;        // locked work to (re)submit first
  std::map<std::uint64_t, std::unique_ptr<Op>> inflight_;
  std::uint64_t next_id_ = 1;
  std::uint64_t next_fill_lba_ = 0;
  bool filling_ = true;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::uint64_t, Result<Completion>>> done_;
};

bool Runner::overlaps(std::uint64_t lba, std::uint64_t end) const {
  auto it = locked_.upper_bound(lba);
  if (it != locked_.end() && it->first < end) return true;
  if (it == locked_.begin()) return false;
  --it;
  return it->second > lba;
}

std::vector<std::byte> Runner::random_bytes(std::size_t n) {
  std::vector<std::byte> v(n);
  for (std::size_t i = 0; i < n; i += 8) {
    const std::uint64_t x = rng_();
    std::memcpy(v.data() + i, &x, std::min<std::size_t>(8, n - i));
  }
  return v;
}

std::unique_ptr<Op> Runner::next_op() {
  if (!pending_.empty()) {
    auto op = std::move(pending_.front());
    pending_.pop_front();
    return op;
  }
  if (!filling_) return random_op();
  if (next_fill_lba_ >= cfg_.region_blocks) return nullptr;
  auto op = std::make_unique<Op>();
  op->kind = OpKind::fill;
  op->lba = next_fill_lba_;
  op->blocks = static_cast<std::uint32_t>(
      std::min<std::uint64_t>(cfg_.max_transfer_blocks, cfg_.region_blocks - next_fill_lba_));
  op->data = random_bytes(std::size_t{op->blocks} * cfg_.block_size);
  next_fill_lba_ += op->blocks;
  lock(*op);
  return op;
}

std::unique_ptr<Op> Runner::random_op() {
  auto op = std::make_unique<Op>();
  const int roll = std::uniform_int_distribution<int>(0, 99)(rng_);
  if (roll < 3) {
    op->kind = roll == 0   ? OpKind::test_unit_ready
               : roll == 1 ? OpKind::read_capacity
                           : OpKind::inquiry;
    return op;
  }
  op->kind = roll < 50 ? OpKind::read : OpKind::write;
  // Sizes log-uniform from one block to max_transfer_blocks: small and large both common.
  const double top = std::log2(static_cast<double>(cfg_.max_transfer_blocks));
  for (int attempt = 0; attempt < 8; ++attempt) {
    const double e = std::uniform_real_distribution<double>(0.0, top)(rng_);
    const auto blocks = static_cast<std::uint32_t>(std::clamp<double>(
        std::round(std::exp2(e)), 1.0, static_cast<double>(cfg_.max_transfer_blocks)));
    if (blocks > cfg_.region_blocks) continue;
    const std::uint64_t lba =
        std::uniform_int_distribution<std::uint64_t>(0, cfg_.region_blocks - blocks)(rng_);
    if (overlaps(lba, lba + blocks)) continue;
    op->lba = lba;
    op->blocks = blocks;
    const std::size_t bytes = std::size_t{blocks} * cfg_.block_size;
    if (op->kind == OpKind::write) {
      op->data = random_bytes(bytes);
      op->policy = std::bernoulli_distribution(cfg_.never_retry_share)(rng_)
                       ? RetryPolicy::never
                       : RetryPolicy::automatic;
    } else {
      op->data.resize(bytes);
    }
    lock(*op);
    return op;
  }
  return nullptr;  // crowded: wait for a completion
}

void Runner::submit(std::unique_ptr<Op> op) {
  op->id = next_id_++;
  op->sent = Clock::now();
  std::optional<Command> cmd;
  switch (op->kind) {
    case OpKind::fill:
    case OpKind::write: {
      auto spec = scsi::write16(op->lba, op->blocks, cfg_.block_size);
      if (spec) cmd.emplace(*spec), cmd->write_from(op->data);
      break;
    }
    case OpKind::read:
    case OpKind::resolve: {
      auto spec = scsi::read16(op->lba, op->blocks, cfg_.block_size);
      if (spec) cmd.emplace(*spec), cmd->read_into(op->data);
      break;
    }
    case OpKind::test_unit_ready:
      cmd.emplace(scsi::test_unit_ready());
      break;
    case OpKind::read_capacity:
      cmd.emplace(scsi::read_capacity16());
      break;
    case OpKind::inquiry:
      cmd.emplace(scsi::inquiry());
      break;
  }
  if (!cmd) {
    stats.fatal = "cannot build a CDB for LBA " + std::to_string(op->lba);
    unlock(*op);
    return;
  }
  cmd->timeout(cfg_.command_timeout).retry(op->policy);
  const std::uint64_t id = op->id;
  inflight_.emplace(id, std::move(op));
  session_->submit(cfg_.lun, std::move(*cmd), [this, id](Result<Completion> r) {
    std::lock_guard l(mu_);
    done_.emplace_back(id, std::move(r));
    cv_.notify_one();
  });
}

void Runner::record_failure(const Op& op, const Result<Completion>& r) {
  ++stats.failed_commands;
  // A write sent with RetryPolicy::never is, by design, not repeated after a reinstatement.
  const char* policy = op.policy == RetryPolicy::never ? " (RetryPolicy::never)" : "";
  ++stats.failures[std::string(op_name(op.kind)) + policy + ": " +
                   (r ? r->describe() : r.error().message())];
}

void Runner::mismatch(std::string detail) {
  ++stats.mismatches;
  if (stats.mismatch_details.size() < 20) stats.mismatch_details.push_back(std::move(detail));
}

void Runner::complete(std::unique_ptr<Op> op, Result<Completion> r) {
  switch (op->kind) {
    case OpKind::fill:
    case OpKind::write:
      complete_write(std::move(op), r);
      return;
    case OpKind::resolve:
      complete_resolve(std::move(op), r);
      return;
    case OpKind::read:
      complete_read(*op, r);
      break;
    default:
      complete_small(*op, r);
      break;
  }
  unlock(*op);
}

void Runner::complete_write(std::unique_ptr<Op> op, const Result<Completion>& r) {
  if (r && r->ok()) {
    std::memcpy(shadow_of(op->lba, op->blocks).data(), op->data.data(), op->data.size());
    for (std::uint32_t i = 0; i < op->blocks; ++i)
      known_[op->lba + i] = true;
    ++(op->kind == OpKind::fill ? stats.fill_writes : stats.writes);
    stats.bytes_written += op->data.size();
    unlock(*op);
    return;
  }
  if (r && is_unit_attention(*r)) {
    // Not executed (SAM-5 5.14): the LUN is unchanged. Fill writes must still happen.
    ++stats.unit_attentions;
    if (op->kind == OpKind::fill)
      pending_.push_back(std::move(op));
    else
      unlock(*op);
    return;
  }
  record_failure(*op, r);
  ++stats.unknown_outcome_writes;
  bool all_known = true;
  for (std::uint32_t i = 0; i < op->blocks && all_known; ++i)
    all_known = known_[op->lba + i];
  if (!all_known) {
    pending_.push_back(std::move(op));  // old contents unknown: write it again instead
    return;
  }
  auto back = std::make_unique<Op>();
  back->kind = OpKind::resolve;
  back->lba = op->lba;
  back->blocks = op->blocks;
  back->written = std::move(op->data);
  back->data.resize(back->written.size());
  pending_.push_back(std::move(back));  // the range stays locked
}

void Runner::complete_resolve(std::unique_ptr<Op> op, const Result<Completion>& r) {
  if (!r || !r->ok() || r->bytes_received() != op->data.size()) {
    if (r && is_unit_attention(*r))
      ++stats.unit_attentions;
    else
      record_failure(*op, r);
    pending_.push_back(std::move(op));  // try again; the range stays locked
    return;
  }
  ++stats.resolve_reads;
  stats.bytes_read += op->data.size();
  const std::size_t bs = cfg_.block_size;
  std::uint32_t old_blocks = 0, new_blocks = 0;
  for (std::uint32_t i = 0; i < op->blocks; ++i) {
    auto got = std::span(op->data).subspan(i * bs, bs);
    auto old = shadow_of(op->lba + i, 1);
    const bool is_old = std::equal(got.begin(), got.end(), old.begin());
    const bool is_new = std::equal(got.begin(), got.end(), op->written.begin() + i * bs);
    if (is_old) ++old_blocks;
    if (is_new) ++new_blocks;
    if (!is_old && !is_new)
      mismatch("block " + std::to_string(op->lba + i) +
               " after an unknown-outcome write holds neither its old nor its new data");
    std::copy(got.begin(), got.end(), old.begin());
  }
  if (new_blocks == op->blocks)
    ++stats.resolved.executed;
  else if (old_blocks == op->blocks)
    ++stats.resolved.not_executed;
  else
    ++stats.resolved.partial;
  unlock(*op);
}

void Runner::complete_read(Op& op, const Result<Completion>& r) {
  if (!r || !r->ok()) {
    if (r && is_unit_attention(*r))
      ++stats.unit_attentions;
    else
      record_failure(op, r);
    return;
  }
  ++stats.reads;
  stats.bytes_read += op.data.size();
  if (r->bytes_received() != op.data.size()) {
    mismatch("read of " + std::to_string(op.blocks) + " blocks at LBA " + std::to_string(op.lba) +
             " returned GOOD with " + std::to_string(r->bytes_received()) + " bytes");
    return;
  }
  const std::size_t bs = cfg_.block_size;
  for (std::uint32_t i = 0; i < op.blocks; ++i) {
    if (!known_[op.lba + i]) continue;
    auto got = std::span(op.data).subspan(i * bs, bs);
    auto want = shadow_of(op.lba + i, 1);
    auto [g, w] = std::mismatch(got.begin(), got.end(), want.begin());
    if (g != got.end())
      mismatch("read at LBA " + std::to_string(op.lba) + " (" + std::to_string(op.blocks) +
               " blocks): block " + std::to_string(op.lba + i) + " differs at byte " +
               std::to_string(g - got.begin()));
  }
}

void Runner::complete_small(Op& op, const Result<Completion>& r) {
  if (!r || !r->ok()) {
    if (r && is_unit_attention(*r))
      ++stats.unit_attentions;
    else
      record_failure(op, r);
    return;
  }
  if (op.kind == OpKind::test_unit_ready) {
    ++stats.test_unit_ready;
  } else if (op.kind == OpKind::read_capacity) {
    ++stats.read_capacity;
    auto cap = scsi::parse_read_capacity16(r->data());
    if (!cap || cap->block_length != cfg_.block_size || cap->last_lba + 1 < cfg_.region_blocks)
      mismatch("READ CAPACITY(16) returned a different capacity or block length");
  } else {
    ++stats.inquiry;
    // SPC-4 6.6.2: a direct-access block device is peripheral device type 00h.
    if (r->data().empty() || (std::to_integer<unsigned>(r->data()[0]) & 0x1f) != 0)
      mismatch("INQUIRY no longer reports a direct-access device");
  }
}

void add_recovery(RecoveryStats& sum, const RecoveryStats& add) {
  sum.reinstatements += add.reinstatements;
  sum.digest_errors += add.digest_errors;
  sum.data_r2t_snacks += add.data_r2t_snacks;
  sum.status_snacks += add.status_snacks;
  sum.data_acks += add.data_acks;
  sum.command_retries += add.command_retries;
  sum.probes += add.probes;
}

bool Runner::redial() {
  add_recovery(stats.recovery, session_->recovery_stats());
  for (int attempt = 0; attempt < 10; ++attempt) {
    auto s = dial_();
    if (s) {
      redialled_.reset();
      redialled_.emplace(std::move(*s));
      session_ = &*redialled_;
      ++stats.redials;
      return true;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  stats.fatal = "the session was lost and could not be dialled again";
  return false;
}

bool Runner::run(const std::function<void(const SoakStats&)>& progress) {
  const auto start = Clock::now();
  auto end = Clock::time_point::max();
  auto next_progress = start + std::chrono::seconds(10);
  for (;;) {
    const auto now = Clock::now();
    if (!filling_ && now >= end && pending_.empty() && inflight_.empty()) break;
    if (!stats.fatal.empty() && inflight_.empty()) break;
    if (filling_ && next_fill_lba_ >= cfg_.region_blocks && pending_.empty() && inflight_.empty()) {
      filling_ = false;
      stats.fill_elapsed = Clock::now() - start;
      end = Clock::now() + cfg_.duration;
    }
    if (session_failed_.load() && inflight_.empty() && !redial()) break;
    // Keep the queue full; after the end only locked leftovers (resolutions) go out.
    while (stats.fatal.empty() && !session_failed_.load() && inflight_.size() < cfg_.queue_depth &&
           (now < end || !pending_.empty())) {
      auto op = next_op();
      if (!op) break;
      submit(std::move(op));
    }
    std::deque<std::pair<std::uint64_t, Result<Completion>>> batch;
    {
      std::unique_lock l(mu_);
      cv_.wait_for(l, std::chrono::milliseconds(200), [&] { return !done_.empty(); });
      batch.swap(done_);
    }
    for (auto& [id, r] : batch) {
      auto it = inflight_.find(id);
      if (it == inflight_.end()) continue;
      auto op = std::move(it->second);
      inflight_.erase(it);
      complete(std::move(op), std::move(r));
    }
    const auto deadline = Clock::now() - cfg_.command_timeout - cfg_.hang_grace;
    for (auto& [id, op] : inflight_)
      if (op->sent < deadline) ++stats.hung;
    if (stats.hung > 0) {
      stats.fatal = std::to_string(stats.hung) + " command(s) still in flight " +
                    std::to_string((cfg_.command_timeout + cfg_.hang_grace).count()) +
                    " ms after submission";
      break;
    }
    if (progress && Clock::now() >= next_progress) {
      next_progress += std::chrono::seconds(10);
      stats.elapsed = Clock::now() - start - stats.fill_elapsed;
      progress(stats);
    }
  }
  stats.elapsed = Clock::now() - start - stats.fill_elapsed;
  add_recovery(stats.recovery, session_->recovery_stats());
  return stats.hung == 0;
}

}  // namespace

SoakStats run_soak(Session& session, const std::function<Result<Session>()>& dial,
                   const std::atomic<bool>& session_failed, const SoakConfig& config,
                   const std::function<void(const SoakStats&)>& progress) {
  auto runner = std::make_unique<Runner>(session, dial, session_failed, config);
  const bool clean = runner->run(progress);
  SoakStats out = runner->stats;
  // After a hang, the session may still call back into the runner: leak it on purpose (the
  // caller reports and exits).
  if (!clean) (void)runner.release();
  return out;
}

}  // namespace uiscsi::bench
