/**
 * TensorFlow.js's GRU layer (@tensorflow/tfjs-layers) on @tensorflow/tfjs-backend-wasm, in Node.
 * tfjs's GRU supports only reset_after=False, so this runner times that configuration, and its
 * ratio is best read against gru:wasm:reset-before (the same layer on gru).
 *
 * @typedef {import('../shapes.mjs').Shape} Shape
 */
import { flops } from '../shapes.mjs';
import { setupTfjsGru } from './peers/tfjs-gru.mjs';

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
  return setupTfjsGru(name, tf, tfl, shape);
}
