// Parser for the SMC-3 element address assignment mode page (include/uiscsi/scsi/data.hpp).
#include "scsi/wire.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/errors.hpp"

namespace uiscsi::scsi {

// SMC-3 7.3.3. ModePage::parameters starts after the 2-byte page header, so page byte N is
// parameters[N - 2]. Bytes 18-19 are reserved; a longer page (a later revision) is accepted.
Result<ElementAddressAssignment> parse_element_address_page(const ModePage& page) {
  if (page.page_code != mode_page::kElementAddressAssignment || page.spf)
    return scsi_errc::malformed_data;
  constexpr std::size_t kRangesBytes = 16;
  const detail::Bytes p(page.parameters);
  if (p.size() < kRangesBytes) return scsi_errc::truncated_data;
  const auto range = [&](std::size_t off) {
    return ElementRange{detail::be16(p, off), detail::be16(p, off + 2)};
  };
  ElementAddressAssignment a;
  a.medium_transport = range(0);
  a.storage = range(4);
  a.import_export = range(8);
  a.data_transfer = range(12);
  return a;
}

}  // namespace uiscsi::scsi
