/**
 * Not a GRU: the same multiply-adds as the shape's layer call, with the time dependency taken
 * out (one step of batch B·T), on @gru/cpu's kernels and threads. It measures, in the same run,
 * how fast this machine does this shape's arithmetic when nothing is sequential: the ceiling for
 * the GRU rows of small shapes (S1, S4). The gap to gru:cpu is the cost of the recurrence itself:
 * T dependent steps, each re-reading the [H, 3H] recurrent weights from cache, too short to
 * share between cores.
 *
 * @typedef {import('../shapes.mjs').Shape} Shape
 */
import { inputFor, kerasWeights } from '../data.mjs';

export const name = 'cpu-ceiling';
export const kind = 'peer';
export const note =
  "not a GRU: the shape's multiply-adds without the time dependency (one step, batch B·T) on @gru/cpu's kernels, threads = cores: this machine's rate for the same arithmetic, a ceiling for the GRU rows (small shapes only)";

export async function available() {
  try {
    const cpu = await import('@gru/cpu');
    await cpu.backend.load();
    return true;
  } catch (err) {
    return `cannot load @gru/cpu: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * Batched into one step, a large shape's projections and states (B·T rows of 3H and H floats)
 * stop fitting in cache, and the pass becomes memory-bound: no longer a ceiling.
 */
const MAX_BATCHED_BYTES = 2 * 2 ** 20;

/** @param {Shape} shape */
export async function setup(shape) {
  const { B, T, D, H } = shape;
  const rows = B * T;
  const bytes = rows * 4 * H * 4;
  if (bytes > MAX_BATCHED_BYTES) {
    return `batched into one step, its ${(bytes / 2 ** 20).toFixed(0)} MiB of projections and states do not fit in cache, so it would measure memory traffic, not a ceiling`;
  }
  const core = await import('@gru/core');
  await import('@gru/cpu');
  const layer = new core.GRU({ units: H, returnSequences: false, backend: 'cpu' });
  const w = kerasWeights(shape, { resetAfter: true });
  layer.setWeights({
    kernel: { shape: [D, 3 * H], data: w.kernel },
    recurrentKernel: { shape: [H, 3 * H], data: w.recurrentKernel },
    bias: { shape: [2, 3 * H], data: /** @type {Float32Array} */ (w.bias) },
  });
  // Through the public layer, as the gru runners: the projection [B·T, D] x [D, 3H] and the
  // recurrent product [B·T, H] x [H, 3H] (of a given state), 2·B·T·3H·(D + H) FLOPs like the shape.
  const x = { shape: [rows, 1, D], data: inputFor(shape) };
  const initialState = { shape: [rows, H], data: Float32Array.from({ length: rows * H }, (_, i) => Math.sin(i) * 0.5) };
  return {
    run: async () => {
      const r = await layer.forward(x, { initialState });
      if (r.backend !== 'cpu') throw new Error(`ran on '${r.backend}', not 'cpu'`);
    },
    dispose: () => layer.dispose(),
  };
}
