import type { GruGradients } from '@gru/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, createWasmBackend } from '../src/index.js';
import { makeCase, rng, type Config } from './helpers.js';

const GRADS = ['dx', 'dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const;
const bitwiseEqual = (a: ArrayLike<number> | null, b: ArrayLike<number> | null) =>
  a === null || b === null ? a === b : a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

// backward's kernel overwrites the rows it reads (pre-activations with their gradients, the
// resetAfter bracket with dG_h); a second backward on the same call must not read those.
const CASES: Config[] = [
  { B: 2, T: 5, D: 3, H: 8, resetAfter: true },
  { B: 2, T: 5, D: 3, H: 8, resetAfter: false, activation: 'silu' },
  { B: 3, T: 7, D: 4, H: 40, resetAfter: true, returnSequences: true, mask: true, goBackwards: true, initialState: true },
  { B: 3, T: 6, D: 5, H: 9, resetAfter: true, inputDropout: true, recurrentDropout: true },
  { B: 3, T: 6, D: 5, H: 9, resetAfter: false, recurrentDropout: true, activation: 'gelu' },
];

describe('backward runs again on the same kept call and gives the same gradients', () => {
  const two = createWasmBackend({ name: 'wasm-repeat-threads', threads: 2, syncBelowMacs: 0, minStepMacsPerThread: 0 });
  beforeAll(() => Promise.all([backend.load(), two.load()]));
  afterAll(() => two.dispose());

  CASES.forEach((cfg, n) => {
    it(JSON.stringify(cfg), { timeout: 60_000 }, async () => {
      const { spec, weights, request } = makeCase(cfg, 40 + n);
      const rand = rng(90 + n);
      const rows = cfg.returnSequences === false ? cfg.B : cfg.B * cfg.T;
      const first = { dOutput: rand.uniform(rows * cfg.H), dLastState: rand.uniform(cfg.B * cfg.H) };
      const other = { dOutput: rand.uniform(rows * cfg.H) };
      for (const b of [backend, two]) {
        const p = await b.prepare(spec, weights);
        const { saved } = await p.forward({ ...request, keepForBackward: true });
        const once = (await p.backward(saved, first)) as GruGradients;
        // A different cotangent in between, then the first one again, sync and async.
        await p.backward(saved, other);
        const again = [p.backwardSync?.(saved, first) as GruGradients, (await p.backward(saved, first)) as GruGradients];
        // A fresh forward call's first backward is the reference for "unchanged".
        const fresh = await p.forward({ ...request, keepForBackward: true });
        const want = (await p.backward(fresh.saved, first)) as GruGradients;
        p.dispose();
        for (const got of [once, ...again]) {
          for (const key of GRADS) expect(bitwiseEqual(got[key], want[key]), `${b.name} ${key}`).toBe(true);
        }
      }
    });
  });
});
