// One backend's soak, in a process of its own (run with --expose-gc): forward calls one after
// another, concurrent calls, a worker pool whose workers are terminated mid-call and replaced, and
// loadModel/predict/dispose cycles. Prints one JSON line: each phase's work, failures and memory
// growth. Usage: node --expose-gc run-backend.mjs <backend> <calls> <cycles> <concurrency> <workers> <interruptions> <terminations>
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { readyBackend } from './backends.mjs';
import { growth, grew, sample } from './samples.mjs';
import { makeWorkload } from './workload.mjs';

const [name, callsArg, cyclesArg, concurrencyArg, workersArg, interruptionsArg, terminationsArg = '0'] = process.argv.slice(2);
const calls = Number(callsArg);
const cycles = Number(cyclesArg);
const concurrency = Number(concurrencyArg);
const workers = Number(workersArg);
const interruptions = Number(interruptionsArg);
const terminations = Number(terminationsArg);
// A long soak says how far it got (on stderr, one line per sample) when GRU_SOAK_PROGRESS is set.
const progress = Boolean(process.env.GRU_SOAK_PROGRESS);

// Judged only over enough work for a steady leak to stand out of a collector's noise.
const CALL_RULE = {
  minUnits: 100_000,
  maxPerUnit: { heapUsed: 1, external: 1, arrayBuffers: 1, memoryInUse: 0, rss: 16 },
  // The allocator's arenas and the pool's stacks fill for a few hundred thousand calls (seen on cpu).
  minUnitsFor: { rss: 400_000 },
};
// Per worker terminated mid-call: what a worker leaves behind when its environment is torn down
// (a GPU device, an instance, a thread, a wasm memory is megabytes; a leaked N-API handle is tens
// of bytes and passes). RSS first climbs while the allocator makes an arena per new thread (up to
// 8 per core, glibc), so it is judged over more workers.
const TERMINATION_RULE = {
  minUnits: 80,
  maxPerUnit: { heapUsed: 1024, external: 1024, arrayBuffers: 1024, memoryInUse: 0, rss: 65_536 },
  minUnitsFor: { rss: 160 },
};
const CYCLE_RULE = { minUnits: 2_000, maxPerUnit: { heapUsed: 64, external: 64, arrayBuffers: 64, memoryInUse: 0, rss: 1024 }, minUnitsFor: { rss: 5_000 } };

/**
 * @typedef {import('./samples.mjs').Sample} Sample
 * @typedef {object} Phase
 * @property {string} phase
 * @property {number} units
 * @property {number} failures
 * @property {string} [firstError]
 * @property {import('./samples.mjs').Growth} [growth]
 * @property {string[] | null} [grew]
 * @property {Sample} [before]
 * @property {Sample} [after]
 * @property {{ done: number, values: Sample }[]} [samples]  what the growth was computed from (in the JSON)
 */

/**
 * Runs `count` units of work through `step(start, n)`, sampling memory as it goes.
 * @param {string} label
 * @param {number} count
 * @param {Parameters<typeof grew>[2]} rule
 * @param {import('@gru/core').GruBackend} backend
 * @param {(start: number, n: number) => Promise<void>} step
 * @returns {Promise<Phase>}
 */
async function phase(label, count, rule, backend, step) {
  const every = Math.max(1, Math.floor(count / 50));
  const samples = [{ done: 0, values: await sample(backend) }];
  let failures = 0;
  let firstError;
  let done = 0;
  while (done < count) {
    const n = Math.min(every, count - done);
    try {
      await step(done, n);
    } catch (err) {
      failures++;
      firstError ??= err instanceof Error ? err.message : String(err);
    }
    done += n;
    samples.push({ done, values: await sample(backend) });
    if (progress)
      process.stderr.write(`${new Date().toISOString()} ${label}: ${done}/${count}, ${failures} failed, ${JSON.stringify(samples.at(-1)?.values)}\n`);
  }
  const g = growth(samples);
  const afterWarmup = count - (samples.find((s) => s.done >= count * 0.2)?.done ?? count);
  return { phase: label, units: count, failures, firstError, growth: g, grew: grew(g, afterWarmup, rule), samples };
}

/**
 * One worker thread running `calls` of the workload on `backendName`; at call `interruptAt` it
 * starts a large call and is terminated in the middle of it (in native code, on a GPU queue or in
 * wasm). Resolves with the calls it finished.
 * @param {string} backendName
 * @param {number} calls
 * @param {number} [interruptAt]
 * @returns {Promise<number>}
 */
function runWorker(backendName, calls, interruptAt) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./worker.mjs', import.meta.url), { workerData: { backend: backendName, calls, interruptAt } });
    let settled = false;
    let interrupted = -1;
    let finished = -1;
    const settle = (/** @type {(v: any) => void} */ fn, /** @type {unknown} */ v) => {
      if (!settled) (settled = true), fn(v);
    };
    w.on('message', (m) => {
      if (m.error) settle(reject, new Error(m.error));
      else if (m.done !== undefined) finished = m.done;
      else if (m.interruptible !== undefined) {
        interrupted = m.interruptible;
        void w.terminate();
      }
    });
    w.on('error', (e) => settle(reject, e));
    // Settled when the thread is gone, not at its last message or the terminate() call: memory
    // sampled afterwards has no live worker in it, and the next worker starts after this one.
    w.on('exit', (code) => {
      if (finished >= 0) settle(resolve, finished);
      else if (interrupted >= 0) settle(resolve, interrupted);
      else settle(reject, new Error(`a soak worker exited with code ${code} before it finished`));
    });
  });
}

/**
 * The worker pool: `workers` threads share `count` calls, while beside them short-lived workers are
 * terminated in the middle of a large call, one after another (`interruptions` of them).
 */
async function pool(/** @type {number} */ count, /** @type {string} */ backendName, /** @type {number} */ interruptions) {
  const perWorker = Math.max(1, Math.floor(count / workers));
  const steady = Array.from({ length: workers }, () => runWorker(backendName, perWorker, undefined));
  let interrupted = 0;
  for (let k = 0; k < interruptions; k++) {
    await runWorker(backendName, 3 + (k % 5), k % 3);
    interrupted++;
  }
  const done = await Promise.all(steady);
  return { calls: done.reduce((a, b) => a + b, 0), interrupted };
}

/** @type {{ backend: string, phases: Phase[], skipped?: string, memoryInUseAfterDispose?: number, memoryInUseAtEnd?: number }} */
const result = { backend: name, phases: [] };
let backend;
try {
  backend = await readyBackend(name);
} catch (err) {
  result.skipped = err instanceof Error ? err.message : String(err);
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}
const core = await import('@gru/core');
const work = makeWorkload(core, name);
const sequential = Math.round(calls * 0.7);
const concurrent = Math.round(calls * 0.2);
const pooled = calls - sequential - concurrent;

result.phases.push(
  await phase('forward, one at a time', sequential, CALL_RULE, backend, async (start, n) => {
    for (let i = start; i < start + n; i++) await work.call(i);
  }),
);
result.phases.push(
  await phase(`forward, ${concurrency} in flight`, concurrent, CALL_RULE, backend, async (start, n) => {
    let next = start;
    const end = start + n;
    const lane = async () => {
      while (next < end) await work.call(next++);
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  }),
);
work.dispose();
const inUseAfterDispose = backend.memoryInUse?.() ?? 0;

if (workers > 0 && pooled > 0) {
  const before = await sample(backend);
  try {
    const p = await pool(pooled, name, interruptions);
    result.phases.push({
      phase: `worker pool of ${workers}, and ${p.interrupted} workers terminated mid-call`,
      units: p.calls,
      failures: 0,
      before,
      after: await sample(backend),
    });
  } catch (err) {
    result.phases.push({ phase: `worker pool of ${workers}`, units: pooled, failures: 1, firstError: err instanceof Error ? err.message : String(err) });
  }
}

if (terminations > 0) {
  result.phases.push(
    await phase('workers terminated mid-call, one after another', terminations, TERMINATION_RULE, backend, async (start, n) => {
      for (let k = start; k < start + n; k++) await runWorker(name, 2 + (k % 3), k % 2);
    }),
  );
}

if (cycles > 0) {
  const { loadModel } = await import('@gru/keras');
  const require = createRequire(import.meta.url);
  const keras = dirname(require.resolve('@gru/keras/package.json'));
  const bytes = new Uint8Array(readFileSync(join(keras, 'test', 'fixtures', 'k3_masked_bidir.keras')));
  const x = { shape: [2, 7, 3], data: Float32Array.from({ length: 42 }, (_, i) => Math.sin(i)) };
  result.phases.push(
    await phase('loadModel, predict, dispose', cycles, CYCLE_RULE, backend, async (_start, n) => {
      for (let i = 0; i < n; i++) {
        const model = await loadModel(bytes, { backend: name });
        const y = await model.predict(x);
        if (y.data.length !== 6 || !y.data.every(Number.isFinite)) throw new Error(`soak: the model predicted ${Array.from(y.data)}`);
        model.dispose();
      }
    }),
  );
}

result.memoryInUseAfterDispose = inUseAfterDispose;
result.memoryInUseAtEnd = backend.memoryInUse?.() ?? 0;
process.stdout.write(`${JSON.stringify(result)}\n`);
