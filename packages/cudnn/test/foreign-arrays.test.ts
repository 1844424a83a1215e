import { asHostileSubclass, checkForeignArrays, inOtherRealm } from '@gru/conformance/testing';
import { GRU, plainCallInfo, registerBackend, unregisterBackend, type GruSpec } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { emulatedBackend } from './helpers.js';

const [D, H, B, T] = [3, 4, 1, 2];
const spec: GruSpec = { units: H, inputDim: D, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };
const weights = {
  kernel: Float32Array.from({ length: D * 3 * H }, (_, i) => Math.sin(i)),
  recurrentKernel: Float32Array.from({ length: H * 3 * H }, (_, i) => Math.cos(i)),
  bias: Float32Array.from({ length: 6 * H }, (_, i) => i / 10),
};
const values = [0.1, -0.2, 0.3, 0.5, -0.7, 0.9];

// Arrays core's checks accept whose copy through slice() (@@species) or Float32Array.from
// (@@iterator) would not be what was checked, and arrays of another realm (no `instanceof`): the
// kit's check over the emulated device, on every path the backend has.
describe('arrays of another realm and subclasses', () => {
  it("passes the kit's contract:foreign-arrays", async () => {
    const { backend } = emulatedBackend('foreign-arrays-kit');
    await backend.load();
    const outcome = await checkForeignArrays(backend);
    expect(outcome.status, outcome.detail).toBe('passed');
    // Named, not skipped silently: the masks cuDNN's rules decline (right-padded ones ran, with initialState).
    expect(outcome.detail).toBe(
      'not checked: ' +
        'float32 mask (any) (supports(): the mask is not strictly right-padded (cuDNN needs sequence lengths)); ' +
        'float64 mask (any) (supports(): the mask is not strictly right-padded (cuDNN needs sequence lengths))',
    );
  });
});

// What the kit does not try: x reversed on the host (goBackwards), and float64 arrays for a
// float32 layer (cudnn converts either float type).
describe('x copied as the values that were checked', () => {
  const cases: [string, () => Float32Array | Float64Array, boolean[]][] = [
    [
      'a Float32Array subclass whose @@iterator, slice(), subarray() and @@species answer other values',
      () => asHostileSubclass(Float32Array.from(values)),
      [true],
    ],
    ['a Float32Array of another realm', () => inOtherRealm(Float32Array.from(values)), [true]],
    [
      'a Float64Array subclass whose @@iterator, slice(), subarray() and @@species answer other values',
      () => asHostileSubclass(Float64Array.from(values)),
      [false, true],
    ],
    ['a Float64Array of another realm', () => inOtherRealm(Float64Array.from(values)), [false, true]],
  ];
  for (const [name, make, directions] of cases) {
    for (const goBackwards of directions) {
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
