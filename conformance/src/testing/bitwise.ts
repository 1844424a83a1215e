import { describeValue, type FloatArray } from '@gru/core';

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

/** The engine's name of a typed array's kind ('Float32Array'...), from any realm; undefined for anything else. */
const typedArrayKind = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), Symbol.toStringTag)?.get as (
  this: unknown,
) => string | undefined;

/**
 * What differs between `got` (an array of any realm or typed-array subclass: its kind and slots
 * read through the engine, not through anything a subclass overrides) and `want`, bit for bit, or
 * undefined: another kind of array (or none), the element and values where a value differs (`want`
 * is `against`'s answer, "expected" in the message), else the element whose bits differ (a zero's
 * sign or a NaN's payload).
 */
export function bitwiseDifference(got: unknown, want: FloatArray, against: string, shape?: readonly number[]): string | undefined {
  const kind = typedArrayKind.call(got);
  const wantKind = typedArrayKind.call(want) as string;
  if (kind !== wantKind) {
    return `is ${kind ? `a ${kind}` : describeValue(got)} where ${against} answered a ${wantKind} (bit-for-bit comparison needs the same kind)`;
  }
  const copy = wantKind === 'Float64Array' ? new Float64Array(got as Float64Array) : new Float32Array(got as Float32Array);
  if (bitwiseEqual(copy, want)) return undefined;
  const told = `differs from ${against} ("expected" is that call's answer)`;
  if (copy.length !== want.length) return `${told}: length ${copy.length}, expected ${want.length}`;
  const words = wantKind === 'Float64Array' ? 2 : 1;
  const g = new Uint32Array(copy.buffer);
  const w = new Uint32Array(want.buffer, want.byteOffset, want.length * words);
  let i = 0;
  while (i < g.length && g[i] === w[i]) i++;
  const element = Math.floor(i / words);
  const [a, e] = [copy[element], want[element]];
  const at = shape ? `[${indexIn(element, shape).join(', ')}] of shape [${shape.join(', ')}]` : `element ${element} of ${want.length}`;
  if (!(a === e || (Number.isNaN(a) && Number.isNaN(e)))) return `${told} at ${at}: got ${a}, expected ${e}`;
  const bits = (a: Uint32Array) => Array.from(a.subarray(element * words, element * words + words).reverse(), (v) => v.toString(16).padStart(8, '0')).join('');
  return `differs in its bits (a zero's sign or a NaN's payload) from ${against} at ${at}: got ${copy[element]} = 0x${bits(g)}, expected ${want[element]} = 0x${bits(w)}`;
}

/** The multi-index of flat element `i` in row-major `shape`. */
function indexIn(i: number, shape: readonly number[]): number[] {
  const index = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    index[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return index;
}
