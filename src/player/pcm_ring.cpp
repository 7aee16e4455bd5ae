#include "player/pcm_ring.hpp"

#include <algorithm>
#include <cstdio>

namespace uiscsi::player {

std::string PcmFormat::describe() const {
  const char* layout = channels == 1 ? "mono" : channels == 2 ? "stereo" : nullptr;
  char text[80];
  if (layout)
    std::snprintf(text, sizeof text, "%u Hz %u bit %s", sample_rate, bits_per_sample, layout);
  else
    std::snprintf(text, sizeof text, "%u Hz %u bit %u ch", sample_rate, bits_per_sample, channels);
  return text;
}

PcmRing::PcmRing(std::size_t capacity_frames)
    : capacity_(std::max<std::size_t>(1, capacity_frames)) {}

bool PcmRing::push(PcmBlock&& block, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  const std::size_t n = block.kind == PcmBlock::Kind::samples ? block.frames() : 0;
  const bool fits = not_full_.wait_for(
      lock, timeout, [&] { return closed_ || frames_ == 0 || frames_ + n <= capacity_; });
  if (!fits || closed_) return false;
  frames_ += n;
  if (block.kind == PcmBlock::Kind::end_of_playlist) ++end_markers_;
  blocks_.push_back(std::move(block));
  not_empty_.notify_all();
  return true;
}

std::optional<PcmBlock> PcmRing::take_locked(std::size_t max_frames) {
  if (blocks_.empty()) return std::nullopt;
  PcmBlock& front = blocks_.front();
  std::optional<PcmBlock> out;
  if (front.kind == PcmBlock::Kind::samples && front.frames() > max_frames && max_frames > 0) {
    // Split: hand out the first max_frames frames, keep the rest at the front.
    PcmBlock head;
    head.kind = front.kind;
    head.generation = front.generation;
    head.track = front.track;
    head.format = front.format;
    head.first_frame = front.first_frame;
    const std::size_t n = max_frames * front.format.channels;
    head.samples.assign(front.samples.begin(), front.samples.begin() + static_cast<long>(n));
    front.samples.erase(front.samples.begin(), front.samples.begin() + static_cast<long>(n));
    front.first_frame += max_frames;
    frames_ -= max_frames;
    out = std::move(head);
  } else {
    out = std::move(front);
    blocks_.pop_front();
    if (out->kind == PcmBlock::Kind::samples) frames_ -= out->frames();
    if (out->kind == PcmBlock::Kind::end_of_playlist) --end_markers_;
  }
  not_full_.notify_all();
  return out;
}

std::optional<PcmBlock> PcmRing::pop(std::chrono::milliseconds timeout) {
  return pop_frames(0, timeout);
}

std::optional<PcmBlock> PcmRing::pop_frames(std::size_t max_frames,
                                            std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  not_empty_.wait_for(lock, timeout, [&] { return closed_ || !blocks_.empty(); });
  return take_locked(max_frames);
}

void PcmRing::clear_older(std::uint64_t generation) {
  std::lock_guard lock(mu_);
  std::deque<PcmBlock> kept;
  frames_ = 0;
  end_markers_ = 0;
  for (auto& b : blocks_) {
    if (b.generation < generation) continue;
    if (b.kind == PcmBlock::Kind::samples) frames_ += b.frames();
    if (b.kind == PcmBlock::Kind::end_of_playlist) ++end_markers_;
    kept.push_back(std::move(b));
  }
  blocks_.swap(kept);
  not_full_.notify_all();
}

void PcmRing::clear() {
  std::lock_guard lock(mu_);
  blocks_.clear();
  frames_ = 0;
  end_markers_ = 0;
  not_full_.notify_all();
}

void PcmRing::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  not_full_.notify_all();
  not_empty_.notify_all();
}

void PcmRing::reopen() {
  std::lock_guard lock(mu_);
  closed_ = false;
  blocks_.clear();
  frames_ = 0;
  end_markers_ = 0;
}

std::size_t PcmRing::frames() const {
  std::lock_guard lock(mu_);
  return frames_;
}

bool PcmRing::ready_locked(std::size_t min_frames) const {
  return frames_ >= std::min(min_frames, capacity_) || end_markers_ > 0 || closed_;
}

bool PcmRing::ready(std::size_t min_frames) const {
  std::lock_guard lock(mu_);
  return ready_locked(min_frames);
}

bool PcmRing::wait_ready(std::size_t min_frames, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return not_empty_.wait_for(lock, timeout, [&] { return ready_locked(min_frames); });
}

void PcmRing::note_underrun() {
  std::lock_guard lock(mu_);
  ++underruns_;
}

std::uint64_t PcmRing::underruns() const {
  std::lock_guard lock(mu_);
  return underruns_;
}

}  // namespace uiscsi::player
