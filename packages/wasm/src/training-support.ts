import type { GruSpec } from '@gru/core';
import { activationCode } from './activation-codes.js';
import { BACKWARD_ACTIVATION_CODES, DEFAULT_KEPT_CALLS } from './training.js';

/** True when the wasm backward kernels can differentiate a layer, else why not. */
export function backwardProblem(spec: GruSpec): true | string {
  if (spec.dtype !== 'float32') return `the wasm backend computes in float32 only (dtype '${spec.dtype}' runs on the reference backend)`;
  for (const [name, id] of [
    ['activation', spec.activation],
    ['recurrentActivation', spec.recurrentActivation],
  ] as const) {
    const code = activationCode(id, spec.units);
    if (typeof code === 'string') return `${name} ${code}`;
    if (code >= BACKWARD_ACTIVATION_CODES) return `${name} '${id}' has no derivative in the wasm backward kernels`;
  }
  return true;
}

export function checkKeptCalls(value: unknown): number {
  if (value === undefined) return DEFAULT_KEPT_CALLS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new TypeError(`createWasmBackend: keepForBackwardCalls must be a positive integer; received ${String(value)}.`);
  }
  return value;
}
