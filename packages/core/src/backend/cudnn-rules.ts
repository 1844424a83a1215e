import type { GruCallInfo, GruSpec } from './types.js';

/**
 * Keras's conditions for its cuDNN GRU path (keras/src/backend/tensorflow/rnn.py and
 * layers/rnn/gru.py), in one place: a cuDNN backend's `supports()` starts from this. True, or
 * the first rule the layer breaks.
 */
export function cudnnEligibility(spec: GruSpec, call: GruCallInfo): true | string {
  if (spec.activation !== 'tanh') return `activation '${spec.activation}' is not tanh (cuDNN needs tanh)`;
  if (spec.recurrentActivation !== 'sigmoid') {
    return `recurrentActivation '${spec.recurrentActivation}' is not sigmoid (cuDNN needs sigmoid)`;
  }
  if (call.recurrentDropoutRate !== 0) return `recurrentDropout is ${call.recurrentDropoutRate} (cuDNN needs 0)`;
  if (call.unroll) return 'unroll is true (cuDNN needs a loop)';
  if (!spec.useBias) return 'useBias is false (cuDNN needs biases)';
  if (!spec.resetAfter) return 'resetAfter is false (cuDNN applies the reset gate after the matmul)';
  if (call.mask === 'any') return 'the mask is not strictly right-padded (cuDNN needs sequence lengths)';
  return true;
}
