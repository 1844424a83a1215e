import type { GruCallInfo, GruSpec } from '../../src/index.js';

/** Keras's default GRU layer (tanh, sigmoid, a bias, resetAfter) in float32, of the given size. */
export function plainSpec(units: number, inputDim: number): GruSpec {
  return { units, inputDim, activation: 'tanh', recurrentActivation: 'sigmoid', useBias: true, resetAfter: true, dtype: 'float32' };
}

/** A call with nothing but its size (no mask, state, dropout, training or unroll): what a test varies. */
export function plainCall(batch: number, timesteps: number): GruCallInfo {
  return {
    batch,
    timesteps,
    mask: 'none',
    initialState: false,
    goBackwards: false,
    returnSequences: false,
    inputDropoutPerGate: false,
    recurrentDropout: false,
    recurrentDropoutRate: 0,
    training: false,
    backward: false,
    unroll: false,
  };
}
