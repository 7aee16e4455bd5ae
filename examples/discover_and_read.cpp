// Discover the targets at a portal, log in to the first, and read the first block of LUN 0.
//   example_discover_and_read 127.0.0.1:3260
#include <cstdio>

#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/session.hpp"

int main(int argc, char** argv) {
  const char* portal = argc > 1 ? argv[1] : "127.0.0.1:3260";
  auto targets = uiscsi::discover(portal);
  if (!targets) {
    std::fprintf(stderr, "discovery: %s\n", targets.error().message().c_str());
    return 1;
  }
  for (const auto& t : *targets)
    std::printf("target %s at %s\n", t.name.c_str(), t.portals[0].address.c_str());
  if (targets->empty()) return 1;

  auto session = uiscsi::Session::dial("iscsi://" + targets->front().portals[0].address + "/" +
                                       targets->front().name);
  if (!session) {
    std::fprintf(stderr, "login: %s\n", session.error().message().c_str());
    return 1;
  }
  const uiscsi::Lun lun;  // LUN 0
  // The first command after login usually reports a unit attention; INQUIRY never does.
  auto inq = session->run(lun, uiscsi::Command(uiscsi::scsi::inquiry()));
  if (inq && inq->ok()) {
    auto info = uiscsi::scsi::parse_inquiry(inq->data());
    if (info) std::printf("LUN 0: %s %s\n", info->vendor.c_str(), info->product.c_str());
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto c = session->run(lun, uiscsi::Command(*uiscsi::scsi::read16(0, 1, 512)));
    if (!c) {
      std::fprintf(stderr, "read: %s\n", c.error().message().c_str());
      return 1;
    }
    if (c->ok()) {
      std::printf("block 0 starts with %02x %02x %02x %02x\n", std::to_integer<int>(c->data()[0]),
                  std::to_integer<int>(c->data()[1]), std::to_integer<int>(c->data()[2]),
                  std::to_integer<int>(c->data()[3]));
      return 0;
    }
    std::printf("read: %s\n", c->describe().c_str());  // e.g. UNIT ATTENTION: power on...
  }
  return 1;
}
