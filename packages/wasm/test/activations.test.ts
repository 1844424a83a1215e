import { activationDef } from '@gru/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend, WASM_ACTIVATIONS } from '../src/index.js';
import type { WasmKernel } from '../src/kernel.js';

/** Inputs: a dense grid over [-12, 12], the regions where formulas switch, and extremes. */
function inputs(): Float32Array {
  const xs: number[] = [];
  for (let i = -1200; i <= 1200; i++) xs.push(i / 100);
  for (let i = -300; i <= 300; i++) xs.push(i / 1000);
  xs.push(-100, -88.5, -88, -80, -40, -20, 20, 40, 80, 88, 88.5, 100, 1e-6, -1e-6, 1e-30, -1e-30, 0);
  while (xs.length % 4) xs.push(0);
  return Float32Array.from(xs);
}

/**
 * gelu's 1 + erf(x/sqrt 2) cancels for x << 0, so its float32 error is a few ulps of erf times
 * |x| (Keras's own float32 gelu rounds the same term to 0 there). sigmoid is computed as
 * (1 + tanh(x/2))/2, which returns 0 below x = -15.8, where the exact value is under 1.4e-7.
 */
const LOOSER: Record<string, number> = { gelu: 2e-7, sigmoid: 1.5e-7 };

describe('vectorized activations match @gru/core (float64) within float32 accuracy', () => {
  let kernel: WasmKernel;
  beforeAll(async () => {
    await backend.load();
    const prepared = backend.prepareSync(
      { units: 1, inputDim: 1, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: false, resetAfter: true, dtype: 'float32' },
      { kernel: new Float32Array(3), recurrentKernel: new Float32Array(3), bias: null },
    );
    kernel = (prepared as unknown as { kernel: WasmKernel }).kernel;
    prepared.dispose();
  });

  it('the module and the TypeScript table agree on the number of activations', () => {
    expect(kernel.exports.ACT_COUNT.value).toBe(WASM_ACTIVATIONS.length);
  });

  for (const [code, id] of WASM_ACTIVATIONS.entries()) {
    it(`${id}`, () => {
      const xs = inputs();
      const n = xs.length;
      const src = kernel.heap.alloc(n * 4, 'test input');
      const dst = kernel.heap.alloc(n * 4, 'test output');
      try {
        kernel.f32(src, n).set(xs);
        kernel.exports.activateArray(code, src, dst, n);
        const got = kernel.f32(dst, n).slice();
        const f = activationDef(id).f as (x: number) => number;
        let worst = 0;
        let at = 0;
        for (let i = 0; i < n; i++) {
          const want = f(xs[i]);
          if (!Number.isFinite(Math.fround(want))) {
            expect(got[i], `${id}(${xs[i]})`).toBe(Math.fround(want));
            continue;
          }
          // A few float32 ulps, absolute near zero: far inside conformance's 5e-6 + 1e-5*|want|.
          const atol = (LOOSER[id] ?? 1e-7) * Math.max(1, Math.abs(xs[i]));
          const err = Math.abs(got[i] - want) / (atol + 1e-6 * Math.abs(want));
          if (err > worst) {
            worst = err;
            at = i;
          }
        }
        expect(worst, `${id}: worst at x=${xs[at]}: got ${got[at]}, want ${f(xs[at])}`).toBeLessThanOrEqual(1);
      } finally {
        kernel.heap.release(src);
        kernel.heap.release(dst);
      }
    });
  }
});
