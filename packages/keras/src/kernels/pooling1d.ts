/**
 * Keras 3's `MaxPooling1D` and `AveragePooling1D` (no weights).
 *
 *   maxPooling1d(x, options) -> y        averagePooling1d(x, options) -> y
 *     x  channels_last (batch, steps, channels) | channels_first (batch, channels, steps)
 *     y  the same layout with outSteps = pooling1dOutputLength(steps, pool_size, strides, padding)
 *   options (Keras config names): pool_size (default 2), strides (null or absent: pool_size),
 *     padding ('valid' | 'same'), data_format.
 *   pooling1dOutputLength: Keras's compute_pooling_output_shape: valid floor((steps - pool)/strides) + 1
 *     (an error when under 1), same floor((steps - 1)/strides) + 1.
 *   pooling1dComputeMask(): null (Keras's pooling layers do not support masking: the mask is dropped).
 *
 * 'same' pads max((out-1)*strides + pool - steps, 0) positions, the smaller half before; max pooling
 * never picks a padded position and average pooling divides by the number of real positions in
 * each window (Keras counts them with a second pooling of ones), not by pool_size.
 */
import { oneInt, swapLastTwo, type DataFormat } from './conv1d.js';
import { type Tensor, KernelArgumentError, checkChoice, checkTensor, sameArray } from './common.js';

export type PoolPadding = 'valid' | 'same';

export interface Pooling1DOptions {
  pool_size?: number | readonly number[];
  strides?: number | readonly number[] | null;
  padding?: PoolPadding;
  data_format?: DataFormat;
}

export function pooling1dComputeMask(): null {
  return null;
}

export function pooling1dOutputLength(steps: number, pool: number, strides: number, padding: PoolPadding, kernel = 'pooling1d'): number {
  if (padding === 'valid') {
    const out = Math.floor((steps - pool) / strides) + 1;
    if (out <= 0) {
      throw new KernelArgumentError(
        kernel,
        'x',
        `argument 'x' is too short: computed output size would be zero or negative (expected steps >= ${pool}): steps ${steps}, pool_size ${pool}, strides ${strides}, padding 'valid'`,
      );
    }
    return out;
  }
  return steps === 0 ? 0 : Math.floor((steps - 1) / strides) + 1;
}

export function maxPooling1d(x: Tensor, options: Pooling1DOptions = {}): Tensor {
  return pool1d('maxPooling1d', x, options, true);
}

export function averagePooling1d(x: Tensor, options: Pooling1DOptions = {}): Tensor {
  return pool1d('averagePooling1d', x, options, false);
}

function pool1d(kernel: string, x: Tensor, options: Pooling1DOptions, isMax: boolean): Tensor {
  checkTensor(kernel, 'x', x, 3);
  const pool = oneInt(kernel, 'pool_size', options.pool_size ?? 2, 1);
  const strides = oneInt(kernel, 'strides', options.strides ?? pool, 1);
  const padding = checkChoice(kernel, 'padding', options.padding ?? 'valid', ['valid', 'same'] as const);
  const format = checkChoice(kernel, 'data_format', options.data_format ?? 'channels_last', ['channels_last', 'channels_first'] as const);
  const channelsLast = format === 'channels_last';
  const [B, d1, d2] = x.shape;
  const L = channelsLast ? d1 : d2;
  const C = channelsLast ? d2 : d1;
  const Lout = pooling1dOutputLength(L, pool, strides, padding, kernel);
  const left = padding === 'same' ? Math.floor(Math.max((Lout - 1) * strides + pool - L, 0) / 2) : 0;

  const xs = channelsLast ? x.data : swapLastTwo(x.data, B, C, L);
  const out = sameArray(x.data, B * Lout * C);
  const acc = new Float64Array(C);
  for (let n = 0; n < B; n++) {
    for (let t = 0; t < Lout; t++) {
      const start = Math.max(t * strides - left, 0);
      const end = Math.min(t * strides - left + pool, L);
      acc.fill(isMax ? -Infinity : 0);
      for (let p = start; p < end; p++) {
        const row = (n * L + p) * C;
        if (isMax) {
          for (let c = 0; c < C; c++) {
            const v = xs[row + c];
            // NaN wins, as in Keras's max.
            if (v > acc[c] || Number.isNaN(v)) acc[c] = v;
          }
        } else {
          for (let c = 0; c < C; c++) acc[c] += xs[row + c];
        }
      }
      if (!isMax) {
        const count = end - start;
        for (let c = 0; c < C; c++) acc[c] /= count;
      }
      out.set(acc, (n * Lout + t) * C);
    }
  }
  const data = channelsLast ? out : swapLastTwo(out, B, Lout, C);
  return { shape: channelsLast ? [B, Lout, C] : [B, C, Lout], data };
}
