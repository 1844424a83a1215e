import type { ForwardRequest, GruSpec, GruWeights } from '@gru/core';

const describe = (v: unknown) => (v === null || typeof v !== 'object' ? String(v) : (v.constructor?.name ?? 'object'));

/**
 * Checks every length of a forward request before anything is written to the GPU: a short
 * array would otherwise read past its end in writeBuffer, or leave stale data in a reused buffer.
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
  const len = (a: { length: number } | undefined) => (a ? a.length : undefined);
  if (len(req.x) !== B * T * D) fail('x', `${B * T * D} values ([batch ${B}, timesteps ${T}, inputDim ${D}])`, `${len(req.x)} values`);
  if (req.initialState && req.initialState.length !== B * H) {
    fail('initialState', `${B * H} values ([batch ${B}, units ${H}])`, `${req.initialState.length} values`);
  }
  if (req.mask && req.mask.length !== B * T) fail('mask', `${B * T} values ([batch ${B}, timesteps ${T}])`, `${req.mask.length} values`);
  const checkTriple = (name: string, masks: readonly ArrayLike<number>[] | undefined, n: number, shape: string) => {
    if (!masks) return;
    if (masks.length !== 3) fail(name, 'three masks (gates z, r, h)', `${masks.length} masks`);
    masks.forEach((m, i) => {
      if (!m || m.length !== n) fail(`${name}[${i}]`, `${n} values (${shape})`, `${m ? m.length : m} values`);
    });
  };
  checkTriple('inputDropoutMasks', req.inputDropoutMasks, B * D, `[batch ${B}, inputDim ${D}]`);
  checkTriple('recurrentDropoutMasks', req.recurrentDropoutMasks, B * H, `[batch ${B}, units ${H}]`);
}

/** Checks a layer's weights (prepare, setWeights) against its spec before anything is uploaded. */
export function checkWeights(spec: GruSpec, weights: GruWeights, caller: string): void {
  const { units: H, inputDim: D, resetAfter, useBias } = spec;
  if (typeof weights !== 'object' || weights === null) {
    throw new Error(`webgpu ${caller}: weights must be an object {kernel, recurrentKernel, bias}; received ${describe(weights)}.`);
  }
  const G = 3 * H;
  const expect = (name: string, got: ArrayLike<number> | null | undefined, n: number) => {
    if (!got || got.length !== n) {
      throw new Error(`webgpu ${caller}: ${name} must have ${n} values for units ${H}, inputDim ${D}; received ${got ? got.length : String(got)}.`);
    }
  };
  expect('kernel', weights.kernel, D * G);
  expect('recurrentKernel', weights.recurrentKernel, H * G);
  if (useBias) expect('bias', weights.bias, resetAfter ? 2 * G : G);
}
