// f32x4 versions of exp, log, tanh and erf. Each is within a few float32 ulp (the cephes
// single-precision polynomials), which keeps a whole GRU well inside conformance's float32
// tolerance; accuracy is checked against @gru/core's float64 formulas in test/activations.test.ts.

@inline export function splat(x: f32): v128 {
  return f32x4.splat(x);
}

/**
 * lo <= x <= hi. pmin/pmax (x86's minps/maxps) rather than min/max, whose IEEE NaN and -0 rules
 * cost V8 several instructions each (measured: tanh took 3x as long). With x as the first operand
 * a NaN still passes through.
 */
@inline export function clampv(x: v128, lo: f32, hi: f32): v128 {
  return f32x4.pmin(f32x4.pmax(x, splat(lo)), splat(hi));
}

/** e^x; +inf above the float32 range; at least FLT_MIN (never denormal) below it. */
export function expv(x0: v128): v128 {
  const x = clampv(x0, -87.33654475, 88.72283905);
  // x = n*ln2 + r with |r| <= ln2/2; ln2 split in two so n*ln2 is exact.
  const n = f32x4.floor(f32x4.add(f32x4.mul(x, splat(1.44269504088896341)), splat(0.5)));
  let r = f32x4.sub(x, f32x4.mul(n, splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, splat(-2.12194440e-4)));
  const z = f32x4.mul(r, r);
  let y = splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, r), splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), r), splat(1.0));
  // 2^n in two halves: n reaches 128 near the top of the range, past float32's exponent field.
  const ni = i32x4.trunc_sat_f32x4_s(n);
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  const bias = i32x4.splat(127);
  const result = f32x4.mul(f32x4.mul(y, i32x4.shl(i32x4.add(n1, bias), 23)), i32x4.shl(i32x4.add(n2, bias), 23));
  const overflow = f32x4.gt(x0, splat(88.72283905206835));
  return v128.bitselect(splat(Infinity), result, overflow);
}

/** Natural log for x > 0 (x <= 0 is not needed by any activation here). */
export function logv(x0: v128): v128 {
  let x = f32x4.pmax(x0, splat(1.17549435e-38));
  const bits = i32x4.shr_u(x, 23);
  // Mantissa scaled into [0.5, 1).
  x = v128.or(v128.and(x, i32x4.splat(<i32>0x807fffff)), splat(0.5));
  let e = f32x4.add(f32x4.convert_i32x4_s(i32x4.sub(bits, i32x4.splat(0x7f))), splat(1.0));
  const small = f32x4.lt(x, splat(0.707106781186547524));
  const tmp = v128.and(x, small);
  x = f32x4.sub(x, splat(1.0));
  e = f32x4.sub(e, v128.and(splat(1.0), small));
  x = f32x4.add(x, tmp);
  const z = f32x4.mul(x, x);
  let y = splat(7.0376836292e-2);
  y = f32x4.add(f32x4.mul(y, x), splat(-1.1514610310e-1));
  y = f32x4.add(f32x4.mul(y, x), splat(1.1676998740e-1));
  y = f32x4.add(f32x4.mul(y, x), splat(-1.2420140846e-1));
  y = f32x4.add(f32x4.mul(y, x), splat(1.4249322787e-1));
  y = f32x4.add(f32x4.mul(y, x), splat(-1.6668057665e-1));
  y = f32x4.add(f32x4.mul(y, x), splat(2.0000714765e-1));
  y = f32x4.add(f32x4.mul(y, x), splat(-2.4999993993e-1));
  y = f32x4.add(f32x4.mul(y, x), splat(3.3333331174e-1));
  y = f32x4.mul(f32x4.mul(y, x), z);
  y = f32x4.add(y, f32x4.mul(e, splat(-2.12194440e-4)));
  y = f32x4.sub(y, f32x4.mul(z, splat(0.5)));
  x = f32x4.add(x, y);
  return f32x4.add(x, f32x4.mul(e, splat(0.693359375)));
}

/**
 * tanh as a rational function (Eigen's fast float tanh: odd 13th over even 6th degree), clamped
 * where float32 tanh reaches +-1. Within a quarter of the accuracy test's bound (1e-7 + 1e-6 |y|)
 * everywhere, and a third of the work of the exp form.
 */
@inline export function tanhv(x: v128): v128 {
  return tanhRatio(x, false);
}

/**
 * sigmoid(x) = (1 + tanh(x/2)) / 2 = (q + p) / 2q for tanh(x/2) = p/q: no exp, one division.
 * Below x = -15.8 it returns 0 where the exact value is under 1.4e-7, an absolute error far inside
 * float32 GRU tolerances.
 */
@inline export function sigmoidv(x: v128): v128 {
  return tanhRatio(f32x4.mul(x, splat(0.5)), true);
}

/** tanh(x) = p/q, or with `sigmoid` (1 + p/q)/2. */
@inline function tanhRatio(x0: v128, sigmoid: bool): v128 {
  const x = clampv(x0, -7.90531110763549805, 7.90531110763549805);
  const y = f32x4.mul(x, x);
  const y2 = f32x4.mul(y, y);
  const y4 = f32x4.mul(y2, y2);
  // Estrin's scheme: the same polynomials as Horner's, with a third of the dependency chain.
  const p01 = f32x4.add(splat(4.89352455891786e-3), f32x4.mul(y, splat(6.37261928875436e-4)));
  const p23 = f32x4.add(splat(1.48572235717979e-5), f32x4.mul(y, splat(5.12229709037114e-8)));
  const p45 = f32x4.add(splat(-8.60467152213735e-11), f32x4.mul(y, splat(2.00018790482477e-13)));
  const p6 = splat(-2.76076847742355e-16);
  const p = f32x4.mul(f32x4.add(f32x4.add(p01, f32x4.mul(y2, p23)), f32x4.mul(y4, f32x4.add(p45, f32x4.mul(y2, p6)))), x);
  const q01 = f32x4.add(splat(4.89352518554385e-3), f32x4.mul(y, splat(2.26843463243900e-3)));
  const q23 = f32x4.add(splat(1.18534705686654e-4), f32x4.mul(y, splat(1.19825839466702e-6)));
  const q = f32x4.add(q01, f32x4.mul(y2, q23));
  if (sigmoid) return f32x4.div(f32x4.add(q, p), f32x4.add(q, q));
  return f32x4.div(p, q);
}

/** sigmoid through exp: exact to a few ulps for every x (for silu, which multiplies it by x). */
export function sigmoidExpv(x: v128): v128 {
  return f32x4.div(splat(1.0), f32x4.add(splat(1.0), expv(f32x4.neg(x))));
}

/**
 * log(1 + y) for y >= 0, accurate for tiny y too: log(u) * y / (u - 1) with u = 1 + y corrects
 * the rounding of u (Goldberg's trick); when u rounds to 1, log1p(y) = y.
 */
export function log1pv(y: v128): v128 {
  const u = f32x4.add(splat(1.0), y);
  const um1 = f32x4.sub(u, splat(1.0));
  const corrected = f32x4.mul(logv(u), f32x4.div(y, um1));
  return v128.bitselect(y, corrected, f32x4.eq(um1, splat(0.0)));
}

/** softplus(x) = max(x, 0) + log1p(e^-|x|), stable for any x. */
export function softplusv(x: v128): v128 {
  const e = expv(f32x4.neg(f32x4.abs(x)));
  return f32x4.add(f32x4.pmax(x, splat(0.0)), log1pv(e));
}

/** erf as a rational function of x on [-4, 4] (where float32 erf saturates to +-1). */
export function erfv(x0: v128): v128 {
  const x = clampv(x0, -4.0, 4.0);
  const x2 = f32x4.mul(x, x);
  let p = splat(-2.72614225801306e-10);
  p = f32x4.add(f32x4.mul(p, x2), splat(2.77068142495902e-8));
  p = f32x4.add(f32x4.mul(p, x2), splat(-2.10102402082508e-6));
  p = f32x4.add(f32x4.mul(p, x2), splat(-5.69250639462346e-5));
  p = f32x4.add(f32x4.mul(p, x2), splat(-7.34990630326855e-4));
  p = f32x4.add(f32x4.mul(p, x2), splat(-2.95459980854025e-3));
  p = f32x4.add(f32x4.mul(p, x2), splat(-1.60960333262415e-2));
  p = f32x4.mul(p, x);
  let q = splat(-1.45660718464996e-5);
  q = f32x4.add(f32x4.mul(q, x2), splat(-2.13374055278905e-4));
  q = f32x4.add(f32x4.mul(q, x2), splat(-1.68282697438203e-3));
  q = f32x4.add(f32x4.mul(q, x2), splat(-7.37332916720468e-3));
  q = f32x4.add(f32x4.mul(q, x2), splat(-1.42647390514189e-2));
  return f32x4.div(p, q);
}
