// Positioning (SSC-3 4.2.7 logical objects): REWIND, SPACE, LOCATE, READ POSITION, LOAD UNLOAD.
//
// The driver's logical position is re-read with READ POSITION after every SPACE and LOCATE,
// because the number of objects a SPACE over filemarks passes is not known otherwise. The file
// number comes from the long form of READ POSITION when the drive has it; otherwise it is
// counted here (filemarks read, written and spaced), and unknown after LOCATE or SPACE to EOD.
#include <array>
#include <cstdlib>

#include "tape/drive_impl.hpp"
#include "uiscsi/scsi/cdb.hpp"

namespace uiscsi::tape {
namespace {

constexpr std::int64_t kSpace6Min = -(1 << 23);
constexpr std::int64_t kSpace6Max = (1 << 23) - 1;

scsi::SpaceCode space_code(SpaceUnit unit) {
  switch (unit) {
    case SpaceUnit::blocks:
      return scsi::SpaceCode::blocks;
    case SpaceUnit::filemarks:
      return scsi::SpaceCode::filemarks;
    case SpaceUnit::sequential_filemarks:
      return scsi::SpaceCode::sequential_filemarks;
    case SpaceUnit::setmarks:
      return scsi::SpaceCode::setmarks;
    case SpaceUnit::end_of_data:
      return scsi::SpaceCode::end_of_data;
  }
  return scsi::SpaceCode::blocks;
}

}  // namespace

// READ POSITION, long form first (SSC-3 7.7: logical object, partition and file number), the
// short form when the drive refuses it.
Result<void> Drive::Impl::refresh_position() {
  std::array<std::byte, 32> buf{};
  if (long_position) {
    auto e = transport->run(scsi::read_position(scsi::ReadPositionForm::long_form), buf, {});
    if (!e) return fail("READ POSITION", e.error());
    auto c = detail::classify(e->status, e->sense);
    if (!c.code) {
      auto p = scsi::parse_read_position(std::span(buf).first(e->data_in),
                                         scsi::ReadPositionForm::long_form);
      if (!p) return fail("READ POSITION", p.error());
      if (p->block_position_unknown) return fail("READ POSITION", tape_errc::position_lost);
      block = p->first_block;
      partition = p->partition;
      if (!p->mark_position_unknown) file = p->file_number;
      return ok();
    }
    if (*c.code != tape_errc::illegal_request) return fail("READ POSITION", c);
    long_position = false;
  }
  auto e = transport->run(scsi::read_position(scsi::ReadPositionForm::short_form), buf, {});
  if (!e) return fail("READ POSITION", e.error());
  auto c = detail::classify(e->status, e->sense);
  if (c.code) return fail("READ POSITION", c);
  auto p = scsi::parse_read_position(std::span(buf).first(e->data_in),
                                     scsi::ReadPositionForm::short_form);
  if (!p) return fail("READ POSITION", p.error());
  if (p->block_position_unknown) return fail("READ POSITION", tape_errc::position_lost);
  block = p->first_block;
  partition = p->partition;
  return ok();
}

Result<void> Drive::Impl::locate_to(std::uint64_t target_block, std::optional<std::uint32_t> part) {
  scsi::LocateOptions lo;
  if (part) {
    lo.change_partition = true;
    lo.partition = static_cast<std::uint8_t>(*part);
  }
  Result<scsi::CommandSpec> spec =
      target_block <= 0xffffffffu ? scsi::locate10(target_block, lo)
                                  : Result<scsi::CommandSpec>(scsi::locate16(
                                        target_block, scsi::LocateDestination::logical_object, lo));
  if (!spec) return fail("LOCATE", spec.error());
  const char* op = target_block <= 0xffffffffu ? "LOCATE(10)" : "LOCATE(16)";
  UISCSI_TRY(auto c, command(op, *spec));
  const std::optional<std::uint64_t> old_file = file;
  const std::uint64_t old_block = block.value_or(~0ull);
  if (c.code) {
    const auto code = fail(op, c);
    (void)refresh_position();
    return code;
  }
  file = target_block == old_block && !part ? old_file : std::nullopt;
  if (target_block == 0) file = 0;
  return refresh_position();
}

Result<void> Drive::rewind() {
  Impl& d = *impl_;
  UISCSI_TRY_VOID(d.settle());
  UISCSI_TRY_VOID(d.simple("REWIND", scsi::rewind()));
  d.block = 0;
  d.file = 0;
  return d.refresh_position();
}

Result<void> Drive::locate(std::uint64_t block, std::optional<std::uint32_t> partition) {
  UISCSI_TRY_VOID(impl_->settle());
  return impl_->locate_to(block, partition);
}

// SPACE (SSC-3 7.9). File accounting when the drive has no long READ POSITION: filemarks
// spaced = |count| - |residue| in the direction of count (drives differ in the residue's sign
// for negative counts, its magnitude is what SSC-3 defines); a SPACE over blocks stopped by a
// filemark passed it (forward: after it; backward: before it).
Result<void> Drive::space(SpaceUnit unit, std::int64_t count) {
  Impl& d = *impl_;
  UISCSI_TRY_VOID(d.settle());
  if (count == 0 && unit != SpaceUnit::end_of_data) return ok();
  const bool fits6 = count >= kSpace6Min && count <= kSpace6Max;
  const char* op = fits6 ? "SPACE(6)" : "SPACE(16)";
  Result<scsi::CommandSpec> spec =
      fits6 ? scsi::space6(space_code(unit), static_cast<std::int32_t>(count))
            : Result<scsi::CommandSpec>(scsi::space16(space_code(unit), count));
  if (!spec) return d.fail(op, spec.error());
  UISCSI_TRY(auto c, d.command(op, *spec));
  const std::int64_t direction = count < 0 ? -1 : 1;
  const std::int64_t left = c.residue ? std::llabs(*c.residue) : 0;
  std::optional<std::uint64_t> file = d.file;
  auto move_file = [&](std::int64_t n) {
    if (file) file = static_cast<std::uint64_t>(static_cast<std::int64_t>(*file) + n);
  };
  if (!c.code) {
    if (unit == SpaceUnit::filemarks) move_file(count);
    if (unit == SpaceUnit::end_of_data || unit == SpaceUnit::sequential_filemarks) file.reset();
  } else if (*c.code == tape_errc::filemark) {
    if (unit == SpaceUnit::blocks) move_file(direction);
  } else if (*c.code == tape_errc::beginning_of_partition) {
    file = 0;
  } else if (unit == SpaceUnit::filemarks &&
             (*c.code == tape_errc::end_of_data || *c.code == tape_errc::early_warning)) {
    move_file(direction * (std::llabs(count) - left));
  } else {
    file.reset();
  }
  std::error_code code;
  if (c.code) code = d.fail(op, c);
  d.file = file;
  auto p = d.refresh_position();
  if (code) return code;
  return p;
}

Result<Position> Drive::position() {
  Impl& d = *impl_;
  UISCSI_TRY_VOID(d.settle());
  std::array<std::byte, 32> buf{};
  const auto form =
      d.long_position ? scsi::ReadPositionForm::long_form : scsi::ReadPositionForm::short_form;
  UISCSI_TRY(auto c, d.command("READ POSITION", scsi::read_position(form), buf));
  if (c.code) return d.fail("READ POSITION", c);
  auto p = scsi::parse_read_position(buf, form);
  if (!p) return d.fail("READ POSITION", p.error());
  Position out;
  out.partition = p->partition;
  out.block = p->first_block;
  out.bop = p->bop;
  out.eop = p->eop;
  out.bpew = p->bpew;
  if (form == scsi::ReadPositionForm::long_form && !p->mark_position_unknown)
    d.file = p->file_number;
  d.block = out.block;
  d.partition = out.partition;
  out.file = d.file;
  return out;
}

Result<void> Drive::load() {
  Impl& d = *impl_;
  UISCSI_TRY_VOID(d.settle());
  UISCSI_TRY_VOID(d.simple("LOAD UNLOAD", scsi::load_unload(true)));
  d.block = 0;
  d.file = 0;
  d.partition = 0;
  return d.refresh_position();
}

Result<void> Drive::unload() {
  Impl& d = *impl_;
  UISCSI_TRY_VOID(d.settle());
  UISCSI_TRY_VOID(d.simple("LOAD UNLOAD", scsi::load_unload(false)));
  d.block.reset();
  d.file.reset();
  return ok();
}

}  // namespace uiscsi::tape
