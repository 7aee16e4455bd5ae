// Private structures of InitiatorSession, shared by its source files. Not a public header.
#pragma once

#include <optional>
#include <vector>

#include "core/data_out_plan.hpp"
#include "core/initiator_session.hpp"
#include "core/sequence_tracker.hpp"

namespace uiscsi::core {

struct InitiatorSession::Task {
  enum class Kind { scsi, tmf, text, logout, nop_ping };
  enum class Phase { waiting, sent, zombie };

  // Identity. `generation` survives slot reuse so an ITT is not handed out again soon.
  bool in_use = false;
  std::uint32_t slot = 0;
  std::uint16_t generation = 0;
  TaskId id;
  Itt itt;

  Kind kind = Kind::scsi;
  Phase phase = Phase::waiting;
  ConnectionId cid = 0;
  bool immediate = false;
  bool was_sent = false;  // went out at least once (so it may have run, even if now requeued)
  int replays = 0;        // times sent again in a reinstated session
  SerialNumber cmd_sn;
  TimePoint submitted{};
  std::optional<TimePoint> deadline;

  // SCSI command.
  ScsiRequest request;
  std::uint32_t read_length = 0;
  std::uint32_t write_length = 0;
  // Data-In (and, for bidirectional commands, R2T) numbering, and the R2T numbering of
  // write-only commands. Out-of-order arrival is tolerated only at ERL >= 1.
  SequenceTracker data_sns;
  SequenceTracker r2t_sns;
  std::uint32_t next_in_offset = 0;
  std::uint32_t data_in_bytes = 0;
  struct Burst {
    std::uint32_t sequence = 0;
    DataSequence data;
  };
  std::vector<Burst> bursts;        // data sequences still to send
  std::uint32_t next_sequence = 1;  // 0 is the unsolicited sequence

  // Error recovery level 1 (initiator_erl1.cpp). After a lost or discarded Data-In, later
  // ones are accepted out of DataSN order and the missing ones asked for again; a status that
  // comes before all the data is held until the data is complete.
  bool had_data_gap = false;  // Data-In came out of order: offsets are no longer in order
  std::optional<CommandResult> held_status;
  std::optional<SerialNumber> held_stat_sn;  // its StatSN, not acknowledged while held
  std::uint32_t held_status_data_sns = 0;    // Data-In PDUs the held status says were sent
  std::uint64_t write_requested = 0;         // bytes asked for: unsolicited plus every R2T
  int command_retries = 0;                   // times the command PDU went again (same CmdSN)
  TimePoint last_sent{};

  // Error recovery level 2 (initiator_erl2.cpp). An orphan lost its connection and waits for
  // the new one (TASK REASSIGN, or a retry when the target never got it). The lengths of the
  // Data-In PDUs received, by DataSN (kept at ERL 2 only), give the bytes below the ExpDataSN
  // of a reassignment; after one, the next R2T sets the R2TSN (the target's numbering goes on).
  bool orphaned = false;
  bool r2t_resync = false;
  std::vector<std::uint32_t> data_in_lengths;

  // Task management.
  TmfFunction function = TmfFunction::abort_task;
  std::optional<TaskId> referenced;
  bool report = true;  // false for our own ABORT TASK of a cancelled command: no TmfDone

  // Text.
  std::vector<std::vector<std::byte>> text_parts;  // request parts still to send (C bit)
  TextAccumulator text_in{64 * 1024};

  // Logout.
  LogoutReason logout_reason = LogoutReason::close_session;
  ConnectionId logout_cid = 0;

  [[nodiscard]] bool bidirectional() const { return read_length > 0 && write_length > 0; }
};

struct InitiatorSession::Connection {
  enum class State { login, full_feature, closed };

  ConnectionId cid = 0;
  State state = State::login;
  Framer framer;
  TxQueue tx;
  std::unique_ptr<Placement> placement;
  std::optional<InitiatorLogin> login;
  TimePoint login_deadline{};

  SerialNumber exp_stat_sn;    // the next StatSN we expect
  SerialNumber acked_stat_sn;  // the ExpStatSN we last sent
  DigestConfig digests;
  std::uint32_t send_limit = kLoginMaxDataSegmentLength;  // target's MaxRecvDataSegmentLength

  TimePoint last_received{};
  std::optional<TaskId> ping;
  TimePoint ping_deadline{};

  // Error recovery level 1: statuses that arrived after a lost one (ExpStatSN stays at the
  // gap until the Status SNACK fills it), and the probe ping that looks for lost PDUs.
  SequenceTracker stat_sns;           // next() == exp_stat_sn at ERL >= 1
  int status_snacks = 0;              // unanswered Status SNACKs for the current gap
  bool probing = false;               // the outstanding ping is a recovery probe
  bool probe_saw_status_gap = false;  // a StatSN gap was open when the probe went
  int probe_retries = 0;              // probes in a row that got no answer
  // StatSNs of statuses held for missing data: ExpStatSN stays below them, so the target keeps
  // the data we still ask for (section 11.16.1).
  std::vector<std::uint32_t> held_stat_sns;
  TimePoint probe_sent{};
  // A Logout Request for this connection went out: no new work goes to it, and its end is not
  // a failure to recover from.
  bool closing = false;
  // In full feature phase and not logging out: new tasks may go to it.
  [[nodiscard]] bool takes_work() const { return state == State::full_feature && !closing; }
};

}  // namespace uiscsi::core
