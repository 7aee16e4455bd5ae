// The tape library a target serves with `uiscsi-target --tape SIZE --changer SLOTS`, as a
// TargetEntry for in-process interop tests: LUN 0 the tape drive (empty at start), LUN 1 a
// media changer with `slots` full slots of `cartridge_bytes` cartridges and that drive.
#pragma once

#include <cstdint>
#include <string>

#include "target/server.hpp"

namespace uiscsi::testing {

// Cartridges are kept in memory (they grow only as written) unless `image_dir` names a folder
// for their image files.
inline target::TargetEntry tape_library(std::string name, unsigned slots,
                                        std::uint64_t cartridge_bytes, std::string image_dir = {}) {
  target::TargetEntry t;
  t.name = std::move(name);
  target::LunConfig tape;
  tape.kind = target::LunConfig::Kind::tape;
  t.luns.push_back(tape);
  target::LunConfig changer;
  changer.number = 1;
  changer.kind = target::LunConfig::Kind::changer;
  changer.slots = slots;
  changer.size_bytes = cartridge_bytes;
  changer.image = std::move(image_dir);
  changer.drives = {0};
  t.luns.push_back(changer);
  return t;
}

}  // namespace uiscsi::testing
