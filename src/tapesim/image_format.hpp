// The on-disk format of a virtual cartridge image, version 1 (internal to src/tapesim).
//
// An image is a 96-byte header followed by a journal of frames. Frames are only ever appended;
// replaying them in order rebuilds the cartridge:
//   FORMAT    (re)partitions the medium: every partition becomes empty
//   OBJECT    appends a record, filemark or setmark at the end of data of one partition
//   TRUNCATE  cuts one partition to a number of objects (a write in the middle of recorded data,
//             or ERASE)
// Overwritten frames become dead space; Medium::compact() rewrites the live ones.
//
// All integers are big-endian.
//
// Header (96 bytes):
//   0   8  magic "UISCTAPE"
//   8   2  format version (1)
//   10  2  header length (96)
//   12  4  flags: bit 0 write protected (the cartridge tab), bit 1 closed cleanly
//   16  8  capacity in bytes (all partitions together)
//   24  8  early-warning zone in bytes (per partition, before its end)
//   32  4  bytes a filemark or setmark takes
//   36  1  density code (0: not yet recorded)
//   37  3  reserved (0)
//   40  8  file length when closed cleanly (0 while open): a clean image cut at a frame
//          boundary is still recognised as truncated
//   48  32 barcode / volume label, printable ASCII, NUL padded
//   80  12 reserved (0)
//   92  4  CRC32C of bytes 0-91
//
// Frame (32-byte header, then PAYLOAD LENGTH bytes):
//   0   4  magic "TFR1"
//   4   1  type: 1 OBJECT, 2 TRUNCATE, 3 FORMAT
//   5   1  partition (OBJECT, TRUNCATE)
//   6   1  object kind (OBJECT): 0 record, 1 filemark, 2 setmark
//   7   1  flags (OBJECT records): bit 0 the payload is zlib-compressed
//   8   8  value: OBJECT record length (logical bytes), TRUNCATE object count, FORMAT partition
//          count
//   16  4  payload length: OBJECT stored bytes, FORMAT 8 per partition (the sizes), else 0
//   20  4  CRC32C of the payload
//   24  4  reserved (0)
//   28  4  CRC32C of bytes 0-27
//
// Every length read from a file is bounded (kMaxRecordLength, kMaxPartitions) and checked
// against the bytes actually present before anything is allocated for it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "uiscsi/result.hpp"

namespace uiscsi::tapesim::image {

inline constexpr std::uint16_t kVersion = 1;
inline constexpr std::size_t kHeaderSize = 96;
inline constexpr std::size_t kFrameHeaderSize = 32;
inline constexpr std::size_t kBarcodeLength = 32;
// READ(6) / WRITE(6) carry 24-bit lengths: no record can be longer.
inline constexpr std::uint32_t kMaxRecordLength = 0xffffff;
inline constexpr std::uint32_t kMaxPartitions = 64;

struct Header {
  bool write_protected = false;
  bool clean = false;  // closed cleanly: every frame it wrote is complete
  std::uint64_t capacity = 0;
  std::uint64_t early_warning = 0;
  std::uint32_t mark_size = 0;
  std::uint8_t density_code = 0;
  std::uint64_t clean_length = 0;  // file length, when clean
  std::string barcode;             // at most kBarcodeLength bytes

  bool operator==(const Header&) const = default;
};

enum class FrameType : std::uint8_t { object = 1, truncate = 2, format = 3 };

struct Frame {
  FrameType type = FrameType::object;
  std::uint8_t partition = 0;
  std::uint8_t kind = 0;  // ObjectKind as a byte
  bool compressed = false;
  std::uint64_t value = 0;
  std::uint32_t payload_length = 0;
  std::uint32_t payload_crc = 0;

  bool operator==(const Frame&) const = default;
};

std::array<std::byte, kHeaderSize> encode_header(const Header& h);
// image_truncated (short), image_not_a_tape (magic), image_version (version > kVersion or another
// header length), image_corrupt (CRC, reserved bytes, non-ASCII barcode, a clean length in a
// header not marked clean).
Result<Header> decode_header(std::span<const std::byte> bytes);

std::array<std::byte, kFrameHeaderSize> encode_frame(const Frame& f);
// image_truncated (short), image_corrupt (magic, CRC, unknown type or kind, reserved bits, a
// length or count outside its bound or inconsistent with the type).
Result<Frame> decode_frame(std::span<const std::byte> bytes);

}  // namespace uiscsi::tapesim::image
