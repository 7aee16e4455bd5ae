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
#include <cstring>

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
  auto e = w.result.get();
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
  for (auto& rest : buffered) {
    if (rest.result.valid()) (void)rest.result.get();
  }
  buffered.clear();
  buffered_bytes = 0;
  const auto saved = last_error;
  block.reset();
  (void)refresh_position();
  last_error = saved;
  return code;
}

Result<WriteStatus> Drive::Impl::flush() {
  WriteStatus status;
  status.early_warning = early_warning_pending;
  early_warning_pending = false;
  while (!buffered.empty()) {
    BufferedWrite w = std::move(buffered.front());
    buffered.pop_front();
    UISCSI_TRY_VOID(reap_write(w, status));
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
  // Write-behind: reap what has completed, then make room.
  while (!buffered.empty() &&
         (buffered.front().result.wait_for(std::chrono::seconds(0)) == std::future_status::ready ||
          buffered_bytes + data.size() > options.write_behind_bytes)) {
    BufferedWrite w = std::move(buffered.front());
    buffered.pop_front();
    UISCSI_TRY_VOID(reap_write(w, status));
  }
  BufferedWrite w;
  w.data.assign(data.begin(), data.end());
  w.record = record;
  w.block = block;
  w.file = file;
  w.result = transport->start(*spec, {}, w.data);
  buffered_bytes += w.data.size();
  buffered.push_back(std::move(w));
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
