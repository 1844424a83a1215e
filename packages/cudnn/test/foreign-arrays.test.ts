import vm from 'node:vm';
import { GRU, plainCallInfo, registerBackend, unregisterBackend, type GruSpec } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { emulatedBackend } from './helpers.js';

// Arrays core's checks accept whose copy through slice() (@@species) or Float32Array.from
// (@@iterator) would not be what was checked, and arrays of another realm (no `instanceof`).
const [D, H, B, T] = [3, 4, 1, 2];
const spec: GruSpec = { units: H, inputDim: D, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };
const weights = {
  kernel: Float32Array.from({ length: D * 3 * H }, (_, i) => Math.sin(i)),
  recurrentKernel: Float32Array.from({ length: H * 3 * H }, (_, i) => Math.cos(i)),
  bias: Float32Array.from({ length: 6 * H }, (_, i) => i / 10),
};
class Long32 extends Float32Array {
  static get [Symbol.species]() {
    return class extends Float32Array {
      constructor(n: number) {
        super(n + 5000);
        this.fill(7);
      }
    };
  }
}
class Iter64 extends Float64Array {}
Object.defineProperty(Iter64.prototype, Symbol.iterator, {
  *value() {
    for (let i = 0; i < 5000; i++) yield 9;
  },
});
const other = vm.runInNewContext('({ F32: Float32Array, F64: Float64Array })') as { F32: Float32ArrayConstructor; F64: Float64ArrayConstructor };
const values = [0.1, -0.2, 0.3, 0.5, -0.7, 0.9];

describe('x copied as the values that were checked', () => {
  const cases: [string, () => Float32Array | Float64Array][] = [
    ['a Float32Array subclass whose @@species answers a longer array', () => Long32.from(values)],
    ['a Float64Array subclass whose @@iterator yields 5000 values', () => Iter64.from(values)],
    ['a Float32Array of another realm', () => other.F32.from(values)],
    ['a Float64Array of another realm', () => other.F64.from(values)],
  ];
  for (const [name, make] of cases) {
    for (const goBackwards of [false, true]) {
      it(`${name}${goBackwards ? ', goBackwards' : ''}`, async () => {
        const { backend } = emulatedBackend('foreign-arrays');
        const p = await backend.prepare(spec, weights);
        const req = { batch: B, timesteps: T, goBackwards, returnSequences: true };
        const want = await p.forward({ ...req, x: Float32Array.from(values) });
        const got = await p.forward({ ...req, x: make() });
        expect(got.output.length).toBe(B * T * H);
        expect(Array.from(got.output)).toEqual(Array.from(want.output));
        p.dispose();
      });
    }
  }
});

describe('inputDim 0', () => {
  it('supports() declines it with the reason (prepare refuses it), so a layer falls back', async () => {
    const { backend } = emulatedBackend('cudnn-d0');
    await backend.load();
    const spec0: GruSpec = { ...spec, inputDim: 0 };
    expect(backend.supports(spec0, plainCallInfo(2, 3))).toMatch(/inputDim 0/);
    expect(backend.supportsBackward!(spec0)).toMatch(/inputDim 0/);
    await expect(backend.prepare(spec0, { kernel: new Float32Array(0), recurrentKernel: new Float32Array(48), bias: new Float32Array(24) })).rejects.toThrow(
      /inputDim/,
    );
    registerBackend(backend);
    try {
      const gru = new GRU({ units: 4 });
      const r = await gru.forward({ shape: [2, 3, 0], data: new Float32Array(0) });
      expect(r.output.shape).toEqual([2, 4]);
    } finally {
      unregisterBackend(backend.name);
    }
  });
});
