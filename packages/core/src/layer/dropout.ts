import { valueError, formatShape } from '../errors.js';
import type { SeedGenerator } from '../random.js';
import { arrayFor, toTensor, type DType, type FloatArray, type TensorLike } from '../tensor.js';

/**
 * One inverted-dropout mask as Keras draws it: each entry is 0 (dropped, probability `rate`) or
 * 1/(1-rate) in the layer's dtype. Only called for 0 < rate < 1 (Keras applies no dropout at a
 * clamped rate of 1). Deterministic per seed, but not Keras's random stream.
 */
export function drawDropoutMask(gen: SeedGenerator, rows: number, cols: number, rate: number, dtype: DType): FloatArray {
  const mask = arrayFor(dtype, rows * cols);
  const scale = 1 / (1 - rate);
  for (let i = 0; i < mask.length; i++) mask[i] = gen.uniform() < rate ? 0 : scale;
  return mask;
}

/** Keras applies dropout only when training and 0 < rate < 1. */
export function dropoutActive(rate: number, training: boolean): boolean {
  return training && rate > 0 && rate < 1;
}

/**
 * Checks user-supplied masks (what Keras stores in `cell._dropout_mask` /
 * `cell._recurrent_dropout_mask`): one [rows, cols] tensor, or a list of `count` of them. A
 * [1, cols] mask is accepted too: Keras multiplies by the cached mask, which broadcasts over the
 * batch. Returned as given (1 or `rows` rows each); `expandRows` widens them for a call.
 */
export function parseMasks(value: TensorLike | TensorLike[], count: 1 | 3, rows: number, cols: number, argName: string, dtype: DType): FloatArray[] {
  const list = isTensorList(value) ? value : [value];
  const expected = rows === 1 ? formatShape([rows, cols]) : `${formatShape([rows, cols])} or ${formatShape([1, cols])}`;
  if (list.length !== count) {
    throw valueError(
      `Argument \`${argName}\` must be ${count === 1 ? 'one tensor' : 'a list of 3 tensors (z, r, h)'} of shape ${expected}, received ${list.length} tensors.`,
    );
  }
  return list.map((m, i) => {
    const t = toTensor(m, count === 1 ? argName : `${argName}[${i}]`, dtype);
    if (t.shape.length !== 2 || (t.shape[0] !== rows && t.shape[0] !== 1) || t.shape[1] !== cols) {
      throw valueError(`Argument \`${argName}\` must have shape ${expected}, received ${formatShape(t.shape)}.`);
    }
    return t.data;
  });
}

/**
 * A [1, cols] row (a dropout mask, an initial state) repeated to [rows, cols], as Keras's
 * elementwise ops broadcast it; an array that already has `rows` rows is returned as it is.
 */
export function expandRows(a: FloatArray, rows: number, cols: number): FloatArray {
  if (a.length === rows * cols) return a;
  if (a.length !== cols)
    throw valueError(`An array of ${a.length} values is neither [${rows}, ${cols}] nor [1, ${cols}], so it cannot broadcast over ${rows} rows.`);
  const out = arrayFor(a instanceof Float64Array ? 'float64' : 'float32', rows * cols);
  for (let r = 0; r < rows; r++) out.set(a, r * cols);
  return out;
}

/** A list of tensors ({shape, data} or 2-D nested arrays), as opposed to one 2-D nested array. */
function isTensorList(value: unknown): value is TensorLike[] {
  return (
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((item) => (typeof item === 'object' && item !== null && !Array.isArray(item)) || (Array.isArray(item) && Array.isArray(item[0])))
  );
}
