import { beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';
import type { WasmKernel } from '../src/kernel.js';
import { backwardLayout, backwardScratchBytes, FLAGS, gradRowsBytes, keepBytes, paddedUnits, projectionChunk, scratchBytes } from '../src/layout.js';

describe('buffer layout shared with assembly/forward.ts', () => {
  let kernel: WasmKernel;
  beforeAll(async () => {
    await backend.load();
    const p = backend.prepareSync(
      { units: 1, inputDim: 1, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: false, resetAfter: true, dtype: 'float32' },
      { kernel: new Float32Array(3), recurrentKernel: new Float32Array(3), bias: null },
    );
    kernel = (p as unknown as { kernel: WasmKernel }).kernel;
    p.dispose();
  });

  it('scratchBytes in TypeScript equals the module`s own count', () => {
    const all = FLAGS.recurrentDropout | FLAGS.inputDropout;
    for (const [B, D, H, flags, chunk] of [
      [1, 64, 128, 0, 100],
      [32, 128, 256, 0, 20],
      [5, 7, 13, all, 4],
      [3, 1, 1, FLAGS.inputDropout, 9],
    ]) {
      for (const workers of [1, 2, 5]) {
        expect(scratchBytes(B, D, H, flags, chunk, workers)).toBe(kernel.exports.scratchBytes(B, D, paddedUnits(H), flags, chunk, workers) >>> 0);
      }
    }
    // Input dropout gives each worker its own masked copy of the inputs.
    expect(scratchBytes(3, 1, 1, FLAGS.inputDropout, 9, 2)).toBeGreaterThan(scratchBytes(3, 1, 1, FLAGS.inputDropout, 9, 1));
  });

  it('backwardScratchBytes in TypeScript equals the module`s own count (what supports() counts for backward)', () => {
    for (const [B, D, H, flags] of [
      [1, 64, 128, 0],
      [32, 128, 256, FLAGS.recurrentDropout],
      [5, 7, 13, FLAGS.recurrentDropout | FLAGS.inputDropout],
      [3, 300, 1, 0],
      [2, 1, 70, 0],
      // inputDim above the padded units and not a multiple of 4: weightGrad's 4-row panels round it up.
      [2, 13, 3, FLAGS.inputDropout],
    ]) {
      for (const workers of [1, 2, 5]) {
        expect(backwardScratchBytes(B, D, H, flags, workers)).toBe(kernel.exports.backwardScratchBytes(B, D, paddedUnits(H), flags, workers) >>> 0);
      }
    }
  });

  it('keepBytes in TypeScript equals the module`s own count (what a training call keeps)', () => {
    for (const [B, T, H] of [
      [1, 1, 1],
      [3, 7, 13],
      [32, 100, 256],
      [5, 3, 70],
    ]) {
      expect(keepBytes(B, T, H)).toBe(kernel.exports.keepBytes(B, T, paddedUnits(H)) >>> 0);
    }
  });

  it('gradRowsBytes in TypeScript equals the module`s own count (the rows backward writes)', () => {
    for (const [B, T, H] of [
      [1, 1, 1],
      [3, 7, 13],
      [32, 100, 256],
      [5, 3, 70],
    ]) {
      for (const flags of [0, FLAGS.resetAfter, FLAGS.recurrentDropout, FLAGS.recurrentDropout | FLAGS.inputDropout | FLAGS.mask]) {
        expect(gradRowsBytes(B, T, H, flags)).toBe(kernel.exports.gradRowsBytes(B, T, paddedUnits(H), flags) >>> 0);
      }
    }
  });

  it('a backward call allocates only the rows it writes, not a copy of what forward kept', () => {
    // S2 (B=32 T=100 H=256): the kept rows are 8Hp floats a row; backward writes dP and aux
    // (4Hp), plus h * mask_g (3Hp) with recurrent dropout.
    const shape = { batch: 32, timesteps: 100, inputDim: 128, units: 256, flags: FLAGS.resetAfter | FLAGS.keep };
    const kept = keepBytes(32, 100, 256);
    const plain = backwardLayout(shape);
    expect(plain.args - plain.grads).toBe(gradRowsBytes(32, 100, 256, shape.flags));
    expect(plain.args - plain.grads).toBe(kept / 2);
    const dropout = backwardLayout({ ...shape, flags: shape.flags | FLAGS.recurrentDropout });
    expect(dropout.args - dropout.grads).toBe((kept * 7) / 8);
  });

  it('projects whole sequences that fit the budget, else chunks of a multiple of 4 steps', () => {
    expect(projectionChunk(1, 100, 128, 2 << 20)).toBe(100);
    const c = projectionChunk(64, 50, 512, 2 << 20);
    expect(c % 4).toBe(0);
    expect(c * 64 * 3 * 512 * 4).toBeLessThanOrEqual(2 << 20);
    expect(projectionChunk(64, 50, 512, 1)).toBe(4);
    expect(projectionChunk(64, 3, 512, 1)).toBe(3);
  });
});
