// The ALSA sink: interleaved S32_LE (every bit depth left-justified), through the "plug" layer
// of the device so any rate and channel count play. Non-blocking writes with snd_pcm_wait()
// in bounded steps, so quitting never waits on the device for long.
#include "player/sink.hpp"

#if UISCSI_PLAYER_HAVE_ALSA
#include <alsa/asoundlib.h>

#include <atomic>
#include <vector>

#include "player/errors.hpp"

namespace uiscsi::player {
namespace {

constexpr unsigned kLatencyMicroseconds = 200000;
constexpr int kWaitMilliseconds = 100;
constexpr int kMaxWaits = 50;  // 5 s without the device taking anything: it is stuck

class AlsaSink final : public Sink {
 public:
  explicit AlsaSink(std::string device) : device_(device.empty() ? "default" : std::move(device)) {}
  ~AlsaSink() override { close(); }

  Result<void> begin(const PcmFormat& format, std::size_t, std::size_t) override {
    if (pcm_ && format == format_) return {};
    if (pcm_) {
      (void)snd_pcm_drain(pcm_);
      close();
    }
    if (snd_pcm_open(&pcm_, device_.c_str(), SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK) < 0) {
      pcm_ = nullptr;
      return player_errc::sink_failed;
    }
    if (snd_pcm_set_params(pcm_, SND_PCM_FORMAT_S32_LE, SND_PCM_ACCESS_RW_INTERLEAVED,
                           format.channels, format.sample_rate, 1, kLatencyMicroseconds) < 0) {
      close();
      return player_errc::unsupported_format;
    }
    format_ = format;
    return {};
  }

  Result<void> write(const PcmBlock& block) override {
    if (!pcm_) return player_errc::sink_failed;
    const unsigned shift = 32 - format_.bits_per_sample;
    samples_.resize(block.samples.size());
    for (std::size_t i = 0; i < samples_.size(); ++i)
      samples_[i] =
          static_cast<std::int32_t>(static_cast<std::uint32_t>(block.samples[i]) << shift);
    const std::size_t channels = format_.channels;
    std::size_t done = 0, frames = samples_.size() / channels;
    int waits = 0;
    while (done < frames) {
      const snd_pcm_sframes_t n = snd_pcm_writei(pcm_, samples_.data() + done * channels,
                                                 static_cast<snd_pcm_uframes_t>(frames - done));
      if (n == -EAGAIN) {
        if (++waits > kMaxWaits) return player_errc::sink_failed;
        (void)snd_pcm_wait(pcm_, kWaitMilliseconds);
        continue;
      }
      if (n < 0) {
        if (n == -EPIPE) ++xruns_;  // the device ran dry: an underrun at the card
        if (snd_pcm_recover(pcm_, static_cast<int>(n), 1) < 0) return player_errc::sink_failed;
        continue;
      }
      waits = 0;
      done += static_cast<std::size_t>(n);
    }
    return {};
  }

  void drop() override {
    if (pcm_) {
      (void)snd_pcm_drop(pcm_);
      (void)snd_pcm_prepare(pcm_);
    }
  }

  Result<void> finish() override {
    if (pcm_) {
      (void)snd_pcm_nonblock(pcm_, 0);
      (void)snd_pcm_drain(pcm_);
    }
    close();
    return {};
  }
  [[nodiscard]] bool realtime() const override { return true; }
  [[nodiscard]] std::string describe() const override { return "ALSA " + device_; }
  [[nodiscard]] std::uint64_t device_underruns() const override { return xruns_; }

 private:
  void close() {
    if (pcm_) snd_pcm_close(pcm_);
    pcm_ = nullptr;
  }

  std::string device_;
  snd_pcm_t* pcm_ = nullptr;
  PcmFormat format_;
  std::vector<std::int32_t> samples_;
  std::atomic<std::uint64_t> xruns_{0};
};

}  // namespace

std::unique_ptr<Sink> make_alsa_sink(std::string device) {
  return std::make_unique<AlsaSink>(std::move(device));
}

}  // namespace uiscsi::player

#else

namespace uiscsi::player {
std::unique_ptr<Sink> make_alsa_sink(std::string) {
  return nullptr;
}
}  // namespace uiscsi::player

#endif
