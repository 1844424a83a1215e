import { formatShape, valueError } from './errors.js';

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
export type TensorLike =
  | { shape: readonly number[]; data: ArrayLike<number> | ArrayLike<boolean> }
  | NestedArray[];

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function arrayFor(dtype: DType, length: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(length) : new Float32Array(length);
}

/** Copies (and casts, as Keras casts inputs to the layer's compute dtype) into a new array. */
export function castArray(data: ArrayLike<number | boolean>, dtype: DType): FloatArray {
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
    if (data.length !== sizeOf(shape)) {
      throw valueError(
        `Argument \`${argName}\` has shape ${formatShape(shape)}, which holds ${sizeOf(shape)} values, but its data has ${data.length}.`,
      );
    }
    const sameType = dtype === 'float32' ? data instanceof Float32Array : data instanceof Float64Array;
    return { shape: [...shape], data: options.borrow && sameType ? (data as FloatArray) : castArray(data, dtype) };
  }
  if (Array.isArray(value)) {
    const shape: number[] = [];
    let probe: unknown = value;
    while (Array.isArray(probe)) {
      shape.push(probe.length);
      if (probe.length === 0) break;
      probe = probe[0];
    }
    const flat: number[] = [];
    flattenInto(value, shape, 0, flat, argName);
    return { shape, data: castArray(flat, dtype) };
  }
  throw valueError(
    `Argument \`${argName}\` must be a tensor ({shape, data}) or a nested array of numbers, received ${value === null ? 'null' : typeof value}.`,
  );
}

function flattenInto(value: unknown, shape: number[], depth: number, out: number[], argName: string): void {
  if (depth === shape.length) {
    if (typeof value !== 'number' && typeof value !== 'boolean') {
      throw valueError(`Argument \`${argName}\` is not a rectangular nested array of numbers: found ${Array.isArray(value) ? 'an array' : typeof value} at depth ${depth}.`);
    }
    out.push(Number(value));
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[depth]) {
    throw valueError(
      `Argument \`${argName}\` is a ragged nested array: expected ${shape[depth]} items at depth ${depth}, found ${Array.isArray(value) ? value.length : typeof value}.`,
    );
  }
  for (const item of value) flattenInto(item, shape, depth + 1, out, argName);
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
