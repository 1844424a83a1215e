import { formatShape, valueError } from './errors.js';
import { arrayTooLarge } from './limits.js';

export type FloatArray = Float32Array | Float64Array;
export type DType = 'float32' | 'float64';

/** A dense row-major tensor: the shape plus a flat array. The only tensor type gru uses. */
export interface Tensor<T extends FloatArray = FloatArray> {
  shape: number[];
  data: T;
}

/** Nested JS arrays (any depth) of numbers, as a user would write them by hand. */
export type NestedArray = number | boolean | NestedArray[];

/** What the public API accepts wherever Keras accepts a tensor. */
export type TensorLike = { shape: readonly number[]; data: ArrayLike<number> | ArrayLike<boolean> } | NestedArray[];

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function arrayFor(dtype: DType, length: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
}

/**
 * `data` itself when it already is `dtype`'s array type, else a converted copy: for what backends
 * return, which the layer's types promise is of the layer's dtype.
 */
export function ofDType(data: FloatArray, dtype: DType): FloatArray {
  if (data instanceof (dtype === 'float64' ? Float64Array : Float32Array)) return data;
  const out = arrayFor(dtype, data.length);
  out.set(data);
  return out;
}

/** `Float32Array`, `Int8Array`, ... for typed arrays (from any realm), else undefined. */
function typedArrayName(data: unknown): string | undefined {
  if (!ArrayBuffer.isView(data) || data instanceof DataView) return undefined;
  return Object.prototype.toString.call(data).slice(8, -1);
}

/** How a non-numeric element shows in an error: its type and, for short values, the value. */
function describeElement(value: unknown, isHole: boolean): string {
  if (isHole) return 'a hole (an empty slot of a sparse array)';
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return `a string (${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}...` : value)})`;
  if (typeof value === 'bigint') return `a bigint (${value}n)`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return `an object (${(value as object).constructor?.name ?? 'Object'})`;
  return `a ${typeof value}`;
}

function notNumeric(argName: string, where: string, value: unknown, isHole: boolean): Error {
  return valueError(`Argument \`${argName}\` must hold numbers or booleans: found ${describeElement(value, isHole)} at ${where}.`);
}

/**
 * Copies (and casts, as Keras casts inputs to the layer's compute dtype) into a new array.
 * Refuses anything but numbers and booleans (NaN and Infinity are numbers, as in Keras): a
 * string, hole or object would otherwise become NaN or 0 without a word.
 */
export function castArray(data: ArrayLike<number | boolean>, dtype: DType, argName = 'data'): FloatArray {
  const typed = typedArrayName(data);
  if (typed !== undefined) {
    if (typed.startsWith('Big')) {
      throw valueError(
        `Argument \`${argName}\` is a ${typed}: gru takes numbers or booleans, not bigints; convert it first (e.g. Float64Array.from(data, Number)).`,
      );
    }
    // Typed arrays hold numbers only: no per-element check, and `set` converts natively.
    const out = arrayFor(dtype, data.length);
    out.set(data as unknown as ArrayLike<number>);
    return out;
  }
  // Checked before allocating: `{length: 1e9}` must fail at index 0, not after a 4 GB allocation.
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' && typeof v !== 'boolean') throw notNumeric(argName, `index ${i}`, v, Array.isArray(data) && !(i in data));
  }
  const out = arrayFor(dtype, data.length);
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  return out;
}

function isShapedTensor(value: unknown): value is { shape: readonly number[]; data: ArrayLike<number> } {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'shape' in value && 'data' in value;
}

function checkShape(shape: unknown, argName: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw valueError(`Argument \`${argName}\` has an invalid shape: expected a list of non-negative integers, received ${JSON.stringify(shape)}.`);
  }
  return shape as number[];
}

function checkSize(shape: number[], argName: string, dtype: DType): void {
  const tooLarge = arrayTooLarge(() => `Argument \`${argName}\` of shape ${formatShape(shape)}`, sizeOf(shape), dtype === 'float64' ? 8 : 4);
  if (tooLarge) throw valueError(`${tooLarge}.`);
}

/**
 * Turns a user value into a Tensor of the given dtype, copying it. Accepts `{shape, data}` with
 * any numeric or boolean array-like data, or nested arrays, which must be rectangular.
 * `borrow: true` reuses typed-array data that already has the right type instead of copying it:
 * for call inputs, which gru only reads.
 */
export function toTensor(value: unknown, argName: string, dtype: DType, options: { borrow?: boolean } = {}): Tensor {
  if (isShapedTensor(value)) {
    const shape = checkShape(value.shape, argName);
    const data = value.data as ArrayLike<number>;
    if (data === null || typeof data !== 'object' || typeof data.length !== 'number') {
      throw valueError(`Argument \`${argName}\`.data must be an array or typed array, received ${typeof data}.`);
    }
    checkSize(shape, argName, dtype);
    if (data.length !== sizeOf(shape)) {
      throw valueError(`Argument \`${argName}\` has shape ${formatShape(shape)}, which holds ${sizeOf(shape)} values, but its data has ${data.length}.`);
    }
    const sameType = dtype === 'float32' ? data instanceof Float32Array : data instanceof Float64Array;
    return { shape: [...shape], data: options.borrow && sameType ? (data as FloatArray) : castArray(data, dtype, argName) };
  }
  if (Array.isArray(value)) {
    const shape: number[] = [];
    let probe: unknown = value;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      if (probe.length === 0) break;
      probe = probe[0];
    }
    checkSize(shape, argName, dtype);
    // Gathered in a plain array first, so a sparse array fails at its first hole, before a large allocation.
    const flat: number[] = [];
    flattenInto(value, shape, [], flat, argName);
    const data = arrayFor(dtype, flat.length);
    data.set(flat);
    return { shape, data };
  }
  throw valueError(`Argument \`${argName}\` must be a tensor ({shape, data}) or a nested array of numbers, received ${describeNonTensor(value)}.`);
}

/** What a value that is no tensor is, for the message: a flat typed array needs its shape said. */
function describeNonTensor(value: unknown): string {
  if (value === null) return 'null';
  const article = (word: string) => (/^[aeiou]/i.test(word) ? `an ${word}` : `a ${word}`);
  // By its tag, not instanceof: arrays from another realm (a worker's, an iframe's) count too.
  const tag = Object.prototype.toString.call(value).slice(8, -1);
  if (ArrayBuffer.isView(value) && tag !== 'DataView') {
    const n = (value as unknown as ArrayLike<number>).length;
    // A BigInt array cannot be tensor data either: no shape would make it one.
    if (tag.startsWith('Big')) return `${article(tag)} of ${n} values (tensor data must hold numbers: a Float32Array, a Float64Array or an integer array)`;
    return `${article(tag)} of ${n} values with no shape (pass {shape: [...], data: thatArray})`;
  }
  if (typeof value === 'object') {
    const ctor = (value as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof ctor === 'string' && ctor && ctor !== 'Object') return article(ctor);
    const missing = ['shape', 'data'].filter((k) => !(k in (value as object)));
    return `an object without ${missing.map((k) => `\`${k}\``).join(' and ') || 'a usable `shape` and `data`'}`;
  }
  return typeof value;
}

/** Appends a rectangular nested array to `out` in row-major order; `path` is the current position. */
function flattenInto(value: unknown, shape: number[], path: number[], out: number[], argName: string): void {
  const depth = path.length;
  if (depth === shape.length) {
    if (typeof value === 'number') out.push(value);
    else if (typeof value === 'boolean') out.push(value ? 1 : 0);
    else if (Array.isArray(value)) {
      throw valueError(`Argument \`${argName}\` is not a rectangular nested array of numbers: found an array at depth ${depth}.`);
    } else throw notNumeric(argName, `[${path.join(', ')}] (flat index ${out.length})`, value, false);
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[depth]) {
    throw valueError(
      `Argument \`${argName}\` is a ragged nested array: expected ${shape[depth]} items at depth ${depth}, found ${Array.isArray(value) ? value.length : typeof value}.`,
    );
  }
  for (let i = 0; i < value.length; i++) {
    path.push(i);
    if (!(i in value)) {
      // A hole reads as undefined: name it for what it is.
      throw notNumeric(argName, `[${path.join(', ')}]${depth + 1 === shape.length ? ` (flat index ${out.length})` : ''}`, undefined, true);
    }
    flattenInto(value[i], shape, path, out, argName);
    path.pop();
  }
}

/** Nested JS arrays from a tensor, for printing and for users who prefer them. */
export function toNested(t: Tensor): NestedArray {
  const build = (offset: number, dim: number): NestedArray => {
    if (dim === t.shape.length) return t.data[offset];
    const stride = sizeOf(t.shape.slice(dim + 1));
    const out: NestedArray[] = [];
    for (let i = 0; i < t.shape[dim]; i++) out.push(build(offset + i * stride, dim + 1));
    return out;
  };
  return build(0, 0);
}

/** Swaps the first two axes of a rank-3 tensor ([a, b, c] -> [b, a, c]); used for timeMajor. */
export function swapLeadingAxes<T extends FloatArray>(data: T, a: number, b: number, c: number): T {
  const out = new (data.constructor as new (n: number) => T)(data.length);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < b; j++) {
      out.set(data.subarray((i * b + j) * c, (i * b + j + 1) * c), (j * a + i) * c);
    }
  }
  return out;
}
