import type { ForwardResult } from '@gru/core';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/index.js';
import { bitwiseEqual, makeCase } from './helpers.js';

const backend = createCpuBackend({ name: 'cpu-async' });

describe('forward() runs off the JavaScript thread', () => {
  it('the event loop keeps turning during a long call (and does not during forwardSync)', async () => {
    // About 4 GFLOP: far longer than a turn of the event loop on any machine; a loaded machine
    // only makes the call longer. Counts turns, not milliseconds.
    const c = makeCase({ B: 32, T: 400, D: 128, H: 256, returnSequences: false });
    const prepared = await backend.prepare(c.spec, c.weights);
    const countTurns = async (call: () => Promise<unknown> | unknown) => {
      let turns = 0;
      let done = false;
      const turn = () => {
        if (done) return;
        turns++;
        setImmediate(turn);
      };
      setImmediate(turn);
      await call();
      done = true;
      return turns;
    };
    expect(await countTurns(() => prepared.forwardSync(c.request))).toBe(0);
    expect(await countTurns(() => prepared.forward(c.request))).toBeGreaterThan(0);
    prepared.dispose();
  });

  it('small calls resolve inline (below syncBelowMacs) with the same result', async () => {
    const inline = createCpuBackend({ name: 'cpu-inline', syncBelowMacs: Infinity });
    const threaded = createCpuBackend({ name: 'cpu-threaded', syncBelowMacs: 0 });
    const c = makeCase({ B: 2, T: 5, D: 8, H: 16 });
    const a = await inline.prepare(c.spec, c.weights);
    const b = await threaded.prepare(c.spec, c.weights);
    let resolvedInline = false;
    const pa = a.forward(c.request).then((r) => ((resolvedInline = true), r));
    await Promise.resolve();
    await Promise.resolve();
    expect(resolvedInline).toBe(true);
    const [ra, rb] = await Promise.all([pa, b.forward(c.request)]);
    expect(bitwiseEqual(ra.output as Float32Array, rb.output as Float32Array)).toBe(true);
    a.dispose();
    b.dispose();
  });
});

describe("forward()'s result", () => {
  it('is whole even with setters on Array.prototype[0..2] (the addon defines its elements, it does not assign them)', async () => {
    // In a worker thread: a poisoned Array.prototype in this realm would reach the test runner too.
    const c = makeCase({ B: 2, T: 3, D: 4, H: 5 });
    const worker = new Worker(fileURLToPath(new URL('./fixtures/proto-setters.mjs', import.meta.url)));
    const reply = await new Promise<Record<string, unknown>>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage({ spec: c.spec, weights: c.weights, request: c.request });
    });
    await worker.terminate();
    expect(reply).toEqual({ ok: true, swallowed: 0, output: true, lastState: true, saved: true });
  });
});

describe('concurrent calls', () => {
  it('many concurrent calls on one prepared layer equal the same calls made one at a time', async () => {
    const c = makeCase({ B: 8, T: 40, D: 32, H: 96, initialState: true, mask: 'any' });
    const threaded = createCpuBackend({ name: 'cpu-concurrent', syncBelowMacs: 0 });
    const prepared = await threaded.prepare(c.spec, c.weights);
    // Different inputs per call, so a mixed-up buffer would show.
    const requests = Array.from({ length: 12 }, (_, i) => {
      const x = Float32Array.from(c.request.x, (v) => v * (1 + i / 10));
      return { ...c.request, x };
    });
    const sequential: ForwardResult[] = [];
    for (const r of requests) sequential.push(prepared.forwardSync(r));
    const concurrent = await Promise.all(requests.map((r) => prepared.forward(r)));
    concurrent.forEach((r, i) => {
      expect(bitwiseEqual(r.output as Float32Array, sequential[i].output as Float32Array)).toBe(true);
      expect(bitwiseEqual(r.lastState as Float32Array, sequential[i].lastState as Float32Array)).toBe(true);
    });
    prepared.dispose();
  });

  it('sync, async and backward calls on several layers at once all give their sequential results', async () => {
    const backend = createCpuBackend({ name: 'cpu-mixed', syncBelowMacs: 0, minStepMacsPerThread: 0, threads: 2 });
    const cases = [
      makeCase({ B: 16, T: 12, D: 48, H: 160, seed: 1 }),
      makeCase({ B: 1, T: 30, D: 16, H: 128, seed: 2, resetAfter: false }),
      makeCase({ B: 5, T: 9, D: 7, H: 33, seed: 3, mask: 'any' }),
    ];
    const layers = await Promise.all(cases.map((c) => backend.prepare(c.spec, c.weights)));
    const want = cases.map((c, i) => layers[i].forwardSync(c.request).output as Float32Array);
    let mismatches = 0;
    const lane = async (offset: number) => {
      for (let i = 0; i < 40; i++) {
        const j = (i + offset) % cases.length;
        const c = cases[j];
        let out: Float32Array;
        if (i % 3 === 0) out = layers[j].forwardSync(c.request).output as Float32Array;
        else if (i % 3 === 1) out = (await layers[j].forward(c.request)).output as Float32Array;
        else {
          const f = layers[j].forwardSync({ ...c.request, keepForBackward: true });
          await layers[j].backward(f.saved, { dOutput: new Float32Array(f.output.length).fill(1) });
          out = f.output as Float32Array;
        }
        if (!bitwiseEqual(out, want[j])) mismatches++;
      }
    };
    await Promise.all([lane(0), lane(1), lane(2), lane(3)]);
    expect(mismatches).toBe(0);
    for (const l of layers) l.dispose();
  });

  it('an in-flight call keeps its weights and inputs when the caller changes them', async () => {
    const c = makeCase({ B: 16, T: 200, D: 64, H: 128 });
    const threaded = createCpuBackend({ name: 'cpu-inflight', syncBelowMacs: 0 });
    const prepared = await threaded.prepare(c.spec, c.weights);
    const want = prepared.forwardSync(c.request);
    const x = c.request.x.slice();
    const pending = prepared.forward({ ...c.request, x });
    // All of these happen while the call runs on its worker thread.
    x.fill(7);
    structuredClone(x.buffer, { transfer: [x.buffer] });
    prepared.setWeights({ kernel: new Float32Array(c.weights.kernel.length), recurrentKernel: c.weights.recurrentKernel, bias: c.weights.bias });
    prepared.dispose();
    const got = await pending;
    expect(bitwiseEqual(got.output as Float32Array, want.output as Float32Array)).toBe(true);
    expect(() => prepared.forwardSync(c.request)).toThrow(/disposed/);
  });
});
