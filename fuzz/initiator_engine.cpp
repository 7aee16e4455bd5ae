// fuzz_initiator_engine: InitiatorSession (src/core/initiator_session.hpp) against a fuzzed
// target. The harness plays the target and the session's user: it answers the login (a
// scripted login with parameters from the input, or Login Responses built from the input), then
// runs the operations of the input (layout: engine_input.hpp, initiator_op): SCSI Response,
// Data-In, R2T, NOP-In, Async, Reject, Logout/TMF/Text Responses built on templates whose ITTs,
// offsets and sequence numbers follow what the initiator really sent (and break them when the
// input says so), arbitrary correctly framed PDUs and raw bytes, fed in chunks of fuzzed sizes
// through feed() or receive_buffer()/commit_received(); meanwhile the user submits reads,
// writes, bidirectional commands, TMFs, cancels, text requests and logouts, time advances past
// deadlines, the connection is lost and the session reinstates itself on a new connection.
//
// Properties (a violation aborts with the failed condition):
//   - every submitted task ends with exactly one TaskDone/TmfDone/TextDone/LogoutDone, never
//     one for an id that was not submitted; tasks with a deadline have ended once time is past
//     it, and every task has ended once the connection is lost and recovery has given up;
//   - the engine touches no caller buffer outside its bounds or after the task's end (each read
//     and write buffer is its own heap block, freed at TaskDone: ASan checks both);
//   - everything the initiator writes is a well-formed PDU stream for a target: digests as
//     negotiated, no data segment over the target's MaxRecvDataSegmentLength, Data-Out inside
//     the command's write length, no command beyond the MaxCmdSN we announced;
//   - output stays proportional to input and submitted data, the task table stays bounded, no
//     single allocation exceeds 16 MiB, and after on_timer(now) next_deadline() is later than now.
// FUZZ_TRACE=1 prints the PDUs both ways.
#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "core/bytes.hpp"
#include "core/initiator_session.hpp"
#include "core/text.hpp"
#include "engine_input.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi::fuzz {
namespace {

constexpr const char* kFuzzerName = "fuzz_initiator_engine";

using namespace core;
using namespace std::chrono_literals;

const bool g_trace = std::getenv("FUZZ_TRACE") != nullptr;
void trace(const char* dir, std::span<const std::byte> head) {
  if (!g_trace || head.size() < kBhsSize) return;
  Bhs b;
  std::copy_n(head.begin(), kBhsSize, b.bytes.begin());
  auto h = decode_header(b, {ReservedPolicy::ignore});
  std::fprintf(stderr, "%s %s dsl=%u\n", dir, h ? describe(*h).c_str() : "(undecodable)",
               b.data_segment_length());
}

constexpr std::string_view kTargetName = "iqn.2026-11.dev.uiscsi:fuzz-target";
constexpr std::size_t kMaxBuffer = 256 * 1024;

class CountingRandom final : public RandomSource {
 public:
  void fill(std::span<std::byte> out) override {
    for (auto& b : out)
      b = static_cast<std::byte>(next_++ * 7 + 3);
  }

 private:
  unsigned next_ = 1;
};

std::uint32_t buffer_length(std::uint8_t sel) {
  static constexpr std::uint32_t kTable[16] = {
      0, 1, 36, 512, 513, 4096, 8192, 8193, 16384, 65536, 65537, 262144, 777, 3000, 2048, 100000};
  const std::uint32_t base = kTable[sel & 15];
  return std::min<std::uint32_t>(base == 0 ? 0 : base + ((sel >> 4) & 7) * 4, kMaxBuffer);
}

// ---- the harness ----------------------------------------------------------------------------

class Harness {
 public:
  explicit Harness(InputReader& in) : in_(in) {}

  void run() {
    configure();
    session_ = std::make_unique<InitiatorSession>(config_, random_);
    open();
    if (login_mode_ != 0) scripted_login(0);
    while (!in_.empty())
      step(static_cast<std::uint8_t>(in_.u8() % initiator_op::count));
    finish();
  }

 private:
  // A command as the target saw it.
  struct Command {
    Itt itt;
    Lun lun;
    SerialNumber cmd_sn;
    std::uint32_t read_length = 0, write_length = 0;
    std::uint32_t next_data_sn = 0, next_in_offset = 0;  // Data-In
    std::uint32_t r2t_sn = 0, next_r2t_offset = 0;       // R2T (bidi: shares next_data_sn)
  };
  struct Submitted {
    int kind;  // 0 SCSI, 1 TMF, 2 text, 3 logout
    std::unique_ptr<std::byte[]> in, out;
    std::size_t in_size = 0, out_size = 0;
    std::optional<TimePoint> deadline;
    // Logout: the Logout Request must have gone out by then, and how many had gone before.
    std::optional<TimePoint> send_by;
    std::uint64_t logouts_before = 0;
  };
  enum Kind { kScsi, kTmf, kText, kLogout };

  // ---- configuration ----

  void configure() {
    const std::uint8_t mode = in_.u8(), prm = in_.u8(), seg = in_.u8(), burst = in_.u8(),
                       win = in_.u8();
    stat_sn_ = SerialNumber(in_.u32());
    tsih_ = in_.u8();
    login_mode_ = mode & 3;
    target_picks_crc_ = mode & 64;
    config_.initiator_name = "iqn.2026-11.dev.uiscsi:fuzz-initiator";
    config_.target_name = std::string(kTargetName);
    config_.isid = 0x80000000beefull;
    config_.login_timeout = 5s;
    config_.keepalive_interval = (mode & 8) ? 5s : 0s;
    config_.keepalive_timeout = 2s;
    config_.reserved_policy = (mode & 16) ? ReservedPolicy::ignore : ReservedPolicy::reject;
    config_.trace_pdus = mode & 128;
    config_.recovery = mode & 4;
    config_.max_recovery_attempts = 2;
    config_.recovery_backoff = 100ms;
    config_.max_recovery_backoff = 1s;
    config_.exp_stat_sn_ack_threshold = 1u + (win >> 3);
    NegotiationSettings& n = config_.negotiation;
    if (mode & 32) {
      n.header_digest = {"CRC32C", "None"};
      n.data_digest = {"CRC32C", "None"};
    }
    n.immediate_data = prm & 1;
    n.initial_r2t = prm & 2;
    n.data_pdu_in_order = !(prm & 4);
    n.data_sequence_in_order = !(prm & 8);
    n.error_recovery_level = std::min(2, (prm >> 4) & 3);
    n.max_outstanding_r2t = 1u + (prm >> 6);
    n.max_recv_data_segment_length = kSegmentChoices[seg & 7];
    n.max_burst_length = kBurstChoices[burst & 7];
    n.first_burst_length = kBurstChoices[(burst >> 3) & 7];
    n.default_time2wait = 0;
    target_mrdsl_ = kSegmentChoices[(seg >> 3) & 7];
    target_burst_cap_ = (burst & 0x40) ? 4096 : 1u << 24;
    static constexpr std::uint32_t kWindows[8] = {1, 2, 8, 32, 128, 0, 3, 64};
    window_ = kWindows[win & 7];
  }

  // ---- connections and login ----

  void open() {
    cid_ = session_->open_connection(now_);
    FramerConfig fc;
    fc.role = Role::target;
    fc.max_recv_data_segment_length = kLoginMaxDataSegmentLength;
    out_framer_ = Framer(fc);
    in_digests_ = {};
    boundary_.reset();
    conn_logged_in_ = false;
    conn_closed_ = false;
    login_req_.reset();
    ++connections_;
    service();
  }

  // Answers the initiator's Login Requests as a compliant target; `refuse` (from the input)
  // refuses the last step instead.
  void scripted_login(std::uint8_t refuse) {
    for (int round = 0; round < 6 && !conn_logged_in_ && !conn_closed_; ++round) {
      if (!login_req_) return;
      const LoginRequest req = *login_req_;
      login_req_.reset();
      const bool final = req.transit && req.nsg == LoginStage::full_feature_phase;
      KeyValueList reply;
      if (auto keys = parse_text(login_data_)) reply = answer_keys(*keys, req.csg);
      LoginResponse r;
      r.transit = req.transit;
      r.csg = req.csg;
      r.nsg = req.transit ? req.nsg : LoginStage::security_negotiation;
      r.isid = req.isid;
      r.itt = req.itt;
      r.exp_cmd_sn = req.cmd_sn;
      exp_cmd_sn_ = req.cmd_sn;
      r.max_cmd_sn = req.cmd_sn + window_ - 1;
      note_max(r.max_cmd_sn);
      if (final) r.tsih = tsih_ == 0 ? 1 : tsih_;
      if (final && (refuse & 3) == 1) {
        r.transit = false;
        r.nsg = LoginStage::security_negotiation;
        r.status_class = (refuse & 4) ? 3 : 2;
        r.status_detail = static_cast<std::uint8_t>(refuse >> 3);
        r.tsih = 0;
        reply.clear();
      }
      r.stat_sn = stat_sn_;
      ++stat_sn_;
      send(Header{r}, serialize_text(reply));
    }
  }

  KeyValueList answer_keys(const KeyValueList& keys, LoginStage csg) const {
    KeyValueList reply;
    for (const auto& kv : keys) {
      const std::string& k = kv.key;
      if (k == "InitiatorName" || k == "TargetName" || k == "SessionType" ||
          k == "InitiatorAlias" || k == "MaxRecvDataSegmentLength")
        continue;
      std::string v = kv.value.substr(0, kv.value.find(','));
      if (k == "HeaderDigest" || k == "DataDigest") {
        v = target_picks_crc_ && kv.value.find("CRC32C") != std::string::npos ? "CRC32C" : "None";
      } else if (k == "AuthMethod") {
        v = "None";
      } else if (k == "MaxBurstLength" || k == "FirstBurstLength") {
        if (auto n = parse_numeric(kv.value); n && *n > target_burst_cap_)
          v = std::to_string(target_burst_cap_);
      }
      reply.push_back({k, v});
    }
    if (csg == LoginStage::operational_negotiation)
      reply.push_back({"MaxRecvDataSegmentLength", std::to_string(target_mrdsl_)});
    return reply;
  }

  // ---- feeding ----

  void send(const Header& h, std::span<const std::byte> data, std::span<const std::byte> ahs = {},
            std::uint8_t corrupt = 0) {
    Bhs b;
    encode_header(h, b);
    send_bhs(b, ahs, data, corrupt);
  }
  void send_bhs(const Bhs& b, std::span<const std::byte> ahs, std::span<const std::byte> data,
                std::uint8_t corrupt = 0) {
    std::vector<std::byte> wire = serialize_pdu(b, ahs, data, in_digests_);
    trace("<-", wire);
    if ((corrupt & 1) && in_digests_.header) wire[kBhsSize + ahs.size()] ^= std::byte{0x20};
    if ((corrupt & 2) && in_digests_.data && !data.empty()) wire.back() ^= std::byte{0x04};
    deliver(wire);
  }

  void deliver(std::span<const std::byte> bytes) {
    bytes_in_ += bytes.size();
    while (!bytes.empty() && !conn_closed_) {
      std::size_t n = chunk_ == 0 ? bytes.size() : std::min<std::size_t>(chunk_, bytes.size());
      const bool aligned = !conn_logged_in_;
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
      session_->feed(cid_, b, now_);
      return;
    }
    while (!b.empty()) {
      const std::span<std::byte> buf = session_->receive_buffer(cid_);
      if (buf.empty()) return;
      const std::size_t n = std::min(buf.size(), b.size());
      std::memcpy(buf.data(), b.data(), n);
      session_->commit_received(cid_, n, now_);
      b = b.subspan(n);
    }
  }

  void service() {
    poll_events();
    if (!conn_logged_in_ && !conn_closed_ && session_->logged_in()) {
      // The last Login Request went out (and was read) before its answer came; whatever is
      // queued now is full feature phase, with digests both ways.
      conn_logged_in_ = true;
      ever_logged_in_ = true;
      const NegotiatedParams& p = session_->params();
      in_digests_ = {p.header_digest, p.data_digest};
      FramerConfig fc = out_framer_.config();
      fc.digests = in_digests_;
      fc.max_recv_data_segment_length = std::max(p.target_max_recv_data_segment_length, 512u);
      out_framer_.configure(fc);
    }
    if (!blocked_ || !conn_logged_in_) drain();
    check_state();
  }

  void poll_events() {
    while (auto e = session_->poll_event()) {
      std::visit(
          [&](auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, TaskDone>) {
              done(v.id, kScsi);
              FUZZ_CHECK(v.error || v.result.data_in_bytes <= last_done_in_size_);
            } else if constexpr (std::is_same_v<T, TmfDone>) {
              done(v.id, kTmf);
            } else if constexpr (std::is_same_v<T, TextDone>) {
              done(v.id, kText);
            } else if constexpr (std::is_same_v<T, LogoutDone>) {
              done(v.id, kLogout);
            } else if constexpr (std::is_same_v<T, ConnectionClosed>) {
              if (v.cid == cid_) conn_closed_ = true;
            } else if constexpr (std::is_same_v<T, RecoveryNeeded>) {
              recovery_delay_ = v.delay;
            } else if constexpr (std::is_same_v<T, RecoveryFailed>) {
              recovery_delay_.reset();
            } else if constexpr (std::is_same_v<T, ResetAttentionAbsorbed>) {
              FUZZ_CHECK(submitted_.count(v.id.value) == 1);
            } else if constexpr (std::is_same_v<T, PduTrace>) {
              FUZZ_CHECK(v.bytes.size() >= kBhsSize);
            }
          },
          *e);
    }
  }

  // A task ended: exactly once, for an id we submitted, with the kind we submitted.
  void done(TaskId id, int kind) {
    auto it = submitted_.find(id.value);
    if (it == submitted_.end() && (kind == kLogout || kind == kText)) {
      // The engine logs out on an Async logout request, and renegotiates on an Async
      // negotiation request, by itself: those end once, with ids we never saw.
      FUZZ_CHECK(ever_ids_.insert(id.value).second);
      return;
    }
    FUZZ_CHECK(it != submitted_.end());
    FUZZ_CHECK(it->second.kind == kind);
    last_done_in_size_ = it->second.in_size;
    submitted_.erase(it);  // frees the buffers: ASan sees any later use
    ++completed_;
  }

  void drain() {
    if (conn_closed_) return;
    for (;;) {
      std::array<std::span<const std::byte>, 64> iov;
      const std::size_t n = session_->gather(cid_, iov);
      if (n == 0) break;
      std::size_t total = 0;
      for (std::size_t i = 0; i < n; ++i) {
        read_output(iov[i]);
        total += iov[i].size();
      }
      FUZZ_CHECK(total > 0);
      session_->consume(cid_, total);
      bytes_out_ += total;
      FUZZ_CHECK(bytes_out_ <= output_budget());
    }
  }

  std::uint64_t output_budget() const {
    return 16 * bytes_in_ + 2 * data_submitted_ + 512 * (submits_ + timer_calls_) +
           65536 * connections_;
  }

  void read_output(std::span<const std::byte> bytes) {
    read_engine_output(out_framer_, bytes, "initiator", [&](const auto& pdu) { observe(pdu); });
  }

  Command* find_command(Itt itt) {
    for (auto& c : commands_)
      if (c.itt == itt) return &c;
    return nullptr;
  }
  void forget_command(Itt itt) {
    std::erase_if(commands_, [&](const Command& c) { return c.itt == itt; });
  }
  void note_max(SerialNumber max) {
    if (!max_known_ || serial_gt(max, max_announced_)) max_announced_ = max;
    max_known_ = true;
  }
  template <class T>
  static void push_bounded(std::vector<T>& v, T x) {
    if (v.size() >= 16) v.erase(v.begin());
    v.push_back(x);
  }

  // What the target learns from the initiator's PDUs.
  void observe(const InboundPdu& pdu) {
    trace("->", pdu.bhs.bytes);
    push_bounded(recent_, pdu.bhs);
    std::visit(
        [&](const auto& h) {
          using T = std::decay_t<decltype(h)>;
          if constexpr (std::is_same_v<T, LoginRequest>) {
            FUZZ_CHECK(!conn_logged_in_);
            login_req_ = h;
            login_data_.assign(pdu.data.begin(), pdu.data.end());
          } else if constexpr (std::is_same_v<T, ScsiCommand>) {
            FUZZ_CHECK(conn_logged_in_);
            if (!h.immediate) {
              // Never beyond the window we announced (RFC 7143 section 4.2.2.1).
              FUZZ_CHECK(relaxed_ || !max_known_ || serial_le(h.cmd_sn, max_announced_));
              if (serial_ge(h.cmd_sn, exp_cmd_sn_)) exp_cmd_sn_ = h.cmd_sn + 1;
            }
            Command c;
            c.itt = h.itt;
            c.lun = h.lun;
            c.cmd_sn = h.cmd_sn;
            if (h.write) c.write_length = h.expected_data_transfer_length;
            if (h.read && !h.write) c.read_length = h.expected_data_transfer_length;
            if (h.read && h.write)
              if (auto a = parse_ahs(pdu.ahs); a && a->bidi_read_expected_data_transfer_length)
                c.read_length = *a->bidi_read_expected_data_transfer_length;
            FUZZ_CHECK(pdu.data.size() <= c.write_length);
            c.next_r2t_offset = static_cast<std::uint32_t>(pdu.data.size());
            forget_command(h.itt);
            if (commands_.size() >= 64) commands_.erase(commands_.begin());
            commands_.push_back(c);
          } else if constexpr (std::is_same_v<T, DataOut>) {
            if (const Command* c = find_command(h.itt))
              FUZZ_CHECK(std::uint64_t{h.buffer_offset} + pdu.data.size() <= c->write_length);
          } else if constexpr (std::is_same_v<T, NopOut>) {
            if (!h.itt.is_reserved()) push_bounded(pings_, h.itt);
          } else if constexpr (std::is_same_v<T, TaskMgmtRequest>) {
            push_bounded(tmfs_, h.itt);
          } else if constexpr (std::is_same_v<T, TextRequest>) {
            push_bounded(texts_, h.itt);
          } else if constexpr (std::is_same_v<T, LogoutRequest>) {
            push_bounded(logouts_, h.itt);
            ++logout_requests_;
          }
        },
        pdu.header);
  }

  void check_state() {
    const std::size_t live = session_->tasks_in_flight() + session_->tasks_waiting();
    FUZZ_CHECK(live <= 2 * submits_ + 2 * timer_calls_ + bytes_in_ / kBhsSize + 8);
  }

  // ---- target PDUs from templates ----

  void fill_window(SerialNumber& exp, SerialNumber& max) {
    exp = exp_cmd_sn_;
    max = exp_cmd_sn_ + window_ - 1;
    note_max(max);
  }
  SerialNumber next_stat_sn(bool advances) {
    const SerialNumber s = stat_sn_;
    if (advances) ++stat_sn_;
    return s;
  }

  // A command of the initiator's: one of those it sent, preferring a kind; a made-up one when
  // there is none, so the templates still go out.
  Command& pick_command(std::uint8_t sel, int want) {
    std::vector<Command*> fit;
    for (auto& c : commands_)
      if (want == 0 || (want == 1 && c.read_length > 0) || (want == 2 && c.write_length > 0))
        fit.push_back(&c);
    if (!fit.empty() && sel != 0xff) return *fit[sel % fit.size()];
    if (!commands_.empty() && sel != 0xff) return commands_[sel % commands_.size()];
    scratch_ = Command{};
    scratch_.itt = Itt(sel == 0xff ? 0x12345u : sel);
    scratch_.read_length = scratch_.write_length = 4096;
    return scratch_;
  }

  std::vector<std::byte> sense_segment(std::uint8_t sel) {
    if (sel == 0) return {};
    std::vector<std::byte> s(2 + 18);
    store_be16(s.data(), (sel & 0x80) ? static_cast<std::uint16_t>(sel * 3) : 18);
    s[2] = std::byte{0x70};
    const bool reset = (sel & 7) == 1;
    s[4] = std::byte{static_cast<unsigned char>(reset ? 0x06 : (sel >> 3) & 0x0f)};
    s[9] = std::byte{10};
    s[14] = std::byte{static_cast<unsigned char>(reset ? 0x29 : 0x24)};
    if ((sel & 7) == 2) s.resize(2 + (sel >> 3));  // short sense
    return s;
  }

  void op_scsi_response() {
    const std::uint8_t pick = in_.u8(), status = in_.u8(), flags = in_.u8(), resid = in_.u8(),
                       sense = in_.u8();
    Command& c = pick_command(pick, 0);
    static constexpr std::uint8_t kStatus[8] = {0x00, 0x02, 0x08, 0x18, 0x28, 0x04, 0x30, 0x22};
    ScsiResponse r;
    r.itt = c.itt;
    r.status = (status & 0x80) ? status : kStatus[status & 7];
    r.response =
        (flags & 1) ? IscsiResponse::target_failure : IscsiResponse::command_completed_at_target;
    if (flags & 0x40) {
      r.bidi_read_overflow = flags & 2;
      r.bidi_read_underflow = flags & 4;
      r.overflow = flags & 8;
      r.underflow = flags & 16;
      r.residual_count = resid * 97u;
      r.bidi_read_residual_count = resid;
      if (r.overflow && r.underflow) r.underflow = false;
      if (r.bidi_read_overflow && r.bidi_read_underflow) r.bidi_read_underflow = false;
    } else if (c.read_length > c.next_in_offset && r.status == 0) {
      r.underflow = true;
      r.residual_count = c.read_length - c.next_in_offset;
    }
    r.exp_data_sn = c.next_data_sn;
    fill_window(r.exp_cmd_sn, r.max_cmd_sn);
    r.stat_sn = next_stat_sn(!(flags & 0x80));
    const auto data = sense_segment(r.status == 0x02 || (flags & 0x20) ? sense : 0);
    forget_command(c.itt);
    send(Header{r}, data);
  }

  void op_data_in() {
    const std::uint8_t pick = in_.u8(), len = in_.u8(), flags = in_.u8(), status = in_.u8();
    // A copy: sending may change commands_ (the initiator answers at once).
    Command cc = pick_command(pick, 1);
    const std::uint32_t mrdsl =
        std::max<std::uint32_t>(512, session_->params().initiator_max_recv_data_segment_length);
    bool last = false;
    int pdus = 0;
    do {
      const std::uint32_t left =
          cc.read_length > cc.next_in_offset ? cc.read_length - cc.next_in_offset : 0;
      std::uint32_t n = std::min(left, mrdsl);
      if (len != 0 && !(flags & 0x20)) n = std::min<std::uint32_t>(n, len * 64u);
      if (flags & 0x10) n = std::min<std::uint32_t>(left + 1 + len, mrdsl);  // too much
      last = !(flags & 0x20) || n >= left;
      DataIn d;
      d.itt = cc.itt;
      d.lun = cc.lun;
      d.ttt = Ttt::reserved();
      d.data_sn = cc.next_data_sn++;
      d.buffer_offset = cc.next_in_offset;
      if (flags & 4) d.data_sn += 1;
      if (flags & 8) d.buffer_offset += 4;
      cc.next_in_offset += n;
      const bool with_status = (flags & 0x21) && last;
      d.final = with_status || (last && (flags & 2));
      if (with_status) {
        d.status_present = true;
        d.status = (status & 0x80) ? 0x04 : 0x00;
        d.stat_sn = next_stat_sn(true);
        if (cc.read_length > cc.next_in_offset) {
          d.underflow = true;
          d.residual_count = cc.read_length - cc.next_in_offset;
        }
        if (status & 0x40) d.residual_count += status & 0x3f;
      }
      if ((flags & 0x40) && last) {  // DataACK wanted (ERL >= 1)
        d.acknowledge = true;
        d.ttt = Ttt(0x6000u + (status & 0x0f));
      }
      fill_window(d.exp_cmd_sn, d.max_cmd_sn);
      if (with_status) {
        forget_command(d.itt);
      } else if (Command* cp = find_command(cc.itt)) {
        *cp = cc;
      }
      send(Header{d}, pattern_bytes(n), {}, (flags & 0x80) ? 2 : 0);
    } while (!last && !conn_closed_ && ++pdus < 512);
  }

  void op_r2t() {
    const std::uint8_t pick = in_.u8(), len = in_.u8(), flags = in_.u8();
    Command c = pick_command(pick, 2);  // a copy, as in op_data_in
    const NegotiatedParams& p = session_->params();
    const std::uint32_t outstanding = (flags & 0x20) ? std::max(1u, p.max_outstanding_r2t) : 1;
    for (std::uint32_t i = 0; i < outstanding; ++i) {
      const std::uint32_t left =
          c.write_length > c.next_r2t_offset ? c.write_length - c.next_r2t_offset : 0;
      if (left == 0 && !(flags & 0x1e)) break;
      std::uint32_t n = std::min(left, p.max_burst_length);
      if (len != 0) n = std::min<std::uint32_t>(n, len * 256u);
      R2t r;
      r.itt = c.itt;
      r.lun = c.lun;
      r.ttt = Ttt(next_ttt_++);
      std::uint32_t& sn = c.read_length > 0 && c.write_length > 0 ? c.next_data_sn : c.r2t_sn;
      r.r2t_sn = sn++;
      r.buffer_offset = c.next_r2t_offset;
      if (flags & 1) r.r2t_sn += 1;
      if (flags & 2) r.buffer_offset = c.write_length;
      if (flags & 4) n = 0;
      if (flags & 8) n = p.max_burst_length + 1;
      if (flags & 0x10) r.buffer_offset = 0;  // asks again for what it had
      r.desired_data_transfer_length = n;
      c.next_r2t_offset += n;
      fill_window(r.exp_cmd_sn, r.max_cmd_sn);
      r.stat_sn = next_stat_sn(false);
      if (Command* cp = find_command(c.itt)) *cp = c;
      send(Header{r}, {});
      if (conn_closed_) break;
    }
  }

  void op_nop_in() {
    const std::uint8_t flags = in_.u8(), len = in_.u8();
    if (flags & 8) {
      static constexpr std::uint32_t kWindows[8] = {1, 2, 8, 32, 128, 0, 3, 64};
      window_ = kWindows[len & 7];
    }
    NopIn n;
    n.lun = Lun();
    if ((flags & 1) && !pings_.empty()) {
      n.itt = pings_.front();
      pings_.erase(pings_.begin());
      n.ttt = Ttt::reserved();
      n.stat_sn = next_stat_sn(true);
    } else if (flags & 2) {
      n.itt = Itt::reserved();
      n.ttt = Ttt::reserved();  // neither an answer nor a ping
      n.stat_sn = next_stat_sn(false);
    } else {
      n.itt = Itt::reserved();
      n.ttt = Ttt(0x7000u + (flags >> 4));
      n.stat_sn = next_stat_sn(false);
    }
    fill_window(n.exp_cmd_sn, n.max_cmd_sn);
    send(Header{n}, pattern_bytes(std::size_t{len} * ((flags & 4) ? 32 : 1)));
  }

  void op_async() {
    const std::uint8_t event = in_.u8(), p = in_.u8(), flags = in_.u8();
    static constexpr std::uint8_t kEvents[8] = {0, 1, 2, 3, 4, 5, 255, 6};
    AsyncMessage a;
    a.async_event = static_cast<AsyncEvent>(kEvents[event & 7]);
    a.async_vcode = event >> 3;
    a.lun = (flags & 1) ? Lun::from_u64(0x0001000000000000ull) : Lun();
    a.parameter1 = p;
    a.parameter2 = p & 3;
    a.parameter3 = static_cast<std::uint16_t>(flags >> 4);
    fill_window(a.exp_cmd_sn, a.max_cmd_sn);
    a.stat_sn = next_stat_sn(true);
    std::vector<std::byte> data;
    if (a.async_event == AsyncEvent::scsi_async_event) data = sense_segment(p | 1);
    send(Header{a}, data);
  }

  void op_reject() {
    const std::uint8_t reason = in_.u8(), pick = in_.u8();
    Reject r;
    r.reason = static_cast<RejectReason>((reason & 0x80) ? reason : 2 + reason % 11);
    fill_window(r.exp_cmd_sn, r.max_cmd_sn);
    r.stat_sn = next_stat_sn(true);
    std::vector<std::byte> data;
    if (!recent_.empty() && !(pick & 0x80)) {
      const Bhs& b = recent_[pick % recent_.size()];
      data.assign(b.bytes.begin(), b.bytes.end());
    } else {
      data.resize(kBhsSize);
      store_be32(data.data() + 16, pick_command(pick, 0).itt.value);
      data[0] = std::byte{static_cast<unsigned char>((pick & 0x40) ? 0x05 : 0x01)};
      if (pick & 0x20) data.resize(pick & 0x1f);  // too short to name a task
    }
    send(Header{r}, data);
  }

  Itt pick_from(const std::vector<Itt>& v, std::uint8_t sel) {
    if (v.empty() || sel == 0xff) return Itt(sel == 0xff ? 0xffffffffu : 0x8000u + sel);
    return v[sel % v.size()];
  }

  void op_logout_rsp() {
    const std::uint8_t code = in_.u8(), flags = in_.u8();
    LogoutResponse l;
    l.itt = pick_from(logouts_, flags);
    l.response = static_cast<LogoutResponseCode>(code % 4);
    l.time2wait = static_cast<std::uint16_t>(code >> 4);
    l.time2retain = static_cast<std::uint16_t>(code >> 6);
    fill_window(l.exp_cmd_sn, l.max_cmd_sn);
    l.stat_sn = next_stat_sn(true);
    send(Header{l}, {});
  }

  void op_tmf_rsp() {
    const std::uint8_t response = in_.u8(), pick = in_.u8();
    static constexpr std::uint8_t kResponses[8] = {0, 1, 2, 3, 4, 5, 6, 255};
    TaskMgmtResponse t;
    t.itt = pick_from(tmfs_, pick);
    t.response = static_cast<TmfResponse>(kResponses[response & 7]);
    fill_window(t.exp_cmd_sn, t.max_cmd_sn);
    t.stat_sn = next_stat_sn(true);
    send(Header{t}, {});
  }

  void op_text_rsp() {
    const std::uint8_t choice = in_.u8(), flags = in_.u8();
    TextResponse t;
    t.itt = pick_from(texts_, choice);
    t.final = !(flags & 1);
    t.cont = flags & 2;
    t.ttt = (flags & 1) || (flags & 4) ? Ttt(0x4000u + (flags >> 4)) : Ttt::reserved();
    fill_window(t.exp_cmd_sn, t.max_cmd_sn);
    t.stat_sn = next_stat_sn(true);
    std::string text;
    switch ((choice >> 4) % 4) {
      case 0:
        text = "TargetName=" + std::string(kTargetName) + '\0' + "TargetAddress=10.0.0.1:3260,1";
        break;
      case 1:
        text = "MaxRecvDataSegmentLength=" + std::to_string(target_mrdsl_);
        break;
      case 2:
        text = "TargetAddress=[fe80::1]:3260,2";  // the first half of a split answer
        break;
      case 3: {
        const auto b = in_.bytes(in_.u8());
        text.assign(reinterpret_cast<const char*>(b.data()), b.size());
        break;
      }
    }
    if (!(flags & 2) && (choice >> 4) % 4 != 3) text.push_back('\0');
    send(Header{t}, as_bytes(text));
  }

  void op_login_rsp() {
    const std::uint8_t flags = in_.u8(), cls = in_.u8(), detail = in_.u8(), keys = in_.u8();
    LoginResponse r;
    const LoginRequest req = login_req_.value_or(LoginRequest{});
    r.transit = flags & 1;
    r.cont = flags & 2;
    r.csg = (flags & 4) ? static_cast<LoginStage>((flags >> 3) & 3) : req.csg;
    r.nsg = (flags & 0x20) ? static_cast<LoginStage>((flags >> 6) & 3)
            : r.transit    ? req.nsg
                           : LoginStage::security_negotiation;
    r.isid = req.isid;
    r.itt = req.itt;
    r.tsih = static_cast<std::uint16_t>(keys >> 4);
    r.status_class = cls % 5;
    r.status_detail = detail;
    r.exp_cmd_sn = req.cmd_sn;
    r.max_cmd_sn = req.cmd_sn + window_ - 1;
    note_max(r.max_cmd_sn);
    exp_cmd_sn_ = req.cmd_sn;
    r.stat_sn = next_stat_sn(true);
    std::vector<std::byte> data;
    switch (keys % 4) {
      case 0:
        if (auto k = parse_text(login_data_)) data = serialize_text(answer_keys(*k, req.csg));
        break;
      case 1:
        data = serialize_text({{"TargetAddress", "10.0.0.2:3260,1"}});
        break;
      case 2: {
        const auto b = in_.bytes(in_.u8());
        data.assign(b.begin(), b.end());
        break;
      }
      case 3:
        data = serialize_text({{"AuthMethod", "CHAP"}, {"CHAP_A", "5"}});
        break;
    }
    send(Header{r}, data);
  }

  void op_any_pdu() {
    Bhs b;
    const auto raw = in_.bytes(kBhsSize);
    std::copy(raw.begin(), raw.end(), b.bytes.begin());
    const std::uint8_t ahs_words = in_.u8();
    const std::size_t data_len = in_.u16() % 9000;
    const auto ahs = in_.bytes((ahs_words & 3) * 4u);
    relaxed_ = true;  // its MaxCmdSN is whatever the input says
    if (ahs_words & 0x10) {
      store_be32(b.bytes.data() + 24, stat_sn_.value());
      store_be32(b.bytes.data() + 28, exp_cmd_sn_.value());
      store_be32(b.bytes.data() + 32, (exp_cmd_sn_ + window_ - 1).value());
    }
    if ((ahs_words & 0x20) && !commands_.empty())
      store_be32(b.bytes.data() + 16, commands_[ahs_words % commands_.size()].itt.value);
    std::vector<std::byte> a(ahs.begin(), ahs.end());
    a.resize(round_up4(a.size()));
    send_bhs(b, a, pattern_bytes(data_len), (ahs_words >> 6) & 3);
  }

  // ---- the user ----

  void op_submit() {
    const std::uint8_t kind = in_.u8(), len = in_.u8(), flags = in_.u8();
    ++submits_;
    std::optional<TimePoint> deadline;
    if (flags & 1) deadline = now_ + std::chrono::milliseconds(100 * (1 + ((flags >> 1) & 15)));
    const Lun lun = (flags & 0x20) ? Lun::from_u64(0x0001000000000000ull) : Lun();
    switch (kind % 8) {
      case 0:
      case 1:
      case 2:
      case 7: {
        Submitted s;
        s.kind = kScsi;
        s.deadline = deadline;
        const bool read = kind % 8 == 0 || kind % 8 == 2;
        const bool write = kind % 8 == 1 || kind % 8 == 2;
        if (read) {
          s.in_size = buffer_length(len);
          s.in = std::make_unique<std::byte[]>(s.in_size);
        }
        if (write) {
          s.out_size = buffer_length(static_cast<std::uint8_t>(len ^ (kind & 0xf0)));
          s.out = std::make_unique<std::byte[]>(s.out_size);
          std::copy_n(pattern_bytes(s.out_size).begin(), s.out_size, s.out.get());
          data_submitted_ += s.out_size;
        }
        ScsiRequest r;
        r.lun = lun;
        std::array<std::byte, 16> cdb{};
        cdb[0] = std::byte{static_cast<unsigned char>(read && !write   ? 0x28
                                                      : write && !read ? 0x2a
                                                      : read           ? 0x53
                                                                       : (kind >> 3) & 0x1f)};
        store_be16(cdb.data() + 7,
                   static_cast<std::uint16_t>(std::max(s.in_size, s.out_size) / 512));
        const std::size_t cdb_len = (kind & 0x80) ? 16 : 10;
        r.cdb = CdbBytes::from(std::span<const std::byte>(cdb).first(cdb_len));
        r.attr = static_cast<TaskAttribute>((flags >> 2) % 5);
        r.data_in = {s.in.get(), s.in_size};
        r.data_out = {s.out.get(), s.out_size};
        r.deadline = deadline;
        r.retry = (flags & 0x40)   ? RetryPolicy::always
                  : (flags & 0x80) ? RetryPolicy::never
                                   : RetryPolicy::automatic;
        const TaskId id = session_->submit(r, now_);
        record(id, std::move(s));
        break;
      }
      case 3: {
        const TmfFunction f = static_cast<TmfFunction>(1 + len % 8);
        std::optional<TaskId> ref;
        if (!submitted_.empty()) {
          auto it = submitted_.begin();
          std::advance(it, static_cast<long>(len % submitted_.size()));
          ref = TaskId{it->first};
        }
        if (flags & 0x40) ref = TaskId{0x123456789ull};
        const TaskId id = session_->submit_tmf(f, lun, ref, now_);
        record(id, Submitted{kTmf, {}, {}, 0, 0, {}, {}, 0});
        break;
      }
      case 4: {
        if (submitted_.empty()) break;
        auto it = submitted_.begin();
        std::advance(it, static_cast<long>(len % submitted_.size()));
        session_->cancel(TaskId{it->first}, now_);
        break;
      }
      case 5: {
        KeyValueList keys{{"SendTargets", "All"}};
        if (flags & 2) keys = {{"MaxRecvDataSegmentLength", "4096"}};
        if (flags & 4) keys.push_back({"X-org.example.Long", std::string(200 + len * 40, 'x')});
        data_submitted_ += serialize_text(keys).size();
        const TaskId id = session_->submit_text(keys, now_);
        record(id, Submitted{kText, {}, {}, 0, 0, {}, {}, 0});
        break;
      }
      case 6: {
        std::optional<TimePoint> until;
        if (flags & 2) until = now_ + std::chrono::milliseconds(100 * (1 + (len & 15)));
        const TaskId id = session_->logout(now_, until, static_cast<LogoutReason>((flags >> 2) % 3),
                                           (flags & 0x10) ? 9 : cid_);
        record(id, Submitted{kLogout, {}, {}, 0, 0, {}, until, logout_requests_});
        break;
      }
    }
    service();
  }

  void record(TaskId id, Submitted s) {
    if (g_trace)
      std::fprintf(stderr, "submitted id %llx kind %d\n", static_cast<unsigned long long>(id.value),
                   s.kind);
    FUZZ_CHECK(submitted_.count(id.value) == 0);
    FUZZ_CHECK(ever_ids_.insert(id.value).second);  // ids are never reused
    submitted_.emplace(id.value, std::move(s));
  }

  void op_time(std::uint16_t steps) {
    if (steps == 0) {
      if (auto d = session_->next_deadline(); d && *d > now_) now_ = *d;
    } else {
      now_ += std::chrono::milliseconds(std::uint64_t{steps} * 50);
    }
    tick();
    service();
  }

  void tick() {
    ++timer_calls_;
    session_->on_timer(now_);
    poll_events();
    if (auto d = session_->next_deadline(); d && *d <= now_) {
      std::fprintf(stderr, "deadline %lld ms in the past; logged_in=%d recovering=%d closed=%d\n",
                   static_cast<long long>((now_ - *d) / 1ms), session_->logged_in(),
                   session_->recovering(), session_->closed());
      FUZZ_CHECK(!"on_timer() left a deadline that has passed");
    }
  }

  void op_reconnect() {
    const std::uint8_t how = in_.u8();
    if (!session_->recovering()) return;
    if (recovery_delay_) now_ += *recovery_delay_;
    recovery_delay_.reset();
    if (how & 0x80) {
      session_->reconnect_failed(make_error_code(errc::connection_closed), now_);
      service();
      return;
    }
    open();
    if (!(how & 0x40)) scripted_login(how);
  }

  void step(std::uint8_t op) {
    switch (op) {
      case initiator_op::raw: {
        const auto b = in_.bytes(in_.u8());
        std::vector<std::byte> copy(b.begin(), b.end());
        relaxed_ = true;
        deliver(copy);
        break;
      }
      case initiator_op::scsi_response:
        op_scsi_response();
        break;
      case initiator_op::data_in:
        op_data_in();
        break;
      case initiator_op::r2t:
        op_r2t();
        break;
      case initiator_op::nop_in:
        op_nop_in();
        break;
      case initiator_op::async:
        op_async();
        break;
      case initiator_op::reject:
        op_reject();
        break;
      case initiator_op::logout_rsp:
        op_logout_rsp();
        break;
      case initiator_op::tmf_rsp:
        op_tmf_rsp();
        break;
      case initiator_op::text_rsp:
        op_text_rsp();
        break;
      case initiator_op::any_pdu:
        op_any_pdu();
        break;
      case initiator_op::submit:
        op_submit();
        break;
      case initiator_op::time:
        op_time(in_.u16());
        break;
      case initiator_op::lost:
        session_->connection_lost(
            cid_, (in_.u8() & 1) ? std::error_code{} : make_error_code(errc::connection_closed),
            now_);
        service();
        break;
      case initiator_op::reconnect:
        op_reconnect();
        break;
      case initiator_op::chunking:
        chunk_ = in_.u16();
        use_receive_buffer_ = in_.u8() & 1;
        break;
      case initiator_op::block_writes:
        blocked_ = !blocked_;
        service();
        break;
      case initiator_op::login_rsp:
        op_login_rsp();
        break;
    }
  }

  // ---- the end ----

  void finish() {
    blocked_ = false;
    service();
    // Time runs far past every deadline; the target says nothing more.
    bool exhausted = false;  // no deadline left
    for (int i = 0; i < 64; ++i) {
      const auto d = session_->next_deadline();
      exhausted = !d;
      if (!d) break;
      now_ = *d > now_ ? *d + 1ms : now_ + 1s;
      tick();
      service();
    }
    for (const auto& [id, s] : submitted_) {
      if (g_trace && s.deadline)
        std::fprintf(stderr, "open with a deadline: id %llx, %lld ms ago; exhausted=%d\n",
                     static_cast<unsigned long long>(id),
                     static_cast<long long>((now_ - *s.deadline) / 1ms), exhausted);
      FUZZ_CHECK(!s.deadline);
      // A logout waiting for tasks goes out at its deadline at the latest.
      if (exhausted && s.kind == kLogout && s.send_by && session_->logged_in())
        FUZZ_CHECK(logout_requests_ > s.logouts_before);
    }
    // The connection goes; recovery, if it was on, fails every time.
    session_->connection_lost(cid_, make_error_code(errc::connection_closed), now_);
    service();
    for (int i = 0; i < 16 && session_->recovering(); ++i) {
      if (recovery_delay_) now_ += *recovery_delay_;
      session_->reconnect_failed(make_error_code(errc::connection_closed), now_);
      service();
    }
    FUZZ_CHECK(!session_->recovering());
    if (!submitted_.empty() && g_trace)
      for (const auto& [id, s] : submitted_)
        std::fprintf(stderr, "still open: id %llx kind %d\n", static_cast<unsigned long long>(id),
                     s.kind);
    FUZZ_CHECK(submitted_.empty());
    FUZZ_CHECK(!session_->logged_in());
  }

  InputReader& in_;
  SessionConfig config_;
  CountingRandom random_;
  TimePoint now_{std::chrono::seconds(200000)};
  std::unique_ptr<InitiatorSession> session_;
  ConnectionId cid_ = 0;
  Framer out_framer_;
  PduBoundary boundary_;
  DigestConfig in_digests_;
  bool conn_logged_in_ = false;
  bool ever_logged_in_ = false;
  bool conn_closed_ = false;
  std::uint64_t connections_ = 0;

  int login_mode_ = 0;
  bool target_picks_crc_ = false;
  std::uint32_t target_mrdsl_ = 8192;
  std::uint64_t target_burst_cap_ = 1u << 24;
  std::uint32_t window_ = 32;
  std::uint16_t tsih_ = 1;
  SerialNumber stat_sn_;
  SerialNumber exp_cmd_sn_{0};
  SerialNumber max_announced_{0};
  bool max_known_ = false;
  bool relaxed_ = false;
  std::uint32_t next_ttt_ = 0x100;
  std::optional<LoginRequest> login_req_;
  std::vector<std::byte> login_data_;
  std::vector<Command> commands_;
  Command scratch_;
  std::vector<Itt> pings_, tmfs_, texts_, logouts_;
  std::uint64_t logout_requests_ = 0;
  std::vector<Bhs> recent_;
  std::optional<Duration> recovery_delay_;

  std::map<std::uint64_t, Submitted> submitted_;
  std::set<std::uint64_t> ever_ids_;
  std::size_t last_done_in_size_ = 0;

  std::size_t chunk_ = 0;
  bool use_receive_buffer_ = false;
  bool blocked_ = false;
  std::uint64_t bytes_in_ = 0, bytes_out_ = 0, data_submitted_ = 0, submits_ = 0, timer_calls_ = 0,
                completed_ = 0;
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
