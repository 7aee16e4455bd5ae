// Tape: write two tape files of records to an SSC-3 tape drive, rewind, read them back and
// compare (uiscsi::tape::Drive, include/uiscsi/tape/drive.hpp).
//   example_tape_write_read iscsi://127.0.0.1:3260/iqn.2026-11.dev.uiscsi:target/1
// The URL's LUN is the tape drive (uiscsi-target --tape 16M makes one). The tape is rewritten
// from its beginning.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "uiscsi/session.hpp"
#include "uiscsi/tape.hpp"

namespace {

// Record `n` of file `file`: a recognisable pattern, of a different length for each record
// (variable-block mode keeps each record's length).
std::vector<std::byte> make_record(int file, int n) {
  std::vector<std::byte> r(1000 + static_cast<std::size_t>(n) * 517);
  for (std::size_t i = 0; i < r.size(); ++i)
    r[i] = static_cast<std::byte>((i * 7 + n + file * 31) & 0xff);
  return r;
}

constexpr int kRecords[2] = {3, 2};  // records in tape file 0 and tape file 1

int fail(const char* what, const uiscsi::tape::Drive* drive, std::error_code ec) {
  std::fprintf(stderr, "%s: %s", what, ec.message().c_str());
  // The driver keeps the details of the last failure (sense, residue, record number).
  if (drive && drive->last_error())
    std::fprintf(stderr, " (%s)", drive->last_error()->message().c_str());
  std::fprintf(stderr, "\n");
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  auto url = uiscsi::parse_iscsi_url(argv[1]);
  if (!url) return fail("url", nullptr, url.error());
  auto lun = uiscsi::Lun::from_number(url->lun.value_or(0));
  if (!lun) return fail("lun", nullptr, lun.error());
  auto session = uiscsi::Session::dial(*url);
  if (!session) return fail("login", nullptr, session.error());

  // open() waits for the drive to be ready and checks it is a tape drive. block_size 0 selects
  // variable-block mode: every write() is one record of its own length.
  uiscsi::tape::DriveOptions options;
  options.block_size = 0;
  options.sili = true;  // a record shorter than the read buffer is not an error
  auto drive = uiscsi::tape::Drive::open(*session, *lun, options);
  if (!drive) return fail("open", nullptr, drive.error());
  std::printf("drive %s %s\n", drive->info().inquiry.vendor.c_str(),
              drive->info().inquiry.product.c_str());

  if (auto r = drive->rewind(); !r) return fail("rewind", &*drive, r.error());
  for (int file = 0; file < 2; ++file) {
    for (int n = 0; n < kRecords[file]; ++n) {
      if (auto w = drive->write(make_record(file, n)); !w) return fail("write", &*drive, w.error());
    }
    // A filemark ends a tape file.
    if (auto w = drive->write_filemarks(1); !w) return fail("write filemark", &*drive, w.error());
  }
  std::printf("wrote 2 files\n");

  if (auto r = drive->rewind(); !r) return fail("rewind", &*drive, r.error());
  std::vector<std::byte> buffer(64 * 1024);
  for (int file = 0; file < 2; ++file) {
    int n = 0;
    for (;;) {
      auto rec = drive->read(buffer);
      if (!rec) return fail("read", &*drive, rec.error());
      if (rec->status == uiscsi::tape::ReadStatus::filemark) break;  // end of this tape file
      if (rec->status != uiscsi::tape::ReadStatus::data &&
          rec->status != uiscsi::tape::ReadStatus::short_record) {
        std::fprintf(stderr, "file %d record %d: unexpected status %d\n", file, n,
                     static_cast<int>(rec->status));
        return 1;
      }
      const auto want = make_record(file, n);
      if (rec->bytes != want.size() || !std::equal(want.begin(), want.end(), buffer.begin())) {
        std::fprintf(stderr, "file %d record %d differs (%zu bytes read)\n", file, n, rec->bytes);
        return 1;
      }
      ++n;
    }
    if (n != kRecords[file]) {
      std::fprintf(stderr, "file %d: %d records, wrote %d\n", file, n, kRecords[file]);
      return 1;
    }
    std::printf("file %d: %d records read back identical\n", file, n);
  }
  auto pos = drive->position();
  if (!pos) return fail("position", &*drive, pos.error());
  std::printf("position: block %llu\n", static_cast<unsigned long long>(pos->block));
  return 0;
}
