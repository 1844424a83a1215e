import { backendWith, type CudnnBackend } from '../src/backend.js';
import { resolveOptions } from '../src/options.js';
import { emulatedRuntime, type EmulatedRuntime } from './emulator.js';

/** mulberry32: seeded uniform [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uniform(n: number, scale: number, r: () => number, dtype: 'float32' | 'float64' = 'float64'): Float32Array | Float64Array {
  const a = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * r() - 1) * scale;
  return a;
}

/** The real backend object (supports, packing, sequence mapping) over the emulated device. */
export function emulatedBackend(name = 'cudnn-emulated'): { backend: CudnnBackend; runtime: EmulatedRuntime } {
  const runtime = emulatedRuntime();
  const resolved = resolveOptions({ name }, {});
  return {
    backend: backendWith(
      () => resolved,
      name,
      100,
      async () => runtime,
    ),
    runtime,
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
