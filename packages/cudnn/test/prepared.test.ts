import { referenceBackend, type ForwardRequest, type GruSpec } from '@gru/core';
import { describe, expect, it } from 'vitest';
import { emulatedBackend, maxAbsDiff, rng } from './helpers.js';

/**
 * The TypeScript half (weight packing, sequence lengths, goBackwards reversal, fully masked
 * rows, gradient routing) over the emulated cuDNN, against core's reference backend on the same
 * requests: every combination of mask shape, direction, initial state and output mode.
 */

function spec(D: number, H: number, dtype: 'float32' | 'float64' = 'float64'): GruSpec {
  return { units: H, inputDim: D, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype };
}

function rightPadded(B: number, T: number, lengths: number[]): Uint8Array {
  const m = new Uint8Array(B * T);
  lengths.forEach((L, b) => m.fill(1, b * T, b * T + L));
  return m;
}

const B = 4;
const T = 5;
const D = 3;
const H = 4;
const MASKS: Record<string, Uint8Array | undefined> = {
  none: undefined,
  'right-padded': rightPadded(B, T, [5, 3, 1, 4]),
  'with a fully masked row': rightPadded(B, T, [2, 0, 5, 0]),
};

describe('prepared layer over emulated cuDNN vs the reference backend', () => {
  for (const [maskName, mask] of Object.entries(MASKS)) {
    for (const goBackwards of [false, true]) {
      for (const returnSequences of [false, true]) {
        for (const withState of [false, true]) {
          const title = `mask ${maskName}, goBackwards ${goBackwards}, returnSequences ${returnSequences}, initial state ${withState}`;
          it(title, async () => {
            const r = rng(11);
            const s = spec(D, H);
            const weights = {
              kernel: r.uniform(D * 3 * H, 0.7, 'float64'),
              recurrentKernel: r.uniform(H * 3 * H, 0.7, 'float64'),
              bias: r.uniform(6 * H, 0.3, 'float64'),
            };
            const req: ForwardRequest = {
              x: r.uniform(B * T * D, 1, 'float64'),
              batch: B,
              timesteps: T,
              initialState: withState ? r.uniform(B * H, 0.8, 'float64') : undefined,
              mask,
              goBackwards,
              returnSequences,
              keepForBackward: true,
            };
            const { backend } = emulatedBackend();
            const mine = await backend.prepare(s, weights);
            const ref = await referenceBackend.prepare(s, weights);
            const a = await mine.forward(req);
            const b = await ref.forward(req);
            expect(maxAbsDiff(a.output, b.output)).toBeLessThan(1e-12);
            expect(maxAbsDiff(a.lastState, b.lastState)).toBeLessThan(1e-12);

            const dOutput = r.uniform(a.output.length, 1, 'float64');
            const dLastState = r.uniform(B * H, 1, 'float64');
            const ga = await (mine.backward as NonNullable<typeof mine.backward>)(a.saved, { dOutput, dLastState });
            const gb = await (ref.backward as NonNullable<typeof ref.backward>)(b.saved, { dOutput, dLastState });
            expect(maxAbsDiff(ga.dx, gb.dx)).toBeLessThan(1e-12);
            expect(maxAbsDiff(ga.dInitialState, gb.dInitialState)).toBeLessThan(1e-12);
            expect(maxAbsDiff(ga.dKernel, gb.dKernel)).toBeLessThan(1e-12);
            expect(maxAbsDiff(ga.dRecurrentKernel, gb.dRecurrentKernel)).toBeLessThan(1e-12);
            expect(maxAbsDiff(ga.dBias as Float64Array, gb.dBias as Float64Array)).toBeLessThan(1e-12);
            mine.dispose();
          });
        }
      }
    }
  }

  it('runs float32 layers in float32 arrays within float32 rounding of the reference', async () => {
    const r = rng(3);
    const s = spec(D, H, 'float32');
    const weights = {
      kernel: r.uniform(D * 3 * H, 0.7, 'float32'),
      recurrentKernel: r.uniform(H * 3 * H, 0.7, 'float32'),
      bias: r.uniform(6 * H, 0.3, 'float32'),
    };
    const req: ForwardRequest = {
      x: r.uniform(B * T * D, 1, 'float32'),
      batch: B,
      timesteps: T,
      goBackwards: true,
      returnSequences: true,
      mask: MASKS['right-padded'],
    };
    const { backend } = emulatedBackend();
    const a = await (await backend.prepare(s, weights)).forward(req);
    const b = await (await referenceBackend.prepare(s, weights)).forward(req);
    expect(a.output).toBeInstanceOf(Float32Array);
    expect(a.lastState).toBeInstanceOf(Float32Array);
    expect(maxAbsDiff(a.output, b.output)).toBeLessThan(1e-6);
  });

  it('gives the device each row at least one step and never a zero length', async () => {
    const { backend, runtime } = emulatedBackend();
    const r = rng(5);
    const s = spec(2, 2);
    const prepared = await backend.prepare(s, {
      kernel: r.uniform(12, 1, 'float64'),
      recurrentKernel: r.uniform(12, 1, 'float64'),
      bias: r.uniform(12, 1, 'float64'),
    });
    const h0 = r.uniform(4, 1, 'float64');
    const out = await prepared.forward({
      x: r.uniform(2 * 3 * 2, 1, 'float64'),
      batch: 2,
      timesteps: 3,
      mask: new Uint8Array(6),
      initialState: h0,
      goBackwards: false,
      returnSequences: true,
    });
    // Every step of a fully masked row outputs the initial state, which is also the last state.
    expect([...out.lastState]).toEqual([...h0]);
    expect([...out.output.subarray(0, 2)]).toEqual([...h0.subarray(0, 2)]);
    expect([...out.output.subarray(4, 6)]).toEqual([...h0.subarray(0, 2)]);
    expect(runtime.log).toEqual(['setWeights', 'forward training=false']);
  });

  it('refuses a mask with holes, per-gate dropout masks and a foreign saved pass, with the reason', async () => {
    const { backend } = emulatedBackend();
    const r = rng(6);
    const s = spec(2, 2);
    const w = { kernel: r.uniform(12, 1, 'float64'), recurrentKernel: r.uniform(12, 1, 'float64'), bias: r.uniform(12, 1, 'float64') };
    const prepared = await backend.prepare(s, w);
    const base = { x: r.uniform(12, 1, 'float64'), batch: 2, timesteps: 3, goBackwards: false, returnSequences: false };
    await expect(prepared.forward({ ...base, mask: Uint8Array.from([1, 0, 1, 1, 1, 1]) })).rejects.toThrow(/mask row 0 keeps step 2 after masking step 1/);
    const m = new Float64Array(4).fill(1);
    await expect(prepared.forward({ ...base, inputDropoutMasks: [m, m, m] })).rejects.toThrow(/per-gate dropout masks cannot be applied inside cuDNN/);
    await expect(prepared.forward({ ...base, x: new Float64Array(5) })).rejects.toThrow(
      /cudnn forward: `x` must be a Float32Array or Float64Array of 12 values \(\[batch, timesteps, inputDim\] = \[2, 3, 2\]\); received Float64Array\(5\)/,
    );
    const other = await backend.prepare(s, w);
    const kept = await other.forward({ ...base, keepForBackward: true });
    await expect(prepared.backward(kept.saved, { dOutput: new Float64Array(4) })).rejects.toThrow(
      /needs the `saved` value of a forward call this prepared layer ran/,
    );
    await expect(other.backward(kept.saved, { dOutput: new Float64Array(3) })).rejects.toThrow(
      /cudnn backward: `dOutput` must be a Float32Array or Float64Array of 4 values \(\[batch, units\] = \[2, 2\]\); received Float64Array\(3\)/,
    );
  });

  it('serializes calls on one prepared layer and keeps working after a failed call', async () => {
    const { backend, runtime } = emulatedBackend();
    const r = rng(8);
    const s = spec(2, 2);
    const prepared = await backend.prepare(s, {
      kernel: r.uniform(12, 1, 'float64'),
      recurrentKernel: r.uniform(12, 1, 'float64'),
      bias: r.uniform(12, 1, 'float64'),
    });
    const req = { x: r.uniform(12, 1, 'float64'), batch: 2, timesteps: 3, goBackwards: false, returnSequences: false };
    const results = await Promise.allSettled([prepared.forward(req), prepared.forward({ ...req, x: new Float64Array(1) }), prepared.forward(req)]);
    expect(results.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(runtime.log.filter((l) => l.startsWith('forward')).length).toBe(2);
  });

  it('frees device memory at dispose(), saved training passes included', async () => {
    const { backend } = emulatedBackend();
    await backend.load();
    const before = backend.memoryInUse?.() ?? -1;
    const r = rng(9);
    const prepared = await backend.prepare(spec(2, 2), {
      kernel: r.uniform(12, 1, 'float64'),
      recurrentKernel: r.uniform(12, 1, 'float64'),
      bias: r.uniform(12, 1, 'float64'),
    });
    await prepared.forward({ x: r.uniform(12, 1, 'float64'), batch: 2, timesteps: 3, goBackwards: false, returnSequences: true, keepForBackward: true });
    expect(backend.memoryInUse?.()).toBeGreaterThan(before);
    prepared.dispose();
    prepared.dispose();
    expect(backend.memoryInUse?.()).toBe(before);
    await expect(prepared.forward({ x: r.uniform(12, 1, 'float64'), batch: 2, timesteps: 3, goBackwards: false, returnSequences: true })).rejects.toThrow(
      /disposed prepared layer/,
    );
  });
});
