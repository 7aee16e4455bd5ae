// ModePages: the mode pages of a disk LU (SPC-4 7.5, SBC-3 6.4) with their current, default and
// changeable values. Internal to src/target; DiskLu guards it with its state lock.
//
// Pages (all with the shared mode page policy, none saveable):
//   08h Caching (SBC-3 6.4.5): WCE (default 1) and RCD changeable.
//   0Ah Control (SPC-4 7.5.8): D_SENSE and SWP changeable; QUEUE ALGORITHM MODIFIER 1
//       (commands may be reordered), QERR 00b, TST 000b, BUSY TIMEOUT PERIOD FFFFh.
//   1Ch Informational Exceptions Control (SPC-4 7.5.11): DEXCPT set by default; PERF, EWASC,
//       DEXCPT, LOGERR, MRIE, INTERVAL TIMER and REPORT COUNT changeable (this device never
//       raises an informational exception, so they have no further effect).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/sense.hpp"

namespace uiscsi::target {

class ModePages {
 public:
  // PAGE CONTROL values other than saved (which the LU rejects before asking).
  enum class Control : std::uint8_t { current = 0, changeable = 1, defaults = 2 };

  ModePages();

  // Back to the default values (logical unit reset, SAM-5 6.3.3).
  void reset();

  [[nodiscard]] bool wce() const;      // caching page: write cache enabled
  [[nodiscard]] bool d_sense() const;  // control page: descriptor-format sense
  [[nodiscard]] bool swp() const;      // control page: software write protect

  // Whether MODE SENSE supports `page_code` (3Fh included).
  [[nodiscard]] static bool known(std::uint8_t page_code);
  // The pages MODE SENSE returns for `page_code` (3Fh: every page, ascending), PS = 0.
  [[nodiscard]] std::vector<scsi::ModePage> pages(std::uint8_t page_code, Control control) const;

  // Applies the mode pages of a MODE SELECT parameter list (the bytes after the header and
  // block descriptors; `offset` is where they start in the list, for field pointers). Either
  // every page is valid and applied, or nothing changes and the sense to return comes back:
  // PARAMETER LIST LENGTH ERROR for a page cut short, INVALID FIELD IN PARAMETER LIST for an
  // unknown page, a subpage, a wrong PAGE LENGTH or a change to a bit that is not changeable.
  // `changed` tells whether any current value differs afterwards.
  std::optional<scsi::SenseData> select(std::span<const std::byte> pages, std::size_t offset,
                                        bool& changed);

 private:
  struct Page {
    std::uint8_t code = 0;
    std::vector<std::uint8_t> current;  // parameter bytes after the 2-byte header
    std::vector<std::uint8_t> defaults;
    std::vector<std::uint8_t> changeable;  // 1 = changeable bit
  };
  [[nodiscard]] const Page* find(std::uint8_t code) const;
  Page* find(std::uint8_t code);

  std::array<Page, 3> pages_;
};

}  // namespace uiscsi::target
