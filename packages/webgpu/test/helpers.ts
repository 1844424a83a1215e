import { referenceForward, type ForwardRequest, type GruSpec, type GruWeights, type PreparedGru } from '@gru/core';
import { expect } from 'vitest';

/** Deterministic uniform numbers in [-scale, scale) (mulberry32). */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    floats: (n: number, scale = 1) => Float32Array.from({ length: n }, () => (next() * 2 - 1) * scale),
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
  };
}

export function makeSpec(over: Partial<GruSpec> & Pick<GruSpec, 'units' | 'inputDim'>): GruSpec {
  return { activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32', ...over };
}

export function makeWeights(spec: GruSpec, seed: number): GruWeights {
  const r = rng(seed);
  const G = 3 * spec.units;
  const scale = 1 / Math.sqrt(spec.units);
  return {
    kernel: r.floats(spec.inputDim * G, 0.5),
    recurrentKernel: r.floats(spec.units * G, scale),
    bias: spec.useBias ? r.floats(spec.resetAfter ? 2 * G : G, 0.3) : null,
  };
}

/** float32 conformance tolerance: |got - want| <= 5e-6 + 1e-5 |want|. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, what: string, atol = 5e-6, rtol = 1e-5): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = -1;
  let worstDiff = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= atol + rtol * Math.abs(want[i])) && !(d <= worstDiff)) {
      worst = i;
      worstDiff = d;
    }
  }
  if (worst >= 0) expect.fail(`${what}: element ${worst} is ${got[worst]}, reference ${want[worst]} (|diff| ${worstDiff})`);
}

/** Runs a request on a prepared GPU layer and on the reference, and compares both results. */
export async function compareWithReference(prepared: PreparedGru, weights: GruWeights, req: ForwardRequest, what: string, atol?: number, rtol?: number) {
  const got = await prepared.forward(req);
  const want = referenceForward(prepared.spec, weights, req);
  expectClose(got.output, want.output, `${what} output`, atol, rtol);
  expectClose(got.lastState, want.lastState, `${what} lastState`, atol, rtol);
  return got;
}

/** A random request; `mask` and dropout are included when asked. */
export function makeRequest(
  spec: GruSpec,
  seed: number,
  o: {
    batch: number;
    timesteps: number;
    mask?: boolean;
    initialState?: boolean;
    goBackwards?: boolean;
    returnSequences?: boolean;
    inputDropout?: boolean;
    recurrentDropout?: boolean;
  },
): ForwardRequest {
  const r = rng(seed);
  const { batch: B, timesteps: T } = o;
  const H = spec.units;
  const D = spec.inputDim;
  const dropMask = (n: number) => Float32Array.from({ length: n }, () => (r.next() < 0.3 ? 0 : 1 / 0.7));
  return {
    x: r.floats(B * T * D),
    batch: B,
    timesteps: T,
    goBackwards: o.goBackwards ?? false,
    returnSequences: o.returnSequences ?? true,
    ...(o.initialState ? { initialState: r.floats(B * H, 0.8) } : {}),
    ...(o.mask ? { mask: Uint8Array.from({ length: B * T }, () => (r.next() < 0.7 ? 1 : 0)) } : {}),
    ...(o.inputDropout ? { inputDropoutMasks: [dropMask(B * D), dropMask(B * D), dropMask(B * D)] as const } : {}),
    ...(o.recurrentDropout ? { recurrentDropoutMasks: [dropMask(B * H), dropMask(B * H), dropMask(B * H)] as const } : {}),
  };
}
