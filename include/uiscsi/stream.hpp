// Streaming with bounded memory: a pipeline of commands whose read data goes, in order, to a
// caller's sink, or whose write data comes from a caller's source.
//
// Memory: at most `depth` commands are in flight, each with one buffer of at most
// `buffer_bytes`, reused; nothing else is held. Back-pressure: the sink (or source) runs on the
// stream's own thread. When it is slow, the stream simply issues no new commands until a buffer
// is free again. The session's I/O thread is never blocked, so other commands on the same
// session and its keepalive go on undisturbed.
//
//   // Read a whole LUN into a file, 4 MiB at a time, 4 commands deep:
//   FileSink sink(fd);
//   auto r = uiscsi::read_blocks(session, lun, 0, blocks, 512, sink, {.depth = 4});
//
// Thread safety: a Stream is driven by one thread (the one in read_blocks/write_blocks or
// run_stream); cancel() may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "uiscsi/export.hpp"
#include "uiscsi/session.hpp"

namespace uiscsi {

struct UISCSI_API StreamOptions {
  std::size_t depth = 4;                         // commands in flight
  std::size_t buffer_bytes = 1u << 20;           // per command (read: its data_in size at most)
  std::chrono::milliseconds command_timeout{0};  // per command; 0: the session's default
};

// Receives read data in order. Return an error to stop the stream (it then fails with it).
class UISCSI_API StreamSink {
 public:
  virtual ~StreamSink() = default;
  virtual Result<void> write(std::span<const std::byte> data) = 0;
};

// Supplies write data in order: fill `buffer` and return how many bytes were written into it
// (0: the end). Return an error to stop the stream.
class UISCSI_API StreamSource {
 public:
  virtual ~StreamSource() = default;
  virtual Result<std::size_t> read(std::span<std::byte> buffer) = 0;
};

struct UISCSI_API StreamStats {
  std::uint64_t commands = 0;
  std::uint64_t bytes = 0;
  std::size_t max_in_flight = 0;      // never above StreamOptions::depth
  std::size_t buffers_allocated = 0;  // never above StreamOptions::depth
  // The completion that stopped the stream with a status other than GOOD, if any (its sense
  // tells why: end of medium, filemark, LBA out of range...).
  std::optional<Completion> stopped_by;
};

// Asks for the next command of a read pipeline. `buffer` is where its data goes (its size is
// the data_in length to use); return nullopt when there are no more commands.
using NextReadCommand = std::function<std::optional<Command>(std::span<std::byte> buffer)>;
// Decides, for each completed command in order, whether its data goes to the sink and the
// stream goes on. The default accepts GOOD and stops on anything else.
using AcceptCompletion = std::function<bool(const Completion&)>;

// Runs a read pipeline to its end. Errors: the first transport error (connection lost,
// timeout), the sink's error, or errc::cancelled; a SCSI status that `accept` refuses ends the
// stream normally with stats.stopped_by set.
UISCSI_API Result<StreamStats> run_read_stream(Session& session, Lun lun, NextReadCommand next,
                                               StreamSink& sink, const StreamOptions& options = {},
                                               AcceptCompletion accept = {},
                                               const std::atomic<bool>* cancel = nullptr);

// Reads `block_count` blocks from `lba` with READ(16), in chunks of options.buffer_bytes.
UISCSI_API Result<StreamStats> read_blocks(Session& session, Lun lun, std::uint64_t lba,
                                           std::uint64_t block_count, std::uint32_t block_size,
                                           StreamSink& sink, const StreamOptions& options = {},
                                           const std::atomic<bool>* cancel = nullptr);

// Writes what `source` supplies from `lba` on with WRITE(16), in chunks of
// options.buffer_bytes; a last partial block is padded with zeros. Stops at `max_blocks`.
UISCSI_API Result<StreamStats> write_blocks(Session& session, Lun lun, std::uint64_t lba,
                                            std::uint64_t max_blocks, std::uint32_t block_size,
                                            StreamSource& source, const StreamOptions& options = {},
                                            const std::atomic<bool>* cancel = nullptr);

}  // namespace uiscsi
