#include "mt/report.hpp"

#include <cstdio>
#include <optional>
#include <vector>

#include "common/probe.hpp"
#include "common/tape_tool.hpp"

namespace uiscsi::tools::mt {

namespace {

// mt-st's general status bits (linux/mtio.h GMT_*), so the number reads the same.
struct StatusBit {
  std::uint32_t mask;
  const char* name;
};
constexpr std::uint32_t kBot = 0x40000000, kEot = 0x20000000, kWriteProtect = 0x04000000,
                        kOnline = 0x01000000, kDoorOpen = 0x00040000, kImmediateReport = 0x00010000;
constexpr StatusBit kStatusBits[] = {
    {kBot, "BOT"},       {kEot, "EOT"},          {kWriteProtect, "WR_PROT"},
    {kOnline, "ONLINE"}, {kDoorOpen, "DR_OPEN"}, {kImmediateReport, "IM_REP_EN"},
};

std::vector<std::string> names_of(std::uint32_t bits) {
  std::vector<std::string> names;
  for (const auto& bit : kStatusBits)
    if (bits & bit.mask) names.emplace_back(bit.name);
  return names;
}

const char* json_bool(bool b) {
  return b ? "true" : "false";
}

std::string hex_byte(unsigned value) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02x", value);
  return text;
}

}  // namespace

int print_status(tape::Drive& drive, const std::string& name, bool json) {
  auto medium = drive.refresh_medium_state();
  if (!medium) return tape_fail("status of " + name, drive, medium.error());
  auto position = drive.position();
  if (!position) return tape_fail("status of " + name, drive, position.error());
  // Compression and TapeAlert are optional pages: a drive without them still has a status.
  std::optional<bool> compression;
  if (auto page = drive.compression()) compression = page->dce;
  std::optional<std::vector<std::uint8_t>> alerts;
  if (auto flags = drive.tape_alerts()) alerts = std::move(*flags);

  std::uint32_t bits = kOnline | kImmediateReport;
  if (position->bop) bits |= kBot;
  if (position->eop) bits |= kEot;
  if (medium->write_protected) bits |= kWriteProtect;
  const std::vector<std::string> bit_names = names_of(bits);

  const auto& inquiry = drive.info().inquiry;
  const std::string density(tape::density_name(medium->density_code));
  if (json) {
    std::printf("{\"device\":%s,\"vendor\":%s,\"product\":%s,\"revision\":%s,",
                json_string(name).c_str(), json_string(inquiry.vendor).c_str(),
                json_string(inquiry.product).c_str(), json_string(inquiry.revision).c_str());
    if (position->file)
      std::printf("\"file_number\":%llu,", static_cast<unsigned long long>(*position->file));
    else
      std::printf("\"file_number\":null,");
    std::printf(
        "\"block_number\":%llu,\"partition\":%u,\"block_size\":%u,\"density_code\":%u,"
        "\"density_name\":%s,\"bot\":%s,\"eot\":%s,\"beyond_early_warning\":%s,"
        "\"write_protected\":%s,\"online\":true,",
        static_cast<unsigned long long>(position->block), position->partition, medium->block_size,
        medium->density_code, json_string(density).c_str(), json_bool(position->bop),
        json_bool(position->eop), json_bool(position->bpew), json_bool(medium->write_protected));
    if (compression)
      std::printf("\"compression\":%s,", json_bool(*compression));
    else
      std::printf("\"compression\":null,");
    std::printf("\"status_bits\":\"%08x\",\"flags\":[", bits);
    for (std::size_t i = 0; i < bit_names.size(); ++i)
      std::printf("%s\"%s\"", i ? "," : "", bit_names[i].c_str());
    std::printf("],\"tape_alerts\":");
    if (alerts) {
      std::printf("[");
      for (std::size_t i = 0; i < alerts->size(); ++i)
        std::printf("%s%u", i ? "," : "", (*alerts)[i]);
      std::printf("]}\n");
    } else {
      std::printf("null}\n");
    }
    return kExitOk;
  }

  std::printf("SCSI 2 tape drive %s %s %s (%s):\n", inquiry.vendor.c_str(), inquiry.product.c_str(),
              inquiry.revision.c_str(), name.c_str());
  if (position->file)
    std::printf("File number=%llu, block number=%llu, partition=%u.\n",
                static_cast<unsigned long long>(*position->file),
                static_cast<unsigned long long>(position->block), position->partition);
  else
    std::printf("File number=-1, block number=%llu, partition=%u.\n",
                static_cast<unsigned long long>(position->block), position->partition);
  std::printf("Tape block size %u bytes. Density code %s (%s).\n", medium->block_size,
              hex_byte(medium->density_code).c_str(), density.c_str());
  std::printf("General status bits on (%08x):\n", bits);
  for (const auto& bit : bit_names)
    std::printf(" %s", bit.c_str());
  std::printf("\n");
  std::printf("Write protect: %s\n", medium->write_protected ? "on" : "off");
  std::printf("Compression: %s\n", !compression ? "not supported" : *compression ? "on" : "off");
  if (!alerts) {
    std::printf("TapeAlert flags: not supported\n");
  } else if (alerts->empty()) {
    std::printf("TapeAlert flags: none\n");
  } else {
    std::printf("TapeAlert flags:");
    for (auto flag : *alerts)
      std::printf(" %s", hex_byte(flag).c_str());
    std::printf("\n");
  }
  return kExitOk;
}

int print_empty_status(const LunInfo& lun, const std::string& name, bool json) {
  const std::uint32_t bits = kDoorOpen | kImmediateReport;
  if (json) {
    std::printf(
        "{\"device\":%s,\"vendor\":%s,\"product\":%s,\"revision\":%s,\"online\":false,"
        "\"medium\":false,\"status_bits\":\"%08x\",\"flags\":[\"DR_OPEN\",\"IM_REP_EN\"]}\n",
        json_string(name).c_str(), json_string(lun.vendor).c_str(),
        json_string(lun.product).c_str(), json_string(lun.revision).c_str(), bits);
    return kExitOk;
  }
  std::printf("SCSI 2 tape drive %s %s %s (%s):\n", lun.vendor.c_str(), lun.product.c_str(),
              lun.revision.c_str(), name.c_str());
  std::printf("No medium loaded.\n");
  std::printf("General status bits on (%08x):\n", bits);
  for (const auto& bit : names_of(bits))
    std::printf(" %s", bit.c_str());
  std::printf("\n");
  return kExitOk;
}

int print_tell(tape::Drive& drive, const std::string& name, bool json) {
  auto position = drive.position();
  if (!position) return tape_fail("tell " + name, drive, position.error());
  if (json) {
    std::printf("{\"block\":%llu,\"partition\":%u,\"file\":",
                static_cast<unsigned long long>(position->block), position->partition);
    if (position->file)
      std::printf("%llu}\n", static_cast<unsigned long long>(*position->file));
    else
      std::printf("null}\n");
    return kExitOk;
  }
  std::printf("At block %llu.\n", static_cast<unsigned long long>(position->block));
  return kExitOk;
}

int print_densities(tape::Drive& drive, const std::string& name, bool json) {
  auto list = drive.densities();
  if (!list) return tape_fail("densities of " + name, drive, list.error());
  if (json) {
    std::printf("{\"densities\":[");
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto& d = (*list)[i];
      std::printf(
          "%s{\"code\":%u,\"name\":%s,\"density_name\":%s,\"description\":%s,\"default\":%s,"
          "\"writable\":%s,\"capacity_mb\":%u}",
          i ? "," : "", d.primary_density_code,
          json_string(tape::density_name(d.primary_density_code)).c_str(),
          json_string(d.density_name).c_str(), json_string(d.description).c_str(),
          json_bool(d.deflt), json_bool(d.wrtok), d.capacity);
    }
    std::printf("]}\n");
    return kExitOk;
  }
  std::printf("Densities the drive supports:\n");
  for (const auto& d : *list) {
    const std::string density = d.density_name.empty()
                                    ? std::string(tape::density_name(d.primary_density_code))
                                    : d.density_name;
    std::printf("%s  %-8s %-20s %s%s, %s\n", hex_byte(d.primary_density_code).c_str(),
                density.c_str(), d.description.c_str(), d.wrtok ? "read/write" : "read only",
                d.deflt ? ", default" : "",
                human_bytes(static_cast<std::uint64_t>(d.capacity) * 1000000).c_str());
  }
  return kExitOk;
}

}  // namespace uiscsi::tools::mt
