import { describeConformance } from '@gru/conformance/vitest';
import { GRU, registerBackend, unregisterBackend } from '@gru/core';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend as singleThread, createWasmBackend, defaultWasmUrl } from '../src/index.js';
import { makeCase, type Config } from './helpers.js';

const here = dirname(fileURLToPath(import.meta.url));

/** Every call on the workers, however small, split as finely as the units allow. */
const eager = { syncBelowMacs: 0, minStepMacsPerThread: 0 };

function bitwiseEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

describe('worker threads (gru-threads.wasm on shared memory)', () => {
  const two = createWasmBackend({ name: 'wasm-threads-2', threads: 2, ...eager });
  const three = createWasmBackend({ name: 'wasm-threads-3', threads: 3, ...eager });
  beforeAll(() => Promise.all([singleThread.load(), two.load(), three.load()]));
  afterAll(() => {
    two.dispose();
    three.dispose();
  });

  it('row-wise activations (which need a whole gate row) run on one thread and match the single-threaded result', async () => {
    for (const [activation, recurrentActivation] of [
      ['softmax', 'sparsemax'],
      ['log_softmax', 'softmax'],
    ] as const) {
      const { spec, weights, request } = makeCase({ B: 8, T: 40, D: 16, H: 70, activation, recurrentActivation }, 5);
      const a = singleThread.prepareSync(spec, weights);
      const b = three.prepareSync(spec, weights);
      try {
        expect(Array.from((await b.forward(request)).output)).toEqual(Array.from(a.forwardSync(request).output));
      } finally {
        a.dispose();
        b.dispose();
      }
    }
  });

  it('starts the workers it was asked for', () => {
    expect(two.threadCount()).toBe(2);
    expect(three.threadCount()).toBe(3);
    expect(singleThread.threadCount()).toBe(0);
  });

  it('gives bitwise the results of one thread, for every call option and unit counts around the 32-unit shares', async () => {
    const flags = ['resetAfter', 'useBias', 'goBackwards', 'returnSequences', 'mask', 'initialState', 'inputDropout', 'recurrentDropout'] as const;
    let compared = 0;
    for (let bits = 0; bits < 1 << flags.length; bits += 3) {
      for (const [B, H] of [
        [1, 33],
        [5, 64],
        [6, 100],
        [2, 13],
      ]) {
        const cfg: Config = { B, T: 6, D: 5, H };
        flags.forEach((f, i) => ((cfg as unknown as Record<string, boolean>)[f] = (bits & (1 << i)) !== 0));
        const { spec, weights, request } = makeCase(cfg, bits * 31 + H);
        const want = singleThread.prepareSync(spec, weights).forwardSync(request);
        for (const b of [two, three]) {
          const p = await b.prepare(spec, weights);
          const got = await p.forward(request);
          p.dispose();
          expect(bitwiseEqual(got.output, want.output) && bitwiseEqual(got.lastState, want.lastState), `${b.name} ${JSON.stringify(cfg)}`).toBe(true);
          compared++;
        }
      }
    }
    expect(compared).toBe(2 * 4 * 86);
  });

  it('runs large calls on the workers and keeps this thread free meanwhile', async () => {
    const { spec, weights, request } = makeCase({ B: 16, T: 200, D: 64, H: 256 }, 7);
    const p = await two.prepare(spec, weights);
    // Queued before the call: it runs first only if the event loop turns while the workers
    // compute (a call run on this thread would resolve in microtasks, before any immediate).
    // No clock is read, so the machine's speed does not matter.
    let turned = false;
    setImmediate(() => (turned = true));
    const got = await p.forward(request);
    const turnedDuringCall = turned;
    p.dispose();
    expect(bitwiseEqual(got.output, singleThread.prepareSync(spec, weights).forwardSync(request).output)).toBe(true);
    expect(turnedDuringCall).toBe(true);
  });

  it('concurrent calls on one layer give the results of sequential ones', async () => {
    const cases = [1, 2, 3, 4, 5].map((seed) => makeCase({ B: 3, T: 9, D: 4, H: 70, mask: true }, seed));
    const p = await two.prepare(cases[0].spec, cases[0].weights);
    const sequential: { output: ArrayLike<number> }[] = [];
    for (const c of cases) sequential.push(await p.forward({ ...c.request }));
    const concurrent = await Promise.all(cases.map((c) => p.forward({ ...c.request })));
    concurrent.forEach((r, i) => expect(bitwiseEqual(r.output, sequential[i].output)).toBe(true));
    p.dispose();
  });

  it('a layer disposed during a call finishes the call, then frees its weights', async () => {
    const before = two.memoryInUse();
    const { spec, weights, request } = makeCase({ B: 8, T: 100, D: 32, H: 128 }, 11);
    const p = await two.prepare(spec, weights);
    const running = p.forward(request);
    p.dispose();
    const got = await running;
    expect(bitwiseEqual(got.output, singleThread.prepareSync(spec, weights).forwardSync(request).output)).toBe(true);
    expect(two.memoryInUse()).toBe(before);
  });

  it('the public layer runs on it, and small calls stay on the calling thread by default', async () => {
    const lazy = createWasmBackend({ name: 'wasm-threads-lazy', threads: 2, priority: -1 });
    registerBackend(lazy);
    try {
      const layer = new GRU({ units: 40, returnSequences: true, backend: 'wasm-threads-lazy', seed: 3 });
      const x = { shape: [2, 5, 3], data: Float32Array.from({ length: 30 }, (_, i) => Math.sin(i)) };
      const threaded = await layer.forward(x);
      expect(threaded.backend).toBe('wasm-threads-lazy');
      const single = layer.forwardSync(x, { backend: 'wasm' });
      expect(bitwiseEqual(threaded.output.data as Float32Array, single.output.data as Float32Array)).toBe(true);
      layer.dispose();
    } finally {
      unregisterBackend('wasm-threads-lazy');
      lazy.dispose();
    }
  });

  it("'auto' starts one worker per hardware thread", async () => {
    const auto = createWasmBackend({ name: 'wasm-threads-auto', threads: 'auto' });
    await auto.load();
    expect(auto.threadCount()).toBe(availableParallelism() > 1 ? availableParallelism() : 0);
    auto.dispose();
  });

  it('validates a request before choosing threads for it', async () => {
    const { spec, weights } = makeCase({ B: 1, T: 1, D: 2, H: 40 }, 5);
    const p = await two.prepare(spec, weights);
    await expect(p.forward(null as never)).rejects.toThrow(/wasm forward: `request` must be an object \{x, batch, timesteps, \.\.\.\}; received null/);
    await expect(p.forward({ batch: 1.5, timesteps: 2 } as never)).rejects.toThrow(
      /wasm forward: `batch` must be a non-negative integer; received number 1\.5/,
    );
    const empty = await p.forward({ x: new Float32Array(0), batch: 0, timesteps: 3, goBackwards: false, returnSequences: true });
    expect(empty.output.length).toBe(0);
    p.dispose();
  });

  it('rejects bad options by name', () => {
    for (const threads of [0, 1.5, -2, 'many', 1000]) {
      expect(() => createWasmBackend({ threads: threads as number })).toThrow(/threads must be 'auto' or an integer from 1 to 256; received/);
    }
    expect(() => createWasmBackend({ threads: 2, syncBelowMacs: -1 })).toThrow(/syncBelowMacs must be a non-negative number; received -1/);
    expect(() => createWasmBackend({ threads: 2, minStepMacsPerThread: Number.NaN })).toThrow(
      /minStepMacsPerThread must be a non-negative number; received NaN/,
    );
  });

  it('says which build it needs when given the other one', async () => {
    const wrong = createWasmBackend({ name: 'wasm-threads-wrong', threads: 2, wasmBytes: readFileSync(fileURLToPath(defaultWasmUrl())) });
    await expect(wrong.load()).rejects.toThrow(/is gru\.wasm, but worker threads need gru-threads\.wasm/);
    const wrong1 = createWasmBackend({ name: 'wasm-threads-wrong1', wasmUrl: defaultWasmUrl(true) });
    await expect(wrong1.load()).rejects.toThrow(/is gru-threads\.wasm, the build for worker threads; with threads: 1 give gru\.wasm/);
  });

  it('idle workers do not keep Node running, and a call in flight does', () => {
    const entry = pathToFileURL(join(here, '..', 'dist', 'index.js')).href;
    const script = `
      import { createWasmBackend } from ${JSON.stringify(entry)};
      const b = createWasmBackend({ name: 'exit-test', threads: 2, syncBelowMacs: 0, minStepMacsPerThread: 0 });
      await b.load();
      const H = 64, D = 8, B = 4, T = 50;
      const p = await b.prepare({ units: H, inputDim: D, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: false, resetAfter: true, dtype: 'float32' },
        { kernel: new Float32Array(D * 3 * H).fill(0.01), recurrentKernel: new Float32Array(H * 3 * H).fill(0.01), bias: null });
      // Not awaited at top level: only the workers keep the process alive until the call ends.
      p.forward({ x: new Float32Array(B * T * D).fill(1), batch: B, timesteps: T, goBackwards: false, returnSequences: false })
        .then((r) => console.log('result', r.lastState.length, r.lastState[0].toFixed(6)));
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 240_000 });
    expect(run.error).toBeUndefined();
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^result 256 -?\d\.\d{6}\n$/);
  });
});

// The whole conformance suite with every call split between two workers.
const threaded = createWasmBackend({ name: 'wasm-threads-conformance', threads: 2, priority: -1, ...eager });
describeConformance(threaded, { strict: true, expectations: join(here, '..', 'conformance.expectations.json') });
