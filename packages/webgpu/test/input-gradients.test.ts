import type { ForwardRequest, GruSpec } from '@gru/core';
import { bitwiseEqual, rng } from '@gru/conformance/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend, type WebGpuBackend } from '../src/index.js';
import { makeRequest, makeSpec, makeWeights } from './helpers.js';

// backward with inputGradients: false skips the input-gradient dispatch and dx's part of the
// gradients buffer: dx comes back empty, every other gradient bitwise what the full backward gives.
const OTHERS = ['dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const;

const backends: Record<string, WebGpuBackend> = {
  fused: createWebGpuBackend({ name: 'webgpu-ig-fused', recurrence: 'fused', allowFallbackAdapter: true }),
  stepwise: createWebGpuBackend({ name: 'webgpu-ig-stepwise', recurrence: 'stepwise', allowFallbackAdapter: true }),
};
afterAll(() => {
  for (const b of Object.values(backends)) b.dispose();
});

type Options = Parameters<typeof makeRequest>[2];
const cases: Array<[Partial<GruSpec> & Pick<GruSpec, 'units' | 'inputDim'>, Options]> = [
  [
    { units: 17, inputDim: 7 },
    { batch: 3, timesteps: 6, initialState: true },
  ],
  [
    { units: 33, inputDim: 3, resetAfter: false },
    { batch: 9, timesteps: 5, mask: true, goBackwards: true },
  ],
  [
    { units: 24, inputDim: 9 },
    { batch: 5, timesteps: 7, inputDropout: true, recurrentDropout: true, initialState: true, goBackwards: true, returnSequences: false },
  ],
];

describe.each(Object.keys(backends))('webgpu backward without input gradients (%s)', (path) => {
  it.each(cases)('%o %o', { timeout: 60_000 }, async (over, o) => {
    const spec = makeSpec(over);
    const weights = makeWeights(spec, 3);
    const req: ForwardRequest = { ...makeRequest(spec, 4, o), keepForBackward: true };
    const r = rng(5);
    const H = spec.units;
    const request = { dOutput: r.uniform(req.returnSequences ? o.batch * o.timesteps * H : o.batch * H), dLastState: r.uniform(o.batch * H) };
    const prepared = await backends[path].prepare(spec, weights);
    try {
      const { saved } = await prepared.forward(req);
      const full = await prepared.backward!(saved, request);
      const skipped = await prepared.backward!(saved, { ...request, inputGradients: false });
      expect(full.dx.length).toBe(o.batch * o.timesteps * spec.inputDim);
      expect(skipped.dx.length).toBe(0);
      for (const k of OTHERS) expect(bitwiseEqual(skipped[k] ?? new Float32Array(0), full[k] ?? new Float32Array(0)), k).toBe(true);
    } finally {
      prepared.dispose();
    }
  });

  it('refuses a non-boolean inputGradients, naming it', { timeout: 60_000 }, async () => {
    const spec = makeSpec({ units: 4, inputDim: 3 });
    const prepared = await backends[path].prepare(spec, makeWeights(spec, 1));
    try {
      const { saved } = await prepared.forward({ ...makeRequest(spec, 2, { batch: 1, timesteps: 2, returnSequences: false }), keepForBackward: true });
      await expect(prepared.backward!(saved, { dOutput: new Float32Array(4), inputGradients: 0 as unknown as boolean })).rejects.toThrow(
        'webgpu backward: `inputGradients` must be a boolean; received number 0.',
      );
    } finally {
      prepared.dispose();
    }
  });
});
