// READ(6) in fixed and variable mode (SSC-3 7.4), directly or through the read-ahead pipeline.
//
// Read-ahead design (the original driver's look-ahead read past filemarks and left the medium
// one record beyond where the caller believed it was):
//   * Up to options.read_ahead READs of the caller's buffer size are in flight, sent with the
//     ORDERED task attribute, and their results are handed out strictly in issue order. A
//     prefetched READ that ran past a filemark is therefore not lost: the caller gets the
//     filemark, and its next read() gets the record after it, exactly as without read-ahead.
//   * No new READ is issued once a completed one shows a boundary (filemark, setmark, end of
//     data, incorrect length or an error), nor in the read() call that hands a boundary out;
//     so at most read_ahead - 1 READs run past a boundary.
//   * The caller's logical position (Impl::block/file) advances only by the results handed
//     out. When the caller does anything else, or reads with another buffer size, the READs
//     still undelivered are awaited and, if any of them moved the medium, the driver LOCATEs
//     back to the caller's logical object (Impl::cancel_read_ahead). A drive without LOCATE
//     (ILLEGAL REQUEST 20/00, e.g. tgtd) is walked back with SPACE instead: the undelivered
//     READs' own results say exactly which records and marks each passed, so they are undone
//     in reverse, a mark at a time and each run of records in one SPACE over blocks (which
//     never has a mark inside it to stop at). This needs no READ POSITION.
//   * When a prefetched READ fails, the READs after it are awaited; the caller's position is
//     READ POSITION minus the objects those later READs passed (position lost if one of them
//     failed too).
//   * Each READ completes into a slot (buffer and PendingExchange) reused for later READs, so
//     a record costs no allocation; a caller that finds the oldest READ still running sleeps
//     until the first half of the pipeline has completed (which changes when results are
//     handed out, never which or in what order).
#include <algorithm>
#include <cstring>

#include "tape/drive_impl.hpp"
#include "uiscsi/scsi/cdb.hpp"

namespace uiscsi::tape {
namespace {

constexpr const char* kRead = "READ(6)";
constexpr std::size_t kMaxCount = 0xffffff;

bool plain_data(const Result<Exchange>& e) {
  if (!e) return false;
  const auto c = detail::classify(e->status, e->sense);
  return !c.code || *c.code == tape_errc::early_warning;
}

}  // namespace

Result<scsi::CommandSpec> Drive::Impl::read_spec(std::size_t bytes) const {
  const std::uint32_t bs = medium.block_size;
  const std::size_t count = bs != 0 ? bytes / bs : bytes;
  if (bytes == 0 || count > kMaxCount || (bs != 0 && bytes % bs != 0))
    return make_error_code(tape_errc::invalid_block_size);
  return scsi::read6_tape(static_cast<std::uint32_t>(count), bs, bs == 0 && options.sili);
}

Result<Record> Drive::Impl::read(std::span<std::byte> buffer) {
  if (!buffered.empty() || early_warning_pending) UISCSI_TRY_VOID(flush());
  if (auto spec = read_spec(buffer.size()); !spec) return fail(kRead, spec.error());
  if (options.read_ahead == 0) return read_direct(buffer);
  return read_ahead(buffer);
}

Result<Record> Drive::Impl::read_direct(std::span<std::byte> buffer) {
  UISCSI_TRY(auto spec, read_spec(buffer.size()));
  auto e = transport->run(spec, buffer, {});
  auto r = finish_read(e, buffer.size(), {}, buffer);
  // A failed READ may have passed a damaged record: ask where the medium is.
  if (!r && e) reposition_after_error(0, 0);
  return r;
}

// Accounts one completed READ: the record for the caller, the position, last_error. `data` is
// where the READ put its bytes when that is not `out` (a prefetch buffer).
Result<Record> Drive::Impl::finish_read(const Result<Exchange>& e, std::size_t requested,
                                        std::span<const std::byte> data, std::span<std::byte> out) {
  if (!e) {
    const auto code = fail(kRead, e.error());
    block.reset();  // the READ may or may not have run
    return code;
  }
  const detail::Condition c = detail::classify(e->status, e->sense);
  const auto account = detail::account_read(c, requested, medium.block_size, e->data_in);
  if (!account) return fail(kRead, c);
  if (!data.empty() && account->record.bytes > 0)
    std::memcpy(out.data(), data.data(), account->record.bytes);
  if (block) *block += account->objects;
  if (file) *file = static_cast<std::uint64_t>(static_cast<std::int64_t>(*file) + account->files);
  return account->record;
}

void Drive::Impl::issue_prefetch(std::size_t bytes) {
  auto spec = read_spec(bytes);
  if (!spec) return;  // checked by read() before
  std::unique_ptr<PrefetchedRead> p;
  if (!spare_reads.empty()) {
    p = std::move(spare_reads.back());
    spare_reads.pop_back();
  } else {
    p = std::make_unique<PrefetchedRead>();
  }
  p->buffer.resize(bytes);
  p->requested = bytes;
  PrefetchedRead& slot = *p;
  prefetched.push_back(std::move(p));
  transport->start(*spec, slot.buffer, {}, slot.result);
}

void Drive::Impl::recycle_read(std::unique_ptr<PrefetchedRead> p) {
  p->result.reset();
  spare_reads.push_back(std::move(p));
}

// Fills the pipeline up to its depth unless a completed READ in it shows a boundary. Looking
// at a completed READ neither consumes nor copies its outcome.
void Drive::Impl::top_up(std::size_t bytes) {
  for (const auto& p : prefetched) {
    if (p->result.ready() && !plain_data(p->result.wait())) return;
  }
  while (prefetched.size() < options.read_ahead)
    issue_prefetch(bytes);
}

Result<Record> Drive::Impl::read_ahead(std::span<std::byte> buffer) {
  if (!prefetched.empty() && prefetched.front()->requested != buffer.size())
    UISCSI_TRY_VOID(cancel_read_ahead());
  if (prefetched.empty()) top_up(buffer.size());
  // When the oldest READ is still running, sleep until the first half of the pipeline has
  // completed rather than waking for each READ: the READs run in order, so this hands out the
  // same results, the second half keeps the device busy meanwhile, and the wake-up and the
  // READs issued after it are paid once per half pipeline instead of once per record.
  if (!prefetched.front()->result.ready() && prefetched.size() > 2)
    (void)prefetched[(prefetched.size() - 1) / 2]->result.wait();
  std::unique_ptr<PrefetchedRead> p = std::move(prefetched.front());
  prefetched.pop_front();
  const Result<Exchange>& e = p->result.wait();
  const bool data = plain_data(e);
  Result<Record> r = finish_read(e, p->requested, p->buffer, buffer);
  recycle_read(std::move(p));
  if (!r) {
    // The READs issued after the failed one have run: account for them.
    std::optional<std::uint64_t> later = 0;
    std::int64_t later_files = 0;
    while (!prefetched.empty()) {
      auto q = std::move(prefetched.front());
      prefetched.pop_front();
      const Result<Exchange>& qe = q->result.wait();
      const auto a = qe ? detail::account_read(detail::classify(qe->status, qe->sense),
                                               q->requested, medium.block_size, qe->data_in)
                        : std::nullopt;
      recycle_read(std::move(q));
      if (!a || !later) {
        later.reset();
        continue;
      }
      *later += a->objects;
      later_files += a->files;
    }
    reposition_after_error(later, later_files);
    return r;
  }
  if (data) top_up(buffer.size());
  return r;
}

void Drive::Impl::reposition_after_error(std::optional<std::uint64_t> later_objects,
                                         std::int64_t later_files) {
  const auto saved = last_error;
  const auto saved_file = file;
  block.reset();
  if (later_objects && refresh_position() && block && *block >= *later_objects) {
    *block -= *later_objects;
    if (file && long_position)
      *file = static_cast<std::uint64_t>(static_cast<std::int64_t>(*file) - later_files);
    else
      file = saved_file;
  } else {
    block.reset();
  }
  last_error = saved;
}

// Settles the pipeline: waits for every READ still in flight and, if any of them moved the
// medium, puts it back at the caller's logical object: LOCATE, or SPACE back (space_back)
// when the drive has no LOCATE.
Result<void> Drive::Impl::cancel_read_ahead() {
  if (prefetched.empty()) return ok();
  std::vector<detail::ReadAccount> passed;
  bool known = true;
  while (!prefetched.empty()) {
    auto p = std::move(prefetched.front());
    prefetched.pop_front();
    const Result<Exchange>& e = p->result.wait();
    const auto a = e ? detail::account_read(detail::classify(e->status, e->sense), p->requested,
                                            medium.block_size, e->data_in)
                     : std::nullopt;
    recycle_read(std::move(p));
    if (!a)
      known = false;
    else if (a->objects > 0)
      passed.push_back(*a);
  }
  if (spare_reads.size() > options.read_ahead) spare_reads.resize(options.read_ahead);
  if (known && passed.empty()) return ok();
  if (!locate_unsupported && block) {
    const auto caller_block = block;
    const auto caller_file = file;
    auto located = locate_to(*block, std::nullopt);
    if (located || !known || !last_error || !last_error->sense ||
        last_error->code != tape_errc::illegal_request || last_error->sense->asc != 0x20 ||
        last_error->sense->ascq != 0x00)
      return located;
    // INVALID COMMAND OPERATION CODE: this drive has no LOCATE (SPC-4 4.5.6).
    locate_unsupported = true;
    last_error.reset();
    block = caller_block;
    file = caller_file;
  }
  if (!known) return fail("SPACE", make_error_code(tape_errc::position_lost));
  return space_back(passed);
}

// Undoes `passed` (what undelivered READs moved over, oldest first) with SPACE(6), newest
// first: each run of records between marks with one SPACE over blocks backwards, each
// filemark with SPACE over one block backwards, which SSC-3 7.9 stops on the filemark's BOP
// side with FM set (tgtd counts the filemark as a block instead and returns GOOD, at the same
// place; its SPACE over filemarks backwards goes one object too far), and each setmark with
// SPACE over one setmark backwards. The caller's block and file stay as they are: the medium
// is back where they say.
Result<void> Drive::Impl::space_back(const std::vector<detail::ReadAccount>& passed) {
  auto space = [&](scsi::SpaceCode code, std::int64_t count, bool mark) -> Result<void> {
    if (count == 0) return ok();
    UISCSI_TRY(auto spec, scsi::space6(code, static_cast<std::int32_t>(-count)));
    UISCSI_TRY(auto c, command("SPACE(6)", spec));
    if (!c.code || (mark && *c.code == tape_errc::filemark)) return ok();
    const auto code_failed = fail("SPACE(6)", c);
    block.reset();
    return code_failed;
  };
  std::int64_t records = 0;
  for (auto a = passed.rbegin(); a != passed.rend(); ++a) {
    if (a->files > 0 || a->sets > 0) {
      UISCSI_TRY_VOID(space(scsi::SpaceCode::blocks, records, false));
      records = 0;
      UISCSI_TRY_VOID(a->files > 0 ? space(scsi::SpaceCode::blocks, 1, true)
                                   : space(scsi::SpaceCode::setmarks, 1, false));
    }
    records +=
        static_cast<std::int64_t>(a->objects) - a->files - static_cast<std::int64_t>(a->sets);
  }
  return space(scsi::SpaceCode::blocks, records, false);
}

}  // namespace uiscsi::tape
