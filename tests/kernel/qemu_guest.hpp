// A Linux kernel peer for tests: Debian's kernel booted under qemu (TCG, no KVM needed) from the
// initramfs that tests/kernel/build-initramfs.sh builds (LIO target, kernel iSCSI initiator, st,
// busybox). See doc/kernel-tests.md.
//
//   QemuGuest guest;
//   GuestOptions o;
//   o.portals = {free_port()};            // host 127.0.0.1:P -> guest 127.0.0.1:P (LIO portals)
//   if (auto err = guest.boot(o); !err.empty()) FAIL() << err;
//   auto r = guest.exec("/scenarios/lio.sh show IQN", std::chrono::seconds(10));
//
// boot() waits for the guest's readiness marker (60 s) and boots once more on a failure. exec()
// runs a shell script in the guest over the control channel (a forwarded TCP port), bounded by a
// timeout on both sides. qemu is always stopped by its own PID: SIGTERM, then SIGKILL, each wait
// bounded; in stop(), in the destructor, and by the kernel (PR_SET_PDEATHSIG) if the test
// process dies first.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "interop/support.hpp"

namespace uiscsi::testing {

struct GuestOptions {
  // Host 127.0.0.1:P is forwarded to the guest's own 127.0.0.1:P (the guest accepts it with
  // route_localnet), so a LIO portal bound there is advertised by SendTargets as an address the
  // host reaches.
  std::vector<int> portals;
  // Shared with the guest over virtio-9p, mounted at /host (e.g. binaries built on the host).
  std::filesystem::path share_dir;
  // Host executables copied into the image at /opt/uiscsi/bin with their shared libraries
  // (build-initramfs.sh's UISCSI_GUEST_EXTRA); an image per set, cached.
  std::vector<std::filesystem::path> extra_binaries;
  std::string kernel_args;  // appended to the kernel command line (e.g. "uk.hook=/host/x.sh")
  int memory_mb = 768;
  std::chrono::seconds ready_timeout{60};
};

// The reply of one control-channel request.
struct GuestReply {
  int status = -1;      // the script's exit status (124 or more: the guest-side timeout hit)
  std::string output;   // stdout and stderr, merged
  std::string failure;  // non-empty when the channel itself failed (connect, timeout)
  [[nodiscard]] bool ok() const { return failure.empty() && status == 0; }
  [[nodiscard]] std::string describe() const {
    return failure.empty() ? "status " + std::to_string(status) + ", output:\n" + output
                           : failure + "; output so far:\n" + output;
  }
};

class QemuGuest {
 public:
  QemuGuest() = default;
  QemuGuest(const QemuGuest&) = delete;
  QemuGuest& operator=(const QemuGuest&) = delete;
  ~QemuGuest() {
    stop();
    if (!dir_.empty() && std::getenv("UISCSI_KEEP_GUEST") == nullptr)
      std::filesystem::remove_all(dir_);
  }

  // Whether qemu-system-x86_64 is installed (tests skip only when it is not).
  static bool qemu_installed() { return have_program("qemu-system-x86_64"); }

  // Builds (or takes from the cache) the kernel and initramfs, boots, and waits for the
  // readiness marker; on failure boots once more. Returns "" when ready, else what went wrong
  // with the console tail.
  std::string boot(const GuestOptions& options) {
    options_ = options;
    if (dir_.empty()) dir_ = temp_dir("qemu-guest");
    if (dir_.empty()) return "cannot create a temporary directory";
    if (std::string err = build_image(); !err.empty()) return err;
    std::string first;
    for (int attempt = 1; attempt <= 2; ++attempt) {
      std::string err = start_and_wait();
      if (err.empty()) return "";
      err += "\n--- guest console (attempt " + std::to_string(attempt) + ") ---\n" + console_tail();
      stop();
      if (attempt == 1) {
        std::cerr << "[qemu-guest] boot failed, retrying once: " << err << "\n";
        first = err;
      } else {
        return "guest did not become ready twice.\nfirst: " + first + "\nsecond: " + err;
      }
    }
    return "unreachable";
  }

  // Runs `script` (sh) in the guest, as root, with a timeout on the guest side and the host side
  // (plus 10 s for the channel). The script must not contain a line "UISCSI-CTL-END".
  GuestReply exec(const std::string& script, std::chrono::seconds timeout) {
    GuestReply reply;
    // A connection closed before any output never reached the script (qemu's user network
    // accepts a connection before it knows whether the guest does): try again, a few times.
    // A timeout is final (the script may be running).
    for (int attempt = 0; attempt < 3; ++attempt) {
      bool timed_out = false;
      reply = exec_once(script, timeout, timed_out);
      if (timed_out || !(reply.status < 0 && reply.output.empty())) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    return reply;
  }

 private:
  GuestReply exec_once(const std::string& script, std::chrono::seconds timeout, bool& timed_out) {
    GuestReply reply;
    if (pid_ <= 0) {
      reply.failure = "guest is not running";
      return reply;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout + std::chrono::seconds(10);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(ctl_port_));
    const std::string request =
        std::to_string(timeout.count()) + "\n" + script + "\nUISCSI-CTL-END\n";
    std::size_t sent = 0;
    const std::string marker = "UISCSI-CTL-RC=";
    bool connected = false;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 || errno == EINPROGRESS) {
      for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                              deadline - std::chrono::steady_clock::now())
                              .count();
        if (left <= 0) {
          timed_out = true;
          reply.failure =
              "control channel: no reply within " + std::to_string(timeout.count() + 10) + " s";
          break;
        }
        pollfd p{fd, static_cast<short>(POLLIN | (sent < request.size() ? POLLOUT : 0)), 0};
        if (::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000))) < 0) continue;
        if (!connected && (p.revents & (POLLOUT | POLLIN | POLLERR | POLLHUP))) {
          int err = 0;
          socklen_t len = sizeof err;
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err != 0) {
            reply.failure = std::string("control channel: connect: ") + std::strerror(err);
            break;
          }
          connected = true;
        }
        if ((p.revents & POLLOUT) && sent < request.size()) {
          const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
          if (n > 0) sent += static_cast<std::size_t>(n);
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
          char buf[4096];
          const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
          if (n > 0) {
            reply.output.append(buf, static_cast<std::size_t>(n));
          } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
            if (reply.output.find(marker) == std::string::npos)
              reply.failure = "control channel closed without a status";
            break;
          }
          const auto at = reply.output.rfind(marker);
          if (at != std::string::npos && reply.output.find('\n', at) != std::string::npos) {
            reply.status = std::atoi(reply.output.c_str() + at + marker.size());
            reply.output.erase(at);
            break;
          }
        }
      }
    } else {
      reply.failure = std::string("control channel: connect: ") + std::strerror(errno);
    }
    ::close(fd);
    return reply;
  }

 public:
  // The last `lines` lines of the guest's serial console.
  [[nodiscard]] std::string console_tail(std::size_t lines = 40) const {
    std::ifstream in(dir_ / "console.log", std::ios::binary);
    std::vector<std::string> all;
    for (std::string l; std::getline(in, l);)
      all.push_back(l);
    std::string out;
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
      out += all[i] + "\n";
    return out;
  }
  [[nodiscard]] bool running() const { return pid_ > 0; }
  [[nodiscard]] const std::filesystem::path& dir() const { return dir_; }

  // Stops qemu by its PID: SIGTERM, up to 5 s, then SIGKILL and a bounded wait.
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    if (!reap(std::chrono::seconds(5))) {
      ::kill(pid_, SIGKILL);
      reap(std::chrono::seconds(5));
    }
    pid_ = 0;
  }

 private:
  bool reap(std::chrono::seconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      int status = 0;
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_ || (r < 0 && errno == ECHILD)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::string build_image() {
    std::string env;
    if (!options_.extra_binaries.empty()) {
      env = "UISCSI_GUEST_EXTRA='";
      for (auto& b : options_.extra_binaries)
        env += b.string() + " ";
      env += "' ";
    }
    const auto log = dir_ / "build.log";
    std::string out;
    const int rc = run(env + "timeout 900 " + std::string(UISCSI_KERNEL_DIR) +
                           "/build-initramfs.sh 2>" + log.string(),
                       &out);
    std::ifstream in(log);
    std::stringstream messages;
    messages << in.rdbuf();
    std::istringstream words(out);
    if (rc != 0 || !(words >> kernel_ >> initrd_))
      return "cannot prepare the guest kernel and initramfs (tests/kernel/build-initramfs.sh, "
             "exit " +
             std::to_string(rc) + "):\n" + messages.str();
    return "";
  }

  std::string start_and_wait() {
    ctl_port_ = free_port();
    const auto console = dir_ / "console.log";
    std::filesystem::remove(console);
    std::string fwd = "user,id=n0,hostfwd=tcp:127.0.0.1:" + std::to_string(ctl_port_) + "-:5000";
    for (int p : options_.portals)
      fwd += ",hostfwd=tcp:127.0.0.1:" + std::to_string(p) + "-127.0.0.1:" + std::to_string(p);
    std::vector<std::string> args{"qemu-system-x86_64",
                                  "-nodefaults",
                                  "-nographic",
                                  "-no-reboot",
                                  "-accel",
                                  "tcg,thread=multi",
                                  "-cpu",
                                  "max",
                                  "-m",
                                  std::to_string(options_.memory_mb),
                                  "-smp",
                                  "2",
                                  "-kernel",
                                  kernel_,
                                  "-initrd",
                                  initrd_,
                                  "-append",
                                  "console=ttyS0 panic=-1 uk.ctl=5000 " + options_.kernel_args,
                                  "-netdev",
                                  fwd,
                                  "-device",
                                  "virtio-net-pci,netdev=n0,romfile=",
                                  "-serial",
                                  "file:" + console.string()};
    if (!options_.share_dir.empty()) {
      args.push_back("-virtfs");
      args.push_back("local,path=" + options_.share_dir.string() +
                     ",mount_tag=host,security_model=none,id=host0");
    }
    const std::string qemu_log = (dir_ / "qemu.log").string();
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) return std::string("fork: ") + std::strerror(errno);
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test process
      if (::getppid() != parent) ::_exit(127);
      const int null = ::open("/dev/null", O_RDONLY);
      const int log = ::open(qemu_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(null, STDIN_FILENO);
      ::dup2(log, STDOUT_FILENO);
      ::dup2(log, STDERR_FILENO);
      std::vector<char*> argv;
      for (auto& s : args)
        argv.push_back(s.data());
      argv.push_back(nullptr);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    const auto start = std::chrono::steady_clock::now();
    for (;;) {
      std::ifstream in(console, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      const std::string s = text.str();
      if (s.find("UISCSI-GUEST: READY") != std::string::npos) {
        const auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start);
        std::cerr << "[qemu-guest] ready after " << secs.count() << " s (pid " << pid_ << ", "
                  << dir_.string() << ")\n";
        return "";
      }
      if (s.find("UISCSI-GUEST: FAILED") != std::string::npos ||
          s.find("Kernel panic") != std::string::npos)
        return "the guest's init failed";
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        std::ifstream ql(qemu_log);
        std::stringstream q;
        q << ql.rdbuf();
        return "qemu exited (status " + std::to_string(status) + "): " + q.str();
      }
      if (std::chrono::steady_clock::now() - start > options_.ready_timeout)
        return "no readiness marker within " + std::to_string(options_.ready_timeout.count()) +
               " s";
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  GuestOptions options_;
  std::filesystem::path dir_;
  std::string kernel_, initrd_;
  pid_t pid_ = 0;
  int ctl_port_ = 0;
};

// For a fixture's TearDown(): prints the guest console's tail when the test failed.
inline void print_console_on_failure(const QemuGuest& guest) {
  if (::testing::Test::HasFailure() && guest.running())
    std::cerr << "--- guest console (last 40 lines) ---\n" << guest.console_tail() << "---\n";
}

}  // namespace uiscsi::testing
