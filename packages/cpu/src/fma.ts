import { loadAddon } from './loader.js';

export interface MeasureFmaOptions {
  /** Floating-point operations to run (default 4e9: about 20 ms on 16 modern cores). */
  flops?: number;
  /** Threads of the backend's pool to run on (default: every hardware thread). */
  threads?: number;
  /** Instruction set (`avx512`, `avx2`, `sse`, `neon`, `generic`; default: the fastest available). */
  isa?: string;
  /** The addon binary (default: the one the cpu backend loads). */
  addonPath?: string;
}

export interface FmaMeasurement {
  isa: string;
  threads: number;
  /** FLOPs run (the request rounded up to whole loop rounds). */
  flops: number;
  seconds: number;
  gflops: number;
}

/**
 * This machine's measured multiply-add rate: register-only vector FMA chains (12 independent
 * chains per thread, no memory traffic) on `threads` threads of the cpu backend's pool. The
 * ceiling a GEMM can reach: the benchmarks report each shape's GFLOP/s as a fraction of it.
 * Synchronous; it keeps the calling thread (and the pool) busy for the whole run.
 */
export function measureFma(options: MeasureFmaOptions = {}): FmaMeasurement {
  const { binding } = loadAddon(options.addonPath);
  const info = binding.info();
  const isa = options.isa ?? info.isas[0];
  const threads = options.threads ?? info.cores;
  const flops = options.flops ?? 4e9;
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) {
    throw new RangeError(`measureFma: threads must be an integer from 1 to 1024, received ${String(options.threads)}`);
  }
  if (typeof flops !== 'number' || !Number.isFinite(flops) || flops < 0 || flops > 1e15) {
    throw new RangeError(`measureFma: flops must be a number from 0 to 1e15, received ${String(options.flops)}`);
  }
  const start = performance.now();
  const done = binding.fmaChains(flops, threads, isa);
  const seconds = (performance.now() - start) / 1000;
  return { isa, threads, flops: done, seconds, gflops: done / seconds / 1e9 };
}
