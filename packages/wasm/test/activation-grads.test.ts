import { activationDef } from '@gru/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { WASM_ACTIVATIONS } from '../src/index.js';
import type { WasmKernel } from '../src/kernel.js';
import { loadTestKernel, onHeap } from './test-kernel.js';

// activationGradArray (test-only export of assembly/activation-grads.ts) on arrays of any length:
// it stored whole 4-float vectors, so n = 1..3 and 5..7 wrote floats past dst's end and n had to
// be a multiple of 4. Each derivative is checked against @gru/core's `df`, the reference's.

const GUARD = 4;
const SENTINEL = -7;
// No breakpoint of any activation (0, +-0.5, +-1, +-2.5, +-3, 6) among them.
const X = Float32Array.from({ length: 9 + GUARD }, (_, i) => (i - 4.3) * 0.61);

describe('wasm activationGradArray: any length, against the reference derivatives', () => {
  let kernel: WasmKernel;
  beforeAll(async () => {
    kernel = await loadTestKernel();
  });

  const grads = (code: number, x: Float32Array, y: Float32Array, n: number) =>
    onHeap(kernel, [x, y], n + GUARD, SENTINEL, ([px, py], dst) => kernel.exports.activationGradArray(code, px, py, dst, n));

  it('covers every elementwise activation code', () => {
    expect(kernel.exports.GRAD_ACT_COUNT.value).toBe(WASM_ACTIVATIONS.findIndex((id) => !activationDef(id).df));
  });

  it('n = 1..9: the first n derivatives match core within float32 rounding, nothing past them written', () => {
    for (let code = 0; code < kernel.exports.GRAD_ACT_COUNT.value; code++) {
      const id = WASM_ACTIVATIONS[code];
      const def = activationDef(id);
      const f = def.f as (x: number) => number;
      const df = def.df as (x: number, y: number) => number;
      const y = X.map((v) => f(v));
      const whole = grads(code, X, y, X.length);
      for (let n = 1; n <= 9; n++) {
        const got = grads(code, X, y, n);
        expect(Array.from(got.subarray(n)), `${id} n=${n}: written past the end`).toEqual(new Array(GUARD).fill(SENTINEL));
        expect(Array.from(got.subarray(0, n)), `${id} n=${n}: as in a longer array`).toEqual(Array.from(whole.subarray(0, n)));
        for (let i = 0; i < n; i++) {
          const want = df(X[i], y[i]);
          expect(Math.abs(got[i] - want), `${id} x=${X[i]}: ${got[i]} vs ${want}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want)));
        }
      }
    }
  });
});
