// Error categories for the codes declared in include/uiscsi/errors.hpp.
#include "uiscsi/errors.hpp"

#include <string>

namespace uiscsi {
namespace {

class UiscsiCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "uiscsi"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::invalid_argument:
        return "invalid argument";
      case errc::invalid_url:
        return "invalid iscsi:// URL";
      case errc::timed_out:
        return "timed out";
      case errc::cancelled:
        return "cancelled";
      case errc::connection_closed:
        return "connection closed by peer";
      case errc::not_logged_in:
        return "session not in full feature phase";
      case errc::session_closed:
        return "session closed";
      case errc::buffer_too_small:
        return "buffer too small";
      case errc::unsupported:
        return "not supported";
      case errc::busy:
        return "resource limit reached";
      case errc::task_aborted:
        return "task aborted by task management";
      case errc::rejected:
        return "rejected by the target";
      case errc::target_failure:
        return "target failure";
      case errc::command_interrupted:
        return "connection lost after the command was sent; it may have been executed";
      case errc::authentication_failed:
        return "authentication failed";
      case errc::internal:
        return "internal error";
    }
    return "unknown uiscsi error " + std::to_string(ev);
  }
};

class ProtocolCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "iscsi-protocol"; }
  std::string message(int ev) const override {
    switch (static_cast<protocol_errc>(ev)) {
      case protocol_errc::truncated:
        return "truncated PDU or field";
      case protocol_errc::unknown_opcode:
        return "unknown iSCSI opcode";
      case protocol_errc::unexpected_opcode:
        return "iSCSI opcode not valid here";
      case protocol_errc::reserved_field_nonzero:
        return "reserved field is not zero";
      case protocol_errc::invalid_field:
        return "invalid field value in PDU";
      case protocol_errc::data_segment_too_long:
        return "DataSegmentLength exceeds MaxRecvDataSegmentLength";
      case protocol_errc::ahs_too_long:
        return "invalid additional header segment length";
      case protocol_errc::header_digest_mismatch:
        return "header digest (CRC32C) mismatch";
      case protocol_errc::data_digest_mismatch:
        return "data digest (CRC32C) mismatch";
      case protocol_errc::text_malformed:
        return "malformed text key=value data";
      case protocol_errc::text_key_too_long:
        return "text key longer than 63 bytes";
      case protocol_errc::text_value_too_long:
        return "text value too long";
      case protocol_errc::text_too_long:
        return "text negotiation data too long";
      case protocol_errc::text_duplicate_key:
        return "text key repeated";
      case protocol_errc::negotiation_failed:
        return "parameter negotiation failed";
      case protocol_errc::sequence_error:
        return "sequence number out of order";
      case protocol_errc::unexpected_response:
        return "response matches no request";
    }
    return "unknown protocol error " + std::to_string(ev);
  }
};

const char* login_detail_text(unsigned cls, unsigned detail) {
  switch (cls) {
    case 1:
      switch (detail) {
        case 0x01:
          return "target moved temporarily";
        case 0x02:
          return "target moved permanently";
        default:
          return "redirection";
      }
    case 2:
      switch (detail) {
        case 0x00:
          return "initiator error";
        case 0x01:
          return "authentication failure";
        case 0x02:
          return "authorization failure";
        case 0x03:
          return "target not found";
        case 0x04:
          return "target removed";
        case 0x05:
          return "unsupported version";
        case 0x06:
          return "too many connections";
        case 0x07:
          return "missing parameter";
        case 0x08:
          return "cannot include connection in session";
        case 0x09:
          return "session type not supported";
        case 0x0a:
          return "session does not exist";
        case 0x0b:
          return "invalid request during login";
        default:
          return "initiator error";
      }
    case 3:
      switch (detail) {
        case 0x00:
          return "target error";
        case 0x01:
          return "service unavailable";
        case 0x02:
          return "out of resources";
        default:
          return "target error";
      }
    default:
      return "unknown status class";
  }
}

class LoginCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "iscsi-login"; }
  std::string message(int ev) const override {
    const unsigned cls = (static_cast<unsigned>(ev) >> 8) & 0xffu;
    const unsigned detail = static_cast<unsigned>(ev) & 0xffu;
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s = "login rejected: ";
    s += login_detail_text(cls, detail);
    s += " (status class ";
    s += std::to_string(cls);
    s += ", detail 0x";
    s += kHex[detail >> 4];
    s += kHex[detail & 0xf];
    s += ")";
    return s;
  }
  std::error_condition default_error_condition(int ev) const noexcept override {
    const unsigned cls = (static_cast<unsigned>(ev) >> 8) & 0xffu;
    const unsigned detail = static_cast<unsigned>(ev) & 0xffu;
    if (cls == 2 && (detail == 1 || detail == 2)) return std::errc::permission_denied;
    if (cls == 2 && (detail == 3 || detail == 4)) return std::errc::no_such_device;
    return {ev, *this};
  }
};

}  // namespace

const std::error_category& uiscsi_category() noexcept {
  static const UiscsiCategory c;
  return c;
}
const std::error_category& protocol_category() noexcept {
  static const ProtocolCategory c;
  return c;
}
const std::error_category& login_category() noexcept {
  static const LoginCategory c;
  return c;
}

std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), uiscsi_category()};
}
std::error_code make_error_code(protocol_errc e) noexcept {
  return {static_cast<int>(e), protocol_category()};
}

std::error_code make_login_error(std::uint8_t status_class, std::uint8_t status_detail) {
  return {(static_cast<int>(status_class) << 8) | status_detail, login_category()};
}
std::uint8_t login_status_class(std::error_code ec) {
  return ec.category() == login_category() ? static_cast<std::uint8_t>((ec.value() >> 8) & 0xff)
                                           : 0;
}
std::uint8_t login_status_detail(std::error_code ec) {
  return ec.category() == login_category() ? static_cast<std::uint8_t>(ec.value() & 0xff) : 0;
}

}  // namespace uiscsi
