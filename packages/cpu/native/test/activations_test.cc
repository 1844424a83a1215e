// Accuracy of the native activations against the correctly rounded float32 result (compiled and
// run by test/activations-accuracy.test.ts, once per instruction set, with GRU_ISA_NS and GRU_VW
// defined on the command line and the ISA's -m flags).
//
//   activations_test vector [stride]   every finite float (stride 1) through the vector code the
//                                      kernels run: tanh, sigmoid (and linear, relu) through
//                                      activate(), both hard_sigmoids through vec.h
//   activations_test scalar [per-exp]  every activation's double-precision path, per-exp inputs
//                                      from each exponent of each sign plus every breakpoint's
//                                      neighbours, against long double oracles
//
// Errors are counted in ulps on the ordered float line (+0 and -0 are the same point). Each
// function must stay within 2 ulp everywhere, never give a NaN for a number, and reach its
// saturation values (0, +-1) at the same input as the correctly rounded function, give or take
// 0.1%. Prints one line per function and "ok" or "FAIL"; exits 1 on failure.
#include <atomic>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../kernels_impl.h"

namespace {

using namespace GRU_ISA_NS;

float fromBits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
uint32_t toBits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}
// Position on the ordered float line: -0 and +0 are both 0, neighbours differ by 1.
int64_t ordered(float f) {
  const uint32_t b = toBits(f);
  return (b & 0x80000000u) ? -static_cast<int64_t>(b & 0x7fffffffu) : static_cast<int64_t>(b);
}
int64_t ulpDistance(float a, float b) {
  const int64_t d = ordered(a) - ordered(b);
  return d < 0 ? -d : d;
}

// What one function did over its inputs.
struct Tally {
  int64_t maxUlp = 0;
  float worstX = 0, worstGot = 0, worstWant = 0;
  uint64_t n = 0, nanForNumber = 0;
  // Saturation: the smallest |x| (per side) where the correctly rounded value is the saturation
  // value, and the largest |x| where ours is not, over the inputs that should saturate.
  float satWantFrom[2] = {INFINITY, INFINITY};
  float satMissUpTo[2] = {0, 0};

  void add(float x, float got, float want, const float* sat) {
    ++n;
    if (std::isnan(got) != std::isnan(want)) {
      ++nanForNumber;
      return;
    }
    if (std::isnan(want)) return;
    const int64_t d = ulpDistance(got, want);
    if (d > maxUlp) {
      maxUlp = d;
      worstX = x;
      worstGot = got;
      worstWant = want;
    }
    if (sat) {
      const int side = x < 0 ? 0 : 1;
      const float ax = std::fabs(x);
      if (want == sat[side] && ax < satWantFrom[side]) satWantFrom[side] = ax;
      if (got != sat[side] && want == sat[side] && ax > satMissUpTo[side]) satMissUpTo[side] = ax;
    }
  }
  void merge(const Tally& o) {
    if (o.maxUlp > maxUlp) {
      maxUlp = o.maxUlp;
      worstX = o.worstX;
      worstGot = o.worstGot;
      worstWant = o.worstWant;
    }
    n += o.n;
    nanForNumber += o.nanForNumber;
    for (int s = 0; s < 2; ++s) {
      if (o.satWantFrom[s] < satWantFrom[s]) satWantFrom[s] = o.satWantFrom[s];
      if (o.satMissUpTo[s] > satMissUpTo[s]) satMissUpTo[s] = o.satMissUpTo[s];
    }
  }
  // Saturation is exact when every input that should saturate does, except within 0.1% of the
  // threshold (where a result 1 ulp from the saturation value is within the ulp bound anyway).
  bool satOk(int side) const { return satMissUpTo[side] == 0 || satMissUpTo[side] <= satWantFrom[side] * 1.001f; }
  bool ok(bool checkSat) const { return maxUlp <= 2 && nanForNumber == 0 && (!checkSat || (satOk(0) && satOk(1))); }
};

bool report(const char* name, const Tally& t, bool checkSat) {
  const bool good = t.ok(checkSat);
  std::printf("%s %-22s inputs %" PRIu64 " max %" PRId64 " ulp (x %.9g: got %.9g, want %.9g) nan %" PRIu64, good ? "ok  " : "FAIL", name, t.n, t.maxUlp,
              t.worstX, t.worstGot, t.worstWant, t.nanForNumber);
  if (checkSat) {
    for (int s = 0; s < 2; ++s) {
      if (t.satWantFrom[s] != INFINITY) std::printf(" | %s saturates from %.9g, ours misses up to %.9g", s ? "x>0" : "x<0", t.satWantFrom[s], t.satMissUpTo[s]);
    }
  }
  std::printf("\n");
  return good;
}

// ---- correctly rounded references for the vector code (double is 29 bits beyond float) ----

float refTanh(float x) { return static_cast<float>(std::tanh(static_cast<double>(x))); }
float refSigmoid(float x) {
  const double d = x;
  if (std::fabs(d) < 0x1p-20) return static_cast<float>(0.5 + d / 4);  // the next term is d^3 / 48
  return static_cast<float>(1.0 / (1.0 + std::exp(-d)));
}
float refHardSigmoid(float x) { return static_cast<float>(std::fmin(std::fmax((static_cast<double>(x) + 3) / 6, 0.0), 1.0)); }
float refHardSigmoidK2(float x) { return static_cast<float>(std::fmin(std::fmax(0.2 * static_cast<double>(x) + 0.5, 0.0), 1.0)); }

struct VectorFn {
  const char* name;
  vf (*fn)(vf);
  float (*ref)(float);
  float sat[2];  // saturation values for x < 0 and x > 0; NaN: none
};

vf actTanh(vf x) { return activate(gru::ACT_TANH, x); }
vf actSigmoid(vf x) { return activate(gru::ACT_SIGMOID, x); }
vf actLinear(vf x) { return activate(gru::ACT_LINEAR, x); }
vf actRelu(vf x) { return activate(gru::ACT_RELU, x); }
float refLinear(float x) { return x; }
float refRelu(float x) { return x > 0 || std::isnan(x) ? x : 0; }

const VectorFn kVector[] = {
    {"tanh", actTanh, refTanh, {-1.0f, 1.0f}},
    {"sigmoid", actSigmoid, refSigmoid, {0.0f, 1.0f}},
    {"linear", actLinear, refLinear, {NAN, NAN}},
    {"relu", actRelu, refRelu, {NAN, NAN}},
    // activate() in kernels_impl.h still inlines x / 6 + 0.5 for these two (see the report).
    {"vhardSigmoid", vhardSigmoid, refHardSigmoid, {0.0f, 1.0f}},
    {"vhardSigmoidK2", vhardSigmoidK2, refHardSigmoidK2, {0.0f, 1.0f}},
};
constexpr int kNumVector = sizeof kVector / sizeof kVector[0];

bool runVector(uint64_t stride) {
  const unsigned nth = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::vector<Tally>> tallies(nth, std::vector<Tally>(kNumVector));
  // Work in slices of 2^20 bit patterns, handed out to whichever thread is free.
  constexpr uint64_t kSlice = 1u << 20;
  std::atomic<uint64_t> next{0};
  auto work = [&](unsigned tid) {
    std::vector<Tally>& tl = tallies[tid];
    float xs[W], ys[W];
    for (;;) {
      const uint64_t s0 = next.fetch_add(kSlice);
      if (s0 >= (1ull << 32)) return;
      for (int f = 0; f < kNumVector; ++f) {
        const VectorFn& fn = kVector[f];
        const float* sat = std::isnan(fn.sat[0]) ? nullptr : fn.sat;
        int k = 0;
        auto flush = [&] {
          store(ys, fn.fn(load(xs)));
          for (int i = 0; i < k; ++i) tl[f].add(xs[i], ys[i], fn.ref(xs[i]), sat);
          k = 0;
        };
        for (uint64_t b = s0; b < s0 + kSlice; b += stride) {
          const float x = fromBits(static_cast<uint32_t>(b));
          if (!std::isfinite(x)) continue;
          xs[k++] = x;
          if (k == W) flush();
        }
        if (k) {
          for (int i = k; i < W; ++i) xs[i] = 0;
          store(ys, fn.fn(load(xs)));
          for (int i = 0; i < k; ++i) tl[f].add(xs[i], ys[i], fn.ref(xs[i]), sat);
        }
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < nth; ++t) threads.emplace_back(work, t);
  for (auto& t : threads) t.join();
  bool good = true;
  for (int f = 0; f < kNumVector; ++f) {
    Tally all;
    for (unsigned t = 0; t < nth; ++t) all.merge(tallies[t][f]);
    good &= report(kVector[f].name, all, !std::isnan(kVector[f].sat[0]));
  }
  // A NaN input stays NaN.
  for (int f = 0; f < kNumVector; ++f) {
    float out[W];
    store(out, kVector[f].fn(splat(NAN)));
    if (!std::isnan(out[0])) {
      std::printf("FAIL %s(NaN) = %g\n", kVector[f].name, out[0]);
      good = false;
    }
  }
  return good;
}

// ---- the double-precision path, against long double oracles written independently ----

using LD = long double;

LD phiL(LD x) { return std::erfc(-x / std::sqrt(2.0L)) / 2; }
LD sigmoidL(LD x) { return 1 / (1 + std::exp(-x)); }
LD softplusL(LD x) { return std::fmax(x, 0.0L) + std::log1p(std::exp(-std::fabs(x))); }

LD oracle(int id, LD x) {
  const LD alpha = 1.6732632423543772848170429916717L, scale = 1.0507009873554804934193349852946L;
  switch (id) {
    case gru::ACT_LINEAR:
      return x;
    case gru::ACT_TANH:
      return std::tanh(x);
    case gru::ACT_SIGMOID:
      return sigmoidL(x);
    case gru::ACT_HARD_SIGMOID:
      return std::fmin(std::fmax((x + 3) / 6, 0.0L), 1.0L);
    case gru::ACT_HARD_SIGMOID_K2:
      return std::fmin(std::fmax((x + 2.5L) / 5, 0.0L), 1.0L);
    case gru::ACT_RELU:
      return x > 0 ? x : 0;
    case gru::ACT_RELU6:
      return std::fmin(std::fmax(x, 0.0L), 6.0L);
    case gru::ACT_LEAKY_RELU:
      return x > 0 ? x : x / 5;
    case gru::ACT_ELU:
      return x >= 0 ? x : std::expm1(x);
    case gru::ACT_SELU:
      return x >= 0 ? scale * x : scale * alpha * std::expm1(x);
    case gru::ACT_CELU:
      return x >= 0 ? x : std::expm1(x);
    case gru::ACT_SOFTPLUS:
      return softplusL(x);
    case gru::ACT_SOFTSIGN:
      return x / (1 + std::fabs(x));
    case gru::ACT_SILU:
      return x * sigmoidL(x);
    case gru::ACT_HARD_SILU:
      return x * std::fmin(std::fmax((x + 3) / 6, 0.0L), 1.0L);
    case gru::ACT_GELU:
      return x * phiL(x);
    case gru::ACT_MISH:
      return x * std::tanh(softplusL(x));
    case gru::ACT_EXPONENTIAL:
      return std::exp(x);
    case gru::ACT_LOG_SIGMOID:
      return -softplusL(-x);
    case gru::ACT_SPARSE_SIGMOID:
      return std::fmin(std::fmax((x + 1) / 2, 0.0L), 1.0L);
    case gru::ACT_HARD_TANH:
      return std::fmin(std::fmax(x, -1.0L), 1.0L);
    case gru::ACT_TANH_SHRINK: {
      if (std::fabs(x) >= 0.001L) return x - std::tanh(x);
      const LD s = x * x;  // odd series, next term 62 x^9 / 2835
      return x * s * (1.0L / 3 + s * (-2.0L / 15 + s * (17.0L / 315)));
    }
    case gru::ACT_SOFT_SHRINK:
      return x > 0.5L ? x - 0.5L : x < -0.5L ? x + 0.5L : 0;
    case gru::ACT_HARD_SHRINK:
      return std::fabs(x) > 0.5L ? x : 0;
    case gru::ACT_SPARSE_PLUS:
      return x <= -1 ? 0 : x < 1 ? (x + 1) * (x + 1) / 4 : x;
    case gru::ACT_SQUAREPLUS: {
      const LD s = std::sqrt(x * x + 4);
      return x < 0 ? 2 / (s - x) : (x + s) / 2;
    }
    default:
      return NAN;
  }
}

const char* const kNames[gru::ACT_COUNT] = {
    "linear",    "tanh",        "sigmoid",     "hard_sigmoid", "keras2_hard_sigmoid", "relu",      "relu6", "leaky_relu",  "elu",         "selu",
    "celu",      "softplus",    "softsign",    "silu",         "hard_silu",           "gelu",      "mish",  "exponential", "log_sigmoid", "sparse_sigmoid",
    "hard_tanh", "tanh_shrink", "soft_shrink", "hard_shrink",  "sparse_plus",         "squareplus"};

bool runScalar(uint32_t perExponent) {
  std::vector<float> xs;
  for (uint32_t sign = 0; sign < 2; ++sign) {
    for (uint32_t e = 0; e < 255; ++e) {
      for (uint32_t k = 0; k < perExponent; ++k) {
        // Evenly spread mantissas, jittered so low bits vary too; and both ends of the binade.
        const uint32_t m = static_cast<uint32_t>((static_cast<uint64_t>(k) << 23) / perExponent) ^ ((k * 2654435761u) & 0x3ffu);
        xs.push_back(fromBits(sign << 31 | e << 23 | (m & 0x7fffffu)));
      }
      xs.push_back(fromBits(sign << 31 | e << 23));
      xs.push_back(fromBits(sign << 31 | e << 23 | 0x7fffffu));
    }
  }
  // Every breakpoint and saturation point, with 64 neighbours on each side.
  const float points[] = {0, 0.5f, 1, 2.5f, 3, 6, 7.90531111f, 9.01f, 15.9f, 16.64f, 17.33f, 88.72f, 103.97f, 0.01f, 0.001f, 0.0004f, 0.5625f};
  for (float p : points) {
    for (float s : {p, -p}) {
      float v = s;
      for (int i = 0; i < 64; ++i) v = std::nextafter(v, -INFINITY), xs.push_back(v);
      v = s;
      for (int i = 0; i < 64; ++i) v = std::nextafter(v, INFINITY), xs.push_back(v);
    }
  }
  bool good = true;
  for (int id = 0; id < gru::ACT_COUNT; ++id) {
    Tally t;
    for (float x : xs) {
      float got = x;
      gru::scalarActivationInPlace(id, &got, 1);
      t.add(x, got, static_cast<float>(oracle(id, x)), nullptr);
    }
    good &= report(kNames[id], t, false);
  }
  return good;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  bool good;
  if (mode == "vector") {
    const uint64_t stride = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
    std::printf("vector code, %d floats per vector, every %" PRIu64 " bit pattern\n", W, stride);
    good = runVector(stride < 1 ? 1 : stride);
  } else if (mode == "scalar") {
    const uint32_t per = argc > 2 ? static_cast<uint32_t>(std::strtoul(argv[2], nullptr, 10)) : 4096;
    std::printf("double-precision path, %u inputs per exponent and sign\n", per);
    good = runScalar(per < 1 ? 1 : per);
  } else {
    std::fprintf(stderr, "usage: activations_test vector [stride] | scalar [per-exponent]\n");
    return 2;
  }
  std::printf(good ? "ok\n" : "FAIL\n");
  return good ? 0 : 1;
}
