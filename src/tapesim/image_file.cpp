// ImageFile: frame I/O on a cartridge image (image_file.hpp).
#include "tapesim/image_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "core/crc32c.hpp"
#include "tapesim/errors.hpp"

namespace uiscsi::tapesim::detail {
namespace {

constexpr std::size_t kVerifyChunk = 1 << 20;

std::error_code last_os_error() {
  return {errno, std::system_category()};
}

Result<void> pread_exact(int fd, std::span<std::byte> out, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_os_error();
    }
    if (n == 0) return tapesim_errc::image_truncated;
    done += static_cast<std::size_t>(n);
  }
  return ok();
}

Result<void> pwrite_all(int fd, std::span<const std::byte> data, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return last_os_error();
    }
    done += static_cast<std::size_t>(n);
  }
  return ok();
}

Result<void> lock(int fd, bool shared) {
  while (::flock(fd, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno == EWOULDBLOCK) return tapesim_errc::image_busy;
    return last_os_error();
  }
  return ok();
}

// CRC32C of `length` bytes at `offset`, read in bounded chunks.
Result<std::uint32_t> crc_of(int fd, std::uint64_t offset, std::uint64_t length) {
  std::vector<std::byte> chunk(
      static_cast<std::size_t>(std::min<std::uint64_t>(length, kVerifyChunk)));
  std::uint32_t crc = 0;
  while (length > 0) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(length, chunk.size()));
    UISCSI_TRY_VOID(pread_exact(fd, std::span(chunk).first(n), offset));
    crc = core::crc32c(std::span(chunk).first(n), crc);
    offset += n;
    length -= n;
  }
  return crc;
}

}  // namespace

ImageFile::ImageFile(int fd, std::string path, bool read_only, std::uint64_t end)
    : fd_(fd), path_(std::move(path)), read_only_(read_only), end_(end) {}

ImageFile::~ImageFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<ImageFile>> ImageFile::create(const std::string& path,
                                                     const image::Header& header) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    if (errno == EEXIST) return tapesim_errc::image_exists;
    return last_os_error();
  }
  std::unique_ptr<ImageFile> f(new ImageFile(fd, path, false, image::kHeaderSize));
  UISCSI_TRY_VOID(lock(fd, false));
  image::Header h = header;
  h.clean = false;
  UISCSI_TRY_VOID(f->write_header(h));
  return f;
}

Result<std::unique_ptr<ImageFile>> ImageFile::open(const std::string& path,
                                                   const OpenOptions& options,
                                                   image::Header& header, Replay& replay) {
  const int fd = ::open(path.c_str(), (options.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
  if (fd < 0) return last_os_error();
  std::unique_ptr<ImageFile> f(new ImageFile(fd, path, options.read_only, 0));
  UISCSI_TRY_VOID(lock(fd, options.read_only));
  struct stat st {};
  if (::fstat(fd, &st) != 0) return last_os_error();
  const auto size = static_cast<std::uint64_t>(st.st_size);

  std::array<std::byte, image::kHeaderSize> head{};
  if (size < image::kHeaderSize) return tapesim_errc::image_truncated;
  UISCSI_TRY_VOID(pread_exact(fd, head, 0));
  UISCSI_TRY(header, image::decode_header(head));
  // A clean image has exactly the length it was closed with.
  if (header.clean && size != header.clean_length) {
    return size < header.clean_length ? tapesim_errc::image_truncated : tapesim_errc::image_corrupt;
  }

  // A defect at the end of an image that was not closed cleanly is where a crash tore the last
  // frame; anywhere else, and in a clean image, it is damage.
  std::uint64_t off = image::kHeaderSize;
  bool torn = false;
  std::vector<std::byte> payload;
  while (off < size) {
    std::array<std::byte, image::kFrameHeaderSize> fh{};
    if (size - off < fh.size()) {
      torn = true;
      break;
    }
    UISCSI_TRY_VOID(pread_exact(fd, fh, off));
    auto frame = image::decode_frame(fh);
    if (!frame) {
      if (!header.clean) {
        torn = true;
        break;
      }
      return frame.error();
    }
    const std::uint64_t payload_offset = off + fh.size();
    if (size - payload_offset < frame->payload_length) {
      torn = true;
      break;
    }
    payload.clear();
    if (frame->type == image::FrameType::format) {
      // Bounded by decode_frame: 8 * kMaxPartitions bytes.
      payload.resize(frame->payload_length);
      UISCSI_TRY_VOID(pread_exact(fd, payload, payload_offset));
      if (core::crc32c(payload) != frame->payload_crc) return tapesim_errc::image_corrupt;
    } else if (options.verify_data && frame->payload_length > 0) {
      UISCSI_TRY(const std::uint32_t crc, crc_of(fd, payload_offset, frame->payload_length));
      if (crc != frame->payload_crc) return tapesim_errc::image_corrupt;
    }
    UISCSI_TRY_VOID(replay.frame(*frame, payload_offset, payload));
    off = payload_offset + frame->payload_length;
  }
  if (torn) {
    if (header.clean || !options.recover_torn_tail) return tapesim_errc::image_truncated;
    if (!options.read_only && ::ftruncate(fd, static_cast<off_t>(off)) != 0) {
      return last_os_error();
    }
  }
  f->end_ = off;
  if (!options.read_only) {
    image::Header dirty = header;
    dirty.clean = false;
    dirty.clean_length = 0;
    UISCSI_TRY_VOID(f->write_header(dirty));
  }
  return f;
}

Result<std::uint64_t> ImageFile::append(const image::Frame& f, std::span<const std::byte> payload) {
  if (read_only_) return tapesim_errc::write_protected;
  const auto head = image::encode_frame(f);
  UISCSI_TRY_VOID(pwrite_all(fd_, head, end_));
  const std::uint64_t payload_offset = end_ + head.size();
  UISCSI_TRY_VOID(pwrite_all(fd_, payload, payload_offset));
  end_ = payload_offset + payload.size();
  return payload_offset;
}

Result<void> ImageFile::read(std::uint64_t offset, std::span<std::byte> out) const {
  return pread_exact(fd_, out, offset);
}

Result<void> ImageFile::write_header(const image::Header& header) {
  if (read_only_) return tapesim_errc::write_protected;
  UISCSI_TRY_VOID(pwrite_all(fd_, image::encode_header(header), 0));
  return sync();
}

Result<void> ImageFile::trim() {
  if (read_only_) return ok();
  if (::ftruncate(fd_, static_cast<off_t>(end_)) != 0) return last_os_error();
  return ok();
}

Result<void> ImageFile::sync() {
  if (read_only_) return ok();
  while (::fdatasync(fd_) != 0) {
    if (errno != EINTR) return last_os_error();
  }
  return ok();
}

Result<void> ImageFile::replace_with(std::unique_ptr<ImageFile> other) {
  if (::rename(other->path_.c_str(), path_.c_str()) != 0) return last_os_error();
  // Make the rename itself durable.
  const std::string dir = path_.find('/') == std::string::npos
                              ? std::string(".")
                              : path_.substr(0, std::max<std::size_t>(path_.rfind('/'), 1));
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  ::close(fd_);
  fd_ = other->fd_;
  end_ = other->end_;
  other->fd_ = -1;
  return ok();
}

void ImageFile::unlink() {
  ::unlink(path_.c_str());
}

}  // namespace uiscsi::tapesim::detail
