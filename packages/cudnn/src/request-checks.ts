import type { ForwardRequest } from '@gru/core';

const describe = (v: unknown) =>
  v === null || typeof v !== 'object'
    ? `${typeof v} ${String(v)}`
    : ArrayBuffer.isView(v)
      ? `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`
      : (v.constructor?.name ?? 'object');

const fail = (what: string, expected: string, got: string, Err: typeof TypeError = TypeError): never => {
  throw new Err(`cuDNN backend: forward: \`${what}\` must be ${expected}; received ${got}.`);
};

function count(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(what, 'a non-negative integer', describe(value));
  if ((value as number) < 0) fail(what, 'a non-negative integer', describe(value), RangeError);
  return value as number;
}

function floats(what: string, a: unknown, n: number, shape: string): void {
  if (!(a instanceof Float32Array || a instanceof Float64Array)) fail(what, `a Float32Array (or Float64Array) of ${shape} = ${n} values`, describe(a));
  else if (a.length !== n) fail(what, `${shape} = ${n} values`, describe(a), RangeError);
}

/**
 * Checks the types and sizes of a forward request (already read once) before anything is copied
 * or sized from it, as the other backends do: a NaN or fractional batch would otherwise size
 * buffers from NaN and be reported as a length mismatch of "NaN elements".
 */
export function checkForwardRequest(req: ForwardRequest, inputDim: number, units: number): { B: number; T: number } {
  if (typeof req !== 'object' || req === null) fail('request', 'an object {x, batch, timesteps, ...}', describe(req));
  const B = count('batch', req.batch);
  const T = count('timesteps', req.timesteps);
  floats('x', req.x, B * T * inputDim, `batch*timesteps*inputDim = ${B}*${T}*${inputDim}`);
  if (req.initialState !== undefined && req.initialState !== null) floats('initialState', req.initialState, B * units, `batch*units = ${B}*${units}`);
  if (req.mask !== undefined && !(req.mask instanceof Uint8Array)) fail('mask', `a Uint8Array of batch*timesteps = ${B * T} values`, describe(req.mask));
  return { B, T };
}
