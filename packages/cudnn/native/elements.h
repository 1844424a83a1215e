// Element types on each side of a copy: JavaScript hands Float32Array or Float64Array; cuDNN
// computes on float, double, or (opt-in fp16 mode) IEEE half, converted here on the host with
// round-to-nearest-even so the staging copy stays one contiguous transfer.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

namespace gru_cudnn {

enum class HostType { F32, F64 };
enum class DeviceType { F16, F32, F64 };

inline size_t HostSize(HostType t) { return t == HostType::F64 ? 8 : 4; }
inline size_t DeviceSize(DeviceType t) { return t == DeviceType::F64 ? 8 : t == DeviceType::F32 ? 4 : 2; }

inline uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return static_cast<uint16_t>(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u | ((abs >> 13) & 0x3ffu) : 0u));
  // 65520 and above round to infinity (65504 is the largest half).
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);
  if (abs < 0x38800000u) {
    // Below 2^-14 the result is subnormal: its units are 2^-24, and scaling by 2^24 is exact,
    // so the default rounding mode (nearest even) rounds exactly once.
    float a;
    std::memcpy(&a, &abs, 4);
    return static_cast<uint16_t>(sign | static_cast<uint32_t>(std::nearbyint(a * 16777216.0f)));
  }
  const uint32_t mant = abs & 0x7fffffu;
  uint32_t h = ((((abs >> 23) - 127u + 15u) & 0x1fu) << 10) | (mant >> 13);
  const uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;  // a carry into the exponent is still correct
  return static_cast<uint16_t>(sign | h);
}

inline float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    const float v = std::ldexp(static_cast<float>(mant), -24);
    return sign ? -v : v;
  }
  const uint32_t bits = exp == 31 ? (sign | 0x7f800000u | (mant << 13)) : (sign | ((exp + 112u) << 23) | (mant << 13));
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

/** Converts `n` host elements into device elements (the pair was validated when the layer was made). */
inline void HostToDevice(HostType host, DeviceType dev, const void* src, size_t n, void* dst) {
  if (dev == DeviceType::F16) {
    const float* s = static_cast<const float*>(src);
    uint16_t* d = static_cast<uint16_t*>(dst);
    for (size_t i = 0; i < n; i++) d[i] = FloatToHalf(s[i]);
  } else {
    std::memcpy(dst, src, n * HostSize(host));
  }
}

inline void DeviceToHost(DeviceType dev, HostType host, const void* src, size_t n, void* dst) {
  if (dev == DeviceType::F16) {
    const uint16_t* s = static_cast<const uint16_t*>(src);
    float* d = static_cast<float*>(dst);
    for (size_t i = 0; i < n; i++) d[i] = HalfToFloat(s[i]);
  } else {
    std::memcpy(dst, src, n * HostSize(host));
  }
}

}  // namespace gru_cudnn
