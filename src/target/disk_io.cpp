// DiskLu medium access commands (SBC-3 section 5): READ, WRITE, WRITE AND VERIFY, VERIFY,
// WRITE SAME, UNMAP, COMPARE AND WRITE, SYNCHRONIZE CACHE, PRE-FETCH, GET LBA STATUS.
//
// Common order of checks: CDB fields (PROTECT fields must be 0: no protection information),
// then the LBA range (LOGICAL BLOCK ADDRESS OUT OF RANGE, 21/00), then write protection (DATA
// PROTECT), then zero-length (no transfer, GOOD), then the block limits of VPD B0h (INVALID
// FIELD IN CDB on the length field). Range checks and I/O happen under io_mutex held shared, so
// resize() cannot move the end of the medium under a command.
//
// Data-Out shorter than the CDB asks for (the iSCSI Expected Data Transfer Length was smaller):
// the whole blocks received are written and the rest ignored; WRITE, WRITE AND VERIFY and
// VERIFY put the length the CDB asks for in ScsiResult::data_out_length, from which the engine
// reports the overflow or underflow residual (RFC 7143 11.4.5.1; libiscsi iSCSIResiduals expects
// GOOD with the residual). WRITE SAME and COMPARE AND WRITE need their exact
// Data-Out and fail otherwise (libiscsi *.InvalidDataOutSize).
#include <algorithm>
#include <cstring>

#include "target/disk_lu_impl.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::target {
namespace {

using Impl = DiskLu::Impl;

struct Extent {
  std::uint64_t lba = 0;
  std::uint64_t blocks = 0;
  std::uint16_t length_byte = 0;  // where the length field starts, for field pointers
};

// LBA and length by CDB size: (6) 21-bit LBA in 1-3, length 4; (10) 2-5 and 7-8; (12) 2-5 and
// 6-9; (16) 2-9 and 10-13.
Extent decode(const Command& c) {
  switch (c.cdb.size()) {
    case 6:
      return {(std::uint64_t{c.u8(1) & 0x1fu} << 16) | c.be16(2), c.u8(4), 4};
    case 10:
      return {c.be32(2), c.be16(7), 7};
    case 12:
      return {c.be32(2), c.be32(6), 6};
    default:
      return {c.be64(2), c.be32(10), 10};
  }
}

// RDPROTECT / WRPROTECT / VRPROTECT (byte 1 bits 7-5): this LU has no protection information.
bool protect_field_set(const Command& c) {
  return c.cdb.size() > 6 && (c.u8(1) & 0xe0) != 0;
}

// Offset of the first differing byte.
std::optional<std::size_t> first_difference(std::span<const std::byte> a,
                                            std::span<const std::byte> b) {
  const auto [pa, pb] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  if (pa == a.end()) return std::nullopt;
  return static_cast<std::size_t>(pa - a.begin());
}

bool all_zero(std::span<const std::byte> d) {
  return std::all_of(d.begin(), d.end(), [](std::byte b) { return b == std::byte{0}; });
}

// Writes the whole blocks of `data` (at most `blocks`) at `lba`.
ScsiResult write_blocks(const Impl& m, std::uint64_t lba, std::uint64_t blocks,
                        std::span<const std::byte> data, bool durable) {
  const std::uint64_t whole = std::min<std::uint64_t>(blocks, data.size() / m.block_size);
  if (whole == 0) return ScsiResult::good();
  auto w = m.store->write(lba, data.first(static_cast<std::size_t>(whole * m.block_size)),
                          durable || !m.wce.load(std::memory_order_relaxed));
  if (!w) return m.store_error(w.error(), true, lba);
  return ScsiResult::good();
}

// Reads `blocks` blocks into a fresh buffer.
Result<std::vector<std::byte>> read_blocks(const Impl& m, std::uint64_t lba, std::uint64_t blocks) {
  std::vector<std::byte> out;
  UISCSI_TRY_VOID(m.store->read_append(lba, blocks, out));
  return out;
}

}  // namespace

// READ (6)/(10)/(12)/(16) (SBC-3 5.10-5.13): byte 1 RDPROTECT 7-5, DPO 4, FUA 3 (accepted; there
// is no read cache to bypass). READ(6) with TRANSFER LENGTH 0 reads 256 blocks.
ScsiResult Impl::read(const Command& c) {
  Extent e = decode(c);
  if (c.cdb.size() == 6 && e.blocks == 0) e.blocks = 256;
  if (protect_field_set(c)) return check(sense::invalid_cdb(1, 7));
  std::shared_lock io(io_mutex);
  if (!in_range(e.lba, e.blocks)) return check(sense::lba_out_of_range());
  if (e.blocks == 0) return ScsiResult::good();
  if (e.blocks > max_transfer_blocks) return check(sense::invalid_cdb(e.length_byte, 7));
  ScsiResult r;
  if (auto rr = store->read_append(e.lba, e.blocks, r.data_in); !rr) {
    return store_error(rr.error(), false, e.lba);
  }
  return r;
}

// WRITE (6)/(10)/(12)/(16) (SBC-3 5.32-5.35): byte 1 WRPROTECT 7-5, DPO 4, FUA 3. With FUA, or
// with the write cache disabled (WCE = 0), the data is durable before GOOD.
ScsiResult Impl::write(const Command& c) {
  Extent e = decode(c);
  if (c.cdb.size() == 6 && e.blocks == 0) e.blocks = 256;
  auto run = [&]() -> ScsiResult {
    if (protect_field_set(c)) return check(sense::invalid_cdb(1, 7));
    const bool fua = c.cdb.size() > 6 && (c.u8(1) & 0x08) != 0;
    std::shared_lock io(io_mutex);
    if (!in_range(e.lba, e.blocks)) return check(sense::lba_out_of_range());
    if (write_protected()) return protect_error();
    if (e.blocks == 0) return ScsiResult::good();
    if (e.blocks > max_transfer_blocks) return check(sense::invalid_cdb(e.length_byte, 7));
    return write_blocks(*this, e.lba, e.blocks, c.in.data_out, fua);
  };
  ScsiResult r = run();
  r.data_out_length = e.blocks * block_size;
  return r;
}

// WRITE AND VERIFY (10)/(12)/(16) (SBC-3 5.36-5.38): byte 1 WRPROTECT 7-5, DPO 4, BYTCHK 2-1
// (0 or 1). The write is made durable, which is the verification this medium can offer; with
// BYTCHK = 1 the data compared is the data just written.
ScsiResult Impl::write_and_verify(const Command& c) {
  const Extent e = decode(c);
  auto run = [&]() -> ScsiResult {
    if (protect_field_set(c)) return check(sense::invalid_cdb(1, 7));
    if (((c.u8(1) >> 1) & 0x03) > 1) return check(sense::invalid_cdb(1, 2));
    std::shared_lock io(io_mutex);
    if (!in_range(e.lba, e.blocks)) return check(sense::lba_out_of_range());
    if (write_protected()) return protect_error();
    if (e.blocks == 0) return ScsiResult::good();
    if (e.blocks > max_transfer_blocks) return check(sense::invalid_cdb(e.length_byte, 7));
    return write_blocks(*this, e.lba, e.blocks, c.in.data_out, true);
  };
  ScsiResult r = run();
  r.data_out_length = e.blocks * block_size;
  return r;
}

// VERIFY (10)/(12)/(16) (SBC-3 5.29-5.31): byte 1 VRPROTECT 7-5, DPO 4, BYTCHK 2-1. BYTCHK 00b:
// medium verification (always succeeds); 01b: compare the Data-Out with the medium; 11b: compare
// one Data-Out block with every block. A difference ends with MISCOMPARE (1D/00), INFORMATION =
// offset of the first differing byte in the Data-Out buffer (for 11b, as if the block were
// repeated).
ScsiResult Impl::verify(const Command& c) {
  const Extent e = decode(c);
  const std::uint8_t bytchk = (c.u8(1) >> 1) & 0x03;
  auto run = [&]() -> ScsiResult {
    if (protect_field_set(c)) return check(sense::invalid_cdb(1, 7));
    if (bytchk == 2) return check(sense::invalid_cdb(1, 2));
    std::shared_lock io(io_mutex);
    if (!in_range(e.lba, e.blocks)) return check(sense::lba_out_of_range());
    if (e.blocks == 0 || bytchk == 0) return ScsiResult::good();
    const std::span<const std::byte> data = c.in.data_out;
    if (bytchk == 1) {
      if (e.blocks > max_transfer_blocks) return check(sense::invalid_cdb(e.length_byte, 7));
      const std::uint64_t n = std::min<std::uint64_t>(e.blocks, data.size() / block_size);
      auto medium = read_blocks(*this, e.lba, n);
      if (!medium) return store_error(medium.error(), false, e.lba);
      if (auto at = first_difference(data.first(medium->size()), *medium)) {
        return check(sense::miscompare(*at));
      }
      return ScsiResult::good();
    }
    if (data.size() < block_size) return check(sense::invalid_cdb(1, 2));
    const auto pattern = data.first(block_size);
    for (std::uint64_t done = 0; done < e.blocks;) {
      const std::uint64_t n = std::min<std::uint64_t>(e.blocks - done, max_transfer_blocks);
      auto medium = read_blocks(*this, e.lba + done, n);
      if (!medium) return store_error(medium.error(), false, e.lba + done);
      for (std::uint64_t i = 0; i < n; ++i) {
        const auto block = std::span<const std::byte>(*medium).subspan(
            static_cast<std::size_t>(i * block_size), block_size);
        if (auto at = first_difference(pattern, block)) {
          return check(sense::miscompare((done + i) * block_size + *at));
        }
      }
      done += n;
    }
    return ScsiResult::good();
  };
  ScsiResult r = run();
  // Data-Out: every block with BYTCHK 01b, one block with 11b, none otherwise.
  r.data_out_length = bytchk == 1                   ? e.blocks * block_size
                      : bytchk == 3 && e.blocks > 0 ? block_size
                                                    : 0;
  return r;
}

// WRITE SAME (10)/(16) (SBC-3 5.41-5.42): byte 1 WRPROTECT 7-5, ANCHOR 4, UNMAP 3, (10) PBDATA 2
// and LBDATA 1 (not supported), (16) NDOB 0. NUMBER OF LOGICAL BLOCKS 0 means "to the last LBA"
// (WSNZ = 0). UNMAP deallocates the range whatever the data (LBPRZ: it then reads zeros), as
// libiscsi's WriteSame*.Unmap* tests and LIO do; it needs thin provisioning. ANCHOR needs
// ANC_SUP, which this LU does not offer.
ScsiResult Impl::write_same(const Command& c) {
  const bool sixteen = c.cdb.size() == 16;
  const std::uint8_t b1 = c.u8(1);
  if ((b1 & 0xe0) != 0) return check(sense::invalid_cdb(1, 7));
  if ((b1 & 0x10) != 0) return check(sense::invalid_cdb(1, 4));
  if (!sixteen && (b1 & 0x06) != 0) return check(sense::invalid_cdb(1, 2));
  const bool unmap_bit = (b1 & 0x08) != 0;
  const bool ndob = sixteen && (b1 & 0x01) != 0;
  if (unmap_bit && !thin) return check(sense::invalid_cdb(1, 3));
  const Extent e = decode(c);
  std::shared_lock io(io_mutex);
  const std::uint64_t cap = capacity();
  if (e.lba > cap) return check(sense::lba_out_of_range());
  const std::uint64_t count = e.blocks == 0 ? cap - e.lba : e.blocks;
  if (!in_range(e.lba, count)) return check(sense::lba_out_of_range());
  if (count > config.max_write_same_blocks) return check(sense::invalid_cdb(e.length_byte, 7));
  if (write_protected()) return protect_error();
  if (!ndob && c.in.data_out.size() != block_size) {
    return check(sense::make(scsi::SenseKey::illegal_request, 0x24, 0x00));
  }
  if (count == 0) return ScsiResult::good();
  if (unmap_bit) {
    if (auto d = store->discard(e.lba, count); !d) return store_error(d.error(), true, e.lba);
    return ScsiResult::good();
  }
  // Repeat the block into a buffer of up to 1 MiB and write that until the range is covered.
  const std::uint64_t chunk = std::min<std::uint64_t>(count, std::max(1u, (1u << 20) / block_size));
  std::vector<std::byte> buffer(static_cast<std::size_t>(chunk * block_size));
  if (!ndob && !all_zero(c.in.data_out)) {
    for (std::uint64_t i = 0; i < chunk; ++i) {
      std::memcpy(buffer.data() + i * block_size, c.in.data_out.data(), block_size);
    }
  }
  for (std::uint64_t done = 0; done < count;) {
    const std::uint64_t n = std::min(chunk, count - done);
    const auto part =
        std::span<const std::byte>(buffer).first(static_cast<std::size_t>(n * block_size));
    if (auto w = store->write(e.lba + done, part, !wce.load(std::memory_order_relaxed)); !w) {
      return store_error(w.error(), true, e.lba + done);
    }
    done += n;
  }
  return ScsiResult::good();
}

// UNMAP (SBC-3 5.28): byte 1 ANCHOR 0; 7-8 PARAMETER LIST LENGTH. Parameter list: 0-1 UNMAP DATA
// LENGTH, 2-3 UNMAP BLOCK DESCRIPTOR DATA LENGTH, descriptors of 16 bytes (0-7 LBA, 8-11
// NUMBER OF LOGICAL BLOCKS) from byte 8; an incomplete last descriptor is ignored. Every
// descriptor is checked before any block is unmapped.
ScsiResult Impl::unmap(const Command& c) {
  if ((c.u8(1) & 0x01) != 0) return check(sense::invalid_cdb(1, 0));  // ANC_SUP = 0
  const std::uint16_t list_length = c.be16(7);
  if (list_length == 0) return ScsiResult::good();
  std::shared_lock io(io_mutex);
  if (write_protected()) return protect_error();
  const auto list = c.in.data_out.first(std::min<std::size_t>(list_length, c.in.data_out.size()));
  if (list.size() < 8) return check(sense::parameter_list_length());
  const std::size_t data_length = core::load_be16(list.data());
  const std::size_t descriptor_length = core::load_be16(list.data() + 2);
  std::size_t usable = std::min(descriptor_length, list.size() - 8);
  usable = std::min(usable, data_length >= 6 ? data_length - 6 : 0);
  const std::size_t count = usable / 16;
  if (count > config.max_unmap_descriptors) return check(sense::invalid_param(2, 7));
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::byte* d = list.data() + 8 + 16 * i;
    const std::uint64_t lba = core::load_be64(d);
    const std::uint32_t n = core::load_be32(d + 8);
    total += n;
    if (total > config.max_unmap_blocks) {
      return check(sense::invalid_param(static_cast<std::uint16_t>(8 + 16 * i + 8), 7));
    }
    if (!in_range(lba, n)) return check(sense::lba_out_of_range());
  }
  for (std::size_t i = 0; i < count; ++i) {
    const std::byte* d = list.data() + 8 + 16 * i;
    const std::uint64_t lba = core::load_be64(d);
    const std::uint32_t n = core::load_be32(d + 8);
    if (n == 0) continue;
    if (auto r = store->discard(lba, n); !r) return store_error(r.error(), true, lba);
  }
  return ScsiResult::good();
}

// COMPARE AND WRITE (SBC-3 5.2): byte 1 WRPROTECT 7-5, DPO 4, FUA 3; 2-9 LBA; 13 NUMBER OF
// LOGICAL BLOCKS (0: nothing to do). Data-Out holds the verify data then the write data. The
// compare and the write are atomic: the I/O lock is held exclusively across both. A difference
// ends with MISCOMPARE (1D/00), INFORMATION = offset of the first differing byte, and no write.
ScsiResult Impl::compare_and_write(const Command& c) {
  if (protect_field_set(c)) return check(sense::invalid_cdb(1, 7));
  const bool fua = (c.u8(1) & 0x08) != 0;
  const std::uint64_t lba = c.be64(2);
  const std::uint8_t count = c.u8(13);
  if (count > config.max_compare_and_write_blocks) return check(sense::invalid_cdb(13, 7));
  std::unique_lock io(io_mutex);
  if (!in_range(lba, count)) return check(sense::lba_out_of_range());
  if (count == 0) return ScsiResult::good();
  if (write_protected()) return protect_error();
  const std::size_t length = std::size_t{count} * block_size;
  if (c.in.data_out.size() != 2 * length) return check(sense::invalid_cdb(13, 7));
  auto medium = read_blocks(*this, lba, count);
  if (!medium) return store_error(medium.error(), false, lba);
  if (auto at = first_difference(c.in.data_out.first(length), *medium)) {
    return check(sense::miscompare(*at));
  }
  return write_blocks(*this, lba, count, c.in.data_out.subspan(length), fua);
}

// SYNCHRONIZE CACHE (10)/(16) (SBC-3 5.22-5.23): byte 1 IMMED 1 (the flush completes before
// status either way); NUMBER OF LOGICAL BLOCKS 0 means to the end of the medium. The whole store
// is flushed.
ScsiResult Impl::synchronize_cache(const Command& c) {
  const Extent e = decode(c);
  std::shared_lock io(io_mutex);
  if (!in_range(e.lba, e.blocks)) return check(sense::lba_out_of_range());
  if (auto f = store->flush(); !f) return store_error(f.error(), true, e.lba);
  return ScsiResult::good();
}

// PRE-FETCH (10)/(16) (SBC-3 5.8-5.9): range checked, then GOOD: there is no cache to fill, so
// CONDITION MET is never returned.
ScsiResult Impl::prefetch(const Command& c) {
  const Extent e = decode(c);
  std::shared_lock io(io_mutex);
  if (!in_range(e.lba, e.blocks)) return check(sense::lba_out_of_range());
  return ScsiResult::good();
}

// GET LBA STATUS (SBC-3 5.7): 2-9 STARTING LBA (beyond the last LBA: LBA OUT OF RANGE), 10-13
// ALLOCATION LENGTH. Descriptors run from the starting LBA with alternating mapped / deallocated
// extents, as many as the allocation length holds (at least one, at most 512). Without thin
// provisioning everything is mapped.
ScsiResult Impl::get_lba_status(const Command& c) {
  const std::uint64_t start = c.be64(2);
  const std::uint32_t alloc = c.be32(10);
  std::shared_lock io(io_mutex);
  const std::uint64_t cap = capacity();
  if (start >= cap) return check(sense::lba_out_of_range());
  const std::size_t max_descriptors =
      alloc >= 24 ? std::min<std::size_t>((alloc - 8) / 16, 512) : 1;
  std::vector<scsi::LbaStatusDescriptor> list;
  for (std::uint64_t at = start; at < cap && list.size() < max_descriptors;) {
    const std::uint64_t most = std::min<std::uint64_t>(cap - at, 0xffffffffu);
    ProvisioningExtent x{true, most};
    if (thin) {
      auto p = store->provisioning(at, most);
      if (!p) return store_error(p.error(), false, at);
      x = *p;
    }
    const std::uint64_t n = std::clamp<std::uint64_t>(x.blocks, 1, most);
    const auto status =
        x.mapped ? scsi::ProvisioningStatus::mapped : scsi::ProvisioningStatus::deallocated;
    if (!list.empty() && list.back().status == status &&
        list.back().lba + list.back().blocks == at && list.back().blocks + n <= 0xffffffffu) {
      list.back().blocks += static_cast<std::uint32_t>(n);  // the store split one extent
    } else {
      list.push_back({at, static_cast<std::uint32_t>(n), status});
    }
    at += n;
  }
  ScsiResult r;
  r.data_in = scsi::build_get_lba_status(list);
  limit(r, alloc);
  return r;
}

}  // namespace uiscsi::target
