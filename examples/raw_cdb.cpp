// Send a raw CDB (REPORT LUNS, hand-built) and decode the answer and any sense data.
//   example_raw_cdb iscsi://127.0.0.1:3260/iqn.2026-11.dev.uiscsi:target/0
#include <array>
#include <cstdio>

#include "uiscsi/scsi/data.hpp"
#include "uiscsi/session.hpp"

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  auto s = uiscsi::Session::dial(argv[1]);
  if (!s) {
    std::fprintf(stderr, "login: %s\n", s.error().message().c_str());
    return 1;
  }
  // REPORT LUNS (SPC-4 6.33): opcode A0h, allocation length in bytes 6-9.
  const std::array<std::byte, 12> cdb = {
      std::byte{0xa0}, {}, {}, {}, {}, {}, std::byte{0x00}, std::byte{0x00}, std::byte{0x10},
      std::byte{0x00}};
  auto cmd = uiscsi::Command::raw(cdb, 4096);
  if (!cmd) return 2;
  auto c = s->run(uiscsi::Lun(), std::move(*cmd));
  if (!c) {
    std::fprintf(stderr, "%s\n", c.error().message().c_str());
    return 1;
  }
  if (!c->ok()) {
    std::printf("status: %s\n", c->describe().c_str());  // names the sense key and ASC/ASCQ
    return 1;
  }
  auto luns = uiscsi::scsi::parse_report_luns(c->data());
  if (!luns) return 1;
  for (const auto& l : luns->luns)
    std::printf("LUN %s\n", l.to_string().c_str());
  return 0;
}
