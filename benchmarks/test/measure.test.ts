import { describe, expect, it } from 'vitest';
import { measure, quantile, summarize } from '../src/measure.mjs';

/** A clock that only moves when a pass runs, so the stopping rules are tested without real time. */
function fakePasses(durations: (i: number) => number) {
  let t = 0;
  let calls = 0;
  return {
    now: () => t,
    run: () => {
      t += durations(calls++);
    },
    calls: () => calls,
  };
}

const plan = { warmupMs: 1000, minIters: 10, minTimeMs: 1000, maxTimeMs: 10000, maxIters: 100000 };

describe('quantile', () => {
  it('interpolates between neighbours like numpy', () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20, 30, 40, 50], 0.1)).toBeCloseTo(14, 12);
    expect(quantile([10, 20, 30, 40, 50], 0.9)).toBeCloseTo(46, 12);
    expect(quantile([7], 0.9)).toBe(7);
  });

  it('refuses no samples and q outside [0, 1]', () => {
    expect(() => quantile([], 0.5)).toThrow(/no samples/);
    expect(() => quantile([1], 1.5)).toThrow(/q must be in \[0, 1\]; received 1.5/);
  });
});

describe('summarize', () => {
  it('reports median, p10, p90, mean, min, max of unsorted samples', () => {
    const s = summarize([5, 1, 4, 2, 3], 2);
    expect(s).toEqual({ iterations: 5, warmupPasses: 2, medianMs: 3, p10Ms: 1.4, p90Ms: 4.6, meanMs: 3, minMs: 1, maxMs: 5, totalMs: 15 });
  });
});

describe('measure', () => {
  it('warms up for warmupMs, then times until both the minimum passes and the minimum time are reached', async () => {
    const p = fakePasses(() => 10);
    const s = await measure(p.run, plan, p.now);
    expect(s.warmupPasses).toBe(100); // 10 ms passes need 100 to reach 1000 ms
    expect(s.iterations).toBe(100);
    expect(p.calls()).toBe(200);
    expect(s.medianMs).toBe(10);
  });

  it('keeps going to the minimum number of passes when they are long', async () => {
    const p = fakePasses(() => 200);
    const s = await measure(p.run, plan, p.now);
    expect(s.warmupPasses).toBe(5);
    expect(s.iterations).toBe(10);
  });

  it('warms up with one pass when that pass alone takes warmupMs, or when warmupMs is 0', async () => {
    const p = fakePasses(() => 1500);
    expect((await measure(p.run, plan, p.now)).warmupPasses).toBe(1);
    const q = fakePasses(() => 1);
    expect((await measure(q.run, { ...plan, warmupMs: 0 }, q.now)).warmupPasses).toBe(1);
  });

  it('stops at the maximum time with fewer passes than asked, but times one pass at least', async () => {
    const p = fakePasses(() => 4000);
    const s = await measure(p.run, plan, p.now);
    expect(s.iterations).toBe(3); // 12 s >= maxTimeMs 10 s
    const q = fakePasses(() => 60000);
    expect((await measure(q.run, plan, q.now)).iterations).toBe(1);
  });

  it('never times more than maxIters passes', async () => {
    const p = fakePasses(() => 5000);
    const s = await measure(p.run, { ...plan, maxIters: 1 }, p.now);
    expect(s.iterations).toBe(1);
    expect(s.warmupPasses).toBe(1);
  });

  it('awaits asynchronous passes', async () => {
    let t = 0;
    let done = 0;
    const run = async () => {
      await new Promise((r) => setTimeout(r, 0));
      t += 100;
      done++;
    };
    const s = await measure(run, { ...plan, warmupMs: 0, minIters: 2, minTimeMs: 0 }, () => t);
    expect(s.warmupPasses).toBe(1);
    expect(s.iterations).toBe(2);
    expect(done).toBe(3);
    expect(s.medianMs).toBe(100);
  });

  it('does not await a synchronous pass: no microtask runs between its clock reads', async () => {
    let ticks = 0;
    let between = 0;
    const now = () => ticks;
    const run = () => {
      ticks += 5;
      queueMicrotask(() => {
        between++;
      });
    };
    const reads: number[] = [];
    const s = await measure(run, { ...plan, warmupMs: 0, minIters: 3, minTimeMs: 0 }, () => {
      reads.push(between);
      return now();
    });
    expect(s.iterations).toBe(3);
    expect(s.medianMs).toBe(5);
    // The clock read after each timed pass sees the same microtask count as the read before it.
    const timed = reads.slice(-6);
    for (let i = 0; i + 1 < timed.length; i += 2) expect(timed[i + 1]).toBe(timed[i]);
  });

  it('lets a failing pass reject the measurement', async () => {
    await expect(measure(() => Promise.reject(new Error('kernel failed')), plan)).rejects.toThrow('kernel failed');
  });
});
