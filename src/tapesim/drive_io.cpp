// Drive: READ(6), WRITE(6), WRITE FILEMARKS(6) and ERASE(6) (SSC-3), the typed forms.
//
// Order of checks, as the SCSI entry point relies on it: readiness (NOT READY), CDB fields
// (ILLEGAL REQUEST), zero length (GOOD, nothing moves), write protection (DATA PROTECT), then
// the medium. Position changes are exactly those SSC-3 describes for each condition:
//   * a filemark (or setmark with RSMK) read is passed: the position is after it;
//   * a record read with a length error is passed;
//   * at EOD the position stays at EOD;
//   * a record whose stored bytes are damaged is passed (MEDIUM ERROR 11/00); one that needs
//     decompression while DDE is 0 is not (MEDIUM ERROR 11/0E), so the host may enable DDE and
//     read it again.
#include <algorithm>
#include <cstring>

#include "tapesim/drive.hpp"
#include "tapesim/errors.hpp"
#include "tapesim/sense.hpp"

namespace uiscsi::tapesim {
namespace {

constexpr std::uint8_t kAlertMedia = 4;  // TapeAlert: media (damaged data)
constexpr std::uint8_t kAlertWriteProtect = 9;

std::int64_t diff(std::uint64_t a, std::uint64_t b) {
  return static_cast<std::int64_t>(a) - static_cast<std::int64_t>(b);
}

}  // namespace

// Passes setmarks when they are not reported (RSMK = 0): they are then invisible to READ.
void Drive::skip_setmarks() {
  if (report_setmarks()) return;
  const std::uint64_t eod = medium_->object_count(partition_);
  while (object_ < eod && medium_->object(partition_, object_).kind == ObjectKind::setmark)
    ++object_;
}

// Bytes READ will transfer at most, for sizing a buffer: count blocks (no more than the objects
// left in the partition) in fixed mode, else the smaller of count and the next record's length.
// 0 when the command cannot transfer anything.
std::size_t Drive::read_size(std::uint32_t count, bool fixed) const {
  if (!ready()) return 0;
  const std::uint64_t eod = medium_->object_count(partition_);
  if (fixed) {
    const std::uint64_t bytes = std::uint64_t{count} * block_size_;
    if (bytes > config_.max_transfer) return 0;
    // No more blocks than there are objects left in the partition.
    return static_cast<std::size_t>(std::min<std::uint64_t>(count, eod - object_) * block_size_);
  }
  std::uint64_t i = object_;
  while (!report_setmarks() && i < eod &&
         medium_->object(partition_, i).kind == ObjectKind::setmark)
    ++i;
  if (i == eod) return 0;
  const ObjectInfo o = medium_->object(partition_, i);
  return o.kind == ObjectKind::record ? std::min<std::size_t>(o.length, count) : 0;
}

// Reads the record at the position into `out` (its full length). On failure returns the sense;
// a damaged record is passed, one that may not be decompressed is not.
std::optional<scsi::SenseData> Drive::read_object(std::span<std::byte> out, std::int64_t residue) {
  const ObjectInfo o = medium_->object(partition_, object_);
  if (o.compressed && !compression().dde) return sense::cannot_decompress();
  if (auto r = medium_->read(partition_, object_, out); !r) {
    raise_tape_alert(kAlertMedia);
    ++counters_.read_errors;
    ++object_;
    return sense::unrecovered_read(residue);
  }
  counters_.bytes_from_medium += o.stored;
  ++counters_.records_read;
  return std::nullopt;
}

Outcome Drive::read_record(std::span<std::byte> out, bool sili) {
  return read(out, static_cast<std::uint32_t>(std::min<std::size_t>(out.size(), 0xffffff)), false,
              sili);
}

// READ(6) (SSC-3): FIXED and SILI together, or FIXED in variable mode, are INVALID FIELD IN
// CDB; TRANSFER LENGTH 0 transfers nothing and does not move.
Outcome Drive::read(std::span<std::byte> out, std::uint32_t count, bool fixed, bool sili) {
  if (auto s = consume_ready()) return {s};
  if (fixed && sili) return {sense::invalid_cdb(1, 1)};
  if (fixed && block_size_ == 0) return {sense::invalid_cdb(1, 0)};
  if (count == 0) return {};
  const std::uint64_t bytes = fixed ? std::uint64_t{count} * block_size_ : count;
  if (bytes > config_.max_transfer) return {sense::invalid_cdb(2, 7)};
  if (auto s = read_blocked()) return {s};
  // Callers of the typed API give a buffer for the whole request; execute() gives one of
  // read_size() bytes, which is all that can arrive.
  if (out.size() < read_size(count, fixed)) {
    return {sense::invalid_cdb(2, 7)};
  }
  Outcome r = fixed ? read_fixed(out, count) : read_variable(out, count, sili);
  counters_.bytes_to_host += r.transferred;
  return r;
}

// Variable mode: one record, or the mark / EOD that stands in its way.
Outcome Drive::read_variable(std::span<std::byte> out, std::uint32_t count, bool sili) {
  skip_setmarks();
  if (object_ == medium_->object_count(partition_)) {
    return {sense::end_of_data(count, beyond_early_warning())};
  }
  const ObjectInfo o = medium_->object(partition_, object_);
  if (o.kind != ObjectKind::record) {
    ++object_;
    return {o.kind == ObjectKind::filemark ? sense::filemark(count) : sense::setmark(count)};
  }
  const std::size_t n = std::min<std::size_t>(o.length, count);
  if (o.length <= count) {
    if (auto s = read_object(out.first(n), count)) return {s};
  } else {
    // Overlength: the record is read whole and the first `count` bytes delivered.
    std::vector<std::byte> whole(o.length);
    if (auto s = read_object(whole, count)) return {s};
    std::memcpy(out.data(), whole.data(), n);
  }
  ++object_;
  Outcome r;
  r.transferred = n;
  // INFORMATION = requested - actual: positive for a short record, negative for a long one.
  // SILI suppresses only the short case (SSC-3 READ(6)).
  const std::int64_t residue = diff(count, o.length);
  if (residue < 0 || (residue > 0 && !sili)) r.sense = sense::incorrect_length(residue);
  return r;
}

// Fixed mode: `count` records of exactly the block size. INFORMATION counts the blocks not
// transferred; a record of another length is passed and not transferred.
Outcome Drive::read_fixed(std::span<std::byte> out, std::uint32_t count) {
  const std::size_t bs = block_size_;
  std::uint32_t done = 0;
  auto stop = [&](scsi::SenseData s) {
    Outcome r;
    r.sense = std::move(s);
    r.transferred = std::size_t{done} * bs;
    return r;
  };
  while (done < count) {
    skip_setmarks();
    const std::int64_t residue = diff(count, done);
    if (object_ == medium_->object_count(partition_)) {
      return stop(sense::end_of_data(residue, beyond_early_warning()));
    }
    const ObjectInfo o = medium_->object(partition_, object_);
    if (o.kind != ObjectKind::record) {
      ++object_;
      return stop(o.kind == ObjectKind::filemark ? sense::filemark(residue)
                                                 : sense::setmark(residue));
    }
    if (o.length != bs) {
      ++object_;
      return stop(sense::incorrect_length(residue));
    }
    if (auto s = read_object(out.subspan(std::size_t{done} * bs, bs), residue)) return stop(*s);
    ++object_;
    ++done;
  }
  Outcome r;
  r.transferred = std::size_t{count} * bs;
  return r;
}

// Common to every change of the medium: write protection, and the density. Writing from BOP
// of partition 0 records the selected (or default) density; elsewhere the cartridge's density
// must be one this drive writes.
std::optional<scsi::SenseData> Drive::prepare_write() {
  if (auto s = write_blocked()) {
    raise_tape_alert(kAlertWriteProtect);
    return s;
  }
  const std::uint8_t target = selected_density_ != 0 ? selected_density_ : default_density();
  const std::uint8_t current = medium_->density_code();
  if (current == 0 || (partition_ == 0 && object_ == 0)) {
    if (current != target) {
      if (auto r = medium_->set_density_code(target); !r) return write_failure(r.error(), 0);
    }
    return std::nullopt;
  }
  const scsi::DensityDescriptor* d = find_density(current);
  if (d == nullptr || !d->wrtok) return sense::cannot_write_format();
  return std::nullopt;
}

Outcome Drive::write_record(std::span<const std::byte> data) {
  if (data.size() > 0xffffff) return {sense::invalid_cdb(2, 7)};
  return write(data, static_cast<std::uint32_t>(data.size()), false);
}

// WRITE(6) (SSC-3). Variable mode writes one record of TRANSFER LENGTH bytes, which must lie
// within the READ BLOCK LIMITS; fixed mode writes TRANSFER LENGTH records of the block size.
// Whatever followed the position is discarded first. Early warning completes the write and
// reports NO SENSE / EOM / 00/02 with INFORMATION 0; the hard end reports VOLUME OVERFLOW with
// INFORMATION = the bytes (variable) or blocks (fixed) not written.
Outcome Drive::write(std::span<const std::byte> data, std::uint32_t count, bool fixed) {
  if (auto s = consume_ready()) return {s};
  if (fixed && block_size_ == 0) return {sense::invalid_cdb(1, 0)};
  if (count == 0) return {};
  if (!fixed && (count < config_.min_block_length || count > config_.max_block_length)) {
    return {sense::invalid_cdb(2, 7)};
  }
  const std::uint64_t bytes = fixed ? std::uint64_t{count} * block_size_ : count;
  if (bytes > config_.max_transfer || data.size() < bytes) return {sense::invalid_cdb(2, 7)};
  if (auto s = prepare_write()) return {s};
  const bool dce = compression().dce;
  const std::size_t unit = fixed ? block_size_ : count;
  const std::uint32_t records = fixed ? count : 1;
  Outcome r;
  for (std::uint32_t i = 0; i < records; ++i) {
    auto w = medium_->write_record(partition_, object_, data.subspan(i * unit, unit), dce);
    if (!w) {
      r.sense = write_failure(w.error(), fixed ? diff(count, i) : std::int64_t{count});
      return r;
    }
    ++object_;
    r.transferred += unit;
    counters_.bytes_from_host += unit;
    counters_.bytes_to_medium += w->stored;
    ++counters_.records_written;
  }
  if (beyond_early_warning()) r.sense = sense::early_warning(0);
  return r;
}

// WRITE FILEMARKS(6) (SSC-3): count 0 only flushes (nothing is buffered here). Early warning and
// the hard end as for WRITE, INFORMATION counting marks.
Outcome Drive::write_filemarks(std::uint32_t count, bool setmarks) {
  if (auto s = consume_ready()) return {s};
  if (count > 0xffffff) return {sense::invalid_cdb(2, 7)};
  if (count == 0) return {};
  if (auto s = prepare_write()) return {s};
  const ObjectKind kind = setmarks ? ObjectKind::setmark : ObjectKind::filemark;
  for (std::uint32_t i = 0; i < count; ++i) {
    if (auto w = medium_->write_mark(partition_, object_, kind); !w) {
      return {write_failure(w.error(), diff(count, i))};
    }
    ++object_;
    ++counters_.marks_written;
  }
  if (beyond_early_warning()) return {sense::early_warning(0)};
  return {};
}

// ERASE(6) (SSC-3): the short form writes EOD at the position, the long form erases to the end
// of the partition; on this medium both discard everything from the position on. The position
// does not move.
Outcome Drive::erase(bool long_erase) {
  (void)long_erase;
  if (auto s = consume_ready()) return {s};
  if (auto s = write_blocked()) {
    raise_tape_alert(kAlertWriteProtect);
    return {s};
  }
  if (auto r = medium_->truncate(partition_, object_); !r) return {write_failure(r.error(), 0)};
  return {};
}

}  // namespace uiscsi::tapesim
