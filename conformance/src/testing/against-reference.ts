import {
  checkForwardResult,
  referenceForward,
  UnsupportedCallError,
  type ForwardRequest,
  type ForwardResult,
  type GruBackend,
  type PreparedGru,
} from '@gru/core';
import type { CaseOutcome } from '../run-case.js';
import { compareArrays, TOLERANCES, type Tolerance } from '../tolerance.js';
import { bitwiseDifference } from './bitwise.js';
import { callInfoOf } from './call-info.js';
import { describeCaseOptions, makeCase, type CaseOptions } from './make-case.js';

export type Shape = Pick<CaseOptions, 'B' | 'T' | 'D' | 'H'>;
export type Variant = Omit<CaseOptions, 'B' | 'T' | 'D' | 'H'>;
export type ForwardPath = 'forward' | 'forwardSync';

/**
 * Sizes where kernels break: a single element, odd sizes that are not multiples of any SIMD width
 * (4, 8, 16) or tile, each of units >= 64, batch >= 16 and timesteps >= 200, and each of batch >=
 * 32, timesteps > 256 and units >= 128. Cheap on the reference (about a second for all of them).
 */
export const DEFAULT_SHAPES: readonly Shape[] = [
  { B: 1, T: 1, D: 1, H: 1 },
  { B: 3, T: 7, D: 5, H: 9 },
  { B: 17, T: 5, D: 13, H: 67 },
  { B: 2, T: 203, D: 3, H: 5 },
  { B: 19, T: 201, D: 7, H: 65 },
  // Past the usual tile and chunk thresholds (batch >= 32, timesteps > 256, units >= 128), one
  // large size each: all three in one call costs the reference over a second a variant.
  { B: 33, T: 260, D: 9, H: 7 },
  { B: 3, T: 5, D: 9, H: 130 },
];

/** One of each call option Keras has, and both gate layouts. */
export const DEFAULT_VARIANTS: readonly Variant[] = [
  {},
  { resetAfter: false, useBias: false },
  { initialState: true, mask: 'any', goBackwards: true },
  { resetAfter: false, initialState: true, mask: 'right-padded', returnSequences: false },
  { inputDropout: true, recurrentDropout: true },
];

export interface SweepOptions {
  shapes?: readonly Shape[];
  variants?: readonly Variant[];
  /** The first seed; each (shape, variant) pair gets the next one. Default 1. */
  seed?: number;
  /** Tolerance; default the kit's for the case's dtype. */
  tolerance?: Tolerance;
}

export interface SweepCase {
  name: string;
  options: CaseOptions;
  run: () => Promise<CaseOutcome>;
}

/** The (shape, variant) pairs of a sweep, each with its seed, as runnable checks. */
export function planAgainstReference(backend: GruBackend, sweep: SweepOptions = {}): SweepCase[] {
  const shapes = sweep.shapes ?? DEFAULT_SHAPES;
  const variants = sweep.variants ?? DEFAULT_VARIANTS;
  let seed = sweep.seed ?? 1;
  const out: SweepCase[] = [];
  for (const shape of shapes) {
    for (const variant of variants) {
      const options: CaseOptions = { ...shape, ...variant, seed: seed++ };
      out.push({ name: describeCaseOptions(options), options, run: () => checkAgainstReference(backend, options, sweep.tolerance) });
    }
  }
  return out;
}

/** Copies a request, so a backend that writes into its inputs cannot change the reference's. */
export function cloneRequest(r: ForwardRequest): ForwardRequest {
  const copy: ForwardRequest = { ...r, x: r.x.slice() };
  if (r.initialState) copy.initialState = r.initialState.slice();
  if (r.mask) copy.mask = r.mask.slice();
  if (r.inputDropoutMasks) copy.inputDropoutMasks = r.inputDropoutMasks.map((m) => m.slice()) as unknown as ForwardRequest['inputDropoutMasks'];
  if (r.recurrentDropoutMasks) copy.recurrentDropoutMasks = r.recurrentDropoutMasks.map((m) => m.slice()) as unknown as ForwardRequest['recurrentDropoutMasks'];
  return copy;
}

/** Runs a request on one path, validated as core validates it. */
export async function runPath(backend: GruBackend, prepared: PreparedGru, path: ForwardPath, request: ForwardRequest): Promise<ForwardResult> {
  const result = path === 'forward' ? await prepared.forward(request) : (prepared.forwardSync as (r: ForwardRequest) => ForwardResult)(request);
  return checkForwardResult(backend.name, prepared.spec, request, result);
}

/** The paths a prepared layer has: `forward` always, `forwardSync` where the backend has one. */
export function pathsOf(prepared: PreparedGru): ForwardPath[] {
  return prepared.forwardSync ? ['forward', 'forwardSync'] : ['forward'];
}

/**
 * How compareResult holds a result to another: within a tolerance (the reference's answer), or
 * bit for bit (the same backend's answer to another call, named by `bitwiseAgainst` in a failure;
 * a zero's sign and a NaN's payload count, and `got` may be of any realm or typed-array subclass).
 */
export type ResultMatch = Tolerance | { bitwiseAgainst: string };

/** Compares a backend result (output, then lastState) with another, naming the path and the element. */
export function compareResult(
  got: ForwardResult,
  want: ForwardResult,
  request: ForwardRequest,
  units: number,
  tol: ResultMatch,
  what: string,
): string | undefined {
  const { batch: B, timesteps: T } = request;
  const shapes = { output: request.returnSequences ? [B, T, units] : [B, units], lastState: [B, units] };
  for (const field of ['output', 'lastState'] as const) {
    const problem =
      'bitwiseAgainst' in tol
        ? bitwiseDifference(got[field], want[field], tol.bitwiseAgainst, shapes[field])
        : compareArrays(got[field], want[field], tol, shapes[field]).message;
    if (problem) return `${what}: ${field} ${problem}`;
  }
  return undefined;
}

/**
 * One seeded random layer and call on the backend, through `forward` and (where it has one)
 * `forwardSync`, against the reference backend: the executable spec.
 */
export async function checkAgainstReference(backend: GruBackend, options: CaseOptions, tolerance?: Tolerance): Promise<CaseOutcome> {
  const { spec, weights, request } = makeCase(options);
  const tol = tolerance ?? (spec.dtype === 'float64' ? TOLERANCES.float64 : TOLERANCES.float32);
  const label = describeCaseOptions(options);
  try {
    const supported = backend.supports(spec, callInfoOf(request));
    // The check's name carries the case: the detail is the backend's reason alone, so one
    // expectations group covers every size it declines for that reason.
    if (supported !== true) return { status: 'unsupported', detail: supported };
    const want = referenceForward(spec, weights, cloneRequest(request));
    const prepared = await backend.prepare(spec, weights);
    try {
      let maxAbsDiff = 0;
      for (const path of pathsOf(prepared)) {
        const got = await runPath(backend, prepared, path, cloneRequest(request));
        const problem = compareResult(got, want, request, spec.units, tol, path);
        if (problem) return { status: 'failed', detail: `${problem} (case: ${label})` };
        maxAbsDiff = Math.max(maxAbsDiff, compareArrays(got.output, want.output, tol).maxAbsDiff);
      }
      return { status: 'passed', maxAbsDiff, ranOn: backend.name };
    } finally {
      prepared.dispose();
    }
  } catch (err) {
    if (err instanceof UnsupportedCallError) return { status: 'unsupported', detail: err.reason };
    return { status: 'failed', detail: `threw ${(err as Error).name}: ${(err as Error).message} (case: ${label})` };
  }
}
