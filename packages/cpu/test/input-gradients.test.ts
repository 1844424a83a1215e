import { GRU } from '@gru/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/index.js';
import { loadAddon } from '../src/loader.js';
import { bitwiseEqual, makeCase, rng, type CaseOptions } from './helpers.js';

// backward with inputGradients: false skips dx (its GEMM phase and the transposed kernel): dx
// comes back empty, every other gradient bitwise what the full backward gives.
const isas = loadAddon().binding.info().isas;
const OTHERS = ['dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const;

const configs: CaseOptions[] = [
  { B: 3, T: 6, D: 7, H: 17, initialState: true },
  { B: 9, T: 5, D: 3, H: 33, resetAfter: false, mask: 'any', goBackwards: true },
  { B: 2, T: 40, D: 20, H: 40, returnSequences: false, mask: 'right-padded' },
  { B: 5, T: 7, D: 9, H: 24, inputDropout: true, recurrentDropout: true, initialState: true, goBackwards: true },
  { B: 17, T: 3, D: 6, H: 20, useBias: false, activation: 'relu', recurrentActivation: 'hard_sigmoid' },
];

describe.each(isas)('cpu backward without input gradients (%s)', (isa) => {
  for (const threads of [1, 2]) {
    const backend = createCpuBackend({ name: `cpu-ig-${isa}-${threads}`, isa, threads, minStepMacsPerThread: 0, syncBelowMacs: 0 });
    beforeAll(() => backend.load());
    it.each(configs)(`${threads} thread(s): %o`, async (config) => {
      const c = makeCase(config);
      const r = rng(5);
      const outLen = c.request.returnSequences ? config.B * config.T * config.H : config.B * config.H;
      const request = { dOutput: r.uniform(outLen), dLastState: r.uniform(config.B * config.H) };
      const p = await backend.prepare(c.spec, c.weights);
      const { saved } = await p.forward({ ...c.request, keepForBackward: true });
      const full = await p.backward!(saved, request);
      const skipped = await p.backward!(saved, { ...request, inputGradients: false });
      const skippedSync = p.backwardSync!(saved, { ...request, inputGradients: false });
      p.dispose();
      expect(full.dx.length).toBe(config.B * config.T * config.D);
      for (const g of [skipped, skippedSync]) {
        expect(g.dx).toBeInstanceOf(Float32Array);
        expect(g.dx.length).toBe(0);
        for (const k of OTHERS) expect(bitwiseEqual(g[k] ?? new Float32Array(0), full[k] ?? new Float32Array(0)), k).toBe(true);
      }
    });
  }
});

describe('inputGradients on the cpu backend', () => {
  it('an empty batch gives an empty dx too', async () => {
    const backend = createCpuBackend({ name: 'cpu-ig-empty' });
    await backend.load();
    const c = makeCase({ B: 2, T: 3, D: 4, H: 5, returnSequences: false });
    const p = backend.prepareSync(c.spec, c.weights);
    const { saved } = p.forwardSync({ ...c.request, x: new Float32Array(0), batch: 0, keepForBackward: true });
    expect(p.backwardSync!(saved, { dOutput: new Float32Array(0), inputGradients: false }).dx.length).toBe(0);
    p.dispose();
  });

  it('a non-boolean inputGradients is refused by name', async () => {
    const backend = createCpuBackend({ name: 'cpu-ig-bad' });
    await backend.load();
    const c = makeCase({ B: 1, T: 2, D: 3, H: 4, returnSequences: false });
    const p = backend.prepareSync(c.spec, c.weights);
    const { saved } = p.forwardSync({ ...c.request, keepForBackward: true });
    expect(() => p.backwardSync!(saved, { dOutput: new Float32Array(4), inputGradients: 'no' as unknown as boolean })).toThrow(
      /^cpu backwardSync: `inputGradients` must be a boolean; received string "no"/,
    );
    p.dispose();
  });

  it('a layer on cpu gives inputs null', async () => {
    const gru = new GRU({ units: 4, backend: 'cpu', seed: 2 });
    const r = await gru.forward({ shape: [2, 3, 5], data: new Float32Array(30).fill(0.5) }, { training: true });
    expect(gru.lastChoice?.backend.name).toBe('cpu');
    const g = await gru.backward({ shape: r.output.shape, data: new Float32Array(8).fill(1) }, null, { inputGradients: false });
    expect(g.inputs).toBeNull();
    expect(g.kernel.data.some((v) => v !== 0)).toBe(true);
    gru.dispose();
  });
});
