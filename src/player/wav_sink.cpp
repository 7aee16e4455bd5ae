// The WAV file and null sinks.
#include <cstdio>
#include <cstring>
#include <vector>

#include "player/errors.hpp"
#include "player/sink.hpp"

namespace uiscsi::player {
namespace {

void put16(std::vector<unsigned char>& out, std::uint32_t v) {
  out.push_back(static_cast<unsigned char>(v & 0xff));
  out.push_back(static_cast<unsigned char>((v >> 8) & 0xff));
}
void put32(std::vector<unsigned char>& out, std::uint32_t v) {
  put16(out, v & 0xffff);
  put16(out, v >> 16);
}

class WavSink final : public Sink {
 public:
  explicit WavSink(std::string path) : pattern_(std::move(path)) {}
  ~WavSink() override { (void)close_file(); }

  Result<void> begin(const PcmFormat& format, std::size_t segment, std::size_t) override {
    const bool per_segment = pattern_.find("%n") != std::string::npos;
    if (file_ && !per_segment && format == format_) return {};
    if (auto r = close_file(); !r) return r;
    if (format.bits_per_sample > 32 || format.channels == 0 || format.channels > 8)
      return player_errc::unsupported_format;
    std::string path = pattern_;
    if (per_segment) {
      path.replace(path.find("%n"), 2, std::to_string(segment));
    } else if (files_ > 0) {
      const auto dot = path.rfind('.');
      const auto slash = path.rfind('/');
      const std::string k = "." + std::to_string(files_ + 1);
      if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
        path += k;
      else
        path.insert(dot, k);
    }
    file_ = std::fopen(path.c_str(), "wb");
    if (!file_) return player_errc::sink_failed;
    ++files_;
    format_ = format;
    container_bytes_ = (format.bits_per_sample + 7) / 8;
    data_bytes_ = 0;
    return write_header();
  }

  Result<void> write(const PcmBlock& block) override {
    if (!file_) return player_errc::sink_failed;
    const std::uint32_t shift = container_bytes_ * 8 - format_.bits_per_sample;
    buffer_.clear();
    buffer_.reserve(block.samples.size() * container_bytes_);
    for (std::int32_t s : block.samples) {
      // Left-justify in the container; 8-bit WAV samples are unsigned (offset 128).
      std::uint32_t v = static_cast<std::uint32_t>(s) << shift;
      if (container_bytes_ == 1) v += 0x80;
      for (std::uint32_t i = 0; i < container_bytes_; ++i)
        buffer_.push_back(static_cast<unsigned char>((v >> (8 * i)) & 0xff));
    }
    if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size())
      return player_errc::sink_failed;
    data_bytes_ += buffer_.size();
    return {};
  }

  Result<void> finish() override { return close_file(); }
  [[nodiscard]] std::string describe() const override { return "WAV file " + pattern_; }

 private:
  [[nodiscard]] bool extensible() const {
    return format_.channels > 2 || container_bytes_ * 8 != format_.bits_per_sample;
  }

  Result<void> write_header() {
    std::vector<unsigned char> h;
    const std::uint32_t block_align = format_.channels * container_bytes_;
    const std::uint32_t fmt_size = extensible() ? 40 : 16;
    const auto data32 =
        static_cast<std::uint32_t>(std::min<std::uint64_t>(data_bytes_, 0xffffffffu - 64));
    h.insert(h.end(), {'R', 'I', 'F', 'F'});
    put32(h, 4 + (8 + fmt_size) + 8 + data32);
    h.insert(h.end(), {'W', 'A', 'V', 'E', 'f', 'm', 't', ' '});
    put32(h, fmt_size);
    put16(h, extensible() ? 0xfffe : 1);
    put16(h, format_.channels);
    put32(h, format_.sample_rate);
    put32(h, format_.sample_rate * block_align);
    put16(h, block_align);
    put16(h, container_bytes_ * 8);
    if (extensible()) {
      put16(h, 22);
      put16(h, format_.bits_per_sample);  // valid bits per sample
      put32(h, 0);                        // channel mask: unspecified
      // KSDATAFORMAT_SUBTYPE_PCM 00000001-0000-0010-8000-00aa00389b71
      h.insert(h.end(), {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa,
                         0x00, 0x38, 0x9b, 0x71});
    }
    h.insert(h.end(), {'d', 'a', 't', 'a'});
    put32(h, data32);
    if (std::fseek(file_, 0, SEEK_SET) != 0 ||
        std::fwrite(h.data(), 1, h.size(), file_) != h.size())
      return player_errc::sink_failed;
    return {};
  }

  Result<void> close_file() {
    if (!file_) return {};
    auto r = write_header();
    const bool closed = std::fclose(file_) == 0;
    file_ = nullptr;
    if (!r) return r;
    if (!closed) return player_errc::sink_failed;
    return {};
  }

  std::string pattern_;
  std::FILE* file_ = nullptr;
  std::size_t files_ = 0;
  PcmFormat format_;
  std::uint32_t container_bytes_ = 2;
  std::uint64_t data_bytes_ = 0;
  std::vector<unsigned char> buffer_;
};

class NullSink final : public Sink {
 public:
  Result<void> begin(const PcmFormat&, std::size_t, std::size_t) override { return {}; }
  Result<void> write(const PcmBlock&) override { return {}; }
  Result<void> finish() override { return {}; }
  [[nodiscard]] std::string describe() const override { return "null output"; }
};

}  // namespace

std::unique_ptr<Sink> make_wav_sink(std::string path) {
  return std::make_unique<WavSink>(std::move(path));
}

std::unique_ptr<Sink> make_null_sink() {
  return std::make_unique<NullSink>();
}

}  // namespace uiscsi::player
