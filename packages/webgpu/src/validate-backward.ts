import { checkBackwardRequest as checkRequest, readBackwardRequest, type BackwardRequest, type GruSpec } from '@gru/core';
import { ownFloats } from './snapshot.js';
import type { WebGpuSaved } from './saved.js';

/**
 * Checks a backward request against the saved call's shapes and copies its arrays (float32, on
 * ordinary ArrayBuffers) before anything reaches the GPU.
 */
export function checkBackwardRequest(
  spec: GruSpec,
  saved: WebGpuSaved,
  request: BackwardRequest,
): { dOutput: Float32Array<ArrayBuffer>; dLastState: Float32Array<ArrayBuffer> | undefined; inputGradients: boolean } {
  const req = readBackwardRequest(request);
  const { inputGradients, hasDLastState } = checkRequest(spec, saved, req, 'webgpu backward');
  return { dOutput: ownFloats(req.dOutput), dLastState: hasDLastState ? ownFloats(req.dLastState as ArrayLike<number>) : undefined, inputGradients };
}

/**
 * The gradient of the state after the last processed step: dLastState plus the last step's
 * output gradient (all of dOutput without returnSequences). With no timesteps this is already
 * the initial state's gradient.
 */
export function initialStateGradient(
  saved: WebGpuSaved,
  H: number,
  dOutput: Float32Array<ArrayBuffer>,
  dLastState: Float32Array<ArrayBuffer> | undefined,
): Float32Array<ArrayBuffer> {
  const { batch: B, timesteps: T } = saved;
  const dh = dLastState ? dLastState.slice() : new Float32Array(B * H);
  if (!saved.returnSequences) {
    for (let i = 0; i < B * H; i++) dh[i] += dOutput[i];
  } else if (T > 0) {
    for (let b = 0; b < B; b++) for (let j = 0; j < H; j++) dh[b * H + j] += dOutput[(b * T + T - 1) * H + j];
  }
  return dh;
}
