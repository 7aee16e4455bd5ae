// answer_inquiry: see inquiry.hpp.
#include "tapesim/inquiry.hpp"

#include "tapesim/sense.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::tapesim {
namespace {

constexpr std::uint16_t kVersionSam5 = 0x00a0;
constexpr std::uint16_t kVersionSpc4 = 0x0460;

Response check(const scsi::SenseData& s) {
  Response r;
  r.status = scsi::Status::check_condition;
  r.sense = scsi::build_fixed_sense(s);
  return r;
}

std::uint8_t byte_at(std::span<const std::byte> cdb, std::size_t i) {
  return i < cdb.size() ? std::to_integer<std::uint8_t>(cdb[i]) : std::uint8_t{0};
}

}  // namespace

Response answer_inquiry(std::span<const std::byte> cdb, const DeviceIdentity& identity,
                        const VpdPageBuilder& vpd) {
  if ((byte_at(cdb, 1) & 0x02) != 0) return check(sense::invalid_cdb(1, 1));
  const bool evpd = (byte_at(cdb, 1) & 0x01) != 0;
  const std::uint8_t page = byte_at(cdb, 2);
  const std::size_t allocation_length =
      static_cast<std::size_t>(byte_at(cdb, 3)) << 8 | byte_at(cdb, 4);
  Response r;
  if (!evpd) {
    if (page != 0) return check(sense::invalid_cdb(2, 7));
    scsi::InquiryData inq;
    inq.device_type = identity.type;
    inq.rmb = true;      // cartridges come and go
    inq.version = 0x06;  // SPC-4
    inq.response_data_format = 2;
    inq.vendor = identity.vendor;
    inq.product = identity.product;
    inq.revision = identity.revision;
    inq.version_descriptors = {kVersionSam5, kVersionSpc4, identity.command_set_version};
    auto data = scsi::build_inquiry(inq);
    if (!data) return check(sense::internal_failure());
    r.data_in = std::move(*data);
  } else {
    auto data = vpd(page);
    if (!data) return check(sense::invalid_cdb(2, 7));
    r.data_in = std::move(*data);
  }
  if (r.data_in.size() > allocation_length) r.data_in.resize(allocation_length);
  return r;
}

}  // namespace uiscsi::tapesim
