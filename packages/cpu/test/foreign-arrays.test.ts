import { asHostileSubclass, checkForeignArrays, inOtherRealm } from '@gru/conformance/testing';
import { GruError, type GruSpec } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';

const [D, H, B, T] = [3, 4, 2, 3];
const spec: GruSpec = { units: H, inputDim: D, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };
const weights = {
  kernel: Float32Array.from({ length: D * 3 * H }, (_, i) => Math.sin(i) / 3),
  recurrentKernel: Float32Array.from({ length: H * 3 * H }, (_, i) => Math.cos(i) / 3),
  bias: Float32Array.from({ length: 6 * H }, (_, i) => i / 50),
};
const x = Float32Array.from({ length: B * T * D }, (_, i) => Math.sin(i * 0.3));
const plain = { x, batch: B, timesteps: T, goBackwards: false, returnSequences: false };
const dOut = Array.from({ length: B * T * H }, (_, i) => Math.cos(i) / 4);

describe('cpu: arrays of another realm and subclasses', () => {
  it("passes the kit's contract:foreign-arrays (float32 arrays on every path), declining only float64", async () => {
    const outcome = await checkForeignArrays(backend);
    expect(outcome.status, outcome.detail).toBe('passed');
    expect(outcome.detail).toBe("not checked: float64 (supports(): the cpu backend computes in float32 only (dtype 'float64' runs on the reference backend))");
  });

  // cpu converts either float type (core's anyFloat): the float64 arrays of a float32 layer too.
  it('backward takes another realm’s Float64Array dOutput for a float32 layer, as core and the reference do', async () => {
    const p = await backend.prepare(spec, weights);
    const r = p.forwardSync({ x, batch: B, timesteps: T, goBackwards: false, returnSequences: true, keepForBackward: true });
    const want = p.backwardSync!(r.saved, { dOutput: Float64Array.from(dOut) });
    const got = await p.backward!(r.saved, { dOutput: inOtherRealm(Float64Array.from(dOut)) });
    expect(Array.from(got.dKernel)).toEqual(Array.from(want.dKernel));
    p.dispose();
  });

  it('float64 weights of a float32 layer whose @@iterator answers other values are packed as checked', async () => {
    const p = await backend.prepare(spec, weights);
    const want = Array.from(p.forwardSync(plain).output);
    const sub = () => ({
      kernel: asHostileSubclass(Float64Array.from(weights.kernel)),
      recurrentKernel: asHostileSubclass(Float64Array.from(weights.recurrentKernel)),
      bias: asHostileSubclass(Float64Array.from(weights.bias)),
    });
    const q = await backend.prepare(spec, sub());
    expect(Array.from(q.forwardSync(plain).output)).toEqual(want);
    p.setWeights(sub());
    expect(Array.from(p.forwardSync(plain).output)).toEqual(want);
    p.dispose();
    q.dispose();
  });
});

describe('cpu: requests as core reads them', () => {
  it('goBackwards and returnSequences may be left out (false), as in core', async () => {
    const p = await backend.prepare(spec, weights);
    const want = p.forwardSync({ x, batch: B, timesteps: T, goBackwards: false, returnSequences: false });
    const got = p.forwardSync({ x, batch: B, timesteps: T } as Parameters<typeof p.forwardSync>[0]);
    expect(Array.from(got.output)).toEqual(Array.from(want.output));
    const output = new Float32Array(B * H);
    const bound = p.bindForward!({ x, batch: B, timesteps: T, output, lastState: new Float32Array(B * H) } as Parameters<NonNullable<typeof p.bindForward>>[0]);
    bound.run();
    bound.dispose();
    expect(Array.from(output)).toEqual(Array.from(want.output));
    p.dispose();
  });

  it("backward's gradients are checked by core, in backward's name", async () => {
    const p = await backend.prepare(spec, weights);
    const r = await p.forward({ x, batch: B, timesteps: T, goBackwards: false, returnSequences: true, keepForBackward: true });
    const err = await p.backward!(r.saved, { dOutput: new Float32Array(B * H) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GruError);
    expect((err as GruError).kerasType).toBe('ValueError');
    expect((err as Error).message).toMatch(/^cpu backward: `dOutput` must be a Float32Array or Float64Array of 24 values .*received Float32Array\(8\)/);
    expect(() => p.backwardSync!(r.saved, { dOutput: Float64Array.from(dOut), inputGradients: 1 as unknown as boolean })).toThrow(
      /^cpu backwardSync: `inputGradients` must be a boolean; received number 1/,
    );
    p.dispose();
  });
});
