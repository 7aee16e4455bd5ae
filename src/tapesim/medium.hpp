// Medium: a virtual tape cartridge (SSC-3 4.2): one or more partitions, each a sequence of
// logical objects (records, filemarks, setmarks) from beginning-of-partition (BOP) to
// end-of-data (EOD), with an early-warning zone before the end of each partition.
//
// Positions are object indexes: object i of a partition is its logical object identifier (SSC-3
// 4.2.7: every record and every mark counts as one), and index object_count(p) is EOD. Each
// record takes its stored size (deflated or raw), each mark mark_size() bytes; the sum within a
// partition never exceeds the partition's size (the hard end, where VOLUME OVERFLOW happens).
//
// A Medium lives in memory, or in an image file (image_format.hpp) so a virtual cartridge
// survives restarts: every change is written to the file as it happens (in the kernel's page
// cache; flush() or sync_writes make it durable), so nothing is lost on a clean stop or even a
// killed process. close() marks the image clean. Record payloads of an image stay in the file;
// only a small index per object is kept in memory.
//
// Medium knows nothing of drive state (position, block size, sense); see drive.hpp. Move-only;
// not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "uiscsi/result.hpp"

namespace uiscsi::tapesim {

namespace detail {
class ImageFile;
}

enum class ObjectKind : std::uint8_t { record = 0, filemark = 1, setmark = 2 };

struct ObjectInfo {
  ObjectKind kind = ObjectKind::record;
  bool compressed = false;   // stored deflated
  std::uint32_t length = 0;  // logical bytes of a record; 0 for marks
  std::uint32_t stored = 0;  // bytes the object takes on the medium (marks: mark_size)
  bool operator==(const ObjectInfo&) const = default;
};

struct MediumOptions {
  std::uint64_t capacity = 64ull << 20;      // bytes, all partitions together
  std::uint64_t early_warning = 1ull << 20;  // EW zone per partition, at most half of it
  std::uint32_t mark_size = 0;               // bytes each filemark / setmark takes
  std::vector<std::uint64_t> partitions{};   // sizes; empty: one partition of all the capacity
  std::uint8_t density_code = 0;             // 0: none recorded yet (blank cartridge)
  bool write_protected = false;              // the cartridge's write-protect tab
  std::string barcode{};                     // printable ASCII, at most 32 characters
  // Most objects the cartridge takes, all partitions together: a bound on the index in memory
  // (about 50 bytes per object) when marks or tiny blocks cost next to no capacity. Reaching
  // it is the end of the medium (volume_overflow). Not stored in an image.
  std::uint64_t max_objects = 1ull << 24;
};

struct ImageOptions {
  bool read_only = false;          // open O_RDONLY; the medium is write protected
  bool sync_writes = false;        // fdatasync after every change
  bool recover_torn_tail = false;  // after a crash, drop an incomplete last frame
  bool verify_data = false;        // check every record's checksum while opening
  bool compact = true;             // at open, rewrite when dead frames exceed live data and 1 MiB
  std::uint64_t max_objects = 1ull << 24;  // as MediumOptions::max_objects, for appends
};

class Medium {
 public:
  // Largest record: READ(6) / WRITE(6) lengths are 24 bits.
  static constexpr std::uint32_t kMaxRecordLength = 0xffffff;
  static constexpr std::uint32_t kMaxPartitions = 64;

  // A blank cartridge in memory. tapesim_errc::invalid_geometry if capacity is 0, partition
  // sizes are 0 or sum past the capacity, there are more than kMaxPartitions, or the barcode is
  // not printable ASCII of at most 32 characters.
  static Result<Medium> create(const MediumOptions& options);
  // A blank cartridge in a new image file (image_exists if `path` exists).
  static Result<Medium> create_image(const std::string& path, const MediumOptions& options,
                                     const ImageOptions& io = {});
  // An existing image. Errors: the OS error of open(2); image_busy; image_not_a_tape;
  // image_version; image_corrupt; image_truncated (see ImageOptions::recover_torn_tail).
  static Result<Medium> open_image(const std::string& path, const ImageOptions& io = {});

  Medium(Medium&&) noexcept;
  Medium& operator=(Medium&&) noexcept;
  // Closes an image as close() does; errors are lost (call close() to see them).
  ~Medium();

  // ---- geometry ----
  [[nodiscard]] std::uint64_t capacity() const { return capacity_; }
  [[nodiscard]] std::uint32_t partition_count() const;
  [[nodiscard]] std::uint64_t partition_size(std::uint32_t p) const;
  // Bytes before the end of partition p where early warning begins.
  [[nodiscard]] std::uint64_t early_warning_zone(std::uint32_t p) const;
  [[nodiscard]] std::uint32_t mark_size() const { return mark_size_; }

  // ---- contents (p < partition_count(); i < object_count(p), or <= for *_before) ----
  [[nodiscard]] std::uint64_t object_count(std::uint32_t p) const;  // the EOD position
  [[nodiscard]] ObjectInfo object(std::uint32_t p, std::uint64_t i) const;
  [[nodiscard]] std::uint64_t bytes_before(std::uint32_t p, std::uint64_t i) const;
  [[nodiscard]] std::uint64_t filemarks_before(std::uint32_t p, std::uint64_t i) const;
  [[nodiscard]] std::uint64_t setmarks_before(std::uint32_t p, std::uint64_t i) const;
  [[nodiscard]] std::uint64_t used_bytes(std::uint32_t p) const;
  // Whether `used` bytes of partition p reach into its early-warning zone.
  [[nodiscard]] bool in_early_warning(std::uint32_t p, std::uint64_t used) const;
  // The position just after the n-th filemark (n >= 1) of partition p, if there are n.
  [[nodiscard]] std::optional<std::uint64_t> after_filemark(std::uint32_t p, std::uint64_t n) const;

  // A record's logical bytes into `out` (out.size() == object(p, i).length), inflated when
  // stored compressed. tapesim_errc::data_corrupt when the stored bytes fail their checksum or
  // do not inflate; OS errors from the image file.
  Result<void> read(std::uint32_t p, std::uint64_t i, std::span<std::byte> out) const;

  // ---- changes (each first cuts partition p to `at` objects: at <= object_count(p)) ----
  // Appends a record of 1..kMaxRecordLength bytes, deflated when `compress` and that makes it
  // smaller. volume_overflow if it does not fit, or max_objects is reached (the cut stays);
  // write_protected.
  Result<ObjectInfo> write_record(std::uint32_t p, std::uint64_t at,
                                  std::span<const std::byte> data, bool compress);
  // Appends a filemark or setmark (kind must not be record).
  Result<void> write_mark(std::uint32_t p, std::uint64_t at, ObjectKind kind);
  Result<void> truncate(std::uint32_t p, std::uint64_t at);
  // Repartitions: every partition becomes empty. invalid_geometry as for create().
  Result<void> format(std::span<const std::uint64_t> sizes);

  // ---- attributes ----
  [[nodiscard]] bool write_protected() const { return write_protected_; }
  Result<void> set_write_protected(bool on);
  [[nodiscard]] std::uint8_t density_code() const { return density_code_; }
  Result<void> set_density_code(std::uint8_t code);
  [[nodiscard]] const std::string& barcode() const { return barcode_; }

  // ---- image ----
  [[nodiscard]] bool image_backed() const { return image_ != nullptr; }
  [[nodiscard]] const std::string& image_path() const { return path_; }
  // False when the image had not been closed cleanly before this open (a crash).
  [[nodiscard]] bool was_clean() const { return was_clean_; }
  // Bytes of the image no longer referenced (overwritten or erased objects).
  [[nodiscard]] std::uint64_t dead_bytes() const;
  Result<void> flush();
  // Rewrites the image with only its live frames (atomic rename). No-op in memory.
  Result<void> compact();
  // Syncs the image and marks it clean; afterwards the medium is read-only and detached from
  // the file (every change fails with std::errc::bad_file_descriptor). No-op in memory.
  Result<void> close();

 private:
  struct Entry {
    std::uint64_t end_bytes = 0;  // bytes used through this object
    std::uint64_t end_filemarks = 0;
    std::uint64_t end_setmarks = 0;
    std::uint64_t offset = 0;  // payload offset in the image
    std::uint32_t length = 0;
    std::uint32_t stored = 0;
    std::uint32_t crc = 0;  // CRC32C of the stored bytes (image only)
    ObjectKind kind = ObjectKind::record;
    bool compressed = false;
  };
  struct Partition {
    std::uint64_t size = 0;
    std::vector<Entry> entries;
    std::vector<std::vector<std::byte>> data;  // stored bytes, in memory only
  };
  class Loader;
  friend class Loader;

  Medium();
  static Result<void> check(const MediumOptions& options);
  Result<void> writable(std::uint32_t p, std::uint64_t at) const;
  Result<void> cut(std::uint32_t p, std::uint64_t at);
  Result<void> append(std::uint32_t p, Entry e, std::span<const std::byte> stored);
  Result<void> rewrite_header();
  [[nodiscard]] std::uint64_t live_bytes() const;
  void set_partitions(std::span<const std::uint64_t> sizes);

  std::uint64_t capacity_ = 0;
  std::uint64_t early_warning_ = 0;
  std::uint32_t mark_size_ = 0;
  std::uint64_t max_objects_ = 0;
  std::uint8_t density_code_ = 0;
  bool write_protected_ = false;
  std::string barcode_;
  std::vector<Partition> partitions_;

  std::unique_ptr<detail::ImageFile> image_;
  std::string path_;
  bool sync_writes_ = false;
  bool was_clean_ = true;
  bool closed_ = false;
};

}  // namespace uiscsi::tapesim
