import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/index.js';
import { makeCase } from './helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const backend = createCpuBackend({ name: 'cpu-memory' });

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('native memory', () => {
  it('prepare holds the packed weights; dispose frees them; a second dispose is harmless', async () => {
    await backend.load();
    const before = backend.memoryInUse();
    const c = makeCase({ B: 2, T: 3, D: 40, H: 50 });
    const prepared = await backend.prepare(c.spec, c.weights);
    // Packed panels: (D + H) x 3 x units rounded up to the vector width, plus biases.
    expect(prepared.bytes).toBeGreaterThanOrEqual((40 + 50) * 3 * 50 * 4);
    expect(backend.memoryInUse() - before).toBe(prepared.bytes);
    prepared.dispose();
    expect(backend.memoryInUse()).toBe(before);
    expect(prepared.disposed).toBe(true);
    expect(prepared.bytes).toBe(0);
    expect(() => prepared.dispose()).not.toThrow();
    expect(() => prepared.forwardSync(c.request)).toThrow(/disposed/);
    await expect(prepared.forward(c.request)).rejects.toThrow(/disposed/);
    expect(() => prepared.setWeights(c.weights)).toThrow(/disposed/);
  });

  it('calls leave no native memory behind (sync, async, failed)', async () => {
    await backend.load();
    const c = makeCase({ B: 8, T: 60, D: 16, H: 40, recurrentDropout: true, inputDropout: true });
    const base = backend.memoryInUse();
    const prepared = await backend.prepare(c.spec, c.weights);
    // A prepared layer keeps its largest working buffer for the next call: warm it up first.
    prepared.forwardSync(c.request);
    const held = backend.memoryInUse();
    expect(held - prepared.bytes).toBeGreaterThan(0);
    for (let i = 0; i < 5; i++) {
      prepared.forwardSync(c.request);
      await prepared.forward(c.request);
      expect(() => prepared.forwardSync({ ...c.request, batch: 9 })).toThrow();
    }
    const threaded = createCpuBackend({ name: 'cpu-memory-async', syncBelowMacs: 0 });
    const p2 = await threaded.prepare(c.spec, c.weights);
    await p2.forward(c.request);
    const held2 = backend.memoryInUse();
    // Concurrent calls each need a working buffer; all but one are freed when they finish.
    await Promise.all(Array.from({ length: 6 }, () => p2.forward(c.request)));
    expect(backend.memoryInUse()).toBe(held2);
    p2.dispose();
    expect(backend.memoryInUse()).toBe(held);
    prepared.dispose();
    // Disposing frees the weights and the kept working buffer.
    expect(backend.memoryInUse()).toBe(base);
  });

  it('setWeights repacks in place of the old weights', async () => {
    const c = makeCase({ B: 2, T: 3, D: 10, H: 20 });
    const prepared = await backend.prepare(c.spec, c.weights);
    const held = backend.memoryInUse();
    const first = prepared.forwardSync(c.request).output.slice();
    const d = makeCase({ B: 2, T: 3, D: 10, H: 20, seed: 99 });
    prepared.setWeights(d.weights);
    expect(backend.memoryInUse()).toBe(held);
    const second = prepared.forwardSync(c.request).output;
    expect(Array.from(second)).not.toEqual(Array.from(first));
    prepared.dispose();
  });

  it('the garbage collector frees a prepared layer that was never disposed', async () => {
    await backend.load();
    await settle();
    const before = backend.memoryInUse();
    await (async () => {
      const c = makeCase({ B: 1, T: 2, D: 64, H: 96 });
      const prepared = await backend.prepare(c.spec, c.weights);
      expect(backend.memoryInUse()).toBeGreaterThan(before);
      prepared.forwardSync(c.request);
    })();
    await settle();
    expect(backend.memoryInUse()).toBe(before);
  });

  it('outputs handed to JavaScript stay valid after the layer is disposed', async () => {
    const c = makeCase({ B: 3, T: 4, D: 5, H: 6 });
    const threaded = createCpuBackend({ name: 'cpu-outputs', syncBelowMacs: 0 });
    const prepared = await threaded.prepare(c.spec, c.weights);
    const r = await prepared.forward(c.request);
    const copy = Array.from(r.output);
    prepared.dispose();
    await settle();
    expect(Array.from(r.output)).toEqual(copy);
    expect(r.output.every((v) => Number.isFinite(v))).toBe(true);
  });
});
