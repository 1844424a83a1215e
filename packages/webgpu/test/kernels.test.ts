import { describe, it, beforeAll, afterAll, expect } from 'vitest';
import { createWebGpuBackend, type WebGpuBackend, type WebGpuPrepared } from '../src/index.js';
import { compareWithReference, makeRequest, makeSpec, makeWeights } from './helpers.js';

/**
 * Both recurrence kernels (fused and stepwise) against the reference on configurations the Keras
 * cases do not cover: odd and large unit counts, long sequences (several step-uniform chunks),
 * per-gate dropout, every activation the kernels implement.
 */
for (const recurrence of ['fused', 'stepwise'] as const) {
  describe(`${recurrence} recurrence against the reference`, () => {
    let backend: WebGpuBackend;
    beforeAll(async () => {
      backend = createWebGpuBackend({ name: `webgpu-${recurrence}`, recurrence, allowFallbackAdapter: true });
      await backend.load();
    });
    afterAll(() => backend.dispose());

    const configs = [
      { units: 1, inputDim: 1, batch: 1, timesteps: 4 },
      { units: 3, inputDim: 7, batch: 5, timesteps: 6 },
      { units: 17, inputDim: 33, batch: 3, timesteps: 9 },
      { units: 65, inputDim: 70, batch: 2, timesteps: 5 },
      { units: 130, inputDim: 20, batch: 2, timesteps: 3 },
      { units: 300, inputDim: 9, batch: 1, timesteps: 3 },
    ];
    for (const [i, c] of configs.entries()) {
      for (const resetAfter of [true, false]) {
        it(`units ${c.units}, inputDim ${c.inputDim}, batch ${c.batch}, resetAfter ${resetAfter}: masks, goBackwards, initial state`, async () => {
          const spec = makeSpec({ units: c.units, inputDim: c.inputDim, resetAfter });
          const weights = makeWeights(spec, 100 + i);
          const prepared = (await backend.prepare(spec, weights)) as WebGpuPrepared;
          try {
            for (const [k, opts] of [
              {},
              { mask: true, goBackwards: true, initialState: true },
              { mask: true, returnSequences: false },
              { goBackwards: true, returnSequences: false, initialState: true },
            ].entries()) {
              await compareWithReference(prepared, weights, makeRequest(spec, 1000 * i + k, { batch: c.batch, timesteps: c.timesteps, ...opts }), `case ${k}`);
              expect(prepared.lastPath).toBe(recurrence);
            }
          } finally {
            prepared.dispose();
          }
        });
      }
    }

    it('per-gate input dropout and recurrent dropout masks, both resetAfter variants', async () => {
      for (const resetAfter of [true, false]) {
        const spec = makeSpec({ units: 12, inputDim: 5, resetAfter });
        const weights = makeWeights(spec, 7);
        const prepared = await backend.prepare(spec, weights);
        try {
          for (const [k, opts] of [
            { inputDropout: true },
            { recurrentDropout: true },
            { inputDropout: true, recurrentDropout: true, mask: true, goBackwards: true },
          ].entries()) {
            await compareWithReference(prepared, weights, makeRequest(spec, 50 + k, { batch: 4, timesteps: 7, ...opts }), `dropout ${JSON.stringify(opts)}`);
          }
        } finally {
          prepared.dispose();
        }
      }
    });

    // Each activation's math is checked in activations.test.ts; this checks that `activation`
    // and `recurrentActivation` reach the right places in both resetAfter variants.
    it('useBias false and activations other than tanh/sigmoid', async () => {
      const pairs: Array<[string, string]> = [
        ['relu', 'hard_sigmoid'],
        ['gelu', 'keras2_hard_sigmoid'],
        ['softplus', 'linear'],
        ['selu', 'sigmoid'],
      ];
      for (const [k, [activation, recurrentActivation]] of pairs.entries()) {
        const spec = makeSpec({ units: 6, inputDim: 4, activation, recurrentActivation, useBias: k % 2 === 0, resetAfter: k % 3 !== 0 });
        const weights = makeWeights(spec, 300 + k);
        const prepared = await backend.prepare(spec, weights);
        try {
          // exponential grows without bound: keep it short so values stay in a sane range.
          await compareWithReference(
            prepared,
            weights,
            makeRequest(spec, 400 + k, { batch: 3, timesteps: activation === 'exponential' ? 2 : 8, mask: true }),
            `${activation}/${recurrentActivation}`,
          );
        } finally {
          prepared.dispose();
        }
      }
    });
  });
}

describe('long sequences and path choice', () => {
  let backend: WebGpuBackend;
  beforeAll(async () => {
    backend = createWebGpuBackend({ name: 'webgpu-long', recurrence: 'stepwise', allowFallbackAdapter: true });
    await backend.load();
  });
  afterAll(() => backend.dispose());

  it('a sequence longer than one step-uniform chunk (1024 steps) runs in several submissions', async () => {
    const spec = makeSpec({ units: 5, inputDim: 3, resetAfter: false });
    const weights = makeWeights(spec, 11);
    const prepared = await backend.prepare(spec, weights);
    try {
      await compareWithReference(
        prepared,
        weights,
        makeRequest(spec, 12, { batch: 2, timesteps: 2100, mask: true, goBackwards: true, initialState: true }),
        'T=2100',
      );
    } finally {
      prepared.dispose();
    }
  });

  it("'auto' takes the fused kernel up to 512 units and the stepwise one beyond", async () => {
    const auto = createWebGpuBackend({ name: 'webgpu-auto', allowFallbackAdapter: true });
    try {
      for (const [units, path] of [
        [64, 'fused'],
        [520, 'stepwise'],
      ] as const) {
        const spec = makeSpec({ units, inputDim: 3 });
        const weights = makeWeights(spec, units);
        const prepared = (await auto.prepare(spec, weights)) as WebGpuPrepared;
        await compareWithReference(prepared, weights, makeRequest(spec, 5, { batch: 2, timesteps: 2 }), `units ${units}`);
        expect(prepared.lastPath).toBe(path);
        prepared.dispose();
      }
    } finally {
      auto.dispose();
    }
  });
});
