// DiskLu: construction, command dispatch, unit attentions and task management events.
#include "target/disk_lu.hpp"

#include <algorithm>
#include <cerrno>

#include "target/disk_lu_impl.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::target {
namespace {

constexpr std::size_t kMaxAttentions = 16;         // per nexus; later ones are dropped
constexpr std::size_t kMaxOfflineAttentions = 64;  // for initiator ports without a nexus

constexpr UnitAttention kPowerOnResetOrBdr{0x29, 0x00};  // new I_T nexus (SAM-5 6.3.1)
constexpr UnitAttention kPowerOnOccurred{0x29, 0x01};    // target cold reset = power on
constexpr UnitAttention kScsiBusReset{0x29, 0x02};       // target warm reset = hard reset
constexpr UnitAttention kBusDeviceReset{0x29, 0x03};     // LOGICAL UNIT RESET (SAM-5 6.3.3)
constexpr UnitAttention kCapacityChanged{0x2a, 0x09};    // SBC-3 4.10

InitiatorPort port_of(const Nexus& n) {
  return InitiatorPort{n.initiator_name, n.isid};
}

bool printable(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

}  // namespace

// ---- sense ----------------------------------------------------------------------------------

namespace sense {
SenseData from_store_error(std::error_code ec, bool writing, std::uint64_t lba) {
  if (ec.category() == std::system_category()) {
    switch (ec.value()) {
      case ENOSPC:
      case EDQUOT:
        return make(SenseKey::data_protect, 0x27, 0x07);
      case EROFS:
      case EPERM:
      case EACCES:
        if (writing) return write_protected(false);
        break;
      case EIO:
      case ENXIO:
      case ENODATA:
      case EBADMSG:
      case EFBIG: {
        SenseData s = writing ? make(SenseKey::medium_error, 0x0c, 0x00)
                              : make(SenseKey::medium_error, 0x11, 0x00);
        s.information_valid = true;
        s.information = lba;
        return s;
      }
      default:
        break;
    }
  }
  return make(SenseKey::hardware_error, 0x44, 0x00);
}
}  // namespace sense

// ---- construction ----------------------------------------------------------------------------

DiskLu::Impl::Impl(DiskLuConfig c, std::unique_ptr<BlockStore> s, std::vector<std::byte> naa_value)
    : config(std::move(c)), store(std::move(s)), naa(std::move(naa_value)) {
  block_size = store->block_size();
  blocks.store(store->block_count());
  thin = config.thin_provisioning && store->supports_discard();
  fixed_read_only = config.read_only || store->read_only();
  max_transfer_blocks = std::max<std::uint32_t>(1, config.max_transfer_bytes / block_size);
  optimal_transfer_blocks = config.optimal_transfer_bytes / block_size;
  optimal_granularity = static_cast<std::uint16_t>(1u << config.physical_block_exponent);
  apply_mode_flags();
}

Result<std::unique_ptr<DiskLu>> DiskLu::create(DiskLuConfig config,
                                               std::unique_ptr<BlockStore> store) {
  if (!store || !valid_block_size(store->block_size()) || store->block_count() == 0) {
    return errc::invalid_argument;
  }
  if (config.vendor.size() > 8 || config.product.size() > 16 || config.revision.size() > 4 ||
      config.serial.empty() || config.serial.size() > 200 || !printable(config.vendor) ||
      !printable(config.product) || !printable(config.revision) || !printable(config.serial)) {
    return errc::invalid_argument;
  }
  if (config.max_transfer_bytes < store->block_size() || config.max_unmap_blocks == 0 ||
      config.max_unmap_descriptors == 0 || config.max_write_same_blocks == 0 ||
      config.physical_block_exponent > 15) {
    return errc::invalid_argument;
  }
  std::vector<std::byte> naa = config.naa;
  if (naa.empty()) {
    naa = scsi::locally_assigned_naa(config.vendor, config.product, config.serial);
  } else if (naa.size() != 8 && naa.size() != 16) {
    return errc::invalid_argument;
  }
  auto impl = std::make_unique<Impl>(std::move(config), std::move(store), std::move(naa));
  return std::unique_ptr<DiskLu>(new DiskLu(std::move(impl)));
}

DiskLu::DiskLu(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
DiskLu::~DiskLu() = default;

bool DiskLu::blocking() const {
  return impl_->store->blocking();
}
std::uint64_t DiskLu::block_count() const {
  return impl_->capacity();
}
std::uint32_t DiskLu::block_size() const {
  return impl_->block_size;
}

ScsiResult DiskLu::execute(const ScsiCommand& command) {
  return impl_->execute(command);
}

// ---- dispatch --------------------------------------------------------------------------------

// SAM-5 5.14 / SPC-4: a pending unit attention ends any command but INQUIRY, REPORT LUNS and
// REQUEST SENSE (checked before the opcode, as LIO and tgtd do); then an unknown opcode; then a
// reservation conflict; then the command's own checks.
ScsiResult DiskLu::Impl::execute(const ScsiCommand& c) {
  if (c.cdb.empty()) return check(sense::invalid_opcode());
  const std::uint8_t op = std::to_integer<std::uint8_t>(c.cdb[0]);
  const std::uint8_t sa = c.cdb.size() > 1 ? std::to_integer<std::uint8_t>(c.cdb[1]) & 0x1f : 0;
  const CommandLookup found = find_command(op, sa, thin);
  if (gate_needed.load(std::memory_order_acquire)) {
    if (auto stop = gate(c, found.info)) return std::move(*stop);
  }
  if (found.info == nullptr) {
    // An opcode with service actions but not this one: INVALID FIELD IN CDB on the SERVICE
    // ACTION field (SPC-4 4.2.5.2; libiscsi reads it as "not implemented").
    return check(found.opcode_known ? sense::invalid_cdb(1, 4) : sense::invalid_opcode());
  }
  const CommandInfo& info = *found.info;
  if (c.cdb.size() < info.cdb_length) return check(sense::invalid_cdb(0));
  const auto cdb = c.cdb.first(info.cdb_length);
  // CONTROL byte: NACA = 1 needs ACA, which this LU does not support (SAM-5 5.2).
  const std::size_t control = info.cdb_length - 1u;
  if ((std::to_integer<std::uint8_t>(cdb[control]) & 0x04) != 0) {
    return check(sense::invalid_cdb(static_cast<std::uint16_t>(control), 2));
  }
  const Command cmd{c, cdb, info};
  return (this->*info.handler)(cmd);
}

std::optional<ScsiResult> DiskLu::Impl::gate(const ScsiCommand& c, const CommandInfo* info) {
  std::lock_guard lock(state_mutex);
  NexusState& ns = nexus_state(c.nexus);
  if (info == nullptr || !info->ua_exempt) {
    if (auto ua = take_attention(ns)) return check(sense::unit_attention(ua->asc, ua->ascq));
  }
  if (info == nullptr) return std::nullopt;
  ReservationAccess access = ReservationAccess::allowed;
  bool spc2_allowed = info->spc2_allowed;
  const auto byte = [&](std::size_t i) {
    return i < c.cdb.size() ? std::to_integer<std::uint8_t>(c.cdb[i]) : std::uint8_t{0};
  };
  switch (info->pr) {
    case PrClass::allowed:
      break;
    case PrClass::read:
      access = ReservationAccess::read;
      break;
    case PrClass::write:
      access = ReservationAccess::write;
      break;
    case PrClass::start_stop: {
      // START=1 with POWER CONDITION 0 is allowed under every reservation (SBC-3 table).
      const bool start = (byte(4) & 0x01) != 0 && (byte(4) >> 4) == 0;
      access = start ? ReservationAccess::allowed : ReservationAccess::write;
      spc2_allowed = start;
      break;
    }
    case PrClass::prevent: {
      // PREVENT = 0 is allowed under every reservation (SPC-4 and SPC-2 tables).
      const bool allow = (byte(4) & 0x03) == 0;
      access = allow ? ReservationAccess::allowed : ReservationAccess::write;
      spc2_allowed = allow;
      break;
    }
  }
  if (reservations.conflicts(ns.port, access, spc2_allowed)) return conflict();
  return std::nullopt;
}

// ---- unit attentions -------------------------------------------------------------------------

NexusState& DiskLu::Impl::nexus_state(const Nexus& n) {
  auto it = nexuses.find(n.id);
  if (it == nexuses.end()) {
    // A nexus the engine never announced: track it without a unit attention.
    it = nexuses.emplace(n.id, NexusState{n, port_of(n), {}, false}).first;
  }
  return it->second;
}

// Reset attentions (ASC 29h) go first and replace an older reset attention (SAM-5 5.14: the
// most recent reset is what the application client needs to learn); others queue once each.
void DiskLu::Impl::post(NexusState& n, UnitAttention ua) {
  auto& q = n.attentions;
  const std::size_t before = q.size();
  if (ua.asc == 0x29) {
    std::erase_if(q, [](const UnitAttention& x) { return x.asc == 0x29; });
    q.insert(q.begin(), ua);
  } else if (std::find(q.begin(), q.end(), ua) == q.end() && q.size() < kMaxAttentions) {
    q.push_back(ua);
  }
  pending_attentions = pending_attentions + q.size() - before;
}

void DiskLu::Impl::post_all(UnitAttention ua, std::optional<std::uint64_t> except_id) {
  for (auto& [id, n] : nexuses) {
    if (except_id && id == *except_id) continue;
    post(n, ua);
  }
}

// A reservation attention is for an initiator port; one without a live nexus gets it when it
// logs in again (after its power on attention).
void DiskLu::Impl::post_port(const InitiatorPort& port, UnitAttention ua) {
  bool delivered = false;
  for (auto& [id, n] : nexuses) {
    if (n.port == port) {
      post(n, ua);
      delivered = true;
    }
  }
  if (!delivered && offline_attentions.size() < kMaxOfflineAttentions) {
    offline_attentions.emplace_back(port, ua);
  }
}

std::optional<UnitAttention> DiskLu::Impl::take_attention(NexusState& n) {
  if (n.attentions.empty()) return std::nullopt;
  const UnitAttention ua = n.attentions.front();
  n.attentions.erase(n.attentions.begin());
  --pending_attentions;
  refresh_gate();
  return ua;
}

void DiskLu::Impl::refresh_gate() {
  gate_needed.store(pending_attentions > 0 || reservations.active(), std::memory_order_release);
}

void DiskLu::Impl::apply_mode_flags() {
  d_sense.store(mode_pages.d_sense(), std::memory_order_relaxed);
  swp.store(mode_pages.swp(), std::memory_order_relaxed);
  wce.store(mode_pages.wce(), std::memory_order_relaxed);
}

// What a logical unit reset does (SAM-5 6.3.3), also part of the target resets: SPC-2
// reservations released, PREVENT state cleared, mode parameters back to their defaults (none
// are saveable), the reset attention for every nexus. Persistent reservations stay.
void DiskLu::Impl::reset_state(UnitAttention ua) {
  for (auto& [id, n] : nexuses) {
    n.prevent = false;
    post(n, ua);
  }
  reservations.reset();
  mode_pages.reset();
  apply_mode_flags();
}

void DiskLu::nexus_added(const Nexus& nexus) {
  Impl& m = *impl_;
  std::lock_guard lock(m.state_mutex);
  if (auto it = m.nexuses.find(nexus.id); it != m.nexuses.end()) {
    m.pending_attentions -= it->second.attentions.size();
    m.nexuses.erase(it);
  }
  NexusState& n = m.nexus_state(nexus);
  m.post(n, kPowerOnResetOrBdr);
  std::erase_if(m.offline_attentions, [&](const auto& entry) {
    if (!(entry.first == n.port)) return false;
    m.post(n, entry.second);
    return true;
  });
  m.refresh_gate();
}

void DiskLu::nexus_removed(const Nexus& nexus) {
  Impl& m = *impl_;
  std::lock_guard lock(m.state_mutex);
  if (auto it = m.nexuses.find(nexus.id); it != m.nexuses.end()) {
    m.pending_attentions -= it->second.attentions.size();
    m.nexuses.erase(it);
  }
  m.reservations.nexus_lost(port_of(nexus));
  m.refresh_gate();
}

void DiskLu::logical_unit_reset() {
  Impl& m = *impl_;
  std::lock_guard lock(m.state_mutex);
  m.reset_state(kBusDeviceReset);
  m.refresh_gate();
}

// RFC 7143 11.5.1: TARGET WARM RESET is a hard reset (SAM-5 6.3.2), TARGET COLD RESET adds a
// power on; both reset every logical unit.
void DiskLu::target_reset(bool cold) {
  Impl& m = *impl_;
  std::lock_guard lock(m.state_mutex);
  m.reset_state(cold ? kPowerOnOccurred : kScsiBusReset);
  if (cold) m.reservations.power_on();
  m.refresh_gate();
}

Result<void> DiskLu::resize(std::uint64_t block_count) {
  Impl& m = *impl_;
  {
    std::unique_lock io(m.io_mutex);
    UISCSI_TRY_VOID(m.store->resize(block_count));
    m.blocks.store(block_count, std::memory_order_release);
  }
  std::lock_guard lock(m.state_mutex);
  m.post_all(kCapacityChanged, std::nullopt);
  m.refresh_gate();
  return ok();
}

// ---- results ---------------------------------------------------------------------------------

std::vector<std::byte> DiskLu::Impl::sense_bytes(const scsi::SenseData& s, bool descriptor) const {
  return descriptor ? scsi::build_descriptor_sense(s) : scsi::build_fixed_sense(s);
}

// CHECK CONDITION with sense in the format the control page's D_SENSE selects (SPC-4 7.5.8).
ScsiResult DiskLu::Impl::check(const scsi::SenseData& s) const {
  ScsiResult r;
  r.status = 0x02;
  r.sense = sense_bytes(s, d_sense.load(std::memory_order_relaxed));
  return r;
}

ScsiResult DiskLu::Impl::conflict() {
  ScsiResult r;
  r.status = 0x18;  // RESERVATION CONFLICT
  return r;
}

ScsiResult DiskLu::Impl::store_error(std::error_code ec, bool writing, std::uint64_t lba) const {
  return check(sense::from_store_error(ec, writing, lba));
}

bool DiskLu::Impl::write_protected() const {
  return fixed_read_only || swp.load(std::memory_order_relaxed);
}

ScsiResult DiskLu::Impl::protect_error() const {
  return check(sense::write_protected(!fixed_read_only));
}

bool DiskLu::Impl::in_range(std::uint64_t lba, std::uint64_t count) const {
  const std::uint64_t cap = capacity();
  return lba <= cap && count <= cap - lba;
}

void DiskLu::Impl::limit(ScsiResult& r, std::size_t allocation_length) {
  if (r.data_in.size() > allocation_length) r.data_in.resize(allocation_length);
}

}  // namespace uiscsi::target
