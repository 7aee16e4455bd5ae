// iscsi:// URLs, the form libiscsi and qemu use:
//
//   iscsi://[user[%password]@]host[:port][/target-iqn[/lun]][?key=value&...]
//
// host may be a name, an IPv4 literal or a bracketed IPv6 literal ("[::1]"). The port defaults
// to 3260. Query keys (as in libiscsi): header_digest / data_digest = none|crc32c|
// crc32c-none|none-crc32c, target_user and target_password (mutual CHAP).
//
// Passwords in URLs are visible to anyone who can list processes; tools also read them from
// ISCSI_CHAP_PASSWORD / a file (see doc/). to_string() never includes them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "uiscsi/export.hpp"
#include "uiscsi/result.hpp"
#include "uiscsi/secret.hpp"

namespace uiscsi {

struct UISCSI_API IscsiUrl {
  std::string host;
  std::uint16_t port = 3260;
  std::string target;  // empty: a portal only (discovery)
  std::optional<std::uint64_t> lun;
  std::string user;
  Secret password;
  std::string target_user;
  Secret target_password;
  std::string header_digest;  // as given in the query, lower case; empty when absent
  std::string data_digest;

  // "host:port" with brackets around IPv6 literals.
  [[nodiscard]] std::string portal() const;
  // The URL without any password: iscsi://user@host:port/target/lun
  [[nodiscard]] std::string to_string() const;
};

// Errors: errc::invalid_url, with no part of the input (which may hold a password) kept.
UISCSI_API Result<IscsiUrl> parse_iscsi_url(std::string_view text);

}  // namespace uiscsi
