import type { Tensor } from '@gru/core';
import type { CallOf, Shape } from '../config/spec.js';
import { formatShape } from '../errors.js';
import { sameShape, sizeOf } from './base.js';
import { broadcastsTo } from './broadcast-index.js';

/** A mask broadcast to its tensor's full shape (a mask of one value per row spans the last axis; none is all ones). */
export function fullMask(t: Tensor, mask: Uint8Array | null): Uint8Array {
  const n = t.data.length;
  if (mask === null) return new Uint8Array(n).fill(1);
  if (mask.length === n) return mask;
  const last = t.shape[t.shape.length - 1];
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = mask[Math.floor(i / last)];
  return out;
}

/** Logical OR of equal-length masks. */
export function orMasks(masks: Uint8Array[]): Uint8Array {
  const out = masks[0].slice();
  for (const m of masks.slice(1)) for (let i = 0; i < out.length; i++) out[i] = out[i] | m[i];
  return out;
}

/** `any` over the last axis of a full mask of `shape` (a last axis of size 0 masks every row, as Keras's `any` does). */
export function anyLast(mask: Uint8Array, shape: number[]): Uint8Array {
  const last = shape[shape.length - 1];
  const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
  const out = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) for (let j = 0; j < last; j++) if (mask[r * last + j]) out[r] = 1;
  return out;
}

/**
 * A mask of `rows` values per step, from one that may hold `k` values per step: Keras's recurrent
 * scan skips a step when all its k entries are masked (`all(not mask, axis=-1)`), so the step is
 * kept when any entry is. A TimeDistributed(GRU) passes on a (batch, steps, inner steps) mask.
 * A mask that is no whole multiple is returned as it is, for the kernel's length check to name.
 */
export function perStepMask(mask: Uint8Array, rows: number): Uint8Array {
  if (rows <= 0 || mask.length === rows || mask.length % rows !== 0) return mask;
  return anyLast(mask, [rows, mask.length / rows]);
}

/**
 * A layer whose `mask=` is one value per step (GRU, Bidirectional, GlobalAveragePooling1D) gets
 * it checked against `want` ((batch, timesteps) of its input) when the model loads, so that a
 * mask read from the wrong tensor is named then, not found by a kernel at predict time.
 * `recurrent`: a (batch, timesteps, k) mask is accepted too (see `perStepMask`).
 */
export function checkStepMask(fail: (message: string) => never, call: CallOf<Shape>, input: Shape, want: Shape, recurrent = false): void {
  const mask = call.mask?.[0];
  if (!mask) return;
  const rankOk = mask.length === want.length || (recurrent && mask.length === want.length + 1);
  if (!rankOk || want.some((d, i) => d !== null && mask[i] !== null && d !== mask[i])) {
    const also = recurrent ? ` or ${formatShape([...want, null])} (batch, timesteps, k)` : '';
    fail(
      `is called with a mask of shape ${formatShape(mask)}; its input of shape ${formatShape(input)} needs a mask of shape ${formatShape(want)} (batch, timesteps)${also}.`,
    );
  }
}

/** `checkStepMask` for a mask given at call time, whose shape comes with it (`Flow.maskShape`). */
export function checkStepMaskShape(
  fail: (message: string) => never,
  input: readonly number[],
  maskShape: readonly number[],
  want: readonly number[],
  recurrent = false,
): void {
  checkStepMask(fail, { args: [], named: {}, mask: [[...maskShape]], kwargs: {} }, [...input], [...want], recurrent);
}

/**
 * A mask of `shape` broadcast to `target` as numpy broadcasts (`broadcastsTo`), or null when it
 * does not. The mask itself when the shapes are equal; otherwise one copy, made of contiguous
 * runs: the trailing axes the mask shares with the target are copied as one block, a broadcast
 * axis repeats the block written before it (doubling), trailing size-1 axes are a fill.
 */
export function broadcastMask(mask: Uint8Array, shape: readonly number[], target: readonly number[]): Uint8Array | null {
  return broadcastArray(mask, shape, target, (n) => new Uint8Array(n));
}

/** `broadcastMask` for any typed array (a merge's inputs): `make` allocates the copy. */
export function broadcastArray<T extends Uint8Array | Float32Array | Float64Array>(
  mask: T,
  shape: readonly number[],
  target: readonly number[],
  make: (n: number) => T,
): T | null {
  if (!broadcastsTo(shape, target)) return null;
  if (sameShape(shape, target)) return mask;
  const rank = target.length;
  const full = [...new Array<number>(rank - shape.length).fill(1), ...shape];
  const out = make(sizeOf(target));
  if (out.length === 0) return out;
  // Sizes of one step along each axis, in the target and in the mask.
  const tStep = new Array<number>(rank).fill(1);
  const sStep = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) {
    tStep[d] = tStep[d + 1] * target[d + 1];
    sStep[d] = sStep[d + 1] * full[d + 1];
  }
  // From axis `same` on the mask has the target's axes (one contiguous block); from `ones` on, only 1s.
  let same = rank;
  while (same > 0 && full[same - 1] === target[same - 1]) same--;
  let ones = rank;
  while (ones > 0 && full[ones - 1] === 1) ones--;
  const write = (d: number, src: number, dst: number): void => {
    if (d >= same) {
      const n = d === rank ? 1 : tStep[d] * target[d];
      out.set(mask.subarray(src, src + n) as ArrayLike<number>, dst);
    } else if (d >= ones) out.fill(mask[src], dst, dst + tStep[d] * target[d]);
    else if (full[d] === 1) {
      write(d + 1, src, dst);
      const total = tStep[d] * target[d];
      for (let filled = tStep[d]; filled < total; ) {
        const n = Math.min(filled, total - filled);
        out.copyWithin(dst + filled, dst, dst + n);
        filled += n;
      }
    } else for (let j = 0; j < target[d]; j++) write(d + 1, src + j * sStep[d], dst + j * tStep[d]);
  };
  write(0, 0, 0);
  return out;
}
