import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebGpuBackend } from '../src/index.js';
import { makeRequest, makeSpec, makeWeights } from './helpers.js';

/**
 * What one forward() asks of the GPU and of the event loop, counted, never timed: the latency of
 * a small call is its round trips (submits, maps, waits), so an added one (an onSubmittedWorkDone
 * before the map, a second submit, a timer in the read-back) must fail here on any machine.
 * Measured on lavapipe (issue 11's soak): a one-step call is bound by the driver's compute and
 * Dawn's own event polling, and the backend adds one submit and one map per call.
 */
const b = createWebGpuBackend({ name: 'webgpu-call-path', allowFallbackAdapter: true });

type Counts = Record<string, number>;

/** Wraps `names` on `target`'s prototype so that each call made while `on()` is true is counted. */
function count(target: object, names: string[], counts: Counts, on: () => boolean): () => void {
  const proto = Object.getPrototypeOf(target) as Record<string, (...a: unknown[]) => unknown>;
  const saved = names.map((n) => [n, proto[n]] as const);
  for (const [n, f] of saved) {
    proto[n] = function (this: unknown, ...a: unknown[]) {
      if (on()) counts[n] = (counts[n] ?? 0) + 1;
      return f.apply(this, a);
    };
  }
  return () => {
    for (const [n, f] of saved) proto[n] = f;
  };
}

/** Timers the backend's own code sets (Dawn schedules its event processing with setImmediate, natively). */
function countTimers(counts: Counts, on: () => boolean): () => void {
  const g = globalThis as unknown as Record<string, (...a: unknown[]) => unknown>;
  const saved = ['setTimeout', 'setInterval'].map((n) => [n, g[n]] as const);
  for (const [n, f] of saved) {
    g[n] = (...a: unknown[]) => {
      if (on() && /packages[\\/]webgpu[\\/]src[\\/]/.test(new Error().stack ?? '')) counts[n] = (counts[n] ?? 0) + 1;
      return f(...a);
    };
  }
  return () => {
    for (const [n, f] of saved) g[n] = f;
  };
}

beforeAll(() => b.load());
afterAll(() => b.dispose());

describe('one forward() on a prepared layer, after warm-up', () => {
  const cases = [
    { about: 'one step of one sequence (S4)', units: 128, inputDim: 64, batch: 1, timesteps: 1, mask: false, returnSequences: false },
    { about: "the soak's masked batch returning sequences", units: 32, inputDim: 8, batch: 4, timesteps: 20, mask: true, returnSequences: true },
  ];
  for (const c of cases) {
    it(`${c.about}: one submit, one map, two error scopes, no other wait and no timer`, { timeout: 300_000 }, async () => {
      const spec = makeSpec({ units: c.units, inputDim: c.inputDim });
      const p = await b.prepare(spec, makeWeights(spec, 3));
      const req = makeRequest(spec, 4, { batch: c.batch, timesteps: c.timesteps, mask: c.mask, returnSequences: c.returnSequences });
      for (let i = 0; i < 3; i++) await p.forward(req);
      const device = b.device as GPUDevice;
      const probe = device.createBuffer({ size: 16, usage: 0x01 | 0x08 });
      const counts: Counts = {};
      let counting = false;
      const on = () => counting;
      const restore = [
        count(device, ['createBuffer', 'pushErrorScope', 'popErrorScope'], counts, on),
        count(device.queue, ['submit', 'onSubmittedWorkDone'], counts, on),
        count(probe, ['mapAsync'], counts, on),
        countTimers(counts, on),
      ];
      const N = 20;
      try {
        counting = true;
        for (let i = 0; i < N; i++) await p.forward(req);
      } finally {
        counting = false;
        for (const r of restore) r();
        probe.destroy();
      }
      expect(counts).toEqual({ submit: N, mapAsync: N, pushErrorScope: 2 * N, popErrorScope: 2 * N });
      p.dispose();
    });
  }
});
