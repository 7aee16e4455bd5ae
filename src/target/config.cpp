#include "target/config.hpp"

#include <charconv>

#include "uiscsi/errors.hpp"

namespace uiscsi::target {

Result<std::uint64_t> parse_byte_size(std::string_view text) {
  std::uint64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || p == text.data()) return errc::invalid_argument;
  std::string_view suffix(p, static_cast<std::size_t>(text.data() + text.size() - p));
  std::uint64_t mult = 1;
  if (suffix.empty() || suffix == "B" || suffix == "b")
    mult = 1;
  else if (suffix == "K" || suffix == "k" || suffix == "KiB")
    mult = 1ull << 10;
  else if (suffix == "M" || suffix == "m" || suffix == "MiB")
    mult = 1ull << 20;
  else if (suffix == "G" || suffix == "g" || suffix == "GiB")
    mult = 1ull << 30;
  else if (suffix == "T" || suffix == "t" || suffix == "TiB")
    mult = 1ull << 40;
  else
    return errc::invalid_argument;
  if (n > ~0ull / mult) return errc::invalid_argument;
  return n * mult;
}

Result<void> apply_fault(core::FaultPlan& plan, std::string_view item) {
  const auto eq = item.find('=');
  const std::string_view key = item.substr(0, eq);
  std::uint64_t value = 1;
  if (eq != std::string_view::npos) {
    const std::string_view v = item.substr(eq + 1);
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (ec != std::errc{} || p != v.data() + v.size()) return errc::invalid_argument;
  }
  auto u16 = [&](std::uint16_t& out) {
    if (value > 0xffff) return false;
    out = static_cast<std::uint16_t>(value);
    return true;
  };
  if (key == "drop-after-pdus")
    plan.drop_after_pdus = value;
  else if (key == "drop-after-bytes")
    plan.drop_after_bytes = value;
  else if (key == "corrupt-header-digest")
    plan.corrupt_header_digest_pdu = value;
  else if (key == "corrupt-data-digest")
    plan.corrupt_data_digest_pdu = value;
  else if (key == "faulty-connections")
    plan.faulty_connections = value;
  else if (key == "reject-pdu")
    plan.reject_pdu = value;
  else if (key == "hold-window")
    plan.hold_window_closed = value != 0;
  else if (key == "data-in-out-of-order")
    plan.data_in_out_of_order = value != 0;
  else if (key == "a-bit")
    plan.set_a_bit = value != 0;
  else if (key == "lose-pdu")
    plan.lose_pdu = value;
  else if (key == "lose-every")
    plan.lose_every = value;
  else if (key == "async-logout-after")
    plan.async_logout_after_commands = value;
  else if (key == "async-drop-after")
    plan.async_drop_after_commands = value;
  else if (key == "async-time2wait") {
    if (!u16(plan.async_time2wait)) return errc::invalid_argument;
  } else if (key == "async-logout-within") {
    if (!u16(plan.async_logout_within)) return errc::invalid_argument;
  } else {
    return errc::invalid_argument;
  }
  return ok();
}

std::string default_target_name(std::string_view suffix) {
  return "iqn.2026-11.dev.uiscsi:" + std::string(suffix);
}

}  // namespace uiscsi::target
