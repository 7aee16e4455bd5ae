// session_transport(): the tape driver's Transport over a uiscsi::Session.
#include <algorithm>
#include <memory>
#include <utility>

#include "uiscsi/session.hpp"
#include "uiscsi/tape/transport.hpp"

namespace uiscsi::tape {
namespace {

Exchange to_exchange(const Completion& c, std::size_t buffer_size) {
  Exchange e;
  e.status = c.status();
  e.sense.assign(c.sense_bytes().begin(), c.sense_bytes().end());
  e.data_in = std::min<std::size_t>(c.data().size(), buffer_size);
  return e;
}

class SessionTransport final : public Transport {
 public:
  SessionTransport(Session& session, Lun lun, std::chrono::milliseconds timeout)
      : session_(session), lun_(lun), timeout_(timeout) {}

  Result<Exchange> run(const scsi::CommandSpec& spec, std::span<std::byte> data_in,
                       std::span<const std::byte> data_out) override {
    auto c = session_.run(lun_, make(spec, data_in, data_out, TaskAttribute::simple));
    if (!c) return c.error();
    return to_exchange(*c, data_in.size());
  }

  // The callback captures two words only, so std::function keeps it inline (no allocation),
  // and it completes the driver's slot directly on the I/O thread (no promise, no future).
  void start(const scsi::CommandSpec& spec, std::span<std::byte> data_in,
             std::span<const std::byte> data_out, PendingExchange& done) override {
    const std::size_t size = data_in.size();
    session_.submit(lun_, make(spec, data_in, data_out, TaskAttribute::ordered),
                    [slot = &done, size](Result<Completion> c) {
                      if (!c)
                        slot->complete(c.error());
                      else
                        slot->complete(to_exchange(*c, size));
                    });
  }

 private:
  Command make(const scsi::CommandSpec& spec, std::span<std::byte> data_in,
               std::span<const std::byte> data_out, TaskAttribute attribute) const {
    Command cmd(spec);
    if (!data_in.empty()) cmd.read_into(data_in);
    if (!data_out.empty()) cmd.write_from(data_out);
    if (timeout_.count() > 0) cmd.timeout(timeout_);
    cmd.attribute(attribute);
    cmd.retry(RetryPolicy::never);
    return cmd;
  }

  Session& session_;
  Lun lun_;
  std::chrono::milliseconds timeout_;
};

}  // namespace

std::unique_ptr<Transport> session_transport(Session& session, Lun lun,
                                             std::chrono::milliseconds timeout) {
  return std::make_unique<SessionTransport>(session, lun, timeout);
}

}  // namespace uiscsi::tape
