import { describe, expect, it } from 'vitest';
import { KERAS_BLOCK_OF_ID, packedOffsets, packWeights, unpackWeights } from '../src/weights.js';
import { rng } from './helpers.js';

function kerasWeights(D: number, H: number, seed: number, dtype: 'float32' | 'float64' = 'float64') {
  const r = rng(seed);
  return { kernel: r.uniform(D * 3 * H, 1, dtype), recurrentKernel: r.uniform(H * 3 * H, 1, dtype), bias: r.uniform(2 * 3 * H, 1, dtype) };
}

describe('cuDNN weight layout', () => {
  it('maps linLayerIDs 0..5 to the gates r, z, n (input) and r, z, n (recurrent) of the notes', () => {
    // Keras blocks: z = 0, r = 1, h = 2.
    expect([...KERAS_BLOCK_OF_ID]).toEqual([1, 0, 2, 1, 0, 2]);
  });

  it('puts six matrices in ID order, then six biases', () => {
    const D = 3;
    const H = 2;
    const off = packedOffsets(D, H);
    expect(off.matrix).toEqual([0, 6, 12, 18, 22, 26]);
    expect(off.bias).toEqual([30, 32, 34, 36, 38, 40]);
    expect(off.total).toBe(42);
  });

  it('stores M_id[j*in + k] = K[k][g*H + j] and b_id[j] = bias[row][g*H + j], element by element', () => {
    const D = 3;
    const H = 4;
    const G = 3 * H;
    const w = kerasWeights(D, H, 7);
    const packed = packWeights(w, D, H, 'float64');
    const off = packedOffsets(D, H);
    const gate = { r: 1, z: 0, h: 2 };
    // W_r (ID 0): row j = unit j, columns = input features, read from the kernel's r block.
    for (let j = 0; j < H; j++) for (let k = 0; k < D; k++) expect(packed[off.matrix[0] + j * D + k]).toBe(w.kernel[k * G + gate.r * H + j]);
    // W_z (ID 1) and W_n (ID 2).
    for (let j = 0; j < H; j++) for (let k = 0; k < D; k++) expect(packed[off.matrix[1] + j * D + k]).toBe(w.kernel[k * G + gate.z * H + j]);
    for (let j = 0; j < H; j++) for (let k = 0; k < D; k++) expect(packed[off.matrix[2] + j * D + k]).toBe(w.kernel[k * G + gate.h * H + j]);
    // R_r, R_z, R_n (IDs 3, 4, 5) from the recurrent kernel, [H, H].
    for (const [id, g] of [
      [3, gate.r],
      [4, gate.z],
      [5, gate.h],
    ]) {
      for (let j = 0; j < H; j++) for (let k = 0; k < H; k++) expect(packed[off.matrix[id] + j * H + k]).toBe(w.recurrentKernel[k * G + g * H + j]);
    }
    // Biases: IDs 0..2 from the input row, 3..5 from the recurrent row.
    for (const [id, row, g] of [
      [0, 0, gate.r],
      [1, 0, gate.z],
      [2, 0, gate.h],
      [3, 1, gate.r],
      [4, 1, gate.z],
      [5, 1, gate.h],
    ]) {
      for (let j = 0; j < H; j++) expect(packed[off.bias[id] + j]).toBe(w.bias[row * G + g * H + j]);
    }
  });

  it('unpacks to exactly the Keras weights (pack then unpack is the identity)', () => {
    for (const [D, H, seed] of [
      [1, 1, 1],
      [5, 3, 2],
      [2, 7, 3],
      [16, 8, 4],
    ]) {
      for (const dtype of ['float32', 'float64'] as const) {
        const w = kerasWeights(D, H, seed, dtype);
        const back = unpackWeights(packWeights(w, D, H, dtype), D, H, dtype);
        expect(back.kernel).toEqual(w.kernel);
        expect(back.recurrentKernel).toEqual(w.recurrentKernel);
        expect(back.bias).toEqual(w.bias);
        expect(back.kernel.constructor).toBe(dtype === 'float32' ? Float32Array : Float64Array);
      }
    }
  });

  it('packs every weight exactly once (a permutation of the Keras values)', () => {
    const D = 4;
    const H = 3;
    const n = D * 9 + H * 9 + 18;
    // Distinct values: the packed buffer must hold each exactly once.
    const values = Float64Array.from({ length: n }, (_, i) => i + 1);
    const w = { kernel: values.subarray(0, D * 9), recurrentKernel: values.subarray(D * 9, D * 9 + H * 9), bias: values.subarray(D * 9 + H * 9) };
    const packed = packWeights(w, D, H, 'float64');
    expect([...packed].sort((a, b) => a - b)).toEqual([...values]);
  });

  it('refuses weights of the wrong size, naming the weight and the expected count', () => {
    const w = kerasWeights(3, 2, 5);
    expect(() => packWeights({ ...w, kernel: w.kernel.subarray(1) }, 3, 2, 'float64')).toThrow(
      /cudnn prepare: `weights.kernel` must be a Float32Array or Float64Array of 18 values \(\[inputDim, 3\*units\] = \[3, 6\]\); received Float64Array\(17\)/,
    );
    expect(() => packWeights({ ...w, recurrentKernel: new Float64Array(5) }, 3, 2, 'float64')).toThrow(
      /`weights.recurrentKernel` must be a Float32Array or Float64Array of 12 values .*; received Float64Array\(5\)/,
    );
    expect(() => packWeights({ ...w, bias: null }, 3, 2, 'float64')).toThrow(
      /`weights.bias` must be a Float32Array or Float64Array of 12 values \(\[2, 3\*units\] = \[2, 6\]\); received null/,
    );
    expect(() => packWeights({ ...w, bias: new Float64Array(6) }, 3, 2, 'float64')).toThrow(/received Float64Array\(6\)/);
    expect(() => unpackWeights(new Float64Array(3), 3, 2, 'float64')).toThrow(/= 42 elements; received 3/);
  });
});
