// Record compression for the simulated drive (internal to src/tapesim).
//
// With DCE set (data compression mode page 0Fh, SSC-3 8.3.2) the drive stores each record
// deflated by zlib when that makes it smaller, so capacity consumption and the LOG SENSE byte
// counts reflect real compressibility. Records that do not shrink are stored as they are.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "uiscsi/result.hpp"

namespace uiscsi::tapesim::detail {

// The deflated form of `data` when it is strictly shorter than `data`, else nullopt.
std::optional<std::vector<std::byte>> compress_record(std::span<const std::byte> data);

// Inflates `stored` into `out`, which must be exactly the record's logical length.
// tapesim_errc::data_corrupt if the stream is invalid or does not produce exactly out.size()
// bytes.
Result<void> decompress_record(std::span<const std::byte> stored, std::span<std::byte> out);

}  // namespace uiscsi::tapesim::detail
