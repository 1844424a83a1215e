#include "memory.h"

#include <atomic>
#include <cstdlib>
#include <new>
#if defined(_WIN32)
#include <malloc.h>
#endif

namespace gru {

namespace {
std::atomic<int64_t> gBytes{0};
constexpr size_t kAlign = 64;
}  // namespace

void* allocAligned(size_t bytes, bool counted) {
  if (bytes == 0) return nullptr;
  if (bytes > SIZE_MAX - kAlign) throw std::bad_alloc();
  const size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
#if defined(_WIN32)
  void* p = _aligned_malloc(rounded, kAlign);
#else
  void* p = std::aligned_alloc(kAlign, rounded);
#endif
  if (!p) throw std::bad_alloc();
  if (counted) gBytes.fetch_add(static_cast<int64_t>(bytes), std::memory_order_relaxed);
  return p;
}

void freeAligned(void* p, size_t bytes, bool counted) {
  if (!p) return;
#if defined(_WIN32)
  _aligned_free(p);
#else
  std::free(p);
#endif
  if (counted) gBytes.fetch_sub(static_cast<int64_t>(bytes), std::memory_order_relaxed);
}

int64_t bytesInUse() { return gBytes.load(std::memory_order_relaxed); }

}  // namespace gru
