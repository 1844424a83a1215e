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

__attribute__((always_inline)) static inline vf vfloor(vf x) {
  vi t = __builtin_convertvector(x, vi);
  vf f = __builtin_convertvector(t, vf);
  return select(f > x, f - splat(1.0f), f);
}

// exp(x) to about 1 ulp (Cephes expf): x = n ln2 + r, exp(r) by a degree-6 polynomial, times 2^n.
// Gives subnormals down to -103.97 and +inf above 88.72, like expf.
__attribute__((always_inline)) static inline vf vexp(vf x) {
  const vf hi = splat(88.7228391f);
  vi over = x > hi;
  x = vmin(vmax(x, splat(-103.972084f)), hi);
  vf n = vfloor(x * splat(1.44269504088896341f) + splat(0.5f));
  x = x - n * splat(0.693359375f);
  x = x - n * splat(-2.12194440e-4f);
  vf z = x * x;
  vf y = splat(1.9875691500E-4f);
  y = y * x + splat(1.3981999507E-3f);
  y = y * x + splat(8.3334519073E-3f);
  y = y * x + splat(4.1665795894E-2f);
  y = y * x + splat(1.6666665459E-1f);
  y = y * x + splat(5.0000001201E-1f);
  y = y * z + x + splat(1.0f);
  // 2^n applied in two halves so that n = 128 and n < -126 stay representable.
  vi e = __builtin_convertvector(n, vi);
  vi e1 = e >> 1;
  vf s1 = asFloat((e1 + splati(127)) << 23);
  vf s2 = asFloat((e - e1 + splati(127)) << 23);
  y = y * s1 * s2;
  return select(over, splat(__builtin_inff()), y);
}

// 1/d for d >= 1 (all callers): the hardware estimate plus one Newton step where there is one
// (relative error about 1e-7, like a division), else a division.
__attribute__((always_inline)) static inline vf vrecip(vf d) {
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

__attribute__((always_inline)) static inline vf vsigmoid(vf x) {
  // 1 / (1 + e^-x); e^-x overflows to +inf for x < -88.7, and 1/inf is 0 either way.
  const vf d = splat(1.0f) + vexp(-x);
  return select(d == splat(__builtin_inff()), splat(0.0f), vrecip(d));
}

// tanh to about 2 ulp: an odd polynomial below |x| = 0.625 (Cephes tanhf), else 1 - 2/(e^{2|x|}+1).
__attribute__((always_inline)) static inline vf vtanh(vf x) {
  vf ax = vabs(x);
  vf z = x * x;
  vf p = splat(-5.70498872745E-3f);
  p = p * z + splat(2.06390887954E-2f);
  p = p * z + splat(-5.37397155531E-2f);
  p = p * z + splat(1.33314422036E-1f);
  p = p * z + splat(-3.33332819422E-1f);
  vf small = p * z * x + x;
  const vf d = vexp(ax + ax) + splat(1.0f);
  vf big = splat(1.0f) - splat(2.0f) * select(d == splat(__builtin_inff()), splat(0.0f), vrecip(d));
  big = asFloat(asInt(big) | (asInt(x) & splati(int32_t(0x80000000u))));
  return select(ax < splat(0.625f), small, big);
}

}  // namespace GRU_ISA_NS
