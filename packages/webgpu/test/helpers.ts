import { referenceForward, type ForwardRequest, type GruSpec, type GruWeights, type PreparedGru } from '@gru/core';
import { assertClose, rng, TOLERANCES } from '@gru/conformance/testing';

export function makeSpec(over: Partial<GruSpec> & Pick<GruSpec, 'units' | 'inputDim'>): GruSpec {
  return { activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32', ...over };
}

export function makeWeights(spec: GruSpec, seed: number): GruWeights {
  const r = rng(seed);
  const G = 3 * spec.units;
  const scale = 1 / Math.sqrt(spec.units);
  return {
    kernel: r.uniform(spec.inputDim * G, 0.5),
    recurrentKernel: r.uniform(spec.units * G, scale),
    bias: spec.useBias ? r.uniform(spec.resetAfter ? 2 * G : G, 0.3) : null,
  };
}

/** Throws (failing the test) unless `got` is within the kit's tolerance of `want`; the message names the element. */
export function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  what: string,
  atol: number = TOLERANCES.float32.atol,
  rtol: number = TOLERANCES.float32.rtol,
): void {
  assertClose(got, want, what, { atol, rtol });
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
    x: r.uniform(B * T * D),
    batch: B,
    timesteps: T,
    goBackwards: o.goBackwards ?? false,
    returnSequences: o.returnSequences ?? true,
    ...(o.initialState ? { initialState: r.uniform(B * H, 0.8) } : {}),
    ...(o.mask ? { mask: Uint8Array.from({ length: B * T }, () => (r.next() < 0.7 ? 1 : 0)) } : {}),
    ...(o.inputDropout ? { inputDropoutMasks: [dropMask(B * D), dropMask(B * D), dropMask(B * D)] as const } : {}),
    ...(o.recurrentDropout ? { recurrentDropoutMasks: [dropMask(B * H), dropMask(B * H), dropMask(B * H)] as const } : {}),
  };
}
