// fuzz_target_engine: TargetConnection (src/core/target_connection.hpp) driven by a fuzzed
// initiator. The harness plays the initiator and the LU layer: it logs in (a scripted login
// with parameters from the input, or none at all so the input's own bytes log in), then runs
// the operations of the input (layout: engine_input.hpp, target_op): SCSI commands with
// immediate and unsolicited data, Data-Out answering the R2Ts the target really sent (or
// wrong on purpose), NOP-Out, TMF, Text, Logout, SNACK, arbitrary correctly framed PDUs and raw
// bytes, all fed in chunks of fuzzed sizes through feed() or receive_buffer()/commit_received(),
// while virtual time advances. A fake LU answers the commands the engine hands out, in any
// order, with data-in of the requested length, short or long data, CHECK CONDITION and so on.
//
// Properties (a violation aborts with the failed condition):
//   - everything the target writes is a well-formed PDU stream for an initiator: digests as
//     negotiated, no data segment over the initiator's MaxRecvDataSegmentLength, MaxCmdSN never
//     below ExpCmdSN - 1, R2Ts within MaxBurstLength;
//   - output stays proportional to input and LU data (no amplification loop), and no single
//     allocation exceeds 16 MiB whatever lengths the initiator sends;
//   - tasks() is bounded by the PDUs received, and ExecuteCommand handles are never reused
//     while held; the CDB and Data-Out spans stay valid until complete() (ASan's shadow);
//   - after on_timer(now), next_deadline() is later than now (no busy timer);
//   - one TargetConnectionClosed at most, no ExecuteCommand after it; after connection_lost()
//     the engine is finished, writes nothing, and once the LU has answered what it held the
//     engine holds no task.
// FUZZ_TRACE=1 prints the PDUs both ways.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/bytes.hpp"
#include "core/target_connection.hpp"
#include "core/text.hpp"
#include "engine_input.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::fuzz {
namespace {

constexpr const char* kFuzzerName = "fuzz_target_engine";

using namespace core;
using namespace std::chrono_literals;

// ---- the target's surroundings ----------------------------------------------------------------

constexpr std::string_view kTargetName = "iqn.2026-11.dev.uiscsi:fuzz-target";
constexpr std::string_view kInitiatorName = "iqn.2026-11.dev.uiscsi:fuzz-initiator";
constexpr std::uint64_t kIsid = 0x80000000abcdull;
constexpr std::uint16_t kCid = 1;
constexpr std::size_t kMaxLuData = 1u << 20;

class Directory final : public TargetDirectory {
 public:
  std::optional<TargetInfo> find_target(std::string_view name) const override {
    if (name != kTargetName) return std::nullopt;
    return TargetInfo{"fuzz", 1, false, false};
  }
  bool allowed(std::string_view, std::string_view) const override { return true; }
  std::optional<Secret> chap_secret(std::string_view, std::string_view) const override {
    return std::nullopt;
  }
  std::optional<ChapCredentials> mutual_credentials(std::string_view) const override {
    return std::nullopt;
  }
  bool lun_exists(std::string_view, const Lun& lun) const override { return lun == Lun(); }
  bool discovery_chap_required() const override { return false; }
  KeyValueList send_targets(std::string_view, std::string_view which,
                            std::string_view) const override {
    if (which != "All" && !which.empty() && which != kTargetName) return {};
    return {{"TargetName", std::string(kTargetName)},
            {"TargetAddress", "127.0.0.1:3260,1"},
            {"TargetAddress", "[::1]:3260,1"}};
  }
  std::string redirect(std::string_view) const override { return {}; }
  std::uint16_t attach_session(std::string_view, std::uint64_t, std::uint16_t tsih,
                               std::string_view) override {
    if (tsih == 0) return 0x100;
    return tsih == 0x100 ? tsih : 0;
  }
};

class CountingRandom final : public RandomSource {
 public:
  void fill(std::span<std::byte> out) override {
    for (auto& b : out)
      b = static_cast<std::byte>(next_++ * 13 + 5);
  }

 private:
  unsigned next_ = 1;
};

std::uint32_t length_choice(std::uint8_t sel) {
  static constexpr std::uint32_t kTable[16] = {
      0,         1,           36,     512, 513, 4096, 8192, 65536, 262144, 1 << 20, (1 << 20) + 1,
      64u << 20, 0xffffffffu, 100000, 3,   2048};
  const std::uint32_t base = kTable[sel & 15];
  return base == 0 || base >= (1u << 20) ? base : base + ((sel >> 4) & 7) * 4;
}

// FUZZ_TRACE=1 prints the PDUs both ways (for reading a crash input).
const bool g_trace = std::getenv("FUZZ_TRACE") != nullptr;
void trace(const char* dir, std::span<const std::byte> pdu_head) {
  if (!g_trace || pdu_head.size() < kBhsSize) return;
  Bhs b;
  std::copy_n(pdu_head.begin(), kBhsSize, b.bytes.begin());
  auto h = decode_header(b, {ReservedPolicy::ignore});
  std::fprintf(stderr, "%s %s dsl=%u\n", dir, h ? describe(*h).c_str() : "(undecodable)",
               b.data_segment_length());
}

// ---- the harness ----------------------------------------------------------------------------

class Harness {
 public:
  explicit Harness(InputReader& in) : in_(in) {}

  void run() {
    configure();
    conn_ = std::make_unique<TargetConnection>(config_, directory_, random_, now_);
    FramerConfig fc;
    fc.role = Role::initiator;
    fc.max_recv_data_segment_length = kLoginMaxDataSegmentLength;
    out_framer_.configure(fc);
    if (login_mode_ != 0) scripted_login();
    while (!in_.empty() && !stopped_)
      step(static_cast<std::uint8_t>(in_.u8() % target_op::count));
    finish();
  }

 private:
  struct Held {
    std::uint32_t handle;
    std::uint32_t expected_in;
    std::span<const std::byte> cdb, data_out;
  };
  struct R2tSeen {
    Itt itt;
    Ttt ttt;
    Lun lun;
    std::uint32_t offset = 0, length = 0, sent = 0, data_sn = 0;
  };
  struct Unsolicited {
    Itt itt;
    Lun lun;
    std::uint32_t offset = 0, end = 0, data_sn = 0;
  };

  // ---- configuration ----

  void configure() {
    const std::uint8_t mode = in_.u8(), prm = in_.u8(), seg = in_.u8(), burst = in_.u8(),
                       win = in_.u8(), faults = in_.u8();
    login_cmd_sn_ = SerialNumber(in_.u32());
    next_cmd_sn_ = login_cmd_sn_;
    login_mode_ = mode & 3;
    discovery_ = (mode & 4) != 0;
    inline_lu_ = (mode & 8) != 0;

    NegotiationSettings& n = config_.negotiation;
    n.header_digest = {"CRC32C", "None"};
    n.data_digest = {"CRC32C", "None"};
    n.max_recv_data_segment_length = kSegmentChoices[(seg >> 3) & 7];
    n.max_burst_length = kBurstChoices[burst & 7];
    n.first_burst_length = kBurstChoices[(burst >> 3) & 7];
    n.max_outstanding_r2t = 1u + (burst >> 6);
    n.initial_r2t = false;  // the initiator's offers decide (OR / AND result functions)
    n.immediate_data = true;
    n.data_pdu_in_order = false;
    n.data_sequence_in_order = false;
    n.error_recovery_level = 2;
    n.default_time2wait = 0;
    n.default_time2retain = 0;
    static constexpr std::uint32_t kWindows[4] = {1, 2, 8, 128};
    config_.cmd_window = kWindows[win & 3];
    static constexpr std::uint32_t kCommandLimit[4] = {65536, 4096, 1u << 20, 1u << 20};
    static constexpr std::uint64_t kConnectionLimit[4] = {262144, 16384, 4u << 20, 1u << 20};
    config_.max_command_write_bytes = kCommandLimit[(win >> 2) & 3];
    config_.max_connection_write_bytes = kConnectionLimit[(win >> 2) & 3];
    config_.login_timeout = 10s;
    if (mode & 16) {
      config_.nop_in_interval = 5s;
      config_.nop_in_timeout = 2s;
    }
    config_.reserved_policy = (mode & 32) ? ReservedPolicy::ignore : ReservedPolicy::reject;
    if (mode & 64) {
      FaultPlan& f = config_.faults;
      f.data_in_out_of_order = faults & 1;
      f.set_a_bit = faults & 2;
      f.hold_window_closed = faults & 4;
      if (faults & 8) f.reject_pdu = 4;
      if (faults & 16) f.async_logout_after_commands = 2;
      if (faults & 32) f.async_drop_after_commands = 3;
      if (faults & 64) f.drop_after_pdus = 12;
      if (faults & 128) f.drop_after_bytes = 3000;
    }
    // What the harness offers as the initiator.
    offer_hd_ = prm & 1;
    offer_dd_ = prm & 2;
    offer_immediate_ = prm & 4;
    offer_initial_r2t_ = prm & 8;
    offer_pdu_in_order_ = !(prm & 16);
    offer_seq_in_order_ = !(prm & 32);
    offer_erl_ = std::min(2, prm >> 6);
    offer_mrdsl_ = kSegmentChoices[seg & 7];
    declared_max_ = std::max(kLoginMaxDataSegmentLength, offer_mrdsl_);
  }

  // ---- login ----

  KeyValueList login_keys(bool with_auth) const {
    KeyValueList k{{"InitiatorName", std::string(kInitiatorName)},
                   {"SessionType", discovery_ ? "Discovery" : "Normal"}};
    if (!discovery_) k.push_back({"TargetName", std::string(kTargetName)});
    if (with_auth) k.push_back({"AuthMethod", "None"});
    return k;
  }

  KeyValueList operational_keys() const {
    auto yn = [](bool b) { return std::string(b ? "Yes" : "No"); };
    return {{"HeaderDigest", offer_hd_ ? "CRC32C" : "None"},
            {"DataDigest", offer_dd_ ? "CRC32C" : "None"},
            {"MaxRecvDataSegmentLength", std::to_string(offer_mrdsl_)},
            {"ErrorRecoveryLevel", std::to_string(offer_erl_)},
            {"ImmediateData", yn(offer_immediate_)},
            {"InitialR2T", yn(offer_initial_r2t_)},
            {"MaxBurstLength", std::to_string(config_.negotiation.max_burst_length)},
            {"FirstBurstLength", std::to_string(config_.negotiation.first_burst_length)},
            {"MaxOutstandingR2T", std::to_string(config_.negotiation.max_outstanding_r2t)},
            {"DataPDUInOrder", yn(offer_pdu_in_order_)},
            {"DataSequenceInOrder", yn(offer_seq_in_order_)},
            {"DefaultTime2Wait", "0"},
            {"DefaultTime2Retain", "0"},
            {"MaxConnections", "1"}};
  }

  void send_login(LoginStage csg, LoginStage nsg, bool transit, const KeyValueList& keys) {
    LoginRequest r;
    r.transit = transit;
    r.csg = csg;
    r.nsg = transit ? nsg : LoginStage::security_negotiation;
    r.isid = kIsid;
    r.itt = Itt(0x70000000u);
    r.cid = kCid;
    r.cmd_sn = login_cmd_sn_;
    r.exp_stat_sn = exp_stat_sn_;
    login_answer_.reset();
    send(Header{r}, serialize_text(keys));
  }

  // Security stage (optional), then the operational stage until the target moves to full
  // feature phase; gives up quietly if the target refuses or stalls.
  void scripted_login() {
    LoginStage stage = LoginStage::operational_negotiation;
    if (login_mode_ >= 2) {
      stage = LoginStage::security_negotiation;
      send_login(stage, LoginStage::operational_negotiation, true, login_keys(true));
      for (int i = 0;
           i < 3 && login_answer_ && login_answer_->status_class == 0 && !login_answer_->transit;
           ++i)
        send_login(stage, LoginStage::operational_negotiation, true, {});
      if (!login_answer_ || login_answer_->status_class != 0 || !login_answer_->transit) return;
      stage = LoginStage::operational_negotiation;
      send_login(stage, LoginStage::full_feature_phase, true, operational_keys());
    } else {
      KeyValueList keys = login_keys(false);
      for (auto& kv : operational_keys())
        keys.push_back(kv);
      send_login(stage, LoginStage::full_feature_phase, true, keys);
    }
    for (int i = 0;
         i < 3 && login_answer_ && login_answer_->status_class == 0 && !conn_->logged_in(); ++i)
      send_login(stage, LoginStage::full_feature_phase, true, {});
  }

  // ---- feeding ----

  DigestConfig digests() const {
    const TargetLoginOutcome* s = conn_->session();
    if (s == nullptr) return {};
    return {s->params.header_digest, s->params.data_digest};
  }
  std::uint32_t target_mrdsl() const {
    const TargetLoginOutcome* s = conn_->session();
    return s ? s->params.target_max_recv_data_segment_length : kLoginMaxDataSegmentLength;
  }
  const NegotiatedParams* params() const {
    const TargetLoginOutcome* s = conn_->session();
    return s ? &s->params : nullptr;
  }

  void send(const Header& h, std::span<const std::byte> data, std::span<const std::byte> ahs = {},
            std::uint8_t corrupt = 0) {
    Bhs b;
    encode_header(h, b);
    send_bhs(b, ahs, data, corrupt);
  }
  void send_bhs(const Bhs& b, std::span<const std::byte> ahs, std::span<const std::byte> data,
                std::uint8_t corrupt = 0) {
    const DigestConfig d = digests();
    std::vector<std::byte> wire = serialize_pdu(b, ahs, data, d);
    trace("->", wire);
    if ((corrupt & 1) && d.header) wire[kBhsSize + ahs.size()] ^= std::byte{0x20};
    if ((corrupt & 2) && d.data && !data.empty()) wire.back() ^= std::byte{0x04};
    deliver(wire);
  }

  void deliver(std::span<const std::byte> bytes) {
    bytes_in_ += bytes.size();
    while (!bytes.empty()) {
      std::size_t n = chunk_ == 0 ? bytes.size() : std::min<std::size_t>(chunk_, bytes.size());
      const bool aligned = !ever_logged_in_ && !closed_seen_;
      if (aligned) n = std::min(n, boundary_.limit());
      const auto part = bytes.first(n);
      push_chunk(part);
      if (aligned) boundary_.advance(part);
      bytes = bytes.subspan(n);
      service();
    }
  }

  void push_chunk(std::span<const std::byte> b) {
    if (!use_receive_buffer_) {
      conn_->feed(b, now_);  // drops what a closing connection is fed
      return;
    }
    while (!b.empty()) {
      const std::span<std::byte> buf = conn_->receive_buffer();
      if (buf.empty()) return;  // closing: the socket is not read any more
      const std::size_t n = std::min(buf.size(), b.size());
      std::memcpy(buf.data(), b.data(), n);
      conn_->commit_received(n, now_);
      b = b.subspan(n);
    }
  }

  // Events, then output, then the invariants.
  void service() {
    poll_events();
    if (!ever_logged_in_ && conn_->logged_in()) {
      // The final Login Response is the last PDU without digests: read it, then switch.
      drain();
      ever_logged_in_ = true;
      const NegotiatedParams& p = *params();
      declared_max_ = std::max(declared_max_, p.initiator_max_recv_data_segment_length);
      FramerConfig fc = out_framer_.config();
      fc.digests = {p.header_digest, p.data_digest};
      fc.max_recv_data_segment_length = declared_max_;
      out_framer_.configure(fc);
    }
    if (ever_logged_in_) {
      // Only ever raised: a lower limit takes effect when the target has seen it.
      const std::uint32_t want = relaxed_ ? kMaxDataSegmentLength : declared_max_;
      if (out_framer_.config().max_recv_data_segment_length != want) {
        FramerConfig fc = out_framer_.config();
        fc.max_recv_data_segment_length = want;
        out_framer_.configure(fc);
      }
    }
    if (!blocked_ || !ever_logged_in_) drain();
    check_state();
  }

  void poll_events() {
    while (auto e = conn_->poll_event()) {
      if (auto* x = std::get_if<ExecuteCommand>(&*e)) {
        FUZZ_CHECK(!closed_seen_);
        for (const Held& h : held_)
          FUZZ_CHECK(h.handle != x->task);
        FUZZ_CHECK(!x->cdb.empty());
        held_.push_back({x->task, x->expected_data_in, x->cdb, x->data_out});
        if (inline_lu_) complete_held(held_.size() - 1, 0);
      } else if (auto* t = std::get_if<TaskManagement>(&*e)) {
        FUZZ_CHECK(!closed_seen_);
        held_tmfs_.push_back(t->request);
        if (inline_lu_) tmf_done_held(held_tmfs_.size() - 1);
      } else if (std::get_if<SessionUp>(&*e) != nullptr) {
        FUZZ_CHECK(!session_up_seen_);
        session_up_seen_ = true;
      } else if (std::get_if<TargetConnectionClosed>(&*e) != nullptr) {
        FUZZ_CHECK(!closed_seen_);
        closed_seen_ = true;
      }
    }
  }

  // Writes everything the engine has queued into the initiator's framer.
  void drain() {
    for (int round = 0;; ++round) {
      std::array<std::span<const std::byte>, 64> iov;
      const std::size_t n = conn_->gather(iov);
      if (n == 0) break;
      std::size_t total = 0;
      for (std::size_t i = 0; i < n; ++i) {
        read_output(iov[i]);
        total += iov[i].size();
      }
      FUZZ_CHECK(total > 0);
      conn_->consume(total);
      bytes_out_ += total;
      FUZZ_CHECK(bytes_out_ <= output_budget());
      poll_events();  // expanding Data-In may free tasks; nothing should be produced here
    }
  }

  std::uint64_t output_budget() const {
    return 16 * bytes_in_ + 2 * lu_data_ + 256 * timer_calls_ + 65536;
  }

  void read_output(std::span<const std::byte> bytes) {
    read_engine_output(out_framer_, bytes, "target", [&](const auto& pdu) { observe(pdu); });
  }

  void note_stat_sn(SerialNumber sn) {
    if (serial_ge(sn, exp_stat_sn_) || !stat_sn_known_) exp_stat_sn_ = sn + 1;
    stat_sn_known_ = true;
  }
  void check_window(SerialNumber exp, SerialNumber max) {
    FUZZ_CHECK(!serial_lt(max, exp - 1));
    if (serial_gt(exp, target_exp_cmd_sn_)) target_exp_cmd_sn_ = exp;
  }
  void forget_task(Itt itt) {
    std::erase_if(r2ts_, [&](const R2tSeen& r) { return r.itt == itt; });
    std::erase_if(unsolicited_, [&](const Unsolicited& u) { return u.itt == itt; });
  }

  // What an initiator learns from the target's PDUs.
  void observe(const InboundPdu& pdu) {
    ++pdus_out_;
    trace("<-", pdu.bhs.bytes);
    std::visit(
        [&](const auto& h) {
          using T = std::decay_t<decltype(h)>;
          if constexpr (requires { h.max_cmd_sn; }) {
            if constexpr (!std::is_same_v<T, LoginResponse>)
              check_window(h.exp_cmd_sn, h.max_cmd_sn);
          }
          if constexpr (std::is_same_v<T, LoginResponse>) {
            FUZZ_CHECK(!ever_logged_in_);
            login_answer_ = h;
            note_stat_sn(h.stat_sn);
          } else if constexpr (std::is_same_v<T, R2t>) {
            const NegotiatedParams* p = params();
            FUZZ_CHECK(h.desired_data_transfer_length > 0);
            FUZZ_CHECK(p == nullptr || h.desired_data_transfer_length <= p->max_burst_length);
            if (r2ts_.size() >= 256) r2ts_.erase(r2ts_.begin());
            r2ts_.push_back(
                {h.itt, h.ttt, h.lun, h.buffer_offset, h.desired_data_transfer_length, 0, 0});
          } else if constexpr (std::is_same_v<T, DataIn>) {
            if (h.status_present) {
              note_stat_sn(h.stat_sn);
              forget_task(h.itt);
            }
            if (h.acknowledge) last_ack_ttt_ = h.ttt;
          } else if constexpr (std::is_same_v<T, ScsiResponse>) {
            note_stat_sn(h.stat_sn);
            forget_task(h.itt);
          } else if constexpr (std::is_same_v<T, NopIn>) {
            if (h.itt.is_reserved()) {
              FUZZ_CHECK(!h.ttt.is_reserved());  // an unsolicited NOP-In is a ping
              ping_ttt_ = h.ttt;
            } else {
              note_stat_sn(h.stat_sn);
            }
          } else if constexpr (std::is_same_v<T, TextResponse>) {
            note_stat_sn(h.stat_sn);
            if (!h.ttt.is_reserved()) {
              text_itt_ = h.itt;
              text_ttt_ = h.ttt;
            }
          } else if constexpr (requires { h.stat_sn; }) {
            note_stat_sn(h.stat_sn);
          }
        },
        pdu.header);
  }

  void check_state() {
    const std::size_t tasks = conn_->tasks();
    FUZZ_CHECK(tasks <= conn_->stats().pdus_in);
    FUZZ_CHECK(held_.size() <= tasks || closed_seen_ || stopped_);
    if (closed_seen_) {
      FUZZ_CHECK(conn_->finished());
      FUZZ_CHECK(!conn_->wants_write());
      FUZZ_CHECK(!conn_->next_deadline());
    }
  }

  // ---- the fake LU ----

  void complete_held(std::size_t index, std::uint8_t how) {
    const Held h = held_[index];
    held_.erase(held_.begin() + static_cast<std::ptrdiff_t>(index));
    // The engine promised these spans until complete().
    FUZZ_CHECK(memory_is_live(h.cdb) && memory_is_live(h.data_out));
    CommandOutcome o;
    const std::size_t full = std::min<std::size_t>(h.expected_in, kMaxLuData);
    auto sense = [&](std::uint8_t key, std::size_t n) {
      o.status = 0x02;
      o.sense.assign(n, std::byte{0});
      o.sense[0] = std::byte{0x70};
      o.sense[2] = std::byte{key};
      o.sense[7] = std::byte{10};
      o.sense[12] = std::byte{0x24};
    };
    switch (how % 8) {
      case 0:
        o.data_in.assign(pattern_bytes(full).begin(), pattern_bytes(full).end());
        break;
      case 1:
        o.data_in.assign(pattern_bytes(full / 2).begin(), pattern_bytes(full / 2).end());
        break;
      case 2: {
        const std::size_t n = std::min<std::size_t>(full + 1 + (how >> 3) * 100, kMaxLuData);
        o.data_in.assign(pattern_bytes(n).begin(), pattern_bytes(n).end());
        break;
      }
      case 3:
        sense(static_cast<std::uint8_t>((how >> 3) & 0x0f), 18);
        break;
      case 4:
        o.status = 0x08;  // BUSY
        break;
      case 5:  // CHECK CONDITION with data as well, and long sense
        sense(0x05, 18 + (how >> 3) * 7);
        o.data_in.assign(pattern_bytes(full / 3).begin(), pattern_bytes(full / 3).end());
        break;
      case 6:
        o.data_out_length = h.data_out.size() + (how >> 3) - 16;
        break;
      case 7:
        o.status = 0x28;  // TASK SET FULL
        break;
    }
    lu_data_ += o.data_in.size() + o.sense.size();
    conn_->complete(h.handle, std::move(o), now_);
    completed_handles_.push_back(h.handle);
  }

  void tmf_done_held(std::size_t index) {
    const std::uint32_t r = held_tmfs_[index];
    held_tmfs_.erase(held_tmfs_.begin() + static_cast<std::ptrdiff_t>(index));
    conn_->tmf_done(r, now_);
  }

  // ---- operations ----

  Itt pick_itt(std::uint8_t sel) const {
    if (sel == 0xff) return Itt::reserved();
    return Itt(0x10u + (sel & 31));
  }
  Lun pick_lun(std::uint8_t sel) const {
    switch (sel & 3) {
      case 1:
        return Lun::from_u64(0x0001000000000000ull);  // LUN 1: absent
      case 2:
        return Lun::from_u64(0xc101000000000000ull);  // an odd addressing form
      default:
        return Lun();
    }
  }
  SerialNumber take_cmd_sn(bool immediate) {
    const SerialNumber sn = next_cmd_sn_;
    if (!immediate) ++next_cmd_sn_;
    return sn;
  }

  void step(std::uint8_t op) {
    switch (op) {
      case target_op::raw: {
        const std::size_t n = in_.u8();
        if (ever_logged_in_) relaxed_ = true;
        const auto b = in_.bytes(n);
        std::vector<std::byte> copy(b.begin(), b.end());
        deliver(copy);
        break;
      }
      case target_op::command:
        op_command();
        break;
      case target_op::data_out:
        op_data_out();
        break;
      case target_op::nop_out:
        op_nop_out();
        break;
      case target_op::tmf:
        op_tmf();
        break;
      case target_op::text:
        op_text();
        break;
      case target_op::logout: {
        const std::uint8_t reason = in_.u8(), flags = in_.u8();
        LogoutRequest l;
        l.immediate = !(flags & 1);
        l.reason = static_cast<LogoutReason>(reason % 3);
        l.itt = Itt(0xc000u + (flags >> 4));
        l.cid = (flags & 2) ? 7 : kCid;
        l.cmd_sn = take_cmd_sn(l.immediate);
        l.exp_stat_sn = exp_stat_sn_;
        send(Header{l}, {});
        break;
      }
      case target_op::snack: {
        const std::uint8_t type = in_.u8(), sel = in_.u8();
        SnackRequest s;
        s.type = static_cast<SnackType>(type % 4);
        s.itt = pick_itt(sel);
        s.ttt = last_ack_ttt_;
        s.exp_stat_sn = exp_stat_sn_;
        s.beg_run = in_.u16();
        s.run_length = in_.u16();
        send(Header{s}, {});
        break;
      }
      case target_op::any_pdu:
        op_any_pdu();
        break;
      case target_op::time:
        op_time(in_.u16());
        break;
      case target_op::complete: {
        const std::uint8_t pick = in_.u8(), how = in_.u8();
        if (!held_.empty()) complete_held(pick % held_.size(), how);
        service();
        break;
      }
      case target_op::tmf_done: {
        const std::uint8_t pick = in_.u8();
        if (!held_tmfs_.empty()) tmf_done_held(pick % held_tmfs_.size());
        service();
        break;
      }
      case target_op::chunking:
        chunk_ = in_.u16();
        use_receive_buffer_ = in_.u8() & 1;
        break;
      case target_op::block_writes:
        blocked_ = !blocked_;
        service();
        break;
      case target_op::lost:
        conn_->connection_lost(
            (in_.u8() & 1) ? std::error_code{} : make_error_code(errc::connection_closed), now_);
        stopped_ = true;
        service();
        break;
      case target_op::stale: {
        // A handle the engine may never have given out, or gave out and took back.
        std::uint32_t v = in_.u32();
        if (!completed_handles_.empty() && (v & 0x80000000u))
          v = completed_handles_[v % completed_handles_.size()];
        if (std::none_of(held_.begin(), held_.end(), [&](const Held& h) { return h.handle == v; }))
          conn_->complete(v, {}, now_);
        if (std::find(held_tmfs_.begin(), held_tmfs_.end(), v) == held_tmfs_.end())
          conn_->tmf_done(v, now_);
        service();
        break;
      }
    }
  }

  void op_command() {
    const std::uint8_t flags = in_.u8(), isel = in_.u8(), lsel = in_.u8(), imsel = in_.u8(),
                       opcode = in_.u8(), lunsel = in_.u8();
    const std::int8_t delta = static_cast<std::int8_t>((flags & 0x40) ? in_.u8() : 0);
    const NegotiatedParams* p = params();
    ScsiCommand c;
    c.read = flags & 1;
    c.write = flags & 2;
    c.immediate = flags & 4;
    c.itt = pick_itt(isel);
    c.lun = pick_lun(lunsel);
    c.attr = static_cast<TaskAttribute>((lunsel >> 2) % 5);
    std::uint32_t edtl = length_choice(lsel);
    if (!c.read && !c.write && !(lunsel & 0x80)) edtl = 0;
    c.expected_data_transfer_length = edtl;
    c.cmd_sn = take_cmd_sn(c.immediate);
    if (flags & 0x40) c.cmd_sn = c.cmd_sn + static_cast<std::uint32_t>(std::int32_t{delta});
    if (!c.immediate && c.itt.value >= 0x10 && c.itt.value < 0x30)
      cmd_sn_of_[c.itt.value - 0x10] = c.cmd_sn;
    c.exp_stat_sn = exp_stat_sn_;
    std::array<std::byte, 32> cdb{};
    cdb[0] = std::byte{opcode};
    store_be32(cdb.data() + 2, lsel);
    store_be16(cdb.data() + 7, static_cast<std::uint16_t>(edtl / 512));
    std::vector<std::byte> ahs;
    if (flags & 0x10) {
      (void)set_cdb(c, cdb, ahs);
    } else {
      std::copy_n(cdb.begin(), 16, c.cdb.begin());
    }
    if (c.read && c.write && (flags & 0x20)) append_bidi_read_length_ahs(ahs, length_choice(imsel));

    // Immediate data, and whether unsolicited Data-Out follows (F=0).
    std::uint32_t immediate = 0;
    std::uint32_t unsolicited_end = 0;
    if (c.write && edtl > 0 && p != nullptr) {
      const std::uint32_t first = std::min(p->first_burst_length, edtl);
      const std::uint32_t allowed = std::min(first, target_mrdsl());
      switch (imsel & 3) {
        case 0:
          break;
        case 1:
          immediate = allowed;
          break;
        case 2:
          immediate = std::min<std::uint32_t>(allowed, (imsel >> 2) * 37u + 1);
          break;
        case 3:
          immediate = std::min<std::uint32_t>(allowed + 1 + (imsel >> 2), 1u << 20);
          break;
      }
      if (!p->immediate_data && (imsel & 3) != 3) immediate = 0;
      if (!p->initial_r2t) unsolicited_end = first;
    }
    c.final = !(unsolicited_end > immediate);
    if (flags & 0x08) c.final = !c.final;
    send(Header{c}, pattern_bytes(immediate), ahs);
    if (!c.final && unsolicited_end > immediate) {
      if (unsolicited_.size() >= 64) unsolicited_.erase(unsolicited_.begin());
      unsolicited_.push_back({c.itt, c.lun, immediate, unsolicited_end, 0});
      if (flags & 0x80) send_unsolicited(unsolicited_.size() - 1, 0, 0);
    }
  }

  // Sends the rest of an unsolicited burst (or one PDU of it).
  void send_unsolicited(std::size_t index, std::uint8_t len, std::uint8_t flags) {
    Unsolicited u = unsolicited_[index];  // a copy: sending may change the list
    const std::uint32_t limit = std::max<std::uint32_t>(1, target_mrdsl());
    bool done = false;
    while (u.offset < u.end && !done) {
      std::uint32_t n = std::min(limit, u.end - u.offset);
      if (flags & 1) {
        n = len == 0 ? n : std::min<std::uint32_t>(n, len * 16u);
        done = true;
      }
      DataOut d;
      d.lun = u.lun;
      d.itt = u.itt;
      d.ttt = Ttt::reserved();
      d.exp_stat_sn = exp_stat_sn_;
      d.data_sn = u.data_sn++;
      d.buffer_offset = u.offset;
      d.final = u.offset + n == u.end;
      corrupt_data_out(d, n, flags);
      u.offset += n;
      send(Header{d}, pattern_bytes(n), {}, (flags & 0x40) ? 2 : 0);
    }
    // The list may have changed under us (a response forgets the task's burst).
    auto it = std::find_if(unsolicited_.begin(), unsolicited_.end(),
                           [&](const Unsolicited& x) { return x.itt == u.itt && x.end == u.end; });
    if (it == unsolicited_.end()) return;
    if (u.offset >= u.end || (flags & 0x3e)) {
      unsolicited_.erase(it);
    } else {
      *it = u;
    }
  }

  void corrupt_data_out(DataOut& d, std::uint32_t& n, std::uint8_t flags) {
    if (flags & 2) d.final = !d.final;
    if (flags & 4) ++d.data_sn;
    if (flags & 8) d.buffer_offset += (flags & 0x80) ? 4096u : 1u;
    if (flags & 0x10) d.ttt = Ttt(d.ttt.value + 0x1000);
    if (flags & 0x20) n += 1 + (flags >> 7) * 511;
  }

  void op_data_out() {
    const std::uint8_t pick = in_.u8(), len = in_.u8(), flags = in_.u8();
    const bool want_unsolicited = (pick & 0x80) || r2ts_.empty();
    if (want_unsolicited && !unsolicited_.empty()) {
      send_unsolicited(pick % unsolicited_.size(), len, flags);
      return;
    }
    if (r2ts_.empty()) {
      // Nobody asked: Data-Out for a tag from the input.
      DataOut d;
      d.itt = pick_itt(pick);
      d.ttt = Ttt(0x100u + len);
      d.final = flags & 1;
      d.exp_stat_sn = exp_stat_sn_;
      d.buffer_offset = flags * 512u;
      send(Header{d}, pattern_bytes(len));
      return;
    }
    const std::size_t index = pick % r2ts_.size();
    R2tSeen r = r2ts_[index];
    const std::uint32_t limit = std::max<std::uint32_t>(1, target_mrdsl());
    bool done = false;
    while (r.sent < r.length && !done) {
      std::uint32_t n = std::min(limit, r.length - r.sent);
      if (flags & 1) {
        n = len == 0 ? n : std::min<std::uint32_t>(n, len * 16u);
        done = true;
      }
      DataOut d;
      d.lun = r.lun;
      d.itt = r.itt;
      d.ttt = r.ttt;
      d.exp_stat_sn = exp_stat_sn_;
      d.data_sn = r.data_sn++;
      d.buffer_offset = r.offset + r.sent;
      d.final = r.sent + n == r.length;
      corrupt_data_out(d, n, flags);
      r.sent += n;
      send(Header{d}, pattern_bytes(n), {}, (flags & 0x40) ? 2 : 0);
    }
    // The list may have changed under us (a response forgets the task's R2Ts).
    auto it = std::find_if(r2ts_.begin(), r2ts_.end(),
                           [&](const R2tSeen& x) { return x.itt == r.itt && x.ttt == r.ttt; });
    if (it == r2ts_.end()) return;
    if (r.sent >= r.length || (flags & 0x3e)) {
      r2ts_.erase(it);
    } else {
      *it = r;
    }
  }

  void op_nop_out() {
    const std::uint8_t flags = in_.u8(), len = in_.u8();
    NopOut n;
    n.immediate = !(flags & 4);
    n.ttt = Ttt::reserved();
    n.itt = Itt(0x9000u + (flags >> 4));
    if ((flags & 1) && ping_ttt_) {
      n.itt = Itt::reserved();
      n.ttt = *ping_ttt_;
      ping_ttt_.reset();
    } else if (flags & 2) {
      n.itt = Itt::reserved();
    }
    n.cmd_sn = take_cmd_sn(n.immediate);
    n.exp_stat_sn = exp_stat_sn_;
    send(Header{n}, pattern_bytes(std::size_t{len} * ((flags & 8) ? 64 : 1)));
  }

  void op_tmf() {
    const std::uint8_t fn = in_.u8(), ref = in_.u8(), flags = in_.u8();
    TaskMgmtRequest t;
    t.function = static_cast<TmfFunction>(1 + fn % 8);
    t.immediate = !(flags & 1);
    t.itt = Itt(0xa000u + (flags >> 4));
    t.lun = pick_lun(flags >> 2);
    if (t.function == TmfFunction::abort_task || t.function == TmfFunction::task_reassign) {
      t.referenced_task_tag = pick_itt(ref);
      t.ref_cmd_sn =
          (flags & 2) || ref >= 0x30 ? next_cmd_sn_ - 1 - (ref & 3) : cmd_sn_of_[ref & 31];
    }
    t.cmd_sn = take_cmd_sn(t.immediate);
    t.exp_stat_sn = exp_stat_sn_;
    send(Header{t}, {});
  }

  void op_text() {
    const std::uint8_t choice = in_.u8(), flags = in_.u8();
    std::string text;
    switch (choice % 8) {
      case 0:
        text = "SendTargets=All";
        break;
      case 1:
        text = "SendTargets=" + std::string(kTargetName);
        break;
      case 2:
        text = "SendTargets=iqn.2026-11.dev.uiscsi:nobody";
        break;
      case 3: {
        const std::uint32_t m = kSegmentChoices[(flags >> 4) & 7];
        declared_max_ = std::max(declared_max_, m);
        text = "MaxRecvDataSegmentLength=" + std::to_string(m);
        break;
      }
      case 4:
        text = "MaxBurstLength=4096";
        text.push_back('\0');
        text += "X-org.example.Feature=Yes";
        break;
      case 5:
        text = "HeaderDigest=CRC32C";  // not in full feature phase
        break;
      case 6:
        text = "SendTargets=";  // the start of a long request (C bit)
        break;
      case 7: {
        const auto b = in_.bytes(in_.u8());
        text.assign(reinterpret_cast<const char*>(b.data()), b.size());
        if (text.find("MaxRecvDataSegmentLength") != std::string::npos) relaxed_ = true;
        break;
      }
    }
    if (choice % 8 != 7) text.push_back('\0');
    if (!ever_logged_in_) {
      // Before full feature phase the same choices make Login Requests.
      LoginRequest r;
      r.transit = flags & 1;
      r.cont = flags & 2;
      r.csg = static_cast<LoginStage>((flags >> 2) & 1);
      r.nsg = r.transit ? static_cast<LoginStage>(((flags >> 3) & 1) ? 3 : 1)
                        : LoginStage::security_negotiation;
      r.isid = kIsid;
      r.tsih = (flags & 0x40) ? 0x100 : 0;
      r.itt = Itt(0x70000000u);
      r.cid = kCid;
      r.cmd_sn = login_cmd_sn_;
      r.exp_stat_sn = exp_stat_sn_;
      std::vector<std::byte> data;
      if (choice & 0x80) {
        KeyValueList keys = login_keys((flags & 4) == 0);
        if (flags & 0x80)
          for (auto& kv : operational_keys())
            keys.push_back(kv);
        data = serialize_text(keys);
      } else {
        data.assign(as_bytes(text).begin(), as_bytes(text).end());
      }
      send(Header{r}, data);
      return;
    }
    TextRequest r;
    r.immediate = !(flags & 1);
    r.itt = Itt(0xb000u + ((flags >> 1) & 3));
    r.ttt = Ttt::reserved();
    r.cont = choice % 8 == 6 || (flags & 8);
    r.final = !r.cont;
    if ((flags & 0x80) && text_ttt_) {  // ask for the rest of a long answer
      r.itt = *text_itt_;
      r.ttt = *text_ttt_;
      text.clear();
    }
    r.cmd_sn = take_cmd_sn(r.immediate);
    r.exp_stat_sn = exp_stat_sn_;
    send(Header{r}, as_bytes(text));
  }

  void op_any_pdu() {
    Bhs b;
    const auto raw = in_.bytes(kBhsSize);
    std::copy(raw.begin(), raw.end(), b.bytes.begin());
    const std::uint8_t ahs_words = in_.u8();
    const std::size_t data_len = in_.u16() % 9000;
    const auto ahs = in_.bytes((ahs_words & 3) * 4u);
    if (ever_logged_in_ && (b.raw_opcode() == 0x04 || b.raw_opcode() == 0x03)) relaxed_ = true;
    // Keep the initiator's sequence numbers often enough to get past the window check.
    if (ahs_words & 0x10) store_be32(b.bytes.data() + 24, next_cmd_sn_.value());
    std::vector<std::byte> a(ahs.begin(), ahs.end());
    a.resize(round_up4(a.size()));
    send_bhs(b, a, pattern_bytes(data_len), (ahs_words >> 6) & 3);
  }

  void op_time(std::uint16_t steps) {
    if (steps == 0) {
      if (auto d = conn_->next_deadline(); d && *d > now_) now_ = *d;
    } else {
      now_ += std::chrono::milliseconds(std::uint64_t{steps} * 50);
    }
    ++timer_calls_;
    conn_->on_timer(now_);
    poll_events();
    // A deadline that on_timer() leaves in the past makes the event loop spin. Once finished()
    // the server closes the connection, so only a live one counts.
    if (auto d = conn_->next_deadline(); d && !conn_->finished()) FUZZ_CHECK(*d > now_);
    service();
  }

  // ---- the end ----

  void finish() {
    // The LU answers everything it holds and the socket takes everything queued.
    blocked_ = false;
    for (int round = 0; round < 64 && (!held_.empty() || !held_tmfs_.empty()); ++round) {
      while (!held_.empty())
        complete_held(0, 0);
      while (!held_tmfs_.empty())
        tmf_done_held(0);
      service();
    }
    service();
    // The initiator goes away.
    conn_->connection_lost(make_error_code(errc::connection_closed), now_);
    poll_events();
    FUZZ_CHECK(closed_seen_);
    FUZZ_CHECK(conn_->finished());
    FUZZ_CHECK(!conn_->wants_write());
    std::array<std::span<const std::byte>, 4> iov;
    FUZZ_CHECK(conn_->gather(iov) == 0);
    // Commands the LU still held when the connection went (after a `lost` operation).
    while (!held_.empty())
      complete_held(0, 0);
    while (!held_tmfs_.empty())
      tmf_done_held(0);
    poll_events();
    FUZZ_CHECK(conn_->gather(iov) == 0);
    FUZZ_CHECK(!conn_->next_deadline());
    // Every task ended with the connection, or with the LU's answer for those it ran.
    FUZZ_CHECK(conn_->tasks() == 0);
    // Nothing the closed connection is fed does anything.
    const std::byte junk[kBhsSize] = {};
    conn_->feed(junk, now_);
    conn_->on_timer(now_ + 1h);
    FUZZ_CHECK(!conn_->poll_event());
    FUZZ_CHECK(conn_->gather(iov) == 0);
  }

  InputReader& in_;
  TargetConfig config_;
  Directory directory_;
  CountingRandom random_;
  TimePoint now_{std::chrono::seconds(100000)};
  std::unique_ptr<TargetConnection> conn_;
  Framer out_framer_;
  PduBoundary boundary_;

  int login_mode_ = 0;
  bool discovery_ = false;
  bool inline_lu_ = false;
  bool offer_hd_ = false, offer_dd_ = false, offer_immediate_ = true, offer_initial_r2t_ = true;
  bool offer_pdu_in_order_ = true, offer_seq_in_order_ = true;
  int offer_erl_ = 0;
  std::uint32_t offer_mrdsl_ = 8192;
  std::uint32_t declared_max_ = 8192;
  bool relaxed_ = false;  // raw bytes may have renegotiated MaxRecvDataSegmentLength

  SerialNumber login_cmd_sn_;
  SerialNumber next_cmd_sn_;
  SerialNumber exp_stat_sn_{0};
  bool stat_sn_known_ = false;
  SerialNumber target_exp_cmd_sn_{0};
  std::array<SerialNumber, 32> cmd_sn_of_{};
  std::optional<LoginResponse> login_answer_;
  std::optional<Ttt> ping_ttt_;
  std::optional<Itt> text_itt_;
  std::optional<Ttt> text_ttt_;
  Ttt last_ack_ttt_;
  std::vector<R2tSeen> r2ts_;
  std::vector<Unsolicited> unsolicited_;

  std::vector<Held> held_;
  std::vector<std::uint32_t> held_tmfs_;
  std::vector<std::uint32_t> completed_handles_;

  std::size_t chunk_ = 0;
  bool use_receive_buffer_ = false;
  bool blocked_ = false;
  bool stopped_ = false;
  bool ever_logged_in_ = false;
  bool session_up_seen_ = false;
  bool closed_seen_ = false;
  std::uint64_t bytes_in_ = 0, bytes_out_ = 0, lu_data_ = 0, timer_calls_ = 0, pdus_out_ = 0;
};

}  // namespace
}  // namespace uiscsi::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  uiscsi::fuzz::ArmAllocationCap cap;
  uiscsi::fuzz::InputReader in(data, size);
  uiscsi::fuzz::Harness h(in);
  h.run();
  return 0;
}
