#include "core/target_login.hpp"

#include "core/target_session.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::core {

namespace {
// Status-Detail values of RFC 7143 section 11.13.5.
constexpr std::uint8_t kInitiatorError = 0x00, kAuthenticationFailure = 0x01,
                       kAuthorizationFailure = 0x02, kNotFound = 0x03, kUnsupportedVersion = 0x05,
                       kMissingParameter = 0x07, kTooManyConnections = 0x06,
                       kSessionTypeNotSupported = 0x09, kSessionDoesNotExist = 0x0a,
                       kInvalidDuringLogin = 0x0b;
}  // namespace

TargetLogin::TargetLogin(const TargetConfig& config, TargetDirectory& directory,
                         RandomSource& random, SerialNumber first_stat_sn)
    : config_(config), directory_(directory), random_(random), stat_sn_(first_stat_sn) {}

std::optional<std::vector<std::byte>> TargetLogin::poll_transmit() {
  if (tx_.empty()) return std::nullopt;
  auto p = std::move(tx_.front());
  tx_.pop_front();
  return p;
}

// A new session's window starts at the login's CmdSN; a further connection of a session reports
// the session's window (section 4.2.2.1: ExpCmdSN and MaxCmdSN are session-wide).
void TargetLogin::set_window(LoginResponse& r, SerialNumber cmd_sn) const {
  const std::uint32_t window = config_.cmd_window ? config_.cmd_window - 1 : 0;
  if (joining_ && joining_->started()) {
    r.exp_cmd_sn = joining_->exp_cmd_sn();
    r.max_cmd_sn = joining_->exp_cmd_sn() + window;
    return;
  }
  r.exp_cmd_sn = cmd_sn;
  r.max_cmd_sn = cmd_sn + window;
}

void TargetLogin::respond(const LoginRequest& req, const KeyValueList& keys, bool transit,
                          LoginStage nsg, std::uint16_t tsih) {
  KeyValueList out = keys;
  // The first response of a normal session names the portal group (section 13.9).
  if (!tpgt_sent_ && !outcome_.discovery && !outcome_.target_name.empty()) {
    if (auto t = directory_.find_target(outcome_.target_name)) {
      out.push_back({"TargetPortalGroupTag", std::to_string(t->portal_group_tag)});
      if (!t->alias.empty()) out.push_back({"TargetAlias", t->alias});
    }
    tpgt_sent_ = true;
  }
  const std::vector<std::byte> text = serialize_text(out);
  auto parts = split_text(text, kLoginMaxDataSegmentLength);
  auto send = [&](std::span<const std::byte> data, bool t, bool cont, LoginStage next,
                  std::uint16_t session) {
    LoginResponse r;
    r.transit = t;
    r.cont = cont;
    r.csg = req.csg;
    r.nsg = t ? next : LoginStage::security_negotiation;
    r.isid = req.isid;
    r.tsih = session;
    r.itt = req.itt;
    r.stat_sn = stat_sn_;
    ++stat_sn_;
    set_window(r, req.cmd_sn);
    tx_.push_back(serialize_pdu(Header{r}, data, {}));
  };
  if (parts.size() == 1) {
    send(parts[0], transit, false, nsg, tsih);
    return;
  }
  for (std::size_t i = 1; i < parts.size(); ++i)
    pending_parts_.emplace_back(parts[i].begin(), parts[i].end());
  pending_transit_ = transit;
  pending_nsg_ = nsg;
  pending_tsih_ = tsih;
  send(parts[0], false, true, nsg, 0);
}

void TargetLogin::refuse(const LoginRequest& req, std::uint8_t status_class,
                         std::uint8_t status_detail, std::string detail, const KeyValueList& keys) {
  LoginResponse r;
  r.csg = req.csg;
  r.isid = req.isid;
  r.itt = req.itt;
  r.stat_sn = stat_sn_;
  ++stat_sn_;
  r.exp_cmd_sn = req.cmd_sn;
  r.max_cmd_sn = req.cmd_sn;
  r.status_class = status_class;
  r.status_detail = status_detail;
  tx_.push_back(serialize_pdu(Header{r}, serialize_text(keys), {}));
  state_ = State::failed;
  failure_detail_ = std::move(detail);
}

// RFC 7143 section 6.3: once the Login Phase has started, any PDU but a Login Request gets a
// Login reject with "invalid during login" and the connection closes; before it started, the
// connection just closes.
void TargetLogin::not_a_login_request(std::string detail) {
  if (state_ != State::in_progress) return;
  if (last_request_) {
    refuse(*last_request_, 2, kInvalidDuringLogin, std::move(detail));
  } else {
    state_ = State::failed;
    failure_detail_ = std::move(detail);
  }
}

void TargetLogin::receive(const InboundPdu& pdu) {
  if (state_ != State::in_progress) return;
  const auto* req = std::get_if<LoginRequest>(&pdu.header);
  if (req == nullptr) {
    not_a_login_request(std::string(opcode_name(pdu.bhs.opcode())) + " during login");
    return;
  }
  last_request_ = *req;
  if (req->version_min > 0) {
    refuse(*req, 2, kUnsupportedVersion,
           "initiator needs iSCSI version " + std::to_string(req->version_min));
    return;
  }
  if (req->transit && req->cont) {
    refuse(*req, 2, kInitiatorError, "login request with both T and C set");
    return;
  }
  if (req->csg == LoginStage::full_feature_phase ||
      (req->transit && static_cast<int>(req->nsg) <= static_cast<int>(req->csg))) {
    refuse(*req, 2, kInitiatorError, "invalid login stage transition");
    return;
  }
  // Our long answer is going out in parts: each empty request gets the next one.
  if (!pending_parts_.empty()) {
    auto part = std::move(pending_parts_.front());
    pending_parts_.pop_front();
    const bool last = pending_parts_.empty();
    LoginResponse r;
    r.transit = last && pending_transit_;
    r.cont = !last;
    r.csg = req->csg;
    r.nsg = r.transit ? pending_nsg_ : LoginStage::security_negotiation;
    r.isid = req->isid;
    r.tsih = last ? pending_tsih_ : 0;
    r.itt = req->itt;
    r.stat_sn = stat_sn_;
    ++stat_sn_;
    set_window(r, req->cmd_sn);
    tx_.push_back(serialize_pdu(Header{r}, part, {}));
    if (last && r.transit && pending_nsg_ == LoginStage::full_feature_phase) {
      outcome_.next_stat_sn = stat_sn_;
      state_ = State::succeeded;
    } else if (last && r.transit) {
      stage_ = pending_nsg_;
    }
    return;
  }
  if (auto r = rx_text_.append(pdu.data, req->cont); !r) {
    refuse(*req, 2, kInitiatorError, "login text too long");
    return;
  }
  if (req->cont) {  // acknowledge the part with an empty response and wait for the rest
    respond(*req, {}, false, req->nsg);
    return;
  }
  auto keys = parse_text(rx_text_.take());
  if (!keys) {
    refuse(*req, 2, kInitiatorError, "malformed login text: " + keys.error().message());
    return;
  }
  // Every key is answered (NotUnderstood at worst), so the keys of one login are bounded: an
  // initiator needs a few dozen, and thousands would only make us hold their answers.
  keys_seen_ += keys->size();
  if (keys_seen_ > kMaxLoginKeys) {
    refuse(*req, 2, kInitiatorError, "more than " + std::to_string(kMaxLoginKeys) + " login keys");
    return;
  }
  if (first_) {
    first_ = false;
    if (!first_request(*req, *keys)) return;
  } else if (!drop_repeated_names(*req, *keys)) {
    return;
  }
  if (req->csg != stage_) {
    // Skipping the security stage is fine only when nothing needs authenticating.
    const bool chap_needed = outcome_.discovery
                                 ? directory_.discovery_chap_required()
                                 : directory_.find_target(outcome_.target_name)->chap_required;
    if (stage_ == LoginStage::security_negotiation &&
        req->csg == LoginStage::operational_negotiation && auth_ == Auth::undecided &&
        !chap_needed) {
      stage_ = LoginStage::operational_negotiation;
      auth_ = Auth::none;
    } else if (stage_ == LoginStage::security_negotiation && auth_ != Auth::done &&
               auth_ != Auth::none) {
      refuse(*req, 2, kAuthenticationFailure, "initiator left the security stage unauthenticated");
      return;
    } else {
      refuse(*req, 2, kInitiatorError, "login request for the wrong stage");
      return;
    }
  }
  if (stage_ == LoginStage::security_negotiation) {
    security(*req, *keys);
  } else {
    operational(*req, *keys);
  }
}

bool TargetLogin::first_request(const LoginRequest& req, const KeyValueList& keys) {
  const auto initiator = find_value(keys, "InitiatorName");
  if (!initiator || initiator->empty()) {
    refuse(req, 2, kMissingParameter, "no InitiatorName");
    return false;
  }
  outcome_.initiator_name = std::string(*initiator);
  if (auto alias = find_value(keys, "InitiatorAlias"))
    outcome_.initiator_alias = std::string(*alias);
  const auto type = find_value(keys, "SessionType").value_or("Normal");
  if (type != "Normal" && type != "Discovery") {
    refuse(req, 2, kSessionTypeNotSupported, "unknown SessionType");
    return false;
  }
  outcome_.discovery = type == "Discovery";
  outcome_.isid = req.isid;
  outcome_.cid = req.cid;
  if (!outcome_.discovery) {
    const auto target = find_value(keys, "TargetName");
    if (!target || target->empty()) {
      refuse(req, 2, kMissingParameter, "no TargetName");
      return false;
    }
    outcome_.target_name = std::string(*target);
    if (!directory_.find_target(*target)) {
      refuse(req, 2, kNotFound, "no target " + outcome_.target_name);
      return false;
    }
    if (auto where = directory_.redirect(*target); !where.empty()) {
      refuse(req, 1, 0x01, "redirected to " + where, {{"TargetAddress", where}});
      return false;
    }
    if (!directory_.allowed(*target, *initiator)) {
      refuse(req, 2, kAuthorizationFailure,
             outcome_.initiator_name + " not allowed on " + outcome_.target_name);
      return false;
    }
  }
  // A further connection of a session (non-zero TSIH) negotiates only its connection keys; the
  // session's values stay in force (sections 6.3, 13).
  NegotiatedParams start;
  if (req.tsih != 0) joining_ = directory_.session_state(req.tsih);
  if (auto& s = joining_; s && s->started()) {
    start = s->params();
    const NegotiatedParams defaults;
    start.header_digest = defaults.header_digest;
    start.data_digest = defaults.data_digest;
    start.initiator_max_recv_data_segment_length = defaults.initiator_max_recv_data_segment_length;
    start.target_max_recv_data_segment_length = defaults.target_max_recv_data_segment_length;
  }
  negotiator_.emplace(Role::target,
                      outcome_.discovery ? SessionType::discovery : SessionType::normal,
                      config_.negotiation, req.tsih == 0, start);
  return true;
}

// RFC 7143 section 6.2 forbids declaring a key twice in one login and has the target answer an
// attempt with an initiator error. libiscsi repeats InitiatorName and SessionType (and
// TargetName) in its first operational-stage request when it offered CHAP and we chose None; the
// same value again changes nothing, so it is dropped here. A different value is refused.
bool TargetLogin::drop_repeated_names(const LoginRequest& req, KeyValueList& keys) {
  const std::string type = outcome_.discovery ? "Discovery" : "Normal";
  for (auto it = keys.begin(); it != keys.end();) {
    std::optional<std::string_view> known;
    if (it->key == "InitiatorName") known = outcome_.initiator_name;
    if (it->key == "TargetName" && !outcome_.discovery) known = outcome_.target_name;
    if (it->key == "SessionType") known = type;
    if (it->key == "InitiatorAlias" && !outcome_.initiator_alias.empty())
      known = outcome_.initiator_alias;
    if (!known) {
      ++it;
      continue;
    }
    if (*known != it->value) {
      refuse(req, 2, kInitiatorError, it->key + " declared again with another value");
      return false;
    }
    it = keys.erase(it);
  }
  return true;
}

void TargetLogin::security(const LoginRequest& req, const KeyValueList& keys) {
  // Operational keys may come along in the security stage; they are negotiated as usual.
  KeyValueList replies;
  {
    auto r = negotiator_->process(keys);
    if (!r) {
      refuse(req, 2, kInitiatorError, negotiator_->failure_detail());
      return;
    }
    replies = std::move(*r);
  }
  const bool chap_required = outcome_.discovery
                                 ? directory_.discovery_chap_required()
                                 : directory_.find_target(outcome_.target_name)->chap_required;
  switch (auth_) {
    case Auth::undecided: {
      const auto offered = find_value(keys, "AuthMethod");
      if (!offered) {
        refuse(req, 2, kMissingParameter, "no AuthMethod");
        return;
      }
      bool has_chap = false, has_none = false;
      for (auto m : split_list(*offered)) {
        has_chap |= m == "CHAP";
        has_none |= m == "None";
      }
      if (has_none && !chap_required) {
        auth_ = Auth::none;
        replies.push_back({"AuthMethod", "None"});
        break;
      }
      if (!has_chap) {
        refuse(req, 2, kAuthenticationFailure,
               "authentication required but the initiator offers no CHAP");
        return;
      }
      auth_ = Auth::chap_offered;
      replies.push_back({"AuthMethod", "CHAP"});
      const std::string target = outcome_.target_name;
      chap_.emplace(
          [this, target](std::string_view user) { return directory_.chap_secret(target, user); },
          directory_.mutual_credentials(target), config_.chap_preference, random_);
      respond(req, replies, false, req.nsg);
      return;
    }
    case Auth::chap_offered: {
      auto challenge = chap_->on_algorithms(keys);
      if (!challenge) {
        refuse(req, 2, kAuthenticationFailure, "CHAP: " + challenge.error().message());
        return;
      }
      auth_ = Auth::chap_challenged;
      replies.insert(replies.end(), challenge->begin(), challenge->end());
      respond(req, replies, false, req.nsg);
      return;
    }
    case Auth::chap_challenged: {
      auto proof = chap_->on_response(keys);
      if (!proof) {
        refuse(req, 2, kAuthenticationFailure, "CHAP: " + proof.error().message());
        return;
      }
      auth_ = Auth::done;
      outcome_.chap_user = chap_->authenticated_user();
      replies.insert(replies.end(), proof->begin(), proof->end());
      break;
    }
    case Auth::none:
    case Auth::done:
      break;
  }
  if (!req.transit) {
    respond(req, replies, false, req.nsg);
    return;
  }
  if (req.nsg == LoginStage::full_feature_phase) {
    finish(req, std::move(replies));
    return;
  }
  stage_ = req.nsg;
  respond(req, replies, true, req.nsg);
}

void TargetLogin::operational(const LoginRequest& req, const KeyValueList& keys) {
  for (const auto& kv : keys) {
    if (is_security_key(kv.key)) {
      refuse(req, 2, kInitiatorError, "security key " + kv.key + " in operational stage");
      return;
    }
  }
  auto replies = negotiator_->process(keys);
  if (!replies) {
    refuse(req, 2, kInitiatorError, negotiator_->failure_detail());
    return;
  }
  KeyValueList out = std::move(*replies);
  KeyValueList offers = negotiator_->make_offers();
  out.insert(out.end(), offers.begin(), offers.end());
  if (req.transit && req.nsg == LoginStage::full_feature_phase && negotiator_->settled()) {
    finish(req, std::move(out));
    return;
  }
  respond(req, out, false, req.nsg);
}

void TargetLogin::finish(const LoginRequest& req, KeyValueList keys) {
  // A further connection needs room under MaxConnections; reusing a live CID reinstates that
  // connection and does not count (sections 6.3.4, 13.2).
  if (req.tsih != 0)
    if (auto s = directory_.session_state(req.tsih);
        s && s->started() && s->live_connections(req.cid) >= s->params().max_connections) {
      refuse(req, 2, kTooManyConnections,
             "session " + std::to_string(req.tsih) + " has MaxConnections connections");
      return;
    }
  if (!outcome_.discovery || req.tsih != 0) {
    const std::uint16_t tsih = directory_.attach_session(outcome_.initiator_name, req.isid,
                                                         req.tsih, outcome_.target_name);
    if (tsih == 0) {
      refuse(req, 2, kSessionDoesNotExist, "no session with TSIH " + std::to_string(req.tsih));
      return;
    }
    outcome_.tsih = tsih;
  } else {
    outcome_.tsih = directory_.attach_session(outcome_.initiator_name, req.isid, 0, {});
    if (outcome_.tsih == 0) outcome_.tsih = 1;
  }
  // The target declares what it can receive even if the initiator never asked.
  auto late = negotiator_->make_offers();
  keys.insert(keys.end(), late.begin(), late.end());
  outcome_.params = negotiator_->params();
  outcome_.exp_cmd_sn = req.cmd_sn;
  respond(req, keys, true, LoginStage::full_feature_phase, outcome_.tsih);
  outcome_.next_stat_sn = stat_sn_;
  if (pending_parts_.empty()) state_ = State::succeeded;
}

}  // namespace uiscsi::core
