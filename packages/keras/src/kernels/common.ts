/**
 * What every kernel in this folder shares: the tensor and mask types, the dtype's array and its
 * rounding, and the argument checks whose messages name the kernel, the argument, the expected and
 * the received value.
 *
 * Conventions of every kernel: tensors are dense row-major `Tensor`s whose data is the layer's
 * dtype (Float32Array or Float64Array, taken from the main input); masks are `Uint8Array`s
 * (1 keeps, 0 masks) shaped like Keras's (batch, steps) masks; sums run in float64 and are rounded
 * once into the output array, which stays within float32 rounding of Keras's float32 results.
 * Kernels never keep references to their arguments and allocate only their outputs and O(row)
 * scratch.
 */
import { type FloatArray, GruError, MAX_ARRAY_ELEMENTS, shareInstanceof, type Tensor } from '@gru/core';
import { formatShape } from '../errors.js';
import { guardArray } from './array-guard.js';

export type { FloatArray, Tensor };

/** A Keras mask: 1 keeps a position, 0 masks it. */
export type Mask = Uint8Array;

/** A bad argument to a kernel (a shape, length or option that does not fit the others). */
export class KernelArgumentError extends RangeError {
  constructor(
    readonly kernel: string,
    readonly argument: string,
    message: string,
  ) {
    super(`${kernel}: ${message}`);
    this.name = 'KernelArgumentError';
  }
}

/**
 * An array a layer's call would need that no typed array can hold (a file's RepeatVector or
 * UpSampling1D can ask for one): thrown before allocating, instead of the engine's RangeError;
 * the graph runner adds the layer's name.
 */
export class ArrayTooLargeError extends GruError {
  constructor(length: number, bytesPer: number) {
    super(
      'ValueError',
      `its output needs ${length} values (${((length * bytesPer) / 2 ** 30).toFixed(2)} GiB), beyond the ${MAX_ARRAY_ELEMENTS} values one typed array may hold.`,
    );
  }
}
shareInstanceof(ArrayTooLargeError, '@gru/keras/ArrayTooLargeError');

/**
 * `length`, checked to fit one typed array of `bytesPer`-byte values and the running predict's
 * `limits.maxPredictBytes`: every array a layer's call makes of a size its input or config decides
 * is made through here.
 */
export function arrayLength(length: number, bytesPer: number): number {
  if (length > MAX_ARRAY_ELEMENTS) throw new ArrayTooLargeError(length, bytesPer);
  guardArray(length, bytesPer);
  return length;
}

/** A new zeroed array of the same dtype as `like`. */
export function sameArray(like: FloatArray, length: number): FloatArray {
  return like instanceof Float64Array ? new Float64Array(arrayLength(length, 8)) : new Float32Array(arrayLength(length, 4));
}

/** Rounds a float64 value to the dtype of `like` (what storing it there would give). */
export function roundTo(like: FloatArray, v: number): number {
  return like instanceof Float64Array ? v : Math.fround(v);
}

export function product(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

/** Checks that `t` is a well-formed tensor of the given rank (or any rank from `minRank` when rank is negative). */
export function checkTensor(kernel: string, argument: string, t: Tensor, rank: number | { min: number }): void {
  if (!t || !Array.isArray(t.shape) || !(t.data instanceof Float32Array || t.data instanceof Float64Array)) {
    throw new KernelArgumentError(
      kernel,
      argument,
      `argument '${argument}' expected a tensor {shape, data: Float32Array | Float64Array}, received ${describe(t)}`,
    );
  }
  for (const d of t.shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new KernelArgumentError(
        kernel,
        argument,
        `argument '${argument}' expected non-negative integer dimensions, received shape ${formatShape(t.shape)}`,
      );
    }
  }
  const ok = typeof rank === 'number' ? t.shape.length === rank : t.shape.length >= rank.min;
  if (!ok) {
    const want = typeof rank === 'number' ? `rank ${rank}` : `rank >= ${rank.min}`;
    throw new KernelArgumentError(kernel, argument, `argument '${argument}' expected ${want}, received shape ${formatShape(t.shape)}`);
  }
  if (t.data.length !== product(t.shape)) {
    throw new KernelArgumentError(
      kernel,
      argument,
      `argument '${argument}' has shape ${formatShape(t.shape)} (${product(t.shape)} values) but ${t.data.length} values`,
    );
  }
}

/** Checks that a tensor has exactly the expected shape. */
export function checkShape(kernel: string, argument: string, t: Tensor, want: readonly number[]): void {
  checkTensor(kernel, argument, t, want.length);
  if (t.shape.some((d, i) => d !== want[i])) {
    throw new KernelArgumentError(kernel, argument, `argument '${argument}' expected shape ${formatShape(want)}, received ${formatShape(t.shape)}`);
  }
}

/** Checks that a tensor has the main input's dtype (kernels never mix float32 and float64). */
export function checkSameDtype(kernel: string, argument: string, t: Tensor, like: FloatArray): void {
  if (t.data.constructor !== like.constructor) {
    throw new KernelArgumentError(kernel, argument, `argument '${argument}' expected ${dtypeName(like)} data like the input, received ${dtypeName(t.data)}`);
  }
}

/** Checks a mask's length against the (batch, steps) it must cover. */
export function checkMask(kernel: string, argument: string, mask: Mask | null | undefined, batch: number, steps: number): void {
  if (mask === null || mask === undefined) return;
  if (!(mask instanceof Uint8Array)) {
    throw new KernelArgumentError(
      kernel,
      argument,
      `argument '${argument}' expected a Uint8Array of ${batch} x ${steps} values or null, received ${describe(mask)}`,
    );
  }
  if (mask.length !== batch * steps) {
    throw new KernelArgumentError(
      kernel,
      argument,
      `argument '${argument}' expected ${batch * steps} values (batch ${batch} x steps ${steps}), received ${mask.length}`,
    );
  }
}

/** Checks an integer option. */
export function checkInt(kernel: string, argument: string, v: unknown, min: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new KernelArgumentError(kernel, argument, `argument '${argument}' expected an integer >= ${min}, received ${describe(v)}`);
  }
  return v;
}

/** Checks a finite number option. */
export function checkNumber(kernel: string, argument: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new KernelArgumentError(kernel, argument, `argument '${argument}' expected a finite number, received ${describe(v)}`);
  }
  return v;
}

/** Checks a string option against its allowed values. */
export function checkChoice<T extends string>(kernel: string, argument: string, v: unknown, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new KernelArgumentError(
      kernel,
      argument,
      `argument '${argument}' expected one of ${allowed.map((a) => `'${a}'`).join(', ')}, received ${describe(v)}`,
    );
  }
  return v as T;
}

export function dtypeName(a: FloatArray): string {
  return a instanceof Float64Array ? 'float64' : 'float32';
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'string') return `'${v}'`;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as unknown as { length: number }).length})`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === 'object' ? `an object with keys ${Object.keys(v as object).join(', ') || '(none)'}` : typeof v;
}

/**
 * Softmax over `n` float64 values at `off` in place, max-subtracted as Keras's softmax is.
 */
export function softmaxInPlace(a: Float64Array, off: number, n: number): void {
  let max = -Infinity;
  for (let i = off; i < off + n; i++) if (a[i] > max) max = a[i];
  let sum = 0;
  for (let i = off; i < off + n; i++) {
    const e = Math.exp(a[i] - max);
    a[i] = e;
    sum += e;
  }
  for (let i = off; i < off + n; i++) a[i] /= sum;
}

/** Keras's `1e9` (float32/float64) that masked attention scores are pushed down by. */
export const LARGE_NEGATIVE = -1e9;
