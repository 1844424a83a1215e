import { GRU, referenceForward, registerBackend, unregisterBackend, type ForwardRequest } from '@gru/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend as singleThread, createWasmBackend, type WasmBackend } from '../src/index.js';
import { makeCase, worstRatio, type Config } from './helpers.js';

/**
 * A call runs with what it was given when it was made: its arrays may be mutated or transferred,
 * and the layer's weights replaced, right after forward() (or prepare()) returns. With worker
 * threads the call runs later, on shared memory, while this thread goes on.
 */
const eager = { syncBelowMacs: 0, minStepMacsPerThread: 0 };
const two = createWasmBackend({ name: 'wasm-snapshot-threads-2', threads: 2, ...eager });
const backends: WasmBackend[] = [singleThread, two];
beforeAll(() => Promise.all(backends.map((b) => b.load())), 60_000);
afterAll(() => two.dispose());

const FULL: Config = { B: 3, T: 7, D: 5, H: 40, mask: true, initialState: true, inputDropout: true, recurrentDropout: true };
const ARGS = ['x', 'initialState', 'mask', 'inputDropoutMasks', 'recurrentDropoutMasks'] as const;

function expectReference(got: { output: ArrayLike<number>; lastState: ArrayLike<number> }, c: ReturnType<typeof makeCase>, what: string) {
  const want = referenceForward(c.spec, c.weights, c.request);
  expect(worstRatio(got.output, want.output), `${what}: output`).toBeLessThanOrEqual(1);
  expect(worstRatio(got.lastState, want.lastState), `${what}: lastState`).toBeLessThanOrEqual(1);
}

const scribble = (a: Float32Array | Float64Array | Uint8Array) => a.fill(a instanceof Uint8Array ? 0 : 3);

describe.each(backends.map((b) => [b.name, b] as const))('%s', (_name, b) => {
  it('mutating any argument right after forward() changes nothing', async () => {
    const c = makeCase(FULL, 1);
    const p = await b.prepare(c.spec, c.weights);
    for (const arg of ARGS) {
      const req: ForwardRequest = structuredClone(c.request);
      const pending = p.forward(req);
      const value = req[arg];
      if (Array.isArray(value)) value.forEach(scribble);
      else scribble(value as Float32Array | Uint8Array);
      expectReference(await pending, c, `${arg} mutated`);
    }
    p.dispose();
  });

  it("transferring x's buffer right after forward() changes nothing", async () => {
    const c = makeCase(FULL, 2);
    const p = await b.prepare(c.spec, c.weights);
    const req: ForwardRequest = structuredClone(c.request);
    const pending = p.forward(req);
    structuredClone(req.x.buffer, { transfer: [req.x.buffer as ArrayBuffer] });
    expect(req.x.length).toBe(0);
    expectReference(await pending, c, 'transferred x');
    p.dispose();
  });

  it('setWeights() during a call: that call keeps the old weights, the next one gets the new', async () => {
    const before = b.memoryInUse();
    const c = makeCase(FULL, 3);
    const next = makeCase(FULL, 4);
    const p = await b.prepare(c.spec, c.weights);
    const inFlight = [p.forward(c.request), p.forward(c.request)];
    p.setWeights(structuredClone(next.weights));
    const after = p.forward(c.request);
    // Replaced again while the first calls may still run: the copy nobody reads is reused.
    p.setWeights(next.weights);
    for (const call of inFlight) expectReference(await call, c, 'call made before setWeights');
    expectReference(await after, { ...next, request: c.request }, 'call made after setWeights');
    p.dispose();
    expect(b.memoryInUse()).toBe(before);
  });

  it('an empty batch gives what the reference backend gives', async () => {
    for (const returnSequences of [true, false]) {
      const c = makeCase({ ...FULL, B: 0, returnSequences }, 5);
      const p = await b.prepare(c.spec, c.weights);
      const got = await p.forward(c.request);
      const want = referenceForward(c.spec, c.weights, c.request);
      expect([got.output.length, got.lastState.length]).toEqual([want.output.length, want.lastState.length]);
      p.dispose();
    }
  });
});

describe('weights given to prepare()', () => {
  it('are copied before the backend finishes loading', async () => {
    for (const threads of [1, 2]) {
      const fresh = createWasmBackend({ name: `wasm-snapshot-fresh-${threads}`, threads, ...eager });
      const c = makeCase(FULL, 6);
      const mine = structuredClone(c.weights);
      const preparing = fresh.prepare(c.spec, mine);
      mine.kernel.fill(0);
      mine.recurrentKernel.fill(0);
      const p = await preparing;
      expectReference(await p.forward(c.request), c, `threads ${threads}`);
      p.dispose();
      fresh.dispose();
    }
  });
});

describe('dispose() during a call', () => {
  it("a layer's dispose() lets its calls finish; the backend's rejects them clearly; neither crashes", async () => {
    const c = makeCase({ ...FULL, B: 8, T: 60, H: 96 }, 7);
    const p = await two.prepare(c.spec, c.weights);
    const before = two.memoryInUse();
    const calls = [p.forward(c.request), p.forward(c.request)];
    p.dispose();
    for (const call of calls) expectReference(await call, c, 'layer disposed during the call');
    await expect(p.forward(c.request)).rejects.toThrow(/this prepared layer was disposed/);
    expect(two.memoryInUse()).toBeLessThan(before);

    const doomed = createWasmBackend({ name: 'wasm-snapshot-doomed', threads: 2, ...eager });
    const q = await doomed.prepare(c.spec, c.weights);
    const pending = [q.forward(c.request), q.forward(c.request)];
    doomed.dispose();
    for (const call of pending) await expect(call).rejects.toThrow(/the backend was disposed while the call ran on its worker threads/);
    expect(() => q.setWeights(c.weights)).toThrow(/backend this layer was prepared on was disposed/);
  });
});

describe('through the GRU layer', () => {
  it('an empty batch has the shapes the reference backend gives', async () => {
    registerBackend(two);
    try {
      for (const returnSequences of [true, false]) {
        const shapes = [];
        for (const backend of [two.name, singleThread.name, 'reference']) {
          const gru = new GRU({ units: 5, returnSequences, returnState: true, backend, seed: 1 });
          const result = await gru.forward({ shape: [0, 4, 3], data: [] });
          expect(result.backend).toBe(backend);
          shapes.push(JSON.stringify([result.output.shape, result.state?.shape]));
          gru.dispose();
        }
        expect(new Set(shapes).size, shapes.join(' ')).toBe(1);
      }
    } finally {
      unregisterBackend(two.name);
    }
  });
});

describe('dispose() during load()', () => {
  it('load() rejects clearly, no module is installed afterwards, and a later load() works', async () => {
    for (const threads of [1, 2]) {
      const b = createWasmBackend({ name: `wasm-snapshot-load-${threads}`, threads });
      const loading = b.load();
      b.dispose();
      await expect(loading).rejects.toThrow(/backend was disposed while it loaded; call load\(\) again/);
      expect(b.isLoaded()).toBe(false);
      expect(b.threadCount()).toBe(0);
      await b.load();
      expect(b.isLoaded()).toBe(true);
      expect(b.threadCount()).toBe(threads > 1 ? threads : 0);
      b.dispose();
    }
  });
});
