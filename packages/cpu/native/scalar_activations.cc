#include "scalar_activations.h"

#include <cmath>

namespace gru {

namespace {

double sigmoidD(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double softplusD(double x) { return std::fmax(x, 0.0) + std::log1p(std::exp(-std::fabs(x))); }
double clip01(double x) { return x <= 0 ? 0 : x >= 1 ? 1 : x; }
// x - tanh(x) loses all its digits to cancellation for small x: there the odd series, whose next
// term is below 1e-13 relative.
double tanhShrinkD(double x) {
  if (std::fabs(x) >= 0.01) return x - std::tanh(x);
  const double s = x * x;
  return x * s * (1.0 / 3 + s * (-2.0 / 15 + s * (17.0 / 315)));
}

}  // namespace

double scalarActivation(int id, double x) {
  constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
  constexpr double kSeluScale = 1.0507009873554804934193349852946;
  switch (id) {
    case ACT_LINEAR:
      return x;
    case ACT_TANH:
      return std::tanh(x);
    case ACT_SIGMOID:
      return sigmoidD(x);
    case ACT_HARD_SIGMOID:
      return clip01(x / 6 + 0.5);
    case ACT_HARD_SIGMOID_K2:
      return clip01(0.2 * x + 0.5);
    case ACT_RELU:
      return (x > 0 || std::isnan(x)) ? x : 0;
    case ACT_RELU6:
      return std::fmin(std::fmax(x, 0.0), 6.0);
    case ACT_LEAKY_RELU:
      return std::fmax(x, 0.2 * x);
    case ACT_ELU:
      return x >= 0 ? x : std::expm1(x);
    case ACT_SELU:
      return kSeluScale * (x >= 0 ? x : kSeluAlpha * std::expm1(x));
    case ACT_CELU:
      return std::fmax(x, 0.0) + std::expm1(std::fmin(x, 0.0));
    case ACT_SOFTPLUS:
      return softplusD(x);
    case ACT_SOFTSIGN:
      return x / (1 + std::fabs(x));
    case ACT_SILU:
      return x * sigmoidD(x);
    case ACT_HARD_SILU:
      return x * clip01(x / 6 + 0.5);
    case ACT_GELU:
      // x Phi(x) with Phi = erfc(-x / sqrt 2) / 2: erf + 1 would cancel for negative x.
      return x * std::erfc(-x / std::sqrt(2.0)) / 2;
    case ACT_MISH:
      return x * std::tanh(softplusD(x));
    case ACT_EXPONENTIAL:
      return std::exp(x);
    case ACT_LOG_SIGMOID:
      return -softplusD(-x);
    case ACT_SPARSE_SIGMOID:
      return x <= -1 ? 0 : x >= 1 ? 1 : 0.5 * (x + 1);
    case ACT_HARD_TANH:
      return std::fmin(std::fmax(x, -1.0), 1.0);
    case ACT_TANH_SHRINK:
      return tanhShrinkD(x);
    case ACT_SOFT_SHRINK:
      return x > 0.5 ? x - 0.5 : x < -0.5 ? x + 0.5 : 0;
    case ACT_HARD_SHRINK:
      return std::fabs(x) > 0.5 ? x : 0;
    case ACT_SPARSE_PLUS:
      return x <= -1 ? 0 : x < 1 ? 0.25 * (x + 1) * (x + 1) : x;
    case ACT_SQUAREPLUS:
      // For x < 0 the sum cancels; 2 / (sqrt(x^2 + 4) - x) is the same value.
      return x < 0 ? 2 / (std::sqrt(x * x + 4) - x) : (x + std::sqrt(x * x + 4)) / 2;
    default:
      return std::nan("");
  }
}

double scalarActivationGrad(int id, double x, double y) {
  constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
  constexpr double kSeluScale = 1.0507009873554804934193349852946;
  constexpr double kPi = 3.14159265358979323846;
  switch (id) {
    case ACT_LINEAR:
      return 1;
    case ACT_TANH:
      return 1 - y * y;
    case ACT_SIGMOID:
      return y * (1 - y);
    case ACT_HARD_SIGMOID:
      return x > -3 && x < 3 ? 1.0 / 6 : 0;
    case ACT_HARD_SIGMOID_K2:
      return x >= -2.5 && x <= 2.5 ? 0.2 : 0;  // 0.2 at the corners, as TensorFlow (Keras 2)
    case ACT_RELU:
      return x > 0 ? 1 : 0;
    case ACT_RELU6:
      return x > 0 && x < 6 ? 1 : 0;
    case ACT_LEAKY_RELU:
      return x > 0 ? 1 : 0.2;
    case ACT_ELU:
      return x >= 0 ? 1 : y + 1;
    case ACT_SELU:
      return x >= 0 ? kSeluScale : kSeluScale * kSeluAlpha * std::exp(x);
    case ACT_CELU:
      return x > 0 ? 1 : std::exp(x);
    case ACT_SOFTPLUS:
      return sigmoidD(x);
    case ACT_SOFTSIGN:
      return 1 / ((1 + std::fabs(x)) * (1 + std::fabs(x)));
    case ACT_SILU: {
      const double s = sigmoidD(x);
      return s * (1 + x * (1 - s));
    }
    case ACT_HARD_SILU:
      return x <= -3 ? 0 : x >= 3 ? 1 : x / 3 + 0.5;
    case ACT_GELU: {
      const double cdf = std::erfc(-x / std::sqrt(2.0)) / 2;
      return cdf + x * std::exp(-(x * x) / 2) / std::sqrt(2 * kPi);
    }
    case ACT_MISH: {
      const double t = std::tanh(softplusD(x));
      return t + x * (1 - t * t) * sigmoidD(x);
    }
    case ACT_EXPONENTIAL:
      return y;
    case ACT_LOG_SIGMOID:
      return sigmoidD(-x);
    case ACT_SPARSE_SIGMOID:
      return x > -1 && x < 1 ? 0.5 : 0;
    case ACT_HARD_TANH:
      return x >= -1 && x <= 1 ? 1 : 0;  // 1 at the corners, as TensorFlow and JAX
    case ACT_TANH_SHRINK:
      return std::tanh(x) * std::tanh(x);
    case ACT_SOFT_SHRINK:
      return x > 0.5 || x < -0.5 ? 1 : 0;
    case ACT_HARD_SHRINK:
      return std::fabs(x) > 0.5 ? 1 : 0;
    case ACT_SPARSE_PLUS:
      return x <= -1 ? 0 : x < 1 ? 0.5 * (x + 1) : 1;
    case ACT_SQUAREPLUS:
      return (1 + x / std::sqrt(x * x + 4)) / 2;
    default:
      return std::nan("");
  }
}

void scalarActivationGradInPlace(int id, const float* x, const float* y, float* g, int n) {
  for (int i = 0; i < n; ++i) g[i] = static_cast<float>(scalarActivationGrad(id, x[i], y[i]));
}

void scalarActivationInPlace(int id, float* v, int n) {
  for (int i = 0; i < n; ++i) v[i] = static_cast<float>(scalarActivation(id, v[i]));
}

}  // namespace gru
