import vm from 'node:vm';
import { GRU, plainCallInfo, registerBackend, unregisterBackend, type GruSpec } from '@gru/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';

// Arrays core's checks accept but that `instanceof` or a copy through slice()/subarray() would
// misread: another realm's typed arrays (node:vm, iframes) and subclasses overriding @@species.
const other = vm.runInNewContext('({ F32: Float32Array, U8: Uint8Array })') as { F32: Float32ArrayConstructor; U8: Uint8ArrayConstructor };
class Species32 extends Float32Array {
  // A constructor: a new array of `length` (+5 for slice) filled with 100, whatever buffer subarray() gives it.
  static get [Symbol.species]() {
    return class extends Float32Array {
      constructor(...args: [number] | [ArrayBuffer, number, number]) {
        super(args.length === 1 ? args[0] + 5 : args[2]);
        this.fill(100);
      }
    };
  }
}

const [D, H, B, T] = [3, 4, 2, 3];
const spec: GruSpec = { units: H, inputDim: D, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };
const weights = {
  kernel: Float32Array.from({ length: D * 3 * H }, (_, i) => Math.sin(i) / 3),
  recurrentKernel: Float32Array.from({ length: H * 3 * H }, (_, i) => Math.cos(i) / 3),
  bias: Float32Array.from({ length: 6 * H }, (_, i) => i / 50),
};
const x = Float32Array.from({ length: B * T * D }, (_, i) => Math.sin(i * 0.3));
const maskBits = [1, 1, 0, 1, 0, 0];

beforeAll(() => backend.load());

describe('arrays of another realm', () => {
  it('bindForward copies a vm-realm Uint8Array mask as bytes (was read as float32, out of its slot)', async () => {
    const p = await backend.prepare(spec, weights);
    const want = p.forwardSync({ x, batch: B, timesteps: T, mask: Uint8Array.from(maskBits), goBackwards: false, returnSequences: true });
    const output = new Float32Array(B * T * H);
    const lastState = new Float32Array(B * H);
    const bound = p.bindForward!({
      x: other.F32.from(x),
      batch: B,
      timesteps: T,
      mask: other.U8.from(maskBits),
      goBackwards: false,
      returnSequences: true,
      output,
      lastState,
    });
    bound.run();
    bound.dispose();
    expect(Array.from(output)).toEqual(Array.from(want.output));
    expect(Array.from(lastState)).toEqual(Array.from(want.lastState));
    p.dispose();
  });
});

describe('typed-array subclasses whose @@species answers other values', () => {
  const sub = () => ({ kernel: Species32.from(weights.kernel), recurrentKernel: Species32.from(weights.recurrentKernel), bias: Species32.from(weights.bias) });
  const req = { x, batch: B, timesteps: T, goBackwards: false, returnSequences: true };

  it('prepare and setWeights pack the values that were checked', async () => {
    const p = await backend.prepare(spec, weights);
    const want = Array.from(p.forwardSync(req).output);
    const q = await backend.prepare(spec, sub());
    expect(Array.from(q.forwardSync(req).output)).toEqual(want);
    p.setWeights(sub());
    expect(Array.from(p.forwardSync(req).output)).toEqual(want);
    const r = backend.prepareSync!(spec, sub());
    expect(Array.from(r.forwardSync(req).output)).toEqual(want);
    for (const l of [p, q, r]) l.dispose();
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
