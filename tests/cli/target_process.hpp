// Runs uiscsi-target as a child process on a free loopback port for CLI tests.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace uiscsi::testing {

class TargetProcess {
 public:
  // Starts `binary` with `args` (plus --listen 127.0.0.1:0) and reads its IQN and portal.
  bool start(const std::string& binary, std::vector<std::string> args,
             std::vector<std::string> env = {}) {
    int out[2];
    if (::pipe(out) != 0) return false;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      for (auto& e : env)
        ::putenv(e.data());
      std::vector<std::string> all{binary, "--listen", "127.0.0.1:0", "--log-level", "warning"};
      all.insert(all.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : all)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    FILE* f = ::fdopen(out[0], "r");
    char line[512];
    if (std::fgets(line, sizeof line, f) == nullptr) return false;
    iqn_ = line;
    iqn_.erase(iqn_.find_last_not_of("\r\n") + 1);
    if (std::fgets(line, sizeof line, f) == nullptr) return false;
    std::string p = line;
    p.erase(p.find_last_not_of("\r\n") + 1);
    if (p.rfind("portal ", 0) != 0) return false;
    portal_ = p.substr(7);
    stdout_ = f;
    return true;
  }
  ~TargetProcess() { stop(); }
  int stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = 0;
        if (stdout_) std::fclose(stdout_);
        stdout_ = nullptr;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = 0;
    return -1;
  }
  [[nodiscard]] const std::string& iqn() const { return iqn_; }
  [[nodiscard]] const std::string& portal() const { return portal_; }
  [[nodiscard]] std::string url(int lun = 0) const {
    return "iscsi://" + portal_ + "/" + iqn_ + "/" + std::to_string(lun);
  }

 private:
  pid_t pid_ = 0;
  FILE* stdout_ = nullptr;
  std::string iqn_, portal_;
};

}  // namespace uiscsi::testing
