// DiskLu MODE SENSE / MODE SELECT: the caching, control and informational exceptions pages,
// page control, block descriptors, changeable bits, D_SENSE, SWP, WCE and MODE PARAMETERS
// CHANGED.
#include "lu_test_util.hpp"
#include "uiscsi/scsi/data.hpp"
#include "uiscsi/scsi/data_build.hpp"

namespace uiscsi::target::test {
namespace {

using scsi::ModePage;
using scsi::ModeParameters;
using scsi::PageControl;
using scsi::PeripheralDeviceType;
using scsi::SenseKey;

constexpr auto kDisk = PeripheralDeviceType::direct_access;

ModeParameters sense6(Harness& h, std::uint8_t page, scsi::ModeSenseOptions o = {},
                      const Nexus* n = nullptr) {
  const auto r = h.run(n ? *n : h.a, *scsi::mode_sense6(page, 0, 255, o));
  EXPECT_GOOD(r);
  auto m = scsi::parse_mode_sense6(r.data_in, kDisk);
  EXPECT_TRUE(m);
  return m ? *m : ModeParameters{};
}

std::uint8_t param(const ModeParameters& m, std::uint8_t page, std::size_t i) {
  const ModePage* p = m.find_page(page);
  EXPECT_NE(p, nullptr);
  return p ? std::to_integer<std::uint8_t>(p->parameters.at(i)) : 0;
}

// MODE SELECT(6) of the current page `page` with parameter byte `i` set to `value`, the way
// libiscsi's set_swp does it.
ScsiResult select_byte(Harness& h, std::uint8_t page, std::size_t i, std::uint8_t value,
                       const Nexus* n = nullptr) {
  ModeParameters cur = sense6(h, page, {.dbd = true});
  ModeParameters m;
  m.pages.push_back(*cur.find_page(page));
  m.pages[0].parameters.at(i) = std::byte{value};
  auto list = *scsi::build_mode_parameters6(m, kDisk, scsi::ModeDataUse::select);
  return h.run(n ? *n : h.a, scsi::mode_select6(static_cast<std::uint8_t>(list.size())), list);
}

TEST(DiskLuMode, AllPagesWithBlockDescriptor) {
  Harness h(2048, 512);
  const auto r = h.run(*scsi::mode_sense6(0x3f));
  EXPECT_GOOD(r);
  ASSERT_GE(r.data_in.size(), 4u);
  EXPECT_EQ(std::to_integer<std::size_t>(r.data_in[0]) + 1, r.data_in.size());
  auto m = scsi::parse_mode_sense6(r.data_in, kDisk);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->header.device_specific, 0x10);  // DPOFUA, not write protected
  ASSERT_EQ(m->block_descriptors.size(), 1u);
  EXPECT_EQ(m->block_descriptors[0].number_of_blocks, 2048u);
  EXPECT_EQ(m->block_descriptors[0].block_length, 512u);
  ASSERT_EQ(m->pages.size(), 3u);
  EXPECT_EQ(m->pages[0].page_code, 0x08);
  EXPECT_EQ(m->pages[0].parameters.size(), 0x12u);
  EXPECT_EQ(m->pages[1].page_code, 0x0a);
  EXPECT_EQ(m->pages[1].parameters.size(), 0x0au);
  EXPECT_EQ(m->pages[2].page_code, 0x1c);
  for (const auto& p : m->pages)
    EXPECT_FALSE(p.ps);
  // All subpages too.
  EXPECT_GOOD(h.run(*scsi::mode_sense6(0x3f, 0xff)));
  EXPECT_GOOD(h.run(*scsi::mode_sense10(0x08, 0xff)));
}

TEST(DiskLuMode, ControlPageIsSaneAndMatchesAllPages) {
  Harness h;
  const auto all = sense6(h, 0x3f);
  const auto one = sense6(h, 0x0a);
  ASSERT_NE(one.find_page(0x0a), nullptr);
  EXPECT_EQ(one.find_page(0x0a)->parameters, all.find_page(0x0a)->parameters);
  EXPECT_EQ(param(one, 0x0a, 0) >> 5, 0);        // TST 000b
  EXPECT_EQ(param(one, 0x0a, 1) >> 4, 1);        // QUEUE ALGORITHM MODIFIER 1
  EXPECT_NE((param(one, 0x0a, 1) >> 1) & 3, 2);  // QERR not 10b
  EXPECT_NE((param(one, 0x0a, 2) >> 4) & 3, 1);  // UA_INTLCK_CTRL not 01b
  EXPECT_EQ(param(one, 0x0a, 6), 0xff);          // BUSY TIMEOUT PERIOD FFFFh
  EXPECT_EQ(param(one, 0x0a, 7), 0xff);
  EXPECT_EQ(param(all, 0x08, 0) & 0x04, 0x04);  // WCE on by default
  EXPECT_EQ(param(all, 0x1c, 0) & 0x08, 0x08);  // DEXCPT
}

TEST(DiskLuMode, PageControlAndDescriptors) {
  Harness h(100, 4096);
  const auto ch = sense6(h, 0x3f, {.page_control = PageControl::changeable});
  EXPECT_EQ(param(ch, 0x08, 0), 0x05);  // WCE, RCD
  EXPECT_EQ(param(ch, 0x0a, 0), 0x04);  // D_SENSE
  EXPECT_EQ(param(ch, 0x0a, 2), 0x08);  // SWP
  EXPECT_EQ(param(ch, 0x0a, 1), 0x00);  // QERR / queue algorithm not changeable
  ASSERT_EQ(ch.block_descriptors.size(), 1u);
  EXPECT_EQ(ch.block_descriptors[0].number_of_blocks, 0u);
  const auto def = sense6(h, 0x3f, {.page_control = PageControl::defaults});
  EXPECT_EQ(def.pages, sense6(h, 0x3f).pages);
  // Saved values are not supported.
  expect_sense(h.run(*scsi::mode_sense6(0x3f, 0, 255, {.page_control = PageControl::saved})),
               SenseKey::illegal_request, 0x39, 0x00);
  // DBD and the long LBA descriptor of MODE SENSE(10).
  EXPECT_TRUE(sense6(h, 0x08, {.dbd = true}).block_descriptors.empty());
  const auto r10 = h.run(*scsi::mode_sense10(0x08, 0, 4096, {.llbaa = true}));
  EXPECT_GOOD(r10);
  auto m10 = scsi::parse_mode_sense10(r10.data_in, kDisk);
  ASSERT_TRUE(m10);
  EXPECT_TRUE(m10->header.long_lba);
  ASSERT_EQ(m10->block_descriptors.size(), 1u);
  EXPECT_EQ(m10->block_descriptors[0].number_of_blocks, 100u);
  EXPECT_EQ(m10->block_descriptors[0].block_length, 4096u);
  // Unknown page and subpage.
  expect_invalid_cdb(h.run(*scsi::mode_sense6(0x19)), 2, 5);
  expect_invalid_cdb(h.run(*scsi::mode_sense6(0x0a, 0x01)), 3, 7);
  // ALLOCATION LENGTH cuts (libiscsi ModeSense6.Residuals).
  EXPECT_EQ(h.run(*scsi::mode_sense6(0x3f, 0, 4)).data_in.size(), 4u);
  EXPECT_TRUE(h.run(*scsi::mode_sense6(0x3f, 0, 0)).data_in.empty());
}

TEST(DiskLuMode, DSenseSelectsDescriptorFormat) {
  Harness h;
  auto fixed = h.run(scsi::read16(~0ull, 1, 512));
  expect_lba_out_of_range(fixed);
  EXPECT_EQ(std::to_integer<int>(fixed.sense.at(0)) & 0x7f, 0x70);
  EXPECT_GOOD(select_byte(h, 0x0a, 0, 0x04));
  EXPECT_EQ(param(sense6(h, 0x0a), 0x0a, 0) & 0x04, 0x04);
  auto desc = h.run(scsi::read16(~0ull, 1, 512));
  expect_lba_out_of_range(desc);
  EXPECT_EQ(std::to_integer<int>(desc.sense.at(0)) & 0x7f, 0x72);
  // Field pointers survive in the descriptor format.
  const auto inv = h.run(scsi::read10(0, 1, 512, {.protect = 1}));
  expect_invalid_cdb(inv, 1, 7);
  EXPECT_GOOD(select_byte(h, 0x0a, 0, 0x00));
  EXPECT_EQ(std::to_integer<int>(h.run(scsi::read16(~0ull, 1, 512)).sense.at(0)) & 0x7f, 0x70);
}

TEST(DiskLuMode, SoftwareWriteProtect) {
  Harness h;
  EXPECT_GOOD(select_byte(h, 0x0a, 2, 0x08));  // SWP (libiscsi ModeSense6.Control-SWP)
  EXPECT_EQ(sense6(h, 0x0a).header.device_specific & 0x80, 0x80);
  EXPECT_EQ(param(sense6(h, 0x0a), 0x0a, 2) & 0x08, 0x08);
  EXPECT_GOOD(h.run(scsi::read10(0, 1, 512)));
  expect_sense(h.run(scsi::write10(0, 1, 512), filled(512, 0)), SenseKey::data_protect, 0x27, 0x02);
  EXPECT_GOOD(select_byte(h, 0x0a, 2, 0x00));
  EXPECT_GOOD(h.run(scsi::write10(0, 1, 512), filled(512, 0)));
}

TEST(DiskLuMode, WriteCacheEnable) {
  Harness h;
  EXPECT_GOOD(select_byte(h, 0x08, 0, 0x00));  // WCE off: every write is durable
  EXPECT_EQ(param(sense6(h, 0x08), 0x08, 0) & 0x04, 0);
  EXPECT_GOOD(h.run(scsi::write10(0, 1, 512), filled(512, 1)));
  EXPECT_GOOD(select_byte(h, 0x08, 0, 0x05));  // WCE and RCD on
  EXPECT_EQ(param(sense6(h, 0x08), 0x08, 0), 0x05);
}

TEST(DiskLuMode, SelectChangesRaiseUnitAttentionForOtherNexuses) {
  Harness h;
  EXPECT_GOOD(select_byte(h, 0x0a, 0, 0x04));
  EXPECT_GOOD(h.run(h.a, scsi::test_unit_ready()));
  expect_unit_attention(h.run(h.b, scsi::test_unit_ready()), 0x2a, 0x01);
  EXPECT_GOOD(h.run(h.b, scsi::test_unit_ready()));
  // Selecting the same values again changes nothing and raises nothing.
  EXPECT_GOOD(select_byte(h, 0x0a, 0, 0x04));
  EXPECT_GOOD(h.run(h.b, scsi::test_unit_ready()));
  // A logical unit reset restores the defaults.
  h.lu->logical_unit_reset();
  h.clear_attentions(h.a);
  EXPECT_EQ(param(sense6(h, 0x0a), 0x0a, 0) & 0x04, 0);
}

TEST(DiskLuMode, SelectRejectsBadParameterLists) {
  Harness h(1024, 512);
  // A bit that is not changeable (QUEUE ALGORITHM MODIFIER, byte 3 of the control page): the
  // pointer is the byte in the parameter list (4-byte header + page offset) and its top bit.
  const auto qam = select_byte(h, 0x0a, 1, 0x00);
  expect_invalid_param(qam, 4 + 3);
  EXPECT_EQ(sense_of(qam).sense_key_specific.bit_pointer(), 4);
  // SP = 1.
  expect_invalid_cdb(h.run(scsi::mode_select6(4, true, true), filled(4, 0)), 1, 0);
  // Parameter list length 0: nothing to do.
  EXPECT_GOOD(h.run(scsi::mode_select6(0)));
  // Shorter than the header.
  expect_sense(h.run(scsi::mode_select6(3), filled(3, 0)), SenseKey::illegal_request, 0x1a, 0x00);
  // Unknown page, subpage format, wrong PAGE LENGTH, page cut short.
  auto list = [](std::initializer_list<int> bytes) {
    std::vector<std::byte> v;
    for (int b : bytes)
      v.push_back(static_cast<std::byte>(b));
    return v;
  };
  const auto unknown = list({0, 0, 0, 0, 0x19, 2, 0, 0});
  expect_invalid_param(h.run(scsi::mode_select6(8), unknown), 4);
  const auto subpage = list({0, 0, 0, 0, 0x4a, 1, 0, 0});
  expect_invalid_param(h.run(scsi::mode_select6(8), subpage), 4);
  const auto length = list({0, 0, 0, 0, 0x0a, 4, 0, 0, 0, 0});
  expect_invalid_param(h.run(scsi::mode_select6(10), length), 5);
  const auto cut = list({0, 0, 0, 0, 0x0a, 0x0a, 0, 0x10, 0});
  expect_sense(h.run(scsi::mode_select6(9), cut), SenseKey::illegal_request, 0x1a, 0x00);
  // Pages with PF = 0.
  const auto control = *scsi::build_mode_parameters6(
      [&] {
        ModeParameters m;
        m.pages.push_back(*sense6(h, 0x0a).find_page(0x0a));
        return m;
      }(),
      kDisk, scsi::ModeDataUse::select);
  expect_invalid_cdb(
      h.run(scsi::mode_select6(static_cast<std::uint8_t>(control.size()), false), control), 1, 4);
  // A block descriptor may repeat the block length and capacity, not change them.
  ModeParameters bd;
  bd.block_descriptors.push_back({0, 1024, 512});
  auto same = *scsi::build_mode_parameters6(bd, kDisk, scsi::ModeDataUse::select);
  EXPECT_GOOD(h.run(scsi::mode_select6(static_cast<std::uint8_t>(same.size())), same));
  bd.block_descriptors[0].block_length = 4096;
  auto other = *scsi::build_mode_parameters6(bd, kDisk, scsi::ModeDataUse::select);
  expect_invalid_param(h.run(scsi::mode_select6(static_cast<std::uint8_t>(other.size())), other),
                       4 + 5);
  // MODE SELECT(10) with a long LBA descriptor.
  ModeParameters lb;
  lb.header.long_lba = true;
  lb.block_descriptors.push_back({0, 0, 512});
  lb.pages.push_back(*sense6(h, 0x08).find_page(0x08));
  auto ten = *scsi::build_mode_parameters10(lb, kDisk, scsi::ModeDataUse::select);
  EXPECT_GOOD(h.run(scsi::mode_select10(static_cast<std::uint16_t>(ten.size())), ten));
  // Nothing was applied by the failed selects.
  EXPECT_EQ(sense6(h, 0x3f).pages, sense6(h, 0x3f, {.page_control = PageControl::defaults}).pages);
}

}  // namespace
}  // namespace uiscsi::target::test
