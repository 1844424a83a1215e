import { referenceForward, type BackwardRequest, type ForwardRequest, type GruSpec } from '@gru/core';
import { fieldsNotReadOnce, shiftyRequest } from '@gru/conformance/testing';
import { describe, expect, it } from 'vitest';
import { emulatedBackend, maxAbsDiff, rng } from './helpers.js';

/**
 * A request is read once, then checked and laid out for cuDNN from that reading: a getter that
 * answers differently on a later read (a bigger x, another direction or output mode, a shorter
 * gradient) must not reach what was checked.
 */
const [B, T, D, H] = [2, 4, 3, 5];
const spec: GruSpec = { units: H, inputDim: D, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float64' };
const r = rng(31);
const weights = {
  kernel: r.uniform(D * 3 * H, 0.6, 'float64'),
  recurrentKernel: r.uniform(H * 3 * H, 0.6, 'float64'),
  bias: r.uniform(6 * H, 0.3, 'float64'),
} as never;
const honest: ForwardRequest = {
  x: r.uniform(B * T * D, 1, 'float64'),
  batch: B,
  timesteps: T,
  initialState: r.uniform(B * H, 0.5, 'float64'),
  mask: new Uint8Array(B * T).fill(1, 0, 4).fill(1, 4, 6),
  goBackwards: false,
  returnSequences: true,
  keepForBackward: true,
};
const LATER: Record<string, Record<string, unknown>> = {
  'a bigger x and initialState': { x: r.uniform(30 * T * D, 1, 'float64'), initialState: r.uniform(30 * H, 0.5, 'float64') },
  'another direction and output mode': { goBackwards: true, returnSequences: false },
};

describe('cuDNN backend: a request is read once', () => {
  it.each(Object.entries(LATER))('forward: each field is read once; %s on a later read change nothing', async (_what, later) => {
    const { backend } = emulatedBackend('cudnn-request-reads');
    const p = await backend.prepare(spec, weights);
    const want = referenceForward(spec, weights, honest);
    const { req, reads } = shiftyRequest(honest, later);
    const got = await p.forward(req);
    expect(got.output.length).toBe(want.output.length);
    expect(maxAbsDiff(got.output, want.output)).toBeLessThan(1e-9);
    expect(maxAbsDiff(got.lastState, want.lastState)).toBeLessThan(1e-9);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    p.dispose();
  });

  it('backward: dOutput and dLastState are read once', async () => {
    const { backend } = emulatedBackend('cudnn-request-reads-backward');
    const p = await backend.prepare(spec, weights);
    const fwd = await p.forward(honest);
    const dOutput = r.uniform(B * T * H, 1, 'float64');
    const dLastState = r.uniform(B * H, 1, 'float64');
    const want = await p.backward(fwd.saved, { dOutput, dLastState });
    const { req, reads } = shiftyRequest<BackwardRequest>({ dOutput, dLastState }, { dOutput: new Float64Array(1), dLastState: new Float64Array(1) });
    const got = await p.backward(fwd.saved, req);
    expect(fieldsNotReadOnce(reads)).toEqual([]);
    expect(maxAbsDiff(got.dx, want.dx)).toBe(0);
    expect(maxAbsDiff(got.dInitialState, want.dInitialState)).toBe(0);
    p.dispose();
  });

  for (const when of ['prepare', 'setWeights'] as const) {
    it(`${when}: each weight array is read once; later answers change nothing`, async () => {
      const { backend } = emulatedBackend(`cudnn-weight-reads-${when}`);
      const r2 = rng(32);
      const other = {
        kernel: r2.uniform(D * 3 * H, 0.6, 'float64'),
        recurrentKernel: r2.uniform(H * 3 * H, 0.6, 'float64'),
        bias: r2.uniform(6 * H, 0.3, 'float64'),
      };
      const { req: given, reads } = shiftyRequest(weights as unknown as typeof other, other);
      const p = await backend.prepare(spec, when === 'prepare' ? given : other);
      if (when === 'setWeights') await p.setWeights(given);
      expect(fieldsNotReadOnce(reads)).toEqual([]);
      const want = referenceForward(spec, weights, honest);
      const got = await p.forward(honest);
      expect(maxAbsDiff(got.output, want.output)).toBeLessThan(1e-9);
      p.dispose();
    });
  }
});
