import type { ForwardRequest, GruSpec, GruWeights } from '@gru/core';

/** A small deterministic generator (mulberry32), so failures reproduce. */
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

export function uniform(rand: () => number, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * scale;
  return a;
}

export interface Config {
  B: number;
  T: number;
  D: number;
  H: number;
  resetAfter?: boolean;
  useBias?: boolean;
  goBackwards?: boolean;
  returnSequences?: boolean;
  mask?: boolean;
  initialState?: boolean;
  inputDropout?: boolean;
  recurrentDropout?: boolean;
  activation?: string;
  recurrentActivation?: string;
}

/** A random layer and call for a config. Weights are scaled like Glorot so states stay O(1). */
export function makeCase(cfg: Config, seed: number): { spec: GruSpec; weights: GruWeights; request: ForwardRequest } {
  const rand = rng(seed);
  const { B, T, D, H } = cfg;
  const resetAfter = cfg.resetAfter ?? true;
  const useBias = cfg.useBias ?? true;
  const spec: GruSpec = {
    units: H,
    inputDim: D,
    activation: cfg.activation ?? 'tanh',
    recurrentActivation: cfg.recurrentActivation ?? 'sigmoid',
    useBias,
    resetAfter,
    dtype: 'float32',
  };
  const weights: GruWeights = {
    kernel: uniform(rand, D * 3 * H, Math.sqrt(6 / (D + 3 * H))),
    recurrentKernel: uniform(rand, H * 3 * H, Math.sqrt(6 / (4 * H))),
    bias: useBias ? uniform(rand, (resetAfter ? 2 : 1) * 3 * H, 0.3) : null,
  };
  const dropMask = (n: number) => Float32Array.from({ length: n }, () => (rand() < 0.3 ? 0 : 1 / 0.7));
  const request: ForwardRequest = {
    x: uniform(rand, B * T * D),
    batch: B,
    timesteps: T,
    goBackwards: cfg.goBackwards ?? false,
    returnSequences: cfg.returnSequences ?? true,
    ...(cfg.initialState ? { initialState: uniform(rand, B * H) } : {}),
    ...(cfg.mask ? { mask: Uint8Array.from({ length: B * T }, () => (rand() < 0.7 ? 1 : 0)) } : {}),
    ...(cfg.inputDropout ? { inputDropoutMasks: [dropMask(B * D), dropMask(B * D), dropMask(B * D)] as const } : {}),
    ...(cfg.recurrentDropout ? { recurrentDropoutMasks: [dropMask(B * H), dropMask(B * H), dropMask(B * H)] as const } : {}),
  };
  return { spec, weights, request };
}

/** max |got - want| after checking the lengths agree. */
export function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) throw new Error(`length ${got.length}, expected ${want.length}`);
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= m)) m = d;
  }
  return m;
}

/** Worst violation of |got - want| <= atol + rtol*|want| (<= 1 passes), like conformance's check. */
export function worstRatio(got: ArrayLike<number>, want: ArrayLike<number>, atol = 5e-6, rtol = 1e-5): number {
  if (got.length !== want.length) throw new Error(`length ${got.length}, expected ${want.length}`);
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const r = Math.abs(got[i] - want[i]) / (atol + rtol * Math.abs(want[i]));
    if (!(r <= m)) m = r;
  }
  return m;
}
