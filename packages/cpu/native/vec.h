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
static inline vf select(vi mask, vf a, vf b) { return mask ? a : b; }
static inline vf vmin(vf a, vf b) { return select(b < a, b, a); }
static inline vf vmax(vf a, vf b) { return select(b > a, b, a); }
static inline vf vabs(vf a) { return asFloat(asInt(a) & splati(0x7fffffff)); }

// e^x within about 1 ulp, subnormal results included (what float32 math gives). Cody-Waite
// reduction x = n ln2 + r and the cephes expf polynomial for e^r. With SPLIT, 2^n is applied in two
// halves so that results below FLT_MIN round once, as subnormals, instead of flushing to zero: x
// may then go down to -104 (where e^x rounds to 0); without, it must stay above -87.3. The caller
// bounds x (n + 127 must stay an exponent), which keeps that clamp out of the callers that need none.
template <bool SPLIT>
__attribute__((always_inline)) static inline vf vexpReduced(vf x) {
  const vf magic = splat(12582912.0f);  // 1.5 * 2^23: adding it rounds to an integer
  const vf t = x * splat(1.44269504088896341f) + magic;
  const vf n = t - magic;
  vf r = x - n * splat(0.693359375f);
  r = r - n * splat(-2.12194440e-4f);
  vf p = splat(1.9875691500e-4f);
  p = p * r + splat(1.3981999507e-3f);
  p = p * r + splat(8.3334519073e-3f);
  p = p * r + splat(4.1665795894e-2f);
  p = p * r + splat(1.6666665459e-1f);
  p = p * r + splat(5.0000001201e-1f);
  p = p * (r * r) + r + splat(1.0f);
  const vi ni = asInt(t) - asInt(magic);
  if constexpr (!SPLIT) return p * asFloat((ni + splati(127)) << 23);
  const vi n1 = ni >> 1, n2 = ni - n1;  // n >= -150: each half is a normal power of two
  return p * asFloat((n1 + splati(127)) << 23) * asFloat((n2 + splati(127)) << 23);
}

// tanh within 2 ulp of the correctly rounded float for every float, exactly +-1 where that is.
// |x| < 0.5625: x + x^3 P(x^2) (P a degree-4 minimax fit, 0.08 ulp); beyond: 1 - 2 / (e^2|x| + 1),
// whose small term is accurate relative to itself, so 1 - it rounds to 1 exactly where tanh does.
__attribute__((always_inline)) static inline vf vtanh(vf x) {
  const vf a = vabs(x);
  const vf s = x * x;
  vf p = splat(-0.006188629195094109f);
  p = p * s + splat(0.021014269441366196f);
  p = p * s + splat(-0.053839243948459625f);
  p = p * s + splat(0.13332471251487732f);
  p = p * s + splat(-0.3333331346511841f);
  const vf small = (x * s) * p + x;
  // tanh rounds to 1 from 9.01 on; bounding a there keeps e^2a far from overflow.
  const vf a9 = vmin(a, splat(9.5f));
  const vf big = splat(1.0f) - splat(2.0f) / (vexpReduced<false>(a9 + a9) + splat(1.0f));
  // The sign bit set on both keeps tanh(-0) = -0; NaN: a < 0.5625 is false, and big is NaN.
  const vi sign = asInt(x) & splati(static_cast<int32_t>(0x80000000u));
  return asFloat(asInt(select(a < splat(0.5625f), small, big)) | sign);
}

// sigmoid within 2 ulp of the correctly rounded float for every float: q = sigmoid(-|x|) =
// e / (1 + e) with e = e^-|x| (accurate relative to itself, down to subnormals), then q or 1 - q,
// which is exactly 1 where sigmoid rounds to 1 and exactly 0 below -103.97.
__attribute__((always_inline)) static inline vf vsigmoid(vf x) {
  const vf e = vexpReduced<true>(vmax(-vabs(x), splat(-104.0f)));  // NaN passes vmax
  const vf q = e / (splat(1.0f) + e);
  return select(x < splat(0.0f), q, splat(1.0f) - q);
}

// Keras 3's hard_sigmoid, relu6(x + 3) / 6: x + 3 first, so results near x = -3 keep their
// relative accuracy (x / 6 + 0.5 cancels there). NaN stays NaN.
__attribute__((always_inline)) static inline vf vhardSigmoid(vf x) { return vmin(vmax((x + splat(3.0f)) / splat(6.0f), splat(0.0f)), splat(1.0f)); }

// Keras 2's hard_sigmoid, clip(0.2 x + 0.5, 0, 1), as (x + 2.5) / 5 for the same reason.
__attribute__((always_inline)) static inline vf vhardSigmoidK2(vf x) { return vmin(vmax((x + splat(2.5f)) / splat(5.0f), splat(0.0f)), splat(1.0f)); }

}  // namespace GRU_ISA_NS
