import type { ForwardRequest } from '@gru/core';

const describe = (v: unknown) =>
  v === null || typeof v !== 'object'
    ? `${typeof v} ${String(v)}`
    : ArrayBuffer.isView(v)
      ? `${v.constructor.name}(${(v as unknown as ArrayLike<number>).length})`
      : (v.constructor?.name ?? 'object');

const fail = (what: string, expected: string, got: string, Err: typeof TypeError = TypeError, where = 'forward'): never => {
  throw new Err(`cuDNN backend: ${where}: \`${what}\` must be ${expected}; received ${got}.`);
};

// cuDNN runs at least one row and one step, and counts them in 32-bit integers (the native layer
// refuses anything else, but only once the call is queued).
const MAX_COUNT = 2 ** 31 - 1;

function count(what: string, value: unknown): number {
  const expected = `an integer from 1 to ${MAX_COUNT}`;
  if (typeof value !== 'number' || !Number.isInteger(value)) fail(what, expected, describe(value));
  if ((value as number) < 1 || (value as number) > MAX_COUNT) fail(what, expected, describe(value), RangeError);
  return value as number;
}

/** Throws unless `a` is a Float32Array or Float64Array of `n` values (the fail message names `what`). */
export function floats(what: string, a: unknown, n: number, shape: string, where = 'forward'): void {
  if (!(a instanceof Float32Array || a instanceof Float64Array))
    fail(what, `a Float32Array (or Float64Array) of ${shape} = ${n} values`, describe(a), TypeError, where);
  else if (a.length !== n) fail(what, `${shape} = ${n} values`, describe(a), RangeError, where);
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
