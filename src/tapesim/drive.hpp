// Drive: an SSC-3 tape drive as a pure state machine around a Medium.
//
// Two ways in:
//   * execute(cdb, data_out, nexus): the SCSI entry point. The caller (a target logical unit,
//     a TCMU handler, a test) hands over a CDB and the Data-Out bytes and gets back the status,
//     fixed-format sense data and Data-In (see Response). Supported commands: TEST UNIT READY,
//     REWIND, REQUEST SENSE, READ BLOCK LIMITS, READ(6), WRITE(6), WRITE FILEMARKS(6), SPACE(6),
//     INQUIRY (+ VPD 00h, 80h, 83h, B0h), MODE SELECT(6/10), ERASE(6), MODE SENSE(6/10), LOAD
//     UNLOAD, PREVENT ALLOW MEDIUM REMOVAL, LOCATE(10/16), READ POSITION (00h, 01h, 06h, 08h),
//     REPORT DENSITY SUPPORT, LOG SELECT, LOG SENSE (00h, 02h, 03h, 0Ch, 2Eh), SPACE(16),
//     REPORT SUPPORTED OPERATION CODES. Anything else is ILLEGAL REQUEST 20/00.
//   * The typed API below (read, write, space, locate...), which execute() is built on. It has
//     the same semantics, returns the same sense as values (Outcome), and skips only what
//     belongs to the SCSI transport: unit attentions, CDB field checks, allocation lengths.
//
// SSC-3 behaviour in short (details at each function):
//   * Position is (partition, logical object number); every record and mark is one object.
//   * Variable mode (block size 0): one record per READ, ILI with a signed residue (requested -
//     actual) for a length mismatch, SILI suppressing the underlength case only. Fixed mode:
//     READ of N blocks of the block size; a record of another length stops it with ILI.
//   * FM / EOM / BLANK CHECK (EOD) conditions carry INFORMATION = the residue; for SPACE it is
//     the count not spaced as a magnitude, in either direction (drive_position.cpp).
//   * Setmarks (WSMK) are passed silently unless RSMK (mode page 10h) asks to report them.
//   * A write anywhere but EOD discards everything after it. Early warning: NO SENSE, EOM, 00/02
//     and the data WAS written. The hard end: VOLUME OVERFLOW 0Dh, EOM, 00/02, not written.
//   * Unit attentions per I_T nexus (`nexus` of execute): 29/00 the first time a nexus is seen,
//     28/00 when a cartridge becomes ready, 29/03 after logical_unit_reset(), 2A/01 after
//     another nexus changed mode parameters.
//
// Sense data goes out in fixed format (70h) with CHECK CONDITION; REQUEST SENSE honours DESC.
// No threads, no clock, no sockets; the only I/O is the Medium's image file. Not thread-safe:
// callers serialize. Movable.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tapesim/densities.hpp"
#include "tapesim/medium.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/command.hpp"
#include "uiscsi/scsi/sense.hpp"

namespace uiscsi::tapesim {

struct DriveConfig {
  std::string vendor = "UISCSI";     // T10 vendor identification (8 characters at most)
  std::string product = "TAPESIM";   // (16)
  std::string revision = "0001";     // (4)
  std::string serial = "TS0000001";  // unit serial number (VPD 80h)
  std::vector<std::byte> naa{};      // 8 or 16 bytes; empty: NAA 3h from a hash of the names
  std::vector<scsi::DensityDescriptor> densities = lto_densities(9);
  std::uint32_t min_block_length = 1;
  std::uint32_t max_block_length = 1u << 23;  // at most Medium::kMaxRecordLength
  std::uint8_t granularity = 0;               // fixed block lengths are multiples of 2^g
  std::uint32_t block_size = 0;               // after power on: 0 variable, else fixed
  bool compression = false;                   // DCE after power on
  std::uint8_t max_additional_partitions = 3;
  std::uint32_t ready_delay = 0;             // commands answered NOT READY 04/01 after insert
  std::uint64_t max_transfer = 64ull << 20;  // largest READ / WRITE in bytes
};

// Where the drive stands (READ POSITION). Only meaningful while a cartridge is loaded.
struct Position {
  std::uint32_t partition = 0;
  std::uint64_t object = 0;  // logical object identifier (records and marks before this point)
  std::uint64_t file = 0;    // filemarks before this point (logical file identifier)
  std::uint64_t set = 0;     // setmarks before this point
  bool bop = false;          // at beginning of partition
  bool eod = false;          // at end of data
  bool eop = false;          // in the early-warning zone
  bool operator==(const Position&) const = default;
};

struct Compression {
  bool dce = false;  // data compression enabled (writes)
  bool dde = true;   // data decompression enabled (reads)
  bool operator==(const Compression&) const = default;
};

// Byte counters since power on or LOG SELECT with PCR (LOG SENSE pages 02h, 03h, 0Ch).
struct Counters {
  std::uint64_t bytes_from_host = 0;    // WRITE data received
  std::uint64_t bytes_to_medium = 0;    // stored after compression
  std::uint64_t bytes_from_medium = 0;  // stored bytes read back
  std::uint64_t bytes_to_host = 0;      // READ data returned
  std::uint64_t records_written = 0;
  std::uint64_t records_read = 0;
  std::uint64_t marks_written = 0;
  std::uint64_t read_errors = 0;   // records that could not be read (damaged data)
  std::uint64_t write_errors = 0;  // failed writes other than the hard end
  bool operator==(const Counters&) const = default;
};

// The result of a typed operation: GOOD, or the sense data of CHECK CONDITION. Conditions such
// as a filemark or early warning are not failures: `transferred` tells what did happen.
struct Outcome {
  std::optional<scsi::SenseData> sense;
  std::size_t transferred = 0;  // bytes read into the caller's buffer, or accepted for writing
  [[nodiscard]] bool good() const { return !sense.has_value(); }
};

// The result of execute().
struct Response {
  scsi::Status status = scsi::Status::good;
  std::vector<std::byte> sense;    // fixed-format sense data; with CHECK CONDITION only
  std::vector<std::byte> data_in;  // cut to the CDB's allocation length; READ data before sense
  // For WRITE and MODE SELECT / LOG SELECT: the Data-Out bytes the CDB calls for, so a transport
  // can report a residual when the initiator sent a different amount.
  std::optional<std::uint64_t> data_out_length;
};

class Drive {
 public:
  // errc::invalid_argument when the configuration is inconsistent: block lengths (min > max,
  // max above Medium::kMaxRecordLength, granularity over 23, a power-on block size outside the
  // limits), no densities, an NAA of other than 8 or 16 bytes, more than 63 additional
  // partitions.
  static Result<Drive> create(DriveConfig config = {});

  // ---- the cartridge (operator actions, not SCSI) ----
  // Puts a cartridge in and loads it: position BOP of partition 0, UNIT ATTENTION 28/00 for
  // every nexus, NOT READY 04/01 for the next ready_delay commands. tapesim_errc::medium_present.
  Result<void> insert(Medium medium);
  // Takes the cartridge out, loaded or not (the medium is flushed). no_medium;
  // removal_prevented while any nexus prevents removal.
  Result<Medium> eject();
  [[nodiscard]] bool medium_present() const { return medium_.has_value(); }
  [[nodiscard]] bool ready() const;
  [[nodiscard]] const Medium* medium() const { return medium_ ? &*medium_ : nullptr; }
  [[nodiscard]] Medium* medium() { return medium_ ? &*medium_ : nullptr; }

  // ---- events (SAM-5) ----
  // Power cycle: mode parameters back to their defaults, prevention cleared, position BOP of
  // partition 0, every nexus forgotten (each gets 29/00 on its next command).
  void power_on();
  // LOGICAL UNIT RESET: mode parameters back to defaults, prevention cleared, 29/03 for every
  // known nexus. The position is kept.
  void logical_unit_reset();
  // The nexus is gone: its unit attentions and its prevention go with it.
  void forget_nexus(std::uint64_t nexus);
  // The next command with this opcode from any nexus completes with CHECK CONDITION and `sense`
  // instead of running (after unit attentions). One-shot, first in first out per opcode.
  void inject(std::uint8_t opcode, scsi::SenseData sense);

  // ---- the typed API: SSC-3 stream and medium commands ----
  // READ(6). count is bytes (variable) or blocks (fixed). `out` must hold what can arrive
  // (count bytes, or count blocks, is always enough): in fixed mode count blocks but no more
  // than the objects left before EOD, in variable mode the smaller of count and the next
  // record's length; else INVALID FIELD IN CDB. Variable mode returns one record; fixed mode
  // needs a block size. Outcome::transferred counts the bytes placed in `out`.
  Outcome read(std::span<std::byte> out, std::uint32_t count, bool fixed, bool sili = false);
  // READ(6) in variable mode for out.size() bytes.
  Outcome read_record(std::span<std::byte> out, bool sili = false);
  // WRITE(6). `data` must hold count bytes (variable: one record) or count blocks (fixed).
  Outcome write(std::span<const std::byte> data, std::uint32_t count, bool fixed);
  // WRITE(6) of one record in variable mode.
  Outcome write_record(std::span<const std::byte> data);
  // WRITE FILEMARKS(6); setmarks: WSMK.
  Outcome write_filemarks(std::uint32_t count, bool setmarks = false);
  // SPACE(6)/(16). Negative counts move towards BOP.
  Outcome space(scsi::SpaceCode code, std::int64_t count);
  // LOCATE(10)/(16): to a logical object, a logical file (just after its filemark) or EOD, in
  // `partition` when given (CP).
  Outcome locate(std::uint64_t id,
                 scsi::LocateDestination destination = scsi::LocateDestination::logical_object,
                 std::optional<std::uint32_t> partition = std::nullopt);
  Outcome rewind();
  // ERASE(6): discards everything from the position on (LONG: the same on this medium).
  Outcome erase(bool long_erase = false);
  // LOAD UNLOAD with LOAD = 1: loads an unloaded cartridge (or rewinds a loaded one).
  Outcome load();
  // LOAD UNLOAD with LOAD = 0: rewinds and unloads. With hold the cartridge stays threaded-out
  // in the drive (NOT READY 04/02); without, it is ejected to the drive's mouth (NOT READY
  // 3A/00). Either way load() takes it back and eject() takes it out.
  Outcome unload(bool hold = false);
  // PREVENT ALLOW MEDIUM REMOVAL for `nexus`.
  Outcome prevent_removal(bool prevent, std::uint64_t nexus = 0);
  // READ POSITION; nullopt when no cartridge is loaded and ready.
  [[nodiscard]] std::optional<Position> position() const;

  // ---- mode parameters (the typed side of MODE SENSE / MODE SELECT) ----
  [[nodiscard]] std::uint32_t block_size() const { return block_size_; }
  // 0 selects variable mode. ILLEGAL REQUEST 26/00 outside the READ BLOCK LIMITS.
  Outcome set_block_size(std::uint32_t bytes);
  [[nodiscard]] Compression compression() const;
  // Sets DCE and, when given, DDE; nothing else changes.
  Outcome set_compression(bool dce, std::optional<bool> dde = std::nullopt);
  // The density code for writing from BOP of partition 0 (0: the drive's default).
  Outcome set_density(std::uint8_t code);
  // The density MODE SENSE reports: the cartridge's, else the selected or default one.
  [[nodiscard]] std::uint8_t density() const;
  [[nodiscard]] bool software_write_protect() const;
  void set_software_write_protect(bool on);
  [[nodiscard]] bool report_setmarks() const;  // RSMK
  void set_report_setmarks(bool on);
  // Repartitions the loaded cartridge (all data is lost) into partitions of these sizes in
  // bytes; position BOP of partition 0.
  Outcome partition_medium(std::span<const std::uint64_t> sizes);

  // ---- logs ----
  [[nodiscard]] const Counters& counters() const { return counters_; }
  void reset_counters();
  // TapeAlert flags 1..64 (LOG SENSE page 2Eh clears them when read).
  void raise_tape_alert(std::uint8_t flag);
  [[nodiscard]] bool tape_alert(std::uint8_t flag) const;

  [[nodiscard]] const DriveConfig& config() const { return config_; }

  // ---- SCSI ----
  Response execute(std::span<const std::byte> cdb, std::span<const std::byte> data_out = {},
                   std::uint64_t nexus = 0);

 private:
  struct CommandInfo;
  struct Command {
    std::span<const std::byte> cdb;  // cut to the opcode's length
    std::span<const std::byte> data_out;
    std::uint64_t nexus = 0;
    [[nodiscard]] std::uint8_t u8(std::size_t i) const;
    [[nodiscard]] std::uint16_t be16(std::size_t i) const;
    [[nodiscard]] std::uint32_t be24(std::size_t i) const;
    [[nodiscard]] std::uint32_t be32(std::size_t i) const;
    [[nodiscard]] std::uint64_t be64(std::size_t i) const;
  };
  using Handler = Response (Drive::*)(const Command&);
  struct UnitAttention {
    std::uint8_t asc = 0;
    std::uint8_t ascq = 0;
    bool operator==(const UnitAttention&) const = default;
  };
  struct NexusState {
    std::deque<UnitAttention> attentions;
    bool prevent = false;
  };
  enum class Load : std::uint8_t { empty, loaded, unloaded };
  using Page = std::array<std::uint8_t, 14>;  // parameter bytes of mode pages 0Fh and 10h

  explicit Drive(DriveConfig config);

  // drive.cpp: state, readiness, unit attentions
  [[nodiscard]] std::optional<scsi::SenseData> not_ready() const;
  std::optional<scsi::SenseData> consume_ready();
  [[nodiscard]] std::optional<scsi::SenseData> write_blocked() const;
  [[nodiscard]] std::optional<scsi::SenseData> read_blocked() const;
  NexusState& nexus_state(std::uint64_t nexus);
  void post(UnitAttention ua, std::optional<std::uint64_t> except);
  std::optional<UnitAttention> take_attention(std::uint64_t nexus);
  [[nodiscard]] bool removal_prevented() const;
  void reset_mode();
  [[nodiscard]] bool valid_block_length(std::uint32_t bytes) const;
  [[nodiscard]] const scsi::DensityDescriptor* find_density(std::uint8_t code) const;
  [[nodiscard]] std::uint8_t default_density() const;
  [[nodiscard]] bool beyond_early_warning() const;
  Outcome load_from(std::optional<std::uint64_t> nexus);
  void rewind_to_start();

  // drive_io.cpp
  std::optional<scsi::SenseData> prepare_write();
  void skip_setmarks();
  Outcome read_variable(std::span<std::byte> out, std::uint32_t count, bool sili);
  Outcome read_fixed(std::span<std::byte> out, std::uint32_t count);
  std::optional<scsi::SenseData> read_object(std::span<std::byte> out, std::int64_t residue);
  scsi::SenseData write_failure(std::error_code ec, std::int64_t residue);
  std::size_t read_size(std::uint32_t count, bool fixed) const;

  // drive_position.cpp
  Outcome space_blocks(std::int64_t count);
  Outcome space_marks(std::int64_t count, ObjectKind kind);
  Outcome space_sequential(std::int64_t count, ObjectKind kind);

  // drive_mode.cpp
  [[nodiscard]] std::vector<scsi::ModePage> mode_pages(std::uint8_t code,
                                                       std::uint8_t control) const;
  [[nodiscard]] scsi::ModePage partition_page(std::uint8_t control) const;
  Response mode_sense(const Command& c);
  Response mode_select(const Command& c);

  // drive_info.cpp
  Response test_unit_ready(const Command& c);
  Response request_sense(const Command& c);
  Response inquiry(const Command& c);
  Response read_block_limits(const Command& c);
  Response report_density_support(const Command& c);
  Response log_sense(const Command& c);
  Response log_select(const Command& c);
  Response prevent_allow(const Command& c);
  [[nodiscard]] Result<std::vector<std::byte>> vpd_page(std::uint8_t page) const;
  [[nodiscard]] Result<std::vector<std::byte>> log_page(std::uint8_t page, std::uint8_t control,
                                                        std::uint16_t pointer);

  // drive_scsi.cpp
  static std::span<const CommandInfo> commands();
  static Response from(const Outcome& o);
  static Response check(const scsi::SenseData& s);
  static void limit(Response& r, std::size_t allocation_length);
  Response cmd_read(const Command& c);
  Response cmd_write(const Command& c);
  Response cmd_write_filemarks(const Command& c);
  Response cmd_space(const Command& c);
  Response cmd_rewind(const Command& c);
  Response cmd_locate(const Command& c);
  Response cmd_read_position(const Command& c);
  Response cmd_erase(const Command& c);
  Response cmd_load_unload(const Command& c);
  Response cmd_report_supported_opcodes(const Command& c);

  DriveConfig config_;
  std::vector<std::byte> naa_;
  std::optional<Medium> medium_;
  Load load_ = Load::empty;
  bool held_ = false;                 // unloaded with HOLD
  std::uint32_t becoming_ready_ = 0;  // commands still to answer NOT READY 04/01
  std::uint32_t partition_ = 0;
  std::uint64_t object_ = 0;
  std::uint32_t block_size_ = 0;
  std::uint8_t selected_density_ = 0;
  std::uint8_t buffered_mode_ = 1;
  Page compression_page_{};
  Page configuration_page_{};
  Counters counters_;
  std::uint64_t tape_alerts_ = 0;  // bit n - 1: flag n
  std::map<std::uint64_t, NexusState> nexuses_;
  std::deque<std::pair<std::uint8_t, scsi::SenseData>> injected_;
};

}  // namespace uiscsi::tapesim
