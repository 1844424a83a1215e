import { GRU } from '@gru/core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { backend, createWasmBackend } from '../src/index.js';
import { ThreadPool } from '../src/thread-pool.js';
import { bitwiseEqual, makeCase, rng, type Config } from './helpers.js';

// backward with inputGradients: false skips the dx GEMMs (and the transposed input kernel): dx
// comes back empty and every other gradient is bitwise what the full backward gives, on one
// thread and on the workers.

const WEIGHT_GRADS = ['dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const;

describe('wasm backward without input gradients', () => {
  const two = createWasmBackend({ name: 'wasm-ig-2', threads: 2, syncBelowMacs: 0, minStepMacsPerThread: 0 });
  const three = createWasmBackend({ name: 'wasm-ig-3', threads: 3, syncBelowMacs: 0, minStepMacsPerThread: 0 });
  beforeAll(() => Promise.all([backend.load(), two.load(), three.load()]));
  afterAll(() => {
    two.dispose();
    three.dispose();
  });

  it('dx is empty, the rest bitwise the full backward, over masks, dropout, goBackwards, resetAfter and 1-3 threads', { timeout: 120_000 }, async () => {
    const onPool = vi.spyOn(ThreadPool.prototype, 'runBackward');
    const flags = ['resetAfter', 'goBackwards', 'returnSequences', 'mask', 'initialState', 'inputDropout', 'recurrentDropout'] as const;
    let compared = 0;
    for (let bits = 0; bits < 1 << flags.length; bits += 11) {
      // More rows than one dx block (256), units over several 32-unit shares.
      const cfg: Config = { B: 3, T: 97, D: 13, H: 70 };
      flags.forEach((f, i) => ((cfg as unknown as Record<string, boolean>)[f] = (bits & (1 << i)) !== 0));
      const { spec, weights, request } = makeCase(cfg, bits + 9);
      const rand = rng(bits);
      const dOutput = rand.uniform((cfg.returnSequences ? cfg.B * cfg.T : cfg.B) * cfg.H);
      const dLastState = rand.uniform(cfg.B * cfg.H);
      for (const be of [backend, two, three]) {
        const p = await be.prepare(spec, weights);
        const { saved } = await p.forward({ ...request, keepForBackward: true });
        const full = await p.backward!(saved, { dOutput, dLastState });
        const skipped = await p.backward!(saved, { dOutput, dLastState, inputGradients: false });
        p.dispose();
        expect(full.dx.length).toBe(cfg.B * cfg.T * cfg.D);
        expect(skipped.dx.length, `${be.name} ${JSON.stringify(cfg)}`).toBe(0);
        for (const key of WEIGHT_GRADS)
          expect(bitwiseEqual(skipped[key] ?? new Float32Array(0), full[key] ?? new Float32Array(0)), `${be.name} ${key} ${JSON.stringify(cfg)}`).toBe(true);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(30);
    expect(onPool).toHaveBeenCalled();
    onPool.mockRestore();
    expect(backend.memoryInUse() + two.memoryInUse() + three.memoryInUse()).toBe(0);
  });

  it('the sync backward skips too, and a layer on wasm gives inputs null', async () => {
    const cfg: Config = { B: 2, T: 6, D: 5, H: 9, mask: true, returnSequences: false };
    const { spec, weights, request } = makeCase(cfg, 4);
    const p = backend.prepareSync(spec, weights);
    const { saved } = p.forwardSync({ ...request, keepForBackward: true });
    expect(p.backwardSync!(saved, { dOutput: new Float32Array(cfg.B * cfg.H), inputGradients: false }).dx.length).toBe(0);
    p.dispose();
    const gru = new GRU({ units: 4, backend: 'wasm', seed: 2 });
    const r = await gru.forward({ shape: [2, 3, 5], data: new Float32Array(30).fill(0.5) }, { training: true });
    expect(gru.lastChoice?.backend.name).toBe('wasm');
    const g = await gru.backward({ shape: r.output.shape, data: new Float32Array(8).fill(1) }, null, { inputGradients: false });
    expect(g.inputs).toBeNull();
    expect(g.kernel.data.some((v) => v !== 0)).toBe(true);
    gru.dispose();
  });

  it('refuses a non-boolean request.inputGradients, naming it', () => {
    const { spec, weights, request } = makeCase({ B: 1, T: 2, D: 3, H: 4, returnSequences: false }, 5);
    const p = backend.prepareSync(spec, weights);
    const { saved } = p.forwardSync({ ...request, keepForBackward: true });
    expect(() => p.backwardSync!(saved, { dOutput: new Float32Array(4), inputGradients: 1 as unknown as boolean })).toThrow(
      'wasm backward: `inputGradients` must be a boolean; received number 1.',
    );
    p.dispose();
  });
});
