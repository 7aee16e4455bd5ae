// A tape library target built by hand in a running tgtd (tests/interop/tgtd-ctl.sh knows disks
// and tapes only), following tgt's README.vtl: LUN 1 a tape drive taken offline (empty), LUN 2
// the changer, whose storage slots hold cartridge images named by their barcodes in
// DIR/media. Shared by the tgtd tape and changer interop tests.
#pragma once

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "interop/support.hpp"

namespace uiscsi::testing {

struct TgtdLibrary {
  int port = 0;                // tgtd's portal port (its control socket index derives from it)
  std::filesystem::path dir;   // drive image, changer backing file and media/ go here
  int tid = 1;                 // target id
  std::string iqn;             // target name
  unsigned slots = 2;          // storage elements from address 10; TGT00001, TGT00002 filled
  bool import_export = false;  // one import/export element at address 20

  // tgtadm for this tgtd (tgtd-ctl.sh derives the control socket index the same way).
  [[nodiscard]] std::string adm() const {
    return "tgtadm -C " + std::to_string(port % 30000 + 1000) + " --lld iscsi ";
  }

  // Deletes the target if it exists and builds it again with fresh cartridges. False (with
  // the failing command on stderr) when a step fails.
  [[nodiscard]] bool build() const {
    const std::string d = dir.string(), media = d + "/media", t = std::to_string(tid);
    std::filesystem::remove_all(media);
    std::filesystem::create_directories(media);
    const auto image = [](const std::string& barcode, const std::string& file) {
      return "tgtimg --op new --device-type tape --barcode=" + barcode +
             " --size 16 --type data --file " + file + " >/dev/null";
    };
    const std::string lu =
        adm() + "--mode logicalunit --op update --tid " + t + " --lun 2 --params ";
    std::vector<std::string> cmds = {
        adm() + "--op delete --force --mode target --tid " + t + " >/dev/null 2>&1 || true",
        image("EMPTY000", d + "/drive.img"),
        image("TGT00001", media + "/TGT00001"),
        image("TGT00002", media + "/TGT00002"),
        "dd if=/dev/zero of=" + d + "/smc bs=1k count=1 2>/dev/null",
        adm() + "--mode target --op new --tid " + t + " --targetname " + iqn,
        adm() + "--mode logicalunit --op new --tid " + t + " --lun 1 --backing-store " + d +
            "/drive.img --bstype ssc --device-type tape",
        adm() + "--mode logicalunit --op update --tid " + t + " --lun 1 --params online=0",
        adm() + "--mode logicalunit --op new --tid " + t + " --lun 2 --backing-store " + d +
            "/smc --device-type changer",
        lu + "media_home=" + media,
        lu + "element_type=4,start_address=1,quantity=1",
        lu + "element_type=4,address=1,tid=" + t + ",lun=1",
        lu + "element_type=1,start_address=2,quantity=1",
        lu + "element_type=2,start_address=10,quantity=" + std::to_string(slots),
        lu + "element_type=2,address=10,barcode=TGT00001,sides=1",
        lu + "element_type=2,address=11,barcode=TGT00002,sides=1",
    };
    if (import_export) cmds.push_back(lu + "element_type=3,start_address=20,quantity=1");
    cmds.push_back(adm() + "--mode target --op bind --tid " + t + " --initiator-address ALL");
    for (const auto& c : cmds) {
      if (run(c) != 0) {
        std::fprintf(stderr, "changer setup failed: %s\n", c.c_str());
        return false;
      }
    }
    return true;
  }
};

}  // namespace uiscsi::testing
