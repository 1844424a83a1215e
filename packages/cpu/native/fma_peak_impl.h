// The machine's multiply-add rate for one vector width (included by each ISA translation unit):
// kFmaChains independent vector chains, enough to keep two FMA pipes of 4-cycle latency busy (8
// would do; 12 also covers 5-cycle and three-pipe cores). Register-only: no load or store in the
// loop, so this is the arithmetic ceiling the GEMMs are measured against.
#pragma once

#include <cstdint>

#include "vec.h"

namespace GRU_ISA_NS {

constexpr int kFmaChains = 12;

// Runs `iterations` rounds of kFmaChains vector multiply-adds (2 * W FLOPs each) and returns a
// value that depends on all of them, so none is optimised away.
static float fmaChains(int64_t iterations) {
  vf acc[kFmaChains];
#pragma GCC unroll 12
  for (int c = 0; c < kFmaChains; ++c) acc[c] = splat(0.001f * static_cast<float>(c + 1));
  const vf m = splat(0.999999f), a = splat(1e-7f);
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 12
    for (int c = 0; c < kFmaChains; ++c) acc[c] = acc[c] * m + a;
  }
  vf s = acc[0];
  for (int c = 1; c < kFmaChains; ++c) s += acc[c];
  float lanes[W];
  store(lanes, s);
  float sum = 0.0f;
  for (int l = 0; l < W; ++l) sum += lanes[l];
  return sum;
}

}  // namespace GRU_ISA_NS
