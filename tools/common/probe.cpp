#include "common/probe.hpp"

#include "uiscsi/errors.hpp"
#include "uiscsi/scsi/cdb.hpp"
#include "uiscsi/scsi/data.hpp"

namespace uiscsi::tools {

Result<Completion> run_through_unit_attention(Session& s, Lun lun, const Command& command) {
  for (int attempt = 0;; ++attempt) {
    auto c = s.run(lun, command);
    if (!c || c->ok() || attempt == 3) return c;
    auto sense = c->sense();
    if (!sense || sense->sense_key != scsi::SenseKey::unit_attention) return c;
  }
}

LunInfo probe_lun(Session& s, Lun lun) {
  LunInfo info;
  info.lun = lun.to_number().value_or(0);
  auto inq = run_through_unit_attention(s, lun, Command(scsi::inquiry(255)));
  if (!inq) {
    info.error = inq.error().message();
    return info;
  }
  if (!inq->ok()) {
    info.error = "INQUIRY: " + inq->describe();
    return info;
  }
  auto data = scsi::parse_inquiry(inq->data());
  if (!data) {
    info.error = "INQUIRY data: " + data.error().message();
    return info;
  }
  if (data->peripheral_qualifier == 3) {  // SPC-4 6.6.2: no logical unit here
    info.present = false;
    info.error = "no such LUN";
    return info;
  }
  info.device_type = static_cast<std::uint8_t>(data->device_type);
  info.type_name = std::string(scsi::device_type_name(data->device_type));
  info.vendor = data->vendor;
  info.product = data->product;
  info.revision = data->revision;
  if (data->device_type != scsi::PeripheralDeviceType::direct_access) return info;

  auto cap = run_through_unit_attention(s, lun, Command(scsi::read_capacity16()));
  std::optional<scsi::CapacityData> capacity;
  if (cap && cap->ok()) {
    if (auto p = scsi::parse_read_capacity16(cap->data())) capacity = *p;
  }
  if (!capacity) {
    auto cap10 = run_through_unit_attention(s, lun, Command(scsi::read_capacity10()));
    if (cap10 && cap10->ok()) {
      if (auto p = scsi::parse_read_capacity10(cap10->data())) capacity = *p;
    } else {
      info.error = "READ CAPACITY: " + (cap10 ? cap10->describe() : cap10.error().message());
    }
  }
  if (capacity) {
    info.blocks = capacity->last_lba + 1;
    info.block_size = capacity->block_length;
  }
  return info;
}

Result<std::vector<Lun>> report_luns(Session& s) {
  auto spec = scsi::report_luns(16384);
  if (!spec) return spec.error();
  auto c = run_through_unit_attention(s, Lun(), Command(*spec));
  if (!c) return c.error();
  if (!c->ok()) return std::vector<Lun>{Lun()};
  auto data = scsi::parse_report_luns(c->data());
  if (!data) return data.error();
  return data->luns;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace uiscsi::tools
