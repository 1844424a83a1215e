import { describe, expect, it } from 'vitest';
import { measureFma } from '../src/index.js';
import { loadAddon } from '../src/loader.js';

// The FMA-rate probe the benchmarks divide GEMM rates by: it must run the FLOPs asked for, on
// every instruction set, and refuse nonsense. No rate is asserted (the machine may be loaded).
const { binding } = loadAddon();

describe('measureFma', () => {
  it.each(binding.info().isas)('runs at least the FLOPs asked for on %s, on one thread and on all', (isa) => {
    for (const threads of [1, binding.info().cores]) {
      const m = measureFma({ flops: 5e7, threads, isa });
      expect(m.isa).toBe(isa);
      expect(m.threads).toBe(threads);
      expect(m.flops).toBeGreaterThanOrEqual(5e7);
      // Whole loop rounds: at most one more round (12 chains of 2 * W FLOPs) per chunk of each thread.
      expect(m.flops).toBeLessThan(5e7 + threads * 8 * 12 * 2 * 16);
      expect(m.seconds).toBeGreaterThan(0);
      expect(Number.isFinite(m.gflops) && m.gflops > 0).toBe(true);
    }
  });

  it('defaults to the fastest instruction set on every core', () => {
    const m = measureFma({ flops: 1e7 });
    expect(m.isa).toBe(binding.info().isas[0]);
    expect(m.threads).toBe(binding.info().cores);
  });

  it('refuses what it cannot run, naming the argument', () => {
    expect(() => measureFma({ threads: 0 })).toThrow(/measureFma: threads must be an integer from 1 to 1024, received 0/);
    expect(() => measureFma({ flops: -1 })).toThrow(/measureFma: flops must be a number from 0 to 1e15, received -1/);
    expect(() => measureFma({ flops: 1e3, isa: 'avx9000' })).toThrow(/instruction set 'avx9000' is not available on this CPU/);
    expect(() => binding.fmaChains(1e3, 1, 7 as never)).toThrow(/`isa` must be a string, received the number 7/);
    expect(() => binding.fmaChains(Number.NaN, 1, 'sse')).toThrow(/`flops` must be between 0 and 1e15, received the number NaN/);
  });
});
