// The slice of the CUDA driver API this addon calls, declared here so the addon builds without
// the CUDA toolkit. Types and values follow cuda.h (CUDA 12/13); the function pointers are
// filled by dlsym from libcuda.so.1 at run time. Where cuda.h #defines a name to a versioned
// symbol (cuMemAlloc -> cuMemAlloc_v2), the table holds the versioned symbol: the unversioned
// export is the legacy 32-bit ABI.
#pragma once

#include <cstddef>

namespace gru_cudnn {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
struct CUctx_st;
using CUcontext = CUctx_st*;
struct CUstream_st;
using CUstream = CUstream_st*;

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_NOT_INITIALIZED = 3;
constexpr CUresult CUDA_ERROR_INSUFFICIENT_DRIVER = 35;
constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr unsigned int CU_STREAM_NON_BLOCKING = 1;

struct CudaDriverApi {
  CUresult (*cuInit)(unsigned int flags);
  CUresult (*cuDriverGetVersion)(int* version);
  CUresult (*cuDeviceGetCount)(int* count);
  CUresult (*cuDeviceGet)(CUdevice* device, int ordinal);
  CUresult (*cuDeviceGetName)(char* name, int len, CUdevice dev);
  CUresult (*cuDeviceGetAttribute)(int* value, int attrib, CUdevice dev);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext* ctx, CUdevice dev);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice dev);  // _v2
  CUresult (*cuCtxSetCurrent)(CUcontext ctx);
  CUresult (*cuMemGetInfo)(size_t* free, size_t* total);    // _v2
  CUresult (*cuMemAlloc)(CUdeviceptr* dptr, size_t bytes);  // _v2
  CUresult (*cuMemFree)(CUdeviceptr dptr);                  // _v2
  CUresult (*cuMemAllocHost)(void** pp, size_t bytes);      // _v2
  CUresult (*cuMemFreeHost)(void* p);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr dst, const void* src, size_t bytes, CUstream stream);  // _v2
  CUresult (*cuMemcpyDtoHAsync)(void* dst, CUdeviceptr src, size_t bytes, CUstream stream);        // _v2
  CUresult (*cuMemcpyDtoDAsync)(CUdeviceptr dst, CUdeviceptr src, size_t bytes, CUstream stream);  // _v2
  CUresult (*cuMemsetD8Async)(CUdeviceptr dst, unsigned char value, size_t count, CUstream stream);
  CUresult (*cuStreamCreate)(CUstream* stream, unsigned int flags);
  CUresult (*cuStreamSynchronize)(CUstream stream);
  CUresult (*cuStreamDestroy)(CUstream stream);  // _v2
  CUresult (*cuGetErrorName)(CUresult error, const char** name);
  CUresult (*cuGetErrorString)(CUresult error, const char** text);
};

}  // namespace gru_cudnn
