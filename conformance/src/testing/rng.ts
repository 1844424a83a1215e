/**
 * A seeded generator (mulberry32): the same seed gives the same numbers on every machine, so a
 * failing random case reproduces from its seed alone.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  (): number;
  /** Uniform in [0, 1) (the same stream as calling the generator). */
  next(): number;
  /** `n` values uniform in [-scale, scale), as a Float32Array (default) or Float64Array. */
  uniform(n: number, scale?: number, dtype?: 'float32'): Float32Array;
  uniform(n: number, scale: number, dtype: 'float64'): Float64Array;
  uniform(n: number, scale?: number, dtype?: 'float32' | 'float64'): Float32Array | Float64Array;
  /** An integer in [lo, hi], both included. */
  int(lo: number, hi: number): number;
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T;
}

export function rng(seed: number): Rng {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const uniform = (n: number, scale = 1, dtype: 'float32' | 'float64' = 'float32') => {
    const out = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (next() * 2 - 1) * scale;
    return out;
  };
  return Object.assign(next, {
    next,
    uniform: uniform as Rng['uniform'],
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)],
  });
}
