import type { GruGradients } from '@gru/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../src/index.js';
import type { WasmKernel } from '../src/kernel.js';
import { bitwiseEqual, type Config, makeCase, rng } from './helpers.js';

const GRADS = ['dx', 'dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const;

// A kept forward call computes its gates, states and aux rows in the kept rows themselves
// (forward.ts), timestep chunk by chunk, in reverse order when it goes backwards. Its outputs must
// be those of a call that keeps nothing, and its gradients must not depend on the chunk size.
const CASES: Config[] = [
  { B: 3, T: 11, D: 5, H: 9, resetAfter: true, returnSequences: false },
  { B: 3, T: 11, D: 5, H: 9, resetAfter: false, goBackwards: true, mask: true },
  { B: 2, T: 13, D: 4, H: 40, resetAfter: true, goBackwards: true, mask: 'right-padded', returnSequences: true, initialState: true },
  { B: 5, T: 9, D: 6, H: 17, resetAfter: false, mask: true, inputDropout: true, recurrentDropout: true, activation: 'silu' },
  { B: 4, T: 10, D: 3, H: 33, resetAfter: true, goBackwards: true, recurrentDropout: true, activation: 'relu' },
  { B: 1, T: 1, D: 3, H: 8, resetAfter: false, returnSequences: false },
];

describe('a kept forward call computes in its kept rows', () => {
  // 1 KiB of projections: chunks of 4 timesteps, so every case crosses chunk boundaries.
  const make = (name: string, threads: number, projectionBudgetBytes?: number) =>
    createWasmBackend({ name, threads, projectionBudgetBytes, ...(threads > 1 ? { syncBelowMacs: 0, minStepMacsPerThread: 0 } : {}) });
  const backends = [make('keep-whole', 1), make('keep-chunked', 1, 1024), make('keep-chunked-2', 2, 1024)];
  beforeAll(() => Promise.all(backends.map((b) => b.load())));
  afterAll(() => {
    for (const b of backends) b.dispose();
  });

  CASES.forEach((cfg, n) => {
    it(JSON.stringify(cfg), { timeout: 60_000 }, async () => {
      const { spec, weights, request } = makeCase(cfg, 70 + n);
      const rand = rng(170 + n);
      const rows = cfg.returnSequences === false ? cfg.B : cfg.B * cfg.T;
      const cot = { dOutput: rand.uniform(rows * cfg.H), dLastState: rand.uniform(cfg.B * cfg.H) };
      const got: GruGradients[] = [];
      for (const b of backends) {
        const p = await b.prepare(spec, weights);
        const plain = await p.forward({ ...request, keepForBackward: false });
        // The kept call gets memory that held NaN (the heap is first-fit): rows it skips (masked
        // steps) must not carry that into the results.
        const { kernel } = p as unknown as { kernel: WasmKernel };
        const dirty = kernel.heap.alloc(1 << 22, 'test NaN');
        kernel.f32(dirty, 1 << 20).fill(Number.NaN);
        kernel.heap.release(dirty);
        const kept = await p.forward({ ...request, keepForBackward: true });
        expect(bitwiseEqual(kept.output, plain.output), `${b.name} output`).toBe(true);
        expect(bitwiseEqual(kept.lastState, plain.lastState), `${b.name} lastState`).toBe(true);
        expect(kept.output.every(Number.isFinite), `${b.name} output finite`).toBe(true);
        got.push((await p.backward(kept.saved, cot)) as GruGradients);
        p.dispose();
      }
      for (const key of GRADS) {
        const want = got[0][key];
        if (want === null) {
          for (const g of got) expect(g[key], key).toBeNull();
          continue;
        }
        expect(want.every(Number.isFinite), `${key} finite`).toBe(true);
        for (let i = 1; i < got.length; i++) {
          const have = got[i][key];
          expect(have !== null && bitwiseEqual(have, want), `${backends[i].name} ${key}`).toBe(true);
        }
      }
    });
  });
});
