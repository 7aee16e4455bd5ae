// Command, Completion and the SCSI status error category.
#include <cstdio>

#include "initiator/access.hpp"
#include "uiscsi/errors.hpp"

namespace uiscsi {

Result<Command> Command::raw(std::span<const std::byte> cdb, std::uint32_t data_in_length,
                             std::uint32_t data_out_length) {
  auto c = scsi::Cdb::from_bytes(cdb);
  if (!c) return c.error();
  scsi::CommandSpec spec;
  spec.cdb = *c;
  spec.data_in_length = data_in_length;
  spec.data_out_length = data_out_length;
  spec.direction = data_in_length && data_out_length ? scsi::DataDirection::bidirectional
                   : data_in_length                  ? scsi::DataDirection::from_device
                   : data_out_length                 ? scsi::DataDirection::to_device
                                                     : scsi::DataDirection::none;
  return Command(spec);
}

Command& Command::read_into(std::span<std::byte> buffer) {
  read_buffer_ = buffer;
  lent_read_ = true;
  spec_.data_in_length = static_cast<std::uint32_t>(buffer.size());
  return *this;
}

Command& Command::write_from(std::span<const std::byte> buffer) {
  write_buffer_ = buffer;
  owned_write_.clear();
  spec_.data_out_length = static_cast<std::uint32_t>(buffer.size());
  return *this;
}

Command& Command::write_data(std::vector<std::byte> data) {
  owned_write_ = std::move(data);
  write_buffer_ = {};
  spec_.data_out_length = static_cast<std::uint32_t>(owned_write_.size());
  return *this;
}

Command& Command::timeout(std::chrono::nanoseconds d) {
  timeout_ = d;
  return *this;
}

Command& Command::retry(RetryPolicy p) {
  retry_ = p;
  return *this;
}

Command& Command::attribute(TaskAttribute a) {
  attribute_ = a;
  return *this;
}

void SessionAccess::prepare(Command& command, Completion& completion,
                            std::vector<std::byte>& owned_write, core::ScsiRequest& request) {
  if (command.lent_read_) {
    completion.lent_ = true;
    completion.lent_in_ = command.read_buffer_;
    request.data_in = command.read_buffer_;
  } else if (command.spec_.data_in_length > 0) {
    completion.owned_in_.resize(command.spec_.data_in_length);
    request.data_in = completion.owned_in_;
  }
  if (!command.owned_write_.empty()) {
    owned_write = std::move(command.owned_write_);
    request.data_out = owned_write;
  } else {
    // A spec that wants write data but was given none sends zeros rather than reading nothing.
    if (command.write_buffer_.empty() && command.spec_.data_out_length > 0) {
      owned_write.assign(command.spec_.data_out_length, std::byte{0});
      request.data_out = owned_write;
    } else {
      request.data_out = command.write_buffer_;
    }
  }
}

void SessionAccess::fill(Completion& c, const core::CommandResult& r) {
  c.status_ = static_cast<scsi::Status>(r.status);
  c.sense_ = r.sense;
  c.bytes_in_ = r.data_in_bytes;
  c.residual_ = r.residual_count;
  c.underflow_ = r.underflow;
  c.overflow_ = r.overflow;
  c.latency_ = std::chrono::duration_cast<std::chrono::nanoseconds>(r.latency);
}

std::span<const std::byte> Completion::data() const {
  if (lent_) return lent_in_.first(std::min<std::size_t>(bytes_in_, lent_in_.size()));
  return std::span<const std::byte>(owned_in_).first(
      std::min<std::size_t>(bytes_in_, owned_in_.size()));
}

std::vector<std::byte> Completion::take_data() {
  if (lent_) return {};
  owned_in_.resize(std::min<std::size_t>(bytes_in_, owned_in_.size()));
  return std::move(owned_in_);
}

Result<scsi::SenseData> Completion::sense() const {
  if (sense_.empty()) return errc::invalid_argument;
  return scsi::parse_sense(sense_);
}

namespace {

class ScsiStatusCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "scsi-status"; }
  std::string message(int ev) const override {
    const auto v = static_cast<std::uint32_t>(ev);
    const auto status = static_cast<scsi::Status>(v >> 24);
    std::string s(scsi::status_name(status));
    if (status != scsi::Status::check_condition) return s;
    const auto key = static_cast<scsi::SenseKey>((v >> 16) & 0xff);
    const auto asc = static_cast<std::uint8_t>((v >> 8) & 0xff);
    const auto ascq = static_cast<std::uint8_t>(v & 0xff);
    char codes[40];
    std::snprintf(codes, sizeof codes, " (asc 0x%02x, ascq 0x%02x)", asc, ascq);
    return s + ": " + std::string(scsi::sense_key_name(key)) + ", " +
           std::string(scsi::asc_ascq_name(asc, ascq)) + codes;
  }
};

}  // namespace

const std::error_category& scsi_status_category() noexcept {
  static const ScsiStatusCategory c;
  return c;
}

std::error_code Completion::error() const {
  if (ok()) return {};
  std::uint32_t v = static_cast<std::uint32_t>(status_) << 24;
  if (status_ == scsi::Status::check_condition) {
    if (auto s = sense()) {
      v |= static_cast<std::uint32_t>(s->sense_key) << 16;
      v |= static_cast<std::uint32_t>(s->asc) << 8;
      v |= s->ascq;
    }
  }
  return {static_cast<int>(v), scsi_status_category()};
}

std::string Completion::describe() const {
  if (ok()) return std::string(scsi::status_name(status_));
  return error().message();
}

}  // namespace uiscsi
