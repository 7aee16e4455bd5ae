// Initiator login state machine for one connection (RFC 7143 sections 6.3 and 11.12/11.13).
//
// Stages: security negotiation (AuthMethod, CHAP in separate round trips, because LIO refuses
// AuthMethod and CHAP_A in one PDU), operational negotiation (every section 13 key through a
// Negotiator, over as many rounds as the target asks for), then full feature phase.
// Handles the C bit both ways: a request longer than 8192 bytes goes out in parts, and a
// continued response is collected by sending empty requests.
//
// Outcomes: succeeded (outcome() has TSIH, parameters and the sequence numbers), redirected
// (status class 1: redirect_address() holds the TargetAddress value), or failed (error():
// login_category() codes for status classes 2 and 3, errc::authentication_failed when the
// target's mutual CHAP proof is wrong, protocol_errc for malformed answers).
//
// Pure code: bytes in, bytes out. Login PDUs never carry digests.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "core/chap.hpp"
#include "core/framer.hpp"
#include "core/negotiation.hpp"
#include "core/pdu.hpp"

namespace uiscsi::core {

struct LoginConfig {
  std::string initiator_name;
  std::string initiator_alias;  // sent when not empty
  std::string target_name;      // required for SessionType=Normal
  SessionType session_type = SessionType::normal;
  std::optional<ChapCredentials> chap;  // AuthMethod=CHAP when set, else AuthMethod=None
  std::vector<ChapAlgorithm> chap_preference = default_chap_preference();
  NegotiationSettings negotiation;
  std::uint64_t isid = 0;
  std::uint16_t tsih = 0;  // 0: new session (or reinstatement of `isid`)
  std::uint16_t cid = 0;
  Itt itt{0};
  SerialNumber cmd_sn{1};       // carried by every login request
  SerialNumber exp_stat_sn{0};  // for the first request
  bool leading = true;
  NegotiatedParams start;  // parameters already in force (non-leading connection)
};

struct LoginOutcome {
  std::uint16_t tsih = 0;
  NegotiatedParams params;
  SerialNumber stat_sn;  // StatSN of the final Login Response
  SerialNumber exp_cmd_sn;
  SerialNumber max_cmd_sn;
  std::uint8_t version_active = 0;
  std::string target_alias;
  std::optional<std::uint16_t> target_portal_group_tag;
  bool authenticated = false;  // CHAP completed
};

class InitiatorLogin {
 public:
  enum class State { in_progress, succeeded, redirected, failed };

  InitiatorLogin(LoginConfig config, RandomSource& random);

  // The next request to send (a whole serialised PDU), if any.
  std::optional<std::vector<std::byte>> poll_transmit();
  // Feeds one received PDU. Anything but a Login Response fails the login.
  void receive(const InboundPdu& pdu);

  [[nodiscard]] State state() const { return state_; }
  [[nodiscard]] bool done() const { return state_ != State::in_progress; }
  [[nodiscard]] std::error_code error() const { return error_; }
  [[nodiscard]] const LoginOutcome& outcome() const { return outcome_; }
  [[nodiscard]] const std::string& redirect_address() const { return redirect_address_; }
  [[nodiscard]] bool redirect_permanent() const { return redirect_permanent_; }
  // Human-readable detail of a failure (never contains secrets).
  [[nodiscard]] const std::string& failure_detail() const { return failure_detail_; }
  [[nodiscard]] LoginStage current_stage() const { return csg_; }
  // The CHAP algorithm the target picked, once it has.
  [[nodiscard]] std::optional<ChapAlgorithm> chap_algorithm() const {
    return chap_ ? chap_->algorithm() : std::nullopt;
  }

 private:
  enum class SecurityStep { offer_auth_method, offer_chap_algorithms, await_mutual_proof, done };

  void queue_request(const KeyValueList& keys, bool transit, LoginStage nsg);
  void queue_raw(std::span<const std::byte> text, bool transit, bool cont, LoginStage nsg);
  void handle_response(const LoginResponse& rsp, const KeyValueList& keys);
  void security_step(const LoginResponse& rsp, const KeyValueList& keys);
  void operational_step(const LoginResponse& rsp, const KeyValueList& keys);
  void finish(const LoginResponse& rsp);
  void fail(std::error_code ec, std::string detail);
  [[nodiscard]] KeyValueList leading_keys() const;

  LoginConfig config_;
  std::optional<ChapInitiator> chap_;
  Negotiator negotiator_;
  State state_ = State::in_progress;
  LoginStage csg_ = LoginStage::security_negotiation;
  SecurityStep security_step_ = SecurityStep::offer_auth_method;
  bool operational_offered_ = false;
  KeyValueList pending_replies_;  // answers to the target's own offers, sent with the next request
  bool requested_transit_ = false;
  LoginStage requested_nsg_ = LoginStage::security_negotiation;
  SerialNumber exp_stat_sn_;

  // Outgoing text split across PDUs: parts still to send (each waits for an empty response).
  std::deque<std::vector<std::byte>> pending_parts_;
  bool last_part_transit_ = false;
  LoginStage last_part_nsg_ = LoginStage::security_negotiation;
  bool awaiting_response_ = false;
  std::deque<std::vector<std::byte>> tx_;
  TextAccumulator rx_text_{64 * 1024};

  LoginOutcome outcome_;
  std::string redirect_address_;
  bool redirect_permanent_ = false;
  std::error_code error_;
  std::string failure_detail_;
};

}  // namespace uiscsi::core
