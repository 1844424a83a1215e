import { type ActivationDef, type ActivationId, activationDef, gruActivationProblem } from '@gru/core';

/**
 * Activations the wasm kernels implement, in the order of their codes in assembly/activations.ts
 * (the index is the code): every activation Keras's GRU runs. The last four are row-wise, over
 * one gate's `units` values (glu only at units = 2, as in Keras).
 */
export const WASM_ACTIVATIONS: readonly ActivationId[] = [
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
  'silu',
  'hard_silu',
  'softsign',
  'softplus',
  'exponential',
  'gelu',
  'hard_tanh',
  'sparse_sigmoid',
  'log_sigmoid',
  'mish',
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

/** The first row-wise code: a call with one runs on one thread (each gate needs its whole row). */
export const FIRST_ROWWISE_CODE = WASM_ACTIVATIONS.indexOf('softmax');

/** The kernel code for an activation in a GRU of `units` units, or why the wasm backend cannot run it. */
export function activationCode(id: ActivationId, units: number): number | string {
  let def: ActivationDef;
  try {
    def = activationDef(id);
  } catch {
    return `'${id}' is not a known activation`;
  }
  const problem = gruActivationProblem(def, units);
  if (problem) return problem;
  // By id first: keras2_hard_sigmoid serializes as hard_sigmoid but is its own code.
  let code = WASM_ACTIVATIONS.indexOf(id);
  if (code < 0) code = WASM_ACTIVATIONS.indexOf(def.name as ActivationId);
  return code >= 0 ? code : `'${def.name}' is not implemented by the wasm backend`;
}
