// Target side of login for one connection (RFC 7143 sections 6.3, 11.12, 11.13, 12.1).
//
// Checks the first request (version, InitiatorName, SessionType, TargetName, ACL, redirect),
// runs the security stage (AuthMethod, then CHAP through ChapTarget when configured) and the
// operational stage through a target-role Negotiator, collects C-bit continued requests, and
// answers each request with one Login Response. A refusal is a Login Response with the RFC's
// status class and detail, after which the connection closes.
//
// Pure code: PDUs in, PDUs out; the TargetDirectory answers lookups.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/framer.hpp"
#include "core/target_types.hpp"

namespace uiscsi::core {

struct TargetLoginOutcome {
  std::string initiator_name;
  std::string initiator_alias;
  std::string target_name;
  bool discovery = false;
  std::uint64_t isid = 0;
  std::uint16_t tsih = 0;
  std::uint16_t cid = 0;
  NegotiatedParams params;
  SerialNumber exp_cmd_sn;    // the CmdSN of the login requests: the next command's
  SerialNumber next_stat_sn;  // StatSN for our first full-feature response
  std::string chap_user;      // authenticated CHAP user, if any
};

class TargetLogin {
 public:
  enum class State { in_progress, succeeded, failed };

  TargetLogin(const TargetConfig& config, TargetDirectory& directory, RandomSource& random,
              SerialNumber first_stat_sn);

  // One Login Request; the answer comes from poll_transmit().
  void receive(const InboundPdu& pdu);
  std::optional<std::vector<std::byte>> poll_transmit();
  // A PDU that is not a Login Request (or could not be decoded) arrived: the login fails, with
  // a Login reject when the Login Phase has started.
  void not_a_login_request(std::string detail);

  [[nodiscard]] State state() const { return state_; }
  [[nodiscard]] const TargetLoginOutcome& outcome() const { return outcome_; }
  // Why the login failed, for the log (never a secret).
  [[nodiscard]] const std::string& failure_detail() const { return failure_detail_; }

 private:
  void respond(const LoginRequest& req, const KeyValueList& keys, bool transit, LoginStage nsg,
               std::uint16_t tsih = 0);
  void refuse(const LoginRequest& req, std::uint8_t status_class, std::uint8_t status_detail,
              std::string detail, const KeyValueList& keys = {});
  bool first_request(const LoginRequest& req, const KeyValueList& keys);
  bool drop_repeated_names(const LoginRequest& req, KeyValueList& keys);
  void security(const LoginRequest& req, const KeyValueList& keys);
  void operational(const LoginRequest& req, const KeyValueList& keys);
  void finish(const LoginRequest& req, KeyValueList keys);
  void set_window(LoginResponse& r, SerialNumber cmd_sn) const;

  const TargetConfig& config_;
  TargetDirectory& directory_;
  RandomSource& random_;
  State state_ = State::in_progress;
  std::optional<Negotiator> negotiator_;
  std::optional<ChapTarget> chap_;
  enum class Auth { undecided, none, chap_offered, chap_challenged, done } auth_ = Auth::undecided;
  bool first_ = true;
  LoginStage stage_ = LoginStage::security_negotiation;
  SerialNumber stat_sn_;
  TextAccumulator rx_text_{64 * 1024};
  std::deque<std::vector<std::byte>> pending_parts_;  // our long answer, sent in C=1 parts
  bool pending_transit_ = false;
  LoginStage pending_nsg_ = LoginStage::security_negotiation;
  std::uint16_t pending_tsih_ = 0;
  std::deque<std::vector<std::byte>> tx_;
  TargetLoginOutcome outcome_;
  std::string failure_detail_;
  bool tpgt_sent_ = false;
  std::size_t keys_seen_ = 0;
  std::optional<LoginRequest> last_request_;  // the Login Phase has started
  std::shared_ptr<TargetSession> joining_;    // a further connection's session (non-zero TSIH)
};

// The most keys one login may carry, over all its requests (see TargetLogin::receive).
inline constexpr std::size_t kMaxLoginKeys = 1024;

}  // namespace uiscsi::core
