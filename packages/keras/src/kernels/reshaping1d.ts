/**
 * Keras 3's `UpSampling1D`, `ZeroPadding1D` and `Cropping1D` (no weights).
 *
 *   upSampling1d(x, { size = 2 }) -> y         x (batch, steps, features) -> (batch, steps * size, features),
 *                                              each step repeated `size` times in place (ops.repeat)
 *   zeroPadding1d(x, { padding = 1, data_format }) -> y
 *                                              padding: int or [before, after] zero steps on the steps axis
 *                                              (axis 1 channels_last, axis 2 channels_first)
 *   cropping1d(x, { cropping = [1, 1] }) -> y  x (batch, steps, features) -> (batch, steps - before - after, features);
 *                                              an error unless before + after < steps, as Keras
 *   reshaping1dComputeMask(): null. None of the three supports masking in Keras 3.15.1: the mask is dropped.
 */
import type { DataFormat } from './conv1d.js';
import { type Tensor, KernelArgumentError, checkChoice, checkInt, checkTensor, sameArray } from './common.js';

export function reshaping1dComputeMask(): null {
  return null;
}

function pair(kernel: string, argument: string, v: unknown): [number, number] {
  if (Array.isArray(v)) {
    if (v.length !== 2)
      throw new KernelArgumentError(kernel, argument, `argument '${argument}' expected an integer or a list of two integers, received a list of ${v.length}`);
    return [checkInt(kernel, argument, v[0], 0), checkInt(kernel, argument, v[1], 0)];
  }
  const n = checkInt(kernel, argument, v, 0);
  return [n, n];
}

export function upSampling1d(x: Tensor, options: { size?: number } = {}): Tensor {
  const K = 'upSampling1d';
  checkTensor(K, 'x', x, 3);
  const size = checkInt(K, 'size', options.size ?? 2, 1);
  const [B, L, F] = x.shape;
  const out = sameArray(x.data, B * L * size * F);
  for (let n = 0; n < B; n++) {
    for (let t = 0; t < L; t++) {
      const row = x.data.subarray((n * L + t) * F, (n * L + t + 1) * F);
      for (let r = 0; r < size; r++) out.set(row, ((n * L + t) * size + r) * F);
    }
  }
  return { shape: [B, L * size, F], data: out };
}

export function zeroPadding1d(x: Tensor, options: { padding?: number | readonly number[]; data_format?: DataFormat } = {}): Tensor {
  const K = 'zeroPadding1d';
  checkTensor(K, 'x', x, 3);
  const [before, after] = pair(K, 'padding', options.padding ?? 1);
  const format = checkChoice(K, 'data_format', options.data_format ?? 'channels_last', ['channels_last', 'channels_first'] as const);
  const [B, d1, d2] = x.shape;
  if (format === 'channels_last') {
    const Lo = d1 + before + after;
    const out = sameArray(x.data, B * Lo * d2);
    for (let n = 0; n < B; n++) out.set(x.data.subarray(n * d1 * d2, (n + 1) * d1 * d2), (n * Lo + before) * d2);
    return { shape: [B, Lo, d2], data: out };
  }
  const Lo = d2 + before + after;
  const out = sameArray(x.data, B * d1 * Lo);
  for (let r = 0; r < B * d1; r++) out.set(x.data.subarray(r * d2, (r + 1) * d2), r * Lo + before);
  return { shape: [B, d1, Lo], data: out };
}

export function cropping1d(x: Tensor, options: { cropping?: number | readonly number[] } = {}): Tensor {
  const K = 'cropping1d';
  checkTensor(K, 'x', x, 3);
  const [before, after] = pair(K, 'cropping', options.cropping ?? [1, 1]);
  const [B, L, F] = x.shape;
  if (before + after >= L) {
    throw new KernelArgumentError(
      K,
      'cropping',
      `argument 'cropping' must crop fewer steps than the input has: input steps ${L}, received cropping [${before}, ${after}]`,
    );
  }
  const Lo = L - before - after;
  const out = sameArray(x.data, B * Lo * F);
  for (let n = 0; n < B; n++) out.set(x.data.subarray((n * L + before) * F, (n * L + before + Lo) * F), n * Lo * F);
  return { shape: [B, Lo, F], data: out };
}
