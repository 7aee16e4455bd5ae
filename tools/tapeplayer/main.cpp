// tapeplayer: plays an album of FLAC files straight from a tape drive over iSCSI, one FLAC
// stream per tape file (as written by uiscsi-tape-dd), in a terminal UI or headless.
//
//   tapeplayer iscsi://127.0.0.1/iqn.x:tape/1
//   tapeplayer iscsi://127.0.0.1/iqn.x:tape/1 --headless --output album.wav --speed 0
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>

#include "common/tape_tool.hpp"
#include "common/toolkit.hpp"
#include "player/player.hpp"
#include "tapeplayer/frontends.hpp"

using namespace uiscsi;
using namespace uiscsi::tools;

int main(int argc, char** argv) {
  CLI::App app{"Play FLAC albums straight from a tape drive over iSCSI", "tapeplayer"};
  std::string url, output = "alsa", keys, cache_text = "512M", bs_text = "1M";
  bool headless = false;
  player::PlayerOptions po;
  unsigned read_ahead = 4;
  ConnectionFlags flags;
  app.add_option("url", url, "iscsi://host[:port]/target-iqn[/lun] of the tape drive");
  app.add_option("--output,-o", output,
                 "alsa, alsa:DEVICE, null, or a .wav file (%n in the name: one file per play)")
      ->capture_default_str();
  app.add_flag("--headless", headless, "No terminal UI: play, print events, exit at the end");
  app.add_option("--keys", keys,
                 "Headless key script: [SECONDS:]KEY,... (n p ] [ s r q), SECONDS of audio "
                 "after the previous key");
  app.add_option("--cache", cache_text, "Memory bound of the track cache")->capture_default_str();
  app.add_option("--buffer", po.buffer_seconds, "PCM buffer, seconds")->capture_default_str();
  app.add_option("--prebuffer", po.prebuffer_seconds, "Buffered before playback starts, seconds")
      ->capture_default_str();
  app.add_option("--speed", po.speed,
                 "Pace of file and null outputs (1 real time, 0 as fast as possible)")
      ->capture_default_str();
  app.add_option("--bs", bs_text, "Read buffer: the largest tape record")->capture_default_str();
  app.add_option("--read-ahead", read_ahead, "READs kept in flight")
      ->capture_default_str()
      ->check(CLI::Range(0u, 64u));
  flags.add_to(app);
  app.footer(
      "Keys: space play/pause, s stop, n/Right next, p/Left previous, ]/. seek +10 s,\n"
      "  [/, seek -10 s, r rewind, R retry after an error, ? help, q quit.\n"
      "Exit codes: 0 ok, 1 a track was not FLAC or the output failed, 2 usage, 3 cannot\n"
      "  connect, 4 authentication failed, 5 no such target or LUN, 6 protocol error,\n"
      "  7 the drive reported an error (no medium...), 130 interrupted.");
  if (int rc = parse_command_line(app, argc, argv); rc >= 0) return rc;
  scrub_argv(argc, argv);

  auto cache = parse_size(cache_text);
  if (!cache || *cache == 0) return usage_error("invalid --cache '" + cache_text + "'");
  auto bs = parse_size(bs_text);
  if (!bs || *bs == 0 || *bs > 0xffffff) return usage_error("invalid --bs '" + bs_text + "'");
  if (po.buffer_seconds <= 0 || po.prebuffer_seconds < 0 || po.speed < 0)
    return usage_error("--buffer must be positive, --prebuffer and --speed not negative");
  po.cache_bytes = *cache;
  po.record_bytes = static_cast<std::size_t>(*bs);
  po.prebuffer_seconds = std::min(po.prebuffer_seconds, po.buffer_seconds / 2);
  if (!keys.empty()) {
    if (!headless) return usage_error("--keys is for --headless");
    auto script = player::parse_key_script(keys);
    if (!script) return usage_error("invalid --keys '" + keys + "'");
    po.keys = *script;
  }
  po.stop_at_end = headless;

  std::unique_ptr<player::Sink> sink;
  if (output == "null") {
    sink = player::make_null_sink();
  } else if (output == "alsa" || output.rfind("alsa:", 0) == 0) {
    sink = player::make_alsa_sink(output.size() > 5 ? output.substr(5) : "");
    if (!sink) return usage_error("this tapeplayer was built without ALSA: use --output FILE.wav");
  } else {
    sink = player::make_wav_sink(output);
  }

  tape::DriveOptions options;
  options.sili = true;
  options.read_ahead = read_ahead;
  install_interrupt_handler();
  TapeConnection link;
  if (int rc = link.open(url, flags, options); rc != kExitOk) return rc;
  tape::Drive& drive = link.drive();
  const auto& inq = drive.info().inquiry;
  const std::string drive_line = inq.vendor + " " + inq.product + " [" +
                                 std::string(tape::density_name(drive.medium().density_code)) +
                                 "] " + link.name();

  if (const Session* session = link.session())
    po.recoveries = [session] { return session->recoveries(); };
  player::Player p(drive, std::move(sink), po);
  p.start();
  return headless ? tapeplayer::run_headless(p, drive_line) : tapeplayer::run_tui(p, drive_line);
}
