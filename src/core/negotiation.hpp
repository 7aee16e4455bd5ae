// Operational parameter negotiation (RFC 7143 sections 6 and 13), for both roles.
//
// The key table lists every RFC 7143 section 13 key with its type, result function, default,
// legal range, who may send it, and when it may be used. A Negotiator plays one side of one
// login (or of a Text renegotiation in full feature phase): it produces our offers, answers the
// peer's offers, checks the peer's answers to ours, and yields the negotiated parameters.
//
// Rules implemented (RFC 7143 section 6.2 and each key's entry in section 13):
//   - numeric keys with Minimum/Maximum result functions; the answer must lie between the legal
//     minimum and our offer (Minimum) or our offer and the legal maximum (Maximum);
//   - Boolean keys with AND (ImmediateData, ...) and OR (InitialR2T, ...);
//   - list keys (HeaderDigest, DataDigest, TaskReporting): the responder picks the first value
//     of the offer it supports (unknown values are skipped); "None" is picked like any other
//     value, so it wins only when offered; when nothing matches the answer is "Reject" (section
//     6.2.1: selecting a value that was not offered is a protocol error);
//   - declarative keys (MaxRecvDataSegmentLength, names, aliases, TargetPortalGroupTag,
//     TargetAddress): recorded, never answered. MaxRecvDataSegmentLength is kept per direction;
//   - "Irrelevant" for keys that do not apply (session-only keys in a discovery session,
//     FirstBurstLength when InitialR2T=Yes and ImmediateData=No), "NotUnderstood" for unknown
//     keys (private X- keys included), "Reject" for illegal values and obsolete marker keys
//     (section 13.26); an answer of Reject, Irrelevant or NotUnderstood to one of our offers
//     leaves that key at its default;
//   - FirstBurstLength MUST NOT exceed MaxBurstLength (section 13.14): our own offer is capped
//     at our MaxBurstLength, an answer we give is capped at the agreed MaxBurstLength (legal under
//     the Minimum function), and params() caps first_burst_length at max_burst_length, so both
//     ends compute the same value even when the two Minimum results cross;
//   - a key may be negotiated only once per negotiation (section 6.2): a repeat is an error
//     (TargetAddress may repeat);
//   - keys sent by the wrong role, or outside their phase (IO keys in full feature phase, LO keys
//     on a non-leading connection), are errors.
// Security keys (AuthMethod, CHAP_*, SRP_*, KRB_*) are not handled here; the login state machine
// and chap.hpp own them. Pure code; no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/pdu.hpp"
#include "core/text.hpp"
#include "uiscsi/result.hpp"

namespace uiscsi::core {

enum class SessionType { normal, discovery };
// Login (Login Request/Response) or full feature phase (Text Request/Response renegotiation).
enum class NegotiationPhase { login, full_feature };

enum class KeyType { boolean, numeric, list, declarative, special };
enum class ResultFunction { none, logical_and, logical_or, minimum, maximum, list_selection };
enum class KeySender { initiator, target, both };
// Use: IO (initialize only, i.e. login), LO (leading connection login only), FFPO (full feature
// phase only), ALL (login and full feature phase). TargetName (section 13.4) is IO when the
// initiator sends it and FFPO when the target sends it (in a SendTargets answer); its entry says
// initialize_only and the Negotiator applies the target half itself.
enum class KeyUse { initialize_only, leading_only, full_feature_only, all };
enum class KeyScope { session_wide, connection_only };

struct KeyDef {
  std::string_view name;
  KeyType type;
  ResultFunction result;
  KeySender sender;
  KeyUse use;
  KeyScope scope;
  std::uint64_t min_value = 0;  // numeric range
  std::uint64_t max_value = 0;
  std::string_view default_value;  // as text, e.g. "8192", "Yes", "None"
  bool irrelevant_in_discovery = false;
};

// The whole RFC 7143 section 13 table (plus the obsolete marker keys, answered with Reject).
std::span<const KeyDef> key_table();
const KeyDef* find_key(std::string_view name);
bool is_security_key(std::string_view name);  // AuthMethod, CHAP_*, SRP_*, KRB_*, SPKM_*

// What this side wants. Digest lists are in preference order ("CRC32C", "None").
struct NegotiationSettings {
  std::vector<std::string> header_digest{"None"};
  std::vector<std::string> data_digest{"None"};
  std::uint32_t max_connections = 1;
  bool initial_r2t = true;
  bool immediate_data = true;
  std::uint32_t max_recv_data_segment_length = 262144;  // what we declare we can receive
  std::uint32_t max_burst_length = 262144;
  std::uint32_t first_burst_length = 65536;
  std::uint32_t default_time2wait = 2;
  std::uint32_t default_time2retain = 20;
  std::uint32_t max_outstanding_r2t = 1;
  bool data_pdu_in_order = true;
  bool data_sequence_in_order = true;
  std::uint32_t error_recovery_level = 0;
  std::vector<std::string> task_reporting{"RFC3720"};
  std::optional<std::uint32_t> iscsi_protocol_level;  // offered only when set
  // Extra key=value pairs appended to our offer as they are (X- keys, vendor keys).
  KeyValueList extra_offers;
};

// The outcome. Every field starts at its RFC 7143 default and changes only when negotiated.
struct NegotiatedParams {
  bool header_digest = false;  // CRC32C agreed
  bool data_digest = false;
  std::uint32_t max_connections = 1;
  bool initial_r2t = true;
  bool immediate_data = true;
  // Declared by the initiator: the largest data segment the target may send it.
  std::uint32_t initiator_max_recv_data_segment_length = 8192;
  // Declared by the target: the largest data segment the initiator may send it.
  std::uint32_t target_max_recv_data_segment_length = 8192;
  std::uint32_t max_burst_length = 262144;
  std::uint32_t first_burst_length = 65536;
  std::uint32_t default_time2wait = 2;
  std::uint32_t default_time2retain = 20;
  std::uint32_t max_outstanding_r2t = 1;
  bool data_pdu_in_order = true;
  bool data_sequence_in_order = true;
  std::uint32_t error_recovery_level = 0;
  std::string task_reporting = "RFC3720";
  std::uint32_t iscsi_protocol_level = 1;  // RFC 7144 section 2.1: default 1 (RFC 7143)
  // Declaratives seen from the peer.
  std::string target_alias;
  std::string initiator_alias;
  std::optional<std::uint16_t> target_portal_group_tag;

  // The limit for PDUs we send, and the one we declared for PDUs we receive.
  [[nodiscard]] std::uint32_t send_limit(Role our_role) const {
    return our_role == Role::initiator ? target_max_recv_data_segment_length
                                       : initiator_max_recv_data_segment_length;
  }
  [[nodiscard]] std::uint32_t receive_limit(Role our_role) const {
    return our_role == Role::initiator ? initiator_max_recv_data_segment_length
                                       : target_max_recv_data_segment_length;
  }
  // FirstBurstLength matters only if some unsolicited data is allowed.
  [[nodiscard]] bool unsolicited_data_allowed() const { return immediate_data || !initial_r2t; }
};

class Negotiator {
 public:
  // `leading` is false for a second or later connection of a session: LO keys are then not
  // offered and not accepted. `start` carries values already in force (for renegotiation or a
  // non-leading connection); it defaults to the RFC defaults. `phase` is full_feature for a Text
  // renegotiation: only ALL and FFPO keys are then offered or accepted (IO and LO keys are
  // errors). A target may be built with SessionType::normal; a SessionType=Discovery key it
  // receives switches it to discovery.
  Negotiator(Role role, SessionType type, NegotiationSettings settings, bool leading = true,
             NegotiatedParams start = {}, NegotiationPhase phase = NegotiationPhase::login);

  // Keys this side offers on its own initiative in the operational stage: for an initiator,
  // every key it wants different from, or confirmed against, the default; for a target, only
  // its MaxRecvDataSegmentLength declaration and keys the initiator has not offered by the time
  // the target must answer (call after process()).
  KeyValueList make_offers();

  // Processes keys from the peer (security keys are skipped). Answers to our offers are checked;
  // keys the peer offers are answered. Returns the replies to send. Errors:
  // protocol_errc::negotiation_failed, with failure_detail() naming the key and the reason.
  Result<KeyValueList> process(const KeyValueList& received);

  // Every key we offered has been answered. Declaratives need no answer, nor do Boolean offers
  // whose outcome is already decided (No for AND, Yes for OR: section 6.2.2), nor extra_offers
  // keys outside the key table (their answer is accepted whenever it comes).
  [[nodiscard]] bool settled() const;
  [[nodiscard]] const NegotiatedParams& params() const { return params_; }
  [[nodiscard]] const std::string& failure_detail() const { return failure_detail_; }

 private:
  // One key seen in this negotiation, in either direction.
  struct KeyState {
    std::string name;
    const KeyDef* def = nullptr;  // null for keys outside the table (X- keys and the like)
    std::string offered;          // our offer or declaration, if we_offered
    bool we_offered = false;
    bool answer_required = false;  // settled() waits for the peer's answer
    bool answered = false;         // the peer answered our offer
    bool peer_sent = false;        // the peer offered or declared it (and we answered or recorded)
  };
  KeyState& state_for(std::string_view name, const KeyDef* def);
  [[nodiscard]] const KeyState* find_state(std::string_view name) const;
  [[nodiscard]] bool handled(std::string_view name) const;
  void add_offer(KeyValueList& out, const KeyDef* def, std::string_view name, std::string value);
  Result<void> accept_answer(KeyState& st, std::string_view value);
  Result<void> record_declaration(const KeyDef& def, std::string_view value);
  [[nodiscard]] std::string respond(const KeyDef& def, std::string_view offer) const;
  [[nodiscard]] const char* use_violation(const KeyDef& def, bool from_target) const;
  [[nodiscard]] std::string our_value(const KeyDef& def) const;
  [[nodiscard]] bool target_wants(const KeyDef& def) const;
  [[nodiscard]] bool irrelevant(const KeyDef& def) const;
  void apply(const KeyDef& def, std::string_view value);
  void restore_start(const KeyDef& def);
  void cap_first_burst();
  Unexpected fail(std::string detail);

  Role role_;
  SessionType type_;
  NegotiationSettings settings_;
  bool leading_;
  NegotiationPhase phase_;
  NegotiatedParams start_;
  NegotiatedParams params_;
  std::vector<KeyState> states_;
  bool failed_ = false;
  std::string failure_detail_;
};

}  // namespace uiscsi::core
