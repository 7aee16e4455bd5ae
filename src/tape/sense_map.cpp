// Status and sense data to tape conditions: see sense_map.hpp for the precedence rules.
#include "tape/sense_map.hpp"

#include <algorithm>

namespace uiscsi::tape::detail {
namespace {

using scsi::SenseKey;

constexpr std::uint8_t kAscNone = 0x00;
constexpr std::uint8_t kAscqSetmark = 0x03;          // 00/03 SETMARK DETECTED
constexpr std::uint8_t kAscqBop = 0x04;              // 00/04 BEGINNING-OF-PARTITION/MEDIUM DETECTED
constexpr std::uint8_t kAscqEndOfData = 0x05;        // 00/05 END-OF-DATA DETECTED
constexpr std::uint8_t kAscMediumNotPresent = 0x3a;  // 3A/xx MEDIUM NOT PRESENT (SPC-4 D.2)

std::optional<tape_errc> key_code(SenseKey key) {
  switch (key) {
    case SenseKey::unit_attention:
      return tape_errc::unit_attention;
    case SenseKey::volume_overflow:
      return tape_errc::volume_overflow;
    case SenseKey::blank_check:
      return tape_errc::end_of_data;
    case SenseKey::not_ready:
      return tape_errc::not_ready;
    case SenseKey::data_protect:
      return tape_errc::write_protected;
    case SenseKey::medium_error:
      return tape_errc::medium_error;
    case SenseKey::hardware_error:
      return tape_errc::hardware_error;
    case SenseKey::illegal_request:
      return tape_errc::illegal_request;
    case SenseKey::aborted_command:
      return tape_errc::aborted_command;
    case SenseKey::no_sense:
    case SenseKey::recovered_error:
      return std::nullopt;
    default:
      return tape_errc::other_sense;
  }
}

}  // namespace

Condition classify_sense(const scsi::SenseData& sense) {
  Condition c;
  c.sense = sense;
  c.filemark = sense.filemark;
  c.eom = sense.eom;
  c.ili = sense.ili;
  if (sense.information_valid) c.residue = sense.information_signed();
  if (sense.deferred()) {
    c.code = tape_errc::deferred_error;
    return c;
  }
  if (auto k = key_code(sense.sense_key)) {
    c.code =
        *k == tape_errc::not_ready && sense.asc == kAscMediumNotPresent ? tape_errc::no_medium : *k;
    return c;
  }
  if (sense.filemark) {
    c.code = sense.asc == kAscNone && sense.ascq == kAscqSetmark ? tape_errc::setmark
                                                                 : tape_errc::filemark;
  } else if (sense.ili) {
    c.code = c.residue.value_or(0) < 0 ? tape_errc::incorrect_length_long
                                       : tape_errc::incorrect_length_short;
  } else if (sense.eom) {
    c.code = sense.asc == kAscNone && sense.ascq == kAscqBop ? tape_errc::beginning_of_partition
                                                             : tape_errc::early_warning;
  } else if (sense.sense_key == SenseKey::no_sense && sense.asc == kAscNone &&
             sense.ascq == kAscqEndOfData) {
    c.code = tape_errc::end_of_data;
  } else if (sense.sense_key == SenseKey::no_sense) {
    // CHECK CONDITION with NO SENSE and nothing to say: report it rather than guess.
    c.code = tape_errc::other_sense;
  }
  return c;
}

Condition classify(scsi::Status status, std::span<const std::byte> sense_bytes) {
  Condition c;
  switch (status) {
    case scsi::Status::good:
    case scsi::Status::condition_met:
      return c;
    case scsi::Status::busy:
    case scsi::Status::task_set_full:
      c.code = tape_errc::busy;
      return c;
    case scsi::Status::reservation_conflict:
      c.code = tape_errc::reservation_conflict;
      return c;
    case scsi::Status::check_condition:
      break;
    default:
      c.code = tape_errc::unexpected_status;
      return c;
  }
  auto sense = scsi::parse_sense(sense_bytes);
  if (!sense) {
    c.code = tape_errc::no_sense_data;
    return c;
  }
  return classify_sense(*sense);
}

std::optional<ReadAccount> account_read(const Condition& c, std::size_t requested,
                                        std::uint32_t block_size, std::size_t data_in) {
  const bool fixed = block_size != 0;
  ReadAccount a;
  a.record.bytes = std::min(data_in, requested);
  a.record.residue = c.residue.value_or(0);
  a.record.early_warning = c.eom;
  const std::uint64_t blocks_read = fixed ? a.record.bytes / block_size : 0;
  if (fixed) a.record.bytes = static_cast<std::size_t>(blocks_read) * block_size;
  if (!c.code || *c.code == tape_errc::early_warning) {
    a.record.status = ReadStatus::data;
    a.objects = fixed ? blocks_read : 1;
    return a;
  }
  switch (*c.code) {
    case tape_errc::filemark:
    case tape_errc::setmark:
      a.record.status = *c.code == tape_errc::filemark ? ReadStatus::filemark : ReadStatus::setmark;
      if (!fixed) a.record.bytes = 0;
      a.objects = (fixed ? blocks_read : 0) + 1;
      if (*c.code == tape_errc::filemark)
        a.files = 1;
      else
        a.sets = 1;
      return a;
    case tape_errc::end_of_data:
      a.record.status = ReadStatus::end_of_data;
      if (!fixed) a.record.bytes = 0;
      a.objects = fixed ? blocks_read : 0;
      return a;
    case tape_errc::incorrect_length_short:
    case tape_errc::incorrect_length_long:
      if (fixed) {
        // SSC-3: in fixed mode the block of the wrong length is passed, not transferred.
        a.record.status = ReadStatus::wrong_block_length;
        a.objects = blocks_read + 1;
        return a;
      }
      a.record.status = *c.code == tape_errc::incorrect_length_long ? ReadStatus::long_record
                                                                    : ReadStatus::short_record;
      if (c.residue && *c.residue > 0 && static_cast<std::uint64_t>(*c.residue) <= requested) {
        // The record's length is requested - residue; Data-In may have been padded past it by
        // the transport, or (tgtd) cut short of it: only bytes that arrived count.
        a.record.bytes = std::min(data_in, requested - static_cast<std::size_t>(*c.residue));
      }
      a.objects = 1;
      return a;
    default:
      return std::nullopt;
  }
}

}  // namespace uiscsi::tape::detail
