import { beforeAll, describe, expect, it } from 'vitest';
import type { WasmKernel } from '../src/kernel.js';
import { loadTestKernel, onHeap } from './test-kernel.js';

// packTransposed (assembly/backward.ts) turns one gate of forward-packed weights (panels of 8
// columns, K rows each) into panels of K^T: H rows by K columns padded to a multiple of 8. It
// moves 4x4 blocks with vector shuffles and the edges one element at a time, so every size class
// is checked against this transcription of the two layouts: K and H multiples of 4 and not,
// smaller than a block, and the guard floats after dst untouched.

const SENTINEL = -7;
const GUARD = 8;

/** Forward panels of a [K][3Hp] matrix: column c's row kk at panel c>>3, offset kk*8 + (c&7). */
function forwardPanels(K: number, H: number, Hp: number): Float32Array {
  const w = new Float32Array(K * 3 * Hp);
  for (let c = 0; c < 3 * Hp; c++) {
    for (let kk = 0; kk < K; kk++) {
      // Padding units (j >= H of a gate) are zero in packed weights; distinct values elsewhere.
      w[(c >> 3) * K * 8 + kk * 8 + (c & 7)] = c % Hp < H ? 1 + c * 1000 + kk : 0;
    }
  }
  return w;
}

/** What gate g's transposed panels must hold: element (j, kk) at panel kk>>3, offset j*8 + (kk&7). */
function expected(w: Float32Array, K: number, H: number, Hp: number, g: number): Float32Array {
  const N = (K + 7) & ~7;
  const out = new Float32Array(H * N);
  for (let j = 0; j < H; j++) {
    const c = g * Hp + j;
    for (let kk = 0; kk < K; kk++) out[(kk >> 3) * H * 8 + j * 8 + (kk & 7)] = w[(c >> 3) * K * 8 + kk * 8 + (c & 7)];
  }
  return out;
}

describe('wasm packTransposed: every size class against the panel layouts', () => {
  let kernel: WasmKernel;
  beforeAll(async () => {
    kernel = await loadTestKernel();
  });

  const sizes: [number, number][] = [
    [1, 1],
    [3, 2],
    [4, 4],
    [5, 7],
    [8, 8],
    [9, 12],
    [13, 6],
    [16, 17],
    [37, 21],
  ];
  for (const [K, H] of sizes) {
    it(`K=${K}, H=${H}: each gate's K^T panels, zero padding, nothing past them written`, () => {
      const Hp = (H + 7) & ~7;
      const N = (K + 7) & ~7;
      const w = forwardPanels(K, H, Hp);
      for (let g = 0; g < 3; g++) {
        const got = onHeap(kernel, [w], H * N + GUARD, SENTINEL, ([src], dst) => kernel.exports.packTransposed(src, K, H, Hp, g, dst));
        expect(Array.from(got.subarray(0, H * N)), `gate ${g}`).toEqual(Array.from(expected(w, K, H, Hp, g)));
        expect(Array.from(got.subarray(H * N)), `gate ${g}: written past the end`).toEqual(new Array(GUARD).fill(SENTINEL));
      }
    });
  }
});
