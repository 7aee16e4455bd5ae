// ImageFile: the file under an image-backed Medium (internal to src/tapesim). It reads and
// appends the frames of image_format.hpp and knows nothing of tape semantics; Medium replays
// the frames into its index and decides what they mean.
//
// The file is locked with flock (exclusive for writing, shared for read-only) so two simulators
// cannot write one cartridge. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "tapesim/image_format.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi::tapesim::detail {

class ImageFile {
 public:
  struct OpenOptions {
    bool read_only = false;
    bool recover_torn_tail = false;  // drop an incomplete last frame (after a crash)
    bool verify_data = false;        // check every payload's CRC while opening
  };

  // Receives each complete frame while opening. `payload` holds the payload of FORMAT frames
  // only (object payloads stay in the file at `payload_offset`). An error stops the open.
  class Replay {
   public:
    virtual ~Replay() = default;
    virtual Result<void> frame(const image::Frame& f, std::uint64_t payload_offset,
                               std::span<const std::byte> payload) = 0;
  };

  ImageFile(const ImageFile&) = delete;
  ImageFile& operator=(const ImageFile&) = delete;
  ~ImageFile();

  // Creates a new file holding only `header` (marked not clean). image_exists if `path` exists.
  static Result<std::unique_ptr<ImageFile>> create(const std::string& path,
                                                   const image::Header& header);

  // Opens an existing image and replays its frames. A frame cut short, or a bad frame header in
  // an image that was not closed cleanly, is a torn tail: image_truncated, unless
  // recover_torn_tail, which cuts the file back to the last complete frame. In an image closed
  // cleanly every defect is image_corrupt or image_truncated. On success the header is
  // rewritten as not clean (unless read-only) and returned in `header`.
  static Result<std::unique_ptr<ImageFile>> open(const std::string& path,
                                                 const OpenOptions& options, image::Header& header,
                                                 Replay& replay);

  // Appends one frame; returns the file offset of its payload.
  Result<std::uint64_t> append(const image::Frame& f, std::span<const std::byte> payload);
  // Reads out.size() bytes at `offset`; image_truncated if the file is shorter.
  Result<void> read(std::uint64_t offset, std::span<std::byte> out) const;
  Result<void> write_header(const image::Header& header);
  // Cuts the file to end(): drops what a failed append may have left behind.
  Result<void> trim();
  Result<void> sync();

  // Atomically replaces the file at this->path() by `other` (rename), then adopts its
  // descriptor. `other` must be complete and synced.
  Result<void> replace_with(std::unique_ptr<ImageFile> other);
  // Deletes this file from its directory (for an abandoned temporary file).
  void unlink();

  [[nodiscard]] std::uint64_t end() const { return end_; }
  [[nodiscard]] bool read_only() const { return read_only_; }
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  ImageFile(int fd, std::string path, bool read_only, std::uint64_t end);

  int fd_ = -1;
  std::string path_;
  bool read_only_ = false;
  std::uint64_t end_ = 0;  // where the next frame goes
};

}  // namespace uiscsi::tapesim::detail
