import { typeError, valueError } from '../errors.js';
import type { BackwardRequest, BoundForwardRequest, ForwardRequest, GruSpec, GruWeights } from './types.js';

/**
 * The one check of what a backend is handed (forward and backward requests, weights, the spec),
 * shared by every gru backend and exported for third-party ones, so that all of them refuse the
 * same inputs with the same words. Call it on the copy core's read helpers made (readRequest,
 * readWeights, readBackwardRequest, readSpec): a check of the caller's object and a use of a second
 * reading could see two different values.
 *
 * A wrong type is a TypeError, a wrong length or count a ValueError (GruError's `kerasType`, as
 * Keras raises them); each message names `where` (backend and operation), the argument, what was
 * expected and what was received (its type and value).
 */

/** Whether float arrays must be of the layer's dtype, or either float type (the backend converts). */
export interface RequestCheckOptions {
  /**
   * Accept a Float32Array or a Float64Array wherever the layer expects float values (x,
   * initialState, dropout masks, weights, bound outputs), whatever the spec's dtype: for a backend
   * that converts what it copies. Default false: arrays must be of the spec's dtype.
   */
  anyFloat?: boolean;
}

/** What checkForwardRequest vouches for: the counts buffers may be sized from. */
export interface CheckedForward {
  batch: number;
  timesteps: number;
}

/** What checkBackwardRequest vouches for. */
export interface CheckedBackward extends CheckedForward {
  /** The request's `inputGradients`, defaulted to true. */
  inputGradients: boolean;
  /** Whether a `dLastState` is given (null and undefined are no gradient). */
  hasDLastState: boolean;
}

type FloatName = 'Float32Array' | 'Float64Array';

// The engine's own answers for a typed array, which neither a Proxy (not a view at all) nor a
// subclass overriding `length` can fake: the name of its element type, and its length.
const TypedArrayProto = Object.getPrototypeOf(Uint8Array.prototype) as object;
const tagOf = Object.getOwnPropertyDescriptor(TypedArrayProto, Symbol.toStringTag)?.get as (this: unknown) => string | undefined;
const lengthOf = Object.getOwnPropertyDescriptor(TypedArrayProto, 'length')?.get as (this: unknown) => number;

/** The element type of a genuine typed array (`Float32Array`, `Uint8Array`...), else undefined. */
export function typedArrayName(value: unknown): string | undefined {
  return ArrayBuffer.isView(value) ? tagOf.call(value) : undefined;
}

/** The number of values a genuine typed array holds (the engine's count, not an overridable `length`). */
export function typedArrayLength(value: ArrayBufferView): number {
  return lengthOf.call(value);
}

/**
 * A received value for an error message, its type and value: `number NaN`, `string "5"`,
 * `Float64Array(12)`, `Array(3)`, `null`, `object Foo`. Never throws (a Proxy may trap every read).
 */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  switch (typeof value) {
    case 'string': {
      const s = JSON.stringify(value);
      return `string ${s.length > 42 ? `${s.slice(0, 40)}…"` : s}`;
    }
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'bigint':
      return `bigint ${String(value)}n`;
    case 'symbol':
      return `symbol ${value.description ?? ''}`;
    case 'function':
      return `function ${value.name || '(anonymous)'}`;
  }
  const tag = typedArrayName(value);
  if (tag) return `${tag}(${lengthOf.call(value)})`;
  try {
    if (Array.isArray(value)) return `Array(${value.length})`;
    const name = (value as object).constructor?.name;
    if (typeof name === 'string' && /^(Big)?(Int|Uint|Float)(8|16|32|64)(Clamped)?Array$/.test(name)) {
      return `object that claims to be a ${name} but is not one (a Proxy or a look-alike)`;
    }
    return typeof name === 'string' && name !== 'Object' ? `object ${name}` : 'object';
  } catch {
    return 'object (its properties could not be read)';
  }
}

/** Refuses a non-object (null, a number, an array...) before any field of it is read. */
export function checkObject(value: unknown, name: string, expected: string, where: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) {
    throw typeError(`${where}: \`${name}\` must be an object ${expected}; received ${describeValue(value)}.`);
  }
}

/** A count (batch, timesteps): an integer >= `min`. A non-number is a TypeError, a bad number a ValueError. */
export function checkCount(value: unknown, name: string, where: string, min = 0): number {
  const expected = min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
  if (typeof value !== 'number') throw typeError(`${where}: \`${name}\` must be ${expected}; received ${describeValue(value)}.`);
  if (!Number.isInteger(value) || value < min) throw valueError(`${where}: \`${name}\` must be ${expected}; received ${describeValue(value)}.`);
  return value;
}

/**
 * Throws unless `value` is a genuine typed array of one of `types` holding `length` values;
 * `shape` says where the length comes from (`[batch, units] = [2, 8]`).
 */
export function checkArray(value: unknown, name: string, types: readonly string[], length: number, shape: string, where: string): void {
  const tag = typedArrayName(value);
  const expected = `${types.join(' or ')} of ${length} values (${shape})`;
  if (tag === undefined || !types.includes(tag)) throw typeError(`${where}: \`${name}\` must be a ${expected}; received ${describeValue(value)}.`);
  const n = lengthOf.call(value);
  // A subclass may answer another length than it holds; code that loops on `.length` would then read past it.
  if ((value as ArrayLike<number>).length !== n) {
    throw typeError(
      `${where}: \`${name}\` must be a plain ${tag}: its \`length\` reads ${String((value as ArrayLike<number>).length)} but it holds ${n} values.`,
    );
  }
  if (n !== length) throw valueError(`${where}: \`${name}\` must be a ${expected}; received ${tag}(${n}).`);
}

function floatTypes(spec: GruSpec, options: RequestCheckOptions | undefined): readonly FloatName[] {
  if (options?.anyFloat) return ['Float32Array', 'Float64Array'];
  return spec.dtype === 'float64' ? ['Float64Array'] : ['Float32Array'];
}

/**
 * Checks a spec's fields a backend sizes from (units, inputDim, dtype, flags); activations are each
 * backend's own question. Call it on readSpec's copy.
 */
export function checkSpec(spec: GruSpec, where: string): void {
  checkObject(spec, 'spec', '{units, inputDim, activation, ...}', where);
  checkCount(spec.units, 'spec.units', where, 1);
  // Keras builds a layer on inputs with no features (their output depends on the bias alone).
  checkCount(spec.inputDim, 'spec.inputDim', where);
  if (spec.dtype !== 'float32' && spec.dtype !== 'float64') {
    throw valueError(`${where}: \`spec.dtype\` must be 'float32' or 'float64'; received ${describeValue(spec.dtype)}.`);
  }
  for (const flag of ['useBias', 'resetAfter'] as const) {
    if (typeof spec[flag] !== 'boolean') throw typeError(`${where}: \`spec.${flag}\` must be a boolean; received ${describeValue(spec[flag])}.`);
  }
}

/**
 * Checks weights (read once with readWeights) against a checked spec: `kernel [inputDim, 3*units]`,
 * `recurrentKernel [units, 3*units]`, `bias [3*units]` or `[2, 3*units]` (resetAfter), null
 * (or absent) without useBias.
 */
export function checkWeights(spec: GruSpec, weights: GruWeights, where: string, options?: RequestCheckOptions): void {
  checkObject(weights, 'weights', '{kernel, recurrentKernel, bias}', where);
  const { units: H, inputDim: D } = spec;
  const types = floatTypes(spec, options);
  checkArray(weights.kernel, 'weights.kernel', types, D * 3 * H, `[inputDim, 3*units] = [${D}, ${3 * H}]`, where);
  checkArray(weights.recurrentKernel, 'weights.recurrentKernel', types, H * 3 * H, `[units, 3*units] = [${H}, ${3 * H}]`, where);
  if (spec.useBias) {
    const shape = spec.resetAfter ? `[2, 3*units] = [2, ${3 * H}]` : `[3*units] = [${3 * H}]`;
    checkArray(weights.bias, 'weights.bias', types, (spec.resetAfter ? 2 : 1) * 3 * H, shape, where);
  } else if (weights.bias != null) {
    throw valueError(`${where}: \`weights.bias\` must be null when spec.useBias is false; received ${describeValue(weights.bias)}.`);
  }
}

function checkMaskList(masks: unknown, name: string, types: readonly string[], length: number, shape: string, where: string): void {
  if (masks === undefined) return;
  if (!Array.isArray(masks)) throw typeError(`${where}: \`${name}\` must be an array of 3 masks (gates z, r, h); received ${describeValue(masks)}.`);
  if (masks.length !== 3) throw valueError(`${where}: \`${name}\` must be an array of 3 masks (gates z, r, h); received Array(${masks.length}).`);
  for (let i = 0; i < 3; i++) checkArray(masks[i], `${name}[${i}]`, types, length, shape, where);
}

function checkFlag(value: unknown, name: string, where: string): void {
  if (value !== undefined && typeof value !== 'boolean') throw typeError(`${where}: \`${name}\` must be a boolean; received ${describeValue(value)}.`);
}

/**
 * Checks a forward request (read once with readRequest; with `bound`, a BoundForwardRequest read
 * with readRequest(req, true), whose `output` and `lastState` are checked too) against a checked
 * spec, and returns the counts to size buffers from. Example, in a third-party backend:
 *
 * ```ts
 * forwardSync(request: ForwardRequest) {
 *   const req = readRequest(request);
 *   const { batch, timesteps } = checkForwardRequest(this.spec, req, 'mybackend forward');
 *   // size buffers from batch and timesteps; read arrays only from req
 * }
 * ```
 */
export function checkForwardRequest(spec: GruSpec, req: ForwardRequest, where: string, options?: RequestCheckOptions & { bound?: boolean }): CheckedForward {
  checkObject(req, 'request', '{x, batch, timesteps, ...}', where);
  const B = checkCount(req.batch, 'batch', where);
  const T = checkCount(req.timesteps, 'timesteps', where);
  const { units: H, inputDim: D } = spec;
  const types = floatTypes(spec, options);
  checkArray(req.x, 'x', types, B * T * D, `[batch, timesteps, inputDim] = [${B}, ${T}, ${D}]`, where);
  if (req.initialState !== undefined) checkArray(req.initialState, 'initialState', types, B * H, `[batch, units] = [${B}, ${H}]`, where);
  if (req.mask !== undefined) checkArray(req.mask, 'mask', ['Uint8Array'], B * T, `[batch, timesteps] = [${B}, ${T}]`, where);
  checkMaskList(req.inputDropoutMasks, 'inputDropoutMasks', types, B * D, `[batch, inputDim] = [${B}, ${D}]`, where);
  checkMaskList(req.recurrentDropoutMasks, 'recurrentDropoutMasks', types, B * H, `[batch, units] = [${B}, ${H}]`, where);
  checkFlag(req.goBackwards, 'goBackwards', where);
  checkFlag(req.returnSequences, 'returnSequences', where);
  checkFlag(req.keepForBackward, 'keepForBackward', where);
  if (options?.bound) {
    const b = req as BoundForwardRequest;
    if (b.keepForBackward) throw valueError(`${where}: \`keepForBackward\` must be false or absent: a bound call keeps nothing for backward.`);
    if (b.returnSequences) checkArray(b.output, 'output', types, B * T * H, `[batch, timesteps, units] = [${B}, ${T}, ${H}]`, where);
    else checkArray(b.output, 'output', types, B * H, `[batch, units] = [${B}, ${H}]`, where);
    checkArray(b.lastState, 'lastState', types, B * H, `[batch, units] = [${B}, ${H}]`, where);
  }
  return { batch: B, timesteps: T };
}

/**
 * Checks a backward request (read once with readBackwardRequest) against the forward call it
 * differentiates (its checked batch, timesteps and returnSequences). Gradients may be
 * Float32Array or Float64Array whatever the layer's dtype (a loss may be computed in float64).
 */
export function checkBackwardRequest(
  spec: GruSpec,
  forwardCall: Pick<ForwardRequest, 'batch' | 'timesteps' | 'returnSequences'>,
  req: BackwardRequest,
  where: string,
): CheckedBackward {
  checkObject(req, 'request', '{dOutput, dLastState?, inputGradients?}', where);
  const { batch: B, timesteps: T } = forwardCall;
  const H = spec.units;
  const types = ['Float32Array', 'Float64Array'];
  if (forwardCall.returnSequences) checkArray(req.dOutput, 'dOutput', types, B * T * H, `[batch, timesteps, units] = [${B}, ${T}, ${H}]`, where);
  else checkArray(req.dOutput, 'dOutput', types, B * H, `[batch, units] = [${B}, ${H}]`, where);
  // null is no gradient, as undefined is (and as every backend reads it).
  const hasDLastState = req.dLastState != null;
  if (hasDLastState) checkArray(req.dLastState, 'dLastState', types, B * H, `[batch, units] = [${B}, ${H}]`, where);
  checkFlag(req.inputGradients, 'inputGradients', where);
  return { batch: B, timesteps: T, inputGradients: req.inputGradients ?? true, hasDLastState };
}

/**
 * For `supports()`, which answers rather than throws: why a spec (read once with readSpec) or a
 * call description is not an object, or undefined when both are.
 */
export function supportsArgsProblem(spec: unknown, call: unknown): string | undefined {
  for (const [name, value, expected] of [
    ['spec', spec, '{units, inputDim, activation, ...}'],
    ['call', call, '{batch, timesteps, mask, ...}'],
  ] as const) {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      return `\`${name}\` must be an object ${expected}; received ${describeValue(value)}`;
  }
  return undefined;
}
