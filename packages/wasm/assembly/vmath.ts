// f32x4 exp, tanh and sigmoid, each within 2 ulp of the correctly rounded float32 result for
// every float (test/activations-ulp.test.ts sweeps every exponent).

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

/**
 * e^x within about 1 ulp for every float, subnormal results included (as float32 math gives):
 * +inf above 88.72, 0 below -103.97, NaN stays NaN.
 */
export function expv(x: v128): v128 {
  // A NaN passes the clamp (see clampv).
  return expReduced(clampv(x, -104.0, 88.8), true);
}

/**
 * e^x for x the caller has bounded: Cody-Waite reduction x = n ln2 + r and the cephes expf
 * polynomial for e^r. With `split`, 2^n is applied in two halves, so that x may go down to -104
 * (results below FLT_MIN round once, as subnormals, which wasm SIMD keeps) and up to 88.8 (+inf);
 * without, x must stay within [-87.3, 88.3], which saves the tanh path four instructions.
 */
@inline function expReduced(x: v128, split: bool): v128 {
  // x = n*ln2 + r with |r| <= ln2/2; ln2 split in two so n*ln2 is exact. Adding 1.5 * 2^23
  // rounds to an integer, whose bits give n as an i32 (V8's trunc_sat takes several instructions).
  const magic = splat(12582912.0);
  const t = f32x4.add(f32x4.mul(x, splat(1.44269504088896341)), magic);
  const n = f32x4.sub(t, magic);
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
  const ni = i32x4.sub(t, magic);
  const bias = i32x4.splat(127);
  if (!split) return f32x4.mul(y, i32x4.shl(i32x4.add(ni, bias), 23));
  // n is in [-150, 128]: each half is a normal power of two.
  const n1 = i32x4.shr_s(ni, 1);
  const n2 = i32x4.sub(ni, n1);
  return f32x4.mul(f32x4.mul(y, i32x4.shl(i32x4.add(n1, bias), 23)), i32x4.shl(i32x4.add(n2, bias), 23));
}

/**
 * tanh within 2 ulp of the correctly rounded float for every float, exactly +-1 where that is:
 * |x| < 0.5625: x + x^3 P(x^2) (P a degree-4 minimax fit); beyond, 1 - 2 / (e^2|x| + 1), whose
 * small term is accurate relative to itself, so 1 - it rounds to 1 exactly where tanh does.
 */
@inline export function tanhv(x: v128): v128 {
  const a = f32x4.abs(x);
  const s = f32x4.mul(x, x);
  let p = splat(-0.006188629195094109);
  p = f32x4.add(f32x4.mul(p, s), splat(0.021014269441366196));
  p = f32x4.add(f32x4.mul(p, s), splat(-0.053839243948459625));
  p = f32x4.add(f32x4.mul(p, s), splat(0.13332471251487732));
  p = f32x4.add(f32x4.mul(p, s), splat(-0.3333331346511841));
  const small = f32x4.add(f32x4.mul(f32x4.mul(x, s), p), x);
  // tanh rounds to 1 from 9.01 on; bounding |x| there keeps e^2|x| in range without a clamp.
  const a9 = f32x4.pmin(a, splat(9.5));
  const big = f32x4.sub(splat(1.0), f32x4.div(splat(2.0), f32x4.add(expReduced(f32x4.add(a9, a9), false), splat(1.0))));
  // The sign bit set on both keeps tanh(-0) = -0; NaN: a < 0.5625 is false, and big is NaN.
  const sign = v128.and(x, i32x4.splat(<i32>0x80000000));
  return v128.or(v128.bitselect(small, big, f32x4.lt(a, splat(0.5625))), sign);
}

/**
 * sigmoid within 2 ulp of the correctly rounded float for every float: q = sigmoid(-|x|) =
 * e / (1 + e) with e = e^-|x| (accurate relative to itself, down to subnormals), then q or 1 - q,
 * which is exactly 1 where sigmoid rounds to 1 and exactly 0 below -103.97.
 */
@inline export function sigmoidv(x: v128): v128 {
  const e = expReduced(f32x4.pmax(f32x4.neg(f32x4.abs(x)), splat(-104.0)), true); // a NaN passes pmax
  const q = f32x4.div(e, f32x4.add(splat(1.0), e));
  return v128.bitselect(q, f32x4.sub(splat(1.0), q), f32x4.lt(x, splat(0.0)));
}
