import type { ForwardRequest, GruSpec, GruWeights } from '@gru/core';

const describe = (v: unknown) => (v === null || typeof v !== 'object' ? String(v) : (v.constructor?.name ?? 'object'));

const isFloats = (a: unknown): a is Float32Array | Float64Array => a instanceof Float32Array || a instanceof Float64Array;

/**
 * Checks every type and length of a forward request before anything is written to the GPU: a
 * short array would otherwise read past its end in writeBuffer or leave stale data in a reused
 * buffer, and a plain array of anything but numbers would silently become NaN.
 */
export function checkRequest(spec: GruSpec, req: ForwardRequest): void {
  const fail = (what: string, expected: string, got: unknown) => {
    throw new Error(`webgpu forward: ${what} must be ${expected}; received ${String(got)}.`);
  };
  if (typeof req !== 'object' || req === null) fail('the request', 'an object {x, batch, timesteps, ...}', describe(req));
  const { units: H, inputDim: D } = spec;
  const { batch: B, timesteps: T } = req;
  // An empty batch is valid (Keras answers it with empty outputs).
  if (!Number.isInteger(B) || B < 0) fail('batch', 'a non-negative integer', B);
  if (!Number.isInteger(T) || T < 0) fail('timesteps', 'a non-negative integer', T);
  const floats = (what: string, a: unknown, n: number, shape: string) => {
    if (!isFloats(a)) fail(what, `a Float32Array (or Float64Array) of ${n} values (${shape})`, describe(a));
    else if (a.length !== n) fail(what, `${n} values (${shape})`, `${a.length} values`);
  };
  floats('x', req.x, B * T * D, `[batch ${B}, timesteps ${T}, inputDim ${D}]`);
  if (req.initialState !== undefined) floats('initialState', req.initialState, B * H, `[batch ${B}, units ${H}]`);
  if (req.mask !== undefined) {
    if (!(req.mask instanceof Uint8Array)) fail('mask', `a Uint8Array of ${B * T} values ([batch ${B}, timesteps ${T}])`, describe(req.mask));
    else if (req.mask.length !== B * T) fail('mask', `${B * T} values ([batch ${B}, timesteps ${T}])`, `${req.mask.length} values`);
  }
  const triple = (name: string, masks: unknown, n: number, shape: string) => {
    if (masks === undefined) return;
    if (!Array.isArray(masks) || masks.length !== 3) {
      fail(name, 'three masks (gates z, r, h)', Array.isArray(masks) ? `${masks.length} masks` : describe(masks));
    }
    (masks as unknown[]).forEach((m, i) => floats(`${name}[${i}]`, m, n, shape));
  };
  triple('inputDropoutMasks', req.inputDropoutMasks, B * D, `[batch ${B}, inputDim ${D}]`);
  triple('recurrentDropoutMasks', req.recurrentDropoutMasks, B * H, `[batch ${B}, units ${H}]`);
}

/** Checks a layer's weights (prepare, setWeights) against its spec before anything is uploaded. */
export function checkWeights(spec: GruSpec, weights: GruWeights, caller: string): void {
  const { units: H, inputDim: D, resetAfter, useBias } = spec;
  if (typeof weights !== 'object' || weights === null) {
    throw new Error(`webgpu ${caller}: weights must be an object {kernel, recurrentKernel, bias}; received ${describe(weights)}.`);
  }
  const G = 3 * H;
  const expect = (name: string, got: unknown, n: number) => {
    if (!isFloats(got)) {
      throw new Error(
        `webgpu ${caller}: ${name} must be a Float32Array (or Float64Array) of ${n} values for units ${H}, inputDim ${D}; received ${describe(got)}.`,
      );
    }
    if (got.length !== n) throw new Error(`webgpu ${caller}: ${name} must have ${n} values for units ${H}, inputDim ${D}; received ${got.length}.`);
  };
  expect('kernel', weights.kernel, D * G);
  expect('recurrentKernel', weights.recurrentKernel, H * G);
  if (useBias) expect('bias', weights.bias, resetAfter ? 2 * G : G);
}
