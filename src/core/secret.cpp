#include "uiscsi/secret.hpp"

#include <openssl/crypto.h>

namespace uiscsi {

bool Secret::equals(const Secret& other) const {
  // Only the lengths may leak through timing; the contents are compared in constant time.
  if (value_.size() != other.value_.size()) return false;
  return CRYPTO_memcmp(value_.data(), other.value_.data(), value_.size()) == 0;
}

void Secret::wipe() noexcept {
  // Grow to the full capacity first (never reallocates) so that the spare bytes past size(),
  // e.g. the small-string buffer of a moved-from or shortened value, are cleansed too.
  value_.resize(value_.capacity());
  OPENSSL_cleanse(value_.data(), value_.size());
  value_.clear();
}

}  // namespace uiscsi
