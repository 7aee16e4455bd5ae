// DiskLu persistent reservations (PERSISTENT RESERVE IN/OUT) and SPC-2 RESERVE / RELEASE
// across several I_T nexuses: registration rules, every reservation type, access conflicts,
// ownership, CLEAR, PREEMPT, READ FULL STATUS, REPORT CAPABILITIES and the unit attentions
// they raise.
#include <algorithm>

#include "lu_test_util.hpp"
#include "uiscsi/scsi/data.hpp"

namespace uiscsi::target::test {
namespace {

using scsi::PrInAction;
using scsi::PrOutAction;
using scsi::PrType;
using scsi::SenseKey;

constexpr PrType kAllTypes[] = {
    PrType::write_exclusive,
    PrType::exclusive_access,
    PrType::write_exclusive_registrants_only,
    PrType::exclusive_access_registrants_only,
    PrType::write_exclusive_all_registrants,
    PrType::exclusive_access_all_registrants,
};

bool all_registrants(PrType t) {
  return t == PrType::write_exclusive_all_registrants ||
         t == PrType::exclusive_access_all_registrants;
}

ScsiResult prout(Harness& h, const Nexus& n, PrOutAction action, PrType type, std::uint64_t key,
                 std::uint64_t sa_key = 0, bool aptpl = false, bool all_tg_pt = false) {
  const auto params = scsi::build_pr_out_parameters({.reservation_key = key,
                                                     .service_action_reservation_key = sa_key,
                                                     .all_tg_pt = all_tg_pt,
                                                     .aptpl = aptpl});
  return h.run(n, scsi::persistent_reserve_out(action, type), params);
}
ScsiResult register_key(Harness& h, const Nexus& n, std::uint64_t sa_key, std::uint64_t key = 0) {
  return prout(h, n, PrOutAction::register_key, PrType::none, key, sa_key);
}
ScsiResult register_ignore(Harness& h, const Nexus& n, std::uint64_t sa_key) {
  return prout(h, n, PrOutAction::register_and_ignore_existing_key, PrType::none, 0, sa_key);
}

scsi::PrKeys read_keys(Harness& h, const Nexus& n) {
  const auto r = h.run(n, scsi::persistent_reserve_in(PrInAction::read_keys, 16384));
  EXPECT_GOOD(r);
  auto k = scsi::parse_pr_read_keys(r.data_in);
  EXPECT_TRUE(k);
  return k ? *k : scsi::PrKeys{};
}
scsi::PrReservation read_reservation(Harness& h, const Nexus& n) {
  const auto r = h.run(n, scsi::persistent_reserve_in(PrInAction::read_reservation, 16384));
  EXPECT_GOOD(r);
  auto x = scsi::parse_pr_read_reservation(r.data_in);
  EXPECT_TRUE(x);
  return x ? *x : scsi::PrReservation{};
}

bool reads(Harness& h, const Nexus& n) {
  return h.run(n, scsi::read10(1, 1, 512)).status == kGood;
}
bool writes(Harness& h, const Nexus& n) {
  return h.run(n, scsi::write10(1, 1, 512), filled(512, 0)).status == kGood;
}

TEST(DiskLuPr, ReadKeysWithoutRegistrations) {
  Harness h;
  const auto r = h.run(scsi::persistent_reserve_in(PrInAction::read_keys, 16384));
  EXPECT_GOOD(r);
  ASSERT_EQ(r.data_in.size(), 8u);
  EXPECT_EQ(core::load_be32(r.data_in.data() + 4), r.data_in.size() - 8);
  EXPECT_FALSE(read_reservation(h, h.a).reserved);
}

TEST(DiskLuPr, ServiceActionRange) {
  Harness h;
  for (int sa = 0; sa < 4; ++sa) {
    EXPECT_GOOD(h.run(scsi::persistent_reserve_in(static_cast<PrInAction>(sa), 16384)));
  }
  for (int sa = 4; sa < 0x20; ++sa) {
    expect_invalid_cdb(h.run(scsi::persistent_reserve_in(static_cast<PrInAction>(sa), 16384)), 1,
                       4);
  }
  // REGISTER AND MOVE is not supported, nor undefined service actions.
  expect_invalid_cdb(prout(h, h.a, PrOutAction::register_and_move, PrType::none, 0, 1), 1, 4);
  expect_invalid_cdb(prout(h, h.a, static_cast<PrOutAction>(8), PrType::none, 0, 1), 1, 4);
}

TEST(DiskLuPr, RegisterRules) {
  Harness h;
  const std::uint32_t g0 = read_keys(h, h.a).generation;
  // Unregistered: a non-zero RESERVATION KEY conflicts; SA key 0 is a no-op.
  EXPECT_EQ(register_key(h, h.a, 0x1111, 0x5).status, kReservationConflict);
  EXPECT_GOOD(register_key(h, h.a, 0));
  EXPECT_EQ(read_keys(h, h.a).generation, g0);
  EXPECT_GOOD(register_key(h, h.a, 0x1111));
  EXPECT_EQ(read_keys(h, h.a).keys, (std::vector<std::uint64_t>{0x1111}));
  EXPECT_EQ(read_keys(h, h.a).generation, g0 + 1);
  // Registered: REGISTER needs the current key (libiscsi ProutRegister.Simple re-registers with
  // RESERVATION KEY 0 and expects RESERVATION CONFLICT).
  EXPECT_EQ(register_key(h, h.a, 0x1112).status, kReservationConflict);
  EXPECT_GOOD(register_key(h, h.a, 0x2222, 0x1111));
  EXPECT_EQ(read_keys(h, h.a).keys, (std::vector<std::uint64_t>{0x2222}));
  // REGISTER AND IGNORE EXISTING KEY does not look at RESERVATION KEY.
  EXPECT_GOOD(register_ignore(h, h.a, 0x3333));
  EXPECT_GOOD(register_ignore(h, h.b, 0x4444));
  auto keys = read_keys(h, h.b);
  std::sort(keys.keys.begin(), keys.keys.end());
  EXPECT_EQ(keys.keys, (std::vector<std::uint64_t>{0x3333, 0x4444}));
  // Unregister.
  EXPECT_GOOD(register_key(h, h.a, 0, 0x3333));
  EXPECT_EQ(read_keys(h, h.a).keys, (std::vector<std::uint64_t>{0x4444}));
  EXPECT_EQ(read_keys(h, h.a).generation, g0 + 5);
}

TEST(DiskLuPr, ReserveAndReleaseEveryType) {
  Harness h;
  EXPECT_GOOD(register_ignore(h, h.a, 0xaa));
  for (PrType type : kAllTypes) {
    SCOPED_TRACE(static_cast<int>(type));
    const std::uint32_t gen = read_keys(h, h.a).generation;
    EXPECT_GOOD(prout(h, h.a, PrOutAction::reserve, type, 0xaa));
    auto res = read_reservation(h, h.a);
    EXPECT_TRUE(res.reserved);
    EXPECT_EQ(res.type, type);
    EXPECT_EQ(res.key, all_registrants(type) ? 0u : 0xaau);
    EXPECT_EQ(res.generation, gen);  // RESERVE does not count
    // Again with the same type: fine; another type or a wrong key: conflict.
    EXPECT_GOOD(prout(h, h.a, PrOutAction::reserve, type, 0xaa));
    const PrType other =
        type == PrType::write_exclusive ? PrType::exclusive_access : PrType::write_exclusive;
    EXPECT_EQ(prout(h, h.a, PrOutAction::reserve, other, 0xaa).status, kReservationConflict);
    EXPECT_EQ(prout(h, h.a, PrOutAction::reserve, type, 0xab).status, kReservationConflict);
    // RELEASE with the wrong type: INVALID RELEASE OF PERSISTENT RESERVATION.
    expect_sense(prout(h, h.a, PrOutAction::release, other, 0xaa), SenseKey::illegal_request, 0x26,
                 0x04);
    EXPECT_GOOD(prout(h, h.a, PrOutAction::release, type, 0xaa));
    EXPECT_FALSE(read_reservation(h, h.a).reserved);
    EXPECT_EQ(read_keys(h, h.a).generation, gen);
  }
  // Unregistered nexuses can neither reserve nor release.
  EXPECT_EQ(prout(h, h.b, PrOutAction::reserve, PrType::write_exclusive, 0).status,
            kReservationConflict);
  EXPECT_EQ(prout(h, h.b, PrOutAction::release, PrType::write_exclusive, 0).status,
            kReservationConflict);
}

struct Access {
  PrType type;
  bool reg_read, reg_write, unreg_read, unreg_write;
};

// libiscsi ProutReserve.Access*: what a second initiator may do while the first holds the
// reservation, registered and then unregistered.
TEST(DiskLuPr, AccessUnderEachType) {
  const Access table[] = {
      {PrType::exclusive_access, false, false, false, false},
      {PrType::write_exclusive, true, false, true, false},
      {PrType::exclusive_access_registrants_only, true, true, false, false},
      {PrType::write_exclusive_registrants_only, true, true, true, false},
      {PrType::exclusive_access_all_registrants, true, true, false, false},
      {PrType::write_exclusive_all_registrants, true, true, true, false},
  };
  for (const Access& t : table) {
    SCOPED_TRACE(static_cast<int>(t.type));
    Harness h;
    EXPECT_GOOD(register_ignore(h, h.a, 0x1));
    EXPECT_GOOD(register_ignore(h, h.b, 0x2));
    EXPECT_GOOD(prout(h, h.a, PrOutAction::reserve, t.type, 0x1));
    EXPECT_TRUE(reads(h, h.a));
    EXPECT_TRUE(writes(h, h.a));
    EXPECT_EQ(reads(h, h.b), t.reg_read);
    EXPECT_EQ(writes(h, h.b), t.reg_write);
    EXPECT_GOOD(register_key(h, h.b, 0, 0x2));
    EXPECT_EQ(reads(h, h.b), t.unreg_read);
    EXPECT_EQ(writes(h, h.b), t.unreg_write);
    // Always allowed for anyone (SPC-4 tables).
    EXPECT_GOOD(h.run(h.b, scsi::inquiry()));
    EXPECT_GOOD(h.run(h.b, *scsi::report_luns()));
    EXPECT_GOOD(h.run(h.b, scsi::test_unit_ready()));
    EXPECT_GOOD(h.run(h.b, scsi::read_capacity10()));
    EXPECT_GOOD(h.run(h.b, scsi::request_sense()));
    EXPECT_GOOD(h.run(h.b, scsi::persistent_reserve_in(PrInAction::read_keys)));
    EXPECT_GOOD(h.run(h.b, scsi::prevent_allow_medium_removal(false)));
    // Write-like commands conflict for the unregistered nexus under every type.
    EXPECT_EQ(h.run(h.b, scsi::mode_select6(0)).status, kReservationConflict);
    EXPECT_EQ(h.run(h.b, *scsi::synchronize_cache10()).status, kReservationConflict);
    EXPECT_EQ(h.run(h.b, scsi::prevent_allow_medium_removal(true)).status, kReservationConflict);
    EXPECT_EQ(h.run(h.b, *scsi::start_stop_unit({.start = false})).status, kReservationConflict);
    EXPECT_GOOD(h.run(h.b, *scsi::start_stop_unit({.start = true})));
    // Read-like ones follow reads.
    EXPECT_EQ(h.run(h.b, *scsi::mode_sense6(0x3f)).status == kGood, t.unreg_read);
    EXPECT_EQ(h.run(h.b, scsi::get_lba_status(0)).status == kGood, t.unreg_read);
    EXPECT_EQ(h.run(h.b, scsi::verify10(0, 1, 512)).status == kGood, t.unreg_read);
    // The unregistered nexus may register but not release, clear or preempt.
    EXPECT_EQ(prout(h, h.b, PrOutAction::clear, PrType::none, 0).status, kReservationConflict);
    EXPECT_EQ(prout(h, h.b, PrOutAction::preempt, t.type, 0, 0x1).status, kReservationConflict);
    EXPECT_GOOD(prout(h, h.a, PrOutAction::release, t.type, 0x1));
    EXPECT_TRUE(reads(h, h.b));
    EXPECT_TRUE(writes(h, h.b));
  }
}

// libiscsi ProutReserve.Ownership*: the holder unregisters.
TEST(DiskLuPr, HolderUnregistering) {
  for (PrType type : kAllTypes) {
    SCOPED_TRACE(static_cast<int>(type));
    Harness h;
    EXPECT_GOOD(register_ignore(h, h.a, 0x1));
    EXPECT_GOOD(register_ignore(h, h.b, 0x2));
    EXPECT_GOOD(prout(h, h.a, PrOutAction::reserve, type, 0x1));
    EXPECT_GOOD(register_key(h, h.a, 0, 0x1));
    const auto res = read_reservation(h, h.a);
    if (all_registrants(type)) {
      // Every registrant holds it: the reservation stays with the other one.
      EXPECT_TRUE(res.reserved);
      EXPECT_EQ(res.key, 0u);
      EXPECT_GOOD(h.run(h.b, scsi::test_unit_ready()));
      EXPECT_GOOD(prout(h, h.b, PrOutAction::release, type, 0x2));
      EXPECT_FALSE(read_reservation(h, h.a).reserved);
    } else {
      EXPECT_FALSE(res.reserved);
      const auto tur = h.run(h.b, scsi::test_unit_ready());
      if (type == PrType::write_exclusive_registrants_only ||
          type == PrType::exclusive_access_registrants_only) {
        expect_unit_attention(tur, 0x2a, 0x04);  // RESERVATIONS RELEASED
      } else {
        EXPECT_GOOD(tur);
      }
    }
    EXPECT_GOOD(register_key(h, h.b, 0, 0x2));
    EXPECT_TRUE(read_keys(h, h.a).keys.empty());
  }
}

TEST(DiskLuPr, ReleaseRaisesReservationsReleasedForSharedTypes) {
  for (PrType type : kAllTypes) {
    SCOPED_TRACE(static_cast<int>(type));
    Harness h;
    EXPECT_GOOD(register_ignore(h, h.a, 0x1));
    EXPECT_GOOD(register_ignore(h, h.b, 0x2));
    EXPECT_GOOD(prout(h, h.a, PrOutAction::reserve, type, 0x1));
    EXPECT_GOOD(prout(h, h.a, PrOutAction::release, type, 0x1));
    const auto tur = h.run(h.b, scsi::test_unit_ready());
    if (type == PrType::write_exclusive || type == PrType::exclusive_access) {
      EXPECT_GOOD(tur);
    } else {
      expect_unit_attention(tur, 0x2a, 0x04);
    }
    EXPECT_GOOD(h.run(h.a, scsi::test_unit_ready()));  // never to the releasing nexus
  }
}

TEST(DiskLuPr, NonHolderReleaseDoesNothing) {
  Harness h;
  EXPECT_GOOD(register_ignore(h, h.a, 0x1));
  EXPECT_GOOD(register_ignore(h, h.b, 0x2));
  EXPECT_GOOD(prout(h, h.a, PrOutAction::reserve, PrType::exclusive_access, 0x1));
  EXPECT_GOOD(prout(h, h.b, PrOutAction::release, PrType::exclusive_access, 0x2));
  EXPECT_TRUE(read_reservation(h, h.a).reserved);
}

// libiscsi ProutClear.Simple.
TEST(DiskLuPr, Clear) {
  Harness h;
  EXPECT_GOOD(register_ignore(h, h.a, 0x1));
  EXPECT_GOOD(register_ignore(h, h.b, 0x2));
  const std::uint32_t gen = read_keys(h, h.a).generation;
  EXPECT_GOOD(prout(h, h.a, PrOutAction::reserve, PrType::exclusive_access, 0x1));
  EXPECT_EQ(prout(h, h.a, PrOutAction::clear, PrType::none, 0x7).status, kReservationConflict);
  EXPECT_GOOD(prout(h, h.a, PrOutAction::clear, PrType::none, 0x1));
  EXPECT_FALSE(read_reservation(h, h.a).reserved);
  const auto keys = read_keys(h, h.a);
  EXPECT_TRUE(keys.keys.empty());
  EXPECT_EQ(keys.generation, gen + 1);
  expect_unit_attention(h.run(h.b, scsi::test_unit_ready()), 0x2a, 0x03);
  EXPECT_GOOD(h.run(h.a, scsi::test_unit_ready()));
}

// libiscsi ProutPreempt.RemoveRegistration: no reservation, PREEMPT removes the other key.
TEST(DiskLuPr, PreemptRemovesRegistration) {
  Harness h;
  EXPECT_GOOD(register_ignore(h, h.a, 0x1));
  EXPECT_GOOD(register_ignore(h, h.b, 0x2));
  const std::uint32_t gen = read_keys(h, h.a).generation;
  EXPECT_GOOD(prout(h, h.b, PrOutAction::preempt, PrType::exclusive_access, 0x2, 0x1));
  const auto keys = read_keys(h, h.b);
  EXPECT_EQ(keys.keys, (std::vector<std::uint64_t>{0x2}));
  EXPECT_EQ(keys.generation, gen + 1);
  EXPECT_FALSE(read_reservation(h, h.b).reserved);
  expect_unit_attention(h.run(h.a, scsi::test_unit_ready()), 0x2a, 0x05);
  EXPECT_GOOD(h.run(h.b, scsi::test_unit_ready()));
  // Errors: SA key 0 without a reservation; a key nobody has; an unregistered nexus.
  expect_invalid_param(prout(h, h.b, PrOutAction::preempt, PrType::exclusive_access, 0x2, 0), 8);
  EXPECT_EQ(prout(h, h.b, PrOutAction::preempt, PrType::exclusive_access, 0x2, 0x99).status,
            kReservationConflict);
  EXPECT_EQ(prout(h, h.a, PrOutAction::preempt, PrType::exclusive_access, 0x1, 0x2).status,
            kReservationConflict);
}

TEST(DiskLuPr, PreemptTakesTheReservation) {
  Harness h;
  const Nexus c{3, "iqn.2024-01.dev.uiscsi:init-c", 0x23d000000003ull};
  h.lu->nexus_added(c);
  h.clear_attentions(c);
  EXPECT_GOOD(register_ignore(h, h.a, 0x1));
  EXPECT_GOOD(register_ignore(h, h.b, 0x2));
  EXPECT_GOOD(register_ignore(h, c, 0x3));
  EXPECT_GOOD(prout(h, h.a, PrOutAction::reserve, PrType::write_exclusive, 0x1));
  // PREEMPT AND ABORT with the holder's key and a new type.
  EXPECT_GOOD(prout(h, h.b, PrOutAction::preempt_and_abort, PrType::exclusive_access, 0x2, 0x1));
  const auto res = read_reservation(h, h.b);
  EXPECT_TRUE(res.reserved);
  EXPECT_EQ(res.key, 0x2u);
  EXPECT_EQ(res.type, PrType::exclusive_access);
  auto keys = read_keys(h, h.b).keys;
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::uint64_t>{0x2, 0x3}));
  expect_unit_attention(h.run(h.a, scsi::test_unit_ready()), 0x2a, 0x05);  // preempted
  expect_unit_attention(h.run(c, scsi::test_unit_ready()), 0x2a, 0x04);    // type changed
  EXPECT_GOOD(h.run(h.b, scsi::test_unit_ready()));
  EXPECT_FALSE(reads(h, h.a));
  EXPECT_TRUE(reads(h, h.b));
}

TEST(DiskLuPr, PreemptAllRegistrantsWithKeyZero) {
  Harness h;
  EXPECT_GOOD(register_ignore(h, h.a, 0x1));
  EXPECT_GOOD(register_ignore(h, h.b, 0x2));
  EXPECT_GOOD(prout(h, h.a, PrOutAction::reserve, PrType::write_exclusive_all_registrants, 0x1));
  EXPECT_GOOD(prout(h, h.b, PrOutAction::preempt, PrType::write_exclusive, 0x2, 0));
  const auto res = read_reservation(h, h.b);
  EXPECT_TRUE(res.reserved);
  EXPECT_EQ(res.type, PrType::write_exclusive);
  EXPECT_EQ(res.key, 0x2u);
  EXPECT_EQ(read_keys(h, h.b).keys, (std::vector<std::uint64_t>{0x2}));
  // The preempted nexus learns it first, then may read the new state.
  expect_unit_attention(h.run(h.a, scsi::persistent_reserve_in(PrInAction::read_keys)), 0x2a, 0x05);
  EXPECT_EQ(read_keys(h, h.a).keys, (std::vector<std::uint64_t>{0x2}));
}

// READ FULL STATUS (tgtd does not implement it).
TEST(DiskLuPr, ReadFullStatus) {
  Harness h;
  EXPECT_GOOD(register_ignore(h, h.a, 0x1));
  EXPECT_GOOD(prout(h, h.b, PrOutAction::register_and_ignore_existing_key, PrType::none, 0, 0x2,
                    false, true));
  EXPECT_GOOD(prout(h, h.a, PrOutAction::reserve, PrType::exclusive_access_registrants_only, 0x1));
  const auto r = h.run(scsi::persistent_reserve_in(PrInAction::read_full_status, 16384));
  EXPECT_GOOD(r);
  auto full = scsi::parse_pr_read_full_status(r.data_in);
  ASSERT_TRUE(full);
  EXPECT_EQ(full->additional_length, r.data_in.size() - 8);
  ASSERT_EQ(full->descriptors.size(), 2u);
  const auto& d0 = full->descriptors[0];
  EXPECT_EQ(d0.key, 0x1u);
  EXPECT_TRUE(d0.reservation_holder);
  EXPECT_EQ(d0.type, PrType::exclusive_access_registrants_only);
  EXPECT_FALSE(d0.all_tg_pt);
  EXPECT_EQ(d0.relative_target_port, 1);
  EXPECT_EQ(d0.transport_id, scsi::make_iscsi_transport_id(h.a.initiator_name, h.a.isid));
  const auto& d1 = full->descriptors[1];
  EXPECT_EQ(d1.key, 0x2u);
  EXPECT_FALSE(d1.reservation_holder);
  EXPECT_EQ(d1.type, PrType::none);
  EXPECT_TRUE(d1.all_tg_pt);
  // Cut by the allocation length.
  EXPECT_EQ(h.run(scsi::persistent_reserve_in(PrInAction::read_full_status, 20)).data_in.size(),
            20u);
  // All-registrants: every registrant is a holder.
  EXPECT_GOOD(prout(h, h.a, PrOutAction::release, PrType::exclusive_access_registrants_only, 0x1));
  EXPECT_GOOD(prout(h, h.a, PrOutAction::reserve, PrType::write_exclusive_all_registrants, 0x1));
  auto ar = scsi::parse_pr_read_full_status(
      h.run(scsi::persistent_reserve_in(PrInAction::read_full_status, 16384)).data_in);
  ASSERT_TRUE(ar);
  for (const auto& d : ar->descriptors) {
    EXPECT_TRUE(d.reservation_holder);
    EXPECT_EQ(d.type, PrType::write_exclusive_all_registrants);
  }
}

// libiscsi PrinReportCapabilities.Simple.
TEST(DiskLuPr, ReportCapabilities) {
  Harness h;
  auto caps = [&] {
    const auto r = h.run(scsi::persistent_reserve_in(PrInAction::report_capabilities, 16384));
    EXPECT_GOOD(r);
    EXPECT_EQ(r.data_in.size(), 8u);
    auto c = scsi::parse_pr_report_capabilities(r.data_in);
    EXPECT_TRUE(c);
    return c ? *c : scsi::PrCapabilities{};
  };
  const auto c = caps();
  EXPECT_FALSE(c.crh);
  EXPECT_FALSE(c.sip_c);
  EXPECT_TRUE(c.atp_c);
  EXPECT_TRUE(c.ptpl_c);
  EXPECT_TRUE(c.tmv);
  EXPECT_LE(c.allow_commands, 5);
  EXPECT_FALSE(c.ptpl_a);
  EXPECT_EQ(c.type_mask, 0xea01);
  EXPECT_GOOD(
      prout(h, h.a, PrOutAction::register_and_ignore_existing_key, PrType::none, 0, 0x9, true));
  EXPECT_TRUE(caps().ptpl_a);
}

TEST(DiskLuPr, ParameterListChecks) {
  Harness h;
  const auto params = scsi::build_pr_out_parameters({.service_action_reservation_key = 1});
  // PARAMETER LIST LENGTH must be 24 (SPC-4 6.14.1), and the data must be there.
  expect_sense(
      h.run(scsi::persistent_reserve_out(PrOutAction::register_key, PrType::none, 23), params),
      SenseKey::illegal_request, 0x1a, 0x00);
  std::vector<std::byte> longer(params.begin(), params.end());
  longer.resize(28);
  expect_sense(
      h.run(scsi::persistent_reserve_out(PrOutAction::register_key, PrType::none, 28), longer),
      SenseKey::illegal_request, 0x1a, 0x00);
  expect_sense(
      h.run(scsi::persistent_reserve_out(PrOutAction::register_key), std::span(params).first(20)),
      SenseKey::illegal_request, 0x1a, 0x00);
  // SPEC_I_PT is not supported.
  const auto spec =
      scsi::build_pr_out_parameters({.service_action_reservation_key = 1, .spec_i_pt = true});
  expect_invalid_param(h.run(scsi::persistent_reserve_out(PrOutAction::register_key), spec), 20);
  // SCOPE other than LU_SCOPE and invalid TYPE codes.
  EXPECT_GOOD(register_ignore(h, h.a, 0x1));
  const auto key1 = scsi::build_pr_out_parameters({.reservation_key = 1});
  auto scoped = scsi::persistent_reserve_out(PrOutAction::reserve, PrType::write_exclusive);
  scoped.cdb.mutable_bytes()[2] = std::byte{0x11};
  expect_invalid_cdb(h.run(scoped, key1), 2, 7);
  for (int type : {0, 2, 4, 9, 15}) {
    expect_invalid_cdb(
        h.run(scsi::persistent_reserve_out(PrOutAction::reserve, static_cast<PrType>(type)), key1),
        2, 3);
  }
  EXPECT_FALSE(read_reservation(h, h.a).reserved);
}

TEST(DiskLuPr, RegistrationsSurviveNexusLossAndResets) {
  Harness h;
  EXPECT_GOOD(register_ignore(h, h.a, 0x1));
  EXPECT_GOOD(prout(h, h.a, PrOutAction::reserve, PrType::write_exclusive, 0x1));
  // The same initiator port logs in again (session reinstatement): still the holder.
  h.lu->nexus_removed(h.a);
  const Nexus again{11, h.a.initiator_name, h.a.isid};
  h.lu->nexus_added(again);
  expect_unit_attention(h.run(again, scsi::test_unit_ready()), 0x29, 0x00);
  EXPECT_TRUE(writes(h, again));
  EXPECT_FALSE(writes(h, h.b));
  h.lu->logical_unit_reset();
  h.lu->target_reset(false);
  h.clear_attentions(again);
  EXPECT_TRUE(read_reservation(h, again).reserved);
  // A cold reset is a power on: without APTPL everything goes.
  h.lu->target_reset(true);
  expect_unit_attention(h.run(again, scsi::test_unit_ready()), 0x29, 0x01);
  EXPECT_FALSE(read_reservation(h, again).reserved);
  EXPECT_TRUE(read_keys(h, again).keys.empty());
  EXPECT_EQ(read_keys(h, again).generation, 0u);
  // With APTPL the registration and reservation persist through it.
  EXPECT_GOOD(
      prout(h, again, PrOutAction::register_and_ignore_existing_key, PrType::none, 0, 0x5, true));
  EXPECT_GOOD(prout(h, again, PrOutAction::reserve, PrType::exclusive_access, 0x5));
  h.lu->target_reset(true);
  h.clear_attentions(again);
  EXPECT_TRUE(read_reservation(h, again).reserved);
  EXPECT_EQ(read_keys(h, again).keys, (std::vector<std::uint64_t>{0x5}));
}

TEST(DiskLuPr, AttentionForAnInitiatorPortWithoutNexus) {
  Harness h;
  EXPECT_GOOD(register_ignore(h, h.a, 0x1));
  EXPECT_GOOD(register_ignore(h, h.b, 0x2));
  h.lu->nexus_removed(h.b);
  EXPECT_GOOD(prout(h, h.a, PrOutAction::clear, PrType::none, 0x1));
  const Nexus back{12, h.b.initiator_name, h.b.isid};
  h.lu->nexus_added(back);
  expect_unit_attention(h.run(back, scsi::test_unit_ready()), 0x29, 0x00);
  expect_unit_attention(h.run(back, scsi::test_unit_ready()), 0x2a, 0x03);
  EXPECT_GOOD(h.run(back, scsi::test_unit_ready()));
}

// libiscsi Reserve6.2Initiators (which tgtd fails).
TEST(DiskLuSpc2, Reserve6TwoInitiators) {
  Harness h;
  EXPECT_GOOD(h.run(h.a, scsi::reserve6()));
  EXPECT_GOOD(h.run(h.a, scsi::reserve6()));
  EXPECT_EQ(h.run(h.b, scsi::reserve6()).status, kReservationConflict);
  EXPECT_GOOD(h.run(h.b, scsi::release6()));  // not the holder: nothing happens
  EXPECT_GOOD(h.run(h.a, *scsi::mode_sense6(0x3f)));
  EXPECT_EQ(h.run(h.b, *scsi::mode_sense6(0x3f)).status, kReservationConflict);
  EXPECT_EQ(h.run(h.b, scsi::reserve6()).status, kReservationConflict);
  // What the other nexus may still do (SPC-2 7.21).
  EXPECT_GOOD(h.run(h.b, scsi::inquiry()));
  EXPECT_GOOD(h.run(h.b, scsi::request_sense()));
  EXPECT_GOOD(h.run(h.b, *scsi::report_luns()));
  EXPECT_GOOD(h.run(h.b, scsi::read_capacity10()));
  EXPECT_GOOD(h.run(h.b, scsi::prevent_allow_medium_removal(false)));
  EXPECT_EQ(h.run(h.b, scsi::test_unit_ready()).status, kReservationConflict);
  EXPECT_EQ(h.run(h.b, scsi::read10(0, 1, 512)).status, kReservationConflict);
  EXPECT_EQ(h.run(h.b, scsi::persistent_reserve_in(PrInAction::read_keys)).status,
            kReservationConflict);
  EXPECT_EQ(register_ignore(h, h.b, 0x5).status, kReservationConflict);
  EXPECT_TRUE(writes(h, h.a));
  EXPECT_GOOD(h.run(h.a, scsi::release6()));
  EXPECT_GOOD(h.run(h.b, scsi::reserve10()));
  EXPECT_EQ(h.run(h.a, scsi::reserve6()).status, kReservationConflict);
  EXPECT_GOOD(h.run(h.b, scsi::release10()));
  EXPECT_GOOD(h.run(h.a, scsi::test_unit_ready()));
  // Third-party RESERVE(10) is not supported.
  expect_invalid_cdb(h.run(raw({0x56, 0x10, 0, 0, 0, 0, 0, 0, 0, 0})), 1, 4);
}

TEST(DiskLuSpc2, ReleasedByNexusLossAndResets) {
  for (int event = 0; event < 4; ++event) {
    SCOPED_TRACE(event);
    Harness h;
    EXPECT_GOOD(h.run(h.a, scsi::reserve6()));
    switch (event) {
      case 0:
        h.lu->nexus_removed(h.a);
        break;
      case 1:
        h.lu->logical_unit_reset();
        break;
      case 2:
        h.lu->target_reset(false);
        break;
      default:
        h.lu->target_reset(true);
        break;
    }
    h.clear_attentions(h.b);
    EXPECT_GOOD(h.run(h.b, scsi::reserve6()));
    EXPECT_GOOD(h.run(h.b, scsi::release6()));
  }
}

// CRH = 0: SPC-2 reservations and persistent reservations exclude each other.
TEST(DiskLuSpc2, ConflictsWithPersistentReservations) {
  Harness h;
  EXPECT_GOOD(register_ignore(h, h.a, 0x1));
  EXPECT_EQ(h.run(h.a, scsi::reserve6()).status, kReservationConflict);
  EXPECT_EQ(h.run(h.b, scsi::reserve10()).status, kReservationConflict);
  EXPECT_EQ(h.run(h.b, scsi::release6()).status, kReservationConflict);
  EXPECT_GOOD(register_key(h, h.a, 0, 0x1));
  EXPECT_GOOD(h.run(h.a, scsi::reserve6()));
  // The holder itself may still use persistent reservation commands.
  EXPECT_GOOD(h.run(h.a, scsi::persistent_reserve_in(PrInAction::read_keys)));
  EXPECT_GOOD(h.run(h.a, scsi::release6()));
}

}  // namespace
}  // namespace uiscsi::target::test
