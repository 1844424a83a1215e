import type { GruWeights } from '../backend/types.js';
import { formatShape, valueError } from '../errors.js';
import { toTensor, type DType, type Tensor, type TensorLike } from '../tensor.js';

/** Keras's weight shapes for a GRU cell: kernel, recurrent_kernel and (if used) bias. */
export function weightShapes(inputDim: number, units: number, useBias: boolean, resetAfter: boolean): number[][] {
  const shapes = [
    [inputDim, 3 * units],
    [units, 3 * units],
  ];
  if (useBias) shapes.push(resetAfter ? [2, 3 * units] : [3 * units]);
  return shapes;
}

/**
 * Checks a weight list against the expected shapes with Keras's messages, and converts it.
 * Accepts the list form of get_weights() or an object {kernel, recurrentKernel, bias}.
 */
export function parseWeights(
  weights: readonly TensorLike[] | { kernel: TensorLike; recurrentKernel: TensorLike; bias?: TensorLike | null },
  expected: number[][],
  layerName: string,
  dtype: DType,
): Tensor[] {
  const list = Array.isArray(weights)
    ? weights
    : [
        (weights as { kernel: TensorLike }).kernel,
        (weights as { recurrentKernel: TensorLike }).recurrentKernel,
        ...((weights as { bias?: TensorLike | null }).bias ? [(weights as { bias: TensorLike }).bias] : []),
      ];
  if (list.length !== expected.length) {
    throw valueError(
      `You called \`set_weights(weights)\` on layer '${layerName}' with a weight list of length ${list.length}, ` +
        `but the layer was expecting ${expected.length} weights.`,
    );
  }
  const names = ['kernel', 'recurrent_kernel', 'bias'];
  return list.map((w, i) => {
    const t = toTensor(w, names[i], dtype);
    const want = expected[i];
    if (t.shape.length !== want.length || t.shape.some((d, k) => d !== want[k])) {
      throw valueError(`Layer ${layerName} weight shape ${formatShape(want)} is not compatible with provided weight shape ${formatShape(t.shape)}.`);
    }
    return t;
  });
}

export function toGruWeights(list: Tensor[]): GruWeights {
  return { kernel: list[0].data, recurrentKernel: list[1].data, bias: list[2]?.data ?? null };
}

export function copyTensor(t: Tensor): Tensor {
  return { shape: [...t.shape], data: t.data.slice() };
}
