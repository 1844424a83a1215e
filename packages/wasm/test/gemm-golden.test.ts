import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../src/index.js';
import { makeCase, type Config } from './helpers.js';

// The plain SIMD128 build's results are pinned bit for bit: a change to the GEMM kernels
// (assembly/gemm.ts: unrolling, loads, tiling) may make them faster, never change a sum. Each
// configuration sends one of the kernel's paths a shape it has: the one-row GEMV (batch below 4)
// with K % 4 = 0..3 for the input projection (K = inputDim) and the recurrent one (K = units),
// whole groups of 4 panels and the 1x8 tails beside them, and the 4-row tiles (batch 5). The
// hashes were recorded from the build before the GEMV was unrolled by four.

const plain = createWasmBackend({ name: 'wasm-golden-plain', relaxedSimd: false });
beforeAll(() => plain.load(), 60_000);
afterAll(() => plain.dispose());

/** FNV-1a over the float32 bits of output and lastState. */
function hashBits(...arrays: ArrayLike<number>[]): string {
  let h = 0x811c9dc5;
  for (const a of arrays) {
    const bits = new Uint32Array(Float32Array.from(a).buffer);
    for (const v of bits) h = Math.imul(h ^ v, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

const CASES: [Config, string][] = [
  [{ B: 1, T: 5, D: 64, H: 128 }, 'df855354'],
  [{ B: 1, T: 4, D: 5, H: 33 }, '70cebbc7'],
  [{ B: 2, T: 3, D: 6, H: 42, resetAfter: false }, '5364b0f4'],
  [{ B: 3, T: 3, D: 7, H: 71, returnSequences: true }, 'fd90ab9e'],
  [{ B: 1, T: 2, D: 12, H: 96, initialState: true, mask: true }, '2eeff7f0'],
  [{ B: 5, T: 6, D: 9, H: 40, goBackwards: true, returnSequences: true }, '5235bbf8'],
  [{ B: 2, T: 3, D: 10, H: 30, inputDropout: true, recurrentDropout: true }, 'f8c61251'],
];

describe('plain SIMD128 build: results pinned bitwise', () => {
  it.each(CASES.map(([c, h], i) => [JSON.stringify(c), c, h, i] as const))('%s', (_name, config, want, i) => {
    const c = makeCase(config, 100 + i);
    const p = plain.prepareSync(c.spec, c.weights);
    try {
      expect(plain.isa).toBe('simd128');
      const got = p.forwardSync(c.request);
      if (process.env.GOLDEN_PRINT) console.log(`GOLDEN ${i} ${hashBits(got.output, got.lastState)}`);
      expect(hashBits(got.output, got.lastState)).toBe(want);
    } finally {
      p.dispose();
    }
  });
});
