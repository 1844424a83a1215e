import { readBackwardRequest, type BackwardRequest, type GruSpec } from '@gru/core';
import { ownFloats } from './snapshot.js';
import type { WebGpuSaved } from './saved.js';

const describe = (v: unknown) => (v === null || typeof v !== 'object' ? String(v) : (v.constructor?.name ?? 'object'));

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
  const fail = (what: string, expected: string, got: unknown) => {
    throw new Error(`webgpu backward: ${what} must be ${expected}; received ${String(got)}.`);
  };
  if (typeof req !== 'object' || req === null) fail('the request', 'an object {dOutput, dLastState?}', describe(req));
  const { batch: B, timesteps: T } = saved;
  const H = spec.units;
  const floats = (what: string, a: unknown, n: number, shape: string): Float32Array<ArrayBuffer> => {
    if (!(a instanceof Float32Array || a instanceof Float64Array)) fail(what, `a Float32Array (or Float64Array) of ${n} values (${shape})`, describe(a));
    const arr = a as Float32Array | Float64Array;
    if (arr.length !== n) fail(what, `${n} values (${shape})`, `${arr.length} values`);
    return ownFloats(arr);
  };
  const dOutput = saved.returnSequences
    ? floats('dOutput', req.dOutput, B * T * H, `[batch ${B}, timesteps ${T}, units ${H}]`)
    : floats('dOutput', req.dOutput, B * H, `[batch ${B}, units ${H}]`);
  const dLastState = req.dLastState == null ? undefined : floats('dLastState', req.dLastState, B * H, `[batch ${B}, units ${H}]`);
  const inputGradients = req.inputGradients ?? true;
  if (typeof inputGradients !== 'boolean') fail('inputGradients', 'a boolean or undefined', describe(inputGradients));
  return { dOutput, dLastState, inputGradients };
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
