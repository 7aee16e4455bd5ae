// tapeplayer's two front ends over a running Player: headless (events on stdout, for tests and
// scripts) and the ncursesw terminal UI. Each returns the tool's exit code.
#pragma once

#include <string>

#include "player/player.hpp"

namespace uiscsi::tools::tapeplayer {

// Prints the player's events as they happen until the playlist ends (or the key script
// quits), then a summary line. Exit codes: 0, 1 (a track was not FLAC or failed, or the
// output failed), the tape's code for a tape error, 130 on SIGINT.
int run_headless(player::Player& player, const std::string& drive_line);

// The terminal UI until q. Same exit codes.
int run_tui(player::Player& player, const std::string& drive_line);

// Exit code and one stderr line for how the player ended.
int finish_code(player::Player& player, const player::Snapshot& last);

}  // namespace uiscsi::tools::tapeplayer
