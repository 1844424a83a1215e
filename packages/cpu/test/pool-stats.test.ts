import { describe, expect, it } from 'vitest';
import { type CpuPoolStats, createCpuBackend } from '../src/index.js';
import { makeCase, streamBoundSteps } from './helpers.js';

// backend.poolStats() says whether calls that asked for several threads got them, and if not why.
// Every call split between threads counts once: shared with the pool, or run alone because the
// pool was held (busyAlone) or crowded (crowdedAlone); which one depends on the machine's load,
// the sum does not. (This file's calls are the only ones in its process: vitest forks per file.)
const KEYS = ['sharedJobs', 'wokeSleepers', 'busyAlone', 'crowdedAlone', 'crowdedWindows'] as const;

function delta(after: CpuPoolStats, before: CpuPoolStats): CpuPoolStats {
  return Object.fromEntries(KEYS.map((k) => [k, after[k] - before[k]])) as unknown as CpuPoolStats;
}

const splitCalls = (d: CpuPoolStats) => d.sharedJobs + d.busyAlone + d.crowdedAlone;

describe('backend.poolStats()', () => {
  it("reads the process's counts even before a backend's first prepare, so two readings of any backend compare", async () => {
    const unused = createCpuBackend({ name: 'cpu-pool-stats-unused' });
    const start = unused.poolStats();
    const backend = createCpuBackend({ name: 'cpu-pool-stats-other', threads: 2, minStepMacsPerThread: 0 });
    const c = makeCase({ B: 1, T: 5, D: 8, H: 32 });
    const prepared = await backend.prepare(c.spec, c.weights);
    for (let i = 0; i < 7; i++) prepared.forwardSync(c.request);
    expect(splitCalls(delta(unused.poolStats(), start))).toBe(7);
    expect(unused.poolStats()).toEqual(backend.poolStats());
    prepared.dispose();
  });

  it('is all zeros where the addon cannot load', () => {
    const broken = createCpuBackend({ name: 'cpu-pool-stats-broken', addonPath: '/nonexistent/gru_cpu.node' });
    expect(broken.poolStats()).toEqual({ sharedJobs: 0, wokeSleepers: 0, busyAlone: 0, crowdedAlone: 0, crowdedWindows: 0 });
  });

  it('counts each call split between threads once, and none of a one-thread call', async () => {
    const backend = createCpuBackend({ name: 'cpu-pool-stats', threads: 2, minStepMacsPerThread: 0 });
    const c = makeCase({ B: 1, T: 20, D: 16, H: 64 });
    const prepared = await backend.prepare(c.spec, c.weights);
    expect(prepared.threadsFor(1)).toBe(2);
    const before = backend.poolStats();
    for (const k of KEYS) expect(Number.isInteger(before[k]) && before[k] >= 0).toBe(true);
    for (let i = 0; i < 25; i++) prepared.forwardSync(c.request);
    const afterCalls = backend.poolStats();
    const d = delta(afterCalls, before);
    expect(splitCalls(d)).toBe(25);
    expect(d.wokeSleepers).toBeGreaterThanOrEqual(0);
    expect(d.wokeSleepers).toBeLessThanOrEqual(d.sharedJobs);
    expect(d.crowdedWindows).toBeGreaterThanOrEqual(0);

    // A streamed step is a call of one step: 20 of them count 20.
    streamBoundSteps(prepared, c.request.x as Float32Array, { batch: 1, timesteps: 20, inputDim: 16, units: 64 });
    const afterSteps = backend.poolStats();
    expect(splitCalls(delta(afterSteps, afterCalls))).toBe(20);

    backend.threads = 1;
    for (let i = 0; i < 5; i++) prepared.forwardSync(c.request);
    expect(delta(backend.poolStats(), afterSteps)).toEqual({ sharedJobs: 0, wokeSleepers: 0, busyAlone: 0, crowdedAlone: 0, crowdedWindows: 0 });
    prepared.dispose();
  });
});
