import type { DType, FloatArray } from '../tensor.js';
import { typedArrayName } from './check-request.js';

/**
 * Copies of a caller's checked typed arrays, made by the engine alone. A subclass may override
 * `slice`, `subarray`, `length`, @@species or @@iterator, and `Float32Array.from(a)`, `a.slice()` or
 * `a.subarray()` consult them: the copy could then hold other values (or another length) than the
 * ones checkForwardRequest / checkWeights vouched for. The typed-array constructor given a typed
 * array reads its elements and its length from the engine's own slots, whatever realm it comes from.
 * Every backend copies caller arrays through these.
 */

/** A Float32Array copy (converting a Float64Array), on a fresh ordinary ArrayBuffer. */
export function copyFloat32(a: ArrayBufferView): Float32Array<ArrayBuffer> {
  return new Float32Array(a as unknown as ArrayLike<number>);
}

/** A Float64Array copy (converting a Float32Array), on a fresh ordinary ArrayBuffer. */
export function copyFloat64(a: ArrayBufferView): Float64Array<ArrayBuffer> {
  return new Float64Array(a as unknown as ArrayLike<number>);
}

/** A copy in `dtype`'s array type. */
export function copyFloats(a: ArrayBufferView, dtype: DType): FloatArray {
  return dtype === 'float64' ? copyFloat64(a) : copyFloat32(a);
}

/**
 * `a` itself when it is a plain array of `dtype` of this realm (its methods are the engine's),
 * else a copy in `dtype`: for a backend that only reads the array during the call.
 */
export function asFloats(a: ArrayBufferView, dtype: DType): FloatArray {
  const wanted = dtype === 'float64' ? 'Float64Array' : 'Float32Array';
  return typedArrayName(a) === wanted && Object.getPrototypeOf(a) === (dtype === 'float64' ? Float64Array : Float32Array).prototype
    ? (a as FloatArray)
    : copyFloats(a, dtype);
}

/** A Uint8Array copy of a mask. */
export function copyMask(a: ArrayBufferView): Uint8Array<ArrayBuffer> {
  return new Uint8Array(a as unknown as ArrayLike<number>);
}
