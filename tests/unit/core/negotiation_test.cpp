// Operational parameter negotiation against RFC 7143 sections 6 and 13 (and RFC 7144 section
// 2.1 for iSCSIProtocolLevel).
#include "core/negotiation.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>

#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

using Kvs = KeyValueList;

std::optional<std::string> value_of(const Kvs& kvs, std::string_view key) {
  std::optional<std::string> out;
  for (const auto& kv : kvs)
    if (kv.key == key) out = kv.value;
  return out;
}

std::size_t count_of(const Kvs& kvs, std::string_view key) {
  std::size_t n = 0;
  for (const auto& kv : kvs)
    if (kv.key == key) ++n;
  return n;
}

Negotiator initiator(NegotiationSettings s = {}, SessionType type = SessionType::normal) {
  return Negotiator(Role::initiator, type, std::move(s));
}

Negotiator target(NegotiationSettings s = {}, SessionType type = SessionType::normal) {
  return Negotiator(Role::target, type, std::move(s));
}

// The target answers `offer` alone; returns its single reply value.
std::string target_answer(const NegotiationSettings& s, std::string_view key,
                          std::string_view offer, NegotiatedParams* out = nullptr) {
  auto t = target(s);
  auto r = t.process({{std::string(key), std::string(offer)}});
  if (!r) return "<error: " + t.failure_detail() + ">";
  if (out) *out = t.params();
  auto v = value_of(*r, key);
  return v ? *v : "<no answer>";
}

// Expects process() to fail with negotiation_failed and a detail naming `key`.
void expect_failure(Negotiator& n, const Kvs& received, std::string_view key) {
  auto r = n.process(received);
  ASSERT_FALSE(r) << "expected failure for " << key;
  EXPECT_EQ(r.error(), protocol_errc::negotiation_failed);
  EXPECT_NE(n.failure_detail().find(key), std::string::npos) << n.failure_detail();
}

bool same_params(const NegotiatedParams& a, const NegotiatedParams& b) {
  return a.header_digest == b.header_digest && a.data_digest == b.data_digest &&
         a.max_connections == b.max_connections && a.initial_r2t == b.initial_r2t &&
         a.immediate_data == b.immediate_data &&
         a.initiator_max_recv_data_segment_length == b.initiator_max_recv_data_segment_length &&
         a.target_max_recv_data_segment_length == b.target_max_recv_data_segment_length &&
         a.max_burst_length == b.max_burst_length && a.first_burst_length == b.first_burst_length &&
         a.default_time2wait == b.default_time2wait &&
         a.default_time2retain == b.default_time2retain &&
         a.max_outstanding_r2t == b.max_outstanding_r2t &&
         a.data_pdu_in_order == b.data_pdu_in_order &&
         a.data_sequence_in_order == b.data_sequence_in_order &&
         a.error_recovery_level == b.error_recovery_level && a.task_reporting == b.task_reporting &&
         a.iscsi_protocol_level == b.iscsi_protocol_level;
}

// Runs the operational stage: the initiator's offers, then answers and the target's own offers
// back and forth until nothing is left to say. `first_extra` goes with the first request (the
// login code's SessionType and names).
::testing::AssertionResult exchange(Negotiator& ini, Negotiator& tgt, Kvs first_extra = {}) {
  Kvs to_target = std::move(first_extra);
  auto offers = ini.make_offers();
  to_target.insert(to_target.end(), offers.begin(), offers.end());
  for (int round = 0; round < 8; ++round) {
    auto answers = tgt.process(to_target);
    if (!answers) return ::testing::AssertionFailure() << "target: " << tgt.failure_detail();
    auto t_offers = tgt.make_offers();
    answers->insert(answers->end(), t_offers.begin(), t_offers.end());
    auto replies = ini.process(*answers);
    if (!replies) return ::testing::AssertionFailure() << "initiator: " << ini.failure_detail();
    to_target = std::move(*replies);
    if (to_target.empty() && ini.settled() && tgt.settled()) {
      if (!same_params(ini.params(), tgt.params()))
        return ::testing::AssertionFailure() << "the two ends disagree";
      return ::testing::AssertionSuccess();
    }
  }
  return ::testing::AssertionFailure() << "did not settle";
}

// ---------------------------------------------------------------------------------------------
// The key table (RFC 7143 section 13; AuthMethod from 12.1; iSCSIProtocolLevel from RFC 7144).

struct Row {
  std::string_view name;
  KeyType type;
  ResultFunction result;
  KeySender sender;
  KeyUse use;
  KeyScope scope;
  std::uint64_t min, max;
  std::string_view def;
  bool irrelevant_in_discovery;
};

constexpr std::uint64_t k24 = (1u << 24) - 1;
using KT = KeyType;
using RF = ResultFunction;
using KS = KeySender;
using KU = KeyUse;
using SC = KeyScope;

const Row kExpected[] = {
    {"HeaderDigest", KT::list, RF::list_selection, KS::both, KU::initialize_only,
     SC::connection_only, 0, 0, "None", false},
    {"DataDigest", KT::list, RF::list_selection, KS::both, KU::initialize_only, SC::connection_only,
     0, 0, "None", false},
    {"MaxConnections", KT::numeric, RF::minimum, KS::both, KU::leading_only, SC::session_wide, 1,
     65535, "1", true},
    {"SendTargets", KT::special, RF::none, KS::initiator, KU::full_feature_only, SC::session_wide,
     0, 0, "", false},
    {"TargetName", KT::declarative, RF::none, KS::both, KU::initialize_only, SC::session_wide, 0, 0,
     "", false},
    {"InitiatorName", KT::declarative, RF::none, KS::initiator, KU::initialize_only,
     SC::session_wide, 0, 0, "", false},
    {"TargetAlias", KT::declarative, RF::none, KS::target, KU::all, SC::session_wide, 0, 0, "",
     false},
    {"InitiatorAlias", KT::declarative, RF::none, KS::initiator, KU::all, SC::session_wide, 0, 0,
     "", false},
    {"TargetAddress", KT::declarative, RF::none, KS::target, KU::all, SC::session_wide, 0, 0, "",
     false},
    {"TargetPortalGroupTag", KT::declarative, RF::none, KS::target, KU::initialize_only,
     SC::session_wide, 0, 65535, "", false},
    {"InitialR2T", KT::boolean, RF::logical_or, KS::both, KU::leading_only, SC::session_wide, 0, 0,
     "Yes", true},
    {"ImmediateData", KT::boolean, RF::logical_and, KS::both, KU::leading_only, SC::session_wide, 0,
     0, "Yes", true},
    {"MaxRecvDataSegmentLength", KT::declarative, RF::none, KS::both, KU::all, SC::connection_only,
     512, k24, "8192", false},
    {"MaxBurstLength", KT::numeric, RF::minimum, KS::both, KU::leading_only, SC::session_wide, 512,
     k24, "262144", true},
    {"FirstBurstLength", KT::numeric, RF::minimum, KS::both, KU::leading_only, SC::session_wide,
     512, k24, "65536", true},
    {"DefaultTime2Wait", KT::numeric, RF::maximum, KS::both, KU::leading_only, SC::session_wide, 0,
     3600, "2", false},
    {"DefaultTime2Retain", KT::numeric, RF::minimum, KS::both, KU::leading_only, SC::session_wide,
     0, 3600, "20", false},
    {"MaxOutstandingR2T", KT::numeric, RF::minimum, KS::both, KU::leading_only, SC::session_wide, 1,
     65535, "1", true},
    {"DataPDUInOrder", KT::boolean, RF::logical_or, KS::both, KU::leading_only, SC::session_wide, 0,
     0, "Yes", true},
    {"DataSequenceInOrder", KT::boolean, RF::logical_or, KS::both, KU::leading_only,
     SC::session_wide, 0, 0, "Yes", true},
    {"ErrorRecoveryLevel", KT::numeric, RF::minimum, KS::both, KU::leading_only, SC::session_wide,
     0, 2, "0", false},
    {"SessionType", KT::declarative, RF::none, KS::initiator, KU::leading_only, SC::session_wide, 0,
     0, "Normal", false},
    {"TaskReporting", KT::list, RF::list_selection, KS::both, KU::leading_only, SC::session_wide, 0,
     0, "RFC3720", true},
    {"iSCSIProtocolLevel", KT::numeric, RF::minimum, KS::both, KU::leading_only, SC::session_wide,
     0, 31, "1", true},
    {"X#NodeArchitecture", KT::declarative, RF::none, KS::both, KU::leading_only, SC::session_wide,
     0, 0, "None", false},
    {"AuthMethod", KT::special, RF::none, KS::both, KU::initialize_only, SC::connection_only, 0, 0,
     "None", false},
};

TEST(NegotiationTable, EveryKeyMatchesRfc7143Section13) {
  for (const auto& row : kExpected) {
    SCOPED_TRACE(std::string(row.name));
    const KeyDef* def = find_key(row.name);
    ASSERT_NE(def, nullptr);
    EXPECT_EQ(def->name, row.name);
    EXPECT_EQ(def->type, row.type);
    EXPECT_EQ(def->result, row.result);
    EXPECT_EQ(def->sender, row.sender);
    EXPECT_EQ(def->use, row.use);
    EXPECT_EQ(def->scope, row.scope);
    if (row.max != 0) {
      EXPECT_EQ(def->min_value, row.min);
      EXPECT_EQ(def->max_value, row.max);
    }
    EXPECT_EQ(def->default_value, row.def);
    EXPECT_EQ(def->irrelevant_in_discovery, row.irrelevant_in_discovery);
  }
}

TEST(NegotiationTable, ObsoleteMarkersPresentAndNamesUnique) {
  for (auto name : {"OFMarker", "IFMarker", "OFMarkInt", "IFMarkInt"})
    EXPECT_NE(find_key(name), nullptr) << name;
  const auto table = key_table();
  EXPECT_EQ(table.size(), std::size(kExpected) + 4);
  for (std::size_t i = 0; i < table.size(); ++i)
    for (std::size_t j = i + 1; j < table.size(); ++j)
      EXPECT_NE(table[i].name, table[j].name);
  // Numeric defaults lie within their ranges.
  for (const auto& def : table) {
    if (def.type != KeyType::numeric) continue;
    auto v = parse_numeric(def.default_value);
    ASSERT_TRUE(v) << def.name;
    EXPECT_GE(*v, def.min_value) << def.name;
    EXPECT_LE(*v, def.max_value) << def.name;
  }
}

TEST(NegotiationTable, LookupIsExactAndSecurityKeysAreRecognised) {
  EXPECT_EQ(find_key("maxburstlength"), nullptr);  // key names are case-sensitive
  EXPECT_EQ(find_key("X-com.example.Foo"), nullptr);
  EXPECT_EQ(find_key(""), nullptr);
  for (auto k : {"AuthMethod", "CHAP_A", "CHAP_C", "CHAP_N", "CHAP_R", "CHAP_I", "SRP_U",
                 "KRB_AP_REQ", "SPKM_REQ"})
    EXPECT_TRUE(is_security_key(k)) << k;
  for (auto k : {"HeaderDigest", "TargetName", "X-CHAP_A", "SessionType"})
    EXPECT_FALSE(is_security_key(k)) << k;
}

TEST(NegotiationTable, DefaultParamsAreTheRfcDefaults) {
  const NegotiatedParams p;
  EXPECT_FALSE(p.header_digest);
  EXPECT_FALSE(p.data_digest);
  EXPECT_EQ(p.max_connections, 1u);
  EXPECT_TRUE(p.initial_r2t);
  EXPECT_TRUE(p.immediate_data);
  EXPECT_EQ(p.initiator_max_recv_data_segment_length, 8192u);
  EXPECT_EQ(p.target_max_recv_data_segment_length, 8192u);
  EXPECT_EQ(p.max_burst_length, 262144u);
  EXPECT_EQ(p.first_burst_length, 65536u);
  EXPECT_EQ(p.default_time2wait, 2u);
  EXPECT_EQ(p.default_time2retain, 20u);
  EXPECT_EQ(p.max_outstanding_r2t, 1u);
  EXPECT_TRUE(p.data_pdu_in_order);
  EXPECT_TRUE(p.data_sequence_in_order);
  EXPECT_EQ(p.error_recovery_level, 0u);
  EXPECT_EQ(p.task_reporting, "RFC3720");
  EXPECT_EQ(p.iscsi_protocol_level, 1u);
  EXPECT_TRUE(p.unsolicited_data_allowed());
}

// ---------------------------------------------------------------------------------------------
// What an initiator offers.

TEST(NegotiationOffers, InitiatorNormalSessionOffersEveryOperationalKey) {
  auto n = initiator();
  const Kvs offers = n.make_offers();
  const Kvs expected = {{"HeaderDigest", "None"},       {"DataDigest", "None"},
                        {"MaxConnections", "1"},        {"InitialR2T", "Yes"},
                        {"ImmediateData", "Yes"},       {"MaxRecvDataSegmentLength", "262144"},
                        {"MaxBurstLength", "262144"},   {"FirstBurstLength", "65536"},
                        {"DefaultTime2Wait", "2"},      {"DefaultTime2Retain", "20"},
                        {"MaxOutstandingR2T", "1"},     {"DataPDUInOrder", "Yes"},
                        {"DataSequenceInOrder", "Yes"}, {"ErrorRecoveryLevel", "0"}};
  EXPECT_EQ(offers, expected);
  EXPECT_FALSE(n.settled());
  // Our declaration is in force at once: it bounds what we receive.
  EXPECT_EQ(n.params().receive_limit(Role::initiator), 262144u);
  EXPECT_TRUE(n.make_offers().empty());  // nothing is offered twice
}

TEST(NegotiationOffers, InitiatorAddsTaskReportingProtocolLevelAndExtras) {
  NegotiationSettings s;
  s.header_digest = {"CRC32C", "None"};
  s.data_digest = {"CRC32C"};
  s.task_reporting = {"FastAbort", "RFC3720"};
  s.iscsi_protocol_level = 2;
  s.extra_offers = {{"X-com.example.Feature", "Yes"}};
  auto offers = initiator(s).make_offers();
  EXPECT_EQ(value_of(offers, "HeaderDigest"), "CRC32C,None");
  EXPECT_EQ(value_of(offers, "DataDigest"), "CRC32C");
  EXPECT_EQ(value_of(offers, "TaskReporting"), "FastAbort,RFC3720");
  EXPECT_EQ(value_of(offers, "iSCSIProtocolLevel"), "2");
  EXPECT_EQ(offers.back(), (KeyValue{"X-com.example.Feature", "Yes"}));
  EXPECT_EQ(offers.size(), 17u);  // 14 keys, TaskReporting, iSCSIProtocolLevel, the extra
  // At their defaults, the two optional keys are not offered.
  auto plain = initiator().make_offers();
  EXPECT_FALSE(value_of(plain, "TaskReporting"));
  EXPECT_FALSE(value_of(plain, "iSCSIProtocolLevel"));
}

TEST(NegotiationOffers, DiscoveryNonLeadingAndFullFeatureOfferOnlyWhatApplies) {
  auto disc = initiator({}, SessionType::discovery).make_offers();
  EXPECT_EQ(disc, (Kvs{{"HeaderDigest", "None"},
                       {"DataDigest", "None"},
                       {"MaxRecvDataSegmentLength", "262144"}}));
  Negotiator second(Role::initiator, SessionType::normal, {}, false);
  EXPECT_EQ(second.make_offers(), disc);
  Negotiator ffp(Role::initiator, SessionType::normal, {}, true, {},
                 NegotiationPhase::full_feature);
  EXPECT_EQ(ffp.make_offers(), (Kvs{{"MaxRecvDataSegmentLength", "262144"}}));
}

TEST(NegotiationOffers, OwnValuesAreKeptLegal) {
  NegotiationSettings s;
  s.max_recv_data_segment_length = 100;  // below 512
  s.max_burst_length = 16384;
  s.first_burst_length = 65536;  // above our MaxBurstLength: offered as 16384 (13.14)
  s.error_recovery_level = 7;    // above 2
  s.max_connections = 0;         // below 1
  s.default_time2wait = 5000;    // above 3600
  s.header_digest = {"MD5", "CRC32C", "CRC32C", "None"};  // unknown and repeated values dropped
  s.data_digest = {"MD5"};                                // nothing usable left: the default
  auto offers = initiator(s).make_offers();
  EXPECT_EQ(value_of(offers, "MaxRecvDataSegmentLength"), "512");
  EXPECT_EQ(value_of(offers, "MaxBurstLength"), "16384");
  EXPECT_EQ(value_of(offers, "FirstBurstLength"), "16384");
  EXPECT_EQ(value_of(offers, "ErrorRecoveryLevel"), "2");
  EXPECT_EQ(value_of(offers, "MaxConnections"), "1");
  EXPECT_EQ(value_of(offers, "DefaultTime2Wait"), "3600");
  EXPECT_EQ(value_of(offers, "HeaderDigest"), "CRC32C,None");
  EXPECT_EQ(value_of(offers, "DataDigest"), "None");
}

TEST(NegotiationOffers, DecidedBooleanOffersNeedNoAnswer) {
  // Section 6.2.2: No for AND and Yes for OR decide the outcome by themselves.
  NegotiationSettings s;
  s.immediate_data = false;  // AND: decided
  s.initial_r2t = true;      // OR: decided
  s.data_pdu_in_order = false;
  s.data_sequence_in_order = false;
  auto n = initiator(s);
  auto offers = n.make_offers();
  EXPECT_FALSE(n.params().immediate_data);
  Kvs answers;
  for (const auto& kv : offers)
    if (kv.key != "ImmediateData" && kv.key != "InitialR2T") answers.push_back(kv);
  // Echo our values back as the answers (legal for every key here).
  ASSERT_TRUE(n.process(answers));
  EXPECT_TRUE(n.settled());
  EXPECT_FALSE(n.params().immediate_data);
  EXPECT_TRUE(n.params().initial_r2t);
  EXPECT_FALSE(n.params().data_pdu_in_order);
}

TEST(NegotiationOffers, SettledOnlyAfterEveryRequiredAnswer) {
  auto n = initiator();
  auto offers = n.make_offers();
  for (const auto& kv : offers) {
    EXPECT_FALSE(n.settled()) << "before " << kv.key;
    if (kv.key == "MaxRecvDataSegmentLength") continue;  // a declaration: no answer
    if (kv.key == "InitialR2T" || kv.key == "DataPDUInOrder" || kv.key == "DataSequenceInOrder")
      continue;  // Yes for OR: decided
    ASSERT_TRUE(n.process({kv})) << kv.key;
  }
  EXPECT_TRUE(n.settled());
}

// ---------------------------------------------------------------------------------------------
// Numeric keys (section 6.2.2; each key's range and result function in section 13).

struct NumericKey {
  std::string_view name;
  std::uint64_t legal_min, legal_max;
  bool minimum;  // else maximum
  std::uint64_t ours;
  std::function<void(NegotiationSettings&, std::uint32_t)> set;
  std::function<std::uint32_t(const NegotiatedParams&)> get;
};

std::vector<NumericKey> numeric_keys() {
  return {
      {"MaxConnections", 1, 65535, true, 8, [](auto& s, std::uint32_t v) { s.max_connections = v; },
       [](const auto& p) { return p.max_connections; }},
      {"MaxBurstLength", 512, k24, true, 131072,
       [](auto& s, std::uint32_t v) { s.max_burst_length = v; },
       [](const auto& p) { return p.max_burst_length; }},
      {"FirstBurstLength", 512, k24, true, 32768,
       [](auto& s, std::uint32_t v) { s.first_burst_length = v; },
       [](const auto& p) { return p.first_burst_length; }},
      {"DefaultTime2Wait", 0, 3600, false, 10,
       [](auto& s, std::uint32_t v) { s.default_time2wait = v; },
       [](const auto& p) { return p.default_time2wait; }},
      {"DefaultTime2Retain", 0, 3600, true, 10,
       [](auto& s, std::uint32_t v) { s.default_time2retain = v; },
       [](const auto& p) { return p.default_time2retain; }},
      {"MaxOutstandingR2T", 1, 65535, true, 4,
       [](auto& s, std::uint32_t v) { s.max_outstanding_r2t = v; },
       [](const auto& p) { return p.max_outstanding_r2t; }},
      {"ErrorRecoveryLevel", 0, 2, true, 1,
       [](auto& s, std::uint32_t v) { s.error_recovery_level = v; },
       [](const auto& p) { return p.error_recovery_level; }},
      {"iSCSIProtocolLevel", 0, 31, true, 5,
       [](auto& s, std::uint32_t v) { s.iscsi_protocol_level = v; },
       [](const auto& p) { return p.iscsi_protocol_level; }},
  };
}

TEST(NegotiationNumeric, ResponderAppliesMinimumOrMaximum) {
  for (const auto& k : numeric_keys()) {
    SCOPED_TRACE(std::string(k.name));
    NegotiationSettings s;
    k.set(s, static_cast<std::uint32_t>(k.ours));
    for (std::uint64_t offer : {k.ours - 1, k.ours, k.ours + 1}) {
      NegotiatedParams p;
      const std::uint64_t expected = k.minimum ? std::min(offer, k.ours) : std::max(offer, k.ours);
      EXPECT_EQ(target_answer(s, k.name, std::to_string(offer), &p), std::to_string(expected))
          << "offer " << offer;
      EXPECT_EQ(k.get(p), expected);
    }
    // Hex is a legal numerical-value (section 6.1).
    const std::uint64_t hex_expected =
        k.minimum ? std::min<std::uint64_t>(k.ours, 1u) : std::max<std::uint64_t>(k.ours, 1u);
    if (k.legal_min <= 1) {
      EXPECT_EQ(target_answer(s, k.name, "0x1"), std::to_string(hex_expected));
    }
  }
}

TEST(NegotiationNumeric, ResponderRejectsOffersOutsideTheRangeOrMalformed) {
  for (const auto& k : numeric_keys()) {
    SCOPED_TRACE(std::string(k.name));
    NegotiationSettings s;
    std::vector<std::string> bad = {std::to_string(k.legal_max + 1), "", "abc", "-1", "1.5", "Yes",
                                    "18446744073709551616"};
    if (k.legal_min > 0) bad.push_back(std::to_string(k.legal_min - 1));
    for (const auto& offer : bad) {
      NegotiatedParams p;
      EXPECT_EQ(target_answer(s, k.name, offer, &p), "Reject") << "offer '" << offer << "'";
      EXPECT_EQ(k.get(p), k.get(NegotiatedParams{})) << "offer '" << offer << "'";
    }
    // The legal extremes are accepted.
    EXPECT_NE(target_answer(s, k.name, std::to_string(k.legal_min)), "Reject");
    EXPECT_NE(target_answer(s, k.name, std::to_string(k.legal_max)), "Reject");
  }
}

TEST(NegotiationNumeric, OriginatorChecksTheAnswer) {
  for (const auto& k : numeric_keys()) {
    SCOPED_TRACE(std::string(k.name));
    NegotiationSettings s;
    k.set(s, static_cast<std::uint32_t>(k.ours));
    // The initiator offers every numeric key here except iSCSIProtocolLevel, which it offers
    // because it is set.
    struct Case {
      std::string answer;
      bool ok;
    };
    std::vector<Case> cases = {
        {std::to_string(k.ours), true},
        {std::to_string(k.ours - 1), k.minimum},   // below the offer: only Minimum allows it
        {std::to_string(k.ours + 1), !k.minimum},  // above the offer: only Maximum allows it
        {std::to_string(k.legal_max + 1), false},
        {"abc", false},
        {"", false},
    };
    if (k.legal_min > 0) cases.push_back({std::to_string(k.legal_min - 1), false});
    for (const auto& c : cases) {
      auto n = initiator(s);
      auto offers = n.make_offers();
      ASSERT_EQ(value_of(offers, k.name), std::to_string(k.ours));
      auto r = n.process({{std::string(k.name), c.answer}});
      EXPECT_EQ(static_cast<bool>(r), c.ok) << "answer '" << c.answer << "'";
      if (c.ok) {
        EXPECT_EQ(std::to_string(k.get(n.params())), c.answer);
      } else {
        EXPECT_EQ(r.error(), protocol_errc::negotiation_failed);
        EXPECT_NE(n.failure_detail().find(k.name), std::string::npos) << n.failure_detail();
        // A failed negotiator stays failed.
        EXPECT_FALSE(n.process({}));
      }
    }
  }
}

TEST(NegotiationNumeric, TargetOffersOnlyWhatChangesTheOutcome) {
  NegotiationSettings s;
  s.max_burst_length = 65536;    // Minimum below the default: offered
  s.first_burst_length = 16384;  // offered
  s.default_time2wait = 1;       // Maximum below the default: pointless
  s.default_time2retain = 60;    // Minimum above the default: pointless
  s.max_connections = 1;         // equal to the default
  s.max_outstanding_r2t = 16;    // above the default: pointless
  s.error_recovery_level = 0;    // equal
  auto t = target(s);
  ASSERT_TRUE(t.process({}));
  auto offers = t.make_offers();
  EXPECT_EQ(offers, (Kvs{{"MaxRecvDataSegmentLength", "262144"},
                         {"MaxBurstLength", "65536"},
                         {"FirstBurstLength", "16384"}}));
  EXPECT_FALSE(t.settled());
  ASSERT_TRUE(t.process({{"MaxBurstLength", "65536"}, {"FirstBurstLength", "8192"}}));
  EXPECT_TRUE(t.settled());
  EXPECT_EQ(t.params().max_burst_length, 65536u);
  EXPECT_EQ(t.params().first_burst_length, 8192u);
  EXPECT_TRUE(t.make_offers().empty());
}

TEST(NegotiationNumeric, TargetAnswersThenDoesNotOfferTheSameKey) {
  NegotiationSettings s;
  s.max_burst_length = 65536;
  auto t = target(s);
  auto r = t.process({{"MaxBurstLength", "262144"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(value_of(*r, "MaxBurstLength"), "65536");
  EXPECT_EQ(count_of(t.make_offers(), "MaxBurstLength"), 0u);
  EXPECT_TRUE(t.settled());
}

TEST(NegotiationNumeric, ProtocolLevelRfc7144) {
  // Unset: we answer as an RFC 7143 implementation (level 1).
  EXPECT_EQ(target_answer({}, "iSCSIProtocolLevel", "2"), "1");
  EXPECT_EQ(target_answer({}, "iSCSIProtocolLevel", "0"), "0");
  NegotiationSettings s;
  s.iscsi_protocol_level = 2;
  EXPECT_EQ(target_answer(s, "iSCSIProtocolLevel", "31"), "2");
  EXPECT_EQ(target_answer(s, "iSCSIProtocolLevel", "32"), "Reject");
}

// ---------------------------------------------------------------------------------------------
// Boolean keys: AND (ImmediateData) and OR (InitialR2T, DataPDUInOrder, DataSequenceInOrder).

struct BooleanKey {
  std::string_view name;
  bool is_and;
  std::function<void(NegotiationSettings&, bool)> set;
  std::function<bool(const NegotiatedParams&)> get;
};

std::vector<BooleanKey> boolean_keys() {
  return {
      {"InitialR2T", false, [](auto& s, bool v) { s.initial_r2t = v; },
       [](const auto& p) { return p.initial_r2t; }},
      {"ImmediateData", true, [](auto& s, bool v) { s.immediate_data = v; },
       [](const auto& p) { return p.immediate_data; }},
      {"DataPDUInOrder", false, [](auto& s, bool v) { s.data_pdu_in_order = v; },
       [](const auto& p) { return p.data_pdu_in_order; }},
      {"DataSequenceInOrder", false, [](auto& s, bool v) { s.data_sequence_in_order = v; },
       [](const auto& p) { return p.data_sequence_in_order; }},
  };
}

TEST(NegotiationTable, ParamsDefaultsMatchTheTable) {
  const NegotiatedParams p;
  for (const auto& k : numeric_keys())
    EXPECT_EQ(std::to_string(k.get(p)), find_key(k.name)->default_value) << k.name;
  for (const auto& k : boolean_keys())
    EXPECT_EQ(k.get(p) ? "Yes" : "No", find_key(k.name)->default_value) << k.name;
  EXPECT_EQ(std::to_string(p.initiator_max_recv_data_segment_length),
            find_key("MaxRecvDataSegmentLength")->default_value);
  EXPECT_EQ(p.task_reporting, find_key("TaskReporting")->default_value);
}

TEST(NegotiationBoolean, ResponderTruthTablesBothRoles) {
  for (const auto& k : boolean_keys()) {
    for (Role role : {Role::target, Role::initiator}) {
      for (bool offer : {false, true}) {
        for (bool ours : {false, true}) {
          SCOPED_TRACE(std::string(k.name) + (role == Role::target ? " target" : " initiator") +
                       " offer=" + std::to_string(offer) + " ours=" + std::to_string(ours));
          NegotiationSettings s;
          k.set(s, ours);
          Negotiator n(role, SessionType::normal, s);
          // The initiator answers a key the target raised before the initiator offered it.
          auto r = n.process({{std::string(k.name), offer ? "Yes" : "No"}});
          ASSERT_TRUE(r);
          const bool expected = k.is_and ? (offer && ours) : (offer || ours);
          EXPECT_EQ(value_of(*r, k.name), expected ? "Yes" : "No");
          EXPECT_EQ(k.get(n.params()), expected);
          if (role == Role::initiator) {
            EXPECT_EQ(count_of(n.make_offers(), k.name), 0u);  // answered, so not offered
          }
        }
      }
      // Not a Boolean: Reject, and the key keeps its default.
      for (auto bad : {"yes", "", "1", "Maybe"}) {
        Negotiator n(role, SessionType::normal, {});
        auto r = n.process({{std::string(k.name), bad}});
        ASSERT_TRUE(r);
        EXPECT_EQ(value_of(*r, k.name), "Reject");
        EXPECT_TRUE(k.get(n.params()));
      }
    }
  }
}

TEST(NegotiationBoolean, OriginatorChecksTheAnswer) {
  for (const auto& k : boolean_keys()) {
    for (bool offered : {false, true}) {
      for (bool answer : {false, true}) {
        SCOPED_TRACE(std::string(k.name) + " offered=" + std::to_string(offered) +
                     " answer=" + std::to_string(answer));
        NegotiationSettings s;
        k.set(s, offered);
        auto n = initiator(s);
        auto offers = n.make_offers();
        ASSERT_EQ(value_of(offers, k.name), offered ? "Yes" : "No");
        const bool legal = k.is_and ? (offered || !answer) : (!offered || answer);
        auto r = n.process({{std::string(k.name), answer ? "Yes" : "No"}});
        EXPECT_EQ(static_cast<bool>(r), legal);
        if (legal) {
          EXPECT_EQ(k.get(n.params()), answer);
        } else {
          EXPECT_NE(n.failure_detail().find(k.name), std::string::npos);
        }
      }
      auto n = initiator();
      (void)n.make_offers();
      EXPECT_FALSE(n.process({{std::string(k.name), "maybe"}}));
      EXPECT_NE(n.failure_detail().find(k.name), std::string::npos);
    }
  }
}

TEST(NegotiationBoolean, TargetOffersAndChecksTheInitiatorsAnswer) {
  NegotiationSettings s;
  s.immediate_data = false;  // AND with No: decided, no answer needed
  s.initial_r2t = true;      // the default: nothing to offer
  s.data_pdu_in_order = true;
  auto t = target(s);
  ASSERT_TRUE(t.process({}));
  auto offers = t.make_offers();
  EXPECT_EQ(value_of(offers, "ImmediateData"), "No");
  EXPECT_FALSE(value_of(offers, "InitialR2T"));
  EXPECT_FALSE(t.params().immediate_data);
  EXPECT_TRUE(t.settled());
  // The initiator may still answer, but only with No.
  EXPECT_FALSE(t.process({{"ImmediateData", "Yes"}}));
  EXPECT_NE(t.failure_detail().find("ImmediateData"), std::string::npos);

  // OR with No from the target needs the initiator's answer.
  NegotiationSettings s2;
  s2.initial_r2t = false;
  auto t2 = target(s2);
  // The initiator already settled InitialR2T=No: nothing to offer.
  ASSERT_TRUE(t2.process({{"InitialR2T", "No"}}));
  EXPECT_FALSE(value_of(t2.make_offers(), "InitialR2T"));
  EXPECT_FALSE(t2.params().initial_r2t);
}

// ---------------------------------------------------------------------------------------------
// List keys (section 6.2.1): HeaderDigest, DataDigest, TaskReporting.

TEST(NegotiationList, ResponderPicksTheFirstOfferedValueItSupports) {
  for (auto key : {"HeaderDigest", "DataDigest"}) {
    SCOPED_TRACE(key);
    NegotiationSettings both_ok;
    both_ok.header_digest = both_ok.data_digest = {"CRC32C", "None"};
    NegotiationSettings none_only;  // the default
    NegotiationSettings crc_only;
    crc_only.header_digest = crc_only.data_digest = {"CRC32C"};

    NegotiatedParams p;
    EXPECT_EQ(target_answer(both_ok, key, "CRC32C,None", &p), "CRC32C");
    EXPECT_TRUE(std::string_view(key) == "HeaderDigest" ? p.header_digest : p.data_digest);
    // The offer's order rules, not ours.
    EXPECT_EQ(target_answer(both_ok, key, "None,CRC32C", &p), "None");
    EXPECT_FALSE(std::string_view(key) == "HeaderDigest" ? p.header_digest : p.data_digest);
    EXPECT_EQ(target_answer(none_only, key, "CRC32C,None"), "None");
    EXPECT_EQ(target_answer(crc_only, key, "None,CRC32C"), "CRC32C");
    // Unknown values are skipped.
    EXPECT_EQ(target_answer(both_ok, key, "X#vendor.digest,,md5,CRC32C"), "CRC32C");
    // Nothing supported: Reject (answering a value not offered would be a protocol error).
    EXPECT_EQ(target_answer(none_only, key, "CRC32C", &p), "Reject");
    EXPECT_FALSE(p.header_digest || p.data_digest);
    EXPECT_EQ(target_answer(crc_only, key, "None"), "Reject");
    EXPECT_EQ(target_answer(both_ok, key, "X-foo,md5"), "Reject");
    EXPECT_EQ(target_answer(both_ok, key, ""), "Reject");
  }
}

TEST(NegotiationList, TaskReporting) {
  NegotiationSettings all;
  all.task_reporting = {"RFC3720", "ResponseFence", "FastAbort"};
  NegotiatedParams p;
  EXPECT_EQ(target_answer(all, "TaskReporting", "FastAbort,ResponseFence,RFC3720", &p),
            "FastAbort");
  EXPECT_EQ(p.task_reporting, "FastAbort");
  EXPECT_EQ(target_answer(all, "TaskReporting", "ResponseFence,RFC3720", &p), "ResponseFence");
  EXPECT_EQ(p.task_reporting, "ResponseFence");
  EXPECT_EQ(target_answer({}, "TaskReporting", "FastAbort,RFC3720"), "RFC3720");
  EXPECT_EQ(target_answer({}, "TaskReporting", "FastAbort,ResponseFence", &p), "Reject");
  EXPECT_EQ(p.task_reporting, "RFC3720");
  EXPECT_EQ(target_answer(all, "TaskReporting", "Bogus,FastAbort"), "FastAbort");
}

TEST(NegotiationList, OriginatorAcceptsOnlyOneOfItsOfferedValues) {
  NegotiationSettings s;
  s.header_digest = {"CRC32C", "None"};
  s.data_digest = {"CRC32C"};
  s.task_reporting = {"FastAbort", "RFC3720"};
  struct Case {
    std::string key, answer;
    bool ok;
  };
  const Case cases[] = {
      {"HeaderDigest", "CRC32C", true},
      {"HeaderDigest", "None", true},
      {"HeaderDigest", "CRC32C,None", false},
      {"HeaderDigest", "MD5", false},
      {"HeaderDigest", "", false},
      {"DataDigest", "CRC32C", true},
      {"DataDigest", "None", false},  // we did not offer None
      {"TaskReporting", "FastAbort", true},
      {"TaskReporting", "RFC3720", true},
      {"TaskReporting", "ResponseFence", false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.key + "=" + c.answer);
    auto n = initiator(s);
    (void)n.make_offers();
    auto r = n.process({{c.key, c.answer}});
    EXPECT_EQ(static_cast<bool>(r), c.ok);
    if (!c.ok) {
      EXPECT_NE(n.failure_detail().find(c.key), std::string::npos);
      continue;
    }
    if (c.key == "HeaderDigest") {
      EXPECT_EQ(n.params().header_digest, c.answer == "CRC32C");
    } else if (c.key == "DataDigest") {
      EXPECT_TRUE(n.params().data_digest);
    } else {
      EXPECT_EQ(n.params().task_reporting, c.answer);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// MaxRecvDataSegmentLength: declared per direction (section 13.12), never answered.

TEST(NegotiationDeclarative, MaxRecvDataSegmentLengthPerDirectionInitiator) {
  NegotiationSettings s;
  s.max_recv_data_segment_length = 131072;
  auto n = initiator(s);
  EXPECT_EQ(n.params().send_limit(Role::initiator), 8192u);  // the defaults until declared
  EXPECT_EQ(n.params().receive_limit(Role::initiator), 8192u);
  (void)n.make_offers();
  EXPECT_EQ(n.params().initiator_max_recv_data_segment_length, 131072u);
  auto r = n.process({{"MaxRecvDataSegmentLength", "65536"}});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());  // a declaration is not answered
  EXPECT_EQ(n.params().target_max_recv_data_segment_length, 65536u);
  EXPECT_EQ(n.params().send_limit(Role::initiator), 65536u);
  EXPECT_EQ(n.params().receive_limit(Role::initiator), 131072u);
}

TEST(NegotiationDeclarative, MaxRecvDataSegmentLengthPerDirectionTarget) {
  NegotiationSettings s;
  s.max_recv_data_segment_length = 16384;
  auto t = target(s);
  auto r = t.process({{"MaxRecvDataSegmentLength", "0x40000"}});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(t.params().initiator_max_recv_data_segment_length, 262144u);
  // The target always declares its own, even though the initiator declared too.
  auto offers = t.make_offers();
  EXPECT_EQ(value_of(offers, "MaxRecvDataSegmentLength"), "16384");
  EXPECT_EQ(t.params().target_max_recv_data_segment_length, 16384u);
  EXPECT_EQ(t.params().send_limit(Role::target), 262144u);
  EXPECT_EQ(t.params().receive_limit(Role::target), 16384u);
  EXPECT_TRUE(t.settled());
  EXPECT_TRUE(t.make_offers().empty());
}

TEST(NegotiationDeclarative, MaxRecvDataSegmentLengthOutOfRangeIsAnError) {
  for (auto bad : {"511", "16777216", "0", "abc", ""}) {
    auto t = target();
    expect_failure(t, {{"MaxRecvDataSegmentLength", bad}}, "MaxRecvDataSegmentLength");
  }
  for (auto good : {"512", "16777215"}) {
    auto t = target();
    EXPECT_TRUE(t.process({{"MaxRecvDataSegmentLength", good}})) << good;
  }
}

TEST(NegotiationDeclarative, NamesAliasesAndPortalGroupAreRecordedNotAnswered) {
  auto n = initiator();
  auto r = n.process({{"TargetAlias", "tape library"},
                      {"TargetPortalGroupTag", "7"},
                      {"TargetAddress", "10.0.0.1:3260,1"},
                      {"TargetAddress", "[fe80::1]:3260,1"}});  // TargetAddress may repeat
  ASSERT_TRUE(r) << n.failure_detail();
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(n.params().target_alias, "tape library");
  EXPECT_EQ(n.params().target_portal_group_tag, 7);
  auto bad_tag = initiator();
  expect_failure(bad_tag, {{"TargetPortalGroupTag", "65536"}}, "TargetPortalGroupTag");

  auto t = target();
  r = t.process({{"InitiatorName", "iqn.2024-01.org.example:host"},
                 {"InitiatorAlias", "host"},
                 {"TargetName", "iqn.2024-01.org.example:disk"},
                 {"SessionType", "Normal"},
                 {"X#NodeArchitecture", "ExampleOS/1.0"}});
  ASSERT_TRUE(r) << t.failure_detail();
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(t.params().initiator_alias, "host");
  auto bad_type = target();
  expect_failure(bad_type, {{"SessionType", "Fast"}}, "SessionType");
}

// ---------------------------------------------------------------------------------------------
// Irrelevant (section 6.2; "Irrelevant when" in section 13).

TEST(NegotiationIrrelevant, NormalSessionKeysInDiscovery) {
  const Kvs offered = {
      {"MaxConnections", "4"},     {"InitialR2T", "No"},          {"ImmediateData", "No"},
      {"MaxBurstLength", "4096"},  {"FirstBurstLength", "4096"},  {"MaxOutstandingR2T", "4"},
      {"DataPDUInOrder", "No"},    {"DataSequenceInOrder", "No"}, {"TaskReporting", "RFC3720"},
      {"iSCSIProtocolLevel", "2"}, {"DefaultTime2Wait", "5"},     {"DefaultTime2Retain", "5"},
      {"ErrorRecoveryLevel", "0"}, {"HeaderDigest", "None"}};
  for (Role role : {Role::target, Role::initiator}) {
    SCOPED_TRACE(role == Role::target ? "target" : "initiator");
    Negotiator n(role, SessionType::discovery, {});
    auto r = n.process(offered);
    ASSERT_TRUE(r) << n.failure_detail();
    ASSERT_EQ(r->size(), offered.size());
    for (const auto& kv : *r) {
      const bool irrelevant = find_key(kv.key)->irrelevant_in_discovery;
      if (irrelevant)
        EXPECT_EQ(kv.value, "Irrelevant") << kv.key;
      else
        EXPECT_NE(kv.value, "Irrelevant") << kv.key;
    }
    // Irrelevant keys keep their defaults; the relevant ones are negotiated.
    EXPECT_EQ(n.params().max_burst_length, 262144u);
    EXPECT_TRUE(n.params().initial_r2t);
    EXPECT_EQ(n.params().max_connections, 1u);
    EXPECT_EQ(n.params().default_time2wait, 5u);
    EXPECT_EQ(n.params().default_time2retain, 5u);
  }
}

TEST(NegotiationIrrelevant, SessionTypeKeySwitchesTheTargetToDiscovery) {
  auto t = target();  // built before the initiator said which session it wants
  auto r = t.process({{"MaxBurstLength", "4096"}, {"SessionType", "Discovery"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(value_of(*r, "MaxBurstLength"), "Irrelevant");
  // And the target then offers nothing that is irrelevant.
  NegotiationSettings s;
  s.max_burst_length = 4096;
  auto t2 = target(s);
  ASSERT_TRUE(t2.process({{"SessionType", "Discovery"}}));
  EXPECT_EQ(t2.make_offers(), (Kvs{{"MaxRecvDataSegmentLength", "262144"}}));
}

TEST(NegotiationIrrelevant, FirstBurstLengthWithoutUnsolicitedData) {
  // Section 13.14: irrelevant when InitialR2T=Yes and ImmediateData=No, even when those keys
  // follow it in the text.
  auto t = target();
  auto r =
      t.process({{"FirstBurstLength", "4096"}, {"InitialR2T", "Yes"}, {"ImmediateData", "No"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(value_of(*r, "FirstBurstLength"), "Irrelevant");
  EXPECT_EQ(t.params().first_burst_length, 65536u);
  EXPECT_FALSE(t.params().unsolicited_data_allowed());
  // With immediate data it matters.
  auto t2 = target();
  r = t2.process({{"FirstBurstLength", "4096"}, {"InitialR2T", "Yes"}, {"ImmediateData", "Yes"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(value_of(*r, "FirstBurstLength"), "4096");
  // The initiator's side of it: Irrelevant leaves the default.
  NegotiationSettings s;
  s.immediate_data = false;
  s.first_burst_length = 4096;
  auto n = initiator(s);
  (void)n.make_offers();
  ASSERT_TRUE(n.process({{"FirstBurstLength", "Irrelevant"}}));
  EXPECT_EQ(n.params().first_burst_length, 65536u);
}

// ---------------------------------------------------------------------------------------------
// FirstBurstLength must not exceed MaxBurstLength (section 13.14).

TEST(NegotiationBurst, ResponderCapsFirstBurstAtTheAgreedMaxBurst) {
  NegotiationSettings s;
  s.max_burst_length = 16384;
  s.first_burst_length = 262144;  // our own pair is capped too
  auto t = target(s);
  // The initiator's offer itself breaks the rule (65536 > 16384): no error, a legal answer.
  auto r = t.process({{"FirstBurstLength", "65536"}, {"MaxBurstLength", "16384"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(value_of(*r, "MaxBurstLength"), "16384");
  EXPECT_EQ(value_of(*r, "FirstBurstLength"), "16384");
  EXPECT_LE(t.params().first_burst_length, t.params().max_burst_length);

  // Both ends consistent, results that would cross: MBL 8192 (theirs), FBL 65536 (theirs) vs
  // our FBL 262144 capped at our MBL 16384.
  auto t2 = target(s);
  r = t2.process({{"MaxBurstLength", "8192"}, {"FirstBurstLength", "8192"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(value_of(*r, "MaxBurstLength"), "8192");
  EXPECT_EQ(value_of(*r, "FirstBurstLength"), "8192");
}

TEST(NegotiationBurst, ParamsNeverShowFirstBurstAboveMaxBurst) {
  // The target raises FirstBurstLength in one round and MaxBurstLength in a later one.
  auto n = initiator();
  auto r = n.process({{"FirstBurstLength", "65536"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(value_of(*r, "FirstBurstLength"), "65536");
  r = n.process({{"MaxBurstLength", "16384"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(value_of(*r, "MaxBurstLength"), "16384");
  EXPECT_EQ(n.params().max_burst_length, 16384u);
  EXPECT_EQ(n.params().first_burst_length, 16384u);
}

// ---------------------------------------------------------------------------------------------
// Reject, NotUnderstood and Irrelevant as answers (section 6.2): the key keeps its value.

TEST(NegotiationAnswers, ReservedAnswersLeaveEveryKeyAtItsDefault) {
  NegotiationSettings s;  // every key away from its default (digests preferred, not required)
  s.header_digest = {"CRC32C", "None"};
  s.data_digest = {"CRC32C", "None"};
  s.max_connections = 4;
  s.initial_r2t = false;
  s.immediate_data = true;
  s.max_burst_length = 65536;
  s.first_burst_length = 16384;
  s.default_time2wait = 10;
  s.default_time2retain = 5;
  s.max_outstanding_r2t = 8;
  s.data_pdu_in_order = false;
  s.data_sequence_in_order = false;
  s.error_recovery_level = 2;
  s.task_reporting = {"FastAbort"};
  s.iscsi_protocol_level = 2;
  for (auto reserved : {"Reject", "NotUnderstood", "Irrelevant"}) {
    SCOPED_TRACE(reserved);
    auto n = initiator(s);
    auto offers = n.make_offers();
    Kvs answers;
    for (const auto& kv : offers)
      if (kv.key != "MaxRecvDataSegmentLength") answers.push_back({kv.key, reserved});
    auto r = n.process(answers);
    ASSERT_TRUE(r) << n.failure_detail();
    EXPECT_TRUE(r->empty());
    EXPECT_TRUE(n.settled());
    NegotiatedParams expected;
    expected.initiator_max_recv_data_segment_length = 262144;  // our declaration stands
    EXPECT_TRUE(same_params(n.params(), expected));
  }
}

TEST(NegotiationAnswers, RequiredDigestRefusedFailsTheNegotiation) {
  // Offered CRC32C alone (DigestPolicy::require): a reserved answer would leave None in force,
  // which we do not accept.
  for (const char* key : {"HeaderDigest", "DataDigest"}) {
    for (auto reserved : {"Reject", "NotUnderstood", "Irrelevant"}) {
      SCOPED_TRACE(std::string(key) + "=" + reserved);
      NegotiationSettings s;
      s.header_digest = {"CRC32C"};
      s.data_digest = {"CRC32C"};
      auto n = initiator(s);
      (void)n.make_offers();
      expect_failure(n, {{key, reserved}}, key);
    }
  }
}

TEST(NegotiationAnswers, ReservedAnswerRestoresTheValueInForceNotTheDefault) {
  NegotiatedParams start;
  start.data_digest = true;
  NegotiationSettings s;
  s.data_digest = {"None"};
  Negotiator n(Role::initiator, SessionType::normal, s, false, start);
  auto offers = n.make_offers();
  EXPECT_EQ(value_of(offers, "DataDigest"), "None");
  ASSERT_TRUE(n.process({{"DataDigest", "Reject"}}));
  EXPECT_TRUE(n.params().data_digest);
}

TEST(NegotiationAnswers, DecidedBooleanAnsweredRejectGoesBackToDefault) {
  NegotiationSettings s;
  s.immediate_data = false;
  auto n = initiator(s);
  (void)n.make_offers();
  EXPECT_FALSE(n.params().immediate_data);
  ASSERT_TRUE(n.process({{"ImmediateData", "Reject"}}));
  EXPECT_TRUE(n.params().immediate_data);
}

TEST(NegotiationAnswers, AnsweringTwiceIsAnError) {
  auto n = initiator();
  (void)n.make_offers();
  ASSERT_TRUE(n.process({{"MaxBurstLength", "65536"}}));
  expect_failure(n, {{"MaxBurstLength", "65536"}}, "MaxBurstLength");
}

TEST(NegotiationAnswers, ReservedValueAsAnOfferIsAnError) {
  for (auto v : {"Reject", "Irrelevant", "NotUnderstood"}) {
    auto t = target();
    expect_failure(t, {{"MaxBurstLength", v}}, "MaxBurstLength");
  }
}

// ---------------------------------------------------------------------------------------------
// Unknown and extension keys; obsolete keys.

TEST(NegotiationUnknown, UnknownAndExtensionKeysAreNotUnderstood) {
  for (Role role : {Role::target, Role::initiator}) {
    Negotiator n(role, SessionType::normal, {});
    auto r = n.process({{"X-com.example.Private", "1"},
                        {"X#org.example.Public", "Yes"},
                        {"Y#future", "x"},
                        {"FancyNewKey", "1"},
                        {"maxburstlength", "512"}});
    ASSERT_TRUE(r) << n.failure_detail();
    ASSERT_EQ(r->size(), 5u);
    for (const auto& kv : *r)
      EXPECT_EQ(kv.value, "NotUnderstood") << kv.key;
    EXPECT_EQ(n.params().max_burst_length, 262144u);
  }
}

TEST(NegotiationUnknown, OurExtensionOfferAcceptsAnyAnswer) {
  NegotiationSettings s;
  s.extra_offers = {{"X-com.example.A", "1"}, {"X-com.example.B", "2"}};
  auto n = initiator(s);
  auto offers = n.make_offers();
  EXPECT_EQ(value_of(offers, "X-com.example.A"), "1");
  auto r = n.process({{"X-com.example.A", "NotUnderstood"}, {"X-com.example.B", "7"}});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());  // answers, not offers
  expect_failure(n, {{"X-com.example.A", "1"}}, "X-com.example.A");
}

TEST(NegotiationUnknown, ObsoleteMarkerKeysAreRejected) {
  // RFC 7143 section 13.26: Reject (never NotUnderstood), in either role.
  for (Role role : {Role::target, Role::initiator}) {
    Negotiator n(role, SessionType::normal, {});
    auto r = n.process(
        {{"OFMarker", "Yes"}, {"IFMarker", "No"}, {"OFMarkInt", "2048"}, {"IFMarkInt", "1~65535"}});
    ASSERT_TRUE(r);
    EXPECT_EQ(*r, (Kvs{{"OFMarker", "Reject"},
                       {"IFMarker", "Reject"},
                       {"OFMarkInt", "Reject"},
                       {"IFMarkInt", "Reject"}}));
  }
}

TEST(NegotiationUnknown, SecurityKeysAreSkipped) {
  auto t = target();
  auto r = t.process({{"AuthMethod", "CHAP,None"}, {"CHAP_A", "5"}, {"CHAP_N", "user"}});
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->empty());
}

// ---------------------------------------------------------------------------------------------
// Repeats, senders, phases and connections.

TEST(NegotiationErrors, DuplicateKeyIsAnErrorNamingTheKey) {
  auto t = target();
  expect_failure(t, {{"MaxBurstLength", "65536"}, {"MaxBurstLength", "65536"}}, "MaxBurstLength");
  auto t2 = target();  // across rounds of one negotiation
  ASSERT_TRUE(t2.process({{"ErrorRecoveryLevel", "1"}}));
  expect_failure(t2, {{"ErrorRecoveryLevel", "1"}}, "ErrorRecoveryLevel");
  auto t3 = target();
  expect_failure(t3, {{"InitiatorAlias", "a"}, {"InitiatorAlias", "b"}}, "InitiatorAlias");
  auto t4 = target();
  expect_failure(t4, {{"MaxRecvDataSegmentLength", "8192"}, {"MaxRecvDataSegmentLength", "8192"}},
                 "MaxRecvDataSegmentLength");
  auto t5 = target();
  expect_failure(t5, {{"X-foo", "1"}, {"X-foo", "1"}}, "X-foo");
  auto t6 = target();
  expect_failure(t6, {{"OFMarker", "No"}, {"OFMarker", "No"}}, "OFMarker");
  auto n = initiator();
  expect_failure(n, {{"TargetAlias", "a"}, {"TargetAlias", "a"}}, "TargetAlias");
}

TEST(NegotiationErrors, KeysFromTheWrongSender) {
  for (auto kv :
       Kvs{{"TargetAlias", "t"}, {"TargetAddress", "10.0.0.1"}, {"TargetPortalGroupTag", "1"}}) {
    auto t = target();
    expect_failure(t, {kv}, kv.key);
  }
  for (auto kv : Kvs{{"InitiatorName", "iqn.2024-01.org.example:i"},
                     {"InitiatorAlias", "i"},
                     {"SessionType", "Normal"},
                     {"SendTargets", "All"}}) {
    auto n = initiator();
    expect_failure(n, {kv}, kv.key);
  }
}

TEST(NegotiationErrors, LeadingOnlyKeysOnANonLeadingConnection) {
  for (auto key : {"MaxConnections", "InitialR2T", "ImmediateData", "MaxBurstLength",
                   "FirstBurstLength", "DefaultTime2Wait", "DefaultTime2Retain",
                   "MaxOutstandingR2T", "DataPDUInOrder", "DataSequenceInOrder",
                   "ErrorRecoveryLevel", "SessionType", "TaskReporting", "iSCSIProtocolLevel"}) {
    const std::string value = std::string(key) == "SessionType"         ? "Normal"
                              : std::string(key) == "TaskReporting"     ? "RFC3720"
                              : find_key(key)->type == KeyType::boolean ? "Yes"
                                                                        : "1024";
    Negotiator t(Role::target, SessionType::normal, {}, false);
    expect_failure(t, {{key, value}}, key);
  }
  // IO and ALL keys are fine there.
  Negotiator t(Role::target, SessionType::normal, {}, false);
  auto r = t.process({{"HeaderDigest", "None"},
                      {"DataDigest", "None"},
                      {"MaxRecvDataSegmentLength", "65536"},
                      {"InitiatorName", "iqn.2024-01.org.example:i"},
                      {"TargetName", "iqn.2024-01.org.example:t"}});
  ASSERT_TRUE(r) << t.failure_detail();
  EXPECT_EQ(r->size(), 2u);
  // A non-leading target offers only connection keys.
  NegotiationSettings s;
  s.max_burst_length = 4096;
  s.header_digest = {"CRC32C"};
  Negotiator t2(Role::target, SessionType::normal, s, false);
  ASSERT_TRUE(t2.process({}));
  EXPECT_EQ(t2.make_offers(),
            (Kvs{{"MaxRecvDataSegmentLength", "262144"}, {"HeaderDigest", "CRC32C"}}));
}

TEST(NegotiationErrors, PhaseRulesForTextRenegotiation) {
  auto ffp = [](Role role) {
    return Negotiator(role, SessionType::normal, {}, true, {}, NegotiationPhase::full_feature);
  };
  // IO and LO keys are errors in full feature phase.
  for (auto kv : Kvs{{"HeaderDigest", "None"},
                     {"DataDigest", "None"},
                     {"InitiatorName", "iqn.2024-01.org.example:i"},
                     {"MaxBurstLength", "4096"},
                     {"ImmediateData", "No"},
                     {"SessionType", "Normal"}}) {
    auto t = ffp(Role::target);
    expect_failure(t, {kv}, kv.key);
  }
  {
    auto n = ffp(Role::initiator);
    expect_failure(n, {{"TargetPortalGroupTag", "1"}}, "TargetPortalGroupTag");
  }
  // ALL keys, FFPO keys: fine. SendTargets is left to the discovery code.
  auto t = ffp(Role::target);
  auto r = t.process({{"MaxRecvDataSegmentLength", "4096"},
                      {"InitiatorAlias", "renamed"},
                      {"SendTargets", "All"}});
  ASSERT_TRUE(r) << t.failure_detail();
  EXPECT_TRUE(r->empty());
  EXPECT_EQ(t.params().initiator_max_recv_data_segment_length, 4096u);
  EXPECT_EQ(t.params().initiator_alias, "renamed");
  // A SendTargets answer: TargetName (FFPO for targets) and TargetAddress may repeat.
  auto n = ffp(Role::initiator);
  r = n.process({{"TargetName", "iqn.2024-01.org.example:a"},
                 {"TargetAddress", "10.0.0.1:3260,1"},
                 {"TargetName", "iqn.2024-01.org.example:b"},
                 {"TargetAddress", "10.0.0.2:3260,1"}});
  ASSERT_TRUE(r) << n.failure_detail();
  // SendTargets during login, and TargetName from a target during login, are errors.
  auto login_target = target();
  expect_failure(login_target, {{"SendTargets", "All"}}, "SendTargets");
  auto login_initiator = initiator();
  expect_failure(login_initiator, {{"TargetName", "iqn.2024-01.org.example:a"}}, "TargetName");
}

TEST(NegotiationErrors, KeysOfferedByTheTargetAreAnswered) {
  // After our offers: the target raises keys we left at their defaults.
  auto n = initiator();
  (void)n.make_offers();
  auto r = n.process({{"TaskReporting", "FastAbort,RFC3720"},
                      {"iSCSIProtocolLevel", "0"},
                      {"X-com.example.T", "1"},
                      {"MaxBurstLength", "65536"}});  // the answer to our offer
  ASSERT_TRUE(r) << n.failure_detail();
  EXPECT_EQ(*r, (Kvs{{"TaskReporting", "RFC3720"},
                     {"iSCSIProtocolLevel", "0"},
                     {"X-com.example.T", "NotUnderstood"}}));
  EXPECT_EQ(n.params().iscsi_protocol_level, 0u);
  EXPECT_EQ(n.params().max_burst_length, 65536u);
  EXPECT_FALSE(n.settled());  // the rest of our offers are still open

  // Before our offers: what the target raised is answered and then not offered again.
  auto n2 = initiator();
  r = n2.process({{"MaxConnections", "2"}, {"HeaderDigest", "CRC32C,None"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (Kvs{{"MaxConnections", "1"}, {"HeaderDigest", "None"}}));
  auto offers = n2.make_offers();
  EXPECT_EQ(count_of(offers, "MaxConnections"), 0u);
  EXPECT_EQ(count_of(offers, "HeaderDigest"), 0u);
  EXPECT_EQ(offers.size(), 12u);
}

// ---------------------------------------------------------------------------------------------
// Initiator against target, both ways through the whole operational stage.

TEST(NegotiationExchange, Defaults) {
  auto ini = initiator();
  auto tgt = target();
  ASSERT_TRUE(exchange(ini, tgt, {{"SessionType", "Normal"}}));
  NegotiatedParams expected;
  expected.initiator_max_recv_data_segment_length = 262144;
  expected.target_max_recv_data_segment_length = 262144;
  EXPECT_TRUE(same_params(ini.params(), expected));
}

TEST(NegotiationExchange, TunedBothSides) {
  NegotiationSettings is;
  is.header_digest = {"CRC32C", "None"};
  is.data_digest = {"CRC32C", "None"};
  is.max_connections = 4;
  is.initial_r2t = false;
  is.immediate_data = true;
  is.max_recv_data_segment_length = 1048576;
  is.max_burst_length = 262144;
  is.first_burst_length = 65536;
  is.default_time2wait = 5;
  is.default_time2retain = 30;
  is.max_outstanding_r2t = 8;
  is.data_pdu_in_order = false;
  is.data_sequence_in_order = false;
  is.error_recovery_level = 2;
  is.task_reporting = {"FastAbort", "ResponseFence", "RFC3720"};
  is.iscsi_protocol_level = 2;
  NegotiationSettings ts;
  ts.header_digest = {"None", "CRC32C"};
  ts.data_digest = {"None"};
  ts.max_connections = 2;
  ts.initial_r2t = false;
  ts.immediate_data = false;
  ts.max_recv_data_segment_length = 65536;
  ts.max_burst_length = 16384;
  ts.first_burst_length = 262144;
  ts.default_time2wait = 10;
  ts.default_time2retain = 20;
  ts.max_outstanding_r2t = 4;
  ts.data_pdu_in_order = false;
  ts.data_sequence_in_order = true;
  ts.error_recovery_level = 1;
  ts.task_reporting = {"RFC3720", "ResponseFence"};
  ts.iscsi_protocol_level = 2;
  auto ini = initiator(is);
  auto tgt = target(ts);
  ASSERT_TRUE(exchange(ini, tgt));
  const auto& p = ini.params();
  EXPECT_TRUE(p.header_digest);  // the initiator's order rules
  EXPECT_FALSE(p.data_digest);
  EXPECT_EQ(p.max_connections, 2u);
  EXPECT_FALSE(p.initial_r2t);
  EXPECT_FALSE(p.immediate_data);
  EXPECT_EQ(p.initiator_max_recv_data_segment_length, 1048576u);
  EXPECT_EQ(p.target_max_recv_data_segment_length, 65536u);
  EXPECT_EQ(p.send_limit(Role::initiator), 65536u);
  EXPECT_EQ(tgt.params().send_limit(Role::target), 1048576u);
  EXPECT_EQ(p.max_burst_length, 16384u);
  EXPECT_EQ(p.first_burst_length, 16384u);  // capped by MaxBurstLength
  EXPECT_EQ(p.default_time2wait, 10u);
  EXPECT_EQ(p.default_time2retain, 20u);
  EXPECT_EQ(p.max_outstanding_r2t, 4u);
  EXPECT_FALSE(p.data_pdu_in_order);
  EXPECT_TRUE(p.data_sequence_in_order);
  EXPECT_EQ(p.error_recovery_level, 1u);
  EXPECT_EQ(p.task_reporting, "ResponseFence");
  EXPECT_EQ(p.iscsi_protocol_level, 2u);
}

TEST(NegotiationExchange, TargetRaisesKeysTheInitiatorLeftAlone) {
  NegotiationSettings ts;
  ts.task_reporting = {"FastAbort"};  // the initiator does not offer TaskReporting
  ts.iscsi_protocol_level = 0;        // nor iSCSIProtocolLevel
  ts.max_burst_length = 32768;
  NegotiationSettings is;
  is.task_reporting = {"RFC3720"};  // cannot do FastAbort: answers Reject
  auto ini = initiator(is);
  auto tgt = target(ts);
  ASSERT_TRUE(exchange(ini, tgt));
  EXPECT_EQ(ini.params().task_reporting, "RFC3720");  // our answer was Reject
  EXPECT_EQ(ini.params().iscsi_protocol_level, 0u);
  EXPECT_EQ(ini.params().max_burst_length, 32768u);

  NegotiationSettings is2;
  is2.task_reporting = {"FastAbort", "RFC3720"};
  NegotiationSettings ts2;
  ts2.task_reporting = {"FastAbort"};
  auto ini2 = initiator(is2);
  auto tgt2 = target(ts2);
  ASSERT_TRUE(exchange(ini2, tgt2));
  EXPECT_EQ(tgt2.params().task_reporting, "FastAbort");
}

TEST(NegotiationExchange, NoUnsolicitedDataMakesFirstBurstIrrelevant) {
  NegotiationSettings is;
  is.initial_r2t = true;
  is.immediate_data = false;
  is.first_burst_length = 4096;
  auto ini = initiator(is);
  auto tgt = target();
  ASSERT_TRUE(exchange(ini, tgt));
  EXPECT_EQ(ini.params().first_burst_length, 65536u);
  EXPECT_FALSE(ini.params().unsolicited_data_allowed());
}

TEST(NegotiationExchange, DiscoverySession) {
  NegotiationSettings is;
  is.header_digest = {"CRC32C", "None"};
  is.max_recv_data_segment_length = 32768;
  NegotiationSettings ts;
  ts.header_digest = {"CRC32C", "None"};
  ts.max_burst_length = 4096;  // irrelevant here: not offered
  ts.default_time2wait = 7;    // relevant: offered by the target
  auto ini = initiator(is, SessionType::discovery);
  auto tgt = target(ts);  // learns the session type from the SessionType key
  ASSERT_TRUE(exchange(ini, tgt, {{"SessionType", "Discovery"}}));
  EXPECT_TRUE(ini.params().header_digest);
  EXPECT_EQ(ini.params().max_burst_length, 262144u);
  EXPECT_EQ(ini.params().default_time2wait, 7u);
  EXPECT_EQ(ini.params().initiator_max_recv_data_segment_length, 32768u);
}

TEST(NegotiationExchange, NonLeadingConnectionKeepsSessionValues) {
  NegotiatedParams session;
  session.max_burst_length = 65536;
  session.first_burst_length = 8192;
  session.initial_r2t = false;
  session.error_recovery_level = 2;
  NegotiationSettings is;
  is.data_digest = {"CRC32C", "None"};
  is.max_recv_data_segment_length = 16384;
  NegotiationSettings ts;
  ts.data_digest = {"CRC32C"};
  ts.max_burst_length = 4096;  // LO: cannot change on this connection
  Negotiator ini(Role::initiator, SessionType::normal, is, false, session);
  Negotiator tgt(Role::target, SessionType::normal, ts, false, session);
  ASSERT_TRUE(exchange(ini, tgt));
  EXPECT_TRUE(ini.params().data_digest);
  EXPECT_EQ(ini.params().max_burst_length, 65536u);
  EXPECT_EQ(ini.params().first_burst_length, 8192u);
  EXPECT_FALSE(ini.params().initial_r2t);
  EXPECT_EQ(ini.params().error_recovery_level, 2u);
  EXPECT_EQ(ini.params().initiator_max_recv_data_segment_length, 16384u);
}

TEST(NegotiationExchange, TextRenegotiationInFullFeaturePhase) {
  NegotiatedParams current;
  current.initiator_max_recv_data_segment_length = 8192;
  current.target_max_recv_data_segment_length = 8192;
  current.header_digest = true;
  NegotiationSettings is;
  is.max_recv_data_segment_length = 65536;
  NegotiationSettings ts;
  ts.max_recv_data_segment_length = 131072;
  Negotiator ini(Role::initiator, SessionType::normal, is, true, current,
                 NegotiationPhase::full_feature);
  Negotiator tgt(Role::target, SessionType::normal, ts, true, current,
                 NegotiationPhase::full_feature);
  ASSERT_TRUE(exchange(ini, tgt));
  EXPECT_EQ(ini.params().initiator_max_recv_data_segment_length, 65536u);
  EXPECT_EQ(ini.params().target_max_recv_data_segment_length, 131072u);
  EXPECT_TRUE(ini.params().header_digest);
}

TEST(NegotiationExchange, ManySettingsCombinationsAgree) {
  // A sweep over the settings that interact: every pair of ends must agree and respect 13.14.
  int runs = 0;
  for (bool i_r2t : {false, true})
    for (bool t_r2t : {false, true})
      for (bool i_imm : {false, true})
        for (bool t_imm : {false, true})
          for (std::uint32_t t_mbl : {4096u, 262144u})
            for (std::uint32_t t_fbl : {2048u, 1048576u}) {
              NegotiationSettings is;
              is.initial_r2t = i_r2t;
              is.immediate_data = i_imm;
              is.first_burst_length = 131072;
              is.header_digest = {"CRC32C", "None"};
              NegotiationSettings ts;
              ts.initial_r2t = t_r2t;
              ts.immediate_data = t_imm;
              ts.max_burst_length = t_mbl;
              ts.first_burst_length = t_fbl;
              ts.header_digest = {"None"};
              auto ini = initiator(is);
              auto tgt = target(ts);
              ASSERT_TRUE(exchange(ini, tgt));
              const auto& p = ini.params();
              EXPECT_EQ(p.initial_r2t, i_r2t || t_r2t);
              EXPECT_EQ(p.immediate_data, i_imm && t_imm);
              EXPECT_EQ(p.max_burst_length, std::min(262144u, t_mbl));
              EXPECT_LE(p.first_burst_length, p.max_burst_length);
              EXPECT_FALSE(p.header_digest);
              ++runs;
            }
  EXPECT_EQ(runs, 64);
}

}  // namespace
}  // namespace uiscsi::core
