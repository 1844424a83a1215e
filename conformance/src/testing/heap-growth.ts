import { GCProfiler, getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Bytes the JS heap grew by while `fn` ran `n` times (Node only), read from a window no garbage
 * collection interrupted: a collection can come from garbage earlier tests left, so a window that
 * saw one is measured again, up to five times. Counting collections alone fails on such leftovers,
 * and misses allocations too small to fill the young generation.
 *
 * @example
 * const out = new Float32Array(units);
 * expect(heapGrowthDuring(100_000, () => stream.step(undefined, out))).toBeLessThan(100_000);
 */
export function heapGrowthDuring(n: number, fn: () => void): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let window = 0; window < 5; window++) {
    gc();
    const profiler = new GCProfiler();
    profiler.start();
    const before = getHeapStatistics().used_heap_size;
    for (let i = 0; i < n; i++) fn();
    const after = getHeapStatistics().used_heap_size;
    if (profiler.stop().statistics.length === 0) return after - before;
  }
  throw new Error(`heapGrowthDuring: a garbage collection interrupted each of 5 windows of ${n} calls`);
}
