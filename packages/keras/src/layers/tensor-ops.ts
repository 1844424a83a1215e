import type { Tensor } from '@gru/core';
import { newArray } from './base.js';

/** Reverses the time axis of [batch, time, ...]. */
export function flipTime(t: Tensor): Tensor {
  const [B, T] = t.shape;
  const H = T === 0 || B === 0 ? 0 : t.data.length / (B * T);
  const out = t.data.slice();
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < T; s++) out.set(t.data.subarray((b * T + s) * H, (b * T + s + 1) * H), (b * T + (T - 1 - s)) * H);
  }
  return { shape: [...t.shape], data: out };
}

/** Concatenates tensors that agree on every axis but the last, along the last. */
export function concatLast(ts: Tensor[], dtype: 'float32' | 'float64'): Tensor {
  return concatAxis(ts, ts[0].shape.length - 1, dtype);
}

/** Concatenates tensors along `axis` (non-negative); they agree on every other axis. */
export function concatAxis(ts: Tensor[], axis: number, dtype: 'float32' | 'float64'): Tensor {
  const shape = [...ts[0].shape];
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const widths = ts.map((t) => t.shape[axis] * inner);
  const total = widths.reduce((a, b) => a + b, 0);
  shape[axis] = ts.reduce((n, t) => n + t.shape[axis], 0);
  const out = newArray(dtype, outer * total);
  for (let o = 0; o < outer; o++) {
    let at = o * total;
    ts.forEach((t, k) => {
      out.set(t.data.subarray(o * widths[k], (o + 1) * widths[k]), at);
      at += widths[k];
    });
  }
  return { shape, data: out };
}
