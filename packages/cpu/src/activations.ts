import { type ActivationDef, type ActivationId, activationDef, gruActivationProblem } from '@gru/core';

/**
 * Activations the native kernels implement, in the order of their ids in native/gru_types.h
 * (the index is the id). The first six have vector code (linear, tanh, sigmoid, both
 * hard_sigmoids, relu); the other elementwise ones are evaluated per element in double precision.
 * The last four are row-wise, over one gate's `units` values (glu only at units = 2, as in Keras):
 * layers with one run a plain forward path (native/rowwise.h) and have no backward.
 */
export const NATIVE_ACTIVATIONS: readonly ActivationId[] = [
  'linear',
  'tanh',
  'sigmoid',
  'hard_sigmoid',
  'keras2_hard_sigmoid',
  'relu',
  'relu6',
  'leaky_relu',
  'elu',
  'selu',
  'celu',
  'softplus',
  'softsign',
  'silu',
  'hard_silu',
  'gelu',
  'mish',
  'exponential',
  'log_sigmoid',
  'sparse_sigmoid',
  'hard_tanh',
  'tanh_shrink',
  'soft_shrink',
  'hard_shrink',
  'sparse_plus',
  'squareplus',
  'softmax',
  'log_softmax',
  'sparsemax',
  'glu',
];

/** The first row-wise id. */
export const FIRST_ROWWISE_ID = NATIVE_ACTIVATIONS.indexOf('softmax');

/**
 * The native id of an activation in a GRU of `units` units, or why the cpu backend cannot run it.
 * Without `units`, activations that run at some widths only (glu) count as unusable.
 */
export function activationId(id: ActivationId, units?: number): number | string {
  let def: ActivationDef;
  try {
    def = activationDef(id);
  } catch {
    return `'${id}' is not a known activation`;
  }
  const problem = units === undefined ? def.unusable : gruActivationProblem(def, units);
  if (problem) return problem;
  // By id first: keras2_hard_sigmoid serializes as hard_sigmoid but is its own id.
  let code = NATIVE_ACTIVATIONS.indexOf(id);
  if (code < 0) code = NATIVE_ACTIVATIONS.indexOf(def.name as ActivationId);
  return code >= 0 ? code : `'${def.name}' is not implemented by the cpu backend`;
}
