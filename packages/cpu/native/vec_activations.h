// Activations in vector code for the GEMM epilogues (one vector width per ISA translation unit);
// those without vector code run element by element (scalar_activations.h).
#pragma once

#include "gru_types.h"
#include "scalar_activations.h"
#include "vec.h"

namespace GRU_ISA_NS {

// The activations without vector code, out of line (rare, and heavy).
__attribute__((noinline)) static vf activateScalar(int id, vf x) {
  float tmp[W];
  store(tmp, x);
  gru::scalarActivationInPlace(id, tmp, W);
  return load(tmp);
}

// Inlined into every epilogue: a call there would spill the accumulator tile.
__attribute__((always_inline)) static inline vf activate(int id, vf x) {
  switch (id) {
    case gru::ACT_LINEAR:
      return x;
    case gru::ACT_TANH:
      return vtanh(x);
    case gru::ACT_SIGMOID:
      return vsigmoid(x);
    case gru::ACT_HARD_SIGMOID:
      return vhardSigmoid(x);  // x / 6 + 0.5 would cancel near x = -3 (up to ~1e6 ulp off)
    case gru::ACT_HARD_SIGMOID_K2:
      return vhardSigmoidK2(x);
    case gru::ACT_RELU:
      return select(x < splat(0.0f), splat(0.0f), x);  // NaN stays NaN, as in Keras
    default:
      return activateScalar(id, x);
  }
}

}  // namespace GRU_ISA_NS
