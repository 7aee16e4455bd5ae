// Configuration of a uiscsi target server: portals, targets, LUNs, access control, CHAP
// accounts, negotiation offers and fault injection. Built from the command line or a TOML file
// (config_file.hpp), or by tests directly.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/target_types.hpp"
#include "net/socket.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/secret.hpp"

namespace uiscsi::target {

struct LunConfig {
  enum class Kind { ram, file, null, tape, changer };
  std::uint64_t number = 0;
  Kind kind = Kind::ram;
  std::uint64_t size_bytes = 64ull << 20;
  std::uint32_t block_size = 512;
  std::string path;        // file LUNs; tape/changer image directory
  bool direct_io = false;  // O_DIRECT for file LUNs
  bool read_only = false;
  std::string product;      // INQUIRY product id (default per kind)
  std::string serial;       // unit serial number (default derived from target and LUN)
  std::uint32_t slots = 8;  // changer: storage slots (one cartridge each)
  // Tape: size_bytes is the cartridge capacity of a new cartridge; `image` an image file that
  // keeps the cartridge across restarts (opened when it exists, else created blank; empty: in
  // memory); lto_generation (5..9) the densities the drive supports.
  // Changer: size_bytes is the capacity of each cartridge; `image` a directory holding one
  // image file per cartridge (<barcode>.img) and the element map (empty: in memory);
  // lto_generation the barcode suffix (L5..L9); `drives` the numbers of the tape LUNs of the
  // same target that are its drives (empty: the first tape LUN). A tape LUN that is a changer's
  // drive starts empty and has no image of its own.
  std::string image;
  int lto_generation = 9;
  std::vector<std::uint64_t> drives;
};

struct TargetEntry {
  std::string name;
  std::string alias;
  std::uint16_t portal_group_tag = 1;
  std::vector<LunConfig> luns;
  std::vector<std::string> allowed_initiators;  // empty: everyone
  std::map<std::string, Secret> chap_users;     // initiator CHAP user -> secret
  bool chap_required = false;                   // refuse logins without CHAP
  std::optional<core::ChapCredentials> mutual;  // our name and secret for mutual CHAP
  std::string redirect;                         // "host:port,tag": send initiators there
};

struct ServerConfig {
  std::vector<net::Endpoint> portals{{"127.0.0.1", 3260}};
  std::vector<TargetEntry> targets;
  core::TargetConfig engine;  // negotiation offers, command window, NOP-In, faults
  bool discovery_chap_required = false;
  std::map<std::string, Secret> discovery_chap_users;
  unsigned worker_threads = 2;                    // for file LUNs
  std::chrono::milliseconds response_delay{0};    // fault: hold every LU answer this long
  std::uint64_t rate_limit_bytes_per_second = 0;  // fault: a slow drive (tape reads)
};

// Parses "256M", "1G", "4096", "4K" into bytes. Errors: errc::invalid_argument.
Result<std::uint64_t> parse_byte_size(std::string_view text);

// Applies one "--fault" item such as "drop-after-pdus=100" or "hold-window". Errors:
// errc::invalid_argument with the item unchanged.
Result<void> apply_fault(core::FaultPlan& plan, std::string_view item);

// The IQN generated for the default target: iqn.2026-11.dev.uiscsi:<name>.
std::string default_target_name(std::string_view suffix = "target");

}  // namespace uiscsi::target
