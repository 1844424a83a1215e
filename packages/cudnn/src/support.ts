import { cudnnEligibility, plainCallInfo, readSpec, supportsArgsProblem, type GruCallInfo, type GruSpec } from '@gru/core';

/**
 * What cuDNN can run: Keras's cuDNN rules (from core, never re-derived here), plus what a call
 * can carry that cuDNN's single-input RNN cannot take. Fully masked rows and goBackwards with
 * masks are handled by the TypeScript half (see sequence.ts), so they are not declined.
 */
export function cudnnSupports(givenSpec: GruSpec, call: GruCallInfo): true | string {
  // Read once, as prepare does: every answer below is about the same layer.
  const spec = readSpec(givenSpec);
  const problem = supportsArgsProblem(spec, call);
  if (problem) return problem;
  // prepare refuses it (cuDNN's RNN takes at least one input feature): declining lets selection fall back.
  if (spec.inputDim === 0) return 'cuDNN needs at least one input feature (inputDim 0 runs on another backend)';
  const keras = cudnnEligibility(spec, call);
  if (keras !== true) return keras;
  if (call.inputDropoutPerGate) {
    return 'three per-gate input dropout masks (implementation 1 in training) cannot be given to cuDNN, which takes one input sequence';
  }
  if (call.recurrentDropout) return 'recurrent dropout masks cannot be applied inside cuDNN';
  return true;
}

/** The layer-level rules only (activation, recurrentActivation, useBias, resetAfter). */
export function cudnnSupportsSpec(spec: GruSpec): true | string {
  return cudnnSupports(spec, plainCallInfo(1, 1));
}
