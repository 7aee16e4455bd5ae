// Drive::open (TEST UNIT READY polling, INQUIRY, READ BLOCK LIMITS, MODE SENSE, READ POSITION),
// mode pages as read-modify-write (SPC-4 7.5, SSC-3 8.3) and the information commands.
#include <array>
#include <chrono>

#include "tape/drive_impl.hpp"
#include "tape/ready_wait.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data_build.hpp"
#include "uiscsi/session.hpp"

namespace uiscsi::tape {
namespace {

constexpr auto kTape = scsi::PeripheralDeviceType::sequential_access;
constexpr std::uint8_t kModeAllocation = 255;

}  // namespace

// TEST UNIT READY until GOOD, within the options' bounds (tape/ready_wait.hpp).
Result<void> Drive::Impl::wait_ready() {
  auto c = detail::wait_until_ready(
      *transport, {options.ready_attempts, options.ready_interval, options.ready_timeout});
  if (!c) return fail("TEST UNIT READY", c.error());
  if (c->code) return fail("TEST UNIT READY", *c);
  return ok();
}

Result<scsi::ModeParameters> Drive::Impl::mode_sense(std::uint8_t page) {
  std::array<std::byte, kModeAllocation> buf{};
  UISCSI_TRY(auto spec, scsi::mode_sense6(page, 0, kModeAllocation));
  auto e = transport->run(spec, buf, {});
  if (!e) return fail("MODE SENSE(6)", e.error());
  auto c = detail::classify(e->status, e->sense);
  if (c.code) return fail("MODE SENSE(6)", c);
  auto m = scsi::parse_mode_sense6(std::span(buf).first(e->data_in), kTape);
  if (!m) return fail("MODE SENSE(6)", m.error());
  return m;
}

Result<void> Drive::Impl::mode_select(const scsi::ModeParameters& m) {
  UISCSI_TRY(auto list, scsi::build_mode_parameters6(m, kTape, scsi::ModeDataUse::select));
  return simple("MODE SELECT(6)", scsi::mode_select6(static_cast<std::uint8_t>(list.size())), {},
                list);
}

Result<MediumState> Drive::Impl::refresh_medium_state() {
  UISCSI_TRY(auto m, mode_sense(scsi::mode_page::kDataCompression));
  MediumState s;
  s.write_protected = m.header.write_protected();
  s.buffered_mode = static_cast<std::uint8_t>((m.header.device_specific >> 4) & 0x7);
  if (!m.block_descriptors.empty()) {
    s.block_size = m.block_descriptors[0].block_length;
    s.density_code = m.block_descriptors[0].density_code;
  }
  medium = s;
  return s;
}

Result<Drive> Drive::open(Session& session, Lun lun, DriveOptions options) {
  auto transport = session_transport(session, lun, options.command_timeout);
  return open(std::move(transport), options);
}

Result<Drive> Drive::open(std::unique_ptr<Transport> transport, DriveOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->transport = std::move(transport);
  impl->options = options;
  UISCSI_TRY_VOID(impl->wait_ready());

  std::array<std::byte, 255> inq{};
  UISCSI_TRY_VOID(impl->simple("INQUIRY", scsi::inquiry(inq.size()), inq));
  auto inquiry = scsi::parse_inquiry(inq);
  if (!inquiry) return impl->fail("INQUIRY", inquiry.error());
  if (inquiry->device_type != kTape || inquiry->peripheral_qualifier != 0)
    return impl->fail("INQUIRY", make_error_code(tape_errc::not_a_tape));
  impl->info.inquiry = std::move(*inquiry);

  std::array<std::byte, 6> rbl{};
  UISCSI_TRY_VOID(impl->simple("READ BLOCK LIMITS", scsi::read_block_limits(), rbl));
  auto limits = scsi::parse_read_block_limits(rbl);
  if (!limits) return impl->fail("READ BLOCK LIMITS", limits.error());
  impl->info.limits = *limits;

  UISCSI_TRY_VOID(impl->refresh_medium_state());
  Drive drive(std::move(impl));
  if (options.block_size && *options.block_size != drive.impl_->medium.block_size)
    UISCSI_TRY_VOID(drive.set_block_size(*options.block_size));
  UISCSI_TRY_VOID(drive.impl_->refresh_position());
  return drive;
}

// SSC-3 8.3.3: the block descriptor's BLOCK LENGTH selects fixed (non-zero) or variable (0)
// mode. Read-modify-write: the header and the descriptor come back as MODE SENSE returned
// them (density, buffered mode kept; WP is ignored by MODE SELECT), only BLOCK LENGTH changes,
// and no page is sent, so no page changes.
Result<void> Drive::set_block_size(std::uint32_t bytes) {
  Impl& d = *impl_;
  const auto& l = d.info.limits;
  const bool fits =
      bytes == 0 || ((l.max_block_length == 0 || bytes <= l.max_block_length) &&
                     bytes >= l.min_block_length && bytes % (1u << l.granularity) == 0);
  if (!fits) return d.fail("MODE SELECT(6)", make_error_code(tape_errc::invalid_block_size));
  UISCSI_TRY_VOID(d.settle());
  UISCSI_TRY(auto m, d.mode_sense(scsi::mode_page::kDataCompression));
  m.pages.clear();
  if (m.block_descriptors.empty()) m.block_descriptors.push_back({});
  m.block_descriptors.resize(1);
  m.block_descriptors[0].block_length = bytes;
  m.block_descriptors[0].number_of_blocks = 0;  // SSC-3: 0 for sequential-access devices
  m.header.medium_type = 0;
  UISCSI_TRY_VOID(d.mode_select(m));
  UISCSI_TRY(auto state, d.refresh_medium_state());
  if (state.block_size != bytes)
    return d.fail("MODE SELECT(6)", make_error_code(tape_errc::invalid_block_size));
  return ok();
}

// Data compression page 0Fh (SSC-3 8.3.2): DCE is byte 2 bit 7, DDE byte 3 bit 7 (DCC, byte 2
// bit 6, is read-only). Read-modify-write of the page as MODE SENSE returned it; no block
// descriptor is sent, so the block size and density cannot change.
Result<void> Drive::set_compression(bool enable, std::optional<bool> decompress) {
  Impl& d = *impl_;
  UISCSI_TRY_VOID(d.settle());
  UISCSI_TRY(auto m, d.mode_sense(scsi::mode_page::kDataCompression));
  const scsi::ModePage* page = m.find_page(scsi::mode_page::kDataCompression);
  if (page == nullptr) return d.fail("MODE SENSE(6)", make_error_code(tape_errc::illegal_request));
  auto changed = scsi::with_data_compression(*page, enable, decompress);
  if (!changed) return d.fail("MODE SELECT(6)", changed.error());
  scsi::ModeParameters out;
  out.header = m.header;
  out.header.medium_type = 0;
  out.pages.push_back(std::move(*changed));
  UISCSI_TRY_VOID(d.mode_select(out));
  return d.refresh_medium_state().has_value() ? ok() : Result<void>(d.last_error->code);
}

Result<scsi::DataCompressionPage> Drive::compression() {
  Impl& d = *impl_;
  UISCSI_TRY_VOID(d.settle());
  UISCSI_TRY(auto m, d.mode_sense(scsi::mode_page::kDataCompression));
  const scsi::ModePage* page = m.find_page(scsi::mode_page::kDataCompression);
  if (page == nullptr) return d.fail("MODE SENSE(6)", make_error_code(tape_errc::illegal_request));
  auto p = scsi::parse_data_compression_page(*page);
  if (!p) return d.fail("MODE SENSE(6)", p.error());
  return p;
}

Result<std::vector<scsi::DensityDescriptor>> Drive::densities(bool media) {
  Impl& d = *impl_;
  UISCSI_TRY_VOID(d.settle());
  std::vector<std::byte> buf(8192);
  auto e = d.transport->run(scsi::report_density_support(media, 8192), buf, {});
  if (!e) return d.fail("REPORT DENSITY SUPPORT", e.error());
  auto c = detail::classify(e->status, e->sense);
  if (c.code) return d.fail("REPORT DENSITY SUPPORT", c);
  auto r = scsi::parse_report_density_support(std::span(buf).first(e->data_in));
  if (!r) return d.fail("REPORT DENSITY SUPPORT", r.error());
  return std::move(r->descriptors);
}

Result<std::vector<std::uint8_t>> Drive::tape_alerts() {
  Impl& d = *impl_;
  UISCSI_TRY_VOID(d.settle());
  std::vector<std::byte> buf(1024);
  UISCSI_TRY(auto spec, scsi::log_sense(scsi::kTapeAlertLogPage, 0, 1024));
  auto e = d.transport->run(spec, buf, {});
  if (!e) return d.fail("LOG SENSE", e.error());
  auto c = detail::classify(e->status, e->sense);
  if (c.code) return d.fail("LOG SENSE", c);
  auto page = scsi::parse_log_page(std::span(buf).first(e->data_in));
  if (!page) return d.fail("LOG SENSE", page.error());
  auto flags = scsi::tape_alert_flags(*page);
  if (!flags) return d.fail("LOG SENSE", flags.error());
  return flags;
}

}  // namespace uiscsi::tape
