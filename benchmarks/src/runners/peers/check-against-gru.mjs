/**
 * A peer's output is compared once, in setup, with gru's on the same numbers, so a peer that
 * computes something else (wrong weight layout, other gate convention) cannot produce a timing.
 * gru's side runs on @gru/wasm (conformance-checked against Keras, and fast enough for S3).
 *
 * @typedef {import('../../shapes.mjs').Shape} Shape
 */
import { inputFor, kerasWeights } from '../../data.mjs';

/**
 * The last output [B, H] of a Keras GRU (tanh/sigmoid) on the benchmark's seeded data.
 * @param {Shape} shape
 * @param {{ resetAfter: boolean }} opts
 * @returns {Promise<Float32Array>}
 */
export async function gruLastOutput(shape, { resetAfter }) {
  const core = await import('@gru/core');
  await import('@gru/wasm');
  const { B, T, D, H } = shape;
  const layer = new core.GRU({ units: H, resetAfter, returnSequences: false, backend: 'wasm' });
  const w = kerasWeights(shape, { resetAfter });
  layer.setWeights({
    kernel: { shape: [D, 3 * H], data: w.kernel },
    recurrentKernel: { shape: [H, 3 * H], data: w.recurrentKernel },
    bias: w.bias && { shape: resetAfter ? [2, 3 * H] : [3 * H], data: w.bias },
  });
  const result = await layer.forward({ shape: [B, T, D], data: inputFor(shape) });
  layer.dispose();
  return Float32Array.from(result.output.data);
}

/**
 * Throws unless every |got - want| <= atol + rtol*|want| (float32 with another summation order).
 * @param {string} peer
 * @param {ArrayLike<number>} got
 * @param {ArrayLike<number>} want
 */
export function assertAgrees(peer, got, want, atol = 1e-4, rtol = 1e-3) {
  if (got.length !== want.length) throw new Error(`${peer}: ${got.length} output values, expected ${want.length} (batch × units).`);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < want.length; i++) {
    const diff = Math.abs(got[i] - want[i]);
    if (!(diff <= atol + rtol * Math.abs(want[i])) && !(diff <= worst)) {
      worst = diff;
      at = i;
    }
  }
  if (at >= 0) throw new Error(`${peer} disagrees with gru: output ${at} is ${got[at]}, gru gives ${want[at]} (|diff| ${worst}).`);
}
