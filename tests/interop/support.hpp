// Shared helpers for interop tests: free loopback ports, temporary directories, running tools.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace uiscsi::testing {

// A loopback TCP port nobody listens on right now.
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline std::filesystem::path temp_dir(const std::string& tag) {
  std::string templ =
      (std::filesystem::temp_directory_path() / ("uiscsi-" + tag + "-XXXXXX")).string();
  const char* d = ::mkdtemp(templ.data());
  return d ? std::filesystem::path(d) : std::filesystem::path();
}

inline bool have_program(const char* name) {
  return std::system((std::string("command -v ") + name + " >/dev/null 2>&1").c_str()) == 0;
}

// Runs a shell command; returns its exit status and fills `out` with stdout.
inline int run(const std::string& cmd, std::string* out = nullptr) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  std::string text;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
    text.append(buf, n);
  const int rc = ::pclose(p);
  if (out) *out = std::move(text);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace uiscsi::testing
