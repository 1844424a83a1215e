import { beforeAll, describe, expect, it } from 'vitest';
import { FIRST_ROWWISE_CODE } from '../src/activation-codes.js';
import { backend, WASM_ACTIVATIONS } from '../src/index.js';
import type { WasmKernel } from '../src/kernel.js';
import { rng } from './helpers.js';

// Forward keeps a gate's pre-activations for backward only where its activation's derivative reads
// them (gradReadsInput); for the others the kept rows hold whatever was there before. This checks
// the claim the skip rests on: those derivatives are bitwise the same whatever x holds.
describe('derivatives that read only the output ignore the pre-activation', () => {
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

  function grad(code: number, x: Float32Array, y: Float32Array): Float32Array {
    const n = x.length;
    const [px, py, pd] = ['x', 'y', 'dst'].map((what) => kernel.heap.alloc(n * 4, `test ${what}`));
    try {
      kernel.f32(px, n).set(x);
      kernel.f32(py, n).set(y);
      kernel.exports.activationGradArray(code, px, py, pd, n);
      return kernel.f32(pd, n).slice();
    } finally {
      for (const p of [px, py, pd]) kernel.heap.release(p);
    }
  }

  it('exactly tanh, sigmoid, linear and exponential skip the kept pre-activations', () => {
    const skipped = WASM_ACTIVATIONS.slice(0, FIRST_ROWWISE_CODE).filter((_, code) => kernel.exports.gradReadsInput(code) === 0);
    expect([...skipped].sort()).toEqual(['exponential', 'linear', 'sigmoid', 'tanh']);
  });

  it('each derivative is bitwise the same for two unrelated x when it skips, and differs when it reads x', () => {
    const rand = rng(16);
    const n = 64;
    const y = Float32Array.from(rand.uniform(n), (v) => v * 0.9);
    // Stale contents of a kept row: other pre-activations, NaN and infinities among them.
    const xa = Float32Array.from(rand.uniform(n), (v) => v * 8);
    const xb = Float32Array.from(rand.uniform(n), (v, i) => (i % 7 === 0 ? Number.NaN : i % 11 === 0 ? -Infinity : v * 8));
    for (let code = 0; code < FIRST_ROWWISE_CODE; code++) {
      const a = grad(code, xa, y),
        b = grad(code, xb, y);
      const same = a.every((v, i) => Object.is(v, b[i]));
      expect(same, `${WASM_ACTIVATIONS[code]}: gradReadsInput ${kernel.exports.gradReadsInput(code)}`).toBe(kernel.exports.gradReadsInput(code) === 0);
    }
  });
});
