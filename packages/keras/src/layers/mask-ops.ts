import type { Tensor } from '@gru/core';
import type { CallOf, Shape } from '../config/spec.js';
import { formatShape } from '../errors.js';

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

/** `any` over the last axis of a full mask of `shape`. */
export function anyLast(mask: Uint8Array, shape: number[]): Uint8Array {
  const last = shape[shape.length - 1];
  const rows = last === 0 ? 0 : mask.length / last;
  const out = new Uint8Array(rows);
  for (let r = 0; r < rows; r++) for (let j = 0; j < last; j++) if (mask[r * last + j]) out[r] = 1;
  return out;
}

/**
 * A layer whose `mask=` is one value per step (GRU, Bidirectional, GlobalAveragePooling1D) gets
 * it checked against `want` ((batch, timesteps) of its input) when the model loads, so that a
 * mask read from the wrong tensor is named then, not found by a kernel at predict time.
 */
export function checkStepMask(fail: (message: string) => never, call: CallOf<Shape>, input: Shape, want: Shape): void {
  const mask = call.mask?.[0];
  if (!mask) return;
  if (mask.length !== want.length || mask.some((d, i) => d !== null && want[i] !== null && d !== want[i])) {
    fail(
      `is called with a mask of shape ${formatShape(mask)}; its input of shape ${formatShape(input)} needs a mask of shape ${formatShape(want)} (batch, timesteps).`,
    );
  }
}
