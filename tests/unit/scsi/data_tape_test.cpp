// SSC-3 data parsers (block limits, positions, densities, tape mode pages), LOG SENSE and
// TapeAlert.
#include <gtest/gtest.h>

#include "scsi_test_util.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"
#include "uiscsi/scsi/errors.hpp"

namespace uiscsi::scsi {
namespace {

using test::append;
using test::ascii;
using test::bytes;
using test::for_each_prefix;
using test::hex;

TEST(BlockLimits, Parse) {
  const auto d = hex("00 10 00 00 00 01");  // 1 byte .. 1 MiB, as tapesim-tcmu answers
  auto r = parse_read_block_limits(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->granularity, 0);
  EXPECT_EQ(r->max_block_length, 0x100000u);
  EXPECT_EQ(r->min_block_length, 1);
  auto lto = parse_read_block_limits(hex("02 ff ff ff 00 04"));
  ASSERT_TRUE(lto);
  EXPECT_EQ(lto->granularity, 2);
  EXPECT_EQ(lto->max_block_length, 0xffffffu);
  EXPECT_EQ(lto->min_block_length, 4);
  for_each_prefix(d, [](std::span<const std::byte> p) {
    EXPECT_EQ(parse_read_block_limits(p).error(), scsi_errc::truncated_data);
  });
}

TEST(ReadPosition, ShortForm) {
  const auto bot = hex("b4 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00");
  auto b = parse_read_position(bot, ReadPositionForm::short_form);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->bop);
  EXPECT_FALSE(b->eop);
  EXPECT_TRUE(b->block_count_unknown);
  EXPECT_TRUE(b->byte_count_unknown);
  EXPECT_TRUE(b->block_position_unknown);  // an illustrative value, not what drives send at BOP
  const auto mid = hex("41 01 00 00 00 01 e2 40 00 01 e2 3e 00 00 00 02 00 02 00 00");
  auto m = parse_read_position(mid, ReadPositionForm::short_form);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->bop);
  EXPECT_TRUE(m->eop);
  EXPECT_TRUE(m->bpew);
  EXPECT_FALSE(m->perr);
  EXPECT_EQ(m->partition, 1u);
  EXPECT_EQ(m->first_block, 123456u);
  EXPECT_EQ(m->last_block, 123454u);
  EXPECT_EQ(m->blocks_in_buffer, 2u);
  EXPECT_EQ(m->bytes_in_buffer, 0x20000u);
  for_each_prefix(mid, [](std::span<const std::byte> p) {
    EXPECT_EQ(parse_read_position(p, ReadPositionForm::short_form).error(),
              scsi_errc::truncated_data);
  });
}

TEST(ReadPosition, LongForm) {
  const auto d =
      hex("88 00 00 00 00 00 00 02 00 00 00 00 00 00 10 00"
          "00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00");
  auto r = parse_read_position(d, ReadPositionForm::long_form);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->bop);
  EXPECT_TRUE(r->mark_position_unknown);
  EXPECT_FALSE(r->block_position_unknown);
  EXPECT_EQ(r->partition, 2u);
  EXPECT_EQ(r->first_block, 0x1000u);
  EXPECT_EQ(r->file_number, 7u);
  EXPECT_EQ(r->set_number, 0u);
  for_each_prefix(d, [](std::span<const std::byte> p) {
    EXPECT_FALSE(parse_read_position(p, ReadPositionForm::long_form));
  });
}

TEST(ReadPosition, ExtendedForm) {
  const auto d =
      hex("02 03 00 1c 00 00 00 05 00 00 00 01 00 00 00 00"
          "00 00 00 01 00 00 00 10 00 00 00 00 00 0a 00 00");
  auto r = parse_read_position(d, ReadPositionForm::extended_form);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->perr);
  EXPECT_EQ(r->partition, 3u);
  EXPECT_EQ(r->blocks_in_buffer, 5u);
  EXPECT_EQ(r->first_block, 0x100000000ull);
  EXPECT_EQ(r->last_block, 0x100000010ull);
  EXPECT_EQ(r->bytes_in_buffer, 0xa0000u);
  auto bad = d;
  bad[3] = std::byte{0x10};
  EXPECT_EQ(parse_read_position(bad, ReadPositionForm::extended_form).error(),
            scsi_errc::malformed_data);
  EXPECT_EQ(parse_read_position(d, static_cast<ReadPositionForm>(0x1f)).error(),
            scsi_errc::unsupported_format);
  for_each_prefix(d, [](std::span<const std::byte> p) {
    EXPECT_FALSE(parse_read_position(p, ReadPositionForm::extended_form));
  });
}

std::vector<std::byte> density_descriptor(int primary, int flags, int bits_per_mm, int width,
                                          int tracks, int capacity, const char* name,
                                          const char* description, bool dlv) {
  auto d = bytes({primary, primary, flags | (dlv ? 1 : 0), 0x00, dlv ? 0x2f : 0x00,
                  (bits_per_mm >> 16) & 0xff, (bits_per_mm >> 8) & 0xff, bits_per_mm & 0xff,
                  width >> 8, width & 0xff, tracks >> 8, tracks & 0xff, (capacity >> 24) & 0xff,
                  (capacity >> 16) & 0xff, (capacity >> 8) & 0xff, capacity & 0xff});
  append(d, ascii("LTO-CVE", 8));
  append(d, ascii(name, 8));
  append(d, ascii(description, 20));
  return d;
}

std::vector<std::byte> lto4_density_report() {
  std::vector<std::byte> list;
  append(list,
         density_descriptor(0x46, 0xa0, 12725, 127, 896, 800000, "U-416", "Ultrium 4/16T", true));
  append(list,
         density_descriptor(0x44, 0x80, 9638, 127, 704, 400000, "U-316", "Ultrium 3/16T", true));
  append(list,
         density_descriptor(0x42, 0x00, 7398, 127, 512, 200000, "U-216", "Ultrium 2/8T", false));
  auto d = bytes(
      {static_cast<int>((list.size() + 2) >> 8), static_cast<int>((list.size() + 2) & 0xff), 0, 0});
  append(d, list);
  return d;
}

TEST(DensitySupport, Lto4Drive) {
  const auto d = lto4_density_report();
  auto r = parse_report_density_support(d);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->available_length, 3 * 52 + 2);
  ASSERT_EQ(r->descriptors.size(), 3u);
  const DensityDescriptor& lto4 = r->descriptors[0];
  EXPECT_EQ(lto4.primary_density_code, 0x46);
  EXPECT_EQ(lto4.secondary_density_code, 0x46);
  EXPECT_TRUE(lto4.wrtok);
  EXPECT_FALSE(lto4.dup);
  EXPECT_TRUE(lto4.deflt);
  EXPECT_EQ(lto4.bits_per_mm, 12725u);
  EXPECT_EQ(lto4.media_width, 127);
  EXPECT_EQ(lto4.tracks, 896);
  EXPECT_EQ(lto4.capacity, 800000u);
  EXPECT_EQ(lto4.assigning_organization, "LTO-CVE");
  EXPECT_EQ(lto4.density_name, "U-416");
  EXPECT_EQ(lto4.description, "Ultrium 4/16T");
  EXPECT_FALSE(r->descriptors[2].wrtok);
  EXPECT_EQ(r->descriptors[2].density_name, "U-216");
  for_each_prefix(d, [](std::span<const std::byte> p) {
    auto x = parse_report_density_support(p);
    if (p.size() < 4) {
      EXPECT_FALSE(x);
      return;
    }
    ASSERT_TRUE(x);
    EXPECT_EQ(x->descriptors.size(), (p.size() - 4) / 52);
  });
  // DLV with a descriptor length too small for the fields.
  auto bad = d;
  bad[4 + 4] = std::byte{0x10};
  EXPECT_EQ(parse_report_density_support(bad).error(), scsi_errc::malformed_data);
}

// A TapeAlert log page (2Eh) with all 64 parameters, flags 3 (hard error), 20 (clean now) and
// 64 set, as drives return it.
std::vector<std::byte> tape_alert_page() {
  auto d = hex("2e 00 01 40");
  for (int code = 1; code <= 64; ++code) {
    const bool set = code == 3 || code == 20 || code == 64;
    append(d, bytes({0, code, 0x03, 0x01, set ? 1 : 0}));
  }
  return d;
}

TEST(LogSense, TapeAlertFlags) {
  const auto d = tape_alert_page();
  ASSERT_EQ(d.size(), 4u + 64 * 5);
  auto page = parse_log_page(d);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->page_code, 0x2e);
  EXPECT_EQ(page->page_length, 0x140);
  ASSERT_EQ(page->parameters.size(), 64u);
  EXPECT_EQ(page->parameters[2].code, 3);
  EXPECT_EQ(page->parameters[2].control, 0x03);
  EXPECT_EQ(page->find(20)->as_integer(), 1u);
  auto flags = tape_alert_flags(*page);
  ASSERT_TRUE(flags);
  EXPECT_EQ(*flags, (std::vector<std::uint8_t>{3, 20, 64}));
  EXPECT_EQ(tape_alert_name(3), "Hard error");
  EXPECT_EQ(tape_alert_name(20), "Clean now");
  EXPECT_EQ(tape_alert_name(1), "Read warning");
  EXPECT_EQ(tape_alert_name(9), "Write protect");
  EXPECT_EQ(tape_alert_name(39), "Diagnostics required");
  EXPECT_EQ(tape_alert_name(60), "WORM medium - overwrite attempted");
  EXPECT_EQ(tape_alert_name(64), "Reserved");
  EXPECT_EQ(tape_alert_name(0), "Invalid");
  EXPECT_EQ(tape_alert_name(65), "Invalid");

  LogPage other;
  other.page_code = 0x0c;
  EXPECT_EQ(tape_alert_flags(other).error(), scsi_errc::malformed_data);

  for_each_prefix(d, [](std::span<const std::byte> p) {
    auto x = parse_log_page(p);
    if (p.size() < 4) {
      EXPECT_FALSE(x);
      return;
    }
    ASSERT_TRUE(x);
    EXPECT_EQ(x->parameters.size(), (p.size() - 4) / 5);
    auto f = tape_alert_flags(*x);
    ASSERT_TRUE(f);
    for (std::uint8_t flag : *f) {
      EXPECT_TRUE(flag == 3 || flag == 20);
    }
  });
}

TEST(LogSense, ParametersAndMalformedPages) {
  // Page 0Ch (sequential-access device) style: 8-byte counters.
  const auto d =
      hex("0c 00 00 18 00 00 40 08 00 00 00 00 00 01 00 00 00 01 40 08 00 00 00 01 00 00 00 00");
  auto page = parse_log_page(d);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->parameters.size(), 2u);
  EXPECT_EQ(page->parameters[0].as_integer(), 0x10000u);
  EXPECT_EQ(page->parameters[1].as_integer(), 0x100000000ull);
  EXPECT_EQ(page->find(7), nullptr);
  // Parameter length past the page length: malformed.
  EXPECT_EQ(parse_log_page(hex("0c 00 00 05 00 00 40 08 00")).error(), scsi_errc::malformed_data);
  // Leftover bytes that cannot hold a parameter header: malformed.
  EXPECT_EQ(parse_log_page(hex("0c 00 00 02 00 00")).error(), scsi_errc::malformed_data);
  auto sub = parse_log_page(hex("4d 01 00 00"));
  ASSERT_TRUE(sub);
  EXPECT_TRUE(sub->spf);
  EXPECT_EQ(sub->page_code, 0x0d);
  EXPECT_EQ(sub->subpage, 1);
}

// MODE SENSE(6) of page 0Fh from a DDS-4 drive: buffered mode 1, density 26h, fixed 512-byte
// blocks, compression capable and enabled, DDE set, algorithm 10h (DCLZ).
std::vector<std::byte> dds4_mode_sense_0f() {
  return hex(
      "1b 00 10 08"
      "26 00 00 00 00 00 02 00"
      "8f 0e c0 80 00 00 00 10 00 00 00 10 00 00 00 00");
}

TEST(TapeModePages, DataCompressionPage) {
  auto m = parse_mode_sense6(dds4_mode_sense_0f(), PeripheralDeviceType::sequential_access);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header.device_specific, 0x10);
  ASSERT_EQ(m->block_descriptors.size(), 1u);
  EXPECT_EQ(m->block_descriptors[0].density_code, 0x26);
  EXPECT_EQ(m->block_descriptors[0].number_of_blocks, 0u);
  EXPECT_EQ(m->block_descriptors[0].block_length, 512u);
  const ModePage* page = m->find_page(mode_page::kDataCompression);
  ASSERT_NE(page, nullptr);
  EXPECT_TRUE(page->ps);
  auto dc = parse_data_compression_page(*page);
  ASSERT_TRUE(dc);
  EXPECT_TRUE(dc->dce);
  EXPECT_TRUE(dc->dcc);
  EXPECT_TRUE(dc->dde);  // byte 3 bit 7, not byte 2 bit 6 (the original driver's bug)
  EXPECT_EQ(dc->red, 0);
  EXPECT_EQ(dc->compression_algorithm, 0x10u);
  EXPECT_EQ(dc->decompression_algorithm, 0x10u);

  ModePage wrong = *page;
  wrong.page_code = 0x10;
  EXPECT_EQ(parse_data_compression_page(wrong).error(), scsi_errc::malformed_data);
  ModePage short_page = *page;
  short_page.parameters.resize(9);
  EXPECT_EQ(parse_data_compression_page(short_page).error(), scsi_errc::truncated_data);
}

TEST(TapeModePages, CompressionReadModifyWriteKeepsEverythingElse) {
  auto m = *parse_mode_sense6(dds4_mode_sense_0f(), PeripheralDeviceType::sequential_access);
  auto off = with_data_compression(*m.find_page(0x0f), false);
  ASSERT_TRUE(off);
  EXPECT_FALSE(off->ps);
  auto dc = *parse_data_compression_page(*off);
  EXPECT_FALSE(dc.dce);
  EXPECT_TRUE(dc.dcc);
  EXPECT_TRUE(dc.dde);
  EXPECT_EQ(dc.compression_algorithm, 0x10u);

  *m.find_page(0x0f) = *off;
  auto list =
      build_mode_parameters6(m, PeripheralDeviceType::sequential_access, ModeDataUse::select);
  ASSERT_TRUE(list);
  // Header: MODE DATA LENGTH 0 for MODE SELECT, buffered mode kept, the block descriptor kept
  // (density and the 512-byte fixed block size), the page with PS cleared and only DCE changed.
  EXPECT_EQ(test::ints(*list), test::ints(hex("00 00 10 08"
                                              "26 00 00 00 00 00 02 00"
                                              "0f 0e 40 80 00 00 00 10 00 00 00 10 00 00 00 00")));
  auto both = with_data_compression(*off, true, false);
  ASSERT_TRUE(both);
  EXPECT_TRUE(parse_data_compression_page(*both)->dce);
  EXPECT_FALSE(parse_data_compression_page(*both)->dde);
}

TEST(TapeModePages, DeviceConfigurationPage) {
  ModePage page;
  page.page_code = 0x10;
  page.parameters = hex("40 01 20 30 00 64 a9 00 68 00 10 00 01 ad");
  auto r = parse_device_configuration_page(page);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->cap);
  EXPECT_FALSE(r->caf);
  EXPECT_EQ(r->active_partition, 1);
  EXPECT_EQ(r->write_buffer_full_ratio, 0x20);
  EXPECT_EQ(r->read_buffer_empty_ratio, 0x30);
  EXPECT_EQ(r->write_delay_time, 100);
  EXPECT_TRUE(r->obr);
  EXPECT_FALSE(r->lois);
  EXPECT_TRUE(r->rsmk);
  EXPECT_EQ(r->socf, 2);
  EXPECT_TRUE(r->rew);
  EXPECT_EQ(r->eod_defined, 3);
  EXPECT_FALSE(r->eeg);
  EXPECT_TRUE(r->sew);
  EXPECT_EQ(r->buffer_size_at_early_warning, 0x1000u);
  EXPECT_EQ(r->select_data_compression_algorithm, 1);
  EXPECT_EQ(r->wtre, 2);
  EXPECT_TRUE(r->oir);
  EXPECT_EQ(r->rewind_on_reset, 1);
  EXPECT_TRUE(r->asocwp);
  EXPECT_FALSE(r->perswp);
  EXPECT_TRUE(r->prmwp);
  page.parameters.resize(13);
  EXPECT_EQ(parse_device_configuration_page(page).error(), scsi_errc::truncated_data);
}

TEST(TapeModePages, MediumPartitionPage) {
  ModePage page;
  page.page_code = 0x11;
  page.parameters = hex("01 01 b4 03 09 00 00 64 ff ff");
  auto r = parse_medium_partition_page(page);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->max_additional_partitions, 1);
  EXPECT_EQ(r->additional_partitions_defined, 1);
  EXPECT_TRUE(r->fdp);
  EXPECT_FALSE(r->sdp);
  EXPECT_TRUE(r->idp);
  EXPECT_EQ(r->psum, 2);
  EXPECT_TRUE(r->pofm);
  EXPECT_EQ(r->medium_format_recognition, 3);
  EXPECT_EQ(r->partition_units, 9);
  EXPECT_EQ(r->partition_sizes, (std::vector<std::uint16_t>{0x64, 0xffff}));
  page.parameters.resize(5);
  EXPECT_EQ(parse_medium_partition_page(page).error(), scsi_errc::truncated_data);
  page.page_code = 0x0f;
  EXPECT_EQ(parse_medium_partition_page(page).error(), scsi_errc::malformed_data);
}

}  // namespace
}  // namespace uiscsi::scsi
