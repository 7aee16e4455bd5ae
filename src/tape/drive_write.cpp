// WRITE(6) and WRITE FILEMARKS(6) (SSC-3 7.10, 7.11), directly or with write-behind.
//
// Write-behind: write() copies the record, starts its WRITE (ORDERED, so the device writes in
// order) and returns; at most options.write_behind_bytes are buffered, older WRITEs are
// awaited to make room. A WRITE's outcome is checked when it is reaped: at a later write(), at
// flush(), or before any other operation (settle). The first failure is reported once, with
// last_error()->record = the write() sequence number of the record that failed and ->block the
// logical object it was to become; the WRITEs buffered after it are awaited and their outcome
// dropped (after VOLUME OVERFLOW they fail too), and the position is re-read from the drive.
// Early warning (EOM with NO SENSE: the data was written) is not a failure: the next write()
// or flush() returns it in WriteStatus.
// The copies go into buffers reused from reaped WRITEs (no allocation per record); a spare
// buffer is kept only while the spares and the buffered records fit in write_behind_bytes.
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

#include "tape/drive_impl.hpp"
#include "uiscsi/scsi/cdb.hpp"

namespace uiscsi::tape {
namespace {

constexpr const char* kWrite = "WRITE(6)";
constexpr std::size_t kMaxCount = 0xffffff;

}  // namespace

Result<scsi::CommandSpec> Drive::Impl::write_spec(std::size_t bytes) const {
  const std::uint32_t bs = medium.block_size;
  const std::size_t count = bs != 0 ? bytes / bs : bytes;
  if (bytes == 0 || count > kMaxCount || (bs != 0 && bytes % bs != 0))
    return make_error_code(tape_errc::invalid_block_size);
  return scsi::write6_tape(static_cast<std::uint32_t>(count), bs);
}

std::uint64_t Drive::Impl::objects_of(std::size_t bytes) const {
  return medium.block_size != 0 ? bytes / medium.block_size : 1;
}

// Checks one buffered WRITE. On failure: records it, drops the rest, re-reads the position.
Result<void> Drive::Impl::reap_write(BufferedWrite& w, WriteStatus& status) {
  const Result<Exchange>& e = w.result.wait();
  buffered_bytes -= w.data.size();
  std::optional<detail::Condition> c;
  if (e) c = detail::classify(e->status, e->sense);
  if (e && !c->code) return ok();
  if (e && *c->code == tape_errc::early_warning) {
    status.early_warning = true;
    return ok();
  }
  const auto code = e ? fail(kWrite, *c) : fail(kWrite, e.error());
  last_error->record = w.record;
  last_error->block = w.block;
  last_error->file = w.file;
  while (!buffered.empty()) {
    auto rest = std::move(buffered.front());
    buffered.pop_front();
    (void)rest->result.wait();
    recycle_write(std::move(rest));
  }
  buffered_bytes = 0;
  const auto saved = last_error;
  block.reset();
  (void)refresh_position();
  last_error = saved;
  return code;
}

void Drive::Impl::recycle_write(std::unique_ptr<BufferedWrite> w) {
  // Enough slots for a full pipeline of records of 8 KiB and up; smaller records beyond it
  // get a new slot (as every record did before slots were reused).
  constexpr std::size_t kMaxSpareWrites = 1024;
  if (spare_writes.size() >= kMaxSpareWrites) return;
  w->result.reset();
  // Spare buffers and the records still buffered stay within the window together, so reuse
  // holds no more memory than write-behind itself does.
  const std::size_t capacity = w->data.capacity();
  if (spare_write_bytes + buffered_bytes + capacity > options.write_behind_bytes) {
    std::vector<std::byte>().swap(w->data);  // keep the slot, not the memory
  } else {
    spare_write_bytes += capacity;
  }
  spare_writes.push_back(std::move(w));
}

Result<WriteStatus> Drive::Impl::flush() {
  WriteStatus status;
  status.early_warning = early_warning_pending;
  early_warning_pending = false;
  while (!buffered.empty()) {
    auto w = std::move(buffered.front());
    buffered.pop_front();
    auto reaped = reap_write(*w, status);
    recycle_write(std::move(w));
    if (!reaped) return reaped.error();
  }
  return status;
}

Result<WriteStatus> Drive::Impl::write(std::span<const std::byte> data) {
  UISCSI_TRY_VOID(cancel_read_ahead());
  auto spec = write_spec(data.size());
  if (!spec) return fail(kWrite, spec.error());
  const std::uint64_t record = next_record++;
  WriteStatus status;
  if (options.write_behind_bytes == 0) {
    auto e = transport->run(*spec, {}, data);
    if (!e) {
      const auto code = fail(kWrite, e.error());
      last_error->record = record;
      block.reset();
      return code;
    }
    const auto c = detail::classify(e->status, e->sense);
    if (!c.code || *c.code == tape_errc::early_warning) {
      if (block) *block += objects_of(data.size());
      status.early_warning = c.code.has_value();
      return status;
    }
    const auto code = fail(kWrite, c);
    last_error->record = record;
    const auto saved = last_error;
    block.reset();
    (void)refresh_position();
    last_error = saved;
    return code;
  }
  // Write-behind: reap what has completed, then make room. When room is short and the oldest
  // WRITE still runs, sleep until the WRITEs that leave room for this record and for half the
  // window (just for this record when it is larger than that) have completed, rather than
  // waking for each record: WRITEs complete in order, and are then reaped in order as before.
  if (!buffered.empty() && buffered_bytes + data.size() > options.write_behind_bytes &&
      !buffered.front()->result.ready()) {
    const std::size_t half = options.write_behind_bytes / 2;
    const std::size_t goal = data.size() <= half ? half : options.write_behind_bytes;
    std::size_t left = buffered_bytes;
    for (const auto& w : buffered) {
      left -= w->data.size();
      if (left + data.size() <= goal) {
        (void)w->result.wait();
        break;
      }
    }
  }
  while (!buffered.empty() && (buffered.front()->result.ready() ||
                               buffered_bytes + data.size() > options.write_behind_bytes)) {
    auto w = std::move(buffered.front());
    buffered.pop_front();
    auto reaped = reap_write(*w, status);
    recycle_write(std::move(w));
    if (!reaped) return reaped.error();
  }
  std::unique_ptr<BufferedWrite> w;
  if (!spare_writes.empty()) {
    w = std::move(spare_writes.back());
    spare_writes.pop_back();
    spare_write_bytes -= w->data.capacity();
  } else {
    w = std::make_unique<BufferedWrite>();
  }
  w->data.assign(data.begin(), data.end());
  w->record = record;
  w->block = block;
  w->file = file;
  BufferedWrite& slot = *w;
  buffered_bytes += slot.data.size();
  buffered.push_back(std::move(w));
  transport->start(*spec, {}, slot.data, slot.result);
  if (block) *block += objects_of(data.size());
  status.early_warning = status.early_warning || early_warning_pending;
  early_warning_pending = false;
  return status;
}

// WRITE FILEMARKS(6) with IMMED = 0: it also makes the drive write its buffer to the medium
// (SSC-3 7.11), so buffered writes are flushed first and the marks follow them.
Result<WriteStatus> Drive::Impl::write_marks(std::uint32_t count, bool setmarks) {
  UISCSI_TRY_VOID(cancel_read_ahead());
  UISCSI_TRY(WriteStatus status, flush());
  const char* op = "WRITE FILEMARKS(6)";
  auto spec = scsi::write_filemarks6(count, false, setmarks);
  if (!spec) return fail(op, spec.error());
  UISCSI_TRY(auto c, command(op, *spec));
  if (!c.code || *c.code == tape_errc::early_warning) {
    if (block) *block += count;
    if (file && !setmarks) *file += count;
    status.early_warning = status.early_warning || c.code.has_value();
    return status;
  }
  const auto code = fail(op, c);
  const auto saved = last_error;
  block.reset();
  file.reset();
  (void)refresh_position();
  last_error = saved;
  return code;
}

}  // namespace uiscsi::tape
