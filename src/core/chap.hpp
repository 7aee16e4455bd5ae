// CHAP authentication for iSCSI login (RFC 7143 section 12.1.3 and RFC 1994), both roles, with
// CHAP_A 5 (MD5), 6 (SHA-1), 7 (SHA-256) and 8 (SHA3-256) from OpenSSL.
//
// The exchange (security negotiation stage; each step is one login round trip):
//   I -> T  AuthMethod=CHAP,None ...        (the login state machine handles AuthMethod)
//   I -> T  CHAP_A=<our preference list>
//   T -> I  CHAP_A=<chosen> CHAP_I=<id> CHAP_C=<challenge>
//   I -> T  CHAP_N=<user> CHAP_R=<H(id|secret|challenge)>  [+ CHAP_I, CHAP_C when mutual]
//   T -> I  [CHAP_N=<target user> CHAP_R=<response>]       (mutual only)
//
// Algorithm choice: the initiator lists CHAP_A "in order of preference" (RFC 7143 section
// 12.1.3) and, as in every list negotiation (section 6.2.1), the target answers with the first
// value of the initiator's list that it supports. So the initiator's order wins; the target's
// preference list only says which algorithms it accepts.
//
// Security rules we enforce:
//   - challenges we issue are random (RandomSource), at least 16 bytes (kMinChallengeLength);
//   - a peer challenge shorter than 16 bytes or all zero bytes is refused (authentication_failed);
//     one longer than 1024 bytes (kMaxChallengeLength, RFC 7143 section 12.1.3) is malformed;
//   - reflection (RFC 7143 section 12.1.3: the originator must not reuse the responder's
//     challenge for the other direction, and the responder must check): the target refuses an
//     initiator CHAP_C equal to its own; the initiator never sends a CHAP_C equal to the
//     target's (it fails rather than send one, e.g. when the RandomSource repeats itself);
//   - one secret for both directions (RFC 7143 section 9.2.1): a received CHAP_R equal to the
//     response the receiver would compute with its own secret for the same challenge is refused,
//     on both sides;
//   - responses are compared in constant time (CRYPTO_memcmp) after a length check against the
//     digest length of the chosen algorithm (a CHAP_R of another length is a wrong proof);
//   - in mutual mode the target's CHAP_N must equal the configured target user name;
//   - the CHAP_A the peer chose must be a single value and one we offered;
//   - CHAP_I is a number 0..255; CHAP_C and CHAP_R are binary values (0x hex or 0b base64);
//   - every step runs once per object (a new login needs new objects, so a new challenge), and a
//     failed step leaves the object failed.
// Pure code apart from OpenSSL's hash functions; randomness is injected.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/text.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/secret.hpp"

namespace uiscsi::core {

enum class ChapAlgorithm : std::uint8_t { md5 = 5, sha1 = 6, sha256 = 7, sha3_256 = 8 };

std::string_view chap_algorithm_name(ChapAlgorithm a);  // "MD5", "SHA-1", ...
std::size_t chap_digest_length(ChapAlgorithm a);        // 16, 20, 32, 32
std::optional<ChapAlgorithm> chap_algorithm_from_number(std::uint64_t n);
// Our default order of preference: strongest first.
std::vector<ChapAlgorithm> default_chap_preference();

inline constexpr std::size_t kMinChallengeLength = 16;
// RFC 7143 section 12.1.3: the binary length of CHAP_C and CHAP_R must not exceed 1024 bytes.
inline constexpr std::size_t kMaxChallengeLength = 1024;

// Source of random bytes; injected so the core stays deterministic under test.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void fill(std::span<std::byte> out) = 0;
};
// OpenSSL's RAND_bytes. If RAND_bytes fails (no entropy), fill() calls std::abort(): handing
// back predictable bytes would silently break authentication.
class OpenSslRandom final : public RandomSource {
 public:
  void fill(std::span<std::byte> out) override;
};

// RFC 1994 section 4.1: H(identifier || secret || challenge) with the CHAP_A hash, computed
// with OpenSSL's EVP digests. Empty when OpenSSL fails (e.g. the algorithm is not available).
std::vector<std::byte> chap_response(ChapAlgorithm a, std::uint8_t identifier, const Secret& secret,
                                     std::span<const std::byte> challenge);

struct ChapCredentials {
  std::string username;  // CHAP_N we send
  Secret secret;         // proves us to the peer
  // Mutual CHAP: the peer must prove itself with this name and secret.
  bool mutual = false;
  std::string peer_username;
  Secret peer_secret;
};

// `preference`: the algorithms we offer, best first (empty means default_chap_preference()).
// `challenge_length`: bytes of our mutual challenge, clamped to
// [kMinChallengeLength, kMaxChallengeLength].
class ChapInitiator {
 public:
  ChapInitiator(ChapCredentials credentials, std::vector<ChapAlgorithm> preference,
                RandomSource& random, std::size_t challenge_length = 32);

  // "CHAP_A=8,7,6,5" (our preference). Call first.
  KeyValueList start();
  // Reads CHAP_A, CHAP_I, CHAP_C from the target; returns CHAP_N, CHAP_R and, when mutual,
  // our CHAP_I and CHAP_C. CHAP_A=Reject (no common algorithm) is authentication_failed.
  Result<KeyValueList> on_challenge(const KeyValueList& from_target);
  // Mutual only: checks the target's CHAP_N and CHAP_R. Success means the target is proven.
  Result<void> on_target_response(const KeyValueList& from_target);

  [[nodiscard]] bool mutual() const { return credentials_.mutual; }
  [[nodiscard]] std::optional<ChapAlgorithm> algorithm() const { return algorithm_; }

 private:
  enum class State : std::uint8_t { initial, offered, answered, done, failed };
  Result<KeyValueList> answer_challenge(const KeyValueList& from_target);
  Result<void> check_target_response(const KeyValueList& from_target);

  State state_ = State::initial;
  ChapCredentials credentials_;
  std::vector<ChapAlgorithm> preference_;
  RandomSource& random_;
  std::size_t challenge_length_;
  std::optional<ChapAlgorithm> algorithm_;
  std::vector<std::byte> peer_challenge_;
  std::uint8_t our_identifier_ = 0;
  std::vector<std::byte> our_challenge_;
};

// Looks up the secret for an initiator's CHAP_N; nullopt when the user is unknown.
using ChapSecretLookup = std::function<std::optional<Secret>(std::string_view username)>;

class ChapTarget {
 public:
  // `mutual_credentials`: our (the target's) name and secret (its username and secret fields),
  // used when the initiator asks for mutual authentication; when absent, a mutual request fails
  // authentication. `preference`: the algorithms we accept (empty means
  // default_chap_preference()); the initiator's order decides among them (see above).
  // `challenge_length` is clamped to [kMinChallengeLength, kMaxChallengeLength].
  ChapTarget(ChapSecretLookup lookup, std::optional<ChapCredentials> mutual_credentials,
             std::vector<ChapAlgorithm> preference, RandomSource& random,
             std::size_t challenge_length = 32);

  // Reads the initiator's CHAP_A list; returns CHAP_A (the first of the initiator's list that we
  // accept), CHAP_I, CHAP_C. No common algorithm: errc::authentication_failed.
  Result<KeyValueList> on_algorithms(const KeyValueList& from_initiator);
  // Checks CHAP_N/CHAP_R; when the initiator also sent CHAP_I/CHAP_C, returns our CHAP_N and
  // CHAP_R for mutual authentication (else an empty list). CHAP_I without CHAP_C, or the
  // reverse, is malformed.
  Result<KeyValueList> on_response(const KeyValueList& from_initiator);

  // The initiator's CHAP_N once on_response() succeeded; empty before.
  [[nodiscard]] const std::string& authenticated_user() const { return user_; }
  [[nodiscard]] std::optional<ChapAlgorithm> algorithm() const { return algorithm_; }

 private:
  enum class State : std::uint8_t { initial, challenged, done, failed };
  Result<KeyValueList> choose_algorithm(const KeyValueList& from_initiator);
  Result<KeyValueList> check_response(const KeyValueList& from_initiator);

  State state_ = State::initial;
  ChapSecretLookup lookup_;
  std::optional<ChapCredentials> mutual_;
  std::vector<ChapAlgorithm> preference_;
  RandomSource& random_;
  std::size_t challenge_length_;
  std::optional<ChapAlgorithm> algorithm_;
  std::uint8_t identifier_ = 0;
  std::vector<std::byte> challenge_;
  std::string user_;
};

}  // namespace uiscsi::core
