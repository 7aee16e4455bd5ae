#include "target/config_file.hpp"

#include <toml++/toml.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "uiscsi/errors.hpp"

namespace uiscsi::target {
namespace {

struct Ctx {
  std::string& error;
  bool fail(const toml::node* at, const std::string& what) {
    error = what;
    if (at != nullptr) error += " (line " + std::to_string(at->source().begin.line) + ")";
    return false;
  }
};

template <class T>
bool get_uint(Ctx& ctx, const toml::table& t, const char* key, T& out, std::uint64_t max) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return true;
  auto v = n->value<std::int64_t>();
  if (!v || *v < 0 || static_cast<std::uint64_t>(*v) > max)
    return ctx.fail(n, std::string(key) + " must be a number from 0 to " + std::to_string(max));
  out = static_cast<T>(*v);
  return true;
}

bool get_bool(Ctx& ctx, const toml::table& t, const char* key, bool& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return true;
  auto v = n->value<bool>();
  if (!v) return ctx.fail(n, std::string(key) + " must be true or false");
  out = *v;
  return true;
}

bool get_string(Ctx& ctx, const toml::table& t, const char* key, std::string& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return true;
  auto v = n->value<std::string>();
  if (!v) return ctx.fail(n, std::string(key) + " must be a string");
  out = *v;
  return true;
}

bool get_size(Ctx& ctx, const toml::table& t, const char* key, std::uint64_t& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return true;
  if (auto i = n->value<std::int64_t>(); i && *i >= 0) {
    out = static_cast<std::uint64_t>(*i);
    return true;
  }
  auto s = n->value<std::string>();
  if (!s) return ctx.fail(n, std::string(key) + " must be a size like \"256M\"");
  auto v = parse_byte_size(*s);
  if (!v) return ctx.fail(n, std::string(key) + ": bad size \"" + *s + "\"");
  out = *v;
  return true;
}

bool get_string_list(Ctx& ctx, const toml::table& t, const char* key,
                     std::vector<std::string>& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return true;
  const toml::array* a = n->as_array();
  if (a == nullptr) return ctx.fail(n, std::string(key) + " must be a list of strings");
  out.clear();
  for (const auto& item : *a) {
    auto v = item.value<std::string>();
    if (!v) return ctx.fail(&item, std::string(key) + " must be a list of strings");
    out.push_back(*v);
  }
  return true;
}

bool get_uint_list(Ctx& ctx, const toml::table& t, const char* key, std::vector<std::uint64_t>& out,
                   std::uint64_t max) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return true;
  const toml::array* a = n->as_array();
  const std::string what =
      std::string(key) + " must be a list of numbers from 0 to " + std::to_string(max);
  if (a == nullptr) return ctx.fail(n, what);
  out.clear();
  for (const auto& item : *a) {
    auto v = item.value<std::int64_t>();
    if (!v || *v < 0 || static_cast<std::uint64_t>(*v) > max) return ctx.fail(&item, what);
    out.push_back(static_cast<std::uint64_t>(*v));
  }
  return true;
}

// An account: user plus one of secret_file, secret_env, secret.
bool get_account(Ctx& ctx, const toml::table& t, std::string& user, Secret& secret) {
  if (!get_string(ctx, t, "user", user)) return false;
  if (user.empty()) return ctx.fail(&t, "a CHAP account needs a user");
  std::string file, env, inline_secret;
  if (!get_string(ctx, t, "secret_file", file) || !get_string(ctx, t, "secret_env", env) ||
      !get_string(ctx, t, "secret", inline_secret))
    return false;
  if (!file.empty()) {
    auto s = read_secret_file(file);
    if (!s) return ctx.fail(&t, "cannot read secret_file " + file + ": " + s.error().message());
    secret = std::move(*s);
  } else if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (v == nullptr || *v == '\0')
      return ctx.fail(&t, "environment variable " + env + " is not set");
    secret = Secret(v);
  } else if (!inline_secret.empty()) {
    secret = Secret(inline_secret);
  } else {
    return ctx.fail(&t, "CHAP account " + user + " has no secret_file, secret_env or secret");
  }
  if (secret.size() < 12)
    return ctx.fail(&t, "CHAP secret of " + user + " is shorter than 12 bytes");
  return true;
}

bool parse_lun(Ctx& ctx, const toml::table& t, LunConfig& lun) {
  std::string type = "ram";
  if (!get_uint(ctx, t, "number", lun.number, (1ull << 40) - 1) ||
      !get_string(ctx, t, "type", type) || !get_size(ctx, t, "size", lun.size_bytes) ||
      !get_uint(ctx, t, "block_size", lun.block_size, 65536) ||
      !get_string(ctx, t, "path", lun.path) || !get_bool(ctx, t, "direct_io", lun.direct_io) ||
      !get_bool(ctx, t, "read_only", lun.read_only) ||
      !get_string(ctx, t, "product", lun.product) || !get_string(ctx, t, "serial", lun.serial) ||
      !get_uint(ctx, t, "slots", lun.slots, 4096) || !get_string(ctx, t, "image", lun.image) ||
      !get_uint(ctx, t, "lto_generation", lun.lto_generation, 9) ||
      !get_uint_list(ctx, t, "drives", lun.drives, (1ull << 40) - 1))
    return false;
  if (type == "ram")
    lun.kind = LunConfig::Kind::ram;
  else if (type == "file")
    lun.kind = LunConfig::Kind::file;
  else if (type == "null")
    lun.kind = LunConfig::Kind::null;
  else if (type == "tape")
    lun.kind = LunConfig::Kind::tape;
  else if (type == "changer")
    lun.kind = LunConfig::Kind::changer;
  else
    return ctx.fail(&t, "unknown LUN type \"" + type + "\" (ram, file, null, tape, changer)");
  const bool tape_like = lun.kind == LunConfig::Kind::tape || lun.kind == LunConfig::Kind::changer;
  // A changer's cartridges are 1G unless `size` says otherwise (sparse in memory).
  if (lun.kind == LunConfig::Kind::changer && !t.contains("size")) lun.size_bytes = 1ull << 30;
  if (tape_like && (lun.lto_generation < 5 || lun.size_bytes == 0))
    return ctx.fail(&t, "a tape or changer LUN needs a size above 0 and lto_generation 5 to 9");
  if (lun.kind == LunConfig::Kind::changer && (lun.slots == 0 || lun.slots > 4096))
    return ctx.fail(&t, "a changer needs 1 to 4096 slots");
  if (!tape_like && !lun.image.empty()) return ctx.fail(&t, "image is for tape and changer LUNs");
  if (lun.kind != LunConfig::Kind::changer && !lun.drives.empty())
    return ctx.fail(&t, "drives is for changer LUNs");
  if (lun.kind == LunConfig::Kind::file && lun.path.empty())
    return ctx.fail(&t, "a file LUN needs a path");
  if (lun.block_size != 512 && lun.block_size != 4096 && lun.kind != LunConfig::Kind::tape)
    return ctx.fail(&t, "block_size must be 512 or 4096");
  return true;
}

bool parse(Ctx& ctx, const toml::table& root, ServerConfig& c) {
  if (const auto* server = root["server"].as_table()) {
    std::vector<std::string> listen;
    if (!get_string_list(ctx, *server, "listen", listen)) return false;
    if (!listen.empty()) {
      c.portals.clear();
      for (const auto& l : listen) {
        auto ep = net::parse_endpoint(l);
        if (!ep) return ctx.fail(server, "bad listen address \"" + l + "\"");
        c.portals.push_back(*ep);
      }
    }
    std::uint64_t nop_ms = 0, delay_ms = 0;
    if (!get_uint(ctx, *server, "workers", c.worker_threads, 64) ||
        !get_uint(ctx, *server, "cmd_window", c.engine.cmd_window, 65536) ||
        !get_uint(ctx, *server, "nop_interval_ms", nop_ms, 3600000) ||
        !get_uint(ctx, *server, "response_delay_ms", delay_ms, 600000) ||
        !get_size(ctx, *server, "rate_limit", c.rate_limit_bytes_per_second))
      return false;
    if (c.engine.cmd_window == 0) return ctx.fail(server, "cmd_window must be at least 1");
    c.engine.nop_in_interval = std::chrono::milliseconds(nop_ms);
    c.response_delay = std::chrono::milliseconds(delay_ms);
  }
  if (const auto* n = root["negotiation"].as_table()) {
    auto& s = c.engine.negotiation;
    if (!get_uint(ctx, *n, "max_recv_data_segment_length", s.max_recv_data_segment_length,
                  (1u << 24) - 1) ||
        !get_uint(ctx, *n, "max_burst_length", s.max_burst_length, (1u << 24) - 1) ||
        !get_uint(ctx, *n, "first_burst_length", s.first_burst_length, (1u << 24) - 1) ||
        !get_bool(ctx, *n, "initial_r2t", s.initial_r2t) ||
        !get_bool(ctx, *n, "immediate_data", s.immediate_data) ||
        !get_uint(ctx, *n, "max_outstanding_r2t", s.max_outstanding_r2t, 65535) ||
        !get_uint(ctx, *n, "error_recovery_level", s.error_recovery_level, 2) ||
        !get_uint(ctx, *n, "max_connections", s.max_connections, 65535) ||
        !get_uint(ctx, *n, "default_time2wait", s.default_time2wait, 3600) ||
        !get_uint(ctx, *n, "default_time2retain", s.default_time2retain, 3600) ||
        !get_string_list(ctx, *n, "header_digest", s.header_digest) ||
        !get_string_list(ctx, *n, "data_digest", s.data_digest))
      return false;
    if (s.max_recv_data_segment_length < 512 || s.max_burst_length < 512 ||
        s.first_burst_length < 512)
      return ctx.fail(n, "data segment and burst lengths must be at least 512");
  }
  if (const auto* d = root["discovery"].as_table()) {
    if (!get_bool(ctx, *d, "chap_required", c.discovery_chap_required)) return false;
    if (const auto* accounts = (*d)["chap"].as_array()) {
      for (const auto& a : *accounts) {
        const auto* t = a.as_table();
        if (t == nullptr) return ctx.fail(&a, "[[discovery.chap]] must be a table");
        std::string user;
        Secret secret;
        if (!get_account(ctx, *t, user, secret)) return false;
        c.discovery_chap_users[user] = std::move(secret);
      }
    }
  }
  if (const auto* f = root["faults"].as_table()) {
    for (const auto& [key, value] : *f) {
      std::string item(key.str());
      for (auto& ch : item)
        if (ch == '_') ch = '-';
      if (auto b = value.value<bool>()) {
        item += *b ? "=1" : "=0";
      } else if (auto i = value.value<std::int64_t>(); i && *i >= 0) {
        item += "=" + std::to_string(*i);
      } else {
        return ctx.fail(&value, "fault " + std::string(key.str()) + " must be a number or boolean");
      }
      if (!apply_fault(c.engine.faults, item))
        return ctx.fail(&value, "unknown fault " + std::string(key.str()));
    }
  }
  const auto* targets = root["target"].as_array();
  if (targets == nullptr || targets->empty())
    return ctx.fail(nullptr, "no [[target]] in the configuration");
  c.targets.clear();
  for (const auto& node : *targets) {
    const auto* t = node.as_table();
    if (t == nullptr) return ctx.fail(&node, "[[target]] must be a table");
    TargetEntry e;
    if (!get_string(ctx, *t, "name", e.name) || !get_string(ctx, *t, "alias", e.alias) ||
        !get_uint(ctx, *t, "portal_group_tag", e.portal_group_tag, 65535) ||
        !get_string_list(ctx, *t, "allowed_initiators", e.allowed_initiators) ||
        !get_bool(ctx, *t, "chap_required", e.chap_required) ||
        !get_string(ctx, *t, "redirect", e.redirect))
      return false;
    if (e.name.rfind("iqn.", 0) != 0 && e.name.rfind("eui.", 0) != 0 &&
        e.name.rfind("naa.", 0) != 0)
      return ctx.fail(t, "target name \"" + e.name + "\" must start with iqn., eui. or naa.");
    if (const auto* accounts = (*t)["chap"].as_array()) {
      for (const auto& a : *accounts) {
        const auto* at = a.as_table();
        if (at == nullptr) return ctx.fail(&a, "[[target.chap]] must be a table");
        std::string user;
        Secret secret;
        if (!get_account(ctx, *at, user, secret)) return false;
        e.chap_users[user] = std::move(secret);
      }
    }
    if (const auto* m = (*t)["mutual"].as_table()) {
      core::ChapCredentials cred;
      if (!get_account(ctx, *m, cred.username, cred.secret)) return false;
      e.mutual = std::move(cred);
    }
    if (e.chap_required && e.chap_users.empty())
      return ctx.fail(t, "target " + e.name + " requires CHAP but has no [[target.chap]] account");
    if (const auto* luns = (*t)["lun"].as_array()) {
      for (const auto& ln : *luns) {
        const auto* lt = ln.as_table();
        if (lt == nullptr) return ctx.fail(&ln, "[[target.lun]] must be a table");
        LunConfig lun;
        lun.number = e.luns.size();
        if (!parse_lun(ctx, *lt, lun)) return false;
        e.luns.push_back(std::move(lun));
      }
    }
    c.targets.push_back(std::move(e));
  }
  return true;
}

}  // namespace

Result<Secret> read_secret_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::error_code(errno ? errno : ENOENT, std::system_category());
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  Secret s(line);
  std::fill(line.begin(), line.end(), '\0');
  if (s.empty()) return errc::invalid_argument;
  return s;
}

Result<ServerConfig> parse_config_text(std::string_view text, std::string& error_text) {
  toml::table root;
#if TOML_EXCEPTIONS
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& e) {
    error_text =
        std::string(e.description()) + " (line " + std::to_string(e.source().begin.line) + ")";
    return errc::invalid_argument;
  }
#else
  toml::parse_result parsed = toml::parse(text);
  if (!parsed) {
    error_text = std::string(parsed.error().description()) + " (line " +
                 std::to_string(parsed.error().source().begin.line) + ")";
    return errc::invalid_argument;
  }
  root = std::move(parsed).table();
#endif
  ServerConfig c;
  Ctx ctx{error_text};
  if (!parse(ctx, root, c)) return errc::invalid_argument;
  return c;
}

Result<ServerConfig> load_config_file(const std::string& path, std::string& error_text) {
  std::ifstream in(path);
  if (!in) {
    error_text = "cannot open " + path;
    return std::error_code(errno ? errno : ENOENT, std::system_category());
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto r = parse_config_text(ss.str(), error_text);
  if (!r) error_text = path + ": " + error_text;
  return r;
}

}  // namespace uiscsi::target
