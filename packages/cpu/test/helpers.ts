// The kit's shared test helpers (one seeded generator, one random case, one tolerance), so a
// failure here reads like a conformance failure and reproduces from its seed.
export { assertClose, makeCase, rng, type CaseOptions, type RandomCase as Case } from '@gru/conformance/testing';

export function bitwiseEqual(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ia = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ib = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ia.length; i++) if (ia[i] !== ib[i]) return false;
  return true;
}
