import { checkForeignArrays } from '@gru/conformance/testing';
import { GRU, plainCallInfo, registerBackend, unregisterBackend, type GruSpec } from '@gru/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';

const [D, H, B, T] = [3, 4, 2, 3];
const spec: GruSpec = { units: H, inputDim: D, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };
const weights = {
  kernel: Float32Array.from({ length: D * 3 * H }, (_, i) => Math.sin(i) / 3),
  recurrentKernel: Float32Array.from({ length: H * 3 * H }, (_, i) => Math.cos(i) / 3),
  bias: Float32Array.from({ length: 6 * H }, (_, i) => i / 50),
};
const x = Float32Array.from({ length: B * T * D }, (_, i) => Math.sin(i * 0.3));

beforeAll(() => backend.load());

// Another realm's arrays (a bound call's mask was once read as float32, out of its slot) and
// subclasses whose @@species, slice() or @@iterator answer other values (weights were once packed
// through subarray()): the kit's check, on every path the backend has.
describe('arrays of another realm and subclasses', () => {
  it("passes the kit's contract:foreign-arrays, declining only float64", async () => {
    const outcome = await checkForeignArrays(backend);
    expect(outcome.status, outcome.detail).toBe('passed');
    expect(outcome.detail).toBe("not checked: float64 (supports(): the wasm backend computes in float32 only (dtype 'float64' runs on the reference backend))");
  });
});

describe('a subclass whose `length` answers honestly once, then another count', () => {
  it('backward sizes dOutput from the checked count (an engine error before)', async () => {
    const p = await backend.prepare(spec, weights);
    const req = { x, batch: B, timesteps: T, goBackwards: false, returnSequences: true };
    const dOut = Array.from({ length: B * T * H }, (_, i) => Math.cos(i) / 4);
    const want = p.backwardSync!(p.forwardSync({ ...req, keepForBackward: true }).saved, { dOutput: Float32Array.from(dOut) });
    let reads = 0;
    class Shrinks extends Float32Array {
      override get length() {
        return ++reads === 1 ? super.length : 1;
      }
    }
    const got = p.backwardSync!(p.forwardSync({ ...req, keepForBackward: true }).saved, { dOutput: Shrinks.from(dOut) });
    expect(Array.from(got.dKernel)).toEqual(Array.from(want.dKernel));
    p.dispose();
  });
});

describe('inputDim 0', () => {
  const spec0: GruSpec = { ...spec, inputDim: 0 };

  it('supports() declines it with the reason, as prepare refuses it', async () => {
    const said = backend.supports(spec0, plainCallInfo(2, 3));
    expect(said).toMatch(/inputDim 0/);
    await expect(backend.prepare(spec0, { kernel: new Float32Array(0), recurrentKernel: new Float32Array(48), bias: new Float32Array(24) })).rejects.toThrow(
      /inputDim/,
    );
  });

  it('a GRU layer on a [2, 3, 0] input falls back to the reference backend', async () => {
    registerBackend(backend);
    try {
      const gru = new GRU({ units: 4 });
      const r = await gru.forward({ shape: [2, 3, 0], data: new Float32Array(0) });
      expect(r.output.shape).toEqual([2, 4]);
      expect(Array.from(r.output.data as Float32Array).every(Number.isFinite)).toBe(true);
    } finally {
      unregisterBackend(backend.name);
    }
  });
});
