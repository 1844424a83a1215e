import type { GruSpec } from '../../src/index.js';

/** Keras's default GRU layer (tanh, sigmoid, a bias, resetAfter) in float32, of the given size. */
export function plainSpec(units: number, inputDim: number): GruSpec {
  return { units, inputDim, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };
}
