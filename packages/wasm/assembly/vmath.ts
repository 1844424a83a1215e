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

// The kernels' constants, each splatted into 16 bytes of static data. TurboFan rebuilds a
// v128.const from an immediate inside every loop iteration it cannot keep it in a register for
// (three instructions: mov, movq, punpcklqdq), and tanh and sigmoid hold more constants than
// x64 has vector registers; a load from the table is one instruction. Same values, same results.
const LOG2E = memory.data<f32>([1.44269504088896341, 1.44269504088896341, 1.44269504088896341, 1.44269504088896341], 16);
const ROUNDER = memory.data<f32>([12582912.0, 12582912.0, 12582912.0, 12582912.0], 16);
const LN2_HI = memory.data<f32>([0.693359375, 0.693359375, 0.693359375, 0.693359375], 16);
const LN2_LO = memory.data<f32>([-2.12194440e-4, -2.12194440e-4, -2.12194440e-4, -2.12194440e-4], 16);
const E0 = memory.data<f32>([1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4, 1.9875691500e-4], 16);
const E1 = memory.data<f32>([1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3, 1.3981999507e-3], 16);
const E2 = memory.data<f32>([8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3, 8.3334519073e-3], 16);
const E3 = memory.data<f32>([4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2, 4.1665795894e-2], 16);
const E4 = memory.data<f32>([1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1, 1.6666665459e-1], 16);
const E5 = memory.data<f32>([5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1, 5.0000001201e-1], 16);
const ONE = memory.data<f32>([1.0, 1.0, 1.0, 1.0], 16);
const TWO = memory.data<f32>([2.0, 2.0, 2.0, 2.0], 16);
const BIAS = memory.data<i32>([127, 127, 127, 127], 16);
const SIGN = memory.data<i32>([<i32>0x80000000, <i32>0x80000000, <i32>0x80000000, <i32>0x80000000], 16);
const T0 = memory.data<f32>([-0.006188629195094109, -0.006188629195094109, -0.006188629195094109, -0.006188629195094109], 16);
const T1 = memory.data<f32>([0.021014269441366196, 0.021014269441366196, 0.021014269441366196, 0.021014269441366196], 16);
const T2 = memory.data<f32>([-0.053839243948459625, -0.053839243948459625, -0.053839243948459625, -0.053839243948459625], 16);
const T3 = memory.data<f32>([0.13332471251487732, 0.13332471251487732, 0.13332471251487732, 0.13332471251487732], 16);
const T4 = memory.data<f32>([-0.3333331346511841, -0.3333331346511841, -0.3333331346511841, -0.3333331346511841], 16);
const TANH_SMALL = memory.data<f32>([0.5625, 0.5625, 0.5625, 0.5625], 16);
const TANH_BOUND = memory.data<f32>([9.5, 9.5, 9.5, 9.5], 16);
const EXP_MIN = memory.data<f32>([-104.0, -104.0, -104.0, -104.0], 16);

@inline function k(at: usize): v128 {
  return v128.load(at);
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
  const magic = k(ROUNDER);
  const t = f32x4.add(f32x4.mul(x, k(LOG2E)), magic);
  const n = f32x4.sub(t, magic);
  let r = f32x4.sub(x, f32x4.mul(n, k(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, k(LN2_LO)));
  const z = f32x4.mul(r, r);
  let y = k(E0);
  y = f32x4.add(f32x4.mul(y, r), k(E1));
  y = f32x4.add(f32x4.mul(y, r), k(E2));
  y = f32x4.add(f32x4.mul(y, r), k(E3));
  y = f32x4.add(f32x4.mul(y, r), k(E4));
  y = f32x4.add(f32x4.mul(y, r), k(E5));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), r), k(ONE));
  const ni = i32x4.sub(t, magic);
  const bias = k(BIAS);
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
  let p = k(T0);
  p = f32x4.add(f32x4.mul(p, s), k(T1));
  p = f32x4.add(f32x4.mul(p, s), k(T2));
  p = f32x4.add(f32x4.mul(p, s), k(T3));
  p = f32x4.add(f32x4.mul(p, s), k(T4));
  const small = f32x4.add(f32x4.mul(f32x4.mul(x, s), p), x);
  // tanh rounds to 1 from 9.01 on; bounding |x| there keeps e^2|x| in range without a clamp.
  const a9 = f32x4.pmin(a, k(TANH_BOUND));
  const big = f32x4.sub(k(ONE), f32x4.div(k(TWO), f32x4.add(expReduced(f32x4.add(a9, a9), false), k(ONE))));
  // The sign bit set on both keeps tanh(-0) = -0; NaN: a < 0.5625 is false, and big is NaN.
  const sign = v128.and(x, k(SIGN));
  return v128.or(v128.bitselect(small, big, f32x4.lt(a, k(TANH_SMALL))), sign);
}

/**
 * sigmoid within 2 ulp of the correctly rounded float for every float: q = sigmoid(-|x|) =
 * e / (1 + e) with e = e^-|x| (accurate relative to itself, down to subnormals), then q or 1 - q,
 * which is exactly 1 where sigmoid rounds to 1 and exactly 0 below -103.97.
 */
@inline export function sigmoidv(x: v128): v128 {
  const e = expReduced(f32x4.pmax(f32x4.neg(f32x4.abs(x)), k(EXP_MIN)), true); // a NaN passes pmax
  const q = f32x4.div(e, f32x4.add(k(ONE), e));
  return v128.bitselect(q, f32x4.sub(k(ONE), q), f32x4.lt(x, splat(0.0)));
}
