import { describe, expect, it } from 'vitest';
import { createWebGpuBackend } from '../src/index.js';
import { makeRequest, makeSpec, makeWeights } from './helpers.js';

/** Heap bytes after full collections, the least of several readings (collection is not exact). */
async function settledHeap(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc (vitest.config.ts passes it)');
  let least = Infinity;
  for (let i = 0; i < 10; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
    least = Math.min(least, process.memoryUsage().heapUsed);
  }
  return least;
}

// Bytes, never time: the number of calls is fixed, however slow the machine.
describe('the JS heap over many forward() calls on one layer', () => {
  it('stays flat after warm-up (under 8 bytes per call on average: nothing retained per call)', { timeout: 600_000 }, async () => {
    const b = createWebGpuBackend({ name: 'webgpu-heap', allowFallbackAdapter: true });
    const spec = makeSpec({ units: 4, inputDim: 3 });
    const p = await b.prepare(spec, makeWeights(spec, 1));
    const req = makeRequest(spec, 2, { batch: 1, timesteps: 2, returnSequences: false });
    const calls = async (n: number) => {
      for (let i = 0; i < n; i++) await p.forward(req);
    };
    // Warm-up: compiled code, inline caches and Dawn's pools reach their size.
    await calls(3000);
    const before = await settledHeap();
    const N = 12_000;
    await calls(N);
    const perCall = ((await settledHeap()) - before) / N;
    // A reaction left on a long-lived promise per call was about 470 bytes per call; anything a
    // call leaves behind is an object of 16 bytes or more. Below that is the collector's noise,
    // which a loaded machine raises (2 bytes per call was seen with every CI task running at once).
    expect(perCall).toBeLessThan(8);
    p.dispose();
    b.dispose();
  });
});
