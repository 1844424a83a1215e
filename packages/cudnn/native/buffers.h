// Owned device and pinned-host allocations. A layer keeps grow-only ones (workspace, staging)
// so steady-state calls allocate nothing; a training forward hands its own to the saved pass.
#pragma once

#include <cstddef>
#include <memory>
#include <utility>

#include "runtime.h"

namespace gru_cudnn {

constexpr size_t kAlign = 256;

inline size_t AlignUp(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::shared_ptr<Runtime> rt) : rt_(std::move(rt)) {}
  ~DeviceBuffer() { Release(); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  /** At least `bytes` (contents are not kept when it grows). */
  CUdeviceptr Reserve(size_t bytes) {
    if (bytes > size_) {
      Release();
      ptr_ = rt_->AllocDevice(bytes);
      size_ = bytes;
    }
    return ptr_;
  }
  void Release() noexcept {
    rt_->FreeDevice(ptr_, size_);
    ptr_ = 0;
    size_ = 0;
  }
  CUdeviceptr ptr() const { return ptr_; }
  size_t size() const { return size_; }
  void* at(size_t offset) const { return reinterpret_cast<void*>(static_cast<uintptr_t>(ptr_ + offset)); }

 private:
  std::shared_ptr<Runtime> rt_;
  CUdeviceptr ptr_ = 0;
  size_t size_ = 0;
};

/** Page-locked host memory: async copies from it overlap and run at full bus speed. */
class PinnedBuffer {
 public:
  explicit PinnedBuffer(std::shared_ptr<Runtime> rt) : rt_(std::move(rt)) {}
  ~PinnedBuffer() { Release(); }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  unsigned char* Reserve(size_t bytes) {
    if (bytes > size_) {
      Release();
      ptr_ = static_cast<unsigned char*>(rt_->AllocHost(bytes));
      size_ = bytes;
    }
    return ptr_;
  }
  void Release() noexcept {
    rt_->FreeHost(ptr_, size_);
    ptr_ = nullptr;
    size_ = 0;
  }
  unsigned char* data() const { return ptr_; }
  size_t size() const { return size_; }

 private:
  std::shared_ptr<Runtime> rt_;
  unsigned char* ptr_ = nullptr;
  size_t size_ = 0;
};

}  // namespace gru_cudnn
