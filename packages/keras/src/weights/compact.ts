import type { ByteBudget } from '../budget.js';

/**
 * Weights read as views of a file's buffer keep the whole buffer alive. When they cover less
 * than half of it (the rest being optimizer state, other layers' leftovers or HDF5 structure),
 * they are copied out (counted against limits.maxBytes) so that the buffer can be freed; otherwise
 * the views stay and the load holds about one copy of its weights.
 */
export function compactWeights<T extends Float32Array | Float64Array>(weights: T[][], buffer: ArrayBuffer, budget: ByteBudget): T[][] {
  let viewed = 0;
  for (const layer of weights) for (const w of layer) if (w.buffer === buffer) viewed += w.byteLength;
  if (viewed === 0 || 2 * viewed >= buffer.byteLength) return weights;
  budget.take(viewed, 'copies of the weights (so that the rest of the file can be freed)');
  return weights.map((layer) => layer.map((w) => (w.buffer === buffer ? (w.slice() as T) : w)));
}
