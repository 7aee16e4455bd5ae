// DiskLu internals shared by its source files (internal to src/target):
//   disk_lu.cpp          construction, execute() and its gate (unit attentions, reservation
//                        conflicts), nexus and reset events, resize
//   disk_commands.cpp    the command table and REPORT SUPPORTED OPERATION CODES
//   disk_info.cpp        INQUIRY, REPORT LUNS, REQUEST SENSE, READ CAPACITY, TEST UNIT READY,
//                        START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL
//   disk_io.cpp          the medium access commands
//   disk_mode_pages.cpp  MODE SENSE / MODE SELECT and the page set
//   disk_pr.cpp          PERSISTENT RESERVE IN/OUT, RESERVE / RELEASE
//
// Locking: state_mutex guards nexuses, unit attentions, reservations and mode pages and is only
// held for short bookkeeping, never across store I/O. io_mutex is taken shared by every command
// that touches the medium and exclusively by COMPARE AND WRITE (whose compare and write must be
// atomic, SBC-3 5.2) and resize(). Hot flags read by every command (D_SENSE, SWP, WCE, "is there
// any unit attention or reservation at all") are atomics mirrored from the guarded state.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/bytes.hpp"
#include "target/disk_lu.hpp"
#include "target/disk_mode_pages.hpp"
#include "target/lu_sense.hpp"
#include "target/reservations.hpp"

namespace uiscsi::target {

// A pending unit attention condition (sense key UNIT ATTENTION with this ASC/ASCQ).
struct UnitAttention {
  std::uint8_t asc = 0;
  std::uint8_t ascq = 0;
  bool operator==(const UnitAttention&) const = default;
};

struct NexusState {
  Nexus nexus;
  InitiatorPort port;
  std::vector<UnitAttention> attentions;  // reported front first
  bool prevent = false;                   // PREVENT ALLOW MEDIUM REMOVAL (SPC-4 6.15)
};

// How a command fares while another I_T nexus holds a reservation (see reservations.hpp);
// START STOP UNIT and PREVENT ALLOW MEDIUM REMOVAL depend on their CDB.
enum class PrClass : std::uint8_t { allowed, read, write, start_stop, prevent };

struct CommandInfo;

// One command being executed: the ScsiCommand and its CDB cut to the opcode's length.
struct Command {
  const ScsiCommand& in;
  std::span<const std::byte> cdb;
  const CommandInfo& info;

  [[nodiscard]] std::uint8_t u8(std::size_t i) const {
    return std::to_integer<std::uint8_t>(cdb[i]);
  }
  [[nodiscard]] std::uint16_t be16(std::size_t i) const { return core::load_be16(&cdb[i]); }
  [[nodiscard]] std::uint32_t be32(std::size_t i) const { return core::load_be32(&cdb[i]); }
  [[nodiscard]] std::uint64_t be64(std::size_t i) const { return core::load_be64(&cdb[i]); }
};

struct DiskLu::Impl {
  using Handler = ScsiResult (Impl::*)(const Command&);

  Impl(DiskLuConfig c, std::unique_ptr<BlockStore> s, std::vector<std::byte> naa_value);

  // ---- configuration (immutable after construction) ----
  DiskLuConfig config;
  std::unique_ptr<BlockStore> store;
  std::vector<std::byte> naa;
  std::uint32_t block_size = 512;
  bool thin = false;             // thin provisioning exposed (LBPME, UNMAP...)
  bool fixed_read_only = false;  // config.read_only or a read-only store
  std::uint32_t max_transfer_blocks = 0;
  std::uint32_t optimal_transfer_blocks = 0;
  std::uint16_t optimal_granularity = 1;  // blocks per physical block

  // ---- mutable state ----
  std::atomic<std::uint64_t> blocks{0};
  std::shared_mutex io_mutex;
  std::mutex state_mutex;
  std::map<std::uint64_t, NexusState> nexuses;  // by Nexus::id; guarded by state_mutex
  std::vector<std::pair<InitiatorPort, UnitAttention>> offline_attentions;  // guarded
  std::size_t pending_attentions = 0;                                       // guarded
  Reservations reservations;                                                // guarded
  ModePages mode_pages;                                                     // guarded
  std::atomic<bool> d_sense{false};
  std::atomic<bool> swp{false};
  std::atomic<bool> wce{true};
  std::atomic<bool> gate_needed{false};  // any pending unit attention or reservation state

  // ---- dispatch (disk_lu.cpp) ----
  ScsiResult execute(const ScsiCommand& c);
  std::optional<ScsiResult> gate(const ScsiCommand& c, const CommandInfo* info);

  // ---- unit attentions and state (state_mutex held) ----
  NexusState& nexus_state(const Nexus& n);
  void post(NexusState& n, UnitAttention ua);
  void post_all(UnitAttention ua, std::optional<std::uint64_t> except_id);
  void post_port(const InitiatorPort& port, UnitAttention ua);
  std::optional<UnitAttention> take_attention(NexusState& n);
  void reset_state(UnitAttention ua);
  void refresh_gate();
  void apply_mode_flags();

  // ---- results ----
  [[nodiscard]] ScsiResult check(const scsi::SenseData& s) const;
  [[nodiscard]] std::vector<std::byte> sense_bytes(const scsi::SenseData& s, bool descriptor) const;
  [[nodiscard]] static ScsiResult conflict();
  [[nodiscard]] ScsiResult store_error(std::error_code ec, bool writing, std::uint64_t lba) const;
  [[nodiscard]] bool write_protected() const;
  [[nodiscard]] ScsiResult protect_error() const;
  [[nodiscard]] std::uint64_t capacity() const { return blocks.load(std::memory_order_acquire); }
  // lba .. lba + count - 1 lies on the medium (count 0: lba <= capacity).
  [[nodiscard]] bool in_range(std::uint64_t lba, std::uint64_t count) const;
  // Cuts data_in to a CDB ALLOCATION LENGTH (SPC-4 4.2.5.6).
  static void limit(ScsiResult& r, std::size_t allocation_length);

  // ---- handlers ----
  // disk_info.cpp
  ScsiResult test_unit_ready(const Command& c);
  ScsiResult inquiry(const Command& c);
  ScsiResult report_luns(const Command& c);
  ScsiResult request_sense(const Command& c);
  ScsiResult read_capacity10(const Command& c);
  ScsiResult read_capacity16(const Command& c);
  ScsiResult start_stop_unit(const Command& c);
  ScsiResult prevent_allow(const Command& c);
  // disk_io.cpp
  ScsiResult read(const Command& c);
  ScsiResult write(const Command& c);
  ScsiResult write_and_verify(const Command& c);
  ScsiResult verify(const Command& c);
  ScsiResult write_same(const Command& c);
  ScsiResult unmap(const Command& c);
  ScsiResult compare_and_write(const Command& c);
  ScsiResult synchronize_cache(const Command& c);
  ScsiResult prefetch(const Command& c);
  ScsiResult get_lba_status(const Command& c);
  // disk_mode_pages.cpp
  ScsiResult mode_sense(const Command& c);
  ScsiResult mode_select(const Command& c);
  // disk_pr.cpp
  ScsiResult persistent_reserve_in(const Command& c);
  ScsiResult persistent_reserve_out(const Command& c);
  ScsiResult reserve(const Command& c);
  ScsiResult release(const Command& c);
  // disk_commands.cpp
  ScsiResult report_supported_opcodes(const Command& c);

  // disk_info.cpp helpers
  [[nodiscard]] Result<std::vector<std::byte>> vpd_page(std::uint8_t page) const;
};

// One supported command (disk_commands.cpp).
struct CommandInfo {
  std::uint8_t opcode = 0;
  std::int16_t service_action = -1;  // -1: the opcode has no service actions
  std::uint8_t cdb_length = 0;
  DiskLu::Impl::Handler handler = nullptr;
  bool ua_exempt = false;  // INQUIRY, REPORT LUNS, REQUEST SENSE (SAM-5 5.14)
  PrClass pr = PrClass::write;
  bool spc2_allowed = false;              // may run while another nexus holds an SPC-2 reservation
  bool thin_only = false;                 // only with thin provisioning (UNMAP)
  std::uint32_t nominal_timeout = 0;      // seconds, REPORT SUPPORTED OPERATION CODES RCTD
  std::uint32_t recommended_timeout = 0;  // seconds
  std::array<std::uint8_t, 16> usage{};   // CDB USAGE DATA (SPC-4 6.35.3)
};

struct CommandLookup {
  const CommandInfo* info = nullptr;
  bool opcode_known = false;  // the opcode is supported, its service action is not
};
// The command for `opcode` (and service action, for opcodes that have them).
CommandLookup find_command(std::uint8_t opcode, std::uint8_t service_action, bool thin);

}  // namespace uiscsi::target
