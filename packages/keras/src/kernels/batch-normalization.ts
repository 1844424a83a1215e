/**
 * Keras 3's `BatchNormalization` at inference (training=False: the moving statistics).
 *
 *   batchNormalization(x, weights, options) -> y          (y has x's shape)
 *     x        any rank >= 1
 *     weights  { gamma, beta, moving_mean, moving_variance }, each (x.shape[axis],); gamma null when
 *              scale=false, beta null when center=false.
 *              Keras's weight order: gamma (if scale), beta (if center), moving_mean, moving_variance.
 *   options (Keras config names): axis (one int, negative from the end; default -1), epsilon (default 1e-3).
 *   batchNormalizationComputeMask(mask): the mask, unchanged (supports_masking; at inference the mask
 *     changes nothing: Keras uses it only for the batch statistics of training).
 *
 * Keras's formula: inv = gamma / sqrt(moving_variance + epsilon), y = x * inv + (beta - moving_mean * inv),
 * inv and the offset rounded to the dtype once per channel as Keras computes them, y rounded once.
 */
import { type Mask, type Tensor, KernelArgumentError, checkNumber, checkSameDtype, checkShape, checkTensor, roundTo, sameArray } from './common.js';

const K = 'batchNormalization';

export interface BatchNormalizationWeights {
  gamma: Tensor | null;
  beta: Tensor | null;
  moving_mean: Tensor;
  moving_variance: Tensor;
}

export interface BatchNormalizationOptions {
  axis?: number;
  epsilon?: number;
}

export function batchNormalizationComputeMask(mask: Mask | null): Mask | null {
  return mask;
}

export function batchNormalization(x: Tensor, weights: BatchNormalizationWeights, options: BatchNormalizationOptions = {}): Tensor {
  checkTensor(K, 'x', x, { min: 1 });
  const rank = x.shape.length;
  const axisIn = options.axis ?? -1;
  if (typeof axisIn !== 'number' || !Number.isInteger(axisIn) || axisIn >= rank || axisIn < -rank) {
    throw new KernelArgumentError(
      K,
      'axis',
      `argument 'axis' expected an integer in [${-rank}, ${rank - 1}] for an input of rank ${rank}, received ${JSON.stringify(axisIn)}`,
    );
  }
  const axis = axisIn < 0 ? axisIn + rank : axisIn;
  const eps = checkNumber(K, 'epsilon', options.epsilon ?? 1e-3);
  const C = x.shape[axis];
  if (!weights || typeof weights !== 'object') {
    throw new KernelArgumentError(K, 'weights', `argument 'weights' expected {gamma, beta, moving_mean, moving_variance}, received ${String(weights)}`);
  }
  for (const name of ['gamma', 'beta', 'moving_mean', 'moving_variance'] as const) {
    const t = weights[name];
    if (!t && (name === 'gamma' || name === 'beta')) continue;
    checkShape(K, name, t as Tensor, [C]);
    checkSameDtype(K, name, t as Tensor, x.data);
  }
  const xs = x.data;
  const inv = new Float64Array(C);
  const res = new Float64Array(C);
  const mean = weights.moving_mean.data;
  const variance = weights.moving_variance.data;
  const gamma = weights.gamma?.data;
  const beta = weights.beta?.data;
  for (let c = 0; c < C; c++) {
    let i = roundTo(xs, 1 / roundTo(xs, Math.sqrt(roundTo(xs, variance[c] + eps))));
    if (gamma) i = roundTo(xs, i * gamma[c]);
    let r = roundTo(xs, -mean[c] * i);
    if (beta) r = roundTo(xs, r + beta[c]);
    inv[c] = i;
    res[c] = r;
  }
  // Elements of channel c repeat every `inner` values, in blocks of C * inner.
  let inner = 1;
  for (let d = axis + 1; d < rank; d++) inner *= x.shape[d];
  const out = sameArray(xs, xs.length);
  const block = C * inner;
  for (let o = 0; o < xs.length; o += block) {
    for (let c = 0; c < C; c++) {
      const i = inv[c];
      const r = res[c];
      const start = o + c * inner;
      for (let k = start; k < start + inner; k++) out[k] = xs[k] * i + r;
    }
  }
  return { shape: [...x.shape], data: out };
}
