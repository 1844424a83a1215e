/**
 * The TensorFlow.js GRU layer set up on the benchmark's shared weights, for the tfjs peer
 * runners (one per tfjs backend). tfjs's GRU has only reset_after=False.
 *
 * @typedef {import('../../shapes.mjs').Shape} Shape
 */
import { inputFor, kerasWeights } from '../../data.mjs';
import { assertAgrees, gruLastOutput } from './check-against-gru.mjs';

/**
 * Starts TensorFlow.js on one of its backends, with the layers API.
 * @param {'cpu' | 'wasm'} backend
 * @param {() => Promise<unknown>} importBackend imports @tensorflow/tfjs-backend-<backend>
 * @returns {Promise<{ tf: any, tfl: any }>}
 */
export async function loadTfjs(backend, importBackend) {
  const tf = await import('@tensorflow/tfjs-core');
  await importBackend();
  const tfl = await import('@tensorflow/tfjs-layers');
  if (!(await tf.setBackend(backend))) throw new Error(`tf.setBackend('${backend}') failed`);
  await tf.ready();
  return { tf, tfl };
}

/**
 * The runner's `available()`: true, or why TensorFlow.js cannot start on that backend.
 * @param {'cpu' | 'wasm'} backend
 * @param {() => Promise<unknown>} importBackend
 */
export async function tfjsAvailable(backend, importBackend) {
  try {
    await loadTfjs(backend, importBackend);
    return true;
  } catch (err) {
    return `cannot start TensorFlow.js on tfjs-backend-${backend}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/**
 * @param {string} name the runner's name, for the agreement check's message
 * @param {any} tf @tensorflow/tfjs-core, with the backend already set
 * @param {any} tfl @tensorflow/tfjs-layers
 * @param {Shape} shape
 */
export async function setupTfjsGru(name, tf, tfl, shape) {
  const { B, T, D, H } = shape;
  // Zero initializers: the weights are replaced at once, and tfjs's orthogonal initializer needs
  // chained tensor methods that tfjs-core's Node bundle does not register.
  const layer = tfl.layers.gru({
    units: H,
    activation: 'tanh',
    recurrentActivation: 'sigmoid',
    returnSequences: false, // reset_after=False: tfjs's only mode
    kernelInitializer: 'zeros',
    recurrentInitializer: 'zeros',
    biasInitializer: 'zeros',
  });
  const w = kerasWeights(shape, { resetAfter: false });
  const x = tf.tensor3d(inputFor(shape), [B, T, D]);
  // The first call builds the layer (tfjs's build() alone does not mark it built).
  tf.dispose(tf.tidy(() => layer.apply(x)));
  layer.setWeights([tf.tensor2d(w.kernel, [D, 3 * H]), tf.tensor2d(w.recurrentKernel, [H, 3 * H]), tf.tensor1d(/** @type {Float32Array} */ (w.bias))]);
  const run = async () => {
    const y = tf.tidy(() => layer.apply(x));
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
