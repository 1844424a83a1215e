import { referenceForward, UnsupportedCallError, type ForwardRequest, type ForwardResult, type GruBackend } from '@gru/core';
import type { CaseOutcome } from '../run-case.js';
import { compareArrays, TOLERANCES, unravel } from '../tolerance.js';
import { cloneRequest, compareResult, pathsOf, runPath } from './against-reference.js';
import { callInfoOf } from './call-info.js';
import { describeCaseOptions, makeCase, type CaseOptions, type RandomCase } from './make-case.js';

/**
 * The backend contract beyond the numbers (types.ts): setWeights takes effect, results are
 * fresh arrays a later call cannot change, and the request's arrays are never written. Each check
 * runs a mid-size call with every optional input the backend accepts, on every path it has.
 */

const FULL: CaseOptions = { B: 5, T: 9, D: 6, H: 19, initialState: true, mask: 'any', inputDropout: true, recurrentDropout: true };
const FALLBACKS: CaseOptions[] = [
  FULL,
  { ...FULL, inputDropout: false, recurrentDropout: false },
  { B: 5, T: 9, D: 6, H: 19, initialState: true },
  { B: 5, T: 9, D: 6, H: 19 },
];

/** The richest call of FALLBACKS the backend accepts (float32, or float64 when it computes only that). */
function pickCase(backend: GruBackend, seed: number): { c: RandomCase; options: CaseOptions } | string {
  const reasons: string[] = [];
  for (const dtype of ['float32', 'float64'] as const) {
    for (const base of FALLBACKS) {
      const options = { ...base, dtype, seed };
      const c = makeCase(options);
      const ok = backend.supports(c.spec, callInfoOf(c.request));
      if (ok === true) return { c, options };
      reasons.push(ok);
    }
  }
  return `it declines every call tried: ${[...new Set(reasons)].join('; ')}`;
}

async function guarded(backend: GruBackend, seed: number, body: (c: RandomCase, label: string) => Promise<CaseOutcome>): Promise<CaseOutcome> {
  const picked = pickCase(backend, seed);
  if (typeof picked === 'string') return { status: 'unsupported', detail: picked };
  const label = describeCaseOptions(picked.options);
  try {
    const outcome = await body(picked.c, label);
    return outcome.status === 'passed' ? { ...outcome, ranOn: backend.name } : outcome;
  } catch (err) {
    if (err instanceof UnsupportedCallError) return { status: 'unsupported', detail: `${label}: ${err.reason}` };
    return { status: 'failed', detail: `threw ${(err as Error).name}: ${(err as Error).message} (case: ${label})` };
  }
}

const tolOf = (c: RandomCase) => (c.spec.dtype === 'float64' ? TOLERANCES.float64 : TOLERANCES.float32);

/** PreparedGru.setWeights: a prepared layer given new weights computes with them, on every path. */
export function checkSetWeights(backend: GruBackend, seed = 7): Promise<CaseOutcome> {
  return guarded(backend, seed, async (c, label) => {
    const other = makeCase(
      { B: 1, T: 1, D: c.spec.inputDim, H: c.spec.units, useBias: c.spec.useBias, resetAfter: c.spec.resetAfter, dtype: c.spec.dtype },
      seed + 1,
    ).weights;
    const prepared = await backend.prepare(c.spec, c.weights);
    try {
      // A first call, so a backend that uploads or packs lazily has done so before the update.
      await prepared.forward(cloneRequest(c.request));
      await prepared.setWeights(other);
      const want = referenceForward(c.spec, other, cloneRequest(c.request));
      for (const path of pathsOf(prepared)) {
        const got = await runPath(backend, prepared, path, cloneRequest(c.request));
        const problem = compareResult(got, want, c.request, c.spec.units, tolOf(c), `${path} after PreparedGru.setWeights(new weights)`);
        if (problem) return { status: 'failed', detail: `${problem}: the new weights were not used (case: ${label})` };
      }
      return { status: 'passed' };
    } finally {
      prepared.dispose();
    }
  });
}

/** Results are the caller's: a later call (with other inputs) must not change an earlier result. */
export function checkFreshResults(backend: GruBackend, seed = 8): Promise<CaseOutcome> {
  return guarded(backend, seed, async (c, label) => {
    const second = {
      ...cloneRequest(c.request),
      x: makeCase({ B: c.request.batch, T: c.request.timesteps, D: c.spec.inputDim, H: 1, dtype: c.spec.dtype }, seed + 1).request.x,
    };
    const prepared = await backend.prepare(c.spec, c.weights);
    try {
      for (const path of pathsOf(prepared)) {
        const first = await runPath(backend, prepared, path, cloneRequest(c.request));
        const kept: ForwardResult = { output: first.output.slice(), lastState: first.lastState.slice() };
        await runPath(backend, prepared, path, second);
        for (const field of ['output', 'lastState'] as const) {
          const { batch: B, timesteps: T, returnSequences } = c.request;
          const H = c.spec.units;
          const shape = field === 'output' && returnSequences ? [B, T, H] : [B, H];
          const cmp = compareArrays(first[field], kept[field], { atol: 0, rtol: 0 }, shape);
          if (!cmp.ok) {
            return {
              status: 'failed',
              detail: `${path}: the ${field} of an earlier call changed after a later call (the backend reuses its result buffer; return a fresh array per call): ${cmp.message} (case: ${label})`,
            };
          }
        }
      }
      return { status: 'passed' };
    } finally {
      prepared.dispose();
    }
  });
}

/** The request's arrays are read-only: after a call, each holds what the caller put there. */
export function checkInputsUntouched(backend: GruBackend, seed = 9): Promise<CaseOutcome> {
  return guarded(backend, seed, async (c, label) => {
    const prepared = await backend.prepare(c.spec, c.weights);
    try {
      for (const path of pathsOf(prepared)) {
        const request = cloneRequest(c.request);
        await runPath(backend, prepared, path, request);
        const problem = firstWrite(c.request, request, c.spec.inputDim, c.spec.units);
        if (problem) return { status: 'failed', detail: `${path} wrote into the caller's request: ${problem} (case: ${label})` };
      }
      return { status: 'passed' };
    } finally {
      prepared.dispose();
    }
  });
}

function firstWrite(before: ForwardRequest, after: ForwardRequest, D: number, H: number): string | undefined {
  const { batch: B, timesteps: T } = before;
  const fields: [string, ArrayLike<number> | undefined, ArrayLike<number> | undefined, number[]][] = [
    ['x', before.x, after.x, [B, T, D]],
    ['initialState', before.initialState, after.initialState, [B, H]],
    ['mask', before.mask, after.mask, [B, T]],
    ...[0, 1, 2].map((g): [string, ArrayLike<number> | undefined, ArrayLike<number> | undefined, number[]] => [
      `inputDropoutMasks[${g}]`,
      before.inputDropoutMasks?.[g],
      after.inputDropoutMasks?.[g],
      [B, D],
    ]),
    ...[0, 1, 2].map((g): [string, ArrayLike<number> | undefined, ArrayLike<number> | undefined, number[]] => [
      `recurrentDropoutMasks[${g}]`,
      before.recurrentDropoutMasks?.[g],
      after.recurrentDropoutMasks?.[g],
      [B, H],
    ]),
  ];
  for (const [name, a, b, shape] of fields) {
    if (!a || !b) continue;
    for (let i = 0; i < a.length; i++) {
      if (!Object.is(a[i], b[i])) return `${name}[${unravel(i, shape).join(', ')}] (shape [${shape.join(', ')}]) was ${a[i]}, is now ${b[i]}`;
    }
  }
  return undefined;
}

/** The contract checks, by name, as the runner plans them. */
export const CONTRACT_CHECKS: readonly { name: string; run: (backend: GruBackend) => Promise<CaseOutcome> }[] = [
  { name: 'contract:set-weights', run: (b) => checkSetWeights(b) },
  { name: 'contract:fresh-results', run: (b) => checkFreshResults(b) },
  { name: 'contract:inputs-untouched', run: (b) => checkInputsUntouched(b) },
];
