import {
  checkGradients,
  UnsupportedCallError,
  type BackwardRequest,
  type FloatArray,
  type ForwardRequest,
  type ForwardResult,
  type GruBackend,
  type GruGradients,
  type GruWeights,
  type PreparedGru,
} from '@gru/core';
import type { CaseOutcome } from '../run-case.js';
import { compareArrays } from '../tolerance.js';
import { bitwiseEqual } from './bitwise.js';
import { cloneRequest, pathsOf, runPath, type ForwardPath } from './against-reference.js';
import { callInfoOf } from './call-info.js';
import { describeCaseOptions, makeCase, type CaseOptions, type RandomCase } from './make-case.js';

/**
 * contract:foreign-arrays: core's checks accept any genuine typed array of the right type and
 * length, so a backend is handed arrays that `instanceof`, `Float32Array.from(a)`, `a.slice()` or
 * `a.subarray()` misread: another realm's (node:vm, an iframe: no `instanceof Float32Array`), and
 * subclasses whose @@iterator, slice(), subarray() and @@species answer other values. A backend
 * must read them as core checked them (core's copyFloat32 / asFloats / copyMask copy from the
 * engine's own slots), so every call given one answers bit for
 * bit what the same backend answers for plain arrays: weights (prepare, prepareSync, setWeights),
 * x, initialState and mask, bound calls (bindForward, its outputs too), and backward's dOutput and
 * dLastState (and x, initialState and mask kept for backward).
 *
 * Also the shared fixtures for backend tests: inOtherRealm, asHostileSubclass.
 */

export type FixtureArray = Float32Array | Float64Array | Uint8Array;

/** The typed-array constructors of another realm. */
export interface OtherRealm {
  Float32Array: Float32ArrayConstructor;
  Float64Array: Float64ArrayConstructor;
  Uint8Array: Uint8ArrayConstructor;
}

/** Another realm, how it was made, and close() (removes an iframe; nothing in Node). */
export interface OpenedRealm {
  realm: OtherRealm;
  how: string;
  close(): void;
}

interface IframeLike {
  contentWindow: OtherRealm | null;
  style?: { display: string };
  remove(): void;
}
interface DocumentLike {
  createElement(tag: 'iframe'): IframeLike;
  body: { appendChild(node: IframeLike): unknown } | null;
  documentElement: { appendChild(node: IframeLike): unknown } | null;
}

/**
 * Another realm's typed-array constructors: in Node a node:vm context (no import of node:vm, so
 * the kit still bundles for browsers), in a page a hidden iframe; or, where there is neither, why
 * (a Worker has no document).
 */
export function openOtherRealm(): OpenedRealm | string {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof proc?.getBuiltinModule === 'function') {
    const vm = proc.getBuiltinModule('node:vm') as typeof import('node:vm') | undefined;
    if (vm) {
      const realm = vm.runInNewContext('({ Float32Array, Float64Array, Uint8Array })') as OtherRealm;
      return { realm, how: 'node:vm', close: () => {} };
    }
  }
  const doc = (globalThis as { document?: DocumentLike }).document;
  if (doc && typeof doc.createElement === 'function') {
    const parent = doc.body ?? doc.documentElement;
    if (!parent) return 'the page has no body or document element to put an iframe in';
    const iframe = doc.createElement('iframe');
    if (iframe.style) iframe.style.display = 'none';
    parent.appendChild(iframe);
    const win = iframe.contentWindow;
    if (!win) {
      iframe.remove();
      return 'an iframe made here has no window';
    }
    const realm: OtherRealm = { Float32Array: win.Float32Array, Float64Array: win.Float64Array, Uint8Array: win.Uint8Array };
    return { realm, how: 'an iframe', close: () => iframe.remove() };
  }
  return 'neither node:vm (Node) nor a document to make an iframe in (a page) is available here';
}

const typeName = (a: FixtureArray): 'Float32Array' | 'Float64Array' | 'Uint8Array' =>
  a instanceof Float64Array ? 'Float64Array' : a instanceof Uint8Array ? 'Uint8Array' : 'Float32Array';

function copyInto<T extends FixtureArray>(realm: OtherRealm, a: T): T {
  const Type = realm[typeName(a)] as unknown as new (n: number) => T;
  const copy = new Type(a.length);
  for (let i = 0; i < a.length; i++) copy[i] = a[i];
  return copy;
}

let sharedRealm: OtherRealm | undefined;

/**
 * A copy of `a` (same type and values) made by another realm's constructor: node:vm in Node, an
 * iframe (left in the page) in a browser. Throws where there is neither. For backend tests.
 */
export function inOtherRealm<T extends FixtureArray>(a: T): T {
  if (!sharedRealm) {
    const opened = openOtherRealm();
    if (typeof opened === 'string') throw new Error(`inOtherRealm: no other realm: ${opened}`);
    sharedRealm = opened.realm;
  }
  return copyInto(sharedRealm, a);
}

/** What the hostile subclasses' @@iterator yields, and how many: other values, another count. */
const HOSTILE_COUNT = 5000;
const hostileValue = (a: FixtureArray) => (a instanceof Uint8Array ? 0 : 9);

type TypedCtor = new (...args: unknown[]) => FixtureArray;
const hostileClasses = new Map<string, TypedCtor>();

/**
 * A subclass of `Base` whose @@iterator yields HOSTILE_COUNT `value`s, whose slice() and
 * subarray() answer arrays of `value` (of the length asked for, on no shared buffer), and whose
 * @@species (what map(), filter() and the engine's own slice and subarray consult) makes arrays
 * of `value`, 5 longer.
 */
function hostileClass(Base: TypedCtor, value: number): TypedCtor {
  // One of the three typed-array constructors; typed as one of them so that it can be extended.
  const Typed = Base as unknown as Float64ArrayConstructor;
  // @@species is called with (length) by slice/map/filter, with (buffer, byteOffset, length) by subarray.
  class Other extends Typed {
    constructor(...args: unknown[]) {
      super(((args.length === 1 ? args[0] : args[2]) as number) + 5);
      this.fill(value);
    }
  }
  // The length a plain array's slice or subarray would have (the engine's copy reads the slots).
  const lengthOf = (a: Float64Array, start?: number, end?: number) => new Typed(a).subarray(start, end).length;
  class Hostile extends Typed {
    static get [Symbol.species]() {
      return Other;
    }
    override slice(start?: number, end?: number): Float64Array<ArrayBuffer> {
      return new Typed(lengthOf(this, start, end)).fill(value);
    }
    override subarray(start?: number, end?: number): Float64Array<ArrayBuffer> {
      return new Typed(lengthOf(this, start, end)).fill(value);
    }
  }
  Object.defineProperty(Hostile.prototype, Symbol.iterator, {
    configurable: true,
    writable: true,
    *value() {
      for (let i = 0; i < HOSTILE_COUNT; i++) yield value;
    },
  });
  return Hostile as unknown as TypedCtor;
}

/**
 * A copy of `a` (same type, values and honest `length`) as an instance of a subclass whose
 * @@iterator yields 5000 other values, whose slice() and subarray() answer arrays of other values
 * and whose @@species makes longer ones: what `Float32Array.from(a)`, `[...a]`, `a.slice()`,
 * `a.subarray()` or `a.map()` would read instead of the values core checked. Core's copies
 * (copyFloat32, asFloats, copyMask: the typed-array constructor) read the values. For backend tests.
 */
export function asHostileSubclass<T extends FixtureArray>(a: T): T {
  const name = typeName(a);
  let Hostile = hostileClasses.get(name);
  if (!Hostile) {
    const Base = { Float32Array, Float64Array, Uint8Array }[name] as unknown as TypedCtor;
    Hostile = hostileClass(Base, hostileValue(a));
    hostileClasses.set(name, Hostile);
  }
  const copy = new Hostile(a.length);
  for (let i = 0; i < a.length; i++) copy[i] = a[i];
  return copy as T;
}

/** One kind of foreign array: how to make one from a plain array, and what to call it. */
interface Kind {
  name: (a: FixtureArray) => string;
  make: <T extends FixtureArray>(a: T) => T;
}

/** A failure found: the detail, whole. */
class Problem extends Error {}

/** Runs a call given foreign arrays: any throw is a failure (the same call with plain arrays ran). */
async function attempt<T>(what: string, body: () => T | Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof Problem) throw err;
    throw new Problem(`${what} threw ${(err as Error)?.name}: ${(err as Error)?.message} (the same call with plain arrays did not)`);
  }
}

/** `got` (any realm or subclass) against the plain arrays' answer, bit for bit. */
function sameBits(got: ArrayLike<number> | null, want: FloatArray | null, what: string, shape?: number[]): string | undefined {
  if (got === null || want === null)
    return got === want ? undefined : `${what} is ${got === null ? 'null' : 'an array'} (with plain arrays ${want === null ? 'null' : 'an array'})`;
  // The engine's copy reads the element slots, whatever the array's realm or class says.
  const copy = want instanceof Float64Array ? new Float64Array(got as Float64Array) : new Float32Array(got as Float32Array);
  if (bitwiseEqual(copy, want)) return undefined;
  const cmp = compareArrays(copy, want, { atol: 0, rtol: 0 }, shape);
  return cmp.ok
    ? `${what} differs in its bits (a zero's sign or a NaN's payload) from the same call with plain arrays`
    : `${what} differs from the same call with plain arrays ("expected" is that call's answer) ${cmp.message}`;
}

function sameResult(got: ForwardResult, want: ForwardResult, request: ForwardRequest, H: number, what: string): string | undefined {
  const { batch: B, timesteps: T } = request;
  return (
    sameBits(got.output, want.output, `${what}: output`, request.returnSequences ? [B, T, H] : [B, H]) ??
    sameBits(got.lastState, want.lastState, `${what}: lastState`, [B, H])
  );
}

function sameGradients(got: GruGradients, want: GruGradients, what: string): string | undefined {
  for (const field of ['dx', 'dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const) {
    const problem = sameBits(got[field], want[field], `${what}: ${field}`);
    if (problem) return problem;
  }
  return undefined;
}

const fail = (problem: string | undefined) => {
  if (problem) throw new Problem(problem);
};

/** The calls tried, richest first: a mask only where supports() takes one. */
const CANDIDATES: readonly Partial<CaseOptions>[] = [
  { initialState: true, mask: 'any' },
  { initialState: true, mask: 'right-padded' },
  { initialState: true },
  {},
];

type RequestField = 'x' | 'initialState' | 'mask';
const REQUEST_FIELDS: readonly RequestField[] = ['x', 'initialState', 'mask'];

/** The richest candidate call the backend accepts in `dtype`, and what it declined on the way (named with supports()'s reason); or the reason for none. */
function pick(backend: GruBackend, dtype: 'float32' | 'float64', seed: number): { c: RandomCase; options: CaseOptions; declined: string[] } | string {
  const reasons: string[] = [];
  for (const candidate of CANDIDATES) {
    const options: CaseOptions = { B: 3, T: 5, D: 4, H: 7, returnSequences: true, ...candidate, dtype, seed };
    const c = makeCase(options);
    const ok = backend.supports(c.spec, callInfoOf(c.request));
    if (ok !== true) {
      reasons.push(ok);
      continue;
    }
    const declined: string[] = [];
    const why = reasons[0] !== undefined ? ` (supports(): ${reasons[0]})` : '';
    if (!c.request.mask) declined.push(`mask${why}`);
    if (!c.request.initialState) declined.push(`initialState${why}`);
    return { c, options, declined };
  }
  return `supports() declines every ${dtype} call tried: ${[...new Set(reasons)].join('; ')}`;
}

const weightsAs = (w: GruWeights, kind: Kind): GruWeights => ({
  kernel: kind.make(w.kernel),
  recurrentKernel: kind.make(w.recurrentKernel),
  bias: w.bias && kind.make(w.bias),
});

/** The request with one field made foreign. */
function requestWith(request: ForwardRequest, field: RequestField, kind: Kind): ForwardRequest {
  const copy = cloneRequest(request);
  const value = copy[field];
  return value === undefined ? copy : { ...copy, [field]: kind.make(value) };
}

/** Every part for one dtype; throws Problem on the first difference. Returns what was declined. */
async function checkCase(backend: GruBackend, c: RandomCase, kinds: readonly Kind[], seed: number): Promise<string[]> {
  const { spec, weights, request } = c;
  const H = spec.units;
  const declined: string[] = [];
  const fields = REQUEST_FIELDS.filter((f) => request[f] !== undefined);
  const prepared = await backend.prepare(spec, weights);
  try {
    const paths = pathsOf(prepared);
    const plain = new Map<ForwardPath, ForwardResult>();
    for (const path of paths) plain.set(path, await runPath(backend, prepared, path, cloneRequest(request)));
    const againstPlain = async (layer: PreparedGru, what: string) => {
      for (const path of paths) {
        const got = await attempt(`${path} ${what}`, () => runPath(backend, layer, path, cloneRequest(request)));
        fail(sameResult(got, plain.get(path)!, request, H, `${path} ${what}`));
      }
    };

    // Weights: prepare, prepareSync, and setWeights over other weights.
    const other = makeCase({ B: 1, T: 1, D: spec.inputDim, H, useBias: spec.useBias, resetAfter: spec.resetAfter, dtype: spec.dtype }, seed + 1).weights;
    for (const kind of kinds) {
      const label = (where: string) => `after ${where} given weights as ${kind.name(weights.kernel)}`;
      const prepares: [string, () => PreparedGru | Promise<PreparedGru>][] = [['prepare', () => backend.prepare(spec, weightsAs(weights, kind))]];
      if (backend.prepareSync) prepares.push(['prepareSync', () => backend.prepareSync!(spec, weightsAs(weights, kind))]);
      for (const [where, make] of prepares) {
        const layer = await attempt(`${where} given weights as ${kind.name(weights.kernel)}`, make);
        try {
          await againstPlain(layer, label(where));
        } finally {
          layer.dispose();
        }
      }
      const layer = await backend.prepare(spec, other);
      try {
        // A first call, so a backend that uploads or packs lazily has done so before the update.
        await layer.forward(cloneRequest(request));
        await attempt(`setWeights given weights as ${kind.name(weights.kernel)}`, () => layer.setWeights(weightsAs(weights, kind)));
        await againstPlain(layer, label('setWeights'));
      } finally {
        layer.dispose();
      }
    }

    // The request's arrays, one at a time, on every path.
    for (const field of fields) {
      for (const kind of kinds) {
        for (const path of paths) {
          const what = `${path} given ${field} as ${kind.name(request[field]!)}`;
          const got = await attempt(what, () => runPath(backend, prepared, path, requestWith(request, field, kind)));
          fail(sameResult(got, plain.get(path)!, request, H, what));
        }
      }
    }

    // Bound calls: the request's arrays and the outputs the backend fills.
    if (prepared.bindForward) {
      const Type = spec.dtype === 'float64' ? Float64Array : Float32Array;
      const sizes = { output: request.returnSequences ? request.batch * request.timesteps * H : request.batch * H, lastState: request.batch * H };
      const runBound = (req: ForwardRequest, outputs: ForwardResult): ForwardResult => {
        const bound = prepared.bindForward!({ ...req, keepForBackward: false, output: outputs.output, lastState: outputs.lastState });
        try {
          bound.run();
        } finally {
          bound.dispose();
        }
        return outputs;
      };
      const fresh = (): ForwardResult => ({ output: new Type(sizes.output).fill(Number.NaN), lastState: new Type(sizes.lastState).fill(Number.NaN) });
      let want: ForwardResult | undefined;
      try {
        want = runBound(cloneRequest(request), fresh());
      } catch (err) {
        if (!(err instanceof UnsupportedCallError)) throw err;
        declined.push(`bindForward (${err.reason})`);
      }
      if (want) {
        for (const field of [...fields, 'output', 'lastState'] as const) {
          for (const kind of kinds) {
            let req = cloneRequest(request);
            const outputs = fresh();
            let name: string;
            if (field === 'output' || field === 'lastState') {
              outputs[field] = kind.make(outputs[field]);
              name = kind.name(outputs[field]);
            } else {
              req = requestWith(request, field, kind);
              name = kind.name(request[field]!);
            }
            const what = `bindForward().run() given ${field} as ${name}`;
            const got = await attempt(what, () => runBound(req, outputs));
            fail(sameResult(got, want, request, H, what));
          }
        }
      }
    }

    // backward: its output gradients, and the forward arrays it kept.
    if (prepared.backward) {
      const trains = backend.supportsBackward ? backend.supportsBackward(spec) : 'the backend has no supportsBackward()';
      const call = trains === true ? backend.supports(spec, callInfoOf(request, { backward: true, training: true })) : trains;
      if (call !== true) declined.push(`backward (${call})`);
      else await checkBackward(backend, prepared, c, fields, kinds);
    }
  } finally {
    prepared.dispose();
  }
  return declined;
}

async function checkBackward(
  backend: GruBackend,
  prepared: PreparedGru,
  c: RandomCase,
  fields: readonly RequestField[],
  kinds: readonly Kind[],
): Promise<void> {
  const { spec, request } = c;
  const { batch: B, timesteps: T, returnSequences } = request;
  const H = spec.units;
  const Type = spec.dtype === 'float64' ? Float64Array : Float32Array;
  const filled = (n: number, f: (i: number) => number) => {
    const a = new Type(n);
    for (let i = 0; i < n; i++) a[i] = f(i);
    return a;
  };
  const grads: Required<Pick<BackwardRequest, 'dOutput' | 'dLastState'>> = {
    dOutput: filled(returnSequences ? B * T * H : B * H, (i) => Math.sin(i + 1) * 0.9),
    dLastState: filled(B * H, (i) => Math.cos(i) * 0.7),
  };
  const paths: ('backward' | 'backwardSync')[] = prepared.backwardSync ? ['backward', 'backwardSync'] : ['backward'];
  // A fresh forward pass for each backward call: a backend may keep only its latest.
  const run = async (path: 'backward' | 'backwardSync', forwardReq: ForwardRequest, req: BackwardRequest): Promise<GruGradients> => {
    const kept = await prepared.forward({ ...forwardReq, keepForBackward: true });
    const g = path === 'backward' ? await prepared.backward!(kept.saved, req) : prepared.backwardSync!(kept.saved, req);
    return checkGradients(backend.name, spec, request, g);
  };
  const plain = new Map<string, GruGradients>();
  for (const path of paths) plain.set(path, await run(path, cloneRequest(request), { ...grads }));
  for (const field of ['dOutput', 'dLastState'] as const) {
    for (const kind of kinds) {
      for (const path of paths) {
        const what = `${path} given ${field} as ${kind.name(grads[field])}`;
        const got = await attempt(what, () => run(path, cloneRequest(request), { ...grads, [field]: kind.make(grads[field]) }));
        fail(sameGradients(got, plain.get(path)!, what));
      }
    }
  }
  for (const field of fields) {
    for (const kind of kinds) {
      const what = `backward after forward (keepForBackward) given ${field} as ${kind.name(request[field]!)}`;
      const got = await attempt(what, () => run('backward', requestWith(request, field, kind), { ...grads }));
      fail(sameGradients(got, plain.get('backward')!, what));
    }
  }
}

/** The dtypes a backend computes (float32 first), and supports()'s reason for each it declines. */
function dtypesOf(backend: GruBackend): { dtypes: ('float32' | 'float64')[]; declined: string[] } {
  const dtypes: ('float32' | 'float64')[] = [];
  const declined: string[] = [];
  for (const dtype of ['float32', 'float64'] as const) {
    const probe = makeCase({ B: 1, T: 1, D: 3, H: 5, dtype });
    const ok = backend.supports(probe.spec, callInfoOf(probe.request));
    if (ok === true) dtypes.push(dtype);
    else declined.push(`${dtype} (supports(): ${ok})`);
  }
  return { dtypes, declined };
}

/** The contract check: see the top of this file. */
export async function checkForeignArrays(backend: GruBackend, seed = 11): Promise<CaseOutcome> {
  const opened = openOtherRealm();
  const notRun: string[] = [];
  const kinds: Kind[] = [];
  if (typeof opened === 'string') notRun.push(`arrays of another realm (${opened})`);
  else kinds.push({ name: (a) => `a ${typeName(a)} of another realm (${opened.how})`, make: (a) => copyInto(opened.realm, a) });
  kinds.push({ name: (a) => `a ${typeName(a)} subclass whose @@iterator, slice(), subarray() and @@species answer other values`, make: asHostileSubclass });
  try {
    const { dtypes, declined } = dtypesOf(backend);
    if (dtypes.length === 0) return { status: 'unsupported', detail: `supports() declines every call tried: ${declined.join('; ')}` };
    notRun.push(...declined);
    let ran = 0;
    const reasons: string[] = [];
    for (const dtype of dtypes) {
      const picked = pick(backend, dtype, seed);
      if (typeof picked === 'string') {
        reasons.push(picked);
        continue;
      }
      const label = describeCaseOptions(picked.options);
      try {
        const skipped = await checkCase(backend, picked.c, kinds, seed);
        for (const d of [...picked.declined, ...skipped]) notRun.push(`${dtype} ${d}`);
        ran++;
      } catch (err) {
        if (err instanceof Problem) {
          return {
            status: 'failed',
            detail: `${err.message}: read caller arrays as core checked them (core's copyFloat32, asFloats, copyMask) (case: ${label})`,
          };
        }
        // The plain call: refused though supports() accepted it is a decline here (other checks judge it).
        if (err instanceof UnsupportedCallError) {
          reasons.push(`${label}: ${err.reason}`);
          continue;
        }
        return { status: 'failed', detail: `threw ${(err as Error).name}: ${(err as Error).message} with plain arrays (case: ${label})` };
      }
    }
    if (ran === 0) return { status: 'unsupported', detail: reasons.join('; ') };
    for (const r of reasons) notRun.push(r);
    return notRun.length ? { status: 'passed', ranOn: backend.name, detail: `not checked: ${notRun.join('; ')}` } : { status: 'passed', ranOn: backend.name };
  } finally {
    if (typeof opened !== 'string') opened.close();
  }
}
