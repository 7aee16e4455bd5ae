#include "core/initiator_login.hpp"

#include "uiscsi/errors.hpp"

namespace uiscsi::core {

InitiatorLogin::InitiatorLogin(LoginConfig config, RandomSource& random)
    : config_(std::move(config)),
      negotiator_(Role::initiator, config_.session_type, config_.negotiation, config_.leading,
                  config_.start),
      exp_stat_sn_(config_.exp_stat_sn) {
  if (config_.chap) chap_.emplace(*config_.chap, config_.chap_preference, random);
  if (config_.session_type == SessionType::normal && config_.target_name.empty()) {
    fail(errc::invalid_argument, "a normal session needs a target name");
    return;
  }
  // First request: who we are, what we want, how we authenticate (RFC 7143 section 6.3.1).
  // Without CHAP we ask to move on to operational negotiation at once.
  queue_request(leading_keys(), !chap_, LoginStage::operational_negotiation);
}

KeyValueList InitiatorLogin::leading_keys() const {
  KeyValueList keys;
  keys.push_back({"InitiatorName", config_.initiator_name});
  if (!config_.initiator_alias.empty()) keys.push_back({"InitiatorAlias", config_.initiator_alias});
  if (config_.leading)
    keys.push_back(
        {"SessionType", config_.session_type == SessionType::discovery ? "Discovery" : "Normal"});
  if (config_.session_type == SessionType::normal)
    keys.push_back({"TargetName", config_.target_name});
  // Offer only what we are configured for: with credentials, CHAP alone, so a target cannot
  // talk us down to no authentication.
  keys.push_back({"AuthMethod", chap_ ? "CHAP" : "None"});
  return keys;
}

void InitiatorLogin::queue_raw(std::span<const std::byte> text, bool transit, bool cont,
                               LoginStage nsg) {
  LoginRequest req;
  req.transit = transit;
  req.cont = cont;
  req.csg = csg_;
  req.nsg = transit ? nsg : LoginStage::security_negotiation;
  req.isid = config_.isid;
  req.tsih = config_.tsih;
  req.itt = config_.itt;
  req.cid = config_.cid;
  req.cmd_sn = config_.cmd_sn;
  req.exp_stat_sn = exp_stat_sn_;
  tx_.push_back(serialize_pdu(Header{req}, text, {}));
  requested_transit_ = transit;
  requested_nsg_ = req.nsg;
}

void InitiatorLogin::queue_request(const KeyValueList& keys, bool transit, LoginStage nsg) {
  const std::vector<std::byte> text = serialize_text(keys);
  auto parts = split_text(text, kLoginMaxDataSegmentLength);
  if (parts.size() == 1) {
    queue_raw(parts[0], transit, false, nsg);
    return;
  }
  // C=1 parts carry T=0; the target answers each with an empty response (section 11.12.2).
  for (std::size_t i = 1; i < parts.size(); ++i)
    pending_parts_.emplace_back(parts[i].begin(), parts[i].end());
  last_part_transit_ = transit;
  last_part_nsg_ = nsg;
  queue_raw(parts[0], false, true, nsg);
}

std::optional<std::vector<std::byte>> InitiatorLogin::poll_transmit() {
  if (tx_.empty()) return std::nullopt;
  auto pdu = std::move(tx_.front());
  tx_.pop_front();
  awaiting_response_ = true;
  return pdu;
}

void InitiatorLogin::fail(std::error_code ec, std::string detail) {
  if (state_ != State::in_progress) return;
  state_ = State::failed;
  error_ = ec;
  failure_detail_ = std::move(detail);
  tx_.clear();
  pending_parts_.clear();
}

void InitiatorLogin::receive(const InboundPdu& pdu) {
  if (done()) return;
  const auto* rsp = std::get_if<LoginResponse>(&pdu.header);
  if (rsp == nullptr) {
    fail(protocol_errc::unexpected_opcode,
         std::string("expected a Login Response, got ") + opcode_name(pdu.bhs.opcode()));
    return;
  }
  if (!awaiting_response_) {
    fail(protocol_errc::unexpected_response, "Login Response without a request");
    return;
  }
  awaiting_response_ = false;

  // Status first: a rejected login may not echo the rest faithfully.
  if (rsp->status_class != 0) {
    if (rsp->status_class == 1) {
      auto keys = parse_text(pdu.data);
      auto addr = keys ? find_value(*keys, "TargetAddress") : std::nullopt;
      if (!addr) {
        fail(protocol_errc::negotiation_failed, "redirect without a TargetAddress");
        return;
      }
      redirect_address_ = std::string(*addr);
      redirect_permanent_ = rsp->status_detail == 0x02;
      state_ = State::redirected;
      return;
    }
    fail(make_login_error(rsp->status_class, rsp->status_detail), "target refused the login");
    return;
  }
  if (rsp->isid != config_.isid || rsp->itt != config_.itt) {
    fail(protocol_errc::invalid_field, "Login Response with a different ISID or ITT");
    return;
  }
  if (rsp->version_active != 0) {
    fail(protocol_errc::negotiation_failed, "unsupported iSCSI version");
    return;
  }
  if (rsp->csg != csg_) {
    fail(protocol_errc::invalid_field, "Login Response for a different stage");
    return;
  }
  if (rsp->transit && (!requested_transit_ || rsp->nsg != requested_nsg_)) {
    fail(protocol_errc::invalid_field, "target changed stage without being asked");
    return;
  }
  if (rsp->transit && rsp->cont) {
    fail(protocol_errc::invalid_field, "Login Response with both T and C set");
    return;
  }
  exp_stat_sn_ = rsp->stat_sn + 1;
  if (config_.tsih != 0 && rsp->tsih != config_.tsih && rsp->tsih != 0) {
    fail(protocol_errc::invalid_field, "target answered with another session's TSIH");
    return;
  }

  // Our own request still has parts to go: the target's answer to a C=1 part is empty.
  if (!pending_parts_.empty()) {
    auto part = std::move(pending_parts_.front());
    pending_parts_.pop_front();
    const bool last = pending_parts_.empty();
    queue_raw(part, last && last_part_transit_, !last, last_part_nsg_);
    return;
  }

  if (auto r = rx_text_.append(pdu.data, rsp->cont); !r) {
    fail(r.error(), "login text too long");
    return;
  }
  if (rsp->cont) {
    // More text to come: ask for it with an empty request that keeps our T bit and NSG, so
    // the target may still transit with the last part.
    queue_raw({}, requested_transit_, false, requested_nsg_);
    return;
  }
  auto keys = parse_text(rx_text_.take());
  if (!keys) {
    fail(keys.error(), "malformed login text from the target");
    return;
  }
  handle_response(*rsp, *keys);
}

void InitiatorLogin::handle_response(const LoginResponse& rsp, const KeyValueList& keys) {
  if (csg_ == LoginStage::security_negotiation) {
    security_step(rsp, keys);
  } else {
    operational_step(rsp, keys);
  }
  if (done()) return;
  if (rsp.transit) {
    csg_ = rsp.nsg;
    if (csg_ == LoginStage::full_feature_phase) {
      finish(rsp);
      return;
    }
  }
  if (!tx_.empty()) return;

  if (csg_ == LoginStage::security_negotiation) {
    // Authentication is complete but the target has not moved on yet: ask again.
    queue_request({}, true, LoginStage::operational_negotiation);
    return;
  }
  // Operational stage: our offers (first time), then answers to the target's own keys.
  KeyValueList out;
  if (!operational_offered_) {
    out = negotiator_.make_offers();
    operational_offered_ = true;
  }
  auto pending = std::move(pending_replies_);
  pending_replies_.clear();
  out.insert(out.end(), pending.begin(), pending.end());
  queue_request(out, true, LoginStage::full_feature_phase);
}

void InitiatorLogin::security_step(const LoginResponse& rsp, const KeyValueList& keys) {
  // Operational keys may already arrive here (TargetPortalGroupTag in the first response).
  auto replies = negotiator_.process(keys);
  if (!replies) {
    fail(replies.error(), negotiator_.failure_detail());
    return;
  }
  pending_replies_.insert(pending_replies_.end(), replies->begin(), replies->end());

  switch (security_step_) {
    case SecurityStep::offer_auth_method: {
      const auto method = find_value(keys, "AuthMethod");
      if (!method) {
        // A target may leave AuthMethod unanswered only when it accepts our None and moves on.
        if (!chap_ && rsp.transit) {
          security_step_ = SecurityStep::done;
          return;
        }
        fail(protocol_errc::negotiation_failed, "target did not answer AuthMethod");
        return;
      }
      if (*method == "CHAP" && chap_) {
        security_step_ = SecurityStep::offer_chap_algorithms;
        queue_request(chap_->start(), false, LoginStage::security_negotiation);
        return;
      }
      if (*method == "None" && !chap_) {
        security_step_ = SecurityStep::done;
        return;
      }
      if (*method == "Reject" || *method == "None" || *method == "CHAP") {
        fail(errc::authentication_failed,
             chap_ ? "target does not accept CHAP authentication"
                   : "target requires authentication (give CHAP credentials)");
        return;
      }
      fail(protocol_errc::negotiation_failed,
           "target chose an authentication method we did not offer");
      return;
    }
    case SecurityStep::offer_chap_algorithms: {
      auto answer = chap_->on_challenge(keys);
      if (!answer) {
        fail(answer.error(), "CHAP challenge from the target refused");
        return;
      }
      security_step_ = chap_->mutual() ? SecurityStep::await_mutual_proof : SecurityStep::done;
      queue_request(*answer, true, LoginStage::operational_negotiation);
      return;
    }
    case SecurityStep::await_mutual_proof: {
      if (auto r = chap_->on_target_response(keys); !r) {
        fail(r.error(), "target failed mutual CHAP authentication");
        return;
      }
      security_step_ = SecurityStep::done;
      outcome_.authenticated = true;
      return;
    }
    case SecurityStep::done:
      if (chap_) outcome_.authenticated = true;
      return;
  }
}

void InitiatorLogin::operational_step(const LoginResponse& rsp, const KeyValueList& keys) {
  (void)rsp;
  for (const auto& kv : keys) {
    if (is_security_key(kv.key)) {
      fail(protocol_errc::negotiation_failed, "security key " + kv.key + " in operational stage");
      return;
    }
  }
  auto replies = negotiator_.process(keys);
  if (!replies) {
    fail(replies.error(), negotiator_.failure_detail());
    return;
  }
  pending_replies_.insert(pending_replies_.end(), replies->begin(), replies->end());
}

void InitiatorLogin::finish(const LoginResponse& rsp) {
  if (chap_ && security_step_ != SecurityStep::done) {
    fail(errc::authentication_failed, "target ended login before CHAP completed");
    return;
  }
  if (rsp.tsih == 0) {
    fail(protocol_errc::invalid_field, "final Login Response without a TSIH");
    return;
  }
  state_ = State::succeeded;
  outcome_.tsih = rsp.tsih;
  outcome_.params = negotiator_.params();
  outcome_.stat_sn = rsp.stat_sn;
  outcome_.exp_cmd_sn = rsp.exp_cmd_sn;
  outcome_.max_cmd_sn = rsp.max_cmd_sn;
  outcome_.version_active = rsp.version_active;
  outcome_.target_alias = outcome_.params.target_alias;
  outcome_.target_portal_group_tag = outcome_.params.target_portal_group_tag;
}

}  // namespace uiscsi::core
