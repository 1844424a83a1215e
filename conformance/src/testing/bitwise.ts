import type { FloatArray } from '@gru/core';

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
