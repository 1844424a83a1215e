#include "layer.h"

#include <atomic>
#include <cstring>
#include <string>

namespace gru_cudnn {

namespace {

int CudnnDataType(DeviceType t) { return t == DeviceType::F64 ? CUDNN_DATA_DOUBLE : t == DeviceType::F16 ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT; }

inline CUdeviceptr Ptr(const void* p) { return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(p)); }

/** Backward's buffer: [dy | dhy] in, [dx | dhx | dw] out. */
struct BackwardLayout {
  size_t dy = 0, dhy = 0, inBytes = 0, dx = 0, dhx = 0, dw = 0, total = 0;
  BackwardLayout(size_t B, size_t T, size_t D, size_t H, size_t packed, size_t e) {
    dhy = AlignUp(B * T * H * e);
    inBytes = dhy + B * H * e;
    dx = AlignUp(inBytes);
    dhx = AlignUp(dx + B * T * D * e);
    dw = AlignUp(dhx + B * H * e);
    total = dw + packed * e;
  }
};

}  // namespace

ForwardLayout::ForwardLayout(size_t B, size_t T, size_t D, size_t H, size_t e) {
  x = AlignUp(B * sizeof(int32_t));
  hx = AlignUp(x + B * T * D * e);
  inBytes = hx + B * H * e;
  y = AlignUp(inBytes);
  hy = AlignUp(y + B * T * H * e);
  total = hy + B * H * e;
}

namespace {
std::atomic<uint64_t> nextLayerId{1};
}  // namespace

LayerCore::LayerCore(std::shared_ptr<Runtime> rt, const LayerDims& d)
    : dims(d), id(nextLayerId++), rt_(rt), weights_(rt), io_(rt), work_(rt), gradIo_(rt), dweights_(rt), reserveCopy_(rt), stagingIn_(rt), stagingOut_(rt) {
  dataType_ = CudnnDataType(d.device);
  elem_ = DeviceSize(d.device);
  const auto& cu = rt_->cu;
  const auto& dnn = rt_->dnn;
  try {
    rt_->MakeCurrent();
    rt_->CheckCu(cu.cuStreamCreate(&stream_, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
    rt_->CheckDnn(dnn.cudnnCreate(&handle_), "cudnnCreate");
    rt_->CheckDnn(dnn.cudnnSetStream(handle_, stream_), "cudnnSetStream");
    rt_->CheckDnn(dnn.cudnnCreateDropoutDescriptor(&dropout_), "cudnnCreateDropoutDescriptor");
    rt_->CheckDnn(dnn.cudnnSetDropoutDescriptor(dropout_, handle_, 0.f, nullptr, 0, 0), "cudnnSetDropoutDescriptor");
    rt_->CheckDnn(dnn.cudnnCreateRNNDescriptor(&rnn_), "cudnnCreateRNNDescriptor");
    rt_->CheckDnn(dnn.cudnnSetRNNDescriptor_v8(rnn_, CUDNN_RNN_ALGO_STANDARD, CUDNN_GRU, CUDNN_RNN_DOUBLE_BIAS, CUDNN_UNIDIRECTIONAL, CUDNN_LINEAR_INPUT,
                                               dataType_, d.mathPrec, d.mathType, d.inputDim, d.units, d.units, 1, dropout_, CUDNN_RNN_PADDED_IO_ENABLED),
                  "cudnnSetRNNDescriptor_v8");
    rt_->CheckDnn(dnn.cudnnCreateRNNDataDescriptor(&xDesc_), "cudnnCreateRNNDataDescriptor");
    rt_->CheckDnn(dnn.cudnnCreateRNNDataDescriptor(&yDesc_), "cudnnCreateRNNDataDescriptor");
    rt_->CheckDnn(dnn.cudnnCreateTensorDescriptor(&hDesc_), "cudnnCreateTensorDescriptor");

    rt_->CheckDnn(dnn.cudnnGetRNNWeightSpaceSize(handle_, rnn_, &weightSpaceBytes_), "cudnnGetRNNWeightSpaceSize");
    weights_.Reserve(weightSpaceBytes_);
    // Unwritten bytes of the weight space (padding) must be zero: garbage there gave wrong results elsewhere.
    rt_->CheckCu(cu.cuMemsetD8Async(weights_.ptr(), 0, weightSpaceBytes_, stream_), "cuMemsetD8Async");

    cudnnTensorDescriptor_t mDesc = nullptr, bDesc = nullptr;
    rt_->CheckDnn(dnn.cudnnCreateTensorDescriptor(&mDesc), "cudnnCreateTensorDescriptor");
    rt_->CheckDnn(dnn.cudnnCreateTensorDescriptor(&bDesc), "cudnnCreateTensorDescriptor");
    std::string layoutError;
    for (int id = 0; id < 6 && layoutError.empty(); id++) {
      void* mAddr = nullptr;
      void* bAddr = nullptr;
      cudnnStatus_t s = dnn.cudnnGetRNNWeightParams(handle_, rnn_, 0, weightSpaceBytes_, weights_.at(0), id, mDesc, &mAddr, bDesc, &bAddr);
      if (s != CUDNN_STATUS_SUCCESS) {
        layoutError = "cudnnGetRNNWeightParams(linLayerID " + std::to_string(id) + ") failed: " + DescribeDnn(dnn, s);
        break;
      }
      const size_t want[2] = {MatrixElements(id), static_cast<size_t>(d.units)};
      cudnnTensorDescriptor_t descs[2] = {mDesc, bDesc};
      void* addrs[2] = {mAddr, bAddr};
      for (int k = 0; k < 2; k++) {
        int dt = 0, nb = 0, dimsA[8] = {0}, strides[8] = {0};
        size_t count = 0;
        if (addrs[k] && dnn.cudnnGetTensorNdDescriptor(descs[k], 8, &dt, &nb, dimsA, strides) == CUDNN_STATUS_SUCCESS && nb > 0) {
          count = 1;
          for (int i = 0; i < nb; i++) count *= static_cast<size_t>(dimsA[i]);
        }
        const size_t offset = addrs[k] ? static_cast<size_t>(Ptr(addrs[k]) - weights_.ptr()) : 0;
        if (!addrs[k] || count != want[k] || offset % elem_ != 0 || offset + count * elem_ > weightSpaceBytes_) {
          layoutError = std::string("cuDNN reported an unexpected ") + (k == 0 ? "matrix" : "bias") + " for linLayerID " + std::to_string(id) + ": " +
                        std::to_string(count) + " elements at byte " + std::to_string(offset) + " (expected " + std::to_string(want[k]) +
                        " elements inside the " + std::to_string(weightSpaceBytes_) + "-byte weight space)";
        }
        (k == 0 ? matrixOffset_ : biasOffset_)[id] = offset;
      }
    }
    dnn.cudnnDestroyTensorDescriptor(mDesc);
    dnn.cudnnDestroyTensorDescriptor(bDesc);
    if (!layoutError.empty()) throw GpuError(layoutError);
    rt_->CheckCu(cu.cuStreamSynchronize(stream_), "cuStreamSynchronize");
  } catch (...) {
    Cleanup();
    throw;
  }
}

LayerCore::~LayerCore() { Cleanup(); }

void LayerCore::Cleanup() noexcept {
  const auto& dnn = rt_->dnn;
  try {
    rt_->MakeCurrent();
  } catch (...) {
    // Freeing below sets the context itself; nothing else needs it.
  }
  if (stream_) rt_->cu.cuStreamSynchronize(stream_);
  if (hDesc_) dnn.cudnnDestroyTensorDescriptor(hDesc_);
  if (yDesc_) dnn.cudnnDestroyRNNDataDescriptor(yDesc_);
  if (xDesc_) dnn.cudnnDestroyRNNDataDescriptor(xDesc_);
  if (rnn_) dnn.cudnnDestroyRNNDescriptor(rnn_);
  if (dropout_) dnn.cudnnDestroyDropoutDescriptor(dropout_);
  if (handle_) dnn.cudnnDestroy(handle_);
  hDesc_ = nullptr, yDesc_ = xDesc_ = nullptr, rnn_ = nullptr, dropout_ = nullptr, handle_ = nullptr;
  weights_.Release(), io_.Release(), work_.Release(), gradIo_.Release(), dweights_.Release(), reserveCopy_.Release();
  stagingIn_.Release(), stagingOut_.Release();
  if (stream_) rt_->cu.cuStreamDestroy(stream_);
  stream_ = nullptr;
}

void LayerCore::Drain() noexcept {
  if (stream_) rt_->cu.cuStreamSynchronize(stream_);
}

size_t LayerCore::MatrixElements(int id) const { return static_cast<size_t>(dims.units) * static_cast<size_t>(id < 3 ? dims.inputDim : dims.units); }

size_t LayerCore::PackedMatrixOffset(int id) const {
  const size_t D = dims.inputDim, H = dims.units;
  return id < 3 ? id * H * D : 3 * H * D + (id - 3) * H * H;
}

size_t LayerCore::PackedBiasOffset(int id) const {
  const size_t D = dims.inputDim, H = dims.units;
  return 3 * H * D + 3 * H * H + id * H;
}

size_t LayerCore::Bytes() const {
  return weights_.size() + io_.size() + work_.size() + gradIo_.size() + dweights_.size() + reserveCopy_.size() + stagingIn_.size() + stagingOut_.size();
}

void LayerCore::SetShapes(int B, int T, const int32_t* lengths) {
  const auto& dnn = rt_->dnn;
  rt_->CheckDnn(dnn.cudnnSetRNNDataDescriptor(xDesc_, dataType_, CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED, T, B, dims.inputDim, lengths, &paddingFill_),
                "cudnnSetRNNDataDescriptor(x)");
  rt_->CheckDnn(dnn.cudnnSetRNNDataDescriptor(yDesc_, dataType_, CUDNN_RNN_DATA_LAYOUT_BATCH_MAJOR_UNPACKED, T, B, dims.units, lengths, &paddingFill_),
                "cudnnSetRNNDataDescriptor(y)");
  const int hDims[3] = {1, B, dims.units};
  const int hStrides[3] = {B * dims.units, dims.units, 1};
  rt_->CheckDnn(dnn.cudnnSetTensorNdDescriptor(hDesc_, dataType_, 3, hDims, hStrides), "cudnnSetTensorNdDescriptor(h)");
}

void LayerCore::SetWeights(const void* packed) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto& cu = rt_->cu;
  rt_->MakeCurrent();
  const size_t n = dims.PackedCount();
  unsigned char* staging = stagingIn_.Reserve(n * elem_);
  HostToDevice(dims.host, dims.device, packed, n, staging);
  try {
    const CUdeviceptr src = io_.Reserve(n * elem_);
    rt_->CheckCu(cu.cuMemcpyHtoDAsync(src, staging, n * elem_, stream_), "cuMemcpyHtoDAsync(weights)");
    rt_->CheckCu(cu.cuMemsetD8Async(weights_.ptr(), 0, weightSpaceBytes_, stream_), "cuMemsetD8Async(weights)");
    for (int id = 0; id < 6; id++) {
      rt_->CheckCu(cu.cuMemcpyDtoDAsync(weights_.ptr() + matrixOffset_[id], src + PackedMatrixOffset(id) * elem_, MatrixElements(id) * elem_, stream_),
                   "cuMemcpyDtoDAsync(matrix)");
      rt_->CheckCu(cu.cuMemcpyDtoDAsync(weights_.ptr() + biasOffset_[id], src + PackedBiasOffset(id) * elem_, dims.units * elem_, stream_),
                   "cuMemcpyDtoDAsync(bias)");
    }
    rt_->CheckCu(cu.cuStreamSynchronize(stream_), "cuStreamSynchronize");
  } catch (...) {
    Drain();
    throw;
  }
}

std::unique_ptr<SavedCore> LayerCore::Forward(const ForwardArgs& a) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto& cu = rt_->cu;
  const auto& dnn = rt_->dnn;
  rt_->MakeCurrent();
  const size_t B = a.batch, T = a.timesteps, D = dims.inputDim, H = dims.units;
  const int mode = a.training ? CUDNN_FWD_MODE_TRAINING : CUDNN_FWD_MODE_INFERENCE;
  SetShapes(a.batch, a.timesteps, a.seqLengths.data());
  size_t workBytes = 0, reserveBytes = 0;
  rt_->CheckDnn(dnn.cudnnGetRNNTempSpaceSizes(handle_, rnn_, mode, xDesc_, &workBytes, &reserveBytes), "cudnnGetRNNTempSpaceSizes");
  const ForwardLayout L(B, T, D, H, elem_);

  unsigned char* in = stagingIn_.Reserve(L.inBytes);
  std::memcpy(in + L.lengths, a.seqLengths.data(), B * sizeof(int32_t));
  HostToDevice(dims.host, dims.device, a.x.data, B * T * D, in + L.x);
  if (a.hx.data) {
    HostToDevice(dims.host, dims.device, a.hx.data, B * H, in + L.hx);
  } else {
    std::memset(in + L.hx, 0, B * H * elem_);
  }

  std::unique_ptr<SavedCore> saved;
  DeviceBuffer* io = &io_;
  DeviceBuffer* reserve = &reserveCopy_;
  if (a.training) {
    saved.reset(new SavedCore(rt_, id, a.batch, a.timesteps, a.seqLengths, L));
    io = &saved->io;
    reserve = &saved->reserve;
    saved->reserveBytes = reserveBytes;
  }
  try {
    io->Reserve(L.total);
    if (reserveBytes) reserve->Reserve(reserveBytes);
    if (workBytes) work_.Reserve(workBytes);
    rt_->CheckCu(cu.cuMemcpyHtoDAsync(io->ptr(), in, L.inBytes, stream_), "cuMemcpyHtoDAsync(inputs)");
    rt_->CheckDnn(dnn.cudnnRNNForward(handle_, rnn_, mode, static_cast<const int32_t*>(io->at(L.lengths)), xDesc_, io->at(L.x), yDesc_, io->at(L.y), hDesc_,
                                      io->at(L.hx), io->at(L.hy), hDesc_, nullptr, nullptr, weightSpaceBytes_, weights_.at(0), workBytes,
                                      workBytes ? work_.at(0) : nullptr, reserveBytes, reserveBytes ? reserve->at(0) : nullptr),
                  "cudnnRNNForward");
    // Only the final state comes back when the caller does not want every step's output.
    const size_t from = a.y.data ? L.y : L.hy;
    unsigned char* out = stagingOut_.Reserve(L.total - L.y);
    rt_->CheckCu(cu.cuMemcpyDtoHAsync(out + (from - L.y), io->ptr() + from, L.total - from, stream_), "cuMemcpyDtoHAsync(outputs)");
    rt_->CheckCu(cu.cuStreamSynchronize(stream_), "cuStreamSynchronize");
    if (a.y.data) DeviceToHost(dims.device, dims.host, out, B * T * H, a.y.data);
    DeviceToHost(dims.device, dims.host, out + (L.hy - L.y), B * H, a.hy.data);
  } catch (...) {
    Drain();
    throw;
  }
  return saved;
}

void LayerCore::Backward(const SavedCore& sv, const BackwardArgs& a) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto& cu = rt_->cu;
  const auto& dnn = rt_->dnn;
  rt_->MakeCurrent();
  const size_t B = sv.batch, T = sv.timesteps, D = dims.inputDim, H = dims.units, P = dims.PackedCount();
  SetShapes(sv.batch, sv.timesteps, sv.seqLengths.data());
  size_t workBytes = 0, reserveBytes = 0;
  rt_->CheckDnn(dnn.cudnnGetRNNTempSpaceSizes(handle_, rnn_, CUDNN_FWD_MODE_TRAINING, xDesc_, &workBytes, &reserveBytes), "cudnnGetRNNTempSpaceSizes");
  if (reserveBytes != sv.reserveBytes) {
    throw GpuError("cuDNN's reserve space for this call is " + std::to_string(reserveBytes) + " bytes, but the forward pass kept " +
                   std::to_string(sv.reserveBytes));
  }
  const BackwardLayout L(B, T, D, H, P, elem_);
  const ForwardLayout& F = sv.layout;

  unsigned char* in = stagingIn_.Reserve(L.inBytes);
  HostToDevice(dims.host, dims.device, a.dy.data, B * T * H, in + L.dy);
  HostToDevice(dims.host, dims.device, a.dhy.data, B * H, in + L.dhy);
  try {
    const CUdeviceptr g = gradIo_.Reserve(L.total);
    const CUdeviceptr dw = dweights_.Reserve(weightSpaceBytes_);
    if (workBytes) work_.Reserve(workBytes);
    if (reserveBytes) reserveCopy_.Reserve(reserveBytes);
    rt_->CheckCu(cu.cuMemcpyHtoDAsync(g, in, L.inBytes, stream_), "cuMemcpyHtoDAsync(gradients)");
    // WGRAD_MODE_ADD accumulates, so the gradient space starts at zero.
    rt_->CheckCu(cu.cuMemsetD8Async(dw, 0, weightSpaceBytes_, stream_), "cuMemsetD8Async(dweights)");
    // Backward data writes into the reserve space: work on a copy so backward can run again on the same saved pass.
    if (reserveBytes) rt_->CheckCu(cu.cuMemcpyDtoDAsync(reserveCopy_.ptr(), sv.reserve.ptr(), reserveBytes, stream_), "cuMemcpyDtoDAsync(reserve)");
    void* reserve = reserveBytes ? reserveCopy_.at(0) : nullptr;
    void* work = workBytes ? work_.at(0) : nullptr;
    const auto* lengths = static_cast<const int32_t*>(sv.io.at(F.lengths));
    rt_->CheckDnn(dnn.cudnnRNNBackwardData_v8(handle_, rnn_, lengths, yDesc_, sv.io.at(F.y), gradIo_.at(L.dy), xDesc_, gradIo_.at(L.dx), hDesc_, sv.io.at(F.hx),
                                              gradIo_.at(L.dhy), gradIo_.at(L.dhx), hDesc_, nullptr, nullptr, nullptr, weightSpaceBytes_, weights_.at(0),
                                              workBytes, work, reserveBytes, reserve),
                  "cudnnRNNBackwardData_v8");
    rt_->CheckDnn(dnn.cudnnRNNBackwardWeights_v8(handle_, rnn_, CUDNN_WGRAD_MODE_ADD, lengths, xDesc_, sv.io.at(F.x), hDesc_, sv.io.at(F.hx), yDesc_,
                                                 sv.io.at(F.y), weightSpaceBytes_, dweights_.at(0), workBytes, work, reserveBytes, reserve),
                  "cudnnRNNBackwardWeights_v8");
    for (int id = 0; id < 6; id++) {
      rt_->CheckCu(cu.cuMemcpyDtoDAsync(g + L.dw + PackedMatrixOffset(id) * elem_, dw + matrixOffset_[id], MatrixElements(id) * elem_, stream_),
                   "cuMemcpyDtoDAsync(dmatrix)");
      rt_->CheckCu(cu.cuMemcpyDtoDAsync(g + L.dw + PackedBiasOffset(id) * elem_, dw + biasOffset_[id], H * elem_, stream_), "cuMemcpyDtoDAsync(dbias)");
    }
    unsigned char* out = stagingOut_.Reserve(L.total - L.dx);
    rt_->CheckCu(cu.cuMemcpyDtoHAsync(out, g + L.dx, L.total - L.dx, stream_), "cuMemcpyDtoHAsync(gradients)");
    rt_->CheckCu(cu.cuStreamSynchronize(stream_), "cuStreamSynchronize");
    DeviceToHost(dims.device, dims.host, out, B * T * D, a.dx.data);
    DeviceToHost(dims.device, dims.host, out + (L.dhx - L.dx), B * H, a.dhx.data);
    DeviceToHost(dims.device, dims.host, out + (L.dw - L.dx), P, a.dw.data);
  } catch (...) {
    Drain();
    throw;
  }
}

}  // namespace gru_cudnn
