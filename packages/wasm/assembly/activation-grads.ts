import {
  ACT_CELU,
  ACT_ELU,
  ACT_EXPONENTIAL,
  ACT_GELU,
  ACT_HARD_SHRINK,
  ACT_HARD_SIGMOID,
  ACT_HARD_SILU,
  ACT_HARD_TANH,
  ACT_KERAS2_HARD_SIGMOID,
  ACT_LEAKY_RELU,
  ACT_LINEAR,
  ACT_LOG_SIGMOID,
  ACT_MISH,
  ACT_RELU,
  ACT_RELU6,
  ACT_SELU,
  ACT_SIGMOID,
  ACT_SILU,
  ACT_SOFT_SHRINK,
  ACT_SOFTPLUS,
  ACT_SOFTSIGN,
  ACT_SPARSE_PLUS,
  ACT_SPARSE_SIGMOID,
  ACT_SQUAREPLUS,
  ACT_TANH,
  ACT_TANH_SHRINK,
} from './activations';
import { erfcPos, sigmoid64, softplus64 } from './activations';
import { expv, sigmoidv, splat, tanhv } from './vmath';

// Derivatives of the elementwise activations, dy/dx at pre-activation x with y = f(x): the
// formulas of @gru/core's activations.ts (`df`), which the reference backend differentiates with.
// Kept apart from activations.ts so the forward formulas can change without touching these.

/** Activation codes below this have a derivative here (all of assembly/activations.ts's codes). */
export const GRAD_ACT_COUNT: i32 = 26;

const SELU_ALPHA: f32 = 1.6732632423543772848170429916717;
const SELU_SCALE: f32 = 1.0507009873554804934193349852946;

/** 1 where `cond` lanes are set, else 0 (as floats). */
@inline function ones(cond: v128): v128 {
  return v128.and(cond, splat(1.0));
}

/** `v` where `cond` lanes are set, else 0. */
@inline function keep(cond: v128, v: v128): v128 {
  return v128.and(cond, v);
}

/**
 * 0 where activationGrad(id, x, y) reads only y (tanh, sigmoid, linear, exponential), else 1: a
 * forward call keeping for backward need not keep the pre-activations of such a gate.
 */
export function gradReadsInput(id: i32): i32 {
  return id == ACT_LINEAR || id == ACT_TANH || id == ACT_SIGMOID || id == ACT_EXPONENTIAL ? 0 : 1;
}

/** tanh'(x) from y = tanh(x). */
@inline export function tanhGrad(y: v128): v128 {
  return f32x4.sub(splat(1.0), f32x4.mul(y, y));
}

/** sigmoid'(x) from y = sigmoid(x). */
@inline export function sigmoidGrad(y: v128): v128 {
  return f32x4.mul(y, f32x4.sub(splat(1.0), y));
}

/** f'(x) for activation `id`, given x and y = f(x), four lanes at a time. */
export function activationGrad(id: i32, x: v128, y: v128): v128 {
  const zero = splat(0.0);
  const one = splat(1.0);
  switch (id) {
    case ACT_LINEAR:
      return one;
    case ACT_TANH:
      return tanhGrad(y);
    case ACT_SIGMOID:
      return sigmoidGrad(y);
    case ACT_HARD_SIGMOID:
      return keep(v128.and(f32x4.gt(x, splat(-3.0)), f32x4.lt(x, splat(3.0))), splat(<f32>(1.0 / 6.0)));
    case ACT_KERAS2_HARD_SIGMOID:
      // 0.2 at the corners too, as TensorFlow (Keras 2).
      return keep(v128.and(f32x4.ge(x, splat(-2.5)), f32x4.le(x, splat(2.5))), splat(0.2));
    case ACT_RELU:
      return ones(f32x4.gt(x, zero));
    case ACT_RELU6:
      return ones(v128.and(f32x4.gt(x, zero), f32x4.lt(x, splat(6.0))));
    case ACT_LEAKY_RELU:
      return v128.bitselect(one, splat(0.2), f32x4.gt(x, zero));
    case ACT_ELU:
      return v128.bitselect(one, f32x4.add(y, one), f32x4.ge(x, zero));
    case ACT_SELU:
      return v128.bitselect(splat(SELU_SCALE), f32x4.mul(splat(SELU_SCALE * SELU_ALPHA), expv(f32x4.pmin(x, zero))), f32x4.ge(x, zero));
    case ACT_CELU:
      return v128.bitselect(one, expv(f32x4.pmin(x, zero)), f32x4.gt(x, zero));
    case ACT_SILU: {
      const s = sigmoidv(x);
      return f32x4.mul(s, f32x4.add(one, f32x4.mul(x, f32x4.sub(one, s))));
    }
    case ACT_HARD_SILU: {
      const mid = f32x4.add(f32x4.div(x, splat(3.0)), splat(0.5));
      return v128.bitselect(zero, v128.bitselect(one, mid, f32x4.ge(x, splat(3.0))), f32x4.le(x, splat(-3.0)));
    }
    case ACT_SOFTSIGN: {
      const a = f32x4.add(one, f32x4.abs(x));
      return f32x4.div(one, f32x4.mul(a, a));
    }
    case ACT_SOFTPLUS:
      return sigmoidv(x);
    case ACT_EXPONENTIAL:
      return y;
    case ACT_GELU:
      return gradLanes(ACT_GELU, x);
    case ACT_HARD_TANH:
      // 1 at the corners, as TensorFlow and JAX.
      return ones(v128.and(f32x4.ge(x, splat(-1.0)), f32x4.le(x, one)));
    case ACT_SPARSE_SIGMOID:
      return keep(v128.and(f32x4.gt(x, splat(-1.0)), f32x4.lt(x, one)), splat(0.5));
    case ACT_LOG_SIGMOID:
      return sigmoidv(f32x4.neg(x));
    case ACT_MISH:
      return gradLanes(ACT_MISH, x);
    case ACT_TANH_SHRINK: {
      const t = tanhv(x);
      return f32x4.mul(t, t);
    }
    case ACT_SOFT_SHRINK:
    case ACT_HARD_SHRINK:
      return ones(f32x4.gt(f32x4.abs(x), splat(0.5)));
    case ACT_SPARSE_PLUS: {
      const mid = f32x4.mul(f32x4.add(x, one), splat(0.5));
      return v128.bitselect(zero, v128.bitselect(mid, one, f32x4.lt(x, one)), f32x4.le(x, splat(-1.0)));
    }
    case ACT_SQUAREPLUS: {
      const s = f32x4.sqrt(f32x4.add(f32x4.mul(x, x), splat(4.0)));
      return f32x4.mul(f32x4.add(one, f32x4.div(x, s)), splat(0.5));
    }
    default:
      return one;
  }
}

/**
 * For tests: dst[i] = f'(x[i]) given y = f(x) for `n` floats, any n >= 0. The last n % 4 floats go
 * through the same vector formula one lane each (loaded and stored singly, zeros in the other
 * lanes), so no float past x, y or dst is read or written and each result is the one a longer
 * array gives.
 */
export function activationGradArray(id: i32, x: usize, y: usize, dst: usize, n: i32): void {
  if (n <= 0) return;
  const bytes = <usize>n << 2;
  const whole = bytes & ~(<usize>15);
  for (let o: usize = 0; o < whole; o += 16) v128.store(dst + o, activationGrad(id, v128.load(x + o), v128.load(y + o)));
  for (let o = whole; o < bytes; o += 4) {
    const g = activationGrad(id, f32x4.replace_lane(splat(0.0), 0, load<f32>(x + o)), f32x4.replace_lane(splat(0.0), 0, load<f32>(y + o)));
    store<f32>(dst + o, f32x4.extract_lane(g, 0));
  }
}

/** gelu' and mish' per element in float64, rounded once: their float32 formulas cancel (1 + erf for x < 0). */
function grad64(id: i32, x: f64): f64 {
  if (id == ACT_GELU) {
    const half = 0.5 * erfcPos(Math.abs(x) * 0.7071067811865476);
    const cdf = x >= 0 ? 1 - half : half;
    return cdf + x * 0.3989422804014327 * Math.exp(-0.5 * x * x);
  }
  const t = Math.tanh(softplus64(x));
  return t + x * (1 - t * t) * sigmoid64(x);
}

function gradLanes(id: i32, x: v128): v128 {
  let r = x;
  r = f32x4.replace_lane(r, 0, <f32>grad64(id, <f64>f32x4.extract_lane(x, 0)));
  r = f32x4.replace_lane(r, 1, <f32>grad64(id, <f64>f32x4.extract_lane(x, 1)));
  r = f32x4.replace_lane(r, 2, <f32>grad64(id, <f64>f32x4.extract_lane(x, 2)));
  r = f32x4.replace_lane(r, 3, <f32>grad64(id, <f64>f32x4.extract_lane(x, 3)));
  return r;
}
