import { clampv, erfv, expv, sigmoidExpv, sigmoidv, softplusv, splat, tanhv } from './vmath';

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
export const ACT_COUNT: i32 = 26;

const SELU_ALPHA: f32 = 1.6732632423543772848170429916717;
const SELU_SCALE: f32 = 1.0507009873554804934193349852946;

@inline function expm1v(x: v128): v128 {
  return f32x4.sub(expv(x), splat(1.0));
}

@inline function hardSigmoid3(x: v128): v128 {
  return clampv(f32x4.add(f32x4.div(x, splat(6.0)), splat(0.5)), 0.0, 1.0);
}

/** x where `cond` lanes are set, else y. */
@inline function select(cond: v128, x: v128, y: v128): v128 {
  return v128.bitselect(x, y, cond);
}

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
      return clampv(f32x4.add(f32x4.mul(x, splat(0.2)), splat(0.5)), 0.0, 1.0);
    case ACT_RELU:
      return f32x4.pmax(x, zero);
    case ACT_RELU6:
      return clampv(x, 0.0, 6.0);
    case ACT_LEAKY_RELU:
      return f32x4.pmax(x, f32x4.mul(x, splat(0.2)));
    case ACT_ELU:
      return select(f32x4.ge(x, zero), x, expm1v(f32x4.pmin(x, zero)));
    case ACT_SELU:
      return f32x4.mul(splat(SELU_SCALE), select(f32x4.ge(x, zero), x, f32x4.mul(splat(SELU_ALPHA), expm1v(f32x4.pmin(x, zero)))));
    case ACT_CELU:
      return f32x4.add(f32x4.pmax(x, zero), expm1v(f32x4.pmin(x, zero)));
    case ACT_SILU:
      return f32x4.mul(x, sigmoidExpv(x));
    case ACT_HARD_SILU:
      return f32x4.mul(x, hardSigmoid3(x));
    case ACT_SOFTSIGN:
      return f32x4.div(x, f32x4.add(splat(1.0), f32x4.abs(x)));
    case ACT_SOFTPLUS:
      return softplusv(x);
    case ACT_EXPONENTIAL:
      return expv(x);
    case ACT_GELU:
      return f32x4.mul(f32x4.mul(x, splat(0.5)), f32x4.add(erfv(f32x4.mul(x, splat(0.7071067811865476))), splat(1.0)));
    case ACT_HARD_TANH:
      return clampv(x, -1.0, 1.0);
    case ACT_SPARSE_SIGMOID:
      return clampv(f32x4.mul(f32x4.add(x, splat(1.0)), splat(0.5)), 0.0, 1.0);
    case ACT_LOG_SIGMOID:
      return f32x4.neg(softplusv(f32x4.neg(x)));
    case ACT_MISH:
      return f32x4.mul(x, tanhv(softplusv(x)));
    case ACT_TANH_SHRINK:
      return f32x4.sub(x, tanhv(x));
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
    case ACT_SQUAREPLUS: {
      // (x + s)/2 with s = sqrt(x^2 + 4); for x < 0 the equal 2/(s - x) avoids cancellation.
      const s = f32x4.sqrt(f32x4.add(f32x4.mul(x, x), splat(4.0)));
      return select(f32x4.lt(x, zero), f32x4.div(splat(2.0), f32x4.sub(s, x)), f32x4.mul(f32x4.add(x, s), splat(0.5)));
    }
    default:
      return x;
  }
}

/** Applies activation `id` in place to `n` floats at `p` (n a multiple of 4). */
export function activateRow(id: i32, p: usize, n: i32): void {
  const end = p + (<usize>n << 2);
  if (id == ACT_SIGMOID) {
    for (; p < end; p += 16) v128.store(p, sigmoidv(v128.load(p)));
  } else if (id == ACT_TANH) {
    for (; p < end; p += 16) v128.store(p, tanhv(v128.load(p)));
  } else if (id != ACT_LINEAR) {
    for (; p < end; p += 16) v128.store(p, activate(id, v128.load(p)));
  }
}

/** For tests: applies activation `id` to `n` floats (a multiple of 4) from `src` into `dst`. */
export function activateArray(id: i32, src: usize, dst: usize, n: i32): void {
  memory.copy(dst, src, <usize>n << 2);
  activateRow(id, dst, n);
}
