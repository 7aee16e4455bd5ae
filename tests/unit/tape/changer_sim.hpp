// A simulated tape library for the changer driver's unit tests: a tapesim::Changer with one
// tapesim::Drive behind it, reached through two tape::Transports (the changer's and the
// drive's), as an initiator reaches a changer LUN and a tape LUN of one target. Like
// SimTransport (sim_transport.hpp) it counts commands per opcode and can script replies per
// opcode; `reject` can refuse any CDB with a CHECK CONDITION (e.g. READ ELEMENT STATUS with
// VOLTAG) to exercise what the simulator never does.
#pragma once

#include <algorithm>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tapesim/changer.hpp"
#include "tapesim/drive.hpp"
#include "uiscsi/scsi/sense.hpp"
#include "uiscsi/tape/transport.hpp"

namespace uiscsi::tape::test {

struct Library {
  tapesim::Drive drive;  // address-stable: the changer's DirectDriveSlot points at it
  std::optional<tapesim::Changer> changer;
  std::map<std::uint8_t, int> commands;  // changer opcodes sent
  std::map<std::uint8_t, std::deque<std::pair<Exchange, std::vector<std::byte>>>> scripted;
  // Returns sense bytes to refuse a changer CDB with CHECK CONDITION, or empty to pass it on.
  std::function<std::vector<std::byte>(std::span<const std::byte>)> reject;
  std::vector<std::vector<std::byte>> changer_cdbs;  // every CDB sent to the changer

  // `slots` storage elements (1..slots), one import/export element, one drive; cartridges with
  // barcodes "BAR00<n>L9" in slots 1..full.
  static std::unique_ptr<Library> create(std::uint16_t slots = 4, std::uint16_t full = 3) {
    tapesim::DriveConfig dc;
    dc.serial = "SIMDRIVE0";
    auto d = tapesim::Drive::create(dc);
    if (!d) return nullptr;
    auto lib = std::unique_ptr<Library>(new Library{std::move(*d), {}, {}, {}, {}, {}});
    tapesim::ChangerConfig cc;
    cc.storage_slots = slots;
    cc.import_export = 1;
    std::vector<std::unique_ptr<tapesim::DriveSlot>> drives;
    drives.push_back(std::make_unique<tapesim::DirectDriveSlot>(lib->drive));
    auto c = tapesim::Changer::create(cc, std::move(drives));
    if (!c) return nullptr;
    lib->changer.emplace(std::move(*c));
    for (std::uint16_t i = 1; i <= full; ++i) {
      tapesim::MediumOptions mo;
      mo.capacity = 8ull << 20;
      mo.barcode = "BAR00" + std::to_string(i) + "L9";
      auto m = tapesim::Medium::create(mo);
      if (!m || !lib->changer->place(i, std::move(*m))) return nullptr;
    }
    lib->drive.power_on();
    return lib;
  }
};

// Sense bytes (fixed format) for a refusal.
inline std::vector<std::byte> sense_bytes(scsi::SenseKey key, std::uint8_t asc, std::uint8_t ascq) {
  scsi::SenseData s;
  s.response_code = 0x70;
  s.sense_key = key;
  s.asc = asc;
  s.ascq = ascq;
  return scsi::build_fixed_sense(s);
}

class LibraryTransport final : public Transport {
 public:
  enum class Unit { changer, drive };
  LibraryTransport(std::shared_ptr<Library> lib, Unit unit) : lib_(std::move(lib)), unit_(unit) {}

  Result<Exchange> run(const scsi::CommandSpec& spec, std::span<std::byte> data_in,
                       std::span<const std::byte> data_out) override {
    const auto cdb = spec.cdb.bytes();
    tapesim::Response r;
    if (unit_ == Unit::drive) {
      r = lib_->drive.execute(cdb, data_out, kNexus);
      return to_exchange(std::move(r), data_in);
    }
    const std::uint8_t op = spec.cdb.opcode();
    ++lib_->commands[op];
    lib_->changer_cdbs.emplace_back(cdb.begin(), cdb.end());
    if (auto it = lib_->scripted.find(op); it != lib_->scripted.end() && !it->second.empty()) {
      auto [e, data] = std::move(it->second.front());
      it->second.pop_front();
      e.data_in = std::min(data.size(), data_in.size());
      if (e.data_in > 0) std::memcpy(data_in.data(), data.data(), e.data_in);
      return e;
    }
    if (lib_->reject) {
      if (auto sense = lib_->reject(cdb); !sense.empty()) {
        r.status = scsi::Status::check_condition;
        r.sense = std::move(sense);
        return to_exchange(std::move(r), data_in);
      }
    }
    r = lib_->changer->execute(cdb, data_out, kNexus);
    return to_exchange(std::move(r), data_in);
  }

  void start(const scsi::CommandSpec& spec, std::span<std::byte> data_in,
             std::span<const std::byte> data_out, PendingExchange& done) override {
    done.complete(run(spec, data_in, data_out));
  }

 private:
  static constexpr std::uint64_t kNexus = 1;
  static Exchange to_exchange(tapesim::Response r, std::span<std::byte> data_in) {
    Exchange e;
    e.status = r.status;
    e.sense = std::move(r.sense);
    e.data_in = std::min(r.data_in.size(), data_in.size());
    if (e.data_in > 0) std::memcpy(data_in.data(), r.data_in.data(), e.data_in);
    return e;
  }
  std::shared_ptr<Library> lib_;
  Unit unit_;
};

}  // namespace uiscsi::tape::test
