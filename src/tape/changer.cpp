// Changer::open (TEST UNIT READY polling, INQUIRY, the element map), the command helpers, the
// changer's sense conditions, and ChangerError::message().
#include <algorithm>
#include <array>

#include "tape/changer_impl.hpp"
#include "tape/ready_wait.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/session.hpp"

namespace uiscsi::tape {
namespace {

using scsi::ElementType;

constexpr std::uint8_t kModeAllocation = 255;
constexpr std::uint16_t kAllElements = 0xffff;  // NUMBER OF ELEMENTS: as many as there are
// A command answered with UNIT ATTENTION was not processed (SAM-5 5.14): it is sent again,
// this many times in all. Libraries post 28/01 whenever an operator opens a mail slot.
constexpr int kUnitAttentionRetries = 4;

}  // namespace

namespace detail {

Condition refine_for_changer(Condition c) {
  if (!c.code || !c.sense || *c.code == tape_errc::deferred_error ||
      *c.code == tape_errc::unit_attention)
    return c;
  const auto asc = c.sense->asc, ascq = c.sense->ascq;
  if (asc == 0x21 && ascq == 0x01) c.code = tape_errc::invalid_element;
  if (asc == 0x3b && ascq == 0x0d) c.code = tape_errc::destination_full;
  if (asc == 0x3b && ascq == 0x0e) c.code = tape_errc::source_empty;
  if (asc == 0x53 && (ascq == 0x02 || ascq == 0x03)) c.code = tape_errc::removal_prevented;
  return c;
}

}  // namespace detail

// ---- command helpers ----

Result<detail::Condition> Changer::Impl::command(const char* op, const scsi::CommandSpec& spec,
                                                 std::span<std::byte> data_in,
                                                 std::optional<std::uint16_t> source,
                                                 std::optional<std::uint16_t> destination) {
  detail::Condition c;
  for (int attempt = 0; attempt < kUnitAttentionRetries; ++attempt) {
    auto e = transport->run(spec, data_in, {});
    if (!e) return fail(op, e.error(), source, destination);
    data_in_bytes = e->data_in;
    c = detail::refine_for_changer(detail::classify(e->status, e->sense));
    if (c.code != tape_errc::unit_attention) break;
  }
  return c;
}

Result<void> Changer::Impl::simple(const char* op, const scsi::CommandSpec& spec,
                                   std::optional<std::uint16_t> source,
                                   std::optional<std::uint16_t> destination) {
  UISCSI_TRY(auto c, command(op, spec, {}, source, destination));
  if (c.code) return fail(op, c, source, destination);
  return ok();
}

std::error_code Changer::Impl::fail(const char* op, const detail::Condition& c,
                                    std::optional<std::uint16_t> source,
                                    std::optional<std::uint16_t> destination) {
  ChangerError e;
  e.code = make_error_code(*c.code);
  e.operation = op;
  e.source = source;
  e.destination = destination;
  e.sense = c.sense;
  last_error = std::move(e);
  return last_error->code;
}

std::error_code Changer::Impl::fail(const char* op, std::error_code code,
                                    std::optional<std::uint16_t> source,
                                    std::optional<std::uint16_t> destination) {
  ChangerError e;
  e.code = code;
  e.operation = op;
  e.source = source;
  e.destination = destination;
  last_error = std::move(e);
  return code;
}

// ---- the element map ----

const scsi::ElementRange& Changer::Impl::range_of(ElementType type) const {
  switch (type) {
    case ElementType::medium_transport:
      return map.medium_transport;
    case ElementType::import_export:
      return map.import_export;
    case ElementType::data_transfer:
      return map.data_transfer;
    default:
      return map.storage;
  }
}

std::uint16_t Changer::Impl::default_transport() const {
  return map.medium_transport.count > 0 ? map.medium_transport.first : 0;
}

Result<std::uint16_t> Changer::Impl::address_of(const char* op, ElementType type, std::size_t i) {
  const auto& r = range_of(type);
  if (i >= r.count) return fail(op, make_error_code(tape_errc::no_such_element));
  return static_cast<std::uint16_t>(r.first + i);
}

// SMC-3 7.3.3: the element address assignment page gives every type's first address and
// count. A changer without the page (ILLEGAL REQUEST, or a reply without it) is asked with
// READ ELEMENT STATUS of all types instead.
Result<void> Changer::Impl::read_map() {
  std::array<std::byte, kModeAllocation> buf{};
  scsi::ModeSenseOptions o;
  o.dbd = true;  // a changer has no block descriptors (SMC-3 7.3.1)
  UISCSI_TRY(auto spec,
             scsi::mode_sense6(scsi::mode_page::kElementAddressAssignment, 0, kModeAllocation, o));
  UISCSI_TRY(auto c, command("MODE SENSE(6)", spec, buf));
  if (c.code && *c.code != tape_errc::illegal_request) return fail("MODE SENSE(6)", c);
  if (!c.code) {
    auto m = scsi::parse_mode_sense6(std::span(buf).first(data_in_bytes),
                                     scsi::PeripheralDeviceType::medium_changer);
    const scsi::ModePage* page =
        m ? m->find_page(scsi::mode_page::kElementAddressAssignment) : nullptr;
    if (page != nullptr) {
      if (auto a = scsi::parse_element_address_page(*page)) {
        map = *a;
        return ok();
      }
    }
  }
  return discover_map();
}

// Every element of every type, without volume tags: each type's range runs from its lowest
// address over as many elements as were reported (SMC-3 4.2: a type's addresses are
// contiguous).
Result<void> Changer::Impl::discover_map() {
  UISCSI_TRY(auto all, read_status_once(ElementType::all, 0, kAllElements, false));
  scsi::ElementAddressAssignment found;
  for (auto type : {ElementType::medium_transport, ElementType::storage, ElementType::import_export,
                    ElementType::data_transfer}) {
    std::vector<std::uint16_t> addresses;
    for (const auto& e : all.elements)
      if (e.type == type) addresses.push_back(e.address);
    if (addresses.empty()) continue;
    scsi::ElementRange range{*std::min_element(addresses.begin(), addresses.end()),
                             static_cast<std::uint16_t>(addresses.size())};
    if (type == ElementType::medium_transport) found.medium_transport = range;
    if (type == ElementType::storage) found.storage = range;
    if (type == ElementType::import_export) found.import_export = range;
    if (type == ElementType::data_transfer) found.data_transfer = range;
  }
  map = found;
  return ok();
}

// ---- Changer ----

Result<Changer> Changer::open(Session& session, Lun lun, ChangerOptions options) {
  return open(session_transport(session, lun, options.command_timeout), options);
}

Result<Changer> Changer::open(std::unique_ptr<Transport> transport, ChangerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->transport = std::move(transport);
  impl->options = options;
  impl->voltag = options.barcodes;
  // INQUIRY first (SAM-5: it is answered through a pending unit attention and without a
  // medium), so a LUN that is no changer is told at once, not after the ready loop's bounds.
  std::array<std::byte, 255> inq{};
  UISCSI_TRY(auto c, impl->command("INQUIRY", scsi::inquiry(inq.size()), inq));
  if (c.code) return impl->fail("INQUIRY", c);
  auto inquiry = scsi::parse_inquiry(std::span(inq).first(impl->data_in_bytes));
  if (!inquiry) return impl->fail("INQUIRY", inquiry.error());
  if (inquiry->device_type != scsi::PeripheralDeviceType::medium_changer ||
      inquiry->peripheral_qualifier != 0)
    return impl->fail("INQUIRY", make_error_code(tape_errc::not_a_changer));
  impl->inquiry = std::move(*inquiry);
  auto ready = detail::wait_until_ready(
      *impl->transport, {options.ready_attempts, options.ready_interval, options.ready_timeout});
  if (!ready) return impl->fail("TEST UNIT READY", ready.error());
  if (ready->code) return impl->fail("TEST UNIT READY", *ready);

  UISCSI_TRY_VOID(impl->read_map());
  return Changer(std::move(impl));
}

Changer::Changer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Changer::Changer(Changer&&) noexcept = default;
Changer& Changer::operator=(Changer&&) noexcept = default;
Changer::~Changer() = default;

const scsi::InquiryData& Changer::inquiry() const {
  return impl_->inquiry;
}
const scsi::ElementAddressAssignment& Changer::element_map() const {
  return impl_->map;
}
const ChangerOptions& Changer::options() const {
  return impl_->options;
}
bool Changer::barcodes_supported() const {
  return impl_->voltag;
}
const std::optional<ChangerError>& Changer::last_error() const {
  return impl_->last_error;
}

const Element* ChangerStatus::find(std::uint16_t address) const {
  for (const auto* list : {&transports, &slots, &import_export, &drives}) {
    for (const auto& e : *list)
      if (e.address == address) return &e;
  }
  return nullptr;
}

std::string ChangerError::message() const {
  std::string out = "changer: ";
  if (!operation.empty()) out += operation;
  if (source && destination) {
    out += " " + std::to_string(*source) + " -> " + std::to_string(*destination);
  } else if (destination) {
    out += " to " + std::to_string(*destination);
  } else if (source) {
    out += " " + std::to_string(*source);
  }
  if (!operation.empty()) out += ": ";
  out += code.message();
  if (sense) out += " (" + scsi::describe(*sense) + ")";
  return out;
}

}  // namespace uiscsi::tape
