import { beforeAll, describe, expect, it } from 'vitest';
import { keptCopyRanges } from '../src/kept-copy.js';
import type { WasmKernel } from '../src/kernel.js';
import { paddedUnits } from '../src/layout.js';
import { loadTestKernel } from './test-kernel.js';

// backward copies a kept call's rows before overwriting them; the pre-activation rows, which
// forward leaves unwritten for tanh/sigmoid-like gates, are skipped then. The ranges must match
// assembly/keep.ts's blocks exactly (a range too short would leave backward reading stale rows,
// which backward-repeat.test.ts would catch only for its shapes).
describe("keptCopyRanges against the module's kept-row layout", () => {
  let kernel: WasmKernel;
  beforeAll(async () => {
    kernel = await loadTestKernel();
  });

  for (const [B, T, H] of [
    [1, 1, 1],
    [3, 7, 9],
    [2, 5, 8],
    [5, 3, 33],
  ]) {
    it(`batch ${B}, timesteps ${T}, units ${H}`, () => {
      const total = kernel.exports.keepBytes(B, T, paddedUnits(H));
      expect(keptCopyRanges(B, T, H, true)).toEqual([[0, total]]);
      const [[s0, s1], [a0, a1]] = keptCopyRanges(B, T, H, false);
      const hp = paddedUnits(H);
      // states [rows][Hp], then pre [rows][3Hp]: both 64-byte aligned blocks.
      expect([s0, s1]).toEqual([0, Math.ceil((B * T * hp * 4) / 64) * 64]);
      expect(a0 - s1).toBe(Math.ceil((B * T * 3 * hp * 4) / 64) * 64);
      expect(a1).toBe(total);
    });
  }
});
