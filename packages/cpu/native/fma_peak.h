// The machine's measured multiply-add rate: the arithmetic ceiling GEMM rates are compared with.
#pragma once

#include <cstdint>

#include "gru_types.h"

namespace gru {

// Runs at least `flops` floating-point operations as independent vector FMA chains of `kernels`'
// width, split evenly over `threads` threads of the pool (the caller's included), and returns the
// FLOPs done (rounded up to whole loop rounds).
double runFmaChains(const IsaKernels& kernels, double flops, int threads);

}  // namespace gru
