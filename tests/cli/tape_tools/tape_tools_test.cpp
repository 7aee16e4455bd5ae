// uiscsi-tape-dd and uiscsi-mt as a user runs them, against uiscsi-target's simulated tape
// drives: data round trips byte for byte, mt-st's commands and output, and every way a new
// user gets it wrong. Each test gets its own target, so the tape starts blank.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "cli/run_tool.hpp"
#include "cli/target_process.hpp"
#include "interop/support.hpp"

namespace uiscsi {
namespace {

using testing::lines;
using testing::Ran;
using testing::run;
using testing::TargetProcess;
using testing::tool;

const std::string kTapeDd = UISCSI_TAPE_DD;
const std::string kMt = UISCSI_MT;

bool contains(const std::string& text, const std::string& fragment) {
  return text.find(fragment) != std::string::npos;
}

void expect_one_error_line(const Ran& r, int code, const std::string& fragment) {
  EXPECT_EQ(r.code, code) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_TRUE(contains(r.err, fragment)) << "expected '" << fragment << "' in: " << r.err;
}

// A strict JSON reader, enough to check that the tools print valid JSON: returns the top-level
// object's members as raw JSON text, or nullopt when the text is not one valid object.
class JsonObject {
 public:
  static std::optional<std::map<std::string, std::string>> parse(const std::string& text) {
    JsonObject p(text);
    std::map<std::string, std::string> members;
    p.skip_space();
    if (!p.object(&members)) return std::nullopt;
    p.skip_space();
    if (p.pos_ != text.size()) return std::nullopt;
    return members;
  }

 private:
  explicit JsonObject(const std::string& text) : s_(text) {}
  void skip_space() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_])))
      ++pos_;
  }
  bool eat(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool string(std::string* out) {
    skip_space();
    if (pos_ >= s_.size() || s_[pos_] != '"') return false;
    ++pos_;
    std::string text;
    while (pos_ < s_.size() && s_[pos_] != '"') {
      if (static_cast<unsigned char>(s_[pos_]) < 0x20) return false;
      if (s_[pos_] == '\\') {
        if (++pos_ >= s_.size()) return false;
        if (s_[pos_] == 'u') {
          if (pos_ + 4 >= s_.size()) return false;
          for (int i = 1; i <= 4; ++i)
            if (!std::isxdigit(static_cast<unsigned char>(s_[pos_ + i]))) return false;
          pos_ += 4;
        } else if (std::string("\"\\/bfnrt").find(s_[pos_]) == std::string::npos) {
          return false;
        }
      }
      text += s_[pos_++];
    }
    if (pos_ >= s_.size()) return false;
    ++pos_;
    if (out) *out = text;
    return true;
  }
  bool literal(const char* word) {
    const std::string w(word);
    if (s_.compare(pos_, w.size(), w) != 0) return false;
    pos_ += w.size();
    return true;
  }
  bool number() {
    const std::size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    while (pos_ < s_.size() &&
           (std::isdigit(static_cast<unsigned char>(s_[pos_])) || s_[pos_] == '.' ||
            s_[pos_] == 'e' || s_[pos_] == 'E' || s_[pos_] == '+' || s_[pos_] == '-'))
      ++pos_;
    return pos_ > start && std::isdigit(static_cast<unsigned char>(s_[pos_ - 1]));
  }
  bool value() {
    skip_space();
    if (pos_ >= s_.size()) return false;
    switch (s_[pos_]) {
      case '{':
        return object(nullptr);
      case '[':
        ++pos_;
        if (eat(']')) return true;
        do {
          if (!value()) return false;
        } while (eat(','));
        return eat(']');
      case '"':
        return string(nullptr);
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
      default:
        return number();
    }
  }
  bool object(std::map<std::string, std::string>* members) {
    if (!eat('{')) return false;
    if (eat('}')) return true;
    do {
      std::string key;
      if (!string(&key) || !eat(':')) return false;
      skip_space();
      const std::size_t start = pos_;
      if (!value()) return false;
      if (members) (*members)[key] = s_.substr(start, pos_ - start);
    } while (eat(','));
    return eat('}');
  }

  const std::string& s_;
  std::size_t pos_ = 0;
};

class TapeTools : public ::testing::Test {
 protected:
  TargetProcess target;  // LUN 0: a 16 MiB disk; LUN 1: a tape drive with a blank 64 MiB tape
  std::filesystem::path dir;

  void SetUp() override {
    dir = testing::temp_dir("tape-tools");
    ASSERT_FALSE(dir.empty());
    ASSERT_TRUE(target.start(UISCSI_TARGET, {"--ram", "16M", "--tape", "64M"}));
  }
  void TearDown() override {
    target.stop();
    std::filesystem::remove_all(dir);
  }
  [[nodiscard]] std::string tape() const { return target.url(1); }
  [[nodiscard]] std::string file(const std::string& name) const { return (dir / name).string(); }
  std::string random_file(const std::string& name, std::size_t bytes) const {
    const std::string path = file(name);
    EXPECT_EQ(run("head -c " + std::to_string(bytes) + " /dev/urandom > " + path), 0);
    return path;
  }
  [[nodiscard]] Ran mt(const std::string& args) const {
    return tool(kMt + " -f " + tape() + " " + args);
  }
  [[nodiscard]] Ran write_file(const std::string& path, const std::string& args) const {
    return tool(kTapeDd + " if=" + path + " of=" + tape() + " " + args);
  }
  [[nodiscard]] Ran read_file(const std::string& path, const std::string& args) const {
    return tool(kTapeDd + " if=" + tape() + " of=" + path + " " + args);
  }
  // Three files of two 4 KiB records each: objects 0-1 data, 2 filemark, 3-4, 5, 6-7, 8 (EOD 9).
  void write_three_files() const {
    const std::string data = random_file("two-records", 8192);
    ASSERT_EQ(write_file(data, "bs=4K").code, 0);
    ASSERT_EQ(write_file(data, "bs=4K --append").code, 0);
    ASSERT_EQ(write_file(data, "bs=4K --append").code, 0);
  }
  void expect_at_block(const std::string& block) const {
    const Ran r = mt("tell");
    EXPECT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(r.out, "At block " + block + ".\n");
  }
};

bool same_file(const std::string& a, const std::string& b) {
  return run("cmp -s " + a + " " + b) == 0;
}

// ---- uiscsi-tape-dd ----

TEST_F(TapeTools, RoundTripOfSeveralFilesOnOneTape) {
  const std::string a = random_file("a", 3000000), b = random_file("b", 1500000);
  const Ran wa = write_file(a, "bs=64K");
  EXPECT_EQ(wa.code, 0) << wa.err;
  EXPECT_TRUE(contains(wa.err, "45+1 records in\n45+1 records out\n3000000 bytes")) << wa.err;
  const Ran wb = write_file(b, "bs=32K --append");
  EXPECT_EQ(wb.code, 0) << wb.err;
  EXPECT_TRUE(contains(wb.err, "45+1 records in")) << wb.err;

  const Ran ra = read_file(file("a.back"), "bs=64K");
  EXPECT_EQ(ra.code, 0) << ra.err;
  EXPECT_TRUE(contains(ra.err, "end of file (filemark) after 46 records")) << ra.err;
  EXPECT_TRUE(contains(ra.err, "45+1 records in\n45+1 records out\n3000000 bytes")) << ra.err;
  EXPECT_TRUE(same_file(a, file("a.back")));

  const Ran rb = read_file(file("b.back"), "bs=32K --skip-files 1");
  EXPECT_EQ(rb.code, 0) << rb.err;
  EXPECT_TRUE(same_file(b, file("b.back")));

  // Past the last file: end of data, nothing copied, no error.
  const Ran rc = read_file(file("c.back"), "bs=32K --skip-files 2");
  EXPECT_EQ(rc.code, 0) << rc.err;
  EXPECT_TRUE(contains(rc.err, "end of data (blank check) after 0 records")) << rc.err;
  EXPECT_EQ(std::filesystem::file_size(file("c.back")), 0u);

  // More files than the tape has.
  const Ran rd = read_file(file("d.back"), "--skip-files 5");
  expect_one_error_line(rd, 1, "skip-files 5: only 2 before the end of data");
}

TEST_F(TapeTools, StdinToTapeAndTapeToStdout) {
  const std::string a = random_file("a", 200000);
  const Ran w = tool("cat " + a + " | " + kTapeDd + " of=" + tape() + " bs=10K status=none");
  EXPECT_EQ(w.code, 0) << w.err;
  EXPECT_EQ(w.err, "");
  const Ran r = tool(kTapeDd + " if=" + tape() + " bs=10K status=none > " + file("a.back"));
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(same_file(a, file("a.back")));
}

TEST_F(TapeTools, FixedModePadsTheLastBlockWithZeros) {
  const std::string a = random_file("a", 100000);
  const Ran w = write_file(a, "--block-size 512 bs=8K");
  EXPECT_EQ(w.code, 0) << w.err;
  EXPECT_TRUE(contains(w.err, "last record padded with zeros from 1696 to 2048 bytes")) << w.err;
  EXPECT_TRUE(contains(w.err, "12+1 records in\n12+1 records out\n100352 bytes")) << w.err;

  const Ran status = mt("status");
  EXPECT_TRUE(contains(status.out, "Tape block size 512 bytes.")) << status.out;

  // --fixed reads with the drive's block size (now 512).
  const Ran r = read_file(file("a.back"), "--fixed bs=8K");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "end of file (filemark) after 13 records")) << r.err;
  EXPECT_EQ(std::filesystem::file_size(file("a.back")), 100352u);
  EXPECT_EQ(run("head -c 100000 " + file("a.back") + " | cmp -s - " + a), 0);
  EXPECT_EQ(run("tail -c 352 " + file("a.back") + " | tr -d '\\000' | wc -c | grep -qx 0"), 0);

  // bs must be whole blocks in fixed mode.
  expect_one_error_line(read_file(file("x"), "--fixed bs=1000"), 2, "not a multiple");
}

TEST_F(TapeTools, VariableModeKeepsMixedRecordSizes) {
  const std::string a = random_file("a", 10000);
  const Ran w = write_file(a, "bs=3000");  // records of 3000, 3000, 3000 and 1000 bytes
  EXPECT_EQ(w.code, 0) << w.err;
  EXPECT_TRUE(contains(w.err, "3+1 records in\n3+1 records out\n")) << w.err;
  // A bigger buffer: every record is shorter than bs, which is fine in variable mode.
  const Ran r = read_file(file("a.back"), "bs=4096");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "0+4 records in\n0+4 records out\n10000 bytes")) << r.err;
  EXPECT_TRUE(same_file(a, file("a.back")));
  const Ran status = mt("status");
  EXPECT_TRUE(contains(status.out, "Tape block size 0 bytes.")) << status.out;
}

TEST_F(TapeTools, RecordLongerThanBsIsAnErrorNamingItsLength) {
  const std::string a = random_file("a", 10000);
  ASSERT_EQ(write_file(a, "bs=5000").code, 0);
  const Ran r = read_file(file("a.back"), "bs=1000");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_TRUE(contains(r.err, "record 1 is 5000 bytes, longer than bs=1000 (ILI)")) << r.err;
  EXPECT_TRUE(contains(r.err, "0+0 records in")) << r.err;
}

TEST_F(TapeTools, CountAndSkipRecords) {
  const std::string a = random_file("a", 40960);
  ASSERT_EQ(write_file(a, "bs=4K").code, 0);
  const Ran first = read_file(file("first"), "bs=4K count=3");
  EXPECT_EQ(first.code, 0) << first.err;
  EXPECT_TRUE(contains(first.err, "3+0 records in\n3+0 records out\n12288 bytes")) << first.err;
  EXPECT_FALSE(contains(first.err, "filemark")) << first.err;
  EXPECT_EQ(run("head -c 12288 " + a + " | cmp -s - " + file("first")), 0);

  const Ran skipped = read_file(file("third"), "bs=4K --skip-records 2 --count 1");
  EXPECT_EQ(skipped.code, 0) << skipped.err;
  EXPECT_EQ(run("head -c 12288 " + a + " | tail -c 4096 | cmp -s - " + file("third")), 0);
  // dd's skip= is the same.
  const Ran operand = read_file(file("third2"), "bs=4K skip=2 count=1");
  EXPECT_EQ(operand.code, 0) << operand.err;
  EXPECT_TRUE(same_file(file("third"), file("third2")));
  // Skipping past the file's end stops at its filemark.
  expect_one_error_line(read_file(file("x"), "bs=4K --skip-records 11"), 1,
                        "skip-records 11: only 10 before a filemark");
  // With --no-rewind the tape stays right after the records copied, read-ahead or not.
  ASSERT_EQ(read_file("/dev/null", "bs=4K count=3 --no-rewind").code, 0);
  expect_at_block("3");
}

TEST_F(TapeTools, SeekFilesWritesOverTheFilesFromThere) {
  write_three_files();
  const std::string d = random_file("d", 5000);
  const Ran w = write_file(d, "--bs 4K --seek-files 1");  // --bs takes dd's sizes too
  EXPECT_EQ(w.code, 0) << w.err;
  EXPECT_TRUE(contains(w.err, "1+1 records in")) << w.err;
  const Ran second = read_file(file("second"), "--skip-files 1");
  EXPECT_EQ(second.code, 0) << second.err;
  EXPECT_TRUE(same_file(d, file("second")));
  // Writing ends the tape there: the third file is gone.
  const Ran third = read_file(file("third"), "--skip-files 2");
  EXPECT_TRUE(contains(third.err, "end of data (blank check) after 0 records")) << third.err;
}

TEST_F(TapeTools, NoRewindLeavesTheTapeAfterTheFile) {
  const std::string a = random_file("a", 8192);
  ASSERT_EQ(write_file(a, "bs=4K").code, 0);
  expect_at_block("0");  // rewound, like /dev/st0
  ASSERT_EQ(write_file(a, "bs=4K --no-rewind").code, 0);
  expect_at_block("3");  // two records and the filemark, like /dev/nst0
}

TEST_F(TapeTools, DoubleFilemarkAtTheEnd) {
  const std::string a = random_file("a", 8192);
  const Ran w = write_file(a, "bs=4K --eot --no-rewind");
  EXPECT_EQ(w.code, 0) << w.err;
  expect_at_block("4");
  // The second filemark ends an empty file.
  const Ran r = read_file(file("empty"), "--rewind --skip-files 1");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "end of file (filemark) after 0 records")) << r.err;
}

TEST_F(TapeTools, CompressOptionSetsTheDrive) {
  const std::string a = random_file("a", 8192);
  ASSERT_EQ(write_file(a, "bs=4K --compress off").code, 0);
  EXPECT_TRUE(contains(mt("status").out, "Compression: off"));
  ASSERT_EQ(write_file(a, "bs=4K --append --compress on").code, 0);
  EXPECT_TRUE(contains(mt("status").out, "Compression: on"));
}

TEST_F(TapeTools, ReadAheadAndWriteBehindOffGiveTheSameData) {
  const std::string a = random_file("a", 300000);
  ASSERT_EQ(write_file(a, "bs=16K --write-behind 0").code, 0);
  const Ran r = read_file(file("a.back"), "bs=16K --read-ahead 0");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(same_file(a, file("a.back")));
}

// The progress line appears when stderr is a terminal (here a pseudo-terminal from script(1));
// the target answers slowly so that the copy lasts long enough for it to be drawn.
TEST(TapeToolsTargets, ProgressLineOnATerminal) {
  if (!testing::have_program("script")) GTEST_SKIP() << "script(1) is not installed";
  TargetProcess slow;
  ASSERT_TRUE(slow.start(UISCSI_TARGET, {"--tape", "64M", "--response-delay", "20"}));
  const auto dir = testing::temp_dir("tape-tools-progress");
  const std::string input = (dir / "in").string();
  ASSERT_EQ(run("head -c 204800 /dev/urandom > " + input), 0);
  std::string terminal;
  const int code = run("script -qec '" + kTapeDd + " if=" + input + " of=" + slow.url(0) +
                           " bs=4K --write-behind 0' /dev/null",
                       &terminal);
  std::filesystem::remove_all(dir);
  EXPECT_EQ(code, 0) << terminal;
  EXPECT_TRUE(contains(terminal, "\r")) << terminal;
  EXPECT_TRUE(contains(terminal, " MiB/s, ")) << terminal;
  EXPECT_TRUE(contains(terminal, " records, ETA ")) << terminal;
  EXPECT_TRUE(contains(terminal, "50+0 records out")) << terminal;
}

// SIGINT while writing: the records so far are on the tape, ended by a filemark; exit 130.
TEST_F(TapeTools, InterruptedWriteStillEndsTheFile) {
  const std::string a = random_file("a", 40960);
  // The braces send the whole group's stderr to tool()'s capture.
  const Ran w = tool("{ (cat " + a + "; sleep 4) | " + kTapeDd + " of=" + tape() +
                     " bs=4K & pid=$!; sleep 2; kill -INT $pid; wait $pid; }");
  EXPECT_EQ(w.code, 130) << w.err;
  EXPECT_TRUE(contains(w.err, "interrupted")) << w.err;
  EXPECT_TRUE(contains(w.err, "10+0 records out")) << w.err;
  const Ran r = read_file(file("a.back"), "bs=4K");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "end of file (filemark) after 10 records")) << r.err;
  EXPECT_TRUE(same_file(a, file("a.back")));
}

class SmallTape : public TapeTools {
 protected:
  void SetUp() override {
    dir = testing::temp_dir("tape-tools-small");
    ASSERT_TRUE(target.start(UISCSI_TARGET, {"--ram", "1M", "--tape", "2M"}));
  }
};

TEST_F(SmallTape, EarlyWarningIsAWarning) {
  const std::string a = random_file("a", 1200 * 1024);
  const Ran w = write_file(a, "bs=64K");
  EXPECT_EQ(w.code, 0) << w.err;
  EXPECT_TRUE(contains(w.err, "warning: end of medium early warning")) << w.err;
  const Ran r = read_file(file("a.back"), "bs=64K");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(same_file(a, file("a.back")));
}

TEST_F(SmallTape, VolumeOverflowIsAnError) {
  const std::string a = random_file("a", 3 * 1024 * 1024);
  const Ran w = write_file(a, "bs=64K");
  EXPECT_EQ(w.code, 1) << w.err;
  // One error line, then the summary: only what reached the tape counts as written.
  EXPECT_TRUE(contains(w.err, "volume overflow: data not written")) << w.err;
  // (How many records were read in depends on when write-behind saw the failure.)
  EXPECT_TRUE(contains(w.err, "+0 records in\n32+0 records out\n2097152 bytes")) << w.err;
  // The early warning shows only when write-behind saw it before the failure.
  const bool warned = contains(w.err, "warning: end of medium early warning");
  EXPECT_EQ(lines(w.err), warned ? 5 : 4) << w.err;
}

// ---- uiscsi-mt ----

TEST_F(TapeTools, StatusOfAFreshTape) {
  const Ran r = mt("status");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "File number=0, block number=0, partition=0.")) << r.out;
  EXPECT_TRUE(contains(r.out, "Tape block size ")) << r.out;
  EXPECT_TRUE(contains(r.out, "Density code 0x")) << r.out;
  EXPECT_TRUE(contains(r.out, "General status bits on (41010000):\n BOT ONLINE IM_REP_EN\n"))
      << r.out;
  EXPECT_TRUE(contains(r.out, "Write protect: off")) << r.out;
  EXPECT_TRUE(contains(r.out, "Compression: ")) << r.out;
  EXPECT_TRUE(contains(r.out, "TapeAlert flags: ")) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST_F(TapeTools, SpacingCommandsAndTell) {
  write_three_files();
  ASSERT_EQ(mt("rewind").code, 0);
  expect_at_block("0");
  EXPECT_EQ(mt("fsf").code, 0);  // COUNT defaults to 1
  expect_at_block("3");
  Ran status = mt("status");
  EXPECT_TRUE(contains(status.out, "File number=1, block number=3, partition=0.")) << status.out;
  EXPECT_TRUE(contains(status.out, "General status bits on (01010000):\n ONLINE IM_REP_EN\n"))
      << status.out;
  EXPECT_EQ(mt("fsf 1").code, 0);
  expect_at_block("6");
  EXPECT_EQ(mt("bsf 1").code, 0);  // before the filemark that ends the second file
  expect_at_block("5");
  // Spacing over records stops past the filemark going forward, before it going back.
  expect_one_error_line(mt("fsr 1"), 1, "stopped at a filemark after 0 of 1");
  expect_at_block("6");
  expect_one_error_line(mt("bsr 1"), 1, "stopped at a filemark after 0 of 1");
  expect_at_block("5");
  EXPECT_EQ(mt("bsr 2").code, 0);
  expect_at_block("3");
  EXPECT_EQ(mt("fsr 1").code, 0);
  expect_at_block("4");
  EXPECT_EQ(mt("eod").code, 0);
  expect_at_block("9");
  EXPECT_EQ(mt("seod").code, 0);
  expect_at_block("9");
  expect_one_error_line(mt("fsf 1"), 1, "stopped at the end of data after 0 of 1");
  EXPECT_EQ(mt("rewind").code, 0);
  expect_one_error_line(mt("bsf 1"), 1, "the beginning of the tape");
  expect_one_error_line(mt("fsf 5"), 1, "stopped at the end of data after 3 of 5");
}

TEST_F(TapeTools, WeofSeekAndTell) {
  write_three_files();
  EXPECT_EQ(mt("eod").code, 0);
  EXPECT_EQ(mt("weof 2").code, 0);
  expect_at_block("11");
  EXPECT_EQ(mt("eof").code, 0);
  expect_at_block("12");
  EXPECT_EQ(mt("seek 4").code, 0);
  expect_at_block("4");
  const Ran status = mt("status");
  EXPECT_TRUE(contains(status.out, "File number=1, block number=4")) << status.out;
  // The data after a filemark written in the middle is gone.
  EXPECT_EQ(mt("seek 3").code, 0);
  EXPECT_EQ(mt("weof").code, 0);
  const Ran r = read_file(file("x"), "--no-rewind --skip-files 0");
  EXPECT_TRUE(contains(r.err, "end of data (blank check) after 0 records")) << r.err;
}

TEST_F(TapeTools, SetblkShowsInStatus) {
  EXPECT_EQ(mt("setblk 1024").code, 0);
  EXPECT_TRUE(contains(mt("status").out, "Tape block size 1024 bytes."));
  EXPECT_EQ(mt("setblk 0").code, 0);
  EXPECT_TRUE(contains(mt("status").out, "Tape block size 0 bytes."));
  EXPECT_EQ(mt("setblk 3").code, 0);  // the simulated drive takes any size up to 8 MiB
  EXPECT_TRUE(contains(mt("status").out, "Tape block size 3 bytes."));
  expect_one_error_line(mt("setblk 8388609"), 2, "invalid block size");
  expect_one_error_line(mt("setblk 16777216"), 2, "at most 16777215");
  expect_one_error_line(mt("setblk"), 2, "setblk needs a number");
}

TEST_F(TapeTools, CompressionOnAndOff) {
  EXPECT_EQ(mt("compression off").code, 0);
  EXPECT_TRUE(contains(mt("status").out, "Compression: off\n"));
  EXPECT_EQ(mt("compression on").code, 0);
  EXPECT_TRUE(contains(mt("status").out, "Compression: on\n"));
  EXPECT_EQ(mt("compression 0").code, 0);  // mt-st's spelling
  EXPECT_TRUE(contains(mt("status").out, "Compression: off\n"));
  EXPECT_EQ(mt("compression 1").code, 0);
  EXPECT_TRUE(contains(mt("status").out, "Compression: on\n"));
  expect_one_error_line(mt("compression maybe"), 2, "on or off");
}

TEST_F(TapeTools, Densities) {
  const Ran r = mt("densities");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "Densities the drive supports:\n0x")) << r.out;
  EXPECT_TRUE(contains(r.out, "LTO-")) << r.out;
  EXPECT_TRUE(contains(r.out, "default")) << r.out;
}

TEST_F(TapeTools, JsonOutputParses) {
  write_three_files();
  ASSERT_EQ(mt("fsf 1").code, 0);
  const Ran status = mt("--json status");
  ASSERT_EQ(status.code, 0) << status.err;
  const auto s = JsonObject::parse(status.out);
  ASSERT_TRUE(s) << status.out;
  for (const char* key : {"device", "vendor", "product", "file_number", "block_number", "partition",
                          "block_size", "density_code", "density_name", "bot", "eot",
                          "write_protected", "compression", "status_bits", "flags", "tape_alerts"})
    EXPECT_TRUE(s->count(key)) << key << " missing in " << status.out;
  EXPECT_EQ(s->at("file_number"), "1");
  EXPECT_EQ(s->at("block_number"), "3");
  EXPECT_EQ(s->at("bot"), "false");
  EXPECT_EQ(s->at("write_protected"), "false");
  EXPECT_EQ(s->at("flags"), "[\"ONLINE\",\"IM_REP_EN\"]");

  const Ran tell = mt("--json tell");
  const auto t = JsonObject::parse(tell.out);
  ASSERT_TRUE(t) << tell.out;
  EXPECT_EQ(t->at("block"), "3");
  EXPECT_EQ(t->at("file"), "1");
  EXPECT_EQ(t->at("partition"), "0");

  const Ran densities = mt("densities --json");
  const auto d = JsonObject::parse(densities.out);
  ASSERT_TRUE(d) << densities.out;
  ASSERT_TRUE(d->count("densities"));
  EXPECT_TRUE(contains(d->at("densities"), "\"code\":")) << densities.out;
  EXPECT_TRUE(contains(d->at("densities"), "\"name\":\"LTO-")) << densities.out;
}

TEST_F(TapeTools, EraseLeavesABlankTape) {
  write_three_files();
  ASSERT_EQ(mt("rewind").code, 0);
  EXPECT_EQ(mt("erase").code, 0);
  const Ran r = read_file(file("x"), "--rewind");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.err, "end of data (blank check) after 0 records")) << r.err;
}

TEST_F(TapeTools, EjectThenLoad) {
  EXPECT_EQ(mt("eject").code, 0);
  const Ran empty = mt("status");
  EXPECT_EQ(empty.code, 0) << empty.err;
  EXPECT_TRUE(contains(empty.out, "No medium loaded.")) << empty.out;
  EXPECT_TRUE(contains(empty.out, "General status bits on (00050000):\n DR_OPEN IM_REP_EN\n"))
      << empty.out;
  expect_one_error_line(mt("rewind"), 7, "no medium in the drive");
  EXPECT_EQ(mt("load").code, 0);
  const Ran loaded = mt("status");
  EXPECT_TRUE(contains(loaded.out, "BOT ONLINE IM_REP_EN")) << loaded.out;
  EXPECT_EQ(mt("offline").code, 0);
  EXPECT_TRUE(contains(mt("status").out, "DR_OPEN"));
  EXPECT_EQ(mt("load").code, 0);
}

TEST_F(TapeTools, LockAndUnlock) {
  EXPECT_EQ(mt("lock").code, 0);
  EXPECT_EQ(mt("unlock").code, 0);
}

TEST_F(TapeTools, TapeEnvironmentVariableNamesTheDrive) {
  const Ran r = tool("TAPE=" + tape() + " " + kMt + " tell");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "At block 0.\n");
}

TEST_F(TapeTools, UrlWithoutLunFindsTheTapeDrive) {
  const Ran r = tool(kMt + " -f iscsi://" + target.portal() + "/" + target.iqn() + " status");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(contains(r.out, "/1):")) << r.out;
}

// ---- a new user's mistakes ----

TEST_F(TapeTools, WrongFlag) {
  expect_one_error_line(tool(kMt + " -f " + tape() + " --bogus status"), 2, "bogus");
  expect_one_error_line(tool(kTapeDd + " --bogus if=x of=" + tape()), 2, "bogus");
  expect_one_error_line(tool(kTapeDd + " if=x of=" + tape() + " bsize=4"), 2,
                        "unrecognised operand 'bsize=4'");
}

TEST_F(TapeTools, UnknownCommandOrBadCount) {
  expect_one_error_line(mt("frobnicate"), 2, "unknown command 'frobnicate'");
  expect_one_error_line(mt("fsf two"), 2, "invalid number 'two' for fsf");
  expect_one_error_line(mt("rewind 3"), 2, "rewind takes no argument");
  expect_one_error_line(tool(kMt + " -f " + tape()), 2, "no command given");
}

TEST_F(TapeTools, MissingUrlPart) {
  expect_one_error_line(tool(kMt + " -f iscsi://" + target.portal() + " status"), 2,
                        "the URL needs a target");
  expect_one_error_line(tool(kTapeDd + " if=iscsi://" + target.portal() + " of=/dev/null"), 2,
                        "the URL needs a target");
}

TEST_F(TapeTools, NoUrlAtAllAndNoTape) {
  expect_one_error_line(tool("env -u TAPE " + kMt + " status"), 2, "no tape given");
  expect_one_error_line(tool(kTapeDd + " if=/dev/zero of=/dev/null"), 2, "iscsi:// URL");
  expect_one_error_line(tool(kTapeDd + " if=" + tape() + " of=" + tape()), 2,
                        "only one of if= and of=");
}

TEST_F(TapeTools, GarbageUrl) {
  expect_one_error_line(tool(kMt + " -f iscsi://[::1 status"), 2, "invalid iscsi:// URL");
}

TEST_F(TapeTools, OptionsForTheOtherDirection) {
  expect_one_error_line(tool(kTapeDd + " if=" + tape() + " of=/dev/null --append"), 2,
                        "are for writing");
  expect_one_error_line(tool(kTapeDd + " if=/dev/null of=" + tape() + " --skip-files 1"), 2,
                        "are for reading");
}

TEST_F(TapeTools, RefusedConnection) {
  const std::string url = "iscsi://127.0.0.1:" + std::to_string(testing::free_port()) + "/iqn.x/1";
  expect_one_error_line(tool(kMt + " -f " + url + " status"), 3, "Connection refused");
  expect_one_error_line(tool(kTapeDd + " if=" + url + " of=/dev/null"), 3, "Connection refused");
}

TEST_F(TapeTools, LunThatIsADisk) {
  expect_one_error_line(tool(kMt + " -f " + target.url(0) + " status"), 1,
                        "not a tape drive (the LUN is a disk)");
  expect_one_error_line(tool(kTapeDd + " if=/dev/zero count=1 of=" + target.url(0)), 1,
                        "not a tape drive");
}

TEST_F(TapeTools, NoSuchLun) {
  expect_one_error_line(tool(kMt + " -f " + target.url(7) + " status"), 5, "no such LUN");
}

TEST(TapeToolsTargets, WrongPassword) {
  TargetProcess chap;
  ASSERT_TRUE(chap.start(
      UISCSI_TARGET,
      {"--tape", "64M", "--chap", "alice", "--target-name", "iqn.2026-11.dev.uiscsi:chap"},
      {"ISCSI_TARGET_CHAP_SECRET=alice-secret-0001"}));
  const std::string url = "iscsi://" + chap.portal() + "/iqn.2026-11.dev.uiscsi:chap/0";
  const Ran wrong = tool("ISCSI_CHAP_USER=alice ISCSI_CHAP_PASSWORD=wrong-secret-99 " + kMt +
                         " -f " + url + " status");
  expect_one_error_line(wrong, 4, "authentication failure");
  EXPECT_FALSE(contains(wrong.err, "wrong-secret"));
  const Ran dd_wrong = tool("ISCSI_CHAP_USER=alice ISCSI_CHAP_PASSWORD=wrong-secret-99 " + kTapeDd +
                            " if=" + url + " of=/dev/null");
  expect_one_error_line(dd_wrong, 4, "authentication failure");
  expect_one_error_line(
      tool("env -u ISCSI_CHAP_PASSWORD -u ISCSI_CHAP_USER " + kMt + " -f " + url + " status"), 4,
      "authentication");
  const Ran right = tool("ISCSI_CHAP_USER=alice ISCSI_CHAP_PASSWORD=alice-secret-0001 " + kMt +
                         " -f " + url + " tell");
  EXPECT_EQ(right.code, 0) << right.err;
  EXPECT_EQ(right.out, "At block 0.\n");
}

TEST(TapeToolsTargets, WriteProtectedTape) {
  TargetProcess read_only;
  ASSERT_TRUE(read_only.start(UISCSI_TARGET, {"--tape", "64M", "--read-only"}));
  const std::string url = read_only.url(0);
  const Ran status = tool(kMt + " -f " + url + " status");
  EXPECT_EQ(status.code, 0) << status.err;
  EXPECT_TRUE(contains(status.out, "Write protect: on")) << status.out;
  EXPECT_TRUE(contains(status.out, "BOT WR_PROT ONLINE IM_REP_EN")) << status.out;
  expect_one_error_line(tool(kTapeDd + " if=/dev/zero count=1 of=" + url), 7, "write protected");
  expect_one_error_line(tool(kMt + " -f " + url + " weof"), 7, "write protected");
}

TEST(TapeToolsTargets, NoMediumInTheDrive) {
  TargetProcess library;  // the changer's drive starts empty
  ASSERT_TRUE(library.start(UISCSI_TARGET, {"--tape", "64M", "--changer", "2"}));
  const std::string url = library.url(0);
  const Ran status = tool(kMt + " -f " + url + " status");
  EXPECT_EQ(status.code, 0) << status.err;
  EXPECT_TRUE(contains(status.out, "DR_OPEN")) << status.out;
  const Ran json = tool(kMt + " -f " + url + " status --json");
  const auto fields = JsonObject::parse(json.out);
  ASSERT_TRUE(fields) << json.out;
  EXPECT_EQ(fields->at("medium"), "false");
  EXPECT_EQ(fields->at("flags"), "[\"DR_OPEN\",\"IM_REP_EN\"]");
  expect_one_error_line(tool(kMt + " -f " + url + " fsf 1"), 7, "no medium in the drive");
  expect_one_error_line(tool(kTapeDd + " if=" + url + " of=/dev/null"), 7,
                        "no medium in the drive");
  expect_one_error_line(tool(kMt + " -f " + url + " load"), 7, "no medium in the drive");
}

}  // namespace
}  // namespace uiscsi
