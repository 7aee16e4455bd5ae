// Write a pattern to a LUN with WRITE(16), read it back and compare.
//   example_write_and_verify iscsi://127.0.0.1:3260/iqn.2026-11.dev.uiscsi:target/0
#include <cstdio>
#include <vector>

#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/session.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s iscsi://host/iqn/lun\n", argv[0]);
    return 2;
  }
  auto url = uiscsi::parse_iscsi_url(argv[1]);
  if (!url) {
    std::fprintf(stderr, "%s\n", url.error().message().c_str());
    return 2;
  }
  auto s = uiscsi::Session::dial(*url);
  if (!s) {
    std::fprintf(stderr, "login: %s\n", s.error().message().c_str());
    return 1;
  }
  const auto lun = *uiscsi::Lun::from_number(url->lun.value_or(0));
  (void)s->run(lun, uiscsi::Command(uiscsi::scsi::test_unit_ready()));  // clears the unit attention

  auto cap = s->run(lun, uiscsi::Command(uiscsi::scsi::read_capacity16()));
  if (!cap || !cap->ok()) return 1;
  const auto capacity = *uiscsi::scsi::parse_read_capacity16(cap->data());
  const std::uint32_t bs = capacity.block_length;

  std::vector<std::byte> data(64 * std::size_t{bs});
  for (std::size_t i = 0; i < data.size(); ++i)
    data[i] = static_cast<std::byte>(i * 31 + 7);
  // Command::write_from lends our buffer: keep it alive until the command completes.
  auto w = s->run(lun, uiscsi::Command(*uiscsi::scsi::write16(8, 64, bs)).write_from(data));
  if (!w || !w->ok()) {
    std::fprintf(stderr, "write: %s\n", w ? w->describe().c_str() : w.error().message().c_str());
    return 1;
  }
  auto r = s->run(lun, uiscsi::Command(*uiscsi::scsi::read16(8, 64, bs)));  // library-owned buffer
  if (!r || !r->ok()) return 1;
  const bool same = std::equal(data.begin(), data.end(), r->data().begin(), r->data().end());
  std::printf("wrote and read back %zu bytes: %s\n", data.size(), same ? "identical" : "DIFFERENT");
  return same ? 0 : 1;
}
