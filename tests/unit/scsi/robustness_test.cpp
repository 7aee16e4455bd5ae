// Every parser against random bytes and single-byte corruptions of valid data: no crash, no
// out-of-bounds read (run under ASan), and either a value or a scsi_errc.
#include <gtest/gtest.h>

#include <random>

#include "scsi_test_util.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"
#include "uiscsi/scsi/errors.hpp"
#include "uiscsi/scsi/sense.hpp"

namespace uiscsi::scsi {
namespace {

template <class R>
void expect_value_or_data_error(const R& r) {
  if (!r) {
    EXPECT_EQ(r.error().category(), scsi_data_category());
  }
}

// Runs every parser on `d`, which lives in its own exactly-sized buffer.
void parse_everything(std::span<const std::byte> in) {
  const std::vector<std::byte> copy(in.begin(), in.end());
  const std::span<const std::byte> d(copy.data(), copy.size());
  expect_value_or_data_error(parse_inquiry(d));
  expect_value_or_data_error(parse_vpd_page(d));
  expect_value_or_data_error(parse_vpd_supported_pages(d));
  expect_value_or_data_error(parse_vpd_unit_serial(d));
  if (auto ids = parse_vpd_device_identification(d)) {
    for (const Designator& x : *ids)
      (void)designator_string(x);
    (void)pick_lu_designator(*ids);
  }
  expect_value_or_data_error(parse_vpd_block_limits(d));
  expect_value_or_data_error(parse_vpd_block_characteristics(d));
  expect_value_or_data_error(parse_vpd_logical_block_provisioning(d));
  expect_value_or_data_error(parse_read_capacity10(d));
  expect_value_or_data_error(parse_read_capacity16(d));
  expect_value_or_data_error(parse_report_luns(d));
  for (auto type : {PeripheralDeviceType::direct_access, PeripheralDeviceType::sequential_access}) {
    for (auto m : {parse_mode_sense6(d, type), parse_mode_sense10(d, type)}) {
      expect_value_or_data_error(m);
      if (!m) continue;
      for (const ModePage& p : m->pages) {
        (void)parse_data_compression_page(p);
        (void)with_data_compression(p, true, true);
        (void)parse_device_configuration_page(p);
        (void)parse_medium_partition_page(p);
      }
      (void)build_mode_parameters6(*m, type, ModeDataUse::select);
      (void)build_mode_parameters10(*m, type, ModeDataUse::sense);
    }
  }
  expect_value_or_data_error(parse_pr_read_keys(d));
  expect_value_or_data_error(parse_pr_read_reservation(d));
  expect_value_or_data_error(parse_supported_opcodes(d));
  if (auto log = parse_log_page(d)) {
    for (const LogParameter& p : log->parameters)
      (void)p.as_integer();
    (void)tape_alert_flags(*log);
  }
  expect_value_or_data_error(parse_read_block_limits(d));
  for (auto form : {ReadPositionForm::short_form, ReadPositionForm::long_form,
                    ReadPositionForm::extended_form}) {
    expect_value_or_data_error(parse_read_position(d, form));
  }
  expect_value_or_data_error(parse_report_density_support(d));
  expect_value_or_data_error(parse_read_element_status(d));
  if (auto s = parse_sense(d)) {
    (void)describe(*s);
    (void)build_fixed_sense(*s);
    (void)build_descriptor_sense(*s);
  }
}

TEST(Robustness, RandomBytes) {
  std::mt19937 rng(20240501);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 300);
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::byte> d(static_cast<std::size_t>(length(rng)));
    for (std::byte& b : d)
      b = static_cast<std::byte>(byte(rng));
    // Make the usual header values likely so parsers get past their first checks.
    if (d.size() > 1 && i % 3 == 0) d[0] = std::byte{0x72};
    if (d.size() > 1 && i % 3 == 1) d[0] = std::byte{0x70};
    parse_everything(d);
  }
}

TEST(Robustness, SingleByteCorruptionOfValidData) {
  std::vector<std::vector<std::byte>> samples;
  InquiryData inq;
  inq.vendor = "UISCSI";
  inq.version_descriptors = {0x60, 0x460};
  samples.push_back(*build_inquiry(inq));
  std::array<std::byte, 16> naa{};
  naa[0] = std::byte{0x60};
  const Designator ids[] = {make_naa_designator(naa)};
  samples.push_back(*build_vpd_device_identification(PeripheralDeviceType::direct_access, ids));
  samples.push_back(build_vpd_block_limits(PeripheralDeviceType::direct_access, {}));
  ModeParameters m;
  m.block_descriptors.push_back({.density_code = 0x46, .number_of_blocks = 0, .block_length = 512});
  m.pages.push_back(build_data_compression_page({.dce = true, .dcc = true}));
  m.pages.push_back(build_device_configuration_page({}));
  samples.push_back(
      *build_mode_parameters6(m, PeripheralDeviceType::sequential_access, ModeDataUse::sense));
  samples.push_back(
      *build_mode_parameters10(m, PeripheralDeviceType::sequential_access, ModeDataUse::sense));
  LogPage log;
  log.page_code = kTapeAlertLogPage;
  for (std::uint16_t c = 1; c <= 8; ++c)
    log.parameters.push_back({.code = c, .value = {std::byte{1}}});
  samples.push_back(*build_log_page(log));
  const DensityDescriptor dd{.primary_density_code = 0x46, .density_name = "U-416"};
  samples.push_back(*build_report_density_support({&dd, 1}));
  SenseData s = make_sense(SenseKey::medium_error, 0x11, 0x00);
  s.information_valid = true;
  s.information = 5;
  s.sense_key_specific = SenseKeySpecific::field(true, 2);
  s.filemark = true;
  samples.push_back(build_fixed_sense(s));
  samples.push_back(build_descriptor_sense(s));
  const std::vector<Lun> luns{*Lun::from_number(0), *Lun::from_number(7)};
  samples.push_back(build_report_luns(luns));

  for (const auto& sample : samples) {
    for (std::size_t i = 0; i < sample.size(); ++i) {
      for (int v : {0x00, 0xff, 0x7f, 0x80, 0x01}) {
        auto d = sample;
        d[i] = static_cast<std::byte>(v);
        parse_everything(d);
      }
    }
    test::for_each_prefix(sample, [](std::span<const std::byte> p) { parse_everything(p); });
  }
}

}  // namespace
}  // namespace uiscsi::scsi
