// A stand-in for libcuda.so.1 (test only): "device" memory is host memory, copies are memcpy,
// streams do nothing. Fresh allocations are filled with 0xFF bytes (NaN as float), so reading
// memory the addon never wrote shows up in results. FAKE_CUDA_NO_DEVICE=1 makes cuInit fail as
// on a machine without a GPU; FAKE_CUDA_DRIVER_VERSION overrides the reported driver version.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

using CUresult = int;
using CUdeviceptr = unsigned long long;

namespace {
std::mutex mu;
std::map<uintptr_t, size_t> live;  // start -> size
int ctxToken;

CUresult Track(void* p, size_t n) {
  if (!p) return 2;  // CUDA_ERROR_OUT_OF_MEMORY
  std::memset(p, 0xFF, n);
  std::lock_guard<std::mutex> lock(mu);
  live[reinterpret_cast<uintptr_t>(p)] = n;
  return 0;
}

CUresult Untrack(void* p) {
  std::lock_guard<std::mutex> lock(mu);
  if (!live.erase(reinterpret_cast<uintptr_t>(p))) return 1;  // CUDA_ERROR_INVALID_VALUE: double free
  std::free(p);
  return 0;
}

/** [p, p + n) lies inside one live allocation: catches copies past the end of a buffer. */
bool Known(CUdeviceptr p, size_t n) {
  if (n == 0) return true;
  std::lock_guard<std::mutex> lock(mu);
  auto it = live.upper_bound(static_cast<uintptr_t>(p));
  if (it == live.begin()) return false;
  --it;
  return static_cast<uintptr_t>(p) + n <= it->first + it->second;
}
}  // namespace

extern "C" {

CUresult cuInit(unsigned int) { return std::getenv("FAKE_CUDA_NO_DEVICE") ? 100 : 0; }
CUresult cuDriverGetVersion(int* v) {
  const char* s = std::getenv("FAKE_CUDA_DRIVER_VERSION");
  *v = s ? std::atoi(s) : 13000;
  return 0;
}
CUresult cuDeviceGetCount(int* c) {
  *c = 1;
  return 0;
}
CUresult cuDeviceGet(int* d, int ordinal) {
  if (ordinal != 0) return 101;  // CUDA_ERROR_INVALID_DEVICE
  *d = 0;
  return 0;
}
CUresult cuDeviceGetName(char* name, int len, int) {
  std::strncpy(name, "Fake GPU (host memory)", static_cast<size_t>(len));
  return 0;
}
CUresult cuDeviceGetAttribute(int* v, int attrib, int) {
  *v = attrib == 75 ? 9 : 0;
  return 0;
}
CUresult cuDevicePrimaryCtxRetain(void** ctx, int) {
  *ctx = &ctxToken;
  return 0;
}
CUresult cuDevicePrimaryCtxRelease_v2(int) { return 0; }
CUresult cuCtxSetCurrent(void* ctx) { return ctx == &ctxToken || ctx == nullptr ? 0 : 201; }
CUresult cuMemGetInfo_v2(size_t* free, size_t* total) {
  *free = *total = size_t(16) << 30;
  return 0;
}
CUresult cuMemAlloc_v2(CUdeviceptr* p, size_t n) {
  void* m = std::malloc(n ? n : 1);
  *p = reinterpret_cast<uintptr_t>(m);
  return Track(m, n);
}
CUresult cuMemFree_v2(CUdeviceptr p) { return Untrack(reinterpret_cast<void*>(static_cast<uintptr_t>(p))); }
CUresult cuMemAllocHost_v2(void** p, size_t n) {
  *p = std::malloc(n ? n : 1);
  return Track(*p, n);
}
CUresult cuMemFreeHost(void* p) { return Untrack(p); }
// The addon copies only between pinned staging buffers and device buffers, so both ends are checked.
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, void*) {
  if (!Known(dst, n) || !Known(reinterpret_cast<uintptr_t>(src), n)) return 1;
  std::memcpy(reinterpret_cast<void*>(static_cast<uintptr_t>(dst)), src, n);
  return 0;
}
CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, void*) {
  if (!Known(src, n) || !Known(reinterpret_cast<uintptr_t>(dst), n)) return 1;
  std::memcpy(dst, reinterpret_cast<const void*>(static_cast<uintptr_t>(src)), n);
  return 0;
}
CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, void*) {
  if (!Known(dst, n) || !Known(src, n)) return 1;
  std::memmove(reinterpret_cast<void*>(static_cast<uintptr_t>(dst)), reinterpret_cast<const void*>(static_cast<uintptr_t>(src)), n);
  return 0;
}
CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char v, size_t n, void*) {
  if (!Known(dst, n)) return 1;
  std::memset(reinterpret_cast<void*>(static_cast<uintptr_t>(dst)), v, n);
  return 0;
}
CUresult cuStreamCreate(void** s, unsigned int) {
  *s = std::malloc(1);
  return 0;
}
CUresult cuStreamSynchronize(void*) { return 0; }
CUresult cuStreamDestroy_v2(void* s) {
  std::free(s);
  return 0;
}
CUresult cuGetErrorName(CUresult r, const char** s) {
  *s = r == 0 ? "CUDA_SUCCESS" : r == 100 ? "CUDA_ERROR_NO_DEVICE" : r == 1 ? "CUDA_ERROR_INVALID_VALUE" : "CUDA_ERROR_UNKNOWN";
  return 0;
}
CUresult cuGetErrorString(CUresult r, const char** s) {
  *s = r == 100 ? "no CUDA-capable device is detected" : r == 1 ? "invalid argument" : "unknown error";
  return 0;
}

/** For tests: allocations (device and pinned) not yet freed. */
long fake_cuda_live_allocations() {
  std::lock_guard<std::mutex> lock(mu);
  return static_cast<long>(live.size());
}
}
