// Headless front end: the player's events on stdout, one per line, then a summary.
#include <cstdio>

#include "common/tape_tool.hpp"
#include "common/toolkit.hpp"
#include "tapeplayer/frontends.hpp"

namespace uiscsi::tools::tapeplayer {

int finish_code(player::Player& player, const player::Snapshot& last) {
  if (interrupted()) return kExitInterrupted;
  if (!last.tape_error.empty()) {
    std::fprintf(stderr, "%s: %s\n", tool_name(), last.tape_error.c_str());
    return exit_code_for_tape(player.fatal_error());
  }
  if (player.fatal_error()) {
    std::fprintf(stderr, "%s: %s\n", tool_name(), last.last_error.c_str());
    return kExitFailure;
  }
  if (player.had_track_errors()) {
    for (const auto& t : last.tracks)
      if (!t.error.empty())
        std::fprintf(stderr, "%s: %s: %s\n", tool_name(), t.title.c_str(), t.error.c_str());
    if (!last.last_error.empty() &&
        last.tracks.end() == std::find_if(last.tracks.begin(), last.tracks.end(),
                                          [](const auto& t) { return !t.error.empty(); }))
      std::fprintf(stderr, "%s: %s\n", tool_name(), last.last_error.c_str());
    return kExitFailure;
  }
  return kExitOk;
}

namespace {

// Prints the events from sequence number `printed` on, and says how many were dropped from the
// player's bounded log before this reader saw them.
void print_events(const player::Snapshot& snap, std::uint64_t& printed) {
  if (printed < snap.first_event) {
    std::printf("(%llu events not shown: the log keeps the newest only)\n",
                static_cast<unsigned long long>(snap.first_event - printed));
    printed = snap.first_event;
  }
  for (; printed < snap.first_event + snap.events.size(); ++printed)
    std::printf("%s\n", snap.events[printed - snap.first_event].c_str());
}

}  // namespace

int run_headless(player::Player& player, const std::string& drive_line) {
  std::printf("drive: %s\n", drive_line.c_str());
  std::fflush(stdout);
  std::uint64_t printed = 0;  // sequence number of the next event to print
  player::Snapshot snap;
  for (;;) {
    const bool done = player.wait_finished(std::chrono::milliseconds(50));
    snap = player.snapshot();
    print_events(snap, printed);
    std::fflush(stdout);
    if (done || interrupted() || !snap.tape_error.empty()) break;
  }
  (void)player.shutdown();
  snap = player.snapshot();
  print_events(snap, printed);
  std::printf(
      "summary: tracks %zu, underruns %llu, corrupt frames %llu, tape %llu bytes in %llu "
      "files, %llu spaces, %llu reconnections\n",
      snap.tracks.size(), static_cast<unsigned long long>(snap.underruns),
      static_cast<unsigned long long>(snap.corrupt_frames),
      static_cast<unsigned long long>(snap.tape_bytes),
      static_cast<unsigned long long>(snap.tape_files),
      static_cast<unsigned long long>(snap.tape_spaces),
      static_cast<unsigned long long>(snap.recoveries));
  std::fflush(stdout);
  return finish_code(player, snap);
}

}  // namespace uiscsi::tools::tapeplayer
