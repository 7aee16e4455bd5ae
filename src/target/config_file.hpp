// Reads a uiscsi-target configuration file (TOML). doc/uiscsi-target.md documents the format:
// [server] listen/workers/cmd_window/nop_interval_ms, [negotiation] offers, [discovery] CHAP,
// [[target]] with [[target.lun]], [[target.chap]] and [target.mutual], and [faults].
// Secrets come from `secret_file` (recommended), `secret_env`, or `secret`.
//
// Errors: errc::invalid_argument with a one-line description in `error_text` (file, line and
// what is wrong; never a secret), or the system error of opening the file.
#pragma once

#include <string>

#include "target/config.hpp"

namespace uiscsi::target {

Result<ServerConfig> load_config_file(const std::string& path, std::string& error_text);
Result<ServerConfig> parse_config_text(std::string_view text, std::string& error_text);

// Reads a secret from a file: the first line, without the line break.
Result<Secret> read_secret_file(const std::string& path);

}  // namespace uiscsi::target
