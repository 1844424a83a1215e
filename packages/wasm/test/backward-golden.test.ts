import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../src/index.js';
import { makeCase, rng, type Config } from './helpers.js';

// The plain SIMD128 build's gradients are pinned bit for bit, on one thread and on two workers:
// the backward GEMMs (the weight gradients' blocks, dx, dh through time) may be retiled or their
// operands repacked to make them faster, never to change a sum. The configurations give those
// GEMMs row counts and inner dimensions with every remainder mod 4 and mod 8 (row tails, column
// tails, weightGrad blocks of 128 rows and a short last one, dx blocks of 256), both resetAfter
// variants, dropout multipliers, goBackwards and masks. The hashes were recorded from the build
// before the weight gradients read 4-row panels.

const one = createWasmBackend({ name: 'wasm-bgolden-1', relaxedSimd: false });
const two = createWasmBackend({ name: 'wasm-bgolden-2', relaxedSimd: false, threads: 2, syncBelowMacs: 0, minStepMacsPerThread: 0 });
beforeAll(() => Promise.all([one.load(), two.load()]), 60_000);
afterAll(() => {
  one.dispose();
  two.dispose();
});

/** FNV-1a over the float32 bits of every array, in order. */
function hashBits(...arrays: (ArrayLike<number> | null | undefined)[]): string {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    if (!a) continue;
    const bits = new Uint32Array(Float32Array.from(a).buffer);
    for (const v of bits) h = Math.imul(h ^ v, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

const CASES: [Config, string][] = [
  [{ B: 32, T: 9, D: 16, H: 64, returnSequences: false }, 'fcbe2032'],
  [{ B: 5, T: 40, D: 37, H: 45, resetAfter: false, returnSequences: false }, '3565d8ec'],
  [{ B: 3, T: 97, D: 13, H: 70, goBackwards: true, mask: true, returnSequences: true }, '328be155'],
  [{ B: 7, T: 21, D: 11, H: 9, returnSequences: false, initialState: true, inputDropout: true, recurrentDropout: true }, '6a543dff'],
  [{ B: 6, T: 50, D: 30, H: 34, resetAfter: false, returnSequences: true, inputDropout: true, recurrentDropout: true, goBackwards: true }, 'e56ae3a4'],
  [{ B: 2, T: 70, D: 41, H: 26, mask: true, returnSequences: true, resetAfter: false }, '269e2393'],
  [{ B: 9, T: 33, D: 3, H: 19, returnSequences: false }, 'd105ffaf'],
];

describe('plain SIMD128 build: gradients pinned bitwise', () => {
  it.each(CASES.map(([c, h], i) => [JSON.stringify(c), c, h, i] as const))('%s', { timeout: 60_000 }, async (_name, config, want, i) => {
    const c = makeCase(config, 200 + i);
    const rand = rng(300 + i);
    const dOutput = rand.uniform((config.returnSequences ? config.B * config.T : config.B) * config.H);
    const dLastState = rand.uniform(config.B * config.H);
    for (const be of [one, two]) {
      const p = await be.prepare(c.spec, c.weights);
      try {
        expect(be.isa).toBe('simd128');
        const { saved } = await p.forward({ ...c.request, keepForBackward: true });
        const g = await p.backward!(saved, { dOutput, dLastState });
        const got = hashBits(g.dx, g.dKernel, g.dRecurrentKernel, g.dBias, g.dInitialState);
        if (process.env.GOLDEN_PRINT) console.log(`GOLDEN ${i} ${be.name} ${got}`);
        expect(got, be.name).toBe(want);
      } finally {
        p.dispose();
      }
    }
  });
});
