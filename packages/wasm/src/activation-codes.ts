import { activationDef, type ActivationId } from '@gru/core';

/**
 * Activations the wasm kernels implement, in the order of their codes in assembly/activations.ts
 * (the index is the code). Every elementwise Keras activation is here; the row-wise ones
 * (softmax, log_softmax, sparsemax) are not.
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
];

/** The kernel code for an activation, or why the wasm backend cannot run it. */
export function activationCode(id: ActivationId): number | string {
  const code = WASM_ACTIVATIONS.indexOf(id);
  if (code >= 0) return code;
  let def: ReturnType<typeof activationDef>;
  try {
    def = activationDef(id);
  } catch {
    return `'${id}' is not a known activation`;
  }
  if (def.unusable) return def.unusable;
  return `'${def.name}' is not implemented by the wasm backend (it normalizes over the units axis of each gate; the wasm kernels vectorize elementwise activations only)`;
}
