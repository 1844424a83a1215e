/**
 * TensorFlow.js's GRU layer (@tensorflow/tfjs-layers) on @tensorflow/tfjs-backend-wasm, in Node.
 * tfjs's GRU supports only reset_after=False, so this runner times that configuration, and its
 * ratio is best read against gru:wasm:reset-before (the same layer on gru).
 *
 * @typedef {import('../shapes.mjs').Shape} Shape
 */
import { flops } from '../shapes.mjs';
import { inputFor, kerasWeights } from '../data.mjs';
import { assertAgrees, gruLastOutput } from './peers/check-against-gru.mjs';

export const name = 'tfjs-wasm';
export const kind = 'peer';
export const note = 'TensorFlow.js GRU layer on tfjs-backend-wasm (SIMD, single-threaded: tfjs enables wasm threads only in browsers); reset_after=False only (tfjs has no reset_after=True): compare with gru:wasm:reset-before';

/** tfjs steps through time from JavaScript, op by op: a GFLOP takes seconds. */
export const slow = (/** @type {Shape} */ shape) => flops(shape) >= 1e9;

async function load() {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-wasm');
  const tfl = await import('@tensorflow/tfjs-layers');
  if (!(await tf.setBackend('wasm'))) throw new Error("tf.setBackend('wasm') failed");
  await tf.ready();
  return { tf, tfl };
}

export async function available() {
  try {
    await load();
    return true;
  } catch (err) {
    return `cannot start TensorFlow.js on tfjs-backend-wasm: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** @param {Shape} shape */
export async function setup(shape) {
  const { tf, tfl } = await load();
  const { B, T, D, H } = shape;
  // Zero initializers: the weights are replaced at once, and tfjs's orthogonal initializer needs
  // chained tensor methods that tfjs-core's Node bundle does not register.
  const layer = tfl.layers.gru({
    units: H, activation: 'tanh', recurrentActivation: 'sigmoid', returnSequences: false, // reset_after=False: tfjs's only mode
    kernelInitializer: 'zeros', recurrentInitializer: 'zeros', biasInitializer: 'zeros',
  });
  const w = kerasWeights(shape, { resetAfter: false });
  const x = tf.tensor3d(inputFor(shape), [B, T, D]);
  // The first call builds the layer (tfjs's build() alone does not mark it built).
  tf.dispose(tf.tidy(() => /** @type {import('@tensorflow/tfjs-core').Tensor} */ (layer.apply(x))));
  layer.setWeights([tf.tensor2d(w.kernel, [D, 3 * H]), tf.tensor2d(w.recurrentKernel, [H, 3 * H]), tf.tensor1d(/** @type {Float32Array} */ (w.bias))]);
  const run = async () => {
    const y = /** @type {import('@tensorflow/tfjs-core').Tensor} */ (tf.tidy(() => /** @type {import('@tensorflow/tfjs-core').Tensor} */ (layer.apply(x))));
    const data = await y.data();
    y.dispose();
    return /** @type {Float32Array} */ (data);
  };
  assertAgrees(name, await run(), await gruLastOutput(shape, { resetAfter: false }));
  return {
    run: async () => {
      await run();
    },
    dispose: () => {
      x.dispose();
      layer.dispose();
    },
  };
}
