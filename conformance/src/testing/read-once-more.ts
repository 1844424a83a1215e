import {
  checkForwardResult,
  UnsupportedCallError,
  type BackwardRequest,
  type FloatArray,
  type ForwardResult,
  type GruBackend,
  type GruGradients,
  type GruWeights,
  type PreparedGru,
} from '@gru/core';
import { compareArrays, type Tolerance } from '../tolerance.js';
import { cloneRequest, compareResult } from './against-reference.js';
import { backwardGate } from './call-info.js';
import type { RandomCase } from './make-case.js';
import { shiftyRequest } from './shifty-request.js';

/**
 * contract:request-read-once beyond forward: setWeights, backward requests and bindForward, where
 * a backend has them. A getter answers the honest value on its first read and, from its second
 * read on, either the same kind of array with other values (a backend that checks one reading
 * and uses another then computes with values nothing checked), or an array of the other float
 * type and another length (one that branches on the type of a second reading, or sizes from it);
 * counts answer one more and flags the opposite either way (a backend sizing or branching on a
 * second reading of batch, timesteps, goBackwards, returnSequences or inputGradients).
 * Passing: the first reading's result, or a refusal that names the field (a bound call's refusal
 * at bindForward: its run() must not throw).
 */

/**
 * What is wrong with the three extra calls, or undefined. A call not checked is named in
 * `notChecked`: backward where the backend does not train or supports() declines the backward
 * call (call-info.ts backwardGate, as contract:empty-calls and contract:foreign-arrays name it).
 */
export async function readOnceBeyondForward(
  backend: GruBackend,
  prepared: PreparedGru,
  c: RandomCase,
  want: ForwardResult,
  tol: Tolerance,
  notChecked: string[],
): Promise<string | undefined> {
  return (
    (await shiftyWeights(backend, prepared, c, want, tol)) ??
    (await shiftyBackward(backend, prepared, c, tol, notChecked)) ??
    shiftyBound(prepared, c, want, tol)
  );
}

const ENGINE_ERROR = /Cannot (read|set) propert|is not (a function|iterable)|Invalid typed array length|out of bounds|outside the bounds|memory access/i;

/** Undefined for a clear refusal naming one of `fields`, else what was thrown. */
function refusal(err: unknown, fields: RegExp, where: string): string | undefined {
  const message = String((err as Error)?.message);
  if (err instanceof UnsupportedCallError || (fields.test(message) && !ENGINE_ERROR.test(message))) return undefined;
  return `${where} threw ${(err as Error)?.name}: ${message}`;
}

/** Other values, same type and length (a mask's bytes flipped: 1 - v, so every value differs). */
const otherValues = (a: FloatArray | Uint8Array): FloatArray | Uint8Array =>
  a instanceof Uint8Array ? a.map((v) => (v === 0 ? 1 : 0)) : a.map((v, i) => v + 0.25 + (i % 7) / 8);

/** A count answers one more, a flag the opposite; other values none (undefined). */
const otherScalar = (v: unknown): unknown => (typeof v === 'number' ? v + 1 : typeof v === 'boolean' ? !v : undefined);

/** An array of `Type` holding f(0..n-1). */
export function filled(Type: typeof Float32Array | typeof Float64Array, n: number, f: (i: number) => number): FloatArray {
  const a = new Type(n);
  for (let i = 0; i < n; i++) a[i] = f(i);
  return a;
}

/** The other float type, 3 values longer, other values. */
const otherType = (a: FloatArray): FloatArray => filled(a instanceof Float64Array ? Float32Array : Float64Array, a.length + 3, (i) => 0.5 - (i % 5) / 4);

const laters = <T extends object>(honest: T) => {
  const each = (f: (a: FloatArray) => FloatArray | Uint8Array) =>
    Object.fromEntries(
      Object.entries(honest).flatMap(([k, v]) => {
        if (ArrayBuffer.isView(v)) return [[k, f(v as FloatArray)]];
        const other = otherScalar(v);
        return other === undefined ? [] : [[k, other]];
      }),
    );
  return [
    ['other values', each(otherValues)],
    ['another float type and length', each(otherType)],
  ] as const;
};

const WEIGHT_FIELDS = /\b(weights|kernel|recurrentKernel|bias)\b/;

async function shiftyWeights(backend: GruBackend, prepared: PreparedGru, c: RandomCase, want: ForwardResult, tol: Tolerance): Promise<string | undefined> {
  const honest: GruWeights = { kernel: c.weights.kernel.slice(), recurrentKernel: c.weights.recurrentKernel.slice(), bias: c.weights.bias?.slice() ?? null };
  for (const [kind, later] of laters(honest)) {
    const where = `setWeights with getters answering ${kind} from their second read`;
    try {
      await prepared.setWeights(shiftyRequest(honest, later).req);
    } catch (err) {
      const problem = refusal(err, WEIGHT_FIELDS, where);
      if (problem) return problem;
      await prepared.setWeights(honest);
      continue;
    }
    let got: ForwardResult;
    try {
      got = checkForwardResult(backend.name, c.spec, c.request, await prepared.forward(cloneRequest(c.request)));
    } catch (err) {
      return `forward after ${where} threw ${(err as Error)?.name}: ${(err as Error)?.message}`;
    }
    const problem = compareResult(got, want, c.request, c.spec.units, tol, 'the result');
    if (problem) return `forward after ${where}: ${problem}`;
  }
  return undefined;
}

const GRADIENT_FIELDS = /\b(dOutput|dLastState|inputGradients)\b/;

async function shiftyBackward(backend: GruBackend, prepared: PreparedGru, c: RandomCase, tol: Tolerance, notChecked: string[]): Promise<string | undefined> {
  const gate = backwardGate(backend, prepared, c.spec, c.request);
  if (gate !== true) {
    if (gate !== undefined) notChecked.push(`backward (${gate})`);
    return undefined;
  }
  const backward = prepared.backward!.bind(prepared);
  const { batch: B, timesteps: T, returnSequences } = c.request;
  const H = c.spec.units;
  const Type = c.spec.dtype === 'float64' ? Float64Array : Float32Array;
  const honest: BackwardRequest = {
    dOutput: filled(Type, returnSequences ? B * T * H : B * H, (i) => Math.sin(i + 1)),
    dLastState: filled(Type, B * H, (i) => Math.cos(i)),
    // Given, so that a backend reading it again sees false and skips dx.
    inputGradients: true,
  };
  // A fresh forward pass for each backward call: a backend may keep only its latest.
  const run = async (req: BackwardRequest) => backward((await prepared.forward({ ...cloneRequest(c.request), keepForBackward: true })).saved, req);
  const want = await run(honest);
  for (const [kind, later] of laters(honest)) {
    const where = `backward with getters answering ${kind} from their second read`;
    let got: GruGradients;
    try {
      got = await run(shiftyRequest(honest, later).req);
    } catch (err) {
      const problem = refusal(err, GRADIENT_FIELDS, where);
      if (problem) return problem;
      continue;
    }
    for (const key of ['dx', 'dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const) {
      const [g, w] = [got[key], want[key]];
      if (!g !== !w) return `${where}: ${key} is ${g ? 'given' : 'missing'}, the honest request's is ${w ? 'given' : 'missing'}`;
      if (!g || !w) continue;
      const cmp = compareArrays(g, w, tol);
      if (!cmp.ok) return `${where}: ${key} differs from the honest request's (max |diff| ${cmp.maxAbsDiff})`;
    }
  }
  return undefined;
}

// x only quoted (`x`, request.x): a lone x is in most messages ("2 x 3").
const BOUND_FIELDS =
  /`x`|\brequest\.x\b|\b(batch|timesteps|initialState|mask|goBackwards|returnSequences|inputDropoutMasks|recurrentDropoutMasks|keepForBackward|output|lastState)\b/;

function shiftyBound(prepared: PreparedGru, c: RandomCase, want: ForwardResult, tol: Tolerance): string | undefined {
  if (!prepared.bindForward) return undefined;
  const { batch: B, timesteps: T, returnSequences } = c.request;
  const H = c.spec.units;
  const Type = c.spec.dtype === 'float64' ? Float64Array : Float32Array;
  const request = { ...cloneRequest(c.request), keepForBackward: false };
  for (const [kind, later] of laters(request)) {
    const where = `bindForward with getters answering ${kind} from their second read`;
    const output = new Type(returnSequences ? B * T * H : B * H);
    const lastState = new Type(B * H);
    const honest = { ...request, output, lastState };
    const answers = { ...later, output: otherType(output), lastState: otherType(lastState) };
    let bound: ReturnType<NonNullable<PreparedGru['bindForward']>>;
    try {
      bound = prepared.bindForward(shiftyRequest(honest, answers).req);
    } catch (err) {
      const problem = refusal(err, BOUND_FIELDS, where);
      if (problem) return problem;
      continue;
    }
    // Bound without complaint: a run reads what bindForward read, so it has nothing to refuse.
    try {
      bound.run();
    } catch (err) {
      return `${where}: run() threw ${(err as Error)?.name}: ${(err as Error)?.message}`;
    } finally {
      bound.dispose();
    }
    const problem = compareResult({ output, lastState }, want, c.request, H, tol, 'the bound outputs');
    if (problem) return `${where}: ${problem}`;
  }
  return undefined;
}
