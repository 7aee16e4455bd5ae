#include "uiscsi/stream.hpp"

#include <deque>
#include <future>
#include <memory>

#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"

namespace uiscsi {
namespace {

struct Slot {
  std::vector<std::byte> buffer;
  std::size_t length = 0;
  std::future<Result<Completion>> pending;
};

// The pool of at most `depth` reusable buffers, and the commands in flight in issue order.
class Pipeline {
 public:
  Pipeline(const StreamOptions& o, StreamStats& stats) : options_(o), stats_(stats) {}
  ~Pipeline() { drain(); }

  [[nodiscard]] bool full() const {
    return in_flight_.size() >= std::max<std::size_t>(1, options_.depth);
  }
  [[nodiscard]] bool empty() const { return in_flight_.empty(); }

  Slot& take() {
    if (free_.empty()) {
      slots_.push_back(std::make_unique<Slot>());
      slots_.back()->buffer.resize(options_.buffer_bytes);
      free_.push_back(slots_.back().get());
      stats_.buffers_allocated = slots_.size();
    }
    Slot* s = free_.back();
    free_.pop_back();
    return *s;
  }
  void give_back(Slot& s) { free_.push_back(&s); }
  void launch(Slot& s, std::future<Result<Completion>> f) {
    s.pending = std::move(f);
    in_flight_.push_back(&s);
    stats_.max_in_flight = std::max(stats_.max_in_flight, in_flight_.size());
  }
  // The oldest command's result; its slot comes back with it.
  std::pair<Slot*, Result<Completion>> oldest() {
    Slot* s = in_flight_.front();
    in_flight_.pop_front();
    auto r = s->pending.get();
    return {s, std::move(r)};
  }
  // Waits for everything still in flight (their buffers must outlive them).
  void drain() {
    while (!in_flight_.empty()) {
      auto [s, r] = oldest();
      (void)r;
      give_back(*s);
    }
  }

 private:
  const StreamOptions& options_;
  StreamStats& stats_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Slot*> free_;
  std::deque<Slot*> in_flight_;
};

Command with_timeout(Command c, const StreamOptions& o) {
  if (o.command_timeout.count() > 0) c.timeout(o.command_timeout);
  return c;
}

}  // namespace

Result<StreamStats> run_read_stream(Session& session, Lun lun, NextReadCommand next,
                                    StreamSink& sink, const StreamOptions& options,
                                    AcceptCompletion accept, const std::atomic<bool>* cancel) {
  if (options.buffer_bytes == 0 || options.depth == 0) return errc::invalid_argument;
  StreamStats stats;
  Pipeline pipe(options, stats);
  bool input_done = false;
  for (;;) {
    while (!input_done && !pipe.full() && !(cancel && *cancel)) {
      Slot& s = pipe.take();
      auto cmd = next(s.buffer);
      if (!cmd) {
        pipe.give_back(s);
        input_done = true;
        break;
      }
      pipe.launch(s, session.submit(lun, with_timeout(std::move(*cmd), options)));
    }
    if (pipe.empty()) break;
    auto [slot, r] = pipe.oldest();
    if (!r) {
      pipe.give_back(*slot);
      return r.error();
    }
    const bool go_on = accept ? accept(*r) : r->ok();
    if (!go_on) {
      stats.stopped_by = std::move(*r);
      pipe.give_back(*slot);
      return stats;
    }
    auto written = sink.write(r->data());
    pipe.give_back(*slot);
    if (!written) return written.error();
    ++stats.commands;
    stats.bytes += r->data().size();
    if (cancel && *cancel) {
      pipe.drain();
      return errc::cancelled;
    }
  }
  if (cancel && *cancel) return errc::cancelled;
  return stats;
}

Result<StreamStats> read_blocks(Session& session, Lun lun, std::uint64_t lba,
                                std::uint64_t block_count, std::uint32_t block_size,
                                StreamSink& sink, const StreamOptions& options,
                                const std::atomic<bool>* cancel) {
  if (block_size == 0 || options.buffer_bytes < block_size) return errc::invalid_argument;
  const std::uint64_t per_command = options.buffer_bytes / block_size;
  std::uint64_t next_lba = lba;
  const std::uint64_t end = lba + block_count;
  return run_read_stream(
      session, lun,
      [&](std::span<std::byte> buffer) -> std::optional<Command> {
        if (next_lba >= end) return std::nullopt;
        const auto n = static_cast<std::uint32_t>(std::min(per_command, end - next_lba));
        auto spec = scsi::read16(next_lba, n, block_size);
        if (!spec) return std::nullopt;
        next_lba += n;
        return Command(*spec).read_into(buffer.first(std::size_t{n} * block_size));
      },
      sink, options, {}, cancel);
}

Result<StreamStats> write_blocks(Session& session, Lun lun, std::uint64_t lba,
                                 std::uint64_t max_blocks, std::uint32_t block_size,
                                 StreamSource& source, const StreamOptions& options,
                                 const std::atomic<bool>* cancel) {
  if (block_size == 0 || options.buffer_bytes < block_size || options.depth == 0)
    return errc::invalid_argument;
  StreamStats stats;
  Pipeline pipe(options, stats);
  const std::size_t chunk = options.buffer_bytes / block_size * block_size;
  std::uint64_t next_lba = lba;
  const std::uint64_t end = lba + max_blocks;
  bool input_done = false;
  std::error_code failure;
  auto retire = [&]() -> bool {
    auto [slot, r] = pipe.oldest();
    pipe.give_back(*slot);
    if (!r) {
      failure = r.error();
      return false;
    }
    if (!r->ok()) {
      stats.stopped_by = std::move(*r);
      return false;
    }
    ++stats.commands;
    stats.bytes += slot->length;
    return true;
  };
  while (!input_done && next_lba < end) {
    if (cancel && *cancel) return errc::cancelled;
    if (pipe.full() && !retire()) break;
    Slot& s = pipe.take();
    // Fill the buffer (a pipe may hand out less per call), or up to the end of the LUN range.
    const std::size_t room =
        static_cast<std::size_t>(std::min<std::uint64_t>(chunk, (end - next_lba) * block_size));
    std::size_t got = 0;
    while (got < room) {
      auto n = source.read(std::span(s.buffer).subspan(got, room - got));
      if (!n) {
        pipe.give_back(s);
        return n.error();
      }
      if (*n == 0) {
        input_done = true;
        break;
      }
      got += *n;
    }
    if (got == 0) {
      pipe.give_back(s);
      break;
    }
    if (got % block_size) {  // pad the last partial block
      const std::size_t padded = (got / block_size + 1) * block_size;
      std::fill(s.buffer.begin() + static_cast<std::ptrdiff_t>(got),
                s.buffer.begin() + static_cast<std::ptrdiff_t>(padded), std::byte{0});
      got = padded;
    }
    s.length = got;
    const auto blocks = static_cast<std::uint32_t>(got / block_size);
    auto spec = scsi::write16(next_lba, blocks, block_size);
    if (!spec) {
      pipe.give_back(s);
      return spec.error();
    }
    next_lba += blocks;
    pipe.launch(s, session.submit(
                       lun, with_timeout(Command(*spec).write_from(std::span(s.buffer).first(got)),
                                         options)));
  }
  while (!pipe.empty() && !failure && !stats.stopped_by)
    if (!retire()) break;
  pipe.drain();
  if (failure) return failure;
  return stats;
}

}  // namespace uiscsi
