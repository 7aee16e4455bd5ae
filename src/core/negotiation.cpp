// Operational parameter negotiation (RFC 7143 sections 6 and 13). See negotiation.hpp for the
// contract; this file holds the key table and the rules.
#include "core/negotiation.hpp"

#include <algorithm>
#include <array>
#include <type_traits>

#include "uiscsi/errors.hpp"

namespace uiscsi::core {
namespace {

// Reserved answer constants (RFC 7143 section 6.2). They are answers only, never offers.
constexpr std::string_view kReject = "Reject";
constexpr std::string_view kIrrelevant = "Irrelevant";
constexpr std::string_view kNotUnderstood = "NotUnderstood";

bool is_reserved_answer(std::string_view v) {
  return v == kReject || v == kIrrelevant || v == kNotUnderstood;
}

constexpr std::uint64_t kMaxLength = kMaxDataSegmentLength;  // 2^24 - 1 (sections 13.12-13.14)

using enum KeyType;
using enum KeySender;
using enum KeyUse;
using enum KeyScope;

// RFC 7143 section 13 (and 12.1 for AuthMethod), in section order; RFC 7144 section 2.1 for
// iSCSIProtocolLevel; the RFC 3720 marker keys made obsolete by section 13.26 at the end.
constexpr std::array kKeys = {
    // 12.1: security stage only; the login state machine and chap.hpp own it.
    KeyDef{.name = "AuthMethod",
           .type = special,
           .result = ResultFunction::none,
           .sender = both,
           .use = initialize_only,
           .scope = connection_only,
           .default_value = "None"},
    // 13.1
    KeyDef{.name = "HeaderDigest",
           .type = list,
           .result = ResultFunction::list_selection,
           .sender = both,
           .use = initialize_only,
           .scope = connection_only,
           .default_value = "None"},
    KeyDef{.name = "DataDigest",
           .type = list,
           .result = ResultFunction::list_selection,
           .sender = both,
           .use = initialize_only,
           .scope = connection_only,
           .default_value = "None"},
    // 13.2
    KeyDef{.name = "MaxConnections",
           .type = numeric,
           .result = ResultFunction::minimum,
           .sender = both,
           .use = leading_only,
           .scope = session_wide,
           .min_value = 1,
           .max_value = 65535,
           .default_value = "1",
           .irrelevant_in_discovery = true},
    // 13.3: a request in full feature phase, answered by the discovery code.
    KeyDef{.name = "SendTargets",
           .type = special,
           .result = ResultFunction::none,
           .sender = initiator,
           .use = full_feature_only,
           .scope = session_wide,
           .default_value = ""},
    // 13.4: IO from the initiator, FFPO from the target (see KeyUse).
    KeyDef{.name = "TargetName",
           .type = declarative,
           .result = ResultFunction::none,
           .sender = both,
           .use = initialize_only,
           .scope = session_wide,
           .default_value = ""},
    // 13.5
    KeyDef{.name = "InitiatorName",
           .type = declarative,
           .result = ResultFunction::none,
           .sender = initiator,
           .use = initialize_only,
           .scope = session_wide,
           .default_value = ""},
    // 13.6
    KeyDef{.name = "TargetAlias",
           .type = declarative,
           .result = ResultFunction::none,
           .sender = target,
           .use = all,
           .scope = session_wide,
           .default_value = ""},
    // 13.7
    KeyDef{.name = "InitiatorAlias",
           .type = declarative,
           .result = ResultFunction::none,
           .sender = initiator,
           .use = all,
           .scope = session_wide,
           .default_value = ""},
    // 13.8
    KeyDef{.name = "TargetAddress",
           .type = declarative,
           .result = ResultFunction::none,
           .sender = target,
           .use = all,
           .scope = session_wide,
           .default_value = ""},
    // 13.9: a 16-bit value.
    KeyDef{.name = "TargetPortalGroupTag",
           .type = declarative,
           .result = ResultFunction::none,
           .sender = target,
           .use = initialize_only,
           .scope = session_wide,
           .min_value = 0,
           .max_value = 65535,
           .default_value = ""},
    // 13.10
    KeyDef{.name = "InitialR2T",
           .type = boolean,
           .result = ResultFunction::logical_or,
           .sender = both,
           .use = leading_only,
           .scope = session_wide,
           .default_value = "Yes",
           .irrelevant_in_discovery = true},
    // 13.11
    KeyDef{.name = "ImmediateData",
           .type = boolean,
           .result = ResultFunction::logical_and,
           .sender = both,
           .use = leading_only,
           .scope = session_wide,
           .default_value = "Yes",
           .irrelevant_in_discovery = true},
    // 13.12: declared by each side for the data it receives.
    KeyDef{.name = "MaxRecvDataSegmentLength",
           .type = declarative,
           .result = ResultFunction::none,
           .sender = both,
           .use = all,
           .scope = connection_only,
           .min_value = 512,
           .max_value = kMaxLength,
           .default_value = "8192"},
    // 13.13
    KeyDef{.name = "MaxBurstLength",
           .type = numeric,
           .result = ResultFunction::minimum,
           .sender = both,
           .use = leading_only,
           .scope = session_wide,
           .min_value = 512,
           .max_value = kMaxLength,
           .default_value = "262144",
           .irrelevant_in_discovery = true},
    // 13.14: also irrelevant when InitialR2T=Yes and ImmediateData=No (see irrelevant()).
    KeyDef{.name = "FirstBurstLength",
           .type = numeric,
           .result = ResultFunction::minimum,
           .sender = both,
           .use = leading_only,
           .scope = session_wide,
           .min_value = 512,
           .max_value = kMaxLength,
           .default_value = "65536",
           .irrelevant_in_discovery = true},
    // 13.15
    KeyDef{.name = "DefaultTime2Wait",
           .type = numeric,
           .result = ResultFunction::maximum,
           .sender = both,
           .use = leading_only,
           .scope = session_wide,
           .min_value = 0,
           .max_value = 3600,
           .default_value = "2"},
    // 13.16
    KeyDef{.name = "DefaultTime2Retain",
           .type = numeric,
           .result = ResultFunction::minimum,
           .sender = both,
           .use = leading_only,
           .scope = session_wide,
           .min_value = 0,
           .max_value = 3600,
           .default_value = "20"},
    // 13.17
    KeyDef{.name = "MaxOutstandingR2T",
           .type = numeric,
           .result = ResultFunction::minimum,
           .sender = both,
           .use = leading_only,
           .scope = session_wide,
           .min_value = 1,
           .max_value = 65535,
           .default_value = "1",
           .irrelevant_in_discovery = true},
    // 13.18
    KeyDef{.name = "DataPDUInOrder",
           .type = boolean,
           .result = ResultFunction::logical_or,
           .sender = both,
           .use = leading_only,
           .scope = session_wide,
           .default_value = "Yes",
           .irrelevant_in_discovery = true},
    // 13.19
    KeyDef{.name = "DataSequenceInOrder",
           .type = boolean,
           .result = ResultFunction::logical_or,
           .sender = both,
           .use = leading_only,
           .scope = session_wide,
           .default_value = "Yes",
           .irrelevant_in_discovery = true},
    // 13.20
    KeyDef{.name = "ErrorRecoveryLevel",
           .type = numeric,
           .result = ResultFunction::minimum,
           .sender = both,
           .use = leading_only,
           .scope = session_wide,
           .min_value = 0,
           .max_value = 2,
           .default_value = "0"},
    // 13.21
    KeyDef{.name = "SessionType",
           .type = declarative,
           .result = ResultFunction::none,
           .sender = initiator,
           .use = leading_only,
           .scope = session_wide,
           .default_value = "Normal"},
    // 13.22 defines the X- (private) and X# (public) extension formats: keys outside this table,
    // answered NotUnderstood. 13.23:
    KeyDef{.name = "TaskReporting",
           .type = list,
           .result = ResultFunction::list_selection,
           .sender = both,
           .use = leading_only,
           .scope = session_wide,
           .default_value = "RFC3720",
           .irrelevant_in_discovery = true},
    // 13.24 and RFC 7144 section 2.1.
    KeyDef{.name = "iSCSIProtocolLevel",
           .type = numeric,
           .result = ResultFunction::minimum,
           .sender = both,
           .use = leading_only,
           .scope = session_wide,
           .min_value = 0,
           .max_value = 31,
           .default_value = "1",
           .irrelevant_in_discovery = true},
    // 13.25: a public extension key, declarative.
    KeyDef{.name = "X#NodeArchitecture",
           .type = declarative,
           .result = ResultFunction::none,
           .sender = both,
           .use = leading_only,
           .scope = session_wide,
           .default_value = "None"},
    // 13.26: obsolete RFC 3720 keys, answered Reject whenever received (never NotUnderstood).
    KeyDef{.name = "OFMarker",
           .type = special,
           .result = ResultFunction::none,
           .sender = both,
           .use = initialize_only,
           .scope = connection_only,
           .default_value = "No"},
    KeyDef{.name = "IFMarker",
           .type = special,
           .result = ResultFunction::none,
           .sender = both,
           .use = initialize_only,
           .scope = connection_only,
           .default_value = "No"},
    KeyDef{.name = "OFMarkInt",
           .type = special,
           .result = ResultFunction::none,
           .sender = both,
           .use = initialize_only,
           .scope = connection_only,
           .min_value = 1,
           .max_value = 65535,
           .default_value = "2048"},
    KeyDef{.name = "IFMarkInt",
           .type = special,
           .result = ResultFunction::none,
           .sender = both,
           .use = initialize_only,
           .scope = connection_only,
           .min_value = 1,
           .max_value = 65535,
           .default_value = "2048"},
};

bool is_obsolete_marker(std::string_view name) {
  return name == "OFMarker" || name == "IFMarker" || name == "OFMarkInt" || name == "IFMarkInt";
}

// The order in which an initiator offers on a leading connection of a normal session.
constexpr std::array<std::string_view, 14> kInitiatorOffers = {
    "HeaderDigest",        "DataDigest",        "MaxConnections",
    "InitialR2T",          "ImmediateData",     "MaxRecvDataSegmentLength",
    "MaxBurstLength",      "FirstBurstLength",  "DefaultTime2Wait",
    "DefaultTime2Retain",  "MaxOutstandingR2T", "DataPDUInOrder",
    "DataSequenceInOrder", "ErrorRecoveryLevel"};
// Discovery sessions, non-leading connections: only the IO/ALL keys that still apply.
constexpr std::array<std::string_view, 3> kConnectionOffers = {"HeaderDigest", "DataDigest",
                                                               "MaxRecvDataSegmentLength"};
constexpr std::array<std::string_view, 1> kFullFeatureOffers = {"MaxRecvDataSegmentLength"};

// Values we implement for the list keys; anything else in an offer is skipped (section 6.2.1).
constexpr std::array<std::string_view, 2> kDigestValues = {"CRC32C", "None"};
constexpr std::array<std::string_view, 3> kTaskReportingValues = {"RFC3720", "ResponseFence",
                                                                  "FastAbort"};

std::span<const std::string_view> known_list_values(std::string_view key) {
  if (key == "TaskReporting") return kTaskReportingValues;
  return kDigestValues;
}

// Field of a numeric key in NegotiatedParams or NegotiationSettings (same member names; the
// protocol level is optional in the settings and handled by the callers).
template <class P>
auto numeric_field(P& p, std::string_view key) -> decltype(&p.max_connections) {
  if (key == "MaxConnections") return &p.max_connections;
  if (key == "MaxBurstLength") return &p.max_burst_length;
  if (key == "FirstBurstLength") return &p.first_burst_length;
  if (key == "DefaultTime2Wait") return &p.default_time2wait;
  if (key == "DefaultTime2Retain") return &p.default_time2retain;
  if (key == "MaxOutstandingR2T") return &p.max_outstanding_r2t;
  if (key == "ErrorRecoveryLevel") return &p.error_recovery_level;
  if constexpr (std::is_same_v<std::remove_const_t<P>, NegotiatedParams>) {
    if (key == "iSCSIProtocolLevel") return &p.iscsi_protocol_level;
  }
  return nullptr;
}

template <class P>
auto boolean_field(P& p, std::string_view key) -> decltype(&p.initial_r2t) {
  if (key == "InitialR2T") return &p.initial_r2t;
  if (key == "ImmediateData") return &p.immediate_data;
  if (key == "DataPDUInOrder") return &p.data_pdu_in_order;
  if (key == "DataSequenceInOrder") return &p.data_sequence_in_order;
  return nullptr;
}

// The value of a negotiated key in `p`, as it would be sent.
std::string param_text(const NegotiatedParams& p, std::string_view key) {
  if (const auto* n = numeric_field(p, key)) return std::to_string(*n);
  if (const auto* b = boolean_field(p, key)) return std::string(format_boolean(*b));
  if (key == "HeaderDigest") return p.header_digest ? "CRC32C" : "None";
  if (key == "DataDigest") return p.data_digest ? "CRC32C" : "None";
  if (key == "TaskReporting") return p.task_reporting;
  return {};
}

// Sets a negotiated key from a value already checked against the key's range and syntax.
void set_param(NegotiatedParams& p, std::string_view key, std::string_view value) {
  if (auto* n = numeric_field(p, key)) {
    if (auto v = parse_numeric(value); v && *v <= kMaxLength) *n = static_cast<std::uint32_t>(*v);
    return;
  }
  if (auto* b = boolean_field(p, key)) {
    if (auto v = parse_boolean(value)) *b = *v;
    return;
  }
  if (key == "HeaderDigest") p.header_digest = value == "CRC32C";
  if (key == "DataDigest") p.data_digest = value == "CRC32C";
  if (key == "TaskReporting") p.task_reporting = std::string(value);
}

std::uint64_t clamp_to(const KeyDef& def, std::uint64_t v) {
  return std::clamp(v, def.min_value, def.max_value);
}

bool contains(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

}  // namespace

std::span<const KeyDef> key_table() {
  return kKeys;
}

const KeyDef* find_key(std::string_view name) {
  for (const auto& def : kKeys)
    if (def.name == name) return &def;
  return nullptr;
}

bool is_security_key(std::string_view name) {
  return name == "AuthMethod" || name.starts_with("CHAP_") || name.starts_with("SRP_") ||
         name.starts_with("KRB_") || name.starts_with("SPKM_");
}

namespace {

// Our values for a list key, in our order of preference: the configured ones we implement,
// without repeats; the key's default when none is left.
std::vector<std::string> our_list(const NegotiationSettings& s, const KeyDef& def) {
  const std::vector<std::string>& configured = def.name == "HeaderDigest" ? s.header_digest
                                               : def.name == "DataDigest" ? s.data_digest
                                                                          : s.task_reporting;
  const auto known = known_list_values(def.name);
  std::vector<std::string> out;
  for (const auto& v : configured)
    if (std::find(known.begin(), known.end(), v) != known.end() && !contains(out, v))
      out.push_back(v);
  if (out.empty()) out.emplace_back(def.default_value);
  return out;
}

// Our wanted value of a numeric key, within its legal range. FirstBurstLength is capped at our
// MaxBurstLength so that we never ask for a pair that breaks section 13.14.
std::uint64_t our_number(const NegotiationSettings& s, const KeyDef& def) {
  if (def.name == "iSCSIProtocolLevel")
    return clamp_to(def, s.iscsi_protocol_level.value_or(1));  // RFC 7143 itself is level 1
  if (def.name == "MaxRecvDataSegmentLength") return clamp_to(def, s.max_recv_data_segment_length);
  const auto* field = numeric_field(s, def.name);
  std::uint64_t v = field != nullptr ? clamp_to(def, *field) : 0;
  if (def.name == "FirstBurstLength") {
    const KeyDef* mbl = find_key("MaxBurstLength");
    v = std::min(v, clamp_to(*mbl, s.max_burst_length));
  }
  return v;
}

}  // namespace

Negotiator::Negotiator(Role role, SessionType type, NegotiationSettings settings, bool leading,
                       NegotiatedParams start, NegotiationPhase phase)
    : role_(role),
      type_(type),
      settings_(std::move(settings)),
      leading_(leading),
      phase_(phase),
      start_(start),
      params_(std::move(start)) {}

Negotiator::KeyState& Negotiator::state_for(std::string_view name, const KeyDef* def) {
  for (auto& st : states_)
    if (st.name == name) return st;
  KeyState st;
  st.name = std::string(name);
  st.def = def;
  states_.push_back(std::move(st));
  return states_.back();
}

const Negotiator::KeyState* Negotiator::find_state(std::string_view name) const {
  for (const auto& st : states_)
    if (st.name == name) return &st;
  return nullptr;
}

bool Negotiator::handled(std::string_view name) const {
  const KeyState* st = find_state(name);
  return st != nullptr && (st->we_offered || st->peer_sent);
}

Unexpected Negotiator::fail(std::string detail) {
  failed_ = true;
  failure_detail_ = std::move(detail);
  return Unexpected(protocol_errc::negotiation_failed);
}

// Section 13, "Use": which keys may appear in this phase on this connection. Returns why not.
const char* Negotiator::use_violation(const KeyDef& def, bool from_target) const {
  const bool ffp = phase_ == NegotiationPhase::full_feature;
  if (def.name == "TargetName" && from_target)
    return ffp ? nullptr : "sent by the target during login (FFPO for targets, section 13.4)";
  switch (def.use) {
    case initialize_only:
      return ffp ? "initialize-only (IO) key in full feature phase" : nullptr;
    case leading_only:
      if (ffp) return "leading-only (LO) key in full feature phase";
      if (!leading_) return "leading-only (LO) key on a non-leading connection";
      return nullptr;
    case full_feature_only:
      return ffp ? nullptr : "full-feature-only (FFPO) key during login";
    case all:
      return nullptr;
  }
  return nullptr;
}

bool Negotiator::irrelevant(const KeyDef& def) const {
  if (type_ == SessionType::discovery && def.irrelevant_in_discovery) return true;
  // Section 13.14: no unsolicited data at all, so no first burst.
  return def.name == "FirstBurstLength" && params_.initial_r2t && !params_.immediate_data;
}

std::string Negotiator::our_value(const KeyDef& def) const {
  switch (def.type) {
    case boolean: {
      const bool* b = boolean_field(settings_, def.name);
      return std::string(format_boolean(b != nullptr && *b));
    }
    case numeric:
    case declarative:  // MaxRecvDataSegmentLength, the one declarative we originate
      return std::to_string(our_number(settings_, def));
    case list:
      return join(our_list(settings_, def));
    case special:
      break;
  }
  return {};
}

// A target offers only what would change the outcome: the initiator did not raise the key, and
// leaving it at its current value is not what we want.
bool Negotiator::target_wants(const KeyDef& def) const {
  switch (def.type) {
    case boolean: {
      const bool ours = *boolean_field(settings_, def.name);
      const bool current = *boolean_field(params_, def.name);
      return def.result == ResultFunction::logical_and ? (!ours && current) : (ours && !current);
    }
    case numeric: {
      if (def.name == "iSCSIProtocolLevel" && !settings_.iscsi_protocol_level) return false;
      const std::uint64_t ours = our_number(settings_, def);
      const std::uint64_t current = *numeric_field(params_, def.name);
      return def.result == ResultFunction::minimum ? ours < current : ours > current;
    }
    case list:
      return !contains(our_list(settings_, def), param_text(params_, def.name));
    case declarative:
    case special:
      break;
  }
  return false;
}

void Negotiator::apply(const KeyDef& def, std::string_view value) {
  set_param(params_, def.name, value);
}

void Negotiator::restore_start(const KeyDef& def) {
  set_param(params_, def.name, param_text(start_, def.name));
}

void Negotiator::cap_first_burst() {
  params_.first_burst_length = std::min(params_.first_burst_length, params_.max_burst_length);
}

void Negotiator::add_offer(KeyValueList& out, const KeyDef* def, std::string_view name,
                           std::string value) {
  KeyState& st = state_for(name, def);
  st.we_offered = true;
  st.offered = value;
  st.answer_required = false;
  if (def == nullptr) {
    // Outside the table: we cannot know whether the peer owes an answer (section 13.22).
  } else if (def->type == declarative) {
    // Declarations take effect as sent (section 6.2); ours is the limit for what we receive.
    if (def->name == "MaxRecvDataSegmentLength") {
      if (auto n = parse_numeric(value); n && *n >= def->min_value && *n <= def->max_value) {
        auto& field = role_ == Role::initiator ? params_.initiator_max_recv_data_segment_length
                                               : params_.target_max_recv_data_segment_length;
        field = static_cast<std::uint32_t>(*n);
      }
    }
  } else if (def->type == boolean) {
    // Section 6.2.2: No for AND and Yes for OR decide the outcome; the answer is optional.
    const bool decided = (def->result == ResultFunction::logical_and && value == "No") ||
                         (def->result == ResultFunction::logical_or && value == "Yes");
    if (decided)
      apply(*def, value);
    else
      st.answer_required = true;
  } else {
    st.answer_required = true;
  }
  out.push_back({std::string(name), std::move(value)});
}

KeyValueList Negotiator::make_offers() {
  KeyValueList out;
  if (failed_) return out;
  const bool ffp = phase_ == NegotiationPhase::full_feature;

  auto offer_if_new = [&](const KeyDef& def) {
    // A declaration is per direction: the peer's own does not replace ours.
    const KeyState* st = find_state(def.name);
    const bool done =
        def.type == declarative ? (st != nullptr && st->we_offered) : handled(def.name);
    if (done || use_violation(def, role_ == Role::target) != nullptr) return;
    add_offer(out, &def, def.name, our_value(def));
  };

  if (role_ == Role::initiator) {
    std::span<const std::string_view> names = kInitiatorOffers;
    if (ffp)
      names = kFullFeatureOffers;
    else if (type_ == SessionType::discovery || !leading_)
      names = kConnectionOffers;
    for (const auto name : names)
      offer_if_new(*find_key(name));
    if (!ffp && leading_ && type_ == SessionType::normal) {
      const KeyDef& tr = *find_key("TaskReporting");
      if (our_list(settings_, tr) != std::vector<std::string>{"RFC3720"}) offer_if_new(tr);
      if (settings_.iscsi_protocol_level) offer_if_new(*find_key("iSCSIProtocolLevel"));
    }
  } else {
    offer_if_new(*find_key("MaxRecvDataSegmentLength"));
    for (const auto& def : kKeys) {
      if (def.type != boolean && def.type != numeric && def.type != list) continue;
      if (handled(def.name) || use_violation(def, true) != nullptr || irrelevant(def)) continue;
      if (target_wants(def)) add_offer(out, &def, def.name, our_value(def));
    }
  }

  for (const auto& kv : settings_.extra_offers) {
    if (handled(kv.key)) continue;
    add_offer(out, find_key(kv.key), kv.key, kv.value);
  }
  cap_first_burst();
  return out;
}

// The answer to a peer's offer of a negotiated key (sections 6.2.1 and 6.2.2). A value we cannot
// parse or outside the key's range is answered Reject, as is a list with nothing we support.
std::string Negotiator::respond(const KeyDef& def, std::string_view offer) const {
  switch (def.type) {
    case boolean: {
      const auto theirs = parse_boolean(offer);
      if (!theirs) return std::string(kReject);
      const bool ours = *boolean_field(settings_, def.name);
      const bool result =
          def.result == ResultFunction::logical_and ? (*theirs && ours) : (*theirs || ours);
      return std::string(format_boolean(result));
    }
    case numeric: {
      const auto theirs = parse_numeric(offer);
      if (!theirs || *theirs < def.min_value || *theirs > def.max_value)
        return std::string(kReject);
      const std::uint64_t ours = our_number(settings_, def);
      std::uint64_t result =
          def.result == ResultFunction::minimum ? std::min(*theirs, ours) : std::max(*theirs, ours);
      // Section 13.14: keep the first burst within the agreed MaxBurstLength. Any value from
      // the legal minimum up to the offer is a valid Minimum answer, so this stays legal.
      if (def.name == "FirstBurstLength")
        result = std::min<std::uint64_t>(
            result, std::max<std::uint64_t>(params_.max_burst_length, def.min_value));
      return std::to_string(result);
    }
    case list: {
      const auto ours = our_list(settings_, def);
      for (const auto item : split_list(offer))
        if (contains(ours, item)) return std::string(item);
      return std::string(kReject);
    }
    case declarative:
    case special:
      break;
  }
  return std::string(kReject);
}

// The peer's answer to one of our offers.
Result<void> Negotiator::accept_answer(KeyState& st, std::string_view value) {
  if (st.def == nullptr) return ok();  // outside the table: any answer will do
  const KeyDef& def = *st.def;
  const std::string name(def.name);
  if (is_reserved_answer(value)) {
    // Section 6.2: the key keeps the value it had before this negotiation. A digest we require
    // (offered without None) must not silently fall back to None: the peer has refused every
    // value we accept, so the negotiation fails.
    restore_start(def);
    if ((def.name == "HeaderDigest" || def.name == "DataDigest") &&
        param_text(start_, def.name) == "None") {
      bool none_offered = false;
      for (const auto item : split_list(st.offered))
        if (item == "None") none_offered = true;
      if (!none_offered)
        return fail(name + ": answered '" + std::string(value) + "' to our offer '" + st.offered +
                    "'; digests are required, so the session cannot go on without them");
    }
    return ok();
  }
  switch (def.type) {
    case boolean: {
      const auto answer = parse_boolean(value);
      if (!answer) return fail(name + ": answer '" + std::string(value) + "' is not Yes or No");
      const bool offered = st.offered == "Yes";
      if (def.result == ResultFunction::logical_and && !offered && *answer)
        return fail(name + ": answered Yes to our No, but the result function is AND");
      if (def.result == ResultFunction::logical_or && offered && !*answer)
        return fail(name + ": answered No to our Yes, but the result function is OR");
      apply(def, value);
      return ok();
    }
    case numeric: {
      const auto answer = parse_numeric(value);
      if (!answer) return fail(name + ": answer '" + std::string(value) + "' is not a number");
      if (*answer < def.min_value || *answer > def.max_value)
        return fail(name + ": answer " + std::to_string(*answer) + " is outside " +
                    std::to_string(def.min_value) + ".." + std::to_string(def.max_value));
      const auto offered = parse_numeric(st.offered);
      if (!offered) return fail(name + ": we offered a value that is not a number");
      if (def.result == ResultFunction::minimum && *answer > *offered)
        return fail(name + ": answer " + std::to_string(*answer) + " is above our offer " +
                    st.offered + " (result function Minimum)");
      if (def.result == ResultFunction::maximum && *answer < *offered)
        return fail(name + ": answer " + std::to_string(*answer) + " is below our offer " +
                    st.offered + " (result function Maximum)");
      apply(def, value);
      return ok();
    }
    case list: {
      // Section 6.2.1: exactly one of the values we offered.
      bool found = false;
      for (const auto item : split_list(st.offered))
        if (item == value) found = true;
      if (!found)
        return fail(name + ": answer '" + std::string(value) + "' is not one of our offer '" +
                    st.offered + "'");
      apply(def, value);
      return ok();
    }
    case declarative:
    case special:
      break;
  }
  return ok();
}

// A declaration from the peer: checked and recorded, never answered.
Result<void> Negotiator::record_declaration(const KeyDef& def, std::string_view value) {
  const std::string name(def.name);
  if (is_reserved_answer(value)) return ok();  // nothing declared
  if (def.name == "MaxRecvDataSegmentLength") {
    const auto n = parse_numeric(value);
    if (!n || *n < def.min_value || *n > def.max_value)
      return fail(name + ": '" + std::string(value) + "' is outside 512..16777215");
    auto& field = role_ == Role::initiator ? params_.target_max_recv_data_segment_length
                                           : params_.initiator_max_recv_data_segment_length;
    field = static_cast<std::uint32_t>(*n);
  } else if (def.name == "TargetPortalGroupTag") {
    const auto n = parse_numeric(value);
    if (!n || *n > def.max_value)
      return fail(name + ": '" + std::string(value) + "' is not a 16-bit value");
    params_.target_portal_group_tag = static_cast<std::uint16_t>(*n);
  } else if (def.name == "TargetAlias") {
    params_.target_alias = std::string(value);
  } else if (def.name == "InitiatorAlias") {
    params_.initiator_alias = std::string(value);
  } else if (def.name == "SessionType") {
    if (value == "Discovery")
      type_ = SessionType::discovery;
    else if (value == "Normal")
      type_ = SessionType::normal;
    else
      return fail(name + ": '" + std::string(value) + "' is neither Discovery nor Normal");
  }
  return ok();
}

Result<KeyValueList> Negotiator::process(const KeyValueList& received) {
  if (failed_) return Unexpected(protocol_errc::negotiation_failed);

  // SessionType decides which keys are Irrelevant, wherever it stands in the text.
  if (role_ == Role::target) {
    for (const auto& kv : received) {
      if (kv.key != "SessionType") continue;
      if (kv.value == "Discovery") type_ = SessionType::discovery;
      if (kv.value == "Normal") type_ = SessionType::normal;
    }
  }

  KeyValueList replies;
  // FirstBurstLength is answered last: whether it is Irrelevant, and how large it may be,
  // depend on InitialR2T, ImmediateData and MaxBurstLength, which may follow it in the text.
  struct Deferred {
    std::size_t index;
    const KeyDef* def;
    std::string offer;
  };
  std::vector<Deferred> deferred;
  const bool peer_is_target = role_ == Role::initiator;

  for (const auto& kv : received) {
    if (is_security_key(kv.key)) continue;
    const KeyDef* def = find_key(kv.key);
    const bool declarative_key = def != nullptr && def->type == declarative;
    KeyState& st = state_for(kv.key, def);

    // An answer to one of our offers.
    if (st.we_offered && !declarative_key) {
      if (st.answered) return fail(kv.key + ": answered twice in one negotiation");
      st.answered = true;
      UISCSI_TRY_VOID(accept_answer(st, kv.value));
      continue;
    }

    // The peer's own offer or declaration. Section 6.2: once per negotiation, except for keys
    // that list several values that way (TargetAddress; TargetName in a SendTargets answer).
    const bool may_repeat =
        def != nullptr && (def->name == "TargetAddress" ||
                           (def->name == "TargetName" && phase_ == NegotiationPhase::full_feature));
    if (st.peer_sent && !may_repeat)
      return fail(kv.key + ": sent twice in one negotiation (RFC 7143 section 6.2)");
    st.peer_sent = true;
    if (!declarative_key && is_reserved_answer(kv.value))
      return fail(kv.key + ": '" + kv.value + "' answers a key we did not offer");
    if (def == nullptr) {
      // Unknown keys, X- private and X# public extensions included (sections 6.2, 13.22).
      replies.push_back({kv.key, std::string(kNotUnderstood)});
      continue;
    }
    if (is_obsolete_marker(def->name)) {
      // Section 13.26: Reject, never NotUnderstood.
      replies.push_back({kv.key, std::string(kReject)});
      continue;
    }
    const bool sender_ok =
        def->sender == KeySender::both || (def->sender == KeySender::target) == peer_is_target;
    if (!sender_ok)
      return fail(kv.key + ": may not be sent by the " + (peer_is_target ? "target" : "initiator") +
                  " (RFC 7143 section 13)");
    if (const char* why = use_violation(*def, peer_is_target)) return fail(kv.key + ": " + why);
    if (def->type == special) continue;  // SendTargets: the discovery code answers it
    if (declarative_key) {
      UISCSI_TRY_VOID(record_declaration(*def, kv.value));
      continue;
    }
    if (def->name == "FirstBurstLength") {
      deferred.push_back({replies.size(), def, kv.value});
      replies.push_back({kv.key, {}});
      continue;
    }
    if (irrelevant(*def)) {
      replies.push_back({kv.key, std::string(kIrrelevant)});
      continue;
    }
    std::string answer = respond(*def, kv.value);
    if (!is_reserved_answer(answer)) apply(*def, answer);
    replies.push_back({kv.key, std::move(answer)});
  }

  for (const auto& d : deferred) {
    std::string answer = irrelevant(*d.def) ? std::string(kIrrelevant) : respond(*d.def, d.offer);
    if (!is_reserved_answer(answer)) apply(*d.def, answer);
    replies[d.index].value = std::move(answer);
  }
  cap_first_burst();
  return replies;
}

bool Negotiator::settled() const {
  return std::none_of(states_.begin(), states_.end(), [](const KeyState& st) {
    return st.we_offered && st.answer_required && !st.answered;
  });
}

}  // namespace uiscsi::core
