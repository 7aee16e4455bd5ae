// Private structures of InitiatorSession, shared by its source files. Not a public header.
#pragma once

#include <vector>

#include "core/data_out_plan.hpp"
#include "core/initiator_session.hpp"

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
  std::uint32_t next_data_sn = 0;  // Data-In (and, for bidirectional commands, R2T) numbering
  std::uint32_t next_r2t_sn = 0;   // R2T numbering of write-only commands
  std::uint32_t next_in_offset = 0;
  std::uint32_t data_in_bytes = 0;
  struct Burst {
    std::uint32_t sequence = 0;
    DataSequence data;
  };
  std::vector<Burst> bursts;        // data sequences still to send
  std::uint32_t next_sequence = 1;  // 0 is the unsolicited sequence

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
};

}  // namespace uiscsi::core
