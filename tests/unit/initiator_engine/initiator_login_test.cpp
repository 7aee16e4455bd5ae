// The login state machine, driven PDU by PDU with scripted Login Responses.
#include "core/initiator_login.hpp"

#include <gtest/gtest.h>

#include "core/bytes.hpp"
#include "support/scripted_target.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

using testing::CountingRandom;

struct Request {
  LoginRequest header;
  KeyValueList keys;
  std::vector<std::byte> data;
};

class LoginTest : public ::testing::Test {
 protected:
  CountingRandom rng;
  std::unique_ptr<InitiatorLogin> login;
  Framer to_target{[] {
    FramerConfig c;
    c.role = Role::target;
    return c;
  }()};
  Framer to_initiator;
  SerialNumber stat_sn{50};

  static LoginConfig config() {
    LoginConfig c;
    c.initiator_name = "iqn.2026-11.dev.uiscsi:test";
    c.target_name = "iqn.2026-11.dev.uiscsi:target";
    c.isid = 0x800000000042ull;
    c.itt = Itt(0x80000000u);
    return c;
  }

  void begin(LoginConfig c = config()) {
    login = std::make_unique<InitiatorLogin>(std::move(c), rng);
  }

  Request next_request() {
    auto bytes = login->poll_transmit();
    EXPECT_TRUE(bytes);
    if (!bytes) return {};
    EXPECT_FALSE(login->poll_transmit()) << "one request at a time";
    to_target.feed(*bytes);
    auto r = to_target.next();
    EXPECT_TRUE(r && *r);
    Request out;
    out.header = std::get<LoginRequest>((*r)->header);
    out.data.assign((*r)->data.begin(), (*r)->data.end());
    auto keys = parse_text(out.data);
    if (keys) out.keys = *keys;
    return out;
  }

  void respond(const Request& req, const KeyValueList& keys, bool transit, LoginStage nsg,
               std::uint16_t tsih = 0, bool cont = false, std::uint8_t cls = 0,
               std::uint8_t detail = 0, std::span<const std::byte> raw = {}) {
    LoginResponse r;
    r.transit = transit;
    r.cont = cont;
    r.csg = req.header.csg;
    r.nsg = nsg;
    r.isid = req.header.isid;
    r.itt = req.header.itt;
    r.tsih = tsih;
    r.stat_sn = stat_sn;
    ++stat_sn;
    r.exp_cmd_sn = req.header.cmd_sn;
    r.max_cmd_sn = req.header.cmd_sn + 15;
    r.status_class = cls;
    r.status_detail = detail;
    const auto text =
        raw.empty() ? serialize_text(keys) : std::vector<std::byte>(raw.begin(), raw.end());
    to_initiator.feed(serialize_pdu(Header{r}, text, {}));
    auto p = to_initiator.next();
    ASSERT_TRUE(p && *p);
    login->receive(**p);
  }
};

TEST_F(LoginTest, NoAuthenticationInTwoRoundTrips) {
  begin();
  Request r1 = next_request();
  EXPECT_EQ(r1.header.csg, LoginStage::security_negotiation);
  EXPECT_TRUE(r1.header.transit);
  EXPECT_EQ(r1.header.nsg, LoginStage::operational_negotiation);
  EXPECT_EQ(r1.header.tsih, 0);
  EXPECT_EQ(r1.header.isid, 0x800000000042ull);
  EXPECT_EQ(*find_value(r1.keys, "InitiatorName"), "iqn.2026-11.dev.uiscsi:test");
  EXPECT_EQ(*find_value(r1.keys, "TargetName"), "iqn.2026-11.dev.uiscsi:target");
  EXPECT_EQ(*find_value(r1.keys, "SessionType"), "Normal");
  EXPECT_EQ(*find_value(r1.keys, "AuthMethod"), "None");
  respond(r1, {{"AuthMethod", "None"}, {"TargetPortalGroupTag", "1"}}, true,
          LoginStage::operational_negotiation);
  Request r2 = next_request();
  EXPECT_EQ(r2.header.csg, LoginStage::operational_negotiation);
  EXPECT_TRUE(r2.header.transit);
  EXPECT_EQ(r2.header.nsg, LoginStage::full_feature_phase);
  EXPECT_EQ(r2.header.exp_stat_sn, SerialNumber(51));
  EXPECT_TRUE(find_value(r2.keys, "MaxBurstLength"));
  EXPECT_TRUE(find_value(r2.keys, "HeaderDigest"));
  KeyValueList answers;
  for (const auto& kv : r2.keys)
    if (kv.key != "MaxRecvDataSegmentLength")
      answers.push_back({kv.key, kv.value.substr(0, kv.value.find(','))});
  answers.push_back({"MaxRecvDataSegmentLength", "16384"});
  respond(r2, answers, true, LoginStage::full_feature_phase, 0x22);
  ASSERT_EQ(login->state(), InitiatorLogin::State::succeeded) << login->failure_detail();
  EXPECT_EQ(login->outcome().tsih, 0x22);
  EXPECT_EQ(login->outcome().params.target_max_recv_data_segment_length, 16384u);
  EXPECT_EQ(login->outcome().stat_sn, SerialNumber(51));
  EXPECT_EQ(login->outcome().params.target_portal_group_tag, 1);
}

TEST_F(LoginTest, DiscoveryOmitsTargetName) {
  LoginConfig c = config();
  c.session_type = SessionType::discovery;
  c.target_name.clear();
  begin(c);
  Request r1 = next_request();
  EXPECT_EQ(*find_value(r1.keys, "SessionType"), "Discovery");
  EXPECT_FALSE(find_value(r1.keys, "TargetName"));
}

TEST_F(LoginTest, StatusClassTwoIsADistinctReadableError) {
  begin();
  Request r1 = next_request();
  respond(r1, {}, false, LoginStage::security_negotiation, 0, false, 2, 3);
  ASSERT_EQ(login->state(), InitiatorLogin::State::failed);
  EXPECT_EQ(login->error(), make_login_error(2, 3));
  EXPECT_EQ(login->error().message(),
            "login rejected: target not found (status class 2, detail 0x03)");
  EXPECT_EQ(login_status_class(login->error()), 2);
}

TEST_F(LoginTest, StatusClassThreeIsATargetError) {
  begin();
  Request r1 = next_request();
  respond(r1, {}, false, LoginStage::security_negotiation, 0, false, 3, 2);
  ASSERT_EQ(login->state(), InitiatorLogin::State::failed);
  EXPECT_EQ(login_status_class(login->error()), 3);
  EXPECT_NE(login->error().message().find("out of resources"), std::string::npos);
}

TEST_F(LoginTest, RedirectCarriesTheTargetAddress) {
  begin();
  Request r1 = next_request();
  respond(r1, {{"TargetAddress", "[::1]:3261,2"}}, false, LoginStage::security_negotiation, 0,
          false, 1, 1);
  ASSERT_EQ(login->state(), InitiatorLogin::State::redirected);
  EXPECT_EQ(login->redirect_address(), "[::1]:3261,2");
  EXPECT_FALSE(login->redirect_permanent());
}

TEST_F(LoginTest, ContinuedResponseIsCollectedWithEmptyRequests) {
  begin();
  Request r1 = next_request();
  const std::string text = std::string("AuthMethod=None\0TargetPortalGroupTag=1\0", 39);
  // Part one ends inside a key; C=1 and T=0.
  respond(r1, {}, false, LoginStage::security_negotiation, 0, true, 0, 0,
          as_bytes(std::string_view(text).substr(0, 20)));
  Request empty = next_request();
  EXPECT_TRUE(empty.data.empty());
  EXPECT_TRUE(empty.header.transit) << "still ready to move on";
  EXPECT_EQ(empty.header.nsg, LoginStage::operational_negotiation);
  EXPECT_FALSE(empty.header.cont);
  respond(empty, {}, true, LoginStage::operational_negotiation, 0, false, 0, 0,
          as_bytes(std::string_view(text).substr(20)));
  Request r2 = next_request();
  EXPECT_EQ(r2.header.csg, LoginStage::operational_negotiation);
  EXPECT_EQ(login->state(), InitiatorLogin::State::in_progress);
}

TEST_F(LoginTest, LongRequestGoesOutInContinuedParts) {
  LoginConfig c = config();
  for (int i = 0; i < 60; ++i)
    c.negotiation.extra_offers.push_back(
        {"X-dev.uiscsi.Filler" + std::to_string(i), std::string(200, 'f')});
  begin(c);
  Request r1 = next_request();
  respond(r1, {{"AuthMethod", "None"}}, true, LoginStage::operational_negotiation);
  Request part1 = next_request();
  EXPECT_TRUE(part1.header.cont);
  EXPECT_FALSE(part1.header.transit);
  EXPECT_EQ(part1.data.size(), 8192u);
  respond(part1, {}, false, LoginStage::operational_negotiation);
  Request part2 = next_request();
  EXPECT_FALSE(part2.header.cont);
  EXPECT_TRUE(part2.header.transit);
  std::vector<std::byte> all = part1.data;
  all.insert(all.end(), part2.data.begin(), part2.data.end());
  auto keys = parse_text(all);
  ASSERT_TRUE(keys);
  EXPECT_TRUE(find_value(*keys, "X-dev.uiscsi.Filler59"));
}

TEST_F(LoginTest, SeveralOperationalRoundsAndTargetOfferedKeys) {
  begin();
  Request r1 = next_request();
  respond(r1, {{"AuthMethod", "None"}}, true, LoginStage::operational_negotiation);
  Request r2 = next_request();
  // The target answers part, offers a key of its own, and does not transit yet.
  respond(r2,
          {{"HeaderDigest", "None"}, {"DataDigest", "None"}, {"MaxRecvDataSegmentLength", "8192"}},
          false, LoginStage::full_feature_phase);
  Request r3 = next_request();
  EXPECT_TRUE(r3.header.transit);
  EXPECT_EQ(r3.header.csg, LoginStage::operational_negotiation);
  respond(r3, {{"MaxBurstLength", "65536"}, {"ErrorRecoveryLevel", "0"}}, true,
          LoginStage::full_feature_phase, 7);
  ASSERT_EQ(login->state(), InitiatorLogin::State::succeeded) << login->failure_detail();
  EXPECT_EQ(login->outcome().params.max_burst_length, 65536u);
}

TEST_F(LoginTest, TransitWithoutBeingAskedIsAnError) {
  LoginConfig c = config();
  c.chap = ChapCredentials{"user", Secret("secretsecret1234"), false, {}, {}};
  begin(c);
  Request r1 = next_request();
  EXPECT_FALSE(r1.header.transit);  // CHAP first
  EXPECT_EQ(*find_value(r1.keys, "AuthMethod"), "CHAP");
  respond(r1, {{"AuthMethod", "CHAP"}}, true, LoginStage::operational_negotiation);
  EXPECT_EQ(login->state(), InitiatorLogin::State::failed);
  EXPECT_EQ(login->error(), protocol_errc::invalid_field);
}

TEST_F(LoginTest, CredentialsOfferOnlyChapSoNoDowngrade) {
  LoginConfig c = config();
  c.chap = ChapCredentials{"user", Secret("secretsecret1234"), false, {}, {}};
  begin(c);
  Request r1 = next_request();
  respond(r1, {{"AuthMethod", "None"}}, false, LoginStage::security_negotiation);
  EXPECT_EQ(login->state(), InitiatorLogin::State::failed);
  EXPECT_EQ(login->error(), errc::authentication_failed);
}

TEST_F(LoginTest, TargetThatRequiresAuthentication) {
  begin();
  Request r1 = next_request();
  respond(r1, {{"AuthMethod", "Reject"}}, false, LoginStage::security_negotiation);
  EXPECT_EQ(login->state(), InitiatorLogin::State::failed);
  EXPECT_EQ(login->error(), errc::authentication_failed);
  EXPECT_NE(login->failure_detail().find("requires authentication"), std::string::npos);
}

// CHAP against the real target-side CHAP code, one-way and mutual.
class ChapLoginTest : public LoginTest, public ::testing::WithParamInterface<bool> {};

TEST_P(ChapLoginTest, ChapRoundTrips) {
  const bool mutual = GetParam();
  LoginConfig c = config();
  c.chap = ChapCredentials{"alice", Secret("alice-secret-0123"), mutual, "target-user",
                           Secret("target-secret-4567")};
  begin(c);
  ChapTarget target(
      [](std::string_view user) -> std::optional<Secret> {
        if (user == "alice") return Secret("alice-secret-0123");
        return std::nullopt;
      },
      ChapCredentials{"target-user", Secret("target-secret-4567"), false, {}, {}},
      default_chap_preference(), rng);
  Request r1 = next_request();
  EXPECT_EQ(*find_value(r1.keys, "AuthMethod"), "CHAP");
  respond(r1, {{"AuthMethod", "CHAP"}, {"TargetPortalGroupTag", "1"}}, false,
          LoginStage::security_negotiation);
  Request r2 = next_request();
  EXPECT_EQ(*find_value(r2.keys, "CHAP_A"), "8,7,6,5");
  auto challenge = target.on_algorithms(r2.keys);
  ASSERT_TRUE(challenge) << challenge.error().message();
  respond(r2, *challenge, false, LoginStage::security_negotiation);
  Request r3 = next_request();
  EXPECT_TRUE(r3.header.transit);
  EXPECT_EQ(*find_value(r3.keys, "CHAP_N"), "alice");
  EXPECT_EQ(find_value(r3.keys, "CHAP_C").has_value(), mutual);
  auto proof = target.on_response(r3.keys);
  ASSERT_TRUE(proof) << proof.error().message();
  respond(r3, *proof, true, LoginStage::operational_negotiation);
  ASSERT_EQ(login->state(), InitiatorLogin::State::in_progress) << login->failure_detail();
  Request r4 = next_request();
  EXPECT_EQ(r4.header.csg, LoginStage::operational_negotiation);
}

INSTANTIATE_TEST_SUITE_P(OneWayAndMutual, ChapLoginTest, ::testing::Bool());

TEST_F(LoginTest, WrongMutualProofFailsAuthentication) {
  LoginConfig c = config();
  c.chap = ChapCredentials{"alice", Secret("alice-secret-0123"), true, "target-user",
                           Secret("target-secret-4567")};
  begin(c);
  ChapTarget target(
      [](std::string_view) -> std::optional<Secret> { return Secret("alice-secret-0123"); },
      ChapCredentials{"target-user", Secret("WRONG-secret-4567"), false, {}, {}},
      default_chap_preference(), rng);
  Request r1 = next_request();
  respond(r1, {{"AuthMethod", "CHAP"}}, false, LoginStage::security_negotiation);
  Request r2 = next_request();
  respond(r2, *target.on_algorithms(r2.keys), false, LoginStage::security_negotiation);
  Request r3 = next_request();
  respond(r3, *target.on_response(r3.keys), true, LoginStage::operational_negotiation);
  EXPECT_EQ(login->state(), InitiatorLogin::State::failed);
  EXPECT_EQ(login->error(), errc::authentication_failed);
  EXPECT_EQ(login->failure_detail().find("WRONG"), std::string::npos);
}

}  // namespace
}  // namespace uiscsi::core
