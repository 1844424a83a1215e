import {
  checkForwardResult,
  classifyMask,
  referenceForward,
  UnsupportedCallError,
  type ForwardRequest,
  type ForwardResult,
  type GruBackend,
  type GruWeights,
  type PreparedGru,
} from '@gru/core';
import type { CaseOutcome } from '../run-case.js';
import { compareArrays, TOLERANCES, unravel, type Tolerance } from '../tolerance.js';
import { cloneRequest, compareResult, pathsOf, runPath, type ForwardPath } from './against-reference.js';
import { describeCaseOptions, makeCase, type CaseOptions, type RandomCase } from './make-case.js';
import { checkBackendReload } from './backend-reload.js';
import { checkBoundReruns } from './bound-reruns.js';
import { checkConcurrentCalls } from './concurrent-calls.js';
import { checkEmptyCalls } from './empty-calls.js';
import { checkForeignArrays } from './foreign-arrays.js';
import { INITIAL_STATE, INPUT_DROPOUT, MASK, pickInputs, RECURRENT_DROPOUT, type OptionalInput, type PickedInputs } from './pick-inputs.js';
import { readOnceBeyondForward } from './read-once-more.js';
import { shiftyRequest, shiftySpec } from './shifty-request.js';

/**
 * The backend contract beyond the numbers (types.ts): setWeights takes effect, results are
 * fresh arrays a later call cannot change, and the request's arrays are never written. Each check
 * runs a mid-size call with every optional input the backend accepts, on every path it has; an
 * optional input supports() declines (beside those taken before it) is named in the passing
 * outcome's detail ("not checked: ..."), as contract:empty-calls and contract:foreign-arrays name
 * theirs. A mask=any call is taken to cover right-padded masks too: the kit cannot tell whether a
 * backend runs them on a path of their own (the sweep against the reference runs both kinds).
 */

const SIZES = { B: 5, T: 9, D: 6, H: 19 } as const;

/** The optional inputs a contract check's call is given, in the order they are taken. */
const OPTIONAL_INPUTS: readonly OptionalInput[] = [INITIAL_STATE, MASK, INPUT_DROPOUT, RECURRENT_DROPOUT];

/**
 * The call a contract check runs: float32 (or float64 where the backend declines the plain
 * float32 call, which is then named), with the optional inputs pickInputs takes (a check runs no
 * input alone: one it takes only alone is named "together with" the inputs taken). Or why
 * nothing runs: supports()'s answers to the plain calls.
 */
function pickCase(backend: GruBackend, seed: number): PickedInputs | string {
  const reasons: string[] = [];
  for (const dtype of ['float32', 'float64'] as const) {
    const picked = pickInputs(backend, { ...SIZES, dtype, seed }, OPTIONAL_INPUTS);
    if (typeof picked === 'string') {
      reasons.push(picked);
      continue;
    }
    return reasons.length ? { ...picked, notChecked: [`float32 (supports(): ${reasons[0]})`, ...picked.notChecked] } : picked;
  }
  return `it declines every call tried: ${[...new Set(reasons)].join('; ')}`;
}

/**
 * Runs `body` on the picked call. A passing outcome names what was not checked: the inputs the
 * call was not given, then what `body` adds to `notChecked`.
 */
export async function guarded(
  backend: GruBackend,
  seed: number,
  body: (c: RandomCase, label: string, notChecked: string[]) => Promise<CaseOutcome>,
): Promise<CaseOutcome> {
  const picked = pickCase(backend, seed);
  if (typeof picked === 'string') return { status: 'unsupported', detail: picked };
  const label = describeCaseOptions(picked.options);
  const notChecked = [...picked.notChecked];
  try {
    const outcome = await body(picked.c, label, notChecked);
    if (outcome.status !== 'passed') return outcome;
    return notChecked.length ? { ...outcome, ranOn: backend.name, detail: `not checked: ${notChecked.join('; ')}` } : { ...outcome, ranOn: backend.name };
  } catch (err) {
    if (err instanceof UnsupportedCallError) return { status: 'unsupported', detail: `${label}: ${err.reason}` };
    return { status: 'failed', detail: `threw ${(err as Error).name}: ${(err as Error).message} (case: ${label})` };
  }
}

export const tolOf = (c: RandomCase) => (c.spec.dtype === 'float64' ? TOLERANCES.float64 : TOLERANCES.float32);

/** PreparedGru.setWeights: a prepared layer given new weights computes with them, on every path. */
export function checkSetWeights(backend: GruBackend, seed = 7): Promise<CaseOutcome> {
  return guarded(backend, seed, async (c, label) => {
    const other = makeCase(
      { B: 1, T: 1, D: c.spec.inputDim, H: c.spec.units, useBias: c.spec.useBias, resetAfter: c.spec.resetAfter, dtype: c.spec.dtype },
      seed + 1,
    ).weights;
    const prepared = await backend.prepare(c.spec, c.weights);
    try {
      // A first call on each path, so a backend that uploads or packs lazily has done so before the
      // update; held to the reference, so a math bug is named as one, not as setWeights ignored.
      const before = referenceForward(c.spec, c.weights, cloneRequest(c.request));
      for (const path of pathsOf(prepared)) {
        const got = await runPath(backend, prepared, path, cloneRequest(c.request));
        const problem = compareResult(got, before, c.request, c.spec.units, tolOf(c), `${path} before any setWeights`);
        if (problem) return { status: 'failed', detail: `${problem}: the result differs from the reference before setWeights was called (case: ${label})` };
      }
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
    const { inputDim: D, units: H } = c.spec;
    // The weights given to prepare and to setWeights are the caller's too (a layer's getWeights()).
    const given = cloneWeights(c.weights);
    const prepared = await backend.prepare(c.spec, given);
    const fail = (detail: string): CaseOutcome => ({ status: 'failed', detail: `${detail} (case: ${label})` });
    let wrote = firstWeightWrite(c.weights, given, D, H);
    if (wrote) return fail(`prepare wrote into the caller's weights: ${wrote}`);
    try {
      for (const path of pathsOf(prepared)) {
        const request = cloneRequest(c.request);
        await runPath(backend, prepared, path, request);
        const problem = firstWrite(c.request, request, D, H);
        if (problem) return fail(`${path} wrote into the caller's request: ${problem}`);
        wrote = firstWeightWrite(c.weights, given, D, H);
        if (wrote) return fail(`${path} wrote into the weights given to prepare: ${wrote}`);
      }
      const other = makeCase({ B: 1, T: 1, D, H, useBias: c.spec.useBias, resetAfter: c.spec.resetAfter, dtype: c.spec.dtype }, seed + 1).weights;
      const set = cloneWeights(other);
      await prepared.setWeights(set);
      wrote = firstWeightWrite(other, set, D, H);
      if (wrote) return fail(`PreparedGru.setWeights wrote into the caller's weights: ${wrote}`);
      for (const path of pathsOf(prepared)) {
        await runPath(backend, prepared, path, cloneRequest(c.request));
        wrote = firstWeightWrite(other, set, D, H);
        if (wrote) return fail(`${path} after setWeights wrote into the weights given to setWeights: ${wrote}`);
      }
      return { status: 'passed' };
    } finally {
      prepared.dispose();
    }
  });
}

const cloneWeights = (w: GruWeights): GruWeights => ({
  kernel: w.kernel.slice(),
  recurrentKernel: w.recurrentKernel.slice(),
  bias: w.bias ? w.bias.slice() : null,
});

/** The first element of `after` (the arrays given to the backend) that differs from `before`, named with its Keras shape. */
function firstWeightWrite(before: GruWeights, after: GruWeights, D: number, H: number): string | undefined {
  const fields: [string, ArrayLike<number> | null, ArrayLike<number> | null, number[]][] = [
    ['kernel', before.kernel, after.kernel, [D, 3 * H]],
    ['recurrentKernel', before.recurrentKernel, after.recurrentKernel, [H, 3 * H]],
    ['bias', before.bias, after.bias, before.bias && before.bias.length === 6 * H ? [2, 3 * H] : [3 * H]],
  ];
  for (const [name, a, b, shape] of fields) {
    if (!a || !b) continue;
    for (let i = 0; i < a.length; i++) {
      if (!Object.is(a[i], b[i])) return `${name}[${unravel(i, shape).join(', ')}] (shape [${shape.join(', ')}]) was ${a[i]}, is now ${b[i]}`;
    }
  }
  return undefined;
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

/** What JavaScript engines and WebAssembly say when code runs past what it checked: never a clear refusal. */
const ENGINE_ERROR = /Cannot (read|set) propert|is not (a function|iterable)|Invalid typed array length|out of bounds|outside the bounds|memory access/i;
const REQUEST_FIELDS = /\b(x|batch|timesteps|initialState|mask|goBackwards|returnSequences|inputDropoutMasks|recurrentDropoutMasks|keepForBackward)\b/;

/**
 * A request is read once: its fields may be getters that answer a bigger batch (with arrays to
 * match) from their second read on. A backend that checks one reading and sizes or fills its
 * buffers from another returns a result of the wrong shape, or reads and writes past what it
 * checked. Passing: the result of the first reading, or a refusal that names a request field.
 * The spec is read once too: a layer prepared on a spec whose getters answer another layer later
 * must still give the first reading's result (or prepare must refuse naming a spec field). So are
 * setWeights' weights, backward requests and bindForward requests, where the backend has them
 * (read-once-more.ts): getters answering other values, or another float type, from their second read.
 * Backward where the backend does not train, or supports() declines the backward call, is named
 * in the passing outcome's detail ("not checked: backward (...)"), after the optional inputs the
 * call was not given, as contract:empty-calls and contract:foreign-arrays name them.
 */
export function checkRequestReadOnce(backend: GruBackend, seed = 10): Promise<CaseOutcome> {
  return guarded(backend, seed, async (c, label, notChecked) => {
    const { spec, request } = c;
    const want = referenceForward(spec, c.weights, cloneRequest(request));
    const later = makeCase(
      { ...pickedOptions(request), D: spec.inputDim, H: spec.units, B: 3 * request.batch + 1, T: request.timesteps, dtype: spec.dtype },
      seed + 1,
    ).request;
    // Every field answering the bigger call, and only batch and x (the rest passes any check of
    // the first reading, so a backend that reads batch and x again runs a call nothing checked).
    const laters: [string, Record<string, unknown>][] = [
      ['every field', later as unknown as Record<string, unknown>],
      ['batch and x', { batch: later.batch, x: later.x }],
    ];
    // Backward where the backend does not train or declines it is added to what was not checked.
    const prepared = await backend.prepare(spec, c.weights);
    try {
      // The plain call first: a result that differs from the reference with plain arrays is a math
      // bug, not a second read.
      for (const path of pathsOf(prepared)) {
        const got = await runPath(backend, prepared, path, cloneRequest(request));
        const problem = compareResult(got, want, request, spec.units, tolOf(c), `${path} with a plain request (no getters)`);
        if (problem) return { status: 'failed', detail: `${problem}: the result differs from the reference before any getter was tried (case: ${label})` };
      }
      for (const [fields, answers] of laters) {
        for (const path of pathsOf(prepared)) {
          const problem = await shiftyCall(backend, prepared, path, request, answers, want, tolOf(c));
          if (problem) {
            return {
              status: 'failed',
              detail: `${path} with getters (${fields}) answering a bigger batch from their second read: ${problem}: read each request field once, then check and use that reading (case: ${label})`,
            };
          }
        }
      }
      const more = await readOnceBeyondForward(backend, prepared, c, want, tolOf(c), notChecked);
      if (more) return { status: 'failed', detail: `${more}: read each field once, then check and use that reading (case: ${label})` };
    } finally {
      prepared.dispose();
    }
    const specProblem = await shiftySpecCalls(backend, c, want);
    if (specProblem) {
      return {
        status: 'failed',
        detail: `a spec whose getters answer another layer from their second read: ${specProblem}: read the spec once at prepare and keep that copy (case: ${label})`,
      };
    }
    return { status: 'passed' };
  });
}

const SPEC_FIELDS = /\b(spec|units|inputDim|activation|recurrentActivation|useBias|resetAfter|dtype)\b/;

/**
 * What is wrong with a layer prepared on a spec whose getters answer another layer (more units,
 * other activations) from their second read, or undefined. Passing: every call gives the first
 * reading's result, or prepare refuses naming a spec field.
 */
async function shiftySpecCalls(backend: GruBackend, c: RandomCase, want: ForwardResult): Promise<string | undefined> {
  const threw = (where: string, err: unknown) => `${where} threw ${(err as Error)?.name}: ${String((err as Error)?.message)}`;
  let prepared: PreparedGru;
  try {
    prepared = await backend.prepare(shiftySpec(c.spec).spec, c.weights);
  } catch (err) {
    const message = String((err as Error)?.message);
    if (err instanceof UnsupportedCallError || (SPEC_FIELDS.test(message) && !ENGINE_ERROR.test(message))) return undefined;
    return threw('prepare', err);
  }
  try {
    for (const path of pathsOf(prepared)) {
      let got: ForwardResult;
      try {
        const req = cloneRequest(c.request);
        got = path === 'forward' ? await prepared.forward(req) : (prepared.forwardSync as (r: ForwardRequest) => ForwardResult)(req);
      } catch (err) {
        return threw(path, err);
      }
      let shaped: ForwardResult;
      try {
        shaped = checkForwardResult(backend.name, c.spec, c.request, got);
      } catch (err) {
        return `${path}: ${(err as Error).message}`;
      }
      const problem = compareResult(shaped, want, c.request, c.spec.units, tolOf(c), 'the result');
      if (problem) return `${path}: ${problem}`;
    }
    return undefined;
  } finally {
    prepared.dispose();
  }
}

/** What is wrong with a call on `request` whose getters answer `answers` from their second read, or undefined. */
async function shiftyCall(
  backend: GruBackend,
  prepared: PreparedGru,
  path: ForwardPath,
  request: ForwardRequest,
  answers: Record<string, unknown>,
  want: ForwardResult,
  tol: Tolerance,
): Promise<string | undefined> {
  const { req } = shiftyRequest(cloneRequest(request), answers);
  let got: ForwardResult;
  try {
    got = path === 'forward' ? await prepared.forward(req) : (prepared.forwardSync as (r: ForwardRequest) => ForwardResult)(req);
  } catch (err) {
    const message = String((err as Error)?.message);
    // A refusal that names a field is a clear error; an engine's error is a read past a check.
    if (err instanceof UnsupportedCallError || (REQUEST_FIELDS.test(message) && !ENGINE_ERROR.test(message))) return undefined;
    return `threw ${(err as Error)?.name}: ${message}`;
  }
  let shaped: ForwardResult;
  try {
    shaped = checkForwardResult(backend.name, prepared.spec, request, got);
  } catch (err) {
    return (err as Error).message;
  }
  const problem = compareResult(shaped, want, request, prepared.spec.units, tol, 'the result');
  return problem;
}

/** The optional inputs `request` has, as CaseOptions for a second request of the same kind (a right-padded mask stays one). */
export function pickedOptions(request: ForwardRequest): Partial<CaseOptions> {
  return {
    initialState: request.initialState !== undefined,
    mask: classifyMask(request.mask, request.batch, request.timesteps),
    goBackwards: request.goBackwards,
    returnSequences: request.returnSequences,
    inputDropout: request.inputDropoutMasks !== undefined,
    recurrentDropout: request.recurrentDropoutMasks !== undefined,
  };
}

/**
 * The contract checks, by name, as the runner plans them; `last`: planned after every other check
 * of the run (it disposes the backend and loads it again).
 */
export const CONTRACT_CHECKS: readonly { name: string; run: (backend: GruBackend) => Promise<CaseOutcome>; last?: true }[] = [
  { name: 'contract:set-weights', run: (b) => checkSetWeights(b) },
  { name: 'contract:fresh-results', run: (b) => checkFreshResults(b) },
  { name: 'contract:inputs-untouched', run: (b) => checkInputsUntouched(b) },
  { name: 'contract:request-read-once', run: (b) => checkRequestReadOnce(b) },
  { name: 'contract:empty-calls', run: (b) => checkEmptyCalls(b) },
  { name: 'contract:foreign-arrays', run: (b) => checkForeignArrays(b) },
  { name: 'contract:bound-reruns', run: (b) => checkBoundReruns(b) },
  { name: 'contract:concurrent-calls', run: (b) => checkConcurrentCalls(b) },
  { name: 'contract:backend-reload', run: (b) => checkBackendReload(b), last: true },
];
