import type { ForwardRequest, GruSpec, GruWeights } from '@gru/core';
import { rng } from './rng.js';

/** A random layer and call: sizes, layer options and which optional inputs the call has. */
export interface CaseOptions {
  /** batch, timesteps, input features, units. */
  B: number;
  T: number;
  D: number;
  H: number;
  resetAfter?: boolean;
  useBias?: boolean;
  activation?: string;
  recurrentActivation?: string;
  dtype?: 'float32' | 'float64';
  initialState?: boolean;
  /** `true` or `any`: random keep/skip; `right-padded`: a kept prefix per row (cuDNN's kind). */
  mask?: boolean | 'none' | 'right-padded' | 'any';
  goBackwards?: boolean;
  returnSequences?: boolean;
  /** Three per-gate input dropout masks (rate 0.3). */
  inputDropout?: boolean;
  /** Three per-gate recurrent dropout masks (rate 0.25). */
  recurrentDropout?: boolean;
  keepForBackward?: boolean;
  /** Scales every weight (large values saturate the gates). Default 1. */
  weightScale?: number;
  /** Scales the inputs. Default 1. */
  inputScale?: number;
  /** The generator's seed (overrides makeCase's second argument). */
  seed?: number;
}

export interface RandomCase {
  spec: GruSpec;
  weights: GruWeights;
  request: ForwardRequest;
}

/**
 * A seeded random layer and call for a backend's `prepare`/`forward`. Weights are scaled like
 * Glorot so states stay O(1) over long sequences, unless `weightScale` asks otherwise.
 */
export function makeCase(o: CaseOptions, seed = 1): RandomCase {
  const r = rng(o.seed ?? seed);
  const { B, T, D, H } = o;
  const dtype = o.dtype ?? 'float32';
  const resetAfter = o.resetAfter ?? true;
  const useBias = o.useBias ?? true;
  const ws = o.weightScale ?? 1;
  const spec: GruSpec = {
    units: H,
    inputDim: D,
    activation: o.activation ?? 'tanh',
    recurrentActivation: o.recurrentActivation ?? 'sigmoid',
    useBias,
    resetAfter,
    dtype,
  };
  const weights: GruWeights = {
    kernel: r.uniform(D * 3 * H, ws * Math.sqrt(6 / (D + 3 * H)), dtype),
    recurrentKernel: r.uniform(H * 3 * H, ws * Math.sqrt(6 / (4 * H)), dtype),
    bias: useBias ? r.uniform((resetAfter ? 6 : 3) * H, ws * 0.3, dtype) : null,
  };
  const request: ForwardRequest = {
    x: r.uniform(B * T * D, o.inputScale ?? 1, dtype),
    batch: B,
    timesteps: T,
    goBackwards: o.goBackwards ?? false,
    returnSequences: o.returnSequences ?? true,
  };
  if (o.keepForBackward) request.keepForBackward = true;
  if (o.initialState) request.initialState = r.uniform(B * H, 0.8, dtype);
  if (o.mask && o.mask !== 'none') {
    const m = new Uint8Array(B * T);
    for (let b = 0; b < B; b++) {
      const kept = Math.floor(r() * (T + 1));
      for (let t = 0; t < T; t++) m[b * T + t] = o.mask === 'right-padded' ? (t < kept ? 1 : 0) : r() < 0.7 ? 1 : 0;
    }
    request.mask = m;
  }
  const dropMask = (n: number, rate: number) => {
    const a = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = r() < rate ? 0 : 1 / (1 - rate);
    return a;
  };
  if (o.inputDropout) request.inputDropoutMasks = [dropMask(B * D, 0.3), dropMask(B * D, 0.3), dropMask(B * D, 0.3)];
  if (o.recurrentDropout) request.recurrentDropoutMasks = [dropMask(B * H, 0.25), dropMask(B * H, 0.25), dropMask(B * H, 0.25)];
  return { spec, weights, request };
}

/** The options of a case in one line, for failure messages. */
export function describeCaseOptions(o: CaseOptions, seed?: number): string {
  const flags = Object.entries(o)
    .filter(([k, v]) => !['B', 'T', 'D', 'H', 'seed'].includes(k) && v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`);
  return `B=${o.B} T=${o.T} D=${o.D} H=${o.H}${flags.length ? ` ${flags.join(' ')}` : ''}${(o.seed ?? seed) !== undefined ? ` seed=${o.seed ?? seed}` : ''}`;
}
