// Vector math on GCC/Clang vector extensions. Each ISA translation unit includes this with its own
// GRU_VW (floats per vector) and compiler flags, so the same source becomes AVX-512, AVX2+FMA,
// SSE2, NEON or plain scalar code. Only lane-wise operations are used, so results do not depend on
// where a value sits in a vector.
#pragma once

#include <cstdint>
#include <cstring>
#if defined(__AVX__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

#ifndef GRU_VW
#error "GRU_VW (floats per vector) must be defined by the including translation unit"
#endif

namespace GRU_ISA_NS {

constexpr int W = GRU_VW;
typedef float vf __attribute__((vector_size(W * 4)));
typedef int32_t vi __attribute__((vector_size(W * 4)));

// Scalar-vector arithmetic broadcasts the scalar (one vbroadcastss / dup); s - 0 keeps -0.0.
static inline vf splat(float s) { return s - vf{}; }
static inline vi splati(int32_t s) { return s + vi{}; }
static inline vf load(const float* p) {
  vf r;
  std::memcpy(&r, p, sizeof r);
  return r;
}
static inline void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }
// The first n lanes (n < W) of p; the rest are zero. Used only at the last unit block.
static inline vf loadPartial(const float* p, int n) {
  float tmp[W] = {};
  std::memcpy(tmp, p, sizeof(float) * n);
  return load(tmp);
}
static inline void storePartial(float* p, vf v, int n) {
  float tmp[W];
  store(tmp, v);
  std::memcpy(p, tmp, sizeof(float) * n);
}
static inline vf asFloat(vi v) {
  vf r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}
static inline vi asInt(vf v) {
  vi r;
  std::memcpy(&r, &v, sizeof r);
  return r;
}
// mask lanes are all-ones or all-zeros (what vector comparisons return).
static inline vf select(vi mask, vf a, vf b) { return asFloat((mask & asInt(a)) | (~mask & asInt(b))); }
static inline vf vmin(vf a, vf b) { return select(b < a, b, a); }
static inline vf vmax(vf a, vf b) { return select(b > a, b, a); }
static inline vf vabs(vf a) { return asFloat(asInt(a) & splati(0x7fffffff)); }

// 1/d for finite positive normal d: the hardware estimate refined by Newton steps where there is
// one (relative error about 1e-7, like a division), else a division.
__attribute__((always_inline)) static inline vf vrecipAccurate(vf d) {
#if GRU_VW == 16 && defined(__AVX512F__)
  vf r;
  const __m512 e = _mm512_maskz_rcp14_ps(0xFFFF, reinterpret_cast<const __m512&>(d));
  std::memcpy(&r, &e, sizeof r);
  return r * (splat(2.0f) - d * r);
#elif GRU_VW == 8 && defined(__AVX__)
  vf r;
  const __m256 e = _mm256_rcp_ps(reinterpret_cast<const __m256&>(d));
  std::memcpy(&r, &e, sizeof r);
  r = r * (splat(2.0f) - d * r);
  return r * (splat(2.0f) - d * r);
#else
  return splat(1.0f) / d;
#endif
}

// tanh as a rational function (odd degree-13 numerator, even degree-6 denominator; the minimax
// fit Eigen and XLA use): 3.3e-7 worst absolute error, about 15 multiply-adds and one
// reciprocal, against three times that for exp-based forms. Exact for |x| < 4e-4 (returns x).
__attribute__((always_inline)) static inline vf vtanh(vf x) {
  const vf lim = splat(7.90531110763549805f);
  const vf xc = vmin(vmax(x, -lim), lim);
  const vf x2 = xc * xc;
  vf p = splat(-2.76076847742355e-16f);
  p = p * x2 + splat(2.00018790482477e-13f);
  p = p * x2 + splat(-8.60467152213735e-11f);
  p = p * x2 + splat(5.12229709037114e-08f);
  p = p * x2 + splat(1.48572235717979e-05f);
  p = p * x2 + splat(6.37261928875436e-04f);
  p = p * x2 + splat(4.89352455891786e-03f);
  p = p * xc;
  vf q = splat(1.19825839466702e-06f);
  q = q * x2 + splat(1.18534705686654e-04f);
  q = q * x2 + splat(2.26843463243900e-03f);
  q = q * x2 + splat(4.89352518554385e-03f);
  const vf t = p * vrecipAccurate(q);
  // NaN stays NaN (the clamp would turn it into a number).
  return select(vabs(x) < splat(0.0004f), x, select(x == x, t, x));
}

// sigmoid(x) = (1 + tanh(x / 2)) / 2: 1.7e-7 worst absolute error.
__attribute__((always_inline)) static inline vf vsigmoid(vf x) { return splat(0.5f) + splat(0.5f) * vtanh(splat(0.5f) * x); }

}  // namespace GRU_ISA_NS
