// Read-ahead and write-behind against tapesim: read-ahead gives exactly the records, statuses
// and positions of unbuffered reads, never leaves the medium past a filemark, and accounts for
// prefetched READs after a failed one; write-behind reports the failing record.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "test_util.hpp"
#include "uiscsi/scsi/command.hpp"

namespace uiscsi::tape::test {
namespace {

// Files of records of mixed sizes separated by filemarks, two filemarks at the end.
void write_files(Drive& d) {
  unsigned seed = 0;
  for (int file = 0; file < 4; ++file) {
    for (int i = 0; i < 3 + file; ++i) {
      ++seed;
      ASSERT_TRUE(d.write(pattern(1 + (seed * 7919) % 70000, seed))) << why(d);
    }
    ASSERT_TRUE(d.write_filemarks(file == 3 ? 2 : 1));
  }
}

struct Step {
  ReadStatus status;
  std::size_t bytes;
  std::int64_t residue;
  std::uint64_t block;  // position after the read (~0: not asked)
  std::vector<std::byte> data;
  bool operator==(const Step&) const = default;
};

// Reads to end of data with `buffer` bytes per read; asks position() after every read when
// `ask_position` (forcing the pipeline to settle each time).
std::vector<Step> read_all(Drive& d, std::size_t buffer, bool ask_position) {
  std::vector<Step> out;
  std::vector<std::byte> buf(buffer);
  for (int guard = 0; guard < 200; ++guard) {
    auto r = d.read(buf);
    EXPECT_TRUE(r) << why(d);
    if (!r) break;
    Step s{r->status, r->bytes, r->residue, ~0ull, {buf.begin(), buf.begin() + r->bytes}};
    if (ask_position) s.block = block_of(d);
    out.push_back(std::move(s));
    if (r->status == ReadStatus::end_of_data) break;
  }
  return out;
}

TEST(TapeReadAhead, SameRecordsStatusesAndPositionsAsDirectReads) {
  auto sim = make_sim();
  auto writer = open_sim(sim);
  ASSERT_TRUE(writer);
  write_files(*writer);
  for (std::size_t buffer : {std::size_t{65536}, std::size_t{80000}}) {
    for (bool ask : {false, true}) {
      ASSERT_TRUE(writer->rewind());
      const auto direct = read_all(*writer, buffer, ask);
      ASSERT_GT(direct.size(), 20u);
      for (unsigned depth : {1u, 2u, 4u, 8u}) {
        DriveOptions o;
        o.read_ahead = depth;
        auto d = open_sim(sim, o);
        ASSERT_TRUE(d);
        ASSERT_TRUE(d->rewind());
        const auto ahead = read_all(*d, buffer, ask);
        EXPECT_EQ(ahead, direct) << "depth " << depth << " buffer " << buffer << " ask " << ask;
      }
    }
  }
}

TEST(TapeReadAhead, StopsAtTheFilemarkForTheNextOperation) {
  auto sim = make_sim();
  DriveOptions o;
  o.read_ahead = 4;
  auto d = open_sim(sim, o);
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->write(pattern(100, 1)));
  ASSERT_TRUE(d->write_filemarks(1));
  for (unsigned i = 2; i < 8; ++i)
    ASSERT_TRUE(d->write(pattern(100, i)));
  ASSERT_TRUE(d->rewind());
  std::vector<std::byte> buf(100);
  EXPECT_EQ(d->read(buf)->status, ReadStatus::data);
  EXPECT_EQ(d->read(buf)->status, ReadStatus::filemark);
  // READs ran past the filemark; the caller is right after it, and so is the medium now.
  const int locates = sim->commands[scsi::opcode::kLocate10];
  auto p = d->position();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->block, 2u);
  EXPECT_EQ(p->file, 1u);
  EXPECT_EQ(sim->commands[scsi::opcode::kLocate10], locates + 1);
  EXPECT_EQ(sim->drive.position()->object, 2u);
  // Appending here keeps the filemark and overwrites what followed it (the original driver
  // appended one record further on).
  ASSERT_TRUE(d->write(pattern(50, 42)));
  ASSERT_TRUE(d->rewind());
  EXPECT_EQ(d->read(buf)->bytes, 100u);
  EXPECT_EQ(d->read(buf)->status, ReadStatus::filemark);
  auto appended = d->read(buf);
  ASSERT_TRUE(appended);
  EXPECT_EQ(appended->bytes, 50u);
  EXPECT_EQ(d->read(buf)->status, ReadStatus::end_of_data);
}

TEST(TapeReadAhead, BufferSizeChangeAndFailedPrefetch) {
  auto sim = make_sim();
  DriveOptions o;
  o.read_ahead = 4;
  auto d = open_sim(sim, o);
  ASSERT_TRUE(d);
  for (unsigned i = 0; i < 12; ++i)
    ASSERT_TRUE(d->write(pattern(1000, i)));
  ASSERT_TRUE(d->rewind());
  std::vector<std::byte> small(10), big(1000);
  auto first = d->read(small);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, ReadStatus::long_record);
  auto second = d->read(big);  // another size: the prefetched 10-byte READs are undone
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, ReadStatus::data);
  EXPECT_EQ(big, pattern(1000, 1));
  // Fail the next READ the drive executes: it is a prefetch, three records ahead.
  sim->drive.inject(scsi::opcode::kRead6, scsi::make_sense(scsi::SenseKey::medium_error, 0x11, 0));
  int failures = 0;
  std::vector<unsigned> seen;
  for (int i = 0; i < 12 && seen.size() < 10; ++i) {
    auto r = d->read(big);
    if (!r) {
      ++failures;
      EXPECT_EQ(r.error(), tape_errc::medium_error);
      continue;
    }
    ASSERT_EQ(r->status, ReadStatus::data);
    for (unsigned k = 0; k < 12; ++k)
      if (big == pattern(1000, k)) seen.push_back(k);
  }
  EXPECT_EQ(failures, 1);
  // The injected failure did not move the medium: every record arrives once, in order.
  EXPECT_EQ(seen, (std::vector<unsigned>{2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
}

// A drive without LOCATE (tgtd): prefetched READs are undone with SPACE, marks one at a time
// and runs of records in one SPACE each; LOCATE is tried once only.
TEST(TapeReadAhead, WithoutLocateSpacesBackOverRecordsAndMarks) {
  auto sim = make_sim();
  sim->unsupported = {scsi::opcode::kLocate10, scsi::opcode::kLocate16};
  DriveOptions o;
  o.read_ahead = 4;
  auto d = open_sim(sim, o);
  ASSERT_TRUE(d);
  for (unsigned i = 0; i < 3; ++i)
    ASSERT_TRUE(d->write(pattern(100 + i, i)));
  ASSERT_TRUE(d->write_filemarks(1));
  for (unsigned i = 3; i < 6; ++i)
    ASSERT_TRUE(d->write(pattern(100 + i, i)));
  ASSERT_TRUE(d->rewind());
  std::vector<std::byte> buf(200);
  ASSERT_EQ(d->read(buf)->bytes, 100u);
  // READs of records 1 and 2 and of the filemark ran ahead: SPACE back over one filemark,
  // then two records.
  const int spaces = sim->commands[scsi::opcode::kSpace6];
  auto p = d->position();
  ASSERT_TRUE(p) << why(*d);
  EXPECT_EQ(p->block, 1u);
  EXPECT_EQ(p->file, 0u);
  EXPECT_EQ(sim->drive.position()->object, 1u);
  EXPECT_EQ(sim->commands[scsi::opcode::kLocate10], 1);
  EXPECT_EQ(sim->commands[scsi::opcode::kSpace6], spaces + 2);
  EXPECT_FALSE(d->last_error()) << why(*d);
  auto next = d->read(buf);
  ASSERT_TRUE(next);
  EXPECT_EQ(std::vector<std::byte>(buf.begin(), buf.begin() + next->bytes), pattern(101, 1));
  // Again, now without a LOCATE first: records 2, the filemark and record 3 ran ahead.
  ASSERT_EQ(d->read(buf)->bytes, 102u);
  EXPECT_EQ(d->read(buf)->status, ReadStatus::filemark);
  ASSERT_TRUE(d->space(SpaceUnit::blocks, 1));
  EXPECT_EQ(sim->commands[scsi::opcode::kLocate10], 1);
  auto after = d->read(buf);
  ASSERT_TRUE(after);
  EXPECT_EQ(std::vector<std::byte>(buf.begin(), buf.begin() + after->bytes), pattern(104, 4));
  EXPECT_EQ(block_of(*d), 6u);
}

TEST(TapeReadAhead, WithoutLocateFixedModeBlocksAroundAFilemark) {
  auto sim = make_sim();
  sim->unsupported = {scsi::opcode::kLocate10, scsi::opcode::kLocate16};
  DriveOptions o;
  o.read_ahead = 8;
  o.block_size = 512;
  auto d = open_sim(sim, o);
  ASSERT_TRUE(d);
  const auto file0 = pattern(10 * 512, 1);
  ASSERT_TRUE(d->write(file0));
  ASSERT_TRUE(d->write_filemarks(1));
  ASSERT_TRUE(d->write(pattern(4 * 512, 2)));
  ASSERT_TRUE(d->rewind());
  std::vector<std::byte> buf(1024);
  auto first = d->read(buf);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->bytes, 1024u);
  // Seven READs ran ahead: 8 blocks, the filemark, 4 blocks. Undone newest first: 4 blocks,
  // the filemark, 8 blocks.
  const int spaces = sim->commands[scsi::opcode::kSpace6];
  EXPECT_EQ(block_of(*d), 2u);
  EXPECT_EQ(sim->drive.position()->object, 2u);
  EXPECT_EQ(sim->commands[scsi::opcode::kSpace6], spaces + 3);
  auto second = d->read(buf);
  ASSERT_TRUE(second);
  EXPECT_EQ(buf, std::vector<std::byte>(file0.begin() + 1024, file0.begin() + 2048));
}

TEST(TapeWriteBehind, ReportsTheFailingRecordAndPosition) {
  // The same sequence without and with write-behind must fail at the same record.
  std::optional<std::uint64_t> direct_record;
  std::uint64_t direct_block = 0;
  for (std::size_t behind : {std::size_t{0}, std::size_t{64 << 10}}) {
    auto sim = make_sim(256 << 10, 64 << 10);
    DriveOptions o;
    o.write_behind_bytes = behind;
    auto d = open_sim(sim, o);
    ASSERT_TRUE(d);
    const auto rec = pattern(16 << 10, 5);
    bool warned = false;
    for (int i = 0; i < 100; ++i) {
      auto w = d->write(rec);
      if (!w) break;
      warned = warned || w->early_warning;
    }
    auto f = d->flush();
    (void)f;
    ASSERT_TRUE(d->last_error());
    EXPECT_EQ(d->last_error()->code, tape_errc::volume_overflow) << d->last_error()->message();
    EXPECT_TRUE(warned) << "early warning not reported, write-behind " << behind;
    ASSERT_TRUE(d->last_error()->record);
    if (behind == 0) {
      direct_record = d->last_error()->record;
      direct_block = block_of(*d);
    } else {
      EXPECT_EQ(d->last_error()->record, direct_record);
      EXPECT_EQ(d->last_error()->block, direct_record);
      EXPECT_EQ(block_of(*d), direct_block);
    }
  }
}

TEST(TapeWriteBehind, FlushesBeforeOtherOperations) {
  auto sim = make_sim();
  DriveOptions o;
  o.write_behind_bytes = 1 << 20;
  auto d = open_sim(sim, o);
  ASSERT_TRUE(d);
  for (unsigned i = 0; i < 5; ++i)
    ASSERT_TRUE(d->write(pattern(1000, i)));
  EXPECT_EQ(block_of(*d), 5u);
  ASSERT_TRUE(d->write_filemarks(1));
  ASSERT_TRUE(d->write(pattern(10, 9)));
  ASSERT_TRUE(d->rewind());
  std::vector<std::byte> buf(1000);
  for (unsigned i = 0; i < 5; ++i) {
    auto r = d->read(buf);
    ASSERT_TRUE(r);
    EXPECT_EQ(buf, pattern(1000, i));
  }
  EXPECT_EQ(d->read(buf)->status, ReadStatus::filemark);
}

// The pipelines with completions arriving later from another thread (as over a session)
// rather than within start(): the same records, statuses, positions and failing record.
TEST(TapePipeline, DeferredCompletionsChangeNothing) {
  auto sim = make_sim();
  {
    auto writer = open_sim(sim);
    ASSERT_TRUE(writer);
    write_files(*writer);
  }
  auto deferred_sim = make_sim();
  deferred_sim->deferred = true;
  {
    DriveOptions o;
    o.write_behind_bytes = 200 << 10;
    auto writer = open_sim(deferred_sim, o);
    ASSERT_TRUE(writer);
    write_files(*writer);
  }
  for (bool ask : {false, true}) {
    auto direct = open_sim(sim);
    ASSERT_TRUE(direct);
    ASSERT_TRUE(direct->rewind());
    const auto expected = read_all(*direct, 65536, ask);
    ASSERT_GT(expected.size(), 20u);
    for (unsigned depth : {0u, 2u, 3u, 8u}) {
      DriveOptions o;
      o.read_ahead = depth;
      auto d = open_sim(deferred_sim, o);
      ASSERT_TRUE(d);
      ASSERT_TRUE(d->rewind());
      EXPECT_EQ(read_all(*d, 65536, ask), expected) << "depth " << depth << " ask " << ask;
    }
  }

  // Write-behind up to VOLUME OVERFLOW fails at the same record as direct writes.
  std::optional<std::uint64_t> failed[2];
  std::uint64_t block[2] = {0, 0};
  for (int deferred : {0, 1}) {
    auto small = make_sim(256 << 10, 64 << 10);
    small->deferred = deferred != 0;
    DriveOptions o;
    o.write_behind_bytes = deferred != 0 ? 64 << 10 : 0;
    auto d = open_sim(small, o);
    ASSERT_TRUE(d);
    const auto rec = pattern(16 << 10, 5);
    for (int i = 0; i < 100; ++i)
      if (!d->write(rec)) break;
    (void)d->flush();
    ASSERT_TRUE(d->last_error());
    EXPECT_EQ(d->last_error()->code, tape_errc::volume_overflow) << d->last_error()->message();
    failed[deferred] = d->last_error()->record;
    block[deferred] = block_of(*d);
  }
  ASSERT_TRUE(failed[0]);
  EXPECT_EQ(failed[1], failed[0]);
  EXPECT_EQ(block[1], block[0]);
}

}  // namespace
}  // namespace uiscsi::tape::test
