import type { GruGradients } from '@gru/core';
import { expect } from 'vitest';

/**
 * Gradients of the wasm backward kernels are compared with the reference backend's float64
 * backward. float32 sums over batch * timesteps rows differ from float64 by rounding
 * that grows with the gradient's scale, so each gradient is compared relative to its largest
 * element (a wrong formula or a missed path is off by far more).
 */
export const GRADIENT_RTOL = 2e-5;

function worstScaled(got: ArrayLike<number>, want: ArrayLike<number>): number {
  expect(got.length).toBe(want.length);
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]));
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const r = Math.abs(got[i] - want[i]) / (GRADIENT_RTOL * scale + 1e-7);
    if (!(r <= worst)) worst = r;
  }
  return worst;
}

/** Largest scaled error of each gradient, by name (<= 1 passes). */
export function compareGradients(got: GruGradients, want: GruGradients): Record<string, number> {
  const out: Record<string, number> = {};
  for (const key of ['dx', 'dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const) {
    const w = want[key];
    const g = got[key];
    if (w === null || g === null) {
      expect(g).toBe(w);
      continue;
    }
    out[key] = worstScaled(g, w);
  }
  return out;
}
