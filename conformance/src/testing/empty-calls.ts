import {
  checkGradients,
  referenceBackend,
  UnsupportedCallError,
  type BackwardRequest,
  type FloatArray,
  type ForwardRequest,
  type ForwardResult,
  type GruBackend,
  type GruGradients,
  type GruSpec,
  type PreparedGru,
} from '@gru/core';
import type { CaseOutcome } from '../run-case.js';
import { compareArrays, TOLERANCES, type Tolerance } from '../tolerance.js';
import { cloneRequest, compareResult, pathsOf, runPath } from './against-reference.js';
import { backwardGate, callInfoOf } from './call-info.js';
import { describeCaseOptions, makeCase, type CaseOptions } from './make-case.js';

/**
 * contract:empty-calls: a call with no rows (batch 0) or no steps (timesteps 0) is answered as
 * the reference backend answers it (core's emptyForwardResult / emptyCallGradients): empty
 * outputs, or the initial state with no steps; its gradients pass dLastState (and dOutput) to
 * the initial state and are zero for x and the weights. Kernels run at least one row and one
 * step, so a backend has to answer these itself; one that refuses them (UnsupportedCallError
 * from forward, forwardSync, bindForward at bind time or backward after supports() accepted the
 * call: the layer does not fall back, and GRU.stream() binds with no fallback either), or answers
 * zeros for the state, fails. Every path is checked: forward, forwardSync, bindForward and
 * backward; batch 0, timesteps 0 and both together; float32 and float64 (each where supports()
 * accepts the call). What is not checked is named in a passing outcome's detail ("not checked:
 * ..."): a dtype or case supports() declines, and backward where the backend does not train or
 * supports() declines the backward call (asked as a training call, as
 * contract:foreign-arrays and contract:request-read-once ask it: call-info.ts backwardGate).
 */

const SIZES: readonly Pick<CaseOptions, 'B' | 'T'>[] = [
  { B: 0, T: 4 },
  { B: 3, T: 0 },
  { B: 0, T: 0 },
];
const VARIANTS: readonly Partial<CaseOptions>[] = [
  { returnSequences: true },
  { returnSequences: false, initialState: true },
  { returnSequences: true, initialState: true, mask: 'any', goBackwards: true },
  { returnSequences: false, initialState: true, mask: 'right-padded', resetAfter: false },
  { returnSequences: false, useBias: false },
];

const arrayFor = (dtype: GruSpec['dtype'], n: number): FloatArray => (dtype === 'float64' ? new Float64Array(n) : new Float32Array(n));

/** The cases of the check for one dtype: every size with every variant (the seeds differ between dtypes). */
function emptyCases(dtype: 'float32' | 'float64'): CaseOptions[] {
  let seed = dtype === 'float64' ? 201 : 101;
  return SIZES.flatMap((size) => VARIANTS.map((v) => ({ ...size, D: 3, H: 5, ...v, dtype, seed: seed++ })));
}

/** The reference backend's answer and gradients (the executable spec). */
function referenceAnswer(spec: GruSpec, weights: Parameters<GruBackend['prepare']>[1], request: ForwardRequest, backward: BackwardRequest[]) {
  const prepared = referenceBackend.prepareSync!(spec, weights);
  const result = prepared.forwardSync!({ ...cloneRequest(request), keepForBackward: true });
  return { result, gradients: backward.map((b) => prepared.backwardSync!(result.saved, b)) };
}

/** The output gradients one backward call is given (random, fixed by the case's seed). */
function backwardRequests(spec: GruSpec, request: ForwardRequest, seed: number): BackwardRequest[] {
  const { batch: B, timesteps: T } = request;
  const H = spec.units;
  const filled = (n: number, k: number) => {
    const a = arrayFor(spec.dtype, n);
    for (let i = 0; i < n; i++) a[i] = Math.sin(seed * 7.1 + i * 1.3 + k) * 0.9;
    return a;
  };
  const dOutput = () => filled(request.returnSequences ? B * T * H : B * H, 1);
  return [
    { dOutput: dOutput(), dLastState: filled(B * H, 2) },
    { dOutput: dOutput(), inputGradients: false },
  ];
}

function compareGradients(got: GruGradients, want: GruGradients, tol: Tolerance, what: string): string | undefined {
  for (const field of ['dx', 'dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const) {
    const g = got[field];
    const w = want[field];
    if (g === null || w === null) {
      if (g !== w) return `${what}: ${field} is ${g === null ? 'null' : 'an array'}, expected ${w === null ? 'null' : 'an array'}`;
      continue;
    }
    // dx may come back empty or full when input gradients were not asked for (BackwardRequest).
    if (field === 'dx' && (g.length === 0 || w.length === 0)) continue;
    const c = compareArrays(g, w, tol);
    if (!c.ok) return `${what}: ${field} ${c.message}`;
  }
  return undefined;
}

/**
 * An empty call's answer is fresh arrays, as every call's is: `lastState` that is the caller's
 * `initialState`, or `output` that is `lastState`, lets a later write to one change the other.
 */
function aliasing(got: ForwardResult, given: ForwardRequest, path: string): string | undefined {
  const h0 = given.initialState;
  if (h0 !== undefined && (got.lastState === h0 || got.output === h0)) {
    return `${path}: returned the request's own initialState array as ${got.lastState === h0 ? 'lastState' : 'output'} (results must be fresh arrays)`;
  }
  if (got.output === got.lastState && got.output.length > 0) return `${path}: returned one array as both output and lastState (results must be fresh arrays)`;
  return undefined;
}

/**
 * bindForward on an empty call: one run fills `output` and `lastState` (primed with NaN) as forward
 * answers. A refusal at bind time (UnsupportedCallError) is thrown on, and fails the check as
 * forward's does: core's GRU.stream() binds with no fallback.
 */
function runBound(prepared: PreparedGru, request: ForwardRequest, want: ForwardResult): ForwardResult | undefined {
  if (!prepared.bindForward) return undefined;
  const output = arrayFor(prepared.spec.dtype, want.output.length).fill(Number.NaN);
  const lastState = arrayFor(prepared.spec.dtype, want.lastState.length).fill(Number.NaN);
  const bound = prepared.bindForward({ ...cloneRequest(request), output, lastState });
  try {
    bound.run();
    return { output, lastState };
  } finally {
    bound.dispose();
  }
}

/**
 * One empty call on every path the backend has: a problem; supports()'s reason for declining it;
 * or, where it ran, why backward did not (undefined where it ran too, or the layer has no
 * backward and nothing to name: call-info.ts backwardGate).
 */
async function checkOne(
  backend: GruBackend,
  options: CaseOptions,
  at: { call: string },
): Promise<string | { declined: string } | { backwardNotRun: string | undefined }> {
  const { spec, weights, request } = makeCase(options);
  const supported = backend.supports(spec, callInfoOf(request));
  if (supported !== true) return { declined: supported };
  const tol = spec.dtype === 'float64' ? TOLERANCES.float64 : TOLERANCES.float32;
  const backward = backwardRequests(spec, request, options.seed ?? 1);
  const want = referenceAnswer(spec, weights, request, backward);
  at.call = 'prepare';
  const prepared = await backend.prepare(spec, weights);
  try {
    for (const path of pathsOf(prepared)) {
      const given = cloneRequest(request);
      at.call = path;
      const got = await runPath(backend, prepared, path, given);
      const problem = compareResult(got, want.result, request, spec.units, tol, path) ?? aliasing(got, given, path);
      if (problem) return problem;
    }
    at.call = 'bindForward';
    const bound = runBound(prepared, request, want.result);
    const boundProblem = bound && compareResult(bound, want.result, request, spec.units, tol, 'bindForward().run()');
    if (boundProblem) return boundProblem;
    // The backward call is asked about only where the layer can train at all.
    const gate = backwardGate(backend, prepared, spec, request);
    if (gate !== true) return { backwardNotRun: gate };
    at.call = 'forward({ keepForBackward: true })';
    const kept = await prepared.forward({ ...cloneRequest(request), keepForBackward: true });
    at.call = 'backward';
    for (const [i, b] of backward.entries()) {
      const inputGradients = b.inputGradients !== false;
      const got = checkGradients(backend.name, spec, request, await prepared.backward!(kept.saved, { ...b }), inputGradients);
      const problem = compareGradients(got, want.gradients[i], tol, `backward (${b.dLastState ? 'with dLastState' : 'inputGradients false, no dLastState'})`);
      if (problem) return problem;
    }
    return { backwardNotRun: undefined };
  } finally {
    prepared.dispose();
  }
}

/** A case's name in a detail: its sizes and variant (the dtype is named beside it). */
const caseName = (o: CaseOptions) => describeCaseOptions({ ...o, dtype: undefined, seed: undefined });

/**
 * The cases of one dtype and reason, named as briefly as is true: a variant declined at every size
 * by its flags (`useBias=false at every size`), a size whose every variant is among them by its
 * sizes alone (`B=0 T=0`), any other case whole.
 */
function casesNamed(cases: readonly CaseOptions[]): string {
  const flagsOf = (o: Partial<CaseOptions>) =>
    Object.entries(o)
      .filter(([k, x]) => !['B', 'T', 'D', 'H', 'dtype', 'seed'].includes(k) && x !== undefined)
      .map(([k, x]) => `${k}=${String(x)}`)
      .join(' ');
  const sameVariant = (o: CaseOptions, v: Partial<CaseOptions>) => flagsOf(o) === flagsOf(v);
  const names: string[] = [];
  let rest = [...cases];
  for (const v of VARIANTS) {
    const these = rest.filter((o) => sameVariant(o, v));
    if (these.length < SIZES.length) continue;
    names.push(`${flagsOf(v)} at every size`);
    rest = rest.filter((o) => !these.includes(o));
  }
  for (const size of SIZES) {
    const these = rest.filter((o) => o.B === size.B && o.T === size.T);
    if (these.length === VARIANTS.length) names.push(`B=${size.B} T=${size.T}`);
    else names.push(...these.map(caseName));
  }
  return names.join(', ');
}

/** Cases grouped by reason, in the order first met. */
function byReason(entries: readonly { options: CaseOptions; reason: string }[]): Map<string, CaseOptions[]> {
  const groups = new Map<string, CaseOptions[]>();
  for (const { options, reason } of entries) groups.set(reason, [...(groups.get(reason) ?? []), options]);
  return groups;
}

/** The contract check: every empty call the backend accepts, in each dtype, on every path, against the reference. */
export async function checkEmptyCalls(backend: GruBackend): Promise<CaseOutcome> {
  let ran = 0;
  // What was not checked, named in the outcome: cases supports() declined, and backward calls
  // not asked for (the backend does not train, or supports() declines the backward call).
  const reasons = new Set<string>();
  const notRun: string[] = [];
  // A dtype declined whole is named first (as contract:foreign-arrays does).
  const dtypesDeclined: string[] = [];
  for (const dtype of ['float32', 'float64'] as const) {
    const declined: { options: CaseOptions; reason: string }[] = [];
    // The cases that ran whose backward did not, and why.
    const backwardNotRun: { options: CaseOptions; reason: string }[] = [];
    let ranHere = 0;
    for (const options of emptyCases(dtype)) {
      const label = describeCaseOptions(options);
      let problem: Awaited<ReturnType<typeof checkOne>>;
      const at = { call: 'prepare' };
      try {
        problem = await checkOne(backend, options, at);
      } catch (err) {
        // supports() said yes to this call (a declined one never runs): refusing it now leaves a
        // user with an error, since the layer does not fall back once a backend was chosen.
        const what = err instanceof UnsupportedCallError ? 'refused an empty call its supports() accepted, throwing' : 'threw';
        return { status: 'failed', detail: `${at.call} ${what} ${(err as Error).name}: ${(err as Error).message} (case: ${label})` };
      }
      if (typeof problem === 'string') return { status: 'failed', detail: `${problem} (case: ${label})` };
      if ('declined' in problem) {
        reasons.add(problem.declined);
        declined.push({ options, reason: problem.declined });
        continue;
      }
      if (problem.backwardNotRun !== undefined) backwardNotRun.push({ options, reason: problem.backwardNotRun });
      ranHere++;
    }
    ran += ranHere;
    if (ranHere === 0) {
      dtypesDeclined.push(`${dtype} (supports(): ${[...byReason(declined).keys()].join('; ')})`);
      continue;
    }
    for (const [reason, cases] of byReason(declined)) notRun.push(`${dtype} ${casesNamed(cases)} (supports(): ${reason})`);
    for (const [reason, cases] of byReason(backwardNotRun)) {
      notRun.push(cases.length === ranHere ? `${dtype} backward (${reason})` : `${dtype} backward of ${casesNamed(cases)} (${reason})`);
    }
  }
  if (ran === 0) {
    return {
      status: 'unsupported',
      detail: `supports() declines every empty call tried (batch 0, timesteps 0, both; float32 and float64): ${[...reasons].join('; ')}`,
    };
  }
  notRun.unshift(...dtypesDeclined);
  return notRun.length ? { status: 'passed', ranOn: backend.name, detail: `not checked: ${notRun.join('; ')}` } : { status: 'passed', ranOn: backend.name };
}
