// uiscsi-dd: copy between an iSCSI LUN and a file or stdio, with GNU dd's operands.
//
//   uiscsi-dd if=iscsi://host/iqn.x:disk/0 of=disk.img bs=1M status=progress
//   uiscsi-dd if=disk.img of=iscsi://host/iqn.x:disk/0 bs=1M conv=fsync
//   uiscsi-dd if=/dev/zero of=iscsi://host/iqn.x:disk/1 bs=64K count=100 seek=10
//
// Operands: if= of= (default stdin/stdout; "-" too), bs= ibs= obs= (one size, default 512;
// K/M/G suffixes), count= skip= seek= (in bs-sized records), status=progress|noxfer|none,
// conv=fsync|fdatasync (SYNCHRONIZE CACHE on an iSCSI output). On the iSCSI side bs must be a
// multiple of the LUN's block size. Reading a LUN without count= stops at its end.
// Records are read whole (like iflag=fullblock): only the last record of the input can be
// partial, and a partial record for a LUN is padded with zeros to its block size.
// Several commands stay in flight (--queue-depth, default 8).
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/probe.hpp"
#include "common/toolkit.hpp"
#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"

using namespace uiscsi;
using namespace uiscsi::tools;

namespace {

struct Operands {
  std::string in = "-", out = "-";
  std::uint64_t bs = 512;
  std::optional<std::uint64_t> count;
  std::uint64_t skip = 0, seek = 0;
  std::string status = "default";
  bool fsync = false;
};

bool is_url(const std::string& s) {
  return s.rfind("iscsi://", 0) == 0 || s.rfind("ISCSI://", 0) == 0;
}

// One side of the copy: a LUN (with its session) or a file descriptor.
struct Endpoint {
  std::string name;
  std::optional<Session> session;
  Lun lun;
  std::uint32_t block_size = 0;
  std::uint64_t blocks = 0;  // LUN size
  int fd = -1;
  bool owns_fd = false;
  ~Endpoint() {
    if (owns_fd && fd >= 0) ::close(fd);
  }
};

int open_lun(const std::string& text, const ConnectionFlags& flags, Endpoint& ep) {
  IscsiUrl url;
  SessionOptions options;
  if (auto r = flags.resolve(text, url, options); !r) {
    if (r.error() == errc::authentication_failed)
      return usage_error("a CHAP user needs a secret (ISCSI_CHAP_PASSWORD or --chap-file)");
    return fail("bad URL", r.error());
  }
  if (url.target.empty()) return usage_error("the URL needs a target: iscsi://host/iqn/lun");
  auto lun = Lun::from_number(url.lun.value_or(0));
  if (!lun) return usage_error("LUN number too large");
  ep.name = url.to_string();
  auto s = Session::dial(url, options);
  if (!s) return fail("cannot log in to " + url.to_string(), s.error());
  ep.session.emplace(std::move(*s));
  ep.lun = *lun;
  const LunInfo info = probe_lun(*ep.session, ep.lun);
  if (!info.present) {
    std::fprintf(stderr, "uiscsi-dd: %s: no such LUN\n", ep.name.c_str());
    return kExitNotFound;
  }
  if (!info.error.empty() && info.type_name.empty()) {
    std::fprintf(stderr, "uiscsi-dd: %s: %s\n", ep.name.c_str(), info.error.c_str());
    return kExitNotFound;
  }
  if (info.device_type != 0 || !info.blocks) {
    std::fprintf(stderr, "uiscsi-dd: %s: not a disk (device type %s)%s%s\n", ep.name.c_str(),
                 info.type_name.c_str(), info.error.empty() ? "" : ": ", info.error.c_str());
    return kExitFailure;
  }
  ep.block_size = info.block_size;
  ep.blocks = *info.blocks;
  return kExitOk;
}

using Stats = RecordCounts;

void print_summary(const Stats& s, double secs, const std::string& status) {
  if (status == "none") return;
  print_dd_summary(s, secs, status != "noxfer");
}

// Reads up to n bytes (looping over short reads). Returns bytes read, or -1 with errno.
ssize_t read_full(int fd, std::byte* buf, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, buf + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return static_cast<ssize_t>(got);
}

bool write_full(int fd, const std::byte* buf, std::size_t n) {
  std::size_t done = 0;
  while (done < n) {
    const ssize_t w = ::write(fd, buf + done, n - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<std::size_t>(w);
  }
  return true;
}

// A record moving through the pipeline.
struct Slot {
  std::vector<std::byte> buf;
  std::size_t length = 0;                 // valid bytes
  std::future<Result<Completion>> read;   // pending LUN read
  std::future<Result<Completion>> write;  // pending LUN write
  bool reading = false, writing = false;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Copy between an iSCSI LUN and a file, like dd", "uiscsi-dd"};
  std::vector<std::string> operands;
  unsigned queue_depth = 8;
  ConnectionFlags flags;
  app.add_option("operands", operands, "if=, of=, bs=, count=, skip=, seek=, status=, conv=");
  app.add_option("--queue-depth", queue_depth, "Commands in flight per LUN")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  flags.add_to(app, false);
  app.footer(
      "Examples:\n"
      "  uiscsi-dd if=iscsi://127.0.0.1/iqn.x:disk/0 of=disk.img bs=1M status=progress\n"
      "  uiscsi-dd if=disk.img of=iscsi://127.0.0.1/iqn.x:disk/0 bs=1M conv=fsync\n"
      "Exit codes: 0 ok, 1 I/O failure, 2 usage, 3 cannot connect, 4 authentication failed,\n"
      "  5 no such target or LUN, 6 protocol error, 7 SCSI error, 130 interrupted.");
  if (int rc = tools::parse_command_line(app, argc, argv); rc >= 0) return rc;
  scrub_argv(argc, argv);  // the options hold copies now; hide any URL password from ps

  Operands op;
  for (const auto& o : operands) {
    const auto eq = o.find('=');
    if (eq == std::string::npos) return usage_error("unrecognised operand '" + o + "'");
    const std::string key = o.substr(0, eq), value = o.substr(eq + 1);
    auto size = [&](std::uint64_t& out) {
      auto v = parse_size(value);
      if (!v) return false;
      out = *v;
      return true;
    };
    if (key == "if")
      op.in = value;
    else if (key == "of")
      op.out = value;
    else if (key == "bs" || key == "ibs" || key == "obs") {
      if (!size(op.bs) || op.bs == 0 || op.bs > (256u << 20))
        return usage_error("invalid block size '" + value + "'");
    } else if (key == "count") {
      std::uint64_t c;
      if (!size(c)) return usage_error("invalid count '" + value + "'");
      op.count = c;
    } else if (key == "skip") {
      if (!size(op.skip)) return usage_error("invalid skip '" + value + "'");
    } else if (key == "seek") {
      if (!size(op.seek)) return usage_error("invalid seek '" + value + "'");
    } else if (key == "status") {
      if (value != "progress" && value != "noxfer" && value != "none")
        return usage_error("invalid status '" + value + "'");
      op.status = value;
    } else if (key == "conv") {
      if (value == "fsync" || value == "fdatasync")
        op.fsync = true;
      else if (value != "notrunc")
        return usage_error("unsupported conv '" + value + "'");
    } else {
      return usage_error("unrecognised operand '" + o + "'");
    }
  }
  if (!is_url(op.in) && !is_url(op.out))
    return usage_error("one of if= or of= must be an iscsi:// URL");

  install_interrupt_handler();
  Endpoint in, out;
  if (is_url(op.in)) {
    if (int rc = open_lun(op.in, flags, in); rc != kExitOk) return rc;
    if (op.bs % in.block_size)
      return usage_error("bs must be a multiple of the LUN block size (" +
                         std::to_string(in.block_size) + ")");
  } else {
    in.name = op.in;
    in.fd = op.in == "-" ? STDIN_FILENO : ::open(op.in.c_str(), O_RDONLY | O_CLOEXEC);
    in.owns_fd = op.in != "-";
    if (in.fd < 0)
      return fail("cannot open " + op.in, std::error_code(errno, std::system_category()));
    if (op.skip && ::lseek(in.fd, static_cast<off_t>(op.skip * op.bs), SEEK_SET) < 0) {
      // Not seekable: read and discard.
      std::vector<std::byte> junk(op.bs);
      for (std::uint64_t i = 0; i < op.skip; ++i)
        if (read_full(in.fd, junk.data(), junk.size()) <= 0) break;
    }
  }
  if (is_url(op.out)) {
    if (int rc = open_lun(op.out, flags, out); rc != kExitOk) return rc;
    if (op.bs % out.block_size)
      return usage_error("bs must be a multiple of the LUN block size (" +
                         std::to_string(out.block_size) + ")");
  } else {
    out.name = op.out;
    out.fd = op.out == "-" ? STDOUT_FILENO
                           : ::open(op.out.c_str(),
                                    O_WRONLY | O_CREAT | O_CLOEXEC | (op.seek ? 0 : O_TRUNC), 0644);
    out.owns_fd = op.out != "-";
    if (out.fd < 0)
      return fail("cannot open " + op.out, std::error_code(errno, std::system_category()));
    if (op.seek && ::lseek(out.fd, static_cast<off_t>(op.seek * op.bs), SEEK_SET) < 0)
      return fail("cannot seek " + op.out, std::error_code(errno, std::system_category()));
  }

  // How many records to copy: count=, or up to the end of an input LUN.
  std::optional<std::uint64_t> in_bytes_total;
  if (in.session) {
    const std::uint64_t lun_bytes = in.blocks * in.block_size;
    const std::uint64_t start = op.skip * op.bs;
    if (start > lun_bytes) return usage_error("skip= is beyond the end of the input LUN");
    in_bytes_total = lun_bytes - start;
    if (op.count) in_bytes_total = std::min(*in_bytes_total, *op.count * op.bs);
  } else if (op.count) {
    in_bytes_total = *op.count * op.bs;
  }

  Stats stats;
  Progress progress(op.status == "progress", in_bytes_total);
  std::deque<std::unique_ptr<Slot>> reads;   // records read or being read, in order
  std::deque<std::unique_ptr<Slot>> writes;  // LUN writes in flight
  std::vector<std::unique_ptr<Slot>> spare;
  std::uint64_t next_record = 0, written_records = 0;
  bool input_done = false;
  int rc = kExitOk;
  std::string error_text;

  auto fail_with = [&](std::string what, std::error_code ec) {
    if (rc != kExitOk) return;
    rc = exit_code_for(ec);
    error_text = what + ": " + ec.message();
  };
  auto take_slot = [&] {
    if (spare.empty()) {
      auto slot = std::make_unique<Slot>();
      slot->buf.resize(op.bs);
      return slot;
    }
    auto slot = std::move(spare.back());
    spare.pop_back();
    return slot;
  };
  // Starts reading the next record; false when the input is exhausted or failed.
  auto start_read = [&]() -> bool {
    std::uint64_t want = op.bs;
    if (in_bytes_total) {
      const std::uint64_t consumed = next_record * op.bs;
      if (consumed >= *in_bytes_total) return false;
      want = std::min<std::uint64_t>(op.bs, *in_bytes_total - consumed);
    }
    auto slot = take_slot();
    if (in.session) {
      const std::uint64_t lba = (op.skip * op.bs + next_record * op.bs) / in.block_size;
      auto spec =
          scsi::read16(lba, static_cast<std::uint32_t>(want / in.block_size), in.block_size);
      if (!spec) {
        fail_with("read", spec.error());
        return false;
      }
      slot->length = want;
      slot->read =
          in.session->submit(in.lun, Command(*spec).read_into(std::span(slot->buf).first(want)));
      slot->reading = true;
    } else {
      const ssize_t n = read_full(in.fd, slot->buf.data(), want);
      if (n < 0) {
        fail_with("read " + in.name, std::error_code(errno, std::system_category()));
        return false;
      }
      if (n == 0) {
        spare.push_back(std::move(slot));
        return false;
      }
      slot->length = static_cast<std::size_t>(n);
      if (static_cast<std::uint64_t>(n) < op.bs) input_done = true;  // the partial last record
    }
    ++next_record;
    reads.push_back(std::move(slot));
    return true;
  };
  auto finish_write = [&]() {
    Slot& w = *writes.front();
    auto r = w.write.get();
    w.writing = false;
    if (!r) {
      fail_with("write " + out.name, r.error());
    } else if (!r->ok()) {
      fail_with("write " + out.name, r->error());
    } else {
      (w.length == op.bs ? stats.full_out : stats.partial_out)++;
      stats.bytes += w.length;
    }
    spare.push_back(std::move(writes.front()));
    writes.pop_front();
  };

  while (rc == kExitOk) {
    if (interrupted()) {
      rc = kExitInterrupted;
      error_text = "interrupted";
      break;
    }
    while (!input_done && rc == kExitOk && reads.size() + writes.size() < queue_depth)
      if (!start_read()) input_done = true;
    if (rc != kExitOk || (reads.empty() && writes.empty())) break;

    if (reads.empty()) {  // only writes left
      finish_write();
      continue;
    }
    // The oldest record: wait for its data, then write it.
    auto slot = std::move(reads.front());
    reads.pop_front();
    if (slot->reading) {
      auto r = slot->read.get();
      slot->reading = false;
      if (!r) {
        fail_with("read " + in.name, r.error());
        break;
      }
      if (!r->ok()) {
        fail_with("read " + in.name, r->error());
        break;
      }
    }
    (slot->length == op.bs ? stats.full_in : stats.partial_in)++;
    if (out.session) {
      std::size_t len = slot->length;
      if (len % out.block_size) {  // pad a short last record to whole blocks
        const std::size_t padded = (len / out.block_size + 1) * out.block_size;
        std::memset(slot->buf.data() + len, 0, padded - len);
        std::fprintf(stderr, "uiscsi-dd: last record padded from %zu to %zu bytes\n", len, padded);
        len = padded;
      }
      const std::uint64_t lba = (op.seek * op.bs + written_records * op.bs) / out.block_size;
      const auto blocks = static_cast<std::uint32_t>(len / out.block_size);
      if (lba + blocks > out.blocks) {
        fail_with("write " + out.name, std::make_error_code(std::errc::no_space_on_device));
        break;
      }
      auto spec = scsi::write16(lba, blocks, out.block_size);
      if (!spec) {
        fail_with("write", spec.error());
        break;
      }
      slot->write =
          out.session->submit(out.lun, Command(*spec).write_from(std::span(slot->buf).first(len)));
      slot->writing = true;
      ++written_records;
      writes.push_back(std::move(slot));
      // Reap what is done; block only when the queue is full.
      while (!writes.empty() && rc == kExitOk &&
             (reads.size() + writes.size() >= queue_depth ||
              writes.front()->write.wait_for(std::chrono::seconds(0)) == std::future_status::ready))
        finish_write();
    } else {
      if (!write_full(out.fd, slot->buf.data(), slot->length)) {
        fail_with("write " + out.name, std::error_code(errno, std::system_category()));
        break;
      }
      (slot->length == op.bs ? stats.full_out : stats.partial_out)++;
      stats.bytes += slot->length;
      ++written_records;
      spare.push_back(std::move(slot));
    }
    progress.update(stats.bytes, stats.full_out + stats.partial_out);
  }
  // Let anything still in flight finish before the buffers go away.
  for (auto& s : reads)
    if (s->reading) (void)s->read.get();
  while (!writes.empty())
    finish_write();
  if (rc == kExitOk && op.fsync && out.session) {
    auto spec = scsi::synchronize_cache16();
    auto r = out.session->run(out.lun, Command(spec));
    if (!r)
      fail_with("synchronize cache", r.error());
    else if (!r->ok())
      fail_with("synchronize cache", r->error());
  } else if (rc == kExitOk && op.fsync && out.fd >= 0 && ::fsync(out.fd) != 0 && errno != EINVAL) {
    fail_with("fsync " + out.name, std::error_code(errno, std::system_category()));
  }
  progress.finish();
  if (rc != kExitOk) std::fprintf(stderr, "uiscsi-dd: %s\n", error_text.c_str());
  print_summary(stats, progress.elapsed_seconds(), op.status);
  if (in.session) (void)in.session->logout(std::chrono::seconds(5));
  if (out.session) (void)out.session->logout(std::chrono::seconds(5));
  return rc;
}
