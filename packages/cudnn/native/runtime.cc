#include "runtime.h"

#include <cstring>

namespace gru_cudnn {

namespace {

template <class Fn>
void Bind(void* handle, const char* name, Fn& slot, std::vector<std::string>& missing) {
  void* p = Symbol(handle, name, missing);
  static_assert(sizeof(p) == sizeof(slot), "function and object pointers differ in size");
  std::memcpy(&slot, &p, sizeof(p));
}

std::vector<std::string> BindDriver(void* h, CudaDriverApi& a) {
  std::vector<std::string> missing;
  Bind(h, "cuInit", a.cuInit, missing);
  Bind(h, "cuDriverGetVersion", a.cuDriverGetVersion, missing);
  Bind(h, "cuDeviceGetCount", a.cuDeviceGetCount, missing);
  Bind(h, "cuDeviceGet", a.cuDeviceGet, missing);
  Bind(h, "cuDeviceGetName", a.cuDeviceGetName, missing);
  Bind(h, "cuDeviceGetAttribute", a.cuDeviceGetAttribute, missing);
  Bind(h, "cuDevicePrimaryCtxRetain", a.cuDevicePrimaryCtxRetain, missing);
  Bind(h, "cuDevicePrimaryCtxRelease_v2", a.cuDevicePrimaryCtxRelease, missing);
  Bind(h, "cuCtxSetCurrent", a.cuCtxSetCurrent, missing);
  Bind(h, "cuMemGetInfo_v2", a.cuMemGetInfo, missing);
  Bind(h, "cuMemAlloc_v2", a.cuMemAlloc, missing);
  Bind(h, "cuMemFree_v2", a.cuMemFree, missing);
  Bind(h, "cuMemAllocHost_v2", a.cuMemAllocHost, missing);
  Bind(h, "cuMemFreeHost", a.cuMemFreeHost, missing);
  Bind(h, "cuMemcpyHtoDAsync_v2", a.cuMemcpyHtoDAsync, missing);
  Bind(h, "cuMemcpyDtoHAsync_v2", a.cuMemcpyDtoHAsync, missing);
  Bind(h, "cuMemcpyDtoDAsync_v2", a.cuMemcpyDtoDAsync, missing);
  Bind(h, "cuMemsetD8Async", a.cuMemsetD8Async, missing);
  Bind(h, "cuStreamCreate", a.cuStreamCreate, missing);
  Bind(h, "cuStreamSynchronize", a.cuStreamSynchronize, missing);
  Bind(h, "cuStreamDestroy_v2", a.cuStreamDestroy, missing);
  Bind(h, "cuGetErrorName", a.cuGetErrorName, missing);
  Bind(h, "cuGetErrorString", a.cuGetErrorString, missing);
  return missing;
}

std::vector<std::string> BindCudnn(void* h, CudnnApi& a) {
  std::vector<std::string> missing;
  Bind(h, "cudnnGetVersion", a.cudnnGetVersion, missing);
  Bind(h, "cudnnGetCudartVersion", a.cudnnGetCudartVersion, missing);
  Bind(h, "cudnnGetErrorString", a.cudnnGetErrorString, missing);
  Bind(h, "cudnnGetLastErrorString", a.cudnnGetLastErrorString, missing);
  Bind(h, "cudnnCreate", a.cudnnCreate, missing);
  Bind(h, "cudnnDestroy", a.cudnnDestroy, missing);
  Bind(h, "cudnnSetStream", a.cudnnSetStream, missing);
  Bind(h, "cudnnCreateTensorDescriptor", a.cudnnCreateTensorDescriptor, missing);
  Bind(h, "cudnnDestroyTensorDescriptor", a.cudnnDestroyTensorDescriptor, missing);
  Bind(h, "cudnnSetTensorNdDescriptor", a.cudnnSetTensorNdDescriptor, missing);
  Bind(h, "cudnnGetTensorNdDescriptor", a.cudnnGetTensorNdDescriptor, missing);
  Bind(h, "cudnnCreateDropoutDescriptor", a.cudnnCreateDropoutDescriptor, missing);
  Bind(h, "cudnnDestroyDropoutDescriptor", a.cudnnDestroyDropoutDescriptor, missing);
  Bind(h, "cudnnSetDropoutDescriptor", a.cudnnSetDropoutDescriptor, missing);
  Bind(h, "cudnnCreateRNNDescriptor", a.cudnnCreateRNNDescriptor, missing);
  Bind(h, "cudnnDestroyRNNDescriptor", a.cudnnDestroyRNNDescriptor, missing);
  Bind(h, "cudnnSetRNNDescriptor_v8", a.cudnnSetRNNDescriptor_v8, missing);
  Bind(h, "cudnnCreateRNNDataDescriptor", a.cudnnCreateRNNDataDescriptor, missing);
  Bind(h, "cudnnDestroyRNNDataDescriptor", a.cudnnDestroyRNNDataDescriptor, missing);
  Bind(h, "cudnnSetRNNDataDescriptor", a.cudnnSetRNNDataDescriptor, missing);
  Bind(h, "cudnnGetRNNWeightSpaceSize", a.cudnnGetRNNWeightSpaceSize, missing);
  Bind(h, "cudnnGetRNNTempSpaceSizes", a.cudnnGetRNNTempSpaceSizes, missing);
  Bind(h, "cudnnGetRNNWeightParams", a.cudnnGetRNNWeightParams, missing);
  Bind(h, "cudnnRNNForward", a.cudnnRNNForward, missing);
  Bind(h, "cudnnRNNBackwardData_v8", a.cudnnRNNBackwardData_v8, missing);
  Bind(h, "cudnnRNNBackwardWeights_v8", a.cudnnRNNBackwardWeights_v8, missing);
  return missing;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string VersionText(size_t v) {
  // Since cuDNN 9, CUDNN_VERSION = major*10000 + minor*100 + patch; before, major*1000 + minor*100 + patch.
  if (v < 10000) return std::to_string(v / 1000) + "." + std::to_string((v / 100) % 10) + "." + std::to_string(v % 100);
  return std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." + std::to_string(v % 100);
}

std::string CudaVersionText(long v) { return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10); }

/**
 * cuDNN's RNN functions load cuBLASLt lazily, by soname, at the first call; a missing or
 * wrong-major cuBLASLt then fails deep inside cudnnRNNForward. Loading it here, by absolute
 * path, makes the later soname lookup find the loaded copy and turns the failure into a clear
 * load() error.
 */
void* PreloadCublasLt(const OpenOptions& o, size_t cudnnChoice, size_t cudartVersion, OpenReport& report, std::string* path) {
  const std::string name = "libcublasLt.so." + std::to_string(cudartVersion / 1000);
  std::vector<Candidate> candidates;
  for (const auto& d : o.cudnn[cudnnChoice].cublasLtDirs) candidates.push_back({d + "/" + name, "beside cuDNN (" + d + ")", {}});
  for (const auto& d : o.cublasLtDirs) candidates.push_back({d + "/" + name, "search path (" + d + ")", {}});
  candidates.push_back({name, "dynamic linker search (LD_LIBRARY_PATH, ld.so.cache)", {}});
  size_t chosen = 0;
  void* h = OpenFirst(name, candidates, true, report.attempts, &chosen);
  if (h) *path = candidates[chosen].path;
  return h;
}

}  // namespace

std::string DescribeCu(const CudaDriverApi& cu, CUresult r) {
  const char* name = nullptr;
  const char* text = nullptr;
  if (cu.cuGetErrorName) cu.cuGetErrorName(r, &name);
  if (cu.cuGetErrorString) cu.cuGetErrorString(r, &text);
  return std::string(name ? name : "CUDA error") + " (" + std::to_string(r) + ")" + (text ? std::string(": ") + text : "");
}

std::string DescribeDnn(const CudnnApi& dnn, cudnnStatus_t s) {
  std::string out = std::string(dnn.cudnnGetErrorString ? dnn.cudnnGetErrorString(s) : "cuDNN error") + " (" + std::to_string(s) + ")";
  if (dnn.cudnnGetLastErrorString) {
    char last[512] = {0};
    dnn.cudnnGetLastErrorString(last, sizeof(last));
    if (last[0]) out += ": " + std::string(last);
  }
  return out;
}

std::shared_ptr<Runtime> Runtime::Open(const OpenOptions& o, OpenReport& report) {
  CudaDriverApi cu{};
  CudnnApi dnn{};
  RuntimeInfo info;
  info.device = o.device;

  size_t driverChoice = 0, cudnnChoice = 0;
  void* libcuda = OpenFirst("libcuda.so.1", o.driver, false, report.attempts, &driverChoice);
  void* libcudnn = OpenFirst("libcudnn.so.9", o.cudnn, false, report.attempts, &cudnnChoice);
  if (!libcuda) {
    report.problems.push_back("the NVIDIA driver library libcuda.so.1 was not found (is an NVIDIA GPU driver installed?)");
  }
  if (!libcudnn) {
    report.problems.push_back(
        "cuDNN 9 (libcudnn.so.9) was not found (install it, e.g. `pip install nvidia-cudnn-cu13`, or point GRU_CUDNN_PATH "
        "or the cudnnPath option at it)");
  }

  bool driverOk = false;
  CUdevice device = 0;
  if (libcuda) {
    info.driverPath = o.driver[driverChoice].path;
    auto missing = BindDriver(libcuda, cu);
    if (!missing.empty()) {
      report.problems.push_back("the driver library " + info.driverPath + " lacks " + Join(missing) + " (driver too old?)");
    } else if (CUresult r = cu.cuInit(0); r != CUDA_SUCCESS) {
      report.problems.push_back(r == CUDA_ERROR_NO_DEVICE ? "no NVIDIA GPU is visible: cuInit returned " + DescribeCu(cu, r)
                                                          : "the CUDA driver failed to start: cuInit returned " + DescribeCu(cu, r));
    } else {
      int count = 0;
      cu.cuDriverGetVersion(&info.driverVersion);
      if (CUresult r2 = cu.cuDeviceGetCount(&count); r2 != CUDA_SUCCESS || count == 0) {
        report.problems.push_back("no NVIDIA GPU is visible (cuDeviceGetCount found " + std::to_string(count) + ")");
      } else if (o.device < 0 || o.device >= count) {
        report.problems.push_back("device index " + std::to_string(o.device) + " is out of range: " + std::to_string(count) +
                                  " GPU(s) are visible (indices 0.." + std::to_string(count - 1) + ")");
      } else if (CUresult r3 = cu.cuDeviceGet(&device, o.device); r3 != CUDA_SUCCESS) {
        report.problems.push_back("cuDeviceGet(" + std::to_string(o.device) + ") failed: " + DescribeCu(cu, r3));
      } else {
        char name[256] = {0};
        cu.cuDeviceGetName(name, sizeof(name) - 1, device);
        info.deviceName = name;
        cu.cuDeviceGetAttribute(&info.computeMajor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
        cu.cuDeviceGetAttribute(&info.computeMinor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
        driverOk = true;
      }
    }
  }

  bool cudnnOk = false;
  if (libcudnn) {
    info.cudnnPath = o.cudnn[cudnnChoice].path;
    auto missing = BindCudnn(libcudnn, dnn);
    if (!missing.empty()) {
      report.problems.push_back("the cuDNN library " + info.cudnnPath + " lacks " + Join(missing) + " (not cuDNN 9?)");
    } else {
      info.cudnnVersion = dnn.cudnnGetVersion();
      info.cudnnCudartVersion = dnn.cudnnGetCudartVersion();
      if (info.cudnnVersion < 90000 || info.cudnnVersion >= 100000) {
        report.problems.push_back("found cuDNN " + VersionText(info.cudnnVersion) + " at " + info.cudnnPath + "; this backend needs cuDNN 9");
      } else {
        cudnnOk = true;
      }
    }
  }

  if (driverOk && cudnnOk && info.driverVersion / 1000 < static_cast<int>(info.cudnnCudartVersion / 1000)) {
    report.problems.push_back("cuDNN " + VersionText(info.cudnnVersion) + " was built for CUDA " + CudaVersionText(static_cast<long>(info.cudnnCudartVersion)) +
                              ", but the NVIDIA driver supports CUDA up to " + CudaVersionText(info.driverVersion) +
                              " (update the driver, or install the cuDNN build for your CUDA)");
    cudnnOk = false;
  }
  // Only once the rest is usable: a cuBLASLt loaded here stays loaded for the process.
  if (driverOk && cudnnOk && !PreloadCublasLt(o, cudnnChoice, info.cudnnCudartVersion, report, &info.cublasLtPath)) {
    report.problems.push_back("cuBLASLt (libcublasLt.so." + std::to_string(info.cudnnCudartVersion / 1000) +
                              "), which cuDNN's RNN functions load, was not found (install nvidia-cublas for CUDA " +
                              std::to_string(info.cudnnCudartVersion / 1000) + ")");
    cudnnOk = false;
  }
  if (!report.problems.empty() || !driverOk || !cudnnOk) return nullptr;

  CUcontext ctx = nullptr;
  if (CUresult r = cu.cuDevicePrimaryCtxRetain(&ctx, device); r != CUDA_SUCCESS) {
    report.problems.push_back("could not open the GPU's context: cuDevicePrimaryCtxRetain returned " + DescribeCu(cu, r));
    return nullptr;
  }
  size_t freeMem = 0;
  cu.cuCtxSetCurrent(ctx);
  cu.cuMemGetInfo(&freeMem, &info.totalMemory);
  std::shared_ptr<Runtime> rt(new Runtime(cu, dnn, info, device, ctx));

  // A first cuDNN call loads the sub-libraries (cudnn_adv for RNNs): a broken install fails
  // here, inside load(), rather than at the first forward call.
  cudnnHandle_t handle = nullptr;
  cudnnRNNDescriptor_t rnn = nullptr;
  cudnnDropoutDescriptor_t drop = nullptr;
  std::string failure;
  auto step = [&](cudnnStatus_t s, const char* what) {
    if (s != CUDNN_STATUS_SUCCESS && failure.empty()) failure = std::string(what) + " returned " + DescribeDnn(dnn, s);
    return s == CUDNN_STATUS_SUCCESS;
  };
  if (step(dnn.cudnnCreate(&handle), "cudnnCreate") && step(dnn.cudnnCreateDropoutDescriptor(&drop), "cudnnCreateDropoutDescriptor") &&
      step(dnn.cudnnSetDropoutDescriptor(drop, handle, 0.f, nullptr, 0, 0), "cudnnSetDropoutDescriptor") &&
      step(dnn.cudnnCreateRNNDescriptor(&rnn), "cudnnCreateRNNDescriptor") &&
      step(dnn.cudnnSetRNNDescriptor_v8(rnn, CUDNN_RNN_ALGO_STANDARD, CUDNN_GRU, CUDNN_RNN_DOUBLE_BIAS, CUDNN_UNIDIRECTIONAL, CUDNN_LINEAR_INPUT,
                                        CUDNN_DATA_FLOAT, CUDNN_DATA_FLOAT, CUDNN_FMA_MATH, 1, 1, 1, 1, drop, CUDNN_RNN_PADDED_IO_ENABLED),
           "cudnnSetRNNDescriptor_v8")) {
    size_t bytes = 0;
    step(dnn.cudnnGetRNNWeightSpaceSize(handle, rnn, &bytes), "cudnnGetRNNWeightSpaceSize");
  }
  if (rnn) dnn.cudnnDestroyRNNDescriptor(rnn);
  if (drop) dnn.cudnnDestroyDropoutDescriptor(drop);
  if (handle) dnn.cudnnDestroy(handle);
  if (!failure.empty()) {
    report.problems.push_back("cuDNN " + VersionText(info.cudnnVersion) + " at " + info.cudnnPath + " failed its start-up check: " + failure);
    return nullptr;
  }
  return rt;
}

Runtime::Runtime(const CudaDriverApi& c, const CudnnApi& d, const RuntimeInfo& i, CUdevice device, CUcontext ctx)
    : cu(c), dnn(d), info(i), device_(device), ctx_(ctx) {}

Runtime::~Runtime() { cu.cuDevicePrimaryCtxRelease(device_); }

void Runtime::MakeCurrent() const { CheckCu(cu.cuCtxSetCurrent(ctx_), "cuCtxSetCurrent"); }

void Runtime::CheckCu(CUresult r, const char* what) const {
  if (r != CUDA_SUCCESS) throw GpuError(std::string(what) + " failed: " + DescribeCu(cu, r));
}

void Runtime::CheckDnn(cudnnStatus_t s, const char* what) const {
  if (s != CUDNN_STATUS_SUCCESS) throw GpuError(std::string(what) + " failed: " + DescribeDnn(dnn, s));
}

CUdeviceptr Runtime::AllocDevice(size_t bytes) {
  CUdeviceptr p = 0;
  CUresult r = cu.cuMemAlloc(&p, bytes);
  if (r != CUDA_SUCCESS) {
    throw GpuError("cuMemAlloc of " + std::to_string(bytes) + " bytes on " + info.deviceName + " failed: " + DescribeCu(cu, r));
  }
  deviceBytes_ += static_cast<int64_t>(bytes);
  return p;
}

void Runtime::FreeDevice(CUdeviceptr p, size_t bytes) noexcept {
  if (!p) return;
  cu.cuCtxSetCurrent(ctx_);
  cu.cuMemFree(p);
  deviceBytes_ -= static_cast<int64_t>(bytes);
}

void* Runtime::AllocHost(size_t bytes) {
  void* p = nullptr;
  CUresult r = cu.cuMemAllocHost(&p, bytes);
  if (r != CUDA_SUCCESS) throw GpuError("cuMemAllocHost of " + std::to_string(bytes) + " bytes failed: " + DescribeCu(cu, r));
  hostBytes_ += static_cast<int64_t>(bytes);
  return p;
}

void Runtime::FreeHost(void* p, size_t bytes) noexcept {
  if (!p) return;
  cu.cuCtxSetCurrent(ctx_);
  cu.cuMemFreeHost(p);
  hostBytes_ -= static_cast<int64_t>(bytes);
}

}  // namespace gru_cudnn
