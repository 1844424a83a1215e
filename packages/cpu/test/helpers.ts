import type { ForwardRequest, GruSpec, GruWeights } from '@gru/core';

/** A small deterministic generator (mulberry32), uniform in [-0.5, 0.5). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

export function randomArray(n: number, r: () => number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = r() * 2 * scale;
  return a;
}

export interface CaseOptions {
  B: number;
  T: number;
  D: number;
  H: number;
  resetAfter?: boolean;
  useBias?: boolean;
  activation?: string;
  recurrentActivation?: string;
  initialState?: boolean;
  mask?: 'none' | 'right-padded' | 'any';
  goBackwards?: boolean;
  returnSequences?: boolean;
  inputDropout?: boolean;
  recurrentDropout?: boolean;
  seed?: number;
}

export interface Case {
  spec: GruSpec;
  weights: GruWeights;
  request: ForwardRequest;
}

export function makeCase(o: CaseOptions): Case {
  const r = rng(o.seed ?? 1);
  const { B, T, D, H } = o;
  const resetAfter = o.resetAfter ?? true;
  const useBias = o.useBias ?? true;
  const spec: GruSpec = {
    units: H,
    inputDim: D,
    activation: o.activation ?? 'tanh',
    recurrentActivation: o.recurrentActivation ?? 'sigmoid',
    useBias,
    resetAfter,
    dtype: 'float32',
  };
  const weights: GruWeights = {
    kernel: randomArray(D * 3 * H, r, Math.sqrt(6 / (D + 3 * H))),
    recurrentKernel: randomArray(H * 3 * H, r, Math.sqrt(6 / (4 * H))),
    bias: useBias ? randomArray((resetAfter ? 6 : 3) * H, r, 0.2) : null,
  };
  const request: ForwardRequest = {
    x: randomArray(B * T * D, r, 1),
    batch: B,
    timesteps: T,
    goBackwards: o.goBackwards ?? false,
    returnSequences: o.returnSequences ?? true,
  };
  if (o.initialState) request.initialState = randomArray(B * H, r, 0.8);
  if (o.mask && o.mask !== 'none') {
    const m = new Uint8Array(B * T);
    for (let b = 0; b < B; b++) {
      const len = Math.floor((r() + 0.5) * (T + 1));
      for (let t = 0; t < T; t++) m[b * T + t] = o.mask === 'right-padded' ? (t < len ? 1 : 0) : r() > -0.2 ? 1 : 0;
    }
    request.mask = m;
  }
  const dropout = (n: number, rate: number) => {
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = r() + 0.5 < rate ? 0 : 1 / (1 - rate);
    return a;
  };
  if (o.inputDropout) request.inputDropoutMasks = [dropout(B * D, 0.3), dropout(B * D, 0.3), dropout(B * D, 0.3)];
  if (o.recurrentDropout) request.recurrentDropoutMasks = [dropout(B * H, 0.25), dropout(B * H, 0.25), dropout(B * H, 0.25)];
  return { spec, weights, request };
}

/** Largest |got - want| / (atol + rtol |want|); at most 1 means within tolerance. */
export function toleranceRatio(got: ArrayLike<number>, want: ArrayLike<number>, atol = 5e-6, rtol = 1e-5): number {
  if (got.length !== want.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const ratio = Math.abs(got[i] - want[i]) / (atol + rtol * Math.abs(want[i]));
    if (!(ratio <= worst)) worst = Number.isNaN(ratio) ? Infinity : ratio;
  }
  return worst;
}

export function bitwiseEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ia = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ib = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ia.length; i++) if (ia[i] !== ib[i]) return false;
  return true;
}
