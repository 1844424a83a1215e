import { checkWeights, readWeights, type DType, type FloatArray, type GruWeights } from '@gru/core';
import { ANY_FLOAT } from './request-checks.js';

/**
 * Keras <-> cuDNN weights. Keras: kernel [D, 3H] and recurrentKernel [H, 3H] with column blocks
 * z, r, h; bias [2, 3H] (input row, recurrent row). cuDNN's GRU (cudnn_adv.h; linLayerID order
 * used by PyTorch and ONNX Runtime): IDs 0, 1, 2 are the input matrices W_r, W_z, W_n, IDs 3, 4,
 * 5 the recurrent R_r, R_z, R_n, each row-major [H, inputs] (a row per unit), with one bias
 * vector [H] per ID (bW for 0..2, bR for 3..5). So: M_id[j*in + k] = K[k][g*H + j] and
 * b_id[j] = bias[id < 3 ? 0 : 1][g*H + j], where g is the Keras block of the ID's gate.
 *
 * The packed buffer (what the addon copies into cuDNN's weight space) holds the six matrices in
 * ID order, then the six biases in ID order.
 */

/** Keras column block (z = 0, r = 1, h = 2) of each cuDNN linLayerID's gate (r, z, n, r, z, n). */
export const KERAS_BLOCK_OF_ID = [1, 0, 2, 1, 0, 2] as const;

export interface PackedOffsets {
  /** Element offset of each ID's matrix. */
  matrix: number[];
  /** Element offset of each ID's bias. */
  bias: number[];
  total: number;
}

export function packedOffsets(inputDim: number, units: number): PackedOffsets {
  const D = inputDim;
  const H = units;
  const matrix = [0, 1, 2].map((i) => i * H * D).concat([0, 1, 2].map((i) => 3 * H * D + i * H * H));
  const start = 3 * H * D + 3 * H * H;
  const bias = [0, 1, 2, 3, 4, 5].map((i) => start + i * H);
  return { matrix, bias, total: start + 6 * H };
}

function alloc(dtype: DType, n: number): FloatArray {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

/** Keras weights -> the packed cuDNN buffer (in `dtype`). Needs resetAfter's [2, 3H] bias. */
export function packWeights(given: GruWeights, inputDim: number, units: number, dtype: DType, where = 'cudnn prepare'): FloatArray {
  const weights = readWeights(given);
  // cuDNN runs only layers with a bias and resetAfter (cudnnSupports), so the bias is [2, 3*units].
  const spec = { units, inputDim, dtype, useBias: true, resetAfter: true, activation: 'tanh', recurrentActivation: 'sigmoid' } as const;
  checkWeights(spec, weights, where, ANY_FLOAT);
  const D = inputDim;
  const H = units;
  const G = 3 * H;
  const bias = weights.bias as FloatArray;
  const off = packedOffsets(D, H);
  const out = alloc(dtype, off.total);
  for (let id = 0; id < 6; id++) {
    const source = id < 3 ? weights.kernel : weights.recurrentKernel;
    const inputs = id < 3 ? D : H;
    const col0 = KERAS_BLOCK_OF_ID[id] * H;
    const m = off.matrix[id];
    for (let j = 0; j < H; j++) {
      for (let k = 0; k < inputs; k++) out[m + j * inputs + k] = source[k * G + col0 + j];
    }
    const row = id < 3 ? 0 : G;
    for (let j = 0; j < H; j++) out[off.bias[id] + j] = bias[row + col0 + j];
  }
  return out;
}

/** The packed cuDNN buffer (weights or their gradients) -> Keras's kernel, recurrentKernel, bias [2, 3H]. */
export function unpackWeights(
  packed: ArrayLike<number>,
  inputDim: number,
  units: number,
  dtype: DType,
): { kernel: FloatArray; recurrentKernel: FloatArray; bias: FloatArray } {
  const D = inputDim;
  const H = units;
  const G = 3 * H;
  const off = packedOffsets(D, H);
  if (packed.length !== off.total) {
    throw new RangeError(
      `cuDNN weights: the packed buffer must have 3*units*inputDim + 3*units*units + 6*units = ${off.total} elements; received ${packed.length}.`,
    );
  }
  const kernel = alloc(dtype, D * G);
  const recurrentKernel = alloc(dtype, H * G);
  const bias = alloc(dtype, 2 * G);
  for (let id = 0; id < 6; id++) {
    const target = id < 3 ? kernel : recurrentKernel;
    const inputs = id < 3 ? D : H;
    const col0 = KERAS_BLOCK_OF_ID[id] * H;
    const m = off.matrix[id];
    for (let j = 0; j < H; j++) {
      for (let k = 0; k < inputs; k++) target[k * G + col0 + j] = packed[m + j * inputs + k];
    }
    const row = id < 3 ? 0 : G;
    for (let j = 0; j < H; j++) bias[row + col0 + j] = packed[off.bias[id] + j];
  }
  return { kernel, recurrentKernel, bias };
}
