import { activationDef, type ActivationId } from '@gru/core';

/**
 * Activations the native kernels implement, in the order of their ids in native/gru_types.h
 * (the index is the id). The first six have vector code (linear, tanh, sigmoid, both
 * hard_sigmoids, relu); the other elementwise ones are evaluated per element in double precision.
 * The row-wise ones (softmax, log_softmax, sparsemax) are not here.
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
];

/** The native id of an activation, or why the cpu backend cannot run it. */
export function activationId(id: ActivationId): number | string {
  const code = NATIVE_ACTIVATIONS.indexOf(id);
  if (code >= 0) return code;
  let def: ReturnType<typeof activationDef>;
  try {
    def = activationDef(id);
  } catch {
    return `'${id}' is not a known activation`;
  }
  if (def.unusable) return def.unusable;
  return `'${def.name}' is not implemented by the cpu backend (it normalizes over the units axis of each gate; the native kernels fuse elementwise activations only)`;
}
