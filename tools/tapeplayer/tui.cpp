// The ncursesw terminal UI: drive line, tape activity and read rate, the playlist with each
// track's state, play state with elapsed/total and a progress bar, buffer fill, underruns, the
// latest error, and help on '?'. Colours mark states, and every state is also written out in
// words and brackets, so it reads the same without colour. Redrawn every 100 ms.
#include <clocale>
#include <cstdio>
#include <deque>
#include <string>

#include "common/toolkit.hpp"
#include "tapeplayer/frontends.hpp"
// Last: curses defines macros (timeout, erase...) that clash with names in other headers.
#include <curses.h>

namespace uiscsi::tools::tapeplayer {
namespace {

enum Colour : short { kPlaying = 1, kLoading, kCached, kError, kDim };

std::string clock_text(double seconds) {
  const auto s = static_cast<long>(seconds < 0 ? 0 : seconds);
  char text[32];
  std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
  return text;
}

std::string bar(double fraction, int width) {
  if (fraction < 0) fraction = 0;
  if (fraction > 1) fraction = 1;
  const int full = static_cast<int>(fraction * width + 0.5);
  return "[" + std::string(static_cast<std::size_t>(full), '#') +
         std::string(static_cast<std::size_t>(width - full), '-') + "]";
}

std::string megabytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

short colour_of(player::TrackState s) {
  switch (s) {
    case player::TrackState::loading:
      return kLoading;
    case player::TrackState::cached:
      return kCached;
    case player::TrackState::failed:
      return kError;
    default:
      return kDim;
  }
}

void put(int y, int x, const std::string& text, attr_t attrs = A_NORMAL) {
  if (y >= LINES) return;
  attron(attrs);
  mvaddnstr(y, x, text.c_str(), COLS - x > 0 ? COLS - x : 0);
  attroff(attrs);
}

const char* kHelp[] = {
    "Keys",
    "  space / enter   play / pause",
    "  s               stop",
    "  n  or  Right    next track",
    "  p  or  Left     previous track (restart after 3 s)",
    "  ]  or  .        seek forward 10 s",
    "  [  or  ,        seek back 10 s",
    "  r               rewind the tape (the cache is kept)",
    "  R               retry after a tape error",
    "  ?               this help",
    "  q               quit",
    "",
    "States: [on tape] not read yet, [loading] being read, [cached] in memory,",
    "        [evicted] dropped from memory, [failed] not playable.",
    "Press any key.",
};

// Read rate over about the last second from (time, bytes) samples.
class RateMeter {
 public:
  double update(std::uint64_t bytes) {
    const auto now = std::chrono::steady_clock::now();
    samples_.push_back({now, bytes});
    while (samples_.size() > 2 && now - samples_.front().first > std::chrono::seconds(1))
      samples_.pop_front();
    const double dt = std::chrono::duration<double>(now - samples_.front().first).count();
    return dt > 0 ? static_cast<double>(bytes - samples_.front().second) / dt : 0.0;
  }

 private:
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::uint64_t>> samples_;
};

void draw(const player::Snapshot& s, const std::string& drive_line, double rate, bool help,
          bool colour) {
  erase();
  const auto c = [&](short pair) -> attr_t {
    return colour ? static_cast<attr_t>(COLOR_PAIR(pair)) : static_cast<attr_t>(A_NORMAL);
  };
  put(0, 0, "tapeplayer  " + drive_line, A_BOLD);
  std::string tape = "tape: " + s.tape_activity + "  " +
                     megabytes(static_cast<std::uint64_t>(rate)) + "/s  read " +
                     megabytes(s.tape_bytes) + " in " + std::to_string(s.tape_files) + " files, " +
                     std::to_string(s.tape_spaces) + " spaces  cache " + megabytes(s.cache_bytes) +
                     " / " + megabytes(s.cache_bound);
  if (s.recoveries > 0)
    tape += "  reconnected " + std::to_string(s.recoveries) + "x (session recovery)";
  put(1, 0, tape);
  int y = 3;
  if (help) {
    for (const char* line : kHelp)
      put(y++, 2, line);
    refresh();
    return;
  }
  const int list_rows = std::max(1, LINES - 10);
  std::size_t first = 0;
  if (s.playing && *s.playing >= static_cast<std::size_t>(list_rows / 2))
    first = *s.playing - static_cast<std::size_t>(list_rows / 2);
  for (std::size_t i = first; i < s.tracks.size() && y < 3 + list_rows; ++i, ++y) {
    const auto& t = s.tracks[i];
    const bool now = s.playing && *s.playing == i;
    char line[512];
    std::snprintf(line, sizeof line, "%s%2zu. %-40.40s %6s  [%-7s] %9s %s", now ? "> " : "  ",
                  i + 1, t.title.c_str(), t.duration > 0 ? clock_text(t.duration).c_str() : "",
                  player::state_name(t.state), megabytes(t.bytes).c_str(), t.error.c_str());
    put(y, 0, line,
        (now ? A_BOLD | A_REVERSE : A_NORMAL) |
            c(now ? static_cast<short>(kPlaying) : colour_of(t.state)));
  }
  if (!s.end_known) put(y++, 2, "... (more on tape)", c(kDim));
  y = std::max(y + 1, LINES - 6);
  const char* state = s.state == player::PlayState::playing  ? "PLAYING"
                      : s.state == player::PlayState::paused ? "PAUSED"
                                                             : "STOPPED";
  const double fraction = s.duration > 0 ? s.position / s.duration : 0;
  put(y++, 0,
      std::string(state) + "  " + clock_text(s.position) + " / " + clock_text(s.duration) + "  " +
          bar(fraction, 30) + "  " + (s.format.valid() ? s.format.describe() : ""),
      A_BOLD | c(kPlaying));
  put(y++, 0,
      "buffer " + bar(s.buffer_fill, 20) + " " +
          std::to_string(static_cast<int>(s.buffer_fill * 100)) + "%  underruns " +
          std::to_string(s.underruns) + "  corrupt frames " + std::to_string(s.corrupt_frames));
  if (!s.tape_error.empty())
    put(y++, 0, "TAPE ERROR: " + s.tape_error + "  (R retries)", A_BOLD | c(kError));
  else if (!s.last_error.empty())
    put(y++, 0, "error: " + s.last_error, c(kError));
  put(LINES - 1, 0, "? help  space play/pause  n next  p prev  ] [ seek  r rewind  q quit",
      c(kDim));
  refresh();
}

}  // namespace

int run_tui(player::Player& player, const std::string& drive_line) {
  std::setlocale(LC_ALL, "");
  if (initscr() == nullptr) {
    (void)player.shutdown();
    std::fprintf(stderr, "%s: cannot start the terminal UI (use --headless)\n", tool_name());
    return kExitFailure;
  }
  cbreak();
  noecho();
  keypad(stdscr, TRUE);
  timeout(100);
  curs_set(0);
  const bool colour = has_colors() && start_color() == OK;
  if (colour) {
    use_default_colors();
    init_pair(kPlaying, COLOR_GREEN, -1);
    init_pair(kLoading, COLOR_YELLOW, -1);
    init_pair(kCached, COLOR_CYAN, -1);
    init_pair(kError, COLOR_RED, -1);
    init_pair(kDim, -1, -1);
  }
  bool help = false;
  RateMeter meter;
  player::Snapshot snap;
  for (;;) {
    snap = player.snapshot();
    draw(snap, drive_line, meter.update(snap.tape_bytes), help, colour);
    if (interrupted() || snap.finished) break;
    const int ch = getch();
    if (ch == ERR) continue;
    if (help) {
      help = false;
      continue;
    }
    using player::Key;
    switch (ch) {
      case 'q':
        player.press(Key::quit);
        break;
      case ' ':
      case '\n':
        player.press(Key::play_pause);
        break;
      case 's':
        player.press(Key::stop);
        break;
      case 'n':
      case KEY_RIGHT:
        player.press(Key::next);
        break;
      case 'p':
      case KEY_LEFT:
        player.press(Key::previous);
        break;
      case ']':
      case '.':
        player.press(Key::seek_forward);
        break;
      case '[':
      case ',':
        player.press(Key::seek_back);
        break;
      case 'r':
        player.press(Key::rewind);
        break;
      case 'R':
        player.press(Key::retry);
        break;
      case '?':
        help = true;
        break;
      default:
        break;
    }
  }
  endwin();
  (void)player.shutdown();
  return finish_code(player, player.snapshot());
}

}  // namespace uiscsi::tools::tapeplayer
