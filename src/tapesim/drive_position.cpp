// Drive: SPACE(6)/(16), LOCATE(10)/(16), REWIND and READ POSITION (SSC-3), the typed forms.
//
// SPACE residues: when a SPACE stops early, INFORMATION holds the count not spaced as a
// magnitude, in either direction (SSC-3 asks for the absolute value of requested minus
// actual; Linux st expects it positive for reverse spaces too). Stopping conditions:
//   * blocks, forward: a filemark stops it past the mark (NO SENSE, FM, 00/01); EOD stops it at
//     EOD (BLANK CHECK 00/05, EOM when beyond early warning);
//   * blocks, reverse: a filemark stops it before the mark (BOP side); BOP stops it at BOP (NO
//     SENSE, EOM, 00/04);
//   * filemarks: forward ends past the count-th mark, reverse before it (BOP side); EOD and BOP
//     as above;
//   * with RSMK set a setmark stops block and filemark spaces as a filemark would (FM, 00/03);
//     with RSMK clear, setmarks are passed without being counted;
//   * sequential filemarks / setmarks: to the first run of `count` consecutive marks, ending
//     past its last mark (forward) or before its first (reverse); INFORMATION is not valid.
#include "tapesim/drive.hpp"
#include "tapesim/sense.hpp"

namespace uiscsi::tapesim {
namespace {

std::uint64_t magnitude(std::int64_t v) {
  return v < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(v) : static_cast<std::uint64_t>(v);
}

std::int64_t residue(std::uint64_t n, std::uint64_t done) {
  return static_cast<std::int64_t>(n - done);
}

}  // namespace

Outcome Drive::space(scsi::SpaceCode code, std::int64_t count) {
  if (auto s = consume_ready()) return {s};
  switch (code) {
    case scsi::SpaceCode::end_of_data:
      object_ = medium_->object_count(partition_);
      return {};
    case scsi::SpaceCode::blocks:
      return count == 0 ? Outcome{} : space_blocks(count);
    case scsi::SpaceCode::filemarks:
      return count == 0 ? Outcome{} : space_marks(count, ObjectKind::filemark);
    case scsi::SpaceCode::setmarks:
      return count == 0 ? Outcome{} : space_marks(count, ObjectKind::setmark);
    case scsi::SpaceCode::sequential_filemarks:
      return count == 0 ? Outcome{} : space_sequential(count, ObjectKind::filemark);
    case scsi::SpaceCode::sequential_setmarks:
      return count == 0 ? Outcome{} : space_sequential(count, ObjectKind::setmark);
  }
  return {sense::invalid_cdb(1, 3)};
}

Outcome Drive::space_blocks(std::int64_t count) {
  const Medium& m = *medium_;
  const std::uint64_t eod = m.object_count(partition_);
  const std::uint64_t n = magnitude(count);
  const bool rsmk = report_setmarks();
  std::uint64_t done = 0;
  if (count > 0) {
    while (done < n) {
      if (object_ == eod) return {sense::end_of_data(residue(n, done), beyond_early_warning())};
      const ObjectKind k = m.object(partition_, object_).kind;
      ++object_;
      if (k == ObjectKind::filemark) return {sense::filemark(residue(n, done))};
      if (k == ObjectKind::setmark) {
        if (rsmk) return {sense::setmark(residue(n, done))};
        continue;
      }
      ++done;
    }
    return {};
  }
  while (done < n) {
    if (object_ == 0) return {sense::beginning_of_partition(residue(n, done))};
    const ObjectKind k = m.object(partition_, object_ - 1).kind;
    --object_;  // a mark is crossed too: the position ends on its BOP side
    if (k == ObjectKind::filemark) return {sense::filemark(residue(n, done))};
    if (k == ObjectKind::setmark && rsmk) return {sense::setmark(residue(n, done))};
    if (k == ObjectKind::record) ++done;
  }
  return {};
}

Outcome Drive::space_marks(std::int64_t count, ObjectKind kind) {
  const Medium& m = *medium_;
  const std::uint64_t eod = m.object_count(partition_);
  const std::uint64_t n = magnitude(count);
  // A setmark interrupts a filemark space when setmarks are reported.
  const bool stop_at_setmark = kind == ObjectKind::filemark && report_setmarks();
  std::uint64_t done = 0;
  if (count > 0) {
    while (done < n) {
      if (object_ == eod) return {sense::end_of_data(residue(n, done), beyond_early_warning())};
      const ObjectKind k = m.object(partition_, object_).kind;
      ++object_;
      if (k == kind) {
        ++done;
      } else if (k == ObjectKind::setmark && stop_at_setmark) {
        return {sense::setmark(residue(n, done))};
      }
    }
    return {};
  }
  while (done < n) {
    if (object_ == 0) return {sense::beginning_of_partition(residue(n, done))};
    const ObjectKind k = m.object(partition_, object_ - 1).kind;
    --object_;
    if (k == kind) {
      ++done;
    } else if (k == ObjectKind::setmark && stop_at_setmark) {
      return {sense::setmark(residue(n, done))};
    }
  }
  return {};
}

Outcome Drive::space_sequential(std::int64_t count, ObjectKind kind) {
  const Medium& m = *medium_;
  const std::uint64_t eod = m.object_count(partition_);
  const std::uint64_t n = magnitude(count);
  std::uint64_t run = 0;
  if (count > 0) {
    while (run < n) {
      if (object_ == eod) return {sense::end_of_data(0, beyond_early_warning(), false)};
      run = m.object(partition_, object_).kind == kind ? run + 1 : 0;
      ++object_;
    }
    return {};
  }
  while (run < n) {
    if (object_ == 0) return {sense::beginning_of_partition(0, false)};
    run = m.object(partition_, object_ - 1).kind == kind ? run + 1 : 0;
    --object_;
  }
  return {};
}

// LOCATE (SSC-3): CP moves to another partition first. A destination past EOD leaves the
// position at EOD with BLANK CHECK, END-OF-DATA DETECTED. Logical file n starts just after the
// n-th filemark (file 0 at BOP).
Outcome Drive::locate(std::uint64_t id, scsi::LocateDestination destination,
                      std::optional<std::uint32_t> partition) {
  if (auto s = consume_ready()) return {s};
  if (partition && *partition >= medium_->partition_count()) return {sense::invalid_cdb(3, 7)};
  if (destination != scsi::LocateDestination::logical_object &&
      destination != scsi::LocateDestination::logical_file &&
      destination != scsi::LocateDestination::end_of_data) {
    return {sense::invalid_cdb(1, 5)};
  }
  if (partition) partition_ = *partition;
  const std::uint64_t eod = medium_->object_count(partition_);
  switch (destination) {
    case scsi::LocateDestination::logical_object:
      object_ = std::min(id, eod);
      if (id > eod) return {sense::locate_end_of_data()};
      return {};
    case scsi::LocateDestination::logical_file: {
      if (id == 0) {
        object_ = 0;
        return {};
      }
      const auto at = medium_->after_filemark(partition_, id);
      object_ = at.value_or(eod);
      if (!at) return {sense::locate_end_of_data()};
      return {};
    }
    case scsi::LocateDestination::end_of_data:
    default:
      object_ = eod;
      return {};
  }
}

Outcome Drive::rewind() {
  if (auto s = consume_ready()) return {s};
  object_ = 0;  // BOP of the current partition
  return {};
}

std::optional<Position> Drive::position() const {
  if (not_ready()) return std::nullopt;
  Position p;
  p.partition = partition_;
  p.object = object_;
  p.file = medium_->filemarks_before(partition_, object_);
  p.set = medium_->setmarks_before(partition_, object_);
  p.bop = object_ == 0;
  p.eod = object_ == medium_->object_count(partition_);
  p.eop = beyond_early_warning();
  return p;
}

}  // namespace uiscsi::tapesim
