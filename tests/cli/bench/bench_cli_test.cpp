// uiscsi-bench from the command line against a private uiscsi-target: the grid runs and reports
// every point, writes need --allow-write, the geometry is checked, Ctrl-C stops with partial
// results, and the exit codes are the documented ones.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

// A child process with its stdout on a pipe (stderr goes to ours).
class Child {
 public:
  explicit Child(const std::vector<std::string>& args) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      std::vector<char*> argv;
      for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    out_ = fds[0];
  }
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) ::close(out_);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }

  // Reads stdout until a line starting with `prefix` (without the prefix), or "" on timeout.
  std::string read_line_starting(const std::string& prefix, std::chrono::seconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      for (auto nl = buffer_.find('\n'); nl != std::string::npos; nl = buffer_.find('\n')) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        if (line.rfind(prefix, 0) == 0) return line.substr(prefix.size());
        lines_.push_back(line);
      }
      if (!fill(100) && eof_) break;  // a quiet 100 ms is not the end (slow starts under ASan)
    }
    return "";
  }
  [[nodiscard]] const std::vector<std::string>& lines() const { return lines_; }

  // Waits for exit (killing the child after `timeout`); returns the exit status and leaves the
  // rest of stdout in `out`.
  int wait(std::chrono::seconds timeout, std::string* out = nullptr) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    int status = 0;
    while (true) {
      while (fill(50)) {
      }
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (std::chrono::steady_clock::now() > end) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
    }
    reaped_ = true;
    while (fill(0)) {
    }
    if (out) *out = buffer_;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  bool fill(int timeout_ms) {
    pollfd p{out_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::read(out_, buf, sizeof buf);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  bool reaped_ = false;
  bool eof_ = false;
  std::string buffer_;
  std::vector<std::string> lines_;
};

class BenchCli : public ::testing::Test {
 protected:
  void SetUp() override {
    target_ = std::make_unique<Child>(std::vector<std::string>{
        UISCSI_TARGET_BIN, "--listen", "127.0.0.1:0", "--ram", "64M", "--log-level", "warning"});
    const std::string portal = target_->read_line_starting("portal ", std::chrono::seconds(10));
    ASSERT_FALSE(portal.empty()) << "uiscsi-target did not print its portal";
    std::string iqn = target_->lines().empty() ? "" : target_->lines().front();
    ASSERT_FALSE(iqn.empty());
    url_ = "iscsi://" + portal + "/" + iqn + "/0";
  }

  // Runs uiscsi-bench with `args` (the URL last); returns the exit code.
  int bench(std::vector<std::string> args, std::string* out = nullptr, bool with_url = true) const {
    std::vector<std::string> argv{UISCSI_BENCH_BIN, "-q"};
    argv.insert(argv.end(), args.begin(), args.end());
    if (with_url) argv.push_back(url_);
    Child c(argv);
    return c.wait(std::chrono::seconds(60), out);
  }

  static std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto p = text.find(what); p != std::string::npos; p = text.find(what, p + 1))
      ++n;
    return n;
  }

  std::unique_ptr<Child> target_;
  std::string url_;
};

TEST_F(BenchCli, ReadGridReportsEveryPoint) {
  std::string out;
  ASSERT_EQ(bench({"--rw", "read,randread", "--bs", "4K,64K", "--qd", "1,4", "--time", "0.2",
                   "--warmup", "0.05", "--json"},
                  &out),
            0)
      << out;
  EXPECT_EQ(count(out, "\"rw\": \"read\""), 4u) << out;
  EXPECT_EQ(count(out, "\"rw\": \"randread\""), 4u) << out;
  EXPECT_EQ(count(out, "\"errors\": 0,"), 8u) << out;
  EXPECT_EQ(count(out, "\"iops\": 0.0,"), 0u) << out;
  EXPECT_NE(out.find("\"block_size\": 512"), std::string::npos);
  EXPECT_NE(out.find("\"interrupted\": false"), std::string::npos);
}

TEST_F(BenchCli, TableByDefault) {
  std::string out;
  ASSERT_EQ(bench({"--rw", "randread", "--bs", "4K", "--qd", "2", "--time", "0.2"}, &out), 0);
  EXPECT_NE(out.find("IOPS"), std::string::npos) << out;
  EXPECT_NE(out.find("p99 us"), std::string::npos) << out;
  EXPECT_NE(out.find("randread"), std::string::npos) << out;
}

TEST_F(BenchCli, WritesNeedAllowWrite) {
  EXPECT_EQ(bench({"--rw", "write", "--bs", "4K", "--qd", "1", "--time", "0.1"}), 2);
  std::string out;
  ASSERT_EQ(bench({"--rw", "write,randwrite", "--bs", "4K,256K", "--qd", "1,8", "--time", "0.2",
                   "--warmup", "0.05", "--allow-write", "--json"},
                  &out),
            0)
      << out;
  EXPECT_EQ(count(out, "\"errors\": 0,"), 8u) << out;
}

TEST_F(BenchCli, ExtraPortalMustBeHostAndPort) {
  EXPECT_EQ(bench({"--extra-portal", "[::1", "--time", "0.1"}), 2);
  // A good one is accepted (this target allows one connection, so it is not dialled).
  EXPECT_EQ(bench({"--connections", "2", "--extra-portal", "127.0.0.1:1", "--rw", "read", "--bs",
                   "4K", "--qd", "2", "--time", "0.1"}),
            0);
}

TEST_F(BenchCli, ChecksTheGeometry) {
  EXPECT_EQ(bench({"--bs", "1000", "--time", "0.1"}), 2);                // not whole blocks
  EXPECT_EQ(bench({"--size", "1G", "--time", "0.1"}), 2);                // beyond the LUN
  EXPECT_EQ(bench({"--offset", "100", "--time", "0.1"}), 2);             // not block aligned
  EXPECT_EQ(bench({"--bs", "4K", "--size", "2K", "--time", "0.1"}), 2);  // bs over the region
  EXPECT_EQ(bench({"--rw", "sideways", "--time", "0.1"}), 2);
  std::string out;
  ASSERT_EQ(bench({"--rw", "read", "--bs", "4K", "--qd", "4", "--size", "1M", "--offset", "8M",
                   "--time", "0.2", "--json"},
                  &out),
            0);
  EXPECT_NE(out.find("\"region_bytes\": 1048576"), std::string::npos) << out;
}

TEST_F(BenchCli, CtrlCStopsWithPartialResults) {
  Child c({UISCSI_BENCH_BIN, "-q", "--json", "--rw", "read,randread", "--bs", "4K", "--qd", "4",
           "--time", "30", "--warmup", "0.1", url_});
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  ::kill(c.pid(), SIGINT);
  const auto t0 = std::chrono::steady_clock::now();
  std::string out;
  EXPECT_EQ(c.wait(std::chrono::seconds(20), &out), 130);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_NE(out.find("\"interrupted\": true"), std::string::npos) << out;
  EXPECT_NE(out.find("\"partial\": true"), std::string::npos) << out;
  EXPECT_EQ(count(out, "\"rw\":"), 1u) << out;  // the second workload never started
}

// A loopback port nobody listens on right now.
int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(a.sin_port);
}

TEST_F(BenchCli, ConnectionRefusedExitsThree) {
  const int port = free_port();
  ASSERT_GT(port, 0);
  Child probe({UISCSI_BENCH_BIN, "-q", "--time", "0.1", "--timeout", "3",
               "iscsi://127.0.0.1:" + std::to_string(port) + "/iqn.2026-11.dev.uiscsi:none/0"});
  EXPECT_EQ(probe.wait(std::chrono::seconds(20)), 3);
}

}  // namespace
