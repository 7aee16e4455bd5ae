#include "core/chap.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <memory>
#include <utility>

#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

const EVP_MD* evp_digest(ChapAlgorithm a) {
  switch (a) {
    case ChapAlgorithm::md5:
      return EVP_md5();
    case ChapAlgorithm::sha1:
      return EVP_sha1();
    case ChapAlgorithm::sha256:
      return EVP_sha256();
    case ChapAlgorithm::sha3_256:
      return EVP_sha3_256();
  }
  return nullptr;
}

std::string algorithm_number(ChapAlgorithm a) {
  return std::to_string(static_cast<unsigned>(a));
}

// Constant-time equality of digests or challenges: the lengths are public (a digest's is that of
// the negotiated algorithm), the contents are compared with CRYPTO_memcmp.
bool constant_time_equal(std::span<const std::byte> a, std::span<const std::byte> b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool all_zero(std::span<const std::byte> bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](std::byte b) { return b == std::byte{0}; });
}

std::size_t clamp_challenge_length(std::size_t n) {
  return std::clamp(n, kMinChallengeLength, kMaxChallengeLength);
}

std::vector<ChapAlgorithm> or_default(std::vector<ChapAlgorithm> preference) {
  if (preference.empty()) return default_chap_preference();
  return preference;
}

bool contains(const std::vector<ChapAlgorithm>& list, ChapAlgorithm a) {
  return std::find(list.begin(), list.end(), a) != list.end();
}

// CHAP_I: a numerical value 0..255 (RFC 7143 section 12.1.3; RFC 1994 section 4.1 makes the
// identifier one octet). Errors: negotiation_failed.
Result<std::uint8_t> parse_identifier(std::optional<std::string_view> v) {
  if (!v) return protocol_errc::negotiation_failed;
  auto n = parse_numeric(*v);
  if (!n || *n > 0xff) return protocol_errc::negotiation_failed;
  return static_cast<std::uint8_t>(*n);
}

// A peer's CHAP_C. Missing, not a binary value, or over kMaxChallengeLength: negotiation_failed.
// Shorter than kMinChallengeLength or all zero: authentication_failed (a weak challenge lets the
// peer replay or precompute responses).
Result<std::vector<std::byte>> parse_peer_challenge(std::optional<std::string_view> v) {
  if (!v) return protocol_errc::negotiation_failed;
  auto c = parse_binary(*v);
  if (!c || c->size() > kMaxChallengeLength) return protocol_errc::negotiation_failed;
  if (c->size() < kMinChallengeLength || all_zero(*c)) return errc::authentication_failed;
  return std::move(*c);
}

// A peer's CHAP_R: missing or not a binary value is negotiation_failed. The length is checked by
// the caller against the digest length (a wrong length is a wrong proof).
Result<std::vector<std::byte>> parse_peer_response(std::optional<std::string_view> v) {
  if (!v) return protocol_errc::negotiation_failed;
  auto r = parse_binary(*v);
  if (!r || r->size() > kMaxChallengeLength) return protocol_errc::negotiation_failed;
  return std::move(*r);
}

// CHAP_N: a non-empty text value.
Result<std::string_view> parse_name(std::optional<std::string_view> v) {
  if (!v || v->empty()) return protocol_errc::negotiation_failed;
  return *v;
}

std::uint8_t random_identifier(RandomSource& random) {
  std::byte b{};
  random.fill(std::span<std::byte>(&b, 1));
  return std::to_integer<std::uint8_t>(b);
}

std::vector<std::byte> random_challenge(RandomSource& random, std::size_t length) {
  std::vector<std::byte> c(length);
  random.fill(c);
  return c;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

}  // namespace

std::string_view chap_algorithm_name(ChapAlgorithm a) {
  switch (a) {
    case ChapAlgorithm::md5:
      return "MD5";
    case ChapAlgorithm::sha1:
      return "SHA-1";
    case ChapAlgorithm::sha256:
      return "SHA-256";
    case ChapAlgorithm::sha3_256:
      return "SHA3-256";
  }
  return "unknown";
}

std::size_t chap_digest_length(ChapAlgorithm a) {
  switch (a) {
    case ChapAlgorithm::md5:
      return 16;
    case ChapAlgorithm::sha1:
      return 20;
    case ChapAlgorithm::sha256:
    case ChapAlgorithm::sha3_256:
      return 32;
  }
  return 0;
}

std::optional<ChapAlgorithm> chap_algorithm_from_number(std::uint64_t n) {
  switch (n) {
    case 5:
      return ChapAlgorithm::md5;
    case 6:
      return ChapAlgorithm::sha1;
    case 7:
      return ChapAlgorithm::sha256;
    case 8:
      return ChapAlgorithm::sha3_256;
    default:
      return std::nullopt;
  }
}

std::vector<ChapAlgorithm> default_chap_preference() {
  return {ChapAlgorithm::sha3_256, ChapAlgorithm::sha256, ChapAlgorithm::sha1, ChapAlgorithm::md5};
}

void OpenSslRandom::fill(std::span<std::byte> out) {
  while (!out.empty()) {
    const std::size_t n = std::min<std::size_t>(out.size(), INT_MAX);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
      // No safe fallback exists: predictable challenges would defeat CHAP without any visible
      // error, so stop the process instead (documented in chap.hpp).
      std::abort();
    }
    out = out.subspan(n);
  }
}

std::vector<std::byte> chap_response(ChapAlgorithm a, std::uint8_t identifier, const Secret& secret,
                                     std::span<const std::byte> challenge) {
  // Incremental EVP hashing (rather than one EVP_Digest over a joined buffer) keeps the secret
  // out of any temporary buffer of ours; EVP_MD_CTX_free cleanses the digest state.
  const EVP_MD* md = evp_digest(a);
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (md == nullptr || !ctx) return {};
  const unsigned char id = identifier;
  const std::string_view s = secret.reveal();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int out_len = 0;
  if (EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 || EVP_DigestUpdate(ctx.get(), &id, 1) != 1 ||
      EVP_DigestUpdate(ctx.get(), s.data(), s.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), challenge.data(), challenge.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out, &out_len) != 1 || out_len != chap_digest_length(a))
    return {};
  const auto* first = reinterpret_cast<const std::byte*>(out);
  return {first, first + out_len};
}

// ---- initiator ----

ChapInitiator::ChapInitiator(ChapCredentials credentials, std::vector<ChapAlgorithm> preference,
                             RandomSource& random, std::size_t challenge_length)
    : credentials_(std::move(credentials)),
      preference_(or_default(std::move(preference))),
      random_(random),
      challenge_length_(clamp_challenge_length(challenge_length)) {}

KeyValueList ChapInitiator::start() {
  std::string list;
  for (ChapAlgorithm a : preference_) {
    if (!list.empty()) list += ',';
    list += algorithm_number(a);
  }
  // Only the first call arms on_challenge(): start() never revives a used or failed exchange.
  if (state_ == State::initial) state_ = State::offered;
  return {{"CHAP_A", std::move(list)}};
}

Result<KeyValueList> ChapInitiator::on_challenge(const KeyValueList& from_target) {
  if (state_ != State::offered) return errc::invalid_argument;
  auto r = answer_challenge(from_target);
  state_ = !r ? State::failed : credentials_.mutual ? State::answered : State::done;
  return r;
}

Result<KeyValueList> ChapInitiator::answer_challenge(const KeyValueList& from_target) {
  if (credentials_.username.empty() || credentials_.secret.empty()) return errc::invalid_argument;
  if (credentials_.mutual &&
      (credentials_.peer_username.empty() || credentials_.peer_secret.empty()))
    return errc::invalid_argument;

  // CHAP_A: exactly one of the values we offered (RFC 7143 section 12.1.3). "Reject" means the
  // target supports none of them.
  const auto a = find_value(from_target, "CHAP_A");
  if (!a) return protocol_errc::negotiation_failed;
  if (*a == "Reject") return errc::authentication_failed;
  const auto number = parse_numeric(*a);  // a list ("7,5") does not parse as one number
  if (!number) return protocol_errc::negotiation_failed;
  const auto algorithm = chap_algorithm_from_number(*number);
  if (!algorithm || !contains(preference_, *algorithm)) return protocol_errc::negotiation_failed;

  UISCSI_TRY(const std::uint8_t identifier, parse_identifier(find_value(from_target, "CHAP_I")));
  UISCSI_TRY(peer_challenge_, parse_peer_challenge(find_value(from_target, "CHAP_C")));
  algorithm_ = *algorithm;

  const auto response =
      chap_response(*algorithm_, identifier, credentials_.secret, peer_challenge_);
  if (response.empty()) return errc::unsupported;
  KeyValueList out = {{"CHAP_N", credentials_.username}, {"CHAP_R", format_hex(response)}};

  if (credentials_.mutual) {
    our_identifier_ = random_identifier(random_);
    our_challenge_ = random_challenge(random_, challenge_length_);
    // RFC 7143 section 12.1.3: the originator must not reuse the responder's challenge for the
    // other direction. A random source that reproduces it (or a target that predicted it) is not
    // safe to continue with.
    if (constant_time_equal(our_challenge_, peer_challenge_)) return errc::authentication_failed;
    out.push_back({"CHAP_I", std::to_string(our_identifier_)});
    out.push_back({"CHAP_C", format_hex(our_challenge_)});
  }
  return out;
}

Result<void> ChapInitiator::on_target_response(const KeyValueList& from_target) {
  if (state_ != State::answered) return errc::invalid_argument;
  auto r = check_target_response(from_target);
  state_ = r ? State::done : State::failed;
  return r;
}

Result<void> ChapInitiator::check_target_response(const KeyValueList& from_target) {
  UISCSI_TRY(const std::string_view name, parse_name(find_value(from_target, "CHAP_N")));
  UISCSI_TRY(const std::vector<std::byte> received,
             parse_peer_response(find_value(from_target, "CHAP_R")));

  // Compute both expectations before deciding, so the work done does not depend on the name.
  const auto expected =
      chap_response(*algorithm_, our_identifier_, credentials_.peer_secret, our_challenge_);
  const auto own = chap_response(*algorithm_, our_identifier_, credentials_.secret, our_challenge_);
  if (expected.empty() || own.empty()) return errc::unsupported;

  bool proven = name == credentials_.peer_username;
  proven &= constant_time_equal(received, expected);
  // RFC 7143 section 9.2.1: a response equal to the one we would compute with our own secret
  // means one secret serves both directions; refuse it.
  proven &= !constant_time_equal(received, own);
  if (!proven) return errc::authentication_failed;
  return ok();
}

// ---- target ----

ChapTarget::ChapTarget(ChapSecretLookup lookup, std::optional<ChapCredentials> mutual_credentials,
                       std::vector<ChapAlgorithm> preference, RandomSource& random,
                       std::size_t challenge_length)
    : lookup_(std::move(lookup)),
      mutual_(std::move(mutual_credentials)),
      preference_(or_default(std::move(preference))),
      random_(random),
      challenge_length_(clamp_challenge_length(challenge_length)) {}

Result<KeyValueList> ChapTarget::on_algorithms(const KeyValueList& from_initiator) {
  if (state_ != State::initial) return errc::invalid_argument;
  auto r = choose_algorithm(from_initiator);
  state_ = r ? State::challenged : State::failed;
  return r;
}

Result<KeyValueList> ChapTarget::choose_algorithm(const KeyValueList& from_initiator) {
  const auto a = find_value(from_initiator, "CHAP_A");
  if (!a || a->empty()) return protocol_errc::negotiation_failed;
  // RFC 7143 sections 6.2.1 and 12.1.3: the first value of the initiator's list that we accept.
  // Unknown algorithm numbers are skipped; items that are not numbers are malformed.
  std::optional<ChapAlgorithm> chosen;
  for (std::string_view item : split_list(*a)) {
    const auto number = parse_numeric(item);
    if (!number) return protocol_errc::negotiation_failed;
    const auto algorithm = chap_algorithm_from_number(*number);
    if (!chosen && algorithm && contains(preference_, *algorithm)) chosen = algorithm;
  }
  if (!chosen) return errc::authentication_failed;

  algorithm_ = chosen;
  identifier_ = random_identifier(random_);
  challenge_ = random_challenge(random_, challenge_length_);
  return KeyValueList{{"CHAP_A", algorithm_number(*algorithm_)},
                      {"CHAP_I", std::to_string(identifier_)},
                      {"CHAP_C", format_hex(challenge_)}};
}

Result<KeyValueList> ChapTarget::on_response(const KeyValueList& from_initiator) {
  if (state_ != State::challenged) return errc::invalid_argument;
  auto r = check_response(from_initiator);
  state_ = r ? State::done : State::failed;
  return r;
}

Result<KeyValueList> ChapTarget::check_response(const KeyValueList& from_initiator) {
  // Syntax first: every malformed or missing key is negotiation_failed.
  UISCSI_TRY(const std::string_view name, parse_name(find_value(from_initiator, "CHAP_N")));
  UISCSI_TRY(const std::vector<std::byte> received,
             parse_peer_response(find_value(from_initiator, "CHAP_R")));
  const auto peer_i = find_value(from_initiator, "CHAP_I");
  const auto peer_c = find_value(from_initiator, "CHAP_C");
  if (peer_i.has_value() != peer_c.has_value()) return protocol_errc::negotiation_failed;
  const bool mutual = peer_i.has_value();
  std::uint8_t peer_identifier = 0;
  std::vector<std::byte> peer_challenge;
  if (mutual) {
    UISCSI_TRY(peer_identifier, parse_identifier(peer_i));
    UISCSI_TRY(peer_challenge, parse_peer_challenge(peer_c));
    // RFC 7143 section 12.1.3: the responder must refuse its own challenge reflected back.
    if (constant_time_equal(peer_challenge, challenge_)) return errc::authentication_failed;
    if (!mutual_ || mutual_->username.empty() || mutual_->secret.empty())
      return errc::authentication_failed;
  }

  // The initiator's proof.
  std::optional<Secret> secret = lookup_ ? lookup_(name) : std::nullopt;
  if (!secret || secret->empty()) return errc::authentication_failed;
  const auto expected = chap_response(*algorithm_, identifier_, *secret, challenge_);
  if (expected.empty()) return errc::unsupported;
  bool proven = constant_time_equal(received, expected);
  // RFC 7143 section 9.2.1: a response we would have produced with our own (target) secret means
  // the same secret is configured for both directions; refuse it.
  if (mutual_ && !mutual_->secret.empty()) {
    const auto own = chap_response(*algorithm_, identifier_, mutual_->secret, challenge_);
    proven &= !constant_time_equal(received, own);
  }
  if (!proven) return errc::authentication_failed;

  KeyValueList out;
  if (mutual) {
    const auto response =
        chap_response(*algorithm_, peer_identifier, mutual_->secret, peer_challenge);
    if (response.empty()) return errc::unsupported;
    out = {{"CHAP_N", mutual_->username}, {"CHAP_R", format_hex(response)}};
  }
  user_ = std::string(name);
  return out;
}

}  // namespace uiscsi::core
