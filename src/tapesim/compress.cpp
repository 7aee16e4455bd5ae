// zlib wrappers for record compression (compress.hpp).
#include "tapesim/compress.hpp"

#include <zlib.h>

#include <limits>

#include "tapesim/errors.hpp"

namespace uiscsi::tapesim::detail {

std::optional<std::vector<std::byte>> compress_record(std::span<const std::byte> data) {
  if (data.empty() || data.size() > std::numeric_limits<uLong>::max()) return std::nullopt;
  const auto length = static_cast<uLong>(data.size());
  uLongf out_length = compressBound(length);
  std::vector<std::byte> out(out_length);
  const int rc = compress2(reinterpret_cast<Bytef*>(out.data()), &out_length,
                           reinterpret_cast<const Bytef*>(data.data()), length, Z_BEST_SPEED);
  if (rc != Z_OK || out_length >= length) return std::nullopt;
  out.resize(out_length);
  return out;
}

Result<void> decompress_record(std::span<const std::byte> stored, std::span<std::byte> out) {
  if (stored.size() > std::numeric_limits<uInt>::max() ||
      out.size() > std::numeric_limits<uInt>::max()) {
    return tapesim_errc::data_corrupt;
  }
  z_stream z{};
  if (inflateInit(&z) != Z_OK) return tapesim_errc::data_corrupt;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(stored.data()));
  z.avail_in = static_cast<uInt>(stored.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const bool complete = rc == Z_STREAM_END && z.avail_out == 0 && z.avail_in == 0;
  inflateEnd(&z);
  if (!complete) return tapesim_errc::data_corrupt;
  return ok();
}

}  // namespace uiscsi::tapesim::detail
