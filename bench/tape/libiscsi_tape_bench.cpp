// libiscsi_tape_bench: the libiscsi side of the tape comparison. Sequential variable-length
// WRITE(6) and READ(6) with hand-built CDBs through iscsi_scsi_command_async, with a fixed
// number of commands in flight (depth), straight into and out of the program's buffers
// (scsi_task_add_data_in_buffer; write data passed by pointer).
//
//   libiscsi_tape_bench iscsi://127.0.0.1:PORT/IQN/LUN [--records 64K,256K,1M] [--mib 1024]
//                       [--read-depth 1,4] [--write-depth 1] [--rounds 3] [--warmup-mib 64]
//                       [--target-pid PID] [--target NAME] [--client NAME]
//
// Same passes, order, checks and output as tape_bench (bench_common.hpp): per round and record
// size, each write depth writes `mib` MiB from BOP and a filemark, each read depth rewinds and
// reads up to the filemark checking every record. Settings are named "qdN".
//
// Depth > 1 sends the commands with the SIMPLE task attribute (libiscsi has no other); a target
// that executes them out of order shows up as errors (records out of order), which is why the
// last write depth should be 1 (the reads check what it wrote). At depth > 1 a READ issued
// after the one that meets the filemark runs past it (into end of data here): harmless, as the
// tape is rewound before every pass.
//
// Setup: TEST UNIT READY until GOOD (passing the power-on unit attention), then MODE SELECT(6)
// with a block descriptor of block length 0 (variable mode).
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <poll.h>

#include <cstdio>
#include <deque>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.hpp"

namespace {

using tape_bench::Clock;
using tape_bench::MemoryWatch;
using tape_bench::PassResult;
using tape_bench::RecordPattern;

// SCSI status GOOD and CHECK CONDITION as libiscsi reports them in scsi_task::status.
constexpr int kGood = SCSI_STATUS_GOOD;
constexpr int kCheckCondition = SCSI_STATUS_CHECK_CONDITION;

struct Connection {
  iscsi_context* iscsi = nullptr;
  int lun = 0;
  ~Connection() {
    if (iscsi != nullptr) {
      iscsi_logout_sync(iscsi);
      iscsi_destroy_context(iscsi);
    }
  }
};

// One command in flight: its buffer, what it is, and how it ended.
struct Slot {
  std::vector<std::byte> buffer;
  std::uint64_t index = 0;  // write: the record it carries
  bool busy = false;
};

struct Pipeline;

struct Completion {
  Pipeline* pipeline = nullptr;
  Slot* slot = nullptr;
};

// Runs commands with up to `depth` in flight and calls `done` for each in completion order.
struct Pipeline {
  explicit Pipeline(Connection& connection) : c(connection) {}
  Connection& c;
  std::size_t in_flight = 0;
  bool transport_failed = false;
  // Filled by the callback for the caller's loop.
  struct Done {
    Slot* slot;
    int status;
    scsi_sense_key key;
    int ascq;
    std::size_t residual;
  };
  std::deque<Done> finished;

  static void callback(iscsi_context* /*iscsi*/, int status, void* command_data,
                       void* private_data) {
    auto* task = static_cast<scsi_task*>(command_data);
    auto* p = static_cast<Completion*>(private_data);
    Done d{p->slot, status, SCSI_SENSE_NO_SENSE, 0, 0};
    if (task != nullptr) {
      d.status = task->status;
      d.key = task->sense.key;
      d.ascq = task->sense.ascq;
      d.residual = task->residual_status == SCSI_RESIDUAL_UNDERFLOW ? task->residual : 0;
      scsi_free_scsi_task(task);
    }
    if (status != SCSI_STATUS_GOOD && status != SCSI_STATUS_CHECK_CONDITION)
      p->pipeline->transport_failed = true;
    p->pipeline->finished.push_back(d);
    --p->pipeline->in_flight;
    delete p;
  }

  // Sends a 6-byte CDB moving `slot`'s buffer (in or out). False when libiscsi refuses.
  bool send(const unsigned char (&cdb)[6], Slot& slot, bool write) {
    scsi_task* task = scsi_create_task(6, const_cast<unsigned char*>(cdb),
                                       write ? SCSI_XFER_WRITE : SCSI_XFER_READ,
                                       static_cast<int>(slot.buffer.size()));
    if (task == nullptr) return false;
    auto* ctx = new Completion{this, &slot};
    iscsi_data data{};
    if (write) {
      data.size = slot.buffer.size();
      data.data = reinterpret_cast<unsigned char*>(slot.buffer.data());
    } else {
      scsi_task_add_data_in_buffer(task, static_cast<int>(slot.buffer.size()),
                                   reinterpret_cast<unsigned char*>(slot.buffer.data()));
    }
    if (iscsi_scsi_command_async(c.iscsi, c.lun, task, &Pipeline::callback, write ? &data : nullptr,
                                 ctx) != 0) {
      scsi_free_scsi_task(task);
      delete ctx;
      return false;
    }
    slot.busy = true;
    ++in_flight;
    return true;
  }

  // Services the socket until at least one command finished (or the transport failed).
  bool wait_one() {
    while (finished.empty() && !transport_failed) {
      pollfd pfd{iscsi_get_fd(c.iscsi), static_cast<short>(iscsi_which_events(c.iscsi)), 0};
      if (poll(&pfd, 1, 60000) <= 0) return false;
      if (iscsi_service(c.iscsi, pfd.revents) < 0) return false;
    }
    return !transport_failed;
  }
};

void cdb6(unsigned char (&cdb)[6], unsigned char opcode, std::uint32_t length) {
  cdb[0] = opcode;
  cdb[1] = 0;  // variable length; READ: SILI = 0
  cdb[2] = static_cast<unsigned char>(length >> 16);
  cdb[3] = static_cast<unsigned char>(length >> 8);
  cdb[4] = static_cast<unsigned char>(length);
  cdb[5] = 0;
}

bool simple_command(Connection& c, const unsigned char (&cdb)[6], std::vector<unsigned char> out,
                    const char* what) {
  scsi_task* task = scsi_create_task(6, const_cast<unsigned char*>(cdb),
                                     out.empty() ? SCSI_XFER_NONE : SCSI_XFER_WRITE,
                                     static_cast<int>(out.size()));
  iscsi_data data{out.size(), out.data()};
  scsi_task* done = iscsi_scsi_command_sync(c.iscsi, c.lun, task, out.empty() ? nullptr : &data);
  const bool ok = done != nullptr && done->status == kGood;
  if (!ok) {
    std::fprintf(stderr, "libiscsi_tape_bench: %s failed: %s\n", what,
                 done != nullptr ? iscsi_get_error(c.iscsi) : "transport");
  }
  scsi_free_scsi_task(task);
  return ok;
}

bool rewind(Connection& c) {
  const unsigned char cdb[6] = {0x01, 0, 0, 0, 0, 0};
  return simple_command(c, cdb, {}, "REWIND");
}

PassResult write_pass(Connection& c, const RecordPattern& pattern, std::uint64_t count,
                      unsigned depth, const std::string& target_pid) {
  PassResult out;
  out.op = "write";
  out.record = pattern.body().size();
  out.setting = "qd" + std::to_string(depth);
  if (!rewind(c)) {
    out.errors = count;
    return out;
  }
  std::vector<Slot> slots(depth);
  for (auto& s : slots)
    s.buffer = pattern.body();
  Pipeline p(c);
  unsigned char cdb[6];
  cdb6(cdb, 0x0a, static_cast<std::uint32_t>(out.record));
  MemoryWatch watch(target_pid);
  watch.start();
  const auto t0 = Clock::now();
  std::uint64_t next = 0;
  bool stop = false;
  while (!stop || p.in_flight > 0) {
    for (auto& s : slots) {
      if (stop || s.busy || next == count) continue;
      s.index = next++;
      RecordPattern::stamp(s.buffer.data(), s.index);
      if (!p.send(cdb, s, true)) stop = true;
    }
    if (next == count) stop = true;
    if (p.in_flight == 0) break;
    if (!p.wait_one()) {
      out.errors += 1;
      break;
    }
    while (!p.finished.empty()) {
      const auto d = p.finished.front();
      p.finished.pop_front();
      d.slot->busy = false;
      if (d.status == kGood) {
        ++out.records;
      } else {
        ++out.errors;
        stop = true;
      }
    }
  }
  const unsigned char filemark[6] = {0x10, 0, 0, 0, 1, 0};
  if (out.errors == 0 && !simple_command(c, filemark, {}, "WRITE FILEMARKS")) ++out.errors;
  const double secs = tape_bench::seconds_since(t0);
  watch.stop();
  if (out.records != count) out.errors += count - out.records;
  out.mib_s = static_cast<double>(out.records * out.record) / (1 << 20) / secs;
  out.take(watch);
  return out;
}

PassResult read_pass(Connection& c, const RecordPattern& pattern, std::uint64_t count,
                     unsigned depth, const std::string& target_pid) {
  PassResult out;
  out.op = "read";
  out.record = pattern.body().size();
  out.setting = "qd" + std::to_string(depth);
  if (!rewind(c)) {
    out.errors = count;
    return out;
  }
  std::vector<Slot> slots(depth);
  for (auto& s : slots)
    s.buffer.resize(out.record);
  Pipeline p(c);
  unsigned char cdb[6];
  cdb6(cdb, 0x08, static_cast<std::uint32_t>(out.record));
  MemoryWatch watch(target_pid);
  watch.start();
  const auto t0 = Clock::now();
  std::uint64_t bytes = 0;
  bool boundary = false;  // a filemark, end of data or an error: issue nothing more
  bool saw_filemark = false;
  for (;;) {
    for (auto& s : slots) {
      if (boundary || s.busy) continue;
      if (!p.send(cdb, s, false)) boundary = true;
    }
    if (p.in_flight == 0) break;
    if (!p.wait_one()) {
      ++out.errors;
      break;
    }
    while (!p.finished.empty()) {
      const auto d = p.finished.front();
      p.finished.pop_front();
      d.slot->busy = false;
      if (boundary) continue;  // READs that ran past the filemark
      if (d.status == kGood) {
        const std::size_t got = out.record - d.residual;
        if (!pattern.matches(d.slot->buffer.data(), got, out.records)) ++out.errors;
        bytes += got;
        ++out.records;
        continue;
      }
      boundary = true;
      // NO SENSE with ASC/ASCQ 00/01: FILEMARK DETECTED, where this pass ends.
      if (d.status == kCheckCondition && d.key == SCSI_SENSE_NO_SENSE && d.ascq == 0x0001) {
        saw_filemark = true;
      } else {
        std::fprintf(stderr, "libiscsi_tape_bench: READ(6) record %llu: status %d key %d %04x\n",
                     static_cast<unsigned long long>(out.records), d.status,
                     static_cast<int>(d.key), d.ascq);
        ++out.errors;
      }
    }
  }
  const double secs = tape_bench::seconds_since(t0);
  watch.stop();
  if (!saw_filemark || out.records != count) {
    std::fprintf(stderr, "libiscsi_tape_bench: read %llu records (expected %llu)%s\n",
                 static_cast<unsigned long long>(out.records),
                 static_cast<unsigned long long>(count), saw_filemark ? "" : ", no filemark");
    ++out.errors;
  }
  out.mib_s = static_cast<double>(bytes) / (1 << 20) / secs;
  out.take(watch);
  return out;
}

bool connect(Connection& c, const std::string& url_text) {
  c.iscsi = iscsi_create_context("iqn.2026-11.dev.uiscsi.bench:libiscsi-tape");
  if (c.iscsi == nullptr) return false;
  iscsi_url* url = iscsi_parse_full_url(c.iscsi, url_text.c_str());
  if (url == nullptr) {
    std::fprintf(stderr, "libiscsi_tape_bench: %s\n", iscsi_get_error(c.iscsi));
    return false;
  }
  iscsi_set_targetname(c.iscsi, url->target);
  iscsi_set_session_type(c.iscsi, ISCSI_SESSION_NORMAL);
  iscsi_set_header_digest(c.iscsi, ISCSI_HEADER_DIGEST_NONE);
  c.lun = url->lun;
  const bool ok = iscsi_full_connect_sync(c.iscsi, url->portal, url->lun) == 0;
  iscsi_destroy_url(url);
  if (!ok) {
    std::fprintf(stderr, "libiscsi_tape_bench: login: %s\n", iscsi_get_error(c.iscsi));
    return false;
  }
  // TEST UNIT READY until GOOD: the first command of a session meets the power-on UA.
  for (int i = 0; i < 10; ++i) {
    scsi_task* t = iscsi_testunitready_sync(c.iscsi, c.lun);
    const bool ready = t != nullptr && t->status == kGood;
    if (t != nullptr) scsi_free_scsi_task(t);
    if (ready) break;
  }
  // MODE SELECT(6), PF = 1: header (no data length, device-specific: buffered mode 1, block
  // descriptor length 8) and a block descriptor with density 0 and block length 0.
  const unsigned char select[6] = {0x15, 0x10, 0, 0, 12, 0};
  return simple_command(c, select, {0, 0, 0x10, 8, 0, 0, 0, 0, 0, 0, 0, 0}, "MODE SELECT(6)");
}

template <typename T>
std::vector<T> in_round_order(std::vector<T> items, int round) {
  if (round % 2 == 0) std::reverse(items.begin(), items.end());
  return items;
}

int run(const tape_bench::Options& opts) {
  const auto records = opts.sizes("records");
  const auto read_depths = opts.sizes("read-depth");
  const auto write_depths = opts.sizes("write-depth");
  const std::uint64_t total = opts.size("mib") << 20;
  const std::uint64_t warmup = opts.size("warmup-mib") << 20;
  const int rounds = static_cast<int>(opts.size("rounds"));
  const std::string target_pid = opts.text("target-pid");
  const std::string client = opts.text("client");
  const std::string target = opts.text("target");
  if (records.empty() || total == 0 || rounds < 1) return 2;
  Connection c;
  if (!connect(c, opts.url())) return 3;

  std::vector<PassResult> results;
  std::uint64_t errors = 0;
  auto keep = [&](PassResult r, int round) {
    r.round = round;
    errors += r.errors;
    if (round > 0) tape_bench::print_result_line(client, target, r);
    results.push_back(std::move(r));
  };
  for (int round = 0; round <= rounds; ++round) {
    const std::uint64_t bytes = round == 0 ? warmup : total;
    if (bytes == 0) continue;
    for (const std::uint64_t record : in_round_order(records, round)) {
      const RecordPattern pattern(record);
      const std::uint64_t count = std::max<std::uint64_t>(1, bytes / record);
      // Writes keep the given order (the last one's records are what the reads check).
      for (const std::uint64_t depth : write_depths)
        keep(write_pass(c, pattern, count, static_cast<unsigned>(depth), target_pid), round);
      for (const std::uint64_t depth : in_round_order(read_depths, round))
        keep(read_pass(c, pattern, count, static_cast<unsigned>(depth), target_pid), round);
    }
  }
  return tape_bench::finish_run(client, target, total, rounds, results, errors);
}

}  // namespace

int main(int argc, char** argv) {
  return tape_bench::bench_main(argc, argv, "libiscsi_tape_bench",
                                {{"records", "64K,256K,1M"},
                                 {"mib", "1024"},
                                 {"read-depth", "1,4"},
                                 {"write-depth", "1"},
                                 {"rounds", "3"},
                                 {"warmup-mib", "64"},
                                 {"target-pid", ""},
                                 {"client", "libiscsi"},
                                 {"target", "target"}},
                                run);
}
