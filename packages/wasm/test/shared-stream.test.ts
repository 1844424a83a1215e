import { GRU, registerBackend, unregisterBackend, type BoundForward } from '@gru/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend as singleThread, createWasmBackend, type WasmBackend } from '../src/index.js';
import type { WasmKernel } from '../src/kernel.js';
import type { WasmPreparedGru } from '../src/prepared.js';
import type { ThreadPool } from '../src/thread-pool.js';
import { bitwiseEqual, heapGrowthDuring, makeCase, rng, type Config } from './helpers.js';

// A bound call (so every stream() step) on a backend with worker threads is shared between the
// calling thread and worker 0, phase by phase (assembly/shared-call.ts). Whoever computes a share,
// the results must be bitwise those of one thread, and a worker that is asleep, gone or busy with
// a forward() call must never hold a step up. No timing is asserted.

/** Whether a bound call shares its steps with a worker (its arguments then live in wasm memory). */
const isShared = (call: BoundForward) => (call as unknown as { argsAt: number }).argsAt !== 0;
const poolOf = (p: WasmPreparedGru) => (p as unknown as { kernel: WasmKernel }).kernel.pool as ThreadPool;
const controlOf = (pool: ThreadPool) => (pool as unknown as { ctl: Int32Array }).ctl;
/** thread-pool.ts: worker 0's sleep flag. */
const SLEEP0 = 128 + 256;
/** Waits (no timing assumed) until `done()` holds. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 2));
}

/** Runs a bound call of `cfg` on `backend` `runs` times; each run must equal forwardSync on one thread. */
function expectBoundEqualsOneThread(backend: WasmBackend, cfg: Config, seed: number, runs = 3, shared = true): void {
  const { spec, weights, request } = makeCase(cfg, seed);
  const one = singleThread.prepareSync(spec, weights);
  const two = backend.prepareSync(spec, weights);
  try {
    const want = one.forwardSync(request);
    const output = new Float32Array(want.output.length);
    const lastState = new Float32Array(want.lastState.length);
    const call = two.bindForward({ ...request, output, lastState });
    expect(isShared(call), JSON.stringify(cfg)).toBe(shared);
    for (let i = 0; i < runs; i++) {
      output.fill(NaN);
      lastState.fill(NaN);
      call.run();
      expect(bitwiseEqual(output, want.output), JSON.stringify(cfg)).toBe(true);
      expect(bitwiseEqual(lastState, want.lastState), JSON.stringify(cfg)).toBe(true);
    }
    call.dispose();
  } finally {
    one.dispose();
    two.dispose();
  }
}

describe('bound calls shared between the calling thread and a worker', () => {
  const threaded = createWasmBackend({ name: 'wasm-shared', threads: 2, priority: -1, minSharedStepMacs: 32_768 });
  beforeAll(async () => {
    await Promise.all([singleThread.load(), threaded.load()]);
    registerBackend(threaded);
  });
  afterAll(() => {
    unregisterBackend('wasm-shared');
    threaded.dispose();
  });

  it('give bitwise the results of one thread, for every call option and several steps', () => {
    const variants: Partial<Config>[] = [
      {},
      { resetAfter: false, initialState: true, mask: true, goBackwards: true },
      { inputDropout: true, recurrentDropout: true, returnSequences: false, initialState: true },
      { recurrentDropout: true, resetAfter: false, returnSequences: true, useBias: false },
    ];
    variants.forEach((v, seed) => expectBoundEqualsOneThread(threaded, { B: 3, T: 5, D: 7, H: 70, ...v }, seed + 1));
    // The streaming shape: one step of one row, the benchmarks' S4.
    expectBoundEqualsOneThread(threaded, { B: 1, T: 1, D: 64, H: 128, initialState: true }, 9, 20);
  });

  it('leave calls too small to share (one group of 32 units, or under minSharedStepMacs, by default all) on the calling thread', async () => {
    expectBoundEqualsOneThread(threaded, { B: 1, T: 1, D: 64, H: 32, initialState: true }, 3, 2, false);
    expect(() => createWasmBackend({ threads: 2, minSharedStepMacs: -1 })).toThrow(/minSharedStepMacs must be a non-negative number or Infinity; received -1/);
    expect(() => createWasmBackend({ threads: 2, minSharedStepMacs: Number.NaN })).toThrow(
      /minSharedStepMacs must be a non-negative number or Infinity; received NaN/,
    );
    for (const options of [{ minSharedStepMacs: 1e9 }, {}]) {
      const picky = createWasmBackend({ name: 'wasm-shared-picky', threads: 2, ...options });
      await picky.load();
      try {
        expectBoundEqualsOneThread(picky, { B: 1, T: 1, D: 64, H: 128, initialState: true }, 4, 2, false);
      } finally {
        picky.dispose();
      }
    }
  });

  it('a stream stepped 5,000 times equals the one-thread stream bitwise, and a step allocates nothing', () => {
    const [D, H, steps] = [64, 128, 5000];
    const r = rng(21);
    const w = [
      { shape: [D, 3 * H], data: r.uniform(D * 3 * H, 0.2) },
      { shape: [H, 3 * H], data: r.uniform(H * 3 * H, 0.2) },
      { shape: [2, 3 * H], data: r.uniform(6 * H, 0.2) },
    ];
    const streams = ['wasm', 'wasm-shared'].map((backend) => {
      const gru = new GRU({ units: H, stateful: true, backend });
      gru.build([1, null, D]);
      gru.setWeights(w);
      return gru.stream();
    });
    expect(streams.map((s) => s.backend)).toEqual(['wasm', 'wasm-shared']);
    const x = r.uniform(steps * D);
    const outs = streams.map(() => new Float32Array(steps * H));
    for (let t = 0; t < steps; t++) {
      streams.forEach((s, i) => outs[i].set(s.step(x.subarray(t * D, (t + 1) * D)), t * H));
    }
    expect(bitwiseEqual(outs[1], outs[0])).toBe(true);
    const out = new Float32Array(H);
    const stream = streams[1];
    for (let i = 0; i < 20_000; i++) stream.step(undefined, out); // warm: optimized code
    const n = 100_000;
    expect(heapGrowthDuring(n, () => stream.step(undefined, out))).toBeLessThan(4 * n);
    streams.forEach((s) => s.close());
  }, 240_000);

  it('a step finds a sleeping worker: it wakes it or does its share itself', async () => {
    const { spec, weights, request } = makeCase({ B: 1, T: 1, D: 64, H: 128, initialState: true }, 12);
    const one = singleThread.prepareSync(spec, weights);
    const two = threaded.prepareSync(spec, weights);
    const want = one.forwardSync(request);
    const output = new Float32Array(want.output.length);
    const lastState = new Float32Array(want.lastState.length);
    const call = two.bindForward({ ...request, output, lastState });
    const ctl = controlOf(poolOf(two));
    for (let i = 0; i < 3; i++) {
      await until(() => Atomics.load(ctl, SLEEP0) === 1); // the worker stopped spinning and sleeps
      output.fill(NaN);
      call.run();
      expect(bitwiseEqual(output, want.output)).toBe(true);
    }
    call.dispose();
    one.dispose();
    two.dispose();
  }, 60_000);

  it('runs alone while a forward() call is on the workers', async () => {
    const big = makeCase({ B: 8, T: 60, D: 64, H: 128 }, 13);
    const one = singleThread.prepareSync(big.spec, big.weights);
    const two = threaded.prepareSync(big.spec, big.weights);
    const small = makeCase({ B: 1, T: 1, D: 64, H: 128, initialState: true }, 14);
    const oneSmall = singleThread.prepareSync(small.spec, small.weights);
    const twoSmall = threaded.prepareSync(small.spec, small.weights);
    const want = oneSmall.forwardSync(small.request);
    const output = new Float32Array(want.output.length);
    const lastState = new Float32Array(want.lastState.length);
    const call = twoSmall.bindForward({ ...small.request, output, lastState });
    const pending = two.forward(big.request);
    expect(poolOf(two).idle).toBe(false);
    call.run();
    expect(bitwiseEqual(output, want.output)).toBe(true);
    expect(bitwiseEqual((await pending).output, one.forwardSync(big.request).output)).toBe(true);
    // And shares again once the workers are free.
    expect(poolOf(two).idle).toBe(true);
    call.run();
    expect(bitwiseEqual(output, want.output)).toBe(true);
    call.dispose();
    [one, two, oneSmall, twoSmall].forEach((p) => p.dispose());
  }, 60_000);
});

describe('a shared step whose worker is gone', () => {
  it('completes on the calling thread, before and after the pool hears of the exit', async () => {
    const backend = createWasmBackend({ name: 'wasm-shared-gone', threads: 2, minSharedStepMacs: 0 });
    await Promise.all([singleThread.load(), backend.load()]);
    const { spec, weights, request } = makeCase({ B: 2, T: 3, D: 16, H: 96, initialState: true, returnSequences: true }, 15);
    const one = singleThread.prepareSync(spec, weights);
    const two = backend.prepareSync(spec, weights);
    const want = one.forwardSync(request);
    const output = new Float32Array(want.output.length);
    const lastState = new Float32Array(want.lastState.length);
    const call = two.bindForward({ ...request, output, lastState });
    expect(isShared(call)).toBe(true);
    const pool = poolOf(two);
    const worker = (pool as unknown as { ports: { terminate(): Promise<number> }[] }).ports[0];
    const gone = worker.terminate();
    // Its exit is not yet seen (no event ran): the pool looks idle, the steps are still shared,
    // and the calling thread runs both shares of every phase.
    for (let i = 0; i < 50; i++) {
      output.fill(NaN);
      call.run();
      expect(bitwiseEqual(output, want.output)).toBe(true);
      expect(bitwiseEqual(lastState, want.lastState)).toBe(true);
    }
    await gone;
    await until(() => pool.broken !== undefined);
    expect(pool.idle).toBe(false);
    call.run();
    expect(bitwiseEqual(output, want.output)).toBe(true);
    call.dispose();
    one.dispose();
    two.dispose();
    backend.dispose();
  }, 60_000);
});
