// Medium: the virtual cartridge (medium.hpp), in memory or journalled to an image file.
#include "tapesim/medium.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <numeric>

#include "core/bytes.hpp"
#include "core/crc32c.hpp"
#include "tapesim/compress.hpp"
#include "tapesim/errors.hpp"
#include "tapesim/image_file.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::tapesim {
namespace {

using detail::ImageFile;

constexpr std::uint64_t kCompactThreshold = 1ull << 20;
// A change that leaves an image-backed medium without objects (rewriting a cartridge from BOP)
// compacts it when this many bytes are dead: the image then stays near the size of what the
// cartridge holds instead of growing by every rewrite until the next open. Compacting an empty
// medium copies nothing.
constexpr std::uint64_t kCompactEmptyThreshold = 64ull << 20;

bool printable(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
}

// Sizes are valid: 1..kMaxPartitions of them, none 0, together at most `capacity`.
bool valid_sizes(std::span<const std::uint64_t> sizes, std::uint64_t capacity) {
  if (sizes.empty() || sizes.size() > Medium::kMaxPartitions) return false;
  std::uint64_t sum = 0;
  for (std::uint64_t s : sizes) {
    if (s == 0 || s > capacity - sum) return false;
    sum += s;
  }
  return true;
}

std::error_code closed_error() {
  return std::make_error_code(std::errc::bad_file_descriptor);
}

}  // namespace

// Rebuilds the index from the frames of an image (ImageFile::Replay). Every frame must be
// consistent with what came before, else the image is corrupt.
class Medium::Loader final : public ImageFile::Replay {
 public:
  explicit Loader(Medium& m) : m_(m) {}

  Result<void> frame(const image::Frame& f, std::uint64_t payload_offset,
                     std::span<const std::byte> payload) override {
    switch (f.type) {
      case image::FrameType::format: {
        std::vector<std::uint64_t> sizes;
        for (std::size_t i = 0; i + 8 <= payload.size(); i += 8)
          sizes.push_back(core::load_be64(&payload[i]));
        if (!valid_sizes(sizes, m_.capacity_)) return tapesim_errc::image_corrupt;
        m_.set_partitions(sizes);
        return ok();
      }
      case image::FrameType::truncate: {
        if (f.partition >= m_.partitions_.size()) return tapesim_errc::image_corrupt;
        Partition& part = m_.partitions_[f.partition];
        if (f.value > part.entries.size()) return tapesim_errc::image_corrupt;
        part.entries.resize(static_cast<std::size_t>(f.value));
        return ok();
      }
      case image::FrameType::object: {
        if (f.partition >= m_.partitions_.size()) return tapesim_errc::image_corrupt;
        Partition& part = m_.partitions_[f.partition];
        Entry e;
        e.kind = static_cast<ObjectKind>(f.kind);
        e.compressed = f.compressed;
        e.length = static_cast<std::uint32_t>(f.value);
        e.stored = e.kind == ObjectKind::record ? f.payload_length : m_.mark_size_;
        e.offset = payload_offset;
        e.crc = f.payload_crc;
        const Entry* last = part.entries.empty() ? nullptr : &part.entries.back();
        const std::uint64_t used = last != nullptr ? last->end_bytes : 0;
        if (e.stored > part.size - used) return tapesim_errc::image_corrupt;
        e.end_bytes = used + e.stored;
        e.end_filemarks =
            (last != nullptr ? last->end_filemarks : 0) + (e.kind == ObjectKind::filemark ? 1 : 0);
        e.end_setmarks =
            (last != nullptr ? last->end_setmarks : 0) + (e.kind == ObjectKind::setmark ? 1 : 0);
        part.entries.push_back(e);
        return ok();
      }
    }
    return tapesim_errc::image_corrupt;
  }

 private:
  Medium& m_;
};

Medium::Medium() = default;
Medium::Medium(Medium&&) noexcept = default;
Medium& Medium::operator=(Medium&& other) noexcept {
  if (this != &other) {
    (void)close();
    capacity_ = other.capacity_;
    early_warning_ = other.early_warning_;
    mark_size_ = other.mark_size_;
    max_objects_ = other.max_objects_;
    density_code_ = other.density_code_;
    write_protected_ = other.write_protected_;
    barcode_ = std::move(other.barcode_);
    partitions_ = std::move(other.partitions_);
    image_ = std::move(other.image_);
    path_ = std::move(other.path_);
    sync_writes_ = other.sync_writes_;
    was_clean_ = other.was_clean_;
    closed_ = other.closed_;
  }
  return *this;
}

Medium::~Medium() {
  (void)close();
}

Result<void> Medium::check(const MediumOptions& o) {
  if (o.capacity == 0 || o.barcode.size() > image::kBarcodeLength || !printable(o.barcode)) {
    return tapesim_errc::invalid_geometry;
  }
  if (!o.partitions.empty() && !valid_sizes(o.partitions, o.capacity)) {
    return tapesim_errc::invalid_geometry;
  }
  return ok();
}

void Medium::set_partitions(std::span<const std::uint64_t> sizes) {
  partitions_.clear();
  partitions_.resize(sizes.size());
  for (std::size_t i = 0; i < sizes.size(); ++i)
    partitions_[i].size = sizes[i];
}

Result<Medium> Medium::create(const MediumOptions& o) {
  UISCSI_TRY_VOID(check(o));
  Medium m;
  m.capacity_ = o.capacity;
  m.early_warning_ = o.early_warning;
  m.mark_size_ = o.mark_size;
  m.max_objects_ = o.max_objects;
  m.density_code_ = o.density_code;
  m.write_protected_ = o.write_protected;
  m.barcode_ = o.barcode;
  const std::vector<std::uint64_t> whole{o.capacity};
  m.set_partitions(o.partitions.empty() ? std::span<const std::uint64_t>(whole)
                                        : std::span<const std::uint64_t>(o.partitions));
  return m;
}

Result<Medium> Medium::create_image(const std::string& path, const MediumOptions& o,
                                    const ImageOptions& io) {
  UISCSI_TRY(Medium m, create(o));
  image::Header h;
  h.write_protected = o.write_protected;
  h.capacity = o.capacity;
  h.early_warning = o.early_warning;
  h.mark_size = o.mark_size;
  h.density_code = o.density_code;
  h.barcode = o.barcode;
  UISCSI_TRY(m.image_, ImageFile::create(path, h));
  m.path_ = path;
  m.sync_writes_ = io.sync_writes;
  // The first frame gives the partition layout.
  std::vector<std::uint64_t> sizes;
  std::vector<std::byte> payload(8 * m.partitions_.size());
  for (std::size_t i = 0; i < m.partitions_.size(); ++i)
    core::store_be64(&payload[8 * i], m.partitions_[i].size);
  image::Frame f;
  f.type = image::FrameType::format;
  f.value = m.partitions_.size();
  f.payload_length = static_cast<std::uint32_t>(payload.size());
  f.payload_crc = core::crc32c(payload);
  if (auto r = m.image_->append(f, payload); !r) {
    m.image_->unlink();
    m.image_.reset();
    return r.error();
  }
  UISCSI_TRY_VOID(m.image_->sync());
  return m;
}

Result<Medium> Medium::open_image(const std::string& path, const ImageOptions& io) {
  Medium m;
  image::Header h;
  // The loader needs the geometry from the header before the frames: it reads it through
  // capacity_ / mark_size_, which ImageFile::open fills via this hook.
  class Opening final : public ImageFile::Replay {
   public:
    Opening(Medium& medium, image::Header& header) : medium_(medium), header_(header) {}
    Result<void> frame(const image::Frame& f, std::uint64_t offset,
                       std::span<const std::byte> payload) override {
      if (!started_) {
        started_ = true;
        if (f.type != image::FrameType::format) return tapesim_errc::image_corrupt;
        medium_.capacity_ = header_.capacity;
        medium_.mark_size_ = header_.mark_size;
      }
      return loader_.frame(f, offset, payload);
    }
    bool started_ = false;

   private:
    Medium& medium_;
    image::Header& header_;
    Loader loader_{medium_};
  } opening(m, h);
  ImageFile::OpenOptions oo;
  oo.read_only = io.read_only;
  oo.recover_torn_tail = io.recover_torn_tail;
  oo.verify_data = io.verify_data;
  UISCSI_TRY(m.image_, ImageFile::open(path, oo, h, opening));
  // No partition layout at all: the image ends right after its header.
  if (!opening.started_) return tapesim_errc::image_truncated;
  if (h.capacity == 0) return tapesim_errc::image_corrupt;
  m.capacity_ = h.capacity;
  m.early_warning_ = h.early_warning;
  m.mark_size_ = h.mark_size;
  m.max_objects_ = io.max_objects;
  m.density_code_ = h.density_code;
  m.write_protected_ = h.write_protected || io.read_only;
  m.barcode_ = h.barcode;
  m.path_ = path;
  m.sync_writes_ = io.sync_writes;
  m.was_clean_ = h.clean;
  if (io.compact && !io.read_only && m.dead_bytes() > kCompactThreshold &&
      m.dead_bytes() > m.live_bytes()) {
    UISCSI_TRY_VOID(m.compact());
  }
  return m;
}

// ---- geometry and contents ----------------------------------------------------------------

std::uint32_t Medium::partition_count() const {
  return static_cast<std::uint32_t>(partitions_.size());
}
std::uint64_t Medium::partition_size(std::uint32_t p) const {
  return partitions_.at(p).size;
}
std::uint64_t Medium::early_warning_zone(std::uint32_t p) const {
  return std::min(early_warning_, partition_size(p) / 2);
}
std::uint64_t Medium::object_count(std::uint32_t p) const {
  return partitions_.at(p).entries.size();
}
ObjectInfo Medium::object(std::uint32_t p, std::uint64_t i) const {
  const Entry& e = partitions_.at(p).entries.at(static_cast<std::size_t>(i));
  return ObjectInfo{e.kind, e.compressed, e.length, e.stored};
}
std::uint64_t Medium::bytes_before(std::uint32_t p, std::uint64_t i) const {
  return i == 0 ? 0 : partitions_.at(p).entries.at(static_cast<std::size_t>(i - 1)).end_bytes;
}
std::uint64_t Medium::filemarks_before(std::uint32_t p, std::uint64_t i) const {
  return i == 0 ? 0 : partitions_.at(p).entries.at(static_cast<std::size_t>(i - 1)).end_filemarks;
}
std::uint64_t Medium::setmarks_before(std::uint32_t p, std::uint64_t i) const {
  return i == 0 ? 0 : partitions_.at(p).entries.at(static_cast<std::size_t>(i - 1)).end_setmarks;
}
std::uint64_t Medium::used_bytes(std::uint32_t p) const {
  return bytes_before(p, object_count(p));
}
bool Medium::in_early_warning(std::uint32_t p, std::uint64_t used) const {
  const std::uint64_t zone = early_warning_zone(p);
  return zone > 0 && used > partition_size(p) - zone;
}

std::optional<std::uint64_t> Medium::after_filemark(std::uint32_t p, std::uint64_t n) const {
  const std::vector<Entry>& es = partitions_.at(p).entries;
  if (n == 0 || es.empty() || es.back().end_filemarks < n) return std::nullopt;
  // The first object whose running filemark count reaches n is the n-th filemark.
  const auto it = std::lower_bound(
      es.begin(), es.end(), n, [](const Entry& e, std::uint64_t v) { return e.end_filemarks < v; });
  return static_cast<std::uint64_t>(it - es.begin()) + 1;
}

Result<void> Medium::read(std::uint32_t p, std::uint64_t i, std::span<std::byte> out) const {
  if (p >= partitions_.size() || i >= partitions_[p].entries.size()) return errc::invalid_argument;
  const Partition& part = partitions_[p];
  const Entry& e = part.entries[static_cast<std::size_t>(i)];
  if (e.kind != ObjectKind::record || out.size() != e.length) return errc::invalid_argument;
  if (image_ == nullptr) {
    if (closed_) return closed_error();
    const std::vector<std::byte>& stored = part.data[static_cast<std::size_t>(i)];
    if (e.compressed) return detail::decompress_record(stored, out);
    std::memcpy(out.data(), stored.data(), out.size());
    return ok();
  }
  if (!e.compressed) {
    UISCSI_TRY_VOID(image_->read(e.offset, out));
    if (core::crc32c(out) != e.crc) return tapesim_errc::data_corrupt;
    return ok();
  }
  std::vector<std::byte> stored(e.stored);
  UISCSI_TRY_VOID(image_->read(e.offset, stored));
  if (core::crc32c(stored) != e.crc) return tapesim_errc::data_corrupt;
  return detail::decompress_record(stored, out);
}

// ---- changes --------------------------------------------------------------------------------

Result<void> Medium::writable(std::uint32_t p, std::uint64_t at) const {
  if (closed_) return closed_error();
  if (p >= partitions_.size() || at > partitions_[p].entries.size()) return errc::invalid_argument;
  if (write_protected_) return tapesim_errc::write_protected;
  return ok();
}

Result<void> Medium::cut(std::uint32_t p, std::uint64_t at) {
  Partition& part = partitions_[p];
  if (at >= part.entries.size()) return ok();
  if (image_ != nullptr) {
    image::Frame f;
    f.type = image::FrameType::truncate;
    f.partition = static_cast<std::uint8_t>(p);
    f.value = at;
    UISCSI_TRY_VOID(image_->append(f, {}));
    if (sync_writes_) UISCSI_TRY_VOID(image_->sync());
  }
  part.entries.resize(static_cast<std::size_t>(at));
  if (image_ == nullptr) part.data.resize(static_cast<std::size_t>(at));
  if (image_ != nullptr && at == 0) {
    const bool empty = std::all_of(partitions_.begin(), partitions_.end(),
                                   [](const Partition& x) { return x.entries.empty(); });
    // Only an optimisation: when it fails the image stays as it was, just larger.
    if (empty && dead_bytes() > kCompactEmptyThreshold) (void)compact();
  }
  return ok();
}

// Appends entry `e` (kind, length, stored, compressed set) whose stored bytes are `stored`.
Result<void> Medium::append(std::uint32_t p, Entry e, std::span<const std::byte> stored) {
  Partition& part = partitions_[p];
  const Entry* last = part.entries.empty() ? nullptr : &part.entries.back();
  const std::uint64_t used = last != nullptr ? last->end_bytes : 0;
  if (e.stored > part.size - used) return tapesim_errc::volume_overflow;
  std::uint64_t objects = 0;
  for (const Partition& x : partitions_)
    objects += x.entries.size();
  if (objects >= max_objects_) return tapesim_errc::volume_overflow;
  e.end_bytes = used + e.stored;
  e.end_filemarks =
      (last != nullptr ? last->end_filemarks : 0) + (e.kind == ObjectKind::filemark ? 1 : 0);
  e.end_setmarks =
      (last != nullptr ? last->end_setmarks : 0) + (e.kind == ObjectKind::setmark ? 1 : 0);
  if (image_ != nullptr) {
    image::Frame f;
    f.type = image::FrameType::object;
    f.partition = static_cast<std::uint8_t>(p);
    f.kind = static_cast<std::uint8_t>(e.kind);
    f.compressed = e.compressed;
    f.value = e.length;
    f.payload_length = static_cast<std::uint32_t>(stored.size());
    f.payload_crc = stored.empty() ? 0 : core::crc32c(stored);
    UISCSI_TRY(e.offset, image_->append(f, stored));
    if (sync_writes_) UISCSI_TRY_VOID(image_->sync());
    e.crc = f.payload_crc;
    part.entries.push_back(e);
  } else {
    part.entries.push_back(e);
    part.data.emplace_back(stored.begin(), stored.end());
  }
  return ok();
}

Result<ObjectInfo> Medium::write_record(std::uint32_t p, std::uint64_t at,
                                        std::span<const std::byte> data, bool compress) {
  UISCSI_TRY_VOID(writable(p, at));
  if (data.empty() || data.size() > kMaxRecordLength) return errc::invalid_argument;
  UISCSI_TRY_VOID(cut(p, at));
  std::optional<std::vector<std::byte>> deflated;
  if (compress) deflated = detail::compress_record(data);
  const std::span<const std::byte> stored = deflated ? std::span<const std::byte>(*deflated) : data;
  Entry e;
  e.kind = ObjectKind::record;
  e.compressed = deflated.has_value();
  e.length = static_cast<std::uint32_t>(data.size());
  e.stored = static_cast<std::uint32_t>(stored.size());
  UISCSI_TRY_VOID(append(p, e, stored));
  return ObjectInfo{e.kind, e.compressed, e.length, e.stored};
}

Result<void> Medium::write_mark(std::uint32_t p, std::uint64_t at, ObjectKind kind) {
  if (kind == ObjectKind::record) return errc::invalid_argument;
  UISCSI_TRY_VOID(writable(p, at));
  UISCSI_TRY_VOID(cut(p, at));
  Entry e;
  e.kind = kind;
  e.stored = mark_size_;
  return append(p, e, {});
}

Result<void> Medium::truncate(std::uint32_t p, std::uint64_t at) {
  UISCSI_TRY_VOID(writable(p, at));
  return cut(p, at);
}

Result<void> Medium::format(std::span<const std::uint64_t> sizes) {
  if (closed_) return closed_error();
  if (write_protected_) return tapesim_errc::write_protected;
  if (!valid_sizes(sizes, capacity_)) return tapesim_errc::invalid_geometry;
  if (image_ != nullptr) {
    std::vector<std::byte> payload(8 * sizes.size());
    for (std::size_t i = 0; i < sizes.size(); ++i)
      core::store_be64(&payload[8 * i], sizes[i]);
    image::Frame f;
    f.type = image::FrameType::format;
    f.value = sizes.size();
    f.payload_length = static_cast<std::uint32_t>(payload.size());
    f.payload_crc = core::crc32c(payload);
    UISCSI_TRY_VOID(image_->append(f, payload));
    if (sync_writes_) UISCSI_TRY_VOID(image_->sync());
  }
  set_partitions(sizes);
  return ok();
}

// ---- attributes and image ------------------------------------------------------------------

Result<void> Medium::rewrite_header() {
  if (image_ == nullptr) return closed_ ? Result<void>(closed_error()) : ok();
  image::Header h;
  h.write_protected = write_protected_;
  h.clean = false;
  h.capacity = capacity_;
  h.early_warning = early_warning_;
  h.mark_size = mark_size_;
  h.density_code = density_code_;
  h.barcode = barcode_;
  return image_->write_header(h);
}

Result<void> Medium::set_write_protected(bool on) {
  if (image_ != nullptr && image_->read_only()) return tapesim_errc::write_protected;
  const bool before = write_protected_;
  write_protected_ = on;
  if (auto r = rewrite_header(); !r) {
    write_protected_ = before;
    return r;
  }
  return ok();
}

Result<void> Medium::set_density_code(std::uint8_t code) {
  if (write_protected_) return tapesim_errc::write_protected;
  const std::uint8_t before = density_code_;
  density_code_ = code;
  if (auto r = rewrite_header(); !r) {
    density_code_ = before;
    return r;
  }
  return ok();
}

std::uint64_t Medium::live_bytes() const {
  std::uint64_t live = image::kHeaderSize + image::kFrameHeaderSize + 8 * partitions_.size();
  for (const Partition& part : partitions_) {
    for (const Entry& e : part.entries)
      live += image::kFrameHeaderSize + (e.kind == ObjectKind::record ? e.stored : 0);
  }
  return live;
}

std::uint64_t Medium::dead_bytes() const {
  if (image_ == nullptr) return 0;
  const std::uint64_t live = live_bytes();
  return image_->end() > live ? image_->end() - live : 0;
}

Result<void> Medium::flush() {
  if (image_ == nullptr) return closed_ ? Result<void>(closed_error()) : ok();
  return image_->sync();
}

Result<void> Medium::compact() {
  if (image_ == nullptr) return closed_ ? Result<void>(closed_error()) : ok();
  if (image_->read_only()) return tapesim_errc::write_protected;
  const std::string temp = path_ + ".compact";
  ::unlink(temp.c_str());  // left over from an interrupted compaction
  image::Header h;
  h.write_protected = write_protected_;
  h.capacity = capacity_;
  h.early_warning = early_warning_;
  h.mark_size = mark_size_;
  h.density_code = density_code_;
  h.barcode = barcode_;
  UISCSI_TRY(std::unique_ptr<ImageFile> next, ImageFile::create(temp, h));
  auto copy = [&]() -> Result<std::vector<std::vector<std::uint64_t>>> {
    std::vector<std::byte> payload(8 * partitions_.size());
    for (std::size_t i = 0; i < partitions_.size(); ++i)
      core::store_be64(&payload[8 * i], partitions_[i].size);
    image::Frame f;
    f.type = image::FrameType::format;
    f.value = partitions_.size();
    f.payload_length = static_cast<std::uint32_t>(payload.size());
    f.payload_crc = core::crc32c(payload);
    UISCSI_TRY_VOID(next->append(f, payload));
    std::vector<std::vector<std::uint64_t>> offsets(partitions_.size());
    std::vector<std::byte> buffer;
    for (std::size_t p = 0; p < partitions_.size(); ++p) {
      for (const Entry& e : partitions_[p].entries) {
        image::Frame o;
        o.type = image::FrameType::object;
        o.partition = static_cast<std::uint8_t>(p);
        o.kind = static_cast<std::uint8_t>(e.kind);
        o.compressed = e.compressed;
        o.value = e.length;
        const std::uint32_t n = e.kind == ObjectKind::record ? e.stored : 0;
        o.payload_length = n;
        o.payload_crc = e.crc;
        buffer.resize(n);
        UISCSI_TRY_VOID(image_->read(e.offset, buffer));
        UISCSI_TRY(const std::uint64_t at, next->append(o, buffer));
        offsets[p].push_back(at);
      }
    }
    UISCSI_TRY_VOID(next->sync());
    return offsets;
  };
  auto offsets = copy();
  if (!offsets) {
    next->unlink();
    return offsets.error();
  }
  UISCSI_TRY_VOID(image_->replace_with(std::move(next)));
  for (std::size_t p = 0; p < partitions_.size(); ++p) {
    for (std::size_t i = 0; i < partitions_[p].entries.size(); ++i)
      partitions_[p].entries[i].offset = (*offsets)[p][i];
  }
  return ok();
}

Result<void> Medium::close() {
  if (image_ == nullptr) return ok();
  Result<void> r = ok();
  if (!image_->read_only()) {
    image::Header h;
    h.write_protected = write_protected_;
    h.clean = true;
    h.clean_length = image_->end();
    h.capacity = capacity_;
    h.early_warning = early_warning_;
    h.mark_size = mark_size_;
    h.density_code = density_code_;
    h.barcode = barcode_;
    r = image_->trim();
    if (r) r = image_->sync();
    if (r) r = image_->write_header(h);
  }
  image_.reset();
  closed_ = true;
  return r;
}

}  // namespace uiscsi::tapesim
