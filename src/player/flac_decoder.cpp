#include "player/flac_decoder.hpp"

#include <FLAC++/decoder.h>

#include <array>
#include <chrono>
#include <optional>

#include "player/errors.hpp"

namespace uiscsi::player {

class FlacDecoder::Stream final : public FLAC::Decoder::Stream {
 public:
  Stream(std::shared_ptr<TrackData> data, std::function<bool()> cancelled)
      : data_(std::move(data)), cancelled_(std::move(cancelled)) {}

  std::shared_ptr<TrackData> data_;
  std::function<bool()> cancelled_;
  std::uint64_t offset_ = 0;
  PcmFormat format_;
  std::uint64_t total_frames_ = 0;
  std::uint64_t delivered_end_ = 0;  // frame after the last one delivered
  std::uint64_t corrupt_ = 0;
  std::optional<PcmBlock> pending_;
  std::error_code read_error_;

 protected:
  FLAC__StreamDecoderReadStatus read_callback(FLAC__byte buffer[], size_t* bytes) override {
    if (*bytes == 0) return FLAC__STREAM_DECODER_READ_STATUS_ABORT;
    // Bytes of a track still loading arrive as the tape streams: wait, cancellably.
    auto r = data_->read_at(static_cast<std::size_t>(offset_),
                            std::span(reinterpret_cast<std::byte*>(buffer), *bytes),
                            std::chrono::hours(24), cancelled_);
    if (!r) {
      read_error_ = r.error();
      *bytes = 0;
      return FLAC__STREAM_DECODER_READ_STATUS_ABORT;
    }
    *bytes = r->bytes;
    offset_ += r->bytes;
    if (r->bytes == 0) return FLAC__STREAM_DECODER_READ_STATUS_END_OF_STREAM;
    return FLAC__STREAM_DECODER_READ_STATUS_CONTINUE;
  }
  FLAC__StreamDecoderSeekStatus seek_callback(FLAC__uint64 offset) override {
    if (!data_->is_complete()) return FLAC__STREAM_DECODER_SEEK_STATUS_UNSUPPORTED;
    if (offset > data_->size()) return FLAC__STREAM_DECODER_SEEK_STATUS_ERROR;
    offset_ = offset;
    return FLAC__STREAM_DECODER_SEEK_STATUS_OK;
  }
  FLAC__StreamDecoderTellStatus tell_callback(FLAC__uint64* offset) override {
    *offset = offset_;
    return FLAC__STREAM_DECODER_TELL_STATUS_OK;
  }
  FLAC__StreamDecoderLengthStatus length_callback(FLAC__uint64* length) override {
    if (!data_->is_complete()) return FLAC__STREAM_DECODER_LENGTH_STATUS_UNSUPPORTED;
    *length = data_->size();
    return FLAC__STREAM_DECODER_LENGTH_STATUS_OK;
  }
  bool eof_callback() override { return data_->is_final() && offset_ >= data_->size(); }

  FLAC__StreamDecoderWriteStatus write_callback(const FLAC__Frame* frame,
                                                const FLAC__int32* const buffer[]) override {
    const FLAC__FrameHeader& h = frame->header;
    std::uint64_t first = h.number_type == FLAC__FRAME_NUMBER_TYPE_SAMPLE_NUMBER
                              ? h.number.sample_number
                              : static_cast<std::uint64_t>(h.number.frame_number) * h.blocksize;
    std::uint32_t frames = h.blocksize;
    // Past the end STREAMINFO announced: padding or garbage that happened to sync.
    if (total_frames_ != 0) {
      if (first >= total_frames_) return FLAC__STREAM_DECODER_WRITE_STATUS_CONTINUE;
      if (first + frames > total_frames_)
        frames = static_cast<std::uint32_t>(total_frames_ - first);
    }
    PcmBlock b;
    b.kind = PcmBlock::Kind::samples;
    b.format = {h.sample_rate, h.channels, h.bits_per_sample};
    b.first_frame = first;
    b.samples.resize(static_cast<std::size_t>(frames) * h.channels);
    std::size_t k = 0;
    for (std::uint32_t i = 0; i < frames; ++i)
      for (std::uint32_t c = 0; c < h.channels; ++c)
        b.samples[k++] = buffer[c][i];
    delivered_end_ = first + frames;
    pending_ = std::move(b);
    return FLAC__STREAM_DECODER_WRITE_STATUS_CONTINUE;
  }
  void metadata_callback(const FLAC__StreamMetadata* m) override {
    if (m->type != FLAC__METADATA_TYPE_STREAMINFO) return;
    const auto& si = m->data.stream_info;
    format_ = {si.sample_rate, si.channels, si.bits_per_sample};
    total_frames_ = si.total_samples;
  }
  void error_callback(FLAC__StreamDecoderErrorStatus) override { ++corrupt_; }
};

FlacDecoder::FlacDecoder(std::shared_ptr<TrackData> data, std::function<bool()> cancelled)
    : stream_(std::make_unique<Stream>(std::move(data), std::move(cancelled))) {}

FlacDecoder::~FlacDecoder() {
  if (stream_) (void)stream_->finish();
}

Result<void> FlacDecoder::open() {
  Stream& s = *stream_;
  std::array<std::byte, 4> magic{};
  std::size_t have = 0;
  while (have < magic.size()) {
    auto r = s.data_->read_at(have, std::span(magic).subspan(have), std::chrono::hours(24),
                              s.cancelled_);
    if (!r) return r.error();
    if (r->bytes == 0) break;
    have += r->bytes;
  }
  if (have < magic.size() || !looks_like_flac(magic)) return player_errc::not_flac;
  (void)s.set_md5_checking(false);
  if (s.init() != FLAC__STREAM_DECODER_INIT_STATUS_OK) return player_errc::decoder_failed;
  if (!s.process_until_end_of_metadata()) {
    if (s.read_error_) return s.read_error_;
    return player_errc::corrupt_header;  // "fLaC" and then metadata libFLAC cannot read
  }
  if (s.read_error_) return s.read_error_;
  if (!s.format_.valid()) return player_errc::corrupt_header;
  return {};
}

const PcmFormat& FlacDecoder::format() const {
  return stream_->format_;
}

std::uint64_t FlacDecoder::total_frames() const {
  return stream_->total_frames_;
}

std::uint64_t FlacDecoder::corrupt_frames() const {
  return stream_->corrupt_;
}

Result<PcmBlock> FlacDecoder::next() {
  Stream& s = *stream_;
  for (;;) {
    if (s.pending_) {
      PcmBlock b = std::move(*s.pending_);
      s.pending_.reset();
      return b;
    }
    if (s.total_frames_ != 0 && s.delivered_end_ >= s.total_frames_) break;
    const auto state = s.get_state();
    if (state == FLAC__STREAM_DECODER_END_OF_STREAM) break;
    if (!s.process_single()) {
      if (s.read_error_) return s.read_error_;
      if (s.get_state() == FLAC__STREAM_DECODER_END_OF_STREAM) break;
      return player_errc::decoder_failed;
    }
    if (s.read_error_) return s.read_error_;
    if (!s.pending_ && s.get_state() == FLAC__STREAM_DECODER_END_OF_STREAM) break;
  }
  PcmBlock end;
  end.format = s.format_;
  end.first_frame = s.delivered_end_;
  return end;
}

Result<void> FlacDecoder::seek(std::uint64_t frame) {
  Stream& s = *stream_;
  if (!s.data_->is_complete()) return player_errc::seek_failed;
  if (s.total_frames_ != 0 && frame >= s.total_frames_) return player_errc::seek_failed;
  s.pending_.reset();
  if (!s.seek_absolute(frame)) {
    s.pending_.reset();
    (void)s.flush();
    return player_errc::seek_failed;
  }
  return {};
}

}  // namespace uiscsi::player
