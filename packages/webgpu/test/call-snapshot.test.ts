import { GRU, referenceForward, registerBackend, unregisterBackend } from '@gru/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend, type WebGpuPrepared } from '../src/index.js';
import { compareWithReference, expectClose, makeRequest, makeSpec, makeWeights } from './helpers.js';
import { ARGS, FULL, type Floats } from './views.js';

/**
 * What a call reads is taken when the call is made: the caller's arrays may be mutated,
 * transferred or replaced right after forward(), prepare() or setWeights() returns.
 */
const b = createWebGpuBackend({ name: 'webgpu-snapshot', allowFallbackAdapter: true });

/** A call overtaken by dispose() either completes or rejects saying so, never anything else. */
async function rejectedOrDone(call: Promise<unknown>): Promise<'completed' | 'rejected'> {
  try {
    await call;
    return 'completed';
  } catch (err) {
    expect((err as Error).message).toMatch(/^webgpu: this prepared GRU was disposed/);
    return 'rejected';
  }
}
beforeAll(() => b.load());
afterAll(() => b.dispose());

describe('a call uses what it was given when it was made', () => {
  const spec = makeSpec({ units: 6, inputDim: 4 });
  const weights = makeWeights(spec, 4);
  const fresh = () => makeRequest(spec, 5, { batch: 2, timesteps: 6, ...FULL });
  const want = referenceForward(spec, weights, fresh());
  const scribble = (a: Floats | Uint8Array) => a.fill(a instanceof Uint8Array ? 0 : 3);

  it('mutating any argument right after forward() changes nothing', async () => {
    const p = await b.prepare(spec, weights);
    // A call queued behind another: it runs after this test has scribbled over its arguments.
    const ahead = p.forward(fresh());
    for (const arg of ARGS) {
      const req = fresh();
      const pending = p.forward(req);
      const value = req[arg];
      if (Array.isArray(value)) value.forEach(scribble);
      else scribble(value as Floats | Uint8Array);
      const got = await pending;
      expectClose(got.output, want.output, `${arg} mutated: output`);
      expectClose(got.lastState, want.lastState, `${arg} mutated: lastState`);
    }
    await ahead;
    p.dispose();
  });

  it("transferring x's buffer right after forward() changes nothing", async () => {
    const p = await b.prepare(spec, weights);
    const req = fresh();
    const pending = p.forward(req);
    structuredClone(req.x.buffer, { transfer: [req.x.buffer as ArrayBuffer] });
    expect(req.x.length).toBe(0);
    const got = await pending;
    expectClose(got.output, want.output, 'transferred x: output');
    p.dispose();
  });

  it('weights passed to prepare() or setWeights() are copied when called', async () => {
    const mine = makeWeights(spec, 4);
    const preparing = b.prepare(spec, mine);
    mine.kernel.fill(0);
    const p = await preparing;
    const inFlight = p.forward(fresh());
    const next = makeWeights(spec, 6);
    const setting = p.setWeights(next);
    const nextCopy = makeWeights(spec, 6);
    next.recurrentKernel.fill(9);
    const after = p.forward(fresh());
    // The call made before setWeights() runs with the old weights, the one after with the new.
    expectClose((await inFlight).output, want.output, 'call made before setWeights');
    await setting;
    expectClose((await after).output, referenceForward(spec, nextCopy, fresh()).output, 'call made after setWeights');
    p.dispose();
  });

  it('dispose() during a call rejects it clearly (or lets it finish), and later calls are refused', async () => {
    const outcomes: string[] = [];
    // Disposed before the queued call starts, while it waits for the GPU, and between the two.
    for (const delay of [0, 1, 2, 5, 20]) {
      const p: WebGpuPrepared = (await b.prepare(spec, weights)) as WebGpuPrepared;
      const calls = [p.forward(fresh()), p.forward(fresh())];
      for (let i = 0; i < delay; i++) await new Promise((r) => setImmediate(r));
      p.dispose();
      for (const c of calls) outcomes.push(await rejectedOrDone(c));
      await expect(p.forward(fresh())).rejects.toThrow(/disposed/);
      await expect(p.setWeights(weights)).rejects.toThrow(/disposed/);
    }
    expect(outcomes).toContain('rejected');
    expect(b.memoryInUse()).toBe(0);
    // The backend still works.
    const p = await b.prepare(spec, weights);
    await compareWithReference(p, weights, fresh(), 'after disposals');
    p.dispose();
  });
});

describe('an empty batch', () => {
  const spec = makeSpec({ units: 5, inputDim: 3 });
  const weights = makeWeights(spec, 7);

  it('is answered with empty results, as the reference backend does, without GPU work', async () => {
    const p = await b.prepare(spec, weights);
    const memory = b.memoryInUse();
    for (const returnSequences of [true, false]) {
      for (const o of [{}, FULL]) {
        const req = makeRequest(spec, 8, { batch: 0, timesteps: 4, returnSequences, ...o });
        const want = referenceForward(spec, weights, req);
        const got = await p.forward(req);
        expect(got.output).toBeInstanceOf(Float32Array);
        expect([got.output.length, got.lastState.length]).toEqual([want.output.length, want.lastState.length]);
        expect(got.lastState.length).toBe(0);
      }
    }
    // No per-call buffers were made for it.
    expect(b.memoryInUse()).toBe(memory);
    await expect(p.forward({ ...makeRequest(spec, 8, { batch: 0, timesteps: 4 }), x: new Float32Array(3) })).rejects.toThrow(
      /`x` must be a Float32Array or Float64Array of 0 values \(\[batch, timesteps, inputDim\] = \[0, 4, 3\]\); received Float32Array\(3\)/,
    );
    p.dispose();
  });

  it('through the GRU layer gives the shapes the reference backend gives', async () => {
    registerBackend(b);
    for (const returnSequences of [true, false]) {
      const shapes = [];
      for (const backend of [b.name, 'reference']) {
        const gru = new GRU({ units: 5, returnSequences, returnState: true, backend, seed: 1 });
        const result = await gru.forward({ shape: [0, 4, 3], data: [] });
        expect(result.backend).toBe(backend);
        shapes.push(JSON.stringify([result.output.shape, result.state?.shape]));
        gru.dispose();
      }
      expect(shapes[0]).toBe(shapes[1]);
    }
    unregisterBackend(b.name);
  });
});

describe('dispose() of the backend while it works', () => {
  const spec = makeSpec({ units: 6, inputDim: 4 });
  const weights = makeWeights(spec, 9);

  it('during load(): the load rejects clearly and nothing is installed; a later load() works', async () => {
    const other = createWebGpuBackend({ name: 'webgpu-snapshot-load', allowFallbackAdapter: true });
    const loading = other.load();
    other.dispose();
    await expect(loading).rejects.toThrow("webgpu: backend 'webgpu-snapshot-load' was disposed while it loaded; load it again to use it.");
    expect(other.isLoaded()).toBe(false);
    expect(other.device).toBeUndefined();
    await other.load();
    expect(other.isLoaded()).toBe(true);
    other.dispose();
  });

  it('during prepare() and during calls: each rejects clearly, and no GPU memory stays counted', async () => {
    for (const delay of [0, 1, 3, 10]) {
      const other = createWebGpuBackend({ name: 'webgpu-snapshot-prepare', allowFallbackAdapter: true });
      await other.load();
      const preparing = other.prepare(spec, weights);
      for (let i = 0; i < delay; i++) await new Promise((r) => setImmediate(r));
      other.dispose();
      if (delay === 0) {
        // Disposed before prepare() could finish (it awaits the device): refused, saying so.
        await expect(preparing).rejects.toThrow(/disposed while (it loaded|the layer was prepared)/);
      } else {
        // How far prepare() got in a few event-loop turns depends on the machine's load: either it
        // was refused, or it finished first and dispose() disposed what it made.
        const outcome = await preparing.then(
          (p) => p,
          (err: Error) => err,
        );
        if (outcome instanceof Error) expect(outcome.message).toMatch(/disposed while (it loaded|the layer was prepared)/);
        else expect(outcome.isDisposed?.()).toBe(true);
      }
      expect(other.memoryInUse()).toBe(0);
    }
    for (const delay of [0, 1, 3]) {
      const other = createWebGpuBackend({ name: 'webgpu-snapshot-calls', allowFallbackAdapter: true });
      const p = await other.prepare(spec, weights);
      const req = makeRequest(spec, 10, { batch: 2, timesteps: 5 });
      const calls = [p.forward(req), p.forward(req)];
      for (let i = 0; i < delay; i++) await new Promise((r) => setImmediate(r));
      other.dispose();
      const outcomes = [];
      for (const c of calls) outcomes.push(await rejectedOrDone(c));
      // Disposed before the queued calls could start: both are refused.
      if (delay === 0) expect(outcomes).toEqual(['rejected', 'rejected']);
      expect(other.memoryInUse()).toBe(0);
    }
  });
});
