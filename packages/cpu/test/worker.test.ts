import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createCpuBackend, type CpuBackend } from '../src/index.js';
import { bitwiseEqual, makeCase, type Case } from './helpers.js';

// The addon is context-aware (no global JavaScript handles): each worker thread loads it into its
// own environment, and the process-wide thread pool serves them all.
const workerFile = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url));

function runInWorker(c: Case, repeat: number): Promise<{ output: Float32Array; lastState: Float32Array }[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerFile);
    worker.once('message', (msg: { ok: boolean; results?: { output: Float32Array; lastState: Float32Array }[]; error?: string }) => {
      void worker.terminate();
      if (msg.ok && msg.results) resolve(msg.results);
      else reject(new Error(msg.error));
    });
    worker.once('error', reject);
    worker.postMessage({ spec: c.spec, weights: c.weights, request: c.request, repeat });
  });
}

describe('worker threads', () => {
  it('several workers at once, each with the addon loaded, match the main thread', async () => {
    const backend: CpuBackend = createCpuBackend({ name: 'cpu-main' });
    const cases = [0, 1, 2, 3].map((i) => makeCase({ B: 6, T: 30, D: 20, H: 70, seed: 40 + i, initialState: true, mask: 'any', resetAfter: i % 2 === 0 }));
    const want = await Promise.all(
      cases.map(async (c) => {
        const p = await backend.prepare(c.spec, c.weights);
        const r = p.forwardSync(c.request);
        p.dispose();
        return r;
      }),
    );
    // Meanwhile the main thread keeps using the addon too.
    const main = cases[0];
    const mainPrepared = await backend.prepare(main.spec, main.weights);
    const [got] = await Promise.all([Promise.all(cases.map((c) => runInWorker(c, 4))), mainPrepared.forward(main.request)]);
    got.forEach((results, i) => {
      expect(results).toHaveLength(4);
      for (const r of results) {
        expect(bitwiseEqual(r.output, want[i].output as Float32Array)).toBe(true);
        expect(bitwiseEqual(r.lastState, want[i].lastState as Float32Array)).toBe(true);
      }
    });
    mainPrepared.dispose();
  });

  it('a worker can be terminated while its call is in flight', async () => {
    const c = makeCase({ B: 32, T: 300, D: 64, H: 128 });
    const worker = new Worker(workerFile);
    worker.postMessage({ spec: c.spec, weights: c.weights, request: c.request, repeat: 3 });
    await new Promise((r) => setTimeout(r, 20));
    await worker.terminate();
    // The process is still healthy: another call runs and gives the usual result.
    const backend = createCpuBackend({ name: 'cpu-after-terminate' });
    const small = makeCase({ B: 2, T: 3, D: 4, H: 5 });
    const p = await backend.prepare(small.spec, small.weights);
    expect(p.forwardSync(small.request).output.length).toBe(2 * 3 * 5);
    p.dispose();
  });
});
