// uiscsi::tape::Changer against the simulated library (changer_sim.hpp): load, unload,
// transfer, inventory, position, and every error condition of a move.
#include "changer_fixture.hpp"

namespace uiscsi::tape::test {
namespace {

TEST_F(ChangerTest, LoadUnloadAndTransferMoveTheCartridges) {
  auto c = open();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->load(0, 0)) << why(*c);
  auto st = c->status();
  ASSERT_TRUE(st);
  EXPECT_FALSE(st->slots[0].full);
  EXPECT_TRUE(st->drives[0].full);
  EXPECT_EQ(st->drives[0].barcode, "BAR001L9");
  EXPECT_EQ(st->drives[0].source, std::optional<std::uint16_t>(1));

  // The drive sees that cartridge: a record written through the tape driver reads back.
  {
    auto d = open_drive();
    ASSERT_TRUE(d) << d.error().message();
    const auto rec = pattern(4000, 3);
    ASSERT_TRUE(d->write(rec));
    ASSERT_TRUE(d->write_filemarks(1));
    ASSERT_TRUE(d->rewind());
    std::vector<std::byte> buf(8192);
    auto r = d->read(buf);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->bytes, rec.size());
    EXPECT_TRUE(std::equal(rec.begin(), rec.end(), buf.begin()));
  }

  auto back = c->unload(0);
  ASSERT_TRUE(back) << why(*c);
  EXPECT_EQ(*back, 0u) << "back to the slot it came from";
  ASSERT_TRUE(c->transfer(1, 3)) << why(*c);
  st = c->status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->slots[0].barcode, "BAR001L9");
  EXPECT_FALSE(st->slots[1].full);
  EXPECT_EQ(st->slots[3].barcode, "BAR002L9");
  EXPECT_FALSE(st->drives[0].full);
  EXPECT_EQ(moves(), 3);
}

TEST_F(ChangerTest, UnloadGoesToTheFirstEmptySlotWhenItsOwnIsTaken) {
  auto c = open();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->load(0, 0));
  ASSERT_TRUE(c->transfer(1, 0));
  auto back = c->unload(0);
  ASSERT_TRUE(back) << why(*c);
  EXPECT_EQ(*back, 1u);
  auto explicit_slot = c->load(1, 0);
  ASSERT_TRUE(explicit_slot);
  auto to3 = c->unload(0, 3);
  ASSERT_TRUE(to3) << why(*c);
  EXPECT_EQ(*to3, 3u);
  auto st = c->status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->slots[3].barcode, "BAR001L9");
}

TEST_F(ChangerTest, UnloadWithNoEmptySlotFailsBeforeMoving) {
  auto c = open();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->load(0, 0));
  for (std::uint16_t a : {1, 4}) {
    tapesim::MediumOptions mo;
    mo.barcode = "EXTRA" + std::to_string(a);
    ASSERT_TRUE(lib->changer->place(a, std::move(*tapesim::Medium::create(mo))));
  }
  const int before = moves();
  auto r = c->unload(0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), tape_errc::no_empty_slot);
  EXPECT_EQ(moves(), before);
}

TEST_F(ChangerTest, EmptySourceIsSourceEmptyWithTheSense) {
  auto c = open();
  ASSERT_TRUE(c);
  auto r = c->load(3, 0);  // slot 4 is empty
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), tape_errc::source_empty);
  ASSERT_TRUE(c->last_error() && c->last_error()->sense);
  EXPECT_EQ(c->last_error()->sense->asc, 0x3b);
  EXPECT_EQ(c->last_error()->sense->ascq, 0x0e);
  EXPECT_EQ(c->last_error()->source, std::optional<std::uint16_t>(4));
  EXPECT_EQ(c->last_error()->destination, std::optional<std::uint16_t>(6));
  EXPECT_NE(why(*c).find("changer: MOVE MEDIUM 4 -> 6: source element is empty"), std::string::npos)
      << why(*c);
  // unload() of the empty drive says so without moving anything.
  auto u = c->unload(0);
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error(), tape_errc::source_empty);
}

TEST_F(ChangerTest, FullDestinationIsDestinationFull) {
  auto c = open();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->load(0, 0));
  auto r = c->load(1, 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), tape_errc::destination_full);
  EXPECT_EQ(c->last_error()->sense->ascq, 0x0d);
  auto t = c->transfer(1, 2);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error(), tape_errc::destination_full);
}

TEST_F(ChangerTest, InvalidAddressIsInvalidElement) {
  auto c = open();
  ASSERT_TRUE(c);
  auto r = c->move(0x99, 1);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), tape_errc::invalid_element);
  EXPECT_EQ(c->last_error()->sense->asc, 0x21);
  auto p = c->position_to(0x99);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error(), tape_errc::invalid_element);
  ASSERT_TRUE(c->position_to(2)) << why(*c);
}

TEST_F(ChangerTest, IndexOutsideTheMapIsNoSuchElementAndSendsNothing) {
  auto c = open();
  ASSERT_TRUE(c);
  EXPECT_EQ(c->load(4, 0).error(), tape_errc::no_such_element);
  EXPECT_EQ(c->load(0, 1).error(), tape_errc::no_such_element);
  EXPECT_EQ(c->transfer(0, 9).error(), tape_errc::no_such_element);
  EXPECT_EQ(c->unload(3).error(), tape_errc::no_such_element);
  EXPECT_EQ(moves(), 0);
}

// 53/03: the drive's removal is prevented (PREVENT ALLOW MEDIUM REMOVAL on the tape LUN).
TEST_F(ChangerTest, LockedDriveIsRemovalPrevented) {
  auto c = open();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->load(0, 0));
  auto d = open_drive();
  ASSERT_TRUE(d) << d.error().message();
  ASSERT_TRUE(d->lock());
  auto r = c->unload(0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), tape_errc::removal_prevented);
  EXPECT_EQ(c->last_error()->sense->ascq, 0x03);
  ASSERT_TRUE(d->unlock());
  EXPECT_TRUE(c->unload(0)) << why(*c);
}

// 53/02 MEDIUM REMOVAL PREVENTED (the simulator only ever gives 53/03).
TEST_F(ChangerTest, RemovalPreventedByTheChangerIsRemovalPrevented) {
  auto c = open();
  ASSERT_TRUE(c);
  script(kMoveMedium, SenseKey::illegal_request, 0x53, 0x02);
  auto r = c->transfer(0, 3);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), tape_errc::removal_prevented);
  EXPECT_NE(why(*c).find("medium removal prevented"), std::string::npos) << why(*c);
}

// A deferred error keeps its code whatever its ASC/ASCQ.
TEST_F(ChangerTest, DeferredErrorIsNotRenamed) {
  auto c = open();
  ASSERT_TRUE(c);
  Exchange e;
  e.status = scsi::Status::check_condition;
  e.sense = sense_bytes(SenseKey::illegal_request, 0x3b, 0x0e);
  e.sense[0] = std::byte{0x71};
  lib->scripted[kMoveMedium].push_back({e, {}});
  EXPECT_EQ(c->transfer(0, 3).error(), tape_errc::deferred_error);
}

// A MOVE MEDIUM answered with UNIT ATTENTION did not run: it is sent again and succeeds;
// unit attentions that keep coming are reported after a bounded number of tries.
TEST_F(ChangerTest, UnitAttentionIsConsumedAndTheCommandSentAgain) {
  auto c = open();
  ASSERT_TRUE(c);
  script(kMoveMedium, SenseKey::unit_attention, 0x28, 0x01);
  ASSERT_TRUE(c->transfer(0, 3)) << why(*c);
  EXPECT_EQ(moves(), 2);
  auto st = c->status();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->slots[3].barcode, "BAR001L9");
  for (int i = 0; i < 10; ++i)
    script(kMoveMedium, SenseKey::unit_attention, 0x29, 0x00);
  auto r = c->transfer(3, 0);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), tape_errc::unit_attention);
  EXPECT_EQ(moves(), 2 + 4);
}

TEST_F(ChangerTest, InventorySendsInitializeElementStatus) {
  auto c = open();
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->inventory()) << why(*c);
  EXPECT_EQ(lib->commands[0x07], 1);
  script(0x07, SenseKey::hardware_error, 0x3b, 0x12);
  auto r = c->inventory();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), tape_errc::hardware_error);
  EXPECT_EQ(c->last_error()->operation, "INITIALIZE ELEMENT STATUS");
}

}  // namespace
}  // namespace uiscsi::tape::test
