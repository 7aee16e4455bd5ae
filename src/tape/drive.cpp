// Drive's public methods (forwarding to Impl) and the command helpers every operation uses.
#include <utility>

#include "tape/drive_impl.hpp"
#include "uiscsi/scsi/cdb.hpp"

namespace uiscsi::tape {

Result<detail::Condition> Drive::Impl::command(const char* op, const scsi::CommandSpec& spec,
                                               std::span<std::byte> data_in,
                                               std::span<const std::byte> data_out) {
  auto e = transport->run(spec, data_in, data_out);
  if (!e) return fail(op, e.error());
  return detail::classify(e->status, e->sense);
}

Result<void> Drive::Impl::simple(const char* op, const scsi::CommandSpec& spec,
                                 std::span<std::byte> data_in,
                                 std::span<const std::byte> data_out) {
  UISCSI_TRY(auto c, command(op, spec, data_in, data_out));
  if (c.code) return fail(op, c);
  return ok();
}

std::error_code Drive::Impl::fail(const char* op, const detail::Condition& c) {
  TapeError e;
  e.code = make_error_code(*c.code);
  e.operation = op;
  e.sense = c.sense;
  e.residue = c.residue;
  e.block = block;
  e.file = file;
  last_error = std::move(e);
  return last_error->code;
}

std::error_code Drive::Impl::fail(const char* op, std::error_code code) {
  TapeError e;
  e.code = code;
  e.operation = op;
  e.block = block;
  e.file = file;
  last_error = std::move(e);
  return code;
}

Result<void> Drive::Impl::settle() {
  if (!buffered.empty() || early_warning_pending) {
    auto f = flush();
    if (!f) return f.error();
  }
  return cancel_read_ahead();
}

Drive::Impl::~Impl() {
  for (auto& p : prefetched)
    (void)p->result.wait();
  for (auto& w : buffered)
    (void)w->result.wait();
}

// ---- Drive ----

Drive::Drive(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Drive::Drive(Drive&&) noexcept = default;
Drive& Drive::operator=(Drive&&) noexcept = default;

Drive::~Drive() {
  if (!impl_) return;
  (void)impl_->settle();
}

const DriveInfo& Drive::info() const {
  return impl_->info;
}
const MediumState& Drive::medium() const {
  return impl_->medium;
}
const DriveOptions& Drive::options() const {
  return impl_->options;
}
const std::optional<TapeError>& Drive::last_error() const {
  return impl_->last_error;
}

Result<Record> Drive::read(std::span<std::byte> buffer) {
  return impl_->read(buffer);
}
Result<WriteStatus> Drive::write(std::span<const std::byte> data) {
  return impl_->write(data);
}
Result<WriteStatus> Drive::write_filemarks(std::uint32_t count) {
  return impl_->write_marks(count, false);
}
Result<WriteStatus> Drive::write_setmarks(std::uint32_t count) {
  return impl_->write_marks(count, true);
}
Result<WriteStatus> Drive::flush() {
  return impl_->flush();
}

Result<void> Drive::erase(bool long_erase) {
  UISCSI_TRY_VOID(impl_->settle());
  return impl_->simple("ERASE(6)", scsi::erase6(long_erase));
}

Result<void> Drive::lock() {
  UISCSI_TRY_VOID(impl_->settle());
  return impl_->simple("PREVENT ALLOW MEDIUM REMOVAL", scsi::prevent_allow_medium_removal(true));
}

Result<void> Drive::unlock() {
  UISCSI_TRY_VOID(impl_->settle());
  return impl_->simple("PREVENT ALLOW MEDIUM REMOVAL", scsi::prevent_allow_medium_removal(false));
}

Result<MediumState> Drive::refresh_medium_state() {
  UISCSI_TRY_VOID(impl_->settle());
  return impl_->refresh_medium_state();
}

}  // namespace uiscsi::tape
