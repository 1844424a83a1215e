/**
 * TensorFlow.js's GRU layer (@tensorflow/tfjs-layers) on @tensorflow/tfjs-backend-wasm, in Node.
 * tfjs's GRU supports only reset_after=False, so this runner times that configuration, and its
 * ratio is best read against gru:wasm:reset-before (the same layer on gru).
 *
 * @typedef {import('../shapes.mjs').Shape} Shape
 */
import { flops } from '../shapes.mjs';
import { loadTfjs, setupTfjsGru, tfjsAvailable } from './peers/tfjs-gru.mjs';

export const name = 'tfjs-wasm';
export const kind = 'peer';
export const note =
  'TensorFlow.js GRU layer on tfjs-backend-wasm (SIMD, single-threaded: tfjs enables wasm threads only in browsers); reset_after=False only (tfjs has no reset_after=True): compare with gru:wasm:reset-before';

/** tfjs steps through time from JavaScript, op by op: a GFLOP takes seconds. */
export const slow = (/** @type {Shape} */ shape) => flops(shape) >= 1e9;

const importBackend = () => import('@tensorflow/tfjs-backend-wasm');
const load = () => loadTfjs('wasm', importBackend);

export const available = () => tfjsAvailable('wasm', importBackend);

/** @param {Shape} shape */
export async function setup(shape) {
  const { tf, tfl } = await load();
  return setupTfjsGru(name, tf, tfl, shape);
}
