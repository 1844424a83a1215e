import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Runner } from '../src/discover.mjs';
import { runnerFromModule } from '../src/discover.mjs';
import { maxRssMiB, runJob } from '../src/job.mjs';
import { SHAPES } from '../src/shapes.mjs';

const S4 = SHAPES[3];
const plan = { warmupMs: 0, minIters: 2, minTimeMs: 0, maxTimeMs: 1000, maxIters: 100000, slowIters: 1 };
const base: Runner = { name: 't', kind: 'peer', available: async () => true, setup: async () => ({ run: () => {} }) };

describe('runJob', () => {
  it('times a pass, disposes what setup made, and records flops and memory', async () => {
    const mod = await import(fileURLToPath(new URL('./fixtures/runners/fake-peer.mjs', import.meta.url)));
    const before = mod.default.disposedCount();
    const r = await runJob(runnerFromModule(mod, 'fake-peer.mjs'), S4, plan);
    expect(r).toMatchObject({ runner: 'fake:peer', kind: 'peer', status: 'ok', flops: 147456, slow: false, warmupPasses: 1 });
    expect(r.iterations).toBeGreaterThanOrEqual(2);
    expect(mod.default.disposedCount()).toBe(before + 1);
    expect(r.peakRssMiB).toBeGreaterThan(0);
    expect(maxRssMiB()).toBeGreaterThanOrEqual(r.peakRssMiB as number);
  });

  it("records how much a runner's pool counters grew over its passes", async () => {
    let shared = 10;
    const r = await runJob(
      {
        ...base,
        setup: async () => ({
          run: () => {
            shared++;
          },
          poolStats: () => ({ sharedJobs: shared, crowdedAlone: 7 }),
        }),
      },
      S4,
      plan,
    );
    expect(r.status).toBe('ok');
    expect(r.poolStats).toEqual({ sharedJobs: (r.warmupPasses as number) + (r.iterations as number), crowdedAlone: 0 });
    expect((await runJob(base, S4, plan)).poolStats).toBeUndefined();
  });

  it('caps the passes of a shape the runner marks slow', async () => {
    const r = await runJob({ ...base, slow: () => true }, S4, { ...plan, minIters: 50 });
    expect(r).toMatchObject({ status: 'ok', slow: true, iterations: 1 });
  });

  it('disposes even when a pass throws, and reports the error', async () => {
    let disposed = false;
    const r = await runJob(
      {
        ...base,
        setup: async () => ({
          run: () => {
            throw new Error('bad pass');
          },
          dispose: () => {
            disposed = true;
          },
        }),
      },
      S4,
      plan,
    );
    expect(r).toMatchObject({ status: 'error', reason: 'bad pass' });
    expect(disposed).toBe(true);
  });

  it('rejects setup and available results outside the contract', async () => {
    const setup = async () => 42 as unknown as string;
    expect((await runJob({ ...base, setup: async () => ({}) as never }, S4, plan)).reason).toBe(
      "runner 't': setup() must resolve to { run, dispose? } or a reason string; received object.",
    );
    expect((await runJob({ ...base, setup }, S4, plan)).status).toBe('error');
    expect((await runJob({ ...base, available: async () => false as never }, S4, plan)).reason).toBe(
      "runner 't': available() must resolve to true or a non-empty reason string; received false.",
    );
  });

  it('does not call setup when the runner is unavailable', async () => {
    let called = false;
    const r = await runJob(
      {
        ...base,
        available: async () => 'no device',
        setup: async () => {
          called = true;
          return 'x';
        },
      },
      S4,
      plan,
    );
    expect(r).toMatchObject({ status: 'unavailable', reason: 'no device' });
    expect(called).toBe(false);
  });
});
