import { valueError } from './errors.js';

/**
 * The most elements gru puts in one typed array: below every JavaScript engine's typed-array
 * limit (V8 allows 2^32 elements on 64-bit, less on 32-bit builds and in some browsers), so a
 * size past it is refused with a clear message instead of failing as "Invalid typed array length".
 */
export const MAX_ARRAY_ELEMENTS = 2 ** 31 - 1;

/** Bounds on what building a layer may allocate and compute. See `setResourceLimits`. */
export interface ResourceLimits {
  /**
   * The most bytes a cell's weights (kernel, recurrent kernel and bias together, in the layer's
   * dtype) may take when core's initializers create them (on the first call, or getWeights()
   * after build). Default 2 GiB: a float32 GRU of about 13,000 units. Weights given with
   * `setWeights()` (as model loaders do, under their own limits) are not bound by it.
   */
  maxWeightBytes: number;
  /**
   * The most floating-point operations the orthogonal initializer may spend on one weight (its QR
   * decomposition takes about 4 * max(rows, cols) * min(rows, cols)^2). Default 2^35: under a
   * minute of JavaScript on a server core, a recurrent kernel of up to ~1,400 units. Past it,
   * initializing refuses and asks for `setWeights()` or another initializer. Weights are
   * initialized when first needed, so a layer given its weights by `setWeights()` (as loaders
   * do) never runs the initializer.
   */
  maxInitializerOps: number;
}

const DEFAULT_LIMITS: ResourceLimits = { maxWeightBytes: 2 ** 31, maxInitializerOps: 2 ** 35 };
const limits: ResourceLimits = { ...DEFAULT_LIMITS };

/** The limits in force now (a copy). */
export function getResourceLimits(): ResourceLimits {
  return { ...limits };
}

/**
 * Raises or lowers the limits for the whole process (an app that knows it has the memory and
 * time can raise them; a server taking untrusted configs can lower them). Omitted fields keep
 * their value; `setResourceLimits()` with no argument restores the defaults.
 */
export function setResourceLimits(update?: Partial<ResourceLimits>): ResourceLimits {
  if (update === undefined) return Object.assign(limits, DEFAULT_LIMITS);
  if (typeof update !== 'object' || update === null) {
    throw valueError(`setResourceLimits expects an object such as {maxWeightBytes: 2 ** 31}, received ${String(update)}.`);
  }
  for (const [key, value] of Object.entries(update)) {
    if (!(key in DEFAULT_LIMITS)) {
      throw valueError(`setResourceLimits: unknown limit '${key}'. Known limits: ${Object.keys(DEFAULT_LIMITS).join(', ')}.`);
    }
    if (typeof value !== 'number' || !(value > 0)) {
      throw valueError(`setResourceLimits: \`${key}\` must be a positive number, received ${String(value)}.`);
    }
  }
  return Object.assign(limits, update);
}

/** Bytes for people: "16.00 GiB", the wording the cpu, wasm and webgpu backends use. */
export function formatBytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

/**
 * Why an array of `elements` values (`bytesPer` bytes each) for `what` cannot be allocated, or
 * undefined when it can. `what` names the array and the sizes it comes from: a function where it is
 * asked on every call, so the message is built only for an array that is too large.
 */
export function arrayTooLarge(what: string | (() => string), elements: number, bytesPer: number): string | undefined {
  if (elements <= MAX_ARRAY_ELEMENTS) return undefined;
  // Sizes past what a double counts (units 1e308: 3 * units is Infinity) have no number to show.
  const bytes = elements * bytesPer;
  const count = !Number.isFinite(elements)
    ? 'more values than a number can count'
    : `${elements} values (${Number.isFinite(bytes) ? formatBytes(bytes) : 'more bytes than a number can count'})`;
  return `${typeof what === 'function' ? what() : what} needs ${count}, beyond the ${MAX_ARRAY_ELEMENTS} values one typed array may hold`;
}
