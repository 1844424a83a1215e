import type { LayerSpec } from '../config/spec.js';

/** Weights Keras creates with trainable=False (BatchNormalization's, an adapted Normalization's). */
const NON_TRAINABLE = new Set(['moving_mean', 'moving_variance', 'mean', 'variance', 'count']);

/**
 * Whether Keras counts weight `j` of `layer` among `non_trainable_weights`: a layer saved with
 * `trainable: false` (or inside a nested model saved so), or a weight Keras never trains.
 */
export function isNonTrainable(layer: LayerSpec, j: number): boolean {
  return layer.frozen === true || layer.config.trainable === false || NON_TRAINABLE.has(layer.weights[j].name);
}
