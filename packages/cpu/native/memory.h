// Aligned native allocations, counted so memoryInUse() can prove that nothing leaks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

namespace gru {

// Throws std::bad_alloc on failure (or when the size overflows). `counted` memory shows in
// bytesInUse(); buffers handed over to JavaScript (outputs) are not counted, since the garbage
// collector decides when they go.
void* allocAligned(size_t bytes, bool counted = true);
void freeAligned(void* p, size_t bytes, bool counted = true);
// Bytes currently held through allocAligned, process-wide.
int64_t bytesInUse();

// One owned, 64-byte-aligned array of T.
template <class T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(size_t count, bool counted = true)
      : count_(count), counted_(counted), data_(count ? static_cast<T*>(allocAligned(checkedBytes(count), counted)) : nullptr) {}
  ~AlignedBuffer() { freeAligned(data_, count_ * sizeof(T), counted_); }
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept : count_(o.count_), counted_(o.counted_), data_(o.data_) {
    o.count_ = 0;
    o.data_ = nullptr;
  }
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) {
      freeAligned(data_, count_ * sizeof(T), counted_);
      count_ = o.count_;
      counted_ = o.counted_;
      data_ = o.data_;
      o.count_ = 0;
      o.data_ = nullptr;
    }
    return *this;
  }
  T* data() const { return data_; }
  size_t size() const { return count_; }
  // Gives up ownership (the caller frees with freeAligned(p, size() * sizeof(T), counted)).
  T* release() {
    T* p = data_;
    data_ = nullptr;
    count_ = 0;
    return p;
  }

 private:
  static size_t checkedBytes(size_t count) {
    if (count > SIZE_MAX / sizeof(T)) throw std::bad_alloc();
    return count * sizeof(T);
  }
  size_t count_ = 0;
  bool counted_ = true;
  T* data_ = nullptr;
};

using FloatBuffer = AlignedBuffer<float>;

}  // namespace gru
