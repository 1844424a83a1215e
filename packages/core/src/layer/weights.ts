import type { GruWeights } from '../backend/types.js';
import { formatShape, typeError, valueError } from '../errors.js';
import { arrayTooLarge, formatBytes, getResourceLimits } from '../limits.js';
import { sizeOf, toTensor, type DType, type Tensor, type TensorLike } from '../tensor.js';

const WEIGHT_NAMES = ['kernel', 'recurrent_kernel', 'bias'];

/**
 * Keras's weight shapes for a GRU cell: kernel, recurrent_kernel and (if used) bias. `inputDim`
 * is null for a cell not built yet (the kernel's rows are then whatever is given).
 */
export function weightShapes<D extends number | null>(inputDim: D, units: number, useBias: boolean, resetAfter: boolean): (D | number)[][] {
  const shapes: (D | number)[][] = [
    [inputDim, 3 * units],
    [units, 3 * units],
  ];
  if (useBias) shapes.push(resetAfter ? [2, 3 * units] : [3 * units]);
  return shapes;
}

/** "kernel (5, 12), recurrent_kernel (4, 12), bias (2, 12)": what a message says is expected. */
function describeShapes(expected: readonly (number | null)[][]): string {
  return expected.map((shape, i) => `${WEIGHT_NAMES[i]} ${formatShape(shape)}`).join(', ');
}

/**
 * Refuses weights that cannot be allocated (an array past the typed-array limit) and, with
 * `initializing`, weights past `maxWeightBytes`: that bound is for what core's initializers would
 * allocate and compute; weights a caller supplies (a loader, with its own limits) are already there.
 */
export function checkWeightSize(shapes: readonly (number | null)[][], dtype: DType, layerName: string, initializing = false): void {
  const bytesPer = dtype === 'float64' ? 8 : 4;
  const what = `Layer '${layerName}' cannot create its weights (${describeShapes(shapes)})`;
  // A dimension not known yet (the kernel's rows before build, shown as None) sizes nothing.
  const known = (shape: readonly (number | null)[]): shape is number[] => !shape.includes(null);
  for (let i = 0; i < shapes.length; i++) {
    const shape = shapes[i];
    if (!known(shape)) continue;
    const tooLarge = arrayTooLarge(`its ${WEIGHT_NAMES[i]} ${formatShape(shape)}`, sizeOf(shape), bytesPer);
    if (tooLarge) throw valueError(`${what}: ${tooLarge}.`);
  }
  if (!initializing) return;
  const bytes = shapes.reduce((sum, shape) => sum + (known(shape) ? sizeOf(shape) : 0) * bytesPer, 0);
  const limit = getResourceLimits().maxWeightBytes;
  if (bytes > limit) {
    throw valueError(
      `${what}: they need ${formatBytes(bytes)} in ${dtype}, beyond the maxWeightBytes limit of ${formatBytes(limit)} ` +
        '(see setResourceLimits to raise it where the memory is there).',
    );
  }
}

/** The kernel's first dimension, read without converting it, or undefined where there is none to read. */
export function kernelRows(weights: unknown): number | undefined {
  const kernel = Array.isArray(weights) ? weights[0] : typeof weights === 'object' && weights !== null ? (weights as { kernel?: unknown }).kernel : undefined;
  if (Array.isArray(kernel)) return kernel.length;
  if (typeof kernel === 'object' && kernel !== null && Array.isArray((kernel as { shape?: unknown }).shape)) {
    const rows = (kernel as { shape: unknown[] }).shape[0];
    return typeof rows === 'number' ? rows : undefined;
  }
  return undefined;
}

/**
 * Checks a weight list against the expected shapes with Keras's messages, and converts it.
 * Accepts the list form of get_weights() or an object {kernel, recurrentKernel, bias}.
 */
export function parseWeights(
  weights: readonly TensorLike[] | { kernel: TensorLike; recurrentKernel: TensorLike; bias?: TensorLike | null },
  expected: (number | null)[][],
  layerName: string,
  dtype: DType,
): Tensor[] {
  if (typeof weights !== 'object' || weights === null) {
    throw typeError(
      `You called \`set_weights(weights)\` on layer '${layerName}' with ${weights === null || weights === undefined ? 'None' : `a ${typeof weights}`}; ` +
        `expected a list of ${expected.length} weights (${describeShapes(expected)}), or {kernel, recurrentKernel${expected.length > 2 ? ', bias' : ''}}.`,
    );
  }
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
  return list.map((w, i) => {
    const t = toTensor(w, WEIGHT_NAMES[i], dtype);
    const want = expected[i];
    if (t.shape.length !== want.length || t.shape.some((d, k) => want[k] !== null && d !== want[k])) {
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
