// Secret: a CHAP secret held in memory. It never appears in logs, error text or formatted
// output: it has no stream or fmt formatter, describe() prints only "<secret, N bytes>", and the
// bytes are wiped (OPENSSL_cleanse) when the object dies or is reassigned.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "uiscsi/export.hpp"

namespace uiscsi {

class UISCSI_API Secret {
 public:
  Secret() = default;
  explicit Secret(std::string_view value) : value_(value) {}
  Secret(const Secret& other) : value_(other.value_) {}
  Secret(Secret&& other) noexcept : value_(std::move(other.value_)) { other.wipe(); }
  Secret& operator=(const Secret& other) {
    if (this != &other) {
      wipe();
      value_ = other.value_;
    }
    return *this;
  }
  Secret& operator=(Secret&& other) noexcept {
    if (this != &other) {
      wipe();
      value_ = std::move(other.value_);
      other.wipe();
    }
    return *this;
  }
  ~Secret() { wipe(); }

  [[nodiscard]] bool empty() const { return value_.empty(); }
  [[nodiscard]] std::size_t size() const { return value_.size(); }
  // The raw bytes, for hashing only. Never log or format the result.
  [[nodiscard]] std::string_view reveal() const { return value_; }
  [[nodiscard]] std::string describe() const {
    return "<secret, " + std::to_string(value_.size()) + " bytes>";
  }
  // Constant-time comparison (CRYPTO_memcmp). Secrets of different lengths compare unequal at
  // once: the time taken reveals the lengths, never the contents.
  [[nodiscard]] bool equals(const Secret& other) const;

 private:
  // Overwrites every byte of the buffer (size and spare capacity, which may still hold the bytes
  // of a shorter former value) with OPENSSL_cleanse, then leaves the string empty.
  void wipe() noexcept;
  std::string value_;
};

}  // namespace uiscsi
