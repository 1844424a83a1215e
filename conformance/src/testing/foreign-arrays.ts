import {
  checkGradients,
  UnsupportedCallError,
  type BackwardRequest,
  type ForwardRequest,
  type ForwardResult,
  type GruBackend,
  type GruGradients,
  type GruWeights,
  type PreparedGru,
} from '@gru/core';
import type { CaseOutcome } from '../run-case.js';
import { bitwiseDifference } from './bitwise.js';
import { cloneRequest, compareResult, pathsOf, runPath, type ForwardPath, type ResultMatch } from './against-reference.js';
import { backwardGate } from './call-info.js';
import { filled } from './read-once-more.js';
import { describeCaseOptions, makeCase, type CaseOptions, type RandomCase } from './make-case.js';
import { INITIAL_STATE, MASK, pickInputs, type OptionalInput, type PickedInputs } from './pick-inputs.js';

/**
 * contract:foreign-arrays: core's checks accept any genuine typed array of the right type and
 * length, so a backend is handed arrays that `instanceof`, `Float32Array.from(a)`, `a.slice()` or
 * `a.subarray()` misread: another realm's (node:vm, an iframe: no `instanceof Float32Array`), and
 * subclasses whose @@iterator, slice(), subarray() and @@species answer other values. A backend
 * must read them as core checked them (core's copyFloat32 / asFloats / copyMask copy from the
 * engine's own slots), so every call given one answers bit for bit what the same backend answers
 * for plain arrays given to the same method: weights (prepare, prepareSync, setWeights), x,
 * initialState and mask (on forward and forwardSync), bound calls (bindForward, its outputs too),
 * backward's and backwardSync's dOutput and dLastState, and x, initialState and mask kept for
 * backward (by forward, for backward, or for backwardSync where backward refuses). Dropout masks are not made foreign: core makes them itself.
 * A plain-array call that refuses (UnsupportedCallError) after supports() accepted it, an input or
 * dtype supports() declines, and backward where the backend does not train are named in the
 * passing outcome's detail ("not checked: ..."). Where supports() takes a mask and initialState
 * each alone but not together (or mask=any alone, but only right-padded masks with initialState),
 * the mask is also run alone (so a misread mask fails), the pair is named, and what that run could
 * not check is named as such; a mask=any supports() takes nowhere is named beside a right-padded
 * mask that ran.
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

type TypeName = 'Float32Array' | 'Float64Array' | 'Uint8Array';

/**
 * The array's type, from the engine's tag (the same in every realm: another realm's array is no
 * `instanceof` this realm's constructor). Throws for anything but the three types core accepts.
 */
function typeName(a: FixtureArray): TypeName {
  const tag = Object.prototype.toString.call(a).slice(8, -1);
  if (tag === 'Float32Array' || tag === 'Float64Array' || tag === 'Uint8Array') return tag;
  throw new TypeError(`expected a Float32Array, Float64Array or Uint8Array (of any realm); received ${tag}`);
}

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
const hostileValue = (name: TypeName) => (name === 'Uint8Array' ? 0 : 9);

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
    Hostile = hostileClass(Base, hostileValue(name));
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

/** A plain-array call (a baseline) threw: the detail, whole. */
class PlainThrew extends Error {}

/** prepare with plain arrays refused the call supports() accepted: nothing of this dtype can be checked. */
class PrepareRefused extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Runs a call given foreign arrays: any throw is a failure, since `baseline` (what was called
 * with plain arrays instead, and answered) did not throw.
 */
async function attempt<T>(what: string, body: () => T | Promise<T>, baseline = 'the same call with plain arrays'): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof Problem) throw err;
    throw new Problem(`${what} threw ${(err as Error)?.name}: ${(err as Error)?.message} (${baseline} did not)`);
  }
}

/**
 * Runs a call with plain arrays, the baseline of the foreign ones: a refusal (UnsupportedCallError,
 * though supports() accepted the call; not judged here: the core and sweep checks judge forward's,
 * forwardSync's, setWeights' and backward's, nothing in the kit judges bindForward's on a non-empty
 * call) is named in `declined` as
 * `what (refused: reason)` and answers undefined; any other throw fails the check, naming the call.
 */
async function baseline<T>(what: string, declined: string[], body: () => T | Promise<T>): Promise<T | undefined> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof UnsupportedCallError) {
      declined.push(`${what} (refused: ${err.reason})`);
      return undefined;
    }
    throw new PlainThrew(`${what} threw ${(err as Error)?.name}: ${(err as Error)?.message} with plain arrays`);
  }
}

/**
 * What every answer given foreign arrays is held to: the plain arrays' answer, bit for bit (a
 * forward result through compareResult, whose `got` may be of any realm or subclass: bound outputs).
 */
const PLAIN = 'the same call with plain arrays';
const SAME_BITS: ResultMatch = { bitwiseAgainst: PLAIN };

function sameGradients(got: GruGradients, want: GruGradients, what: string): string | undefined {
  for (const field of ['dx', 'dInitialState', 'dKernel', 'dRecurrentKernel', 'dBias'] as const) {
    const [g, w] = [got[field], want[field]];
    if (g === null || w === null) {
      if (g !== w) return `${what}: ${field} is ${g === null ? 'null' : 'an array'} (with plain arrays ${w === null ? 'null' : 'an array'})`;
      continue;
    }
    const problem = bitwiseDifference(g, w, PLAIN);
    if (problem) return `${what}: ${field} ${problem}`;
  }
  return undefined;
}

const fail = (problem: string | undefined) => {
  if (problem) throw new Problem(problem);
};

/** The optional inputs the check's arrays are made foreign in (dropout masks: core makes them itself). */
const FOREIGN_INPUTS: readonly OptionalInput[] = [INITIAL_STATE, MASK];

/** The optional inputs a case gives (for naming a run made with an input alone). */
function aloneInputs(options: CaseOptions): string {
  const mask = options.mask && options.mask !== 'none' ? (options.mask === true ? 'mask' : `mask (${options.mask})`) : '';
  const given = [mask, options.initialState ? 'initialState' : ''].filter(Boolean);
  return given.join(' and ') || 'no optional input';
}

type RequestField = 'x' | 'initialState' | 'mask';
const REQUEST_FIELDS: readonly RequestField[] = ['x', 'initialState', 'mask'];

/**
 * The call the check runs in `dtype` (pickInputs: initialState, then mask=any else a right-padded
 * mask, each where supports() takes it beside those taken), the inputs it left out, named with
 * supports()'s reason, and a mask supports() takes alone but not beside initialState, to run
 * alone (`alone`); or why none runs (supports()'s answer to the plainest call).
 */
function pick(backend: GruBackend, dtype: 'float32' | 'float64', seed: number): PickedInputs | string {
  const picked = pickInputs(backend, { B: 3, T: 5, D: 4, H: 7, returnSequences: true, dtype, seed }, FOREIGN_INPUTS);
  return typeof picked === 'string' ? `${dtype} (supports(): ${picked})` : picked;
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
async function checkCase(backend: GruBackend, c: RandomCase, kinds: readonly Kind[], seed: number, weightsToo = true): Promise<string[]> {
  const { spec, weights, request } = c;
  const H = spec.units;
  const declined: string[] = [];
  const fields = REQUEST_FIELDS.filter((f) => request[f] !== undefined);
  let prepared: PreparedGru;
  try {
    prepared = await backend.prepare(spec, weights);
  } catch (err) {
    if (err instanceof UnsupportedCallError) throw new PrepareRefused(err.reason);
    throw new PlainThrew(`prepare threw ${(err as Error)?.name}: ${(err as Error)?.message} with plain arrays`);
  }
  try {
    // The plain arrays' answer on each path (a path that refuses them is named, and not checked).
    const plainOf = async (layer: PreparedGru, where: string, only?: Map<ForwardPath, ForwardResult>) => {
      const answers = new Map<ForwardPath, ForwardResult>();
      // A path the first layer refused is named once, not again for each later layer.
      for (const path of pathsOf(layer).filter((p) => !only || only.has(p))) {
        const got = await baseline(`${path}${where}`, declined, () => runPath(backend, layer, path, cloneRequest(request)));
        if (got) answers.set(path, got);
      }
      return answers;
    };
    const plain = await plainOf(prepared, '');
    const againstPlain = async (layer: PreparedGru, want: Map<ForwardPath, ForwardResult>, what: string, baselineWas: string) => {
      for (const [path, answer] of want) {
        const got = await attempt(`${path} ${what}`, () => runPath(backend, layer, path, cloneRequest(request)), `${path} ${baselineWas}`);
        fail(compareResult(got, answer, request, H, SAME_BITS, `${path} ${what}`));
      }
    };

    // Weights: prepare, prepareSync, and setWeights over other weights, each against the same
    // method given the plain weights (once a dtype: not again for an input run alone).
    if (weightsToo) await checkWeights();
    async function checkWeights() {
      const other = makeCase({ B: 1, T: 1, D: spec.inputDim, H, useBias: spec.useBias, resetAfter: spec.resetAfter, dtype: spec.dtype }, seed + 1).weights;
      const syncPlain = backend.prepareSync && (await baseline('prepareSync', declined, () => backend.prepareSync!(spec, weights)));
      // A layer of the other weights with a first call made, so a backend that uploads or packs
      // lazily has done so before the update; its setWeights is then given `w`.
      const updated = async (w: GruWeights, what: string) => {
        const layer = await backend.prepare(spec, other);
        try {
          await layer.forward(cloneRequest(request));
          await attempt(what, () => layer.setWeights(w), 'setWeights given plain arrays');
        } catch (err) {
          layer.dispose();
          throw err;
        }
        return layer;
      };
      let setPlain: PreparedGru | undefined;
      try {
        // The baseline, each call named as itself (a refusal of the setup calls is not setWeights').
        const before = ' (the layer setWeights is then called on)';
        const layer = await baseline(`prepare${before}`, declined, () => backend.prepare(spec, other));
        if (layer) {
          let ok = false;
          try {
            ok =
              (await baseline(`forward${before}`, declined, () => layer.forward(cloneRequest(request)))) !== undefined &&
              (await baseline('setWeights', declined, async () => {
                await layer.setWeights(weights);
                return true;
              })) === true;
          } finally {
            if (ok) setPlain = layer;
            else layer.dispose();
          }
        }
        const syncWant = syncPlain ? await plainOf(syncPlain, ' after prepareSync', plain) : undefined;
        const setWant = setPlain ? await plainOf(setPlain, ' after setWeights', plain) : undefined;
        for (const kind of kinds) {
          const given = `given weights as ${kind.name(weights.kernel)}`;
          const makers: [string, Map<ForwardPath, ForwardResult> | undefined, () => Promise<PreparedGru>][] = [
            ['prepare', plain, () => attempt(`prepare ${given}`, () => backend.prepare(spec, weightsAs(weights, kind)), 'prepare given plain arrays')],
            [
              'prepareSync',
              syncWant,
              () => attempt(`prepareSync ${given}`, () => backend.prepareSync!(spec, weightsAs(weights, kind)), 'prepareSync given plain arrays'),
            ],
            ['setWeights', setWant, () => updated(weightsAs(weights, kind), `setWeights ${given}`)],
          ];
          for (const [where, want, make] of makers) {
            if (!want) continue;
            const layer = await make();
            try {
              await againstPlain(layer, want, `after ${where} ${given}`, `after ${where} given plain arrays`);
            } finally {
              layer.dispose();
            }
          }
        }
      } finally {
        syncPlain?.dispose();
        setPlain?.dispose();
      }
    }

    // The request's arrays, one at a time, on every path.
    for (const field of fields) {
      for (const kind of kinds) {
        for (const [path, want] of plain) {
          const what = `${path} given ${field} as ${kind.name(request[field]!)}`;
          const got = await attempt(what, () => runPath(backend, prepared, path, requestWith(request, field, kind)));
          fail(compareResult(got, want, request, H, SAME_BITS, what));
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
      const want = await baseline('bindForward', declined, () => runBound(cloneRequest(request), fresh()));
      if (want) {
        for (const field of [...fields, 'output', 'lastState'] as const) {
          for (const kind of kinds) {
            let req = cloneRequest(request);
            const outputs = fresh();
            let name: string;
            if (field === 'output' || field === 'lastState') {
              // Named from the plain array it copies (the layer's dtype).
              name = kind.name(outputs[field]);
              outputs[field] = kind.make(outputs[field]);
            } else {
              req = requestWith(request, field, kind);
              name = kind.name(request[field]!);
            }
            const what = `bindForward().run() given ${field} as ${name}`;
            const got = await attempt(what, () => runBound(req, outputs));
            fail(compareResult(got, want, request, H, SAME_BITS, what));
          }
        }
      }
    }

    // backward: its output gradients, and the forward arrays it kept.
    const gate = backwardGate(backend, prepared, spec, request);
    if (typeof gate === 'string') declined.push(`backward (${gate})`);
    else if (gate === true) await checkBackward(backend, prepared, c, fields, kinds, declined);
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
  declined: string[],
): Promise<void> {
  const { spec, request } = c;
  const { batch: B, timesteps: T, returnSequences } = request;
  const H = spec.units;
  const Type = spec.dtype === 'float64' ? Float64Array : Float32Array;
  const grads: Required<Pick<BackwardRequest, 'dOutput' | 'dLastState'>> = {
    dOutput: filled(Type, returnSequences ? B * T * H : B * H, (i) => Math.sin(i + 1) * 0.9),
    dLastState: filled(Type, B * H, (i) => Math.cos(i) * 0.7),
  };
  const paths: ('backward' | 'backwardSync')[] = prepared.backwardSync ? ['backward', 'backwardSync'] : ['backward'];
  // A fresh forward pass for each backward call: a backend may keep only its latest.
  const run = async (path: 'backward' | 'backwardSync', forwardReq: ForwardRequest, req: BackwardRequest): Promise<GruGradients> => {
    const kept = await prepared.forward({ ...forwardReq, keepForBackward: true });
    const g = path === 'backward' ? await prepared.backward!(kept.saved, req) : prepared.backwardSync!(kept.saved, req);
    return checkGradients(backend.name, spec, request, g);
  };
  const plain = new Map<'backward' | 'backwardSync', GruGradients>();
  for (const path of paths) {
    // The baseline, each call named as itself: a forward that refuses to keep is not backward.
    const kept = await baseline('forward({ keepForBackward: true })', declined, () => prepared.forward({ ...cloneRequest(request), keepForBackward: true }));
    if (!kept) return;
    const got = await baseline(path, declined, async () => {
      const g = path === 'backward' ? await prepared.backward!(kept.saved, { ...grads }) : prepared.backwardSync!(kept.saved, { ...grads });
      return checkGradients(backend.name, spec, request, g);
    });
    if (got) plain.set(path, got);
  }
  for (const field of ['dOutput', 'dLastState'] as const) {
    for (const kind of kinds) {
      for (const [path, want] of plain) {
        const what = `${path} given ${field} as ${kind.name(grads[field])}`;
        const got = await attempt(what, () => run(path, cloneRequest(request), { ...grads, [field]: kind.make(grads[field]) }));
        fail(sameGradients(got, want, what));
      }
    }
  }
  // The arrays kept for backward: through backward, or backwardSync where backward refused.
  const keptPath = plain.has('backward') ? 'backward' : 'backwardSync';
  const want = plain.get(keptPath);
  if (!want) return;
  for (const field of fields) {
    for (const kind of kinds) {
      const what = `${keptPath} after forward (keepForBackward) given ${field} as ${kind.name(request[field]!)}`;
      const got = await attempt(what, () => run(keptPath, requestWith(request, field, kind), { ...grads }));
      fail(sameGradients(got, want, what));
    }
  }
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
    let ran = 0;
    const reasons: string[] = [];
    const parts: string[] = [];
    for (const dtype of ['float32', 'float64'] as const) {
      // supports() is asked about the shape that runs.
      const picked = pick(backend, dtype, seed);
      if (typeof picked === 'string') {
        reasons.push(picked);
        continue;
      }
      let label = describeCaseOptions(picked.options);
      try {
        const skipped = await checkCase(backend, picked.c, kinds, seed);
        // An input taken only alone: its request, bound and kept-for-backward parts, run again with it alone.
        for (const alone of picked.alone) {
          label = describeCaseOptions(alone.options);
          // What that run could not check went unchecked only with the input alone: say so.
          const inRun = `in the run with ${aloneInputs(alone.options)} alone`;
          try {
            for (const d of await checkCase(backend, alone.c, kinds, seed, false)) skipped.push(`${d} ${inRun}`);
          } catch (e) {
            if (!(e instanceof PrepareRefused)) throw e;
            skipped.push(`prepare (refused: ${e.reason}) ${inRun}`);
          }
        }
        // The inputs left out, what the runs alone left out of theirs, then what the calls refused.
        const declined = [...picked.notChecked, ...picked.alone.flatMap((a) => a.notChecked)];
        for (const d of new Set([...declined, ...skipped])) parts.push(`${dtype} ${d}`);
        ran++;
      } catch (err) {
        if (err instanceof Problem) {
          return {
            status: 'failed',
            detail: `${err.message}: read caller arrays as core checked them (core's copyFloat32, asFloats, copyMask) (case: ${label})`,
          };
        }
        if (err instanceof PlainThrew) return { status: 'failed', detail: `${err.message} (case: ${label})` };
        // prepare refused plain arrays though supports() accepted the call: nothing of this dtype ran (the core checks judge prepare's refusal).
        if (err instanceof PrepareRefused) {
          reasons.push(`${dtype} (prepare refused: ${err.reason}; case: ${label})`);
          continue;
        }
        return { status: 'failed', detail: `threw ${(err as Error).name}: ${(err as Error).message} (case: ${label})` };
      }
    }
    if (ran === 0) return { status: 'unsupported', detail: `every call tried is declined: ${reasons.join('; ')}` };
    notRun.push(...reasons, ...parts);
    return notRun.length ? { status: 'passed', ranOn: backend.name, detail: `not checked: ${notRun.join('; ')}` } : { status: 'passed', ranOn: backend.name };
  } finally {
    if (typeof opened !== 'string') opened.close();
  }
}
