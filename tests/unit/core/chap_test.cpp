#include "core/chap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "uiscsi/errors.hpp"
#include "uiscsi/secret.hpp"

namespace uiscsi::core {
namespace {

constexpr std::string_view kInitiatorSecret = "initiator-secret-9f3a";
constexpr std::string_view kTargetSecret = "target-secret-77c1e";
constexpr std::string_view kInitiatorName = "iqn.2026-01.test:initiator";
constexpr std::string_view kTargetName = "iqn.2026-01.test:target";

// Deterministic RandomSource (xorshift64*): different seeds give different challenges.
class TestRandom final : public RandomSource {
 public:
  explicit TestRandom(std::uint64_t seed) : state_(seed == 0 ? 1 : seed) {}
  void fill(std::span<std::byte> out) override {
    for (auto& b : out) {
      state_ ^= state_ >> 12;
      state_ ^= state_ << 25;
      state_ ^= state_ >> 27;
      b = static_cast<std::byte>((state_ * 0x2545F4914F6CDD1Dull) >> 56);
    }
  }

 private:
  std::uint64_t state_;
};

// Hands out queued byte strings, one per fill() (each must have the requested size).
class ScriptedRandom final : public RandomSource {
 public:
  void push(std::vector<std::byte> bytes) { queue_.push_back(std::move(bytes)); }
  void fill(std::span<std::byte> out) override {
    ASSERT_FALSE(queue_.empty());
    ASSERT_EQ(queue_.front().size(), out.size());
    std::copy(queue_.front().begin(), queue_.front().end(), out.begin());
    queue_.pop_front();
  }

 private:
  std::deque<std::vector<std::byte>> queue_;
};

std::vector<std::byte> from_hex(std::string_view hex) {
  auto r = parse_binary("0x" + std::string(hex));
  EXPECT_TRUE(r);
  return r ? *r : std::vector<std::byte>{};
}

std::vector<std::byte> filled(std::size_t n, std::uint8_t v) {
  return std::vector<std::byte>(n, static_cast<std::byte>(v));
}

std::vector<std::byte> counting(std::size_t n, std::uint8_t first) {
  std::vector<std::byte> out(n);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = static_cast<std::byte>(first + i);
  return out;
}

// Sends a message through the text codec, as the login state machine will.
KeyValueList wire(const KeyValueList& kvs) {
  auto parsed = parse_text(serialize_text(kvs));
  EXPECT_TRUE(parsed);
  return parsed ? *parsed : KeyValueList{};
}

KeyValueList with(KeyValueList kvs, std::string_view key, std::string value) {
  for (auto& kv : kvs)
    if (kv.key == key) {
      kv.value = std::move(value);
      return kvs;
    }
  kvs.push_back({std::string(key), std::move(value)});
  return kvs;
}

KeyValueList without(KeyValueList kvs, std::string_view key) {
  std::erase_if(kvs, [&](const KeyValue& kv) { return kv.key == key; });
  return kvs;
}

std::string value_of(const KeyValueList& kvs, std::string_view key) {
  auto v = find_value(kvs, key);
  EXPECT_TRUE(v) << key;
  return v ? std::string(*v) : std::string();
}

std::vector<std::byte> binary_of(const KeyValueList& kvs, std::string_view key) {
  auto r = parse_binary(value_of(kvs, key));
  EXPECT_TRUE(r);
  return r ? *r : std::vector<std::byte>{};
}

ChapCredentials initiator_credentials(bool mutual) {
  ChapCredentials c;
  c.username = std::string(kInitiatorName);
  c.secret = Secret(kInitiatorSecret);
  c.mutual = mutual;
  if (mutual) {
    c.peer_username = std::string(kTargetName);
    c.peer_secret = Secret(kTargetSecret);
  }
  return c;
}

ChapCredentials target_credentials() {
  ChapCredentials c;
  c.username = std::string(kTargetName);
  c.secret = Secret(kTargetSecret);
  return c;
}

ChapSecretLookup lookup_for(std::string_view user, std::string_view secret) {
  return [user = std::string(user),
          secret = std::string(secret)](std::string_view name) -> std::optional<Secret> {
    if (name == user) return Secret(secret);
    return std::nullopt;
  };
}

// Every error code a test produced; ChapZLeaks checks their text.
std::vector<std::error_code>& seen_errors() {
  static std::vector<std::error_code> errors;
  return errors;
}

template <class T>
std::error_code error_of(const Result<T>& r) {
  EXPECT_FALSE(r);
  seen_errors().push_back(r.error());
  return r.error();
}

// One initiator and one target wired together, stepped by the tests.
struct Pair {
  explicit Pair(bool mutual, std::vector<ChapAlgorithm> initiator_pref = {},
                std::vector<ChapAlgorithm> target_pref = {})
      : initiator(initiator_credentials(mutual), std::move(initiator_pref), initiator_random),
        target(lookup_for(kInitiatorName, kInitiatorSecret), target_credentials(),
               std::move(target_pref), target_random) {}

  TestRandom initiator_random{0x1234};
  TestRandom target_random{0xabcdef};
  ChapInitiator initiator;
  ChapTarget target;

  // Step 1 and 2: CHAP_A out, the target's challenge back.
  KeyValueList challenge() {
    auto c = target.on_algorithms(wire(initiator.start()));
    EXPECT_TRUE(c);
    return c ? wire(*c) : KeyValueList{};
  }
  // Step 3: the initiator's answer to a good challenge.
  KeyValueList answer() {
    auto a = initiator.on_challenge(challenge());
    EXPECT_TRUE(a);
    return a ? wire(*a) : KeyValueList{};
  }
};

// ---- known answers (computed independently with `openssl dgst`) ----

struct Kat {
  ChapAlgorithm algorithm;
  std::uint8_t identifier;
  std::string_view secret;
  std::vector<std::byte> challenge;
  std::string_view expected_hex;
};

TEST(ChapKnownAnswer, AllAlgorithms) {
  // printf '\x17uiscsi-chap-secret\x10\x11...\x2f' | openssl dgst -<alg>
  const auto c1 = counting(32, 0x10);
  // printf '\xffs\xff...\xff' (16 x 0xff) | openssl dgst -<alg>
  const auto c2 = filled(16, 0xff);
  const std::vector<Kat> kats = {
      {ChapAlgorithm::md5, 0x17, "uiscsi-chap-secret", c1, "c46e280ef59b8de51a535a25787b6a29"},
      {ChapAlgorithm::sha1, 0x17, "uiscsi-chap-secret", c1,
       "7362204bc5ffec23da4fa036c1aafaf8d871c88c"},
      {ChapAlgorithm::sha256, 0x17, "uiscsi-chap-secret", c1,
       "7cdf5e45857e3f05cf364e2a04821af2b3a1d5150c2c817a2b24090ec23bb6a7"},
      {ChapAlgorithm::sha3_256, 0x17, "uiscsi-chap-secret", c1,
       "324125024cf428eec0336df543864cf9c10d0df0d85c12d7e8e36ac515bfef6e"},
      {ChapAlgorithm::md5, 0xff, "s", c2, "92f82b2e134126c1f2c0ef33be96d01d"},
      {ChapAlgorithm::sha1, 0xff, "s", c2, "2d815059d3e93873659a4e5c2c44ccf49abdff3d"},
      {ChapAlgorithm::sha256, 0xff, "s", c2,
       "8fdc0ea7817ecd8cab7e139a404edfa2e50c183872ac3e9ffaf1602f18fa0175"},
      {ChapAlgorithm::sha3_256, 0xff, "s", c2,
       "201b3573f6b23672dce8d474415cb11880fef2c6a853cc9502f8e548b8804bc0"},
  };
  for (const auto& k : kats) {
    const auto r = chap_response(k.algorithm, k.identifier, Secret(k.secret), k.challenge);
    EXPECT_EQ(r, from_hex(k.expected_hex)) << chap_algorithm_name(k.algorithm);
    EXPECT_EQ(r.size(), chap_digest_length(k.algorithm));
  }
}

TEST(ChapAlgorithms, NamesLengthsNumbers) {
  EXPECT_EQ(chap_algorithm_name(ChapAlgorithm::md5), "MD5");
  EXPECT_EQ(chap_algorithm_name(ChapAlgorithm::sha1), "SHA-1");
  EXPECT_EQ(chap_algorithm_name(ChapAlgorithm::sha256), "SHA-256");
  EXPECT_EQ(chap_algorithm_name(ChapAlgorithm::sha3_256), "SHA3-256");
  EXPECT_EQ(chap_digest_length(ChapAlgorithm::md5), 16u);
  EXPECT_EQ(chap_digest_length(ChapAlgorithm::sha1), 20u);
  EXPECT_EQ(chap_digest_length(ChapAlgorithm::sha256), 32u);
  EXPECT_EQ(chap_digest_length(ChapAlgorithm::sha3_256), 32u);
  EXPECT_EQ(chap_algorithm_from_number(5), ChapAlgorithm::md5);
  EXPECT_EQ(chap_algorithm_from_number(8), ChapAlgorithm::sha3_256);
  EXPECT_FALSE(chap_algorithm_from_number(4));
  EXPECT_FALSE(chap_algorithm_from_number(9));
  EXPECT_FALSE(chap_algorithm_from_number(0x105));  // not truncated to a byte
  EXPECT_EQ(default_chap_preference(),
            (std::vector<ChapAlgorithm>{ChapAlgorithm::sha3_256, ChapAlgorithm::sha256,
                                        ChapAlgorithm::sha1, ChapAlgorithm::md5}));
}

// ---- full exchanges ----

class ChapExchange : public ::testing::TestWithParam<std::tuple<ChapAlgorithm, bool>> {};

TEST_P(ChapExchange, Succeeds) {
  const auto [algorithm, mutual] = GetParam();
  Pair p(mutual, {algorithm}, {});
  const auto start = p.initiator.start();
  EXPECT_EQ(value_of(start, "CHAP_A"), std::to_string(static_cast<int>(algorithm)));

  const auto challenge = p.challenge();
  EXPECT_EQ(value_of(challenge, "CHAP_A"), std::to_string(static_cast<int>(algorithm)));
  EXPECT_EQ(binary_of(challenge, "CHAP_C").size(), 32u);
  EXPECT_TRUE(value_of(challenge, "CHAP_C").starts_with("0x"));

  auto answer = p.initiator.on_challenge(challenge);
  ASSERT_TRUE(answer);
  EXPECT_EQ(value_of(*answer, "CHAP_N"), kInitiatorName);
  EXPECT_EQ(binary_of(*answer, "CHAP_R").size(), chap_digest_length(algorithm));
  EXPECT_EQ(find_value(*answer, "CHAP_C").has_value(), mutual);
  EXPECT_EQ(find_value(*answer, "CHAP_I").has_value(), mutual);

  auto reply = p.target.on_response(wire(*answer));
  ASSERT_TRUE(reply);
  EXPECT_EQ(p.target.authenticated_user(), kInitiatorName);
  EXPECT_EQ(p.initiator.algorithm(), algorithm);
  EXPECT_EQ(p.target.algorithm(), algorithm);
  if (mutual) {
    EXPECT_EQ(value_of(*reply, "CHAP_N"), kTargetName);
    EXPECT_EQ(binary_of(*reply, "CHAP_R").size(), chap_digest_length(algorithm));
    EXPECT_TRUE(p.initiator.on_target_response(wire(*reply)));
  } else {
    EXPECT_TRUE(reply->empty());
    EXPECT_EQ(error_of(p.initiator.on_target_response({})), errc::invalid_argument);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Chap, ChapExchange,
    ::testing::Combine(::testing::Values(ChapAlgorithm::md5, ChapAlgorithm::sha1,
                                         ChapAlgorithm::sha256, ChapAlgorithm::sha3_256),
                       ::testing::Bool()),
    [](const ::testing::TestParamInfo<ChapExchange::ParamType>& param_info) {
      std::string name(chap_algorithm_name(std::get<0>(param_info.param)));
      std::erase_if(name, [](char c) { return c == '-'; });
      return name + (std::get<1>(param_info.param) ? "_mutual" : "_one_way");
    });

TEST(ChapExchangeDefaults, StartOffersStrongestFirst) {
  Pair p(false);
  EXPECT_EQ(p.initiator.start(), (KeyValueList{{"CHAP_A", "8,7,6,5"}}));
  EXPECT_EQ(value_of(p.challenge(), "CHAP_A"), "8");
}

// ---- algorithm choice ----

TEST(ChapPreference, InitiatorOrderWins) {
  // RFC 7143 sections 6.2.1 and 12.1.3: the target takes the first of the initiator's list that
  // it accepts, whatever its own order.
  Pair p(false, {ChapAlgorithm::md5, ChapAlgorithm::sha256},
         {ChapAlgorithm::sha256, ChapAlgorithm::md5});
  EXPECT_EQ(value_of(p.challenge(), "CHAP_A"), "5");
}

TEST(ChapPreference, TargetListRestricts) {
  Pair p(false, {}, {ChapAlgorithm::sha1, ChapAlgorithm::sha256});
  EXPECT_EQ(value_of(p.challenge(), "CHAP_A"), "7");
}

TEST(ChapPreference, UnknownNumbersAreSkipped) {
  TestRandom rnd(1);
  ChapTarget t(lookup_for(kInitiatorName, kInitiatorSecret), std::nullopt, {}, rnd);
  auto c = t.on_algorithms({{"CHAP_A", "129,4,0x07,5"}});
  ASSERT_TRUE(c);
  EXPECT_EQ(value_of(*c, "CHAP_A"), "7");
}

TEST(ChapPreference, NoCommonAlgorithm) {
  Pair p(false, {ChapAlgorithm::md5}, {ChapAlgorithm::sha3_256, ChapAlgorithm::sha256});
  EXPECT_EQ(error_of(p.target.on_algorithms(p.initiator.start())), errc::authentication_failed);
  // The target is now failed: no second try.
  EXPECT_EQ(error_of(p.target.on_algorithms({{"CHAP_A", "8"}})), errc::invalid_argument);

  TestRandom rnd(1);
  ChapTarget t(lookup_for(kInitiatorName, kInitiatorSecret), std::nullopt, {}, rnd);
  EXPECT_EQ(error_of(t.on_algorithms({{"CHAP_A", "1,2,3,129"}})), errc::authentication_failed);
}

TEST(ChapPreference, MalformedOffer) {
  for (const char* bad : {"", "5,abc", "5,,7", "None", "-5"}) {
    TestRandom rnd(1);
    ChapTarget t(lookup_for(kInitiatorName, kInitiatorSecret), std::nullopt, {}, rnd);
    EXPECT_EQ(error_of(t.on_algorithms({{"CHAP_A", bad}})), protocol_errc::negotiation_failed)
        << bad;
  }
  TestRandom rnd(1);
  ChapTarget t(lookup_for(kInitiatorName, kInitiatorSecret), std::nullopt, {}, rnd);
  EXPECT_EQ(error_of(t.on_algorithms({{"AuthMethod", "CHAP"}})), protocol_errc::negotiation_failed);
}

TEST(ChapPreference, AnswerMustBeOneValueWeOffered) {
  const std::vector<std::pair<std::string, std::error_code>> cases = {
      {"5", protocol_errc::negotiation_failed},    // not offered
      {"99", protocol_errc::negotiation_failed},   // not an algorithm
      {"8,7", protocol_errc::negotiation_failed},  // a list, not a choice
      {"", protocol_errc::negotiation_failed},    {"abc", protocol_errc::negotiation_failed},
      {"Reject", errc::authentication_failed},  // no common algorithm
  };
  for (const auto& [answer, expected] : cases) {
    Pair p(false, {ChapAlgorithm::sha3_256, ChapAlgorithm::sha256});
    const auto challenge = p.challenge();
    EXPECT_EQ(error_of(p.initiator.on_challenge(with(challenge, "CHAP_A", answer))), expected)
        << answer;
  }
  Pair p(false);
  EXPECT_EQ(error_of(p.initiator.on_challenge(without(p.challenge(), "CHAP_A"))),
            protocol_errc::negotiation_failed);
}

// ---- wrong proofs ----

TEST(ChapTargetSide, WrongSecret) {
  TestRandom ir(1), tr(2);
  ChapInitiator i(initiator_credentials(false), {}, ir);
  ChapTarget t(lookup_for(kInitiatorName, "some-other-secret"), std::nullopt, {}, tr);
  auto c = t.on_algorithms(i.start());
  ASSERT_TRUE(c);
  auto a = i.on_challenge(*c);
  ASSERT_TRUE(a);
  EXPECT_EQ(error_of(t.on_response(*a)), errc::authentication_failed);
  EXPECT_TRUE(t.authenticated_user().empty());
  // One attempt per challenge: the same answer again is refused as out of order.
  EXPECT_EQ(error_of(t.on_response(*a)), errc::invalid_argument);
}

TEST(ChapTargetSide, UnknownUserOrEmptySecret) {
  {
    Pair p(false);
    const auto a = p.answer();
    EXPECT_EQ(error_of(p.target.on_response(with(a, "CHAP_N", "iqn.2026-01.test:stranger"))),
              errc::authentication_failed);
  }
  TestRandom ir(1), tr(2);
  ChapInitiator i(initiator_credentials(false), {}, ir);
  ChapTarget t([](std::string_view) { return std::optional<Secret>(Secret()); }, std::nullopt, {},
               tr);
  auto a = i.on_challenge(*t.on_algorithms(i.start()));
  ASSERT_TRUE(a);
  EXPECT_EQ(error_of(t.on_response(*a)), errc::authentication_failed);
}

TEST(ChapTargetSide, ResponseOfWrongLength) {
  Pair p(false, {ChapAlgorithm::sha256});
  const auto a = p.answer();
  auto r = binary_of(a, "CHAP_R");
  r.pop_back();  // a correct prefix, one byte short
  EXPECT_EQ(error_of(p.target.on_response(with(a, "CHAP_R", format_hex(r)))),
            errc::authentication_failed);

  Pair q(false, {ChapAlgorithm::md5});
  const auto b = q.answer();
  auto longer = binary_of(b, "CHAP_R");
  longer.push_back(std::byte{0});
  EXPECT_EQ(error_of(q.target.on_response(with(b, "CHAP_R", format_hex(longer)))),
            errc::authentication_failed);
}

TEST(ChapTargetSide, MalformedResponseKeys) {
  const std::vector<std::pair<std::string, KeyValueList (*)(KeyValueList)>> edits = {
      {"no CHAP_N", [](KeyValueList a) { return without(std::move(a), "CHAP_N"); }},
      {"empty CHAP_N", [](KeyValueList a) { return with(std::move(a), "CHAP_N", ""); }},
      {"no CHAP_R", [](KeyValueList a) { return without(std::move(a), "CHAP_R"); }},
      {"CHAP_R decimal", [](KeyValueList a) { return with(std::move(a), "CHAP_R", "12345"); }},
      {"CHAP_R bad hex", [](KeyValueList a) { return with(std::move(a), "CHAP_R", "0xzz"); }},
      {"CHAP_I alone", [](KeyValueList a) { return with(std::move(a), "CHAP_I", "1"); }},
      {"CHAP_C alone",
       [](KeyValueList a) { return with(std::move(a), "CHAP_C", format_hex(counting(16, 1))); }},
  };
  for (const auto& [what, edit] : edits) {
    Pair p(false);
    EXPECT_EQ(error_of(p.target.on_response(edit(p.answer()))), protocol_errc::negotiation_failed)
        << what;
  }
}

TEST(ChapTargetSide, OutOfOrder) {
  Pair p(false);
  EXPECT_EQ(error_of(p.target.on_response({{"CHAP_N", "x"}, {"CHAP_R", "0x00"}})),
            errc::invalid_argument);
}

TEST(ChapTargetSide, MutualRequestWithoutTargetCredentials) {
  TestRandom ir(1), tr(2);
  ChapInitiator i(initiator_credentials(true), {}, ir);
  ChapTarget t(lookup_for(kInitiatorName, kInitiatorSecret), std::nullopt, {}, tr);
  auto a = i.on_challenge(*t.on_algorithms(i.start()));
  ASSERT_TRUE(a);
  EXPECT_EQ(error_of(t.on_response(*a)), errc::authentication_failed);
}

TEST(ChapInitiatorSide, WrongMutualSecret) {
  TestRandom ir(1), tr(2);
  ChapCredentials creds = initiator_credentials(true);
  creds.peer_secret = Secret("not-the-target-secret");
  ChapInitiator i(std::move(creds), {}, ir);
  ChapTarget t(lookup_for(kInitiatorName, kInitiatorSecret), target_credentials(), {}, tr);
  const auto c = t.on_algorithms(i.start());
  ASSERT_TRUE(c);
  auto a = i.on_challenge(*c);
  ASSERT_TRUE(a);
  auto reply = t.on_response(*a);
  ASSERT_TRUE(reply);  // the initiator proved itself; the target does not
  EXPECT_EQ(error_of(i.on_target_response(*reply)), errc::authentication_failed);
  EXPECT_EQ(error_of(i.on_target_response(*reply)), errc::invalid_argument);  // failed for good
  i.start();  // does not revive the exchange
  EXPECT_EQ(error_of(i.on_challenge(*c)), errc::invalid_argument);
}

TEST(ChapInitiatorSide, WrongTargetUsername) {
  Pair p(true);
  auto reply = p.target.on_response(p.answer());
  ASSERT_TRUE(reply);
  EXPECT_EQ(
      error_of(p.initiator.on_target_response(with(*reply, "CHAP_N", "iqn.2026-01.test:impostor"))),
      errc::authentication_failed);
}

TEST(ChapInitiatorSide, TargetResponseMalformedOrWrongLength) {
  for (int variant = 0; variant < 5; ++variant) {
    Pair p(true, {ChapAlgorithm::sha1});
    auto reply = p.target.on_response(p.answer());
    ASSERT_TRUE(reply);
    KeyValueList bad;
    std::error_code expected = protocol_errc::negotiation_failed;
    auto r = binary_of(*reply, "CHAP_R");
    switch (variant) {
      case 0:
        bad = without(*reply, "CHAP_N");
        break;
      case 1:
        bad = without(*reply, "CHAP_R");
        break;
      case 2:
        bad = with(*reply, "CHAP_R", "not-binary");
        break;
      case 3:
        r.resize(16);  // an MD5-sized answer to SHA-1
        bad = with(*reply, "CHAP_R", format_hex(r));
        expected = errc::authentication_failed;
        break;
      default:
        bad = with(*reply, "CHAP_R", "0x");
        break;
    }
    EXPECT_EQ(error_of(p.initiator.on_target_response(bad)), expected) << variant;
  }
}

TEST(ChapInitiatorSide, OutOfOrderAndBadCredentials) {
  TestRandom rnd(1);
  ChapInitiator i(initiator_credentials(false), {}, rnd);
  EXPECT_EQ(error_of(i.on_challenge({{"CHAP_A", "8"}})), errc::invalid_argument);  // no start()

  ChapCredentials empty_secret = initiator_credentials(false);
  empty_secret.secret = Secret();
  Pair p(false);
  ChapInitiator j(std::move(empty_secret), {}, rnd);
  j.start();
  EXPECT_EQ(error_of(j.on_challenge(p.challenge())), errc::invalid_argument);

  ChapCredentials no_peer = initiator_credentials(true);
  no_peer.peer_username.clear();
  Pair q(false);
  ChapInitiator k(std::move(no_peer), {}, rnd);
  k.start();
  EXPECT_EQ(error_of(k.on_challenge(q.challenge())), errc::invalid_argument);
}

// ---- reflection and shared secrets ----

TEST(ChapReflection, TargetRefusesItsOwnChallenge) {
  Pair p(true);
  const auto challenge = p.challenge();
  auto a = p.initiator.on_challenge(challenge);
  ASSERT_TRUE(a);
  // An attacker posing as initiator hands the target's challenge back for the mutual step,
  // hoping to obtain H(I, target secret, C) for use elsewhere.
  auto reflected = with(*a, "CHAP_C", value_of(challenge, "CHAP_C"));
  reflected = with(reflected, "CHAP_I", value_of(challenge, "CHAP_I"));
  EXPECT_EQ(error_of(p.target.on_response(reflected)), errc::authentication_failed);
}

TEST(ChapReflection, TargetRefusesItsOwnChallengeInBase64) {
  Pair p(true);
  const auto challenge = p.challenge();
  auto a = p.initiator.on_challenge(challenge);
  ASSERT_TRUE(a);
  const auto reflected = with(*a, "CHAP_C", format_base64(binary_of(challenge, "CHAP_C")));
  EXPECT_EQ(error_of(p.target.on_response(reflected)), errc::authentication_failed);
}

TEST(ChapReflection, InitiatorNeverSendsTheTargetsChallenge) {
  // A RandomSource that reproduces the target's challenge: the initiator must fail rather than
  // reuse it for the other direction (RFC 7143 section 12.1.3).
  TestRandom tr(2);
  ChapTarget t(lookup_for(kInitiatorName, kInitiatorSecret), target_credentials(), {}, tr);
  ScriptedRandom ir;
  ChapInitiator i(initiator_credentials(true), {}, ir);
  auto c = t.on_algorithms(i.start());
  ASSERT_TRUE(c);
  ir.push({std::byte{7}});           // our CHAP_I
  ir.push(binary_of(*c, "CHAP_C"));  // our CHAP_C: the target's own
  EXPECT_EQ(error_of(i.on_challenge(*c)), errc::authentication_failed);
}

TEST(ChapReflection, TargetRefusesSecretSharedWithItsOwn) {
  // RFC 7143 section 9.2.1: the initiator's secret equals the target's mutual secret.
  TestRandom ir(1), tr(2);
  ChapCredentials ic = initiator_credentials(false);
  ic.secret = Secret(kTargetSecret);
  ChapInitiator i(std::move(ic), {}, ir);
  ChapTarget t(lookup_for(kInitiatorName, kTargetSecret), target_credentials(), {}, tr);
  auto a = i.on_challenge(*t.on_algorithms(i.start()));
  ASSERT_TRUE(a);
  EXPECT_EQ(error_of(t.on_response(*a)), errc::authentication_failed);
}

TEST(ChapReflection, InitiatorRefusesSecretSharedWithItsOwn) {
  // The target answers correctly for the configured peer secret, but that secret is also ours.
  ChapCredentials ic = initiator_credentials(true);
  ic.peer_secret = Secret(kInitiatorSecret);
  TestRandom ir(1), tr(2);
  ChapInitiator i(std::move(ic), {ChapAlgorithm::sha256}, ir);
  ChapTarget t(lookup_for(kInitiatorName, kInitiatorSecret), std::nullopt, {}, tr);
  auto a = i.on_challenge(*t.on_algorithms(i.start()));
  ASSERT_TRUE(a);
  const auto id = parse_numeric(value_of(*a, "CHAP_I"));
  ASSERT_TRUE(id);
  const auto r = chap_response(ChapAlgorithm::sha256, static_cast<std::uint8_t>(*id),
                               Secret(kInitiatorSecret), binary_of(*a, "CHAP_C"));
  EXPECT_EQ(error_of(i.on_target_response(
                {{"CHAP_N", std::string(kTargetName)}, {"CHAP_R", format_hex(r)}})),
            errc::authentication_failed);
}

// ---- challenge checks ----

TEST(ChapChallenge, InitiatorRefusesWeakChallenges) {
  const std::vector<std::pair<std::string, std::error_code>> cases = {
      {format_hex(counting(15, 1)), errc::authentication_failed},          // short
      {format_hex(filled(16, 0)), errc::authentication_failed},            // all zero
      {format_hex(filled(64, 0)), errc::authentication_failed},            // long but all zero
      {format_base64(filled(32, 0)), errc::authentication_failed},         // zero in base64
      {format_hex(counting(1025, 1)), protocol_errc::negotiation_failed},  // over 1024 bytes
      {"1234567890123456789012345678901234567890", protocol_errc::negotiation_failed},  // decimal
      {"0x", protocol_errc::negotiation_failed},
      {"0b%%%%", protocol_errc::negotiation_failed},
      {"hello", protocol_errc::negotiation_failed},
  };
  for (const auto& [c, expected] : cases) {
    Pair p(false);
    EXPECT_EQ(error_of(p.initiator.on_challenge(with(p.challenge(), "CHAP_C", c))), expected)
        << c.substr(0, 40);
  }
  Pair p(false);
  EXPECT_EQ(error_of(p.initiator.on_challenge(without(p.challenge(), "CHAP_C"))),
            protocol_errc::negotiation_failed);
}

TEST(ChapChallenge, TargetRefusesWeakMutualChallenges) {
  const std::vector<std::pair<std::string, std::error_code>> cases = {
      {format_hex(counting(15, 1)), errc::authentication_failed},
      {format_hex(filled(16, 0)), errc::authentication_failed},
      {format_hex(counting(1025, 1)), protocol_errc::negotiation_failed},
      {"42", protocol_errc::negotiation_failed},
  };
  for (const auto& [c, expected] : cases) {
    Pair p(true);
    EXPECT_EQ(error_of(p.target.on_response(with(p.answer(), "CHAP_C", c))), expected)
        << c.substr(0, 40);
  }
}

TEST(ChapChallenge, MinimumLengthAccepted) {
  Pair p(false, {ChapAlgorithm::md5});
  const auto challenge = with(p.challenge(), "CHAP_C", format_hex(counting(16, 0)));
  auto a = p.initiator.on_challenge(challenge);
  ASSERT_TRUE(a);
  const auto expected = chap_response(
      ChapAlgorithm::md5, static_cast<std::uint8_t>(*parse_numeric(value_of(challenge, "CHAP_I"))),
      Secret(kInitiatorSecret), counting(16, 0));
  EXPECT_EQ(binary_of(*a, "CHAP_R"), expected);
}

TEST(ChapChallenge, Base64ChallengeAccepted) {
  // The target's challenge re-encoded as 0b base64 gives the same response.
  Pair p(true, {ChapAlgorithm::sha3_256});
  const auto challenge = p.challenge();
  const auto b64 = with(challenge, "CHAP_C", format_base64(binary_of(challenge, "CHAP_C")));
  ASSERT_TRUE(value_of(b64, "CHAP_C").starts_with("0b"));
  auto a = p.initiator.on_challenge(b64);
  ASSERT_TRUE(a);
  // And the initiator's mutual challenge in base64 is accepted by the target.
  const auto a64 = with(*a, "CHAP_C", format_base64(binary_of(*a, "CHAP_C")));
  auto reply = p.target.on_response(a64);
  ASSERT_TRUE(reply);
  EXPECT_TRUE(p.initiator.on_target_response(*reply));
}

TEST(ChapChallenge, ChallengeLengthIsClamped) {
  TestRandom rnd(3);
  ChapTarget small(lookup_for(kInitiatorName, kInitiatorSecret), std::nullopt, {}, rnd, 4);
  EXPECT_EQ(binary_of(*small.on_algorithms({{"CHAP_A", "5"}}), "CHAP_C").size(),
            kMinChallengeLength);
  ChapTarget big(lookup_for(kInitiatorName, kInitiatorSecret), std::nullopt, {}, rnd, 5000);
  EXPECT_EQ(binary_of(*big.on_algorithms({{"CHAP_A", "5"}}), "CHAP_C").size(), kMaxChallengeLength);

  Pair p(false);
  TestRandom ir(9);
  ChapInitiator i(initiator_credentials(true), {}, ir, 1);
  i.start();
  auto a = i.on_challenge(p.challenge());
  ASSERT_TRUE(a);
  EXPECT_EQ(binary_of(*a, "CHAP_C").size(), kMinChallengeLength);
}

// ---- CHAP_I ----

TEST(ChapIdentifier, InitiatorChecksRange) {
  const std::vector<std::string> bad = {"256", "-1", "abc", "", "0x100", "1.5", "99999999999"};
  for (const auto& v : bad) {
    Pair p(false);
    EXPECT_EQ(error_of(p.initiator.on_challenge(with(p.challenge(), "CHAP_I", v))),
              protocol_errc::negotiation_failed)
        << v;
  }
  Pair p(false);
  EXPECT_EQ(error_of(p.initiator.on_challenge(without(p.challenge(), "CHAP_I"))),
            protocol_errc::negotiation_failed);
}

TEST(ChapIdentifier, BoundsAndHexAccepted) {
  for (const char* v : {"0", "255", "0xff", "0x00"}) {
    Pair p(false, {ChapAlgorithm::sha256});
    const auto challenge = with(p.challenge(), "CHAP_I", v);
    auto a = p.initiator.on_challenge(challenge);
    ASSERT_TRUE(a) << v;
    const auto id = static_cast<std::uint8_t>(*parse_numeric(v));
    EXPECT_EQ(binary_of(*a, "CHAP_R"),
              chap_response(ChapAlgorithm::sha256, id, Secret(kInitiatorSecret),
                            binary_of(challenge, "CHAP_C")))
        << v;
  }
}

TEST(ChapIdentifier, TargetChecksMutualIdentifier) {
  for (const char* v : {"256", "x", "", "-3"}) {
    Pair p(true);
    EXPECT_EQ(error_of(p.target.on_response(with(p.answer(), "CHAP_I", v))),
              protocol_errc::negotiation_failed)
        << v;
  }
}

// ---- secrets ----

TEST(ChapSecret, EqualsAndDescribe) {
  const Secret a("correct horse"), b("correct horse"), c("correct horsf"), d("short");
  EXPECT_TRUE(a.equals(b));
  EXPECT_FALSE(a.equals(c));
  EXPECT_FALSE(a.equals(d));
  EXPECT_TRUE(Secret().equals(Secret("")));
  EXPECT_FALSE(Secret().equals(a));
  EXPECT_EQ(a.describe(), "<secret, 13 bytes>");
  EXPECT_EQ(a.describe().find("horse"), std::string::npos);
}

TEST(ChapSecret, MoveAndAssignment) {
  Secret a("a-long-secret-that-is-not-small-string-optimised");
  Secret b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(b.reveal(), "a-long-secret-that-is-not-small-string-optimised");
  Secret s("tiny");
  Secret t(std::move(s));
  EXPECT_TRUE(s.empty());  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(t.reveal(), "tiny");
  Secret c;
  c = b;
  EXPECT_TRUE(c.equals(b));
  c = Secret("x");
  EXPECT_EQ(c.reveal(), "x");
  c = std::move(t);
  EXPECT_EQ(c.reveal(), "tiny");
  EXPECT_TRUE(t.empty());  // NOLINT(bugprone-use-after-move)
}

TEST(ChapRandom, OpenSslRandomFills) {
  OpenSslRandom rnd;
  std::vector<std::byte> a(32), b(32);
  rnd.fill(a);
  rnd.fill(b);
  EXPECT_NE(a, b);
  rnd.fill({});  // empty is fine
}

// ---- secrets never leak ----

std::string hex_text(std::string_view s) {
  return format_hex(std::as_bytes(std::span(s.data(), s.size()))).substr(2);
}

TEST(ChapZLeaks, ErrorsAndWireNeverContainSecrets) {
  // Failures produced here (so the test stands alone under ctest, one process per test) plus,
  // when the whole binary runs, every error the tests above saw.
  {
    TestRandom ir(1), tr(2);
    ChapInitiator i(initiator_credentials(true), {}, ir);
    ChapTarget t(lookup_for(kInitiatorName, "wrong"), target_credentials(), {}, tr);
    auto a = i.on_challenge(*t.on_algorithms(i.start()));
    ASSERT_TRUE(a);
    error_of(t.on_response(*a));  // wrong initiator secret
  }
  {
    Pair p(true);
    auto reply = p.target.on_response(p.answer());
    ASSERT_TRUE(reply);
    error_of(p.initiator.on_target_response(with(*reply, "CHAP_R", format_hex(filled(32, 1)))));
  }
  {
    Pair p(false);
    error_of(p.initiator.on_challenge(with(p.challenge(), "CHAP_C", "0x00")));
    error_of(p.target.on_response({{"CHAP_N", std::string(kInitiatorSecret)}}));
  }
  ASSERT_FALSE(seen_errors().empty());
  for (const auto& ec : seen_errors()) {
    const std::string text = ec.message() + " " + ec.category().name();
    for (std::string_view secret : {kInitiatorSecret, kTargetSecret}) {
      EXPECT_EQ(text.find(secret), std::string::npos) << text;
      EXPECT_EQ(text.find(hex_text(secret)), std::string::npos) << text;
    }
  }
  // Nothing any step puts on the wire carries a secret, in clear or hex.
  for (bool mutual : {false, true}) {
    Pair p(mutual);
    std::vector<KeyValueList> messages = {p.initiator.start()};
    messages.push_back(p.challenge());
    messages.push_back(*p.initiator.on_challenge(messages.back()));
    messages.push_back(*p.target.on_response(messages.back()));
    for (const auto& m : messages)
      for (const auto& kv : m)
        for (std::string_view secret : {kInitiatorSecret, kTargetSecret}) {
          EXPECT_EQ(kv.value.find(secret), std::string::npos) << kv.key;
          EXPECT_EQ(kv.value.find(hex_text(secret)), std::string::npos) << kv.key;
        }
  }
}

}  // namespace
}  // namespace uiscsi::core
