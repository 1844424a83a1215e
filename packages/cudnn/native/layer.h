// One prepared GRU layer on the GPU: its own stream and cuDNN handle, the RNN descriptor, the
// weight space filled once from the packed weights, and grow-only workspace and staging
// buffers. Calls are serialized by `mu` (a layer's buffers are reused across calls).
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <vector>

#include "args.h"
#include "buffers.h"
#include "runtime.h"

namespace gru_cudnn {

/**
 * Byte offsets of one call's device buffer. Inputs first, so one host-to-device copy moves them
 * all, then outputs, so one device-to-host copy brings them back: [lengths | x | hx] [y | hy].
 */
struct ForwardLayout {
  size_t lengths = 0, x = 0, hx = 0, inBytes = 0, y = 0, hy = 0, total = 0;
  ForwardLayout(size_t B, size_t T, size_t D, size_t H, size_t elem);
};

/** What a training forward pass leaves for backward: its inputs, outputs and cuDNN's reserve space. */
struct SavedCore {
  SavedCore(std::shared_ptr<Runtime> rt, uint64_t owner, int batch, int timesteps, std::vector<int32_t> lengths, ForwardLayout layout)
      : owner(owner), batch(batch), timesteps(timesteps), seqLengths(std::move(lengths)), layout(layout), io(rt), reserve(rt) {}
  /** The id of the layer that ran the forward pass (backward must run on the same one). */
  const uint64_t owner;
  const int batch, timesteps;
  const std::vector<int32_t> seqLengths;
  const ForwardLayout layout;
  DeviceBuffer io;
  DeviceBuffer reserve;
  size_t reserveBytes = 0;
  size_t Bytes() const { return io.size() + reserve.size(); }
};

class LayerCore {
 public:
  LayerCore(std::shared_ptr<Runtime> rt, const LayerDims& dims);
  ~LayerCore();
  LayerCore(const LayerCore&) = delete;
  LayerCore& operator=(const LayerCore&) = delete;

  /** Packed weights (host elements, see LayerDims::PackedCount) into cuDNN's weight space. */
  void SetWeights(const void* packed);
  /** Runs the whole sequence; returns what backward needs when `training`, else nullptr. */
  std::unique_ptr<SavedCore> Forward(const ForwardArgs& args);
  void Backward(const SavedCore& saved, const BackwardArgs& args);
  size_t Bytes() const;

  const LayerDims dims;
  const uint64_t id;

 private:
  void Cleanup() noexcept;
  void SetShapes(int batch, int timesteps, const int32_t* lengths);
  /** Waits for the stream after a failed call, so nothing in flight outlives the buffers it uses. */
  void Drain() noexcept;
  size_t PackedMatrixOffset(int id) const;
  size_t PackedBiasOffset(int id) const;
  size_t MatrixElements(int id) const;

  std::shared_ptr<Runtime> rt_;
  std::mutex mu_;
  int dataType_ = 0;
  size_t elem_ = 0;
  CUstream stream_ = nullptr;
  cudnnHandle_t handle_ = nullptr;
  cudnnDropoutDescriptor_t dropout_ = nullptr;
  cudnnRNNDescriptor_t rnn_ = nullptr;
  cudnnRNNDataDescriptor_t xDesc_ = nullptr, yDesc_ = nullptr;
  cudnnTensorDescriptor_t hDesc_ = nullptr;
  /** Bytes into the weight space of each linLayerID's matrix and bias (0..2 input W r,z,n; 3..5 recurrent R r,z,n). */
  std::array<size_t, 6> matrixOffset_{}, biasOffset_{};
  size_t weightSpaceBytes_ = 0;
  double paddingFill_ = 0;  // zero bits: 0 in half, float and double alike
  DeviceBuffer weights_, io_, work_, gradIo_, dweights_, reserveCopy_;
  PinnedBuffer stagingIn_, stagingOut_;
};

}  // namespace gru_cudnn
