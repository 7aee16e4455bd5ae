// An outside program using the installed libuiscsi and libuiscsi-tape: built by
// tests/package/package_test.sh with find_package(uiscsi) and with pkg-config. It needs no
// network: it prints the library version and parses an iscsi:// URL, and checks both.
#include <cstdio>
#include <string>
#include <uiscsi/tape.hpp>
#include <uiscsi/url.hpp>
#include <uiscsi/version.hpp>

int main() {
  // The headers this was compiled with must match the library it runs with.
  const std::string runtime(uiscsi::version());
  if (runtime != UISCSI_VERSION_STRING) {
    std::fprintf(stderr, "library %s, headers %s\n", runtime.c_str(), UISCSI_VERSION_STRING);
    return 1;
  }
  std::printf("uiscsi %s\n", runtime.c_str());

  auto url =
      uiscsi::parse_iscsi_url("iscsi://alice%secretpw@[::1]:3261/iqn.2026-11.dev.uiscsi:disk/2");
  if (!url) {
    std::fprintf(stderr, "parse_iscsi_url: %s\n", url.error().message().c_str());
    return 1;
  }
  std::printf("portal %s target %s lun %llu url %s\n", url->portal().c_str(), url->target.c_str(),
              static_cast<unsigned long long>(url->lun.value_or(0)), url->to_string().c_str());
  if (uiscsi::parse_iscsi_url("http://nope")) return 1;  // must be refused

  std::printf("density 0x5a is %s\n", std::string(uiscsi::tape::density_name(0x5a)).c_str());
  return 0;
}
