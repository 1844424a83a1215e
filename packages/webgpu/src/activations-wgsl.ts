import type { ActivationId } from '@gru/core';
import { isRowActivation } from './activations-rowwise-wgsl.js';

/**
 * Keras's elementwise activations as WGSL expressions of `x` (f32), matching
 * packages/core/src/activations.ts. Row-wise activations (softmax, log_softmax, sparsemax, glu)
 * are in activations-rowwise-wgsl.ts.
 *
 * tanh, erf and log1p are written out instead of using WGSL's tanh: some drivers compute tanh as
 * sinh/cosh, which overflows to NaN for |x| > ~44, and WGSL has no erf or log1p.
 */
const EXPRESSIONS: Record<string, string> = {
  linear: 'x',
  tanh: 'gru_tanh(x)',
  sigmoid: 'gru_sigmoid(x)',
  hard_sigmoid: 'clamp(x / 6.0 + 0.5, 0.0, 1.0)',
  keras2_hard_sigmoid: 'clamp(0.2 * x + 0.5, 0.0, 1.0)',
  relu: 'max(x, 0.0)',
  relu6: 'clamp(x, 0.0, 6.0)',
  leaky_relu: 'max(x, 0.2 * x)',
  elu: 'select(exp(x) - 1.0, x, x >= 0.0)',
  selu: '1.0507009873554805 * select(1.6732632423543772 * (exp(x) - 1.0), x, x >= 0.0)',
  celu: 'max(x, 0.0) + exp(min(x, 0.0)) - 1.0',
  softplus: 'gru_softplus(x)',
  softsign: 'x / (1.0 + abs(x))',
  silu: 'x * gru_sigmoid(x)',
  hard_silu: 'x * clamp(x / 6.0 + 0.5, 0.0, 1.0)',
  gelu: '0.5 * x * (1.0 + gru_erf(x * 0.7071067811865476))',
  mish: 'x * gru_tanh(gru_softplus(x))',
  exponential: 'exp(x)',
  log_sigmoid: '-gru_softplus(-x)',
  sparse_sigmoid: 'clamp(0.5 * (x + 1.0), 0.0, 1.0)',
  hard_tanh: 'clamp(x, -1.0, 1.0)',
  tanh_shrink: 'x - gru_tanh(x)',
  soft_shrink: 'select(select(0.0, x + 0.5, x < -0.5), x - 0.5, x > 0.5)',
  hard_shrink: 'select(0.0, x, abs(x) > 0.5)',
  sparse_plus: 'select(select(0.25 * (x + 1.0) * (x + 1.0), x, x >= 1.0), 0.0, x <= -1.0)',
  // For x < 0, (x + sqrt(x^2 + 4)) / 2 cancels; 2 / (sqrt(x^2 + 4) - x) is the same value.
  squareplus: 'select(2.0 / (sqrt(x * x + 4.0) - x), 0.5 * (x + sqrt(x * x + 4.0)), x >= 0.0)',
};

/**
 * Derivatives dy/dx as WGSL expressions of `x` and `y = f(x)`, the same one-sided choices at the
 * kinks as core's activation table (the backward pass must match the reference gradients).
 */
const DERIVATIVES: Record<string, string> = {
  linear: '1.0',
  tanh: '1.0 - y * y',
  sigmoid: 'y * (1.0 - y)',
  hard_sigmoid: 'select(0.0, 1.0 / 6.0, x > -3.0 && x < 3.0)',
  keras2_hard_sigmoid: 'select(0.0, 0.2, x >= -2.5 && x <= 2.5)',
  relu: 'select(0.0, 1.0, x > 0.0)',
  relu6: 'select(0.0, 1.0, x > 0.0 && x < 6.0)',
  leaky_relu: 'select(0.2, 1.0, x > 0.0)',
  elu: 'select(y + 1.0, 1.0, x >= 0.0)',
  selu: 'select(1.0507009873554805 * 1.6732632423543772 * exp(x), 1.0507009873554805, x >= 0.0)',
  celu: 'select(exp(x), 1.0, x > 0.0)',
  softplus: 'gru_sigmoid(x)',
  softsign: '1.0 / ((1.0 + abs(x)) * (1.0 + abs(x)))',
  silu: 'gru_dsilu(x)',
  hard_silu: 'select(select(x / 3.0 + 0.5, 1.0, x >= 3.0), 0.0, x <= -3.0)',
  gelu: 'gru_dgelu(x)',
  mish: 'gru_dmish(x)',
  exponential: 'y',
  log_sigmoid: 'gru_sigmoid(-x)',
  sparse_sigmoid: 'select(0.0, 0.5, x > -1.0 && x < 1.0)',
  hard_tanh: 'select(0.0, 1.0, x >= -1.0 && x <= 1.0)',
  tanh_shrink: 'gru_tanh(x) * gru_tanh(x)',
  soft_shrink: 'select(0.0, 1.0, x > 0.5 || x < -0.5)',
  hard_shrink: 'select(0.0, 1.0, abs(x) > 0.5)',
  sparse_plus: 'select(select(0.5 * (x + 1.0), 1.0, x >= 1.0), 0.0, x <= -1.0)',
  squareplus: '0.5 * (1.0 + x / sqrt(x * x + 4.0))',
};

/** Helpers the expressions call; unused ones are dropped by the shader compiler. */
const HELPERS = /* wgsl */ `
fn gru_tanh(x: f32) -> f32 {
  let a = abs(x);
  // Near 0, 1 - e loses digits; the odd series is exact to f32 there.
  if (a < 0.0625) {
    let x2 = x * x;
    return x * (1.0 + x2 * (-0.3333333333 + x2 * (0.1333333333 - x2 * 0.0539682540)));
  }
  let e = exp(-2.0 * a);
  let t = (1.0 - e) / (1.0 + e);
  return select(t, -t, x < 0.0);
}
fn gru_sigmoid(x: f32) -> f32 {
  // exp of a non-positive number never overflows.
  let e = exp(-abs(x));
  let s = 1.0 / (1.0 + e);
  return select(e * s, s, x >= 0.0);
}
fn gru_log1p(y: f32) -> f32 {
  // log(1 + y) for 0 <= y <= 1 as 2 atanh(s), s = y / (2 + y) <= 1/3, by its series: WGSL's log
  // is only good to 2^-21 absolute near 1, far too coarse for softplus of a very negative x.
  let s = y / (2.0 + y);
  let s2 = s * s;
  return 2.0 * s * (1.0 + s2 * (0.33333333 + s2 * (0.2 + s2 * (0.14285714 + s2 * (0.11111111 +
    s2 * (0.09090909 + s2 * (0.07692308 + s2 * 0.06666667)))))));
}
fn gru_softplus(x: f32) -> f32 {
  return max(x, 0.0) + gru_log1p(exp(-abs(x)));
}
fn gru_erf(x: f32) -> f32 {
  // Abramowitz & Stegun 7.1.26 is only good to 1.5e-7 absolute; this is W. J. Cody's rational
  // form as used by Numerical Recipes' erfc (fractional error < 1.2e-7 everywhere).
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let r = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277)))))))));
  let e = 1.0 - r;
  return select(-e, e, x >= 0.0);
}
fn gru_dsilu(x: f32) -> f32 {
  let s = gru_sigmoid(x);
  return s * (1.0 + x * (1.0 - s));
}
fn gru_dgelu(x: f32) -> f32 {
  let cdf = 0.5 * (gru_erf(x * 0.7071067811865476) + 1.0);
  return cdf + x * exp(-0.5 * x * x) * 0.3989422804014327;
}
fn gru_dmish(x: f32) -> f32 {
  let t = gru_tanh(gru_softplus(x));
  return t + x * (1.0 - t * t) * gru_sigmoid(x);
}
`;

/** The activations the WGSL kernels implement, by spec id. */
export const WGSL_ACTIVATIONS: readonly string[] = Object.keys(EXPRESSIONS);

export function hasWgslActivation(id: ActivationId): boolean {
  return id in EXPRESSIONS;
}

/** The WGSL expression (of `x`) for an activation; the helpers it may call are in `ACTIVATION_HELPERS`. */
export function activationExpression(id: ActivationId): string {
  const e = EXPRESSIONS[id];
  if (e === undefined) throw new Error(`webgpu: activation '${id}' has no WGSL implementation`);
  return e;
}

export const ACTIVATION_HELPERS = HELPERS;

/** The WGSL expression (of `x` and `y = f(x)`) for an activation's derivative. */
export function derivativeExpression(id: ActivationId): string {
  const e = DERIVATIVES[id];
  if (e === undefined) throw new Error(`webgpu: activation '${id}' has no WGSL derivative`);
  return e;
}

/** WGSL for `fn dact(x, y)` and `fn dract(x, y)`: the derivatives of `act` and `ract`. */
export function derivativeFunctions(activation: ActivationId, recurrentActivation: ActivationId): string {
  return `fn dact(x: f32, y: f32) -> f32 { return ${derivativeExpression(activation)}; }
fn dract(x: f32, y: f32) -> f32 { return ${derivativeExpression(recurrentActivation)}; }
`;
}

/**
 * WGSL for `fn act(x)` (the candidate's activation) and `fn ract(x)` (the gates'); a row-wise one
 * has no elementwise form, so its function is left out (the row-wise kernels do not call it).
 */
export function activationFunctions(activation: ActivationId, recurrentActivation: ActivationId): string {
  const fn = (name: string, id: ActivationId) => (isRowActivation(id) ? '' : `fn ${name}(x: f32) -> f32 { return ${activationExpression(id)}; }\n`);
  return `${HELPERS}
${fn('act', activation)}${fn('ract', recurrentActivation)}`;
}
