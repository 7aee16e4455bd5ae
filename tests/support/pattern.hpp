#pragma once

#include <cstddef>
#include <vector>

namespace uiscsi::testing {

// Deterministic test data: n pseudo-random bytes from a linear congruential generator. Different
// seeds give different data, so a block written with one seed and read back as another is caught.
inline std::vector<std::byte> pattern(std::size_t n, unsigned seed = 1) {
  std::vector<std::byte> v(n);
  unsigned x = seed * 2654435761u;
  for (auto& b : v) {
    x = x * 1103515245u + 12345u;
    b = static_cast<std::byte>(x >> 16);
  }
  return v;
}

}  // namespace uiscsi::testing
