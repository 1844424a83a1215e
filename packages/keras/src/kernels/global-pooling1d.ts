/**
 * Keras 3's `GlobalAveragePooling1D` and `GlobalMaxPooling1D` (no weights).
 *
 *   globalAveragePooling1d(x, mask, options) -> y      globalMaxPooling1d(x, options) -> y
 *     x     channels_last (batch, steps, features) | channels_first (batch, features, steps)
 *     mask  (batch, steps) or null
 *     y     (batch, features); keepdims: channels_last (batch, 1, features), channels_first (batch, features, 1)
 *   options (Keras config names): data_format, keepdims.
 *   globalPooling1dComputeMask(): null (both drop the mask).
 *
 * Masks, exactly as Keras 3.15.1: the average is the sum over unmasked steps divided by their count
 * (a row with every step masked gives 0/0 = NaN in Keras, and here). GlobalMaxPooling1D's call takes
 * no mask, so Keras ignores the mask there: the max runs over every step, masked ones included,
 * which is why globalMaxPooling1d takes no mask argument.
 */
import type { DataFormat } from './conv1d.js';
import { type Mask, type Tensor, checkChoice, checkMask, checkTensor, sameArray } from './common.js';

export interface GlobalPooling1DOptions {
  data_format?: DataFormat;
  keepdims?: boolean;
}

export function globalPooling1dComputeMask(): null {
  return null;
}

export function globalAveragePooling1d(x: Tensor, mask: Mask | null, options: GlobalPooling1DOptions = {}): Tensor {
  return globalPool('globalAveragePooling1d', x, mask, options, false);
}

export function globalMaxPooling1d(x: Tensor, options: GlobalPooling1DOptions = {}): Tensor {
  return globalPool('globalMaxPooling1d', x, null, options, true);
}

function globalPool(kernel: string, x: Tensor, mask: Mask | null, options: GlobalPooling1DOptions, isMax: boolean): Tensor {
  checkTensor(kernel, 'x', x, 3);
  const format = checkChoice(kernel, 'data_format', options.data_format ?? 'channels_last', ['channels_last', 'channels_first'] as const);
  const channelsLast = format === 'channels_last';
  const [B, d1, d2] = x.shape;
  const L = channelsLast ? d1 : d2;
  const F = channelsLast ? d2 : d1;
  checkMask(kernel, 'mask', mask, B, L);
  const xs = x.data;
  const out = sameArray(xs, B * F);
  const acc = new Float64Array(F);
  for (let n = 0; n < B; n++) {
    acc.fill(isMax ? -Infinity : 0);
    let count = 0;
    for (let t = 0; t < L; t++) {
      if (mask && mask[n * L + t] === 0) continue;
      count++;
      for (let f = 0; f < F; f++) {
        const v = channelsLast ? xs[(n * L + t) * F + f] : xs[(n * F + f) * L + t];
        if (!isMax) acc[f] += v;
        else if (v > acc[f] || Number.isNaN(v)) acc[f] = v;
      }
    }
    if (!isMax) for (let f = 0; f < F; f++) acc[f] /= count;
    out.set(acc, n * F);
  }
  const keep = options.keepdims === true;
  const shape = !keep ? [B, F] : channelsLast ? [B, 1, F] : [B, F, 1];
  return { shape, data: out };
}
