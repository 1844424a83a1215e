import type { FloatArray } from '@gru/core';
import { compareArrays } from '../tolerance.js';

/**
 * Whether two arrays hold the same values bit for bit (same type and length; NaN payloads and the
 * sign of zero count): what "exactly the same call" means between two paths of one backend.
 */
export function bitwiseEqual(a: FloatArray, b: FloatArray): boolean {
  if (a.constructor !== b.constructor || a.length !== b.length) return false;
  const ia = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const ib = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < ia.length; i++) if (ia[i] !== ib[i]) return false;
  return true;
}

/**
 * What differs between `got` (an array of any realm or typed-array subclass: read through the
 * engine's copy of its slots) and `want`, bit for bit, or undefined: the element and values where
 * a value differs (`want` is `against`'s answer, "expected" in the message), else that only the
 * bits do (a zero's sign or a NaN's payload).
 */
export function bitwiseDifference(got: ArrayLike<number>, want: FloatArray, against: string, shape?: readonly number[]): string | undefined {
  const copy = want instanceof Float64Array ? new Float64Array(got as Float64Array) : new Float32Array(got as Float32Array);
  if (bitwiseEqual(copy, want)) return undefined;
  const cmp = compareArrays(copy, want, { atol: 0, rtol: 0 }, shape);
  return cmp.ok
    ? `differs in its bits (a zero's sign or a NaN's payload) from ${against}`
    : `differs from ${against} ("expected" is that call's answer) ${cmp.message}`;
}
