import type { ForwardRequest, GruSpec } from '@gru/core';

/**
 * Checks every length of a forward request before anything is written to the GPU: a short
 * array would otherwise read past its end in writeBuffer, or leave stale data in a reused buffer.
 */
export function checkRequest(spec: GruSpec, req: ForwardRequest): void {
  const { units: H, inputDim: D } = spec;
  const { batch: B, timesteps: T } = req;
  const fail = (what: string, expected: string, got: unknown) => {
    throw new Error(`webgpu forward: ${what} must be ${expected}; received ${String(got)}.`);
  };
  if (!Number.isInteger(B) || B < 1) fail('batch', 'a positive integer', B);
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
