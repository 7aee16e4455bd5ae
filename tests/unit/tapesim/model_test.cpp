// Model-based randomized test: thousands of random SCSI commands against the drive, each
// compared with a plain reference model of SSC-3 behaviour written here (a vector of objects
// per partition, no prefix sums, no compression, no image): status, sense key / ASC / ASCQ,
// FILEMARK / EOM / ILI, the signed INFORMATION residue, the data, the position afterwards, and
// every so often the whole contents of the cartridge. Seeded, so a failure replays.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <sstream>

#include "tapesim/drive.hpp"
#include "tapesim_test_util.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::tapesim {
namespace {

using scsi::SenseKey;
using scsi::SpaceCode;

struct Obj {
  ObjectKind kind = ObjectKind::record;
  std::vector<std::byte> data;
};

// What a command should return.
struct Expect {
  bool good = true;
  SenseKey key = SenseKey::no_sense;
  std::uint8_t asc = 0;
  std::uint8_t ascq = 0;
  bool valid = false;
  std::int64_t info = 0;
  bool fm = false;
  bool eom = false;
  bool ili = false;
  std::vector<std::byte> data;

  static Expect sense(SenseKey k, std::uint8_t asc, std::uint8_t ascq) {
    Expect e;
    e.good = false;
    e.key = k;
    e.asc = asc;
    e.ascq = ascq;
    return e;
  }
  Expect& with_info(std::int64_t v) {
    valid = true;
    info = v;
    return *this;
  }
};

struct Model {
  std::vector<std::vector<Obj>> parts;
  std::vector<std::uint64_t> sizes;
  std::uint64_t ew = 0;
  std::uint32_t mark_size = 0;
  std::uint32_t p = 0;
  std::uint64_t pos = 0;
  std::uint32_t block_size = 0;
  bool rsmk = false;

  std::vector<Obj>& v() { return parts[p]; }
  std::uint64_t eod() const { return parts[p].size(); }
  std::uint64_t cost(const Obj& o) const {
    return o.kind == ObjectKind::record ? o.data.size() : mark_size;
  }
  std::uint64_t used(std::uint64_t upto) const {
    std::uint64_t u = 0;
    for (std::uint64_t i = 0; i < upto; ++i)
      u += cost(parts[p][i]);
    return u;
  }
  bool early(std::uint64_t bytes) const {
    const std::uint64_t zone = std::min(ew, sizes[p] / 2);
    return zone > 0 && bytes > sizes[p] - zone;
  }
  bool early_here() const { return early(used(pos)); }

  static Expect fm(std::int64_t r, bool setmark = false) {
    Expect e = Expect::sense(SenseKey::no_sense, 0, setmark ? 0x03 : 0x01).with_info(r);
    e.fm = true;
    return e;
  }
  Expect eod_hit(std::int64_t r, bool valid = true) const {
    Expect e = Expect::sense(SenseKey::blank_check, 0, 0x05);
    if (valid) e.with_info(r);
    e.eom = early_here();
    return e;
  }
  static Expect bop(std::int64_t r, bool valid = true) {
    Expect e = Expect::sense(SenseKey::no_sense, 0, 0x04);
    if (valid) e.with_info(r);
    e.eom = true;
    return e;
  }
  static Expect overflow(std::int64_t r) {
    Expect e = Expect::sense(SenseKey::volume_overflow, 0, 0x02).with_info(r);
    e.eom = true;
    return e;
  }
  static Expect warning() {
    Expect e = Expect::sense(SenseKey::no_sense, 0, 0x02).with_info(0);
    e.eom = true;
    return e;
  }

  // ---- commands ----
  Expect write(const std::vector<std::vector<std::byte>>& records) {
    v().resize(pos);
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (used(pos) + records[i].size() > sizes[p]) {
        return overflow(block_size != 0 && records.size() > 1
                            ? static_cast<std::int64_t>(records.size() - i)
                            : static_cast<std::int64_t>(records[i].size()));
      }
      v().push_back({ObjectKind::record, records[i]});
      ++pos;
    }
    return early_here() ? warning() : Expect{};
  }
  Expect write_fixed(const std::vector<std::vector<std::byte>>& blocks) {
    v().resize(pos);
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      if (used(pos) + blocks[i].size() > sizes[p]) {
        return overflow(static_cast<std::int64_t>(blocks.size() - i));
      }
      v().push_back({ObjectKind::record, blocks[i]});
      ++pos;
    }
    return early_here() ? warning() : Expect{};
  }
  Expect marks(std::uint32_t n, bool setmarks) {
    if (n == 0) return {};
    v().resize(pos);
    for (std::uint32_t i = 0; i < n; ++i) {
      if (used(pos) + mark_size > sizes[p]) return overflow(n - i);
      v().push_back({setmarks ? ObjectKind::setmark : ObjectKind::filemark, {}});
      ++pos;
    }
    return early_here() ? warning() : Expect{};
  }
  void skip_setmarks() {
    while (!rsmk && pos < eod() && v()[pos].kind == ObjectKind::setmark)
      ++pos;
  }
  Expect read(std::uint32_t count, bool sili) {
    if (count == 0) return {};
    skip_setmarks();
    if (pos == eod()) return eod_hit(count);
    const Obj& o = v()[pos++];
    if (o.kind != ObjectKind::record) return fm(count, o.kind == ObjectKind::setmark);
    const std::size_t n = std::min<std::size_t>(o.data.size(), count);
    const std::int64_t residue = std::int64_t{count} - static_cast<std::int64_t>(o.data.size());
    Expect e;
    if (residue < 0 || (residue > 0 && !sili)) {
      e = Expect::sense(SenseKey::no_sense, 0, 0).with_info(residue);
      e.ili = true;
    }
    e.data.assign(o.data.begin(), o.data.begin() + static_cast<std::ptrdiff_t>(n));
    return e;
  }
  Expect read_fixed(std::uint32_t count) {
    if (count == 0) return {};
    std::vector<std::byte> got;
    for (std::uint32_t done = 0; done < count; ++done) {
      skip_setmarks();
      const std::int64_t r = count - done;
      Expect e;
      if (pos == eod()) {
        e = eod_hit(r);
      } else {
        const Obj& o = v()[pos];
        if (o.kind != ObjectKind::record) {
          ++pos;
          e = fm(r, o.kind == ObjectKind::setmark);
        } else if (o.data.size() != block_size) {
          ++pos;
          e = Expect::sense(SenseKey::no_sense, 0, 0).with_info(r);
          e.ili = true;
        } else {
          got.insert(got.end(), o.data.begin(), o.data.end());
          ++pos;
          continue;
        }
      }
      e.data = got;
      return e;
    }
    Expect e;
    e.data = got;
    return e;
  }
  Expect space_blocks(std::int64_t count) {
    const std::uint64_t n =
        count < 0 ? static_cast<std::uint64_t>(-count) : static_cast<std::uint64_t>(count);
    for (std::uint64_t done = 0; done < n;) {
      const auto r = static_cast<std::int64_t>(n - done);
      if (count > 0) {
        if (pos == eod()) return eod_hit(r);
        const ObjectKind k = v()[pos++].kind;
        if (k == ObjectKind::filemark) return fm(r);
        if (k == ObjectKind::setmark) {
          if (rsmk) return fm(r, true);
          continue;
        }
      } else {
        if (pos == 0) return bop(r);
        const ObjectKind k = v()[--pos].kind;
        if (k == ObjectKind::filemark) return fm(r);
        if (k == ObjectKind::setmark) {
          if (rsmk) return fm(r, true);
          continue;
        }
      }
      ++done;
    }
    return {};
  }
  Expect space_marks(std::int64_t count, ObjectKind kind) {
    const std::uint64_t n =
        count < 0 ? static_cast<std::uint64_t>(-count) : static_cast<std::uint64_t>(count);
    const bool stop = kind == ObjectKind::filemark && rsmk;
    for (std::uint64_t done = 0; done < n;) {
      const auto r = static_cast<std::int64_t>(n - done);
      ObjectKind k;
      if (count > 0) {
        if (pos == eod()) return eod_hit(r);
        k = v()[pos++].kind;
      } else {
        if (pos == 0) return bop(r);
        k = v()[--pos].kind;
      }
      if (k == kind) {
        ++done;
      } else if (k == ObjectKind::setmark && stop) {
        return fm(r, true);
      }
    }
    return {};
  }
  Expect space_sequential(std::int64_t count, ObjectKind kind) {
    const std::uint64_t n =
        count < 0 ? static_cast<std::uint64_t>(-count) : static_cast<std::uint64_t>(count);
    std::uint64_t run = 0;
    while (run < n) {
      if (count > 0) {
        if (pos == eod()) return eod_hit(0, false);
        run = v()[pos++].kind == kind ? run + 1 : 0;
      } else {
        if (pos == 0) return bop(0, false);
        run = v()[--pos].kind == kind ? run + 1 : 0;
      }
    }
    return {};
  }
  Expect space(SpaceCode code, std::int64_t count) {
    if (code == SpaceCode::end_of_data) {
      pos = eod();
      return {};
    }
    if (count == 0) return {};
    switch (code) {
      case SpaceCode::blocks:
        return space_blocks(count);
      case SpaceCode::filemarks:
        return space_marks(count, ObjectKind::filemark);
      case SpaceCode::setmarks:
        return space_marks(count, ObjectKind::setmark);
      case SpaceCode::sequential_filemarks:
        return space_sequential(count, ObjectKind::filemark);
      default:
        return space_sequential(count, ObjectKind::setmark);
    }
  }
  Expect locate(std::uint64_t target, std::uint32_t partition) {
    p = partition;
    pos = std::min(target, eod());
    if (target > eod()) return Expect::sense(SenseKey::blank_check, 0, 0x05);
    return {};
  }
  Expect locate_file(std::uint64_t file) {
    pos = 0;
    std::uint64_t seen = 0;
    if (file == 0) return {};
    for (std::uint64_t i = 0; i < eod(); ++i) {
      if (v()[i].kind == ObjectKind::filemark && ++seen == file) {
        pos = i + 1;
        return {};
      }
    }
    pos = eod();
    return Expect::sense(SenseKey::blank_check, 0, 0x05);
  }
  std::uint64_t files_before() const {
    std::uint64_t n = 0;
    for (std::uint64_t i = 0; i < pos; ++i)
      n += parts[p][i].kind == ObjectKind::filemark;
    return n;
  }
};

class Runner {
 public:
  // How often each kind of outcome came up, so the test can tell it reached the corners.
  std::map<std::string, int> seen;

  Runner(std::uint64_t seed, bool image) : rng_(seed), image_(image), path_("model") {
    MediumOptions o;
    o.capacity = 48 << 10;
    o.early_warning = 6 << 10;
    o.mark_size = (seed % 2 == 0) ? 0 : 24;
    if (seed % 3 == 0) o.partitions = {16 << 10, 32 << 10};
    model_.sizes = o.partitions.empty() ? std::vector<std::uint64_t>{o.capacity} : o.partitions;
    model_.parts.resize(model_.sizes.size());
    model_.ew = o.early_warning;
    model_.mark_size = o.mark_size;
    auto d = Drive::create();
    EXPECT_TRUE(d);
    drive_.emplace(std::move(*d));
    auto m = image_ ? Medium::create_image(path_.path, o) : Medium::create(o);
    EXPECT_TRUE(m) << m.error().message();
    EXPECT_TRUE(drive_->insert(std::move(*m)));
    settle();
  }

  void run(int steps) {
    for (step_ = 0; step_ < steps && !::testing::Test::HasFatalFailure(); ++step_) {
      one();
      if (::testing::Test::HasFailure()) {
        ADD_FAILURE() << "at step " << step_ << ": " << last_;
        return;
      }
      if (step_ % 400 == 0) compare_contents();
    }
    compare_contents();
  }

 private:
  std::uint32_t uniform(std::uint32_t lo, std::uint32_t hi) {
    return std::uniform_int_distribution<std::uint32_t>(lo, hi)(rng_);
  }
  std::int64_t signed_uniform(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  std::vector<std::byte> bytes(std::size_t n) { return test::pattern(n, uniform(0, 1u << 30)); }

  Response exec(const scsi::CommandSpec& c, std::span<const std::byte> out = {}) {
    return drive_->execute(c.cdb.bytes(), out, 1);
  }
  Response exec(const Result<scsi::CommandSpec>& c, std::span<const std::byte> out = {}) {
    EXPECT_TRUE(c);
    return exec(*c, out);
  }

  // Consumes the unit attention after a (re)insert.
  void settle() {
    for (int i = 0; i < 4; ++i) {
      if (exec(scsi::test_unit_ready()).status == scsi::Status::good) return;
    }
  }

  void count(const Expect& e) {
    if (e.good) {
      ++seen["good"];
      return;
    }
    if (e.key == SenseKey::volume_overflow) ++seen["overflow"];
    if (e.key == SenseKey::no_sense && e.ascq == 0x02) ++seen["early warning"];
    if (e.key == SenseKey::blank_check) ++seen["blank check"];
    if (e.key == SenseKey::no_sense && e.ascq == 0x04) ++seen["bop"];
    if (e.fm && e.ascq == 0x01) ++seen["filemark"];
    if (e.fm && e.ascq == 0x03) ++seen["setmark"];
    if (e.ili && e.info > 0) ++seen["ili short"];
    if (e.ili && e.info < 0) ++seen["ili long"];
    if (e.eom && e.key == SenseKey::blank_check) ++seen["eod eom"];
  }

  void compare(const Response& r, const Expect& e) {
    count(e);
    if (e.good) {
      EXPECT_EQ(r.status, scsi::Status::good) << last_;
      if (r.status != scsi::Status::good) {
        if (auto s = scsi::parse_sense(r.sense)) ADD_FAILURE() << scsi::describe(*s);
      }
    } else {
      ASSERT_EQ(r.status, scsi::Status::check_condition) << last_;
      auto s = scsi::parse_sense(r.sense);
      ASSERT_TRUE(s);
      EXPECT_EQ(s->sense_key, e.key) << last_ << ": " << scsi::describe(*s);
      EXPECT_EQ(s->asc, e.asc) << last_ << ": " << scsi::describe(*s);
      EXPECT_EQ(s->ascq, e.ascq) << last_ << ": " << scsi::describe(*s);
      EXPECT_EQ(s->information_valid, e.valid) << last_ << ": " << scsi::describe(*s);
      if (e.valid && s->information_valid) {
        EXPECT_EQ(s->information_signed(), e.info) << last_;
      }
      EXPECT_EQ(s->filemark, e.fm) << last_;
      EXPECT_EQ(s->eom, e.eom) << last_ << ": " << scsi::describe(*s);
      EXPECT_EQ(s->ili, e.ili) << last_;
    }
    EXPECT_EQ(r.data_in.size(), e.data.size()) << last_;
    EXPECT_TRUE(r.data_in == e.data) << last_;
    const auto pos = drive_->position();
    ASSERT_TRUE(pos);
    EXPECT_EQ(pos->partition, model_.p) << last_;
    EXPECT_EQ(pos->object, model_.pos) << last_;
  }

  void compare_contents() {
    const Medium* m = drive_->medium();
    ASSERT_NE(m, nullptr);
    ASSERT_EQ(m->partition_count(), model_.parts.size());
    for (std::uint32_t p = 0; p < model_.parts.size(); ++p) {
      ASSERT_EQ(m->object_count(p), model_.parts[p].size()) << "step " << step_;
      for (std::uint64_t i = 0; i < model_.parts[p].size(); ++i) {
        const Obj& o = model_.parts[p][i];
        const ObjectInfo info = m->object(p, i);
        ASSERT_EQ(info.kind, o.kind) << p << "/" << i;
        if (o.kind != ObjectKind::record) continue;
        ASSERT_EQ(info.length, o.data.size());
        std::vector<std::byte> buf(info.length);
        ASSERT_TRUE(m->read(p, i, buf));
        ASSERT_TRUE(buf == o.data) << p << "/" << i;
      }
      EXPECT_EQ(m->used_bytes(p), [&] {
        std::uint64_t u = 0;
        for (const Obj& o : model_.parts[p])
          u += model_.cost(o);
        return u;
      }());
    }
  }

  std::uint32_t record_length() {
    const std::uint32_t pick = uniform(0, 99);
    if (pick < 70) return uniform(1, 300);
    if (pick < 95) return uniform(300, 2500);
    return uniform(2500, 9000);
  }

  void one() {
    std::ostringstream what;
    const std::uint32_t op = uniform(0, 99);
    if (op < 35 && uniform(0, 2) != 0) {
      // Mostly append, as backups do, so the cartridge fills up and its end gets exercised.
      last_ = "SPACE EOD before a write";
      compare(exec(scsi::space6(SpaceCode::end_of_data, 0)),
              model_.space(SpaceCode::end_of_data, 0));
    }
    if (op < 22) {  // WRITE, variable
      const std::uint32_t n = record_length();
      auto data = bytes(n);
      what << "WRITE var " << n;
      last_ = what.str();
      Response r = exec(scsi::write6_tape(n, 0), data);
      compare(r, model_.write({data}));
    } else if (op < 27) {  // WRITE, fixed
      if (model_.block_size == 0) return;
      const std::uint32_t blocks = uniform(1, 6);
      std::vector<std::vector<std::byte>> chunks;
      std::vector<std::byte> all;
      for (std::uint32_t i = 0; i < blocks; ++i) {
        chunks.push_back(bytes(model_.block_size));
        all.insert(all.end(), chunks.back().begin(), chunks.back().end());
      }
      what << "WRITE fixed " << blocks << "x" << model_.block_size;
      last_ = what.str();
      compare(exec(scsi::write6_tape(blocks, model_.block_size), all), model_.write_fixed(chunks));
    } else if (op < 35) {  // WRITE FILEMARKS / setmarks
      const std::uint32_t n = uniform(0, 3);
      const bool sm = uniform(0, 5) == 0;
      what << "WRITE FILEMARKS " << n << (sm ? " setmarks" : "");
      last_ = what.str();
      compare(exec(scsi::write_filemarks6(n, false, sm)), model_.marks(n, sm));
    } else if (op < 55) {  // READ, variable
      std::uint32_t n = uniform(0, 9) == 0 ? 0 : record_length();
      if (uniform(0, 2) == 0 && model_.pos < model_.eod() &&
          model_.v()[model_.pos].kind == ObjectKind::record) {
        n = static_cast<std::uint32_t>(model_.v()[model_.pos].data.size());
      }
      const bool sili = uniform(0, 1) == 1;
      what << "READ var " << n << (sili ? " sili" : "") << " at " << model_.pos;
      last_ = what.str();
      compare(exec(scsi::read6_tape(n, 0, sili)), model_.read(n, sili));
    } else if (op < 61) {  // READ, fixed
      if (model_.block_size == 0) return;
      const std::uint32_t n = uniform(0, 6);
      what << "READ fixed " << n << "x" << model_.block_size << " at " << model_.pos;
      last_ = what.str();
      compare(exec(scsi::read6_tape(n, model_.block_size)), model_.read_fixed(n));
    } else if (op < 76) {  // SPACE
      static constexpr SpaceCode kCodes[] = {SpaceCode::blocks,
                                             SpaceCode::blocks,
                                             SpaceCode::filemarks,
                                             SpaceCode::filemarks,
                                             SpaceCode::sequential_filemarks,
                                             SpaceCode::end_of_data,
                                             SpaceCode::setmarks,
                                             SpaceCode::sequential_setmarks};
      const SpaceCode code = kCodes[uniform(0, 7)];
      const bool seq =
          code == SpaceCode::sequential_filemarks || code == SpaceCode::sequential_setmarks;
      const std::int64_t count = seq ? signed_uniform(-2, 2) : signed_uniform(-7, 7);
      const bool sixteen = uniform(0, 2) == 0;
      what << "SPACE" << (sixteen ? "(16) " : "(6) ") << int(code) << " " << count << " at "
           << model_.pos;
      last_ = what.str();
      Response r = sixteen ? exec(scsi::space16(code, count))
                           : exec(scsi::space6(code, static_cast<std::int32_t>(count)));
      compare(r, model_.space(code, count));
    } else if (op < 84) {  // LOCATE
      const bool cp = model_.parts.size() > 1 && uniform(0, 3) == 0;
      const std::uint32_t part =
          cp ? uniform(0, static_cast<std::uint32_t>(model_.parts.size() - 1)) : model_.p;
      const std::uint64_t eod = model_.parts[part].size();
      const std::uint64_t target = uniform(0, static_cast<std::uint32_t>(eod + 2));
      const scsi::LocateOptions lo{.change_partition = cp,
                                   .partition = static_cast<std::uint8_t>(part)};
      const std::uint32_t form = uniform(0, 3);
      if (form == 3) {
        const std::uint64_t file = uniform(0, 4);
        what << "LOCATE(16) file " << file;
        last_ = what.str();
        Response r = exec(scsi::locate16(file, scsi::LocateDestination::logical_file));
        compare(r, model_.locate_file(file));
      } else {
        what << "LOCATE" << (form == 0 ? "(16) " : "(10) ") << target << " p" << part;
        last_ = what.str();
        Response r = form == 0
                         ? exec(scsi::locate16(target, scsi::LocateDestination::logical_object, lo))
                         : exec(scsi::locate10(target, lo));
        compare(r, model_.locate(target, part));
      }
    } else if (op < 87) {
      last_ = "REWIND";
      model_.pos = 0;
      compare(exec(scsi::rewind()), {});
    } else if (op < 89) {
      if (uniform(0, 3) != 0) return;
      last_ = "ERASE";
      model_.v().resize(model_.pos);
      compare(exec(scsi::erase6(uniform(0, 1) == 1)), {});
    } else if (op < 94) {
      check_position();
    } else if (op < 97) {
      change_mode();
    } else if (op < 98) {
      if (uniform(0, 3) == 0) repartition();
    } else if (image_ && uniform(0, 1) == 0) {
      reopen();
    }
  }

  void check_position() {
    last_ = "READ POSITION";
    const auto form =
        uniform(0, 1) == 0 ? scsi::ReadPositionForm::short_form : scsi::ReadPositionForm::long_form;
    Response r = exec(scsi::read_position(form));
    ASSERT_EQ(r.status, scsi::Status::good);
    auto pos = scsi::parse_read_position(r.data_in, form);
    ASSERT_TRUE(pos);
    EXPECT_EQ(pos->first_block, model_.pos);
    EXPECT_EQ(pos->partition, model_.p);
    EXPECT_EQ(pos->bop, model_.pos == 0);
    EXPECT_EQ(pos->eop, model_.early_here());
    if (form == scsi::ReadPositionForm::long_form) {
      EXPECT_EQ(pos->file_number, model_.files_before());
    }
  }

  // Block size through the block descriptor, or RSMK through page 10h, read-modify-write.
  void change_mode() {
    constexpr auto kTape = scsi::PeripheralDeviceType::sequential_access;
    Response r = exec(*scsi::mode_sense6(0x10));
    ASSERT_EQ(r.status, scsi::Status::good);
    auto m = scsi::parse_mode_sense6(r.data_in, kTape);
    ASSERT_TRUE(m);
    if (uniform(0, 1) == 0) {
      static constexpr std::uint32_t kSizes[] = {0, 0, 64, 512, 100};
      const std::uint32_t bs = kSizes[uniform(0, 4)];
      m->block_descriptors[0].block_length = bs;
      m->pages.clear();
      model_.block_size = bs;
      last_ = "MODE SELECT block size " + std::to_string(bs);
    } else {
      model_.rsmk = !model_.rsmk;
      m->pages[0].parameters[6] ^= std::byte{0x20};
      last_ = std::string("MODE SELECT rsmk ") + (model_.rsmk ? "on" : "off");
    }
    auto list = scsi::build_mode_parameters6(*m, kTape, scsi::ModeDataUse::select);
    ASSERT_TRUE(list);
    compare(exec(scsi::mode_select6(static_cast<std::uint8_t>(list->size())), *list), {});
  }

  // Medium partition page, SDP: 1 to 3 equal partitions; everything is erased.
  void repartition() {
    constexpr auto kTape = scsi::PeripheralDeviceType::sequential_access;
    const std::uint32_t n = uniform(1, 3);
    Response r = exec(*scsi::mode_sense6(0x11));
    auto m = scsi::parse_mode_sense6(r.data_in, kTape);
    ASSERT_TRUE(m);
    m->block_descriptors.clear();
    m->pages[0].parameters[1] = std::byte{static_cast<std::uint8_t>(n - 1)};
    m->pages[0].parameters[2] = std::byte{0x40};
    auto list = scsi::build_mode_parameters6(*m, kTape, scsi::ModeDataUse::select);
    ASSERT_TRUE(list);
    last_ = "MODE SELECT SDP " + std::to_string(n);
    const std::uint64_t capacity = drive_->medium()->capacity();
    model_.sizes.assign(n, capacity / n);
    model_.parts.assign(n, {});
    model_.p = 0;
    model_.pos = 0;
    compare(exec(scsi::mode_select6(static_cast<std::uint8_t>(list->size())), *list), {});
  }

  // Restart: eject, close the image, open it again and insert it.
  void reopen() {
    last_ = "reopen";
    auto m = drive_->eject();
    ASSERT_TRUE(m);
    ASSERT_TRUE(m->close());
    auto again = Medium::open_image(path_.path);
    ASSERT_TRUE(again) << again.error().message();
    EXPECT_TRUE(again->was_clean());
    ASSERT_TRUE(drive_->insert(std::move(*again)));
    settle();
    model_.p = 0;
    model_.pos = 0;
    compare_contents();
  }

  std::mt19937_64 rng_;
  bool image_;
  test::TempPath path_;
  std::optional<Drive> drive_;
  Model model_;
  int step_ = 0;
  std::string last_;
};

void expect_coverage(const std::map<std::string, int>& seen) {
  std::string stats;
  for (const auto& [k, v] : seen)
    stats += k + "=" + std::to_string(v) + " ";
  for (const char* what : {"good", "overflow", "early warning", "blank check", "bop", "filemark",
                           "setmark", "ili short", "ili long", "eod eom"}) {
    EXPECT_GT(seen.count(what) ? seen.at(what) : 0, 0) << what << " never happened: " << stats;
  }
}

TEST(DriveModel, RandomCommandsMatchTheReferenceModel) {
  std::map<std::string, int> seen;
  for (std::uint64_t seed : {1u, 2u, 3u, 4u, 5u, 6u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Runner r(seed, false);
    r.run(20000);
    for (const auto& [k, v] : r.seen)
      seen[k] += v;
    if (HasFailure()) return;
  }
  expect_coverage(seen);
}

TEST(DriveModel, RandomCommandsOnAnImageThatRestarts) {
  std::map<std::string, int> seen;
  for (std::uint64_t seed : {11u, 12u, 13u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    Runner r(seed, true);
    r.run(5000);
    for (const auto& [k, v] : r.seen)
      seen[k] += v;
    if (HasFailure()) return;
  }
  expect_coverage(seen);
}

}  // namespace
}  // namespace uiscsi::tapesim
