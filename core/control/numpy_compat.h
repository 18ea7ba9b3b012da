#pragma once
// How numpy / Python round and convert, for the places where the reference's arithmetic
// decides pixels (golden README, "Traps for a C++ port"). Internal to kiln_control.

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <cstdint>

namespace kiln::control::numpy {

// np.round / Python round(): half to even (trap 2). std::nearbyint in the default rounding mode;
// never std::round (half away from zero).
inline double round_half_even(double x) { return std::nearbyint(x); }

// int(np.round(x)) (A1111's `safeint`, resize sizes, Pixel Perfect).
inline int round_to_int(double x) { return static_cast<int>(round_half_even(x)); }

// x.clip(0, 255).astype(np.uint8): clip, then truncate towards zero (trap 1). NaN -> 0, as
// numpy's cast gives on x86 for the NaN-free maps here.
inline std::uint8_t clip_to_uint8(float x) {
  if (!(x > 0.0f)) return 0;
  if (x >= 255.0f) return 255;
  return static_cast<std::uint8_t>(x);
}
inline std::uint8_t clip_to_uint8(double x) {
  if (!(x > 0.0)) return 0;
  if (x >= 255.0) return 255;
  return static_cast<std::uint8_t>(x);
}

// Python floor division for ints (`(new_h - h) // 2` with a negative left side).
inline int floor_div(int a, int b) {
  const int q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// A uint8 array compared with a Python float scalar (`arr > 63.5`) is compared in float16 by
// numpy < 2's value-based casting: the scalar is first rounded to half precision (nearest, ties
// to even). Integral thresholds up to 2048 are unchanged. Finite, |x| < 65520 expected.
inline double as_float16(double x) {
  if (x == 0.0 || !std::isfinite(x)) return x;
  int exponent = 0;
  std::frexp(std::fabs(x), &exponent);             // |x| = m * 2^exponent, m in [0.5, 1)
  const int e = std::max(exponent - 1, -14);       // binade (subnormals share 2^-14's spacing)
  const double spacing = std::ldexp(1.0, e - 10);  // 10 fraction bits
  return std::nearbyint(x / spacing) * spacing;
}

}  // namespace kiln::control::numpy
