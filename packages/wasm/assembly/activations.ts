import { clampv, expv, sigmoidv, splat, tanhv } from './vmath';

// Activation codes: the order of WASM_ACTIVATIONS in src/activation-codes.ts. Formulas follow
// @gru/core's activations.ts (Keras 3), hard_sigmoid included (Keras 2's is its own code).
export const ACT_LINEAR: i32 = 0;
export const ACT_TANH: i32 = 1;
export const ACT_SIGMOID: i32 = 2;
export const ACT_HARD_SIGMOID: i32 = 3;
export const ACT_KERAS2_HARD_SIGMOID: i32 = 4;
export const ACT_RELU: i32 = 5;
export const ACT_RELU6: i32 = 6;
export const ACT_LEAKY_RELU: i32 = 7;
export const ACT_ELU: i32 = 8;
export const ACT_SELU: i32 = 9;
export const ACT_CELU: i32 = 10;
export const ACT_SILU: i32 = 11;
export const ACT_HARD_SILU: i32 = 12;
export const ACT_SOFTSIGN: i32 = 13;
export const ACT_SOFTPLUS: i32 = 14;
export const ACT_EXPONENTIAL: i32 = 15;
export const ACT_GELU: i32 = 16;
export const ACT_HARD_TANH: i32 = 17;
export const ACT_SPARSE_SIGMOID: i32 = 18;
export const ACT_LOG_SIGMOID: i32 = 19;
export const ACT_MISH: i32 = 20;
export const ACT_TANH_SHRINK: i32 = 21;
export const ACT_SOFT_SHRINK: i32 = 22;
export const ACT_HARD_SHRINK: i32 = 23;
export const ACT_SPARSE_PLUS: i32 = 24;
export const ACT_SQUAREPLUS: i32 = 25;
// Row-wise: over one gate's `units` values (never elementwise; see activateRow).
export const ACT_SOFTMAX: i32 = 26;
export const ACT_LOG_SOFTMAX: i32 = 27;
export const ACT_SPARSEMAX: i32 = 28;
export const ACT_GLU: i32 = 29; // only at units = 2 (Keras's broadcast of its one-value half)
export const ACT_COUNT: i32 = 30;

const SELU_ALPHA_64: f64 = 1.6732632423543772;
const SELU_SCALE_64: f64 = 1.0507009873554805;

/** Keras 3's hard_sigmoid, relu6(x + 3) / 6: x + 3 first keeps results near x = -3 accurate. */
@inline function hardSigmoid3(x: v128): v128 {
  return clampv(f32x4.div(f32x4.add(x, splat(3.0)), splat(6.0)), 0.0, 1.0);
}

/** x where `cond` lanes are set, else y. */
@inline function select(cond: v128, x: v128, y: v128): v128 {
  return v128.bitselect(x, y, cond);
}

// ---- the activations built on exp, log and erf, per element in float64 and rounded once ----
// (float32 formulas cancel for some inputs: e^x - 1 near 0, x - tanh x, 1 + erf for x < 0).

const SQRT1_2: f64 = 0.7071067811865476;

// erfc's rational approximations from Sun's fdlibm s_erf.c (coefficients as published there;
// "Permission to use, copy, modify, and distribute this software is freely granted, provided
// that this notice is preserved." Copyright (C) 1993 Sun Microsystems, Inc.). Each fit is within
// 2^-57 of its target, so erfc is good to a few double ulp: far inside the 2^-24 that the float32
// results need. The series and continued fraction they replace cost ~100 ns per element.

// [0, 0.84375): erf(a) = a + a P(a^2) / Q(a^2).
const PP0: f64 = 1.28379167095512558561e-1;
const PP1: f64 = -3.25042107247001499370e-1;
const PP2: f64 = -2.84817495755985104766e-2;
const PP3: f64 = -5.77027029648944159157e-3;
const PP4: f64 = -2.37630166566501626084e-5;
const QQ1: f64 = 3.97917223959155352819e-1;
const QQ2: f64 = 6.50222499887672944485e-2;
const QQ3: f64 = 5.08130628187576562776e-3;
const QQ4: f64 = 1.32494738004321644526e-4;
const QQ5: f64 = -3.96022827877536812320e-6;
// [0.84375, 1.25): erf(1 + s) = ERX + P(s) / Q(s).
const ERX: f64 = 8.45062911510467529297e-1;
const PA0: f64 = -2.36211856075265944077e-3;
const PA1: f64 = 4.14856118683748331666e-1;
const PA2: f64 = -3.72207876035701323847e-1;
const PA3: f64 = 3.18346619901161753674e-1;
const PA4: f64 = -1.10894694282396677476e-1;
const PA5: f64 = 3.54783043256182359371e-2;
const PA6: f64 = -2.16637559486879084300e-3;
const QA1: f64 = 1.06420880400844228286e-1;
const QA2: f64 = 5.40397917702171048937e-1;
const QA3: f64 = 7.18286544141962662868e-2;
const QA4: f64 = 1.26171219808761642112e-1;
const QA5: f64 = 1.36370839120290507362e-2;
const QA6: f64 = 1.19844998467991074170e-2;
// [1.25, 1/0.35): erfc(a) = e^(-a^2 - 0.5625 + R(1/a^2) / S(1/a^2)) / a.
const RA0: f64 = -9.86494403484714822705e-3;
const RA1: f64 = -6.93858572707181764372e-1;
const RA2: f64 = -1.05586262253232909814e1;
const RA3: f64 = -6.23753324503260060396e1;
const RA4: f64 = -1.62396669462573470355e2;
const RA5: f64 = -1.84605092906711035994e2;
const RA6: f64 = -8.12874355063065934246e1;
const RA7: f64 = -9.81432934416914548592;
const SA1: f64 = 1.96512716674392571292e1;
const SA2: f64 = 1.37657754143519042600e2;
const SA3: f64 = 4.34565877475229228821e2;
const SA4: f64 = 6.45387271733267880336e2;
const SA5: f64 = 4.29008140027567833386e2;
const SA6: f64 = 1.08635005541779435134e2;
const SA7: f64 = 6.57024977031928170135;
const SA8: f64 = -6.04244152148580987438e-2;
// [1/0.35, 28): the same form.
const RB0: f64 = -9.86494292470009928597e-3;
const RB1: f64 = -7.99283237680523006574e-1;
const RB2: f64 = -1.77579549177547519889e1;
const RB3: f64 = -1.60636384855821916062e2;
const RB4: f64 = -6.37566443368389627722e2;
const RB5: f64 = -1.02509513161107724954e3;
const RB6: f64 = -4.83519191608651397019e2;
const SB1: f64 = 3.03380607434824582924e1;
const SB2: f64 = 3.25792512996573918826e2;
const SB3: f64 = 1.53672958608443695994e3;
const SB4: f64 = 3.19985821950859553908e3;
const SB5: f64 = 2.55305040643316442583e3;
const SB6: f64 = 4.74528541206955367215e2;
const SB7: f64 = -2.24409524465858183362e1;

/**
 * erfc(a) for a >= 0 (or NaN), accurate relative to itself down to its underflow. fdlibm splits
 * -a^2 into two exps to keep all 53 bits; one exp of the rounded -a^2 loses at most ~1e-13
 * relative for the a < 28 used, which rounding to float32 never sees.
 */
export function erfcPos(a: f64): f64 {
  if (a < 0.84375) {
    const z = a * a;
    const p = PP0 + z * (PP1 + z * (PP2 + z * (PP3 + z * PP4)));
    const q = 1 + z * (QQ1 + z * (QQ2 + z * (QQ3 + z * (QQ4 + z * QQ5))));
    return 1 - (a + a * (p / q));
  }
  if (a < 1.25) {
    const s = a - 1;
    const p = PA0 + s * (PA1 + s * (PA2 + s * (PA3 + s * (PA4 + s * (PA5 + s * PA6)))));
    const q = 1 + s * (QA1 + s * (QA2 + s * (QA3 + s * (QA4 + s * (QA5 + s * QA6)))));
    return 1 - ERX - p / q;
  }
  if (a >= 28) return 0; // below 1e-342; a NaN fails every comparison and goes on to NaN
  const s = 1 / (a * a);
  let r: f64, q: f64;
  if (a < 2.857142857142857) {
    r = RA0 + s * (RA1 + s * (RA2 + s * (RA3 + s * (RA4 + s * (RA5 + s * (RA6 + s * RA7))))));
    q = 1 + s * (SA1 + s * (SA2 + s * (SA3 + s * (SA4 + s * (SA5 + s * (SA6 + s * (SA7 + s * SA8)))))));
  } else {
    r = RB0 + s * (RB1 + s * (RB2 + s * (RB3 + s * (RB4 + s * (RB5 + s * RB6)))));
    q = 1 + s * (SB1 + s * (SB2 + s * (SB3 + s * (SB4 + s * (SB5 + s * (SB6 + s * SB7))))));
  }
  return Math.exp(-a * a - 0.5625 + r / q) / a;
}

export function sigmoid64(x: f64): f64 {
  return 1 / (1 + Math.exp(-x));
}

export function softplus64(x: f64): f64 {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** The activations without float32 vector code, in float64 (formulas as native/scalar_activations.cc). */
function activate64(id: i32, x: f64): f64 {
  switch (id) {
    case ACT_ELU:
      return x >= 0 ? x : Math.expm1(x);
    case ACT_SELU:
      return <f64>SELU_SCALE_64 * (x >= 0 ? x : <f64>SELU_ALPHA_64 * Math.expm1(x));
    case ACT_CELU:
      return Math.max(x, 0) + Math.expm1(Math.min(x, 0));
    case ACT_SILU:
      return x * sigmoid64(x);
    case ACT_SOFTPLUS:
      return softplus64(x);
    case ACT_GELU:
      return x >= 0 ? x * (1 - erfcPos(x * SQRT1_2) / 2) : (x * erfcPos(-x * SQRT1_2)) / 2;
    case ACT_LOG_SIGMOID:
      return -softplus64(-x);
    case ACT_MISH:
      return x * Math.tanh(softplus64(x));
    case ACT_TANH_SHRINK: {
      if (Math.abs(x) >= 0.01) return x - Math.tanh(x);
      const s = x * x; // the odd series; the next term is below 1e-13 relative
      return x * s * (1.0 / 3 + s * (-2.0 / 15 + s * (17.0 / 315)));
    }
    case ACT_SQUAREPLUS: {
      const r = Math.sqrt(x * x + 4);
      return x < 0 ? 2 / (r - x) : (x + r) / 2;
    }
    default:
      return x;
  }
}

function activateLanes(id: i32, x: v128): v128 {
  let y = x;
  y = f32x4.replace_lane(y, 0, <f32>activate64(id, <f64>f32x4.extract_lane(x, 0)));
  y = f32x4.replace_lane(y, 1, <f32>activate64(id, <f64>f32x4.extract_lane(x, 1)));
  y = f32x4.replace_lane(y, 2, <f32>activate64(id, <f64>f32x4.extract_lane(x, 2)));
  y = f32x4.replace_lane(y, 3, <f32>activate64(id, <f64>f32x4.extract_lane(x, 3)));
  return y;
}

/** An elementwise activation of 4 floats. */
export function activate(id: i32, x: v128): v128 {
  const zero = splat(0.0);
  switch (id) {
    case ACT_TANH:
      return tanhv(x);
    case ACT_SIGMOID:
      return sigmoidv(x);
    case ACT_HARD_SIGMOID:
      return hardSigmoid3(x);
    case ACT_KERAS2_HARD_SIGMOID:
      return clampv(f32x4.div(f32x4.add(x, splat(2.5)), splat(5.0)), 0.0, 1.0);
    case ACT_RELU:
      return f32x4.pmax(x, zero);
    case ACT_RELU6:
      return clampv(x, 0.0, 6.0);
    case ACT_LEAKY_RELU:
      return f32x4.pmax(x, f32x4.mul(x, splat(0.2)));
    case ACT_HARD_SILU: {
      const mid = f32x4.div(f32x4.mul(x, f32x4.add(x, splat(3.0))), splat(6.0));
      return select(f32x4.ge(x, splat(3.0)), x, select(f32x4.le(x, splat(-3.0)), zero, mid));
    }
    case ACT_SOFTSIGN:
      return f32x4.div(x, f32x4.add(splat(1.0), f32x4.abs(x)));
    case ACT_EXPONENTIAL:
      return expv(x);
    case ACT_HARD_TANH:
      return clampv(x, -1.0, 1.0);
    case ACT_SPARSE_SIGMOID:
      return clampv(f32x4.mul(f32x4.add(x, splat(1.0)), splat(0.5)), 0.0, 1.0);
    case ACT_SOFT_SHRINK: {
      const half = splat(0.5);
      return select(f32x4.gt(x, half), f32x4.sub(x, half), select(f32x4.lt(x, f32x4.neg(half)), f32x4.add(x, half), zero));
    }
    case ACT_HARD_SHRINK:
      return select(f32x4.gt(f32x4.abs(x), splat(0.5)), x, zero);
    case ACT_SPARSE_PLUS: {
      const xp1 = f32x4.add(x, splat(1.0));
      const mid = f32x4.mul(f32x4.mul(xp1, xp1), splat(0.25));
      return select(f32x4.le(x, splat(-1.0)), zero, select(f32x4.lt(x, splat(1.0)), mid, x));
    }
    case ACT_ELU:
    case ACT_SELU:
    case ACT_CELU:
    case ACT_SILU:
    case ACT_SOFTPLUS:
    case ACT_GELU:
    case ACT_LOG_SIGMOID:
    case ACT_MISH:
    case ACT_TANH_SHRINK:
    case ACT_SQUAREPLUS:
      return activateLanes(id, x);
    default:
      return x;
  }
}

// ---- row-wise activations over one gate's n real units, in float64 and rounded once ----

@inline export function isRowwise(id: i32): bool {
  return id >= ACT_SOFTMAX && id <= ACT_GLU;
}

function softmaxRow(p: usize, n: i32, log: bool): void {
  const end = p + (<usize>n << 2);
  let max = -Infinity;
  for (let q = p; q < end; q += 4) max = Math.max(max, <f64>load<f32>(q));
  let sum: f64 = 0;
  for (let q = p; q < end; q += 4) sum += Math.exp(<f64>load<f32>(q) - max);
  if (log) {
    const lse = Math.log(sum);
    for (let q = p; q < end; q += 4) store<f32>(q, <f32>(<f64>load<f32>(q) - max - lse));
  } else {
    for (let q = p; q < end; q += 4) store<f32>(q, <f32>(Math.exp(<f64>load<f32>(q) - max) / sum));
  }
}

/**
 * Keras 3.15.1's sparsemax (as @gru/core's sparsemaxTau): over the inputs sorted descending,
 * cumsum_i is the sum of the first i + 1; input i is in the support when x_i > (cumsum_i - 1) / (i + 1),
 * and tau = (sum of the support's cumsums - 1) / k. Without a sort (no allocator here): each
 * input's rank and cumsum are counted directly, ties ranked by position as a stable sort does.
 */
function sparsemaxRow(p: usize, n: i32): void {
  let k: f64 = 0;
  let supportCumsums: f64 = 0;
  for (let i = 0; i < n; i++) {
    const xi = <f64>load<f32>(p + (<usize>i << 2));
    let rank = 0;
    let cumsum = xi;
    for (let j = 0; j < n; j++) {
      const xj = <f64>load<f32>(p + (<usize>j << 2));
      if (xj > xi || (xj == xi && j < i)) {
        rank++;
        cumsum += xj;
      }
    }
    if (xi - (cumsum - 1) / <f64>(rank + 1) > 0) {
      k++;
      supportCumsums += cumsum;
    }
  }
  const tau = (supportCumsums - 1) / k;
  for (let i = 0; i < n; i++) {
    const q = p + (<usize>i << 2);
    store<f32>(q, <f32>Math.max(<f64>load<f32>(q) - tau, 0));
  }
}

/** glu on a row of 2: x0 * sigmoid(x1), broadcast back to both (what Keras's GRU does at units = 2). */
function gluPairRow(p: usize): void {
  const v = <f32>(<f64>load<f32>(p) * sigmoid64(<f64>load<f32>(p + 4)));
  store<f32>(p, v);
  store<f32>(p + 4, v);
}

/** The first `r` (1 to 3) floats at `p` in the low lanes, zeros above: a tail that reads nothing past the row. */
function loadLanes(p: usize, r: i32): v128 {
  let v = f32x4.replace_lane(f32x4.splat(0), 0, load<f32>(p));
  if (r > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (r > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

/** Stores the low `r` (1 to 3) lanes of `v` at `p`, and nothing past them. */
function storeLanes(p: usize, v: v128, r: i32): void {
  store<f32>(p, f32x4.extract_lane(v, 0));
  if (r > 1) store<f32>(p, f32x4.extract_lane(v, 1), 4);
  if (r > 2) store<f32>(p, f32x4.extract_lane(v, 2), 8);
}

/**
 * Applies activation `id` in place to the `n` floats at `p` (any n; the forward pass's rows are
 * whole panels of 8), of which the first `real` are units (the rest padding). A row-wise
 * activation acts on the `real` ones only, so it needs the whole row of one gate: callers split
 * rows between workers only for elementwise ones.
 */
export function activateRow(id: i32, p: usize, n: i32, real: i32): void {
  if (isRowwise(id)) {
    if (id == ACT_GLU) gluPairRow(p);
    else if (id == ACT_SPARSEMAX) sparsemaxRow(p, real);
    else softmaxRow(p, real, id == ACT_LOG_SOFTMAX);
    return;
  }
  if (id == ACT_LINEAR) return;
  const end4 = p + (<usize>(n & ~3) << 2);
  // Two vectors an iteration: their long dependency chains (exp, a division) interleave.
  const end8 = p + (<usize>(n & ~7) << 2);
  if (id == ACT_SIGMOID) {
    for (; p < end8; p += 32) {
      const a = sigmoidv(v128.load(p));
      const b = sigmoidv(v128.load(p, 16));
      v128.store(p, a);
      v128.store(p, b, 16);
    }
  } else if (id == ACT_TANH) {
    for (; p < end8; p += 32) {
      const a = tanhv(v128.load(p));
      const b = tanhv(v128.load(p, 16));
      v128.store(p, a);
      v128.store(p, b, 16);
    }
  }
  for (; p < end4; p += 16) v128.store(p, activate(id, v128.load(p)));
  const r = n & 3;
  if (r != 0) storeLanes(p, activate(id, loadLanes(p, r)), r);
}

/**
 * For tests: applies activation `id` to `n` floats (any n) from `src` into `dst`; a row-wise one
 * over all `n` as one row.
 */
export function activateArray(id: i32, src: usize, dst: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
  activateRow(id, dst, n, n);
}
