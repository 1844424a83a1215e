// Argument checking for every entry point that touches memory: each length, type and range is
// checked here, before any copy. The same functions back the exported validate* functions, so
// tests without a GPU exercise exactly the checks the GPU path runs.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "elements.h"

namespace gru_cudnn {

struct LayerDims {
  int inputDim = 0;
  int units = 0;
  HostType host = HostType::F32;
  DeviceType device = DeviceType::F32;
  /** cuDNN's mathPrec and mathType for this precision. */
  int mathPrec = 0;
  int mathType = 0;
  /** Elements of the packed weights: 3 input matrices [H, D], 3 recurrent [H, H], 6 biases [H]. */
  size_t PackedCount() const;
};

/** A typed array's memory as seen from C++ (the caller keeps a reference to the array). */
struct HostView {
  void* data = nullptr;
  size_t length = 0;
  Napi::Object array;  // empty when the argument was null
  bool present() const { return data != nullptr || length != 0 || !array.IsEmpty(); }
};

struct ForwardArgs {
  int batch = 0;
  int timesteps = 0;
  std::vector<int32_t> seqLengths;
  HostView x, hx, y, hy;
  bool training = false;
};

struct BackwardArgs {
  HostView dy, dhy, dx, dhx, dw;
};

/** `o[key]` as an integer from 1 to 2^31-1; TypeError/RangeError naming `where` and `key` otherwise. */
int ParsePositiveInt(const Napi::Object& o, const char* key, const std::string& where);
/** `{inputDim, units, dtype: 'float32' | 'float64', precision: 'fp32' | 'tf32' | 'fp16'}`. */
LayerDims ParseLayerDims(const Napi::Value& value);
/** `{batch, timesteps, seqLengths, x, hx, y, hy, training}` (hx and y may be null). */
ForwardArgs ParseForwardArgs(const Napi::Env& env, const LayerDims& dims, const Napi::Value& value);
/** `{dy, dhy, dx, dhx, dw}` for a saved forward pass of `batch` x `timesteps`. */
BackwardArgs ParseBackwardArgs(const Napi::Env& env, const LayerDims& dims, int batch, int timesteps, const Napi::Value& value);
/** The packed weights (see LayerDims::PackedCount). */
HostView ParseWeights(const Napi::Env& env, const LayerDims& dims, const Napi::Value& value);

}  // namespace gru_cudnn
