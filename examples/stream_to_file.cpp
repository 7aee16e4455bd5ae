// Stream a whole LUN to a file with bounded memory (4 commands of 1 MiB in flight).
//   example_stream_to_file iscsi://127.0.0.1:3260/iqn.2026-11.dev.uiscsi:target/0 out.img
#include <cerrno>
#include <cstdio>

#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/session.hpp"
#include "uiscsi/stream.hpp"

class FileSink final : public uiscsi::StreamSink {
 public:
  explicit FileSink(std::FILE* f) : f_(f) {}
  uiscsi::Result<void> write(std::span<const std::byte> data) override {
    if (std::fwrite(data.data(), 1, data.size(), f_) != data.size())
      return std::error_code(errno, std::system_category());
    return uiscsi::ok();
  }

 private:
  std::FILE* f_;
};

int main(int argc, char** argv) {
  if (argc < 3) return 2;
  auto s = uiscsi::Session::dial(argv[1]);
  if (!s) {
    std::fprintf(stderr, "login: %s\n", s.error().message().c_str());
    return 1;
  }
  (void)s->run(uiscsi::Lun(), uiscsi::Command(uiscsi::scsi::test_unit_ready()));
  auto cap = s->run(uiscsi::Lun(), uiscsi::Command(uiscsi::scsi::read_capacity16()));
  if (!cap || !cap->ok()) return 1;
  const auto c = *uiscsi::scsi::parse_read_capacity16(cap->data());
  std::FILE* f = std::fopen(argv[2], "wb");
  if (f == nullptr) return 1;
  FileSink sink(f);
  auto stats = uiscsi::read_blocks(*s, uiscsi::Lun(), 0, c.block_count(), c.block_length, sink,
                                   {.depth = 4, .buffer_bytes = 1u << 20});
  std::fclose(f);
  if (!stats) {
    std::fprintf(stderr, "%s\n", stats.error().message().c_str());
    return 1;
  }
  std::printf("%llu bytes in %llu commands, at most %zu in flight\n",
              static_cast<unsigned long long>(stats->bytes),
              static_cast<unsigned long long>(stats->commands), stats->max_in_flight);
  return 0;
}
