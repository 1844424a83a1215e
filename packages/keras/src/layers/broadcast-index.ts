import { sizeOf } from './base.js';

/**
 * Whether numpy broadcasts `small` to `big` (right-aligned: each axis 1 or equal, no more axes).
 * `unknown`: an axis of `big` of unknown size (null) takes any size, checked when the model runs.
 */
export function broadcastsTo(small: readonly number[], big: readonly (number | null)[], unknown = false): boolean {
  const lead = big.length - small.length;
  return lead >= 0 && small.every((d, i) => d === 1 || d === big[lead + i] || (unknown && big[lead + i] === null));
}

/**
 * For each flat position of `big`, the flat position of `small` numpy broadcasting reads there
 * (right-aligned; the caller checks `broadcastsTo` first). Used per sample, so its size is one
 * sample's, not the batch's.
 */
export function broadcastIndex(small: readonly number[], big: readonly number[]): Int32Array {
  const rank = big.length;
  const lead = rank - small.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let d = small.length - 1; d >= 0; d--) {
    strides[lead + d] = small[d] === 1 ? 0 : s;
    s *= small[d];
  }
  const out = new Int32Array(sizeOf(big));
  const idx = new Array<number>(rank).fill(0);
  for (let k = 0; k < out.length; k++) {
    let at = 0;
    for (let d = 0; d < rank; d++) at += idx[d] * strides[d];
    out[k] = at;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d] < big[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}
