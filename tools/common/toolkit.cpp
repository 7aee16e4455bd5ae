#include "common/toolkit.hpp"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>

#include "uiscsi/errors.hpp"

namespace uiscsi::tools {

namespace {
std::atomic<bool> g_interrupted{false};
const char* g_tool = "uiscsi";

// Keeps the detail of the last failed login (which key or stage) so that the one error line a
// tool prints can carry it; with -v everything also goes to stderr.
class DetailLogger final : public Logger {
 public:
  explicit DetailLogger(bool verbose) : verbose_(verbose) {}
  void log(LogLevel level, std::string_view message) override {
    if (verbose_) {
      static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
      std::fprintf(stderr, "%s: %s: %.*s\n", g_tool, kNames[static_cast<int>(level)],
                   static_cast<int>(message.size()), message.data());
    }
    constexpr std::string_view kLogin = "login failed: ";
    if (message.substr(0, kLogin.size()) == kLogin) {
      std::lock_guard lock(mutex_);
      detail_ = std::string(message.substr(kLogin.size()));
    }
  }
  std::string detail() {
    std::lock_guard lock(mutex_);
    return detail_;
  }

 private:
  bool verbose_;
  std::mutex mutex_;
  std::string detail_;
};
std::shared_ptr<DetailLogger> g_detail;
}  // namespace

void set_tool_name(const char* name) {
  g_tool = name;
}

const char* tool_name() {
  return g_tool;
}

int exit_code_for(std::error_code ec) {
  if (!ec) return kExitOk;
  const auto& cat = ec.category();
  if (cat == login_category()) {
    const auto cls = login_status_class(ec), detail = login_status_detail(ec);
    if (cls == 2 && (detail == 1 || detail == 2)) return kExitAuth;
    if (cls == 2 && (detail == 3 || detail == 4)) return kExitNotFound;
    return kExitConnect;
  }
  if (cat == protocol_category()) return kExitProtocol;
  if (cat == scsi_status_category()) return kExitScsi;
  if (cat == uiscsi_category()) {
    switch (static_cast<errc>(ec.value())) {
      case errc::invalid_argument:
      case errc::invalid_url:
        return kExitUsage;
      case errc::authentication_failed:
        return kExitAuth;
      case errc::timed_out:
      case errc::connection_closed:
      case errc::command_interrupted:
      case errc::not_logged_in:
        return kExitConnect;
      case errc::cancelled:
        return kExitInterrupted;
      default:
        return kExitFailure;
    }
  }
  if (cat == std::system_category() || cat == std::generic_category()) {
    switch (static_cast<std::errc>(ec.value())) {
      case std::errc::connection_refused:
      case std::errc::host_unreachable:
      case std::errc::network_unreachable:
      case std::errc::timed_out:
      case std::errc::connection_reset:
      case std::errc::address_not_available:
        return kExitConnect;
      default:
        return kExitFailure;
    }
  }
  return kExitFailure;
}

int fail(std::string_view what, std::error_code ec) {
  std::string msg = ec.message();
  if (ec.category() == std::system_category() && ec == std::errc::host_unreachable)
    msg = "host not found or unreachable";
  msg += login_detail_suffix();
  std::fprintf(stderr, "%s: %.*s: %s\n", g_tool, static_cast<int>(what.size()), what.data(),
               msg.c_str());
  return exit_code_for(ec);
}

int parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(e.what());
  }
  return -1;
}

std::string login_detail_suffix() {
  std::string detail = g_detail ? g_detail->detail() : std::string();
  if (detail.empty() || detail == "target refused the login") return {};
  return " (" + detail + ")";
}

int usage_error(std::string_view message) {
  std::fprintf(stderr, "%s: %.*s (try --help)\n", g_tool, static_cast<int>(message.size()),
               message.data());
  return kExitUsage;
}

void ConnectionFlags::add_to(CLI::App& app, bool with_lun) {
  g_tool = app.get_name().c_str();
  app.add_option("--portal", portal, "Portal host[:port] (instead of a URL)");
  app.add_option("--target", target, "Target IQN (instead of a URL)");
  if (with_lun) app.add_option("--lun", lun, "LUN number (instead of a URL)");
  app.add_option("--chap-user", chap_user,
                 "CHAP user name; the secret comes from ISCSI_CHAP_PASSWORD or --chap-file");
  app.add_option("--chap-file", chap_file,
                 "File with user=, password=, target_user=, target_password= lines");
  app.add_option("--initiator-name", initiator_name,
                 "Our IQN (default iqn.2026-11.dev.uiscsi:<host>)");
  app.add_option("--header-digest", header_digest, "none, crc32c or prefer")
      ->check(CLI::IsMember({"none", "crc32c", "prefer"}));
  app.add_option("--data-digest", data_digest, "none, crc32c or prefer")
      ->check(CLI::IsMember({"none", "crc32c", "prefer"}));
  app.add_option("--timeout", timeout_s, "Connect and login timeout in seconds")
      ->capture_default_str();
  app.add_flag("-v,--verbose", verbose, "Log protocol events to stderr");
}

namespace {

DigestPolicy digest_policy(const std::string& v) {
  if (v == "crc32c") return DigestPolicy::require;
  if (v == "prefer") return DigestPolicy::prefer;
  return DigestPolicy::none;
}

}  // namespace

Result<void> ConnectionFlags::resolve(std::string_view url_text, IscsiUrl& url,
                                      SessionOptions& options) const {
  if (!url_text.empty()) {
    auto u = parse_iscsi_url(url_text);
    if (!u) return u.error();
    url = std::move(*u);
  } else {
    if (portal.empty()) return errc::invalid_url;
    auto u = parse_iscsi_url("iscsi://" + portal);
    if (!u) return u.error();
    url = std::move(*u);
  }
  if (!target.empty()) url.target = target;
  if (lun) url.lun = lun;

  // CHAP: the URL, then --chap-file, then the environment (library helpers).
  if (!url.user.empty()) {
    ChapOptions chap;
    chap.user = url.user;
    chap.secret = url.password;
    chap.target_user = url.target_user;
    chap.target_secret = url.target_password;
    if (chap.secret.empty()) {
      auto env = chap_from_environment();
      if (env && *env && (*env)->user == chap.user) chap.secret = (*env)->secret;
    }
    if (chap.secret.empty()) return errc::authentication_failed;
    options.chap = std::move(chap);
  } else if (!chap_file.empty()) {
    auto f = chap_from_file(chap_file);
    if (!f)
      return f.error() == errc::invalid_argument ? make_error_code(errc::authentication_failed)
                                                 : f.error();
    options.chap = std::move(*f);
  } else {
    auto env = chap_from_environment();
    if (!env) return errc::authentication_failed;
    if (*env) {
      options.chap = std::move(**env);
    } else if (!chap_user.empty()) {
      return errc::authentication_failed;  // a user but no secret anywhere
    }
  }
  if (options.chap && !chap_user.empty()) options.chap->user = chap_user;
  url.password = Secret();  // options carry it from here
  url.target_password = Secret();
  url.user.clear();
  url.target_user.clear();

  if (!initiator_name.empty()) options.initiator_name = initiator_name;
  if (!header_digest.empty()) options.header_digest = digest_policy(header_digest);
  if (!data_digest.empty()) options.data_digest = digest_policy(data_digest);
  if (!url.header_digest.empty()) {
    options.header_digest = url.header_digest == "none"     ? DigestPolicy::none
                            : url.header_digest == "crc32c" ? DigestPolicy::require
                                                            : DigestPolicy::prefer;
    url.header_digest.clear();
  }
  if (!url.data_digest.empty()) {
    options.data_digest = url.data_digest == "none"     ? DigestPolicy::none
                          : url.data_digest == "crc32c" ? DigestPolicy::require
                                                        : DigestPolicy::prefer;
    url.data_digest.clear();
  }
  options.connect_timeout = std::chrono::seconds(timeout_s);
  options.login_timeout = std::chrono::seconds(timeout_s);
  // The detail behind a failed login goes into the error line; -v shows every event.
  g_detail = std::make_shared<DetailLogger>(verbose);
  options.hooks.logger = g_detail;
  return ok();
}

void scrub_argv(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* a = argv[i];
    char* scheme = std::strstr(a, "iscsi://");
    if (scheme == nullptr) continue;
    char* auth = scheme + 8;
    char* at = std::strchr(auth, '@');
    char* slash = std::strchr(auth, '/');
    if (at == nullptr || (slash != nullptr && slash < at)) continue;
    char* pct = std::strchr(auth, '%');
    if (pct == nullptr || pct > at) continue;
    for (char* p = pct + 1; p < at; ++p)
      *p = '*';
  }
  // Query-string target_password=... too.
  for (int i = 1; i < argc; ++i) {
    char* p = std::strstr(argv[i], "target_password=");
    if (p == nullptr) continue;
    for (p += 16; *p && *p != '&'; ++p)
      *p = '*';
  }
}

Result<std::uint64_t> parse_size(std::string_view text) {
  if (text.empty()) return errc::invalid_argument;
  std::size_t i = 0;
  std::uint64_t n = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    const std::uint64_t d = static_cast<std::uint64_t>(text[i] - '0');
    if (n > (~0ull - d) / 10) return errc::invalid_argument;
    n = n * 10 + d;
    ++i;
  }
  if (i == 0) return errc::invalid_argument;
  std::string suffix(text.substr(i));
  for (auto& c : suffix)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::uint64_t mult = 1;
  if (suffix.empty() || suffix == "c")
    mult = 1;
  else if (suffix == "w")
    mult = 2;
  else if (suffix == "b")
    mult = 512;
  else if (suffix == "k" || suffix == "kib")
    mult = 1ull << 10;
  else if (suffix == "m" || suffix == "mib")
    mult = 1ull << 20;
  else if (suffix == "g" || suffix == "gib")
    mult = 1ull << 30;
  else if (suffix == "t" || suffix == "tib")
    mult = 1ull << 40;
  else if (suffix == "kb")
    mult = 1000;
  else if (suffix == "mb")
    mult = 1000 * 1000;
  else if (suffix == "gb")
    mult = 1000ull * 1000 * 1000;
  else
    return errc::invalid_argument;
  if (n != 0 && mult > ~0ull / n) return errc::invalid_argument;
  return n * mult;
}

std::string human_bytes(std::uint64_t n) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 5) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  }
  return buf;
}

namespace {

std::string si_text(double value, const char* unit) {
  char text[40];
  if (value >= 1e9)
    std::snprintf(text, sizeof text, "%.1f G%s", value / 1e9, unit);
  else if (value >= 1e6)
    std::snprintf(text, sizeof text, "%.1f M%s", value / 1e6, unit);
  else if (value >= 1e3)
    std::snprintf(text, sizeof text, "%.1f k%s", value / 1e3, unit);
  else
    std::snprintf(text, sizeof text, "%.0f %s", value, unit);
  return text;
}

}  // namespace

void print_dd_summary(const RecordCounts& c, double seconds, bool transfer) {
  std::fprintf(
      stderr, "%llu+%llu records in\n%llu+%llu records out\n",
      static_cast<unsigned long long>(c.full_in), static_cast<unsigned long long>(c.partial_in),
      static_cast<unsigned long long>(c.full_out), static_cast<unsigned long long>(c.partial_out));
  if (!transfer) return;
  const double bytes = static_cast<double>(c.bytes);
  std::fprintf(stderr, "%llu bytes (%s, %s) copied, %.3g s, %s\n",
               static_cast<unsigned long long>(c.bytes), si_text(bytes, "B").c_str(),
               human_bytes(c.bytes).c_str(), seconds,
               si_text(seconds > 0 ? bytes / seconds : 0, "B/s").c_str());
}

Progress::Progress(bool enabled, std::optional<std::uint64_t> total)
    : enabled_(enabled && ::isatty(STDERR_FILENO)),
      total_(total),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(std::uint64_t bytes, std::uint64_t records) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  const double secs = elapsed_seconds();
  const double rate = secs > 0 ? static_cast<double>(bytes) / secs : 0;
  char line[200];
  int n =
      std::snprintf(line, sizeof line, "\r%llu bytes (%s) copied, %.0f s, %.1f MiB/s, %llu records",
                    static_cast<unsigned long long>(bytes), human_bytes(bytes).c_str(), secs,
                    rate / (1 << 20), static_cast<unsigned long long>(records));
  if (total_ && *total_ > bytes && rate > 0) {
    const double eta = static_cast<double>(*total_ - bytes) / rate;
    std::snprintf(line + n, sizeof line - static_cast<std::size_t>(n), ", ETA %.0f s   ", eta);
  }
  std::fputs(line, stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (drawn_) std::fputs("\n", stderr);
  drawn_ = false;
}

namespace {
extern "C" void on_signal(int) {
  g_interrupted = true;
}
}  // namespace

void install_interrupt_handler() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
}

bool interrupted() {
  return g_interrupted;
}

}  // namespace uiscsi::tools
