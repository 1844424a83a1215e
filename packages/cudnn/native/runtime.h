// The loaded driver + cuDNN for one device: function tables, the device's primary context, and
// byte counts of everything allocated through it (for memoryInUse() and leak checks). Shared
// (std::shared_ptr) by every layer and saved forward pass, so it outlives all of them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_api.h"
#include "cudnn_api.h"
#include "loader.h"

namespace gru_cudnn {

/** A CUDA or cuDNN call failed; the message names the call, the status and cuDNN's last error. */
class GpuError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OpenOptions {
  std::vector<Candidate> driver;
  std::vector<Candidate> cudnn;
  /** Searched for libcublasLt.so.<CUDA major of cuDNN> after the chosen cuDNN candidate's own dirs. */
  std::vector<std::string> cublasLtDirs;
  int device = 0;
};

struct OpenReport {
  std::vector<Attempt> attempts;
  /** One sentence per missing or unusable piece; empty when the runtime opened. */
  std::vector<std::string> problems;
};

struct RuntimeInfo {
  std::string driverPath, cudnnPath, cublasLtPath, deviceName;
  int device = 0, driverVersion = 0, computeMajor = 0, computeMinor = 0;
  size_t cudnnVersion = 0, cudnnCudartVersion = 0, totalMemory = 0;
};

class Runtime {
 public:
  /** Loads everything and checks the device; nullptr with `report.problems` filled when it cannot. */
  static std::shared_ptr<Runtime> Open(const OpenOptions& options, OpenReport& report);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  const CudaDriverApi cu;
  const CudnnApi dnn;
  const RuntimeInfo info;

  /** Makes the device's primary context current on the calling thread (every entry point does). */
  void MakeCurrent() const;
  void CheckCu(CUresult r, const char* what) const;
  void CheckDnn(cudnnStatus_t s, const char* what) const;

  CUdeviceptr AllocDevice(size_t bytes);
  void FreeDevice(CUdeviceptr ptr, size_t bytes) noexcept;
  void* AllocHost(size_t bytes);
  void FreeHost(void* ptr, size_t bytes) noexcept;

  int64_t DeviceBytes() const { return deviceBytes_.load(); }
  int64_t HostBytes() const { return hostBytes_.load(); }

 private:
  Runtime(const CudaDriverApi& cu, const CudnnApi& dnn, const RuntimeInfo& info, CUdevice device, CUcontext ctx);
  CUdevice device_;
  CUcontext ctx_;
  std::atomic<int64_t> deviceBytes_{0};
  std::atomic<int64_t> hostBytes_{0};
};

/** "CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected". */
std::string DescribeCu(const CudaDriverApi& cu, CUresult r);
/** "CUDNN_STATUS_BAD_PARAM (2000): <cuDNN's last error message>". */
std::string DescribeDnn(const CudnnApi& dnn, cudnnStatus_t s);

}  // namespace gru_cudnn
