/**
 * TensorFlow.js's GRU layer (@tensorflow/tfjs-layers) on @tensorflow/tfjs-backend-cpu (plain
 * JavaScript kernels), in Node. tfjs's GRU supports only reset_after=False, so this runner times
 * that configuration; read its ratio against gru:cpu:reset-before (the same layer on gru).
 *
 * @typedef {import('../shapes.mjs').Shape} Shape
 */
import { flops } from '../shapes.mjs';
import { loadTfjs, setupTfjsGru, tfjsAvailable } from './peers/tfjs-gru.mjs';

export const name = 'tfjs-cpu';
export const kind = 'peer';
export const note =
  'TensorFlow.js GRU layer on tfjs-backend-cpu (JavaScript kernels); reset_after=False only (tfjs has no reset_after=True): compare with gru:cpu:reset-before';

/** Seconds per pass on S1 already (2.6 s measured): everything above S4 is slow. */
export const slow = (/** @type {Shape} */ shape) => flops(shape) >= 1e6;

/** Above this a single pass takes minutes (S2 and S3 would take 5 to 25 minutes each). */
const MAX_FLOPS = 1e8;

const importBackend = () => import('@tensorflow/tfjs-backend-cpu');
const load = () => loadTfjs('cpu', importBackend);

export const available = () => tfjsAvailable('cpu', importBackend);

/** @param {Shape} shape */
export async function setup(shape) {
  if (flops(shape) > MAX_FLOPS) {
    return `a single pass would take minutes (about ${Math.round(((flops(shape) / 14.7e6) * 2.6) / 60)} min at the 2.6 s measured on S1's 14.7 MFLOP)`;
  }
  const { tf, tfl } = await load();
  return setupTfjsGru(name, tf, tfl, shape);
}
