// Whether two spans of memory share a byte: a kernel that writes one span while it reads the
// other would read what it just wrote (a silent wrong result), so such calls are refused or
// routed around.
#pragma once

#include <cstddef>

namespace gru {

// Empty or absent spans overlap nothing.
inline bool overlaps(const void* a, size_t aBytes, const void* b, size_t bBytes) {
  if (!a || !b || aBytes == 0 || bBytes == 0) return false;
  const auto* pa = static_cast<const char*>(a);
  const auto* pb = static_cast<const char*>(b);
  return pa < pb + bBytes && pb < pa + aBytes;
}

// The same for float arrays, counted in elements.
inline bool overlaps(const float* a, size_t an, const float* b, size_t bn) {
  return overlaps(static_cast<const void*>(a), an * sizeof(float), static_cast<const void*>(b), bn * sizeof(float));
}

}  // namespace gru
